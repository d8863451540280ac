"""Tests of `tenrec tensorboard` (pipeline.commands.tensorboard)."""

import os
import shlex
import subprocess
import sys
import time

import pytest
import requests

from pipeline import cli
from pipeline.commands import tensorboard


@pytest.fixture
def output_dir(tmp_path):
  """Two pipelines: deepfm with Trainer executions 6 and 12, dcn with execution 3."""
  for pipeline, execution in (('tenrec-ctr-deepfm-tenrec', '12'),
                              ('tenrec-ctr-deepfm-tenrec', '6'),
                              ('tenrec-ctr-dcn-generated-s0.001-seed0', '3')):
    (tmp_path / 'pipelines' / pipeline / 'Trainer' / 'model_run' / execution / 'train').mkdir(
        parents=True)
  (tmp_path / 'pipelines' / 'tenrec-ctr-dcn-generated-s0.001-seed0' / 'Transform').mkdir()
  return tmp_path


def test_find_training_runs(output_dir):
  runs = tensorboard.find_training_runs(str(output_dir))
  assert [r.name for r in runs] == ['tenrec-ctr-dcn-generated-s0.001-seed0/3',
                                    'tenrec-ctr-deepfm-tenrec/6', 'tenrec-ctr-deepfm-tenrec/12']


def test_logdir_spec(output_dir):
  spec = tensorboard.logdir_spec(tensorboard.find_training_runs(str(output_dir)))
  first = spec.split(',')[0]
  assert spec.count(',') == 2
  assert first == ('tenrec-ctr-dcn-generated-s0.001-seed0/3:' + str(
      output_dir / 'pipelines' / 'tenrec-ctr-dcn-generated-s0.001-seed0' / 'Trainer' /
      'model_run' / '3'))


def test_logdir_spec_rejects_comma():
  with pytest.raises(ValueError, match='cannot express'):
    tensorboard.logdir_spec([tensorboard.TrainingRun('a', '/x,y')])


def test_print_only(output_dir, capsys):
  status = cli.main(['tensorboard', '--output-dir', str(output_dir), '--print-only',
                     '--port', '7007'])
  command = shlex.split(capsys.readouterr().out.strip().splitlines()[-1])
  assert status == 0
  assert command[1:3] == ['-m', 'tensorboard.main']
  assert '--host=127.0.0.1' in command
  assert '--port=7007' in command
  assert command[3].startswith('--logdir_spec=tenrec-ctr-dcn')


def test_no_runs(tmp_path, capsys):
  status = cli.main(['tensorboard', '--output-dir', str(tmp_path), '--print-only'])
  assert status == 2
  assert 'no Trainer logs' in capsys.readouterr().err


def test_starts_tensorboard_on_loopback(output_dir):
  port = _free_port()
  process = subprocess.Popen(  # pylint: disable=consider-using-with
      [sys.executable, '-m', 'pipeline.cli', 'tensorboard', '--output-dir', str(output_dir),
       '--port', str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
  try:
    status = _wait_for_http(f'http://127.0.0.1:{port}/data/runs', process, timeout_s=90)
    children = _child_pids(process.pid)
  finally:
    process.terminate()
    process.wait(timeout=30)
  assert status == 200
  assert len(children) == 1
  assert not _running(children[0])


def _child_pids(parent: int):
  """PIDs whose parent is `parent`, read from /proc (Linux)."""
  children = []
  for entry in os.listdir('/proc'):
    if not entry.isdigit():
      continue
    try:
      with open(f'/proc/{entry}/stat', encoding='utf-8') as f:
        fields = f.read().rsplit(')', 1)[1].split()
    except OSError:
      continue
    if int(fields[1]) == parent:
      children.append(int(entry))
  return children


def _running(pid: int) -> bool:
  deadline = time.monotonic() + 10
  while time.monotonic() < deadline:
    try:
      with open(f'/proc/{pid}/stat', encoding='utf-8') as f:
        if f.read().rsplit(')', 1)[1].split()[0] == 'Z':
          return False
    except OSError:
      return False
    time.sleep(0.2)
  return True


def _free_port() -> int:
  import socket  # pylint: disable=import-outside-toplevel

  with socket.socket() as sock:
    sock.bind(('127.0.0.1', 0))
    return sock.getsockname()[1]


def _wait_for_http(url, process, timeout_s):
  deadline = time.monotonic() + timeout_s
  while time.monotonic() < deadline and process.poll() is None:
    try:
      return requests.get(url, timeout=2).status_code
    except requests.RequestException:
      time.sleep(0.5)
  return None
