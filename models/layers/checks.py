"""Argument checks shared by layer constructors and model hyper-parameter validation.

Every check raises ValueError naming the argument and the rejected value.
"""

import numbers
from typing import Any, Iterable, Sequence, Tuple


def positive_int(name: str, value: Any) -> int:
  """Returns `value` if it is an integer >= 1."""
  if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
    raise ValueError(f'{name} must be a positive integer, got {value!r}.')
  return int(value)


def non_negative_int(name: str, value: Any) -> int:
  """Returns `value` if it is an integer >= 0."""
  if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
    raise ValueError(f'{name} must be a non-negative integer, got {value!r}.')
  return int(value)


def non_negative_float(name: str, value: Any) -> float:
  """Returns `value` as a float if it is a finite number >= 0."""
  if (isinstance(value, bool) or not isinstance(value, numbers.Real) or value < 0 or
      value != value or value == float('inf')):
    raise ValueError(f'{name} must be a finite number >= 0, got {value!r}.')
  return float(value)


def positive_float(name: str, value: Any) -> float:
  """Returns `value` as a float if it is a finite number > 0."""
  if non_negative_float(name, value) == 0:
    raise ValueError(f'{name} must be a finite number > 0, got {value!r}.')
  return float(value)


def rate(name: str, value: Any) -> float:
  """Returns `value` as a float if it is a dropout-style rate in [0, 1)."""
  if (isinstance(value, bool) or not isinstance(value, numbers.Real) or
      not 0 <= value < 1):
    raise ValueError(f'{name} must be a number in [0, 1), got {value!r}.')
  return float(value)


def units(name: str, value: Any, allow_empty: bool = False) -> Tuple[int, ...]:
  """Returns `value` as a tuple of positive layer widths."""
  if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
    raise ValueError(f'{name} must be a sequence of positive integers, got {value!r}.')
  widths = tuple(value)
  if not widths and not allow_empty:
    raise ValueError(f'{name} must name at least one layer width, got {value!r}.')
  for width in widths:
    if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
      raise ValueError(f'{name} must contain positive integers only, got {width!r} in '
                       f'{value!r}.')
  return tuple(int(width) for width in widths)


def choice(name: str, value: Any, allowed: Sequence[Any]) -> Any:
  """Returns `value` if it is one of `allowed`."""
  if value not in allowed:
    raise ValueError(f'{name} must be one of {", ".join(repr(a) for a in allowed)}; '
                     f'got {value!r}.')
  return value


def boolean(name: str, value: Any) -> bool:
  """Returns `value` if it is a bool (not an int or a string such as 'False')."""
  if not isinstance(value, bool):
    raise ValueError(f'{name} must be True or False, got {value!r}.')
  return value
