"""Tests of the generation plan: scaled sizes, floors and caps."""

import pytest

from components.generator import config


def test_default_plan_qk_video_users():
  plan = config.plan_generation(config.DEFAULT_SCALE)
  assert plan.qk_video_users == 5023


def test_default_plan_floors():
  scenarios = config.plan_generation(config.DEFAULT_SCALE).scenarios
  assert scenarios['qb_video'].users == 2000
  assert scenarios['qk_article'].users == 2000
  assert scenarios['qb_article'].users == 1000
  assert scenarios['qb_video'].overlap_with_qk_video == 1000
  assert scenarios['qk_article'].overlap_with_qk_video == 1000
  assert scenarios['qb_article'].overlap_with_qk_video == 500


def test_floors_follow_qk_video_size_at_tiny_scale():
  plan = config.plan_generation(0.0001)
  qk_users = plan.qk_video_users
  assert qk_users == 502
  assert plan.scenarios['qb_video'].users == round(0.4 * qk_users)
  assert plan.scenarios['qb_article'].overlap_with_qk_video == round(0.1 * qk_users)


def test_scaled_counts_beat_floors_at_large_scale():
  plan = config.plan_generation(0.5)
  assert plan.scenarios['qk_article'].users == round(1_325_838 * 0.5)
  assert plan.scenarios['qk_article'].overlap_with_qk_video == round(268_207 * 0.5)
  assert plan.scenarios['qb_video'].users == round(34_240 * 0.5)


def test_overlap_at_most_half_of_smaller_set():
  for scale in (0.00001, 0.0001, 0.001, 0.01):
    plan = config.plan_generation(scale)
    for name in config.SECONDARY_SCENARIOS:
      scenario = plan.scenarios[name]
      assert scenario.overlap_with_qk_video <= 0.5 * min(scenario.users, plan.qk_video_users)


def test_qb_video_shares_sixty_percent_of_items():
  plan = config.plan_generation(config.DEFAULT_SCALE)
  qb = plan.scenarios['qb_video']
  assert qb.shared_video_items == round(0.6008 * qb.catalogue_items)
  assert qb.catalogue_items <= plan.scenarios['qk_video'].catalogue_items


def test_qk_video_catalogue_follows_table_one_ratio():
  plan = config.plan_generation(config.DEFAULT_SCALE)
  assert plan.scenarios['qk_video'].catalogue_items == round(3_753_436 / 5_022_750 * 5023)


@pytest.mark.parametrize('scale', [0, -0.1, 1.5, float('nan'), float('inf')])
def test_invalid_scale_rejected(scale):
  with pytest.raises(ValueError, match='scale must be in'):
    config.plan_generation(scale)


def test_scale_too_small_rejected():
  with pytest.raises(ValueError, match='QK-video users'):
    config.plan_generation(1e-7)


def test_plan_to_json_has_every_scenario():
  data = config.plan_generation(config.DEFAULT_SCALE).to_json()
  assert sorted(data) == sorted(config.SCENARIO_NAMES)
  assert data['qk_video']['users'] == 5023
