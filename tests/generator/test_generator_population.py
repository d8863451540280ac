"""Tests of user ids, activity and demographics."""

import numpy as np
import pytest

from components.generator import config
from components.generator.population import (Population, joint_demographics, weibull_rows,
                                             GENDER_SHARES, AGE_SHARES)


@pytest.fixture(scope='module')
def population():
  return Population(config.plan_generation(0.0005), seed=4)


def test_joint_demographics_marginals():
  joint = joint_demographics()
  np.testing.assert_allclose(joint.sum(axis=1), GENDER_SHARES, atol=1e-12)
  np.testing.assert_allclose(joint.sum(axis=0), AGE_SHARES, atol=1e-12)
  assert joint.min() >= 0


def test_qk_video_ids_start_at_one(population):
  ids = population.user_ids['qk_video']
  assert ids[0] == 1
  assert np.all(np.diff(ids) == 1)


def test_secondary_ids_ascending_with_overlap(population):
  qk = set(population.user_ids['qk_video'].tolist())
  for name in config.SECONDARY_SCENARIOS:
    ids = population.user_ids[name]
    plan = population.plan.scenarios[name]
    assert np.all(np.diff(ids) > 0)
    assert len(ids) == plan.users
    assert sum(i in qk for i in ids.tolist()) == plan.overlap_with_qk_video


def test_secondary_own_users_disjoint(population):
  own = [set(population.user_ids[n][population.user_ids[n] > population.qk_video_users].tolist())
         for n in config.SECONDARY_SCENARIOS]
  assert not own[0] & own[1]
  assert not own[1] & own[2]


def test_demographic_row_shares_match(population):
  ids = population.user_ids['qk_video']
  rows = population.rows_per_user('qk_video', ids, 10**9)
  gender, age = population.demographics(ids)
  gender_share = np.bincount(gender, weights=rows, minlength=3) / rows.sum()
  age_share = np.bincount(age, weights=rows, minlength=8) / rows.sum()
  np.testing.assert_allclose(gender_share, GENDER_SHARES, atol=0.003)
  np.testing.assert_allclose(age_share, AGE_SHARES, atol=0.003)


def test_demographics_do_not_depend_on_query(population):
  ids = population.user_ids['qk_article']
  gender_all, age_all = population.demographics(ids)
  gender_one, age_one = population.demographics(ids[5:6])
  assert gender_all[5] == gender_one[0]
  assert age_all[5] == age_one[0]


def test_demographics_rejects_unknown_id(population):
  with pytest.raises(ValueError, match='user ids must lie'):
    population.demographics(np.array([0]))


def test_weibull_rows_mean_and_bounds():
  uniform = (np.arange(200_000) + 0.5) / 200_000
  rows = weibull_rows(uniform, mean=98.2, minimum=12, maximum=10**9)
  assert rows.min() == 12
  assert abs(rows.mean() - 98.2) / 98.2 < 0.02
  assert abs(np.percentile(rows, 50) / rows.mean() - 0.68) < 0.03
  assert abs(np.percentile(rows, 99) / rows.mean() - 4.9) < 0.3


def test_weibull_rows_capped():
  rows = weibull_rows(np.array([0.999999]), mean=98.2, minimum=12, maximum=300)
  assert rows[0] == 300


def test_secondary_activity_shape(population):
  ids = population.user_ids['qk_article']
  rows = population.rows_per_user('qk_article', ids, 10**9)
  assert rows.min() >= 1
  assert abs(rows.mean() - 34.78) / 34.78 < 0.1
