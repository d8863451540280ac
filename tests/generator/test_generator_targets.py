"""Tests of the published target values."""

import pytest

from components.generator import targets


@pytest.mark.parametrize('scenario,statistic,value', [
    ('qk_video', 'click_rate', 0.2884),
    ('qk_video', 'like_per_click', 0.0713),
    ('qk_video', 'share_per_click', 0.0079),
    ('qk_video', 'follow_per_click', 0.0060),
    ('qk_video', 'rows_per_user_mean', 98.2),
    ('qk_video', 'clicks_per_item', 37.9),
    ('qb_video', 'click_rate', 0.697),
    ('qb_video', 'clicks_per_user_mean', 49.69),
    ('qb_video', 'shared_item_share', 0.601),
    ('qk_article', 'read_per_click', 0.959),
    ('qk_article', 'favorite_per_click', 0.0069),
    ('qk_article', 'clicks_per_item', 209.5),
    ('qb_article', 'clicks_per_user_mean', 14.22),
])
def test_published_values(scenario, statistic, value):
  assert targets.find_target(scenario, statistic).value == pytest.approx(value, rel=1e-2)


def test_unknown_statistic_has_no_target():
  assert targets.find_target('qk_video', 'rows') is None
  assert targets.find_target('unknown', 'click_rate') is None


def test_minimum_targets_describe_bound():
  target = targets.find_target('qk_video', 'min_clicks_per_user')
  assert target.describe() == '>= 5'


def test_every_target_has_source():
  for scenario_targets in targets.TARGETS.values():
    for target in scenario_targets:
      assert target.source
      assert target.kind in ('equal', 'min')
