"""`tenrec run`: build a task dataset, train, evaluate and push one model with the TFX pipeline."""

import argparse
import json
import logging
import os
import sys
import time
from typing import Any, Dict, List

from pipeline.commands import build as build_command
from pipeline.commands import common_args

DEFAULT_OUTPUT_DIR = 'tenrec-output'
TASKS = ('ctr', 'mtl', 'sbr')

# Differences between this pipeline's training protocol and the reference code that apply to
# every CTR and multi-task run (builder and model deviations are added per run).
PIPELINE_DEVIATIONS = (
    'The evaluated model is the epoch with the best validation metric (the reference evaluated '
    'the last epoch because its best-model copy shared parameters with the live model).',
    'Training batches are reshuffled every epoch (the reference kept one fixed order).',
    'Test metrics come from TFMA on the whole test split (AUC with 10,000 thresholds, log loss).',
)


def add_parser(subparsers) -> None:
  parser = subparsers.add_parser(
      'run', help='Run the TFX pipeline of a task end to end.',
      description='Build the task dataset from raw Tenrec-schema files, validate it, train the '
      'model, evaluate it on the test split with TFMA and push it to a TF Serving base path. '
      'Without --data-dir the embedded generated data is used (created on first use). '
      'Re-running skips components whose inputs did not change.',
      formatter_class=common_args.HelpFormatter)
  parser.add_argument('--task', choices=TASKS, default='ctr', help='Benchmark task.')
  parser.add_argument('--model', default='deepfm',
                      help='Model name; `tenrec run --task T --model list` lists them.')
  common_args.add_data_arguments(parser)
  common_args.add_ctr_builder_arguments(parser)
  common_args.add_sbr_arguments(parser)
  common_args.add_training_arguments(parser)
  parser.add_argument('--output-dir', default=DEFAULT_OUTPUT_DIR,
                      help='Folder for pipeline outputs, ML Metadata, results and pushed models.')
  parser.add_argument('--serving-dir', default=None,
                      help='TF Serving base path (default: OUTPUT_DIR/serving). The model is '
                      'pushed to SERVING_DIR/MODEL_NAME/VERSION/.')
  parser.add_argument('--model-name', default=None,
                      help='Serving model name (default: TASK_MODEL, for example ctr_deepfm).')
  parser.add_argument('--auc-threshold', type=float, default=0.55,
                      help='CTR and multi-task: minimum test AUC for the Evaluator to bless (and '
                      'the Pusher to push) the model; a negative value blesses every model.')
  parser.add_argument('--min-ranking-metric', type=float, default=0.0,
                      help='Sequential: minimum test value of --selection-metric for the push.')
  parser.add_argument('--require-beat-popularity', action=argparse.BooleanOptionalAction,
                      default=True,
                      help='Sequential: push only models whose test --selection-metric exceeds '
                      'the item-popularity baseline.')
  parser.add_argument('--cache', action=argparse.BooleanOptionalAction, default=True,
                      help='Reuse outputs of components whose inputs and code are unchanged.')
  common_args.add_beam_arguments(parser)
  parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
  from models import registry  # pylint: disable=import-outside-toplevel

  if args.model == 'list':
    print('\n'.join(registry.list_models(args.task)))
    return 0
  spec = validate_model_arguments(args)
  result = run_pipeline(args, spec)
  print_summary(result)
  return 0


def validate_model_arguments(args: argparse.Namespace):
  """Checks --model, the hyper-parameter overrides and --ks, and returns the model spec.

  Runs before any folder is created, so a usage error leaves nothing behind.

  Raises:
    common_args.UsageError: The model is not registered for the task, an override names a
      hyper-parameter the model does not have, or --ks is not a list of integers.
  """
  from models import registry  # pylint: disable=import-outside-toplevel

  try:
    spec = registry.get_model(args.task, args.model)
  except ValueError as error:
    raise common_args.UsageError(
        f'{error} List the models of a task with `tenrec run --task {args.task} --model '
        'list`.') from None

  overrides = common_args.hparam_overrides(args)
  try:
    spec.resolve_hparams(overrides)
  except ValueError as error:
    raise common_args.UsageError(str(error)) from None

  if args.task == 'sbr':
    try:
      for k in args.ks.split(','):
        int(k)
    except ValueError:
      raise common_args.UsageError(
          f'--ks must be comma-separated integers, got {args.ks!r}.') from None
  return spec


def run_pipeline(args: argparse.Namespace, spec) -> Dict[str, Any]:
  """Runs the pipeline for parsed `tenrec run` arguments and returns the results dictionary."""
  from tfx import v1 as tfx  # pylint: disable=import-outside-toplevel
  from pipeline import progress  # pylint: disable=import-outside-toplevel
  from pipeline import results  # pylint: disable=import-outside-toplevel

  dataset = common_args.resolve_dataset(args)
  layout = _Layout(args, spec, dataset)
  if args.task == 'sbr':
    pipeline, order, context = _sbr_pipeline(args, spec, dataset, layout)
  else:
    pipeline, order, context = _ctr_pipeline(args, spec, dataset, layout)

  logging.info('Running pipeline %s on %s data in %s.', layout.pipeline_name, dataset.kind,
               dataset.data_dir)
  started = time.time()
  with progress.ComponentProgress(order):
    tfx.orchestration.LocalDagRunner().run(pipeline)
  wall_seconds = time.time() - started

  outputs = results.latest_run_outputs(layout.metadata_path, layout.pipeline_name)
  if args.task == 'sbr':
    result = collect_sbr_results(args, spec, dataset, context, outputs, layout, wall_seconds)
  else:
    result = collect_results(args, spec, dataset, context['builder'], context['labels'],
                             context['hparams'], outputs, layout.pipeline_name,
                             layout.model_name, layout.serving_dir, wall_seconds)
  results_path = os.path.join(layout.output_dir, 'results',
                              f'{layout.pipeline_name}-{results.timestamp()}', 'results.json')
  result['results_path'] = results_path
  results.write_results(results_path, result)
  return result


class _Layout:
  """Output locations of one run: pipeline root, ML Metadata file, serving base path."""

  def __init__(self, args: argparse.Namespace, spec, dataset):
    self.output_dir = os.path.abspath(args.output_dir)
    self.pipeline_name = f'tenrec-{args.task}-{spec.name}-{dataset.name}'
    self.model_name = args.model_name or f'{args.task}_{spec.name}'
    self.serving_dir = os.path.abspath(args.serving_dir or
                                       os.path.join(self.output_dir, 'serving'))
    self.metadata_path = os.path.join(self.output_dir, 'metadata',
                                      f'{self.pipeline_name}.sqlite')
    self.pipeline_root = os.path.join(self.output_dir, 'pipelines', self.pipeline_name)
    os.makedirs(os.path.dirname(self.metadata_path), exist_ok=True)


def _ctr_pipeline(args, spec, dataset, layout):
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
  from components.builders import registry as builder_registry  # pylint: disable=import-outside-toplevel

  hparams = common_args.hparam_overrides(args)
  resolved_hparams = spec.resolve_hparams(hparams)
  if args.task == 'ctr':
    labels = ['click']
  elif args.objectives:
    labels = [label.strip() for label in args.objectives.split(',') if label.strip()]
  else:
    labels = list(resolved_hparams.get('objectives') or ['click', 'like'])
  builder_options = common_args.ctr_builder_options(args)
  builder = builder_registry.create_builder('ctr', builder_options)
  pipeline = pipeline_lib.create_pipeline(
      pipeline_name=layout.pipeline_name,
      pipeline_root=layout.pipeline_root,
      metadata_path=layout.metadata_path,
      task=args.task,
      model=spec.name,
      input_paths=common_args.input_paths(dataset, builder),
      builder_options=builder_options,
      labels=labels,
      hparams=hparams,
      seed=args.seed,
      serving_model_dir=os.path.join(layout.serving_dir, layout.model_name),
      auc_threshold=None if args.auc_threshold < 0 else args.auc_threshold,
      min_frequency=args.min_frequency,
      dataset=dataset.description,
      on_invalid_row=args.on_invalid_row,
      beam_pipeline_args=common_args.beam_pipeline_args(args),
      enable_cache=args.cache)
  context = {'builder': builder, 'labels': labels, 'hparams': resolved_hparams}
  return pipeline, pipeline_lib.CTR_COMPONENT_ORDER, context


def _sbr_pipeline(args, spec, dataset, layout):
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
  from components.builders import registry as builder_registry  # pylint: disable=import-outside-toplevel

  hparams = common_args.hparam_overrides(args)
  resolved_hparams = spec.resolve_hparams(hparams)
  builder_options = common_args.sbr_builder_options(args)
  builder = builder_registry.create_builder('sbr', builder_options)
  trainer_options = common_args.sbr_trainer_options(args)
  pipeline = pipeline_lib.create_sbr_pipeline(
      pipeline_name=layout.pipeline_name,
      pipeline_root=layout.pipeline_root,
      metadata_path=layout.metadata_path,
      model=spec.name,
      input_paths=common_args.input_paths(dataset, builder),
      builder_options=builder.options_dict(),
      trainer_options=trainer_options,
      hparams=hparams,
      seed=args.seed,
      serving_model_dir=os.path.join(layout.serving_dir, layout.model_name),
      ks=trainer_options['ks'],
      selection_metric=args.selection_metric,
      min_value=args.min_ranking_metric,
      require_beat_popularity=args.require_beat_popularity,
      dataset=dataset.description,
      on_invalid_row=args.on_invalid_row,
      beam_pipeline_args=common_args.beam_pipeline_args(args),
      enable_cache=args.cache)
  context = {'builder': builder, 'hparams': resolved_hparams,
             'trainer_options': trainer_options}
  return pipeline, pipeline_lib.SBR_COMPONENT_ORDER, context


def collect_sbr_results(args, spec, dataset, context, outputs, layout,
                        wall_seconds) -> Dict[str, Any]:
  """Assembles results.json of a sequential run from its ML Metadata records."""
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
  from pipeline import results  # pylint: disable=import-outside-toplevel
  from models.trainers import common  # pylint: disable=import-outside-toplevel
  from models.trainers import sbr  # pylint: disable=import-outside-toplevel

  evaluation_uri = results.first_uri(outputs, pipeline_lib.RANKING_EVALUATOR, 'evaluation')
  model_run_uri = results.first_uri(outputs, pipeline_lib.TRAINER, 'model_run')
  anomalies_uri = results.first_uri(outputs, pipeline_lib.EXAMPLE_VALIDATOR, 'anomalies')
  examples_properties = results.first_properties(outputs, pipeline_lib.EXAMPLE_GEN, 'examples')
  pushed = results.first_properties(outputs, pipeline_lib.PUSHER, 'pushed_model')
  evaluation = common.read_json(os.path.join(evaluation_uri, 'metrics.json')) if (
      evaluation_uri) else {}
  training = common.read_json(os.path.join(model_run_uri, sbr.METRICS_FILE)) if (
      model_run_uri) else {}
  build_report = json.loads(examples_properties.get('tenrec_build_report', '{}'))
  builder = context['builder']

  return {
      'task': args.task,
      'model': spec.name,
      'display_name': spec.display_name,
      'dataset': dataset.description,
      'protocol': {
          'builder': build_report.get('options', builder.options_dict()),
          'splits': build_report.get('splits'),
          'row_accounting': build_report.get('accounts'),
          'training': training.get('protocol'),
          'evaluation': evaluation.get('protocol'),
      },
      'deviations_from_reference': builder.deviations(),
      'seeds': {'training': args.seed, 'dataset': builder_options_seed(build_report, builder),
                'data_generation': dataset.description.get('seed')},
      'configuration': {'hparams': context['hparams'],
                        'trainer_options': context['trainer_options'],
                        'beam_pipeline_args': common_args.beam_pipeline_args(args)},
      'metrics': {'test': evaluation.get('metrics', {}),
                  'test_popularity_baseline': evaluation.get('popularity_baseline', {}),
                  'validation': {'selection_metric': training.get('selection', {}).get('metric'),
                                 'best_value': training.get('selection', {}).get('best_value'),
                                 'best_epoch': training.get('selection', {}).get('best_epoch'),
                                 'epochs_run': training.get('selection', {}).get('epochs_run'),
                                 'metrics': training.get('validation')}},
      'training': {'timing': training.get('timing'), 'data': training.get('data'),
                   'history': training.get('history')},
      'paper_metrics': dict(spec.paper_metrics),
      'blessed': bool(evaluation.get('blessed')),
      'pushed': bool(pushed.get('pushed', 0)),
      'pushed_model': pushed.get('pushed_destination'),
      'serving_model_name': layout.model_name,
      'serving_base_path': layout.serving_dir,
      'tensorboard_logdir': model_run_uri,
      'anomalies': results.read_anomalies(anomalies_uri) if anomalies_uri else {},
      'timings': {'wall_seconds': round(wall_seconds, 1),
                  'components': {name: {'state': info['state'],
                                        'seconds': round(info['seconds'], 1)}
                                 for name, info in outputs.items()}},
      'pipeline_name': layout.pipeline_name,
      'environment': results.environment(),
      'command': ' '.join(['tenrec'] + sys.argv[1:]),
  }


def builder_options_seed(build_report: Dict[str, Any], builder) -> Any:
  return build_report.get('options', builder.options_dict()).get('seed')


def collect_results(args, spec, dataset, builder, labels, hparams, outputs, pipeline_name,
                    model_name, serving_dir, wall_seconds) -> Dict[str, Any]:
  """Assembles results.json from the pipeline's ML Metadata records."""
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
  from pipeline import results  # pylint: disable=import-outside-toplevel
  from models.trainers import common  # pylint: disable=import-outside-toplevel

  evaluation_uri = results.first_uri(outputs, pipeline_lib.EVALUATOR, 'evaluation')
  blessing_uri = results.first_uri(outputs, pipeline_lib.EVALUATOR, 'blessing')
  model_run_uri = results.first_uri(outputs, pipeline_lib.TRAINER, 'model_run')
  anomalies_uri = results.first_uri(outputs, pipeline_lib.EXAMPLE_VALIDATOR, 'anomalies')
  examples_properties = results.first_properties(outputs, pipeline_lib.EXAMPLE_GEN, 'examples')
  pushed = results.first_properties(outputs, pipeline_lib.PUSHER, 'pushed_model')

  metrics = results.load_tfma_metrics(evaluation_uri) if evaluation_uri else {}
  test_metrics = results.objective_summaries(metrics, labels)
  training = common.read_json(os.path.join(model_run_uri, common.TRAINING_SUMMARY_FILE)) if (
      model_run_uri) else {}
  build_report = json.loads(examples_properties.get('tenrec_build_report', '{}'))

  return {
      'task': args.task,
      'model': spec.name,
      'display_name': spec.display_name,
      'dataset': dataset.description,
      'protocol': {
          'builder': build_report.get('options', builder.options_dict()),
          'splits': build_report.get('splits'),
          'row_accounting': build_report.get('accounts'),
          'evaluation': 'TFMA on the test split: AUC (10,000 thresholds) and log loss per '
                        'objective; model selected by validation '
                        + ('loss' if args.task == 'mtl' else 'AUC'),
          'labels': labels,
      },
      'deviations_from_reference': builder.deviations() + list(PIPELINE_DEVIATIONS),
      'seeds': {'training': args.seed, 'dataset': builder.options.seed,
                'data_generation': dataset.description.get('seed')},
      'configuration': {'hparams': hparams, 'min_frequency': args.min_frequency,
                        'auc_threshold': args.auc_threshold,
                        'beam_pipeline_args': common_args.beam_pipeline_args(args)},
      'metrics': {'test': test_metrics,
                  'validation': {'selection_metric': training.get('selection_metric'),
                                 'best_value': training.get('best_value'),
                                 'best_epoch': training.get('best_epoch'),
                                 'epochs_run': training.get('epochs_run')}},
      'training': {k: training.get(k) for k in ('parameters', 'train_examples',
                                                 'train_examples_per_second',
                                                 'training_seconds', 'history')},
      'blessed': results.is_blessed(blessing_uri) if blessing_uri else False,
      'pushed': bool(pushed.get('pushed', 0)),
      'pushed_model': pushed.get('pushed_destination'),
      'serving_model_name': model_name,
      'serving_base_path': serving_dir,
      'tensorboard_logdir': model_run_uri,
      'anomalies': results.read_anomalies(anomalies_uri) if anomalies_uri else {},
      'timings': {'wall_seconds': round(wall_seconds, 1),
                  'components': {name: {'state': info['state'],
                                        'seconds': round(info['seconds'], 1)}
                                 for name, info in outputs.items()}},
      'pipeline_name': pipeline_name,
      'environment': results.environment(),
      'command': ' '.join(['tenrec'] + sys.argv[1:]),
  }


def print_summary(result: Dict[str, Any]) -> None:
  """Prints the headline results of a run."""
  dataset = result['dataset']
  lines = [
      f'Dataset: {dataset["name"]} ({dataset["kind"]})' +
      (f' - {dataset["note"]}' if dataset.get('note') else ''),
      f'Task: {result["task"]}, model: {result["display_name"]}, seeds: {result["seeds"]}',
  ]
  if result['task'] == 'sbr':
    test = result['metrics']['test']
    baseline = result['metrics']['test_popularity_baseline']
    lines.append('Test (full ranking): ' + ', '.join(f'{k} {v:.4f}' for k, v in test.items()))
    lines.append('Popularity baseline: ' +
                 ', '.join(f'{k} {v:.4f}' for k, v in baseline.items()))
  for label, values in (result['metrics']['test'].items() if result['task'] != 'sbr' else []):
    auc = values.get('auc')
    log_loss = values.get('log_loss')
    lines.append(f'Test {label}: AUC {auc:.4f}, log loss {log_loss:.4f} '
                 f'({int(values.get("examples") or 0)} examples)'
                 if auc is not None and log_loss is not None else f'Test {label}: {values}')
  accounts = result.get('protocol', {}).get('row_accounting')
  if accounts:
    lines.extend(build_command.row_accounting_lines(accounts, filtered_reasons=False))
  validation = result['metrics']['validation']
  lines.append(f'Selected epoch {validation["best_epoch"]} of {validation["epochs_run"]} by '
               f'{validation["selection_metric"]} = {validation["best_value"]}')
  if result['pushed']:
    lines.append(f'Pushed model: {result["pushed_model"]}')
  elif result['task'] == 'sbr':
    lines.append('Model not pushed: the RankingEvaluator did not bless it (see --min-ranking-'
                 'metric and --require-beat-popularity).')
  else:
    lines.append('Model not pushed: the Evaluator did not bless it (test AUC below '
                 f'--auc-threshold {result["configuration"]["auc_threshold"]}).')
  lines.append(f'TF Serving: --model_name={result["serving_model_name"]} '
               f'--model_base_path={result["serving_base_path"]}/{result["serving_model_name"]}')
  lines.append(f'TensorBoard: tensorboard --logdir {result["tensorboard_logdir"]}')
  lines.append(f'Results: {result["results_path"]}')
  lines.append(f'Wall time: {result["timings"]["wall_seconds"]:.0f} s')
  print('\n'.join(lines))
