"""`tenrec tensorboard`: TensorBoard over the training logs of every run in an output folder.

The Trainer writes Keras TensorBoard logs (`train/`, `validation/`) to its `model_run` artifact,
OUTPUT_DIR/pipelines/PIPELINE/Trainer/model_run/EXECUTION_ID/. This command finds all of them
and names each run PIPELINE/EXECUTION_ID in a `--logdir_spec`, so runs of different models and
datasets appear side by side.
"""

import argparse
import dataclasses
import glob
import os
import shlex
import signal
import subprocess
import sys
from typing import List

from pipeline.commands import common_args

DEFAULT_OUTPUT_DIR = 'tenrec-output'
DEFAULT_PORT = 6006
HOST = '127.0.0.1'


@dataclasses.dataclass(frozen=True)
class TrainingRun:
  """One Trainer execution's log folder and its name in TensorBoard."""

  name: str
  path: str


def add_parser(subparsers) -> None:
  parser = subparsers.add_parser(
      'tensorboard', help='Start TensorBoard on the training logs of every run.',
      description='Find the Trainer logs of every pipeline run under OUTPUT_DIR and start '
      'TensorBoard on 127.0.0.1 with one named run per Trainer execution, or print the '
      'command.',
      formatter_class=common_args.HelpFormatter)
  parser.add_argument('--output-dir', default=DEFAULT_OUTPUT_DIR,
                      help='Output folder of `tenrec run`.')
  parser.add_argument('--print-only', action='store_true',
                      help='Print the tensorboard command instead of starting it.')
  parser.add_argument('--port', type=int, default=DEFAULT_PORT,
                      help='TensorBoard port on 127.0.0.1 (0 picks a free one).')
  parser.set_defaults(run=run)


def find_training_runs(output_dir: str) -> List[TrainingRun]:
  """Returns the Trainer log folders under `output_dir`, sorted by pipeline and execution."""
  pattern = os.path.join(output_dir, 'pipelines', '*', 'Trainer*', 'model_run', '*')
  runs = []
  for path in sorted(glob.glob(pattern)):
    if not os.path.isdir(path):
      continue
    parts = os.path.normpath(path).split(os.sep)
    pipeline_name, component, execution = parts[-4], parts[-3], parts[-1]
    suffix = '' if component == 'Trainer' else f'/{component}'
    runs.append(TrainingRun(name=f'{pipeline_name}{suffix}/{execution}', path=path))
  return sorted(runs, key=lambda r: (r.name.rsplit('/', 1)[0], _execution_number(r.name)))


def _execution_number(name: str) -> int:
  last = name.rsplit('/', 1)[-1]
  return int(last) if last.isdigit() else -1


def logdir_spec(runs: List[TrainingRun]) -> str:
  """Builds TensorBoard's `--logdir_spec` value, NAME:PATH pairs separated by commas.

  Raises:
    ValueError: No run, or a name or path contains a comma or a name a colon (the separators).
  """
  if not runs:
    raise ValueError('no training run to show.')
  items = []
  for run in runs:
    if ',' in run.name or ':' in run.name or ',' in run.path:
      raise ValueError(f'run {run.name!r} at {run.path} contains "," or ":", which '
                       '--logdir_spec cannot express; rename the folder.')
    items.append(f'{run.name}:{os.path.abspath(run.path)}')
  return ','.join(items)


def tensorboard_command(spec: str, port: int) -> List[str]:
  return [sys.executable, '-m', 'tensorboard.main', f'--logdir_spec={spec}', f'--host={HOST}',
          f'--port={port}']


def run(args: argparse.Namespace) -> int:
  runs = find_training_runs(args.output_dir)
  if not runs:
    print(f'error: no Trainer logs under {args.output_dir}/pipelines/*/Trainer/model_run/; run '
          '`tenrec run` first or pass --output-dir.', file=sys.stderr)
    return 2
  try:
    spec = logdir_spec(runs)
  except ValueError as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  command = tensorboard_command(spec, args.port)

  print(f'{len(runs)} training runs:')
  for training_run in runs:
    print(f'  {training_run.name}: {training_run.path}')
  if args.print_only:
    print(shlex.join(command))
    return 0

  print(f'Starting TensorBoard on http://{HOST}:{args.port}/ (Ctrl-C stops it).')
  process = subprocess.Popen(command)  # pylint: disable=consider-using-with
  # SIGTERM to this command must stop TensorBoard too, not leave it running without a parent.
  previous = signal.signal(signal.SIGTERM, lambda *_: _raise_interrupt())
  try:
    return process.wait()
  except KeyboardInterrupt:
    process.terminate()
    try:
      process.wait(timeout=10)
    except subprocess.TimeoutExpired:
      process.kill()
      process.wait()
    return 0
  finally:
    signal.signal(signal.SIGTERM, previous)


def _raise_interrupt():
  raise KeyboardInterrupt

