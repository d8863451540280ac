"""Tests for models.ctr.dcn."""

import numpy as np
import pytest
import tensorflow_recommenders as tfrs

from models import registry
from models import testing
from models.ctr import dcn
from models.layers import cross

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return dcn.build(INFO, {**testing.tiny_hparams(dcn.DEFAULT_HPARAMS), **overrides})


def test_dcn_registered():
  assert registry.get_model('ctr', 'dcn').paper_metrics['auc'] == 0.7927


def test_dcn_default_two_vector_layers():
  layers = _build().get_layer('cross_network').cross_layers
  assert len(layers) == 2
  assert all(isinstance(layer, cross.VectorCross) for layer in layers)


def test_dcn_output_combines_cross_and_deep():
  model = _build()
  values = testing.layer_outputs(
      model, ['field_embedding', 'cross_network', 'dnn', 'click'], INPUTS)
  _, linear = values['field_embedding']
  kernel = model.get_layer('combined_logit').kernel.numpy()
  stacked = np.concatenate([values['cross_network'], values['dnn']], axis=1)
  bias = model.get_layer('click').bias.numpy()
  logit = linear + stacked @ kernel + bias
  np.testing.assert_allclose(values['click'], 1.0 / (1.0 + np.exp(-logit)), rtol=1e-5)


def test_dcn_matrix_option_uses_tfrs():
  layers = _build(cross_parameterization='matrix').get_layer('cross_network').cross_layers
  assert all(isinstance(layer, tfrs.layers.dcn.Cross) for layer in layers)


def test_dcn_cross_l2_losses():
  model = _build(embedding_l2=0.0, linear_l2=0.0)
  assert len(model.losses) == 2


def test_dcn_rejects_zero_layers():
  with pytest.raises(ValueError, match='cross_layers.*0'):
    _build(cross_layers=0)
