"""Tests for models.layers.output."""

import numpy as np
import tensorflow as tf

from models.layers import output


def test_sigmoid_output_zero_bias_at_start():
  layer = output.SigmoidOutput()
  np.testing.assert_allclose(layer(tf.constant([[0.0], [2.0]])).numpy(),
                             [[0.5], [1 / (1 + np.exp(-2.0))]], rtol=1e-6)


def test_sigmoid_output_adds_bias():
  layer = output.SigmoidOutput()
  layer.build((None, 1))
  layer.bias.assign([1.0])
  np.testing.assert_allclose(layer(tf.constant([[-1.0]])).numpy(), [[0.5]])


def test_sigmoid_output_without_bias_has_no_weights():
  layer = output.SigmoidOutput(use_bias=False)
  layer(tf.zeros([1, 1]))
  assert not layer.weights
