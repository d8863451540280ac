"""Item-sequence embedding: item table with a zero padding row, learned positions, dropout."""

from typing import Optional

import tensorflow as tf
import tf_keras

from models.layers import checks


@tf_keras.utils.register_keras_serializable(package='tenrec')
class SequenceEmbedding(tf_keras.layers.Layer):
  """Embeds a left-padded item-id sequence.

  For ids x of shape [batch, T] (T <= max_len when positions are used):

    out[b, t] = 1[x[b, t] != padding_id] * E[x[b, t]] + P[max_len - T + t]

  followed by dropout. E is the [vocab_size, embedding_dim] item table; the padding row is
  multiplied by zero, so it acts as a zero vector and receives no gradient. P is the
  [max_len, embedding_dim] table of learned absolute positions, present only when `max_len` is
  given. Positions are aligned to the right, so the most recent item of a left-padded
  sequence always gets position max_len - 1, whatever T is.

  Example:

    layer = SequenceEmbedding(vocab_size=11, embedding_dim=8, max_len=5, dropout=0.1)
    vectors = layer(tf.constant([[0, 0, 3, 7, 2]]))  # shape [1, 5, 8]

  Args:
    vocab_size: Number of ids, padding included (V + 1 for items 1..V, V + 2 when a mask
      token follows the items).
    embedding_dim: Width d of the vectors.
    max_len: Number of learned positions; None for no position embedding.
    dropout: Dropout rate applied to the sum.
    padding_id: Id whose vector is forced to zero.
    embeddings_stddev: Standard deviation of the normal initialisation of both tables.
  """

  def __init__(self,
               vocab_size: int,
               embedding_dim: int,
               max_len: Optional[int] = None,
               dropout: float = 0.0,
               padding_id: int = 0,
               embeddings_stddev: float = 1.0,
               **kwargs):
    super().__init__(**kwargs)
    self.vocab_size = checks.positive_int('vocab_size', vocab_size)
    self.embedding_dim = checks.positive_int('embedding_dim', embedding_dim)
    self.max_len = None if max_len is None else checks.positive_int('max_len', max_len)
    self.dropout = checks.rate('dropout', dropout)
    self.padding_id = checks.non_negative_int('padding_id', padding_id)
    if self.padding_id >= self.vocab_size:
      raise ValueError(f'padding_id must be below vocab_size={self.vocab_size}, got '
                       f'{padding_id!r}.')
    self.embeddings_stddev = checks.positive_float('embeddings_stddev', embeddings_stddev)
    self._dropout_layer = tf_keras.layers.Dropout(self.dropout)

  def build(self, input_shape):
    # One initializer instance per table: an unseeded Keras initializer returns the same
    # values each time it is called.
    self.item_embeddings = self.add_weight(
        name='item_embeddings', shape=(self.vocab_size, self.embedding_dim),
        initializer=tf_keras.initializers.RandomNormal(stddev=self.embeddings_stddev))
    self.position_embeddings = None
    if self.max_len is not None:
      self.position_embeddings = self.add_weight(
          name='position_embeddings', shape=(self.max_len, self.embedding_dim),
          initializer=tf_keras.initializers.RandomNormal(stddev=self.embeddings_stddev))
    super().build(input_shape)

  def call(self, inputs, training=None):
    ids = tf.cast(inputs, tf.int32)
    vectors = tf.gather(self.item_embeddings, ids)

    not_padding = tf.cast(tf.not_equal(ids, self.padding_id), vectors.dtype)
    vectors = vectors * not_padding[..., tf.newaxis]

    if self.position_embeddings is not None:
      length = tf.shape(ids)[-1]
      tf.debugging.assert_less_equal(
          length, self.max_len,
          message=f'sequence is longer than max_len={self.max_len} positions')
      positions = self.position_embeddings[self.max_len - length:]
      vectors = vectors + positions

    return self._dropout_layer(vectors, training=training)

  def compute_output_shape(self, input_shape):
    return tf.TensorShape(input_shape).concatenate([self.embedding_dim])

  def get_config(self):
    config = super().get_config()
    config.update({
        'vocab_size': self.vocab_size,
        'embedding_dim': self.embedding_dim,
        'max_len': self.max_len,
        'dropout': self.dropout,
        'padding_id': self.padding_id,
        'embeddings_stddev': self.embeddings_stddev,
    })
    return config
