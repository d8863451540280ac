"""Tests of components.example_gen.multi: transfer and lifelong datasets as several artifacts."""

import json
import os

import pytest
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from components.example_gen import executor as single_executor
from components.example_gen import multi
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib


@pytest.fixture(scope='module')
def data_dir(tmp_path_factory):
  from components import generator

  directory = tmp_path_factory.mktemp('multi') / 'data'
  generator.generate(str(directory), scale=0.0002, seed=1)
  return directory


def _paths(data_dir, names):
  return {name: reader.find_scenario_file(str(data_dir), schema_lib.get_scenario(name))
          for name in names}


def _run(component_class, data_dir, names, tmp_path):
  gen = component_class(input_paths=_paths(data_dir, names), builder_options={'seed': 2},
                        dataset={'kind': 'generated'})
  outputs = {}
  for key in gen.outputs:
    artifact = standard_artifacts.Examples()
    artifact.uri = str(tmp_path / key)
    os.makedirs(artifact.uri)
    outputs[key] = [artifact]
  context = multi.MultiExecutor.Context(beam_pipeline_args=['--runner=FnApiRunner'],
                                        tmp_dir=str(tmp_path / 'tmp'))
  multi.MultiExecutor(context).Do({}, outputs, dict(gen.exec_properties))
  return {key: value[0] for key, value in outputs.items()}


def test_transfer_outputs(data_dir, tmp_path):
  artifacts = _run(multi.TransferExampleGen, data_dir, ['qk_video', 'qb_video'], tmp_path)
  assert sorted(artifacts) == ['source_examples', 'target_examples']
  for artifact in artifacts.values():
    assert artifact_utils.decode_split_names(artifact.split_names) == ['train', 'eval', 'test']
    for split in ('train', 'eval', 'test'):
      assert os.listdir(os.path.join(artifact.uri, f'Split-{split}'))
    assert os.path.exists(os.path.join(artifact.uri, 'item_vocabulary.txt'))
  source = json.loads(artifacts['source_examples'].get_string_custom_property(
      single_executor.BUILD_REPORT_PROPERTY))
  assert source['sub_dataset'] == 'source'
  assert set(source['splits']) == {'train', 'eval', 'test'}
  assert not [n for n in os.listdir(tmp_path) if n.endswith('-build')]


def test_lifelong_outputs(data_dir, tmp_path):
  artifacts = _run(multi.LifelongExampleGen, data_dir,
                   ['qk_video', 'qk_article', 'qb_video', 'qb_article'], tmp_path)
  assert sorted(artifacts) == ['task0_examples', 'task1_examples', 'task2_examples',
                               'task3_examples']
  for artifact in artifacts.values():
    assert os.listdir(os.path.join(artifact.uri, 'Split-train'))
    assert artifact.get_string_custom_property('payload_format') == 'FORMAT_TF_EXAMPLE'


def test_transfer_needs_both_inputs(data_dir):
  with pytest.raises(ValueError, match='qb_video'):
    multi.TransferExampleGen(input_paths=_paths(data_dir, ['qk_video']))


def test_lifelong_rejects_invalid_row_mode(data_dir):
  with pytest.raises(ValueError, match="'skip'"):
    multi.LifelongExampleGen(
        input_paths=_paths(data_dir, ['qk_video', 'qk_article', 'qb_video', 'qb_article']),
        on_invalid_row='skip')
