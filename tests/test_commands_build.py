"""Tests of `tenrec build`."""

import json
import logging

import pytest

from components.builders import registry
from pipeline import cli
from pipeline.commands import build

VIDEO_HEADER = 'user_id,item_id,click,follow,like,share,video_category,watching_times,gender,age'


@pytest.fixture
def data_dir(tmp_path):
  rows = [f'{u},{10 + (u * k) % 7},{int(k % 3 != 0)},0,0,0,1,1,1,2'
          for u in range(1, 41) for k in range(1, 13)]
  (tmp_path / 'data').mkdir()
  (tmp_path / 'data' / 'QK-video.csv').write_text(VIDEO_HEADER + '\n' + '\n'.join(rows) + '\n')
  return tmp_path / 'data'


def _args(*argv):
  return cli.build_parser().parse_args(['build'] + list(argv))


def test_build_tasks_match_registry():
  assert sorted(build.OPTIONS_CLASSES) == registry.available_tasks()


def test_build_options_from_flags():
  args = _args('--task', 'sbr', '--out', 'x', '--min-user-clicks', '5', '--max-item-clicks',
               'none', '--item-order', 'popularity')
  assert build.builder_options(args) == {'min_user_clicks': 5, 'max_item_clicks': None,
                                         'item_order': 'popularity'}


def test_build_options_tuple_flags():
  args = _args('--task', 'profile', '--out', 'x', '--labels', 'gender', '--split-ratios',
               '0.6,0.2,0.2')
  assert build.builder_options(args) == {'labels': ['gender'], 'split_ratios': [0.6, 0.2, 0.2]}


def test_build_option_json_values():
  args = _args('--task', 'coldstart', '--out', 'x', '--option', 'cold_fraction=0.3',
               '--option', 'setting=mixed')
  assert build.builder_options(args) == {'cold_fraction': 0.3, 'setting': 'mixed'}


def test_build_flag_of_other_task_rejected():
  args = _args('--task', 'sbr', '--out', 'x', '--history-mode', 'before_row')
  with pytest.raises(ValueError, match='does not apply to --task sbr'):
    build.builder_options(args)


def test_build_invalid_choice_rejected():
  args = _args('--task', 'sbr', '--out', 'x', '--validation-users', 'first')
  with pytest.raises(ValueError, match='must be one of'):
    build.builder_options(args)


def test_build_help_lists_tasks(capsys):
  with pytest.raises(SystemExit):
    cli.main(['build', '--help'])
  assert 'coldstart' in capsys.readouterr().out


def test_build_sbr_prints_splits(data_dir, tmp_path, capsys):
  out = tmp_path / 'sbr'
  status = cli.main(['build', '--task', 'sbr', '--data-dir', str(data_dir), '--out', str(out),
                     '--min-user-clicks', '5', '--validation-users', 'all'])
  printed = capsys.readouterr().out
  assert status == 0
  assert 'train' in printed
  assert '40' in printed
  assert 'qk_video: 480 = ' in printed
  assert (out / 'item_vocabulary.txt').exists()


def test_build_output_dir_alias_logs_accounting(data_dir, tmp_path, capsys, caplog):
  out = tmp_path / 'sbr'
  with caplog.at_level(logging.INFO):
    status = cli.main(['build', '--task', 'sbr', '--data-dir', str(data_dir), '--output-dir',
                       str(out), '--min-user-clicks', '5', '--validation-users', 'all'])
  capsys.readouterr()
  logged = '\n'.join(r.getMessage() for r in caplog.records if r.levelno == logging.INFO)
  assert status == 0
  assert (out / 'build_report.json').exists()
  assert 'Row accounting (read = used + filtered + rejected):' in logged
  assert 'qk_video: 480 = ' in logged


@pytest.mark.parametrize('argv', [['--chunk-bytes', '0'], ['--chunk-bytes', '-5'],
                                  ['--num-buckets', '0'], ['--num-buckets', '-1']])
def test_build_sizes_below_one_rejected(tmp_path, capsys, argv):
  with pytest.raises(SystemExit) as exit_info:
    cli.main(['build', '--task', 'sbr', '--out', str(tmp_path / 'o')] + argv)
  error = capsys.readouterr().err
  assert exit_info.value.code == 2
  assert f'tenrec build: error: argument {argv[0]}: must be at least 1' in error
  assert not (tmp_path / 'o').exists()


def test_build_help_shows_defaults(capsys):
  with pytest.raises(SystemExit):
    cli.main(['build', '--help'])
  text = ' '.join(capsys.readouterr().out.split())
  assert 'Seed of the embedded generated data. (default: 0)' in text
  assert 'Default: before_row.' in text
  assert 'Default: 0.8,0.1,0.1.' in text
  assert 'Default: random. [sbr, transfer, lifelong, infacc]' in text
  assert "'example' (examples at random" in text
  assert 'see the module docstring' not in text
  assert 'None keeps all' not in text


def test_default_help_groups_tasks():
  assert build.default_help({'ctr': 1, 'sbr': 1}) == 'Default: 1.'
  assert build.default_help({'ctr': None, 'sbr': (1, 2)}) == 'Default: none (ctr); 1,2 (sbr).'


def test_build_json_report(data_dir, tmp_path, capsys):
  status = cli.main(['build', '--task', 'ctr', '--data-dir', str(data_dir), '--out',
                     str(tmp_path / 'ctr'), '--json', '--seed', '3'])
  report = json.loads(capsys.readouterr().out)
  assert status == 0
  assert report['options']['seed'] == 3
  assert report['dataset']['kind'] == 'tenrec'


def test_build_empty_dataset_exit_status(data_dir, tmp_path, capsys):
  status = cli.main(['build', '--task', 'sbr', '--data-dir', str(data_dir), '--out',
                     str(tmp_path / 'sbr'), '--min-user-clicks', '500'])
  assert status == 1
  assert '--min-user-clicks' in capsys.readouterr().err


def test_build_invalid_option_exit_status(data_dir, tmp_path, capsys):
  status = cli.main(['build', '--task', 'sbr', '--data-dir', str(data_dir), '--out',
                     str(tmp_path / 'sbr'), '--min-user-clicks', '1'])
  assert status == 2
  assert 'at least 3' in capsys.readouterr().err


def test_build_existing_output_needs_overwrite(data_dir, tmp_path, capsys):
  argv = ['build', '--task', 'sbr', '--data-dir', str(data_dir), '--out', str(tmp_path / 'o'),
          '--min-user-clicks', '5']
  assert cli.main(argv) == 0
  assert cli.main(argv) == 2
  assert '--overwrite' in capsys.readouterr().err
  assert cli.main(argv + ['--overwrite']) == 0
