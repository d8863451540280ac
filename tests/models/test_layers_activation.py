"""Tests for models.layers.activation."""

import numpy as np
import pytest
import tensorflow as tf

from models.layers import activation


def test_dice_alpha_zero_is_gated_identity():
  # alpha starts at 0, so Dice(s) = p(s) * s with p(s) = sigmoid(standardised s).
  inputs = np.array([[1.0, -2.0], [3.0, 0.0]], np.float32)
  dice = activation.Dice(epsilon=1e-8)
  outputs = dice(inputs, training=True).numpy()

  standardised = (inputs - inputs.mean(0)) / np.sqrt(inputs.var(0) + 1e-8)
  expected = inputs / (1.0 + np.exp(-standardised))
  np.testing.assert_allclose(outputs, expected, rtol=1e-5, atol=1e-6)


def test_dice_alpha_scales_negative_side():
  inputs = np.array([[1.0], [-1.0]], np.float32)
  dice = activation.Dice()
  dice.build(inputs.shape)
  dice.alpha.assign([0.5])
  outputs = dice(inputs, training=True).numpy()

  probability = 1.0 / (1.0 + np.exp(-np.array([[1.0], [-1.0]])))
  expected = probability * inputs + (1 - probability) * 0.5 * inputs
  np.testing.assert_allclose(outputs, expected, rtol=1e-5)


def test_dice_config_round_trip():
  dice = activation.Dice(epsilon=1e-6, momentum=0.9)
  restored = activation.Dice.from_config(dice.get_config())
  assert (restored.epsilon, restored.momentum) == (1e-6, 0.9)


def test_get_returns_keras_activation():
  layer = activation.get('relu')
  np.testing.assert_array_equal(layer(tf.constant([-1.0, 2.0])).numpy(), [0.0, 2.0])


def test_get_rejects_unknown_name():
  with pytest.raises(ValueError, match="'swishy'"):
    activation.get('swishy')
