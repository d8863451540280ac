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


def test_unknown_model_names_alternatives():
  with pytest.raises(ValueError, match='deepfm'):
    cli.main(['run', '--task', 'ctr', '--model', 'no_such_model'])


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
