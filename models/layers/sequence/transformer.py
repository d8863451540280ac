"""Pre-LayerNorm transformer encoder block and the self-attention masks of SASRec and BERT4Rec."""

from typing import Optional

import tensorflow as tf
import tf_keras

from models.layers import checks


def self_attention_mask(item_ids: tf.Tensor, causal: bool, padding_id: int = 0) -> tf.Tensor:
  """Builds the boolean self-attention mask of a batch of left-padded id sequences.

  mask[b, i, j] is True when query position i may attend to key position j:

    mask[b, i, j] = (x[b, j] != padding_id and (j <= i or not causal)) or i == j

  Padding keys are hidden from every query. The diagonal is always allowed, so a padding
  query, which has no valid key, attends only to itself. Without it, the softmax over an
  all-masked row would spread uniformly over every position, future ones included, and
  padding outputs would depend on later items. A real query never attends to a padding key,
  because its diagonal entry is its own real position.

  Example:

    self_attention_mask(tf.constant([[0, 5, 6]]), causal=True)
    # [[[True, False, False],
    #   [False, True, False],
    #   [False, True, True]]]

  Args:
    item_ids: int tensor [batch, T].
    causal: Whether query i may only see keys j <= i.
    padding_id: The padding id.

  Returns:
    bool tensor [batch, T, T], in the layout of `attention_mask` of
    tf_keras.layers.MultiHeadAttention.
  """
  length = tf.shape(item_ids)[1]
  key_is_real = tf.not_equal(item_ids, tf.cast(padding_id, item_ids.dtype))
  mask = tf.repeat(key_is_real[:, tf.newaxis, :], length, axis=1)

  if causal:
    lower_triangle = tf.linalg.band_part(tf.ones([length, length], tf.bool), -1, 0)
    mask = tf.logical_and(mask, lower_triangle[tf.newaxis])

  diagonal = tf.eye(length, dtype=tf.bool)[tf.newaxis]
  return tf.logical_or(mask, diagonal)


@tf_keras.utils.register_keras_serializable(package='tenrec')
class TransformerBlock(tf_keras.layers.Layer):
  """Pre-LayerNorm transformer encoder block.

  For x of shape [batch, T, hidden_dim] and a boolean attention mask [batch, T, T]:

    x = x + Dropout(MHA(LN(x), LN(x), mask))
    x = x + Dropout(FFN(LN(x))),   FFN(y) = W2 Dropout(GELU(W1 y + b1)) + b2
    x = Dropout(x)                 (only when output_dropout is True)

  MHA has `num_heads` heads of width hidden_dim / num_heads, scores scaled by
  1 / sqrt(hidden_dim / num_heads), biased Q, K, V and output projections, and dropout on the
  attention probabilities. GELU uses the tanh approximation. Every operation except attention
  acts on each position separately, so a causal mask makes the whole block causal.

  Example:

    block = TransformerBlock(hidden_dim=16, num_heads=2)
    ids = tf.constant([[0, 3, 4, 5]])
    x = tf.random.normal([1, 4, 16])
    y = block(x, attention_mask=self_attention_mask(ids, causal=True))  # shape [1, 4, 16]

  Args:
    hidden_dim: Model width; must be divisible by num_heads.
    num_heads: Number of attention heads.
    ffn_dim: Width of the feed-forward layer; None for 4 * hidden_dim.
    dropout: Rate of the residual, feed-forward and output dropouts.
    attention_dropout: Rate of the attention-probability dropout; None for `dropout`.
    layer_norm_epsilon: Epsilon of both LayerNorms.
    output_dropout: Whether to apply the final dropout to the block output (the Tenrec
      reference blocks do).
  """

  def __init__(self,
               hidden_dim: int,
               num_heads: int,
               ffn_dim: Optional[int] = None,
               dropout: float = 0.1,
               attention_dropout: Optional[float] = None,
               layer_norm_epsilon: float = 1e-5,
               output_dropout: bool = True,
               **kwargs):
    super().__init__(**kwargs)
    self.hidden_dim = checks.positive_int('hidden_dim', hidden_dim)
    self.num_heads = checks.positive_int('num_heads', num_heads)
    if self.hidden_dim % self.num_heads:
      raise ValueError(f'hidden_dim={hidden_dim!r} must be divisible by num_heads='
                       f'{num_heads!r}.')
    self.ffn_dim = (4 * self.hidden_dim if ffn_dim is None
                    else checks.positive_int('ffn_dim', ffn_dim))
    self.dropout = checks.rate('dropout', dropout)
    self.attention_dropout = (self.dropout if attention_dropout is None
                              else checks.rate('attention_dropout', attention_dropout))
    self.layer_norm_epsilon = checks.positive_float('layer_norm_epsilon', layer_norm_epsilon)
    self.output_dropout = checks.boolean('output_dropout', output_dropout)

    self.attention_norm = tf_keras.layers.LayerNormalization(
        epsilon=self.layer_norm_epsilon, name='attention_norm')
    self.attention = tf_keras.layers.MultiHeadAttention(
        num_heads=self.num_heads, key_dim=self.hidden_dim // self.num_heads,
        dropout=self.attention_dropout, name='attention')
    self.attention_dropout_layer = tf_keras.layers.Dropout(self.dropout)
    self.ffn_norm = tf_keras.layers.LayerNormalization(
        epsilon=self.layer_norm_epsilon, name='ffn_norm')
    self.ffn_inner = tf_keras.layers.Dense(self.ffn_dim, name='ffn_inner')
    self.ffn_inner_dropout = tf_keras.layers.Dropout(self.dropout)
    self.ffn_outer = tf_keras.layers.Dense(self.hidden_dim, name='ffn_outer')
    self.ffn_dropout = tf_keras.layers.Dropout(self.dropout)
    self.output_dropout_layer = tf_keras.layers.Dropout(self.dropout)

  def build(self, input_shape):
    width = int(input_shape[-1])
    if width != self.hidden_dim:
      raise ValueError(f'TransformerBlock {self.name!r} expects inputs of width '
                       f'{self.hidden_dim}, got {width}.')
    super().build(input_shape)

  def call(self, inputs, attention_mask=None, training=None):
    normed = self.attention_norm(inputs)
    attended = self.attention(normed, normed, attention_mask=attention_mask,
                              training=training)
    x = inputs + self.attention_dropout_layer(attended, training=training)

    normed = self.ffn_norm(x)
    inner = tf.nn.gelu(self.ffn_inner(normed), approximate=True)
    inner = self.ffn_inner_dropout(inner, training=training)
    x = x + self.ffn_dropout(self.ffn_outer(inner), training=training)

    if self.output_dropout:
      x = self.output_dropout_layer(x, training=training)
    return x

  def compute_output_shape(self, input_shape):
    return tf.TensorShape(input_shape)

  def get_config(self):
    config = super().get_config()
    config.update({
        'hidden_dim': self.hidden_dim,
        'num_heads': self.num_heads,
        'ffn_dim': self.ffn_dim,
        'dropout': self.dropout,
        'attention_dropout': self.attention_dropout,
        'layer_norm_epsilon': self.layer_norm_epsilon,
        'output_dropout': self.output_dropout,
    })
    return config
