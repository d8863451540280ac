"""Tests of the counter-based random streams."""

import numpy as np
import pytest

from components.generator.rng import CounterStream, stream_key


def test_uniform_same_counters_same_values():
  first = CounterStream(3, 'a').uniform(np.arange(100), 7)
  second = CounterStream(3, 'a').uniform(np.arange(100), 7)
  np.testing.assert_array_equal(first, second)


def test_uniform_depends_on_seed_name_counters():
  base = CounterStream(3, 'a').uniform(np.arange(100))
  assert not np.array_equal(base, CounterStream(4, 'a').uniform(np.arange(100)))
  assert not np.array_equal(base, CounterStream(3, 'b').uniform(np.arange(100)))
  assert not np.array_equal(base, CounterStream(3, 'a').uniform(np.arange(100), 1))


def test_uniform_elementwise_independent_of_batch():
  stream = CounterStream(9, 'rows')
  whole = stream.uniform(np.arange(1000))
  part = stream.uniform(np.arange(500, 510))
  np.testing.assert_array_equal(whole[500:510], part)


def test_uniform_broadcast_shape():
  values = CounterStream(1, 'x').uniform(np.arange(4)[:, None], np.arange(3)[None, :])
  assert values.shape == (4, 3)


def test_uniform_open_interval_and_moments():
  values = CounterStream(1, 'x').uniform(np.arange(200_000))
  assert values.min() > 0.0
  assert values.max() < 1.0
  assert abs(values.mean() - 0.5) < 0.005
  assert abs(values.var() - 1 / 12) < 0.002


def test_normal_moments():
  values = CounterStream(2, 'n').normal(np.arange(200_000))
  assert abs(values.mean()) < 0.01
  assert abs(values.std() - 1.0) < 0.01


def test_integers_range():
  values = CounterStream(2, 'i').integers(5, np.arange(10_000))
  assert values.min() == 0
  assert values.max() == 4


def test_integers_broadcast_high():
  values = CounterStream(2, 'i').integers(np.array([1, 2, 3]), np.arange(3))
  assert values[0] == 0
  assert np.all(values < np.array([1, 2, 3]))


def test_integers_rejects_empty_range():
  with pytest.raises(ValueError, match='at least 1'):
    CounterStream(2, 'i').integers(0, np.arange(3))


def test_float_counters_rejected():
  with pytest.raises(TypeError, match='integers'):
    CounterStream(2, 'i').uniform(np.array([0.5]))


def test_negative_seed_rejected():
  with pytest.raises(ValueError, match='non-negative'):
    stream_key(-1, 'a')
