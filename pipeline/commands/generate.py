"""`tenrec generate`: write seeded Tenrec-shaped raw files (generated data, not Tenrec)."""

import argparse
import json
import logging

from pipeline.commands import common_args


def add_parser(subparsers) -> None:
  """Registers `tenrec generate`."""
  from components.generator import config  # pylint: disable=import-outside-toplevel

  parser = subparsers.add_parser(
      'generate',
      help='Write generated Tenrec-shaped raw files (not Tenrec data).',
      description=(
          'Write QK-video.csv, QB-video.csv, QK-article.csv, QB-article.csv and '
          'generation.json with the exact Tenrec layouts, calibrated to the published Tenrec '
          'statistics. The data is generated, not Tenrec data. The same seed and scale give '
          'byte-identical files.'),
      formatter_class=common_args.HelpFormatter)
  parser.add_argument(
      '--scale', type=float, default=config.DEFAULT_SCALE,
      help='Fraction of the real QK-video user count (5,022,750), in (0, 1]. Secondary '
      f'scenarios have size floors. Default {config.DEFAULT_SCALE} gives about 5,000 QK-video '
      'users and 490,000 QK-video rows.')
  parser.add_argument('--seed', type=int, default=0,
                      help='Random seed, a non-negative integer (default 0).')
  parser.add_argument('--out', '--output-dir', dest='out', required=True,
                      help='Output folder. Files are written to a hidden folder beside it, '
                      'which is renamed to OUT when complete.')
  parser.add_argument(
      '--scenarios', default=','.join(config.SCENARIO_NAMES),
      help='Comma-separated scenarios to write (default: all four: '
      f'{",".join(config.SCENARIO_NAMES)}).')
  parser.add_argument('--overwrite', action='store_true',
                      help='Replace the output folder if it is not empty.')
  parser.add_argument('--block-users', type=int, default=None,
                      help='Users generated per step (memory and speed only; the output does '
                      f'not depend on it). Default {config.DEFAULT_BLOCK_USERS}.')
  parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  """Generates the files and prints a summary; returns the exit status."""
  from components.generator import generation  # pylint: disable=import-outside-toplevel

  scenarios = [name.strip() for name in args.scenarios.split(',') if name.strip()]
  options = {}
  if args.block_users is not None:
    options['block_users'] = args.block_users
  try:
    report = generation.generate(args.out, scale=args.scale, seed=args.seed,
                                 scenarios=scenarios, overwrite=args.overwrite, **options)
  except (ValueError, FileExistsError) as error:
    logging.error('tenrec generate: %s', error)
    return 2

  print(f'Wrote generated Tenrec-shaped data (not Tenrec data) to {report["out_dir"]} '
        f'in {report["seconds"]:.1f} s ({report["rows_per_second"]:,.0f} rows/s):')
  for file_name, counts in report['files'].items():
    print(f'  {file_name}: {json.dumps(counts)}')
  print(f'Check it against the published statistics with: tenrec stats {report["out_dir"]}')
  return 0
