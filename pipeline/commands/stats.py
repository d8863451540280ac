"""`tenrec stats`: measured statistics of Tenrec raw files beside the published values."""

import argparse
import logging
import os

from pipeline.commands import common_args


def add_parser(subparsers) -> None:
  """Registers `tenrec stats`."""
  parser = subparsers.add_parser(
      'stats',
      help='Print statistics of Tenrec raw files beside the published Tenrec values.',
      description=(
          'Read QK-video.csv, QB-video.csv, QK-article.csv and QB-article.csv (whichever '
          'exist) from DATA_DIR, streaming and by header name, and print one table per file: '
          'statistic, measured value, published Tenrec value and its source. Works on '
          'generated and on real Tenrec files.'),
      formatter_class=common_args.HelpFormatter)
  parser.add_argument('data_dir', metavar='DATA_DIR', help='Folder with the raw CSV files.')
  parser.add_argument('--json', metavar='PATH', default=None,
                      help='Also write the statistics and targets as JSON to PATH.')
  parser.add_argument('--scenario', default=None,
                      help='Print only this scenario (for example QK-video); all are computed.')
  parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  """Computes and prints the statistics; returns the exit status."""
  from components.generator import stats  # pylint: disable=import-outside-toplevel
  from components.tenrec_io import schema  # pylint: disable=import-outside-toplevel

  scenario = None
  if args.scenario:
    try:
      scenario = schema.get_scenario(args.scenario).name
    except ValueError as error:
      logging.error('tenrec stats: %s', error)
      return 2

  if not os.path.isdir(args.data_dir):
    raise common_args.UsageError(
        f'{args.data_dir}: folder not found. Pass the folder that contains QK-video.csv, '
        'QB-video.csv, QK-article.csv or QB-article.csv.')
  result = stats.compute_stats(args.data_dir)
  print(stats.format_stats_table(result, scenario), end='')
  if args.json:
    stats.write_stats_json(result, args.json)
    print(f'Wrote {args.json}')
  return 0
