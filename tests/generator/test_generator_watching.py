"""Tests of watching_times given the click label."""

import numpy as np

from components.generator import watching


def test_conditionals_are_distributions():
  conditionals = watching.watching_times_conditionals()
  assert conditionals.min() >= 0
  np.testing.assert_allclose(conditionals.sum(axis=1), 1.0)


def test_conditionals_reproduce_marginal():
  rate = watching.WATCHING_TIMES_CLICK_RATE
  conditionals = watching.watching_times_conditionals()
  marginal = (1 - rate) * conditionals[0] + rate * conditionals[1]
  np.testing.assert_allclose(marginal, watching.WATCHING_TIMES_SHARES, atol=1e-12)


def test_clicked_rows_never_zero():
  conditionals = watching.watching_times_conditionals()
  assert conditionals[1, 0] == 0


def test_unclicked_rows_mostly_watched():
  conditionals = watching.watching_times_conditionals()
  assert conditionals[0, 1:].sum() > 0.52


def test_draw_tail_values():
  click = np.ones(4, dtype=np.int64)
  uniform = np.full(4, 0.9999999)
  values = watching.draw_watching_times(click, uniform, np.array([0.9, 0.4, 0.2, 1e-30]))
  np.testing.assert_array_equal(values, [6, 7, 8, 50])


def test_draw_matches_conditionals():
  rng = np.random.default_rng(0)
  click = np.zeros(100_000, dtype=np.int64)
  values = watching.draw_watching_times(click, rng.random(100_000), rng.random(100_000))
  share_zero = np.mean(values == 0)
  assert abs(share_zero - watching.watching_times_conditionals()[0, 0]) < 0.005
