"""Tests of repeated (user, item) rows."""

import numpy as np
import pytest

from components.generator import repeats
from components.generator.exposures import Rows
from components.generator.rng import CounterStream


def _block(num_users: int, rows_per_user: int):
  user_index = np.repeat(np.arange(num_users), rows_per_user)
  local = np.tile(np.arange(rows_per_user), num_users)
  total = user_index.shape[0]
  rows = Rows(user_index=user_index, slot=local, topic=np.zeros(total, np.int64),
              session_position=np.zeros(total, np.int64), counter=local)
  rng = np.random.default_rng(0)
  columns = {
      'user_id': user_index + 1,
      'item_id': local + 1,
      'click': (rng.random(total) < 0.3).astype(np.int64),
      'follow': np.zeros(total, np.int64),
      'like': np.zeros(total, np.int64),
      'share': np.zeros(total, np.int64),
      'video_category': np.zeros(total, np.int64),
      'watching_times': rng.integers(0, 3, total),
      'gender': np.ones(total, np.int64),
      'age': np.full(total, 2),
  }
  probabilities = {a: np.tile([[0.0, 0.5]], (total, 1)) for a in ('follow', 'like', 'share')}
  return rows, columns, probabilities


@pytest.fixture(scope='module')
def injected():
  rows, columns, probabilities = _block(400, 250)
  injector = repeats.RepeatInjector(CounterStream(1, 'r'))
  planned = np.full(400, 250)
  return columns, injector.inject(columns, rows, planned, probabilities)


def test_repeat_counts_never_all_rows():
  injector = repeats.RepeatInjector(CounterStream(1, 'r'))
  counts = injector.repeat_counts(np.arange(1, 1001), np.full(1000, 1))
  assert counts.max() == 0


def test_repeat_counts_mean():
  injector = repeats.RepeatInjector(CounterStream(1, 'r'))
  counts = injector.repeat_counts(np.arange(1, 100_001), np.full(100_000, 100))
  assert abs(counts.mean() / 100 - repeats.REPEATED_ROW_RATE) < 0.0005


def test_rows_added_at_rate(injected):
  before, after = injected
  added = after['user_id'].shape[0] - before['user_id'].shape[0]
  assert abs(added / after['user_id'].shape[0] - repeats.REPEATED_ROW_RATE) < 0.002


def test_users_stay_contiguous(injected):
  _, after = injected
  assert np.all(np.diff(after['user_id']) >= 0)


def test_repeat_follows_first_occurrence(injected):
  _, after = injected
  # Base items of a user appear in increasing order, so a repeat shows as a step down.
  same_user = after['user_id'][1:] == after['user_id'][:-1]
  assert np.any(same_user & (after['item_id'][1:] < after['item_id'][:-1]))


def test_duplicate_and_conflict_shares(injected):
  _, after = injected
  key = after['user_id'] * 1000 + after['item_id']
  order = np.lexsort((np.arange(key.shape[0]), key))
  same = key[order][1:] == key[order][:-1]
  repeated = order[1:][same]
  first = order[:-1][same]
  conflict = after['click'][repeated] != after['click'][first]
  identical = np.ones(repeated.shape[0], dtype=bool)
  for values in after.values():
    identical &= values[repeated] == values[first]
  assert abs(conflict.mean() - repeats.CONFLICT_SHARE) < 0.03
  assert abs(identical.mean() - repeats.DUPLICATE_SHARE) < 0.03


def test_conflicts_redraw_actions(injected):
  before, after = injected
  # Base rows carry no action; conflicting repeats that became clicks draw them with p = 0.5.
  assert after['like'].sum() > 0
  assert before['like'].sum() == 0
