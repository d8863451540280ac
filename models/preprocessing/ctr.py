"""Transform step of the CTR and multi-task pipelines: raw ids to embedding indices.

Every categorical feature gets a vocabulary computed on the training split only (so ids first
seen in eval or test are out of vocabulary, as they would be in production). Indices follow the
project convention: 0 = padding, 1..n = vocabulary entries in decreasing frequency, n + 1 = out
of vocabulary. `hist_item_ids` shares the item vocabulary, which is computed over `item_id` and
the clicked items of the histories.
"""

from typing import Any, Dict, Mapping, Optional, Sequence

import tensorflow as tf
import tensorflow_transform as tft

from models import features as features_lib

SCALAR_FEATURES = ('user_id', 'item_id', 'video_category', 'gender', 'age')
HISTORY_FEATURE = 'hist_item_ids'
HISTORY_VOCABULARY = 'item_id'
LABELS = ('click', 'like', 'share', 'follow')
# Raw value of an empty history slot.
HISTORY_PADDING = -1


def vocabulary_name(feature: str) -> str:
  return f'{feature}_vocabulary'


def preprocessing_fn(inputs: Mapping[str, tf.Tensor],
                     custom_config: Optional[Mapping[str, Any]] = None) -> Dict[str, tf.Tensor]:
  """Maps raw ids to indices and passes the labels through.

  Args:
    inputs: Raw features: the scalar id columns of shape [batch] (or [batch, 1]),
      `hist_item_ids` of shape [batch, L] with -1 padding, and the int64 labels.
    custom_config: Optional {'min_frequency': int}: ids seen fewer times in the training split
      map to the out-of-vocabulary index (default 1, keep every id).

  Returns:
    Indices for every feature (int64; 0 = padding, n + 1 = out of vocabulary) and the labels.
  """
  config = dict(custom_config or {})
  min_frequency = int(config.get('min_frequency', 1))
  threshold = min_frequency if min_frequency > 1 else None
  outputs = {}

  history = tf.cast(_dense(inputs[HISTORY_FEATURE]), tf.int64)
  item_values = tf.concat(
      [tf.reshape(_dense(inputs['item_id']), [-1]),
       tf.boolean_mask(history, history != HISTORY_PADDING)], axis=0)
  item_vocabulary = tft.vocabulary(item_values, vocab_filename=vocabulary_name('item_id'),
                                   frequency_threshold=threshold, store_frequency=False)

  for name in SCALAR_FEATURES:
    values = tf.reshape(_dense(inputs[name]), [-1])
    if name == 'item_id':
      index = tft.apply_vocabulary(values, item_vocabulary, num_oov_buckets=1)
    else:
      index = tft.compute_and_apply_vocabulary(
          values, vocab_filename=vocabulary_name(name), num_oov_buckets=1,
          frequency_threshold=threshold if name == 'user_id' else None)
    outputs[name] = index + 1

  history_index = tft.apply_vocabulary(history, item_vocabulary, num_oov_buckets=1) + 1
  outputs[HISTORY_FEATURE] = tf.where(history == HISTORY_PADDING,
                                      tf.zeros_like(history_index), history_index)

  for label in LABELS:
    if label in inputs:
      outputs[label] = tf.reshape(tf.cast(_dense(inputs[label]), tf.int64), [-1])
  return outputs


def _dense(tensor):
  if isinstance(tensor, tf.SparseTensor):
    return tf.sparse.to_dense(tensor)
  if isinstance(tensor, tf.RaggedTensor):
    return tensor.to_tensor()
  return tensor


def feature_info(tf_transform_output: tft.TFTransformOutput,
                 labels: Sequence[str] = ('click',)) -> features_lib.FeatureInfo:
  """Describes the transformed inputs (vocabulary sizes include padding and out of vocabulary)."""
  feature_spec = tf_transform_output.transformed_feature_spec()
  history_length = int(feature_spec[HISTORY_FEATURE].shape[-1])
  sizes = {
      name: tf_transform_output.vocabulary_size_by_name(vocabulary_name(name)) + 2
      for name in SCALAR_FEATURES
  }
  inputs = [features_lib.CategoricalFeature(name, sizes[name]) for name in SCALAR_FEATURES]
  inputs.append(features_lib.CategoricalFeature(
      HISTORY_FEATURE, sizes[HISTORY_VOCABULARY], length=history_length,
      vocabulary=HISTORY_VOCABULARY))
  return features_lib.FeatureInfo(features=tuple(inputs), labels=tuple(labels))
