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


# Libraries whose INFO output is hidden unless --log-level DEBUG.
_VERBOSE_LIBRARIES = ('absl', 'apache_beam', 'tensorflow', 'tfx')

# Marker of an input error raised inside a Beam worker; the command reports those itself.
_INPUT_ERROR_MARKER = '<<TenrecInputError'


class _RepeatedInputErrorFilter(logging.Filter):
  """Drops the Beam runner's traceback of an input error that the command reports itself."""

  def filter(self, record: logging.LogRecord) -> bool:
    return not (record.name.startswith('apache_beam') and
                _INPUT_ERROR_MARKER in record.getMessage())


def configure_logging(level_name: str) -> None:
  """Logs at `level_name`, keeping library INFO output for DEBUG runs only."""
  level = getattr(logging, level_name)
  logging.basicConfig(level=level, format='%(asctime)s %(levelname)s %(name)s: %(message)s')
  from absl import logging as absl_logging  # pylint: disable=import-outside-toplevel
  absl_logging.set_verbosity(level_name.lower())
  if level > logging.DEBUG:
    for name in _VERBOSE_LIBRARIES:
      logging.getLogger(name).setLevel(max(level, logging.WARNING))
  for handler in logging.getLogger().handlers:
    handler.addFilter(_RepeatedInputErrorFilter())


def main(argv: Optional[List[str]] = None) -> int:
  """Runs the `tenrec` command line and returns the process exit status."""
  parser = build_parser()
  args = parser.parse_args(argv)
  configure_logging(args.log_level)

  from components.tenrec_io.errors import TenrecInputError  # pylint: disable=import-outside-toplevel
  from pipeline.commands.common_args import UsageError  # pylint: disable=import-outside-toplevel
  try:
    return int(args.run(args) or 0)
  except UsageError as error:
    # Only argument checks raise UsageError; other ValueErrors keep their traceback.
    print(f'tenrec {args.command}: error: {error}', file=sys.stderr)
    return 2
  except TenrecInputError as error:
    logging.error('%s', error)
    return 2
  except KeyboardInterrupt:
    logging.error('Interrupted.')
    return 130


if __name__ == '__main__':
  sys.exit(main())
