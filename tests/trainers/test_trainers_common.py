"""Tests of models.trainers.common: TFRecord input pipeline, best-epoch selection, JSON output."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras as keras

from models.trainers import common


def _write_examples(path, rows):
  with tf.io.TFRecordWriter(str(path), options='GZIP') as writer:
    for user, hist, click in rows:
      example = tf.train.Example(features=tf.train.Features(feature={
          'user_id': tf.train.Feature(int64_list=tf.train.Int64List(value=[user])),
          'hist': tf.train.Feature(int64_list=tf.train.Int64List(value=hist)),
          'click': tf.train.Feature(int64_list=tf.train.Int64List(value=[click])),
      }))
      writer.write(example.SerializeToString())


_SPEC = {
    'user_id': tf.io.FixedLenFeature([], tf.int64),
    'hist': tf.io.FixedLenFeature([2], tf.int64),
    'click': tf.io.FixedLenFeature([], tf.int64),
}


@pytest.fixture
def files(tmp_path):
  first = tmp_path / 'a.gz'
  second = tmp_path / 'b.gz'
  _write_examples(first, [(1, [0, 5], 1), (2, [5, 6], 0), (3, [0, 0], 1)])
  _write_examples(second, [(4, [7, 8], 0)])
  return [str(first), str(second)]


def test_count_records(files):
  assert common.count_records(files) == 4


def test_expand_patterns_directory(files, tmp_path):
  assert common.expand_file_patterns([str(tmp_path)]) == sorted(files)


def test_dataset_batches_features_and_labels(files):
  dataset = common.make_example_dataset(files, _SPEC, ['click'], batch_size=3, shuffle=False,
                                        seed=0)
  batches = list(dataset.as_numpy_iterator())
  assert [len(b[0]['user_id']) for b in batches] == [3, 1]
  features = {k: np.concatenate([b[0][k] for b in batches]) for k in batches[0][0]}
  labels = np.concatenate([b[1]['click'] for b in batches])
  assert sorted(features) == ['hist', 'user_id']
  order = np.argsort(features['user_id'])
  assert features['user_id'][order].tolist() == [1, 2, 3, 4]
  assert features['hist'][order].tolist() == [[0, 5], [5, 6], [0, 0], [7, 8]]
  assert labels.dtype == np.float32
  assert labels[order].tolist() == [[1.0], [0.0], [1.0], [0.0]]


def test_dataset_shuffle_is_seeded(files):
  def users(seed):
    dataset = common.make_example_dataset(files, _SPEC, ['click'], batch_size=4, shuffle=True,
                                          seed=seed)
    return next(iter(dataset))[0]['user_id'].numpy().tolist()

  assert users(1) == users(1)
  assert sorted(users(1)) == [1, 2, 3, 4]


def test_dataset_needs_files():
  with pytest.raises(ValueError, match='No TFRecord files'):
    common.make_example_dataset([], _SPEC, ['click'], 2, False, 0)


def test_best_epoch_restores_best_weights():
  model = keras.Sequential([keras.layers.Dense(1, input_shape=(1,))])
  callback = common.BestEpochCallback(monitor='val_auc', mode='max')
  callback.set_model(model)
  values = [0.6, 0.8, 0.7]
  weights_at_best = None
  for epoch, value in enumerate(values):
    callback.on_epoch_begin(epoch)
    model.layers[0].kernel.assign([[float(epoch)]])
    callback.on_test_begin()
    callback.on_epoch_end(epoch, {'val_auc': value})
    if value == max(values):
      weights_at_best = model.get_weights()
  callback.on_train_end()
  assert callback.best_epoch == 2
  assert callback.best_value == pytest.approx(0.8)
  np.testing.assert_array_equal(model.get_weights()[0], weights_at_best[0])
  assert len(callback.train_seconds) == 3


def test_best_epoch_min_mode():
  callback = common.BestEpochCallback(monitor='val_loss', mode='min')
  callback.set_model(keras.Sequential([keras.layers.Dense(1, input_shape=(1,))]))
  for epoch, value in enumerate([0.5, 0.4, 0.45]):
    callback.on_epoch_begin(epoch)
    callback.on_epoch_end(epoch, {'val_loss': value})
  assert callback.best_epoch == 2


def test_best_epoch_rejects_mode():
  with pytest.raises(ValueError, match="'median'"):
    common.BestEpochCallback('val_auc', mode='median')


def test_find_metric_key_single_and_multi_output():
  assert common.find_metric_key({'val_auc': [0.5]}, 'click', 'auc') == 'val_auc'
  assert common.find_metric_key({'val_like_auc': [0.5]}, 'like', 'auc') == 'val_like_auc'
  with pytest.raises(KeyError, match='auc'):
    common.find_metric_key({'val_loss': [1.0]}, 'click', 'auc')


def test_write_and_read_json(tmp_path):
  path = str(tmp_path / 'sub' / 'summary.json')
  common.write_json(path, {'count': np.int64(3), 'rate': np.float32(0.5),
                           'values': np.arange(2)})
  assert common.read_json(path) == {'count': 3, 'rate': 0.5, 'values': [0, 1]}


def test_best_epoch_patience_stops_training():
  model = keras.Sequential([keras.layers.Dense(1, input_shape=(1,))])
  callback = common.BestEpochCallback(monitor='val_auc', mode='max', patience=2)
  callback.set_model(model)
  for epoch, value in enumerate([0.7, 0.6, 0.65]):
    callback.on_epoch_begin(epoch)
    callback.on_epoch_end(epoch, {'val_auc': value})
  assert callback.stopped_early
  assert model.stop_training
  assert callback.best_epoch == 1


def test_best_epoch_rejects_negative_patience():
  with pytest.raises(ValueError, match='-1'):
    common.BestEpochCallback('val_auc', patience=-1)


# ----- shuffling and the in-memory cache -----


@pytest.fixture
def numbered_files(tmp_path):
  """Three files with users 0..36, 100..136 and 200..236; click = user % 2."""
  paths = []
  for index in range(3):
    path = tmp_path / f'part-{index}.gz'
    _write_examples(path, [(user, [user, user + 1], user % 2)
                           for user in range(100 * index, 100 * index + 37)])
    paths.append(str(path))
  return paths


_ALL_USERS = sorted(list(range(37)) + list(range(100, 137)) + list(range(200, 237)))


def _epochs(dataset, count):
  """User ids of `count` passes over `dataset`, one array per pass."""
  return [np.concatenate([features['user_id'].numpy() for features, _ in dataset])
          for _ in range(count)]


@pytest.mark.parametrize('cache', [False, True])
def test_shuffled_epoch_covers_every_example_once(numbered_files, cache):
  dataset = common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                        shuffle=True, seed=5, shuffle_buffer=20, cache=cache)
  for users in _epochs(dataset, 2):
    assert sorted(users.tolist()) == _ALL_USERS


@pytest.mark.parametrize('cache', [False, True])
def test_shuffled_epochs_differ(numbered_files, cache):
  dataset = common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                        shuffle=True, seed=5, shuffle_buffer=20, cache=cache)
  first, second = _epochs(dataset, 2)
  assert first.tolist() != second.tolist()


@pytest.mark.parametrize('cache', [False, True])
def test_shuffled_epochs_repeat_with_seed(numbered_files, cache):
  def make():
    return common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                       shuffle=True, seed=5, shuffle_buffer=20, cache=cache)

  first_run = _epochs(make(), 2)
  second_run = _epochs(make(), 2)
  assert [e.tolist() for e in first_run] == [e.tolist() for e in second_run]


@pytest.mark.parametrize('cache', [False, True])
def test_only_last_batch_is_partial(numbered_files, cache):
  dataset = common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                        shuffle=True, seed=5, shuffle_buffer=20, cache=cache)
  sizes = [len(features['user_id']) for features, _ in dataset]
  assert sizes == [8] * 13 + [7]


@pytest.mark.parametrize('cache', [False, True])
def test_shuffled_labels_follow_their_features(numbered_files, cache):
  dataset = common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                        shuffle=True, seed=5, shuffle_buffer=20, cache=cache)
  for features, labels in dataset:
    users = features['user_id'].numpy()
    np.testing.assert_array_equal(labels['click'].numpy()[:, 0], users % 2)
    np.testing.assert_array_equal(features['hist'].numpy()[:, 1], users + 1)


def test_cached_unshuffled_order_matches_streamed(numbered_files):
  streamed = common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                         shuffle=False, seed=0)
  cached = common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                       shuffle=False, seed=0, cache=True)
  assert _epochs(cached, 1)[0].tolist() == _epochs(streamed, 1)[0].tolist()


def test_cached_batches_have_label_dtype_and_shape(numbered_files):
  dataset = common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                        shuffle=True, seed=5, cache=True)
  features, labels = next(iter(dataset))
  assert sorted(features) == ['hist', 'user_id']
  assert labels['click'].dtype == tf.float32
  assert labels['click'].shape == (8, 1)


def test_dataset_rejects_batch_size(files):
  with pytest.raises(ValueError, match='batch_size must be at least 1, got 0'):
    common.make_example_dataset(files, _SPEC, ['click'], 0, False, 0)


def test_dataset_rejects_shuffle_buffer(files):
  with pytest.raises(ValueError, match='shuffle_buffer must be at least 1, got 0'):
    common.make_example_dataset(files, _SPEC, ['click'], 2, True, 0, shuffle_buffer=0)


def test_parsed_example_bytes():
  # user_id 1 x 8 + hist 2 x 8 + click 1 x 8.
  assert common.parsed_example_bytes(_SPEC) == 32


def test_parsed_example_bytes_rejects_varlen():
  with pytest.raises(ValueError, match="'tags' is a VarLenFeature"):
    common.parsed_example_bytes({'tags': tf.io.VarLenFeature(tf.int64)})


def test_resolve_cache_explicit():
  assert common.resolve_cache(True, 10**12, _SPEC)
  assert not common.resolve_cache(False, 1, _SPEC)


def test_resolve_cache_auto_budget():
  assert common.resolve_cache('auto', 100, _SPEC, budget_bytes=3200)
  assert not common.resolve_cache('auto', 101, _SPEC, budget_bytes=3200)


def test_resolve_cache_rejects_value():
  with pytest.raises(ValueError, match="'always'"):
    common.resolve_cache('always', 1, _SPEC)


def test_steps_per_epoch_counts_partial_batch():
  assert common.steps_per_epoch(111, 8) == 14
  assert common.steps_per_epoch(112, 8) == 14


def test_steps_per_epoch_rejects_empty_split():
  with pytest.raises(ValueError, match='no examples'):
    common.steps_per_epoch(0, 8)


@pytest.mark.parametrize('cache', [False, True])
def test_repeated_dataset_matches_epochs(numbered_files, cache):
  def make():
    return common.make_example_dataset(numbered_files, _SPEC, ['click'], batch_size=8,
                                       shuffle=True, seed=5, shuffle_buffer=20, cache=cache)

  steps = common.steps_per_epoch(len(_ALL_USERS), 8)
  iterator = iter(make().repeat())
  repeated = [np.concatenate([next(iterator)[0]['user_id'].numpy() for _ in range(steps)])
              for _ in range(2)]
  assert [e.tolist() for e in repeated] == [e.tolist() for e in _epochs(make(), 2)]
