"""Tests of the click decisions that depend on the topics of recent clicks."""

import numpy as np
import pytest

from components.generator.recent_clicks import decide_clicks

ALWAYS = 50.0
NEVER = -50.0


def _one_user(topics, logits, uniform=None, window=10, weight=1.0):
  topics = np.asarray(topics, dtype=np.int64)
  logits = np.asarray(logits, dtype=np.float64)
  uniform = np.full(topics.shape[0], 0.5) if uniform is None else np.asarray(uniform)
  return decide_clicks(np.zeros(topics.shape[0], dtype=np.int64), topics, logits, uniform,
                       window=window, weight=weight)


def test_matches_count_clicked_topics():
  click, matches = _one_user([1, 1, 2, 1], [ALWAYS] * 4)
  np.testing.assert_array_equal(click, [1, 1, 1, 1])
  np.testing.assert_array_equal(matches, [0, 1, 0, 2])


def test_window_keeps_last_clicks():
  _, matches = _one_user([1, 1, 1, 2, 2, 1], [ALWAYS] * 6, window=2)
  np.testing.assert_array_equal(matches, [0, 1, 2, 0, 1, 0])


def test_unclicked_rows_not_remembered():
  click, matches = _one_user([3, 3, 3], [NEVER, ALWAYS, ALWAYS])
  np.testing.assert_array_equal(click, [0, 1, 1])
  np.testing.assert_array_equal(matches, [0, 0, 1])


def test_match_raises_click_probability():
  # sigmoid(0) = 0.5 < 0.6 (no click); sigmoid(0 + 1.0 * 1 / 1) = 0.73 > 0.6 (click).
  click, _ = _one_user([4, 4], [ALWAYS, 0.0], uniform=[0.5, 0.6], window=1, weight=1.0)
  assert click[1] == 1
  click, _ = _one_user([4, 5], [ALWAYS, 0.0], uniform=[0.5, 0.6], window=1, weight=1.0)
  assert click[1] == 0


def test_zero_weight_is_bernoulli():
  rng = np.random.default_rng(0)
  logits = rng.normal(size=200)
  uniform = rng.random(200)
  click, _ = decide_clicks(np.repeat(np.arange(4), 50), rng.integers(0, 3, 200), logits,
                           uniform, window=10, weight=0.0)
  np.testing.assert_array_equal(click, (uniform < 1 / (1 + np.exp(-logits))).astype(int))


def test_users_independent():
  rng = np.random.default_rng(1)
  lengths = np.array([7, 30, 1, 12])
  user_index = np.repeat(np.arange(4), lengths)
  topics = rng.integers(0, 3, user_index.shape[0])
  logits = rng.normal(size=user_index.shape[0])
  uniform = rng.random(user_index.shape[0])
  together, _ = decide_clicks(user_index, topics, logits, uniform, window=3, weight=2.0)
  rows = slice(7, 37)
  alone, _ = decide_clicks(np.zeros(30, dtype=np.int64), topics[rows], logits[rows],
                           uniform[rows], window=3, weight=2.0)
  np.testing.assert_array_equal(together[rows], alone)


def test_empty_rows():
  empty = np.zeros(0, dtype=np.int64)
  click, matches = decide_clicks(empty, empty, np.zeros(0), np.zeros(0), window=10, weight=1.0)
  assert click.shape == (0,)
  assert matches.shape == (0,)


def test_window_below_one_rejected():
  with pytest.raises(ValueError, match='window'):
    _one_user([1], [0.0], window=0)
