"""Tests for models.ctr.xdeepfm."""

import numpy as np
import pytest

from models import registry
from models import testing
from models.ctr import xdeepfm

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return xdeepfm.build(INFO, {**testing.tiny_hparams(xdeepfm.DEFAULT_HPARAMS), **overrides})


def test_xdeepfm_registered():
  assert registry.get_model('ctr', 'xdeepfm').paper_metrics['auc'] == 0.7931


def test_xdeepfm_defaults_split_half_256():
  assert xdeepfm.DEFAULT_HPARAMS['cin_layer_sizes'] == (256, 256)
  assert xdeepfm.DEFAULT_HPARAMS['cin_split_half'] is True


def test_xdeepfm_cin_output_width():
  model = _build(cin_layer_sizes=(4, 6))
  assert model.get_layer('cin').output.shape[-1] == 2 + 6


def test_xdeepfm_output_is_sum_of_three_logits():
  model = _build()
  values = testing.layer_outputs(
      model, ['field_embedding', 'dnn_logit', 'cin_logit', 'click'], INPUTS)
  _, linear = values['field_embedding']
  bias = model.get_layer('click').bias.numpy()
  logit = linear + values['dnn_logit'] + values['cin_logit'] + bias
  np.testing.assert_allclose(values['click'], 1.0 / (1.0 + np.exp(-logit)), rtol=1e-5)


def test_xdeepfm_rejects_odd_split_layer():
  with pytest.raises(ValueError, match='3 maps'):
    _build(cin_layer_sizes=(3, 4))
