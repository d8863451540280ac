"""Tests of models.sequential.nextitnet."""

import tensorflow as tf

from models import registry
from models.sequential import base
from models.sequential.nextitnet import NextItNet

import model_checks


def _model(**kwargs):
  defaults = {'num_items': 15, 'max_len': 10, 'embedding_dim': 8, 'block_num': 1}
  defaults.update(kwargs)
  return NextItNet(**defaults).build_weights()


def test_nextitnet_is_causal():
  model_checks.assert_causal(_model(), position=6)


def test_nextitnet_block_count_and_dilations():
  model = _model(block_num=8)
  assert len(model.encoder) == 16
  assert [block.dilation for block in model.encoder[:4]] == [1, 4, 1, 4]
  assert model.encoder[1].conv2.dilation_rate == (8,)


def test_nextitnet_spec_defaults():
  spec = registry.get_model('sbr', 'nextitnet')
  assert spec.default_hparams['embedding_dim'] == 128
  assert spec.default_hparams['block_num'] == 8
  assert tuple(spec.default_hparams['dilations']) == (1, 4)
  assert spec.default_hparams['learning_rate'] == 1e-4


def test_nextitnet_build_from_spec():
  spec = registry.get_model('sbr', 'nextitnet')
  hparams = spec.resolve_hparams({'block_num': 1, 'embedding_dim': 8, 'max_len': 5})
  model = spec.build(base.sbr_feature_info(num_items=10, max_len=5), hparams)
  assert model(tf.zeros([1, 5], tf.int32)).shape == (1, 5, 11)
