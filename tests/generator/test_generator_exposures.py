"""Tests of the simulated feed recommender."""

import numpy as np
import pytest

from components.generator import catalogue as catalogue_lib
from components.generator.exposures import sample_rows
from components.generator.rng import CounterStream

DEMAND = np.full(4, 0.25)


@pytest.fixture(scope='module')
def catalogue():
  qk, _ = catalogue_lib.build_video_catalogues(
      seed=5, topic_demand=DEMAND, qk_items=400, qk_users=300, qk_mean_rows=50.0,
      qb_items=100, qb_shared_items=60, qb_users=100, qb_mean_rows=50.0)
  return qk


def _mixture(num_users):
  rng = np.random.default_rng(1)
  mixture = rng.dirichlet(np.ones(4) * 0.5, size=num_users)
  return mixture


def test_rows_count_and_distinct_items(catalogue):
  user_ids = np.arange(1, 51)
  needed = np.arange(10, 60)
  rows = sample_rows(CounterStream(1, 'e'), user_ids, needed, _mixture(50), catalogue)
  counts = np.bincount(rows.user_index, minlength=50)
  np.testing.assert_array_equal(counts, needed)
  pairs = rows.user_index * catalogue.size + rows.slot
  assert np.unique(pairs).shape[0] == len(rows)


def test_rows_sorted_by_user_then_time(catalogue):
  user_ids = np.arange(1, 21)
  rows = sample_rows(CounterStream(1, 'e'), user_ids, np.full(20, 30), _mixture(20), catalogue)
  order = np.lexsort((rows.counter, rows.user_index))
  np.testing.assert_array_equal(order, np.arange(len(rows)))


def test_user_rows_independent_of_block(catalogue):
  user_ids = np.arange(1, 21)
  mixture = _mixture(20)
  stream = CounterStream(1, 'e')
  together = sample_rows(stream, user_ids, np.full(20, 25), mixture, catalogue)
  alone = sample_rows(stream, user_ids[7:8], np.array([25]), mixture[7:8], catalogue)
  np.testing.assert_array_equal(together.slot[together.user_index == 7], alone.slot)


def test_topics_follow_items(catalogue):
  rows = sample_rows(CounterStream(2, 'e'), np.arange(1, 11), np.full(10, 40), _mixture(10),
                     catalogue)
  np.testing.assert_array_equal(rows.topic, catalogue.topics[rows.slot])


def test_preferred_topics_dominate(catalogue):
  mixture = np.zeros((30, 4))
  mixture[:, 2] = 1.0
  rows = sample_rows(CounterStream(3, 'e'), np.arange(1, 31), np.full(30, 40), mixture,
                     catalogue)
  # 35% of sessions are trending (any topic); the rest stay in topic 2.
  assert np.mean(rows.topic == 2) > 0.6


def test_accept_filters_candidates(catalogue):
  def accept(rows):
    return catalogue.topics[rows.slot] == 1

  rows = sample_rows(CounterStream(4, 'e'), np.arange(1, 11), np.full(10, 20), _mixture(10),
                     catalogue, accept=accept, accept_rate=0.3)
  assert np.all(rows.topic == 1)
  assert len(rows) == 200


def test_consecutive_rows_share_topic(catalogue):
  rows = sample_rows(CounterStream(5, 'e'), np.arange(1, 101), np.full(100, 60),
                     np.full((100, 4), 0.25), catalogue)
  same_user = rows.user_index[1:] == rows.user_index[:-1]
  same_topic = (rows.topic[1:] == rows.topic[:-1])[same_user].mean()
  # Four equally likely topics give 0.25 by chance.
  assert same_topic > 0.45
