"""Output layer that scores every item index of a catalogue."""

from typing import Optional

import tensorflow as tf
import tf_keras

from models.layers import checks
from models.layers.sequence.embedding import SequenceEmbedding


@tf_keras.utils.register_keras_serializable(package='tenrec')
class ItemScoringHead(tf_keras.layers.Layer):
  """Affine map from hidden states to one logit per item index 0..V.

  For hidden states h of shape [..., d]:

    logits = h W + b,   W of shape [d, V + 1], b of shape [V + 1]

  With `tied_embedding`, W is the transpose of the first V + 1 rows of that layer's item
  table (rows beyond V, such as a mask token, are not scored) and only b is owned by this
  layer. Column 0 is the padding index: it is computed so that the output keeps the V + 1
  layout, but `item_logits` drops it, and the trainers never rank or train it as a target.

  Example:

    head = ItemScoringHead(num_items=10)
    logits = head(tf.zeros([2, 5, 16]))          # shape [2, 5, 11]
    item_logits = head.item_logits(tf.zeros([2, 16]))  # shape [2, 10], items 1..10

  Args:
    num_items: V, the number of items; outputs have V + 1 columns.
    use_bias: Whether to add the bias b.
    tied_embedding: A SequenceEmbedding whose item table is reused as W. The tie is not part
      of `get_config` (a layer reference cannot be serialised); models that tie their head
      rebuild it in their own constructor.
  """

  def __init__(self,
               num_items: int,
               use_bias: bool = True,
               tied_embedding: Optional[SequenceEmbedding] = None,
               **kwargs):
    super().__init__(**kwargs)
    self.num_items = checks.positive_int('num_items', num_items)
    self.use_bias = checks.boolean('use_bias', use_bias)
    if tied_embedding is not None:
      if not isinstance(tied_embedding, SequenceEmbedding):
        raise ValueError('tied_embedding must be a SequenceEmbedding, got '
                         f'{type(tied_embedding).__name__}.')
      if tied_embedding.vocab_size < self.num_items + 1:
        raise ValueError(
            f'tied_embedding has {tied_embedding.vocab_size} rows but the head scores '
            f'{self.num_items + 1} indices; the embedding must cover ids 0..{self.num_items}.')
    # A plain attribute would make Keras track the embedding as a sub-layer of the head, so
    # freezing or copying the head would also touch the embedding. A closure is not tracked.
    self.tied = tied_embedding is not None
    self._tied_embedding = (lambda: tied_embedding) if self.tied else None

  def build(self, input_shape):
    hidden_dim = int(input_shape[-1])
    self.kernel = None
    if not self.tied:
      self.kernel = self.add_weight(
          name='kernel', shape=(hidden_dim, self.num_items + 1),
          initializer='glorot_uniform')
    elif self._tied_embedding().embedding_dim != hidden_dim:
      raise ValueError(
          f'Tied head needs hidden states of width {self._tied_embedding().embedding_dim} '
          f'(the embedding width), got {hidden_dim}.')
    self.bias = None
    if self.use_bias:
      self.bias = self.add_weight(name='bias', shape=(self.num_items + 1,),
                                  initializer='zeros')
    super().build(input_shape)

  def _logits(self, hidden, first_index: int):
    """Returns logits for the indices first_index..V."""
    if not self.built:
      raise ValueError(f'Layer {self.name!r} is not built; call it once on hidden states '
                       'before requesting item logits.')
    flat = tf.reshape(hidden, [-1, tf.shape(hidden)[-1]])
    if self.tied:
      embedding = self._tied_embedding()
      if not embedding.built:
        raise ValueError(f'The tied embedding {embedding.name!r} must be built before the '
                         'head is called.')
      table = embedding.item_embeddings[first_index:self.num_items + 1]
      logits = tf.matmul(flat, table, transpose_b=True)
    else:
      logits = tf.matmul(flat, self.kernel[:, first_index:])
    if self.bias is not None:
      logits = logits + self.bias[first_index:]
    output_shape = tf.concat(
        [tf.shape(hidden)[:-1], [self.num_items + 1 - first_index]], axis=0)
    return tf.reshape(logits, output_shape)

  def call(self, inputs):
    return self._logits(inputs, first_index=0)

  def item_logits(self, hidden):
    """Returns the logits of items 1..V (padding column dropped), shape [..., V]."""
    return self._logits(hidden, first_index=1)

  def compute_output_shape(self, input_shape):
    return tf.TensorShape(input_shape)[:-1].concatenate([self.num_items + 1])

  def get_config(self):
    config = super().get_config()
    config.update({'num_items': self.num_items, 'use_bias': self.use_bias})
    return config
