"""Tests for models.mtl.base."""

import pytest

from models import testing
from models.mtl import base


def test_objectives_check_returns_tuple():
  assert base.objectives_check('objectives', ['click', 'like']) == ('click', 'like')


def test_objectives_check_rejects_unknown_label():
  with pytest.raises(ValueError, match="'watching_times'"):
    base.objectives_check('objectives', ('click', 'watching_times'))


def test_objectives_check_rejects_repeats():
  with pytest.raises(ValueError, match='repeats'):
    base.objectives_check('objectives', ('click', 'click'))


def test_objectives_check_rejects_string():
  with pytest.raises(ValueError, match="'click'"):
    base.objectives_check('objectives', 'click')


def test_check_objectives_against_task_labels():
  info = testing.tiny_feature_info('ctr')
  with pytest.raises(ValueError, match="'like'"):
    base.check_objectives(info, ('click', 'like'))


def test_tower_defaults_follow_reference_with_relu():
  assert base.TOWER_DEFAULTS == {
      'tower_hidden_units': (128, 128),
      'tower_activation': 'relu',
      'tower_batch_norm': True,
      'tower_dropout': 0.5,
      'tower_l2': 0.0,
  }


def test_training_defaults():
  assert base.TRAINING_DEFAULTS['learning_rate'] == 1e-4
  assert base.TRAINING_DEFAULTS['batch_size'] == 4096
