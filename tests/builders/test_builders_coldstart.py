"""Tests of the cold-start builder."""

import collections

import numpy as np
import pytest

import builder_fixtures as fx
from components.builders import base
from components.builders import coldstart
from components.builders.sequence_options import ColdStartOptions

# QK-video clicks: user 4 has too few (2 < 5); user 3 has no QK-article click.
VIDEO = {1: [10, 11, 12, 13, 14, 15], 2: [11, 12, 13, 14, 15], 3: [12, 13, 14, 15, 16],
         4: [10, 11]}
# QK-article clicks: user 4 is not an SBR user, user 5 not a QK-video user.
ARTICLE = {1: [101, 102, 103, 104, 105, 106, 107], 2: [102, 103], 4: [101, 108], 5: [109]}
OPTIONS = {'min_user_clicks': 5, 'min_item_clicks': 1}


def _raw():
  article = [fx.article_row(u, i) for u in sorted(ARTICLE) for i in ARTICLE[u]]
  article.insert(3, fx.article_row(1, 199, click=0))
  return {'qk_video': fx.columns_of(fx.click_rows(VIDEO), fx.VIDEO_HEADER),
          'qk_article': fx.columns_of(article, fx.ARTICLE_HEADER)}


def _build(**options):
  builder = coldstart.ColdStartBuilder(ColdStartOptions(**dict(OPTIONS, **options)))
  return fx.InMemoryBuild(builder, _raw())


def _examples_by_user(build):
  out = collections.defaultdict(list)
  for split in base.SPLITS:
    for example in build.examples(split):
      out[example['user_id'][0]].append((split, example))
  return out


@pytest.fixture(scope='module')
def recent():
  return _build(setting='recent5')


def test_coldstart_recent5_keeps_last_five(recent):
  vocabulary = list(recent.sides[2]['target_vocabulary'])
  examples = _examples_by_user(recent)
  targets = [fx.decode(e['target_item'], vocabulary)[0] for _, e in examples[1]]
  assert sorted(targets) == [103, 104, 105, 106, 107]
  assert sorted(fx.decode(e['target_item'], vocabulary)[0] for _, e in examples[2]) == [102, 103]


def test_coldstart_users_are_sbr_users_with_targets(recent):
  assert sorted(_examples_by_user(recent)) == [1, 2]


def test_coldstart_source_history_sbr_encoding(recent):
  examples = _examples_by_user(recent)
  assert list(recent.sides[1]['source_vocabulary']) == [10, 11, 12, 13, 14, 15, 16]
  assert {tuple(e['item_ids']) for _, e in examples[1]} == {(1, 2, 3)}
  assert {tuple(e['item_ids']) for _, e in examples[2]} == {(2, 3)}


def test_coldstart_user_split_keeps_user_together(recent):
  for user, examples in _examples_by_user(recent).items():
    assert len({split for split, _ in examples}) == 1, user


def test_coldstart_every_user_cold_in_recent5(recent):
  assert all(e['is_cold'] == [1] for examples in _examples_by_user(recent).values()
             for _, e in examples)


def test_coldstart_row_accounting(recent):
  video = recent.accounts['qk_video']
  article = recent.accounts['qk_article']
  assert video.used == 5
  assert video.filtered == {'user_too_few_clicks': 2, coldstart.USER_WITHOUT_TARGET: 5,
                            coldstart.SOURCE_HELD_OUT: 6}
  assert article.used == 7
  assert article.filtered == {'not_clicked': 1, coldstart.USER_NOT_IN_SOURCE: 3,
                              coldstart.COLD_TRUNCATION: 2}


def test_coldstart_first5_keeps_earliest():
  build = _build(setting='first5')
  vocabulary = list(build.sides[2]['target_vocabulary'])
  assert vocabulary == [101, 102, 103, 104, 105]
  targets = [fx.decode(e['target_item'], vocabulary)[0] for _, e in _examples_by_user(build)[1]]
  assert sorted(targets) == [101, 102, 103, 104, 105]


def test_coldstart_mixed_cold_user_count():
  build = _build(setting='mixed', cold_fraction=0.5)
  examples = _examples_by_user(build)
  cold = [user for user, items in examples.items() if items[0][1]['is_cold'] == [1]]
  assert len(cold) == 1
  hot = [user for user in examples if user not in cold]
  assert len(examples[hot[0]]) == len(ARTICLE[hot[0]])
  assert 1 <= len(examples[cold[0]]) <= 5


def test_coldstart_mixed_budget_uniform():
  builder = coldstart.ColdStartBuilder(ColdStartOptions(setting='mixed', cold_fraction=1.0))
  users = np.arange(1, 5001)
  cold, budget = builder.cold_budget(users, np.full(users.size, 100), threshold=2**64 - 1)
  assert cold.all()
  assert set(np.unique(budget)) == {1, 2, 3, 4, 5}
  assert abs(np.mean(budget) - 3.0) < 0.1


def test_coldstart_example_split_mode():
  build = _build(setting='recent5', split_mode='example', split_ratios=(0.34, 0.33, 0.33))
  examples = _examples_by_user(build)
  assert len({split for split, _ in examples[1]}) > 1


def test_coldstart_beam_build_matches_sbr_vocabulary(tmp_path):
  rng = np.random.default_rng(3)
  video = {u: list(rng.integers(10, 40, size=int(rng.integers(5, 12)))) for u in range(1, 61)}
  article = {u: list(rng.integers(100, 120, size=int(rng.integers(1, 9)))) for u in range(1, 61)}
  video_path = fx.write_csv(str(tmp_path / 'QK-video.csv'), fx.VIDEO_HEADER,
                            fx.click_rows(video))
  article_path = fx.write_csv(str(tmp_path / 'QK-article.csv'), fx.ARTICLE_HEADER,
                              [fx.article_row(u, i) for u in sorted(article) for i in article[u]])
  report = fx.run_builder('coldstart', {'qk_video': video_path, 'qk_article': article_path},
                          str(tmp_path / 'cold'), OPTIONS)
  fx.run_builder('sbr', {'qk_video': video_path}, str(tmp_path / 'sbr'), OPTIONS)
  assert fx.read_vocabulary(str(tmp_path / 'cold' / 'source_item_vocabulary.txt')) == (
      fx.read_vocabulary(str(tmp_path / 'sbr' / 'item_vocabulary.txt')))
  users = [{e['user_id'][0] for e in fx.read_split(str(tmp_path / 'cold'), s)}
           for s in base.SPLITS]
  assert not users[0] & users[1]
  assert not users[0] & users[2]
  assert not users[1] & users[2]
  assert all(account['balanced'] for account in report['accounts'].values())


def test_coldstart_empty_without_shared_users(tmp_path):
  video = fx.write_csv(str(tmp_path / 'QK-video.csv'), fx.VIDEO_HEADER, fx.click_rows(VIDEO))
  article = fx.write_csv(str(tmp_path / 'QK-article.csv'), fx.ARTICLE_HEADER,
                         [fx.article_row(50, 101), fx.article_row(51, 102)])
  with pytest.raises(base.EmptyDatasetError, match='share user ids'):
    fx.run_builder('coldstart', {'qk_video': video, 'qk_article': article},
                   str(tmp_path / 'out'), OPTIONS)
