"""Tests of models.preprocessing.ctr: index conventions of the CTR Transform step."""

import apache_beam as beam
import numpy as np
import pytest
import tensorflow as tf
import tensorflow_transform as tft
import tensorflow_transform.beam as tft_beam
from tensorflow_transform.tf_metadata import dataset_metadata
from tensorflow_transform.tf_metadata import schema_utils

from models.preprocessing import ctr

_SPEC = {
    'user_id': tf.io.FixedLenFeature([], tf.int64),
    'item_id': tf.io.FixedLenFeature([], tf.int64),
    'video_category': tf.io.FixedLenFeature([], tf.int64),
    'gender': tf.io.FixedLenFeature([], tf.int64),
    'age': tf.io.FixedLenFeature([], tf.int64),
    'hist_item_ids': tf.io.FixedLenFeature([3], tf.int64),
    'click': tf.io.FixedLenFeature([], tf.int64),
}


def _row(user, item, category, history, click):
  return {'user_id': user, 'item_id': item, 'video_category': category, 'gender': 1, 'age': 2,
          'hist_item_ids': history, 'click': click}


TRAIN = [
    _row(1, 10, 0, [-1, -1, -1], 1),
    _row(1, 11, -1, [-1, -1, 10], 0),
    _row(2, 10, 1, [-1, 12, 10], 1),
]
TEST = [_row(3, 99, 0, [-1, 98, 10], 0)]


def _tensors(rows):
  return {name: tf.constant([r[name] for r in rows], dtype=tf.int64) for name in _SPEC}


def _rows(tensors):
  columns = {name: value.numpy() for name, value in tensors.items()}
  count = len(next(iter(columns.values())))
  return [{name: values[i] for name, values in columns.items()} for i in range(count)]


@pytest.fixture(scope='module')
def transformed(tmp_path_factory):
  temp_dir = str(tmp_path_factory.mktemp('tft'))
  metadata = dataset_metadata.DatasetMetadata(schema_utils.schema_from_feature_spec(_SPEC))
  with beam.Pipeline(runner='FnApiRunner') as pipeline:
    with tft_beam.Context(temp_dir=temp_dir, force_tf_compat_v1=False):
      train = pipeline | 'Train' >> beam.Create(TRAIN)
      transform_fn = (train, metadata) | tft_beam.AnalyzeDataset(ctr.preprocessing_fn)
      _ = transform_fn | tft_beam.WriteTransformFn(temp_dir)
  output = tft.TFTransformOutput(temp_dir)
  return {'train': _rows(output.transform_raw_features(_tensors(TRAIN))),
          'test': _rows(output.transform_raw_features(_tensors(TEST))),
          'output': output}


def _item_index(output, raw_item):
  vocabulary = output.vocabulary_by_name(ctr.vocabulary_name('item_id'))
  return [int(v) for v in vocabulary].index(raw_item) + 1


def test_item_vocabulary_includes_history_items(transformed):
  vocabulary = [int(v) for v in transformed['output'].vocabulary_by_name('item_id_vocabulary')]
  assert sorted(vocabulary) == [10, 11, 12]
  assert vocabulary[0] == 10  # most frequent first


def test_history_padding_is_zero(transformed):
  first = sorted(transformed['train'], key=lambda r: (r['user_id'], r['item_id']))[0]
  assert list(first['hist_item_ids']) == [0, 0, 0]


def test_history_shares_item_indices(transformed):
  output = transformed['output']
  row = [r for r in transformed['train'] if list(r['hist_item_ids'])[0] == 0 and
         list(r['hist_item_ids'])[1] != 0][0]
  assert list(row['hist_item_ids']) == [0, _item_index(output, 12), _item_index(output, 10)]


def test_unseen_ids_map_to_out_of_vocabulary(transformed):
  row = transformed['test'][0]
  items = transformed['output'].vocabulary_size_by_name('item_id_vocabulary')
  users = transformed['output'].vocabulary_size_by_name('user_id_vocabulary')
  assert row['item_id'] == items + 1
  assert row['user_id'] == users + 1
  assert list(row['hist_item_ids'])[1] == items + 1


def test_missing_category_is_a_category(transformed):
  vocabulary = [int(v) for v in
                transformed['output'].vocabulary_by_name('video_category_vocabulary')]
  assert -1 in vocabulary


def test_labels_pass_through(transformed):
  assert sorted(r['click'] for r in transformed['train']) == [0, 1, 1]


def test_feature_info_sizes(transformed):
  info = ctr.feature_info(transformed['output'], labels=['click'])
  assert info.feature('item_id').vocab_size == 3 + 2
  assert info.feature('hist_item_ids').length == 3
  assert info.feature('hist_item_ids').vocabulary_name == 'item_id'
  assert info.feature('gender').vocab_size == 1 + 2
  assert info.labels == ('click',)
  assert np.all([f.vocab_size >= 3 for f in info.features])
