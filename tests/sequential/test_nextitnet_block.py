"""Tests of models.layers.sequence.nextitnet_block."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.layers.sequence import DilatedResidualBlock


def test_block_shape_and_dilations():
  block = DilatedResidualBlock(channels=6, dilation=4)
  assert block(tf.zeros([2, 9, 6])).shape == (2, 9, 6)
  assert block.conv1.dilation_rate == (4,)
  assert block.conv2.dilation_rate == (8,)


def test_block_is_causal():
  block = DilatedResidualBlock(channels=4, dilation=2)
  x = tf.random.normal([1, 12, 4], seed=5)
  changed = tf.concat([x[:, :7], tf.random.normal([1, 5, 4], seed=6)], axis=1)
  before = block(x).numpy()
  after = block(changed).numpy()
  np.testing.assert_allclose(before[:, :7], after[:, :7], rtol=1e-5, atol=1e-6)
  assert not np.allclose(before[:, 7:], after[:, 7:])


def test_block_receptive_field():
  # Kernel 3 with dilations 1 and 2: output t depends on inputs t-6..t.
  block = DilatedResidualBlock(channels=4, dilation=1)
  x = tf.random.normal([1, 10, 4], seed=7)
  changed = tf.concat([tf.random.normal([1, 1, 4], seed=8), x[:, 1:]], axis=1)
  before = block(x).numpy()
  after = block(changed).numpy()
  assert not np.allclose(before[:, 6], after[:, 6])
  np.testing.assert_allclose(before[:, 7:], after[:, 7:], rtol=1e-5, atol=1e-6)


def test_block_config_round_trip():
  block = DilatedResidualBlock(channels=4, dilation=3, kernel_size=5)
  clone = tf_keras.layers.deserialize(tf_keras.layers.serialize(block))
  assert clone.get_config() == block.get_config()


def test_block_rejects_zero_dilation():
  with pytest.raises(ValueError, match='dilation'):
    DilatedResidualBlock(channels=4, dilation=0)
