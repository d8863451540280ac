"""Tests of the lifelong-learning builder."""

import json
import os

import numpy as np
import pytest

import builder_fixtures as fx
from components.builders import base
from components.builders import lifelong
from components.builders.sequence_options import LifelongOptions

USERS = range(1, 9)
OPTIONS = {'min_user_clicks': 5, 'min_item_clicks': 1, 'validation_users': 'all'}


def _raw():
  video = {u: [10 + (u + k) % 9 for k in range(6)] for u in USERS}
  qk_article = [fx.article_row(u, 100 + u + k) for u in USERS for k in range(5)]
  qb_video = []
  for u in USERS:
    qb_video.append(fx.video_row(u, 200 + u, click=1, like=1))
    qb_video.append(fx.video_row(u, 250 + u, click=1, like=0))
    qb_video.append(fx.video_row(u, 270 + u, click=0, like=0))
  qb_article = [fx.qb_article_row(u, 300 + u + k) for u in USERS for k in range(2)]
  return {
      'qk_video': fx.columns_of(fx.click_rows(video), fx.VIDEO_HEADER),
      'qk_article': fx.columns_of(qk_article, fx.ARTICLE_HEADER),
      'qb_video': fx.columns_of(qb_video, fx.VIDEO_HEADER),
      'qb_article': fx.columns_of(qb_article, fx.QB_ARTICLE_HEADER),
  }


@pytest.fixture(scope='module')
def build():
  return fx.InMemoryBuild(lifelong.LifelongBuilder(LifelongOptions(**OPTIONS)), _raw())


def _task_examples(build, task):
  return [e for split in base.SPLITS for e in build.examples(f'task{task}/{split}')]


def _task0_users(build):
  return {e['user_id'][0] for e in build.examples('task0/test')}


def test_lifelong_task0_half_of_users(build):
  assert len(_task0_users(build)) == 4


def test_lifelong_task0_test_includes_validation_item(build):
  evaluation = fx.by_user(build.examples('task0/eval'))
  test = fx.by_user(build.examples('task0/test'))
  for user, example in test.items():
    assert example['item_ids'] == evaluation[user]['item_ids'] + evaluation[user]['target_item']


def test_lifelong_task1_last_three_clicks(build):
  vocabulary = list(build.sides[2]['vocabularies'][1])
  for user in _task0_users(build):
    targets = [fx.decode(e['target_item'], vocabulary)[0] for e in _task_examples(build, 1)
               if e['user_id'][0] == user]
    assert sorted(targets) == [100 + user + k for k in (2, 3, 4)]


def test_lifelong_task2_uses_likes(build):
  vocabulary = list(build.sides[2]['vocabularies'][2])
  targets = {fx.decode(e['target_item'], vocabulary)[0] for e in _task_examples(build, 2)}
  assert targets == {200 + u for u in _task0_users(build)}


def test_lifelong_task3_from_qb_article(build):
  vocabulary = list(build.sides[2]['vocabularies'][3])
  assert all(300 <= item < 320 for item in vocabulary)
  assert len(_task_examples(build, 3)) == 2 * 4


def test_lifelong_targets_of_task0_users_only(build):
  users = _task0_users(build)
  for task in (1, 2, 3):
    assert {e['user_id'][0] for e in _task_examples(build, task)} <= users


def test_lifelong_history_in_task0_encoding(build):
  test = fx.by_user(build.examples('task0/test'))
  for example in _task_examples(build, 1):
    user = example['user_id'][0]
    full = test[user]['item_ids'] + test[user]['target_item']
    assert example['item_ids'] == full[:-3]


def test_lifelong_row_accounting(build):
  assert build.accounts['qk_video'].used == 4 * 6
  assert build.accounts['qk_video'].filtered == {lifelong.TASK0_USER_SAMPLE: 4 * 6}
  assert build.accounts['qk_article'].used == 4 * 3
  assert build.accounts['qk_article'].filtered == {lifelong.USER_NOT_IN_TASK0: 4 * 5,
                                                   lifelong.TASK1_CLICK_LIMIT: 4 * 2}
  assert build.accounts['qb_video'].filtered == {'not_liked': 16, lifelong.USER_NOT_IN_TASK0: 4}


def test_lifelong_task2_clicks_option():
  builder = lifelong.LifelongBuilder(LifelongOptions(task2_signal='click', **OPTIONS))
  build = fx.InMemoryBuild(builder, _raw())
  assert len(_task_examples(build, 2)) == 4 * 2


def test_lifelong_rejects_other_first_scenario():
  with pytest.raises(ValueError, match='starts with QK-video'):
    LifelongOptions(scenario='qb_video')


def test_lifelong_beam_build_writes_four_datasets(tmp_path):
  rng = np.random.default_rng(7)
  users = range(1, 121)
  paths = {
      'qk_video': fx.write_csv(str(tmp_path / 'QK-video.csv'), fx.VIDEO_HEADER, fx.click_rows(
          {u: list(rng.integers(10, 40, size=8)) for u in users})),
      'qk_article': fx.write_csv(str(tmp_path / 'QK-article.csv'), fx.ARTICLE_HEADER,
                                 [fx.article_row(u, int(i)) for u in users
                                  for i in rng.integers(100, 130, size=4)]),
      'qb_video': fx.write_csv(str(tmp_path / 'QB-video.csv'), fx.VIDEO_HEADER,
                               [fx.video_row(u, int(i), like=1) for u in users
                                for i in rng.integers(200, 230, size=2)]),
      'qb_article': fx.write_csv(str(tmp_path / 'QB-article.csv'), fx.QB_ARTICLE_HEADER,
                                 [fx.qb_article_row(u, int(i)) for u in users
                                  for i in rng.integers(300, 330, size=3)]),
  }
  out = tmp_path / 'lifelong'
  report = fx.run_builder('lifelong', paths, str(out), {'min_user_clicks': 5})
  assert report['statistics']['task0_users'] == 60
  for task in range(4):
    folder = out / f'task{task}'
    assert (folder / 'item_vocabulary.txt').exists()
    sub_report = json.loads((folder / 'build_report.json').read_text())
    assert sub_report['sub_dataset'] == f'task{task}'
    assert set(sub_report['splits']) == set(base.SPLITS)
  assert os.path.exists(out / 'task3' / 'source_item_vocabulary.txt')
