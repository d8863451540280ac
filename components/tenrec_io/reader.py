"""Vectorised reader for Tenrec raw CSV files.

Files are read in byte ranges that end on line boundaries, so a file can be split among Beam
workers without a pre-pass. Each range is parsed by `pyarrow.csv` into NumPy columns selected by
header name, then validated column by column. Every row carries the byte offset of its line in
the file: offsets are unique, increase with the file order (the time order of a user's rows) and
do not depend on how the file was split, so they serve as stable row ids for seeded sampling
and for ordering a user's rows after a shuffle.

Malformed input raises `TenrecInputError` with the file, the 1-based line number (header = line
1), the column and the value. Parsing is strict: the fast path hands any pyarrow failure to a
slow line-by-line diagnosis that finds the first offending field.

Example:

  schema = schema_lib.get_scenario('QK-video')
  for batch in iter_batches('/data/QK-video.csv', schema, ['user_id', 'item_id', 'click']):
    print(batch.num_rows, batch.columns['click'].mean())
"""

import csv
import dataclasses
import io
from typing import Dict, Iterator, List, Optional, Sequence, Tuple

import numpy as np
import pyarrow as pa
from pyarrow import csv as pa_csv

from apache_beam.io.filesystems import FileSystems

from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError

DEFAULT_CHUNK_BYTES = 64 << 20
_NEWLINE = 10
_CARRIAGE_RETURN = 13
_OTHER_DELIMITERS = {'\t': 'tab', ';': 'semicolon', '|': 'vertical bar', ' ': 'space'}

# pyarrow types used to parse each column kind. Binary columns are parsed as floats because
# the article files write `click` as `1.0`.
_ARROW_TYPES = {
    schema_lib.ColumnKind.ID: pa.int64(),
    schema_lib.ColumnKind.BINARY: pa.float64(),
    schema_lib.ColumnKind.COUNT: pa.int64(),
    schema_lib.ColumnKind.CATEGORY: pa.int64(),
    schema_lib.ColumnKind.FLOAT: pa.float64(),
}

# NumPy dtypes of validated columns.
_NUMPY_TYPES = {
    schema_lib.ColumnKind.ID: np.int64,
    schema_lib.ColumnKind.BINARY: np.int8,
    schema_lib.ColumnKind.COUNT: np.int64,
    schema_lib.ColumnKind.CATEGORY: np.int64,
    schema_lib.ColumnKind.FLOAT: np.float64,
}


@dataclasses.dataclass(frozen=True)
class FileHeader:
  """Header of a raw file: column names and where the data rows start."""

  path: str
  columns: Tuple[str, ...]
  data_offset: int  # byte offset of the first data line
  size: int  # file size in bytes


ON_INVALID_CHOICES = ('raise', 'reject')


@dataclasses.dataclass(frozen=True)
class RejectedRow:
  """An invalid row skipped in 'reject' mode."""

  offset: int  # byte offset of the row's line in the file
  column: Optional[str]
  value: str
  reason: str


@dataclasses.dataclass
class RawBatch:
  """Validated rows of one byte range, as NumPy columns in file order.

  Attributes:
    path: The file the rows come from.
    columns: Selected columns by header name.
    row_offset: int64 byte offset of each row's line in the file.
    rejected: Invalid rows that were skipped (only in 'reject' mode).
  """

  path: str
  columns: Dict[str, np.ndarray]
  row_offset: np.ndarray
  rejected: List[RejectedRow] = dataclasses.field(default_factory=list)

  @property
  def num_rows(self) -> int:
    return int(self.row_offset.shape[0])

  @property
  def num_read(self) -> int:
    """Rows read from the range: valid rows plus rejected rows."""
    return self.num_rows + len(self.rejected)


def open_file(path: str):
  """Opens a local or remote (gs://, s3://, hdfs://) file for binary reading."""
  return FileSystems.open(path, mime_type='application/octet-stream',
                          compression_type='uncompressed')


def file_size(path: str) -> int:
  """Returns the size of a local or remote file in bytes."""
  if not FileSystems.exists(path):
    raise TenrecInputError(
        path, 'file not found',
        hint='Check the path, or pass --data-dir pointing at the folder with the Tenrec CSV files.')
  return FileSystems.match([path])[0].metadata_list[0].size_in_bytes


def read_header(path: str,
                schema: schema_lib.ScenarioSchema,
                allow_unknown_columns: bool = False) -> FileHeader:
  """Reads and validates the header row of a raw file.

  Raises:
    TenrecInputError: The file is missing or empty, the delimiter is not a comma, a column name
      is repeated, a required column is missing, a column is unknown to the schema (unless
      `allow_unknown_columns`), or there are no data rows.
  """
  size = file_size(path)
  if size == 0:
    raise TenrecInputError(
        path, 'file is empty',
        hint=f'Expected a header line with the {schema.file_name} columns followed by data rows.')

  with open_file(path) as f:
    raw_header = f.readline()
    first_data = f.readline()
    data_offset = len(raw_header)

  text = raw_header.decode('utf-8', errors='replace').lstrip('\ufeff').rstrip('\r\n')
  if not text.strip():
    raise TenrecInputError(path, 'header line is empty', line=1,
                           hint=f'The first line must name the columns of {schema.file_name}.')

  names = tuple(name.strip() for name in text.split(','))
  if len(names) == 1:
    for delimiter, label in _OTHER_DELIMITERS.items():
      if delimiter in text:
        raise TenrecInputError(
            path, f'header is {label}-separated, expected comma-separated columns', line=1,
            value=text,
            hint='Tenrec files use commas; convert the file, or import it with '
            '`tenrec import csv` and a column mapping.')

  seen = set()
  for name in names:
    if name in seen:
      raise TenrecInputError(path, 'column name appears twice in the header', line=1,
                             column=name, hint='Remove the duplicate column.')
    seen.add(name)

  known = set(schema.column_names)
  if not allow_unknown_columns:
    for name in names:
      if name not in known:
        raise TenrecInputError(
            path, f'unknown column for {schema.file_name}', line=1, column=name, value=text,
            hint=f'Expected columns: {",".join(schema.column_names)}. Check that this is the '
            f'{schema.file_name} file. If it is, remove the column, or convert the file with '
            f'`tenrec import csv FILE --scenario {schema.name} --map user_id=SOURCE_COLUMN '
            '--map item_id=SOURCE_COLUMN ... --out DIR`, which reads only the mapped columns.')
  for name in schema.required:
    if name not in seen:
      raise TenrecInputError(
          path, 'required column is missing from the header', line=1, column=name, value=text,
          hint=f'The header must contain {",".join(schema.required)}.')

  if not first_data.strip():
    raise TenrecInputError(path, 'file has a header but no data rows', line=2,
                           hint='Check that the file was copied completely.')

  return FileHeader(path=path, columns=names, data_offset=data_offset, size=size)


def plan_byte_ranges(header: FileHeader,
                     chunk_bytes: int = DEFAULT_CHUNK_BYTES) -> List[Tuple[int, int]]:
  """Splits the data part of a file into [start, end) byte ranges of about `chunk_bytes`.

  A range owns every line that starts inside it, so ranges can be read independently.
  """
  if chunk_bytes <= 0:
    raise ValueError(f'chunk_bytes must be positive, got {chunk_bytes}.')
  ranges = []
  start = header.data_offset
  while start < header.size:
    end = min(start + chunk_bytes, header.size)
    ranges.append((start, end))
    start = end
  return ranges


def _read_range(path: str, header: FileHeader, start: int, end: int) -> Tuple[int, bytes]:
  """Returns (offset of the first owned line, bytes of all lines starting in [start, end))."""
  with open_file(path) as f:
    first = start
    if start > header.data_offset:
      f.seek(start - 1)
      if f.read(1) != b'\n':
        first = start + len(f.readline())
    else:
      f.seek(start)
    if first >= end:
      return first, b''
    f.seek(first)
    data = f.read(end - first)
    if data and not data.endswith(b'\n'):
      data += f.readline()
  return first, data


def _line_starts(data: bytes) -> np.ndarray:
  """Returns the start index of every non-empty line in `data` (pyarrow skips empty lines)."""
  array = np.frombuffer(data, dtype=np.uint8)
  newlines = np.flatnonzero(array == _NEWLINE)
  starts = np.concatenate([[0], newlines + 1]).astype(np.int64)
  ends = np.concatenate([newlines, [len(data)]]).astype(np.int64)
  lengths = ends - starts
  carriage_only = np.zeros_like(lengths, dtype=bool)
  single = np.flatnonzero(lengths == 1)
  if single.size:
    carriage_only[single] = array[starts[single]] == _CARRIAGE_RETURN
  keep = (lengths > 0) & ~carriage_only
  return starts[keep]


def line_number_at(path: str, offset: int) -> int:
  """Returns the 1-based line number of the line starting at byte `offset` (slow, error path)."""
  count = 0
  remaining = offset
  with open_file(path) as f:
    while remaining > 0:
      block = f.read(min(remaining, 16 << 20))
      if not block:
        break
      count += block.count(b'\n')
      remaining -= len(block)
  return count + 1


def line_numbers_at(path: str, offsets: Sequence[int]) -> Dict[int, int]:
  """Returns {offset: 1-based line number} for several line offsets in one pass over the file."""
  result = {}
  pending = sorted(set(int(o) for o in offsets))
  if not pending:
    return result
  position = 0
  lines_before = 0
  with open_file(path) as f:
    for target in pending:
      while position < target:
        block = f.read(min(target - position, 16 << 20))
        if not block:
          break
        lines_before += block.count(b'\n')
        position += len(block)
      result[target] = lines_before + 1
  return result


def read_range(path: str,
               schema: schema_lib.ScenarioSchema,
               header: FileHeader,
               columns: Sequence[str],
               start: int,
               end: int,
               use_threads: bool = True,
               on_invalid: str = 'raise') -> RawBatch:
  """Reads, parses and validates the rows whose lines start in [start, end).

  Args:
    path: File to read.
    schema: Scenario schema of the file.
    header: The file's header, from `read_header`.
    columns: Columns to return, by header name.
    start: First byte of the range.
    end: End of the range (exclusive); the line that crosses it belongs to this range.
    use_threads: Let pyarrow parse with several threads.
    on_invalid: 'raise' stops at the first invalid row with a `TenrecInputError`; 'reject'
      skips invalid rows and lists them in `RawBatch.rejected`.

  Raises:
    TenrecInputError: A selected column is missing from the header, or (in 'raise' mode) a
      line has the wrong number of fields or a value does not parse or is out of range.
  """
  if on_invalid not in ON_INVALID_CHOICES:
    raise ValueError(f'on_invalid must be one of {ON_INVALID_CHOICES}, got {on_invalid!r}.')
  selected = _check_selection(path, schema, header, columns)
  first, data = _read_range(path, header, start, end)
  rejected: List[RejectedRow] = []

  try:
    table, row_offset = _parse(schema, header, selected, first, data, use_threads)
  except _ParseFailure as failure:
    if on_invalid == 'raise':
      raise _diagnose(path, schema, header, selected, first, data, str(failure)) from None
    data, row_offsets_kept, rejected = _split_valid_lines(schema, header, selected, first, data)
    table, row_offset = _parse(schema, header, selected, 0, data, use_threads)
    row_offset = row_offsets_kept

  out = {}
  invalid = np.zeros(row_offset.shape[0], dtype=bool)
  problems = []
  for name in selected:
    column = schema.column(name)
    values, checks = _check_column(column, table.column(name))
    out[name] = values
    for mask, reason, hint, shown in checks:
      problems.append((column, mask, reason, hint, shown))

  if on_invalid == 'raise':
    _raise_first_problem(path, problems, row_offset)
    return RawBatch(path=path, columns=out, row_offset=row_offset)

  for column, mask, reason, _, shown in problems:
    for index in np.flatnonzero(mask & ~invalid):
      rejected.append(RejectedRow(int(row_offset[index]), column.name, shown[index], reason))
    invalid |= mask
  if invalid.any():
    keep = ~invalid
    out = {name: values[keep] for name, values in out.items()}
    row_offset = row_offset[keep]
  return RawBatch(path=path, columns=out, row_offset=row_offset,
                  rejected=sorted(rejected, key=lambda r: r.offset))


class _ParseFailure(Exception):
  pass


def _parse(schema: schema_lib.ScenarioSchema, header: FileHeader, selected: Sequence[str],
           first: int, data: bytes, use_threads: bool) -> Tuple[pa.Table, np.ndarray]:
  """Parses a block of complete lines; returns the table and each row's byte offset."""
  starts = _line_starts(data)
  if starts.size == 0:
    empty = pa.table({c: pa.array([], type=_ARROW_TYPES[schema.column(c).kind]) for c in selected})
    return empty, np.zeros(0, np.int64)
  try:
    table = pa_csv.read_csv(
        io.BytesIO(data),
        read_options=pa_csv.ReadOptions(column_names=list(header.columns),
                                        use_threads=use_threads,
                                        block_size=max(1 << 20, min(len(data) + 1, 1 << 30))),
        parse_options=pa_csv.ParseOptions(delimiter=',', newlines_in_values=False),
        convert_options=pa_csv.ConvertOptions(
            column_types={c: _ARROW_TYPES[schema.column(c).kind] for c in selected},
            include_columns=list(selected),
            null_values=[schema_lib.MISSING_VALUE_TOKEN],
            strings_can_be_null=False,
            quoted_strings_can_be_null=False))
  except pa.ArrowInvalid as error:
    raise _ParseFailure(str(error)) from None
  if table.num_rows != starts.size:
    raise _ParseFailure(f'parsed {table.num_rows} rows from {starts.size} lines')
  return table, starts + first


def _split_valid_lines(schema: schema_lib.ScenarioSchema, header: FileHeader,
                       selected: Sequence[str], first: int,
                       data: bytes) -> Tuple[bytes, np.ndarray, List[RejectedRow]]:
  """Separates lines that parse from lines that do not (slow path of 'reject' mode)."""
  good_lines = []
  good_offsets = []
  rejected = []
  offset = first
  for raw_line in data.split(b'\n'):
    line_offset = offset
    offset += len(raw_line) + 1
    text = raw_line.decode('utf-8', errors='replace').rstrip('\r')
    if not text:
      continue
    problem = _line_problem(schema, header, selected, text)
    if problem is None:
      good_lines.append(raw_line.rstrip(b'\r'))
      good_offsets.append(line_offset)
    else:
      column, value, reason = problem
      rejected.append(RejectedRow(line_offset, column, value, reason))
  data = b'\n'.join(good_lines) + (b'\n' if good_lines else b'')
  return data, np.asarray(good_offsets, dtype=np.int64), rejected


def _line_problem(schema: schema_lib.ScenarioSchema, header: FileHeader,
                  selected: Sequence[str], text: str) -> Optional[Tuple[Optional[str], str, str]]:
  """Returns (column, value, reason) for a line that does not parse, else None."""
  fields = next(csv.reader([text]))
  expected = len(header.columns)
  if len(fields) != expected:
    column = header.columns[len(fields)] if len(fields) < expected else None
    return column, text, f'line has {len(fields)} fields, expected {expected}'
  index_of = {name: i for i, name in enumerate(header.columns)}
  for name in selected:
    value = fields[index_of[name]]
    reason = _parse_field(schema.column(name).kind, value)
    if reason is not None:
      return name, value, f'value is {reason}'
  return None


def iter_batches(path: str,
                 schema: schema_lib.ScenarioSchema,
                 columns: Sequence[str],
                 chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                 allow_unknown_columns: bool = False,
                 on_invalid: str = 'raise') -> Iterator[RawBatch]:
  """Reads a whole file sequentially, one validated batch per byte range."""
  header = read_header(path, schema, allow_unknown_columns=allow_unknown_columns)
  for start, end in plan_byte_ranges(header, chunk_bytes):
    yield read_range(path, schema, header, columns, start, end, on_invalid=on_invalid)


def read_file(path: str,
              schema: schema_lib.ScenarioSchema,
              columns: Sequence[str],
              chunk_bytes: int = DEFAULT_CHUNK_BYTES,
              allow_unknown_columns: bool = False,
              on_invalid: str = 'raise') -> RawBatch:
  """Reads a whole file into one batch. Only for files that fit in memory (tests, importers)."""
  batches = list(
      iter_batches(path, schema, columns, chunk_bytes, allow_unknown_columns, on_invalid))
  return RawBatch(
      path=path,
      columns={c: np.concatenate([b.columns[c] for b in batches]) for c in columns},
      row_offset=np.concatenate([b.row_offset for b in batches]),
      rejected=[r for b in batches for r in b.rejected])


def _check_selection(path: str, schema: schema_lib.ScenarioSchema, header: FileHeader,
                     columns: Sequence[str]) -> Tuple[str, ...]:
  schema_lib.validate_selection(schema, columns)
  for name in columns:
    if name not in header.columns:
      raise TenrecInputError(
          path, 'column needed by this step is missing from the header', line=1, column=name,
          hint=f'The header has {",".join(header.columns)}; add the column or choose a task '
          'that does not need it.')
  return tuple(columns)


def _check_column(column: schema_lib.Column, array: pa.ChunkedArray):
  """Converts one parsed column to NumPy and lists its invalid rows.

  Returns:
    (values, checks) where each check is (mask of invalid rows, reason, hint, shown values).
  """
  kind = column.kind
  checks = []
  nulls = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None

  if kind == schema_lib.ColumnKind.FLOAT:
    return array.to_numpy(zero_copy_only=False).astype(np.float64), checks

  fill = schema_lib.MISSING_CATEGORY if kind == schema_lib.ColumnKind.CATEGORY else 0
  values = (array.fill_null(fill) if nulls is not None else array).to_numpy(zero_copy_only=False)
  shown = _ShownValues(values, nulls)

  if nulls is not None and kind != schema_lib.ColumnKind.CATEGORY:
    checks.append((nulls, 'missing value in a column that must always be set',
                   'Fill the value or remove the row.', shown))

  if kind == schema_lib.ColumnKind.BINARY:
    checks.append(((values != 0.0) & (values != 1.0), 'binary column must be 0 or 1',
                   'Fix the value or remove the row.', shown))
    return np.where((values == 0.0) | (values == 1.0), values, 0).astype(np.int8), checks

  negative = values < 0
  if nulls is not None:
    negative &= ~nulls
  what = 'id' if kind == schema_lib.ColumnKind.ID else 'value'
  checks.append((negative, f'negative {what}; {column.name} must be a non-negative integer',
                 'Fix the value or remove the row.', shown))

  if column.value_range is not None:
    low, high = column.value_range
    outside = (values < low) | (values > high)
    if nulls is not None:
      outside &= ~nulls
    outside &= ~negative
    checks.append((outside, f'value outside the allowed range {low:g}..{high:g}',
                   'Fix the value, or write 0 (unknown) or \\N where it is not known.', shown))
  return values.astype(_NUMPY_TYPES[kind]), checks


class _ShownValues:
  """Lazy text of a column's values for error messages (indexing formats one value)."""

  def __init__(self, values: np.ndarray, nulls: Optional[np.ndarray]):
    self._values = values
    self._nulls = nulls

  def __getitem__(self, index) -> str:
    if self._nulls is not None and self._nulls[index]:
      return schema_lib.MISSING_VALUE_TOKEN
    return _format_number(self._values[index])


def _raise_first_problem(path: str, problems, row_offset: np.ndarray) -> None:
  """Raises TenrecInputError for the earliest invalid row, if any."""
  first = None
  for column, mask, reason, hint, shown in problems:
    bad = np.flatnonzero(mask)
    if bad.size and (first is None or bad[0] < first[0]):
      first = (int(bad[0]), column, reason, hint, shown)
  if first is None:
    return
  index, column, reason, hint, shown = first
  raise TenrecInputError(path, reason, line=line_number_at(path, int(row_offset[index])),
                         column=column.name, value=shown[index], hint=hint)


def _format_number(value: float) -> str:
  return str(int(value)) if float(value).is_integer() else repr(float(value))


def _parse_field(kind: schema_lib.ColumnKind, text: str) -> Optional[str]:
  """Returns None when `text` parses as `kind`, else the reason it does not."""
  stripped = text.strip()
  if stripped == schema_lib.MISSING_VALUE_TOKEN:
    return None
  if kind in (schema_lib.ColumnKind.ID, schema_lib.ColumnKind.COUNT,
              schema_lib.ColumnKind.CATEGORY):
    try:
      int(stripped)
    except ValueError:
      return 'not an integer'
    return None
  try:
    float(stripped)
  except ValueError:
    return 'not a number'
  return None


def _diagnose(path: str, schema: schema_lib.ScenarioSchema, header: FileHeader,
              selected: Sequence[str], first: int, data: bytes,
              arrow_message: str) -> TenrecInputError:
  """Finds the first malformed line of a range that pyarrow rejected, the slow way."""
  index_of = {name: i for i, name in enumerate(header.columns)}
  expected = len(header.columns)
  offset = first
  line_number = None
  for raw_line in data.split(b'\n'):
    line_offset = offset
    offset += len(raw_line) + 1
    text = raw_line.decode('utf-8', errors='replace').rstrip('\r')
    if not text:
      continue
    fields = next(csv.reader([text]))
    if len(fields) != expected:
      line_number = line_number_at(path, line_offset)
      if len(fields) == 1:
        for delimiter, label in _OTHER_DELIMITERS.items():
          if delimiter in text and delimiter != ' ':
            return TenrecInputError(
                path, f'line is {label}-separated, expected {expected} comma-separated fields',
                line=line_number, value=text, hint='Use commas between fields.')
      if len(fields) < expected:
        return TenrecInputError(
            path, f'line has {len(fields)} fields, expected {expected} (truncated line)',
            line=line_number, column=header.columns[len(fields)], value=text,
            hint='Complete or remove the line; a truncated last line usually means the file '
            'was not copied completely.')
      return TenrecInputError(
          path, f'line has {len(fields)} fields, expected {expected}', line=line_number,
          value=text, hint='Remove the extra fields or quote values that contain commas.')
    for name in selected:
      reason = _parse_field(schema.column(name).kind, fields[index_of[name]])
      if reason is not None:
        return TenrecInputError(
            path, f'value is {reason}', line=line_number_at(path, line_offset), column=name,
            value=fields[index_of[name]],
            hint=f'{name} must be {_describe_kind(schema.column(name).kind)}.')
  return TenrecInputError(path, f'CSV parsing failed ({arrow_message})',
                          line=line_number_at(path, first),
                          hint='The error is in this line or the lines after it.')


def _describe_kind(kind: schema_lib.ColumnKind) -> str:
  return {
      schema_lib.ColumnKind.ID: 'a non-negative integer id',
      schema_lib.ColumnKind.BINARY: '0 or 1',
      schema_lib.ColumnKind.COUNT: 'a non-negative integer',
      schema_lib.ColumnKind.CATEGORY: 'a non-negative integer or \\N',
      schema_lib.ColumnKind.FLOAT: 'a number or \\N',
  }[kind]


# File names seen in Tenrec downloads besides the canonical ones (the release spells
# QB-article.csv as QB-artilce.csv in places).
_ALTERNATIVE_FILE_NAMES = {'qb_article': ('QB-artilce.csv',)}


def find_scenario_file(data_dir: str, scenario: schema_lib.ScenarioSchema) -> str:
  """Returns the path of a scenario's CSV file inside `data_dir`.

  Raises:
    TenrecInputError: No file of that scenario exists in `data_dir`.
  """
  candidates = (scenario.file_name,) + _ALTERNATIVE_FILE_NAMES.get(scenario.name, ())
  for name in candidates:
    path = FileSystems.join(data_dir, name)
    if FileSystems.exists(path):
      return path
  raise TenrecInputError(
      FileSystems.join(data_dir, scenario.file_name), 'file not found',
      hint=f'The data directory must contain {" or ".join(candidates)}; download the Tenrec '
      'files after accepting their licence, or run `tenrec generate` for generated data.')
