"""Tests of serving.signatures: descriptions, saved_model_cli equivalence, schema checks."""

import os
import subprocess
import sys

from google.protobuf import json_format
import pytest
from tensorflow_serving.apis import get_model_metadata_pb2

from serving import signatures
from serving.signatures import SignatureSpec, TensorInfo

EXPECTED = {
    'serving_default': SignatureSpec(
        'serving_default', {'examples': TensorInfo('DT_STRING', (-1,))},
        {'click': TensorInfo('DT_FLOAT', (-1, 1))}),
}


def _saved_model_cli_signatures(export_dir: str) -> str:
  """Runs `saved_model_cli show --all` and keeps its SignatureDef part."""
  binary = os.path.join(os.path.dirname(sys.executable), 'saved_model_cli')
  if not os.path.exists(binary):
    pytest.skip('saved_model_cli is not installed beside the Python interpreter')
  env = dict(os.environ, TF_USE_LEGACY_KERAS='1', TF_CPP_MIN_LOG_LEVEL='3')
  output = subprocess.run([binary, 'show', '--dir', export_dir, '--all'], capture_output=True,
                          text=True, check=True, env=env, timeout=300).stdout
  start = output.index('MetaGraphDef with tag-set')
  end = output.index('The MetaGraph with tag set')
  return output[start:end].rstrip('\n') + '\n'


def test_format_matches_saved_model_cli_ctr(ctr_export):
  ours = signatures.format_signatures(signatures.read_signatures(ctr_export))
  assert ours == _saved_model_cli_signatures(ctr_export)


def test_format_matches_saved_model_cli_sequential(sequential_export):
  ours = signatures.format_signatures(signatures.read_signatures(sequential_export))
  assert ours == _saved_model_cli_signatures(sequential_export)


def test_describe_in_fresh_process_sequential(sequential_export):
  described = signatures.describe_saved_model(sequential_export)
  expected = signatures.expected_sequential_signatures()
  assert signatures.compare_signatures(described, expected) == []
  assert described.signatures['serving_default'].outputs['scores'].shape == (-1, 21)


def test_describe_unloadable_folder(tmp_path):
  (tmp_path / 'saved_model.pb').write_bytes(b'not a protobuf')
  with pytest.raises(RuntimeError, match='in a fresh process failed'):
    signatures.describe_saved_model(str(tmp_path))


def test_read_signatures_missing_folder(tmp_path):
  with pytest.raises(FileNotFoundError, match='is not a SavedModel folder'):
    signatures.read_signatures(str(tmp_path))


def test_compare_missing_signature():
  problems = signatures.compare_signatures({}, EXPECTED)
  assert problems == ["signature 'serving_default' is missing; the model has []"]


def test_compare_dtype_and_shape():
  actual = {'serving_default': SignatureSpec(
      'serving_default', {'examples': TensorInfo('DT_INT64', (-1, 2))},
      {'click': TensorInfo('DT_FLOAT', (-1, 1))})}
  problems = signatures.compare_signatures(actual, EXPECTED)
  assert "input 'examples' of signature 'serving_default' is DT_INT64, expected DT_STRING" in (
      problems)
  assert ("input 'examples' of signature 'serving_default' has shape (-1, 2), expected (-1)"
          in problems)


def test_compare_missing_and_extra_outputs():
  actual = {'serving_default': SignatureSpec(
      'serving_default', {'examples': TensorInfo('DT_STRING', (-1,))},
      {'like': TensorInfo('DT_FLOAT', (-1, 1))})}
  problems = signatures.compare_signatures(actual, EXPECTED)
  assert len(problems) == 2
  assert problems[0].startswith("signature 'serving_default' has no output 'click'")
  assert problems[1] == "signature 'serving_default' has an unexpected output 'like'"


def test_compare_wildcard_dimension():
  actual = {'serving_default': SignatureSpec(
      'serving_default', {'examples': TensorInfo('DT_STRING', (8,))},
      {'click': TensorInfo('DT_FLOAT', (8, 1))})}
  assert signatures.compare_signatures(actual, EXPECTED) == []


def test_compare_unknown_rank_fails_fixed_expectation():
  actual = {'serving_default': SignatureSpec(
      'serving_default', {'examples': TensorInfo('DT_STRING', None)},
      {'click': TensorInfo('DT_FLOAT', (-1, 1))})}
  problems = signatures.compare_signatures(actual, EXPECTED)
  assert problems == ["input 'examples' of signature 'serving_default' has shape unknown_rank, "
                      'expected (-1)']


def test_metadata_json_round_trip(ctr_export):
  signature_map = get_model_metadata_pb2.SignatureDefMap()
  for name, proto in signatures.read_signature_defs(ctr_export).items():
    signature_map.signature_def[name].CopyFrom(proto)
  metadata = {'model_spec': {'name': 'm'},
              'metadata': {'signature_def': json_format.MessageToDict(
                  signature_map, preserving_proto_field_name=True)}}
  assert signatures.signatures_from_metadata_json(metadata) == signatures.read_signatures(
      ctr_export)


def test_metadata_json_without_signature_def():
  with pytest.raises(ValueError, match='no metadata.signature_def'):
    signatures.signatures_from_metadata_json({'model_spec': {}})


def test_tensor_info_dict_round_trip():
  info = TensorInfo('DT_INT64', (-1, 10), 'serving_raw_hist_item_ids:0')
  assert TensorInfo.from_dict(info.to_dict()) == info
