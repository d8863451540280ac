"""Tests for models.ctr.base."""

import pytest
import tensorflow as tf

from models import testing
from models.ctr import base
from models.layers import checks


def test_resolve_fills_defaults():
  resolved = base.resolve_hparams('m', {'a': 1, 'b': 2},
                                  {'a': checks.positive_int, 'b': checks.positive_int},
                                  {'b': 5})
  assert resolved == {'a': 1, 'b': 5}


def test_resolve_rejects_unknown_key():
  with pytest.raises(ValueError, match="'bogus'"):
    base.resolve_hparams('m', {'a': 1}, {'a': checks.positive_int}, {'bogus': 1})


def test_resolve_rejects_invalid_value():
  with pytest.raises(ValueError, match='-3'):
    base.resolve_hparams('m', {'a': 1}, {'a': checks.positive_int}, {'a': -3})


def test_resolve_requires_check_per_default():
  with pytest.raises(ValueError, match="'b'"):
    base.resolve_hparams('m', {'a': 1, 'b': 2}, {'a': checks.positive_int}, None)


def test_resolve_turns_unit_lists_into_tuples():
  resolved = base.resolve_hparams('m', {'units': (4,)}, {'units': base.units_check()},
                                  {'units': [8, 4]})
  assert resolved['units'] == (8, 4)


def test_activation_check_accepts_dice():
  assert base.activation_check('dnn_activation', 'dice') == 'dice'


def test_activation_check_rejects_unknown():
  with pytest.raises(ValueError, match="'rectifier'"):
    base.activation_check('dnn_activation', 'rectifier')


def test_model_inputs_shapes_and_dtypes():
  inputs = base.model_inputs(testing.tiny_feature_info('ctr'))
  assert inputs['user_id'].shape.as_list() == [None]
  assert inputs['hist_item_ids'].shape.as_list() == [None, 10]
  assert all(tensor.dtype == tf.int64 for tensor in inputs.values())


def test_check_label_requires_click():
  info = testing.tiny_feature_info('ctr')
  info = info.__class__(features=info.features, labels=('like',))
  with pytest.raises(ValueError, match="'click'"):
    base.check_label(info)


def test_paper_lambda_is_default():
  assert base.EMBEDDING_DEFAULTS['embedding_l2'] == 5e-5
  assert base.EMBEDDING_DEFAULTS['linear_l2'] == 5e-5


def test_training_defaults_follow_readme():
  assert base.TRAINING_DEFAULTS['learning_rate'] == 5e-5
  assert base.TRAINING_DEFAULTS['batch_size'] == 4096
  assert base.TRAINING_DEFAULTS['epochs'] == 20
  assert base.TRAINING_DEFAULTS['loss_reduction'] == 'mean'
