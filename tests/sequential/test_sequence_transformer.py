"""Tests of models.layers.sequence.transformer."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.layers.sequence import TransformerBlock
from models.layers.sequence import self_attention_mask


def test_mask_causal_with_padding():
  mask = self_attention_mask(tf.constant([[0, 5, 6]]), causal=True).numpy()[0]
  expected = np.array([[True, False, False],
                       [False, True, False],
                       [False, True, True]])
  np.testing.assert_array_equal(mask, expected)


def test_mask_bidirectional_with_padding():
  mask = self_attention_mask(tf.constant([[0, 5, 6]]), causal=False).numpy()[0]
  expected = np.array([[True, True, True],
                       [False, True, True],
                       [False, True, True]])
  np.testing.assert_array_equal(mask, expected)


def test_block_causal_outputs():
  block = TransformerBlock(hidden_dim=8, num_heads=2, dropout=0.0)
  ids = tf.constant([[0, 0, 3, 4, 5, 6]])
  x = tf.random.normal([1, 6, 8], seed=1)
  changed = tf.concat([x[:, :4], tf.random.normal([1, 2, 8], seed=2)], axis=1)
  mask = self_attention_mask(ids, causal=True)
  before = block(x, attention_mask=mask).numpy()
  after = block(changed, attention_mask=mask).numpy()
  np.testing.assert_allclose(before[:, :4], after[:, :4], rtol=1e-5, atol=1e-6)
  assert not np.allclose(before[:, 4:], after[:, 4:])


def test_block_padding_keys_ignored():
  block = TransformerBlock(hidden_dim=8, num_heads=2, dropout=0.0)
  ids = tf.constant([[0, 3, 4]])
  x = tf.random.normal([1, 3, 8], seed=3)
  changed = tf.concat([tf.random.normal([1, 1, 8], seed=4), x[:, 1:]], axis=1)
  mask = self_attention_mask(ids, causal=False)
  np.testing.assert_allclose(block(x, attention_mask=mask).numpy()[:, 1:],
                             block(changed, attention_mask=mask).numpy()[:, 1:],
                             rtol=1e-5, atol=1e-6)


def test_block_dropout_only_in_training():
  block = TransformerBlock(hidden_dim=8, num_heads=2, dropout=0.5)
  x = tf.random.normal([2, 4, 8])
  np.testing.assert_allclose(block(x, training=False).numpy(),
                             block(x, training=False).numpy())
  assert not np.allclose(block(x, training=True).numpy(), block(x, training=False).numpy())


def test_block_config_round_trip():
  block = TransformerBlock(hidden_dim=8, num_heads=4, ffn_dim=16, dropout=0.1,
                           output_dropout=False)
  clone = tf_keras.layers.deserialize(tf_keras.layers.serialize(block))
  assert clone.get_config() == block.get_config()


def test_block_default_ffn_width():
  assert TransformerBlock(hidden_dim=8, num_heads=2).ffn_dim == 32


def test_block_heads_must_divide_width():
  with pytest.raises(ValueError, match='divisible'):
    TransformerBlock(hidden_dim=10, num_heads=4)


def test_block_rejects_wrong_width():
  block = TransformerBlock(hidden_dim=8, num_heads=2)
  with pytest.raises(ValueError, match='width 8'):
    block(tf.zeros([1, 3, 6]))
