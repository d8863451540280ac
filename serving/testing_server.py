"""An in-process TEST DOUBLE of TF Serving's REST and gRPC predict interfaces.

`TestingModelServer` loads exported SavedModels with `tf.saved_model.load` and serves, on
127.0.0.1 only:

* REST: `POST /v1/models/NAME[/versions/V]:predict` (row and columnar formats, `b64` bytes),
  `GET /v1/models/NAME[/versions/V]` (version status) and
  `GET /v1/models/NAME[/versions/V]/metadata` (the SignatureDefMap as JSON).
* gRPC: `tensorflow.serving.PredictionService/Predict` and `/GetModelMetadata`, and
  `tensorflow.serving.ModelService/GetModelStatus`.

It exists so that the clients, the request validation and serve-bench can be tested on a
machine without the `tensorflow_model_server` binary. It is NOT a TF Serving replacement: it has
no request batching, no model hot-reload, no classify/regress APIs, no version labels and no
monitoring, and its latency is no measure of TF Serving's. Use `serving.real_server` or the
tensorflow/serving container for real serving.

Malformed requests never stop it: invalid JSON, unknown or missing inputs, wrong dtypes,
oversized batches and TensorFlow errors from the model get the responses TF Serving returns, `{"error": "..."}` with HTTP 400 (404 for an unknown model or version) and gRPC
INVALID_ARGUMENT (NOT_FOUND), and the server keeps serving.

Example:

  with TestingModelServer({'ctr_deepfm': '/tmp/out/serving/ctr_deepfm'}) as server:
    client = RestClient(server.rest_url, 'ctr_deepfm')
    client.predict(examples=[serialized_example])

As a process, with a subset of tensorflow_model_server's flags (so tests can stand it in for
the binary):

  python -m serving.testing_server --port=8500 --rest_api_port=8501 \
      --model_config_file=/tmp/out/serving/models.config
"""

import argparse
import concurrent.futures
import dataclasses
import http.server
import json
import logging
import os
import re
import signal
import sys
import threading
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

from google.protobuf import any_pb2
from google.protobuf import json_format
import grpc
import numpy as np
import tensorflow as tf
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import get_model_status_pb2
from tensorflow_serving.apis import model_service_pb2_grpc
from tensorflow_serving.apis import prediction_service_pb2_grpc

from serving import layout
from serving import request as request_lib
from serving import signatures as signatures_lib

LOOPBACK_HOSTS = ('127.0.0.1', 'localhost', '::1')
DEFAULT_MAX_BATCH_SIZE = 4096
DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024
SIGNATURE_DEF_FIELD = 'signature_def'

logger = logging.getLogger(__name__)

_PATH = re.compile(r'^/v1/models/(?P<name>[^/:]+)(?:/versions/(?P<version>[^/:]+))?'
                   r'(?:(?P<metadata>/metadata)|:(?P<method>[A-Za-z]+))?$')


class ServerError(Exception):
  """An error returned to a client, with its HTTP status and gRPC code."""

  def __init__(self, message: str, http_status: int, grpc_code: grpc.StatusCode):
    super().__init__(message)
    self.message = message
    self.http_status = http_status
    self.grpc_code = grpc_code


def _invalid(message: str) -> ServerError:
  return ServerError(message, 400, grpc.StatusCode.INVALID_ARGUMENT)


def _not_found(message: str) -> ServerError:
  return ServerError(message, 404, grpc.StatusCode.NOT_FOUND)


@dataclasses.dataclass
class LoadedVersion:
  """One loaded version of a served model."""

  name: str
  version: int
  export_dir: str
  saved_model: Any
  signature_defs: Dict[str, Any]
  signatures: Dict[str, signatures_lib.SignatureSpec]

  def signature_def_map(self) -> get_model_metadata_pb2.SignatureDefMap:
    signature_map = get_model_metadata_pb2.SignatureDefMap()
    for key, value in self.signature_defs.items():
      signature_map.signature_def[key].CopyFrom(value)
    return signature_map


def _load_version(name: str, version: layout.ModelVersion) -> LoadedVersion:
  saved_model = tf.saved_model.load(version.path)
  signature_defs = signatures_lib.read_signature_defs(version.path)
  # Only signatures restored as callables can serve predictions; the init-op signature is kept
  # in the metadata (TF Serving lists it too) but cannot be called.
  callable_names = set(saved_model.signatures.keys())
  specs = {key: signatures_lib.signature_from_proto(key, proto)
           for key, proto in signature_defs.items() if key in callable_names}
  return LoadedVersion(name=name, version=version.version, export_dir=version.path,
                       saved_model=saved_model, signature_defs=signature_defs,
                       signatures=specs)


class TestingModelServer:
  """TEST DOUBLE of TF Serving's REST and gRPC predict APIs on the loopback interface.

  Args:
    models: {model name: model base path} (the latest version is loaded), a sequence of
      `layout.ModelEntry` (version policies apply), or the path of a models.config file.
    host: Loopback address to bind; anything else is rejected.
    rest_port: REST port; 0 picks a free one. None disables REST.
    grpc_port: gRPC port; 0 picks a free one. None disables gRPC.
    max_batch_size: Largest batch accepted per request.
    max_body_bytes: Largest REST body and gRPC message accepted.
    max_k: Largest `k` accepted by top-k signatures; None sets no limit.
    grpc_workers: Threads that handle gRPC calls.
  """

  __test__ = False  # Not a pytest test class despite its name.

  def __init__(self,
               models: Union[Mapping[str, str], Sequence[layout.ModelEntry], str],
               host: str = '127.0.0.1',
               rest_port: Optional[int] = 0,
               grpc_port: Optional[int] = 0,
               max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
               max_body_bytes: int = DEFAULT_MAX_BODY_BYTES,
               max_k: Optional[int] = None,
               grpc_workers: int = 4):
    if host not in LOOPBACK_HOSTS:
      raise ValueError(f'TestingModelServer binds loopback addresses only {LOOPBACK_HOSTS}, got '
                       f'{host!r}; it is a test double, not a server for other machines.')
    if rest_port is None and grpc_port is None:
      raise ValueError('enable at least one of rest_port and grpc_port.')
    if max_batch_size < 1:
      raise ValueError(f'max_batch_size must be at least 1, got {max_batch_size}.')
    self.host = host
    self.max_batch_size = max_batch_size
    self.max_body_bytes = max_body_bytes
    self.max_k = max_k
    self._requested_rest_port = rest_port
    self._requested_grpc_port = grpc_port
    self._grpc_workers = grpc_workers
    self._entries = _as_entries(models)
    self._models: Dict[str, Dict[int, LoadedVersion]] = {}
    self._http_server: Optional[http.server.ThreadingHTTPServer] = None
    self._http_thread: Optional[threading.Thread] = None
    self._grpc_server: Optional[grpc.Server] = None
    self.rest_port: Optional[int] = None
    self.grpc_port: Optional[int] = None

  # -- life cycle ------------------------------------------------------------------------------

  def start(self) -> 'TestingModelServer':
    """Loads every model version and starts the REST and gRPC listeners."""
    for entry in self._entries:
      versions = layout.select_versions(entry)
      self._models[entry.name] = {v.version: _load_version(entry.name, v) for v in versions}
      logger.info('Test double loaded model %s versions %s from %s.', entry.name,
                  [v.version for v in versions], entry.base_path)

    if self._requested_rest_port is not None:
      handler = _make_http_handler(self)
      self._http_server = _HttpServer((self.host, self._requested_rest_port), handler)
      self.rest_port = self._http_server.server_address[1]
      self._http_thread = threading.Thread(target=self._http_server.serve_forever,
                                           name='tenrec-test-double-rest', daemon=True)
      self._http_thread.start()

    if self._requested_grpc_port is not None:
      options = [('grpc.max_receive_message_length', self.max_body_bytes),
                 ('grpc.max_send_message_length', self.max_body_bytes)]
      self._grpc_server = grpc.server(
          concurrent.futures.ThreadPoolExecutor(max_workers=self._grpc_workers,
                                                thread_name_prefix='tenrec-test-double-grpc'),
          options=options)
      prediction_service_pb2_grpc.add_PredictionServiceServicer_to_server(
          _PredictionServicer(self), self._grpc_server)
      model_service_pb2_grpc.add_ModelServiceServicer_to_server(
          _ModelServicer(self), self._grpc_server)
      address = f'[{self.host}]' if ':' in self.host else self.host
      self.grpc_port = self._grpc_server.add_insecure_port(
          f'{address}:{self._requested_grpc_port}')
      if not self.grpc_port:
        raise OSError(f'could not bind gRPC port {self._requested_grpc_port} on {self.host}.')
      self._grpc_server.start()
    logger.info('Test double serving %s: REST %s, gRPC %s.', sorted(self._models),
                self.rest_url, self.grpc_address)
    return self

  def stop(self) -> None:
    """Stops both listeners and waits for the REST thread to finish."""
    if self._http_server is not None:
      self._http_server.shutdown()
      self._http_server.server_close()
      self._http_server = None
    if self._http_thread is not None:
      self._http_thread.join(timeout=10)
      self._http_thread = None
    if self._grpc_server is not None:
      self._grpc_server.stop(grace=1).wait(timeout=10)
      self._grpc_server = None
    logger.info('Test double stopped.')

  def __enter__(self) -> 'TestingModelServer':
    return self.start()

  def __exit__(self, *exc_info) -> None:
    self.stop()

  @property
  def rest_url(self) -> Optional[str]:
    if self.rest_port is None:
      return None
    host = f'[{self.host}]' if ':' in self.host else self.host
    return f'http://{host}:{self.rest_port}'

  @property
  def grpc_address(self) -> Optional[str]:
    if self.grpc_port is None:
      return None
    host = f'[{self.host}]' if ':' in self.host else self.host
    return f'{host}:{self.grpc_port}'

  # -- serving logic shared by both protocols --------------------------------------------------

  def find_version(self, name: str, version: Optional[int]) -> LoadedVersion:
    """Returns the loaded version (the highest when `version` is None), or raises NOT_FOUND."""
    versions = self._models.get(name)
    if not versions:
      raise _not_found(f'Servable not found for request: Latest({name})')
    if version is None:
      return versions[max(versions)]
    if version not in versions:
      raise _not_found(f'Servable not found for request: Specific({name}, {version})')
    return versions[version]

  def model_status(self, name: str, version: Optional[int]) -> List[LoadedVersion]:
    versions = self._models.get(name)
    if not versions:
      raise _not_found(f'Could not find any versions of model {name}')
    if version is None:
      return [versions[v] for v in sorted(versions, reverse=True)]
    return [self.find_version(name, version)]

  def run_signature(self, model: LoadedVersion, signature: signatures_lib.SignatureSpec,
                    inputs: Mapping[str, Any]) -> Dict[str, np.ndarray]:
    """Validates `inputs` and runs the signature; raises ServerError on any failure."""
    try:
      arrays, _ = request_lib.validate_inputs(signature, inputs, self.max_batch_size, self.max_k)
    except request_lib.RequestError as error:
      raise _invalid(str(error)) from None

    function = model.saved_model.signatures[signature.name]
    # The arrays already have the signature dtypes (bytes objects become tf.string).
    tensors = {name: tf.constant(array) for name, array in arrays.items()}
    try:
      outputs = function(**tensors)
    except tf.errors.InvalidArgumentError as error:
      raise _invalid(_op_message(error.message)) from None
    except tf.errors.OpError as error:
      raise ServerError(_op_message(error.message), 500, grpc.StatusCode.INTERNAL) from None
    return {name: tensor.numpy() for name, tensor in outputs.items()}


def _op_message(message: str) -> str:
  """Returns the op's own message from an eager TensorFlow error.

  Eager errors read 'Graph execution error: ... Detected at node N ... <message>
  [[{{node N}}]] [Op:...]'; clients need only <message>.
  """
  skipped = ('Graph execution error', 'Detected at node', '<stack traces unavailable>',
             'File "', '[[{{')
  lines = [line.strip() for line in (message or '').splitlines()]
  useful = [line for line in lines if line and not line.startswith(skipped)]
  return useful[-1] if useful else (message or 'TensorFlow error').strip()


def _as_entries(models) -> List[layout.ModelEntry]:
  if isinstance(models, str):
    with tf.io.gfile.GFile(models) as f:
      return layout.parse_models_config(f.read())
  if isinstance(models, Mapping):
    return [layout.ModelEntry(name=name, base_path=path) for name, path in models.items()]
  return list(models)


# -- REST ------------------------------------------------------------------------------------------


class _HttpServer(http.server.ThreadingHTTPServer):
  daemon_threads = True
  allow_reuse_address = True

  def handle_error(self, request, client_address):
    # Called for exceptions that escaped a handler, such as a client that disconnected mid-response.
    logger.warning('Test double REST connection from %s failed.', client_address,
                   exc_info=True)


def _parse_version(text: Optional[str]) -> Optional[int]:
  if text is None:
    return None
  if not text.isdigit():
    raise _invalid(f'version {text!r} in the URL is not a non-negative integer.')
  return int(text)


def _make_http_handler(server: TestingModelServer):
  """Creates the request handler class bound to `server`."""

  class Handler(http.server.BaseHTTPRequestHandler):
    """REST handler. Every response is JSON, and errors are {"error": message}."""

    protocol_version = 'HTTP/1.1'
    # Malformed request lines get a status line and headers. The standard library's default
    # (HTTP/0.9) would send the JSON body alone.
    default_request_version = 'HTTP/1.0'
    server_version = 'TenrecTestDouble/1'
    timeout = 60  # Seconds a silent connection may hold a thread.
    # Headers and body are written separately. With Nagle's algorithm the body would wait for
    # the client's delayed ACK (about 40 ms on Linux) on every keep-alive request.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
      logger.debug('REST %s - %s', self.address_string(), format % args)

    def send_error(self, code, message=None, explain=None):
      # BaseHTTPRequestHandler calls this for malformed HTTP. Respond with JSON as TF Serving does.
      self._send_json(code, {'error': message or explain or 'malformed HTTP request'})

    def _send_json(self, status: int, payload: Mapping[str, Any]) -> None:
      body = json.dumps(payload).encode('utf-8')
      self.send_response(status)
      self.send_header('Content-Type', 'application/json')
      self.send_header('Content-Length', str(len(body)))
      self.end_headers()
      if self.command != 'HEAD':
        self.wfile.write(body)

    def _read_body(self) -> bytes:
      length_text = self.headers.get('Content-Length')
      if self.headers.get('Transfer-Encoding', '').lower() == 'chunked':
        raise ServerError('chunked request bodies are not supported; send Content-Length.',
                          411, grpc.StatusCode.INVALID_ARGUMENT)
      if length_text is None or not length_text.strip().isdigit():
        raise ServerError('the request has no valid Content-Length header.', 411,
                          grpc.StatusCode.INVALID_ARGUMENT)
      length = int(length_text)
      if length > server.max_body_bytes:
        # The body is not read, so the connection cannot be reused.
        self.close_connection = True
        raise ServerError(f'request body of {length} bytes exceeds the limit of '
                          f'{server.max_body_bytes} bytes.', 413,
                          grpc.StatusCode.RESOURCE_EXHAUSTED)
      return self.rfile.read(length)

    def _dispatch(self, method: str) -> None:
      try:
        status, payload = self._route(method)
      except ServerError as error:
        logger.info('REST %s %s returned %d: %s', method, self.path, error.http_status,
                    error.message)
        status, payload = error.http_status, {'error': error.message}
      except Exception as error:  # pylint: disable=broad-except
        # A test double must keep serving whatever a request does, so the error is logged with
        # its traceback and returned as an internal error.
        logger.exception('REST %s %s failed.', method, self.path)
        status, payload = 500, {'error': f'internal error: {type(error).__name__}: {error}'}
      self._send_json(status, payload)

    def _route(self, method: str) -> Tuple[int, Dict[str, Any]]:
      match = _PATH.match(self.path.split('?', 1)[0])
      if match is None:
        if method == 'POST':
          self._read_body_if_possible()
        raise _not_found(f'Malformed request: {method} {self.path}')
      name = match.group('name')
      version = _parse_version(match.group('version'))
      if match.group('method'):
        if method != 'POST':
          raise ServerError(f'{method} is not allowed on :{match.group("method")}; use POST.',
                            405, grpc.StatusCode.INVALID_ARGUMENT)
        body = self._read_body()
        if match.group('method') != 'predict':
          raise ServerError(f'the test double implements :predict only, not '
                            f':{match.group("method")}.', 501, grpc.StatusCode.UNIMPLEMENTED)
        return 200, self._predict(name, version, body)
      if method == 'POST':
        self._read_body_if_possible()
        raise ServerError(f'POST is not allowed on {self.path}; use GET.', 405,
                          grpc.StatusCode.INVALID_ARGUMENT)
      if match.group('metadata'):
        return 200, self._metadata(name, version)
      return 200, self._status(name, version)

    def _read_body_if_possible(self) -> None:
      try:
        self._read_body()
      except ServerError:
        self.close_connection = True

    def _predict(self, name: str, version: Optional[int], body: bytes) -> Dict[str, Any]:
      model = server.find_version(name, version)
      try:
        signature, inputs, request_format = request_lib.decode_rest_body(body, model.signatures)
      except request_lib.RequestError as error:
        raise _invalid(str(error)) from None
      outputs = server.run_signature(model, signature, inputs)
      return request_lib.encode_rest_response(outputs, request_format)

    def _metadata(self, name: str, version: Optional[int]) -> Dict[str, Any]:
      model = server.find_version(name, version)
      return {
          'model_spec': {'name': name, 'signature_name': '', 'version': str(model.version)},
          'metadata': {SIGNATURE_DEF_FIELD: json_format.MessageToDict(
              model.signature_def_map(), preserving_proto_field_name=True)},
      }

    def _status(self, name: str, version: Optional[int]) -> Dict[str, Any]:
      return {'model_version_status': [
          {'version': str(v.version), 'state': 'AVAILABLE',
           'status': {'error_code': 'OK', 'error_message': ''}}
          for v in server.model_status(name, version)]}

    def do_GET(self):  # pylint: disable=invalid-name
      self._dispatch('GET')

    def do_POST(self):  # pylint: disable=invalid-name
      self._dispatch('POST')

    def do_PUT(self):  # pylint: disable=invalid-name
      self._read_body_if_possible()
      self._send_json(405, {'error': 'PUT is not supported; use GET or POST.'})

    def do_DELETE(self):  # pylint: disable=invalid-name
      self._send_json(405, {'error': 'DELETE is not supported; use GET or POST.'})

  return Handler


# -- gRPC ------------------------------------------------------------------------------------------


def _grpc_call(context: grpc.ServicerContext, what: str, function):
  """Runs `function`, turning every failure into a gRPC status instead of a crash."""
  try:
    return function()
  except ServerError as error:
    logger.info('gRPC %s returned %s: %s', what, error.grpc_code.name, error.message)
    context.abort(error.grpc_code, error.message)
  except Exception as error:  # pylint: disable=broad-except
    # A test double must keep serving whatever a request does, so log the traceback and return
    # INTERNAL. The exception of context.abort is raised inside these handlers, so it passes.
    logger.exception('gRPC %s failed.', what)
    context.abort(grpc.StatusCode.INTERNAL, f'internal error: {type(error).__name__}: {error}')
  return None


def _version_of(model_spec) -> Optional[int]:
  if model_spec.HasField('version_label'):
    raise _invalid('the test double does not support version labels; pass a version number.')
  return model_spec.version.value if model_spec.HasField('version') else None


class _PredictionServicer(prediction_service_pb2_grpc.PredictionServiceServicer):
  """PredictionService with Predict and GetModelMetadata; the other methods are UNIMPLEMENTED."""

  def __init__(self, server: TestingModelServer):
    self._server = server

  def Predict(self, request, context):  # pylint: disable=invalid-name
    def predict():
      model = self._server.find_version(request.model_spec.name,
                                        _version_of(request.model_spec))
      try:
        signature, arrays = request_lib.decode_grpc_request(request, model.signatures)
      except request_lib.RequestError as error:
        raise _invalid(str(error)) from None
      outputs = self._server.run_signature(model, signature, arrays)
      return request_lib.encode_grpc_response(outputs, model.name, model.version,
                                              signature.name)
    return _grpc_call(context, 'Predict', predict)

  def GetModelMetadata(self, request, context):  # pylint: disable=invalid-name
    def metadata():
      model = self._server.find_version(request.model_spec.name,
                                        _version_of(request.model_spec))
      unsupported = [f for f in request.metadata_field if f != SIGNATURE_DEF_FIELD]
      if unsupported or not request.metadata_field:
        raise _invalid(f'Metadata field {unsupported[0] if unsupported else "(none)"} is not '
                       f'supported; request {SIGNATURE_DEF_FIELD!r}.')
      response = get_model_metadata_pb2.GetModelMetadataResponse()
      response.model_spec.name = model.name
      response.model_spec.version.value = model.version
      packed = any_pb2.Any()
      packed.Pack(model.signature_def_map())
      response.metadata[SIGNATURE_DEF_FIELD].CopyFrom(packed)
      return response
    return _grpc_call(context, 'GetModelMetadata', metadata)


class _ModelServicer(model_service_pb2_grpc.ModelServiceServicer):
  """ModelService with GetModelStatus; HandleReloadConfigRequest is UNIMPLEMENTED."""

  def __init__(self, server: TestingModelServer):
    self._server = server

  def GetModelStatus(self, request, context):  # pylint: disable=invalid-name
    def status():
      response = get_model_status_pb2.GetModelStatusResponse()
      for model in self._server.model_status(request.model_spec.name,
                                             _version_of(request.model_spec)):
        item = response.model_version_status.add()
        item.version = model.version
        item.state = get_model_status_pb2.ModelVersionStatus.AVAILABLE
      return response
    return _grpc_call(context, 'GetModelStatus', status)


# -- command line ----------------------------------------------------------------------------------


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Runs the test double until SIGTERM or SIGINT, with tensorflow_model_server-style flags."""
  parser = argparse.ArgumentParser(
      prog='python -m serving.testing_server',
      description='TEST DOUBLE of TF Serving on 127.0.0.1 (REST predict/status/metadata, gRPC '
      'Predict/GetModelMetadata/GetModelStatus). Not a TF Serving replacement.')
  parser.add_argument('--port', type=int, default=8500, help='gRPC port (0 = pick a free one).')
  parser.add_argument('--rest_api_port', type=int, default=8501,
                      help='REST port (0 disables REST, as in tensorflow_model_server).')
  parser.add_argument('--model_config_file', default=None, help='models.config to serve.')
  parser.add_argument('--model_name', default=None, help='Model name without models.config.')
  parser.add_argument('--model_base_path', default=None,
                      help='Model base path without models.config.')
  parser.add_argument('--monitoring_config_file', default=None,
                      help='Accepted for compatibility and ignored: the test double has no '
                      'monitoring.')
  parser.add_argument('--max_batch_size', type=int, default=DEFAULT_MAX_BATCH_SIZE,
                      help='Largest batch accepted per request.')
  args = parser.parse_args(argv)
  logging.basicConfig(level=logging.INFO,
                      format='%(asctime)s %(levelname)s %(name)s: %(message)s')

  if args.model_config_file:
    models: Any = args.model_config_file
  elif args.model_name and args.model_base_path:
    models = {args.model_name: args.model_base_path}
  else:
    parser.error('pass --model_config_file, or --model_name and --model_base_path.')
  if args.monitoring_config_file:
    logger.warning('The test double ignores --monitoring_config_file=%s.',
                   args.monitoring_config_file)

  stopped = threading.Event()
  for signal_number in (signal.SIGTERM, signal.SIGINT):
    signal.signal(signal_number, lambda *_: stopped.set())
  server = TestingModelServer(models, rest_port=args.rest_api_port or None,
                              grpc_port=args.port, max_batch_size=args.max_batch_size)
  try:
    server.start()
  except (layout.LayoutError, OSError, ValueError) as error:
    logger.error('Test double failed to start: %s', error)
    return 1
  try:
    stopped.wait()
  finally:
    server.stop()
  return 0


if __name__ == '__main__':
  exit_status = main()
  # Interpreter teardown with TensorFlow and gRPC threads loaded can outlast a supervisor's
  # SIGTERM grace period on a busy machine. The servers are stopped and nothing is left to
  # flush but the logs, so the process exits at once.
  logging.shutdown()
  os._exit(exit_status)
