"""Tests of the video row generator on a tiny world."""

import numpy as np
import pytest

from components.generator import config
from components.generator.generation import World


@pytest.fixture(scope='module')
def world():
  return World(0.0001, seed=2)


@pytest.fixture(scope='module')
def qk_block(world):
  generator = world.scenario_generator('qk_video')
  user_ids = world.population.user_ids['qk_video'][:200]
  return generator, user_ids, generator.generate_block(user_ids)


def test_block_columns_match_schema(qk_block):
  _, _, columns = qk_block
  assert sorted(columns) == sorted(
      ['user_id', 'item_id', 'click', 'follow', 'like', 'share', 'video_category',
       'watching_times', 'gender', 'age'])


def test_block_every_user_has_five_clicks(qk_block):
  _, user_ids, columns = qk_block
  clicks = np.bincount(columns['user_id'], weights=columns['click'])[user_ids]
  assert clicks.min() >= 5


def test_block_click_rate_near_target(qk_block):
  _, _, columns = qk_block
  assert 0.25 < columns['click'].mean() < 0.33


def test_block_actions_mostly_on_clicks(qk_block):
  _, _, columns = qk_block
  likes = columns['like'] == 1
  assert likes.sum() > 0
  assert columns['click'][likes].mean() > 0.9


def test_block_demographics_constant(qk_block):
  _, _, columns = qk_block
  for user in np.unique(columns['user_id']):
    rows = columns['user_id'] == user
    assert np.unique(columns['gender'][rows]).shape[0] == 1
    assert np.unique(columns['age'][rows]).shape[0] == 1


def test_block_split_does_not_change_rows(world, qk_block):
  generator, user_ids, columns = qk_block
  second_half = generator.generate_block(user_ids[100:])
  rows = columns['user_id'] >= user_ids[100]
  for name, values in second_half.items():
    np.testing.assert_array_equal(values, columns[name][rows])


def test_qb_video_has_no_minimum(world):
  generator = world.scenario_generator('qb_video')
  assert generator.targets.min_clicks_per_user == 0
  assert generator.click_intercept > 0


def test_generator_requires_categories(world):
  from components.generator.video import VideoGenerator  # pylint: disable=import-outside-toplevel
  catalogue = world.catalogues['qb_video']
  saved = catalogue.video_category
  catalogue.video_category = None
  try:
    with pytest.raises(ValueError, match='no video categories'):
      VideoGenerator('qb_video', 2, world.population, world.latent, catalogue)
  finally:
    catalogue.video_category = saved


def test_pilot_size_constant():
  assert config.PILOT_USERS == 1024
