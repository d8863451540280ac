"""Tests for models.mtl.single_task."""

import pytest

from models import registry
from models import testing
from models.mtl import single_task

INFO = testing.tiny_feature_info('mtl')


def _build(builder, defaults, **overrides):
  return builder(INFO, {**testing.tiny_hparams(defaults), **overrides})


def test_single_models_registered():
  assert registry.get_model('mtl', 'single_click').paper_metrics == {'click_auc': 0.7957}
  assert registry.get_model('mtl', 'single_like').paper_metrics == {'like_auc': 0.9160}


def test_single_click_outputs_click_only():
  model = _build(single_task.build_click, single_task.CLICK_DEFAULT_HPARAMS)
  assert model.output_names == ['click']


def test_single_like_outputs_like_only():
  model = _build(single_task.build_like, single_task.LIKE_DEFAULT_HPARAMS)
  assert model.output_names == ['like']


def test_single_mmoe_architecture_has_one_gate():
  model = _build(single_task.build_click, single_task.CLICK_DEFAULT_HPARAMS,
                 architecture='mmoe')
  assert model.get_layer('mmoe').gate_kernel.shape[0] == 1


def test_single_tower_architecture_has_no_experts():
  model = _build(single_task.build_click, single_task.CLICK_DEFAULT_HPARAMS)
  assert 'mmoe' not in [layer.name for layer in model.layers]


def test_single_rejects_two_objectives():
  with pytest.raises(ValueError, match='one objective'):
    _build(single_task.build_click, single_task.CLICK_DEFAULT_HPARAMS,
           objectives=('click', 'like'))


def test_single_rejects_unknown_architecture():
  with pytest.raises(ValueError, match="'ple'"):
    _build(single_task.build_like, single_task.LIKE_DEFAULT_HPARAMS, architecture='ple')
