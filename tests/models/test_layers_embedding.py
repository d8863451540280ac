"""Tests for models.layers.embedding."""

import numpy as np
import pytest
import tensorflow as tf

from models import features
from models.layers import embedding

INFO = features.FeatureInfo(
    features=(
        features.CategoricalFeature('user_id', 5),
        features.CategoricalFeature('item_id', 7),
        features.CategoricalFeature('hist_item_ids', 7, length=3, vocabulary='item_id'),
    ),
    labels=('click',))

INPUTS = {
    'user_id': tf.constant([1, 0], tf.int64),
    'item_id': tf.constant([2, 3], tf.int64),
    'hist_item_ids': tf.constant([[0, 4, 5], [0, 0, 0]], tf.int64),
}


def _table(layer, key):
  return layer.tables[key].numpy()


def test_pooled_mode_masked_mean():
  layer = embedding.FieldEmbedding(INFO, 4)
  fields, _ = layer(INPUTS)
  items = _table(layer, 'embedding:item_id')
  np.testing.assert_allclose(fields.numpy()[0, 2], (items[4] + items[5]) / 2, rtol=1e-6)


def test_pooled_mode_empty_history_is_zero():
  layer = embedding.FieldEmbedding(INFO, 4)
  fields, _ = layer(INPUTS)
  np.testing.assert_array_equal(fields.numpy()[1, 2], np.zeros(4))


def test_pooled_mode_sum_pooling():
  layer = embedding.FieldEmbedding(INFO, 4, history_pooling='sum')
  fields, _ = layer(INPUTS)
  items = _table(layer, 'embedding:item_id')
  np.testing.assert_allclose(fields.numpy()[0, 2], items[4] + items[5], rtol=1e-6)


def test_history_shares_item_table():
  layer = embedding.FieldEmbedding(INFO, 4)
  layer(INPUTS)
  names = sorted(w.name.split('/')[-1] for w in layer.weights)
  assert names == ['item_id_embedding:0', 'item_id_linear:0', 'user_id_embedding:0',
                   'user_id_linear:0']


def test_scalar_index_zero_is_learnable_row():
  layer = embedding.FieldEmbedding(INFO, 4)
  fields, _ = layer(INPUTS)
  np.testing.assert_array_equal(fields.numpy()[1, 0], _table(layer, 'embedding:user_id')[0])


def test_fields_mode_one_field_per_position():
  layer = embedding.FieldEmbedding(INFO, 4, history_mode='fields')
  fields, _ = layer(INPUTS)
  items = _table(layer, 'embedding:item_id')
  assert fields.shape == (2, 5, 4)
  np.testing.assert_array_equal(fields.numpy()[0, 2], np.zeros(4))
  np.testing.assert_allclose(fields.numpy()[0, 3:], items[[4, 5]], rtol=1e-6)


def test_reference_mode_separate_tables():
  layer = embedding.FieldEmbedding(INFO, 4, history_mode='reference_separate_fields')
  fields, _ = layer(INPUTS)
  slot_1 = _table(layer, 'embedding:hist_item_ids_1')
  assert fields.shape == (2, 5, 4)
  np.testing.assert_allclose(fields.numpy()[0, 2], slot_1[0], rtol=1e-6)
  assert 'embedding:hist_item_ids_3' in layer.tables


def test_reference_mode_padding_is_a_category():
  layer = embedding.FieldEmbedding(INFO, 4, history_mode='reference_separate_fields')
  fields, _ = layer(INPUTS)
  assert np.abs(fields.numpy()[1, 2:]).sum() > 0


def test_linear_logit_sums_weights():
  layer = embedding.FieldEmbedding(INFO, 4)
  _, linear = layer(INPUTS)
  users = _table(layer, 'linear:user_id')[:, 0]
  items = _table(layer, 'linear:item_id')[:, 0]
  expected = users[1] + items[2] + (items[4] + items[5]) / 2
  np.testing.assert_allclose(linear.numpy()[0, 0], expected, rtol=1e-5)


def test_without_linear_returns_fields_only():
  fields = embedding.FieldEmbedding(INFO, 4, use_linear=False)(INPUTS)
  assert fields.shape == (2, 3, 4)


def test_num_fields_by_mode():
  counts = [embedding.FieldEmbedding(INFO, 4, history_mode=mode).num_fields
            for mode in embedding.HISTORY_MODES]
  assert counts == [3, 5, 5]


def test_l2_adds_one_loss_per_table():
  layer = embedding.FieldEmbedding(INFO, 4, embedding_l2=1e-5, linear_l2=1e-5)
  layer(INPUTS)
  assert len(layer.losses) == 4


def test_l2_value_is_table_sum_of_squares():
  layer = embedding.FieldEmbedding(INFO, 4, embedding_l2=0.5, use_linear=False)
  layer(INPUTS)
  expected = 0.5 * sum((t.numpy() ** 2).sum() for t in layer.weights)
  np.testing.assert_allclose(float(tf.add_n(layer.losses)), expected, rtol=1e-5)


def test_init_std():
  info = features.FeatureInfo(features=(features.CategoricalFeature('user_id', 20000),),
                              labels=('click',))
  layer = embedding.FieldEmbedding(info, 8, init_std=1e-4)
  layer({'user_id': tf.constant([1], tf.int64)})
  assert abs(layer.weights[0].numpy().std() - 1e-4) < 1e-5


def test_missing_input_named():
  layer = embedding.FieldEmbedding(INFO, 4)
  with pytest.raises(ValueError, match='hist_item_ids'):
    layer({'user_id': INPUTS['user_id'], 'item_id': INPUTS['item_id']})


def test_shared_vocabulary_size_mismatch():
  info = features.FeatureInfo(
      features=(features.CategoricalFeature('item_id', 7),
                features.CategoricalFeature('hist_item_ids', 9, length=3,
                                            vocabulary='item_id')),
      labels=('click',))
  with pytest.raises(ValueError, match='sizes 7 and 9'):
    embedding.FieldEmbedding(info, 4)


def test_rejects_unknown_history_mode():
  with pytest.raises(ValueError, match="'ten_fields'"):
    embedding.FieldEmbedding(INFO, 4, history_mode='ten_fields')


def test_rejects_negative_dim():
  with pytest.raises(ValueError, match='-4'):
    embedding.FieldEmbedding(INFO, -4)


def test_field_embedding_config_round_trip():
  layer = embedding.FieldEmbedding(INFO, 4, history_mode='fields', embedding_l2=1e-5)
  restored = embedding.FieldEmbedding.from_config(layer.get_config())
  assert restored.get_config() == layer.get_config()
  assert restored.feature_info == INFO


def test_behaviour_outputs_and_mask():
  layer = embedding.BehaviourEmbedding(INFO, 4)
  outputs = layer(INPUTS)
  items = _table(layer, 'embedding:item_id')
  assert outputs['fields'].shape == (2, 2, 4)
  np.testing.assert_allclose(outputs['query'].numpy()[0], items[2], rtol=1e-6)
  np.testing.assert_allclose(outputs['keys'].numpy()[0, 1], items[4], rtol=1e-6)
  np.testing.assert_array_equal(outputs['mask'].numpy(), [[0, 1, 1], [0, 0, 0]])


def test_behaviour_reference_mode_own_table_no_mask():
  layer = embedding.BehaviourEmbedding(INFO, 4, behaviour_mode='reference_separate_table')
  outputs = layer(INPUTS)
  history = _table(layer, 'embedding:hist_item_ids')
  np.testing.assert_allclose(outputs['keys'].numpy()[0, 0], history[0], rtol=1e-6)
  np.testing.assert_array_equal(outputs['mask'].numpy(), np.ones((2, 3)))


def test_behaviour_needs_query_vocabulary():
  info = features.FeatureInfo(
      features=(features.CategoricalFeature('item_id', 7),
                features.CategoricalFeature('tags', 5, length=3)),
      labels=('click',))
  with pytest.raises(ValueError, match='no query item'):
    embedding.BehaviourEmbedding(info, 4)


def test_behaviour_config_round_trip():
  layer = embedding.BehaviourEmbedding(INFO, 4, behaviour_mode='reference_separate_table')
  restored = embedding.BehaviourEmbedding.from_config(layer.get_config())
  assert restored.get_config() == layer.get_config()


def test_masked_pool_mean():
  pooled = embedding.masked_pool(tf.constant([[[1.0], [3.0], [8.0]]]),
                                 tf.constant([[1.0, 1.0, 0.0]]))
  np.testing.assert_allclose(pooled.numpy(), [[2.0]])
