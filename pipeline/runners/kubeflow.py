"""Kubeflow Pipelines v2 compiler: writes a pipeline definition with KubeflowV2DagRunner.

Two output formats, chosen by the file name:

* `*.json`: a `PipelineJob` (KFP pipeline spec schema 2.0 plus the runtime config with the
  pipeline root), for Vertex AI Pipelines (`aiplatform.PipelineJob(template_path=...)`).
* `*.yaml` / `*.yml`: the bare `PipelineSpec` with `defaultPipelineRoot` set, the package
  format of the Kubeflow Pipelines 2.x client (`kfp.Client().create_run_from_pipeline_package`),
  which accepts only YAML packages.

Every component runs in one
container image that must contain this project (`pip install .` on top of a TFX image, see
docs/deployment.md), because the Transform and Trainer steps import `models.*` and
`components.*` by module path.

KubeflowV2DagRunner has no option for container environment variables, so `compile_pipeline`
adds them to every container executor of the compiled spec (`PipelineContainerSpec.env`);
TF_USE_LEGACY_KERAS=1 is always among them because the models are tf-keras models.

Example:

  pipeline = pipeline_lib.create_pipeline(..., metadata_path=None, pipeline_root='gs://b/root')
  compile_pipeline(pipeline, 'tenrec.json', image='europe-docker.pkg.dev/p/r/tenrec-tfx:0.1.0')
"""

import json
import os
import re
from typing import Any, Dict, List, Mapping, Optional, Sequence

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
import tensorflow as tf
from tfx import v1 as tfx
import yaml

# Image built from docs/deployment.md (a TFX image with this project installed).
DEFAULT_IMAGE = 'tenrec-tfx:0.1.0'
REQUIRED_ENV = {'TF_USE_LEGACY_KERAS': '1'}
# Beam runner of the Beam-based components when no --runner is given: the DirectRunner with one
# worker process per core of the component's pod. An explicit running mode keeps Beam from
# downloading the Prism runner binary at start-up.
DEFAULT_BEAM_ARGS = ('--runner=DirectRunner', '--direct_running_mode=multi_processing',
                     '--direct_num_workers=0')
# Kubeflow and Vertex AI accept lower-case letters, digits and dashes in pipeline names.
_INVALID_NAME_CHARACTERS = re.compile(r'[^a-z0-9-]+')
YAML_SUFFIXES = ('.yaml', '.yml')
_ENV_NAME = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')


def kubeflow_pipeline_name(name: str) -> str:
  """Lower-cases `name` and replaces characters Kubeflow rejects with '-' (at most 128)."""
  cleaned = _INVALID_NAME_CHARACTERS.sub('-', name.lower()).strip('-')
  if not cleaned:
    raise ValueError(f'pipeline name {name!r} has no letter or digit.')
  return cleaned[:128].rstrip('-')


def parse_env(items: Optional[Sequence[str]]) -> Dict[str, str]:
  """Parses repeated K=V options into a dictionary, after the required variables.

  Raises:
    ValueError: An item is not K=V, K is not a valid variable name, or it changes
      TF_USE_LEGACY_KERAS.
  """
  env = dict(REQUIRED_ENV)
  for item in items or []:
    if '=' not in item:
      raise ValueError(f'--env needs NAME=VALUE, got {item!r}.')
    name, value = item.split('=', 1)
    if not _ENV_NAME.match(name):
      raise ValueError(f'--env name {name!r} is not a valid environment variable name.')
    if name in REQUIRED_ENV and value != REQUIRED_ENV[name]:
      raise ValueError(f'{name} must be {REQUIRED_ENV[name]!r} (the models are tf-keras '
                       f'models), got {value!r}.')
    env[name] = value
  return env


def beam_pipeline_args(extra: Optional[Sequence[str]]) -> List[str]:
  """Beam arguments for the cluster: the defaults unless `extra` sets --runner, then `extra`."""
  extra = list(extra or [])
  if any(arg.startswith('--runner') for arg in extra):
    return extra
  return list(DEFAULT_BEAM_ARGS) + extra


def add_container_env(job: Dict[str, Any], env: Mapping[str, str]) -> int:
  """Adds `env` to every container executor of a compiled PipelineJob; returns how many.

  Variables already set on a container keep their position; their values are replaced.
  """
  executors = job.get('pipelineSpec', {}).get('deploymentSpec', {}).get('executors', {})
  updated = 0
  for executor in executors.values():
    container = executor.get('container')
    if container is None:
      continue
    variables = container.setdefault('env', [])
    names = {v['name']: v for v in variables}
    for name, value in env.items():
      if name in names:
        names[name]['value'] = value
      else:
        variables.append({'name': name, 'value': value})
    updated += 1
  return updated


def compile_pipeline(pipeline: tfx.dsl.Pipeline, output_file: str,
                     image: str = DEFAULT_IMAGE,
                     env: Optional[Mapping[str, str]] = None,
                     display_name: Optional[str] = None) -> Dict[str, Any]:
  """Compiles `pipeline` to a Kubeflow Pipelines v2 PipelineJob JSON file.

  Args:
    pipeline: A pipeline from `create_pipeline(..., metadata_path=None)` whose pipeline root
      and data paths are URIs the cluster can read (gs://, s3://, a mounted volume).
    output_file: Where to write the definition (any TensorFlow file system path): a PipelineJob
      for a .json name, the bare PipelineSpec for a .yaml or .yml name.
    image: Container image of every component.
    env: Environment variables of every container (TF_USE_LEGACY_KERAS=1 is always set).
    display_name: Display name in the Kubeflow or Vertex AI UI (default: the pipeline name).

  Returns:
    The PipelineJob as a dictionary (a YAML output file contains its `pipelineSpec` part).

  Raises:
    ValueError: The compiled job is not a valid PipelineJob, or no container received `env`.
  """
  config = tfx.orchestration.experimental.KubeflowV2DagRunnerConfig(
      default_image=image, display_name=display_name)
  runner = tfx.orchestration.experimental.KubeflowV2DagRunner(config=config)
  job = runner.run(pipeline, write_out=False)

  variables = dict(REQUIRED_ENV)
  variables.update(env or {})
  if not add_container_env(job, variables):
    raise ValueError('the compiled pipeline has no container executor to set the environment '
                     'of.')
  try:
    json_format.ParseDict(job, pipeline_spec_pb2.PipelineJob())
  except json_format.ParseError as error:
    raise ValueError(f'the compiled pipeline is not a valid PipelineJob: {error}') from None

  directory = os.path.dirname(output_file)
  if directory:
    tf.io.gfile.makedirs(directory)
  if output_file.endswith(YAML_SUFFIXES):
    spec = dict(job['pipelineSpec'])
    spec['defaultPipelineRoot'] = pipeline.pipeline_info.pipeline_root
    json_format.ParseDict(spec, pipeline_spec_pb2.PipelineSpec())
    text = yaml.safe_dump(spec, sort_keys=True)
  else:
    text = json.dumps(job, indent=2, sort_keys=True)
  with tf.io.gfile.GFile(output_file, 'w') as f:
    f.write(text)
  return job
