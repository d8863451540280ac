"""Tests of `tenrec serve-bench` (pipeline.commands.serve_bench)."""

import json
import os

import pytest

from pipeline import cli
from pipeline.commands import common_args
from pipeline.commands import serve_bench
import serving_exports

PERCENTILES = ('p50_ms', 'p95_ms', 'p99_ms')


def _run(tmp_path, *extra):
  output = tmp_path / 'bench.json'
  status = cli.main(['serve-bench', '--warmup', '1', '--requests', '3', '--pool-size', '64',
                     '--json', str(output)] + list(extra))
  report = json.loads(output.read_text()) if output.exists() else None
  return status, report


def test_in_process_three_batch_sizes(ctr_export, serving_base, tmp_path, monkeypatch):
  monkeypatch.setenv('PATH', str(tmp_path))
  status, report = _run(tmp_path, '--model-dir', os.path.join(serving_base, 'ctr_deepfm'))
  results = report['targets']['in_process']['results']
  assert status == 0
  assert [r['batch_size'] for r in results] == [1, 32, 256]
  for row in results:
    assert all(row[p] > 0 for p in PERCENTILES)
    assert row['examples_per_second'] > 0
  assert report['model_name'] == 'ctr_deepfm'
  assert report['model_version'] == 1


def test_remote_targets_skipped_with_reason(ctr_export, tmp_path, monkeypatch):
  monkeypatch.setenv('PATH', str(tmp_path))
  _, report = _run(tmp_path, '--model-dir', ctr_export, '--batch-sizes', '1',
                   '--start-model-server')
  targets = report['targets']
  assert targets['rest'] == {'status': 'skipped', 'reason': 'no --rest-url given'}
  assert targets['grpc'] == {'status': 'skipped', 'reason': 'no --grpc-address given'}
  assert targets['model_server']['status'] == 'skipped'
  assert 'tensorflow_model_server is not on PATH' in targets['model_server']['reason']


def test_endpoints_of_running_server(test_double, sequential_export, tmp_path, capsys):
  status, report = _run(tmp_path, '--model-dir', sequential_export, '--signature', 'top_k',
                        '--batch-sizes', '1,4', '--rest-url', test_double.rest_url,
                        '--grpc-address', test_double.grpc_address)
  printed = capsys.readouterr().out
  assert status == 0
  for name in ('rest', 'grpc'):
    target = report['targets'][name]
    assert target['status'] == 'measured'
    assert [r['batch_size'] for r in target['results']] == [1, 4]
    assert target['max_abs_difference_vs_in_process'] == 0.0
  assert 'model_server         skipped: --start-model-server not set' in printed


def test_started_model_server(stand_in_model_server, ctr_export, test_split, tmp_path):
  status, report = _run(tmp_path, '--model-dir', ctr_export, '--batch-sizes', '2',
                        '--examples', test_split, '--start-model-server',
                        '--model-server-binary', stand_in_model_server)
  server = report['targets']['model_server']
  assert status == 0
  assert server['status'] == 'measured'
  assert server['rest']['max_abs_difference_vs_in_process'] == 0.0
  assert server['grpc']['results'][0]['batch_size'] == 2
  assert report['inputs']['source'].startswith('tf.Example records from')


def test_unreachable_endpoint_fails(ctr_export, tmp_path):
  status, report = _run(tmp_path, '--model-dir', ctr_export, '--batch-sizes', '1',
                        '--rest-url', 'http://127.0.0.1:9')
  assert status == 1
  assert report['targets']['rest']['status'] == 'failed'


def test_unknown_signature_exit_code(ctr_export, tmp_path, capsys):
  status, _ = _run(tmp_path, '--model-dir', ctr_export, '--signature', 'top_k')
  assert status == 2
  assert "has no signature 'top_k'" in capsys.readouterr().err


@pytest.mark.parametrize('text', ['', '1,x', '0,4'])
def test_parse_batch_sizes_invalid(text):
  with pytest.raises(common_args.UsageError, match='--batch-sizes'):
    serve_bench.parse_batch_sizes(text)


def test_batch_size_zero_usage_error(tmp_path, capsys):
  status, _ = _run(tmp_path, '--model-dir', str(tmp_path), '--batch-sizes', '0')
  error = capsys.readouterr().err
  assert status == 2
  assert error.startswith('tenrec serve-bench: error: --batch-sizes')


def test_requests_zero_rejected(tmp_path, capsys):
  with pytest.raises(SystemExit) as exit_info:
    cli.main(['serve-bench', '--model-dir', str(tmp_path), '--requests', '0'])
  assert exit_info.value.code == 2
  assert 'argument --requests: must be at least 1, got 0' in capsys.readouterr().err


def test_missing_model_dir_not_found(tmp_path, capsys):
  status, _ = _run(tmp_path, '--model-dir', str(tmp_path / 'nonexistent'))
  error = capsys.readouterr().err
  assert status == 2
  assert f'--model-dir {tmp_path / "nonexistent"}: folder not found' in error


def test_help_states_milliseconds(capsys):
  with pytest.raises(SystemExit):
    cli.main(['serve-bench', '--help'])
  assert 'milliseconds' in capsys.readouterr().out


def test_format_report_rows():
  report = {
      'model_name': 'm', 'export_dir': '/m/1', 'signature': 's',
      'inputs': {'source': 'synthesized'},
      'settings': {'warmup': 1, 'requests': 2, 'clients': 'one client'},
      'targets': {
          'in_process': {'status': 'measured', 'results': [
              {'batch_size': 1, 'p50_ms': 1.0, 'p95_ms': 2.0, 'p99_ms': 3.0,
               'examples_per_second': 500.0}]},
          'rest': {'status': 'skipped', 'reason': 'no --rest-url given'}},
  }
  lines = serve_bench.format_report(report).splitlines()
  assert lines[-2] == 'in_process                1     1.000     2.000     3.000        500.0'
  assert lines[-1] == 'rest                 skipped: no --rest-url given'
