"""Cross layers of DCN (Wang et al., ADKDD 2017) and DCNv2 (Wang et al., WWW 2021).

Three parameterizations of one cross layer, all of the form x_{l+1} = x_0 * f(x_l) + x_l:

* 'vector' (DCN): x_0 (x_l^T w_l) + b_l + x_l, one weight vector per layer (`VectorCross`).
* 'matrix' / 'low_rank' (DCNv2): x_0 * (W_l x_l + b_l) + x_l with a full or a low-rank
  (U V^T) matrix; `tensorflow_recommenders.layers.dcn.Cross` implements both.
* 'mixture' (DCNv2's mixture of low-rank experts, "DCN-Mix"): `MixtureLowRankCross`.
"""

from typing import Optional

import tensorflow as tf
import tensorflow_recommenders as tfrs
import tf_keras as keras

from models.layers import checks

PARAMETERIZATIONS = ('vector', 'matrix', 'low_rank', 'mixture')


def _clone(initializer: keras.initializers.Initializer) -> keras.initializers.Initializer:
  """Returns a new instance, so that weights of equal shape get different initial values."""
  return initializer.__class__.from_config(initializer.get_config())


def _l2(strength: float) -> Optional[keras.regularizers.Regularizer]:
  return keras.regularizers.l2(strength) if strength > 0 else None


@keras.utils.register_keras_serializable(package='tenrec')
class VectorCross(keras.layers.Layer):
  """One DCN cross layer with a weight vector.

    x_{l+1} = x_0 (x_l^T w) + b + x_l,   w, b in R^D

  Input: x_0 and x_l, both [batch, D] (x_l defaults to x_0); output shape: [batch, D].

  Example:

    cross = VectorCross()
    x0 = tf.ones([2, 4])
    x1 = cross(x0)
    x2 = VectorCross()(x0, x1)

  Args:
    l2: L2 strength on w.
    kernel_initializer: Initializer of w (DCN used Xavier/Glorot normal).
  """

  def __init__(self, l2: float = 0.0, kernel_initializer='glorot_normal', **kwargs):
    super().__init__(**kwargs)
    self.l2 = checks.non_negative_float('l2', l2)
    self.kernel_initializer = keras.initializers.get(kernel_initializer)

  def build(self, input_shape):
    dim = int(input_shape[-1])
    self.kernel = self.add_weight(
        name='kernel', shape=(dim, 1), initializer=self.kernel_initializer,
        regularizer=_l2(self.l2))
    self.bias = self.add_weight(name='bias', shape=(dim,), initializer='zeros')
    super().build(input_shape)

  def call(self, x0, x=None):
    if x is None:
      x = x0
    return x0 * tf.matmul(x, self.kernel) + self.bias + x

  def get_config(self):
    config = super().get_config()
    config.update({
        'l2': self.l2,
        'kernel_initializer': keras.initializers.serialize(self.kernel_initializer),
    })
    return config


@keras.utils.register_keras_serializable(package='tenrec')
class MixtureLowRankCross(keras.layers.Layer):
  """One DCNv2 cross layer made of low-rank experts mixed by a softmax gate.

  For experts e = 1..E with U_e, V_e in R^{D x r} and C_e in R^{r x r},

    E_e(x_l) = x_0 * (U_e tanh(C_e tanh(V_e^T x_l)) + b)
    g(x_l) = softmax_e(G^T x_l)                   (G in R^{D x E}, no bias)
    x_{l+1} = sum_e g_e(x_l) E_e(x_l) + x_l

  The bias b is shared by the experts of the layer.

  Input: x_0 and x_l, both [batch, D] (x_l defaults to x_0); output shape: [batch, D].

  Example:

    cross = MixtureLowRankCross(num_experts=4, low_rank=32)
    x1 = cross(tf.ones([2, 64]))  # shape [2, 64]

  Args:
    num_experts: E.
    low_rank: r.
    l2: L2 strength on U, V and C.
    kernel_initializer: Initializer of U, V, C and G.
  """

  def __init__(self,
               num_experts: int = 4,
               low_rank: int = 32,
               l2: float = 0.0,
               kernel_initializer='glorot_normal',
               **kwargs):
    super().__init__(**kwargs)
    self.num_experts = checks.positive_int('num_experts', num_experts)
    self.low_rank = checks.positive_int('low_rank', low_rank)
    self.l2 = checks.non_negative_float('l2', l2)
    self.kernel_initializer = keras.initializers.get(kernel_initializer)

  def build(self, input_shape):
    dim = int(input_shape[-1])
    regularizer = _l2(self.l2)
    self.u = self.add_weight(
        name='u', shape=(self.num_experts, dim, self.low_rank),
        initializer=_clone(self.kernel_initializer), regularizer=regularizer)
    self.v = self.add_weight(
        name='v', shape=(self.num_experts, dim, self.low_rank),
        initializer=_clone(self.kernel_initializer), regularizer=regularizer)
    self.c = self.add_weight(
        name='c', shape=(self.num_experts, self.low_rank, self.low_rank),
        initializer=_clone(self.kernel_initializer), regularizer=regularizer)
    self.gate = self.add_weight(
        name='gate', shape=(dim, self.num_experts),
        initializer=_clone(self.kernel_initializer))
    self.bias = self.add_weight(name='bias', shape=(dim,), initializer='zeros')
    super().build(input_shape)

  def call(self, x0, x=None):
    if x is None:
      x = x0

    # Low-rank projections of every expert at once: [batch, E, r] -> [batch, E, D].
    projected = tf.tanh(tf.einsum('bd,edr->ber', x, self.v))
    projected = tf.tanh(tf.einsum('ber,esr->bes', projected, self.c))
    expanded = tf.einsum('ber,edr->bed', projected, self.u)
    experts = x0[:, None, :] * (expanded + self.bias)

    gates = tf.nn.softmax(tf.matmul(x, self.gate), axis=-1)
    return tf.einsum('be,bed->bd', gates, experts) + x

  def get_config(self):
    config = super().get_config()
    config.update({
        'num_experts': self.num_experts,
        'low_rank': self.low_rank,
        'l2': self.l2,
        'kernel_initializer': keras.initializers.serialize(self.kernel_initializer),
    })
    return config


@keras.utils.register_keras_serializable(package='tenrec')
class CrossNetwork(keras.layers.Layer):
  """A stack of `num_layers` cross layers on x_0: x_{l+1} = cross_l(x_0, x_l).

  Input shape: [batch, D]; output shape: [batch, D] (x_L).

  Example:

    net = CrossNetwork(num_layers=2, parameterization='vector')
    x2 = net(tf.ones([4, 480]))  # shape [4, 480]

  Args:
    num_layers: L.
    parameterization: 'vector' (DCN), 'matrix' (DCNv2 full rank), 'low_rank' (DCNv2 with
      W = U V^T of rank `low_rank`) or 'mixture' (DCNv2 mixture of `num_experts` low-rank
      experts).
    low_rank: Rank for 'low_rank' and 'mixture'.
    num_experts: Experts per layer for 'mixture'.
    l2: L2 strength on the cross kernels.
  """

  def __init__(self,
               num_layers: int = 2,
               parameterization: str = 'vector',
               low_rank: int = 32,
               num_experts: int = 4,
               l2: float = 0.0,
               **kwargs):
    super().__init__(**kwargs)
    self.num_layers = checks.positive_int('num_layers', num_layers)
    self.parameterization = checks.choice('parameterization', parameterization,
                                          PARAMETERIZATIONS)
    self.low_rank = checks.positive_int('low_rank', low_rank)
    self.num_experts = checks.positive_int('num_experts', num_experts)
    self.l2 = checks.non_negative_float('l2', l2)
    self.cross_layers = [self._make_layer(index) for index in range(self.num_layers)]

  def _make_layer(self, index: int) -> keras.layers.Layer:
    name = f'cross_{index}'
    if self.parameterization == 'vector':
      return VectorCross(l2=self.l2, name=name)
    if self.parameterization == 'mixture':
      return MixtureLowRankCross(
          num_experts=self.num_experts, low_rank=self.low_rank, l2=self.l2, name=name)
    return tfrs.layers.dcn.Cross(
        projection_dim=self.low_rank if self.parameterization == 'low_rank' else None,
        kernel_initializer='glorot_normal',
        kernel_regularizer=_l2(self.l2),
        name=name)

  def call(self, inputs):
    outputs = inputs
    for layer in self.cross_layers:
      outputs = layer(inputs, outputs)
    return outputs

  def compute_output_shape(self, input_shape):
    return tf.TensorShape(input_shape)

  def get_config(self):
    config = super().get_config()
    config.update({
        'num_layers': self.num_layers,
        'parameterization': self.parameterization,
        'low_rank': self.low_rank,
        'num_experts': self.num_experts,
        'l2': self.l2,
    })
    return config
