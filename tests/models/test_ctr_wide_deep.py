"""Tests for models.ctr.wide_deep."""

import numpy as np

from models import registry
from models import testing
from models.ctr import wide_deep

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return wide_deep.build(INFO, {**testing.tiny_hparams(wide_deep.DEFAULT_HPARAMS), **overrides})


def test_wide_deep_registered():
  spec = registry.get_model('ctr', 'wide_deep')
  assert spec.display_name == 'Wide & Deep'
  assert spec.paper_metrics['auc'] == 0.7919


def test_wide_deep_output_is_linear_plus_dnn():
  model = _build()
  values = testing.layer_outputs(model, ['field_embedding', 'dnn_logit', 'click'], INPUTS)
  _, linear = values['field_embedding']
  bias = model.get_layer('click').bias.numpy()
  expected = 1.0 / (1.0 + np.exp(-(linear + values['dnn_logit'] + bias)))
  np.testing.assert_allclose(values['click'], expected, rtol=1e-5)


def test_wide_deep_dnn_input_is_concatenated_fields():
  model = _build()
  assert model.get_layer('concat_fields').output.shape[-1] == 6 * 4


def test_wide_deep_dnn_layers():
  model = _build(dnn_hidden_units=(16, 8))
  widths = [layer.units for layer in model.get_layer('dnn').dense_layers]
  assert widths == [16, 8]
