"""Tests for models.layers.checks."""

import pytest

from models.layers import checks


def test_positive_int_accepts_one():
  assert checks.positive_int('units', 1) == 1


@pytest.mark.parametrize('value', [0, -3, 2.5, True, '4'])
def test_positive_int_rejects(value):
  with pytest.raises(ValueError, match=repr(value).replace('.', r'\.')):
    checks.positive_int('units', value)


def test_non_negative_float_rejects_nan():
  with pytest.raises(ValueError, match='nan'):
    checks.non_negative_float('l2', float('nan'))


def test_rate_rejects_one():
  with pytest.raises(ValueError, match='1.0'):
    checks.rate('dropout', 1.0)


def test_units_turns_list_into_tuple():
  assert checks.units('hidden_units', [4, 2]) == (4, 2)


def test_units_rejects_negative_width():
  with pytest.raises(ValueError, match='-8'):
    checks.units('hidden_units', (16, -8))


def test_units_rejects_empty_by_default():
  with pytest.raises(ValueError, match='at least one'):
    checks.units('hidden_units', ())


def test_units_allows_empty_on_request():
  assert checks.units('hidden_units', (), allow_empty=True) == ()


def test_choice_names_rejected_value():
  with pytest.raises(ValueError, match="'bogus'"):
    checks.choice('history_mode', 'bogus', ('pooled', 'fields'))


def test_boolean_rejects_string():
  with pytest.raises(ValueError, match="'False'"):
    checks.boolean('batch_norm', 'False')
