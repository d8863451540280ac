"""Tests of pipeline.benchmark.common: aggregation, tables, options, command, plots, report."""

import argparse
import csv
import io
import json
import math

import pytest

from pipeline.benchmark import common


# ----- aggregation -----


def test_aggregate_mean_and_sample_std():
  summary = common.aggregate([0.1, 0.2, 0.3])
  assert summary['mean'] == pytest.approx(0.2)
  # sqrt(((-0.1)^2 + 0 + 0.1^2) / (3 - 1)) = 0.1
  assert summary['std'] == pytest.approx(0.1)
  assert summary['n'] == 3
  assert summary['values'] == [0.1, 0.2, 0.3]


def test_aggregate_uneven_values():
  summary = common.aggregate([1.0, 2.0, 4.0, 7.0])
  assert summary['mean'] == pytest.approx(3.5)
  # deviations -2.5, -1.5, 0.5, 3.5: squares sum 6.25 + 2.25 + 0.25 + 12.25 = 21
  assert summary['std'] == pytest.approx(math.sqrt(21 / 3))


def test_aggregate_single_value_has_no_std():
  summary = common.aggregate([0.25])
  assert summary['mean'] == 0.25
  assert summary['std'] is None
  assert summary['n'] == 1


def test_aggregate_skips_missing_values():
  summary = common.aggregate([None, 2.0, 4.0])
  assert summary['n'] == 2
  assert summary['mean'] == pytest.approx(3.0)


def test_aggregate_empty():
  summary = common.aggregate([None])
  assert summary['mean'] is None
  assert summary['n'] == 0


def test_aggregate_rejects_nan():
  with pytest.raises(ValueError, match='nan'):
    common.aggregate([1.0, float('nan')])


def test_format_mean_std_cases():
  assert common.format_mean_std(common.aggregate([0.1, 0.2, 0.3])) == '0.2000 ± 0.1000'
  assert common.format_mean_std(common.aggregate([0.1234567])) == '0.1235'
  assert common.format_mean_std(common.aggregate([1500.0, 1700.0]), digits=0) == '1,600 ± 141'
  assert common.format_mean_std(None) == common.MISSING
  assert common.format_mean_std(common.aggregate([])) == common.MISSING


# ----- tables -----


def _table():
  table = common.Table(name='results', title='Test metrics', columns=[
      common.Column('model', 'Model'),
      common.Column('ndcg', 'NDCG@10', 'mean_std'),
      common.Column('params', 'Parameters', 'int'),
      common.Column('paper', 'Paper HR@20', 'number', 3),
  ])
  table.add_row({'model': 'SASRec', 'ndcg': common.aggregate([0.04, 0.06]), 'params': 12345,
                 'paper': 0.05017})
  table.add_row({'model': 'Popularity', 'ndcg': common.aggregate([0.01])})
  return table


def test_table_markdown_structure():
  lines = _table().to_markdown().split('\n')
  assert lines[0] == '| Model | NDCG@10 | Parameters | Paper HR@20 |'
  assert lines[1] == '|---|---:|---:|---:|'
  assert lines[2] == '| SASRec | 0.0500 ± 0.0141 | 12,345 | 0.050 |'
  assert lines[3] == '| Popularity | 0.0100 | – | – |'
  assert len(lines) == 4


def test_table_markdown_escapes_pipes():
  table = common.Table(name='t', title='t', columns=[common.Column('a', 'A')])
  table.add_row({'a': 'x|y'})
  assert table.to_markdown().split('\n')[2] == '| x\\|y |'


def test_table_csv_expands_mean_std():
  rows = list(csv.reader(io.StringIO(_table().to_csv())))
  assert rows[0] == ['Model', 'NDCG@10 mean', 'NDCG@10 std', 'NDCG@10 n', 'Parameters',
                     'Paper HR@20']
  assert rows[1][0] == 'SASRec'
  assert float(rows[1][1]) == pytest.approx(0.05)
  assert float(rows[1][2]) == pytest.approx(math.sqrt(0.0002))
  assert rows[1][3] == '2'
  assert rows[2][2] == ''
  assert rows[2][4] == ''


def test_table_json_round_trip():
  payload = json.loads(json.dumps(_table().to_json()))
  assert payload['name'] == 'results'
  assert [c['key'] for c in payload['columns']] == ['model', 'ndcg', 'params', 'paper']
  assert payload['rows'][0]['ndcg']['n'] == 2


def test_table_rejects_unknown_row_key():
  with pytest.raises(ValueError, match='unknown keys'):
    _table().add_row({'model': 'x', 'typo': 1})


def test_table_rejects_bad_name():
  with pytest.raises(ValueError, match='name'):
    common.Table(name='a/b', title='t', columns=[])


def test_table_rejects_duplicate_keys():
  with pytest.raises(ValueError, match='duplicate'):
    common.Table(name='t', title='t', columns=[common.Column('a', 'A'), common.Column('a', 'B')])


def test_column_rejects_unknown_kind():
  with pytest.raises(ValueError, match='kind'):
    common.Column('a', 'A', 'percent')


# ----- shared options -----


def _parse(argv):
  parser = argparse.ArgumentParser()
  common.add_shared_arguments(parser)
  return parser.parse_args(argv)


def test_parse_seeds_count():
  assert common.parse_seeds(_parse(['--seeds', '3'])) == [1, 2, 3]


def test_parse_seeds_default_five():
  assert common.parse_seeds(_parse([])) == [1, 2, 3, 4, 5]


def test_parse_seeds_list_wins():
  assert common.parse_seeds(_parse(['--seeds', '3', '--seed-list', '7, 9'])) == [7, 9]


def test_parse_seeds_invalid():
  with pytest.raises(ValueError, match='integers'):
    common.parse_seeds(_parse(['--seed-list', '1,x']))
  with pytest.raises(ValueError, match='repeats'):
    common.parse_seeds(_parse(['--seed-list', '1,1']))
  with pytest.raises(ValueError, match='at least 1'):
    common.parse_seeds(_parse(['--seeds', '0']))


def test_parse_models_default_and_subset():
  available = ['gru4rec', 'nextitnet', 'sasrec']
  assert common.parse_models(_parse([]), available) == available
  assert common.parse_models(_parse(['--models', 'SASRec,gru4rec']), available) == [
      'sasrec', 'gru4rec']


def test_parse_models_invalid():
  with pytest.raises(ValueError, match='Unknown model'):
    common.parse_models(_parse(['--models', 'sasrec,deepfm']), ['sasrec'])
  with pytest.raises(ValueError, match='repeats'):
    common.parse_models(_parse(['--models', 'sasrec,sasrec']), ['sasrec'])


def test_parse_model_hparams_values():
  parsed = common.parse_model_hparams(
      ['sasrec:num_blocks=2', 'sasrec:tie_output=true', 'gru4rec:name=x'], ['sasrec', 'gru4rec'])
  assert parsed == {'sasrec': {'num_blocks': 2, 'tie_output': True}, 'gru4rec': {'name': 'x'}}


def test_parse_model_hparams_invalid():
  with pytest.raises(ValueError, match='MODEL:KEY=VALUE'):
    common.parse_model_hparams(['num_blocks=2'], ['sasrec'])
  with pytest.raises(ValueError, match='not benchmarked'):
    common.parse_model_hparams(['bert4rec:num_blocks=2'], ['sasrec'])
  with pytest.raises(ValueError, match='KEY=VALUE'):
    common.parse_model_hparams(['sasrec:num_blocks'], ['sasrec'])


def test_model_overrides_precedence():
  args = _parse(['--epochs', '7', '--hparam', 'dropout=0.2', '--hparam', 'max_len=50'])
  per_model = {'sasrec': {'dropout': 0.5, 'epochs': 9}}
  assert common.model_overrides(args, 'sasrec', per_model) == {
      'epochs': 9, 'dropout': 0.5, 'max_len': 50}
  assert common.model_overrides(args, 'gru4rec', per_model) == {
      'epochs': 7, 'dropout': 0.2, 'max_len': 50}


# ----- command -----


def test_reconstruct_command_non_defaults():
  parser = argparse.ArgumentParser()
  parser.add_argument('--task', default=None)
  parser.add_argument('--seeds', type=int, default=5)
  parser.add_argument('--hparam', action='append', default=None)
  parser.add_argument('--cache', action=argparse.BooleanOptionalAction, default=True)
  parser.add_argument('--overwrite', action='store_true')
  parser.add_argument('--ks', type=int, nargs='+', default=[5])
  args = parser.parse_args(['--task', 'sbr', '--seeds', '5', '--hparam', 'a=1', '--hparam',
                            'b="x y"', '--no-cache', '--overwrite', '--ks', '5', '20'])
  command = common.reconstruct_command(parser, args, ['tenrec', 'benchmark'])
  assert command == ("tenrec benchmark --task sbr --hparam a=1 --hparam 'b=\"x y\"' "
                     '--no-cache --overwrite --ks 5 20')


def test_reconstruct_command_defaults_only():
  parser = argparse.ArgumentParser()
  parser.add_argument('--seeds', type=int, default=5)
  assert common.reconstruct_command(parser, parser.parse_args([]), ['tenrec']) == 'tenrec'


# ----- plots and report -----


def test_plot_curves_writes_png(tmp_path):
  path = common.plot_curves({'SASRec': {1: [0.01, 0.02, 0.03], 2: [0.015, 0.02]},
                             'GRU4Rec': {1: [0.02]}},
                            str(tmp_path / 'curves.png'), title='t', ylabel='NDCG@10')
  assert path == str(tmp_path / 'curves.png')
  assert (tmp_path / 'curves.png').read_bytes()[:8] == b'\x89PNG\r\n\x1a\n'


def test_plot_curves_empty_writes_nothing(tmp_path):
  assert common.plot_curves({'SASRec': {1: []}}, str(tmp_path / 'c.png'), 't', 'y') is None
  assert not (tmp_path / 'c.png').exists()


def _report():
  return common.BenchmarkReport(
      title='Sequential recommendation benchmark', task='sbr',
      command='tenrec benchmark --task sbr --seeds 2', options={'seeds': 2},
      environment={'python': '3.11.7', 'tensorflow': '2.21.0', 'processor': 'x86_64',
                   'cpu_count': 2, 'cpu_model': 'Test CPU', 'memory_gib': 24.0, 'gpus': []},
      dataset={'kind': 'generated', 'name': 'Tenrec-shaped generated data',
               'note': 'Synthetic data from the seeded generator; not Tenrec results.'},
      mode='direct trainer', started_at='2026-01-01T00:00:00Z', tables=[_table()],
      plots={'Validation curves': 'curves.png'}, notes=['Seeds: 1, 2.'])


def test_report_markdown_lists_context():
  text = _report().to_markdown()
  assert text.startswith('# Sequential recommendation benchmark\n')
  assert '- Data: Tenrec-shaped generated data (generated). Synthetic data' in text
  assert '- Mode: direct trainer' in text
  assert 'x86_64, 2 CPU cores (Test CPU), 24.0 GiB RAM, no GPU' in text
  assert 'tenrec benchmark --task sbr --seeds 2' in text
  assert 'not yet (partial report)' in text
  assert '## Test metrics' in text
  assert '![Validation curves](curves.png)' in text


def test_write_report_files(tmp_path):
  report = _report()
  report.finished_at = '2026-01-01T01:00:00Z'
  paths = common.write_report(str(tmp_path), report)
  assert set(paths) == {'json', 'markdown', 'csv:results'}
  payload = json.loads((tmp_path / 'benchmark.json').read_text())
  assert payload['status'] == 'complete'
  assert payload['command'] == 'tenrec benchmark --task sbr --seeds 2'
  assert payload['environment']['cpu_count'] == 2
  assert payload['tables']['results']['rows'][0]['model'] == 'SASRec'
  assert (tmp_path / 'results.csv').read_text().startswith('Model,NDCG@10 mean')
  assert '| SASRec | 0.0500 ± 0.0141 |' in (tmp_path / 'benchmark.md').read_text()


def test_environment_describes_machine():
  env = common.environment()
  assert env['cpu_count'] >= 1
  assert 'tensorflow' in env
  assert isinstance(env['gpus'], list)
  assert 'CPU cores' in common.describe_machine(env)
