"""Input pipelines, callbacks and summaries shared by the TFX trainers."""

import json
import os
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

TRAINING_SUMMARY_FILE = 'training_summary.json'


def expand_file_patterns(patterns: Sequence[str]) -> List[str]:
  """Returns the sorted files matching TFX file patterns (a directory means all files in it)."""
  files = []
  for pattern in patterns:
    if tf.io.gfile.isdir(pattern):
      pattern = os.path.join(pattern, '*')
    files.extend(tf.io.gfile.glob(pattern))
  return sorted(files)


def count_records(files: Sequence[str]) -> int:
  """Counts the records of gzip TFRecord files."""
  dataset = tf.data.TFRecordDataset(list(files), compression_type='GZIP',
                                    num_parallel_reads=tf.data.AUTOTUNE)
  return int(dataset.reduce(np.int64(0), lambda count, _: count + 1).numpy())


# Default memory budget of `cache='auto'`: parsed training examples are kept in memory when
# their int64/float32 tensors fit in this many bytes.
DEFAULT_CACHE_BUDGET_BYTES = 2 << 30


def parsed_example_bytes(feature_spec: Mapping[str, Any]) -> int:
  """Returns the bytes one parsed example takes in memory (fixed-length features only).

  Example: {'user_id': FixedLenFeature([], tf.int64), 'hist': FixedLenFeature([10], tf.int64)}
  gives (1 + 10) * 8 = 88.
  """
  total = 0
  for name, feature in feature_spec.items():
    if not isinstance(feature, tf.io.FixedLenFeature):
      raise ValueError(f'Feature {name!r} is a {type(feature).__name__}; only FixedLenFeature '
                       'inputs can be cached in memory.')
    total += int(np.prod(feature.shape or [1], dtype=np.int64)) * feature.dtype.size
  return total


def resolve_cache(cache: Any, num_examples: int, feature_spec: Mapping[str, Any],
                  budget_bytes: int = DEFAULT_CACHE_BUDGET_BYTES) -> bool:
  """Decides whether to keep the parsed examples in memory.

  Args:
    cache: True, False, or 'auto' (cache when num_examples parsed examples fit in
      `budget_bytes`).
    num_examples: Examples in the split.
    feature_spec: Parsing spec of the split.
    budget_bytes: Memory budget of 'auto'.

  Raises:
    ValueError: `cache` is not one of True, False, 'auto'.
  """
  if isinstance(cache, bool):
    return cache
  if cache != 'auto':
    raise ValueError(f"cache must be True, False or 'auto', got {cache!r}.")
  return num_examples * parsed_example_bytes(feature_spec) <= budget_bytes


def steps_per_epoch(num_examples: int, batch_size: int) -> int:
  """Returns the batches of one pass over `num_examples` examples (the last may be partial).

  Training on `dataset.repeat()` with this many steps per epoch keeps one iterator for the
  whole fit. The input pipeline then prepares the next epoch's first batches during validation
  instead of starting again at every epoch. Each repetition is a new shuffle.

  Raises:
    ValueError: No examples, or a batch size below 1.
  """
  if num_examples < 1:
    raise ValueError(f'The training split has no examples ({num_examples}); check the '
                     'examples artifact.')
  if batch_size < 1:
    raise ValueError(f'batch_size must be at least 1, got {batch_size}.')
  return -(-num_examples // batch_size)


def make_example_dataset(files: Sequence[str],
                         feature_spec: Mapping[str, Any],
                         label_keys: Sequence[str],
                         batch_size: int,
                         shuffle: bool,
                         seed: int,
                         shuffle_buffer: int = 100_000,
                         cache: bool = False,
                         drop_labels_from_features: bool = True) -> tf.data.Dataset:
  """Reads gzip TFRecord tf.Example files into batches of (features, labels).

  Every step works on whole batches or windows, never on single records, because tf.data
  spends a few microseconds per element and operation, which is as much as a small CTR model
  spends per example on a training step:

  * Streaming (`cache=False`): the records are read in windows of `shuffle_buffer` records
    (rounded up to a multiple of `batch_size`). A shuffled window is permuted as a whole with a
    seeded stateless shuffle and cut into batches, which are parsed with one vectorised
    `parse_example` each. Files are shuffled too, so every epoch has a new order of files and
    of the records inside each window. A window is a full permutation of `shuffle_buffer`
    consecutive records, where `tf.data.Dataset.shuffle` would draw from a sliding buffer of
    that size.
  * Cached (`cache=True`): all examples are parsed once, when the dataset is created, and
    kept in memory as one tensor per feature. Each epoch draws a new permutation of all
    examples and gathers the batches from it, as `model.fit` does with NumPy arrays. The memory
    is examples x `parsed_example_bytes(feature_spec)`; see `resolve_cache`.

  Both orders are deterministic for a given seed and change from epoch to epoch (each
  iteration of the dataset is one epoch). Without `shuffle`, batches follow the file order.

  Args:
    files: TFRecord files.
    feature_spec: Parsing spec (for example `transformed_feature_spec()`).
    label_keys: Features returned as the label dictionary.
    batch_size: Examples per batch.
    shuffle: Shuffle files and records (training); evaluation keeps file order.
    seed: Shuffle seed.
    shuffle_buffer: Records per shuffle window (streaming only).
    cache: Parse the examples once and keep them in memory.
    drop_labels_from_features: Remove the labels from the feature dictionary.

  Raises:
    ValueError: No files, or a batch size or shuffle buffer below 1.
  """
  if not files:
    raise ValueError('No TFRecord files to read; check the examples artifact.')
  if batch_size < 1:
    raise ValueError(f'batch_size must be at least 1, got {batch_size}.')
  if shuffle_buffer < 1:
    raise ValueError(f'shuffle_buffer must be at least 1, got {shuffle_buffer}.')

  if cache:
    return _in_memory_dataset(files, feature_spec, label_keys, batch_size, shuffle, seed,
                              drop_labels_from_features)

  def parse(serialized):
    features = tf.io.parse_example(serialized, feature_spec)
    return _split_labels(features, label_keys, drop_labels_from_features)

  file_dataset = tf.data.Dataset.from_tensor_slices(list(files))
  if shuffle:
    file_dataset = file_dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
  records = file_dataset.interleave(
      lambda path: tf.data.TFRecordDataset(path, compression_type='GZIP'),
      cycle_length=min(len(files), 4), num_parallel_calls=tf.data.AUTOTUNE,
      deterministic=True)
  if shuffle:
    window = -(-shuffle_buffer // batch_size) * batch_size
    window_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True)
    batches = tf.data.Dataset.zip((records.batch(window), window_seeds)).flat_map(
        lambda records, window_seed: _permuted_batches(records, window_seed, seed,
                                                       batch_size))
  else:
    batches = records.batch(batch_size)
  dataset = batches.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  return dataset.prefetch(tf.data.AUTOTUNE)


def _split_labels(features, label_keys, drop_labels_from_features):
  labels = {key: tf.cast(tf.reshape(features[key], [-1, 1]), tf.float32) for key in label_keys}
  if drop_labels_from_features:
    features = {k: v for k, v in features.items() if k not in label_keys}
  return features, labels


def _permutation(size, stream_seed, seed):
  """Returns a seeded permutation of range(size) from a per-iteration random stream value."""
  return tf.random.experimental.stateless_shuffle(
      tf.range(size, dtype=tf.int64), seed=tf.stack([stream_seed, tf.constant(seed, tf.int64)]))


def _permuted_batches(records, window_seed, seed, batch_size):
  """Permutes one window of records and cuts it into batches."""
  size = tf.shape(records, out_type=tf.int64)[0]
  shuffled = tf.gather(records, _permutation(size, window_seed, seed))
  return tf.data.Dataset.range((size + batch_size - 1) // batch_size).map(
      lambda i: shuffled[i * batch_size:(i + 1) * batch_size])


def _in_memory_dataset(files, feature_spec, label_keys, batch_size, shuffle, seed,
                       drop_labels_from_features):
  """Parses all examples once; each epoch gathers batches by a new permutation."""
  parsed = make_example_dataset(files, feature_spec, [], batch_size=max(batch_size, 65536),
                                shuffle=False, seed=seed, cache=False,
                                drop_labels_from_features=False)
  chunks: Dict[str, List[tf.Tensor]] = {name: [] for name in feature_spec}
  for features, _ in parsed:
    for name, value in features.items():
      chunks[name].append(value)
  tensors = {name: tf.concat(values, axis=0) for name, values in chunks.items()}
  size = int(next(iter(tensors.values())).shape[0])
  num_batches = -(-size // batch_size)

  def epoch(stream_seed):
    indices = (_permutation(size, stream_seed, seed) if shuffle
               else tf.range(size, dtype=tf.int64))
    return tf.data.Dataset.range(num_batches).map(
        lambda batch: indices[batch * batch_size:(batch + 1) * batch_size])

  def gather(indices):
    return _split_labels({name: tf.gather(value, indices) for name, value in tensors.items()},
                         label_keys, drop_labels_from_features)

  if shuffle:
    epoch_seeds = tf.data.Dataset.random(seed=seed, rerandomize_each_iteration=True).take(1)
  else:
    epoch_seeds = tf.data.Dataset.from_tensors(tf.constant(0, tf.int64))
  batches = epoch_seeds.flat_map(epoch).map(gather, num_parallel_calls=tf.data.AUTOTUNE,
                                            deterministic=True)
  return batches.prefetch(tf.data.AUTOTUNE)


class BestEpochCallback(keras.callbacks.Callback):
  """Tracks the best epoch of a validation metric and restores its weights at the end.

  Also records the wall-clock seconds spent in the training part of each epoch (excluding
  validation) for throughput figures. With `patience` > 0, training stops once that many
  epochs have passed without improvement.
  """

  def __init__(self, monitor: str, mode: str = 'max', patience: int = 0):
    super().__init__()
    if mode not in ('max', 'min'):
      raise ValueError(f"mode must be 'max' or 'min', got {mode!r}.")
    if patience < 0:
      raise ValueError(f'patience must be non-negative, got {patience}.')
    self.monitor = monitor
    self.mode = mode
    self.patience = patience
    self.stopped_early = False
    self.best_value: Optional[float] = None
    self.best_epoch: Optional[int] = None
    self.train_seconds: List[float] = []
    self._best_weights = None
    self._epoch_start = 0.0
    self._train_end: Optional[float] = None

  def on_epoch_begin(self, epoch, logs=None):
    self._epoch_start = time.perf_counter()
    self._train_end = None

  def on_test_begin(self, logs=None):
    if self._train_end is None:
      self._train_end = time.perf_counter()

  def on_epoch_end(self, epoch, logs=None):
    end = self._train_end if self._train_end is not None else time.perf_counter()
    self.train_seconds.append(end - self._epoch_start)
    value = (logs or {}).get(self.monitor)
    if value is None:
      return
    better = (self.best_value is None or
              (value > self.best_value if self.mode == 'max' else value < self.best_value))
    if better:
      self.best_value = float(value)
      self.best_epoch = epoch + 1
      self._best_weights = self.model.get_weights()
    elif self.patience and epoch + 1 - self.best_epoch >= self.patience:
      self.stopped_early = True
      self.model.stop_training = True

  def on_train_end(self, logs=None):
    if self._best_weights is not None:
      self.model.set_weights(self._best_weights)


def find_metric_key(history: Mapping[str, Any], label: str, metric: str) -> str:
  """Returns the Keras history key of a validation metric of one output.

  Keras prefixes metric names with the output name only for multi-output models.
  """
  candidates = [f'val_{label}_{metric}', f'val_{metric}']
  for key in candidates:
    if key in history:
      return key
  raise KeyError(f'No validation metric {metric!r} for output {label!r} in {sorted(history)}.')


def write_json(path: str, payload: Mapping[str, Any]) -> None:
  """Writes a JSON file on any TensorFlow file system."""
  tf.io.gfile.makedirs(os.path.dirname(path))
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps(payload, indent=2, sort_keys=True, default=_to_builtin))


def read_json(path: str) -> Dict[str, Any]:
  with tf.io.gfile.GFile(path) as f:
    return json.loads(f.read())


def _to_builtin(value):
  if isinstance(value, (np.integer,)):
    return int(value)
  if isinstance(value, (np.floating,)):
    return float(value)
  if hasattr(value, 'tolist'):
    return value.tolist()
  raise TypeError(f'Object of type {type(value).__name__} is not JSON serializable.')
