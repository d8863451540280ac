"""Tests for models.layers.cin."""

import numpy as np
import pytest
import tensorflow as tf

from models.layers import cin

# Two fields, D = 2: X0 = [[1, 2], [3, 4]].
X0 = np.array([[[1.0, 2.0], [3.0, 4.0]]], np.float32)


def _numpy_cin(x0, kernels, biases, layer_sizes, split_half, relu=True):
  hidden = x0
  outputs = []
  for index, (kernel, bias, size) in enumerate(zip(kernels, biases, layer_sizes)):
    products = np.einsum('bhd,bmd->bhmd', hidden, x0).reshape(
        x0.shape[0], hidden.shape[1] * x0.shape[1], x0.shape[2])
    maps = np.einsum('bnd,nk->bkd', products, kernel) + bias[None, :, None]
    if relu:
      maps = np.maximum(maps, 0.0)
    if split_half and index < len(layer_sizes) - 1:
      hidden, direct = maps[:, :size // 2], maps[:, size // 2:]
    else:
      hidden, direct = maps, maps
    outputs.append(direct)
  return np.concatenate(outputs, axis=1).sum(axis=2)


def test_cin_one_layer_two_fields_by_hand():
  # Z_d for (i, j) in (0,0), (0,1), (1,0), (1,1): d=0 -> 1, 3, 3, 9; d=1 -> 4, 8, 8, 16.
  # With W = (1, 0.5, 0.25, 2) and b = 0.1: d=0 -> 21.35, d=1 -> 42.1; sum over d = 63.45.
  layer = cin.CompressedInteractionNetwork((1,), activation='linear')
  layer.build(X0.shape)
  layer.set_weights([np.array([[1.0], [0.5], [0.25], [2.0]]), np.array([0.1])])
  np.testing.assert_allclose(layer(X0).numpy(), [[63.45]], rtol=1e-6)


def test_cin_two_layers_split_half_matches_numpy():
  rng = np.random.default_rng(0)
  inputs = rng.normal(size=(3, 4, 5)).astype(np.float32)
  layer = cin.CompressedInteractionNetwork((6, 3), split_half=True)
  layer.build(inputs.shape)
  weights = [rng.normal(size=w.shape).astype(np.float32) for w in layer.get_weights()]
  layer.set_weights(weights)

  expected = _numpy_cin(inputs, weights[0::2], weights[1::2], (6, 3), split_half=True)
  np.testing.assert_allclose(layer(inputs).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_cin_split_half_output_dim():
  layer = cin.CompressedInteractionNetwork((256, 256), split_half=True)
  assert layer.output_dim == 128 + 256


def test_cin_without_split_output_dim():
  layer = cin.CompressedInteractionNetwork((4, 6), split_half=False)
  assert layer(tf.ones([2, 3, 5])).shape == (2, 10)


def test_cin_second_layer_kernel_uses_half_maps():
  layer = cin.CompressedInteractionNetwork((6, 3), split_half=True)
  layer.build((None, 4, 5))
  assert layer.kernels[1].shape == (3 * 4, 3)


def test_cin_rejects_odd_split_layer():
  with pytest.raises(ValueError, match='5 maps'):
    cin.CompressedInteractionNetwork((5, 4), split_half=True)


def test_cin_config_round_trip():
  layer = cin.CompressedInteractionNetwork((4, 2), split_half=False, activation='linear')
  restored = cin.CompressedInteractionNetwork.from_config(layer.get_config())
  assert restored.get_config() == layer.get_config()
