"""Tests of catalogue construction and category assignment."""

import numpy as np
import pytest

from components.generator import catalogue as catalogue_lib

NUM_TOPICS = 6
DEMAND = np.array([0.3, 0.2, 0.2, 0.1, 0.1, 0.1])


@pytest.fixture(scope='module')
def video_catalogues():
  return catalogue_lib.build_video_catalogues(
      seed=3, topic_demand=DEMAND, qk_items=600, qk_users=800, qk_mean_rows=98.0,
      qb_items=300, qb_shared_items=180, qb_users=300, qb_mean_rows=71.0)


def test_split_counts_total_and_minimum():
  counts = catalogue_lib.split_counts(100, np.array([0.7, 0.2, 0.1, 0.0]), minimum=2)
  assert counts.sum() == 100
  assert counts.min() == 2
  assert counts[0] > counts[1] > counts[2]


def test_split_counts_minimum_shrinks_for_small_totals():
  counts = catalogue_lib.split_counts(3, np.ones(4), minimum=2)
  assert counts.sum() == 3


def test_cap_weights_limits_expected_reach():
  weights = np.concatenate([[0.9], np.full(19, 0.1 / 19)])
  topics = np.zeros(20, dtype=np.int64)
  capped = catalogue_lib.cap_weights(weights, topics, topic_rows=np.array([200.0]), users=100)
  expected_rows = capped / capped.sum() * 200
  assert expected_rows.max() <= 0.7 * 100 + 1e-6
  assert capped[1] == weights[1]


def test_video_catalogue_ids(video_catalogues):
  qk, qb = video_catalogues
  assert qk.item_ids.min() >= 1
  assert np.unique(qk.item_ids).shape[0] == qk.size
  assert np.unique(qb.item_ids).shape[0] == qb.size


def test_video_catalogue_slot_order(video_catalogues):
  qk, _ = video_catalogues
  assert np.all(np.diff(qk.topics) >= 0)
  for topic in range(NUM_TOPICS):
    positions = qk.positions[qk.topic_starts[topic]:qk.topic_starts[topic + 1]]
    assert np.all(np.diff(positions) >= 0)


def test_weights_normalised_per_topic(video_catalogues):
  qk, _ = video_catalogues
  totals = np.bincount(qk.topics, weights=qk.weights, minlength=NUM_TOPICS)
  np.testing.assert_allclose(totals, 1.0)


def test_shared_items_keep_attributes(video_catalogues):
  qk, qb = video_catalogues
  source = qb.columns['qk_video_slot']
  shared = source >= 0
  assert shared.sum() == 180
  np.testing.assert_array_equal(qb.item_ids[shared], qk.item_ids[source[shared]])
  np.testing.assert_array_equal(qb.topics[shared], qk.topics[source[shared]])
  np.testing.assert_array_equal(qb.quality[shared], qk.quality[source[shared]])


def test_own_qb_ids_follow_qk_range(video_catalogues):
  qk, qb = video_catalogues
  own = qb.columns['qk_video_slot'] < 0
  assert qb.item_ids[own].min() > qk.item_ids.max()


def test_categories_match_weighted_targets():
  rng = np.random.default_rng(0)
  topics = np.repeat(np.arange(4), 500)
  weights = np.exp(1.5 * rng.standard_normal(2000))
  targets = np.array([0.2, 0.4, 0.5, 0.7])
  category = catalogue_lib.assign_video_categories(rng, topics, weights, targets)
  total = weights.sum()
  assert abs(weights[category == -1].sum() / total - 0.0132) < 0.004
  for topic in range(4):
    in_topic = topics == topic
    share_one = weights[in_topic & (category == 1)].sum() / weights[in_topic].sum()
    assert abs(share_one - targets[topic]) < 0.03


def test_categories_from_pilot_shared_consistent(video_catalogues):
  qk, qb = video_catalogues
  catalogue_lib.assign_categories_from_pilot(3, qk, qb, np.ones(qk.size), np.ones(qb.size))
  source = qb.columns['qk_video_slot']
  shared = source >= 0
  np.testing.assert_array_equal(qb.video_category[shared], qk.video_category[source[shared]])
  assert set(np.unique(qk.video_category)) <= {-1, 0, 1}


def test_article_columns_consistent():
  article = catalogue_lib.build_article_catalogue(
      'qk_article', seed=2, topic_demand=DEMAND, items=200, users=500, mean_rows=34.0,
      first_id=1001, platform_clicks=46_111_728)
  columns = article.columns
  assert article.item_ids.min() == 1001
  assert np.all(columns['click_count'] <= columns['exposure_count'])
  assert np.all(columns['like_count'] <= columns['click_count'])
  assert np.all(columns['comment_count'] <= columns['click_count'])
  assert np.all((columns['item_score1'] >= 0) & (columns['item_score1'] <= 1))
  assert columns['category_first'].max() < 2
  assert columns['category_second'].max() < NUM_TOPICS * 5


def test_article_categories_nest():
  article = catalogue_lib.build_article_catalogue(
      'qb_article', seed=2, topic_demand=DEMAND, items=300, users=500, mean_rows=14.0,
      first_id=1, platform_clicks=348_736)
  fine = article.columns['category_second']
  coarse = article.columns['category_first']
  for code in np.unique(fine):
    assert np.unique(coarse[fine == code]).shape[0] == 1
