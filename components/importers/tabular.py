"""Any CSV or Parquet interaction log to a Tenrec-schema file, through a column mapping.

The mapping names, for each Tenrec column, the source column that contains it, for example
`{'user_id': 'visitorid', 'item_id': 'itemid', 'click': 'clicked'}`. `user_id` and `item_id`
are required; unmapped columns get the defaults of `components.importers.common` (click 1,
other actions 0, gender and age 0 = unknown, categories and floats missing). Values are
validated against the Tenrec schema (ids non-negative integers, actions 0 or 1, gender 0..2,
age 0..7) and the first invalid value raises `TenrecInputError` with its line (CSV) or row
(Parquet), column and value.

Rows are written grouped by ascending user id, each user's rows ordered by the optional
timestamp column (numbers, or ISO 8601 date-times), ties and logs without timestamps in file
order, because the builders take the file order as the time order of a user's rows.

The file is streamed with pyarrow in batches and never loaded whole:
1. a first pass reads the user and item columns and counts rows per user;
2. a second pass converts every batch and spills it, partitioned into ranges of user ids of
   about `rows_per_bucket` rows each, to NumPy files in the partial output folder;
3. each range is loaded, sorted by (user, timestamp, file position) and appended to the
   output.
Memory is bounded by one batch, one user range and one entry per distinct user (plus the
token tables with `remap_ids`).
"""

import logging
import os
import pathlib
import shutil
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple, Union

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pyarrow import csv as pa_csv
from pyarrow import parquet as pq

from components.importers import common
from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError

FORMATS = ('csv', 'parquet')
DEFAULT_BLOCK_BYTES = 16 << 20
DEFAULT_PARQUET_BATCH_ROWS = 1 << 20
DEFAULT_ROWS_PER_BUCKET = 2_000_000
_FILE_ROW = '__file_row__'
_TIMESTAMP = '__timestamp__'


def infer_format(path: Union[str, os.PathLike]) -> str:
  """Returns 'parquet' for .parquet/.pq files, else 'csv'."""
  suffix = pathlib.Path(path).suffix.lower()
  return 'parquet' if suffix in ('.parquet', '.pq') else 'csv'


def check_mapping(mapping: Mapping[str, str], schema: schema_lib.ScenarioSchema,
                  timestamp: Optional[str]) -> Dict[str, str]:
  """Validates a {Tenrec column: source column} mapping against a scenario schema.

  Raises:
    ValueError: A Tenrec column is unknown, user_id or item_id is not mapped, or a source
      column is mapped twice.
  """
  mapping = {str(k).strip(): str(v).strip() for k, v in mapping.items()}
  for name in mapping:
    if name not in schema.column_names:
      raise ValueError(f'Unknown Tenrec column {name!r} in the mapping; {schema.file_name} has '
                       f'{", ".join(schema.column_names)}.')
  for name in ('user_id', 'item_id'):
    if name not in mapping:
      raise ValueError(f'The mapping must name the source column of {name} '
                       f'(for example --map {name}=...).')
  sources = list(mapping.values()) + ([timestamp] if timestamp else [])
  repeated = sorted({s for s in sources if sources.count(s) > 1})
  if repeated:
    raise ValueError(f'Source column(s) {repeated} are mapped more than once.')
  return mapping


def parse_mapping_items(items: List[str]) -> Dict[str, str]:
  """Parses ['tenrec_column=source_column', ...] into a mapping.

  Raises:
    ValueError: An item has no '='.
  """
  mapping = {}
  for item in items:
    if '=' not in item:
      raise ValueError(f'Mapping items are tenrec_column=source_column, got {item!r}.')
    tenrec, source = item.split('=', 1)
    mapping[tenrec.strip()] = source.strip()
  return mapping


class _Source:
  """Batches of text or typed columns from a CSV or Parquet file, with their first line/row."""

  def __init__(self, path: pathlib.Path, file_format: str, delimiter: str,
               block_bytes: int, parquet_batch_rows: int):
    self.path = path
    self.file_format = file_format
    self.delimiter = delimiter
    self.block_bytes = block_bytes
    self.parquet_batch_rows = parquet_batch_rows
    self.columns = self._header()

  def _header(self) -> List[str]:
    if not self.path.is_file():
      raise TenrecInputError(str(self.path), 'file not found',
                             hint='Pass the path of the CSV or Parquet log.')
    if self.path.stat().st_size == 0:
      raise TenrecInputError(str(self.path), 'file is empty',
                             hint='Expected a header line followed by data rows.')
    if self.file_format == 'parquet':
      try:
        return list(pq.ParquetFile(self.path).schema_arrow.names)
      except (pa.ArrowInvalid, OSError) as error:
        raise TenrecInputError(str(self.path), f'not a readable Parquet file ({error})',
                               hint='Check the file, or import it with `tenrec import csv`.'
                               ) from None
    with open(self.path, 'rb') as f:
      header = f.readline().decode('utf-8', errors='replace').lstrip('\ufeff').rstrip('\r\n')
    names = [name.strip().strip('"') for name in header.split(self.delimiter)]
    if len(names) == 1:
      for other, label in (('\t', 'tab'), (';', 'semicolon'), (',', 'comma'), ('|', 'bar')):
        if other != self.delimiter and other in header:
          raise TenrecInputError(
              str(self.path), f'header is {label}-separated, not {self.delimiter!r}-separated',
              line=1, value=header, hint=f'Pass --delimiter {other!r}.' if other != '\t' else
              "Pass --delimiter tab.")
    return names

  def check_columns(self, wanted: List[str]) -> None:
    for name in wanted:
      if name not in self.columns:
        raise TenrecInputError(
            str(self.path), 'mapped source column is missing from the header',
            line=1 if self.file_format == 'csv' else None, column=name,
            value=','.join(self.columns)[:200],
            hint='Fix the mapping: the source columns are ' + ', '.join(self.columns) + '.')

  def batches(self, columns: List[str]) -> Iterator[Tuple[Optional[int], int, pa.RecordBatch]]:
    """Yields (first line or None, first row index, batch) over the file."""
    rows = 0
    if self.file_format == 'parquet':
      for batch in pq.ParquetFile(self.path).iter_batches(batch_size=self.parquet_batch_rows,
                                                          columns=columns):
        yield None, rows, batch
        rows += batch.num_rows
      return
    reader = pa_csv.open_csv(
        self.path,
        read_options=pa_csv.ReadOptions(block_size=self.block_bytes),
        parse_options=pa_csv.ParseOptions(delimiter=self.delimiter),
        convert_options=pa_csv.ConvertOptions(
            include_columns=columns, column_types={c: pa.string() for c in columns},
            strings_can_be_null=False))
    while True:
      try:
        batch = reader.read_next_batch()
      except StopIteration:
        return
      except pa.ArrowInvalid as error:
        raise TenrecInputError(
            str(self.path), f'CSV parsing failed after line {rows + 1} ({error})',
            line=rows + 2, hint='Every line needs one value per header column; quote values '
            'that contain the delimiter.') from None
      yield rows + 2, rows, batch
      rows += batch.num_rows


class _Tokens:
  """Numbers text tokens 1, 2, ... in order of first appearance (for remap_ids)."""

  def __init__(self):
    self.tokens: List[str] = []
    self._known = pa.array([], type=pa.string())

  def add(self, values: pa.Array) -> None:
    text = common.text_column(values)
    unique = pc.unique(text)
    new = pc.filter(unique, pc.invert(pc.is_in(unique, value_set=self._known)))
    if len(new):
      self.tokens.extend(new.to_pylist())
      self._known = pa.array(self.tokens, type=pa.string())

  def encode(self, values: pa.Array) -> np.ndarray:
    index = pc.index_in(common.text_column(values), value_set=self._known)
    return index.to_numpy(zero_copy_only=False).astype(np.int64) + 1

  def write(self, path: pathlib.Path) -> None:
    with open(path, 'w', encoding='utf-8') as f:
      f.write('token\tid\n')
      for index, token in enumerate(self.tokens, start=1):
        f.write(f'{token}\t{index}\n')


class _Converter:
  """Converts one batch of source columns to validated Tenrec columns."""

  def __init__(self, path: pathlib.Path, schema: schema_lib.ScenarioSchema,
               mapping: Mapping[str, str], timestamp: Optional[str],
               id_tokens: Optional[Dict[str, _Tokens]], item_offset: int):
    self.path = str(path)
    self.schema = schema
    self.mapping = mapping
    self.timestamp = timestamp
    self.id_tokens = id_tokens
    self.item_offset = item_offset

  def convert(self, batch: pa.RecordBatch, first_line: Optional[int],
              first_row: int) -> Dict[str, np.ndarray]:
    out = {}
    for name, source in self.mapping.items():
      column = self.schema.column(name)
      out[name] = self._convert_column(column, source, batch.column(source), first_line,
                                       first_row)
    if self.timestamp:
      out[_TIMESTAMP] = self._timestamps(batch.column(self.timestamp), first_line, first_row)
    out[_FILE_ROW] = np.arange(first_row, first_row + batch.num_rows, dtype=np.int64)
    return out

  def _fail(self, index: int, source: str, value: Any, reason: str, hint: str,
            first_line: Optional[int], first_row: int):
    line = None if first_line is None else first_line + index
    where = '' if first_line is not None else f' (row {first_row + index + 1})'
    raise TenrecInputError(self.path, reason + where, line=line, column=source,
                           value=str(value), hint=hint)

  def _convert_column(self, column: schema_lib.Column, source: str, values: pa.Array,
                      first_line: Optional[int], first_row: int) -> np.ndarray:
    kind = column.kind
    location = {'first_line': first_line, 'first_row': first_row}
    if kind == schema_lib.ColumnKind.ID and self.id_tokens is not None:
      return self.id_tokens[column.name].encode(values)
    if kind == schema_lib.ColumnKind.FLOAT:
      return common.parse_numbers(values, self.path, source, **location)
    if kind == schema_lib.ColumnKind.BINARY:
      numbers = common.parse_numbers(values, self.path, source, **location)
      bad = ~np.isin(numbers, (0.0, 1.0))
      if bad.any():
        index = int(np.argmax(bad))
        self._fail(index, source, values[index].as_py(), f'{column.name} must be 0 or 1',
                   f'Map a 0/1 column to {column.name}, or convert the source first.',
                   first_line, first_row)
      return numbers.astype(np.int64)
    allow_missing = kind == schema_lib.ColumnKind.CATEGORY
    numbers = common.parse_integers(values, self.path, source, allow_missing=allow_missing,
                                    **location)
    valid = numbers >= 0
    if allow_missing:
      valid |= numbers == schema_lib.MISSING_CATEGORY
    if column.value_range is not None:
      low, high = column.value_range
      valid &= ((numbers >= low) & (numbers <= high)) | (numbers == -1)
    if not valid.all():
      index = int(np.argmax(~valid))
      allowed = (f'{column.value_range[0]:g}..{column.value_range[1]:g}'
                 if column.value_range else 'a non-negative integer')
      self._fail(index, source, values[index].as_py(),
                 f'{column.name} must be {allowed}',
                 f'Convert the source values to the Tenrec coding of {column.name}.',
                 first_line, first_row)
    if column.name == 'item_id':
      numbers = numbers + self.item_offset
    return numbers

  def _timestamps(self, values: pa.Array, first_line: Optional[int],
                  first_row: int) -> np.ndarray:
    if isinstance(values, pa.ChunkedArray):
      values = values.combine_chunks()
    if pa.types.is_timestamp(values.type) or pa.types.is_date(values.type):
      return pc.cast(pc.cast(values, pa.timestamp('us')), pa.int64()).to_numpy(
          zero_copy_only=False).astype(np.float64)
    if pa.types.is_integer(values.type) or pa.types.is_floating(values.type):
      return values.to_numpy(zero_copy_only=False).astype(np.float64)
    text = common.text_column(values)
    try:
      return pc.cast(text, pa.float64()).to_numpy(zero_copy_only=False)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
      pass
    try:
      return pc.cast(pc.cast(text, pa.timestamp('us')), pa.int64()).to_numpy(
          zero_copy_only=False).astype(np.float64)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
      for index, value in enumerate(text.to_pylist()):
        try:
          float(value)
          continue
        except ValueError:
          pass
        try:
          pc.cast(pa.array([value]), pa.timestamp('us'))
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
          self._fail(index, self.timestamp, value, 'timestamp is neither a number nor an '
                     'ISO 8601 date-time', 'Use epoch seconds or YYYY-MM-DD[ HH:MM:SS].',
                     first_line, first_row)
      raise


def _bucket_plan(user_ids: np.ndarray, counts: np.ndarray,
                 rows_per_bucket: int) -> np.ndarray:
  """Assigns sorted users to consecutive buckets of about `rows_per_bucket` rows."""
  rows_before = np.cumsum(counts) - counts
  return (rows_before // max(rows_per_bucket, 1)).astype(np.int64)


def import_table(path: Union[str, os.PathLike], out_dir: Union[str, os.PathLike],
                 mapping: Mapping[str, str], file_format: Optional[str] = None,
                 scenario: str = 'qk_video', timestamp: Optional[str] = None,
                 delimiter: str = ',', remap_ids: bool = False, overwrite: bool = False,
                 source_name: Optional[str] = None, block_bytes: int = DEFAULT_BLOCK_BYTES,
                 parquet_batch_rows: int = DEFAULT_PARQUET_BATCH_ROWS,
                 rows_per_bucket: int = DEFAULT_ROWS_PER_BUCKET) -> Dict[str, Any]:
  """Converts a CSV or Parquet log to a Tenrec-schema file in `out_dir` plus import.json.

  Args:
    path: The source file.
    out_dir: Output folder.
    mapping: {Tenrec column: source column}; user_id and item_id are required.
    file_format: 'csv' or 'parquet' (default: from the file extension).
    scenario: Tenrec file to write ('qk_video' by default).
    timestamp: Source column that orders a user's rows (numbers or ISO 8601); None keeps the
      file order.
    delimiter: CSV field separator.
    remap_ids: Number arbitrary user and item tokens 1, 2, ... in order of first appearance
      (tables written to user_ids.tsv and item_ids.tsv).
    overwrite: Replace a non-empty `out_dir`.
    source_name: Name recorded in import.json (default: the file name without extension).
    block_bytes: CSV bytes parsed per batch.
    parquet_batch_rows: Parquet rows read per batch.
    rows_per_bucket: Rows per user range sorted in memory at once.

  Returns:
    The import.json content.

  Raises:
    TenrecInputError: The file is missing or malformed, or a value is invalid.
    ValueError: The mapping or an argument is invalid.
    FileExistsError: `out_dir` is not empty and `overwrite` is False.
  """
  path = pathlib.Path(path)
  file_format = file_format or infer_format(path)
  if file_format not in FORMATS:
    raise ValueError(f'file_format must be csv or parquet, got {file_format!r}.')
  schema = schema_lib.get_scenario(scenario)
  mapping = check_mapping(mapping, schema, timestamp)
  source = _Source(path, file_format, delimiter, block_bytes, parquet_batch_rows)
  wanted = list(mapping.values()) + ([timestamp] if timestamp else [])
  source.check_columns(wanted)

  # Pass 1: rows per user, smallest item id, token tables.
  id_tokens = {'user_id': _Tokens(), 'item_id': _Tokens()} if remap_ids else None
  user_counts = (np.zeros(0, np.int64), np.zeros(0, np.int64))
  min_item = None
  for first_line, first_row, batch in source.batches([mapping['user_id'], mapping['item_id']]):
    if remap_ids:
      id_tokens['user_id'].add(batch.column(mapping['user_id']))
      id_tokens['item_id'].add(batch.column(mapping['item_id']))
      continue
    ids = {}
    for name in ('user_id', 'item_id'):
      ids[name] = common.parse_integers(batch.column(mapping[name]), str(path), mapping[name],
                                        first_line=first_line, first_row=first_row)
      negative = ids[name] < 0
      if negative.any():
        index = int(np.argmax(negative))
        where = '' if first_line is not None else f' (row {first_row + index + 1})'
        raise TenrecInputError(str(path), 'negative id' + where,
                               line=None if first_line is None else first_line + index,
                               column=mapping[name], value=str(ids[name][index]),
                               hint='Ids must be non-negative; pass --remap-ids for other ids.')
    users, counts = np.unique(ids['user_id'], return_counts=True)
    user_counts = _merge_counts(user_counts, (users, counts))
    if ids['item_id'].size:
      low = int(ids['item_id'].min())
      min_item = low if min_item is None else min(min_item, low)
  if remap_ids:
    user_counts = _count_remapped_users(source, mapping, id_tokens)
  if user_counts[0].size == 0:
    raise TenrecInputError(str(path), 'file has a header but no data rows', line=2,
                           hint='Check that the file was copied completely.')
  item_offset = 1 if min_item == 0 else 0
  bucket_of_user = _bucket_plan(user_counts[0], user_counts[1], rows_per_bucket)
  num_buckets = int(bucket_of_user.max()) + 1

  converter = _Converter(path, schema, mapping, timestamp, id_tokens, item_offset)
  with common.ImportOutput(out_dir, scenario, overwrite=overwrite) as output:
    spill_dir = output.partial_dir / '.spill'
    spill_dir.mkdir()
    # Pass 2: convert and partition by user range.
    for first_line, first_row, batch in source.batches(wanted):
      columns = converter.convert(batch, first_line, first_row)
      buckets = bucket_of_user[np.searchsorted(user_counts[0], columns['user_id'])]
      order = np.argsort(buckets, kind='stable')
      sorted_buckets = buckets[order]
      boundaries = np.flatnonzero(np.diff(sorted_buckets)) + 1
      for rows in np.split(order, boundaries):
        if rows.size == 0:
          continue
        bucket = int(buckets[rows[0]])
        np.savez(spill_dir / f'bucket-{bucket:06d}-row-{first_row:012d}.npz',
                 **{name: values[rows] for name, values in columns.items()})

    # Pass 3: sort every user range and append it to the output.
    for bucket in range(num_buckets):
      parts = sorted(spill_dir.glob(f'bucket-{bucket:06d}-row-*.npz'))
      if not parts:
        continue
      loaded = [dict(np.load(p)) for p in parts]
      columns = {name: np.concatenate([part[name] for part in loaded]) for name in loaded[0]}
      keys = [columns[_FILE_ROW]]
      if timestamp:
        keys.append(columns[_TIMESTAMP])
      keys.append(columns['user_id'])
      order = np.lexsort(keys)
      output.write({name: values[order] for name, values in columns.items()
                    if not name.startswith('__')})
      for p in parts:
        p.unlink()
    shutil.rmtree(spill_dir)

    if remap_ids:
      id_tokens['user_id'].write(output.partial_dir / 'user_ids.tsv')
      id_tokens['item_id'].write(output.partial_dir / 'item_ids.tsv')
    described = {}
    for column in schema.columns:
      if column.name in mapping:
        described[column.name] = f'source column {mapping[column.name]!r}'
      else:
        described[column.name] = common.describe_default(column)
    if remap_ids:
      described['user_id'] += ' (tokens numbered 1, 2, ... in user_ids.tsv)'
      described['item_id'] += ' (tokens numbered 1, 2, ... in item_ids.tsv)'
    elif item_offset:
      described['item_id'] += f' + {item_offset}'
    described['order'] = ('users ascending; rows of a user by ' +
                          (f'{timestamp!r}, then file order' if timestamp else 'file order'))
    metadata = output.finish({
        'source': source_name or path.stem,
        'source_path': str(path.resolve()),
        'importer': file_format,
        'mapping': described,
        'source_columns': dict(mapping),
        'timestamp_column': timestamp,
        'users': int(user_counts[0].size),
    })
  logging.info('Imported %d rows of %d users from %s into %s.', metadata['rows'],
               metadata['users'], path, out_dir)
  return metadata


def _merge_counts(left: Tuple[np.ndarray, np.ndarray],
                  right: Tuple[np.ndarray, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
  values = np.concatenate([left[0], right[0]])
  counts = np.concatenate([left[1], right[1]])
  unique, inverse = np.unique(values, return_inverse=True)
  return unique, np.bincount(inverse, weights=counts, minlength=unique.size).astype(np.int64)


def _count_remapped_users(source: _Source, mapping: Mapping[str, str],
                          id_tokens: Mapping[str, _Tokens]) -> Tuple[np.ndarray, np.ndarray]:
  counts = np.zeros(len(id_tokens['user_id'].tokens) + 1, dtype=np.int64)
  for _, _, batch in source.batches([mapping['user_id']]):
    counts += np.bincount(id_tokens['user_id'].encode(batch.column(mapping['user_id'])),
                          minlength=counts.size)
  users = np.flatnonzero(counts)
  return users.astype(np.int64), counts[users]
