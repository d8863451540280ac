"""Tests of models.sequential.inputs."""

import numpy as np
import pytest
import tensorflow as tf

from models.sequential import inputs

VALUES = np.array([1, 2, 3, 4, 5, 6, 7, 8])
ROW_SPLITS = np.array([0, 5, 5, 8])  # [1..5], [], [6, 7, 8]


def test_left_pad_crops_and_pads():
  np.testing.assert_array_equal(
      inputs.left_pad(VALUES, ROW_SPLITS, max_len=4),
      [[2, 3, 4, 5], [0, 0, 0, 0], [0, 6, 7, 8]])


def test_left_pad_append_and_drop():
  np.testing.assert_array_equal(
      inputs.left_pad(VALUES, ROW_SPLITS, max_len=3, drop_last=1, append_id=9),
      [[3, 4, 9], [0, 0, 9], [6, 7, 9]])


def test_next_item_windows_all():
  model_inputs, labels = inputs.next_item_windows(np.array([1, 2, 3, 4, 5]),
                                                  np.array([0, 5]), max_len=2)
  np.testing.assert_array_equal(model_inputs, [[3, 4], [1, 2]])
  np.testing.assert_array_equal(labels, [[4, 5], [2, 3]])


def test_next_item_windows_short_first_window():
  model_inputs, labels = inputs.next_item_windows(np.array([1, 2, 3, 4]), np.array([0, 4]),
                                                  max_len=2)
  np.testing.assert_array_equal(model_inputs, [[2, 3], [0, 1]])
  np.testing.assert_array_equal(labels, [[3, 4], [0, 2]])


def test_next_item_windows_cover_each_transition_once():
  rng = np.random.default_rng(0)
  lengths = rng.integers(0, 30, size=20)
  row_splits = np.concatenate([[0], np.cumsum(lengths)])
  values = np.arange(1, row_splits[-1] + 1)  # distinct items: transition = label value
  model_inputs, labels = inputs.next_item_windows(values, row_splits, max_len=7)
  used = np.sort(labels[labels > 0])
  expected = np.concatenate([values[s + 1:e] for s, e in zip(row_splits[:-1],
                                                             row_splits[1:])])
  np.testing.assert_array_equal(used, np.sort(expected))
  np.testing.assert_array_equal(model_inputs[labels > 0] + 1, labels[labels > 0])


def test_next_item_windows_last():
  model_inputs, labels = inputs.next_item_windows(VALUES, ROW_SPLITS, max_len=3,
                                                  scheme='last')
  np.testing.assert_array_equal(model_inputs, [[2, 3, 4], [0, 6, 7]])
  np.testing.assert_array_equal(labels, [[3, 4, 5], [0, 7, 8]])


def test_masked_item_windows_all():
  np.testing.assert_array_equal(
      inputs.masked_item_windows(VALUES, ROW_SPLITS, max_len=3),
      [[3, 4, 5], [0, 1, 2], [6, 7, 8]])


def test_mask_items_labels_and_inputs():
  windows = np.tile(np.array([[0, 0, 1, 2, 3, 4, 5, 6, 7, 8]]), (4000, 1))
  model_inputs, labels = inputs.mask_items(windows, np.random.default_rng(1), 0.3,
                                           mask_token=11, num_items=10)
  selected = labels > 0
  assert not np.any(selected[:, :2])
  np.testing.assert_array_equal(labels[selected], windows[selected])
  np.testing.assert_array_equal(model_inputs[~selected], windows[~selected])
  assert abs(selected[:, 2:].mean() - 0.3) < 0.01
  assert abs((model_inputs[selected] == 11).mean() - 0.8) < 0.02
  kept = (model_inputs[selected] == windows[selected]).mean()
  assert 0.1 - 0.02 < kept < 0.1 + 0.02 + 0.01  # random draws may also hit the item


def test_mask_items_seeded():
  windows = np.array([[0, 1, 2, 3, 4, 5]])
  first = inputs.mask_items(windows, np.random.default_rng([3, 0, 2]), 0.5, 9, 8)
  second = inputs.mask_items(windows, np.random.default_rng([3, 0, 2]), 0.5, 9, 8)
  np.testing.assert_array_equal(first[0], second[0])
  np.testing.assert_array_equal(first[1], second[1])


@pytest.mark.parametrize('readout, mask_token, expected', [
    ('last', None, [[3, 4, 5], [0, 0, 0], [6, 7, 8]]),
    ('last', 11, [[4, 5, 11], [0, 0, 11], [7, 8, 11]]),
    ('reference_head', None, [[4, 5, 0], [0, 0, 0], [7, 8, 0]]),
    ('reference_paper_era', None, [[3, 4, 0], [0, 0, 0], [6, 7, 0]]),
])
def test_build_eval_inputs(readout, mask_token, expected):
  np.testing.assert_array_equal(
      inputs.build_eval_inputs(VALUES, ROW_SPLITS, 3, readout, mask_token), expected)


@pytest.mark.parametrize('readout, mask_token', [
    ('last', None), ('last', 31), ('reference_head', None), ('reference_paper_era', 31)])
def test_tf_inputs_match_numpy(readout, mask_token):
  rng = np.random.default_rng(4)
  lengths = rng.integers(0, 12, size=25)
  row_splits = np.concatenate([[0], np.cumsum(lengths)])
  values = rng.integers(1, 30, size=row_splits[-1])
  ragged = tf.RaggedTensor.from_row_splits(values, row_splits)
  np.testing.assert_array_equal(
      inputs.build_eval_inputs_tf(ragged, 6, readout, mask_token).numpy(),
      inputs.build_eval_inputs(values, row_splits, 6, readout, mask_token))


def test_left_pad_ragged_all_empty():
  ragged = tf.RaggedTensor.from_row_splits(tf.zeros([0], tf.int64), [0, 0, 0])
  np.testing.assert_array_equal(inputs.left_pad_ragged(ragged, 3).numpy(), np.zeros([2, 3]))


def test_unknown_readout():
  with pytest.raises(ValueError, match='readout'):
    inputs.readout_pooling('first')


def test_unknown_window_scheme():
  with pytest.raises(ValueError, match='train_windows'):
    inputs.next_item_windows(VALUES, ROW_SPLITS, 3, scheme='random')
