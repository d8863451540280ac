"""CSV writing in the exact Tenrec layout, and an output folder that appears atomically.

Rows are formatted column by column with Arrow compute kernels (no per-row Python): integers as
decimal text, `\\N` for a missing category (-1) or float (NaN), floats in their shortest
round-trip form with at least one decimal (`1.0`, `37.25`), and `click` of the article files as
`1.0`, as in the released files.
"""

import logging
import os
import pathlib
import shutil
import uuid
from typing import Dict, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.tenrec_io import schema as schema_lib

# Binary columns that the released files write as floats.
FLOAT_BINARY_COLUMNS = {('qk_article', 'click'), ('qb_article', 'click')}
_MISSING = pa.scalar(schema_lib.MISSING_VALUE_TOKEN)


def header_line(schema: schema_lib.ScenarioSchema) -> bytes:
  return (','.join(schema.column_names) + '\n').encode('ascii')


def _integer_text(values: np.ndarray) -> pa.Array:
  return pc.cast(pa.array(values.astype(np.int64)), pa.string())


def _float_text(values: np.ndarray) -> pa.Array:
  text = pc.cast(pa.array(values.astype(np.float64)), pa.string())
  has_point = pc.match_substring_regex(text, r'[.eEn]')
  return pc.if_else(has_point, text, pc.binary_join_element_wise(text, pa.scalar('.0'), ''))


def _column_text(scenario: str, column: schema_lib.Column, values: np.ndarray) -> pa.Array:
  kind = column.kind
  if (scenario, column.name) in FLOAT_BINARY_COLUMNS:
    return _float_text(values.astype(np.float64))
  if kind in (schema_lib.ColumnKind.ID, schema_lib.ColumnKind.COUNT, schema_lib.ColumnKind.BINARY):
    return _integer_text(values)
  if kind == schema_lib.ColumnKind.CATEGORY:
    return pc.if_else(pa.array(values < 0), _MISSING, _integer_text(values))
  return pc.if_else(pa.array(np.isnan(values)), _MISSING, _float_text(values))


def format_rows(schema: schema_lib.ScenarioSchema, columns: Dict[str, np.ndarray]) -> bytes:
  """Returns the CSV lines (no header) for `columns`, in the schema's column order.

  Raises:
    ValueError: a schema column is missing from `columns` or the columns differ in length.
  """
  lengths = {name: len(values) for name, values in columns.items()}
  for name in schema.column_names:
    if name not in columns:
      raise ValueError(f'column {name!r} of {schema.file_name} was not generated; '
                       f'generated columns: {sorted(columns)}.')
  if len(set(lengths[name] for name in schema.column_names)) > 1:
    raise ValueError(f'columns of {schema.file_name} differ in length: {lengths}.')
  if not lengths[schema.column_names[0]]:
    return b''

  texts = [_column_text(schema.name, column, np.asarray(columns[column.name]))
           for column in schema.columns]
  lines = pc.binary_join_element_wise(*texts, pa.scalar(''), ',')
  # Joining with an empty last field leaves a trailing comma; replace it by the newline.
  lines = pc.utf8_replace_slice(lines, -1, 2**31 - 1, '\n')
  if isinstance(lines, pa.ChunkedArray):
    lines = lines.combine_chunks()
  offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)
  start = offsets[lines.offset]
  end = offsets[lines.offset + len(lines)]
  return memoryview(lines.buffers()[2])[start:end].tobytes()


class AtomicOutputDirectory:
  """A context manager that builds an output folder beside `target` and renames it at the end.

  On entry it checks `target` (a non-empty folder needs `overwrite=True`) and creates a hidden
  sibling folder. On a clean exit the sibling replaces `target`; on any exception, including
  KeyboardInterrupt, the sibling is removed and `target` is left as it was.
  """

  def __init__(self, target: Union[str, os.PathLike], overwrite: bool = False):
    self.target = pathlib.Path(target).resolve()
    self.overwrite = overwrite
    self.partial = self.target.parent / f'.{self.target.name}.partial-{uuid.uuid4().hex[:12]}'
    self._check_target()

  def _check_target(self) -> None:
    if self.target.exists() and not self.target.is_dir():
      raise FileExistsError(f'output path {self.target} exists and is not a folder; choose '
                            'another --out.')
    if self.target.is_dir() and any(self.target.iterdir()) and not self.overwrite:
      raise FileExistsError(f'output folder {self.target} is not empty; pass --overwrite to '
                            'replace it or choose another --out.')

  def __enter__(self) -> pathlib.Path:
    self.target.parent.mkdir(parents=True, exist_ok=True)
    self.partial.mkdir()
    return self.partial

  def __exit__(self, exc_type, exc, traceback) -> bool:
    if exc_type is not None:
      logging.warning('Generation failed; removing the partial output %s.', self.partial)
      shutil.rmtree(self.partial, ignore_errors=True)
      return False
    try:
      self._commit()
    except BaseException:
      shutil.rmtree(self.partial, ignore_errors=True)
      raise
    return False

  def _commit(self) -> None:
    # Check again: another process may have written to the target meanwhile.
    self._check_target()
    if not self.target.exists():
      os.rename(self.partial, self.target)
      return
    retired = self.target.parent / f'.{self.target.name}.replaced-{uuid.uuid4().hex[:12]}'
    os.rename(self.target, retired)
    os.rename(self.partial, self.target)
    shutil.rmtree(retired, ignore_errors=True)
