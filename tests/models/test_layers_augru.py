"""Tests for models.layers.augru: the AUGRU update formula and masking."""

import numpy as np
import pytest
import tensorflow as tf

from models.layers import augru


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def _numpy_step(x, score, state, kernel, recurrent, bias):
  units = state.shape[-1]
  xr, xu, xc = np.split(x @ kernel + bias, 3, axis=-1)
  rr, ru, rc = (recurrent[:, :units], recurrent[:, units:2 * units],
                recurrent[:, 2 * units:])
  reset = _sigmoid(xr + state @ rr)
  update = _sigmoid(xu + state @ ru)
  candidate = np.tanh(xc + (reset * state) @ rc)
  update = score * update
  return (1 - update) * state + update * candidate


def _cell_with_random_weights(units=3, input_dim=2, seed=0):
  rng = np.random.default_rng(seed)
  cell = augru.AUGRUCell(units)
  cell.build((None, input_dim + 1))
  weights = [rng.normal(scale=0.5, size=w.shape).astype(np.float32) for w in cell.weights]
  cell.set_weights(weights)
  return cell, weights, rng


def test_augru_step_matches_formula():
  cell, (kernel, recurrent, bias), rng = _cell_with_random_weights()
  x = rng.normal(size=(2, 2)).astype(np.float32)
  score = np.array([[0.3], [0.9]], np.float32)
  state = rng.normal(size=(2, 3)).astype(np.float32)

  output, _ = cell(np.concatenate([x, score], axis=1), [state])
  expected = _numpy_step(x, score, state, kernel, recurrent, bias)
  np.testing.assert_allclose(output.numpy(), expected, rtol=1e-5, atol=1e-6)


def test_augru_score_zero_keeps_state():
  cell, _, rng = _cell_with_random_weights()
  state = rng.normal(size=(2, 3)).astype(np.float32)
  steps = np.concatenate([rng.normal(size=(2, 2)), np.zeros((2, 1))], 1).astype(np.float32)
  output, _ = cell(steps, [state])
  np.testing.assert_allclose(output.numpy(), state, rtol=1e-6)


def test_augru_score_scales_update_gate():
  # The change of state is linear in the score: h_t - h_{t-1} = a u (h~ - h_{t-1}).
  cell, _, rng = _cell_with_random_weights()
  state = rng.normal(size=(1, 3)).astype(np.float32)
  x = rng.normal(size=(1, 2)).astype(np.float32)
  full, _ = cell(np.concatenate([x, [[1.0]]], 1).astype(np.float32), [state])
  quarter, _ = cell(np.concatenate([x, [[0.25]]], 1).astype(np.float32), [state])
  np.testing.assert_allclose(quarter.numpy() - state, 0.25 * (full.numpy() - state),
                             rtol=1e-5, atol=1e-6)


def test_augru_layer_padded_steps_keep_state():
  layer = augru.AUGRU(3)
  rng = np.random.default_rng(2)
  sequence = rng.normal(size=(1, 4, 2)).astype(np.float32)
  scores = np.full((1, 4), 0.5, np.float32)
  mask = np.array([[0, 0, 1, 1]], np.float32)
  final = layer((sequence, scores, mask)).numpy()

  noisy = sequence.copy()
  noisy[:, :2] = 50.0
  np.testing.assert_allclose(layer((noisy, scores, mask)).numpy(), final, rtol=1e-6)


def test_augru_layer_matches_stepwise_formula():
  layer = augru.AUGRU(3)
  rng = np.random.default_rng(3)
  sequence = rng.normal(size=(2, 3, 2)).astype(np.float32)
  scores = rng.uniform(size=(2, 3)).astype(np.float32)
  mask = np.ones((2, 3), np.float32)
  final = layer((sequence, scores, mask)).numpy()

  kernel, recurrent, bias = [w.numpy() for w in layer.weights]
  state = np.zeros((2, 3), np.float32)
  for t in range(3):
    state = _numpy_step(sequence[:, t], scores[:, t:t + 1], state, kernel, recurrent, bias)
  np.testing.assert_allclose(final, state, rtol=1e-5, atol=1e-6)


def test_augru_layer_all_padding_returns_zero_state():
  layer = augru.AUGRU(3)
  final = layer((tf.ones([1, 4, 2]), tf.ones([1, 4]), tf.zeros([1, 4]))).numpy()
  np.testing.assert_array_equal(final, np.zeros((1, 3)))


def test_augru_return_sequences_shape():
  layer = augru.AUGRU(5, return_sequences=True)
  assert layer((tf.ones([2, 4, 3]), tf.ones([2, 4]), tf.ones([2, 4]))).shape == (2, 4, 5)


def test_augru_cell_rejects_missing_score_column():
  with pytest.raises(ValueError, match='attention-score column'):
    augru.AUGRUCell(3).build((None, 1))


def test_augru_rejects_zero_units():
  with pytest.raises(ValueError, match='units.*0'):
    augru.AUGRU(0)
