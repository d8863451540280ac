"""Tests of the NumPy to tf.Example encoding, including ragged features."""

import numpy as np
import pytest
import tensorflow as tf

from components.builders import tfexample


def _decode(record):
  example = tf.train.Example.FromString(record)
  out = {}
  for name, feature in example.features.feature.items():
    out[name] = list(getattr(feature, feature.WhichOneof('kind')).value)
  return out


def test_encode_scalar_fixed_and_ragged():
  records = tfexample.encode_examples({
      'user_id': np.array([3, 4]),
      'hist': np.array([[1, 2], [3, 4]]),
      'item_ids': tfexample.RaggedColumn(np.array([7, 8, 9]), np.array([0, 2, 3])),
      'score': np.array([0.5, 1.5]),
  })
  first, second = [_decode(r) for r in records]
  assert first['user_id'] == [3]
  assert first['hist'] == [1, 2]
  assert first['item_ids'] == [7, 8]
  assert second['item_ids'] == [9]
  assert second['score'] == [1.5]


def test_ragged_slice_shares_values():
  column = tfexample.RaggedColumn(np.array([1, 2, 3, 4, 5]), np.array([0, 1, 3, 5]))
  part = column[1:3]
  assert len(part) == 2
  assert [_decode(r)['x'] for r in tfexample.encode_examples({'x': part})] == [[2, 3], [4, 5]]


def test_ragged_empty_rows():
  column = tfexample.RaggedColumn(np.array([6]), np.array([0, 0, 1]))
  decoded = [_decode(r) for r in tfexample.encode_examples({'x': column, 'u': np.array([1, 2])})]
  assert decoded[0].get('x', []) == []
  assert decoded[1]['x'] == [6]


def test_ragged_rejects_step_slice():
  column = tfexample.RaggedColumn(np.array([1, 2]), np.array([0, 1, 2]))
  with pytest.raises(TypeError, match='contiguous'):
    column[::2]  # pylint: disable=pointless-statement
