"""Tests of models.sequential.sasrec (and the shared transformer_base)."""

import numpy as np
import pytest
import tensorflow as tf

from models import registry
from models.sequential import base
from models.sequential.sasrec import SASRec

import model_checks


def _model(**kwargs):
  defaults = {'num_items': 15, 'max_len': 8, 'hidden_dim': 8, 'num_blocks': 2,
              'num_heads': 2}
  defaults.update(kwargs)
  return SASRec(**defaults).build_weights()


def test_sasrec_is_causal():
  model_checks.assert_causal(_model(), position=5)


def test_sasrec_causal_without_final_norm():
  model_checks.assert_causal(_model(final_layer_norm=False), position=3)


def test_sasrec_bidirectional_option_leaks():
  before, after = model_checks.outputs_before_change(_model(causal=False), position=6)
  assert not np.allclose(before[:, 3], after[:, 3])


def test_sasrec_tied_output_shares_table():
  model = _model(tie_output=True)
  assert model.head.kernel is None
  ids = tf.ones([1, 8], tf.int32)
  hidden = model.encode(ids)[:, -1]
  expected = hidden.numpy() @ model.embedding.item_embeddings.numpy().T + (
      model.head.bias.numpy())
  np.testing.assert_allclose(model.score(ids).numpy(), expected, rtol=1e-4, atol=1e-4)


def test_sasrec_final_norm_attribute():
  assert _model().encoder_norm is not None
  assert _model(final_layer_norm=False).encoder_norm is None


def test_sasrec_spec_defaults():
  spec = registry.get_model('sbr', 'sasrec')
  assert spec.default_hparams['hidden_dim'] == 64
  assert spec.default_hparams['num_blocks'] == 8
  assert spec.default_hparams['num_heads'] == 4
  assert spec.default_hparams['ffn_dim'] == 256
  assert spec.default_hparams['causal'] is True


def test_sasrec_build_checks_length():
  spec = registry.get_model('sbr', 'sasrec')
  hparams = spec.resolve_hparams({'num_blocks': 1, 'max_len': 6})
  with pytest.raises(ValueError, match='max_len is 6'):
    spec.build(base.sbr_feature_info(num_items=10, max_len=7), hparams)
