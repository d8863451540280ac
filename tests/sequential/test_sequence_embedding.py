"""Tests of models.layers.sequence.embedding."""

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.layers.sequence import SequenceEmbedding


def test_embedding_padding_rows_are_zero():
  layer = SequenceEmbedding(vocab_size=6, embedding_dim=4)
  vectors = layer(tf.constant([[0, 0, 3, 5]])).numpy()
  assert np.all(vectors[0, :2] == 0)
  assert np.all(vectors[0, 2] == layer.item_embeddings.numpy()[3])


def test_embedding_padding_gets_no_gradient():
  layer = SequenceEmbedding(vocab_size=6, embedding_dim=4)
  with tf.GradientTape() as tape:
    total = tf.reduce_sum(layer(tf.constant([[0, 2, 0, 3]])))
  gradient = tf.convert_to_tensor(tape.gradient(total, layer.item_embeddings)).numpy()
  assert np.all(gradient[0] == 0)
  assert np.all(gradient[2] == 1)


def test_embedding_positions_right_aligned():
  layer = SequenceEmbedding(vocab_size=6, embedding_dim=4, max_len=5)
  short = layer(tf.constant([[2, 3]])).numpy()
  full = layer(tf.constant([[0, 0, 0, 2, 3]])).numpy()
  np.testing.assert_allclose(short[0], full[0, 3:], rtol=1e-6)


def test_embedding_rejects_longer_input():
  layer = SequenceEmbedding(vocab_size=6, embedding_dim=4, max_len=2)
  with pytest.raises(tf.errors.InvalidArgumentError, match='max_len=2'):
    layer(tf.constant([[1, 2, 3]]))


def test_embedding_tables_differ():
  layer = SequenceEmbedding(vocab_size=5, embedding_dim=4, max_len=5)
  layer.build([None, 5])
  assert not np.allclose(layer.item_embeddings.numpy(), layer.position_embeddings.numpy())


def test_embedding_config_round_trip():
  layer = SequenceEmbedding(vocab_size=7, embedding_dim=3, max_len=4, dropout=0.2,
                            embeddings_stddev=0.5)
  clone = tf_keras.layers.deserialize(tf_keras.layers.serialize(layer))
  assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize('kwargs, message', [
    ({'vocab_size': 0, 'embedding_dim': 4}, 'vocab_size'),
    ({'vocab_size': 5, 'embedding_dim': 4, 'dropout': 1.0}, 'dropout'),
    ({'vocab_size': 5, 'embedding_dim': 4, 'padding_id': 5}, 'padding_id'),
])
def test_embedding_invalid_arguments(kwargs, message):
  with pytest.raises(ValueError, match=message):
    SequenceEmbedding(**kwargs)
