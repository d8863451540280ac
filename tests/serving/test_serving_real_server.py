"""Tests of serving.real_server: start, readiness, stop by PID.

The real tensorflow_model_server binary is not installed here. These tests start the test
double through an executable that takes the same flags (the `stand_in_model_server`
fixture), so the process handling under test is the same.
"""

import os

import pytest

from serving import grpc_client
from serving import layout
from serving import real_server
from serving import rest_client
import serving_exports

CTR = serving_exports.CTR_MODEL


def _pid_running(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  return True


@pytest.fixture
def models_config(ctr_export, serving_base, tmp_path) -> str:
  paths = layout.write_serving_configs(
      serving_base, str(tmp_path), entries=[layout.ModelEntry(CTR, f'{serving_base}/{CTR}')])
  return paths['models_config']


def test_find_binary_on_path(stand_in_model_server, monkeypatch):
  monkeypatch.setenv('PATH', os.path.dirname(stand_in_model_server))
  assert real_server.find_model_server_binary() == stand_in_model_server


def test_find_binary_missing(tmp_path, monkeypatch):
  monkeypatch.setenv('PATH', str(tmp_path))
  assert real_server.find_model_server_binary() is None


def test_find_binary_not_executable(tmp_path):
  path = tmp_path / 'tensorflow_model_server'
  path.write_text('')
  with pytest.raises(real_server.ModelServerError, match='not an executable file'):
    real_server.find_model_server_binary(str(path))


def test_command_flags(models_config):
  server = real_server.ModelServerProcess('/bin/tfs', models_config, grpc_port=8500,
                                          rest_port=8501, monitoring_config_file='/m.config')
  assert server.command == ['/bin/tfs', '--port=8500', '--rest_api_port=8501',
                            f'--model_config_file={models_config}',
                            '--monitoring_config_file=/m.config']


def test_same_ports_rejected(models_config):
  with pytest.raises(ValueError, match='must differ'):
    real_server.ModelServerProcess('/bin/tfs', models_config, grpc_port=9000, rest_port=9000)


def test_start_serve_stop(stand_in_model_server, models_config, tmp_path):
  server = real_server.ModelServerProcess(stand_in_model_server, models_config,
                                          log_path=str(tmp_path / 'server.log'))
  server.start()
  pid = server.pid
  try:
    server.wait_until_ready([CTR], timeout_s=120)
    example = serving_exports.to_example(serving_exports.raw_rows(1)[0]).SerializeToString()
    with rest_client.RestClient(server.rest_url, CTR) as client:
      rest = client.predict(examples=[example])
    with grpc_client.GrpcClient(server.grpc_address, CTR) as client:
      grpc_outputs = client.predict(examples=[example])
  finally:
    status = server.stop()
  assert rest['click'].shape == (1, 1)
  assert (grpc_outputs['click'] == rest['click']).all()
  assert status == 0
  assert not _pid_running(pid)


def test_process_exits_early(tmp_path, models_config):
  binary = tmp_path / 'failing_server'
  binary.write_text('#!/bin/sh\necho "Failed to start server. Error: bad config"\nexit 3\n')
  binary.chmod(0o755)
  server = real_server.ModelServerProcess(str(binary), models_config)
  server.start()
  with pytest.raises(real_server.ModelServerError) as raised:
    server.wait_until_ready([CTR], timeout_s=30)
  server.stop()
  assert 'exited with status 3' in str(raised.value)
  assert 'bad config' in str(raised.value)


def test_readiness_timeout_then_stop(tmp_path, models_config):
  binary = tmp_path / 'silent_server'
  binary.write_text('#!/bin/sh\nexec sleep 60\n')
  binary.chmod(0o755)
  server = real_server.ModelServerProcess(str(binary), models_config)
  server.start()
  pid = server.pid
  with pytest.raises(real_server.ModelServerError, match='not AVAILABLE after 1 s'):
    server.wait_until_ready([CTR], timeout_s=1)
  server.stop(timeout_s=5)
  assert not _pid_running(pid)

