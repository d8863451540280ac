"""`tenrec benchmark`: train several models over several seeds and tabulate mean ± std.

  tenrec benchmark --task sbr --data-dir DIR --seeds 3 --output-dir runs/bench-sbr

The task modules under `pipeline/benchmark/` run the models; this module only assembles the
parser and dispatches. Every option of every installed task module is accepted, and an option
that the chosen task does not use is ignored.
"""

import argparse
import logging
import sys

from pipeline.commands import common_args


def configure_parser(parser: argparse.ArgumentParser) -> None:
  """Adds the shared options and those of every installed task module."""
  from pipeline import benchmark  # pylint: disable=import-outside-toplevel
  from pipeline.benchmark import common  # pylint: disable=import-outside-toplevel

  modules = benchmark.available_modules()
  parser.add_argument('--task', choices=sorted(modules), required=True,
                      help='Benchmark task.')
  common.add_shared_arguments(parser)
  common_args.add_data_arguments(parser)
  for module in dict.fromkeys(modules.values()):
    module.add_arguments(parser)
  common_args.add_beam_arguments(parser)


def add_parser(subparsers) -> None:
  parser = subparsers.add_parser(
      'benchmark', help='Benchmark several models over several seeds (mean ± std tables).',
      description='Train and evaluate every chosen model with every seed, then write the '
      'results as Markdown, CSV and JSON tables (mean ± sample standard deviation over seeds), '
      'with the published Tenrec numbers beside them labelled as the paper\'s, validation '
      'curves, the environment and the command. By default each run goes through the TFX '
      'pipeline of `tenrec run`.',
      formatter_class=common_args.HelpFormatter,
      # Task modules may add the same `common_args` group (for example the CTR dataset
      # options); the later definition of a flag replaces the earlier one.
      conflict_handler='resolve')
  configure_parser(parser)
  parser.set_defaults(run=run)


def _standalone_parser() -> argparse.ArgumentParser:
  parser = argparse.ArgumentParser(prog='tenrec benchmark', conflict_handler='resolve')
  configure_parser(parser)
  return parser


def run(args: argparse.Namespace) -> int:
  from pipeline import benchmark  # pylint: disable=import-outside-toplevel
  from pipeline.benchmark import common  # pylint: disable=import-outside-toplevel

  module = benchmark.available_modules()[args.task]
  command = common.reconstruct_command(_standalone_parser(), args,
                                       ['tenrec', 'benchmark'])
  logging.info('Benchmark command: %s', command)
  try:
    report = module.run(args, command)
  except common.OptionError as error:
    print(f'tenrec benchmark: {error}', file=sys.stderr)
    return 2
  for table in report.tables:
    print(f'\n{table.title}\n')
    print(table.to_markdown())
  print(f'\nReport: {args.output_dir}/{common.REPORT_MARKDOWN}')
  return 0
