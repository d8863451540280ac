"""Tests for models.ctr.dien."""

import numpy as np
import pytest
import tensorflow as tf

from models import registry
from models import testing
from models.ctr import dien
from models.layers import augru

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return dien.build(INFO, {**testing.tiny_hparams(dien.DEFAULT_HPARAMS), **overrides})


def test_dien_registered():
  assert registry.get_model('ctr', 'dien').display_name == 'DIEN'


def test_dien_default_is_augru():
  model = _build()
  assert isinstance(model.get_layer('interest_evolution'), augru.AUGRU)


def test_dien_reference_option_is_plain_gru():
  model = _build(gru_type='gru')
  assert isinstance(model.get_layer('interest_evolution'), tf.keras.layers.GRU)


def test_dien_no_auxiliary_loss_by_default():
  model = _build(embedding_l2=0.0)
  assert not model.losses


def test_dien_auxiliary_loss_added():
  model = _build(embedding_l2=0.0, auxiliary_loss_weight=1.0)
  model(INPUTS, training=True)
  assert len(model.losses) == 1
  assert float(model.losses[0]) > 0


def test_auxiliary_loss_formula():
  states = np.array([[[1.0, 0.0], [0.0, 1.0], [0.5, 0.5]],
                     [[0.0, 0.0], [1.0, 1.0], [2.0, 0.0]]], np.float32)
  keys = np.array([[[0.0, 0.0], [1.0, 2.0], [3.0, -1.0]],
                   [[0.0, 0.0], [0.5, 0.5], [-1.0, 1.0]]], np.float32)
  mask = np.array([[1, 1, 1], [0, 1, 1]], np.float32)
  layer = dien.InterestAuxiliaryLoss(weight=1.0)
  value = float(layer.auxiliary_loss(states, keys, mask))

  softplus = lambda x: np.log1p(np.exp(x))
  terms = []
  # Row 0 (negatives from row 1): t=0 pairs with position 1, but row 1 position 1 is real.
  for row, nxt in ((0, 1), (1, 0)):
    for t in range(2):
      if mask[row, t] and mask[row, t + 1] and mask[nxt, t + 1]:
        positive = states[row, t] @ keys[row, t + 1]
        negative = states[row, t] @ keys[nxt, t + 1]
        terms.append(softplus(-positive) + softplus(negative))
  np.testing.assert_allclose(value, np.mean(terms), rtol=1e-5)


@pytest.mark.parametrize('gru_type', dien.GRU_TYPES)
def test_dien_padding_row_does_not_change_prediction(gru_type):
  model = _build(gru_type=gru_type)
  inputs = dict(INPUTS)
  inputs['item_id'] = np.maximum(INPUTS['item_id'], 1)
  before = model(inputs, training=False)['click'].numpy()
  table = model.get_layer('behaviour_embedding').tables['embedding:item_id']
  table[0].assign(tf.fill([table.shape[1]], 5.0))
  after = model(inputs, training=False)['click'].numpy()
  np.testing.assert_allclose(after, before, rtol=1e-6)


def test_dien_empty_history_gives_zero_interest():
  model = _build()
  inputs = dict(INPUTS)
  inputs['hist_item_ids'] = np.zeros_like(INPUTS['hist_item_ids'])
  values = testing.layer_outputs(model, ['interest_evolution'], inputs)
  np.testing.assert_array_equal(values['interest_evolution'], np.zeros((8, 4)))


def test_dien_rejects_unknown_gru_type():
  with pytest.raises(ValueError, match="'lstm'"):
    _build(gru_type='lstm')


def test_dien_rejects_negative_auxiliary_weight():
  with pytest.raises(ValueError, match='-1'):
    _build(auxiliary_loss_weight=-1.0)
