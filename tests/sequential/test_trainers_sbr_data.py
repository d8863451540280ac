"""Tests of models.trainers.sbr_data: reading SBR splits and their contract."""

import os
import shutil

import numpy as np
import pytest
import tensorflow as tf

from components.tenrec_io.errors import TenrecInputError
from models.trainers import sbr_data

import sbr_fixture


def _write_records(path, examples, compression='GZIP'):
  os.makedirs(os.path.dirname(path), exist_ok=True)
  with tf.io.TFRecordWriter(path, options=compression) as writer:
    for example in examples:
      writer.write(example)


def _example(**features):
  feature = {name: tf.train.Feature(int64_list=tf.train.Int64List(value=values))
             for name, values in features.items()}
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def test_load_fixture(sbr_examples_dir):
  dataset = sbr_data.load_sbr_dataset(sbr_examples_dir)
  sequences = sbr_fixture.user_sequences()
  assert dataset.num_items == sbr_fixture.NUM_ITEMS
  assert dataset.train.num_users == len(sequences)
  row = int(np.nonzero(dataset.test.user_ids == 1005)[0][0])
  np.testing.assert_array_equal(dataset.test.sequence(row), sequences[1005][:-1])
  assert dataset.test.targets[row] == sequences[1005][-1]


def test_read_uncompressed(tmp_path):
  path = str(tmp_path / 'data.tfrecord')
  _write_records(path, [_example(user_id=[4], item_ids=[1, 2], target_item=[3])],
                 compression='')
  split = sbr_data.read_sequence_split([path], 'eval', num_items=3)
  np.testing.assert_array_equal(split.values, [1, 2])
  np.testing.assert_array_equal(split.targets, [3])


def test_empty_sequences_kept(tmp_path):
  path = str(tmp_path / 'train.gz')
  _write_records(path, [_example(user_id=[1], item_ids=[2]), _example(user_id=[2]),
                        _example(user_id=[3])])
  split = sbr_data.read_sequence_split([path], 'train', num_items=3)
  np.testing.assert_array_equal(split.row_splits, [0, 1, 1, 1])


def test_item_out_of_range(tmp_path):
  path = str(tmp_path / 'train.gz')
  _write_records(path, [_example(user_id=[1], item_ids=[1, 2]),
                        _example(user_id=[2], item_ids=[3, 9])])
  with pytest.raises(TenrecInputError) as raised:
    sbr_data.read_sequence_split([path], 'train', num_items=5)
  message = str(raised.value)
  assert path in message
  assert 'record 2' in message
  assert "'9'" in message
  assert 'item_ids' in message


def test_missing_target(tmp_path):
  path = str(tmp_path / 'eval.gz')
  _write_records(path, [_example(user_id=[1], item_ids=[1, 2])])
  with pytest.raises(TenrecInputError, match='missing target_item'):
    sbr_data.read_sequence_split([path], 'eval', num_items=5)


def test_duplicate_user(tmp_path):
  path = str(tmp_path / 'train.gz')
  _write_records(path, [_example(user_id=[1], item_ids=[1]),
                        _example(user_id=[1], item_ids=[2])])
  with pytest.raises(TenrecInputError, match='user_id 1 occurs 2 times'):
    sbr_data.read_sequence_split([path], 'train')


def test_wrong_feature_type(tmp_path):
  path = str(tmp_path / 'train.gz')
  feature = {'user_id': tf.train.Feature(int64_list=tf.train.Int64List(value=[1])),
             'item_ids': tf.train.Feature(float_list=tf.train.FloatList(value=[1.0]))}
  example = tf.train.Example(features=tf.train.Features(feature=feature))
  _write_records(path, [example.SerializeToString()])
  with pytest.raises(TenrecInputError, match='cannot parse the train split'):
    sbr_data.read_sequence_split([path], 'train')


def test_vocabulary_blank_line(tmp_path):
  path = tmp_path / 'item_vocabulary.txt'
  path.write_text('10\n\n30\n')
  with pytest.raises(TenrecInputError, match='line 2'):
    sbr_data.read_item_vocabulary_size(str(path))


def test_missing_split_folder(tmp_path):
  with pytest.raises(FileNotFoundError, match='Split-train'):
    sbr_data.split_files(str(tmp_path), 'train')


def test_num_items_inferred(tmp_path, sbr_examples_dir):
  copy = str(tmp_path / 'copy')
  shutil.copytree(sbr_examples_dir, copy)
  os.remove(os.path.join(copy, 'item_vocabulary.txt'))
  dataset = sbr_data.load_sbr_dataset(copy)
  expected = max(max(items) for items in sbr_fixture.user_sequences().values())
  assert dataset.num_items == expected


def test_contract_violation_named(tmp_path):
  sequences = {1: list(range(1, 11)), 2: list(range(2, 12))}
  directory = sbr_fixture.write_sbr_dataset(str(tmp_path / 'ok'), sequences, num_items=12,
                                            shards=1)
  test_path = os.path.join(directory, 'Split-test', 'data_tfrecord-00000-of-00001.gz')
  _write_records(test_path, [_example(user_id=[1], item_ids=list(range(1, 10)),
                                      target_item=[10]),
                             _example(user_id=[2], item_ids=list(range(2, 10)) + [5],
                                      target_item=[11])])
  with pytest.raises(TenrecInputError, match='user 2: test item_ids'):
    sbr_data.load_sbr_dataset(directory)


def test_subset_and_drop_last(sbr_examples_dir):
  split = sbr_data.load_sbr_dataset(sbr_examples_dir).test
  subset = split.subset(np.array([3, 0]))
  np.testing.assert_array_equal(subset.sequence(0), split.sequence(3))
  shorter = split.without_last_items(1)
  np.testing.assert_array_equal(shorter.sequence(2), split.sequence(2)[:-1])
