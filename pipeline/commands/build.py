"""`tenrec build`: build one task dataset (TFRecord splits + build_report.json) with Beam.

Every builder option is a flag named after the option (`min_user_clicks` -> `--min-user-clicks`);
flags left out keep the builder's default, and a flag that the chosen task does not have is an
error. `--option KEY=VALUE` sets any option by name (VALUE parsed as JSON when it parses).

Example:

  tenrec build --task sbr --data-dir /data/tenrec --out /data/datasets/sbr \\
      --min-user-clicks 10 --beam-workers 2
"""

import argparse
import dataclasses
import importlib
import json
import logging
import sys
import typing
from typing import Any, Dict, Mapping, Tuple

from pipeline.commands import common_args

# Task -> (module, options class), importable without Beam. Must list every registered task.
OPTIONS_CLASSES = {
    'ctr': ('components.builders.ctr_options', 'CtrOptions'),
    'sbr': ('components.builders.sequence_options', 'SbrOptions'),
    'mtl': ('components.builders.mtl_options', 'MtlOptions'),
    'transfer': ('components.builders.sequence_options', 'TransferOptions'),
    'profile': ('components.builders.sequence_options', 'ProfileOptions'),
    'coldstart': ('components.builders.sequence_options', 'ColdStartOptions'),
    'lifelong': ('components.builders.sequence_options', 'LifelongOptions'),
    'infacc': ('components.builders.sequence_options', 'InfaccOptions'),
}
TASK_HELP = {
    'ctr': 'CTR prediction examples (QK-video exposures, click label)',
    'sbr': 'sequential recommendation (QK-video clicks, leave-last-out)',
    'mtl': 'multi-task examples (QK-video click+like, or QK-article six objectives)',
    'transfer': 'transfer learning (QK-video source, QB-video target)',
    'profile': 'user profile prediction (gender and age labels)',
    'coldstart': 'cold-start users (QK-video histories, QK-article targets)',
    'lifelong': 'lifelong learning chain QK-video > QK-article > QB-video > QB-article',
    'infacc': 'inference speed-up (QB-video in the SBR format)',
}
_NONE = 'none'

# Help of options whose choices differ between tasks, replacing the text of the first class.
_HELP_OVERRIDES = {
    'split_mode': "ctr, mtl: 'random' (rows at random, exact duplicates in one split), 'user' "
                  "(every row of a user in one split) or 'temporal' (each user's rows in time "
                  "order). coldstart, lifelong: 'user' (every example of a user in one split) "
                  "or 'example' (examples at random, as the reference, so a user's examples can "
                  "land in several splits).",
}


def options_class(task: str):
  module, name = OPTIONS_CLASSES[task]
  return getattr(importlib.import_module(module), name)


def _choices() -> Dict[str, Tuple[str, ...]]:
  """Allowed values of the string options, from the options modules."""
  from components.builders import ctr_options as ctr  # pylint: disable=import-outside-toplevel
  from components.builders import sequence_options as so  # pylint: disable=import-outside-toplevel

  return {
      'history_mode': ctr.HISTORY_MODES,
      'negative_sampling': ctr.NEGATIVE_SAMPLING_MODES,
      'split_mode': tuple(dict.fromkeys(ctr.SPLIT_MODES + so.EXAMPLE_SPLIT_MODES)),
      'user_selection': so.USER_SELECTION_MODES,
      'item_order': so.ITEM_ORDERS,
      'validation_users': so.VALIDATION_MODES,
      'setting': so.COLD_SETTINGS,
      'cold_keep': so.COLD_KEEP,
      'task1_keep': so.COLD_KEEP,
      'task2_signal': so.TASK2_SIGNALS,
  }


def _attribute_docs(cls) -> Dict[str, str]:
  """Parses the `Attributes:` section of a class docstring into {name: text}."""
  docs: Dict[str, str] = {}
  for klass in reversed(cls.__mro__):
    text = klass.__doc__ or ''
    if 'Attributes:' not in text:
      continue
    current = None
    for line in text.split('Attributes:', 1)[1].splitlines():
      stripped = line.strip()
      if not stripped:
        continue
      indent = len(line) - len(line.lstrip())
      if ':' in stripped and indent <= 4 and stripped.split(':', 1)[0].isidentifier():
        current, description = stripped.split(':', 1)
        docs[current] = description.strip()
      elif current is not None:
        docs[current] += ' ' + stripped
  return docs


def _field_parser(annotation):
  """Returns (parse function, metavar) for a dataclass field type."""
  optional = False
  origin = typing.get_origin(annotation)
  if origin is typing.Union:
    args = [a for a in typing.get_args(annotation) if a is not type(None)]
    optional = True
    annotation = args[0]
    origin = typing.get_origin(annotation)

  if origin in (tuple, Tuple):
    element = typing.get_args(annotation)[0]

    def parse_tuple(text: str):
      if optional and text.lower() == _NONE:
        return None
      return [element(part.strip()) for part in text.split(',') if part.strip()]

    return parse_tuple, 'A,B,...'

  def parse_scalar(text: str):
    if optional and text.lower() == _NONE:
      return None
    return annotation(text)

  metavar = {int: 'N', float: 'X', str: 'NAME'}.get(annotation, 'VALUE')
  return parse_scalar, metavar + (f'|{_NONE}' if optional else '')


def _field_default(field: dataclasses.Field) -> Any:
  if field.default is not dataclasses.MISSING:
    return field.default
  if field.default_factory is not dataclasses.MISSING:
    return field.default_factory()
  return dataclasses.MISSING


def _format_default(value: Any) -> str:
  """Writes a default the way the command line accepts it ('none', 'a,b,c')."""
  if value is None:
    return _NONE
  if isinstance(value, (tuple, list)):
    return ','.join(str(v) for v in value)
  return str(value)


def default_help(defaults: Mapping[str, Any]) -> str:
  """Describes the per-task defaults of one option, for example 'Default: 100.'.

  Args:
    defaults: {task: default value} of the tasks that have the option.
  """
  by_value: Dict[str, typing.List[str]] = {}
  for task, value in defaults.items():
    if value is not dataclasses.MISSING:
      by_value.setdefault(_format_default(value), []).append(task)
  if not by_value:
    return ''
  if len(by_value) == 1:
    return f'Default: {next(iter(by_value))}.'
  parts = [f'{value} ({", ".join(tasks)})' for value, tasks in by_value.items()]
  return f'Default: {"; ".join(parts)}.'


def builder_fields() -> Dict[str, Dict[str, Any]]:
  """{option name: {'tasks', 'help', 'parse', 'metavar', 'defaults'}} over every builder."""
  fields: Dict[str, Dict[str, Any]] = {}
  for task in OPTIONS_CLASSES:
    cls = options_class(task)
    docs = _attribute_docs(cls)
    hints = typing.get_type_hints(cls)
    for field in dataclasses.fields(cls):
      entry = fields.get(field.name)
      if entry is None:
        parse, metavar = _field_parser(hints[field.name])
        text = _HELP_OVERRIDES.get(field.name, docs.get(field.name, ''))
        entry = fields[field.name] = {'tasks': [], 'help': text, 'parse': parse,
                                      'metavar': metavar, 'defaults': {}}
      entry['tasks'].append(task)
      entry['defaults'][task] = _field_default(field)
  return fields


def add_parser(subparsers) -> None:
  parser = subparsers.add_parser(
      'build', help='Build a task dataset (TFRecord splits) from raw Tenrec-schema files.',
      description='Build one task dataset with Apache Beam: TFRecord files of tf.Example in '
      'the TFX Examples layout (Split-train/, Split-eval/, Split-test/) and build_report.json '
      'with the options, the row accounting and the deviations from the reference '
      'implementation. Options left out keep the task\'s defaults. Without --data-dir the '
      'embedded generated data is used (created on first use).',
      formatter_class=common_args.RawDescriptionHelpFormatter,
      epilog='Tasks:\n' + '\n'.join(f'  {t:<10} {h}' for t, h in TASK_HELP.items()))
  parser.add_argument('--task', required=True, choices=tuple(OPTIONS_CLASSES),
                      help='Task dataset to build.')
  parser.add_argument('--out', '--output-dir', dest='out', required=True,
                      help='Output folder of the dataset.')
  parser.add_argument('--overwrite', action='store_true',
                      help='Replace a dataset built earlier in --out (removed only after the '
                      'new build succeeded).')
  common_args.add_data_arguments(parser)

  group = parser.add_argument_group(
      'builder options', 'Each applies to the tasks listed in brackets; see docs/datasets.md.')
  choices = _choices()
  for name, entry in sorted(builder_fields().items()):
    text = entry['help']
    if name in choices:
      text += f' Choices: {", ".join(choices[name])}.'
    defaults = default_help(entry['defaults'])
    if defaults and 'default' not in text.lower():
      text += ' ' + defaults
    group.add_argument(
        '--' + name.replace('_', '-'), dest=f'option_{name}', default=argparse.SUPPRESS,
        type=entry['parse'], metavar=entry['metavar'],
        help=f'{text} [{", ".join(entry["tasks"])}]'.replace('%', '%%'))
  group.add_argument('--option', action='append', default=None, metavar='KEY=VALUE',
                     help='Set any builder option by name; VALUE is parsed as JSON when it '
                     'parses (for example --option split_ratios=[0.8,0.1,0.1]). Repeatable.')

  beam = parser.add_argument_group('build execution')
  beam.add_argument('--chunk-bytes', type=common_args.at_least(1), default=None,
                    help='Bytes of an input file read by one Beam element (default: 16 MiB).')
  beam.add_argument('--num-buckets', type=common_args.at_least(1), default=None,
                    help='User buckets, which is also the number of shards per split '
                    '(default: one per 16 MiB of input, at least 2).')
  beam.add_argument('--json', action='store_true',
                    help='Print the build report as JSON instead of tables.')
  common_args.add_beam_arguments(parser)
  parser.set_defaults(run=run)


def builder_options(args: argparse.Namespace) -> Dict[str, Any]:
  """Collects the options given on the command line for `args.task`.

  Raises:
    ValueError: An option does not apply to the task, or a value is invalid.
  """
  fields = builder_fields()
  choices = _choices()
  cls = options_class(args.task)
  known = {f.name for f in dataclasses.fields(cls)}
  options: Dict[str, Any] = {}
  for name in fields:
    if not hasattr(args, f'option_{name}'):
      continue
    value = getattr(args, f'option_{name}')
    if name not in known:
      raise ValueError(f'--{name.replace("_", "-")} does not apply to --task {args.task}; it '
                       f'applies to {", ".join(fields[name]["tasks"])}.')
    if name in choices and isinstance(value, str) and value not in choices[name]:
      raise ValueError(f'--{name.replace("_", "-")} must be one of '
                       f'{", ".join(choices[name])}, got {value!r}.')
    options[name] = value
  for item in getattr(args, 'option', None) or []:
    if '=' not in item:
      raise ValueError(f'--option needs KEY=VALUE, got {item!r}.')
    key, text = item.split('=', 1)
    key = key.strip().replace('-', '_')
    if key not in known:
      raise ValueError(f'Unknown option {key!r} for --task {args.task}; known: '
                       f'{", ".join(sorted(known))}.')
    try:
      options[key] = json.loads(text)
    except json.JSONDecodeError:
      options[key] = text
  return options


def run(args: argparse.Namespace) -> int:
  from components.builders import base  # pylint: disable=import-outside-toplevel
  from components.builders import registry  # pylint: disable=import-outside-toplevel
  from components.builders import runner  # pylint: disable=import-outside-toplevel

  try:
    options = builder_options(args)
    builder = registry.create_builder(args.task, options)
  except ValueError as error:
    print(f'tenrec build: error: {error}', file=sys.stderr)
    return 2

  dataset = common_args.resolve_dataset(args)
  paths = common_args.input_paths(dataset, builder)
  factory = runner.make_pipeline_factory(common_args.beam_pipeline_args(args))
  logging.info('Building the %s dataset from %s data in %s.', args.task, dataset.kind,
               dataset.data_dir)
  try:
    report = runner.run_builder(
        builder, paths, args.out, pipeline_factory=factory,
        chunk_bytes=(args.chunk_bytes if args.chunk_bytes is not None else
                     runner.DEFAULT_CHUNK_BYTES),
        num_buckets=args.num_buckets, on_invalid=args.on_invalid_row,
        extra_report={'dataset': dataset.description}, overwrite=args.overwrite)
  except base.EmptyDatasetError as error:
    print(f'tenrec build: error: {error}', file=sys.stderr)
    return 1
  except FileExistsError as error:
    print(f'tenrec build: error: {error}', file=sys.stderr)
    return 2

  logging.info('%s', '\n'.join(row_accounting_lines(report['accounts'])))
  if args.json:
    print(json.dumps(report, indent=2, sort_keys=True))
  else:
    print(format_report(report, args.out))
  return 0


def format_report(report: Mapping[str, Any], out_dir: str) -> str:
  """Formats a build report as plain-text tables: split sizes and row accounting."""
  dataset = report.get('dataset', {})
  lines = [f'Task {report["task"]} built into {out_dir} in {report["seconds"]:.1f} s.']

  if dataset:
    label = f'Data: {dataset.get("name")} ({dataset.get("kind")})'
    if dataset.get('note'):
      label += f' - {dataset["note"]}'
    lines.append(label)

  lines.append('')
  lines.append(f'{"split":<16}{"examples":>12}')
  for split, count in report['splits'].items():
    lines.append(f'{split:<16}{count:>12,}')

  lines.append('')
  lines.extend(row_accounting_lines(report['accounts']))

  if report.get('side_files'):
    lines.append('')
    lines.append('Files beside the splits: ' + ', '.join(report['side_files']))
  if report.get('deviations_from_reference'):
    lines.append('')
    lines.append('Deviations from the reference implementation:')
    lines.extend(f'  - {note}' for note in report['deviations_from_reference'])
  return '\n'.join(lines)



def row_accounting_lines(accounts: Mapping[str, Any],
                         filtered_reasons: bool = True) -> typing.List[str]:
  """Formats the row accounting of a build report, one equation per input file.

  Args:
    accounts: `accounts` of a build report: {input name: {'read', 'used', 'filtered',
      'rejected'}}, where 'filtered' and 'rejected' map a reason to a row count.
    filtered_reasons: Also list the filtered rows per reason. Rejected rows are always listed
      per reason.
  """
  lines = ['Row accounting (read = used + filtered + rejected):']
  for name, account in (accounts or {}).items():
    filtered = sum(account['filtered'].values())
    rejected = sum(account['rejected'].values())
    lines.append(f'  {name}: {account["read"]:,} = {account["used"]:,} + {filtered:,} + '
                 f'{rejected:,}')
    if filtered_reasons:
      for reason, count in sorted(account['filtered'].items(), key=lambda kv: -kv[1]):
        lines.append(f'      filtered {reason}: {count:,}')
    for reason, count in sorted(account['rejected'].items(), key=lambda kv: -kv[1]):
      lines.append(f'      rejected {reason}: {count:,}')
  return lines
