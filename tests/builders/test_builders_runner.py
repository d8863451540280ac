"""Tests of the Beam driver: validation before Beam, atomic output, rejected rows, reports."""

import json
import os

import numpy as np
import pytest

import builder_fixtures as fx
from components.builders import base
from components.builders import beam_stages
from components.builders import runner
from components.tenrec_io.errors import TenrecInputError

OPTIONS = {'min_user_clicks': 3, 'min_item_clicks': 1, 'validation_users': 'all'}


def _write(tmp_path, lines):
  path = tmp_path / 'QK-video.csv'
  path.write_text('\n'.join(lines) + '\n')
  return str(path)


def _good_lines():
  return ['user_id,item_id,click'] + [f'{u},{i},1' for u in (1, 2) for i in (5, 6, 7, 8)]


def test_runner_header_checked_before_beam(tmp_path):
  path = _write(tmp_path, ['user_id,item_id', '1,2'])
  with pytest.raises(TenrecInputError) as caught:
    fx.run_builder('sbr', {'qk_video': path}, str(tmp_path / 'out'), OPTIONS)
  assert caught.value.line == 1
  assert caught.value.column == 'click'
  assert not (tmp_path / 'out').exists()


def test_runner_invalid_row_raises_input_error(tmp_path):
  lines = _good_lines()
  lines.insert(4, '1,-3,1')
  path = _write(tmp_path, lines)
  with pytest.raises(TenrecInputError) as caught:
    fx.run_builder('sbr', {'qk_video': path}, str(tmp_path / 'out'), OPTIONS)
  assert caught.value.path == path
  assert caught.value.line == 5
  assert caught.value.column == 'item_id'
  assert caught.value.value == '-3'


def test_runner_failure_leaves_no_partial_output(tmp_path):
  lines = _good_lines()
  lines.insert(4, '1,x,1')
  path = _write(tmp_path, lines)
  out = tmp_path / 'out'
  out.mkdir()
  with pytest.raises(TenrecInputError):
    fx.run_builder('sbr', {'qk_video': path}, str(out), OPTIONS)
  assert os.listdir(out) == []


def test_runner_reject_mode_counts_and_locates(tmp_path):
  lines = _good_lines()
  lines.insert(3, '1,x,1')
  lines.insert(6, '2,9,7')
  path = _write(tmp_path, lines)
  report = fx.run_builder('sbr', {'qk_video': path}, str(tmp_path / 'out'), OPTIONS,
                          on_invalid='reject')
  account = report['accounts']['qk_video']
  assert account['read'] == 10
  assert sum(account['rejected'].values()) == 2
  assert account['balanced']
  assert [r['line'] for r in report['rejected_examples']] == [4, 7]
  assert report['rejected_examples'][0]['column'] == 'item_id'


def test_runner_report_written(tmp_path):
  path = _write(tmp_path, _good_lines())
  out = tmp_path / 'out'
  report = fx.run_builder('sbr', {'qk_video': path}, str(out), OPTIONS,
                          extra_report={'dataset': {'kind': 'test'}})
  saved = json.loads((out / runner.REPORT_FILE).read_text())
  assert saved['splits'] == report['splits'] == {'train': 2, 'eval': 2, 'test': 2}
  assert saved['dataset'] == {'kind': 'test'}
  assert saved['options']['min_user_clicks'] == 3
  assert saved['deviations_from_reference']


def test_runner_missing_path_raises(tmp_path):
  with pytest.raises(ValueError, match='No path given'):
    fx.run_builder('sbr', {}, str(tmp_path / 'out'))


@pytest.mark.parametrize('argument', [{'chunk_bytes': 0}, {'num_buckets': 0}])
def test_runner_rejects_sizes_below_one(tmp_path, argument):
  path = _write(tmp_path, _good_lines())
  with pytest.raises(ValueError, match='at least 1, got 0'):
    fx.run_builder('sbr', {'qk_video': path}, str(tmp_path / 'out'), OPTIONS, **argument)
  assert not (tmp_path / 'out').exists()


def test_runner_default_num_buckets():
  assert runner.default_num_buckets(0) == 2
  assert runner.default_num_buckets(100 << 20) == 7


def test_runner_sub_datasets_in_order():
  assert runner.sub_datasets(['b/train', 'a/train', 'b/test', 'eval']) == ['b', 'a']


def test_shard_path_of_sub_dataset():
  path = beam_stages.shard_path('/out', 'target/eval', 3, 10)
  assert path == '/out/target/Split-eval/data_tfrecord-00003-of-00010.gz'
  assert beam_stages.shard_path('/out', 'train', 0, 2).endswith(
      '/out/Split-train/data_tfrecord-00000-of-00002.gz')


def test_input_error_survives_text_transport():
  error = TenrecInputError('/d/f.csv', 'bad value', line=7, column='click', value='x',
                           hint='Fix it.')
  restored = beam_stages.unwrap_input_error('Beam failed: ' + str(beam_stages.wrap_input_error(
      error)) + ' [while running step]')
  assert str(restored) == str(error)
  assert restored.line == 7
  assert beam_stages.unwrap_input_error('another error') is None


def test_merge_summaries_combines_kinds():
  left = {'n': 1, 'nested': {'a': 2}, 'list': [1], 'item_counts': base.value_counts(
      np.array([3, 1, 3]))}
  right = {'n': 4, 'nested': {'a': 1, 'b': 5}, 'list': [2],
           'item_counts': base.value_counts(np.array([3, 7]))}
  merged = base.merge_summaries(left, right)
  assert merged['n'] == 5
  assert merged['nested'] == {'a': 3, 'b': 5}
  assert merged['list'] == [1, 2]
  assert list(merged['item_counts'][0]) == [1, 3, 7]
  assert list(merged['item_counts'][1]) == [1, 3, 1]
