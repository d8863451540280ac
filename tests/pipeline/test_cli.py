"""Tests of pipeline.cli: sub-commands, logging and bad-input handling of `tenrec`."""

import logging
import os

import pytest

from pipeline import cli

_HEADER = 'user_id,item_id,click,follow,like,share,video_category,watching_times,gender,age\n'


def test_help_lists_every_command(capsys):
  with pytest.raises(SystemExit) as exit_info:
    cli.main(['--help'])
  assert exit_info.value.code == 0
  output = capsys.readouterr().out
  for command in cli.COMMANDS:
    assert command in output


def test_unknown_model_names_alternatives(tmp_path, capsys):
  output_dir = tmp_path / 'output'
  status = cli.main(['run', '--task', 'ctr', '--model', 'no_such_model', '--output-dir',
                     str(output_dir)])
  error = capsys.readouterr().err
  assert status == 2
  assert error.startswith('tenrec run: error: Unknown model')
  assert 'deepfm' in error
  assert not output_dir.exists()


def test_run_model_of_other_task_usage_error(tmp_path, capsys):
  status = cli.main(['run', '--task', 'sbr', '--model', 'deepfm', '--output-dir',
                     str(tmp_path / 'output')])
  error = capsys.readouterr().err
  assert status == 2
  assert 'sasrec' in error
  assert len(error.strip().splitlines()) == 1


def test_run_unknown_hparam_usage_error(tmp_path, capsys):
  output_dir = tmp_path / 'output'
  status = cli.main(['run', '--task', 'ctr', '--model', 'deepfm', '--hparam', 'nosuch=1',
                     '--output-dir', str(output_dir)])
  error = capsys.readouterr().err
  assert status == 2
  assert "Unknown hyper-parameter 'nosuch'" in error
  assert 'dnn_hidden_units' in error
  assert not output_dir.exists()


def test_non_usage_value_error_keeps_traceback(monkeypatch):
  from pipeline.commands import run as run_command  # pylint: disable=import-outside-toplevel

  def fail(*unused_args):
    raise ValueError('bug')

  monkeypatch.setattr(run_command, 'run_pipeline', fail)
  with pytest.raises(ValueError, match='bug'):
    cli.main(['run', '--task', 'ctr', '--model', 'deepfm'])


def test_run_summary_row_accounting(capsys):
  from pipeline.commands import run as run_command  # pylint: disable=import-outside-toplevel

  result = {
      'dataset': {'name': 'Tenrec-schema files', 'kind': 'tenrec'},
      'task': 'ctr', 'display_name': 'DeepFM', 'seeds': {'training': 100},
      'protocol': {'row_accounting': {'qk_video': {
          'read': 10, 'used': 6, 'filtered': {'negative_sampling': 2},
          'rejected': {'invalid_value': 2}}}},
      'metrics': {'test': {'click': {'auc': 0.7, 'log_loss': 0.5, 'examples': 3}},
                  'validation': {'best_epoch': 1, 'epochs_run': 1, 'selection_metric': 'auc',
                                 'best_value': 0.7}},
      'pushed': True, 'pushed_model': '/s/1', 'serving_model_name': 'ctr_deepfm',
      'serving_base_path': '/s', 'tensorboard_logdir': '/t', 'results_path': '/r.json',
      'timings': {'wall_seconds': 1.0},
  }
  run_command.print_summary(result)
  lines = capsys.readouterr().out.splitlines()
  assert lines[0] == 'Dataset: Tenrec-schema files (tenrec)'
  assert '  qk_video: 10 = 6 + 2 + 2' in lines
  assert '      rejected invalid_value: 2' in lines


def test_list_models(capsys):
  assert cli.main(['run', '--task', 'sbr', '--model', 'list']) == 0
  assert sorted(capsys.readouterr().out.split()) == ['bert4rec', 'gru4rec', 'nextitnet', 'sasrec']


def test_repeated_input_error_filter():
  keep = logging.LogRecord('apache_beam.runners.common', logging.ERROR, __file__, 1,
                           'worker failed', None, None)
  drop = logging.LogRecord('apache_beam.runners.common', logging.ERROR, __file__, 1,
                           'x <<TenrecInputError {} TenrecInputError>>', None, None)
  own = logging.LogRecord('root', logging.ERROR, __file__, 1,
                          'x <<TenrecInputError {} TenrecInputError>>', None, None)
  log_filter = cli._RepeatedInputErrorFilter()  # pylint: disable=protected-access
  assert log_filter.filter(keep)
  assert not log_filter.filter(drop)
  assert log_filter.filter(own)


def test_run_bad_input_reports_location(tmp_path, caplog):
  data_dir = tmp_path / 'data'
  data_dir.mkdir()
  rows = [f'{u},{i},{(u + i) % 2},0,0,0,1,1,1,2\n' for u in range(1, 20) for i in range(1, 6)]
  rows[40] = '9,abc,1,0,0,0,1,1,1,2\n'
  (data_dir / 'QK-video.csv').write_text(_HEADER + ''.join(rows))
  output_dir = tmp_path / 'output'

  status = cli.main(['run', '--task', 'ctr', '--model', 'deepfm', '--data-dir', str(data_dir),
                     '--output-dir', str(output_dir), '--epochs', '1'])

  assert status == 2
  messages = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
  assert any("line 42, column 'item_id', value 'abc'" in m for m in messages)
  examples_root = output_dir / 'pipelines' / 'tenrec-ctr-deepfm-tenrec' / 'TenrecExampleGen'
  written = [name for _, _, files in os.walk(examples_root) for name in files
             if name.endswith('.gz') or name == 'build_report.json']
  assert written == []
