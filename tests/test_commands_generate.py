"""End-to-end tests of `tenrec generate` and `tenrec stats`, run in-process."""

import json

from pipeline import cli

TINY_SCALE = '0.0001'


def test_generate_then_stats(tmp_path, capsys):
  out = tmp_path / 'data'
  status = cli.main(['generate', '--scale', TINY_SCALE, '--seed', '4', '--out', str(out)])
  printed = capsys.readouterr().out
  assert status == 0
  assert 'not Tenrec data' in printed
  assert 'QK-video.csv' in printed
  report = json.loads((out / 'generation.json').read_text())
  assert report['seed'] == 4

  json_path = tmp_path / 'stats.json'
  status = cli.main(['stats', str(out), '--json', str(json_path)])
  printed = capsys.readouterr().out
  assert status == 0
  assert '== QK-video.csv ==' in printed
  assert '== QB-article.csv ==' in printed
  assert 'Not Tenrec data' in printed
  stats = json.loads(json_path.read_text())
  assert stats['scenarios']['qk_video']['rows'] == report['files']['QK-video.csv']['rows']


def test_generate_subset_of_scenarios(tmp_path, capsys):
  out = tmp_path / 'data'
  status = cli.main(['generate', '--scale', TINY_SCALE, '--out', str(out),
                     '--scenarios', 'QB-article,qk_article', '--block-users', '50'])
  capsys.readouterr()
  assert status == 0
  assert sorted(p.name for p in out.iterdir()) == ['QB-article.csv', 'QK-article.csv',
                                                   'generation.json']


def test_generate_rejects_non_empty_folder(tmp_path, capsys):
  (tmp_path / 'keep.txt').write_text('x')
  status = cli.main(['generate', '--scale', TINY_SCALE, '--out', str(tmp_path)])
  capsys.readouterr()
  assert status == 2
  assert (tmp_path / 'keep.txt').read_text() == 'x'


def test_generate_overwrite(tmp_path, capsys):
  (tmp_path / 'keep.txt').write_text('x')
  status = cli.main(['generate', '--scale', TINY_SCALE, '--out', str(tmp_path), '--overwrite',
                     '--scenarios', 'qb_article'])
  capsys.readouterr()
  assert status == 0
  assert not (tmp_path / 'keep.txt').exists()


def test_generate_rejects_bad_scale(tmp_path, capsys):
  status = cli.main(['generate', '--scale', '2', '--out', str(tmp_path / 'x')])
  capsys.readouterr()
  assert status == 2
  assert not (tmp_path / 'x').exists()


def test_generate_rejects_unknown_scenario(tmp_path, capsys):
  status = cli.main(['generate', '--scale', TINY_SCALE, '--out', str(tmp_path / 'x'),
                     '--scenarios', 'qk_music'])
  capsys.readouterr()
  assert status == 2


def test_stats_missing_folder_fails(tmp_path, capsys):
  status = cli.main(['stats', str(tmp_path)])
  capsys.readouterr()
  assert status == 2


def test_stats_nonexistent_folder_not_found(tmp_path, capsys):
  status = cli.main(['stats', str(tmp_path / 'nonexistent')])
  error = capsys.readouterr().err
  assert status == 2
  assert f'{tmp_path / "nonexistent"}: folder not found' in error


def test_generate_output_dir_alias():
  args = cli.build_parser().parse_args(['generate', '--output-dir', 'folder'])
  assert args.out == 'folder'


def test_stats_rejects_unknown_scenario(tmp_path, capsys):
  status = cli.main(['stats', str(tmp_path), '--scenario', 'qk_music'])
  capsys.readouterr()
  assert status == 2
