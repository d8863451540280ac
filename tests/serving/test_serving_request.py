"""Tests of serving.request: request building, validation and both wire formats."""

import base64
import json

import numpy as np
import pytest
import tensorflow as tf

from serving import request as request_lib
from serving.signatures import SignatureSpec, TensorInfo

RAW = SignatureSpec(
    name='serving_raw',
    inputs={'user_id': TensorInfo('DT_INT64', (-1, 1)),
            'hist_item_ids': TensorInfo('DT_INT64', (-1, 3))},
    outputs={'click': TensorInfo('DT_FLOAT', (-1, 1))})
EXAMPLES = SignatureSpec(
    name='serving_default',
    inputs={'examples': TensorInfo('DT_STRING', (-1,))},
    outputs={'click': TensorInfo('DT_FLOAT', (-1, 1))})
TOP_K = SignatureSpec(
    name='top_k',
    inputs={'item_ids': TensorInfo('DT_INT64', (-1, -1)), 'k': TensorInfo('DT_INT32', ())},
    outputs={'item_ids': TensorInfo('DT_INT64', (-1, -1)),
             'scores': TensorInfo('DT_FLOAT', (-1, -1))})
DENSE = SignatureSpec(
    name='dense',
    inputs={'x': TensorInfo('DT_FLOAT', (-1, 2))},
    outputs={'y': TensorInfo('DT_FLOAT', (-1,))})
SIGNATURES = {s.name: s for s in (RAW, EXAMPLES, TOP_K, DENSE)}

RAW_FEATURES = {'user_id': [[1], [2]], 'hist_item_ids': [[-1, 4, 5], [6, 7, 8]]}


def _build(signature, **kwargs):
  return request_lib.build_request(signature, 'm', **kwargs)


def test_build_raw_features_dtypes():
  request = _build(RAW, features=RAW_FEATURES)
  assert request.inputs['user_id'].dtype == np.int64
  assert request.inputs['hist_item_ids'].shape == (2, 3)
  assert request.batch_size == 2


def test_build_expands_batch_to_unit_column():
  request = _build(RAW, features={'user_id': [1, 2], 'hist_item_ids': [[1, 2, 3]] * 2})
  assert request.inputs['user_id'].shape == (2, 1)


def test_build_unknown_feature():
  with pytest.raises(request_lib.RequestError, match="unknown input 'age'"):
    _build(RAW, features=dict(RAW_FEATURES, age=[[1], [2]]))


def test_build_missing_feature():
  with pytest.raises(request_lib.RequestError, match="missing input 'hist_item_ids'"):
    _build(RAW, features={'user_id': [[1]]})


@pytest.mark.parametrize('value, message', [
    ([[1.5], [2.0]], 'must be DT_INT64 integers, got floats'),
    ([['a'], ['b']], 'must be DT_INT64 integers, got strings'),
    ([[True], [False]], 'must be DT_INT64 integers, got booleans'),
    ([[None], [1]], 'must be DT_INT64 integers, got values of type'),
])
def test_build_wrong_dtype(value, message):
  with pytest.raises(request_lib.RequestError, match=message):
    _build(RAW, features=dict(RAW_FEATURES, user_id=value))


def test_build_int_out_of_range():
  signature = SignatureSpec('s', {'k': TensorInfo('DT_INT32', (-1,))}, {})
  with pytest.raises(request_lib.RequestError, match='outside the DT_INT32 range'):
    _build(signature, features={'k': [2**40]})


def test_build_ragged_rows():
  with pytest.raises(request_lib.RequestError, match='different lengths'):
    _build(RAW, features=dict(RAW_FEATURES, hist_item_ids=[[1, 2, 3], [4]]))


def test_build_fixed_dimension_mismatch():
  with pytest.raises(request_lib.RequestError, match=r'expects \[batch, 3\]'):
    _build(RAW, features=dict(RAW_FEATURES, hist_item_ids=[[1, 2], [3, 4]]))


def test_build_batch_size_mismatch():
  with pytest.raises(request_lib.RequestError, match='different batch sizes'):
    _build(RAW, features=dict(RAW_FEATURES, user_id=[[1]]))


def test_build_empty_batch():
  with pytest.raises(request_lib.RequestError, match='empty batch'):
    _build(DENSE, features={'x': np.zeros((0, 2), np.float32)})


def test_build_batch_limit():
  with pytest.raises(request_lib.RequestError, match='exceeds the limit of 2'):
    _build(DENSE, features={'x': np.zeros((3, 2))}, max_batch_size=2)


def test_build_float_input_accepts_ints():
  request = _build(DENSE, features={'x': [[1, 2]]})
  assert request.inputs['x'].dtype == np.float32


def test_build_top_k():
  request = _build(TOP_K, features={'item_ids': [[0, 3, 4]]}, k=5)
  assert request.inputs['k'].dtype == np.int32
  assert request.inputs['k'].shape == ()


@pytest.mark.parametrize('k, message', [
    (0, 'k must be at least 1'),
    (-3, 'k must be at least 1'),
    (2.5, 'k must be an integer'),
    (True, 'k must be an integer'),
])
def test_build_invalid_k(k, message):
  with pytest.raises(request_lib.RequestError, match=message):
    _build(TOP_K, features={'item_ids': [[3]]}, k=k)


def test_build_k_above_limit():
  with pytest.raises(request_lib.RequestError, match='exceeds the limit of 10'):
    _build(TOP_K, features={'item_ids': [[3]]}, k=11, max_k=10)


def test_build_k_without_top_k_input():
  with pytest.raises(request_lib.RequestError, match="has no input 'k'"):
    _build(RAW, features=RAW_FEATURES, k=3)


def test_build_k_given_twice():
  with pytest.raises(request_lib.RequestError, match='given twice'):
    _build(TOP_K, features={'item_ids': [[3]], 'k': 2}, k=3)


def test_build_examples_keep_trailing_nul():
  example = tf.train.Example()
  example.features.feature['a'].int64_list.value.append(0)
  serialized = example.SerializeToString()
  assert serialized.endswith(b'\x00')
  request = _build(EXAMPLES, examples=[example, serialized])
  assert request.inputs['examples'].tolist() == [serialized, serialized]


def test_build_examples_rejects_text():
  with pytest.raises(request_lib.RequestError, match='example 0 is a str'):
    _build(EXAMPLES, examples=['not bytes'])


def test_build_examples_on_tensor_signature():
  with pytest.raises(request_lib.RequestError, match='does not take serialized examples'):
    _build(RAW, examples=[b'x'])


def test_build_needs_features_or_examples():
  with pytest.raises(request_lib.RequestError, match='exactly one'):
    _build(RAW)


def test_rest_body_columnar():
  body = request_lib.encode_rest_body(_build(RAW, features=RAW_FEATURES))
  assert body == {'signature_name': 'serving_raw', 'inputs': RAW_FEATURES}


def test_rest_body_row():
  body = request_lib.encode_rest_body(_build(RAW, features=RAW_FEATURES), 'row')
  assert body['instances'] == [{'user_id': [1], 'hist_item_ids': [-1, 4, 5]},
                               {'user_id': [2], 'hist_item_ids': [6, 7, 8]}]


def test_rest_body_bytes_as_b64():
  body = request_lib.encode_rest_body(_build(EXAMPLES, examples=[b'\x00\xff']))
  assert body['inputs']['examples'] == [{'b64': base64.b64encode(b'\x00\xff').decode()}]


def test_rest_body_row_rejects_scalar_k():
  request = _build(TOP_K, features={'item_ids': [[3]]}, k=2)
  with pytest.raises(request_lib.RequestError, match='columnar'):
    request_lib.encode_rest_body(request, 'row')


@pytest.mark.parametrize('request_format', ['columnar', 'row'])
def test_rest_body_round_trip(request_format):
  request = _build(RAW, features=RAW_FEATURES)
  body = json.dumps(request_lib.encode_rest_body(request, request_format)).encode()
  signature, inputs, found_format = request_lib.decode_rest_body(body, SIGNATURES)
  arrays, batch_size = request_lib.validate_inputs(signature, inputs)
  assert signature.name == 'serving_raw'
  assert found_format == request_format
  assert batch_size == 2
  np.testing.assert_array_equal(arrays['hist_item_ids'], request.inputs['hist_item_ids'])


def test_rest_decode_b64_examples():
  body = json.dumps({'inputs': {'examples': [{'b64': 'AP8='}]}}).encode()
  _, inputs, _ = request_lib.decode_rest_body(body, SIGNATURES)
  assert inputs['examples'] == [b'\x00\xff']


def test_rest_decode_unnamed_single_input():
  body = json.dumps({'signature_name': 'dense', 'instances': [[1, 2], [3, 4]]}).encode()
  _, inputs, _ = request_lib.decode_rest_body(body, SIGNATURES)
  assert inputs == {'x': [[1, 2], [3, 4]]}


@pytest.mark.parametrize('body, message', [
    (b'{"inputs": ', 'not valid JSON'),
    (b'\xff\xfe', 'not valid JSON'),
    (b'[1, 2]', 'must be a JSON object'),
    (b'{}', 'exactly one of "inputs"'),
    (b'{"inputs": {}, "instances": []}', 'exactly one of "inputs"'),
    (b'{"signature_name": "nope", "inputs": {}}', '"nope" not found'),
    (b'{"signature_name": 3, "inputs": {}}', 'signature_name must be a string'),
    (b'{"inputs": {"examples": [{"b64": "***"}]}}', 'invalid base64'),
    (b'{"inputs": {"examples": [{"text": "a"}]}}', 'only object allowed'),
    (b'{"instances": []}', 'non-empty list'),
    (b'{"signature_name": "serving_raw", "instances": [{"user_id": [1]}, {"age": [1]}]}',
     'every instance needs the same inputs'),
    (b'{"signature_name": "serving_raw", "instances": [1, 2]}', 'needs a signature with one'),
])
def test_rest_decode_malformed(body, message):
  with pytest.raises(request_lib.RequestError, match=message):
    request_lib.decode_rest_body(body, SIGNATURES)


def test_rest_response_row_single_output():
  outputs = {'click': np.array([[0.25], [0.5]], np.float32)}
  payload = request_lib.encode_rest_response(outputs, 'row')
  assert payload == {'predictions': [[0.25], [0.5]]}
  decoded = request_lib.decode_rest_response(payload, RAW)
  np.testing.assert_array_equal(decoded['click'], outputs['click'])


def test_rest_response_columnar_two_outputs():
  outputs = {'item_ids': np.array([[3, 1]]), 'scores': np.array([[0.5, 0.25]], np.float32)}
  payload = request_lib.encode_rest_response(outputs, 'columnar')
  decoded = request_lib.decode_rest_response(payload, TOP_K)
  assert payload == {'outputs': {'item_ids': [[3, 1]], 'scores': [[0.5, 0.25]]}}
  assert decoded['item_ids'].dtype == np.int64
  np.testing.assert_array_equal(decoded['scores'], outputs['scores'])


def test_rest_response_row_two_outputs():
  outputs = {'item_ids': np.array([[3], [4]]), 'scores': np.array([[0.5], [0.25]], np.float32)}
  payload = request_lib.encode_rest_response(outputs, 'row')
  decoded = request_lib.decode_rest_response(payload, TOP_K)
  assert payload['predictions'][1] == {'item_ids': [4], 'scores': [0.25]}
  np.testing.assert_array_equal(decoded['item_ids'], [[3], [4]])


def test_rest_response_error():
  with pytest.raises(request_lib.ServingError, match='boom'):
    request_lib.decode_rest_response({'error': 'boom'}, RAW)


def test_grpc_request_round_trip():
  request = _build(TOP_K, features={'item_ids': [[0, 3, 4]]}, k=5, version=7)
  proto = request_lib.encode_grpc_request(request)
  signature, arrays = request_lib.decode_grpc_request(proto, SIGNATURES)
  assert proto.model_spec.version.value == 7
  assert signature.name == 'top_k'
  assert int(arrays['k']) == 5
  np.testing.assert_array_equal(arrays['item_ids'], [[0, 3, 4]])


def test_grpc_request_examples_round_trip():
  request = _build(EXAMPLES, examples=[b'a\x00', b'\x00'])
  _, arrays = request_lib.decode_grpc_request(request_lib.encode_grpc_request(request),
                                              SIGNATURES)
  assert arrays['examples'].tolist() == [b'a\x00', b'\x00']


def test_grpc_request_dtype_mismatch():
  proto = request_lib.encode_grpc_request(_build(RAW, features=RAW_FEATURES))
  proto.inputs['user_id'].CopyFrom(tf.make_tensor_proto(np.array([[1.0]], np.float32)))
  with pytest.raises(request_lib.RequestError, match="'user_id' is DT_FLOAT"):
    request_lib.decode_grpc_request(proto, SIGNATURES)


def test_grpc_request_oversized_shape():
  proto = request_lib.encode_grpc_request(_build(DENSE, features={'x': [[1, 2]]}))
  proto.inputs['x'].tensor_shape.dim[0].size = 10**9
  with pytest.raises(request_lib.RequestError, match='at most'):
    request_lib.decode_grpc_request(proto, SIGNATURES, max_elements=1000)


def test_grpc_request_corrupt_content():
  proto = request_lib.encode_grpc_request(_build(DENSE, features={'x': [[1, 2]]}))
  proto.inputs['x'].tensor_content = b'\x00\x01\x02'
  with pytest.raises(request_lib.RequestError, match='not a valid TensorProto'):
    request_lib.decode_grpc_request(proto, SIGNATURES)


def test_grpc_response_round_trip():
  outputs = {'click': np.array([[0.5]], np.float32)}
  proto = request_lib.encode_grpc_response(outputs, 'm', 3, 'serving_default')
  decoded = request_lib.decode_grpc_response(proto)
  assert proto.model_spec.version.value == 3
  np.testing.assert_array_equal(decoded['click'], outputs['click'])
