"""Encoding of NumPy feature columns as serialized tf.Example records, without TensorFlow."""

from typing import List, Mapping

import numpy as np
import pyarrow as pa
from tfx_bsl.coders import example_coder


def to_record_batch(columns: Mapping[str, np.ndarray]) -> pa.RecordBatch:
  """Converts feature columns to a RecordBatch of list arrays (one list per example).

  A 1-D column becomes a one-value feature, a 2-D column [n, k] a k-value feature, and an
  object column of 1-D arrays a variable-length feature. Integer columns are encoded as int64,
  floating columns as float32 (tf.Example's float type), bytes/str columns as bytes.
  """
  arrays = []
  names = []
  for name, column in columns.items():
    arrays.append(_to_list_array(name, column))
    names.append(name)
  return pa.RecordBatch.from_arrays(arrays, names)


def _to_list_array(name: str, column: np.ndarray) -> pa.Array:
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


def encode_examples(columns: Mapping[str, np.ndarray]) -> List[bytes]:
  """Returns one serialized tf.Example per row of the given feature columns."""
  if not columns:
    return []
  return example_coder.RecordBatchToExamplesEncoder().encode(to_record_batch(columns))
