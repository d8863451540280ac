"""Beam building blocks shared by the task builders: chunked reading, grouping by user through
spill files, and writing tf.Example shards.

Grouping by user goes through files instead of shuffling rows as Beam elements: each chunk
writes one small NumPy file per user bucket, and only (bucket, file path) pairs pass through
`GroupByKey`. Memory per worker is therefore bounded by the size of one chunk and one bucket,
whatever the input size, and the work of a bucket is vectorised NumPy over its sorted rows.
Spill files live under a temporary folder that the driver deletes.
"""

import dataclasses
import io
import os
from typing import Any, Dict, Iterable, List, Mapping, Sequence, Tuple

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import hashing
from components.builders import tfexample
from components.tenrec_io import reader

# Rejected rows kept per input in the report, with their line numbers.
MAX_REJECTED_EXAMPLES = 20


@dataclasses.dataclass(frozen=True)
class ChunkTask:
  """One byte range of one input file."""

  input_name: str
  path: str
  start: int
  end: int


def plan_chunks(inputs: Sequence[base.BuilderInput], paths: Mapping[str, str],
                headers: Mapping[str, reader.FileHeader], chunk_bytes: int) -> List[ChunkTask]:
  """Splits every input file into byte ranges."""
  tasks = []
  for builder_input in inputs:
    header = headers[builder_input.name]
    for start, end in reader.plan_byte_ranges(header, chunk_bytes):
      tasks.append(ChunkTask(builder_input.name, paths[builder_input.name], start, end))
  return tasks


def save_arrays(path: str, arrays: Mapping[str, np.ndarray]) -> None:
  """Writes arrays to a .npz file on any Beam file system."""
  buffer = io.BytesIO()
  np.savez(buffer, **arrays)
  with FileSystems.create(path) as f:
    f.write(buffer.getvalue())


def load_arrays(path: str) -> Dict[str, np.ndarray]:
  """Reads arrays written by `save_arrays`."""
  with FileSystems.open(path) as f:
    data = f.read()
  with np.load(io.BytesIO(data), allow_pickle=False) as npz:
    return {name: npz[name] for name in npz.files}


class ReadAndSpillFn(beam.DoFn):
  """Reads a chunk, validates it and writes its rows to one spill file per user bucket.

  Main output: (bucket, (input name, spill path)). Tagged output 'summary': the chunk's
  statistics (`TaskBuilder.summarize_chunk`), reads and rejections.
  """

  SUMMARY = 'summary'

  def __init__(self, builder: base.TaskBuilder, headers: Mapping[str, reader.FileHeader],
               spill_dir: str, num_buckets: int, on_invalid: str):
    self._builder = builder
    self._headers = dict(headers)
    self._spill_dir = spill_dir
    self._num_buckets = num_buckets
    self._on_invalid = on_invalid
    self._rows_read = beam.metrics.Metrics.counter('tenrec', 'rows_read')
    self._rows_rejected = beam.metrics.Metrics.counter('tenrec', 'rows_rejected')

  def process(self, task: ChunkTask):
    builder_input = _input_by_name(self._builder, task.input_name)
    batch = reader.read_range(task.path, builder_input.scenario, self._headers[task.input_name],
                              builder_input.columns, task.start, task.end, use_threads=False,
                              on_invalid=self._on_invalid)
    self._rows_read.inc(batch.num_read)
    self._rows_rejected.inc(len(batch.rejected))

    account = accounting.RowAccount(read=batch.num_read)
    for rejected in batch.rejected:
      account.reject(rejected.reason, 1)
    examples = [dataclasses.asdict(r) for r in batch.rejected[:MAX_REJECTED_EXAMPLES]]
    for example in examples:
      example['path'] = task.path
    summary = {
        'chunk_accounts': {task.input_name: account.to_dict()},
        'rejected_examples': examples,
    }
    summary.update(self._builder.summarize_chunk(task.input_name, batch))
    yield beam.pvalue.TaggedOutput(self.SUMMARY, summary)

    if batch.num_rows == 0:
      return
    buckets = hashing.bucket_of(batch.columns['user_id'], self._num_buckets)
    order = np.argsort(buckets, kind='stable')
    sorted_buckets = buckets[order]
    boundaries = np.flatnonzero(np.diff(sorted_buckets)) + 1
    for rows in np.split(order, boundaries):
      bucket = int(buckets[rows[0]])
      arrays = {name: values[rows] for name, values in batch.columns.items()}
      arrays['__row_offset__'] = batch.row_offset[rows]
      path = FileSystems.join(self._spill_dir, f'bucket-{bucket:05d}',
                              f'{task.input_name}-{task.start:016d}.npz')
      save_arrays(path, arrays)
      yield bucket, (task.input_name, path)


def _input_by_name(builder: base.TaskBuilder, name: str) -> base.BuilderInput:
  for builder_input in builder.inputs():
    if builder_input.name == name:
      return builder_input
  raise KeyError(f'Builder {builder.task!r} has no input {name!r}.')


def load_bucket(builder: base.TaskBuilder,
                spills: Iterable[Tuple[str, str]]) -> Dict[str, base.UserTable]:
  """Loads a bucket's spill files into one sorted UserTable per input."""
  parts: Dict[str, List[Dict[str, np.ndarray]]] = {}
  for input_name, path in spills:
    parts.setdefault(input_name, []).append(load_arrays(path))
  tables = {}
  for builder_input in builder.inputs():
    chunks = parts.get(builder_input.name, [])
    if chunks:
      columns = {c: np.concatenate([chunk[c] for chunk in chunks]) for c in builder_input.columns}
      offsets = np.concatenate([chunk['__row_offset__'] for chunk in chunks])
    else:
      columns = {c: np.zeros(0, np.int64) for c in builder_input.columns}
      offsets = np.zeros(0, np.int64)
    tables[builder_input.name] = base.UserTable.from_columns(columns, offsets)
  return tables


def shard_path(output_dir: str, split: str, shard: int, num_shards: int) -> str:
  """Returns the path of one TFRecord shard in the TFX Examples layout."""
  return FileSystems.join(output_dir, f'Split-{split}',
                          f'data_tfrecord-{shard:05d}-of-{num_shards:05d}.gz')


def write_examples(path: str, columns: Mapping[str, np.ndarray],
                   batch_size: int = 65536) -> int:
  """Encodes feature columns as tf.Example and writes them to a gzip TFRecord file."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  num_rows = len(next(iter(columns.values()))) if columns else 0
  parent = os.path.dirname(path)
  if parent:
    tf.io.gfile.makedirs(parent)
  with tf.io.TFRecordWriter(path, options='GZIP') as writer:
    for start in range(0, num_rows, batch_size):
      part = {name: values[start:start + batch_size] for name, values in columns.items()}
      for record in tfexample.encode_examples(part):
        writer.write(record)
  return num_rows


class ProcessBucketFn(beam.DoFn):
  """Runs a builder's bucket step and writes the bucket's examples, one shard per split."""

  def __init__(self, builder: base.TaskBuilder, output_dir: str, num_buckets: int):
    self._builder = builder
    self._output_dir = output_dir
    self._num_buckets = num_buckets
    self._examples_written = beam.metrics.Metrics.counter('tenrec', 'examples_written')

  def process(self, element, summary: Mapping[str, Any]):
    bucket, spills = element
    spills = list(spills)
    tables = load_bucket(self._builder, spills)
    result = self._builder.process_bucket(tables, summary)

    split_counts = {}
    for split in self._builder.split_names:
      columns = result.splits[split]
      path = shard_path(self._output_dir, split, bucket, self._num_buckets)
      split_counts[split] = write_examples(path, columns)
      self._examples_written.inc(split_counts[split])

    for _, path in spills:
      FileSystems.delete([path])

    out = {
        'bucket_accounts': {name: a.to_dict() for name, a in result.accounts.items()},
        'splits': split_counts,
        'written_buckets': [bucket],
    }
    out.update(result.extras)
    yield out


class MergeSummariesFn(beam.CombineFn):
  """Merges summary dictionaries with `base.merge_summaries`."""

  def create_accumulator(self):
    return {}

  def add_input(self, accumulator, element):
    return base.merge_summaries(accumulator, element)

  def merge_accumulators(self, accumulators):
    merged = {}
    for accumulator in accumulators:
      merged = base.merge_summaries(merged, accumulator)
    return merged

  def extract_output(self, accumulator):
    return accumulator
