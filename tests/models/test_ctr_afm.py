"""Tests for models.ctr.afm."""

import numpy as np
import pytest

from models import registry
from models import testing
from models.ctr import afm

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return afm.build(INFO, {**testing.tiny_hparams(afm.DEFAULT_HPARAMS), **overrides})


def test_afm_registered():
  assert registry.get_model('ctr', 'afm').paper_metrics['auc'] == 0.7928


def test_afm_defaults():
  assert afm.DEFAULT_HPARAMS['attention_factor'] == 8
  assert 'dnn_hidden_units' not in afm.DEFAULT_HPARAMS


def test_afm_attention_over_all_pairs():
  model = _build()
  layer = model.get_layer('afm')
  fields, _ = testing.layer_outputs(model, ['field_embedding'], INPUTS)['field_embedding']
  weights = layer.attention_weights(fields).numpy()
  assert weights.shape == (8, 15)
  np.testing.assert_allclose(weights.sum(axis=1), np.ones(8), rtol=1e-5)


def test_afm_output_is_linear_plus_attention():
  model = _build()
  values = testing.layer_outputs(model, ['field_embedding', 'afm', 'click'], INPUTS)
  _, linear = values['field_embedding']
  bias = model.get_layer('click').bias.numpy()
  logit = linear + values['afm'] + bias
  np.testing.assert_allclose(values['click'], 1.0 / (1.0 + np.exp(-logit)), rtol=1e-5)


def test_afm_attention_l2_loss_present():
  model = _build(embedding_l2=0.0, linear_l2=0.0)
  assert len(model.losses) == 1


def test_afm_rejects_zero_attention_factor():
  with pytest.raises(ValueError, match='attention_factor.*0'):
    _build(attention_factor=0)
