"""Tests of models.sequential.gru4rec."""

import numpy as np
import tensorflow as tf

from models import registry
from models.sequential import base
from models.sequential.gru4rec import GRU4Rec

import model_checks


def _model(**kwargs):
  defaults = {'num_items': 15, 'max_len': 8, 'num_layers': 2, 'embedding_dim': 8,
              'hidden_dim': 8, 'dropout': 0.3}
  defaults.update(kwargs)
  return GRU4Rec(**defaults).build_weights()


def test_gru4rec_is_causal():
  model_checks.assert_causal(_model(), position=5)


def test_gru4rec_causal_with_bias():
  model_checks.assert_causal(_model(use_bias=True), position=4)


def test_gru4rec_padding_amount_irrelevant():
  model = _model(use_bias=True)
  short = model(tf.constant([[0, 0, 0, 0, 0, 4, 5, 6]]), training=False).numpy()
  model_long = model(tf.constant([[0, 0, 0, 0, 0, 0, 0, 4]]), training=False).numpy()
  shifted = model(tf.constant([[0, 0, 0, 0, 0, 0, 4, 5]]), training=False).numpy()
  np.testing.assert_allclose(short[0, 5], model_long[0, 7], rtol=1e-5, atol=1e-6)
  np.testing.assert_allclose(short[0, 6], shifted[0, 7], rtol=1e-5, atol=1e-6)


def test_gru4rec_structure():
  model = _model(num_layers=3)
  assert len(model.encoder) == 3
  assert all(not layer.use_bias for layer in model.encoder)
  assert model.head.num_items == 15


def test_gru4rec_spec_defaults():
  spec = registry.get_model('sbr', 'gru4rec')
  assert spec.default_hparams['num_layers'] == 8
  assert spec.default_hparams['hidden_dim'] == 64
  assert spec.default_hparams['learning_rate'] == 5e-4
  assert spec.default_hparams['max_len'] == 30


def test_gru4rec_build_from_spec():
  spec = registry.get_model('sbr', 'gru4rec')
  hparams = spec.resolve_hparams({'num_layers': 1, 'max_len': 6})
  model = spec.build(base.sbr_feature_info(num_items=10, max_len=6), hparams)
  assert model(tf.zeros([2, 6], tf.int32)).shape == (2, 6, 11)
