"""Tests of models.metrics.ranking."""

import math

import numpy as np
import pytest
import tensorflow as tf

from models.metrics import ranking


def test_constant_scores_rank_last():
  num_items = 50
  scores = tf.zeros([3, num_items + 1])
  ranks = ranking.full_ranks(scores, tf.constant([1, 17, 50])).numpy()
  np.testing.assert_array_equal(ranks, [50, 50, 50])
  metrics = ranking.summarize_ranks(ranks, ks=(5, 10, 20, 50))
  assert metrics['HR@20'] == 0.0
  assert metrics['NDCG@20'] == 0.0
  assert metrics['HR@50'] == 1.0
  assert metrics['NDCG@50'] == pytest.approx(1 / math.log2(51))


def test_perfect_scores_rank_first():
  scores = tf.one_hot([3, 7], depth=11) * 5.0
  ranks = ranking.full_ranks(scores, tf.constant([3, 7])).numpy()
  metrics = ranking.summarize_ranks(ranks, ks=(1, 10))
  assert metrics['HR@1'] == 1.0
  assert metrics['NDCG@1'] == 1.0


def test_ties_by_hand():
  # Target item 1 (0.5): item 2 is higher; items 3 and 5 tie; item 4 is lower.
  scores = tf.constant([[9.0, 0.5, 0.9, 0.5, 0.1, 0.5]])
  rank = int(ranking.full_ranks(scores, tf.constant([1])).numpy()[0])
  assert rank == 4
  metrics = ranking.summarize_ranks([rank], ks=(3, 5))
  assert metrics['HR@3'] == 0.0
  assert metrics['HR@5'] == 1.0
  assert metrics['NDCG@5'] == pytest.approx(1 / math.log2(5))


def test_padding_column_ignored():
  low = tf.constant([[-5.0, 1.0, 2.0, 3.0]])
  high = tf.constant([[99.0, 1.0, 2.0, 3.0]])
  assert int(ranking.full_ranks(low, [3])[0]) == 1
  assert int(ranking.full_ranks(high, [3])[0]) == 1


def test_mean_over_users_not_batches():
  accumulator = ranking.RankAccumulator()
  accumulator.update([1, 1, 1])   # batch of three hits
  accumulator.update([100])       # batch of one miss
  metrics = accumulator.result(ks=(10,))
  assert accumulator.count == 4
  assert metrics['HR@10'] == pytest.approx(0.75)
  assert metrics['HR@10'] != pytest.approx((1.0 + 0.0) / 2)


def test_seen_items_masked_except_target():
  scores = tf.constant([[0.0, 0.9, 0.8, 0.7, 0.1]])
  seen = tf.constant([[1, 3, 0]])
  assert int(ranking.full_ranks(scores, [3])[0]) == 3
  assert int(ranking.full_ranks(scores, [3], seen_items=seen)[0]) == 2


def test_nan_scores_rejected():
  scores = tf.constant([[0.0, np.nan, 1.0]])
  with pytest.raises(tf.errors.InvalidArgumentError, match='ranking scores'):
    ranking.full_ranks(scores, [2])


def test_target_out_of_range():
  with pytest.raises(tf.errors.InvalidArgumentError, match='<= V'):
    ranking.full_ranks(tf.zeros([1, 4]), [4])
  with pytest.raises(tf.errors.InvalidArgumentError, match='>= 1'):
    ranking.full_ranks(tf.zeros([1, 4]), [0])


def test_sampled_ranks_by_hand():
  scores = tf.constant([[0.0, 0.5, 0.9, 0.5, 0.1]])
  # Candidates: target 1 and negatives 2 (higher), 3 (tie), 4 (lower).
  assert int(ranking.sampled_ranks(scores, [1], [[2, 3, 4]])[0]) == 3
  assert int(ranking.sampled_ranks(scores, [1], [[4]])[0]) == 1


def test_sampled_negative_equal_target():
  with pytest.raises(tf.errors.InvalidArgumentError, match='equals its target'):
    ranking.sampled_ranks(tf.zeros([1, 5]), [2], [[2, 3]])


def test_sampled_metric_names():
  metrics = ranking.summarize_ranks([1, 3], ks=(10,), num_negatives=100)
  assert set(metrics) == {'HR@10 (sampled 100)', 'NDCG@10 (sampled 100)'}


def test_top_k_items():
  scores = tf.constant([[5.0, 0.1, 0.7, 0.3], [5.0, 0.9, 0.2, 0.4]])
  items, values = ranking.top_k_items(scores, 2)
  np.testing.assert_array_equal(items.numpy(), [[2, 3], [1, 3]])
  np.testing.assert_allclose(values.numpy(), [[0.7, 0.3], [0.9, 0.4]])


def test_top_k_clipped_and_masked():
  scores = tf.constant([[5.0, 0.1, 0.7, 0.3]])
  items, _ = ranking.top_k_items(scores, 10, seen_items=tf.constant([[2]]))
  np.testing.assert_array_equal(items.numpy(), [[3, 1, 2]])


@pytest.mark.parametrize('name, parsed', [
    ('NDCG@10', ('NDCG', 10, None)),
    ('HR@5 (sampled 100)', ('HR', 5, 100)),
])
def test_parse_metric_name(name, parsed):
  assert ranking.parse_metric_name(name) == parsed


@pytest.mark.parametrize('name', ['ndcg10', 'MRR@10', 'HR@0', 'HR@5 (sampled)'])
def test_parse_metric_name_invalid(name):
  with pytest.raises(ValueError, match='Invalid ranking metric'):
    ranking.parse_metric_name(name)


def test_summarize_rejects_empty():
  with pytest.raises(ValueError, match='zero users'):
    ranking.summarize_ranks([])


def test_sample_negatives_excludes_history_and_target():
  values = np.array([1, 2, 3, 4, 5])
  row_splits = np.array([0, 3, 5])
  samples = ranking.sample_negatives([7, 8], [6, 9], num_items=12, num_negatives=5, seed=3,
                                     history_values=values, history_row_splits=row_splits)
  for row, excluded in enumerate(({1, 2, 3, 6}, {4, 5, 9})):
    negatives = samples.negatives[row]
    assert len(set(negatives.tolist())) == 5
    assert not set(negatives.tolist()) & excluded
    assert negatives.min() >= 1
    assert negatives.max() <= 12


def test_sample_negatives_seeded():
  first = ranking.sample_negatives([1, 2], [3, 4], 50, 10, seed=11)
  second = ranking.sample_negatives([1, 2], [3, 4], 50, 10, seed=11)
  other = ranking.sample_negatives([1, 2], [3, 4], 50, 10, seed=12)
  np.testing.assert_array_equal(first.negatives, second.negatives)
  assert not np.array_equal(first.negatives, other.negatives)


def test_sample_negatives_popularity_skips_unseen():
  counts = np.array([0, 5, 0, 3, 0, 2, 0])
  samples = ranking.sample_negatives([1], [1], 6, 2, seed=0, strategy='popularity',
                                     item_counts=counts)
  assert set(samples.negatives[0].tolist()) == {3, 5}


def test_sample_negatives_too_few_items():
  with pytest.raises(ValueError, match='only 3 candidate items'):
    ranking.sample_negatives([1], [1], 4, 5, seed=0)


def test_negatives_file_round_trip(tmp_path):
  samples = ranking.sample_negatives([5, 9, 7], [1, 2, 3], 40, 4, seed=2)
  path = str(tmp_path / 'negatives.npz')
  samples.save(path)
  loaded = ranking.NegativeSamples.load(path)
  np.testing.assert_array_equal(loaded.aligned([7, 5]), samples.negatives[[2, 0]])
  assert loaded.num_items == 40
  assert loaded.seed == 2


def test_negatives_missing_user(tmp_path):
  samples = ranking.sample_negatives([5], [1], 40, 4, seed=2)
  with pytest.raises(ValueError, match='first: user 6'):
    samples.aligned([6])
