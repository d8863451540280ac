"""Tests of serving.testing_server: TF Serving-shaped responses, and no crash on bad requests."""

import base64
import json
import socket

import grpc
import numpy as np
import pytest
import requests
import tensorflow as tf
from tensorflow_serving.apis import get_model_metadata_pb2
from tensorflow_serving.apis import predict_pb2
from tensorflow_serving.apis import prediction_service_pb2_grpc

from serving import testing_server
import serving_exports

CTR = serving_exports.CTR_MODEL
SEQUENTIAL = serving_exports.SEQUENTIAL_MODEL


def _b64_examples(count):
  rows = serving_exports.raw_rows(count, seed=2)
  return [{'b64': base64.b64encode(serving_exports.to_example(r).SerializeToString()).decode()}
          for r in rows]


def _post(server, body, path=f'/v1/models/{CTR}:predict'):
  data = body if isinstance(body, bytes) else json.dumps(body).encode()
  return requests.post(server.rest_url + path, data=data, timeout=30)


def _assert_still_serving(server):
  response = _post(server, {'inputs': {'examples': _b64_examples(2)}})
  assert response.status_code == 200
  assert len(response.json()['outputs']) == 2


@pytest.fixture(scope='module')
def stub(test_double):
  channel = grpc.insecure_channel(test_double.grpc_address)
  yield prediction_service_pb2_grpc.PredictionServiceStub(channel)
  channel.close()


def test_predict_columnar_response_shape(test_double):
  response = _post(test_double, {'inputs': {'examples': _b64_examples(3)}})
  assert response.status_code == 200
  assert np.array(response.json()['outputs']).shape == (3, 1)


def test_predict_row_response_shape(test_double):
  instances = [{'examples': e} for e in _b64_examples(2)]
  response = _post(test_double, {'instances': instances})
  assert np.array(response.json()['predictions']).shape == (2, 1)


def test_predict_two_outputs_columnar(test_double):
  body = {'signature_name': 'top_k', 'inputs': {'item_ids': [[1, 2, 3]], 'k': 2}}
  response = _post(test_double, body, f'/v1/models/{SEQUENTIAL}:predict')
  outputs = response.json()['outputs']
  assert sorted(outputs) == ['item_ids', 'scores']
  assert np.array(outputs['item_ids']).shape == (1, 2)


def test_status_endpoint(test_double):
  response = requests.get(f'{test_double.rest_url}/v1/models/{CTR}/versions/1', timeout=30)
  assert response.json() == {'model_version_status': [
      {'version': '1', 'state': 'AVAILABLE', 'status': {'error_code': 'OK', 'error_message': ''}}]}


def test_metadata_endpoint(test_double):
  response = requests.get(f'{test_double.rest_url}/v1/models/{CTR}/metadata', timeout=30)
  payload = response.json()
  signature_defs = payload['metadata']['signature_def']['signature_def']
  assert payload['model_spec'] == {'name': CTR, 'signature_name': '', 'version': '1'}
  assert signature_defs['serving_default']['inputs']['examples']['dtype'] == 'DT_STRING'
  assert '__saved_model_init_op' in signature_defs


@pytest.mark.parametrize('body, message', [
    (b'{"inputs": [', 'not valid JSON'),
    (b'"just a string"', 'must be a JSON object'),
    ({'inputs': {'examples': [1, 2]}}, "'examples' must be DT_STRING"),
    ({'signature_name': 'serving_raw', 'inputs': {'user_id': [[1.5]]}}, 'missing input'),
    ({'signature_name': 'serving_raw',
      'inputs': {'user_id': [[1.5]], 'item_id': [[1]], 'video_category': [[1]], 'gender': [[1]],
                 'age': [[1]], 'hist_item_ids': [[1] * 10]}}, "'user_id' must be DT_INT64"),
    ({'inputs': {'examples': _b64_examples(1), 'extra': [1]}}, "unknown input 'extra'"),
    ({'inputs': {'examples': [{'b64': 'bm90IGFuIGV4YW1wbGU='}]}}, 'Could not parse example'),
    ({'signature_name': 'serving_rest', 'inputs': {}}, '"serving_rest" not found'),
])
def test_predict_malformed_returns_400(test_double, body, message):
  response = _post(test_double, body)
  assert response.status_code == 400
  assert message in response.json()['error']
  _assert_still_serving(test_double)


def test_predict_oversized_batch(test_double):
  response = _post(test_double, {'inputs': {'examples': _b64_examples(1) * 65}})
  assert response.status_code == 400
  assert response.json()['error'] == ('batch size 65 exceeds the limit of 64 examples per '
                                      'request; split the batch.')
  _assert_still_serving(test_double)


def test_predict_invalid_k(test_double):
  body = {'signature_name': 'top_k', 'inputs': {'item_ids': [[1, 2]], 'k': 0}}
  response = _post(test_double, body, f'/v1/models/{SEQUENTIAL}:predict')
  assert response.status_code == 400
  assert response.json()['error'] == 'k must be at least 1, got 0.'


@pytest.mark.parametrize('path, status', [
    (f'/v1/models/nope:predict', 404),
    (f'/v1/models/{CTR}/versions/7:predict', 404),
    (f'/v1/models/{CTR}/versions/x:predict', 400),
    (f'/v1/models/{CTR}:classify', 501),
    ('/v2/anything', 404),
])
def test_predict_bad_paths(test_double, path, status):
  response = _post(test_double, {'inputs': {'examples': _b64_examples(1)}}, path)
  assert response.status_code == status
  assert 'error' in response.json()


def test_get_on_predict_is_405(test_double):
  response = requests.get(f'{test_double.rest_url}/v1/models/{CTR}:predict', timeout=30)
  assert response.status_code == 405


def test_body_without_length(test_double):
  with socket.create_connection(('127.0.0.1', test_double.rest_port), timeout=30) as sock:
    sock.sendall(f'POST /v1/models/{CTR}:predict HTTP/1.1\r\nHost: x\r\n\r\n'.encode())
    response = sock.recv(4096).decode()
  assert response.startswith('HTTP/1.1 411')
  _assert_still_serving(test_double)


def test_garbage_http_request(test_double):
  with socket.create_connection(('127.0.0.1', test_double.rest_port), timeout=30) as sock:
    sock.sendall(b'\x16\x03\x01 not http at all\r\n\r\n')
    response = sock.recv(4096).decode(errors='replace')
  assert response.startswith('HTTP/1.1 400')
  _assert_still_serving(test_double)


def test_body_over_limit(ctr_export, serving_base):
  server = testing_server.TestingModelServer(
      {CTR: f'{serving_base}/{CTR}'}, grpc_port=None, max_body_bytes=100)
  with server:
    response = _post(server, {'inputs': {'examples': _b64_examples(3)}})
    assert response.status_code == 413
    assert 'exceeds the limit of 100 bytes' in response.json()['error']


def test_grpc_dtype_mismatch(test_double, stub):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = CTR
  request.inputs['examples'].CopyFrom(tf.make_tensor_proto(np.array([1.0], np.float32)))
  with pytest.raises(grpc.RpcError) as raised:
    stub.Predict(request, timeout=30)
  assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
  assert raised.value.details() == ("input 'examples' is DT_FLOAT, signature 'serving_default' "
                                    'expects DT_STRING.')


def test_grpc_missing_input(test_double, stub):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = CTR
  request.model_spec.signature_name = 'serving_raw'
  request.inputs['user_id'].CopyFrom(tf.make_tensor_proto(np.array([[1]], np.int64)))
  with pytest.raises(grpc.RpcError) as raised:
    stub.Predict(request, timeout=30)
  assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
  assert 'missing input' in raised.value.details()


def test_grpc_unknown_version(test_double, stub):
  request = predict_pb2.PredictRequest()
  request.model_spec.name = CTR
  request.model_spec.version.value = 5
  with pytest.raises(grpc.RpcError) as raised:
    stub.Predict(request, timeout=30)
  assert raised.value.code() == grpc.StatusCode.NOT_FOUND


def test_grpc_metadata_field_unsupported(test_double, stub):
  request = get_model_metadata_pb2.GetModelMetadataRequest()
  request.model_spec.name = CTR
  request.metadata_field.append('graph_def')
  with pytest.raises(grpc.RpcError) as raised:
    stub.GetModelMetadata(request, timeout=30)
  assert raised.value.code() == grpc.StatusCode.INVALID_ARGUMENT
  assert 'graph_def' in raised.value.details()


def test_grpc_classify_unimplemented(test_double, stub):
  from tensorflow_serving.apis import classification_pb2  # pylint: disable=import-outside-toplevel

  with pytest.raises(grpc.RpcError) as raised:
    stub.Classify(classification_pb2.ClassificationRequest(), timeout=30)
  assert raised.value.code() == grpc.StatusCode.UNIMPLEMENTED


def test_rejects_non_loopback_host(serving_base):
  with pytest.raises(ValueError, match='loopback addresses only'):
    testing_server.TestingModelServer({CTR: f'{serving_base}/{CTR}'}, host='0.0.0.0')


def test_loads_models_config(ctr_export, serving_base, tmp_path):
  from serving import layout  # pylint: disable=import-outside-toplevel

  config = tmp_path / 'models.config'
  config.write_text(layout.models_config_text([layout.ModelEntry(CTR, f'{serving_base}/{CTR}')]))
  with testing_server.TestingModelServer(str(config), rest_port=None) as server:
    assert server.rest_url is None
    assert server.find_version(CTR, None).version == 1
