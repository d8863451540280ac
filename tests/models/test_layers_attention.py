"""Tests for models.layers.attention: AFM attention and DIN attention pooling."""

import numpy as np
import pytest
import tensorflow as tf

from models.layers import attention


def test_pair_indices_row_major():
  assert attention.pair_indices(3) == ([0, 0, 1], [1, 2, 2])


def test_afm_weights_sum_to_one():
  layer = attention.AttentionalFactorization(attention_factor=4)
  weights = layer.attention_weights(tf.random.normal([5, 6, 8], seed=1)).numpy()
  assert weights.shape == (5, 15)
  np.testing.assert_allclose(weights.sum(axis=1), np.ones(5), rtol=1e-6)


def test_afm_weights_non_negative():
  layer = attention.AttentionalFactorization(attention_factor=4)
  weights = layer.attention_weights(tf.random.normal([5, 6, 8], seed=2)).numpy()
  assert (weights >= 0).all()


def test_afm_logit_matches_numpy():
  rng = np.random.default_rng(0)
  fields = rng.normal(size=(2, 3, 4)).astype(np.float32)
  layer = attention.AttentionalFactorization(attention_factor=2)
  layer.build(fields.shape)
  kernel, bias, h, p = [rng.normal(size=w.shape).astype(np.float32) for w in layer.weights]
  layer.set_weights([kernel, bias, h, p])

  products = np.stack([fields[:, i] * fields[:, j] for i, j in [(0, 1), (0, 2), (1, 2)]], 1)
  scores = (np.maximum(products @ kernel + bias, 0) @ h)[:, :, 0]
  alpha = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
  expected = (alpha[:, :, None] * products).sum(axis=1) @ p
  np.testing.assert_allclose(layer(fields).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_afm_rejects_single_field():
  with pytest.raises(ValueError, match='got 1'):
    attention.AttentionalFactorization()(tf.ones([2, 1, 4]))


def test_afm_l2_on_attention_kernel():
  layer = attention.AttentionalFactorization(l2=1e-5)
  layer(tf.ones([2, 3, 4]))
  assert len(layer.losses) == 1


def _din_inputs():
  query = tf.constant([[1.0, 0.5], [0.2, -0.3]])
  keys = tf.constant(np.random.default_rng(0).normal(size=(2, 4, 2)), tf.float32)
  mask = tf.constant([[0.0, 0.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0]])
  return query, keys, mask


@pytest.mark.parametrize('normalization', ['none', 'softmax'])
def test_din_padded_positions_get_zero_weight(normalization):
  layer = attention.AttentionPooling((4,), activation='relu', normalization=normalization,
                                     return_weights=True)
  _, weights = layer(_din_inputs())
  np.testing.assert_array_equal(weights.numpy()[0, :2], [0.0, 0.0])
  np.testing.assert_array_equal(weights.numpy()[1], np.zeros(4))


def test_din_softmax_weights_sum_to_one():
  layer = attention.AttentionPooling((4,), normalization='softmax', return_weights=True)
  _, weights = layer(_din_inputs(), training=False)
  np.testing.assert_allclose(weights.numpy()[0].sum(), 1.0, rtol=1e-6)


def test_din_all_padding_pools_to_zero():
  layer = attention.AttentionPooling((4,))
  pooled = layer(_din_inputs(), training=False)
  np.testing.assert_array_equal(pooled.numpy()[1], [0.0, 0.0])


def test_din_pooled_is_weighted_sum_of_keys():
  query, keys, mask = _din_inputs()
  layer = attention.AttentionPooling((4,), activation='relu', return_weights=True)
  pooled, weights = layer((query, keys, mask))
  expected = (weights.numpy()[:, :, None] * keys.numpy()).sum(axis=1)
  np.testing.assert_allclose(pooled.numpy(), expected, rtol=1e-6)


def test_din_padded_keys_do_not_change_output():
  query, keys, mask = _din_inputs()
  layer = attention.AttentionPooling((4,), activation='relu')
  before = layer((query, keys, mask)).numpy()
  noisy_keys = keys.numpy().copy()
  noisy_keys[:, :2] += 100.0
  after = layer((query, tf.constant(noisy_keys), mask)).numpy()
  np.testing.assert_allclose(after, before, rtol=1e-6)


def test_din_unnormalised_score_formula():
  query, keys, mask = _din_inputs()
  layer = attention.AttentionPooling((), activation='relu', return_weights=True)
  layer((query, keys, mask))
  w, b = [weight.numpy() for weight in layer.score.weights]
  q = np.broadcast_to(query.numpy()[:, None], keys.shape)
  k = keys.numpy()
  features = np.concatenate([q, k, q - k, q * k], axis=-1)
  expected = (features @ w)[:, :, 0] + b
  _, weights = layer((query, keys, mask))
  np.testing.assert_allclose(weights.numpy(), expected * mask.numpy(), rtol=1e-5, atol=1e-6)


def test_din_rejects_unknown_normalization():
  with pytest.raises(ValueError, match="'sigmoid'"):
    attention.AttentionPooling(normalization='sigmoid')


def test_din_config_round_trip():
  layer = attention.AttentionPooling((8, 4), activation='dice', normalization='softmax')
  restored = attention.AttentionPooling.from_config(layer.get_config())
  assert restored.get_config() == layer.get_config()
