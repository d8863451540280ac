"""Encoding of NumPy feature columns as serialized tf.Example records, without TensorFlow."""

import dataclasses
from typing import List, Mapping, Union

import numpy as np
import pyarrow as pa
from tfx_bsl.coders import example_coder


@dataclasses.dataclass(frozen=True)
class RaggedColumn:
  """A variable-length feature in compressed-row layout, without one Python object per row.

  Row i holds values[row_splits[i]:row_splits[i + 1]]. `row_splits` need not start at 0, so
  slicing rows shares the value buffer.

  Example:

    column = RaggedColumn(np.array([5, 6, 7]), np.array([0, 2, 3]))  # rows [5, 6] and [7]
    encode_examples({'item_ids': column})
  """

  values: np.ndarray
  row_splits: np.ndarray

  def __len__(self) -> int:
    return int(self.row_splits.shape[0]) - 1

  def __getitem__(self, rows: slice) -> 'RaggedColumn':
    if not isinstance(rows, slice) or rows.step not in (None, 1):
      raise TypeError('RaggedColumn supports contiguous row slices only.')
    start, stop, _ = rows.indices(len(self))
    stop = max(start, stop)
    return RaggedColumn(self.values, self.row_splits[start:stop + 1])


Column = Union[np.ndarray, RaggedColumn]


def to_record_batch(columns: Mapping[str, Column]) -> pa.RecordBatch:
  """Converts feature columns to a RecordBatch of list arrays (one list per example).

  A 1-D column becomes a one-value feature, a 2-D column [n, k] a k-value feature, and an
  object column of 1-D arrays or a `RaggedColumn` a variable-length feature. Integer columns are encoded as int64,
  floating columns as float32 (tf.Example's float type), bytes/str columns as bytes.
  """
  arrays = []
  names = []
  for name, column in columns.items():
    arrays.append(_to_list_array(name, column))
    names.append(name)
  return pa.RecordBatch.from_arrays(arrays, names)


def _to_list_array(name: str, column: Column) -> pa.Array:
  if isinstance(column, RaggedColumn):
    splits = np.asarray(column.row_splits, dtype=np.int64)
    first = int(splits[0]) if splits.size else 0
    last = int(splits[-1]) if splits.size else 0
    offsets = (splits - first).astype(np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets),
                                    _values_array(name, column.values[first:last]))
  if column.dtype == object:
    lengths = np.fromiter((len(v) for v in column), dtype=np.int32, count=len(column))
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32)
    flat = np.concatenate(list(column)) if len(column) else np.zeros(0, np.int64)
    return pa.ListArray.from_arrays(pa.array(offsets), _values_array(name, flat))
  if column.ndim == 1:
    offsets = np.arange(len(column) + 1, dtype=np.int32)
    return pa.ListArray.from_arrays(pa.array(offsets), _values_array(name, column))
  if column.ndim == 2:
    width = column.shape[1]
    offsets = np.arange(len(column) + 1, dtype=np.int32) * width
    return pa.ListArray.from_arrays(pa.array(offsets), _values_array(name, column.reshape(-1)))
  raise ValueError(f'Feature {name!r} has {column.ndim} dimensions; expected 1 or 2.')


def _values_array(name: str, values: np.ndarray) -> pa.Array:
  if np.issubdtype(values.dtype, np.integer) or values.dtype == np.bool_:
    return pa.array(values.astype(np.int64))
  if np.issubdtype(values.dtype, np.floating):
    return pa.array(values.astype(np.float32))
  if values.dtype.kind in ('S', 'U', 'O'):
    return pa.array([v.encode() if isinstance(v, str) else bytes(v) for v in values],
                    type=pa.binary())
  raise ValueError(f'Feature {name!r} has unsupported dtype {values.dtype}.')


def encode_examples(columns: Mapping[str, Column]) -> List[bytes]:
  """Returns one serialized tf.Example per row of the given feature columns."""
  if not columns:
    return []
  return example_coder.RecordBatchToExamplesEncoder().encode(to_record_batch(columns))
