"""Embedding of a task's categorical inputs (models.features.FeatureInfo) for CTR models.

Tables are created per vocabulary, so inputs that share a vocabulary (`hist_item_ids` and
`item_id`) share one table. Index 0 is padding or missing in every vocabulary. In a scalar input
it is an ordinary learnable row (the "unknown" category), and in a sequence input it is masked
out.

Two layers:

* `FieldEmbedding`: the field matrix [batch, F, d] and the linear (wide) logit, for the
  FM/cross/DNN family and the multi-task models.
* `BehaviourEmbedding`: the scalar fields, the query item, the behaviour sequence and its
  padding mask, for DIN and DIEN.
"""

from typing import Any, Dict, Mapping, Optional

import tensorflow as tf
import tf_keras as keras

from models import features as features_lib
from models.layers import checks

# Sequence-input treatments of FieldEmbedding:
# 'pooled': one field, the masked mean (or sum) of the items' rows in the shared table.
# 'fields': one field per position, rows from the shared table, padded positions zeroed.
# 'reference_separate_fields': one field per position, each position with its own table and
#   index 0 an ordinary category (the Tenrec reference's ten hist_1..hist_10 fields).
HISTORY_MODES = ('pooled', 'fields', 'reference_separate_fields')
HISTORY_POOLINGS = ('mean', 'sum')

# Behaviour-sequence embeddings of BehaviourEmbedding:
# 'sequence': rows of the query's table with a real padding mask.
# 'reference_separate_table': a table of its own, index 0 an ordinary item, no mask.
BEHAVIOUR_MODES = ('sequence', 'reference_separate_table')


def feature_info_to_config(feature_info: features_lib.FeatureInfo) -> Dict[str, Any]:
  """Returns a JSON-serialisable description of `feature_info` (for get_config)."""
  return {
      'features': [{
          'name': f.name,
          'vocab_size': f.vocab_size,
          'length': f.length,
          'vocabulary': f.vocabulary,
      } for f in feature_info.features],
      'labels': list(feature_info.labels),
  }


def feature_info_from_config(config: Any) -> features_lib.FeatureInfo:
  """Returns the FeatureInfo of `config` (a FeatureInfo is returned unchanged)."""
  if isinstance(config, features_lib.FeatureInfo):
    return config
  return features_lib.FeatureInfo(
      features=tuple(features_lib.CategoricalFeature(**f) for f in config['features']),
      labels=tuple(config['labels']))


def vocabulary_sizes(feature_info: features_lib.FeatureInfo) -> Dict[str, int]:
  """Returns the size of every vocabulary of `feature_info`.

  Raises:
    ValueError: Two inputs share a vocabulary but declare different sizes.
  """
  sizes: Dict[str, int] = {}
  owners: Dict[str, str] = {}
  for feature in feature_info.features:
    vocabulary = feature.vocabulary_name
    if vocabulary in sizes and sizes[vocabulary] != feature.vocab_size:
      raise ValueError(
          f'Inputs {owners[vocabulary]!r} and {feature.name!r} share vocabulary '
          f'{vocabulary!r} but declare sizes {sizes[vocabulary]} and {feature.vocab_size}; '
          f'shared vocabularies must have one size.')
    sizes[vocabulary] = feature.vocab_size
    owners[vocabulary] = feature.name
  return sizes


def padding_mask(ids: tf.Tensor, dtype=tf.float32) -> tf.Tensor:
  """Returns 1 where `ids` is a real index and 0 where it is padding (index 0)."""
  return tf.cast(tf.not_equal(ids, 0), dtype)


def masked_pool(embedded: tf.Tensor, mask: tf.Tensor, pooling: str = 'mean') -> tf.Tensor:
  """Pools [batch, L, d] over L, ignoring padded positions; all-padding rows pool to 0."""
  total = tf.reduce_sum(embedded * mask[:, :, None], axis=1)
  if pooling == 'sum':
    return total
  count = tf.reduce_sum(mask, axis=1, keepdims=True)
  return tf.math.divide_no_nan(total, count)


class _EmbeddingTables(keras.layers.Layer):
  """Base layer that owns the embedding tables and their regularisation."""

  def __init__(self,
               feature_info,
               embedding_dim: int,
               embedding_l2: float = 0.0,
               init_std: float = 1e-4,
               **kwargs):
    super().__init__(**kwargs)
    self.feature_info = feature_info_from_config(feature_info)
    self.embedding_dim = checks.positive_int('embedding_dim', embedding_dim)
    self.embedding_l2 = checks.non_negative_float('embedding_l2', embedding_l2)
    self.init_std = checks.positive_float('init_std', init_std)
    self.vocab_sizes = vocabulary_sizes(self.feature_info)
    self.tables: Dict[str, tf.Variable] = {}

  def _add_table(self, key: str, vocab_size: int, l2: float,
                 linear: bool = False) -> tf.Variable:
    table = self.add_weight(
        name=f'{key}_linear' if linear else f'{key}_embedding',
        shape=(vocab_size, 1 if linear else self.embedding_dim),
        initializer=keras.initializers.RandomNormal(stddev=self.init_std),
        regularizer=keras.regularizers.l2(l2) if l2 > 0 else None)
    self.tables[f'linear:{key}' if linear else f'embedding:{key}'] = table
    return table

  def _lookup(self, key: str, ids: tf.Tensor, linear: bool = False) -> tf.Tensor:
    table = self.tables[f'linear:{key}' if linear else f'embedding:{key}']
    return tf.gather(table, ids)

  def _check_inputs(self, inputs: Mapping[str, tf.Tensor]) -> None:
    missing = [f.name for f in self.feature_info.features if f.name not in inputs]
    if missing:
      raise ValueError(f'Missing model inputs {missing}; the model expects '
                       f'{[f.name for f in self.feature_info.features]}.')

  def get_config(self):
    config = super().get_config()
    config.update({
        'feature_info': feature_info_to_config(self.feature_info),
        'embedding_dim': self.embedding_dim,
        'embedding_l2': self.embedding_l2,
        'init_std': self.init_std,
    })
    return config


@keras.utils.register_keras_serializable(package='tenrec')
class FieldEmbedding(_EmbeddingTables):
  """Field embeddings e_1..e_F and the linear logit sum_i w_i[x_i] of a FeatureInfo.

  Every scalar input is one field. A sequence input (the click history) becomes one field or
  one field per position, depending on `history_mode` (see HISTORY_MODES). Fields follow the
  order of `feature_info.features`.

  Input: a dict of int64 index tensors, [batch] for scalar inputs and [batch, L] for
  sequences. Output: fields [batch, F, d], plus the linear logit [batch, 1] when `use_linear`
  (then the layer returns the tuple (fields, linear_logit)).

  Example:

    info = FeatureInfo(
        features=(CategoricalFeature('user_id', 10), CategoricalFeature('item_id', 20),
                  CategoricalFeature('hist_item_ids', 20, length=3, vocabulary='item_id')),
        labels=('click',))
    fields, linear = FieldEmbedding(info, 8)({
        'user_id': tf.constant([1, 2], tf.int64),
        'item_id': tf.constant([3, 4], tf.int64),
        'hist_item_ids': tf.constant([[0, 5, 6], [0, 0, 7]], tf.int64)})
    # fields: [2, 3, 8] (user, item, pooled history); linear: [2, 1]

  Args:
    feature_info: The task's FeatureInfo (or its feature_info_to_config dict).
    embedding_dim: d.
    history_mode: One of HISTORY_MODES.
    history_pooling: 'mean' or 'sum', for history_mode 'pooled'.
    use_linear: Whether to create the linear part (one scalar weight per index).
    embedding_l2: L2 strength on the embedding tables (lambda * sum of squares of the whole
      table, as weight decay).
    linear_l2: L2 strength on the linear weights.
    init_std: Standard deviation of the N(0, std) initialisation of all tables.
  """

  def __init__(self,
               feature_info,
               embedding_dim: int,
               history_mode: str = 'pooled',
               history_pooling: str = 'mean',
               use_linear: bool = True,
               embedding_l2: float = 0.0,
               linear_l2: float = 0.0,
               init_std: float = 1e-4,
               **kwargs):
    super().__init__(feature_info, embedding_dim, embedding_l2, init_std, **kwargs)
    self.history_mode = checks.choice('history_mode', history_mode, HISTORY_MODES)
    self.history_pooling = checks.choice('history_pooling', history_pooling,
                                         HISTORY_POOLINGS)
    self.use_linear = checks.boolean('use_linear', use_linear)
    self.linear_l2 = checks.non_negative_float('linear_l2', linear_l2)

  @property
  def num_fields(self) -> int:
    """F, the number of fields in the output."""
    count = 0
    for feature in self.feature_info.features:
      if feature.is_sequence and self.history_mode != 'pooled':
        count += feature.length
      else:
        count += 1
    return count

  def _slot_key(self, feature: features_lib.CategoricalFeature, slot: int) -> str:
    return f'{feature.name}_{slot + 1}'

  def build(self, input_shape):
    separate = self.history_mode == 'reference_separate_fields'
    shared_vocabularies = {
        f.vocabulary_name for f in self.feature_info.features if not (separate and f.is_sequence)}
    for vocabulary in sorted(shared_vocabularies):
      self._add_table(vocabulary, self.vocab_sizes[vocabulary], self.embedding_l2)
      if self.use_linear:
        self._add_table(vocabulary, self.vocab_sizes[vocabulary], self.linear_l2, linear=True)

    if separate:
      for feature in self.feature_info.sequence_features:
        for slot in range(feature.length):
          key = self._slot_key(feature, slot)
          self._add_table(key, feature.vocab_size, self.embedding_l2)
          if self.use_linear:
            self._add_table(key, feature.vocab_size, self.linear_l2, linear=True)
    super().build(input_shape)

  def _sequence_fields(self, feature, ids, linear: bool) -> tf.Tensor:
    """Returns the fields of one sequence input: [batch, 1 or L, d or 1]."""
    if self.history_mode == 'reference_separate_fields':
      slots = [self._lookup(self._slot_key(feature, slot), ids[:, slot], linear)
               for slot in range(feature.length)]
      return tf.stack(slots, axis=1)

    embedded = self._lookup(feature.vocabulary_name, ids, linear)
    mask = padding_mask(ids, embedded.dtype)
    if self.history_mode == 'fields':
      return embedded * mask[:, :, None]
    return masked_pool(embedded, mask, self.history_pooling)[:, None, :]

  def call(self, inputs):
    self._check_inputs(inputs)
    fields = []
    linear_terms = []
    for feature in self.feature_info.features:
      ids = inputs[feature.name]
      if feature.is_sequence:
        fields.append(self._sequence_fields(feature, ids, linear=False))
        if self.use_linear:
          linear_terms.append(self._sequence_fields(feature, ids, linear=True))
      else:
        fields.append(self._lookup(feature.vocabulary_name, ids)[:, None, :])
        if self.use_linear:
          linear_terms.append(self._lookup(feature.vocabulary_name, ids, linear=True)[:, None, :])

    field_matrix = tf.concat(fields, axis=1)
    if not self.use_linear:
      return field_matrix
    linear_logit = tf.reduce_sum(tf.concat(linear_terms, axis=1), axis=1)
    return field_matrix, linear_logit

  def get_config(self):
    config = super().get_config()
    config.update({
        'history_mode': self.history_mode,
        'history_pooling': self.history_pooling,
        'use_linear': self.use_linear,
        'linear_l2': self.linear_l2,
    })
    return config


@keras.utils.register_keras_serializable(package='tenrec')
class BehaviourEmbedding(_EmbeddingTables):
  """Embeds the inputs of DIN-style models: fields, query item, behaviour sequence, mask.

  The behaviour sequence is the sequence input named `behaviour_feature`; the query is the
  scalar input that shares its vocabulary (`item_id` for `hist_item_ids`). Every scalar input
  is a field; any other sequence input is one field, the masked mean of its rows.

  Input: a dict of int64 index tensors as for FieldEmbedding. Output: a dict with
  'fields' [batch, F, d], 'query' [batch, d], 'keys' [batch, L, d] and 'mask' [batch, L].
  The mask is 1.0 for real items and 0.0 for padding, and all ones in the
  'reference_separate_table' mode.

  Example:

    outputs = BehaviourEmbedding(info, 8)(inputs)  # info, inputs as for FieldEmbedding
    outputs['keys']  # [2, 3, 8], rows of the item_id table

  Args:
    feature_info: The task's FeatureInfo (or its feature_info_to_config dict).
    embedding_dim: d.
    behaviour_feature: Name of the sequence input; None picks the only sequence input.
    behaviour_mode: One of BEHAVIOUR_MODES.
    embedding_l2: L2 strength on the embedding tables.
    init_std: Standard deviation of the N(0, std) initialisation of all tables.
  """

  def __init__(self,
               feature_info,
               embedding_dim: int,
               behaviour_feature: Optional[str] = None,
               behaviour_mode: str = 'sequence',
               embedding_l2: float = 0.0,
               init_std: float = 1e-4,
               **kwargs):
    super().__init__(feature_info, embedding_dim, embedding_l2, init_std, **kwargs)
    self.behaviour_mode = checks.choice('behaviour_mode', behaviour_mode, BEHAVIOUR_MODES)
    sequences = self.feature_info.sequence_features
    if behaviour_feature is None:
      if len(sequences) != 1:
        raise ValueError(
            f'Cannot pick the behaviour sequence: expected exactly one sequence input, got '
            f'{[f.name for f in sequences]}; pass behaviour_feature.')
      behaviour_feature = sequences[0].name
    self.behaviour_feature = behaviour_feature
    behaviour = self.feature_info.feature(behaviour_feature)
    if not behaviour.is_sequence:
      raise ValueError(f'behaviour_feature {behaviour_feature!r} is a scalar input; it must be '
                       f'a sequence input such as hist_item_ids.')
    queries = [f for f in self.feature_info.scalar_features
               if f.vocabulary_name == behaviour.vocabulary_name]
    if not queries:
      raise ValueError(
          f'No scalar input shares vocabulary {behaviour.vocabulary_name!r} with '
          f'{behaviour_feature!r}, so there is no query item for attention.')
    self.query_feature = queries[0].name

  def build(self, input_shape):
    separate = self.behaviour_mode == 'reference_separate_table'
    for vocabulary in sorted({
        f.vocabulary_name for f in self.feature_info.features
        if not (separate and f.name == self.behaviour_feature)}):
      self._add_table(vocabulary, self.vocab_sizes[vocabulary], self.embedding_l2)
    if separate:
      self._add_table(self.behaviour_feature,
                      self.feature_info.feature(self.behaviour_feature).vocab_size,
                      self.embedding_l2)
    super().build(input_shape)

  def call(self, inputs):
    self._check_inputs(inputs)
    fields = []
    for feature in self.feature_info.features:
      if feature.name == self.behaviour_feature:
        continue
      ids = inputs[feature.name]
      embedded = self._lookup(feature.vocabulary_name, ids)
      if feature.is_sequence:
        embedded = masked_pool(embedded, padding_mask(ids, embedded.dtype))
      fields.append(embedded[:, None, :])

    behaviour_ids = inputs[self.behaviour_feature]
    if self.behaviour_mode == 'reference_separate_table':
      keys = self._lookup(self.behaviour_feature, behaviour_ids)
      mask = tf.ones_like(behaviour_ids, dtype=keys.dtype)
    else:
      keys = self._lookup(self.feature_info.feature(self.behaviour_feature).vocabulary_name,
                          behaviour_ids)
      mask = padding_mask(behaviour_ids, keys.dtype)

    query_feature = self.feature_info.feature(self.query_feature)
    return {
        'fields': tf.concat(fields, axis=1),
        'query': self._lookup(query_feature.vocabulary_name, inputs[self.query_feature]),
        'keys': keys,
        'mask': mask,
    }

  def get_config(self):
    config = super().get_config()
    config.update({
        'behaviour_feature': self.behaviour_feature,
        'behaviour_mode': self.behaviour_mode,
    })
    return config
