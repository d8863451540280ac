"""Tests for models.layers.cross: DCN and DCNv2 cross formulas."""

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_recommenders as tfrs

from models.layers import cross


def test_vector_cross_by_hand():
  # x0 = (1, 2, 3), w = (0.1, 0.2, 0.3), b = 0.5: x0^T w = 1.4, so
  # x1 = x0 * 1.4 + 0.5 + x0 = (2.9, 5.3, 7.7).
  layer = cross.VectorCross()
  x0 = tf.constant([[1.0, 2.0, 3.0]])
  layer.build(x0.shape)
  layer.set_weights([np.array([[0.1], [0.2], [0.3]]), np.full(3, 0.5)])
  np.testing.assert_allclose(layer(x0).numpy(), [[2.9, 5.3, 7.7]], rtol=1e-6)


def test_vector_cross_uses_x0_and_xl():
  rng = np.random.default_rng(1)
  x0, xl = rng.normal(size=(2, 4, 5)).astype(np.float32)
  layer = cross.VectorCross()
  layer.build(x0.shape)
  w, b = rng.normal(size=(5, 1)).astype(np.float32), rng.normal(size=5).astype(np.float32)
  layer.set_weights([w, b])
  expected = x0 * (xl @ w) + b + xl
  np.testing.assert_allclose(layer(x0, xl).numpy(), expected, rtol=1e-5, atol=1e-6)


def _numpy_mixture(x0, x, u, v, c, gate, bias):
  experts = []
  for e in range(u.shape[0]):
    projected = np.tanh(c[e] @ np.tanh(v[e].T @ x.T))   # [r, batch]
    experts.append(x0 * ((u[e] @ projected).T + bias))  # [batch, D]
  experts = np.stack(experts, axis=1)
  logits = x @ gate
  gates = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
  return (gates[:, :, None] * experts).sum(axis=1) + x


def _random_mixture(num_experts, dim=6, rank=3, seed=0):
  rng = np.random.default_rng(seed)
  layer = cross.MixtureLowRankCross(num_experts=num_experts, low_rank=rank)
  layer.build((None, dim))
  weights = [rng.normal(scale=0.5, size=w.shape).astype(np.float32)
             for w in layer.get_weights()]
  layer.set_weights(weights)
  return layer, weights, rng


def test_mixture_single_expert_formula():
  # One expert: the gate is 1, so x1 = x0 * (U tanh(C tanh(V^T x0)) + b) + x0.
  layer, (u, v, c, _, bias), rng = _random_mixture(num_experts=1)
  x0 = rng.normal(size=(4, 6)).astype(np.float32)
  expected = x0 * ((u[0] @ np.tanh(c[0] @ np.tanh(v[0].T @ x0.T))).T + bias) + x0
  np.testing.assert_allclose(layer(x0).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_mixture_gated_experts_formula():
  layer, (u, v, c, gate, bias), rng = _random_mixture(num_experts=3)
  x0, xl = rng.normal(size=(2, 4, 6)).astype(np.float32)
  expected = _numpy_mixture(x0, xl, u, v, c, gate, bias)
  np.testing.assert_allclose(layer(x0, xl).numpy(), expected, rtol=1e-4, atol=1e-5)


def test_mixture_weight_shapes():
  layer = cross.MixtureLowRankCross(num_experts=4, low_rank=32)
  layer.build((None, 480))
  shapes = {w.name.split('/')[-1].split(':')[0]: tuple(w.shape) for w in layer.weights}
  assert shapes == {'u': (4, 480, 32), 'v': (4, 480, 32), 'c': (4, 32, 32),
                    'gate': (480, 4), 'bias': (480,)}


def test_mixture_experts_start_different():
  layer = cross.MixtureLowRankCross(num_experts=2, low_rank=3)
  layer.build((None, 6))
  assert not np.allclose(layer.u.numpy(), layer.v.numpy())


def test_mixture_rejects_rank_zero():
  with pytest.raises(ValueError, match='low_rank.*0'):
    cross.MixtureLowRankCross(low_rank=0)


def test_network_matrix_uses_tfrs_cross():
  network = cross.CrossNetwork(num_layers=2, parameterization='matrix')
  assert all(isinstance(layer, tfrs.layers.dcn.Cross) for layer in network.cross_layers)


def test_network_matrix_formula():
  rng = np.random.default_rng(3)
  x0 = rng.normal(size=(3, 4)).astype(np.float32)
  network = cross.CrossNetwork(num_layers=1, parameterization='matrix')
  network(x0)
  w, b = [weight.numpy() for weight in network.weights]
  np.testing.assert_allclose(network(x0).numpy(), x0 * (x0 @ w + b) + x0, rtol=1e-5,
                             atol=1e-6)


def test_network_low_rank_has_projection():
  network = cross.CrossNetwork(num_layers=1, parameterization='low_rank', low_rank=2)
  network(tf.ones([2, 6]))
  assert sorted(tuple(w.shape) for w in network.weights) == [(2, 6), (6,), (6, 2)]


def test_network_vector_two_layers_chain():
  rng = np.random.default_rng(4)
  x0 = rng.normal(size=(2, 3)).astype(np.float32)
  network = cross.CrossNetwork(num_layers=2, parameterization='vector')
  network(x0)
  w0, b0, w1, b1 = [weight.numpy() for weight in network.weights]
  x1 = x0 * (x0 @ w0) + b0 + x0
  x2 = x0 * (x1 @ w1) + b1 + x1
  np.testing.assert_allclose(network(x0).numpy(), x2, rtol=1e-5, atol=1e-6)


def test_network_l2_adds_losses():
  network = cross.CrossNetwork(num_layers=2, parameterization='vector', l2=1e-5)
  network(tf.ones([2, 3]))
  assert len(network.losses) == 2


def test_network_rejects_unknown_parameterization():
  with pytest.raises(ValueError, match="'diagonal'"):
    cross.CrossNetwork(parameterization='diagonal')


def test_network_config_round_trip():
  network = cross.CrossNetwork(3, 'mixture', low_rank=4, num_experts=2, l2=1e-5)
  restored = cross.CrossNetwork.from_config(network.get_config())
  assert restored.get_config() == network.get_config()
