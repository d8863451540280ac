"""Tests of intercept calibration and score standardisation."""

import numpy as np
import pytest

from components.generator import scenarios


def test_solve_intercept_expected_rate():
  scores = np.random.default_rng(0).normal(size=10_000)
  intercept = scenarios.solve_intercept(scores, 0.3)
  assert abs(scenarios.sigmoid(intercept + scores).mean() - 0.3) < 1e-6


def test_solve_intercept_realised_rate():
  rng = np.random.default_rng(1)
  scores = rng.normal(size=10_000)
  uniforms = rng.random(10_000)
  intercept = scenarios.solve_intercept(scores, 0.3, uniforms)
  realised = (uniforms < scenarios.sigmoid(intercept + scores)).mean()
  assert abs(realised - 0.3) < 1e-3


def test_solve_intercept_counts_minimum_per_user():
  rng = np.random.default_rng(2)
  scores = rng.normal(size=2000)
  uniforms = rng.random(2000)
  users = np.repeat(np.arange(200), 10)
  with_floor = scenarios.solve_intercept(scores, 0.3, uniforms, users, min_per_user=5)
  without = scenarios.solve_intercept(scores, 0.3, uniforms)
  # Raising users to 5 clicks of 10 adds clicks, so fewer are needed from the intercept.
  assert with_floor < without


@pytest.mark.parametrize('target', [0.0, 1.0, -0.2])
def test_solve_intercept_rejects_target(target):
  with pytest.raises(ValueError, match='target rate'):
    scenarios.solve_intercept(np.zeros(3), target)


def test_solve_intercept_rejects_empty():
  with pytest.raises(ValueError, match='zero rows'):
    scenarios.solve_intercept(np.zeros(0), 0.5)


def test_standardiser():
  standardiser = scenarios.Standardiser.fit(np.array([1.0, 3.0]))
  np.testing.assert_allclose(standardiser(np.array([1.0, 3.0])), [-1.0, 1.0])
