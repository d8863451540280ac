"""Counter-based hashing for seeded, order-independent sampling and splitting.

Builders never draw from a stateful random generator: a row's fate (sampled or not, which
split) is a function of the seed and the row's identity (its byte offset in the file, or its
content). The result is therefore the same however the input was chunked, bucketed or
distributed over workers.
"""

import numpy as np

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_TWO_TO_MINUS_64 = 2.0**-64

# Salts that keep the different uses of one seed independent of each other.
SALT_BUCKET = 0x1B873593
SALT_NEGATIVE_SAMPLING = 0x5BD1E995
SALT_SPLIT = 0x27D4EB2F
SALT_USER_SAMPLE = 0x165667B1


def splitmix64(values: np.ndarray) -> np.ndarray:
  """Applies the SplitMix64 finaliser element-wise (uint64 in, uint64 out)."""
  with np.errstate(over='ignore'):
    z = np.asarray(values).astype(np.uint64) + _GOLDEN
    z = (z ^ (z >> np.uint64(30))) * _MIX1
    z = (z ^ (z >> np.uint64(27))) * _MIX2
    return z ^ (z >> np.uint64(31))


def hash_columns(seed: int, salt: int, *columns: np.ndarray) -> np.ndarray:
  """Returns one uint64 hash per row of the given equally long integer columns."""
  if not columns:
    raise ValueError('hash_columns needs at least one column.')
  state = splitmix64(np.array([(seed * 0x100000001B3 + salt) & 0xFFFFFFFFFFFFFFFF],
                              dtype=np.uint64))[0]
  h = np.full(len(columns[0]), state, dtype=np.uint64)
  for column in columns:
    h = splitmix64(h ^ np.asarray(column).astype(np.int64).view(np.uint64))
  return h


def to_unit_interval(hashes: np.ndarray) -> np.ndarray:
  """Maps uint64 hashes to floats uniformly distributed in [0, 1)."""
  return (hashes >> np.uint64(11)).astype(np.float64) * (2.0**-53)


def bucket_of(keys: np.ndarray, num_buckets: int) -> np.ndarray:
  """Assigns integer keys (user ids) to buckets 0..num_buckets-1, independent of any seed."""
  if num_buckets < 1:
    raise ValueError(f'num_buckets must be at least 1, got {num_buckets}.')
  return (hash_columns(0, SALT_BUCKET, keys) % np.uint64(num_buckets)).astype(np.int64)
