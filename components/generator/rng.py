"""Counter-based random numbers: every draw is a pure function of (seed, stream, counters).

The generator never draws from a sequential random state while producing rows. Each random
number is a SplitMix64 hash of the seed, a stream name and integer counters such as
(user id, row index, attempt). A user's rows therefore do not depend on the other users of a
processing block, on the block size or on the order of the blocks, which makes the output
byte-identical for a given seed and scale however the work is chunked.

Example:

  stream = CounterStream(seed=7, name='clicks')
  u = stream.uniform(user_ids[:, None], np.arange(10)[None, :])  # shape [users, 10]
"""

import zlib
from typing import Union

import numpy as np

ArrayLike = Union[int, np.ndarray]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_MULTIPLIER_1 = np.uint64(0xBF58476D1CE4E5B9)
_MULTIPLIER_2 = np.uint64(0x94D049BB133111EB)
_MASK64 = (1 << 64) - 1
_TWO_POW_MINUS_53 = 2.0**-53


def _mix(x: np.ndarray) -> np.ndarray:
  """Applies the SplitMix64 finaliser, a bijection of uint64 with full avalanche."""
  x = x ^ (x >> np.uint64(30))
  x = x * _MULTIPLIER_1
  x = x ^ (x >> np.uint64(27))
  x = x * _MULTIPLIER_2
  return x ^ (x >> np.uint64(31))


def _as_uint64(value: ArrayLike) -> np.ndarray:
  array = np.asarray(value)
  if array.dtype.kind == 'f':
    raise TypeError(f'random-stream counters must be integers, got dtype {array.dtype}.')
  return array.astype(np.int64, copy=False).view(np.uint64) if array.dtype != np.uint64 else array


def stream_key(seed: int, name: str) -> int:
  """Returns the 64-bit key of the stream `name` under `seed`."""
  if seed < 0:
    raise ValueError(f'seed must be a non-negative integer, got {seed}.')
  value = (seed * 0x9E3779B97F4A7C15 + zlib.crc32(name.encode('utf-8'))) & _MASK64
  with np.errstate(over='ignore'):
    return int(_mix(np.array([value], dtype=np.uint64))[0])


class CounterStream:
  """A named family of random numbers indexed by integer counters.

  Counters broadcast like NumPy operands; the result has the broadcast shape. Two calls with the
  same counters return the same numbers, and any change of a counter gives independent numbers.
  """

  def __init__(self, seed: int, name: str):
    self.seed = int(seed)
    self.name = name
    self._key = np.uint64(stream_key(self.seed, name))

  def child(self, name: str) -> 'CounterStream':
    """Returns an independent stream derived from this one."""
    return CounterStream(self.seed, f'{self.name}/{name}')

  def bits(self, *counters: ArrayLike) -> np.ndarray:
    """Returns uniformly distributed uint64 values, one per broadcast counter tuple."""
    if not counters:
      raise ValueError('bits() needs at least one counter.')
    with np.errstate(over='ignore'):
      state = np.asarray(self._key, dtype=np.uint64)
      for counter in counters:
        state = _mix(state ^ _mix(_as_uint64(counter) + _GOLDEN))
    return state

  def uniform(self, *counters: ArrayLike) -> np.ndarray:
    """Returns float64 values uniform on the open interval (0, 1)."""
    bits = self.bits(*counters)
    return ((bits >> np.uint64(11)).astype(np.float64) + 0.5) * _TWO_POW_MINUS_53

  def normal(self, *counters: ArrayLike) -> np.ndarray:
    """Returns standard normal values (Box-Muller on two hashed uniforms)."""
    first = self.uniform(*counters, 0)
    second = self.uniform(*counters, 1)
    return np.sqrt(-2.0 * np.log(first)) * np.cos(2.0 * np.pi * second)

  def integers(self, high: ArrayLike, *counters: ArrayLike) -> np.ndarray:
    """Returns integers uniform on [0, high) for each broadcast `high` (high >= 1)."""
    high = np.asarray(high)
    if np.any(high < 1):
      raise ValueError(f'high must be at least 1, got minimum {int(np.min(high))}.')
    values = np.floor(self.uniform(*counters) * high).astype(np.int64)
    return np.minimum(values, high - 1)
