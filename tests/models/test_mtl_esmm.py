"""Tests for models.mtl.esmm."""

import numpy as np
import pytest
import tensorflow as tf

from models import registry
from models import testing
from models.mtl import esmm

INFO = testing.tiny_feature_info('mtl')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return esmm.build(INFO, {**testing.tiny_hparams(esmm.DEFAULT_HPARAMS), **overrides})


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def test_esmm_registered():
  spec = registry.get_model('mtl', 'esmm')
  assert spec.paper_metrics == {'click_auc': 0.7940, 'like_auc': 0.9110}


def test_ctcvr_product_on_given_logits():
  ctr_logit = tf.constant([[0.0], [2.0], [-1.0]])
  cvr_logit = tf.constant([[0.0], [-1.0], [3.0]])
  product = esmm.CTCVRProbability()((ctr_logit, cvr_logit)).numpy()
  expected = [[0.25], [_sigmoid(2.0) * _sigmoid(-1.0)], [_sigmoid(-1.0) * _sigmoid(3.0)]]
  np.testing.assert_allclose(product, expected, rtol=1e-6)


def test_esmm_like_is_click_times_cvr():
  model = _build()
  values = testing.layer_outputs(model, ['click_logit', 'like_cvr_logit', 'click', 'like'],
                                 INPUTS)
  np.testing.assert_allclose(values['click'], _sigmoid(values['click_logit']), rtol=1e-6)
  np.testing.assert_allclose(
      values['like'], _sigmoid(values['click_logit']) * _sigmoid(values['like_cvr_logit']),
      rtol=1e-6)


def test_esmm_like_never_exceeds_click():
  outputs = _build()(INPUTS, training=False)
  assert (outputs['like'].numpy() <= outputs['click'].numpy()).all()


def test_esmm_outputs_follow_objectives():
  model = _build(objectives=('click', 'like', 'share'))
  assert sorted(model.output_names) == ['click', 'like', 'share']


def test_esmm_towers_have_relu_bn_dropout():
  tower = _build().get_layer('click_tower')
  assert tower.activation == 'relu'
  assert tower.batch_norm is True
  assert tower.dropout == 0.5


def test_esmm_reference_linear_towers_option():
  tower = _build(tower_activation='linear').get_layer('like_cvr_tower')
  assert tower.activation == 'linear'


def test_esmm_requires_click_first():
  with pytest.raises(ValueError, match="'like', 'click'"):
    _build(objectives=('like', 'click'))


def test_esmm_requires_post_click_objective():
  with pytest.raises(ValueError, match="'click',"):
    _build(objectives=('click',))
