"""Tests of the CTR builder: histories, negative sampling, splits and determinism."""

import collections

import numpy as np
import pytest

import builder_fixtures as fx
from components.builders import base
from components.builders import ctr
from components.builders.ctr_options import CtrOptions


def _random_raw(seed=0, users=30):
  return {'qk_video': fx.columns_of(fx.random_video_rows(seed, users, 25, 12), fx.VIDEO_HEADER)}


def _examples(build):
  return [dict(e, split=[i]) for i, split in enumerate(base.SPLITS)
          for e in build.examples(split)]


def test_ctr_history_before_row_matches_naive():
  raw = _random_raw(seed=1)['qk_video']
  table = base.UserTable.from_columns({k: np.asarray(v) for k, v in raw.items()},
                                      np.arange(len(raw['user_id'])))
  history = ctr.history_before_row(table, table.columns['click'], table.columns['item_id'], 4)
  for row in range(table.num_rows):
    user = table.columns['user_id'][row]
    earlier = [table.columns['item_id'][r] for r in range(row)
               if table.columns['user_id'][r] == user and table.columns['click'][r] == 1]
    expected = ([-1] * 4 + earlier)[-4:]
    assert list(history[row]) == expected, row


def test_ctr_reference_first_clicks_history():
  rows = [fx.video_row(1, 10, 0), fx.video_row(1, 11, 1), fx.video_row(1, 12, 0),
          fx.video_row(1, 13, 1), fx.video_row(1, 11, 0), fx.video_row(1, 14, 1),
          fx.video_row(2, 20, 0), fx.video_row(2, 21, 0)]
  options = CtrOptions(history_mode='reference_first_clicks', history_length=3,
                       negatives_per_positive=10, split_ratios=(1.0, 0.0, 0.0))
  build = fx.InMemoryBuild(ctr.CtrBuilder(options),
                           {'qk_video': fx.columns_of(rows, fx.VIDEO_HEADER)})
  examples = _examples(build)
  # User 1 clicked [11, 13, 14]: history = all but the last = [11, 13], right-padded; the rows
  # of items 11 and 13 are deleted; user 2 has no click and is dropped.
  assert sorted(e['item_id'][0] for e in examples) == [10, 12, 14]
  assert all(e['hist_item_ids'] == [11, 13, -1] for e in examples)
  assert build.accounts['qk_video'].filtered == {'reference_history_items': 3,
                                                 'reference_users_without_clicks': 2}


def test_ctr_two_negatives_per_positive_per_user():
  raw = _random_raw(seed=2)
  build = fx.InMemoryBuild(ctr.CtrBuilder(CtrOptions()), raw)
  kept = collections.Counter()
  for e in _examples(build):
    kept[(e['user_id'][0], e['click'][0])] += 1
  available = collections.Counter(zip(raw['qk_video']['user_id'], raw['qk_video']['click']))
  for user in set(raw['qk_video']['user_id']):
    positives = available[(user, 1)]
    assert kept[(user, 1)] == positives
    assert kept[(user, 0)] == min(2 * positives, available[(user, 0)]), user


def test_ctr_duplicates_share_split():
  rows = []
  for user in range(1, 40):
    clicked = fx.video_row(user, 7, click=1)
    skipped = fx.video_row(user, 8, click=0)
    rows.extend([clicked, skipped, clicked, skipped, clicked, skipped])
  build = fx.InMemoryBuild(ctr.CtrBuilder(CtrOptions()),
                           {'qk_video': fx.columns_of(rows, fx.VIDEO_HEADER)})
  splits = collections.defaultdict(set)
  for e in _examples(build):
    splits[(e['user_id'][0], e['item_id'][0])].add(e['split'][0])
  assert len(splits) == 78
  assert all(len(s) == 1 for s in splits.values())
  assert len({min(s) for s in splits.values()}) == 3


def test_ctr_user_split_keeps_users_together():
  build = fx.InMemoryBuild(ctr.CtrBuilder(CtrOptions(split_mode='user')), _random_raw(3))
  splits = collections.defaultdict(set)
  for e in _examples(build):
    splits[e['user_id'][0]].add(e['split'][0])
  assert all(len(s) == 1 for s in splits.values())


def test_ctr_temporal_split_orders_rows():
  rows = [fx.video_row(1, item, click=1) for item in range(1, 11)]
  build = fx.InMemoryBuild(ctr.CtrBuilder(CtrOptions(split_mode='temporal')),
                           {'qk_video': fx.columns_of(rows, fx.VIDEO_HEADER)})
  by_split = {s: sorted(e['item_id'][0] for e in build.examples(s)) for s in base.SPLITS}
  assert by_split == {'train': list(range(1, 9)), 'eval': [9], 'test': [10]}


def test_ctr_max_users_lowest_ids():
  options = CtrOptions(max_users=5, user_selection='lowest_ids')
  build = fx.InMemoryBuild(ctr.CtrBuilder(options), _random_raw(4))
  assert {e['user_id'][0] for e in _examples(build)} <= {1, 2, 3, 4, 5}


def test_ctr_features_exclude_watching_times():
  build = fx.InMemoryBuild(ctr.CtrBuilder(CtrOptions()), _random_raw(5))
  example = _examples(build)[0]
  assert 'watching_times' not in example
  assert len(example['hist_item_ids']) == 10


def test_ctr_deterministic_across_chunks_and_buckets(tmp_path):
  path = fx.write_csv(str(tmp_path / 'QK-video.csv'), fx.VIDEO_HEADER,
                      fx.random_video_rows(seed=6, users=50, rows_per_user=20, items=15))
  first = fx.run_builder('ctr', {'qk_video': path}, str(tmp_path / 'a'))
  second = fx.run_builder('ctr', {'qk_video': path}, str(tmp_path / 'b'), chunk_bytes=500,
                          num_buckets=4)
  assert first['accounts'] == second['accounts']
  for split in base.SPLITS:
    assert fx.sorted_examples(fx.read_split(str(tmp_path / 'a'), split)) == (
        fx.sorted_examples(fx.read_split(str(tmp_path / 'b'), split)))


def test_ctr_bucket_count_does_not_change_examples():
  raw = _random_raw(seed=8)
  one = fx.InMemoryBuild(ctr.CtrBuilder(CtrOptions()), raw, num_buckets=1)
  three = fx.InMemoryBuild(ctr.CtrBuilder(CtrOptions()), raw, num_buckets=3)
  for split in base.SPLITS:
    assert fx.sorted_examples(one.examples(split)) == fx.sorted_examples(three.examples(split))


@pytest.mark.parametrize('values,message', [
    ({'history_mode': 'last'}, 'history_mode must be one of'),
    ({'negatives_per_positive': -1}, 'non-negative'),
    ({'split_ratios': (0.9, 0.2, 0.1)}, 'sum to 1'),
    ({'scenario': 'qk_article'}, 'video scenario'),
])
def test_ctr_options_invalid(values, message):
  with pytest.raises(ValueError, match=message):
    CtrOptions(**values)
