"""Tests of the counter-based hashing behind seeded sampling and splits."""

import numpy as np
import pytest

from components.builders import hashing


def test_hash_columns_deterministic():
  values = np.arange(100)
  assert (hashing.hash_columns(3, 5, values) == hashing.hash_columns(3, 5, values)).all()


def test_hash_columns_depends_on_seed_and_salt():
  values = np.arange(100)
  base = hashing.hash_columns(3, 5, values)
  assert (base != hashing.hash_columns(4, 5, values)).mean() > 0.99
  assert (base != hashing.hash_columns(3, 6, values)).mean() > 0.99


def test_hash_columns_row_independent_of_neighbours():
  values = np.arange(50)
  assert hashing.hash_columns(1, 2, values)[10] == hashing.hash_columns(1, 2, values[10:11])[0]


def test_hash_columns_uses_every_column():
  a = hashing.hash_columns(0, 0, np.array([1, 1]), np.array([2, 3]))
  assert a[0] != a[1]


def test_hash_columns_needs_a_column():
  with pytest.raises(ValueError, match='at least one column'):
    hashing.hash_columns(0, 0)


def test_to_unit_interval_range_and_uniformity():
  unit = hashing.to_unit_interval(hashing.hash_columns(7, 1, np.arange(20000)))
  assert unit.min() >= 0.0
  assert unit.max() < 1.0
  assert abs(unit.mean() - 0.5) < 0.01


def test_bucket_of_range_and_balance():
  buckets = hashing.bucket_of(np.arange(10000), 7)
  assert buckets.min() == 0
  assert buckets.max() == 6
  assert np.bincount(buckets).min() > 1200


def test_bucket_of_rejects_zero_buckets():
  with pytest.raises(ValueError, match='at least 1'):
    hashing.bucket_of(np.arange(3), 0)
