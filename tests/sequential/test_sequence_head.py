"""Tests of models.layers.sequence.head."""

import numpy as np
import pytest
import tensorflow as tf

from models.layers.sequence import ItemScoringHead
from models.layers.sequence import SequenceEmbedding


def test_head_output_shape():
  head = ItemScoringHead(num_items=9)
  assert head(tf.zeros([2, 3, 5])).shape == (2, 3, 10)


def test_head_item_logits_drop_padding():
  head = ItemScoringHead(num_items=9)
  hidden = tf.random.normal([4, 5])
  full = head(hidden).numpy()
  items = head.item_logits(hidden).numpy()
  np.testing.assert_allclose(items, full[:, 1:], rtol=1e-5, atol=1e-6)


def test_head_tied_uses_embedding():
  embedding = SequenceEmbedding(vocab_size=12, embedding_dim=4)  # items 1..10 + a mask id
  embedding(tf.constant([[1]]))
  head = ItemScoringHead(num_items=10, tied_embedding=embedding)
  hidden = tf.random.normal([3, 4])
  expected = hidden.numpy() @ embedding.item_embeddings.numpy()[:11].T
  np.testing.assert_allclose(head(hidden).numpy(), expected, rtol=1e-5, atol=1e-5)


def test_head_tied_not_tracked_twice():
  embedding = SequenceEmbedding(vocab_size=11, embedding_dim=4)
  embedding(tf.constant([[1]]))
  head = ItemScoringHead(num_items=10, tied_embedding=embedding)
  head(tf.zeros([1, 4]))
  assert [w.name.split('/')[-1] for w in head.weights] == ['bias:0']


def test_head_tied_width_mismatch():
  embedding = SequenceEmbedding(vocab_size=11, embedding_dim=4)
  embedding(tf.constant([[1]]))
  head = ItemScoringHead(num_items=10, tied_embedding=embedding)
  with pytest.raises(ValueError, match='width 4'):
    head(tf.zeros([1, 6]))


def test_head_tied_embedding_too_small():
  embedding = SequenceEmbedding(vocab_size=5, embedding_dim=4)
  with pytest.raises(ValueError, match='ids 0..10'):
    ItemScoringHead(num_items=10, tied_embedding=embedding)


def test_head_item_logits_before_build():
  head = ItemScoringHead(num_items=3)
  with pytest.raises(ValueError, match='not built'):
    head.item_logits(tf.zeros([1, 2]))
