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

  Records are batched before parsing (one vectorised `parse_example` per batch), decoded by
  parallel readers and prefetched, so that the input pipeline keeps up with training.

  Args:
    files: TFRecord files.
    feature_spec: Parsing spec (for example `transformed_feature_spec()`).
    label_keys: Features returned as the label dictionary.
    batch_size: Examples per batch.
    shuffle: Shuffle files and records (training); evaluation keeps file order.
    seed: Shuffle seed.
    shuffle_buffer: Records in the shuffle buffer.
    cache: Keep the parsed batches in memory after the first pass.
    drop_labels_from_features: Remove the labels from the feature dictionary.
  """
  if not files:
    raise ValueError('No TFRecord files to read; check the examples artifact.')
  file_dataset = tf.data.Dataset.from_tensor_slices(list(files))
  if shuffle:
    file_dataset = file_dataset.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
  records = file_dataset.interleave(
      lambda path: tf.data.TFRecordDataset(path, compression_type='GZIP'),
      cycle_length=min(len(files), 4), num_parallel_calls=tf.data.AUTOTUNE,
      deterministic=True)
  if shuffle:
    records = records.shuffle(shuffle_buffer, seed=seed, reshuffle_each_iteration=True)
  batches = records.batch(batch_size)

  def parse(serialized):
    features = tf.io.parse_example(serialized, feature_spec)
    labels = {key: tf.cast(tf.reshape(features[key], [-1, 1]), tf.float32) for key in label_keys}
    if drop_labels_from_features:
      features = {k: v for k, v in features.items() if k not in label_keys}
    return features, labels

  dataset = batches.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=True)
  if cache:
    dataset = dataset.cache()
  return dataset.prefetch(tf.data.AUTOTUNE)


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
