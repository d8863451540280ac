"""`tenrec benchmark --task ctr|mtl`: the CTR and multi-task models over several seeds.

Every (model, seed) run goes through the TFX pipeline of `tenrec run --task ctr|mtl`: the data
components (TenrecExampleGen, StatisticsGen, SchemaGen, ExampleValidator, Transform) followed
by a Trainer and a TFMA Evaluator on the test split. All runs of one task and dataset share one
pipeline name and one ML Metadata store, in which each run has its own component ids
(`Trainer.deepfm.seed1`, `Evaluator.deepfm.seed1`), so:

* the data components run once and every later run reuses their outputs from the cache;
* a finished run is reused from the cache when the benchmark is started again with the same
  settings (`--resume`, the default), so an interrupted benchmark continues where it stopped
  and adding seeds or models trains only the new runs. `--no-resume` starts a pipeline with a
  new name, in which nothing is cached yet.

`--pipeline-layout` chooses how runs reach the orchestrator. `per-run` (default) runs one
pipeline per (model, seed): the shared data components, then that run's Trainer and
Evaluator. The report is rewritten after every run, and a failed run is recorded without
stopping the others. `single` builds one pipeline holding every Trainer and Evaluator and runs
it once; a failure stops it, and the report is written at the end. Both use the same component
ids, so their cached results are interchangeable.

Besides TFMA's metrics (AUC with 10,000 thresholds, log loss), each run's exported model scores
the test split once more in this process. scikit-learn then computes the exact AUC and the log
loss from these predictions, as the Tenrec reference code did.

Example:

  tenrec benchmark --task ctr --data-dir DIR --seeds 5 --output-dir runs/bench-ctr
  tenrec benchmark --task mtl --models esmm,mmoe --seed-list 1,2 --epochs 5
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

TASKS = ('ctr', 'mtl')
# Row order of the tables: the order of Tables 2 and 4 of Yuan et al., "Tenrec" (NeurIPS 2022),
# then the models that the paper does not report.
TABLE_ORDER = {
    'ctr': ('wide_deep', 'deepfm', 'nfm', 'xdeepfm', 'afm', 'dcn', 'dcnv2', 'din', 'dien'),
    'mtl': ('single_click', 'single_like', 'esmm', 'mmoe', 'ple'),
}
DEFAULT_DATASET_SEED = 100
LAYOUTS = ('per-run', 'single')
EXACT_METRICS_DIR = 'exact_metrics'
SCORING_BATCH_SIZE = 8192
# Probabilities are clipped as Keras' and TFMA's binary cross-entropy clip them.
PROBABILITY_EPSILON = 1e-7

PAPER_SOURCE = ('Yuan et al., "Tenrec: A Large-scale Multipurpose Benchmark Dataset for '
                'Recommender Systems", NeurIPS 2022 Datasets and Benchmarks')
PAPER_NOTES = {
    'ctr': (
        'The "Tenrec paper" columns are published numbers, not results of this benchmark: '
        f'test AUC and log loss from Table 2 of {PAPER_SOURCE}, measured on the real '
        'QK-video-1M data (86,642,580 examples after keeping every click and twice as many '
        'random non-clicks, a random 80/10/10 row split, fifteen categorical fields with the '
        'ten history slots as separate fields, and the last epoch evaluated). They describe '
        'other data and another protocol, so they are not comparable with the other columns. '
        'The paper reports no DIN or DIEN results.'),
    'mtl': (
        'The "Tenrec paper" columns are published numbers, not results of this benchmark: test '
        f'AUC of click and like from Table 4 of {PAPER_SOURCE}, measured on the real '
        'QK-video-1M data with the reference protocol. They describe other data and another '
        'protocol, so they are not comparable with the other columns. The paper\'s Only-click '
        'AUC (0.7957) is the same number as its NFM CTR AUC; the reference code ran the '
        'single-task baselines as one-output MMoE models.'),
}
AUC_NOTE = (
    'Test metrics cover the whole test split. "TFMA" is the Evaluator component: AUC with '
    '10,000 evenly spaced thresholds and trapezoidal interpolation, and mean binary '
    'cross-entropy. "scikit-learn" is the exact `roc_auc_score` and `log_loss` of the '
    'exported model\'s predictions on the same examples (probabilities clipped to '
    '[1e-7, 1 - 1e-7]), which is what the Tenrec reference code reported. ' +
    common.SEED_SPREAD_NOTE)
MODE = ('through the TFX pipeline (`tenrec run --task {task}` components: TenrecExampleGen, '
        'StatisticsGen, SchemaGen, ExampleValidator and Transform shared by every run, then one '
        'Trainer and one TFMA Evaluator per model and seed; {layout})')
LAYOUT_WORDS = {
    'per-run': 'one pipeline run per model and seed, data components reused from the cache',
    'single': 'one pipeline holding every Trainer and Evaluator, run once',
}


def add_arguments(parser: argparse.ArgumentParser) -> None:
  """Adds the CTR and multi-task options of the benchmark."""
  common_args.add_ctr_builder_arguments(parser)
  group = parser.add_argument_group('CTR and multi-task benchmark (--task ctr, --task mtl)')
  # Replaces the dataset-builder flag of the same name, whose default (the training seed) has no
  # single value when the training seed varies. The sequential benchmark defines it the same way.
  group.add_argument('--dataset-seed', type=int, default=DEFAULT_DATASET_SEED,
                     help='Seed of the dataset build, the same for every training seed so '
                     'that only training varies between seeds (ctr, mtl: negative sampling and '
                     'split; sbr: validation-user sample).')
  group.add_argument('--min-frequency', type=int, default=1,
                     help='ctr, mtl: ids seen fewer times in the training split map to the '
                     'out-of-vocabulary index.')
  group.add_argument('--pipeline-layout', choices=LAYOUTS, default='per-run',
                     help='ctr, mtl: one pipeline run per model and seed (report updated after '
                     'each run, a failed run does not stop the others), or one pipeline with '
                     'every run in it. Both reuse cached components.')
  group.add_argument('--model-seeds', action='append', default=None, metavar='MODEL=N',
                     help='ctr, mtl: train MODEL with only the first N seeds (for a slow '
                     'model, for example --model-seeds dien=3). Repeatable.')
  group.add_argument('--exact-metrics', action=argparse.BooleanOptionalAction, default=True,
                     help='ctr, mtl: also score the test split with each exported model and '
                     'compute the exact AUC and log loss with scikit-learn.')


# ----- settings -----


@dataclasses.dataclass(frozen=True)
class RunSpec:
  """One (model, seed) run of the benchmark."""

  model: str
  display_name: str
  seed: int
  labels: List[str]
  overrides: Dict[str, Any]
  hparams: Dict[str, Any]
  paper_metrics: Dict[str, float]

  @property
  def id_suffix(self) -> str:
    return f'.{self.model}.seed{self.seed}'


@dataclasses.dataclass
class _Settings:
  """The resolved settings of one benchmark invocation."""

  task: str
  models: List[str]
  seeds: List[int]
  runs: List[RunSpec]
  builder_options: Dict[str, Any]
  output_dir: str


def resolve_settings(args: argparse.Namespace) -> _Settings:
  """Parses and validates every option before the first run starts.

  Raises:
    common.OptionError: An option is invalid (unknown model or hyper-parameter, a value a
      model rejects, a bad seed list or dataset option, --no-through-pipeline).
  """
  try:
    return _parse_settings(args)
  except common.OptionError:
    raise
  except ValueError as error:
    raise common.OptionError(str(error)) from error


def _parse_settings(args: argparse.Namespace) -> _Settings:
  from components.builders import registry as builder_registry  # pylint: disable=import-outside-toplevel
  from models import registry  # pylint: disable=import-outside-toplevel

  if not args.through_pipeline:
    raise common.OptionError(
        f'--no-through-pipeline is not available for --task {args.task}: its runs always go '
        'through the TFX pipeline, whose data components are built once and cached.')
  if args.min_frequency < 1:
    raise common.OptionError(f'--min-frequency must be at least 1, got {args.min_frequency}.')

  available = registry.list_models(args.task)
  order = TABLE_ORDER[args.task]
  available.sort(key=lambda name: (order.index(name) if name in order else len(order)))
  models = common.parse_models(args, available)
  seeds = common.parse_seeds(args)
  per_model = common.parse_model_hparams(args.model_hparam, models)
  builder_options = _builder_options(args)
  builder_registry.create_builder('ctr', builder_options)

  specs = {}
  for model in models:
    spec = registry.get_model(args.task, model)
    overrides = common.model_overrides(args, model, per_model)
    hparams = spec.resolve_hparams(overrides)
    labels = ['click'] if args.task == 'ctr' else list(hparams.get('objectives') or
                                                      ['click', 'like'])
    _check_hparams(args.task, spec, hparams)
    specs[model] = (spec, overrides, hparams, labels)

  seed_counts = parse_model_seeds(args.model_seeds, models, len(seeds))
  # Seed-major order: after the first round every model has one finished seed.
  runs = [RunSpec(model=model, display_name=specs[model][0].display_name, seed=seed,
                  labels=specs[model][3], overrides=specs[model][1], hparams=specs[model][2],
                  paper_metrics=dict(specs[model][0].paper_metrics))
          for index, seed in enumerate(seeds) for model in models
          if index < seed_counts.get(model, len(seeds))]
  return _Settings(task=args.task, models=models, seeds=seeds, runs=runs,
                   builder_options=builder_options,
                   output_dir=os.path.abspath(args.output_dir))


def parse_model_seeds(items: Optional[Sequence[str]], models: Sequence[str],
                      seed_count: int) -> Dict[str, int]:
  """Parses --model-seeds MODEL=N items into {model: N}.

  Raises:
    ValueError: An item is not MODEL=N, names a model that is not benchmarked, or N is not
      between 1 and the number of seeds.
  """
  counts = {}
  for item in items or []:
    model, text = common.split_model_item(item, '--model-seeds', '=', 'MODEL=N', models)
    try:
      count = int(text)
    except ValueError:
      raise ValueError(f'--model-seeds {item!r}: N must be an integer.') from None
    if not 1 <= count <= seed_count:
      raise ValueError(f'--model-seeds {item!r}: N must be between 1 and the number of seeds '
                       f'({seed_count}).')
    counts[model] = count
  return counts


def _check_hparams(task: str, spec, hparams: Mapping[str, Any]) -> None:
  """Builds the model on tiny vocabularies, so that a bad value fails before any training."""
  import tf_keras  # pylint: disable=import-outside-toplevel
  from models import testing  # pylint: disable=import-outside-toplevel

  spec.build(testing.tiny_feature_info(task), hparams)
  tf_keras.backend.clear_session()


def _builder_options(args: argparse.Namespace) -> Dict[str, Any]:
  """CTR builder options; the dataset seed is fixed across training seeds."""
  namespace = argparse.Namespace(**vars(args))
  namespace.seed = args.dataset_seed
  return common_args.ctr_builder_options(namespace)


# ----- pipeline -----


class _Pipeline:
  """The benchmark pipeline of one task and dataset: names, paths and component factories."""

  def __init__(self, args: argparse.Namespace, settings: _Settings):
    from components.builders import registry as builder_registry  # pylint: disable=import-outside-toplevel
    from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel

    self.args = args
    self.settings = settings
    self.dataset = common_args.resolve_dataset(args)
    builder = builder_registry.create_builder('ctr', settings.builder_options)
    self.builder = builder
    self.input_paths = common_args.input_paths(self.dataset, builder)
    self.name = f'tenrec-benchmark-{settings.task}-{self.dataset.name}'
    if not args.resume:
      # A new pipeline name has no cached executions; its own runs still share the data
      # components.
      self.name += '-' + common.utc_now().replace(':', '').replace('-', '')
    self.root = os.path.join(settings.output_dir, 'pipelines', self.name)
    self.metadata_path = os.path.join(settings.output_dir, 'metadata', f'{self.name}.sqlite')
    os.makedirs(os.path.dirname(self.metadata_path), exist_ok=True)
    # Fixed for the whole invocation: this process keeps running the code it imported, even
    # if the files change while the benchmark runs.
    self.code_versions = pipeline_lib.ctr_code_versions()

  def create(self, runs: Sequence[RunSpec], chain: bool = False):
    """Creates a pipeline with the data components and a Trainer and an Evaluator per run.

    With `chain`, each Trainer waits for the previous run's Evaluator, so that runs execute
    one after the other in the given order (otherwise every Trainer precedes every Evaluator).
    """
    from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel
    from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel

    args = self.args
    data = pipeline_lib.ctr_data_components(
        input_paths=self.input_paths, builder_options=self.settings.builder_options,
        min_frequency=args.min_frequency, dataset=self.dataset.description,
        on_invalid_row=args.on_invalid_row, code_versions=self.code_versions)
    components = list(data.values())
    previous = None
    for run in runs:
      trainer, evaluator = pipeline_lib.ctr_model_components(
          data, task=self.settings.task, model=run.model, labels=run.labels,
          hparams=run.overrides, seed=run.seed, auc_threshold=None, id_suffix=run.id_suffix,
          code_versions=self.code_versions)
      if chain and previous is not None:
        trainer.add_upstream_node(previous)
      previous = evaluator
      components.extend([trainer, evaluator])
    return tfx.dsl.Pipeline(
        pipeline_name=self.name,
        pipeline_root=self.root,
        metadata_connection_config=(
            tfx.orchestration.metadata.sqlite_metadata_connection_config(self.metadata_path)),
        components=components,
        enable_cache=True,
        beam_pipeline_args=common_args.beam_pipeline_args(args))

  def run(self, runs: Sequence[RunSpec], chain: bool = False) -> float:
    """Runs the pipeline of `runs` with LocalDagRunner; returns its wall-clock seconds."""
    from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel
    from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
    from pipeline import progress  # pylint: disable=import-outside-toplevel

    order = list(pipeline_lib.CTR_COMPONENT_ORDER[:5])
    for run in runs:
      order += [pipeline_lib.TRAINER + run.id_suffix, pipeline_lib.EVALUATOR + run.id_suffix]
    pipeline = self.create(runs, chain=chain)
    started = time.perf_counter()
    with progress.ComponentProgress(order):
      tfx.orchestration.LocalDagRunner().run(pipeline)
    return time.perf_counter() - started

  def run_command(self, run: RunSpec) -> str:
    """Returns the `tenrec run` command that trains and evaluates the same run on its own."""
    args = self.args
    options = self.settings.builder_options
    words = ['tenrec', 'run', '--task', self.settings.task, '--model', run.model,
             '--seed', str(run.seed), '--dataset-seed', str(args.dataset_seed),
             '--data-dir', self.dataset.data_dir, '--on-invalid-row', args.on_invalid_row,
             '--history-mode', options['history_mode'],
             '--negatives-per-positive', str(options['negatives_per_positive']),
             '--negative-sampling', options['negative_sampling'],
             '--split-mode', options['split_mode'],
             '--split-ratios', ','.join(str(r) for r in options['split_ratios']),
             '--user-selection', options['user_selection'],
             '--min-frequency', str(args.min_frequency), '--auc-threshold', '-1',
             '--beam-workers', str(args.beam_workers)]
    if options.get('max_users') is not None:
      words += ['--max-users', str(options['max_users'])]
    for key, value in run.overrides.items():
      words += ['--hparam', f'{key}={json.dumps(value)}']
    return shlex.join(words)


# ----- results of one run -----


def collect_run(pipeline: _Pipeline, run: RunSpec, outputs: Mapping[str, Any],
                exact: bool) -> Dict[str, Any]:
  """Builds the record of one run from the ML Metadata outputs of a pipeline run."""
  from models.trainers import common as trainer_common  # pylint: disable=import-outside-toplevel
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
  from pipeline import results  # pylint: disable=import-outside-toplevel

  trainer_id = pipeline_lib.TRAINER + run.id_suffix
  evaluator_id = pipeline_lib.EVALUATOR + run.id_suffix
  record = _base_record(pipeline, run)
  states = {name: outputs.get(name, {}).get('state') for name in (trainer_id, evaluator_id)}
  record['component_states'] = states

  model_run_uri = results.first_uri(outputs, trainer_id, 'model_run')
  model_uri = results.first_uri(outputs, trainer_id, 'model')
  evaluation_uri = results.first_uri(outputs, evaluator_id, 'evaluation')
  if not (model_run_uri and model_uri and evaluation_uri):
    record['status'] = 'failed'
    record['error'] = record.get('error') or (
        f'No output of {trainer_id} or {evaluator_id} in the pipeline run (states {states}).')
    return record

  summary = trainer_common.read_json(
      os.path.join(model_run_uri, trainer_common.TRAINING_SUMMARY_FILE))
  history = summary.get('history') or {}
  record['test'] = results.objective_summaries(results.load_tfma_metrics(evaluation_uri),
                                               run.labels)
  record['validation'] = {
      'selection_metric': summary.get('selection_metric'),
      'best_value': summary.get('best_value'),
      'best_epoch': summary.get('best_epoch'),
      'epochs_run': summary.get('epochs_run'),
      'stopped_early': summary.get('stopped_early'),
      'auc_curves': {label: _curve(history, label, 'auc') for label in run.labels},
      'loss_curve': history.get('val_loss'),
  }
  record['training'] = {
      'parameters': summary.get('parameters'),
      'train_examples': summary.get('train_examples'),
      'train_examples_per_second': summary.get('train_examples_per_second'),
      'train_seconds_per_epoch': summary.get('train_seconds_per_epoch'),
      'training_seconds': summary.get('training_seconds'),
      'train_input': summary.get('train_input'),
  }
  # A cached component's execution in this run took no time; report the execution that
  # produced the artifact.
  record['timing'] = {
      'trainer_seconds': producer_seconds(pipeline.metadata_path, model_uri),
      'evaluator_seconds': producer_seconds(pipeline.metadata_path, evaluation_uri),
  }
  record['outputs'] = {'model': model_uri, 'model_run': model_run_uri,
                       'tensorboard': model_run_uri, 'evaluation': evaluation_uri}

  if exact:
    examples_uri = results.first_uri(outputs, pipeline_lib.EXAMPLE_GEN, 'examples')
    started = time.perf_counter()
    record['test_exact'] = cached_exact_metrics(
        os.path.join(model_uri, 'Format-Serving'), os.path.join(examples_uri, 'Split-test'),
        run.labels, os.path.join(pipeline.settings.output_dir, EXACT_METRICS_DIR))
    record['timing']['exact_metrics_seconds'] = time.perf_counter() - started
  record['status'] = 'ok'
  return record


def producer_seconds(metadata_path: str, uri: str) -> Optional[float]:
  """Seconds of the completed execution that wrote the artifact at `uri`, from ML Metadata."""
  from ml_metadata import metadata_store  # pylint: disable=import-outside-toplevel
  from ml_metadata.proto import metadata_store_pb2  # pylint: disable=import-outside-toplevel

  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  store = metadata_store.MetadataStore(config)
  artifacts = store.get_artifacts_by_uri(uri)
  events = store.get_events_by_artifact_ids([a.id for a in artifacts]) if artifacts else []
  execution_ids = [e.execution_id for e in events
                   if e.type in (metadata_store_pb2.Event.OUTPUT,
                                 metadata_store_pb2.Event.DECLARED_OUTPUT)]
  for execution in store.get_executions_by_id(execution_ids):
    if execution.last_known_state == metadata_store_pb2.Execution.COMPLETE:
      return max(0.0, (execution.last_update_time_since_epoch -
                       execution.create_time_since_epoch) / 1000.0)
  return None


def _base_record(pipeline: _Pipeline, run: RunSpec) -> Dict[str, Any]:
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel

  return {
      'model': run.model,
      'display_name': run.display_name,
      'seed': run.seed,
      'dataset_seed': pipeline.args.dataset_seed,
      'labels': list(run.labels),
      'hparams': run.hparams,
      'hparam_overrides': run.overrides,
      'paper_metrics': run.paper_metrics,
      'component_ids': {'trainer': pipeline_lib.TRAINER + run.id_suffix,
                        'evaluator': pipeline_lib.EVALUATOR + run.id_suffix},
      'command': pipeline.run_command(run),
  }


def _curve(history: Mapping[str, Sequence[float]], label: str, metric: str) -> List[float]:
  from models.trainers import common as trainer_common  # pylint: disable=import-outside-toplevel

  try:
    return [float(v) for v in history[trainer_common.find_metric_key(history, label, metric)]]
  except KeyError:
    return []


# ----- exact metrics with scikit-learn -----


def score_examples(model_dir: str, files: Sequence[str], labels: Sequence[str],
                   batch_size: int = SCORING_BATCH_SIZE):
  """Scores raw tf.Example TFRecord files with an exported model's `serving_default`.

  Returns ({label: int64 labels [n]}, {label: float64 probabilities [n]}) in file order.
  """
  import numpy as np  # pylint: disable=import-outside-toplevel
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  loaded = tf.saved_model.load(model_dir)
  serve = loaded.signatures['serving_default']
  label_spec = {label: tf.io.FixedLenFeature([], tf.int64) for label in labels}
  truth: Dict[str, List[Any]] = {label: [] for label in labels}
  scores: Dict[str, List[Any]] = {label: [] for label in labels}
  records = tf.data.TFRecordDataset(list(files), compression_type='GZIP').batch(batch_size)
  for batch in records:
    predictions = serve(examples=batch)
    parsed = tf.io.parse_example(batch, label_spec)
    for label in labels:
      truth[label].append(parsed[label].numpy())
      scores[label].append(np.reshape(predictions[label].numpy(), [-1]).astype(np.float64))
  return ({label: np.concatenate(values) for label, values in truth.items()},
          {label: np.concatenate(values) for label, values in scores.items()})


def exact_metrics(truth: Mapping[str, Any], scores: Mapping[str, Any]) -> Dict[str, Any]:
  """scikit-learn's exact ROC AUC and log loss per label.

  The AUC is None when the labels have one class only (it is undefined then).
  """
  import numpy as np  # pylint: disable=import-outside-toplevel
  from sklearn import metrics  # pylint: disable=import-outside-toplevel

  out = {}
  for label, y_true in truth.items():
    y_score = np.clip(scores[label], PROBABILITY_EPSILON, 1 - PROBABILITY_EPSILON)
    both_classes = len(np.unique(y_true)) == 2
    out[label] = {
        'auc': float(metrics.roc_auc_score(y_true, y_score)) if both_classes else None,
        'log_loss': float(metrics.log_loss(y_true, y_score, labels=[0, 1])),
        'examples': int(len(y_true)),
    }
  return out


def cached_exact_metrics(model_dir: str, split_dir: str, labels: Sequence[str],
                         cache_dir: str) -> Dict[str, Any]:
  """`exact_metrics` of a model on a split, computed once per (model, split, labels).

  Model artifacts never change after the Trainer wrote them, so the result is kept in
  `cache_dir` under a key derived from the paths and reused by later invocations.
  """
  from models.trainers import common as trainer_common  # pylint: disable=import-outside-toplevel

  key = hashlib.sha256(json.dumps([model_dir, split_dir, list(labels)]).encode()).hexdigest()
  path = os.path.join(cache_dir, f'{key[:24]}.json')
  if os.path.exists(path):
    with open(path, encoding='utf-8') as handle:
      return json.load(handle)['metrics']

  files = trainer_common.expand_file_patterns([split_dir])
  truth, scores = score_examples(model_dir, files, labels)
  result = exact_metrics(truth, scores)
  common.write_json(path, {'model': model_dir, 'split': split_dir, 'labels': list(labels),
                           'metrics': result})
  return result


# ----- tables -----


def _seed_text(records: Sequence[Mapping[str, Any]]) -> str:
  seeds = [str(record['seed']) for record in records]
  return f'{len(seeds)} ({", ".join(seeds)})'


def _metric(records, source: str, label: str, name: str) -> Dict[str, Any]:
  return common.aggregate([(record.get(source) or {}).get(label, {}).get(name)
                           for record in records])


def results_table(task: str, records_by_model: Mapping[str, Sequence[Mapping[str, Any]]]
                  ) -> common.Table:
  """Tabulates test metrics (mean ± std over seeds), selection, cost and the published numbers."""
  labels = ['click'] if task == 'ctr' else ['click', 'like']
  names = {'click': 'Click', 'like': 'Like'}
  columns = [common.Column('model', 'Model'), common.Column('seeds', 'Seeds (n)')]
  for label in labels:
    prefix = 'Test' if task == 'ctr' else f'{names[label]}'
    columns += [
        common.Column(f'{label}_auc', f'{prefix} AUC (TFMA)', 'mean_std'),
        common.Column(f'{label}_auc_exact', f'{prefix} AUC (scikit-learn)', 'mean_std'),
        common.Column(f'{label}_logloss', f'{prefix} log loss (TFMA)', 'mean_std'),
    ]
  columns += [
      common.Column('parameters', 'Parameters', 'int'),
      common.Column('examples_per_second', 'Train examples/s', 'mean_std', 0),
      common.Column('best_epoch', 'Epochs to best', 'mean_std', 1),
      common.Column('epochs_run', 'Epochs run', 'mean_std', 1),
  ]
  if task == 'ctr':
    columns += [common.Column('paper_auc', 'Tenrec paper AUC (real QK-video-1M)', 'number'),
                common.Column('paper_logloss', 'Tenrec paper log loss (real QK-video-1M)',
                              'number')]
  else:
    columns += [common.Column('paper_click_auc', 'Tenrec paper click AUC (real QK-video-1M)',
                              'number'),
                common.Column('paper_like_auc', 'Tenrec paper like AUC (real QK-video-1M)',
                              'number')]
  title = ('Test metrics of the CTR models, mean ± std over seeds' if task == 'ctr' else
           'Test metrics of the multi-task models, mean ± std over seeds')
  table = common.Table(name='results', title=title, columns=columns)

  for records in records_by_model.values():
    done = [record for record in records if record.get('status') == 'ok']
    if not done:
      continue
    row = {'model': done[0]['display_name'], 'seeds': _seed_text(done)}
    for label in labels:
      if label not in done[0]['labels']:
        continue
      row[f'{label}_auc'] = _metric(done, 'test', label, 'auc')
      row[f'{label}_auc_exact'] = _metric(done, 'test_exact', label, 'auc')
      row[f'{label}_logloss'] = _metric(done, 'test', label, 'log_loss')
    row['parameters'] = done[0]['training'].get('parameters')
    row['examples_per_second'] = common.aggregate(
        [r['training'].get('train_examples_per_second') for r in done])
    row['best_epoch'] = common.aggregate([r['validation'].get('best_epoch') for r in done])
    row['epochs_run'] = common.aggregate([r['validation'].get('epochs_run') for r in done])
    paper = done[0].get('paper_metrics') or {}
    if task == 'ctr':
      row['paper_auc'] = paper.get('auc')
      row['paper_logloss'] = paper.get('logloss')
    else:
      row['paper_click_auc'] = paper.get('click_auc')
      row['paper_like_auc'] = paper.get('like_auc')
    table.add_row(row)

  selection = ('the epoch with the best validation AUC' if task == 'ctr' else
               'the epoch with the lowest total validation loss (training stops after 5 epochs '
               'without improvement)')
  table.notes.extend([
      AUC_NOTE,
      f'Each run evaluates {selection}. "Epochs to best" is that epoch; "Train examples/s" is '
      'the mean training throughput of the epochs after the first (which includes graph '
      'tracing), validation excluded.',
      PAPER_NOTES[task],
  ])
  return table


def cost_table(records_by_model: Mapping[str, Sequence[Mapping[str, Any]]]) -> common.Table:
  """Tabulates the seconds per run: Trainer, training per epoch, Evaluator, exact metrics."""
  table = common.Table(
      name='cost', title='Time per run (seconds, mean ± std over seeds)',
      columns=[
          common.Column('model', 'Model'),
          common.Column('train_epoch', 'Training s/epoch', 'mean_std', 1),
          common.Column('trainer', 'Trainer component s', 'mean_std', 1),
          common.Column('evaluator', 'Evaluator (TFMA) s', 'mean_std', 1),
          common.Column('exact', 'scikit-learn scoring s', 'mean_std', 1),
          common.Column('wall', 'Pipeline run s', 'mean_std', 1),
      ])
  for records in records_by_model.values():
    done = [record for record in records if record.get('status') == 'ok']
    if not done:
      continue
    epoch_seconds = []
    for record in done:
      per_epoch = record['training'].get('train_seconds_per_epoch') or []
      if len(per_epoch) > 1:
        epoch_seconds.append(sum(per_epoch[1:]) / len(per_epoch[1:]))
    table.add_row({
        'model': done[0]['display_name'],
        'train_epoch': common.aggregate(epoch_seconds),
        'trainer': common.aggregate([r['timing'].get('trainer_seconds') for r in done]),
        'evaluator': common.aggregate([r['timing'].get('evaluator_seconds') for r in done]),
        'exact': common.aggregate([r['timing'].get('exact_metrics_seconds') for r in done]),
        'wall': common.aggregate([r['timing'].get('pipeline_seconds') for r in done]),
    })
  table.notes.append(
      'Training s/epoch excludes the first epoch and validation. The Trainer component also '
      'counts the records, reads the data into memory, validates after every epoch and exports '
      'the SavedModel; the Evaluator runs TFMA on the test split. "Pipeline run s" is the wall '
      'time of the run\'s pipeline with the data components reused from the cache (per-run '
      'layout only). A cached run shows the times of the execution that produced it. '
      'Wall-clock times depend on the other jobs on the machine.')
  return table


def hparams_table(runs: Sequence[RunSpec]) -> common.Table:
  """Lists the hyper-parameters of every model and what differs from the registered defaults."""
  table = common.Table(
      name='hparams', title='Hyper-parameters',
      columns=[common.Column('model', 'Model'),
               common.Column('overrides', 'Changed from the paper defaults'),
               common.Column('resolved', 'All hyper-parameters')])
  seen = set()
  for run in runs:
    if run.model in seen:
      continue
    seen.add(run.model)
    table.add_row({
        'model': run.display_name,
        'overrides': ', '.join(f'{k}={json.dumps(v)}' for k, v in run.overrides.items()) or
                     'none',
        'resolved': ', '.join(f'{k}={json.dumps(v)}' for k, v in sorted(run.hparams.items())
                              if k != 'seed'),
    })
  table.notes.append('Each run trains with its own seed (the "Seeds" column of the results '
                     'table), which replaces the `seed` hyper-parameter.')
  return table


def failures_table(records: Sequence[Mapping[str, Any]]) -> Optional[common.Table]:
  failed = [record for record in records if record.get('status') != 'ok']
  if not failed:
    return None
  table = common.Table(name='failures', title='Runs without results',
                       columns=[common.Column('model', 'Model'), common.Column('seed', 'Seed'),
                                common.Column('error', 'Error')])
  for record in failed:
    table.add_row({'model': record['display_name'], 'seed': record['seed'],
                   'error': str(record.get('error', ''))[:300]})
  return table


def _curves(records: Sequence[Mapping[str, Any]], label: str) -> Dict[str, Dict[int, List]]:
  """{model display name: {seed: validation AUC of `label` per epoch}}."""
  curves: Dict[str, Dict[int, List[float]]] = {}
  for record in records:
    if record.get('status') != 'ok':
      continue
    values = (record['validation'].get('auc_curves') or {}).get(label)
    if values:
      curves.setdefault(record['display_name'], {})[record['seed']] = values
  return curves


def refresh_report(report: common.BenchmarkReport, settings: _Settings,
                   records: Sequence[Mapping[str, Any]]) -> None:
  """Rebuilds the tables and plots from the run records and writes every report file."""
  records_by_model: Dict[str, List[Mapping[str, Any]]] = {m: [] for m in settings.models}
  for record in records:
    records_by_model[record['model']].append(record)
  for model_records in records_by_model.values():
    model_records.sort(key=lambda r: r['seed'])

  report.tables = [results_table(settings.task, records_by_model), cost_table(records_by_model),
                   hparams_table(settings.runs)]
  failures = failures_table(records)
  if failures:
    report.tables.append(failures)
  report.runs = [dict(record) for record in records]

  report.plots = {}
  labels = ['click'] if settings.task == 'ctr' else ['click', 'like']
  dataset_name = report.dataset.get('name', 'data')
  for label in labels:
    filename = f'validation_auc_{label}.png'
    title = (f'Validation AUC per epoch ({dataset_name})' if settings.task == 'ctr' else
             f'Validation {label} AUC per epoch ({dataset_name})')
    path = common.plot_curves(_curves(records, label),
                              os.path.join(settings.output_dir, filename), title=title,
                              ylabel=f'validation {label} AUC')
    if path:
      report.plots[title.split(' (')[0]] = filename
  common.write_report(settings.output_dir, report)


# ----- entry point -----


def _earlier_pipeline_seconds(output_dir: str) -> Dict[str, float]:
  """{model artifact: pipeline seconds} of the runs in an earlier report in `output_dir`."""
  path = os.path.join(output_dir, common.REPORT_JSON)
  if not os.path.exists(path):
    return {}
  with open(path, encoding='utf-8') as handle:
    earlier = json.load(handle)
  return {record['outputs']['model']: record['timing'].get('pipeline_seconds')
          for record in earlier.get('runs', []) if record.get('status') == 'ok'}


def run(args: argparse.Namespace, command: str) -> common.BenchmarkReport:
  """Runs every (model, seed) through the pipeline, writes the report and returns it."""
  import tf_keras  # pylint: disable=import-outside-toplevel
  from pipeline import results  # pylint: disable=import-outside-toplevel

  settings = resolve_settings(args)
  os.makedirs(settings.output_dir, exist_ok=True)
  pipeline = _Pipeline(args, settings)

  options = {key: value for key, value in vars(args).items() if key != 'run'}
  title = ('CTR benchmark' if settings.task == 'ctr' else 'Multi-task benchmark')
  report = common.BenchmarkReport(
      title=title, task=settings.task, command=command, options=options,
      environment=common.environment(), dataset=dict(pipeline.dataset.description),
      mode=MODE.format(task=settings.task, layout=LAYOUT_WORDS[args.pipeline_layout]),
      started_at=common.utc_now())
  report.notes.append(
      f'Models: {", ".join(settings.models)}; training seeds: '
      f'{", ".join(str(s) for s in settings.seeds)}; dataset seed: {args.dataset_seed} '
      '(one dataset build and split for every training seed). Pipeline '
      f'`{pipeline.name}`, ML Metadata `{pipeline.metadata_path}`; TensorBoard logs of each '
      'run are in its `outputs.tensorboard` folder (benchmark.json).')
  if args.model_seeds:
    report.notes.append('Fewer seeds for some models (--model-seeds): ' +
                        ', '.join(args.model_seeds) + '; the "Seeds (n)" column lists them.')
  report.notes.append('Builder options: ' + ', '.join(
      f'{k}={json.dumps(v)}' for k, v in sorted(settings.builder_options.items())) + '.')

  earlier_pipeline_seconds = _earlier_pipeline_seconds(settings.output_dir)
  records: List[Dict[str, Any]] = []
  if args.pipeline_layout == 'single':
    error = None
    try:
      wall_seconds = pipeline.run(settings.runs, chain=True)
    except Exception as exception:  # pylint: disable=broad-except
      error = f'{type(exception).__name__}: {exception}'
      logging.error('The benchmark pipeline stopped: %s', error)
      wall_seconds = None
    report.notes.append(f'Pipeline wall time: {wall_seconds:.0f} s.' if wall_seconds else
                        f'The pipeline stopped: {error}')
    outputs = results.latest_run_outputs(pipeline.metadata_path, pipeline.name)
    for spec in settings.runs:
      record = collect_run(pipeline, spec, outputs, args.exact_metrics)
      if error and record.get('status') != 'ok':
        record['error'] = error
      records.append(record)
  else:
    for index, spec in enumerate(settings.runs):
      logging.info('Benchmark run %d of %d: %s, seed %d.', index + 1, len(settings.runs),
                   spec.display_name, spec.seed)
      tf_keras.backend.clear_session()
      error = None
      wall_seconds = None
      try:
        wall_seconds = pipeline.run([spec])
      except Exception as exception:  # pylint: disable=broad-except
        error = f'{type(exception).__name__}: {exception}'
        logging.error('Run %s seed %d failed: %s', spec.model, spec.seed, error)
      if error:
        record = _base_record(pipeline, spec)
        record.update({'status': 'failed', 'error': error})
      else:
        outputs = results.latest_run_outputs(pipeline.metadata_path, pipeline.name)
        record = collect_run(pipeline, spec, outputs, args.exact_metrics)
        if record.get('status') == 'ok':
          cached = record['component_states'].get(record['component_ids']['trainer']) == 'CACHED'
          record['timing']['pipeline_seconds'] = (
              earlier_pipeline_seconds.get(record['outputs']['model']) if cached
              else wall_seconds)
      records.append(record)
      refresh_report(report, settings, records)

  report.finished_at = common.utc_now()
  refresh_report(report, settings, records)
  failed = [r for r in records if r.get('status') != 'ok']
  if failed:
    logging.warning('%d of %d runs have no results; see the "Runs without results" table.',
                    len(failed), len(records))
  return report
