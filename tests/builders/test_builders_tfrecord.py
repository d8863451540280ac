"""Tests of the TFRecord framing written without TensorFlow."""

import gzip

import numpy as np
import tensorflow as tf

from components.builders import beam_stages
from components.builders import tfexample
from components.builders import tfrecord


def test_frame_records_round_trip():
  records = [b'a', b'', b'hello world', b'a']
  assert tfrecord.read_records(tfrecord.frame_records(records)) == records


def test_frame_records_empty():
  assert tfrecord.frame_records([]) == b''


def test_frame_records_readable_by_tensorflow(tmp_path):
  path = tmp_path / 'x.tfrecord'
  path.write_bytes(tfrecord.frame_records([b'first', b'second']))
  assert [r.numpy() for r in tf.data.TFRecordDataset(str(path))] == [b'first', b'second']


def test_read_records_detects_corruption():
  data = bytearray(tfrecord.frame_records([b'payload']))
  data[14] ^= 1
  try:
    tfrecord.read_records(bytes(data))
  except ValueError as error:
    assert 'Corrupt' in str(error)
  else:
    raise AssertionError('corruption not detected')


def test_write_examples_gzip_readable(tmp_path):
  path = str(tmp_path / 'Split-train' / 'data.gz')
  columns = {'user_id': np.arange(5), 'item_ids': tfexample.RaggedColumn(
      np.arange(7), np.array([0, 1, 3, 3, 6, 7]))}
  assert beam_stages.write_examples(path, columns, batch_size=2) == 5
  examples = [tf.train.Example.FromString(r.numpy())
              for r in tf.data.TFRecordDataset(path, compression_type='GZIP')]
  assert [e.features.feature['user_id'].int64_list.value[0] for e in examples] == [0, 1, 2, 3, 4]
  assert list(examples[1].features.feature['item_ids'].int64_list.value) == [1, 2]
  with gzip.open(path, 'rb') as f:
    assert len(tfrecord.read_records(f.read())) == 5
