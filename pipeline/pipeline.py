"""TFX pipeline definitions of the Tenrec tasks.

`create_pipeline` takes every path and option explicitly, so the same definition serves the
local runner, the Kubeflow compiler and tests. The CTR and multi-task pipeline is:

  TenrecExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform -> Trainer
  -> Evaluator (TFMA on the test split, with a blessing threshold) -> Pusher (TF Serving layout)
"""

import hashlib
import os
import pathlib
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import tensorflow_model_analysis as tfma
from tfx import v1 as tfx

from components.evaluation.component import RankingEvaluator
from components.example_gen.component import TenrecExampleGen

# Component ids, also used to find their outputs in ML Metadata.
EXAMPLE_GEN = 'TenrecExampleGen'
STATISTICS_GEN = 'StatisticsGen'
SCHEMA_GEN = 'SchemaGen'
EXAMPLE_VALIDATOR = 'ExampleValidator'
TRANSFORM = 'Transform'
TRAINER = 'Trainer'
EVALUATOR = 'Evaluator'
PUSHER = 'Pusher'

CTR_COMPONENT_ORDER = (EXAMPLE_GEN, STATISTICS_GEN, SCHEMA_GEN, EXAMPLE_VALIDATOR, TRANSFORM,
                       TRAINER, EVALUATOR, PUSHER)

RANKING_EVALUATOR = 'RankingEvaluator'
SBR_COMPONENT_ORDER = (EXAMPLE_GEN, STATISTICS_GEN, SCHEMA_GEN, EXAMPLE_VALIDATOR, TRAINER,
                       RANKING_EVALUATOR, PUSHER)
SBR_RUN_FN = 'models.trainers.sbr.run_fn'
EVALUATION_CODE = ('components/evaluation', 'models/metrics', 'models/trainers/sbr_data.py')

CTR_PREPROCESSING_FN = 'models.preprocessing.ctr.preprocessing_fn'
CTR_RUN_FN = 'models.trainers.ctr.run_fn'
DEFAULT_AUC_THRESHOLD = 0.55

# Source folders whose code each custom-code component runs.
BUILDER_CODE = ('components/builders', 'components/example_gen', 'components/tenrec_io')
TRANSFORM_CODE = ('models/preprocessing',)
TRAINER_CODE = ('models', 'serving')


def code_version(packages: Sequence[str], root: Optional[pathlib.Path] = None) -> str:
  """Returns a fingerprint of the Python sources under the given project folders.

  Components run library code by dotted path, which TFX caching cannot see; the fingerprint is
  added to their parameters so that a code change invalidates their cached results.
  """
  root = root or pathlib.Path(__file__).resolve().parent.parent
  digest = hashlib.sha256()
  for package in packages:
    target = root / package
    paths = [target] if target.is_file() else sorted(target.rglob('*.py'))
    for path in paths:
      digest.update(str(path.relative_to(root)).encode())
      digest.update(path.read_bytes())
  return digest.hexdigest()[:16]


def make_eval_config(labels: Sequence[str],
                     auc_threshold: Optional[float] = DEFAULT_AUC_THRESHOLD) -> tfma.EvalConfig:
  """TFMA configuration: AUC, log loss and calibration per objective on the whole test split.

  The model is blessed when the AUC of every objective reaches `auc_threshold`. None blesses
  every model (a lower bound of 0): TFX writes no blessing at all without a threshold, and the
  Pusher would then never push.
  """
  threshold = tfma.MetricThreshold(value_threshold=tfma.GenericValueThreshold(
      lower_bound={'value': 0.0 if auc_threshold is None else auc_threshold}))
  metrics = [
      tfma.MetricConfig(class_name='ExampleCount'),
      tfma.MetricConfig(class_name='AUC', config='"num_thresholds": 10000', threshold=threshold),
      tfma.MetricConfig(class_name='BinaryCrossentropy', config='"name": "log_loss"'),
      tfma.MetricConfig(class_name='MeanLabel'),
      tfma.MetricConfig(class_name='MeanPrediction'),
      tfma.MetricConfig(class_name='Calibration'),
  ]
  if len(labels) == 1:
    model_spec = tfma.ModelSpec(signature_name='serving_default', label_key=labels[0],
                                prediction_key=labels[0])
    metrics_specs = [tfma.MetricsSpec(metrics=metrics)]
  else:
    model_spec = tfma.ModelSpec(signature_name='serving_default',
                                label_keys={label: label for label in labels},
                                prediction_keys={label: label for label in labels})
    metrics_specs = [tfma.MetricsSpec(metrics=metrics, output_names=list(labels))]
  return tfma.EvalConfig(model_specs=[model_spec], slicing_specs=[tfma.SlicingSpec()],
                         metrics_specs=metrics_specs)


def create_pipeline(*,
                    pipeline_name: str,
                    pipeline_root: str,
                    metadata_path: Optional[str],
                    task: str,
                    model: str,
                    input_paths: Mapping[str, str],
                    builder_options: Mapping[str, Any],
                    labels: Sequence[str],
                    hparams: Mapping[str, Any],
                    seed: int,
                    serving_model_dir: str,
                    auc_threshold: Optional[float] = DEFAULT_AUC_THRESHOLD,
                    min_frequency: int = 1,
                    dataset: Optional[Mapping[str, Any]] = None,
                    on_invalid_row: str = 'raise',
                    beam_pipeline_args: Optional[List[str]] = None,
                    enable_cache: bool = True,
                    input_fingerprint: Optional[str] = None) -> tfx.dsl.Pipeline:
  """Creates the CTR or multi-task pipeline.

  Args:
    pipeline_name: Pipeline name (also the ML Metadata context).
    pipeline_root: Folder for all component outputs.
    metadata_path: SQLite ML Metadata file for local runs; None when the orchestrator provides
      the metadata connection (Kubeflow).
    task: 'ctr' or 'mtl'.
    model: Registered model name (see models.registry).
    input_paths: Raw file per builder input (for example {'qk_video': '.../QK-video.csv'}).
    builder_options: Options of the dataset builder (see components.builders.ctr.CtrOptions).
    labels: Objectives the model predicts (CTR: ['click']).
    hparams: Model hyper-parameter overrides.
    seed: Seed of training (the dataset seed is in builder_options).
    serving_model_dir: TF Serving base path; the model is pushed to
      `<serving_model_dir>/<version>/` (pass the folder named after the model).
    auc_threshold: Minimum test AUC for the Evaluator to bless the model; None blesses always.
    min_frequency: Ids seen fewer times in the training split are out of vocabulary.
    dataset: Description of the data (kind, name, seed) recorded with the results.
    on_invalid_row: 'raise' or 'reject' (see TenrecExampleGen).
    beam_pipeline_args: Beam arguments of every Beam-based component.
    enable_cache: Reuse the outputs of components whose inputs and parameters are unchanged.
    input_fingerprint: Cache key of the raw files; None computes it from the files (see
      TenrecExampleGen), which needs them readable when the pipeline is created.
  """
  if task not in ('ctr', 'mtl'):
    raise ValueError(f"create_pipeline builds the 'ctr' and 'mtl' pipelines, got {task!r}.")

  code_versions = ctr_code_versions()
  data = ctr_data_components(input_paths=input_paths, builder_options=builder_options,
                             min_frequency=min_frequency, dataset=dataset,
                             on_invalid_row=on_invalid_row, input_fingerprint=input_fingerprint,
                             code_versions=code_versions)
  trainer, evaluator = ctr_model_components(data, task=task, model=model, labels=labels,
                                            hparams=hparams, seed=seed,
                                            auc_threshold=auc_threshold,
                                            code_versions=code_versions)
  pusher = tfx.components.Pusher(
      model=trainer.outputs['model'],
      model_blessing=evaluator.outputs['blessing'],
      push_destination=tfx.proto.PushDestination(
          filesystem=tfx.proto.PushDestination.Filesystem(
              base_directory=serving_model_dir))).with_id(PUSHER)

  components = list(data.values()) + [trainer, evaluator, pusher]
  return tfx.dsl.Pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=pipeline_root,
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path)
          if metadata_path else None),
      components=components,
      enable_cache=enable_cache,
      beam_pipeline_args=list(beam_pipeline_args or []))


def ctr_code_versions() -> Dict[str, str]:
  """Fingerprints of the code that the CTR pipeline's builder, Transform and Trainer run.

  A long-running process that creates several pipelines (the benchmark) computes them once, so
  that every pipeline it creates has the cache keys of the code it imported at the start.
  """
  return {'builder': code_version(BUILDER_CODE), 'transform': code_version(TRANSFORM_CODE),
          'trainer': code_version(TRAINER_CODE)}


def ctr_data_components(*,
                        input_paths: Mapping[str, str],
                        builder_options: Mapping[str, Any],
                        min_frequency: int = 1,
                        dataset: Optional[Mapping[str, Any]] = None,
                        on_invalid_row: str = 'raise',
                        input_fingerprint: Optional[str] = None,
                        code_versions: Optional[Mapping[str, str]] = None) -> Dict[str, Any]:
  """Returns the data components of the CTR and multi-task pipelines, keyed by component id.

  TenrecExampleGen -> StatisticsGen -> SchemaGen -> ExampleValidator -> Transform, in run order.
  Arguments as in `create_pipeline`; `code_versions` (see `ctr_code_versions`) defaults to the
  current code. Several trainers can share them (see `ctr_model_components`).
  """
  code_versions = code_versions or ctr_code_versions()
  example_gen = TenrecExampleGen(task='ctr', input_paths=input_paths,
                                 builder_options=builder_options, on_invalid_row=on_invalid_row,
                                 dataset=dataset,
                                 code_version=code_versions['builder'],
                                 input_fingerprint=input_fingerprint).with_id(EXAMPLE_GEN)
  statistics_gen = tfx.components.StatisticsGen(
      examples=example_gen.outputs['examples']).with_id(STATISTICS_GEN)
  schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs['statistics'],
                                        infer_feature_shape=True).with_id(SCHEMA_GEN)
  example_validator = tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema']).with_id(EXAMPLE_VALIDATOR)
  transform = tfx.components.Transform(
      examples=example_gen.outputs['examples'],
      schema=schema_gen.outputs['schema'],
      preprocessing_fn=CTR_PREPROCESSING_FN,
      splits_config=tfx.proto.SplitsConfig(analyze=['train'], transform=['train', 'eval']),
      custom_config={'min_frequency': min_frequency,
                     'code_version': code_versions['transform']},
      disable_statistics=True).with_id(TRANSFORM)
  return {component.id: component for component in
          (example_gen, statistics_gen, schema_gen, example_validator, transform)}


def ctr_model_components(data: Mapping[str, Any], *,
                         task: str,
                         model: str,
                         labels: Sequence[str],
                         hparams: Mapping[str, Any],
                         seed: int,
                         auc_threshold: Optional[float] = DEFAULT_AUC_THRESHOLD,
                         id_suffix: str = '',
                         code_versions: Optional[Mapping[str, str]] = None) -> Tuple[Any, Any]:
  """Returns the Trainer and the TFMA Evaluator of one model on `ctr_data_components` outputs.

  Their ids are `Trainer<id_suffix>` and `Evaluator<id_suffix>`, so one pipeline can hold
  several (for example `Trainer.deepfm.seed1`). Other arguments as in `create_pipeline` and
  `ctr_data_components`.
  """
  code_versions = code_versions or ctr_code_versions()
  trainer = tfx.components.Trainer(
      run_fn=CTR_RUN_FN,
      examples=data[TRANSFORM].outputs['transformed_examples'],
      transform_graph=data[TRANSFORM].outputs['transform_graph'],
      schema=data[SCHEMA_GEN].outputs['schema'],
      train_args=tfx.proto.TrainArgs(splits=['train']),
      eval_args=tfx.proto.EvalArgs(splits=['eval']),
      custom_config={
          'task': task,
          'model': model,
          'hparams': dict(hparams),
          'labels': list(labels),
          'seed': seed,
          'code_version': code_versions['trainer'],
      }).with_id(TRAINER + id_suffix)
  evaluator = tfx.components.Evaluator(
      examples=data[EXAMPLE_GEN].outputs['examples'],
      model=trainer.outputs['model'],
      example_splits=['test'],
      eval_config=make_eval_config(labels, auc_threshold)).with_id(EVALUATOR + id_suffix)
  return trainer, evaluator


def create_sbr_pipeline(*,
                        pipeline_name: str,
                        pipeline_root: str,
                        metadata_path: Optional[str],
                        model: str,
                        input_paths: Mapping[str, str],
                        builder_options: Mapping[str, Any],
                        trainer_options: Mapping[str, Any],
                        hparams: Mapping[str, Any],
                        seed: int,
                        serving_model_dir: str,
                        task: str = 'sbr',
                        ks: Sequence[int] = (5, 10, 20),
                        selection_metric: str = 'NDCG@10',
                        min_value: float = 0.0,
                        require_beat_popularity: bool = True,
                        dataset: Optional[Mapping[str, Any]] = None,
                        on_invalid_row: str = 'raise',
                        beam_pipeline_args: Optional[List[str]] = None,
                        enable_cache: bool = True) -> tfx.dsl.Pipeline:
  """Creates the sequential-recommendation pipeline.

  TenrecExampleGen (SBR builder) -> StatisticsGen -> SchemaGen -> ExampleValidator -> Trainer
  (trains, selects the epoch on validation, exports `serving_default` and `top_k`) ->
  RankingEvaluator (full ranking on the test split, popularity baseline, blessing) -> Pusher.

  Args:
    pipeline_name, pipeline_root, metadata_path: As in `create_pipeline`.
    model: Registered `sbr` model name.
    input_paths: Raw file per builder input (for example {'qk_video': '.../QK-video.csv'}).
    builder_options: Options of the SBR builder (see components.builders.sequence_options).
    trainer_options: SBRTrainingConfig fields other than model, hparams and seed (for example
      {'readout': 'last', 'train_windows': 'all'}).
    hparams: Model hyper-parameter overrides (for example {'max_len': 30}).
    seed: Training seed.
    serving_model_dir: TF Serving base path of the model.
    task: Builder task: 'sbr' (QK-video) or 'infacc' (QB-video in the SBR format).
    ks: Cut-offs of the test metrics.
    selection_metric: Metric of the blessing rule (validation selection uses the trainer's).
    min_value: Minimum test value of the selection metric for the blessing.
    require_beat_popularity: Bless only models that beat the item-popularity baseline.
    dataset, on_invalid_row, beam_pipeline_args, enable_cache: As in `create_pipeline`.
  """
  example_gen = TenrecExampleGen(task=task, input_paths=input_paths,
                                 builder_options=builder_options, on_invalid_row=on_invalid_row,
                                 dataset=dataset,
                                 code_version=code_version(BUILDER_CODE)).with_id(EXAMPLE_GEN)
  statistics_gen = tfx.components.StatisticsGen(
      examples=example_gen.outputs['examples']).with_id(STATISTICS_GEN)
  schema_gen = tfx.components.SchemaGen(statistics=statistics_gen.outputs['statistics'],
                                        infer_feature_shape=False).with_id(SCHEMA_GEN)
  example_validator = tfx.components.ExampleValidator(
      statistics=statistics_gen.outputs['statistics'],
      schema=schema_gen.outputs['schema']).with_id(EXAMPLE_VALIDATOR)
  custom_config = dict(trainer_options)
  custom_config.update({'model': model, 'hparams': dict(hparams), 'seed': seed,
                        'code_version': code_version(TRAINER_CODE)})
  trainer = tfx.components.Trainer(
      run_fn=SBR_RUN_FN,
      examples=example_gen.outputs['examples'],
      schema=schema_gen.outputs['schema'],
      train_args=tfx.proto.TrainArgs(splits=['train']),
      eval_args=tfx.proto.EvalArgs(splits=['eval']),
      custom_config=custom_config).with_id(TRAINER)
  evaluator = RankingEvaluator(
      examples=example_gen.outputs['examples'], model=trainer.outputs['model'], ks=ks,
      selection_metric=selection_metric, min_value=min_value,
      require_beat_popularity=require_beat_popularity,
      code_version=code_version(EVALUATION_CODE)).with_id(RANKING_EVALUATOR)
  pusher = tfx.components.Pusher(
      model=trainer.outputs['model'],
      model_blessing=evaluator.outputs['blessing'],
      push_destination=tfx.proto.PushDestination(
          filesystem=tfx.proto.PushDestination.Filesystem(
              base_directory=serving_model_dir))).with_id(PUSHER)

  return tfx.dsl.Pipeline(
      pipeline_name=pipeline_name,
      pipeline_root=pipeline_root,
      metadata_connection_config=(
          tfx.orchestration.metadata.sqlite_metadata_connection_config(metadata_path)
          if metadata_path else None),
      components=[example_gen, statistics_gen, schema_gen, example_validator, trainer,
                  evaluator, pusher],
      enable_cache=enable_cache,
      beam_pipeline_args=list(beam_pipeline_args or []))


def default_beam_pipeline_args(num_workers: int = 0) -> List[str]:
  """Local Beam arguments: the DirectRunner in multi-processing mode with one worker per core.

  `num_workers=0` uses every core; 1 runs in-process (fastest on tiny data).
  """
  workers = num_workers or os.cpu_count() or 1
  if workers == 1:
    # DirectRunner would first try to download the Prism runner binary.
    return ['--runner=FnApiRunner']
  return ['--runner=DirectRunner', '--direct_running_mode=multi_processing',
          f'--direct_num_workers={workers}']
