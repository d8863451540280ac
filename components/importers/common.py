"""Shared output of the importers: a Tenrec-schema CSV file plus `import.json`, written into a
folder that appears atomically.

Every importer fills the columns that its source lacks with documented defaults, validates the
values it converts (raising `TenrecInputError` with the file, line, column and value), and
records the mapping in `import.json`:

  {"source": "movielens-100k", "kind": "public", "mapping": {...}, "rows": 100000, ...}

`pipeline.datasets.describe` reads that file to label results as public data.
"""

import json
import os
import pathlib
from typing import Any, Dict, Mapping, Optional, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from components.generator import writer as csv_writer
from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError

IMPORT_METADATA_FILE = 'import.json'

# Values of the columns a source does not provide, by column kind. Actions default to 0 (not
# observed) and categories and floats to missing (`\N`). `default_value` adds two exceptions:
# click is 1, because every row of a log without a click column is an interaction, and gender
# and age are 0, which means unknown in Tenrec.
DEFAULT_FILL = {
    schema_lib.ColumnKind.ID: None,
    schema_lib.ColumnKind.BINARY: 0,
    schema_lib.ColumnKind.COUNT: 0,
    schema_lib.ColumnKind.CATEGORY: schema_lib.MISSING_CATEGORY,
    schema_lib.ColumnKind.FLOAT: np.nan,
}
UNKNOWN_DEMOGRAPHIC = 0


def default_value(column: schema_lib.Column):
  """Returns the value written for a column that the source does not provide."""
  if column.name == 'click':
    return 1
  if column.name in ('gender', 'age'):
    return UNKNOWN_DEMOGRAPHIC
  return DEFAULT_FILL[column.kind]


def describe_default(column: schema_lib.Column) -> str:
  value = default_value(column)
  if isinstance(value, float) and np.isnan(value):
    return 'missing (\\N)'
  if value == schema_lib.MISSING_CATEGORY:
    return 'missing (\\N)'
  return f'constant {value}'


def fill_columns(schema: schema_lib.ScenarioSchema, columns: Mapping[str, np.ndarray],
                 num_rows: int) -> Dict[str, np.ndarray]:
  """Returns every schema column: the given ones and the defaults of the others."""
  out = {}
  for column in schema.columns:
    if column.name in columns:
      out[column.name] = np.asarray(columns[column.name])
      continue
    value = default_value(column)
    if value is None:
      raise ValueError(f'Column {column.name} of {schema.file_name} has no default; map it.')
    dtype = np.float64 if column.kind == schema_lib.ColumnKind.FLOAT else np.int64
    out[column.name] = np.full(num_rows, value, dtype=dtype)
  return out


_INTEGER_PATTERN = r'^[+-]?[0-9]+(\.0*)?$'
_NUMBER_PATTERN = r'^[+-]?([0-9]+\.?[0-9]*|\.[0-9]+)([eE][+-]?[0-9]+)?$'
MISSING_TOKENS = ('', schema_lib.MISSING_VALUE_TOKEN)


def _locate(first_line: Optional[int], first_row: int, index: int) -> Dict[str, Any]:
  """Error location of value `index` of a batch: its line number, or else its 1-based row
  number in the file (Parquet files have no lines)."""
  if first_line is None:
    return {'line': None, 'row': f' (row {first_row + index + 1})'}
  return {'line': first_line + index, 'row': ''}


def text_column(values: pa.Array) -> pa.Array:
  """Returns a column as trimmed text (numbers are formatted, nulls become empty)."""
  if isinstance(values, pa.ChunkedArray):
    values = values.combine_chunks()
  if not (pa.types.is_string(values.type) or pa.types.is_large_string(values.type)):
    values = pc.cast(values, pa.string())
  return pc.utf8_trim_whitespace(values.fill_null(''))


def parse_integers(values: pa.Array, path: str, column: str, first_line: Optional[int] = None,
                   allow_missing: bool = False, hint: str = '', first_row: int = 0) -> np.ndarray:
  """Parses a text (or numeric) column as int64, vectorised.

  Missing values ('' or \\N) become -1 when `allow_missing`, else they are invalid.

  Args:
    values: The column.
    path: Source file, for errors.
    column: Column name shown in errors.
    first_line: 1-based line number of the first value in the file (None for files without
      lines, such as Parquet: the row number is named instead).
    first_row: 0-based row index of the first value in the file, for files without lines.
    allow_missing: Accept missing values.
    hint: What the user can do about an invalid value.

  Raises:
    TenrecInputError: The first value that is not an integer (or missing, when not allowed).
  """
  if isinstance(values, pa.ChunkedArray):
    values = values.combine_chunks()
  if pa.types.is_integer(values.type) and values.null_count == 0:
    return values.to_numpy(zero_copy_only=False).astype(np.int64)
  text = text_column(values)
  missing = pc.is_in(text, value_set=pa.array(MISSING_TOKENS)).to_numpy(zero_copy_only=False)
  valid = pc.match_substring_regex(text, _INTEGER_PATTERN).to_numpy(zero_copy_only=False)
  bad = ~valid & ~(missing if allow_missing else np.zeros_like(missing))
  if bad.any():
    index = int(np.argmax(bad))
    where = _locate(first_line, first_row, index)
    reason = 'missing value' if missing[index] else 'value is not an integer'
    raise TenrecInputError(path, reason + where['row'], line=where['line'], column=column,
                           value=text[index].as_py(),
                           hint=hint or f'{column} must be an integer in every row.')
  filled = pc.if_else(pa.array(missing), pa.scalar('-1'), text)
  return pc.cast(pc.cast(filled, pa.float64()), pa.int64()).to_numpy(zero_copy_only=False)


def parse_numbers(values: pa.Array, path: str, column: str, first_line: Optional[int] = None,
                  hint: str = '', first_row: int = 0) -> np.ndarray:
  """Parses a text (or numeric) column as float64; missing values ('' or \\N) become NaN.

  Raises:
    TenrecInputError: The first value that is not a number.
  """
  if isinstance(values, pa.ChunkedArray):
    values = values.combine_chunks()
  if (pa.types.is_integer(values.type) or pa.types.is_floating(values.type)):
    return values.to_numpy(zero_copy_only=False).astype(np.float64)
  text = text_column(values)
  missing = pc.is_in(text, value_set=pa.array(MISSING_TOKENS)).to_numpy(zero_copy_only=False)
  valid = pc.match_substring_regex(text, _NUMBER_PATTERN).to_numpy(zero_copy_only=False)
  bad = ~valid & ~missing
  if bad.any():
    index = int(np.argmax(bad))
    where = _locate(first_line, first_row, index)
    raise TenrecInputError(path, 'value is not a number' + where['row'], line=where['line'],
                           column=column, value=text[index].as_py(),
                           hint=hint or f'{column} must be numeric.')
  filled = pc.if_else(pa.array(missing), pa.scalar('nan'), text)
  return pc.cast(filled, pa.float64()).to_numpy(zero_copy_only=False)


class ImportOutput:
  """Writes one Tenrec-schema file and import.json into a folder that appears atomically.

  Example:

    with ImportOutput('/data/ml', 'qk_video') as output:
      output.write({'user_id': users, 'item_id': items, 'click': clicks})
      output.finish({'source': 'movielens-100k', 'mapping': {...}})

  Nothing is left in `out_dir` when the block raises; a non-empty `out_dir` needs
  `overwrite=True`.
  """

  def __init__(self, out_dir: Union[str, os.PathLike], scenario: str = 'qk_video',
               overwrite: bool = False):
    self.schema = schema_lib.get_scenario(scenario)
    self._folder = csv_writer.AtomicOutputDirectory(out_dir, overwrite=overwrite)
    self._file = None
    self.partial_dir: Optional[pathlib.Path] = None
    self.rows = 0
    self._metadata: Optional[Dict[str, Any]] = None

  @property
  def out_dir(self) -> pathlib.Path:
    return self._folder.target

  @property
  def file_name(self) -> str:
    return self.schema.file_name

  def __enter__(self) -> 'ImportOutput':
    self.partial_dir = self._folder.__enter__()
    self._file = open(self.partial_dir / self.schema.file_name, 'wb')
    self._file.write(csv_writer.header_line(self.schema))
    return self

  def write(self, columns: Mapping[str, np.ndarray]) -> int:
    """Appends rows; columns the source lacks get their defaults. Returns the row count."""
    lengths = {len(v) for v in columns.values()}
    if len(lengths) != 1:
      raise ValueError(f'Columns differ in length: { {k: len(v) for k, v in columns.items()} }.')
    num_rows = lengths.pop()
    if num_rows:
      self._file.write(csv_writer.format_rows(self.schema,
                                              fill_columns(self.schema, columns, num_rows)))
    self.rows += num_rows
    return num_rows

  def finish(self, metadata: Mapping[str, Any]) -> Dict[str, Any]:
    """Sets the import.json content ('kind', 'rows' and 'file' are added)."""
    self._metadata = dict(metadata)
    self._metadata.setdefault('kind', 'public')
    self._metadata['rows'] = self.rows
    self._metadata['file'] = self.schema.file_name
    self._metadata['scenario'] = self.schema.name
    return self._metadata

  def __exit__(self, exc_type, exc, traceback) -> bool:
    if self._file is not None:
      self._file.close()
    if exc_type is None and self._metadata is None:
      exc_type = RuntimeError
      exc = RuntimeError('ImportOutput closed without finish(); the import is incomplete.')
      self._folder.__exit__(exc_type, exc, traceback)
      raise exc
    if exc_type is None:
      with open(self.partial_dir / IMPORT_METADATA_FILE, 'w', encoding='utf-8') as f:
        json.dump(self._metadata, f, indent=2, sort_keys=True)
        f.write('\n')
    return self._folder.__exit__(exc_type, exc, traceback)


def read_import_metadata(data_dir: Union[str, os.PathLike]) -> Dict[str, Any]:
  with open(pathlib.Path(data_dir) / IMPORT_METADATA_FILE, encoding='utf-8') as f:
    return json.load(f)
