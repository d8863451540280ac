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
