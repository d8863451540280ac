"""Tests for models.ctr.deepfm."""

import numpy as np
import pytest

from models import registry
from models import testing
from models.ctr import deepfm

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return deepfm.build(INFO, {**testing.tiny_hparams(deepfm.DEFAULT_HPARAMS), **overrides})


def _sigmoid(x):
  return 1.0 / (1.0 + np.exp(-x))


def test_deepfm_registered_with_paper_metrics():
  spec = registry.get_model('ctr', 'deepfm')
  assert spec.build is deepfm.build
  assert spec.paper_metrics == {'auc': 0.7930, 'logloss': 0.5083}


def test_deepfm_defaults():
  defaults = deepfm.DEFAULT_HPARAMS
  assert defaults['embedding_dim'] == 32
  assert defaults['dnn_hidden_units'] == (256, 256)
  assert defaults['history_mode'] == 'pooled'


def test_deepfm_output_is_sum_of_three_logits():
  model = _build()
  values = testing.layer_outputs(model, ['field_embedding', 'fm', 'dnn_logit', 'click'],
                                 INPUTS)
  fields, linear = values['field_embedding']
  fm_expected = 0.5 * ((fields.sum(1) ** 2) - (fields ** 2).sum(1)).sum(1, keepdims=True)
  np.testing.assert_allclose(values['fm'], fm_expected, rtol=1e-4, atol=1e-9)

  bias = model.get_layer('click').bias.numpy()
  expected = _sigmoid(linear + values['fm'] + values['dnn_logit'] + bias)
  np.testing.assert_allclose(values['click'], expected, rtol=1e-5)


def test_deepfm_fm_and_dnn_share_fields():
  model = _build()
  tables = [w for w in model.weights if w.name.endswith('_embedding:0')]
  assert len(tables) == 5  # user, item (shared by the history), category, gender, age


def test_deepfm_reference_history_has_fifteen_fields():
  model = _build(history_mode='reference_separate_fields')
  fields, _ = testing.layer_outputs(model, ['field_embedding'], INPUTS)['field_embedding']
  assert fields.shape == (8, 15, 4)


def test_deepfm_regularisation_losses():
  model = _build()
  assert len(model.losses) == 10  # 5 embedding tables and 5 linear tables


def test_deepfm_without_l2_has_no_losses():
  model = _build(embedding_l2=0.0, linear_l2=0.0)
  assert not model.losses


def test_deepfm_rejects_bad_dnn_units():
  with pytest.raises(ValueError, match='-1'):
    _build(dnn_hidden_units=(8, -1))
