"""Pieces shared by every `tenrec benchmark` task: aggregation over seeds, tables, records, plots.

A task module (for example `pipeline.benchmark.sbr`) runs its models over several seeds,
collects one record per run, and describes its results as `Table`s. `write_report` then writes
the same report in three forms beside the per-run outputs:

  <output_dir>/benchmark.json     every table, every run record, the environment and the command
  <output_dir>/benchmark.md       the tables in Markdown, with the data, mode, seeds, machine and
                                  command written above them
  <output_dir>/<table name>.csv   one CSV file per table; a mean ± std cell becomes two columns

Aggregates over seeds are the mean and the sample standard deviation (ddof = 1), written
`mean ± std`. With one seed the standard deviation is undefined and the cell shows the mean
alone.

Example:

  table = Table(name='results', title='Test metrics', columns=[
      Column('model', 'Model', 'text'), Column('ndcg', 'NDCG@10', 'mean_std')])
  table.add_row({'model': 'SASRec', 'ndcg': aggregate([0.041, 0.043])})
  table.to_markdown()   # '| Model | NDCG@10 |\\n|---|---:|\\n| SASRec | 0.0420 ± 0.0014 |'
"""

import argparse
import csv
import dataclasses
import datetime
import io
import json
import math
import os
import platform
import shlex
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

from absl import logging

REPORT_JSON = 'benchmark.json'
REPORT_MARKDOWN = 'benchmark.md'
COLUMN_KINDS = ('text', 'int', 'number', 'mean_std')
MISSING = '–'


# ----- aggregation -----


def aggregate(values: Sequence[Optional[float]]) -> Dict[str, Any]:
  """Summarises one quantity over seeds: {'mean', 'std', 'n', 'values'}.

  `std` is the sample standard deviation sqrt(sum((x - mean)^2) / (n - 1)); it is None for
  fewer than two values. None values (a run that did not produce the quantity) are left out
  and not counted in `n`; `mean` is None when no value remains.

  Raises:
    ValueError: A value is NaN or infinite.
  """
  kept = [float(v) for v in values if v is not None]
  for value in kept:
    if not math.isfinite(value):
      raise ValueError(f'Cannot aggregate the non-finite value {value!r}.')

  count = len(kept)
  if count == 0:
    return {'mean': None, 'std': None, 'n': 0, 'values': []}

  mean = math.fsum(kept) / count
  std = None
  if count > 1:
    std = math.sqrt(math.fsum((v - mean) ** 2 for v in kept) / (count - 1))
  return {'mean': mean, 'std': std, 'n': count, 'values': kept}


def format_number(value: Optional[float], digits: int = 4) -> str:
  """Formats a number with `digits` decimals and thousands separators; None gives '–'."""
  if value is None:
    return MISSING
  return f'{value:,.{digits}f}'


def format_mean_std(summary: Optional[Mapping[str, Any]], digits: int = 4) -> str:
  """Formats an `aggregate` result as 'mean ± std', or 'mean' when std is undefined."""
  if not summary or summary.get('mean') is None:
    return MISSING
  text = format_number(summary['mean'], digits)
  if summary.get('std') is not None:
    text += f' ± {format_number(summary["std"], digits)}'
  return text


# ----- tables -----


@dataclasses.dataclass(frozen=True)
class Column:
  """One table column.

  Attributes:
    key: Key of the value in each row.
    header: Column title in Markdown and CSV.
    kind: 'text', 'int', 'number' (a float shown with `digits` decimals) or 'mean_std' (an
      `aggregate` result).
    digits: Decimals of 'number' and 'mean_std' cells.
  """

  key: str
  header: str
  kind: str = 'text'
  digits: int = 4

  def __post_init__(self):
    if self.kind not in COLUMN_KINDS:
      raise ValueError(f'Column {self.key!r}: kind must be one of {", ".join(COLUMN_KINDS)}, '
                       f'got {self.kind!r}.')

  def markdown_cell(self, value: Any) -> str:
    if value is None:
      return MISSING
    if self.kind == 'mean_std':
      return format_mean_std(value, self.digits)
    if self.kind == 'number':
      return format_number(float(value), self.digits)
    if self.kind == 'int':
      return f'{int(value):,}'
    return str(value).replace('|', '\\|')

  def csv_headers(self) -> List[str]:
    if self.kind == 'mean_std':
      return [f'{self.header} mean', f'{self.header} std', f'{self.header} n']
    return [self.header]

  def csv_cells(self, value: Any) -> List[Any]:
    if self.kind == 'mean_std':
      value = value or {}
      return [_csv_value(value.get('mean')), _csv_value(value.get('std')), value.get('n', 0)]
    return [_csv_value(value)]


def _csv_value(value: Any) -> Any:
  return '' if value is None else value


@dataclasses.dataclass
class Table:
  """A result table: columns, rows (dictionaries keyed by column key) and notes.

  Attributes:
    name: File stem of the CSV file and key in the JSON report (letters, digits, '-', '_').
    title: Heading in the Markdown report.
    columns: The columns, in order.
    rows: One dictionary per row.
    notes: Sentences printed under the table in Markdown and kept in the JSON report.
  """

  name: str
  title: str
  columns: List[Column]
  rows: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
  notes: List[str] = dataclasses.field(default_factory=list)

  def __post_init__(self):
    if not self.name or not all(c.isalnum() or c in '-_' for c in self.name):
      raise ValueError(f'Table name {self.name!r} must be non-empty and contain only letters, '
                       'digits, "-" and "_" (it names the CSV file).')
    keys = [column.key for column in self.columns]
    duplicates = sorted({key for key in keys if keys.count(key) > 1})
    if duplicates:
      raise ValueError(f'Table {self.name!r} has duplicate column keys {duplicates}.')

  def add_row(self, row: Mapping[str, Any]) -> None:
    """Appends a row; keys that are not columns raise ValueError, missing keys show '–'."""
    unknown = sorted(set(row) - {column.key for column in self.columns})
    if unknown:
      raise ValueError(f'Row for table {self.name!r} has unknown keys {unknown}.')
    self.rows.append(dict(row))

  def to_markdown(self) -> str:
    """Returns the table as a GitHub-flavoured Markdown table, numbers right-aligned."""
    header = '| ' + ' | '.join(column.header for column in self.columns) + ' |'
    alignment = '|' + '|'.join('---' if column.kind == 'text' else '---:'
                               for column in self.columns) + '|'
    lines = [header, alignment]
    for row in self.rows:
      cells = [column.markdown_cell(row.get(column.key)) for column in self.columns]
      lines.append('| ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)

  def to_csv(self) -> str:
    """Returns the table as CSV text; a mean ± std column becomes mean, std and n columns."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\n')
    writer.writerow([h for column in self.columns for h in column.csv_headers()])
    for row in self.rows:
      writer.writerow([c for column in self.columns for c in column.csv_cells(row.get(column.key))])
    return buffer.getvalue()

  def to_json(self) -> Dict[str, Any]:
    return {
        'name': self.name,
        'title': self.title,
        'columns': [dataclasses.asdict(column) for column in self.columns],
        'rows': self.rows,
        'notes': list(self.notes),
    }


# ----- shared options -----

DEFAULT_SEED_COUNT = 5


# Note under every results table on how the spread over seeds is given.
SEED_SPREAD_NOTE = ('± is the sample standard deviation over seeds (n - 1 in the denominator); a '
                    'cell without ± comes from one value.')


class OptionError(ValueError):
  """An invalid benchmark option, detected before any run starts."""


def add_shared_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds the options every benchmark task understands (models, seeds, output, mode)."""
  group = parser.add_argument_group('benchmark')
  group.add_argument('--models', default=None,
                     help="Comma-separated model names (default: every model of the task, "
                     "see `tenrec run --task TASK --model list`).")
  group.add_argument('--seeds', type=int, default=DEFAULT_SEED_COUNT,
                     help='Number of training seeds per model; the seeds are 1..N.')
  group.add_argument('--seed-list', default=None,
                     help='Comma-separated training seeds, for example 7,8,9 (replaces --seeds).')
  group.add_argument('--epochs', type=int, default=None,
                     help="Training epochs of every model (default: each model's own).")
  group.add_argument('--hparam', action='append', default=None, metavar='KEY=VALUE',
                     help='Hyper-parameter override for every model; VALUE is parsed as JSON '
                     'when it parses. Repeatable.')
  group.add_argument('--model-hparam', action='append', default=None, metavar='MODEL:KEY=VALUE',
                     help='Hyper-parameter override for one model, applied after --hparam, for '
                     'example --model-hparam sasrec:num_blocks=2. Repeatable.')
  group.add_argument('--output-dir', default='tenrec-benchmark',
                     help='Folder for the report (benchmark.md, benchmark.json, CSV tables, '
                     'plots) and every run\'s outputs.')
  group.add_argument('--through-pipeline', action=argparse.BooleanOptionalAction, default=True,
                     help='Run every model and seed through the TFX pipeline of `tenrec run` '
                     '(dataset components are cached between runs); --no-through-pipeline '
                     'calls the trainer directly on one dataset build, which is faster.')
  group.add_argument('--resume', action=argparse.BooleanOptionalAction, default=True,
                     help='Reuse the finished runs in --output-dir whose settings are identical '
                     'instead of training them again.')


def parse_seeds(args: argparse.Namespace) -> List[int]:
  """Returns the training seeds: --seed-list, else 1..--seeds.

  Raises:
    ValueError: The list is empty, has a non-integer or a repeated seed, or --seeds < 1.
  """
  if args.seed_list:
    seeds = []
    for text in args.seed_list.split(','):
      text = text.strip()
      try:
        seeds.append(int(text))
      except ValueError:
        raise ValueError(f'--seed-list must contain integers, got {text!r}.') from None
    repeated = sorted({seed for seed in seeds if seeds.count(seed) > 1})
    if repeated:
      raise ValueError(f'--seed-list repeats seed(s) {repeated}.')
    return seeds
  if args.seeds < 1:
    raise ValueError(f'--seeds must be at least 1, got {args.seeds}.')
  return list(range(1, args.seeds + 1))


def parse_models(args: argparse.Namespace, available: Sequence[str]) -> List[str]:
  """Returns the models of --models (default: `available`), lower case, in the given order.

  Raises:
    ValueError: A name is not in `available` or is repeated.
  """
  if not args.models:
    return list(available)
  models = [name.strip().lower() for name in args.models.split(',') if name.strip()]
  unknown = [name for name in models if name not in available]
  if unknown:
    raise ValueError(f'Unknown model(s) {", ".join(unknown)} in --models; available: '
                     f'{", ".join(available)}.')
  repeated = sorted({name for name in models if models.count(name) > 1})
  if repeated:
    raise ValueError(f'--models repeats {", ".join(repeated)}.')
  if not models:
    raise ValueError('--models names no model.')
  return models


def split_model_item(item: str, flag: str, separator: str, form: str,
                     models: Sequence[str]) -> Tuple[str, str]:
  """Splits a per-model option value 'MODEL<separator>REST' into (model, REST).

  Raises:
    ValueError: The separator or the model is missing, or the model is not benchmarked.
  """
  model, found, rest = item.partition(separator)
  model = model.strip().lower()
  if not found or not model:
    raise ValueError(f'{flag} needs {form}, got {item!r}.')
  if model not in models:
    raise ValueError(f'{flag} {item!r} names model {model!r}, which is not benchmarked; '
                     f'models: {", ".join(models)}.')
  return model, rest


def parse_model_hparams(items: Optional[Sequence[str]],
                        models: Sequence[str]) -> Dict[str, Dict[str, Any]]:
  """Parses --model-hparam MODEL:KEY=VALUE items into {model: {key: value}}.

  VALUE is parsed as JSON when it parses, else kept as a string.

  Raises:
    ValueError: An item lacks ':' or '=', or names a model that is not benchmarked.
  """
  from pipeline.commands import common_args  # pylint: disable=import-outside-toplevel

  overrides: Dict[str, Dict[str, Any]] = {}
  for item in items or []:
    model, assignment = split_model_item(item, '--model-hparam', ':', 'MODEL:KEY=VALUE', models)
    overrides.setdefault(model, {}).update(
        common_args.parse_key_values([assignment], '--model-hparam'))
  return overrides


def model_overrides(args: argparse.Namespace, model: str,
                    per_model: Mapping[str, Mapping[str, Any]]) -> Dict[str, Any]:
  """Returns the hyper-parameter overrides of one model: --epochs, --hparam, then its own."""
  from pipeline.commands import common_args  # pylint: disable=import-outside-toplevel

  overrides: Dict[str, Any] = {}
  if args.epochs is not None:
    overrides['epochs'] = args.epochs
  overrides.update(common_args.parse_key_values(args.hparam, '--hparam'))
  overrides.update(per_model.get(model, {}))
  return overrides


# ----- environment and command -----


def _cpu_model() -> Optional[str]:
  try:
    with open('/proc/cpuinfo', encoding='utf-8') as handle:
      for line in handle:
        if line.startswith('model name'):
          return line.split(':', 1)[1].strip()
  except OSError:
    return None
  return None


def _memory_gib() -> Optional[float]:
  try:
    return round(os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 2**30, 1)
  except (ValueError, OSError, AttributeError):
    return None


def environment() -> Dict[str, Any]:
  """Describes the software and the machine: versions, CPU model and count, memory, GPUs."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel
  from pipeline import results  # pylint: disable=import-outside-toplevel

  described = dict(results.environment())
  described.update({
      'cpu_model': _cpu_model(),
      'memory_gib': _memory_gib(),
      'gpus': [device.name for device in tf.config.list_physical_devices('GPU')],
      'load_average_1_5_15_min': (list(os.getloadavg()) if hasattr(os, 'getloadavg')
                                  else None),
  })
  return described


def describe_machine(env: Mapping[str, Any]) -> str:
  """Returns a one-line machine description from `environment()`."""
  gpus = env.get('gpus') or []
  parts = [
      f'{env.get("processor") or platform.machine()}',
      f'{env.get("cpu_count")} CPU cores' + (f' ({env["cpu_model"]})' if env.get('cpu_model')
                                            else ''),
      f'{env["memory_gib"]} GiB RAM' if env.get('memory_gib') else None,
      f'{len(gpus)} GPU(s)' if gpus else 'no GPU',
  ]
  return ', '.join(part for part in parts if part)


def reconstruct_command(parser: argparse.ArgumentParser, args: argparse.Namespace,
                        prefix: Sequence[str]) -> str:
  """Returns a command line equivalent to `args`: `prefix` plus every non-default option.

  The command is rebuilt from the parsed values, so it is exact whatever way the command was
  started (a shell, `cli.main([...])` in a test, or a script).
  """
  words = list(prefix)
  for action in parser._actions:  # pylint: disable=protected-access
    if not action.option_strings or action.dest in ('help',):
      continue
    if not hasattr(args, action.dest):
      continue

    value = getattr(args, action.dest)
    if value == action.default:
      continue
    flag = next((s for s in action.option_strings if s.startswith('--')),
                action.option_strings[0])

    if isinstance(action, argparse.BooleanOptionalAction):
      words.append(flag if value else '--no-' + flag[2:])
    elif isinstance(action, (argparse._StoreTrueAction,  # pylint: disable=protected-access
                             argparse._StoreFalseAction)):  # pylint: disable=protected-access
      words.append(flag)
    elif isinstance(action, argparse._AppendAction):  # pylint: disable=protected-access
      for item in value or []:
        words.extend([flag, str(item)])
    elif action.nargs in ('+', '*') or isinstance(action.nargs, int):
      words.append(flag)
      words.extend(str(item) for item in value)
    else:
      words.extend([flag, str(value)])
  return shlex.join(words)


def utc_now() -> str:
  return datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ')


# ----- plots -----


def plot_curves(curves: Mapping[str, Mapping[Any, Sequence[float]]],
                path: str,
                title: str,
                ylabel: str) -> Optional[str]:
  """Plots one line per (series, seed) against the epoch and writes a PNG file.

  Args:
    curves: {series name (for example the model): {seed: [value after epoch 1, 2, ...]}}.
      Every series gets one colour; its seeds are thin lines, and their mean over the seeds
      that reached an epoch is a thick line.
    path: Output PNG path.
    title: Figure title.
    ylabel: Label of the y axis.

  Returns:
    `path`, or None when no series has a value (nothing is written then).
  """
  import matplotlib  # pylint: disable=import-outside-toplevel
  matplotlib.use('Agg')
  from matplotlib import pyplot  # pylint: disable=import-outside-toplevel
  from matplotlib import ticker  # pylint: disable=import-outside-toplevel

  if not any(values for runs in curves.values() for values in runs.values()):
    return None

  figure, axes = pyplot.subplots(figsize=(8, 5))
  colours = pyplot.rcParams['axes.prop_cycle'].by_key()['color']
  for index, (series, runs) in enumerate(curves.items()):
    colour = colours[index % len(colours)]
    longest = max((len(values) for values in runs.values()), default=0)
    for values in runs.values():
      axes.plot(range(1, len(values) + 1), values, color=colour, alpha=0.35, linewidth=1,
                marker='.')
    means = []
    for epoch in range(longest):
      reached = [values[epoch] for values in runs.values() if len(values) > epoch]
      means.append(sum(reached) / len(reached))
    if means:
      axes.plot(range(1, len(means) + 1), means, color=colour, linewidth=2.2, marker='o',
                markersize=3, label=f'{series} (mean of {len(runs)} seed{"s" if len(runs) != 1 else ""})')

  axes.xaxis.set_major_locator(ticker.MaxNLocator(integer=True))
  axes.set_xlabel('epoch')
  axes.set_ylabel(ylabel)
  axes.set_title(title)
  axes.grid(True, alpha=0.3)
  axes.legend(loc='best', fontsize='small')
  figure.tight_layout()
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  figure.savefig(path, dpi=110)
  pyplot.close(figure)
  return path


# ----- report -----


@dataclasses.dataclass
class BenchmarkReport:
  """Everything one `tenrec benchmark` invocation reports.

  Attributes:
    title: Heading of the Markdown report.
    task: Benchmark task ('sbr', 'ctr', 'mtl').
    command: Command line that reproduces the benchmark.
    options: Every resolved option of the invocation.
    environment: `environment()` of the machine that ran it.
    dataset: Description of the data (kind 'generated', 'public' or 'tenrec', name, note).
    mode: How runs were executed, in words (for example 'through the TFX pipeline').
    started_at, finished_at: UTC timestamps; finished_at is None while runs are pending.
    tables: Result tables.
    runs: One record per (model, seed) run.
    plots: {name: path relative to the output folder} of written figures.
    notes: Sentences printed above the tables.
  """

  title: str
  task: str
  command: str
  options: Dict[str, Any]
  environment: Dict[str, Any]
  dataset: Dict[str, Any]
  mode: str
  started_at: str
  finished_at: Optional[str] = None
  tables: List[Table] = dataclasses.field(default_factory=list)
  runs: List[Dict[str, Any]] = dataclasses.field(default_factory=list)
  plots: Dict[str, str] = dataclasses.field(default_factory=dict)
  notes: List[str] = dataclasses.field(default_factory=list)

  def to_json(self) -> Dict[str, Any]:
    return {
        'title': self.title,
        'task': self.task,
        'status': 'complete' if self.finished_at else 'partial',
        'command': self.command,
        'options': self.options,
        'environment': self.environment,
        'dataset': self.dataset,
        'mode': self.mode,
        'started_at': self.started_at,
        'finished_at': self.finished_at,
        'notes': list(self.notes),
        'tables': {table.name: table.to_json() for table in self.tables},
        'plots': dict(self.plots),
        'runs': self.runs,
    }

  def to_markdown(self) -> str:
    dataset = self.dataset or {}
    data_line = f'{dataset.get("name", "unknown")} ({dataset.get("kind", "unknown")})'
    if dataset.get('note'):
      data_line += f'. {dataset["note"]}'
    lines = [
        f'# {self.title}',
        '',
        f'- Data: {data_line}',
        f'- Mode: {self.mode}',
        f'- Started: {self.started_at}; finished: {self.finished_at or "not yet (partial report)"}',
        f'- Machine: {describe_machine(self.environment)}',
        '- Software: ' + ', '.join(
            f'{name} {self.environment[name]}'
            for name in ('python', 'tensorflow', 'tfx', 'apache_beam')
            if self.environment.get(name)),
        '',
        'Command:',
        '',
        '```',
        self.command,
        '```',
    ]
    for note in self.notes:
      lines.extend(['', note])
    for table in self.tables:
      lines.extend(['', f'## {table.title}', '', table.to_markdown()])
      for note in table.notes:
        lines.extend(['', note])
    for name, path in self.plots.items():
      lines.extend(['', f'## {name}', '', f'![{name}]({path})'])
    return '\n'.join(lines) + '\n'


def _json_default(value: Any) -> Any:
  if hasattr(value, 'tolist'):
    return value.tolist()
  if hasattr(value, 'item'):
    return value.item()
  raise TypeError(f'Object of type {type(value).__name__} is not JSON serializable.')


def write_text(path: str, text: str) -> None:
  """Writes a file atomically (a temporary file, then a rename), so readers never see half."""
  os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
  temporary = f'{path}.tmp'
  with open(temporary, 'w', encoding='utf-8') as handle:
    handle.write(text)
  os.replace(temporary, path)


def write_json(path: str, payload: Any) -> None:
  write_text(path, json.dumps(payload, indent=2, sort_keys=True, default=_json_default) + '\n')


def write_report(output_dir: str, report: BenchmarkReport) -> Dict[str, str]:
  """Writes benchmark.json, benchmark.md and one CSV per table; returns {kind: path}."""
  paths = {
      'json': os.path.join(output_dir, REPORT_JSON),
      'markdown': os.path.join(output_dir, REPORT_MARKDOWN),
  }
  write_json(paths['json'], report.to_json())
  write_text(paths['markdown'], report.to_markdown())
  for table in report.tables:
    paths[f'csv:{table.name}'] = os.path.join(output_dir, f'{table.name}.csv')
    write_text(paths[f'csv:{table.name}'], table.to_csv())
  logging.info('Benchmark report written to %s.', paths['markdown'])
  return paths
