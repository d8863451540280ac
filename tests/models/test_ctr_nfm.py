"""Tests for models.ctr.nfm."""

import numpy as np
import pytest

from models import registry
from models import testing
from models.ctr import nfm

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return nfm.build(INFO, {**testing.tiny_hparams(nfm.DEFAULT_HPARAMS), **overrides})


def test_nfm_registered():
  assert registry.get_model('ctr', 'nfm').paper_metrics['auc'] == 0.7957


def test_nfm_dnn_reads_bi_interaction():
  model = _build()
  values = testing.layer_outputs(model, ['field_embedding', 'bi_interaction'], INPUTS)
  fields, _ = values['field_embedding']
  expected = 0.5 * (fields.sum(1) ** 2 - (fields ** 2).sum(1))
  np.testing.assert_allclose(values['bi_interaction'], expected, rtol=1e-4, atol=1e-10)
  assert values['bi_interaction'].shape == (8, 4)


def test_nfm_output_is_linear_plus_dnn():
  model = _build()
  values = testing.layer_outputs(model, ['field_embedding', 'dnn_logit', 'click'], INPUTS)
  _, linear = values['field_embedding']
  bias = model.get_layer('click').bias.numpy()
  expected = 1.0 / (1.0 + np.exp(-(linear + values['dnn_logit'] + bias)))
  np.testing.assert_allclose(values['click'], expected, rtol=1e-5)


def test_nfm_bi_dropout_default_zero():
  assert nfm.DEFAULT_HPARAMS['bi_dropout'] == 0.0


def test_nfm_rejects_bi_dropout_one():
  with pytest.raises(ValueError, match='1.0'):
    _build(bi_dropout=1.0)
