"""Starts and stops a real `tensorflow_model_server` process for local checks and serve-bench.

The binary comes from TF Serving's apt package (`tensorflow-model-server`) or a build of
TF Serving; it is not a Python package. `find_model_server_binary` looks for it on PATH.

NOTE: tensorflow_model_server 2.x has no flag that chooses its listening address; it listens on
every interface of the machine. The harness talks to it over 127.0.0.1 only, and
`ModelServerProcess` stops it by its PID when done.

Example:

  binary = find_model_server_binary()
  with ModelServerProcess(binary, '/tmp/out/serving/models.config') as server:
    server.wait_until_ready(['ctr_deepfm'])
    RestClient(server.rest_url, 'ctr_deepfm').predict(examples=[...])
"""

import logging
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from typing import List, Optional, Sequence

import requests

BINARY_NAME = 'tensorflow_model_server'
DEFAULT_READY_TIMEOUT_S = 120.0
DEFAULT_STOP_TIMEOUT_S = 15.0

logger = logging.getLogger(__name__)


class ModelServerError(RuntimeError):
  """The model server could not be started, did not become ready, or exited."""


def find_model_server_binary(explicit: Optional[str] = None) -> Optional[str]:
  """Returns the model server binary: `explicit` when given, else the one on PATH, else None.

  Raises:
    ModelServerError: `explicit` is given but is not an executable file.
  """
  if explicit:
    resolved = shutil.which(explicit) or explicit
    if not (os.path.isfile(resolved) and os.access(resolved, os.X_OK)):
      raise ModelServerError(f'model server binary {explicit!r} is not an executable file.')
    return resolved
  return shutil.which(BINARY_NAME)


def free_loopback_port() -> int:
  """Returns a TCP port that is free on 127.0.0.1 now (another process may take it later)."""
  with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
    sock.bind(('127.0.0.1', 0))
    return sock.getsockname()[1]


class ModelServerProcess:
  """A `tensorflow_model_server` child process serving a models.config.

  Args:
    binary: Path of the tensorflow_model_server binary.
    model_config_file: models.config to serve (`--model_config_file`).
    grpc_port: gRPC port (`--port`); 0 picks a free one.
    rest_port: REST port (`--rest_api_port`); 0 picks a free one.
    monitoring_config_file: Optional `--monitoring_config_file`.
    extra_args: More flags, for example ['--enable_batching=true'].
    log_path: File for the server's stdout and stderr (default: a temporary file).
  """

  def __init__(self, binary: str, model_config_file: str, grpc_port: int = 0,
               rest_port: int = 0, monitoring_config_file: Optional[str] = None,
               extra_args: Sequence[str] = (), log_path: Optional[str] = None):
    self.binary = binary
    self.model_config_file = model_config_file
    self.grpc_port = grpc_port or free_loopback_port()
    self.rest_port = rest_port or free_loopback_port()
    if self.rest_port == self.grpc_port:
      raise ValueError(f'the REST and gRPC ports must differ, both are {self.rest_port}.')
    self.monitoring_config_file = monitoring_config_file
    self.extra_args = list(extra_args)
    self.log_path = log_path
    self._log_file = None
    self._process: Optional[subprocess.Popen] = None

  @property
  def command(self) -> List[str]:
    command = [self.binary, f'--port={self.grpc_port}', f'--rest_api_port={self.rest_port}',
               f'--model_config_file={self.model_config_file}']
    if self.monitoring_config_file:
      command.append(f'--monitoring_config_file={self.monitoring_config_file}')
    return command + self.extra_args

  @property
  def pid(self) -> Optional[int]:
    return self._process.pid if self._process else None

  @property
  def rest_url(self) -> str:
    return f'http://127.0.0.1:{self.rest_port}'

  @property
  def grpc_address(self) -> str:
    return f'127.0.0.1:{self.grpc_port}'

  def start(self) -> 'ModelServerProcess':
    """Starts the process; call `wait_until_ready` before sending requests."""
    if self._process is not None:
      raise ModelServerError(f'the model server is already running with PID {self.pid}.')
    if self.log_path is None:
      handle, self.log_path = tempfile.mkstemp(prefix='tensorflow_model_server-', suffix='.log')
      os.close(handle)
    self._log_file = open(self.log_path, 'wb')  # pylint: disable=consider-using-with
    logger.info('Starting %s (log: %s).', ' '.join(self.command), self.log_path)
    try:
      self._process = subprocess.Popen(self.command, stdout=self._log_file,  # pylint: disable=consider-using-with
                                       stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    except OSError as error:
      self._log_file.close()
      raise ModelServerError(f'could not start {self.binary}: {error}') from None
    return self

  def log_tail(self, lines: int = 20) -> str:
    if not self.log_path or not os.path.exists(self.log_path):
      return ''
    with open(self.log_path, 'rb') as f:
      text = f.read().decode('utf-8', errors='replace')
    return '\n'.join(text.strip().splitlines()[-lines:])

  def wait_until_ready(self, model_names: Sequence[str],
                       timeout_s: float = DEFAULT_READY_TIMEOUT_S) -> None:
    """Polls `GET /v1/models/NAME` until every model has an AVAILABLE version.

    Raises:
      ModelServerError: The process exited, or a model is not AVAILABLE after `timeout_s`.
    """
    if self._process is None:
      raise ModelServerError('start() the model server before waiting for it.')
    deadline = time.monotonic() + timeout_s
    pending = list(model_names)
    while pending:
      if self._process.poll() is not None:
        raise ModelServerError(f'{self.binary} exited with status {self._process.returncode} '
                               f'before serving {pending}; its log ends with:\n'
                               f'{self.log_tail()}')
      pending = [name for name in pending if not self._is_available(name)]
      if not pending:
        break
      if time.monotonic() > deadline:
        raise ModelServerError(f'models {pending} were not AVAILABLE after {timeout_s:.0f} s; '
                               f'the server log ends with:\n{self.log_tail()}')
      time.sleep(0.5)
    logger.info('Model server PID %s is serving %s.', self.pid, list(model_names))

  def _is_available(self, name: str) -> bool:
    try:
      response = requests.get(f'{self.rest_url}/v1/models/{name}', timeout=2)
    except requests.RequestException:
      return False
    if response.status_code != 200:
      return False
    statuses = response.json().get('model_version_status', [])
    return any(s.get('state') == 'AVAILABLE' for s in statuses)

  def stop(self, timeout_s: float = DEFAULT_STOP_TIMEOUT_S) -> Optional[int]:
    """Sends SIGTERM to the server's PID, then SIGKILL after `timeout_s`; returns its status."""
    if self._process is None:
      return None
    process, self._process = self._process, None
    if process.poll() is None:
      logger.info('Stopping model server PID %d.', process.pid)
      process.send_signal(signal.SIGTERM)
      try:
        process.wait(timeout=timeout_s)
      except subprocess.TimeoutExpired:
        logger.warning('Model server PID %d ignored SIGTERM for %.0f s; killing it.',
                       process.pid, timeout_s)
        process.kill()
        process.wait(timeout=timeout_s)
    if self._log_file is not None:
      self._log_file.close()
      self._log_file = None
    return process.returncode

  def __enter__(self) -> 'ModelServerProcess':
    return self.start()

  def __exit__(self, *exc_info) -> None:
    self.stop()
