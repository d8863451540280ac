"""Tests of pipeline.runners.kubeflow helpers (the full compile is in the compile tests)."""

import pytest

from pipeline.runners import kubeflow


def test_pipeline_name_cleaned():
  assert kubeflow.kubeflow_pipeline_name('tenrec-ctr-DeepFM-generated-s0.001-seed0') == (
      'tenrec-ctr-deepfm-generated-s0-001-seed0')


def test_pipeline_name_length():
  assert len(kubeflow.kubeflow_pipeline_name('a' * 300)) == 128


def test_pipeline_name_without_letters():
  with pytest.raises(ValueError, match='no letter or digit'):
    kubeflow.kubeflow_pipeline_name('..')


def test_parse_env_adds_required():
  assert kubeflow.parse_env(['X=1']) == {'TF_USE_LEGACY_KERAS': '1', 'X': '1'}


@pytest.mark.parametrize('item, message', [
    ('NOVALUE', 'NAME=VALUE'),
    ('1BAD=x', 'not a valid environment variable name'),
    ('TF_USE_LEGACY_KERAS=0', 'must be'),
])
def test_parse_env_invalid(item, message):
  with pytest.raises(ValueError, match=message):
    kubeflow.parse_env([item])


def test_beam_args_default_runner():
  assert kubeflow.beam_pipeline_args(['--temp_location=gs://b/t']) == [
      '--runner=DirectRunner', '--direct_running_mode=multi_processing',
      '--direct_num_workers=0', '--temp_location=gs://b/t']


def test_beam_args_explicit_runner():
  args = ['--runner=FlinkRunner', '--flink_master=flink:8081']
  assert kubeflow.beam_pipeline_args(args) == args


def test_add_container_env():
  job = {'pipelineSpec': {'deploymentSpec': {'executors': {
      'a': {'container': {'image': 'i', 'env': [{'name': 'X', 'value': 'old'}]}},
      'b': {'importer': {}},
      'c': {'container': {'image': 'i'}}}}}}
  updated = kubeflow.add_container_env(job, {'X': 'new', 'Y': '2'})
  executors = job['pipelineSpec']['deploymentSpec']['executors']
  assert updated == 2
  assert executors['a']['container']['env'] == [{'name': 'X', 'value': 'new'},
                                                {'name': 'Y', 'value': '2'}]
  assert executors['c']['container']['env'] == [{'name': 'X', 'value': 'new'},
                                                {'name': 'Y', 'value': '2'}]
  assert 'env' not in executors['b']
