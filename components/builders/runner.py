"""Runs a task builder as a Beam pipeline and publishes its output atomically.

The driver validates every input header before Beam starts, writes all output under a
temporary folder inside the output directory, and moves it into place only after the row
accounting balances and no split is empty. A failed build leaves the output directory as it
found it.
"""

import datetime
import json
import math
import pickle
import uuid
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import apache_beam as beam
from apache_beam.io.filesystems import FileSystems
from apache_beam.options.pipeline_options import PipelineOptions
from absl import logging

from components.builders import accounting
from components.builders import base
from components.builders import beam_stages
from components.tenrec_io import reader

REPORT_FILE = 'build_report.json'
# Input bytes per chunk (one Beam element of the read step) and per user bucket. They bound a
# worker's memory (about 0.5 GiB for the CTR builder at these sizes, measured on generated
# QK-video data), whatever the input size.
DEFAULT_CHUNK_BYTES = 16 << 20
DEFAULT_BUCKET_BYTES = 16 << 20
DEFAULT_LOCAL_BEAM_ARGS = ('--runner=FnApiRunner',)


def default_num_buckets(total_bytes: int, bucket_bytes: int = DEFAULT_BUCKET_BYTES) -> int:
  """Chooses enough user buckets that each holds about `bucket_bytes` of input (at least 2)."""
  return max(2, math.ceil(total_bytes / bucket_bytes))


def make_pipeline_factory(beam_pipeline_args: Optional[Sequence[str]] = None
                         ) -> Callable[[], beam.Pipeline]:
  """Returns a factory of Beam pipelines for the given arguments.

  Without a `--runner` argument the in-process FnApiRunner is used, because Beam's own default
  first tries to download the Prism runner binary.
  """
  args = list(beam_pipeline_args or ())
  if not any(a.startswith('--runner') for a in args):
    args = list(DEFAULT_LOCAL_BEAM_ARGS) + args
  return lambda: beam.Pipeline(options=PipelineOptions(args))


def run_builder(builder: base.TaskBuilder,
                paths: Mapping[str, str],
                output_dir: str,
                pipeline_factory: Optional[Callable[[], beam.Pipeline]] = None,
                chunk_bytes: int = DEFAULT_CHUNK_BYTES,
                num_buckets: Optional[int] = None,
                on_invalid: str = 'raise',
                allow_unknown_columns: bool = False,
                extra_report: Optional[Mapping[str, Any]] = None,
                overwrite: bool = False) -> Dict[str, Any]:
  """Builds a task dataset into `output_dir` and returns the build report.

  Args:
    builder: The task builder.
    paths: File path of each builder input, by input name.
    output_dir: Destination; receives `Split-*/` TFRecord folders and `build_report.json`.
    pipeline_factory: Returns the Beam pipeline to run in; defaults to the local DirectRunner.
    chunk_bytes: Size of the byte ranges read by one Beam element.
    num_buckets: Number of user buckets (= output shards per split); by default one per
      16 MiB of input, at least 2.
    on_invalid: 'raise' stops at the first invalid row; 'reject' skips and counts invalid rows.
    allow_unknown_columns: Accept header columns that are not part of the scenario schema.
    extra_report: Additional entries for the report (for example the dataset description).
    overwrite: Replace a dataset that an earlier build wrote into `output_dir`. Without it, a
      previous build's report in `output_dir` raises FileExistsError before any work starts.
      The old files are removed only after the new build succeeded.

  Raises:
    ValueError: `chunk_bytes` or `num_buckets` is below 1, or an input has no path.
    TenrecInputError: An input file is missing or malformed.
    EmptyDatasetError: A filter removed every example of a split.
    FileExistsError: `output_dir` contains an earlier build and `overwrite` is False.
  """
  if chunk_bytes < 1:
    raise ValueError(f'chunk_bytes must be at least 1, got {chunk_bytes}.')
  if num_buckets is not None and num_buckets < 1:
    raise ValueError(f'num_buckets must be at least 1, got {num_buckets}.')

  inputs = list(builder.inputs())
  missing = [i.name for i in inputs if i.name not in paths]
  if missing:
    raise ValueError(f'No path given for builder input(s) {", ".join(missing)}.')

  previous_build = _previous_build_entries(output_dir)
  if previous_build and not overwrite:
    raise FileExistsError(
        f'{output_dir} already contains a built dataset ({", ".join(previous_build)}); pass '
        '--overwrite to replace it or choose another output folder.')

  headers = {
      i.name: reader.read_header(paths[i.name], i.scenario, allow_unknown_columns)
      for i in inputs
  }
  total_bytes = sum(h.size for h in headers.values())
  if num_buckets is None:
    num_buckets = default_num_buckets(total_bytes)
  chunks = beam_stages.plan_chunks(inputs, paths, headers, chunk_bytes)
  pipeline_factory = pipeline_factory or make_pipeline_factory()

  work_dir = FileSystems.join(output_dir, f'.tenrec-build-{uuid.uuid4().hex[:12]}')
  spill_dir = FileSystems.join(work_dir, 'spill')
  staging_dir = FileSystems.join(work_dir, 'output')
  summary_path = FileSystems.join(work_dir, 'summary.pickle')
  logging.info('Building %s dataset from %s into %s (%d chunks, %d user buckets).', builder.task,
               dict(paths), output_dir, len(chunks), num_buckets)
  started = datetime.datetime.now(datetime.timezone.utc)

  try:
    try:
      with pipeline_factory() as pipeline:
        _build_graph(pipeline, builder, headers, chunks, spill_dir, staging_dir, summary_path,
                     num_buckets, on_invalid)
    except Exception as error:  # pylint: disable=broad-except
      input_error = beam_stages.unwrap_input_error(str(error))
      if input_error is not None:
        raise input_error from None
      raise
    with FileSystems.open(summary_path) as f:
      summary = pickle.loads(f.read())

    report = _make_report(builder, paths, headers, summary, num_buckets, started)
    if extra_report:
      report.update(extra_report)
    accounts = {name: accounting.RowAccount.from_dict(a) for name, a in report['accounts'].items()}
    accounting.log_accounts(accounts)
    unbalanced = [name for name, a in accounts.items() if not a.is_balanced()]
    if unbalanced:
      raise RuntimeError(f'Row accounting of the {builder.task} builder does not balance for '
                         f'{unbalanced}: {report["accounts"]}. This is a bug in the builder.')
    builder.check_result(report)

    _write_json(FileSystems.join(staging_dir, REPORT_FILE), report)
    for prefix in sub_datasets(builder.split_names):
      _write_json(FileSystems.join(staging_dir, prefix, REPORT_FILE),
                  _sub_dataset_report(report, prefix))
    if previous_build:
      _remove_entries(output_dir, previous_build)
    _publish(staging_dir, output_dir)
  finally:
    if FileSystems.exists(work_dir):
      FileSystems.delete([work_dir])

  logging.info('Wrote %s dataset to %s: %s', builder.task, output_dir, report['splits'])
  return report


def _build_graph(pipeline, builder, headers, chunks, spill_dir, staging_dir, summary_path,
                 num_buckets, on_invalid) -> None:
  spilled = (
      pipeline
      | 'CreateChunks' >> beam.Create(chunks)
      | 'DistributeChunks' >> beam.Reshuffle()
      | 'ReadAndSpill' >> beam.ParDo(
          beam_stages.ReadAndSpillFn(builder, headers, spill_dir, num_buckets,
                                     on_invalid)).with_outputs(
                                         beam_stages.ReadAndSpillFn.SUMMARY, main='spills'))

  chunk_summary = (
      spilled[beam_stages.ReadAndSpillFn.SUMMARY]
      | 'MergeChunkSummaries' >> beam.CombineGlobally(beam_stages.MergeSummariesFn())
      | 'FinalizeChunkSummary' >> beam.Map(builder.finalize_summary))

  bucket_outputs = (
      spilled.spills
      | 'GroupByUserBucket' >> beam.GroupByKey()
      | 'ProcessBuckets' >> beam.ParDo(
          beam_stages.ProcessBucketFn(builder, staging_dir, num_buckets, spill_dir),
          summary=beam.pvalue.AsSingleton(chunk_summary)).with_outputs(
              beam_stages.ProcessBucketFn.INTERMEDIATE, main='summaries'))

  pass_summaries = [bucket_outputs.summaries]
  side = chunk_summary
  side_statistics = []
  for pass_index in range(1, builder.num_passes):
    previous = pass_index - 1
    merged = (
        pass_summaries[-1]
        | f'MergePass{previous}Summaries' >> beam.CombineGlobally(
            beam_stages.MergeSummariesFn()))
    side = (
        merged
        | f'FinalizePass{previous}' >> beam.Map(
            lambda summary, previous_side, index: builder.finalize_pass(
                index, previous_side, summary),
            previous_side=beam.pvalue.AsSingleton(side), index=previous))
    side_statistics.append(
        side | f'Pass{pass_index}Statistics' >> beam.Map(
            lambda value, index: {'side_statistics': {
                f'pass_{index}': dict(value.get('statistics', {}))}}, index=pass_index))
    bucket_outputs = (
        bucket_outputs[beam_stages.ProcessBucketFn.INTERMEDIATE]
        | f'DistributePass{pass_index}' >> beam.Reshuffle()
        | f'ProcessPass{pass_index}' >> beam.ParDo(
            beam_stages.ProcessPassFn(builder, staging_dir, spill_dir, num_buckets, pass_index),
            side=beam.pvalue.AsSingleton(side)).with_outputs(
                beam_stages.ProcessPassFn.INTERMEDIATE, main='summaries'))
    pass_summaries.append(bucket_outputs.summaries)

  side_files = (
      side
      | 'WriteSideFiles' >> beam.Map(
          lambda value: {'side_files': sorted(builder.write_side_files(staging_dir, value))}))

  _ = (
      [chunk_summary, side_files] + side_statistics + pass_summaries
      | 'CollectSummaries' >> beam.Flatten()
      | 'DropPassInputs' >> beam.Map(beam_stages.strip_private)
      | 'MergeAllSummaries' >> beam.CombineGlobally(beam_stages.MergeSummariesFn())
      | 'WriteSummary' >> beam.Map(_write_pickle, summary_path))


def sub_datasets(split_names: Sequence[str]) -> List[str]:
  """Returns the sub-dataset prefixes of a builder's splits, in first-seen order."""
  prefixes = []
  for split in split_names:
    prefix = base.sub_dataset_of(split)
    if prefix and prefix not in prefixes:
      prefixes.append(prefix)
  return prefixes


def _sub_dataset_report(report: Mapping[str, Any], prefix: str) -> Dict[str, Any]:
  """Returns the report of one sub-dataset: the build report with its splits only."""
  sub = dict(report)
  sub['sub_dataset'] = prefix
  sub['splits'] = {base.split_base_name(split): count
                   for split, count in report['splits'].items()
                   if base.sub_dataset_of(split) == prefix}
  sub['side_files'] = [path[len(prefix) + 1:] for path in report.get('side_files', [])
                       if path.startswith(prefix + '/')]
  return sub


def _previous_build_entries(output_dir: str) -> List[str]:
  """Lists the top-level entries of an earlier build in `output_dir` (empty if none)."""
  report_path = FileSystems.join(output_dir, REPORT_FILE)
  if not FileSystems.exists(report_path):
    return []
  entries = {REPORT_FILE}
  try:
    with FileSystems.open(report_path) as f:
      previous = json.loads(f.read().decode())
  except (ValueError, OSError):
    previous = {}
  for split in previous.get('splits', {}):
    prefix = base.sub_dataset_of(split)
    entries.add(prefix.split('/')[0] if prefix else f'Split-{split}')
  for path in previous.get('side_files', []):
    entries.add(path.split('/')[0])
  return sorted(entries)


def _remove_entries(output_dir: str, entries: Sequence[str]) -> None:
  paths = [FileSystems.join(output_dir, e) for e in entries]
  existing = [p for p in paths if FileSystems.exists(p)]
  if existing:
    FileSystems.delete(existing)


def _write_json(path: str, value: Any) -> None:
  with FileSystems.create(path) as f:
    f.write(json.dumps(value, indent=2, sort_keys=True, default=_json_default).encode())


def _write_pickle(value: Any, path: str) -> None:
  with FileSystems.create(path) as f:
    f.write(pickle.dumps(value))


def _make_report(builder: base.TaskBuilder, paths: Mapping[str, str],
                 headers: Mapping[str, reader.FileHeader], summary: Mapping[str, Any],
                 num_buckets: int, started: datetime.datetime) -> Dict[str, Any]:
  """Combines the chunk and bucket summaries into the JSON build report."""
  accounts = {}
  for builder_input in builder.inputs():
    name = builder_input.name
    chunk = accounting.RowAccount.from_dict(
        summary.get('chunk_accounts', {}).get(name, {'read': 0, 'used': 0}))
    bucket = accounting.RowAccount.from_dict(
        summary.get('bucket_accounts', {}).get(name, {'read': 0, 'used': 0}))
    accounts[name] = chunk.merge(bucket).to_dict()
    accounts[name]['balanced'] = chunk.merge(bucket).is_balanced()

  rejected = summary.get('rejected_examples', [])
  by_path: Dict[str, list] = {}
  for example in rejected:
    by_path.setdefault(example['path'], []).append(example)
  located = []
  for path, examples in by_path.items():
    lines = reader.line_numbers_at(path, [e['offset'] for e in examples])
    for example in sorted(examples, key=lambda e: e['offset'])[:beam_stages.MAX_REJECTED_EXAMPLES]:
      located.append(dict(example, line=lines[example['offset']]))

  splits = {split: int(summary.get('splits', {}).get(split, 0)) for split in builder.split_names}
  finished = datetime.datetime.now(datetime.timezone.utc)
  return {
      'task': builder.task,
      'inputs': {name: {'path': paths[name], 'size_bytes': headers[name].size,
                        'columns': list(headers[name].columns)} for name in headers},
      'options': builder.options_dict(),
      'deviations_from_reference': builder.deviations(),
      'accounts': accounts,
      'splits': splits,
      'rejected_examples': located,
      'num_buckets': num_buckets,
      'side_files': list(summary.get('side_files', [])),
      'statistics': builder.report_statistics(summary),
      'started_at': started.isoformat(),
      'seconds': round((finished - started).total_seconds(), 3),
  }


def _publish(staging_dir: str, output_dir: str) -> None:
  """Moves every staged file into the output directory."""
  matches = FileSystems.match([FileSystems.join(staging_dir, '**')])[0].metadata_list
  sources = [m.path for m in matches]
  prefix = staging_dir.rstrip('/') + '/'
  destinations = [FileSystems.join(output_dir, path[len(prefix):]) for path in sources]
  for destination in destinations:
    parent = destination.rsplit('/', 1)[0]
    if not FileSystems.exists(parent):
      FileSystems.mkdirs(parent)
  FileSystems.rename(sources, destinations)


def _json_default(value: Any) -> Any:
  if hasattr(value, 'tolist'):
    return value.tolist()
  raise TypeError(f'Object of type {type(value).__name__} is not JSON serializable.')


def read_report(output_dir: str) -> Dict[str, Any]:
  """Reads the build report of a finished dataset."""
  with FileSystems.open(FileSystems.join(output_dir, REPORT_FILE)) as f:
    return json.loads(f.read().decode())
