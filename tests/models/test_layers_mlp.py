"""Tests for models.layers.mlp."""

import numpy as np
import pytest
import tensorflow as tf

from models.layers import mlp


def test_mlp_output_width():
  assert mlp.MLP((16, 8))(tf.ones([3, 5])).shape == (3, 8)


def test_mlp_empty_is_identity():
  inputs = tf.constant([[1.0, -2.0]])
  np.testing.assert_array_equal(mlp.MLP(())(inputs).numpy(), inputs.numpy())


def test_mlp_relu_formula():
  layer = mlp.MLP((2,), activation='relu')
  layer(tf.zeros([1, 2]))
  layer.dense_layers[0].set_weights([np.array([[1.0, -1.0], [2.0, 0.5]]), np.array([0.5, 0.0])])
  outputs = layer(tf.constant([[1.0, 1.0]])).numpy()
  np.testing.assert_allclose(outputs, [[3.5, 0.0]])


def test_mlp_dropout_only_in_training():
  layer = mlp.MLP((64,), activation='linear', dropout=0.5, seed=1)
  inputs = tf.ones([4, 8])
  np.testing.assert_array_equal(layer(inputs, training=False).numpy(),
                                layer(inputs, training=False).numpy())
  assert np.any(layer(inputs, training=True).numpy() == 0.0)


def test_mlp_l2_adds_one_loss_per_layer():
  layer = mlp.MLP((4, 4), l2=1e-3)
  layer(tf.ones([2, 3]))
  assert len(layer.losses) == 2


def test_mlp_batch_norm_layers_created():
  layer = mlp.MLP((4, 4), batch_norm=True)
  layer(tf.ones([2, 3]), training=True)
  assert len(layer.norm_layers) == 2


def test_mlp_rejects_negative_width():
  with pytest.raises(ValueError, match='-4'):
    mlp.MLP((8, -4))


def test_mlp_config_round_trip():
  layer = mlp.MLP((4, 2), activation='dice', dropout=0.25, batch_norm=True, l2=1e-4)
  restored = mlp.MLP.from_config(layer.get_config())
  assert restored.get_config() == layer.get_config()
