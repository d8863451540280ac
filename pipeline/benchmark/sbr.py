"""`tenrec benchmark --task sbr`: the sequential recommenders over several seeds.

Every (model, seed) run is either

* a run of the TFX pipeline of `tenrec run --task sbr` (the default). TenrecExampleGen,
  StatisticsGen, SchemaGen and ExampleValidator are cached between the seeds of a model. The
  Trainer selects the epoch on validation, and the test metrics come from the
  RankingEvaluator on the exported SavedModel. Or
* a direct call of `models.trainers.sbr.train_and_evaluate` on one dataset build shared by
  every run (`--no-through-pipeline`), which skips the TFX overhead.

Both rank every test user's target among all V items (pessimistic ties, mean over users), and
both report the same popularity baseline (training-split click counts). The report states
which mode produced it. Per run, `runs/<model>/seed-<seed>/run.json` records the metrics,
timings and outputs. With `--resume` (the default) a later invocation reuses the runs whose
settings are identical. An interrupted benchmark therefore continues where it stopped.
"""

import argparse
import dataclasses
import hashlib
import json
import logging
import os
import shlex
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence

from pipeline.benchmark import common
from pipeline.commands import common_args

TASKS = ('sbr',)
RUN_FILE = 'run.json'
DEFAULT_DATASET_SEED = 100
CURVES_FILE = 'validation_curves.png'

PAPER_SOURCE = ('Yuan et al., "Tenrec: A Large-scale Multipurpose Benchmark Dataset for '
                'Recommender Systems", NeurIPS 2022 Datasets and Benchmarks, Table 3')
PAPER_NOTE = (
    'The "Tenrec paper" columns are published numbers, not results of this benchmark: HR@20 '
    f'and NDCG@20 from {PAPER_SOURCE}, measured on the real QK-video-1M data with the '
    'reference protocol (validation on the first 1% of users by id, scores read at an '
    'appended padding slot or averaged over positions, padding index ranked, ties broken by '
    'argsort, mean of batch means). They describe another dataset and protocol, so they are '
    'not comparable with the other columns.')

MODE_PIPELINE = ('through the TFX pipeline (`tenrec run --task sbr` machinery: TenrecExampleGen, '
                 'StatisticsGen, SchemaGen, ExampleValidator, Trainer, RankingEvaluator, '
                 'Pusher); test metrics from the RankingEvaluator on the exported SavedModel')
MODE_DIRECT = ('direct trainer (`models.trainers.sbr.train_and_evaluate` on one dataset build '
               'shared by all runs; no TFX components)')


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds the sequential-recommendation options of the benchmark."""
  common_args.add_sbr_arguments(parser)
  group = parser.add_argument_group('sequential benchmark (--task sbr)')
  group.add_argument('--dataset-seed', type=int, default=DEFAULT_DATASET_SEED,
                     help='Seed of the dataset build (validation-user sample), the same for '
                     'every training seed so that only training varies between seeds.')
  group.add_argument('--examples', default=None,
                     help='With --no-through-pipeline: an SBR dataset built earlier by '
                     '`tenrec build --task sbr` (Split-*/ and item_vocabulary.txt) to use '
                     'instead of building one from --data-dir.')
  group.add_argument('--early-stopping-patience', type=int, default=None,
                     help='Stop a run after this many epochs without validation improvement '
                     '(default: train every epoch).')
  group.add_argument('--eval-batch-size', type=int, default=None,
                     help='Users per evaluation batch (default: sized from the catalogue so '
                     'that one score matrix has at most 2^25 values).')
  group.add_argument('--export', action=argparse.BooleanOptionalAction, default=False,
                     help='With --no-through-pipeline: also write each run\'s SavedModel (the '
                     'pipeline always exports, because its RankingEvaluator ranks with the '
                     'export).')


# ----- settings -----


@dataclasses.dataclass
class _Settings:
  """The resolved settings of one benchmark invocation."""

  models: List[str]
  seeds: List[int]
  overrides: Dict[str, Dict[str, Any]]
  hparams: Dict[str, Dict[str, Any]]
  trainer_options: Dict[str, Any]
  output_dir: str


def _trainer_options(args: argparse.Namespace) -> Dict[str, Any]:
  """SBRTrainingConfig fields of every run besides model, output_dir, hparams and seed."""
  options = common_args.sbr_trainer_options(args)
  if args.early_stopping_patience is not None:
    options['early_stopping_patience'] = args.early_stopping_patience
  if args.eval_batch_size is not None:
    options['eval_batch_size'] = args.eval_batch_size
  return options


def _resolve_settings(args: argparse.Namespace) -> _Settings:
  """Parses and validates every option before the first run starts.

  Raises:
    common.OptionError: An option is invalid (unknown model or hyper-parameter, bad seed
      list, invalid trainer option, ...).
  """
  try:
    return _parse_settings(args)
  except common.OptionError:
    raise
  except ValueError as error:
    raise common.OptionError(str(error)) from error


def _parse_settings(args: argparse.Namespace) -> _Settings:
  from models import registry  # pylint: disable=import-outside-toplevel
  from models.trainers import sbr  # pylint: disable=import-outside-toplevel

  if args.examples and args.through_pipeline:
    raise common.OptionError('--examples needs --no-through-pipeline: the pipeline builds its '
                             'dataset from --data-dir (or the generated data).')

  models = common.parse_models(args, registry.list_models('sbr'))
  seeds = common.parse_seeds(args)
  per_model = common.parse_model_hparams(args.model_hparam, models)
  overrides = {model: common.model_overrides(args, model, per_model) for model in models}
  hparams = {model: registry.get_model('sbr', model).resolve_hparams(overrides[model])
             for model in models}

  trainer_options = _trainer_options(args)
  fields = {field.name for field in dataclasses.fields(sbr.SBRTrainingConfig)}
  unknown = sorted(set(trainer_options) - fields)
  if unknown:
    raise common.OptionError(f'Unknown SBR trainer option(s) {", ".join(unknown)}; known: '
                             f'{", ".join(sorted(fields))}.')
  for model in models:
    sbr.SBRTrainingConfig(model=model, output_dir=args.output_dir, hparams=hparams[model],
                          **trainer_options).validate()

  return _Settings(models=models, seeds=seeds, overrides=overrides, hparams=hparams,
                   trainer_options=trainer_options,
                   output_dir=os.path.abspath(args.output_dir))


def _fingerprint(payload: Mapping[str, Any]) -> str:
  text = json.dumps(payload, sort_keys=True, default=str)
  return hashlib.sha256(text.encode()).hexdigest()[:16]


def _hparam_words(overrides: Mapping[str, Any]) -> List[str]:
  words = []
  for key, value in overrides.items():
    words.extend(['--hparam', f'{key}={json.dumps(value)}'])
  return words


def _parameter_count(run_dir: str) -> Optional[int]:
  """Returns the number of weights of the model saved in a trainer output folder."""
  from models.trainers import sbr  # pylint: disable=import-outside-toplevel

  try:
    return int(sbr.load_trained_model(run_dir).count_params())
  except (OSError, ValueError, KeyError) as error:
    logging.warning('Could not count the parameters of the model in %s: %s', run_dir, error)
    return None


def _validation_record(metrics: Mapping[str, Any], selection_metric: str) -> Dict[str, Any]:
  """Selection and per-epoch curve of a trainer's metrics.json content."""
  history = metrics.get('history') or []
  selection = metrics.get('selection') or {}
  return {
      'metric': selection.get('metric', selection_metric),
      'best_value': selection.get('best_value'),
      'best_epoch': selection.get('best_epoch'),
      'epochs_run': selection.get('epochs_run', len(history)),
      'users': (metrics.get('data') or {}).get('validation_users'),
      'metrics': metrics.get('validation'),
      'curve': [epoch['validation'].get(selection_metric) for epoch in history],
  }


def _epoch_timings(metrics: Mapping[str, Any]) -> List[Dict[str, Any]]:
  return [{'epoch': epoch['epoch'], 'loss': epoch.get('loss'),
           'train_seconds': epoch.get('train_seconds'),
           'validation_seconds': epoch.get('validation_seconds')}
          for epoch in metrics.get('history') or []]


# ----- direct trainer mode -----


class _DirectRunner:
  """Builds (or opens) one SBR dataset and trains every run on it in this process."""

  mode = MODE_DIRECT

  def __init__(self, args: argparse.Namespace, settings: _Settings):
    from components.evaluation import executor  # pylint: disable=import-outside-toplevel
    from models.metrics import ranking  # pylint: disable=import-outside-toplevel
    from models.trainers import sbr_data  # pylint: disable=import-outside-toplevel

    self.args = args
    self.settings = settings
    if args.examples:
      self.examples_dir = os.path.abspath(args.examples)
      report = _read_json(os.path.join(self.examples_dir, 'build_report.json')) or {}
      self.dataset_description = dict(report.get('dataset') or {
          'kind': 'unknown', 'name': os.path.basename(self.examples_dir),
          'note': 'Dataset given with --examples without a build report.'})
      self.data_identity = {'examples': self.examples_dir,
                            'built_at': report.get('started_at'),
                            'builder_options': report.get('options')}
    else:
      self.examples_dir, self.dataset_description, self.data_identity = self._build(args)

    self.dataset = sbr_data.load_sbr_dataset(self.examples_dir)
    ks = sorted(set(settings.trainer_options['ks']))
    popularity_ranks = executor.fixed_score_ranks(
        executor.popularity_scores(self.dataset.train, self.dataset.num_items),
        self.dataset.test.targets)
    self.popularity = ranking.summarize_ranks(popularity_ranks, ks)

  def _build(self, args: argparse.Namespace):
    """Builds the SBR dataset once per builder options and raw files, or reuses the build."""
    from components.builders import registry as builder_registry  # pylint: disable=import-outside-toplevel
    from components.builders import runner  # pylint: disable=import-outside-toplevel
    from components.example_gen import component  # pylint: disable=import-outside-toplevel

    dataset = common_args.resolve_dataset(args)
    builder = builder_registry.create_builder('sbr', _builder_options(args))
    paths = common_args.input_paths(dataset, builder)
    identity = {'builder_options': builder.options_dict(),
                'input_fingerprint': component.fingerprint_inputs(paths)}
    examples_dir = os.path.join(self.settings.output_dir, 'datasets',
                                f'sbr-{_fingerprint(identity)}')

    if os.path.exists(os.path.join(examples_dir, 'build_report.json')):
      logging.info('Reusing the SBR dataset built earlier in %s.', examples_dir)
    else:
      logging.info('Building the SBR dataset from %s data in %s into %s.', dataset.kind,
                   dataset.data_dir, examples_dir)
      runner.run_builder(
          builder, paths, examples_dir,
          pipeline_factory=runner.make_pipeline_factory(common_args.beam_pipeline_args(args)),
          on_invalid=args.on_invalid_row, extra_report={'dataset': dataset.description},
          overwrite=True)
    return examples_dir, dataset.description, identity

  def fingerprint(self, model: str, seed: int) -> str:
    return _fingerprint({'mode': 'direct', 'model': model, 'seed': seed,
                         'hparams': self.settings.hparams[model],
                         'trainer_options': self.settings.trainer_options,
                         'export': self.args.export, 'data': self.data_identity})

  def command(self, model: str, seed: int, run_dir: str) -> str:
    options = self.settings.trainer_options
    words = ['python', '-m', 'models.trainers.sbr', '--examples', self.examples_dir,
             '--model', model, '--output-dir', run_dir, '--seed', str(seed)]
    words += _hparam_words(self.settings.overrides[model])
    words += ['--readout', options['readout'], '--train-windows', options['train_windows'],
              '--selection-metric', options['selection_metric'], '--ks']
    words += [str(k) for k in options['ks']]
    if 'early_stopping_patience' in options:
      words += ['--early-stopping-patience', str(options['early_stopping_patience'])]
    if 'eval_batch_size' in options:
      words += ['--eval-batch-size', str(options['eval_batch_size'])]
    words.append('--export' if self.args.export else '--no-export')
    return shlex.join(words)

  def run(self, model: str, seed: int, run_dir: str) -> Dict[str, Any]:
    import tf_keras  # pylint: disable=import-outside-toplevel
    from models.trainers import sbr  # pylint: disable=import-outside-toplevel

    tf_keras.backend.clear_session()
    config = sbr.SBRTrainingConfig(model=model, output_dir=run_dir,
                                   hparams=self.settings.overrides[model], seed=seed,
                                   export_model=self.args.export,
                                   **self.settings.trainer_options)
    started = time.perf_counter()
    metrics = sbr.train_and_evaluate(self.dataset, config)
    wall_seconds = time.perf_counter() - started

    timing = dict(metrics['timing'])
    return {
        'test': metrics['test'],
        'trainer_test': metrics['test'],
        'popularity_baseline': self.popularity,
        'validation': _validation_record(metrics, config.selection_metric),
        'timing': {
            'train_seconds_per_epoch': timing.get('train_seconds_per_epoch'),
            'validation_seconds_per_epoch': timing.get('validation_seconds_per_epoch'),
            'test_seconds': timing.get('test_seconds'),
            'ranking_evaluator_seconds': None,
            'wall_seconds': wall_seconds,
            'epochs': _epoch_timings(metrics),
        },
        'data': metrics.get('data'),
        'protocol': metrics.get('protocol'),
        'outputs': {'run_dir': run_dir, 'metrics': os.path.join(run_dir, sbr.METRICS_FILE),
                    'tensorboard': metrics['artifacts']['tensorboard']},
        'trainer_output_dir': run_dir,
    }


# ----- pipeline mode -----


class _PipelineRunner:
  """Runs `tenrec run --task sbr` once per (model, seed) with a shared output folder."""

  mode = MODE_PIPELINE

  def __init__(self, args: argparse.Namespace, settings: _Settings):
    from components.builders import registry as builder_registry  # pylint: disable=import-outside-toplevel
    from components.example_gen import component  # pylint: disable=import-outside-toplevel

    self.args = args
    self.settings = settings
    self.pipeline_dir = os.path.join(settings.output_dir, 'pipeline')
    dataset = common_args.resolve_dataset(args)
    builder = builder_registry.create_builder('sbr', _builder_options(args))
    self.dataset_description = dataset.description
    self.data_dir = dataset.data_dir
    self.data_identity = {
        'builder_options': builder.options_dict(),
        'input_fingerprint': component.fingerprint_inputs(
            common_args.input_paths(dataset, builder))}

  def fingerprint(self, model: str, seed: int) -> str:
    return _fingerprint({'mode': 'pipeline', 'model': model, 'seed': seed,
                         'hparams': self.settings.hparams[model],
                         'trainer_options': self.settings.trainer_options,
                         'data': self.data_identity})

  def run_words(self, model: str, seed: int) -> List[str]:
    """Arguments of the equivalent `tenrec run` command (without the program name)."""
    args = self.args
    options = self.settings.trainer_options
    words = ['run', '--task', 'sbr', '--model', model, '--seed', str(seed),
             '--dataset-seed', str(args.dataset_seed), '--output-dir', self.pipeline_dir,
             '--model-name', f'sbr_{model}_seed{seed}', '--data-dir', self.data_dir,
             '--on-invalid-row', args.on_invalid_row,
             '--min-user-clicks', str(args.min_user_clicks),
             '--validation-users', args.validation_users,
             '--validation-fraction', str(args.validation_fraction),
             '--readout', options['readout'], '--train-windows', options['train_windows'],
             '--ks', ','.join(str(k) for k in options['ks']),
             '--selection-metric', options['selection_metric'],
             '--beam-workers', str(args.beam_workers)]
    for item in args.builder_option or []:
      words += ['--builder-option', item]
    for item in args.beam_arg or []:
      words += [f'--beam-arg={item}']
    for key in ('early_stopping_patience', 'eval_batch_size'):
      if key in options:
        words += ['--trainer-option', f'{key}={json.dumps(options[key])}']
    words += _hparam_words(self.settings.overrides[model])
    return words

  def command(self, model: str, seed: int, run_dir: str) -> str:
    del run_dir  # The pipeline writes under its own root.
    return shlex.join(['tenrec'] + self.run_words(model, seed))

  def run(self, model: str, seed: int, run_dir: str) -> Dict[str, Any]:
    del run_dir
    import tf_keras  # pylint: disable=import-outside-toplevel
    from models import registry  # pylint: disable=import-outside-toplevel
    from models.trainers import common as trainer_common  # pylint: disable=import-outside-toplevel
    from models.trainers import sbr  # pylint: disable=import-outside-toplevel
    from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
    from pipeline.commands import run as run_command  # pylint: disable=import-outside-toplevel

    tf_keras.backend.clear_session()
    parser = argparse.ArgumentParser(prog='tenrec')
    run_command.add_parser(parser.add_subparsers())
    run_args = parser.parse_args(self.run_words(model, seed))
    started = time.perf_counter()
    result = run_command.run_pipeline(run_args, registry.get_model('sbr', model))
    wall_seconds = time.perf_counter() - started

    model_run_dir = result.get('tensorboard_logdir')
    metrics = trainer_common.read_json(os.path.join(model_run_dir, sbr.METRICS_FILE))
    timing = dict(metrics.get('timing') or {})
    components = result['timings']['components']
    evaluator = components.get(pipeline_lib.RANKING_EVALUATOR, {})
    return {
        'test': result['metrics']['test'],
        'trainer_test': metrics.get('test'),
        'popularity_baseline': result['metrics']['test_popularity_baseline'],
        'validation': _validation_record(metrics, self.settings.trainer_options[
            'selection_metric']),
        'timing': {
            'train_seconds_per_epoch': timing.get('train_seconds_per_epoch'),
            'validation_seconds_per_epoch': timing.get('validation_seconds_per_epoch'),
            'test_seconds': evaluator.get('seconds'),
            'ranking_evaluator_seconds': evaluator.get('seconds'),
            'wall_seconds': wall_seconds,
            'components': components,
            'epochs': _epoch_timings(metrics),
        },
        'data': metrics.get('data'),
        'protocol': result.get('protocol'),
        'blessed': result.get('blessed'),
        'pushed_model': result.get('pushed_model'),
        'outputs': {'results': result.get('results_path'), 'model_run': model_run_dir,
                    'metrics': os.path.join(model_run_dir, sbr.METRICS_FILE),
                    'tensorboard': model_run_dir},
        'trainer_output_dir': model_run_dir,
    }


def _builder_options(args: argparse.Namespace) -> Dict[str, Any]:
  """SBR builder options; the dataset seed is fixed across training seeds."""
  namespace = argparse.Namespace(**vars(args))
  namespace.seed = args.dataset_seed
  return common_args.sbr_builder_options(namespace)


def _read_json(path: str) -> Optional[Dict[str, Any]]:
  if not os.path.exists(path):
    return None
  with open(path, encoding='utf-8') as handle:
    return json.load(handle)


# ----- one run -----


def _run_one(runner, settings: _Settings, model: str, seed: int, resume: bool) -> Dict[str, Any]:
  """Runs (or, with `resume`, reuses) one (model, seed) run and returns its record."""
  from models import registry  # pylint: disable=import-outside-toplevel

  run_dir = os.path.join(settings.output_dir, 'runs', model, f'seed-{seed}')
  record_path = os.path.join(run_dir, RUN_FILE)
  fingerprint = runner.fingerprint(model, seed)

  previous = _read_json(record_path) if resume else None
  if previous and previous.get('fingerprint') == fingerprint:
    logging.info('Reusing the finished run %s seed %d from %s.', model, seed, record_path)
    return previous
  if previous:
    logging.info('Settings of %s seed %d changed since %s; training again.', model, seed,
                 record_path)

  spec = registry.get_model('sbr', model)
  logging.info('Benchmark run: %s, seed %d.', spec.display_name, seed)
  started_at = common.utc_now()
  outcome = runner.run(model, seed, run_dir)
  record = {
      'model': model,
      'display_name': spec.display_name,
      'seed': seed,
      'fingerprint': fingerprint,
      'mode': runner.mode,
      'command': runner.command(model, seed, run_dir),
      'hparams': settings.hparams[model],
      'hparam_overrides': settings.overrides[model],
      'trainer_options': settings.trainer_options,
      'parameters': _parameter_count(outcome.pop('trainer_output_dir')),
      'paper_metrics': dict(spec.paper_metrics),
      'started_at': started_at,
      'finished_at': common.utc_now(),
  }
  record.update(outcome)
  common.write_json(record_path, record)
  return record


# ----- tables -----


def _metric_names(ks: Sequence[int]) -> List[str]:
  return [f'{kind}@{k}' for k in sorted(set(ks)) for kind in ('HR', 'NDCG')]


def _seed_text(records: Sequence[Mapping[str, Any]]) -> str:
  seeds = [str(record['seed']) for record in records]
  return f'{len(seeds)} ({", ".join(seeds)})'


def results_table(records_by_model: Mapping[str, Sequence[Mapping[str, Any]]],
                  ks: Sequence[int], selection_metric: str) -> common.Table:
  """Tabulates test metrics (mean ± std over seeds), selection, parameters and the paper's numbers."""
  metrics = _metric_names(ks)
  columns = [common.Column('model', 'Model'), common.Column('seeds', 'Seeds (n)')]
  columns += [common.Column(name, name, 'mean_std') for name in metrics]
  columns += [
      common.Column('best_epoch', 'Best epoch', 'mean_std', 1),
      common.Column('epochs_run', 'Epochs run', 'mean_std', 1),
      common.Column('parameters', 'Parameters', 'int'),
      common.Column('paper_hr20', 'Tenrec paper HR@20 (QK-video-1M)', 'number', 5),
      common.Column('paper_ndcg20', 'Tenrec paper NDCG@20 (QK-video-1M)', 'number', 4),
  ]
  table = common.Table(
      name='results', title='Test metrics: full ranking over all items, mean ± std over seeds',
      columns=columns)

  popularity = None
  for records in records_by_model.values():
    if not records:
      continue
    row = {'model': records[0]['display_name'], 'seeds': _seed_text(records)}
    for name in metrics:
      row[name] = common.aggregate([record['test'].get(name) for record in records])
    row['best_epoch'] = common.aggregate([r['validation']['best_epoch'] for r in records])
    row['epochs_run'] = common.aggregate([r['validation']['epochs_run'] for r in records])
    row['parameters'] = records[0].get('parameters')
    paper = records[0].get('paper_metrics') or {}
    row['paper_hr20'] = paper.get('HR@20')
    row['paper_ndcg20'] = paper.get('NDCG@20')
    table.add_row(row)
    popularity = popularity or records[0].get('popularity_baseline')

  if popularity:
    row = {'model': 'Popularity (training-split click counts)', 'seeds': 'deterministic'}
    for name in metrics:
      row[name] = common.aggregate([popularity.get(name)])
    table.add_row(row)

  table.notes.extend([
      'Every target is ranked among all V items (padding excluded) with pessimistic ties; '
      'HR@k and NDCG@k are means over test users. ' + common.SEED_SPREAD_NOTE,
      f'The epoch of each run is the one with the best validation {selection_metric}; '
      '"Epochs run" is below the epoch cap when early stopping ended a run.',
      PAPER_NOTE,
  ])
  return table


def cost_table(records_by_model: Mapping[str, Sequence[Mapping[str, Any]]]) -> common.Table:
  """Training time per epoch against evaluation time, per model."""
  table = common.Table(
      name='cost', title='Training and evaluation time (seconds, mean ± std over seeds)',
      columns=[
          common.Column('model', 'Model'),
          common.Column('train', 'Training s/epoch', 'mean_std', 1),
          common.Column('validation', 'Validation ranking s/epoch', 'mean_std', 1),
          common.Column('ratio', 'Validation / training epoch', 'mean_std', 2),
          common.Column('validation_users', 'Validation users', 'int'),
          common.Column('test', 'Test ranking s', 'mean_std', 1),
          common.Column('wall', 'Wall s per run', 'mean_std', 0),
      ])
  for records in records_by_model.values():
    if not records:
      continue
    timings = [record['timing'] for record in records]
    ratios = [t['validation_seconds_per_epoch'] / t['train_seconds_per_epoch']
              for t in timings
              if t.get('validation_seconds_per_epoch') and t.get('train_seconds_per_epoch')]
    table.add_row({
        'model': records[0]['display_name'],
        'train': common.aggregate([t.get('train_seconds_per_epoch') for t in timings]),
        'validation': common.aggregate([t.get('validation_seconds_per_epoch') for t in timings]),
        'ratio': common.aggregate(ratios),
        'validation_users': records[0]['validation'].get('users'),
        'test': common.aggregate([t.get('test_seconds') for t in timings]),
        'wall': common.aggregate([t.get('wall_seconds') for t in timings]),
    })
  table.notes.append(
      'Training s/epoch is one pass over the training windows with back-propagation; '
      'validation ranking s/epoch ranks every validation user against all items after each '
      'epoch. Test ranking s is the trainer\'s test evaluation in direct mode and the '
      'RankingEvaluator component (loading the SavedModel, parsing the examples, ranking, '
      'popularity baseline) in pipeline mode. Wall-clock times depend on the machine and on '
      'other jobs running on it.')
  return table


def hparams_table(settings: _Settings, display_names: Mapping[str, str]) -> common.Table:
  """Tabulates every model's hyper-parameters and how they differ from the registered defaults."""
  table = common.Table(
      name='hparams', title='Hyper-parameters',
      columns=[common.Column('model', 'Model'),
               common.Column('overrides', 'Changed from the paper defaults'),
               common.Column('resolved', 'All hyper-parameters')])
  for model in settings.models:
    overrides = settings.overrides[model]
    table.add_row({
        'model': display_names.get(model, model),
        'overrides': ', '.join(f'{k}={json.dumps(v)}' for k, v in overrides.items()) or 'none',
        'resolved': ', '.join(f'{k}={json.dumps(v)}'
                              for k, v in sorted(settings.hparams[model].items())),
    })
  options = settings.trainer_options
  table.notes.append(
      'Trainer options of every run: ' +
      ', '.join(f'{k}={json.dumps(v)}' for k, v in sorted(options.items())) + '.')
  return table


def _curves(records_by_model) -> Dict[str, Dict[int, List[float]]]:
  """Returns {model display name: {seed: validation selection metric per epoch}}."""
  curves: Dict[str, Dict[int, List[float]]] = {}
  for records in records_by_model.values():
    for record in records:
      values = [v for v in record['validation'].get('curve') or [] if v is not None]
      curves.setdefault(record['display_name'], {})[record['seed']] = values
  return curves


def _refresh_report(report: common.BenchmarkReport, settings: _Settings,
                    records_by_model: Mapping[str, List[Dict[str, Any]]]) -> None:
  """Rebuilds the tables and the plot from the finished runs and writes every file."""
  from models import registry  # pylint: disable=import-outside-toplevel

  options = settings.trainer_options
  display_names = {model: registry.get_model('sbr', model).display_name
                   for model in settings.models}
  report.tables = [
      results_table(records_by_model, options['ks'], options['selection_metric']),
      cost_table(records_by_model),
      hparams_table(settings, display_names),
  ]
  report.runs = [record for records in records_by_model.values() for record in records]
  plot = common.plot_curves(
      _curves(records_by_model),
      os.path.join(settings.output_dir, CURVES_FILE),
      title=f'Validation {options["selection_metric"]} per epoch '
            f'({report.dataset.get("name", "data")})',
      ylabel=f'validation {options["selection_metric"]} (full ranking)')
  if plot:
    report.plots = {f'Validation {options["selection_metric"]} per epoch': CURVES_FILE}
  common.write_report(settings.output_dir, report)


# ----- entry point -----


def run(args: argparse.Namespace, command: str) -> common.BenchmarkReport:
  """Runs every (model, seed) and writes the report; returns it.

  The report is rewritten after every run, so a long benchmark can be inspected while it runs
  (its `status` is 'partial' until the last run finished).
  """
  settings = _resolve_settings(args)
  os.makedirs(settings.output_dir, exist_ok=True)
  runner = _PipelineRunner(args, settings) if args.through_pipeline else _DirectRunner(
      args, settings)

  options = {key: value for key, value in vars(args).items() if key not in ('run',)}
  report = common.BenchmarkReport(
      title='Sequential recommendation benchmark', task='sbr', command=command,
      options=options, environment=common.environment(),
      dataset=dict(runner.dataset_description), mode=runner.mode,
      started_at=common.utc_now())
  report.notes.append(
      f'Models: {", ".join(settings.models)}; training seeds: '
      f'{", ".join(str(s) for s in settings.seeds)}; dataset seed: {args.dataset_seed}.')

  records_by_model: Dict[str, List[Dict[str, Any]]] = {model: [] for model in settings.models}
  for model in settings.models:
    for seed in settings.seeds:
      records_by_model[model].append(_run_one(runner, settings, model, seed, args.resume))
      _refresh_report(report, settings, records_by_model)

  report.finished_at = common.utc_now()
  _refresh_report(report, settings, records_by_model)
  return report
