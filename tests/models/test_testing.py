"""Tests for models.testing."""

import numpy as np
import pytest
import tensorflow as tf

from models import testing


def test_tiny_feature_info_labels():
  assert testing.tiny_feature_info('ctr').labels == ('click',)
  assert testing.tiny_feature_info('mtl').labels == ('click', 'like', 'share', 'follow')


def test_tiny_feature_info_rejects_sbr():
  with pytest.raises(ValueError, match="'sbr'"):
    testing.tiny_feature_info('sbr')


def test_random_inputs_ranges_and_dtype():
  info = testing.tiny_feature_info('ctr')
  inputs = testing.random_inputs(info, batch_size=50, seed=1)
  for feature in info.features:
    values = inputs[feature.name]
    assert values.dtype == np.int64
    assert values.min() >= 0
    assert values.max() < feature.vocab_size


def test_random_inputs_history_left_padded():
  info = testing.tiny_feature_info('ctr')
  history = testing.random_inputs(info, batch_size=200, seed=2)['hist_item_ids']
  for row in history:
    real = np.flatnonzero(row)
    if real.size:
      assert real[0] == len(row) - real.size
  assert (history == 0).all(axis=1).any()
  assert (history != 0).all(axis=1).any()


def test_random_inputs_seeded():
  info = testing.tiny_feature_info('ctr')
  first = testing.random_inputs(info, batch_size=5, seed=7)
  second = testing.random_inputs(info, batch_size=5, seed=7)
  for name in first:
    np.testing.assert_array_equal(first[name], second[name])


def test_random_labels_binary():
  labels = testing.random_labels(('click', 'like'), batch_size=30, seed=0)
  assert labels['click'].shape == (30, 1)
  assert set(np.unique(labels['like'])) <= {0.0, 1.0}


def test_tiny_hparams_only_known_keys():
  assert testing.tiny_hparams({'embedding_dim': 32, 'epochs': 20}) == {'embedding_dim': 4}


def test_serialize_and_parse_round_trip():
  info = testing.tiny_feature_info('ctr')
  inputs = testing.random_inputs(info, batch_size=3, seed=0)
  serialized = testing.serialize_examples(inputs, {'click': np.array([[1.0], [0.0], [1.0]])})
  parsed = tf.io.parse_example(serialized, testing.serving_feature_spec(info))
  for name, values in inputs.items():
    np.testing.assert_array_equal(parsed[name].numpy(), values)


def test_serving_feature_spec_has_no_labels():
  spec = testing.serving_feature_spec(testing.tiny_feature_info('mtl'))
  assert 'click' not in spec
  assert spec['hist_item_ids'].shape == [10]


def test_reload_script_imports_only_tensorflow_numpy_stdlib():
  imports = sorted({line.split()[1] for line in testing.RELOAD_SCRIPT.splitlines()
                    if line.startswith('import ') or line.startswith('from ')})
  assert imports == ['json', 'numpy', 'os', 'sys', 'tensorflow']
