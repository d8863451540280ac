"""`tenrec compile`: write the pipeline definition for Kubeflow Pipelines v2 or Vertex AI."""

import argparse
import datetime
import logging
import os
import sys

from pipeline.commands import common_args

RUNNERS = ('kubeflow',)
DATASET_KINDS = ('tenrec', 'public', 'generated')


def add_parser(subparsers) -> None:
  parser = subparsers.add_parser(
      'compile', help='Compile the TFX pipeline for Kubeflow Pipelines v2 / Vertex AI.',
      description='Write the CTR or multi-task pipeline for Kubeflow Pipelines v2 with '
      'KubeflowV2DagRunner: a PipelineJob JSON for Vertex AI (--output *.json) or a '
      'PipelineSpec YAML for the Kubeflow Pipelines client (--output *.yaml). Paths are URIs '
      'the cluster reads (gs://, s3://, or a mounted volume); they are not opened at compile '
      'time unless they are local folders.',
      formatter_class=common_args.HelpFormatter)
  parser.add_argument('--runner', choices=RUNNERS, default='kubeflow',
                      help='Orchestrator to compile for.')
  parser.add_argument('--output', required=True, metavar='FILE',
                      help='Pipeline definition to write: .json (PipelineJob) or .yaml / .yml '
                      '(PipelineSpec).')
  parser.add_argument('--image', default=None,
                      help='Container image of every component: a TFX image with tenrec-tfx '
                      'installed (see docs/deployment.md). Default: tenrec-tfx:0.1.0.')
  parser.add_argument('--env', action='append', default=None, metavar='NAME=VALUE',
                      help='Environment variable of every component container; repeatable. '
                      'TF_USE_LEGACY_KERAS=1 is always set.')
  parser.add_argument('--beam-arg', action='append', default=None, metavar='ARG',
                      help='Beam pipeline argument of the Beam components, for example '
                      '--beam-arg=--runner=DataflowRunner --beam-arg=--project=P. Repeatable. '
                      'Without a --runner the components use the DirectRunner with one worker '
                      'per core of their pod.')
  parser.add_argument('--display-name', default=None,
                      help='Display name in the Kubeflow or Vertex AI UI.')

  parser.add_argument('--task', choices=('ctr', 'mtl'), default='ctr', help='Benchmark task.')
  parser.add_argument('--model', default='deepfm', help='Registered model name.')
  parser.add_argument('--data-dir', required=True,
                      help='Folder URI with the Tenrec-schema raw CSV files (for example '
                      'gs://bucket/tenrec).')
  parser.add_argument('--dataset-kind', choices=DATASET_KINDS, default=None,
                      help='Kind of data in --data-dir, recorded with the results. Required for '
                      'remote URIs; local folders are inspected instead.')
  parser.add_argument('--data-version', default=None,
                      help='Label of the version of the remote raw files, part of the '
                      'ExampleGen cache key (remote files are not opened to fingerprint them). '
                      'Default: the compile time, so each compiled file reads the data again.')
  parser.add_argument('--pipeline-root', required=True,
                      help='Absolute path or URI that the cluster can read and write, for the '
                      'outputs of every component (for example gs://bucket/tenrec-root).')
  parser.add_argument('--serving-dir', default=None,
                      help='TF Serving base path the Pusher writes to (default: '
                      'PIPELINE_ROOT/serving). The model is pushed to '
                      'SERVING_DIR/MODEL_NAME/VERSION/.')
  parser.add_argument('--model-name', default=None,
                      help='Serving model name (default: TASK_MODEL, for example ctr_deepfm).')
  parser.add_argument('--pipeline-name', default=None,
                      help='Pipeline name (default: tenrec-TASK-MODEL-DATASET).')
  parser.add_argument('--auc-threshold', type=float, default=0.55,
                      help='Minimum test AUC for the Evaluator to bless the model; a negative '
                      'value blesses every model.')
  parser.add_argument('--on-invalid-row', choices=('raise', 'reject'), default='raise',
                      help='Stop at the first invalid input row, or skip and count it.')
  parser.add_argument('--cache', action=argparse.BooleanOptionalAction, default=True,
                      help='Let the orchestrator reuse outputs of unchanged components.')
  common_args.add_ctr_builder_arguments(parser)
  common_args.add_training_arguments(parser)
  parser.set_defaults(run=run)


OUTPUT_SUFFIXES = ('.json', '.yaml', '.yml')


def _is_remote(uri: str) -> bool:
  return '://' in uri


def validate_arguments(args: argparse.Namespace) -> None:
  """Checks --output and --pipeline-root before anything is compiled.

  Raises:
    common_args.UsageError: --output has another suffix than .json, .yaml or .yml, or
      --pipeline-root is a relative path.
  """
  if not args.output.lower().endswith(OUTPUT_SUFFIXES):
    raise common_args.UsageError(
        f'--output {args.output} must end in .json (a Vertex AI PipelineJob) or .yaml / .yml '
        '(a Kubeflow PipelineSpec).')
  if not _is_remote(args.pipeline_root) and not os.path.isabs(args.pipeline_root):
    raise common_args.UsageError(
        f'--pipeline-root {args.pipeline_root} is a relative path, which the cluster cannot '
        'resolve; pass an absolute path of a volume mounted in every pod, or a gs://, s3:// '
        'or other URI that the cluster can read and write.')


def describe_dataset(args: argparse.Namespace):
  """Returns the DatasetInfo of --data-dir without opening remote URIs."""
  from pipeline import datasets  # pylint: disable=import-outside-toplevel

  if not _is_remote(args.data_dir):
    info = datasets.describe(args.data_dir)
    if args.dataset_kind and args.dataset_kind != info.kind:
      raise ValueError(f'--dataset-kind {args.dataset_kind} contradicts {args.data_dir}, which '
                       f'holds {info.kind} data.')
    return info
  if not args.dataset_kind:
    raise ValueError(f'--data-dir {args.data_dir} is a remote URI, which compile does not open; '
                     f'say what it holds with --dataset-kind ({", ".join(DATASET_KINDS)}).')
  name = args.data_dir.rstrip('/').rsplit('/', 1)[-1] or args.dataset_kind
  description = {'kind': args.dataset_kind, 'name': name, 'path': args.data_dir}
  if args.dataset_kind != 'tenrec':
    description['note'] = f'{args.dataset_kind} data; not Tenrec results.'
  return datasets.DatasetInfo(data_dir=args.data_dir, kind=args.dataset_kind,
                              name=args.dataset_kind, description=description)


def build_pipeline(args: argparse.Namespace):
  """Creates the pipeline object for parsed `tenrec compile` arguments."""
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=import-outside-toplevel
  from components.builders import registry as builder_registry  # pylint: disable=import-outside-toplevel
  from models import registry  # pylint: disable=import-outside-toplevel
  from pipeline import pipeline as pipeline_lib  # pylint: disable=import-outside-toplevel
  from pipeline.runners import kubeflow  # pylint: disable=import-outside-toplevel

  spec = registry.get_model(args.task, args.model)
  hparams = common_args.hparam_overrides(args)
  resolved = spec.resolve_hparams(hparams)
  labels = (['click'] if args.task == 'ctr' else
            list(hparams.get('objectives') or resolved.get('objectives') or ['click', 'like']))
  builder_options = common_args.ctr_builder_options(args)
  builder = builder_registry.create_builder('ctr', builder_options)
  dataset = describe_dataset(args)
  input_fingerprint = None
  if _is_remote(args.data_dir):
    input_paths = {i.name: FileSystems.join(args.data_dir, i.scenario.file_name)
                   for i in builder.inputs()}
    data_version = args.data_version or datetime.datetime.now(
        datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    input_fingerprint = f'data-version:{data_version}'
  else:
    input_paths = common_args.input_paths(dataset, builder)

  pipeline_name = kubeflow.kubeflow_pipeline_name(
      args.pipeline_name or f'tenrec-{args.task}-{spec.name}-{dataset.name}')
  model_name = args.model_name or f'{args.task}_{spec.name}'
  serving_dir = args.serving_dir or f'{args.pipeline_root.rstrip("/")}/serving'
  pipeline = pipeline_lib.create_pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=args.pipeline_root,
      metadata_path=None,
      task=args.task,
      model=spec.name,
      input_paths=input_paths,
      builder_options=builder_options,
      labels=labels,
      hparams=hparams,
      seed=args.seed,
      serving_model_dir=f'{serving_dir.rstrip("/")}/{model_name}',
      auc_threshold=None if args.auc_threshold < 0 else args.auc_threshold,
      min_frequency=args.min_frequency,
      dataset=dataset.description,
      on_invalid_row=args.on_invalid_row,
      beam_pipeline_args=kubeflow.beam_pipeline_args(args.beam_arg),
      enable_cache=args.cache,
      input_fingerprint=input_fingerprint)
  return pipeline, model_name, serving_dir


def run(args: argparse.Namespace) -> int:
  from pipeline.runners import kubeflow  # pylint: disable=import-outside-toplevel

  validate_arguments(args)
  try:
    env = kubeflow.parse_env(args.env)
    pipeline, model_name, serving_dir = build_pipeline(args)
  except ValueError as error:
    print(f'tenrec compile: error: {error}', file=sys.stderr)
    return 2
  image = args.image or kubeflow.DEFAULT_IMAGE
  job = kubeflow.compile_pipeline(pipeline, args.output, image=image, env=env,
                                  display_name=args.display_name)
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  logging.info('Compiled %d executors.', len(executors))
  print(f'Wrote {args.output}: pipeline {pipeline.pipeline_info.pipeline_name}, '
        f'{len(pipeline.components)} components, image {image}.')
  print(f'Environment: {", ".join(f"{k}={v}" for k, v in env.items())}')
  print(f'Beam arguments: {" ".join(kubeflow.beam_pipeline_args(args.beam_arg))}')
  print(f'The Pusher writes to {serving_dir}/{model_name}/VERSION/.')
  print(f'Submit: see docs/deployment.md (kfp.Client().create_run_from_pipeline_package('
        f'{os.path.abspath(args.output)!r}, ...) or Vertex AI PipelineJob).')
  return 0
