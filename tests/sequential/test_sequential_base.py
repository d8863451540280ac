"""Tests of models.sequential.base (shared by the four models)."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.sequential import base
from models.sequential.nextitnet import NextItNet
from models.sequential.sasrec import SASRec


def _sasrec(**kwargs):
  defaults = {'num_items': 12, 'max_len': 6, 'hidden_dim': 8, 'num_blocks': 2,
              'num_heads': 2, 'dropout': 0.0}
  defaults.update(kwargs)
  return SASRec(**defaults).build_weights()


IDS = tf.constant([[0, 0, 3, 4, 5, 6], [0, 1, 2, 3, 4, 5]])
LABELS = tf.constant([[0, 0, 4, 5, 6, 7], [0, 2, 3, 4, 5, 0]])


def test_loss_matches_full_logits():
  model = _sasrec()
  loss, count = model.sequence_loss(IDS, LABELS, training=False)
  expected = base.masked_item_cross_entropy(LABELS, model(IDS, training=False))
  assert float(count) == 8
  np.testing.assert_allclose(float(loss), float(expected), rtol=1e-5)


def test_loss_by_hand():
  logits = np.log(np.array([[[5.0, 1.0, 2.0, 1.0], [1.0, 1.0, 1.0, 1.0]]]))
  labels = np.array([[2, 0]])
  # Softmax over items 1..3 only: p(item 2) = 2 / (1 + 2 + 1).
  expected = -np.log(0.5)
  np.testing.assert_allclose(
      float(base.masked_item_cross_entropy(labels, tf.constant(logits, tf.float32))),
      expected, rtol=1e-5)


def test_loss_without_labels_is_zero():
  model = _sasrec()
  loss, count = model.sequence_loss(IDS, tf.zeros_like(LABELS))
  assert float(count) == 0
  assert float(loss) == 0


def test_mean_pooling_equals_mean_logits():
  model = _sasrec()
  expected = tf.reduce_mean(model(IDS, training=False), axis=1).numpy()
  np.testing.assert_allclose(model.score(IDS, pooling='mean').numpy(), expected, rtol=1e-4,
                             atol=1e-5)


def test_last_pooling_equals_last_logits():
  model = _sasrec()
  expected = model(IDS, training=False).numpy()[:, -1]
  np.testing.assert_allclose(model.score(IDS).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_dict_inputs_accepted():
  model = _sasrec()
  np.testing.assert_allclose(model({'item_ids': IDS}).numpy(), model(IDS).numpy())


def test_dict_without_item_ids():
  model = _sasrec()
  with pytest.raises(ValueError, match='item_ids'):
    model({'items': IDS})


def test_invalid_pooling():
  with pytest.raises(ValueError, match='pooling'):
    _sasrec().score(IDS, pooling='max')


def test_fit_reduces_loss():
  tf_keras.utils.set_random_seed(1)
  model = _sasrec()
  model.compile(optimizer=tf_keras.optimizers.Adam(0.01))
  batch = tf.data.Dataset.from_tensors((IDS, LABELS))
  initial_loss = float(model.evaluate(batch, verbose=0))
  model.fit(batch.repeat(30), epochs=1, verbose=0)
  trained_loss = float(model.evaluate(batch, verbose=0))
  assert trained_loss < 0.5 * initial_loss


def test_copy_all_weights():
  source = _sasrec()
  target = _sasrec()
  target.copy_weights_from(source)
  np.testing.assert_allclose(target(IDS).numpy(), source(IDS).numpy(), rtol=1e-6)


def test_copy_selected_blocks():
  source = _sasrec(num_blocks=2)
  target = _sasrec(num_blocks=4)
  target.copy_weights_from(source, embedding=False, blocks=[2, 3], head=False,
                           block_mapping={2: 0, 3: 1})
  for target_index, source_index in ((2, 0), (3, 1)):
    for got, expected in zip(target.encoder[target_index].get_weights(),
                             source.encoder[source_index].get_weights()):
      np.testing.assert_array_equal(got, expected)
  assert not np.allclose(target.embedding.get_weights()[0], source.embedding.get_weights()[0])


def test_copy_shape_mismatch():
  with pytest.raises(ValueError, match='Cannot copy embedding'):
    _sasrec(num_items=12).copy_weights_from(_sasrec(num_items=13), blocks=None, head=False)


def test_copy_missing_source_block():
  with pytest.raises(ValueError, match='no block 3'):
    _sasrec(num_blocks=4).copy_weights_from(_sasrec(num_blocks=2), blocks=[3])


def test_set_trainable_parts():
  model = _sasrec()
  total = len(model.trainable_weights)
  model.set_trainable(embedding=False, blocks=[0], blocks_trainable=False)
  frozen = (len(model.embedding.weights) + len(model.encoder[0].weights))
  assert len(model.trainable_weights) == total - frozen
  assert model.encoder[1].trainable


def test_set_trainable_bad_index():
  with pytest.raises(ValueError, match='blocks 0..1'):
    _sasrec().set_trainable(blocks=[5])


def test_config_round_trip():
  model = NextItNet(num_items=9, max_len=5, embedding_dim=4, dilations=(1, 2), block_num=2)
  clone = NextItNet.from_config(model.get_config())
  assert clone.get_config() == model.get_config()
  assert len(clone.encoder) == 4


def test_feature_info_round_trip():
  info = base.sbr_feature_info(num_items=20, max_len=7)
  assert base.num_items_from_feature_info(info, 7) == 20
