"""Attention layers: AFM's attention over pairwise interactions, and DIN-style attention
pooling of a behaviour sequence with a padding mask."""

from typing import Sequence

import tensorflow as tf
import tf_keras as keras

from models.layers import checks
from models.layers import mlp

NORMALIZATIONS = ('none', 'softmax')

# Score given to padded positions before a softmax; exp(-1e9 - max) underflows to 0.
_MASKED_SCORE = -1e9


def pair_indices(num_fields: int):
  """Returns the row and column indices (i, j) of the F(F-1)/2 field pairs with i < j."""
  rows, cols = [], []
  for i in range(num_fields):
    for j in range(i + 1, num_fields):
      rows.append(i)
      cols.append(j)
  return rows, cols


@keras.utils.register_keras_serializable(package='tenrec')
class AttentionalFactorization(keras.layers.Layer):
  """The attention-based pooling of AFM (Xiao et al., IJCAI 2017).

  For field embeddings e_1..e_F in R^d and every pair i < j,

    a_ij = h^T ReLU(W (e_i * e_j) + c)          W in R^{t x d}, c in R^t, h in R^t
    alpha_ij = softmax over all pairs of a_ij
    AFM(e) = p^T sum_{i<j} alpha_ij (e_i * e_j)   p in R^d

  where t is the attention factor. `attention_weights` returns alpha.

  Input shape: [batch, F, d] with F >= 2; output shape: [batch, 1].

  Example:

    afm = AttentionalFactorization(attention_factor=8)
    logit = afm(tf.random.normal([4, 6, 32]))          # shape [4, 1]
    alpha = afm.attention_weights(tf.random.normal([4, 6, 32]))  # [4, 15], rows sum to 1

  Args:
    attention_factor: t, the width of the attention network.
    l2: L2 strength on W.
    dropout: Dropout rate on the pooled interaction vector.
  """

  def __init__(self, attention_factor: int = 8, l2: float = 0.0, dropout: float = 0.0,
               **kwargs):
    super().__init__(**kwargs)
    self.attention_factor = checks.positive_int('attention_factor', attention_factor)
    self.l2 = checks.non_negative_float('l2', l2)
    self.dropout = checks.rate('dropout', dropout)
    self.dropout_layer = keras.layers.Dropout(self.dropout)

  def build(self, input_shape):
    num_fields, dim = int(input_shape[1]), int(input_shape[2])
    if num_fields < 2:
      raise ValueError(f'AFM needs at least 2 fields to form pairs, got {num_fields}.')
    self.rows, self.cols = pair_indices(num_fields)
    self.attention_kernel = self.add_weight(
        name='attention_kernel', shape=(dim, self.attention_factor),
        initializer='glorot_normal',
        regularizer=keras.regularizers.l2(self.l2) if self.l2 > 0 else None)
    self.attention_bias = self.add_weight(
        name='attention_bias', shape=(self.attention_factor,), initializer='zeros')
    self.projection_h = self.add_weight(
        name='projection_h', shape=(self.attention_factor, 1), initializer='glorot_normal')
    self.projection_p = self.add_weight(
        name='projection_p', shape=(dim, 1), initializer='glorot_normal')
    super().build(input_shape)

  def _pair_products(self, inputs):
    return tf.gather(inputs, self.rows, axis=1) * tf.gather(inputs, self.cols, axis=1)

  def _weights(self, products):
    hidden = tf.nn.relu(tf.tensordot(products, self.attention_kernel, axes=1) +
                        self.attention_bias)
    scores = tf.squeeze(tf.tensordot(hidden, self.projection_h, axes=1), axis=-1)
    return tf.nn.softmax(scores, axis=1)

  def attention_weights(self, inputs):
    """Returns alpha, the attention weight of each pair (i < j, row-major): [batch, P]."""
    if not self.built:
      self.build(inputs.shape)
    return self._weights(self._pair_products(inputs))

  def call(self, inputs, training=None):
    products = self._pair_products(inputs)
    weights = self._weights(products)
    pooled = tf.reduce_sum(weights[:, :, None] * products, axis=1)
    pooled = self.dropout_layer(pooled, training=training)
    return tf.matmul(pooled, self.projection_p)

  def compute_output_shape(self, input_shape):
    return tf.TensorShape([input_shape[0], 1])

  def get_config(self):
    config = super().get_config()
    config.update({
        'attention_factor': self.attention_factor,
        'l2': self.l2,
        'dropout': self.dropout,
    })
    return config


@keras.utils.register_keras_serializable(package='tenrec')
class AttentionPooling(keras.layers.Layer):
  """Attention pooling of a behaviour sequence by a query (DIN's local activation unit).

  For a query q and keys k_1..k_T in R^d with a 0/1 padding mask m_t,

    s_t = w^T MLP([q, k_t, q - k_t, q * k_t]) + b
    weight_t = m_t * s_t                               normalization='none' (DIN)
    weight_t = m_t exp(s_t) / sum_u m_u exp(s_u)       normalization='softmax'
    pooled = sum_t weight_t k_t

  Padded positions get weight 0 in both cases, and a row whose positions are all padded
  pools to the zero vector.

  Inputs: a tuple (query [batch, d], keys [batch, T, d], mask [batch, T] of 0/1 or bool).
  Output: pooled [batch, d], or (pooled, weights [batch, T]) with `return_weights`.

  Example:

    pool = AttentionPooling(hidden_units=(64, 64), activation='dice')
    mask = tf.constant([[0.0, 1.0, 1.0]])
    pooled = pool((tf.ones([1, 4]), tf.ones([1, 3, 4]), mask))  # shape [1, 4]

  Args:
    hidden_units: Widths of the attention MLP (DIN: (80, 40); the Tenrec reference: (64, 64)).
    activation: MLP activation, 'dice' (DIN) or a Keras activation name.
    normalization: 'none' keeps DIN's unnormalised scores; 'softmax' normalises them over
      the unpadded positions.
    return_weights: Whether to also return the weights.
  """

  def __init__(self,
               hidden_units: Sequence[int] = (64, 64),
               activation: str = 'dice',
               normalization: str = 'none',
               return_weights: bool = False,
               **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = checks.units('hidden_units', hidden_units, allow_empty=True)
    self.activation = activation
    self.normalization = checks.choice('normalization', normalization, NORMALIZATIONS)
    self.return_weights = checks.boolean('return_weights', return_weights)
    self.mlp = mlp.MLP(self.hidden_units, activation=activation, name='mlp')
    self.score = keras.layers.Dense(1, name='score')

  def call(self, inputs, training=None):
    query, keys, mask = inputs
    mask = tf.cast(mask, keys.dtype)

    # Score every position from [q, k, q - k, q * k].
    queries = tf.broadcast_to(query[:, None, :], tf.shape(keys))
    features = tf.concat([queries, keys, queries - keys, queries * keys], axis=-1)
    scores = tf.squeeze(self.score(self.mlp(features, training=training)), axis=-1)

    # Padded positions get weight 0.
    if self.normalization == 'softmax':
      scores = tf.where(mask > 0, scores, tf.fill(tf.shape(scores), _MASKED_SCORE))
      weights = tf.nn.softmax(scores, axis=-1) * mask
    else:
      weights = scores * mask

    pooled = tf.reduce_sum(weights[:, :, None] * keys, axis=1)
    if self.return_weights:
      return pooled, weights
    return pooled

  def get_config(self):
    config = super().get_config()
    config.update({
        'hidden_units': list(self.hidden_units),
        'activation': self.activation,
        'normalization': self.normalization,
        'return_weights': self.return_weights,
    })
    return config
