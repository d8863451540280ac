"""Argument groups and their interpretation, shared by `run`, `build` and `benchmark`."""

import argparse
import json
from typing import Any, Callable, Dict, List

DEFAULT_DATA_SEED = 0
DEFAULT_TRAINING_SEED = 100


class UsageError(ValueError):
  """An invalid command-line argument, found before any work starts.

  `pipeline.cli` prints it as one line, `tenrec COMMAND: error: MESSAGE`, and exits with
  status 2, as argparse does for its own argument errors.
  """


class HelpFormatter(argparse.HelpFormatter):
  """Appends '(default: X)' to an option's help unless that would add noise or contradict it.

  Nothing is appended when the default is None or SUPPRESS, the option is required or a flag
  without a value (store_true), or the help text already mentions a default.
  """

  def _get_help_string(self, action: argparse.Action) -> str:
    text = action.help or ''
    if (not action.option_strings or action.required or action.nargs == 0 or
        action.default is None or action.default is argparse.SUPPRESS or
        'default' in text.lower()):
      return text
    return text + ' (default: %(default)s)'


class RawDescriptionHelpFormatter(argparse.RawDescriptionHelpFormatter, HelpFormatter):
  """HelpFormatter that keeps the line breaks of the description and epilog."""


def at_least(minimum: int) -> Callable[[str], int]:
  """Returns an argparse `type` that parses an integer and rejects values below `minimum`."""

  def parse(text: str) -> int:
    try:
      value = int(text)
    except ValueError:
      raise argparse.ArgumentTypeError(f'expected an integer, got {text!r}') from None
    if value < minimum:
      raise argparse.ArgumentTypeError(f'must be at least {minimum}, got {value}')
    return value

  parse.__name__ = f'integer >= {minimum}'
  return parse


def add_data_arguments(parser: argparse.ArgumentParser) -> None:
  group = parser.add_argument_group('data')
  group.add_argument('--data-dir', default=None,
                     help='Folder with Tenrec-schema raw CSV files (real Tenrec files, '
                     '`tenrec import` output or `tenrec generate` output). Default: the '
                     'embedded generated data, created on first use in the cache folder.')
  group.add_argument('--scale', type=float, default=None,
                     help='Scale of the embedded generated data as a fraction of the real '
                     'QK-video user count (default: the generator default, about 5,000 users).')
  group.add_argument('--data-seed', type=int, default=DEFAULT_DATA_SEED,
                     help='Seed of the embedded generated data.')
  group.add_argument('--cache-dir', default=None,
                     help='Folder for generated data (default: $TENREC_CACHE_DIR or '
                     '~/.cache/tenrec-tfx).')
  group.add_argument('--on-invalid-row', choices=('raise', 'reject'), default='raise',
                     help='Stop at the first invalid input row, or skip invalid rows and '
                     'count them in the build report.')


def add_ctr_builder_arguments(parser: argparse.ArgumentParser) -> None:
  from components.builders import ctr_options as ctr  # pylint: disable=import-outside-toplevel

  group = parser.add_argument_group('CTR / multi-task dataset')
  group.add_argument('--history-mode', choices=ctr.HISTORY_MODES, default='before_row',
                     help="User history feature: the last clicks before each exposure, or the "
                     "reference implementation's static first clicks.")
  group.add_argument('--negatives-per-positive', type=float, default=2.0,
                     help='Negatives kept per positive.')
  group.add_argument('--negative-sampling', choices=ctr.NEGATIVE_SAMPLING_MODES,
                     default='per_user',
                     help='Sample negatives within each user, or uniformly over the whole file '
                     '(the reference).')
  group.add_argument('--split-mode', choices=ctr.SPLIT_MODES, default='random',
                     help='Row split with duplicates kept together, split by user, or per-user '
                     'time order.')
  group.add_argument('--split-ratios', default='0.8,0.1,0.1',
                     help='Train, eval and test fractions, comma-separated.')
  group.add_argument('--max-users', type=int, default=None,
                     help='Keep at most this many users (default: all).')
  group.add_argument('--user-selection', choices=ctr.USER_SELECTION_MODES, default='random',
                     help='How --max-users chooses users.')
  group.add_argument('--dataset-seed', type=int, default=None,
                     help='Seed of negative sampling and the split (default: --seed).')


def add_sbr_arguments(parser: argparse.ArgumentParser) -> None:
  group = parser.add_argument_group('sequential recommendation (--task sbr)')
  group.add_argument('--min-user-clicks', type=int, default=10,
                     help='Keep users with at least this many clicks after the item filter.')
  group.add_argument('--validation-users', choices=('random', 'reference_first', 'all'),
                     default='random',
                     help='Users with a validation example: a seeded sample, the lowest ids '
                     '(the reference) or all.')
  group.add_argument('--validation-fraction', type=float, default=0.01,
                     help='Share of the users in the validation split (with a floor of 1,000 '
                     'users, or all users when fewer).')
  group.add_argument('--readout', choices=('last', 'reference_head', 'reference_paper_era'),
                     default='last',
                     help='Score read-out: the last real item (causal models) or a [MASK] slot '
                     '(BERT4Rec); the reference options reproduce its protocols.')
  group.add_argument('--train-windows', choices=('all', 'last'), default='all',
                     help='Train on every window of each sequence, or only the last one (the '
                     'reference).')
  group.add_argument('--ks', default='5,10,20', help='Cut-offs of HR@k and NDCG@k.')
  group.add_argument('--selection-metric', default='NDCG@10',
                     help='Validation metric that selects the epoch and gates the push.')
  group.add_argument('--builder-option', action='append', default=None, metavar='KEY=VALUE',
                     help='Any other SBR builder option (see `tenrec build --help`). '
                     'Repeatable.')
  group.add_argument('--trainer-option', action='append', default=None, metavar='KEY=VALUE',
                     help='Any other SBR trainer option (a field of '
                     'models.trainers.sbr.SBRTrainingConfig), for example '
                     'early_stopping_patience=10. Repeatable.')


def parse_key_values(items, flag: str) -> Dict[str, Any]:
  """Parses KEY=VALUE strings; VALUE is JSON when it parses, else a string."""
  values: Dict[str, Any] = {}
  for item in items or []:
    if '=' not in item:
      raise UsageError(f'{flag} needs KEY=VALUE, got {item!r}.')
    key, text = item.split('=', 1)
    try:
      values[key.strip()] = json.loads(text)
    except json.JSONDecodeError:
      values[key.strip()] = text
  return values


def sbr_builder_options(args: argparse.Namespace) -> Dict[str, Any]:
  """Returns SbrOptions values from the sequential arguments."""
  options = {
      'seed': args.dataset_seed if args.dataset_seed is not None else args.seed,
      'min_user_clicks': args.min_user_clicks,
      'validation_users': args.validation_users,
      'validation_fraction': args.validation_fraction,
  }
  options.update(parse_key_values(args.builder_option, '--builder-option'))
  return options


def sbr_trainer_options(args: argparse.Namespace) -> Dict[str, Any]:
  """Returns SBRTrainingConfig fields from the sequential arguments."""
  options = {
      'readout': args.readout,
      'train_windows': args.train_windows,
      'ks': [int(k) for k in args.ks.split(',')],
      'selection_metric': args.selection_metric,
  }
  options.update(parse_key_values(getattr(args, 'trainer_option', None), '--trainer-option'))
  return options


def add_training_arguments(parser: argparse.ArgumentParser) -> None:
  group = parser.add_argument_group('training')
  group.add_argument('--seed', type=int, default=DEFAULT_TRAINING_SEED,
                     help='Training seed (the Tenrec reference used 100 for CTR and multi-task).')
  group.add_argument('--epochs', type=int, default=None,
                     help="Training epochs (default: the model's, 20 as in the paper).")
  group.add_argument('--batch-size', type=int, default=None,
                     help="Examples per batch (default: the model's, 4096 as in the paper).")
  group.add_argument('--learning-rate', type=float, default=None,
                     help="Adam learning rate (default: the model's paper value).")
  group.add_argument('--hparam', action='append', default=None, metavar='KEY=VALUE',
                     help='Override a model hyper-parameter; VALUE is parsed as JSON when it '
                     'parses (for example --hparam dnn_hidden_units=[128,64]). Repeatable.')
  group.add_argument('--objectives', default=None,
                     help='Multi-task objectives, comma-separated (default: click,like).')
  group.add_argument('--min-frequency', type=int, default=1,
                     help='Ids seen fewer times in the training split map to the out-of-'
                     'vocabulary index.')


def add_beam_arguments(parser: argparse.ArgumentParser) -> None:
  group = parser.add_argument_group('Apache Beam')
  group.add_argument('--beam-workers', type=at_least(0), default=1,
                     help='Local Beam worker processes (1 = in-process, fastest on small '
                     'data; 0 = one per CPU core).')
  group.add_argument('--beam-arg', action='append', default=None, metavar='ARG',
                     help='Extra Beam pipeline argument, for example --beam-arg=--runner='
                     'DataflowRunner. Repeatable; a --runner here replaces the local runner.')


def hparam_overrides(args: argparse.Namespace) -> Dict[str, Any]:
  """Collects hyper-parameter overrides from --epochs, --batch-size, ... and --hparam."""
  overrides: Dict[str, Any] = {}
  for flag, key in (('epochs', 'epochs'), ('batch_size', 'batch_size'),
                    ('learning_rate', 'learning_rate')):
    value = getattr(args, flag, None)
    if value is not None:
      overrides[key] = value
  overrides.update(parse_key_values(getattr(args, 'hparam', None), '--hparam'))
  if getattr(args, 'objectives', None):
    overrides['objectives'] = [o.strip() for o in args.objectives.split(',') if o.strip()]
  return overrides


def ctr_builder_options(args: argparse.Namespace) -> Dict[str, Any]:
  """Returns CtrOptions values from the CTR dataset arguments."""
  ratios = [float(r) for r in args.split_ratios.split(',')]
  return {
      'seed': args.dataset_seed if args.dataset_seed is not None else args.seed,
      'history_mode': args.history_mode,
      'negatives_per_positive': args.negatives_per_positive,
      'negative_sampling': args.negative_sampling,
      'split_mode': args.split_mode,
      'split_ratios': ratios,
      'max_users': args.max_users,
      'user_selection': args.user_selection,
  }


def resolve_dataset(args: argparse.Namespace):
  """Returns the DatasetInfo of --data-dir, or of the embedded generated data."""
  from pipeline import datasets  # pylint: disable=import-outside-toplevel

  if args.data_dir:
    return datasets.describe(args.data_dir)
  from components import generator  # pylint: disable=import-outside-toplevel

  scale = args.scale if args.scale is not None else generator.DEFAULT_SCALE
  return datasets.ensure_generated(scale, args.data_seed, args.cache_dir)


def input_paths(dataset, builder) -> Dict[str, str]:
  """Finds the raw file of every builder input in the dataset folder."""
  from components.tenrec_io import reader  # pylint: disable=import-outside-toplevel

  return {i.name: reader.find_scenario_file(dataset.data_dir, i.scenario)
          for i in builder.inputs()}


def beam_pipeline_args(args: argparse.Namespace) -> List[str]:
  """Local runner arguments for --beam-workers, followed by every --beam-arg."""
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel

  extra = list(getattr(args, 'beam_arg', None) or [])
  if any(a.startswith('--runner') for a in extra):
    return extra
  return pipeline_lib.default_beam_pipeline_args(args.beam_workers) + extra
