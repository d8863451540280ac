"""Tests of the user-profile builder."""

import os

import pytest

import builder_fixtures as fx
from components.builders import base
from components.builders import profile
from components.builders.sequence_options import ProfileOptions

# (gender, age, clicks). User 2 has neither label and is dropped; all items have >= 1 click.
USERS = {
    1: (1, 3, [10, 11, 12, 13, 14, 15]),
    2: (0, 0, [10, 11, 12, 13, 14]),
    3: (2, 0, [11, 12, 13, 14, 15]),
    4: (0, 5, [10, 12, 13, 14, 15]),
}
OPTIONS = {'min_user_clicks': 4, 'min_item_clicks': 1}


def _rows(users=None):
  rows = []
  for user, (gender, age, items) in sorted((users or USERS).items()):
    rows.extend(fx.video_row(user, item, gender=gender, age=age) for item in items)
  return rows


@pytest.fixture(scope='module')
def build():
  builder = profile.ProfileBuilder(ProfileOptions(**OPTIONS))
  return fx.InMemoryBuild(builder, {'qk_video': fx.columns_of(_rows(), fx.VIDEO_HEADER)})


def _all_examples(build):
  examples = {}
  for split in base.SPLITS:
    for example in build.examples(split):
      assert example['user_id'][0] not in examples
      examples[example['user_id'][0]] = example
  return examples


def test_profile_users_with_a_label(build):
  assert sorted(_all_examples(build)) == [1, 3, 4]


def test_profile_inputs_drop_last_three(build):
  examples = _all_examples(build)
  assert examples[1]['item_ids'] == [1, 2, 3]
  assert examples[3]['item_ids'] == [2, 3]
  assert examples[4]['item_ids'] == [1, 3]


def test_profile_labels_shifted_with_missing_marker(build):
  examples = _all_examples(build)
  assert examples[1]['gender_label'] == [0]
  assert examples[1]['age_label'] == [2]
  assert examples[3]['gender_label'] == [1]
  assert examples[3]['age_label'] == [profile.MISSING_LABEL]
  assert examples[4]['gender_label'] == [profile.MISSING_LABEL]
  assert examples[4]['age_label'] == [4]


def test_profile_vocabulary_over_all_sbr_users(build):
  assert list(build.sides[1]['vocabulary']) == [10, 11, 12, 13, 14, 15]


def test_profile_row_accounting(build):
  account = build.accounts['qk_video']
  assert account.used == 7
  assert account.filtered == {profile.LABEL_UNKNOWN: 5, profile.LAST_CLICKS_HELD_OUT: 9}


def test_profile_gender_only_keeps_gender_users(build):
  builder = profile.ProfileBuilder(ProfileOptions(labels=('gender',), **OPTIONS))
  only = fx.InMemoryBuild(builder, {'qk_video': fx.columns_of(_rows(), fx.VIDEO_HEADER)})
  examples = _all_examples(only)
  assert sorted(examples) == [1, 3]
  assert 'age_label' not in examples[1]


def test_profile_all_clicks_option():
  builder = profile.ProfileBuilder(ProfileOptions(drop_last_clicks=0, **OPTIONS))
  build = fx.InMemoryBuild(builder, {'qk_video': fx.columns_of(_rows(), fx.VIDEO_HEADER)})
  assert _all_examples(build)[1]['item_ids'] == [1, 2, 3, 4, 5, 6]


def test_profile_vocabulary_matches_sbr_build(tmp_path):
  users = {u: (1 + u % 2, 1 + u % 7, [(u * 3 + k) % 17 + 1 for k in range(6 + u % 5)])
           for u in range(1, 41)}
  path = fx.write_csv(str(tmp_path / 'QK-video.csv'), fx.VIDEO_HEADER, _rows(users))
  options = {'min_user_clicks': 5}
  fx.run_builder('profile', {'qk_video': path}, str(tmp_path / 'profile'), options)
  fx.run_builder('sbr', {'qk_video': path}, str(tmp_path / 'sbr'), options)
  assert fx.read_vocabulary(str(tmp_path / 'profile' / 'item_vocabulary.txt')) == (
      fx.read_vocabulary(str(tmp_path / 'sbr' / 'item_vocabulary.txt')))
  assert os.path.exists(tmp_path / 'profile' / 'Split-eval')


def test_profile_empty_without_labels(tmp_path):
  users = {u: (0, 0, [10, 11, 12, 13, 14]) for u in range(1, 5)}
  path = fx.write_csv(str(tmp_path / 'QK-video.csv'), fx.VIDEO_HEADER, _rows(users))
  with pytest.raises(base.EmptyDatasetError, match='known gender or age'):
    fx.run_builder('profile', {'qk_video': path}, str(tmp_path / 'out'), OPTIONS)
