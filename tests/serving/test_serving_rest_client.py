"""Tests of serving.rest_client against the test double on 127.0.0.1."""

import numpy as np
import pytest
import tensorflow as tf

from serving import request as request_lib
from serving import rest_client
import serving_exports

CTR = serving_exports.CTR_MODEL
SEQUENTIAL = serving_exports.SEQUENTIAL_MODEL
HISTORIES = [[3, 4, 5], [7], [1, 2, 3, 4, 5, 6, 7, 8]]


def _serialized_rows(count=5):
  return [serving_exports.to_example(r).SerializeToString()
          for r in serving_exports.raw_rows(count, seed=5)]


def _left_padded(histories):
  width = max(len(h) for h in histories)
  return np.array([[0] * (width - len(h)) + h for h in histories], np.int64)


@pytest.fixture(scope='module')
def loaded_ctr(ctr_export):
  return tf.saved_model.load(ctr_export)


@pytest.fixture(scope='module')
def loaded_sequential(sequential_export):
  return tf.saved_model.load(sequential_export)


@pytest.mark.parametrize('request_format', ['columnar', 'row'])
def test_rest_ctr_examples_equal_in_process(test_double, loaded_ctr, request_format):
  examples = _serialized_rows()
  with rest_client.RestClient(test_double.rest_url, CTR) as client:
    served = client.predict(examples=examples, request_format=request_format)
  expected = loaded_ctr.signatures['serving_default'](examples=tf.constant(examples))
  np.testing.assert_array_equal(served['click'], expected['click'].numpy())


def test_rest_ctr_raw_features_equal_in_process(test_double, loaded_ctr):
  rows = serving_exports.raw_rows(4, seed=9)
  features = {name: [int(r[name][0]) for r in rows] for name in serving_exports.SCALAR_FEATURES}
  features['hist_item_ids'] = [r['hist_item_ids'].tolist() for r in rows]
  with rest_client.RestClient(test_double.rest_url, CTR) as client:
    served = client.predict(features, signature_name='serving_raw')
  tensors = {name: tf.constant(np.reshape(values, (4, -1)), tf.int64)
             for name, values in features.items()}
  expected = loaded_ctr.signatures['serving_raw'](**tensors)
  np.testing.assert_array_equal(served['click'], expected['click'].numpy())


def test_rest_sequential_scores_equal_in_process(test_double, loaded_sequential):
  examples = [serving_exports.sequence_example(h) for h in HISTORIES]
  with rest_client.RestClient(test_double.rest_url, SEQUENTIAL) as client:
    served = client.predict(examples=examples)
  expected = loaded_sequential.signatures['serving_default'](examples=tf.constant(examples))
  assert served['scores'].shape == (3, serving_exports.SEQUENTIAL_ITEMS + 1)
  np.testing.assert_array_equal(served['scores'], expected['scores'].numpy())


def test_rest_sequential_top_k_equal_in_process(test_double, loaded_sequential):
  matrix = _left_padded(HISTORIES)
  with rest_client.RestClient(test_double.rest_url, SEQUENTIAL) as client:
    served = client.predict({'item_ids': matrix}, k=4, signature_name='top_k')
  expected = loaded_sequential.signatures['top_k'](item_ids=tf.constant(matrix),
                                                   k=tf.constant(4))
  np.testing.assert_array_equal(served['item_ids'], expected['item_ids'].numpy())
  np.testing.assert_array_equal(served['scores'], expected['scores'].numpy())


def test_rest_pinned_version(test_double):
  with rest_client.RestClient(test_double.rest_url, CTR, version=1) as client:
    served = client.predict(examples=_serialized_rows(2))
  assert served['click'].shape == (2, 1)


def test_rest_status(test_double):
  with rest_client.RestClient(test_double.rest_url, CTR) as client:
    status = client.status()
  assert status['model_version_status'][0]['version'] == '1'
  assert status['model_version_status'][0]['state'] == 'AVAILABLE'


def test_rest_signatures_from_metadata(test_double):
  with rest_client.RestClient(test_double.rest_url, SEQUENTIAL) as client:
    top_k = client.signature('top_k')
  assert top_k.inputs['k'].dtype == 'DT_INT32'
  assert top_k.inputs['k'].shape == ()


def test_rest_unknown_signature(test_double):
  with rest_client.RestClient(test_double.rest_url, CTR) as client:
    with pytest.raises(request_lib.RequestError, match="no signature 'top_k'"):
      client.predict({'item_ids': [[1]]}, signature_name='top_k')


def test_rest_invalid_request_rejected_before_sending(test_double):
  with rest_client.RestClient(test_double.rest_url, CTR) as client:
    with pytest.raises(request_lib.RequestError, match="unknown input 'color'"):
      client.predict({'color': [1]}, signature_name='serving_raw')


def test_rest_server_error_message(test_double):
  with rest_client.RestClient(test_double.rest_url, CTR, version=99) as client:
    with pytest.raises(request_lib.ServingError) as raised:
      client.status()
  assert raised.value.status == 404
  assert raised.value.message == 'Servable not found for request: Specific(ctr_deepfm, 99)'


def test_rest_server_side_validation_message(test_double):
  with rest_client.RestClient(test_double.rest_url, CTR) as client:
    request = client.build_request(examples=[b'not a tf.Example'])
    with pytest.raises(request_lib.ServingError) as raised:
      client.predict_request(request)
  assert raised.value.status == 400
  assert 'Could not parse example input' in raised.value.message


def test_rest_unreachable_server():
  client = rest_client.RestClient('http://127.0.0.1:9', CTR, timeout_s=2)
  with pytest.raises(request_lib.ServingError) as raised:
    client.status()
  assert raised.value.status == 'UNAVAILABLE'


def test_rest_url_needs_scheme():
  with pytest.raises(ValueError, match='http://'):
    rest_client.RestClient('127.0.0.1:8501', CTR)
