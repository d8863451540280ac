"""Tests of components.example_gen: TenrecExampleGen parameters and its executor's output."""

import json
import os

import pytest
from tfx.types import artifact_utils
from tfx.types import standard_artifacts

from components.example_gen import component
from components.example_gen import executor

_HEADER = 'user_id,item_id,click,follow,like,share,video_category,watching_times,gender,age\n'


@pytest.fixture
def raw_file(tmp_path):
  lines = [_HEADER]
  for user in range(1, 31):
    for item in range(1, 9):
      click = int((user + item) % 3 == 0)
      lines.append(f'{user},{item},{click},0,{click},0,{item % 2},{click},1,2\n')
  path = tmp_path / 'QK-video.csv'
  path.write_text(''.join(lines))
  return str(path)


def test_component_records_parameters(raw_file):
  gen = component.TenrecExampleGen(task='ctr', input_paths={'qk_video': raw_file},
                                   builder_options={'seed': 3},
                                   dataset={'kind': 'generated'})
  assert gen.exec_properties['task'] == 'ctr'
  assert json.loads(gen.exec_properties['builder_options'])['seed'] == 3
  assert json.loads(gen.exec_properties['input_paths']) == {'qk_video': raw_file}
  assert json.loads(gen.exec_properties['dataset']) == {'kind': 'generated'}
  assert 'examples' in gen.outputs


def test_component_rejects_missing_input(raw_file):
  with pytest.raises(ValueError, match='qk_video'):
    component.TenrecExampleGen(task='ctr', input_paths={'qb_video': raw_file})


def test_component_rejects_unknown_option(raw_file):
  with pytest.raises(ValueError, match='history'):
    component.TenrecExampleGen(task='ctr', input_paths={'qk_video': raw_file},
                               builder_options={'history': 'x'})


def test_component_rejects_invalid_row_mode(raw_file):
  with pytest.raises(ValueError, match="'skip'"):
    component.TenrecExampleGen(task='ctr', input_paths={'qk_video': raw_file},
                               on_invalid_row='skip')


def test_fingerprint_follows_file_changes(raw_file):
  before = component.fingerprint_inputs({'qk_video': raw_file})
  assert component.fingerprint_inputs({'qk_video': raw_file}) == before
  with open(raw_file, 'a') as f:
    f.write('99,1,1,0,0,0,0,1,1,2\n')
  assert component.fingerprint_inputs({'qk_video': raw_file}) != before


def test_fingerprint_missing_file(tmp_path):
  with pytest.raises(FileNotFoundError, match='qk_video'):
    component.fingerprint_inputs({'qk_video': str(tmp_path / 'none.csv')})


def test_executor_writes_examples_artifact(raw_file, tmp_path):
  examples = standard_artifacts.Examples()
  examples.uri = str(tmp_path / 'examples')
  os.makedirs(examples.uri)
  exec_properties = {
      'task': 'ctr',
      'input_paths': json.dumps({'qk_video': raw_file}),
      'builder_options': json.dumps({'seed': 1}),
      'input_fingerprint': 'x',
      'on_invalid_row': 'raise',
      'dataset': json.dumps({'kind': 'generated'}),
  }
  context = executor.Executor.Context(beam_pipeline_args=['--runner=FnApiRunner'],
                                      tmp_dir=str(tmp_path / 'tmp'))
  executor.Executor(context).Do({}, {'examples': [examples]}, exec_properties)

  assert artifact_utils.decode_split_names(examples.split_names) == ['train', 'eval', 'test']
  for split in ('train', 'eval', 'test'):
    assert os.listdir(os.path.join(examples.uri, f'Split-{split}'))
  assert os.path.exists(os.path.join(examples.uri, 'build_report.json'))
  report = json.loads(examples.get_string_custom_property(executor.BUILD_REPORT_PROPERTY))
  assert sum(report['splits'].values()) == report['accounts']['qk_video']['used']
  assert examples.get_string_custom_property('payload_format') == 'FORMAT_TF_EXAMPLE'
  assert not [n for n in os.listdir(examples.uri) if n.startswith('.tenrec-build')]
