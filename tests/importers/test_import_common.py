"""Tests of the importers' shared output and value parsing."""

import numpy as np
import pyarrow as pa
import pytest

from components.importers import common
from components.tenrec_io.errors import TenrecInputError


def test_import_output_atomic_on_error(tmp_path):
  out = tmp_path / 'out'
  with pytest.raises(RuntimeError, match='boom'):
    with common.ImportOutput(out) as output:
      output.write({'user_id': np.array([1]), 'item_id': np.array([2])})
      raise RuntimeError('boom')
  assert not out.exists()
  assert list(tmp_path.iterdir()) == []


def test_import_output_requires_finish(tmp_path):
  with pytest.raises(RuntimeError, match='finish'):
    with common.ImportOutput(tmp_path / 'out') as output:
      output.write({'user_id': np.array([1]), 'item_id': np.array([2])})
  assert not (tmp_path / 'out').exists()


def test_import_output_writes_defaults(tmp_path):
  with common.ImportOutput(tmp_path / 'out') as output:
    output.write({'user_id': np.array([1, 2]), 'item_id': np.array([3, 4])})
    output.finish({'source': 'x'})
  lines = (tmp_path / 'out' / 'QK-video.csv').read_text().splitlines()
  assert lines[1] == '1,3,1,0,0,0,\\N,0,0,0'
  assert '"rows": 2' in (tmp_path / 'out' / 'import.json').read_text()


def test_parse_integers_missing_allowed():
  values = pa.array(['3', ' 4 ', '\\N', '', '5.0'])
  assert list(common.parse_integers(values, 'f', 'c', 2, allow_missing=True)) == [3, 4, -1, -1, 5]


def test_parse_integers_error_location():
  with pytest.raises(TenrecInputError) as caught:
    common.parse_integers(pa.array(['3', '4.5']), 'f.csv', 'item', first_line=10)
  assert caught.value.line == 11
  assert caught.value.value == '4.5'


def test_parse_integers_missing_rejected():
  with pytest.raises(TenrecInputError, match='missing value'):
    common.parse_integers(pa.array(['3', '']), 'f.csv', 'user', first_line=2)


def test_parse_numbers_missing_is_nan():
  values = common.parse_numbers(pa.array(['1.5', '\\N', '-2e3']), 'f', 'c')
  assert values[0] == 1.5
  assert np.isnan(values[1])
  assert values[2] == -2000.0
