"""Tests of the Beam stage helpers: spill serialization and spill parts."""

import numpy as np
import pytest

from components.builders import base
from components.builders import beam_stages
from components.builders import registry


def test_pack_arrays_round_trip():
  arrays = {'a': np.arange(5, dtype=np.int64), 'b': np.array([[1.5, 2.0]]),
            'c': np.zeros(0, np.int8), 'd': np.array([True, False])}
  restored = beam_stages.unpack_arrays(bytearray(beam_stages.pack_arrays(arrays)))
  for name, values in arrays.items():
    assert restored[name].dtype == values.dtype
    assert restored[name].shape == values.shape
    assert (restored[name] == values).all()


def test_unpacked_arrays_writable():
  restored = beam_stages.unpack_arrays(bytearray(beam_stages.pack_arrays({'a': np.arange(3)})))
  restored['a'][0] = 7
  assert restored['a'][0] == 7


def test_unpack_rejects_other_data():
  with pytest.raises(ValueError, match='magic'):
    beam_stages.unpack_arrays(bytearray(b'PK\x03\x04 not a spill file'))


def test_pack_rejects_object_arrays():
  with pytest.raises(TypeError, match='dtype object'):
    beam_stages.pack_arrays({'x': np.array([None])})


def test_spill_parts_load_as_bucket(tmp_path):
  builder = registry.create_builder('sbr')
  first = {'user_id': np.array([2, 1]), 'item_id': np.array([5, 6]), 'click': np.array([1, 1]),
           '__row_offset__': np.array([30, 10])}
  second = dict(first, user_id=np.array([1]), item_id=np.array([7]), click=np.array([0]),
                __row_offset__=np.array([20]))
  blobs = [beam_stages.pack_arrays(first), beam_stages.pack_arrays(second)]
  path = tmp_path / 'chunk.spill'
  path.write_bytes(b''.join(blobs))
  parts = [beam_stages.SpillPart('qk_video', str(path), 0, len(blobs[0])),
           beam_stages.SpillPart('qk_video', str(path), len(blobs[0]), len(blobs[1]))]
  table = beam_stages.load_bucket(builder, parts)['qk_video']
  assert isinstance(table, base.UserTable)
  assert list(table.columns['user_id']) == [1, 1, 2]
  assert list(table.columns['item_id']) == [6, 7, 5]
  assert list(table.row_offset) == [10, 20, 30]


def test_pack_arrays_narrows_integers():
  wide = {'ids': np.array([1, 2, 300], dtype=np.int64)}
  packed = beam_stages.pack_arrays(wide)
  assert len(packed) < len(beam_stages.pack_arrays({'ids': np.zeros(3, np.int64) + 2**40}))
  restored = beam_stages.unpack_arrays(bytearray(packed))
  assert restored['ids'].dtype == np.int64
  assert list(restored['ids']) == [1, 2, 300]
