"""Tests for models.layers.moe: experts, MMoE gates and PLE's CGC gates."""

import numpy as np
import pytest
import tensorflow as tf

from models.layers import moe


def test_experts_match_per_expert_dense():
  rng = np.random.default_rng(0)
  layer = moe.Experts(num_experts=3, hidden_units=(4,), activation='relu')
  inputs = rng.normal(size=(2, 5)).astype(np.float32)
  outputs = layer(inputs).numpy()
  kernel, bias = layer.kernels[0].numpy(), layer.biases[0].numpy()
  for expert in range(3):
    expected = np.maximum(inputs @ kernel[expert] + bias[expert], 0)
    np.testing.assert_allclose(outputs[:, expert], expected, rtol=1e-5, atol=1e-6)


def test_experts_two_layers_shape():
  assert moe.Experts(2, (8, 3))(tf.ones([4, 5])).shape == (4, 2, 3)


def test_mmoe_gate_rows_sum_to_one():
  layer = moe.MultiGateMixtureOfExperts(num_experts=3, num_tasks=2, expert_hidden_units=(4,))
  gates = layer.gate_weights(tf.random.normal([5, 6], seed=0)).numpy()
  assert gates.shape == (5, 2, 3)
  np.testing.assert_allclose(gates.sum(axis=-1), np.ones((5, 2)), rtol=1e-6)


def test_mmoe_task_input_is_gated_sum():
  layer = moe.MultiGateMixtureOfExperts(num_experts=2, num_tasks=2, expert_hidden_units=(4,))
  inputs = tf.random.normal([3, 6], seed=1)
  outputs = layer(inputs)
  experts = layer.experts(inputs).numpy()
  gates = layer.gate_weights(inputs).numpy()
  for task in range(2):
    expected = (gates[:, task, :, None] * experts).sum(axis=1)
    np.testing.assert_allclose(outputs[task].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_mmoe_gates_are_trainable_variables():
  layer = moe.MultiGateMixtureOfExperts(num_experts=2, num_tasks=2, expert_hidden_units=(4,))
  layer(tf.ones([1, 3]))
  trainable = {v.name.split('/')[-1] for v in layer.trainable_variables}
  assert {'gate_kernel:0', 'gate_bias:0'} <= trainable


def test_mmoe_gradient_reaches_gates():
  layer = moe.MultiGateMixtureOfExperts(num_experts=2, num_tasks=2, expert_hidden_units=(4,))
  inputs = tf.random.normal([8, 3], seed=2)
  with tf.GradientTape() as tape:
    click, like = layer(inputs)
    loss = tf.reduce_sum(click) - tf.reduce_sum(like)
  gradient = tape.gradient(loss, layer.gate_kernel)
  assert gradient is not None
  assert float(tf.reduce_max(tf.abs(gradient))) > 0


def test_cgc_gate_shapes_two_tasks():
  layer = moe.CustomizedGateControl(num_tasks=2, num_shared_experts=1,
                                    num_specific_experts=1, expert_hidden_units=(4,),
                                    output_shared=True)
  gates = layer.gate_weights(tf.ones([5, 6]))
  assert [tuple(g.shape) for g in gates] == [(5, 2), (5, 2), (5, 3)]


def test_cgc_gate_shapes_three_tasks():
  layer = moe.CustomizedGateControl(num_tasks=3, num_shared_experts=2,
                                    num_specific_experts=2, expert_hidden_units=(4,),
                                    output_shared=True)
  gates = layer.gate_weights(tf.ones([5, 6]))
  assert [tuple(g.shape) for g in gates] == [(5, 4), (5, 4), (5, 4), (5, 8)]


def test_cgc_last_level_has_no_shared_gate():
  layer = moe.CustomizedGateControl(num_tasks=2, output_shared=False,
                                    expert_hidden_units=(4,))
  outputs = layer(tf.ones([5, 6]))
  assert len(outputs) == 2
  assert layer.shared_gate is None


def test_cgc_task_output_mixes_own_and_shared_experts():
  layer = moe.CustomizedGateControl(num_tasks=2, num_shared_experts=1,
                                    num_specific_experts=1, expert_hidden_units=(4,))
  inputs = tf.random.normal([3, 6], seed=3)
  outputs = layer(inputs)
  own = layer.specific_experts[1](inputs).numpy()
  shared = layer.shared_experts(inputs).numpy()
  gate = layer.task_gates[1](inputs).numpy()
  expected = gate[:, :1] * own[:, 0] + gate[:, 1:] * shared[:, 0]
  np.testing.assert_allclose(outputs[1].numpy(), expected, rtol=1e-5, atol=1e-6)


def test_cgc_accepts_per_task_inputs():
  layer = moe.CustomizedGateControl(num_tasks=2, output_shared=True, expert_hidden_units=(4,))
  outputs = layer([tf.ones([2, 6]), tf.zeros([2, 6]), tf.ones([2, 6])])
  assert len(outputs) == 3


def test_cgc_rejects_wrong_input_count():
  layer = moe.CustomizedGateControl(num_tasks=2, expert_hidden_units=(4,))
  with pytest.raises(ValueError, match='got 2'):
    layer([tf.ones([2, 6]), tf.ones([2, 6])])


def test_moe_config_round_trips():
  for layer in (moe.Experts(2, (4,)), moe.MultiGateMixtureOfExperts(3, 2, (4,)),
                moe.CustomizedGateControl(2, 1, 2, (4,), output_shared=True)):
    restored = layer.__class__.from_config(layer.get_config())
    assert restored.get_config() == layer.get_config()
