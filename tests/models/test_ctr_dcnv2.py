"""Tests for models.ctr.dcnv2."""

import pytest
import tensorflow_recommenders as tfrs

from models import registry
from models import testing
from models.ctr import dcnv2
from models.layers import cross

INFO = testing.tiny_feature_info('ctr')


def _build(**overrides):
  return dcnv2.build(INFO, {**testing.tiny_hparams(dcnv2.DEFAULT_HPARAMS), **overrides})


def test_dcnv2_registered():
  assert registry.get_model('ctr', 'dcnv2').paper_metrics['auc'] == 0.7932


def test_dcnv2_defaults_two_layers_rank_32_four_experts():
  defaults = dcnv2.DEFAULT_HPARAMS
  assert (defaults['cross_layers'], defaults['low_rank'], defaults['num_experts']) == (2, 32, 4)
  assert defaults['cross_parameterization'] == 'mixture'


def test_dcnv2_layers_are_mixtures():
  model = _build(low_rank=3, num_experts=4)
  layers = model.get_layer('cross_network').cross_layers
  assert len(layers) == 2
  assert all(isinstance(layer, cross.MixtureLowRankCross) for layer in layers)
  assert layers[0].u.shape == (4, 6 * 4, 3)


def test_dcnv2_low_rank_option_uses_tfrs():
  layers = _build(cross_parameterization='low_rank').get_layer('cross_network').cross_layers
  assert all(isinstance(layer, tfrs.layers.dcn.Cross) for layer in layers)


def test_dcnv2_rejects_rank_zero():
  with pytest.raises(ValueError, match='low_rank.*0'):
    _build(low_rank=0)


def test_dcnv2_rejects_zero_experts():
  with pytest.raises(ValueError, match='num_experts.*0'):
    _build(num_experts=0)
