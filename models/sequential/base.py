"""Shared structure of the sequential recommenders: embedding, encoder blocks, output head.

Every model maps left-padded item ids [batch, T] (T <= max_len, 0 = padding) to per-position
logits [batch, T, V + 1] through three parts that later tasks can copy or freeze one by one:

  model.embedding      item (and position) embedding
  model.encoder        list of blocks (GRU layers, dilated residual blocks, transformer blocks)
  model.encoder_norm   optional LayerNorm after the last block (None when absent)
  model.head           ItemScoringHead over the item indices 0..V

Training minimises the softmax cross-entropy over items 1..V at every position whose label is
not 0, averaged over those positions. Logits are computed only at those positions, so the
cost does not grow with padding. Column 0 (padding) is excluded from the softmax and from
ranking.
"""

import json
from typing import Any, Dict, Optional, Sequence, Union

import tensorflow as tf
import tf_keras

from models.layers import checks

POOLINGS = ('last', 'mean')

BlockSelection = Union[None, str, Sequence[int]]


def item_ids_from_inputs(inputs) -> tf.Tensor:
  """Returns the int32 [batch, T] item ids from a tensor or an {'item_ids': ...} dictionary."""
  if isinstance(inputs, dict):
    if 'item_ids' not in inputs:
      raise ValueError(f'Sequential models expect an input named item_ids, got '
                       f'{", ".join(sorted(inputs))}.')
    inputs = inputs['item_ids']
  return tf.cast(inputs, tf.int32)


def masked_item_cross_entropy(y_true, y_pred) -> tf.Tensor:
  """Mean softmax cross-entropy over the positions whose label is not 0.

  The softmax runs over items 1..V, so the padding column 0 of y_pred is ignored.

  Args:
    y_true: int labels [..., T] in 0..V; 0 marks an ignored position.
    y_pred: logits [..., T, V + 1].

  Returns:
    Scalar: sum of the per-position losses divided by the number of non-ignored positions
    (0 when there is none).
  """
  labels = tf.cast(y_true, tf.int32)
  keep = tf.not_equal(labels, 0)
  item_logits = tf.boolean_mask(y_pred[..., 1:], keep)
  targets = tf.boolean_mask(labels, keep) - 1
  losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=item_logits)
  count = tf.cast(tf.size(targets), losses.dtype)
  return tf.math.divide_no_nan(tf.reduce_sum(losses), count)


class SequentialRecommender(tf_keras.Model):
  """Base class of GRU4Rec, NextItNet, SASRec and BERT4Rec.

  Subclasses create `embedding`, `encoder`, `encoder_norm` and `head` in their constructor,
  store their constructor arguments with `_store_config`, and override `_encoder_context`
  and `_apply_block` when their blocks need masks.

  Inputs are int item ids [batch, T] (or {'item_ids': ...}) with T <= max_len, left-padded
  with 0; call() returns logits [batch, T, V + 1]. Use `score` for evaluation read-outs and
  `fit` with (inputs, labels) batches for training (labels [batch, T], 0 = ignored).
  """

  # Whether the output at position t depends only on inputs at positions <= t.
  causal = True

  def __init__(self, num_items: int, max_len: int, **kwargs):
    super().__init__(**kwargs)
    self.num_items = checks.positive_int('num_items', num_items)
    self.max_len = checks.positive_int('max_len', max_len)
    self.encoder_norm = None
    self._loss_tracker = tf_keras.metrics.Mean(name='loss')
    self._config_json = '{}'

  # ----- structure -----

  @property
  def mask_token(self) -> Optional[int]:
    """Id of the learned [MASK] token, or None for models without one."""
    return None

  @property
  def input_vocab_size(self) -> int:
    """Number of input ids: padding, items 1..V, and the mask token when there is one."""
    return self.num_items + 1 if self.mask_token is None else self.num_items + 2

  def _store_config(self, **config) -> None:
    # Kept as JSON text: Keras would wrap a dict attribute (and its lists) in tracking
    # wrappers, which get_config must not return.
    self._config_json = json.dumps(config)

  def get_config(self) -> Dict[str, Any]:
    return json.loads(self._config_json)

  @classmethod
  def from_config(cls, config, custom_objects=None):
    del custom_objects  # Unused: every layer is built by the constructor.
    return cls(**config)

  def build_weights(self) -> 'SequentialRecommender':
    """Creates every weight by calling the model once on a padded batch; returns self."""
    self(tf.zeros([1, self.max_len], tf.int32), training=False)
    return self

  # ----- forward pass -----

  def _encoder_context(self, item_ids: tf.Tensor) -> Any:
    """Returns what every block needs besides its input (a mask), or None."""
    del item_ids
    return None

  def _apply_block(self, block, hidden, context, training):
    del context
    return block(hidden, training=training)

  def encode(self, inputs, training=None) -> tf.Tensor:
    """Returns the encoder output [batch, T, d] (after `encoder_norm` when present)."""
    item_ids = item_ids_from_inputs(inputs)
    hidden = self.embedding(item_ids, training=training)

    context = self._encoder_context(item_ids)
    for block in self.encoder:
      hidden = self._apply_block(block, hidden, context, training)

    if self.encoder_norm is not None:
      hidden = self.encoder_norm(hidden)
    return hidden

  def call(self, inputs, training=None):
    return self.head(self.encode(inputs, training=training))

  def pooled_hidden(self, inputs, pooling: str = 'last', training=False) -> tf.Tensor:
    """Returns the read-out state [batch, d]: the last position or the mean over positions."""
    if pooling not in POOLINGS:
      raise ValueError(f'pooling must be one of {", ".join(POOLINGS)}; got {pooling!r}.')
    hidden = self.encode(inputs, training=training)
    if pooling == 'last':
      return hidden[:, -1, :]
    return tf.reduce_mean(hidden, axis=1)

  def score(self, inputs, pooling: str = 'last', training=False) -> tf.Tensor:
    """Returns one logit per item index 0..V for each sequence, shape [batch, V + 1].

    'last' reads the last position only, so the head runs once per sequence. 'mean' returns
    the mean of the per-position logits over all positions, padding included. Because the
    head is affine, that mean equals the head applied to the mean hidden state, which is
    what is computed.
    """
    return self.head(self.pooled_hidden(inputs, pooling=pooling, training=training))

  # ----- training -----

  def sequence_loss(self, inputs, labels, training=None):
    """Returns (mean loss, number of labelled positions) of a batch.

    Only positions with a non-zero label are passed through the head.
    """
    # NOTE: the logits of all labelled positions exist at once, N x V floats. With the full
    # Tenrec catalogue (V of about 1.2M) a batch of 32 x 30 positions needs about 4.5 GB for
    # the logits alone; there is no sampled or chunked softmax.
    labels = tf.cast(labels, tf.int32)
    hidden = self.encode(inputs, training=training)

    keep = tf.not_equal(labels, 0)
    selected = tf.boolean_mask(hidden, keep)
    targets = tf.boolean_mask(labels, keep) - 1
    logits = self.head.item_logits(selected)
    losses = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=targets, logits=logits)

    count = tf.cast(tf.size(targets), losses.dtype)
    return tf.math.divide_no_nan(tf.reduce_sum(losses), count), count

  def train_step(self, data):
    inputs, labels = data[0], data[1]
    with tf.GradientTape() as tape:
      loss, count = self.sequence_loss(inputs, labels, training=True)
      total_loss = loss + tf.add_n(self.losses) if self.losses else loss
    gradients = tape.gradient(total_loss, self.trainable_variables)
    self.optimizer.apply_gradients(zip(gradients, self.trainable_variables))
    self._loss_tracker.update_state(loss, sample_weight=count)
    return {'loss': self._loss_tracker.result()}

  def test_step(self, data):
    inputs, labels = data[0], data[1]
    loss, count = self.sequence_loss(inputs, labels, training=False)
    self._loss_tracker.update_state(loss, sample_weight=count)
    return {'loss': self._loss_tracker.result()}

  @property
  def metrics(self):
    return [self._loss_tracker]

  # ----- block-by-block reuse -----

  def _block_indices(self, blocks: BlockSelection, name: str) -> Sequence[int]:
    if blocks is None:
      return []
    if blocks == 'all':
      return list(range(len(self.encoder)))
    if isinstance(blocks, str):
      raise ValueError(f'{name} must be None, "all" or a list of block indices, got '
                       f'{blocks!r}.')
    indices = list(blocks)
    for index in indices:
      if not isinstance(index, int) or not 0 <= index < len(self.encoder):
        raise ValueError(f'{name} contains {index!r}; the encoder has blocks '
                         f'0..{len(self.encoder) - 1}.')
    return indices

  def copy_weights_from(self,
                        source: 'SequentialRecommender',
                        embedding: bool = True,
                        blocks: BlockSelection = 'all',
                        encoder_norm: bool = True,
                        head: bool = True,
                        block_mapping: Optional[Dict[int, int]] = None) -> None:
    """Copies weights from another model of the same architecture, part by part.

    Args:
      source: Model to copy from; both models must have their weights built.
      embedding: Copy the embedding (item and position tables). The item tables must have the
        same shape, so both models need the same catalogue.
      blocks: Target blocks to fill: 'all', a list of indices, or None.
      encoder_norm: Copy the final encoder LayerNorm when both models have one.
      head: Copy the output head.
      block_mapping: Target index -> source index; by default a block is copied from the
        source block of the same index (for example {4: 0, 5: 1} stacks the first two source
        blocks on top of a four-block model).

    Raises:
      ValueError: A block is missing in the source, or the shapes differ.
    """
    for model in (self, source):
      if not model.built:
        raise ValueError(f'Model {model.name!r} has no weights yet; call build_weights() '
                         'first.')

    pairs = []
    if embedding:
      pairs.append(('embedding', self.embedding, source.embedding))
    for target_index in self._block_indices(blocks, 'blocks'):
      source_index = (block_mapping or {}).get(target_index, target_index)
      if not 0 <= source_index < len(source.encoder):
        raise ValueError(f'Source model {source.name!r} has no block {source_index} to copy '
                         f'into block {target_index}; it has {len(source.encoder)} blocks.')
      pairs.append((f'block {target_index}', self.encoder[target_index],
                    source.encoder[source_index]))
    if encoder_norm and self.encoder_norm is not None and source.encoder_norm is not None:
      pairs.append(('encoder_norm', self.encoder_norm, source.encoder_norm))
    if head:
      pairs.append(('head', self.head, source.head))

    for part, target_layer, source_layer in pairs:
      weights = source_layer.get_weights()
      expected = [w.shape for w in target_layer.get_weights()]
      if [w.shape for w in weights] != expected:
        raise ValueError(f'Cannot copy {part}: source shapes {[w.shape for w in weights]} '
                         f'differ from target shapes {expected}.')
      target_layer.set_weights(weights)

  def set_trainable(self,
                    embedding: Optional[bool] = None,
                    blocks: BlockSelection = None,
                    blocks_trainable: bool = False,
                    encoder_norm: Optional[bool] = None,
                    head: Optional[bool] = None) -> None:
    """Freezes or unfreezes parts of the model; None leaves a part unchanged.

    Recompile the model after changing what is trainable.

    Args:
      embedding: Trainable flag of the embedding.
      blocks: Blocks whose flag is set to `blocks_trainable` ('all' or indices).
      blocks_trainable: Flag applied to `blocks`.
      encoder_norm: Trainable flag of the final encoder LayerNorm, when present.
      head: Trainable flag of the head. A tied head shares the embedding table, which follows
        the `embedding` flag.
    """
    if embedding is not None:
      self.embedding.trainable = checks.boolean('embedding', embedding)
    for index in self._block_indices(blocks, 'blocks'):
      self.encoder[index].trainable = checks.boolean('blocks_trainable', blocks_trainable)
    if encoder_norm is not None and self.encoder_norm is not None:
      self.encoder_norm.trainable = checks.boolean('encoder_norm', encoder_norm)
    if head is not None:
      self.head.trainable = checks.boolean('head', head)


def layer_norm_or_none(enabled: bool, epsilon: float, name: str):
  """Returns a LayerNormalization layer when `enabled`, else None."""
  if not checks.boolean(name, enabled):
    return None
  return tf_keras.layers.LayerNormalization(epsilon=epsilon, name=name)


# Training hyper-parameters every sequential ModelSpec carries besides its architecture:
# Adam with this learning rate, batch size and number of epochs, and decoupled weight decay
# (0 in the Tenrec paper).
TRAINING_HPARAMS = ('learning_rate', 'batch_size', 'epochs', 'weight_decay')


def check_training_hparams(hparams: Dict[str, Any]) -> None:
  """Validates the training hyper-parameters shared by every sequential model."""
  checks.positive_float('learning_rate', hparams['learning_rate'])
  checks.positive_int('batch_size', hparams['batch_size'])
  checks.positive_int('epochs', hparams['epochs'])
  checks.non_negative_float('weight_decay', hparams['weight_decay'])


def architecture_kwargs(hparams: Dict[str, Any]) -> Dict[str, Any]:
  """Returns the hyper-parameters that are model constructor arguments."""
  return {key: value for key, value in hparams.items() if key not in TRAINING_HPARAMS}


def sbr_feature_info(num_items: int, max_len: int):
  """Returns the FeatureInfo of a sequential task: `item_ids` of V + 1 indices, max_len long."""
  from models import features  # pylint: disable=import-outside-toplevel
  return features.FeatureInfo(
      features=(features.CategoricalFeature(
          name='item_ids', vocab_size=checks.positive_int('num_items', num_items) + 1,
          length=checks.positive_int('max_len', max_len), vocabulary='item_id'),),
      labels=('target_item',))


def num_items_from_feature_info(feature_info, max_len: int) -> int:
  """Returns V from the `item_ids` feature (vocab_size = V + 1) and checks its length.

  Raises:
    ValueError: The feature is missing, covers no item, or its length differs from max_len.
  """
  feature = feature_info.feature('item_ids')
  if feature.vocab_size < 2:
    raise ValueError(f'item_ids must cover padding and at least one item (vocab_size >= 2), '
                     f'got vocab_size={feature.vocab_size}.')
  if feature.length != max_len:
    raise ValueError(f'item_ids has length {feature.length} but the model hyper-parameter '
                     f'max_len is {max_len}; build the FeatureInfo with the same max_len.')
  return feature.vocab_size - 1
