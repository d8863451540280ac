"""Tests for models.mtl.ple."""

import pytest

from models import registry
from models import testing
from models.layers import moe
from models.mtl import ple

INFO = testing.tiny_feature_info('mtl')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return ple.build(INFO, {**testing.tiny_hparams(ple.DEFAULT_HPARAMS), **overrides})


def test_ple_registered():
  assert registry.get_model('mtl', 'ple').paper_metrics['click_auc'] == 0.7822


def test_ple_default_levels():
  model = _build()
  levels = [layer for layer in model.layers if isinstance(layer, moe.CustomizedGateControl)]
  assert len(levels) == 2
  assert levels[0].output_shared is True
  assert levels[1].output_shared is False


def test_ple_gate_shapes_per_level():
  model = _build(num_shared_experts=2, num_specific_experts=1)
  values = testing.layer_outputs(model, ['concat_fields', 'cgc_0'], INPUTS)
  gates = model.get_layer('cgc_0').gate_weights(values['concat_fields'])
  assert [tuple(g.shape) for g in gates] == [(8, 3), (8, 3), (8, 4)]


def test_ple_last_level_outputs_one_per_task():
  model = _build(objectives=('click', 'like', 'share'))
  assert len(model.get_layer('cgc_1').output) == 3


def test_ple_single_level():
  model = _build(num_levels=1)
  assert model.get_layer('cgc_0').output_shared is False


def test_ple_rejects_zero_levels():
  with pytest.raises(ValueError, match='num_levels.*0'):
    _build(num_levels=0)
