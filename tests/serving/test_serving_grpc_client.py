"""Tests of serving.grpc_client against the test double on 127.0.0.1."""

import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2

from serving import grpc_client
from serving import request as request_lib
import serving_exports

CTR = serving_exports.CTR_MODEL
SEQUENTIAL = serving_exports.SEQUENTIAL_MODEL


def _serialized_rows(count=5):
  return [serving_exports.to_example(r).SerializeToString()
          for r in serving_exports.raw_rows(count, seed=5)]


@pytest.fixture(scope='module')
def loaded_ctr(ctr_export):
  return tf.saved_model.load(ctr_export)


@pytest.fixture(scope='module')
def loaded_sequential(sequential_export):
  return tf.saved_model.load(sequential_export)


def test_grpc_ctr_examples_equal_in_process(test_double, loaded_ctr):
  examples = _serialized_rows()
  with grpc_client.GrpcClient(test_double.grpc_address, CTR) as client:
    served = client.predict(examples=examples)
  expected = loaded_ctr.signatures['serving_default'](examples=tf.constant(examples))
  np.testing.assert_array_equal(served['click'], expected['click'].numpy())


def test_grpc_ctr_raw_features_equal_in_process(test_double, loaded_ctr):
  rows = serving_exports.raw_rows(3, seed=8)
  features = {name: np.stack([r[name] for r in rows])
              for name in serving_exports.SCALAR_FEATURES + ('hist_item_ids',)}
  with grpc_client.GrpcClient(test_double.grpc_address, CTR) as client:
    served = client.predict(features, signature_name='serving_raw')
  expected = loaded_ctr.signatures['serving_raw'](
      **{k: tf.constant(v) for k, v in features.items()})
  np.testing.assert_array_equal(served['click'], expected['click'].numpy())


def test_grpc_sequential_scores_equal_in_process(test_double, loaded_sequential):
  examples = [serving_exports.sequence_example(h) for h in ([2, 3], [9, 9, 1])]
  with grpc_client.GrpcClient(test_double.grpc_address, SEQUENTIAL) as client:
    served = client.predict(examples=examples)
  expected = loaded_sequential.signatures['serving_default'](examples=tf.constant(examples))
  np.testing.assert_array_equal(served['scores'], expected['scores'].numpy())


def test_grpc_sequential_top_k_equal_in_process(test_double, loaded_sequential):
  matrix = np.array([[0, 0, 3, 4], [5, 6, 7, 8]], np.int64)
  with grpc_client.GrpcClient(test_double.grpc_address, SEQUENTIAL) as client:
    served = client.predict({'item_ids': matrix}, k=3, signature_name='top_k')
  expected = loaded_sequential.signatures['top_k'](item_ids=tf.constant(matrix),
                                                   k=tf.constant(3))
  assert served['item_ids'].shape == (2, 3)
  np.testing.assert_array_equal(served['item_ids'], expected['item_ids'].numpy())
  np.testing.assert_array_equal(served['scores'], expected['scores'].numpy())


def test_grpc_status(test_double):
  with grpc_client.GrpcClient(test_double.grpc_address, SEQUENTIAL) as client:
    status = client.status()
  assert status.model_version_status[0].version == 1
  assert status.model_version_status[0].state == get_model_status_pb2.ModelVersionStatus.AVAILABLE


def test_grpc_metadata_signatures(test_double):
  with grpc_client.GrpcClient(test_double.grpc_address, CTR) as client:
    found = client.signatures()
  assert found['serving_raw'].inputs['hist_item_ids'].shape == (-1, 10)
  assert found['serving_default'].outputs['click'].dtype == 'DT_FLOAT'


def test_grpc_unknown_model(test_double):
  with grpc_client.GrpcClient(test_double.grpc_address, 'nope') as client:
    with pytest.raises(request_lib.ServingError) as raised:
      client.signatures()
  assert raised.value.status == 'NOT_FOUND'
  assert raised.value.message == 'Servable not found for request: Latest(nope)'


def test_grpc_server_side_validation(test_double):
  with grpc_client.GrpcClient(test_double.grpc_address, CTR) as client:
    request = client.build_request(examples=[b'\x01\x02'])
    with pytest.raises(request_lib.ServingError) as raised:
      client.predict_request(request)
  assert raised.value.status == 'INVALID_ARGUMENT'
  assert 'Could not parse example input' in raised.value.message


def test_grpc_address_needs_port():
  with pytest.raises(ValueError, match='HOST:PORT'):
    grpc_client.GrpcClient('localhost', CTR)
