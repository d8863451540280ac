"""Tests of `tenrec compile --runner kubeflow` (pipeline.commands.compile)."""

import argparse
import json

from google.protobuf import json_format
from kfp.pipeline_spec import pipeline_spec_pb2
import pytest

from pipeline import cli
from pipeline.commands import compile as compile_command

IMAGE = 'europe-docker.pkg.dev/project/repo/tenrec-tfx:0.1.0'
COMPONENTS = ['Evaluator', 'ExampleValidator', 'Pusher', 'SchemaGen', 'StatisticsGen',
              'TenrecExampleGen', 'Trainer', 'Transform']


@pytest.fixture(scope='module')
def compiled(tmp_path_factory):
  output = tmp_path_factory.mktemp('kubeflow') / 'tenrec.json'
  status = cli.main(['compile', '--runner', 'kubeflow', '--output', str(output),
                     '--image', IMAGE, '--env', 'TENREC_CACHE_DIR=/cache', '--env', 'A=b=c',
                     '--beam-arg=--runner=DataflowRunner', '--beam-arg=--project=p',
                     '--beam-arg=--region=europe-west4',
                     '--data-dir', 'gs://bucket/tenrec', '--dataset-kind', 'tenrec',
                     '--data-version', 'v1', '--pipeline-root', 'gs://bucket/root',
                     '--model', 'deepfm', '--epochs', '2'])
  return status, json.loads(output.read_text())


def _containers(job):
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  return {name: e['container'] for name, e in executors.items() if 'container' in e}


def _task_parameters(job, task):
  inputs = job['pipelineSpec']['root']['dag']['tasks'][task]['inputs']['parameters']
  return {k: v['runtimeValue']['constantValue']['stringValue'] for k, v in inputs.items()
          if 'stringValue' in v.get('runtimeValue', {}).get('constantValue', {})}


def test_compile_status(compiled):
  assert compiled[0] == 0


def test_compile_valid_pipeline_job(compiled):
  job = json_format.ParseDict(compiled[1], pipeline_spec_pb2.PipelineJob())
  assert job.pipeline_spec['pipelineInfo']['name'] == 'tenrec-ctr-deepfm-tenrec'


def test_compile_components(compiled):
  tasks = sorted(compiled[1]['pipelineSpec']['root']['dag']['tasks'])
  assert tasks == COMPONENTS


def test_compile_image_on_every_container(compiled):
  containers = _containers(compiled[1])
  assert len(containers) == 8
  assert {c['image'] for c in containers.values()} == {IMAGE}


def test_compile_env_on_every_container(compiled):
  for container in _containers(compiled[1]).values():
    env = {v['name']: v['value'] for v in container['env']}
    assert env == {'TF_USE_LEGACY_KERAS': '1', 'TENREC_CACHE_DIR': '/cache', 'A': 'b=c'}


def test_compile_beam_args_on_beam_components(compiled):
  containers = _containers(compiled[1])
  for name in ('TenrecExampleGen_executor', 'StatisticsGen_executor', 'Transform_executor',
               'Evaluator_executor'):
    args = containers[name]['args']
    assert '--runner=DataflowRunner' in args
    assert '--region=europe-west4' in args


def test_compile_data_and_serving_paths(compiled):
  example_gen = _task_parameters(compiled[1], 'TenrecExampleGen')
  pusher = json.dumps(compiled[1]['pipelineSpec']['root']['dag']['tasks']['Pusher'])
  assert json.loads(example_gen['input_paths']) == {'qk_video': 'gs://bucket/tenrec/QK-video.csv'}
  assert example_gen['input_fingerprint'] == 'data-version:v1'
  assert json.loads(example_gen['dataset'])['kind'] == 'tenrec'
  assert 'gs://bucket/root/serving/ctr_deepfm' in pusher


def test_compile_trainer_hparams(compiled):
  trainer = _task_parameters(compiled[1], 'Trainer')
  assert json.loads(trainer['custom_config'])['hparams'] == {'epochs': 2}


def test_compile_remote_needs_dataset_kind(tmp_path, capsys):
  status = cli.main(['compile', '--output', str(tmp_path / 'p.json'), '--data-dir', 's3://b/d',
                     '--pipeline-root', 's3://b/r'])
  assert status == 2
  assert '--dataset-kind' in capsys.readouterr().err


def test_compile_rejects_legacy_keras_override(tmp_path, capsys):
  status = cli.main(['compile', '--output', str(tmp_path / 'p.json'), '--data-dir', 'gs://b/d',
                     '--dataset-kind', 'tenrec', '--pipeline-root', 'gs://b/r',
                     '--env', 'TF_USE_LEGACY_KERAS=0'])
  assert status == 2
  assert 'TF_USE_LEGACY_KERAS must be' in capsys.readouterr().err


def test_describe_local_generated_dataset(tmp_path):
  (tmp_path / 'generation.json').write_text(json.dumps({'scale': 0.001, 'seed': 3}))
  args = argparse.Namespace(data_dir=str(tmp_path), dataset_kind=None)
  info = compile_command.describe_dataset(args)
  assert info.kind == 'generated'


def test_describe_local_kind_contradiction(tmp_path):
  (tmp_path / 'generation.json').write_text(json.dumps({'scale': 0.001, 'seed': 3}))
  args = argparse.Namespace(data_dir=str(tmp_path), dataset_kind='tenrec')
  with pytest.raises(ValueError, match='contradicts'):
    compile_command.describe_dataset(args)


def test_describe_remote_public_dataset():
  args = argparse.Namespace(data_dir='gs://b/movielens/', dataset_kind='public')
  info = compile_command.describe_dataset(args)
  assert info.description == {'kind': 'public', 'name': 'movielens', 'path': 'gs://b/movielens/',
                              'note': 'public data; not Tenrec results.'}


@pytest.mark.parametrize('output', ['p.txt', 'p'])
def test_compile_rejects_output_suffix(tmp_path, capsys, output):
  status = cli.main(['compile', '--output', str(tmp_path / output), '--data-dir', 'gs://b/d',
                     '--dataset-kind', 'tenrec', '--pipeline-root', 'gs://b/r'])
  error = capsys.readouterr().err
  assert status == 2
  assert error.startswith('tenrec compile: error: --output')
  assert '.json' in error
  assert not (tmp_path / output).exists()


def test_compile_rejects_relative_pipeline_root(tmp_path, capsys):
  status = cli.main(['compile', '--output', str(tmp_path / 'p.json'), '--data-dir', 'gs://b/d',
                     '--dataset-kind', 'tenrec', '--pipeline-root', 'relative/root'])
  error = capsys.readouterr().err
  assert status == 2
  assert 'relative/root is a relative path' in error
  assert 'gs://' in error


def test_compile_yaml_pipeline_spec(tmp_path, capsys):
  import yaml  # pylint: disable=import-outside-toplevel

  output = tmp_path / 'tenrec.yaml'
  status = cli.main(['compile', '--output', str(output), '--image', IMAGE,
                     '--data-dir', 'gs://bucket/tenrec', '--dataset-kind', 'tenrec',
                     '--pipeline-root', 'gs://bucket/root'])
  spec = json_format.ParseDict(yaml.safe_load(output.read_text()),
                               pipeline_spec_pb2.PipelineSpec())
  container = spec.deployment_spec['executors']['Trainer_executor']['container']
  assert status == 0
  assert spec.default_pipeline_root == 'gs://bucket/root'
  assert container['image'] == IMAGE
  assert {'name': 'TF_USE_LEGACY_KERAS', 'value': '1'} in container['env']
  transform_args = spec.deployment_spec['executors']['Transform_executor']['container']['args']
  assert '--direct_running_mode=multi_processing' in list(transform_args)
  assert f"create_run_from_pipeline_package('{output}'" in capsys.readouterr().out
