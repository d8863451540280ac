"""Tests for models.ctr.din."""

import numpy as np
import pytest
import tensorflow as tf

from models import registry
from models import testing
from models.ctr import din
from models.layers import activation

INFO = testing.tiny_feature_info('ctr')
INPUTS = testing.random_inputs(INFO, batch_size=8, seed=0)


def _build(**overrides):
  return din.build(INFO, {**testing.tiny_hparams(din.DEFAULT_HPARAMS), **overrides})


def test_din_registered_without_paper_metrics():
  spec = registry.get_model('ctr', 'din')
  assert spec.paper_metrics == {}


def test_din_attention_uses_dice():
  model = _build()
  pooling = model.get_layer('attention_pooling')
  assert isinstance(pooling.mlp.activation_layers[0], activation.Dice)


def test_din_history_shares_item_table():
  model = _build()
  tables = sorted(w.name.split('/')[-1] for w in model.get_layer('behaviour_embedding').weights)
  assert 'hist_item_ids_embedding:0' not in tables
  assert 'item_id_embedding:0' in tables


def _noisy_padding_row(model):
  """Returns predictions before and after filling row 0 (padding) of the item table."""
  inputs = dict(INPUTS)
  inputs['item_id'] = np.maximum(INPUTS['item_id'], 1)
  before = model(inputs, training=False)['click'].numpy()
  table = model.get_layer('behaviour_embedding').tables['embedding:item_id']
  table[0].assign(tf.fill([table.shape[1]], 5.0))
  return before, model(inputs, training=False)['click'].numpy()


def test_din_padding_row_does_not_change_prediction():
  before, after = _noisy_padding_row(_build())
  np.testing.assert_allclose(after, before, rtol=1e-6)


def test_din_padding_is_masked_not_a_category():
  model = _build()
  values = testing.layer_outputs(model, ['behaviour_embedding'], INPUTS)
  mask = values['behaviour_embedding']['mask']
  np.testing.assert_array_equal(mask, (INPUTS['hist_item_ids'] != 0).astype(np.float32))


def test_din_reference_mode_has_own_table():
  model = _build(history_mode='reference_separate_table')
  tables = [w.name.split('/')[-1] for w in model.get_layer('behaviour_embedding').weights]
  assert 'hist_item_ids_embedding:0' in tables


def test_din_dnn_input_width():
  model = _build()
  # Five scalar fields plus the pooled interest, each of width 4.
  assert model.get_layer('fields_and_interest').output.shape[-1] == 6 * 4


def test_din_rejects_unknown_history_mode():
  with pytest.raises(ValueError, match="'pooled'"):
    _build(history_mode='pooled')
