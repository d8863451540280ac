"""Compressed Interaction Network (CIN) of xDeepFM (Lian et al., KDD 2018)."""

from typing import Sequence

import tensorflow as tf
import tf_keras as keras

from models.layers import activation as activation_lib
from models.layers import checks


@keras.utils.register_keras_serializable(package='tenrec')
class CompressedInteractionNetwork(keras.layers.Layer):
  """Vector-wise explicit feature interactions, compressed by 1x1 convolutions.

  With X^0 in R^{m x D} the field embeddings and X^{k-1} in R^{H_{k-1} x D} the previous
  layer, layer k computes, for every map h and every embedding dimension d,

    Z^k_{i,j,d} = X^{k-1}_{i,d} * X^0_{j,d}
    X^k_{h,d} = act(sum_{i,j} W^{k}_{h,i,j} Z^k_{i,j,d} + b^k_h)

  With `split_half`, every layer but the last sends its first H_k/2 maps to the next layer
  and its other H_k/2 maps to the output; the last layer sends all its maps to the output.
  Each output map is sum-pooled over d.

  Input shape: [batch, m, D]; output shape: [batch, output_dim], where output_dim =
  sum_{k<K} H_k/2 + H_K with split_half and sum_k H_k without.

  Example:

    cin = CompressedInteractionNetwork((4, 2))
    features = cin(tf.ones([8, 3, 5]))  # shape [8, 4 // 2 + 2] = [8, 4]

  Args:
    layer_sizes: H_1..H_K, the number of feature maps per layer.
    split_half: Whether to split every layer but the last between the next layer and the
      output; requires even sizes for those layers.
    activation: Activation of the maps ('relu' in xDeepFM; 'linear' for none).
    l2: L2 strength on the convolution kernels.
  """

  def __init__(self,
               layer_sizes: Sequence[int] = (256, 256),
               split_half: bool = True,
               activation: str = 'relu',
               l2: float = 0.0,
               **kwargs):
    super().__init__(**kwargs)
    self.layer_sizes = checks.units('layer_sizes', layer_sizes)
    self.split_half = checks.boolean('split_half', split_half)
    if self.split_half:
      for index, size in enumerate(self.layer_sizes[:-1]):
        if size % 2:
          raise ValueError(
              f'CIN layer {index} has {size} maps, but split_half needs an even number of maps '
              f'in every layer but the last; got layer_sizes {self.layer_sizes!r}.')
    self.activation = activation
    self.activation_fn = activation_lib.get(activation)
    self.l2 = checks.non_negative_float('l2', l2)

  @property
  def output_dim(self) -> int:
    if not self.split_half:
      return sum(self.layer_sizes)
    return sum(size // 2 for size in self.layer_sizes[:-1]) + self.layer_sizes[-1]

  def build(self, input_shape):
    num_fields = int(input_shape[1])
    regularizer = keras.regularizers.l2(self.l2) if self.l2 > 0 else None
    self.kernels = []
    self.biases = []
    previous = num_fields
    for index, size in enumerate(self.layer_sizes):
      self.kernels.append(self.add_weight(
          name=f'kernel_{index}', shape=(previous * num_fields, size),
          initializer='glorot_uniform', regularizer=regularizer))
      self.biases.append(self.add_weight(
          name=f'bias_{index}', shape=(size,), initializer='zeros'))
      is_last = index == len(self.layer_sizes) - 1
      previous = size // 2 if self.split_half and not is_last else size
    super().build(input_shape)

  def call(self, inputs):
    num_fields = inputs.shape[1]

    # Work in [batch, D, maps] layout so that each 1x1 convolution is one matmul.
    x0 = tf.transpose(inputs, [0, 2, 1])
    hidden = x0
    outputs = []
    for index, size in enumerate(self.layer_sizes):

      # sum_{i,j} W_{h,i,j} X^{k-1}_{i,d} X^0_{j,d}, accumulated one field j at a time so the
      # [batch, H_{k-1}, m, D] outer-product tensor is never materialised.
      kernel = tf.reshape(self.kernels[index], [hidden.shape[2], num_fields, size])
      maps = self.biases[index]
      for field in range(num_fields):
        maps = maps + x0[:, :, field:field + 1] * tf.tensordot(hidden, kernel[:, field, :],
                                                               axes=1)
      maps = self.activation_fn(maps)

      is_last = index == len(self.layer_sizes) - 1
      if self.split_half and not is_last:
        hidden, direct = tf.split(maps, [size // 2, size // 2], axis=2)
      else:
        hidden, direct = maps, maps
      outputs.append(direct)

    return tf.reduce_sum(tf.concat(outputs, axis=2), axis=1)

  def compute_output_shape(self, input_shape):
    return tf.TensorShape([input_shape[0], self.output_dim])

  def get_config(self):
    config = super().get_config()
    config.update({
        'layer_sizes': list(self.layer_sizes),
        'split_half': self.split_half,
        'activation': self.activation,
        'l2': self.l2,
    })
    return config
