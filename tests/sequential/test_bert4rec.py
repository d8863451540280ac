"""Tests of models.sequential.bert4rec."""

import numpy as np
import pytest
import tensorflow as tf

from models import registry
from models.sequential.bert4rec import BERT4Rec

import model_checks


def _model(**kwargs):
  defaults = {'num_items': 15, 'max_len': 8, 'hidden_dim': 8, 'num_blocks': 2,
              'num_heads': 2}
  defaults.update(kwargs)
  return BERT4Rec(**defaults).build_weights()


def test_bert4rec_is_bidirectional():
  before, after = model_checks.outputs_before_change(_model(), position=6)
  assert not np.allclose(before[:, 3], after[:, 3])


def test_bert4rec_mask_token_distinct():
  model = _model()
  assert model.mask_token == 16
  assert model.embedding.vocab_size == 17
  table = model.embedding.item_embeddings.numpy()
  assert not np.allclose(table[model.mask_token], 0)


def test_bert4rec_mask_token_is_attended():
  model = _model()
  base_ids = np.array([[0, 0, 3, 4, 5, 6, 7, 16]])
  padded = base_ids.copy()
  padded[0, 4] = 0
  masked = base_ids.copy()
  masked[0, 4] = 16
  # Replacing an item by padding hides it from every position; replacing it by [MASK]
  # keeps a visible token, so the two read-outs differ.
  padded_score = model.score(tf.constant(padded)).numpy()
  masked_score = model.score(tf.constant(masked)).numpy()
  assert not np.allclose(padded_score, masked_score)


def test_bert4rec_head_excludes_mask():
  model = _model()
  assert model(tf.ones([1, 8], tf.int32)).shape == (1, 8, 16)


def test_bert4rec_rejects_bad_mask_prob():
  with pytest.raises(ValueError, match='mask_prob'):
    BERT4Rec(num_items=5, mask_prob=0.0)


def test_bert4rec_spec_defaults():
  spec = registry.get_model('sbr', 'bert4rec')
  assert spec.default_hparams['hidden_dim'] == 128
  assert spec.default_hparams['num_blocks'] == 16
  assert spec.default_hparams['mask_prob'] == 0.3
  assert spec.default_hparams['learning_rate'] == 1e-4
