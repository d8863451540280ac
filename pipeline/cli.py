"""The `tenrec` command line.

Each sub-command lives in its own module under `pipeline.commands` and exposes
`add_parser(subparsers)` and `run(args) -> int`. Modules import TensorFlow, Beam and TFX inside
`run`, so `tenrec --help` stays fast.
"""

import argparse
import importlib
import logging
import os
import sys
from typing import List, Optional

# Must precede the first TensorFlow import anywhere in the process.
os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

# Sub-command name -> module under pipeline.commands, in the order `tenrec --help` lists them.
COMMANDS = {
    'generate': 'generate',
    'stats': 'stats',
    'import': 'import_data',
    'build': 'build',
    'run': 'run',
    'benchmark': 'benchmark',
    'serve-bench': 'serve_bench',
    'compile': 'compile',
    'tensorboard': 'tensorboard',
}


def build_parser() -> argparse.ArgumentParser:
  """Builds the parser with one sub-parser per available command module."""
  parser = argparse.ArgumentParser(
      prog='tenrec',
      description='Tenrec recommender benchmark on TFX: generate or import data, build task '
      'datasets, train and evaluate baselines, export and benchmark TF Serving models.')
  parser.add_argument('--log-level', default='INFO',
                      choices=['DEBUG', 'INFO', 'WARNING', 'ERROR'],
                      help='Logging verbosity (default: INFO).')
  subparsers = parser.add_subparsers(dest='command', metavar='COMMAND', required=True)
  for module_name in COMMANDS.values():
    try:
      module = importlib.import_module(f'pipeline.commands.{module_name}')
    except ModuleNotFoundError as error:
      if error.name == f'pipeline.commands.{module_name}':
        continue
      raise
    module.add_parser(subparsers)
  return parser


def main(argv: Optional[List[str]] = None) -> int:
  """Runs the `tenrec` command line and returns the process exit status."""
  parser = build_parser()
  args = parser.parse_args(argv)
  logging.basicConfig(level=getattr(logging, args.log_level),
                      format='%(asctime)s %(levelname)s %(name)s: %(message)s')
  from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
  absl_logging.set_verbosity(args.log_level.lower())

  from components.tenrec_io.errors import TenrecInputError  # pylint: disable=import-outside-toplevel
  try:
    return int(args.run(args) or 0)
  except TenrecInputError as error:
    logging.error('%s', error)
    return 2
  except KeyboardInterrupt:
    logging.error('Interrupted.')
    return 130


if __name__ == '__main__':
  sys.exit(main())
