"""Tests for models.mtl.mmoe: trainable gates and outputs."""

import numpy as np
import pytest
import tensorflow as tf

from models import losses
from models import registry
from models import testing
from models.mtl import mmoe

INFO = testing.tiny_feature_info('mtl')
INPUTS = testing.random_inputs(INFO, batch_size=16, seed=0)
LABELS = testing.random_labels(('click', 'like'), batch_size=16, seed=1)


def _build(**overrides):
  return mmoe.build(INFO, {**testing.tiny_hparams(mmoe.DEFAULT_HPARAMS), **overrides})


def test_mmoe_registered():
  assert registry.get_model('mtl', 'mmoe').paper_metrics['like_auc'] == 0.9020


def test_mmoe_defaults_two_experts_of_128():
  assert mmoe.DEFAULT_HPARAMS['num_experts'] == 2
  assert mmoe.DEFAULT_HPARAMS['expert_hidden_units'] == (128,)


def test_mmoe_gates_get_gradient():
  model = _build()
  layer = model.get_layer('mmoe')
  with tf.GradientTape() as tape:
    outputs = model(INPUTS, training=True)
    loss = sum(tf.keras.losses.binary_crossentropy(LABELS[name], outputs[name])
               for name in ('click', 'like'))
    loss = tf.reduce_mean(loss)
  gradient = tape.gradient(loss, layer.gate_kernel)
  assert gradient is not None
  assert float(tf.reduce_max(tf.abs(gradient))) > 0


def test_mmoe_gates_change_after_one_step():
  model = _build()
  losses.compile_model(model, {'learning_rate': 0.01, 'loss_reduction': 'mean'})
  layer = model.get_layer('mmoe')
  before = layer.gate_kernel.numpy().copy()
  model.fit(INPUTS, LABELS, batch_size=16, epochs=1, verbose=0)
  assert not np.allclose(layer.gate_kernel.numpy(), before)


def test_mmoe_gates_in_saved_weights():
  names = [w.name for w in _build().get_layer('mmoe').trainable_weights]
  assert any('gate_kernel' in name for name in names)


def test_mmoe_four_objectives():
  model = _build(objectives=('click', 'like', 'share', 'follow'))
  assert model.get_layer('mmoe').gate_kernel.shape[0] == 4
  assert sorted(model.output_names) == ['click', 'follow', 'like', 'share']


def test_mmoe_rejects_zero_experts():
  with pytest.raises(ValueError, match='num_experts.*0'):
    _build(num_experts=0)
