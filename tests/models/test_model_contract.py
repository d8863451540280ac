"""The contract every registered CTR and multi-task model must meet.

Each model is built on a tiny FeatureInfo, fitted one step on random data, saved and reloaded
in the Keras format, and exported with tf.saved_model.save and a tf.Example serving signature.
All exports are then reloaded in ONE fresh Python process that imports no project code, and
its predictions must equal the in-process ones. The hyper-parameter validation of every model
is checked here too.
"""

import math
import traceback

import numpy as np
import pytest
import tf_keras as keras

from models import losses
from models import registry
from models import testing

BATCH_SIZE = 16
MEMORISE_STEPS = 60
MODELS = ([('ctr', name) for name in registry.list_models('ctr')] +
          [('mtl', name) for name in registry.list_models('mtl')])
MODEL_IDS = [f'{task}-{name}' for task, name in MODELS]
TRAINING_KEYS = ('learning_rate', 'batch_size', 'epochs', 'loss_reduction', 'seed')


def _prepare(task, name, root):
  """Builds, fits one step and exports one model; returns its contract case."""
  spec = registry.get_model(task, name)
  info = testing.tiny_feature_info(task)
  hparams = spec.resolve_hparams(testing.tiny_hparams(spec.default_hparams))
  model = spec.build(info, hparams)
  losses.compile_model(model, hparams, num_thresholds=200)

  features = testing.random_inputs(info, BATCH_SIZE, seed=11)
  labels = testing.random_labels(info.labels, BATCH_SIZE, seed=12)
  history = model.fit(features, {label: labels[label] for label in model.output_names},
                      batch_size=BATCH_SIZE, epochs=1, verbose=0)
  expected = {label: value.numpy()
              for label, value in model(features, training=False).items()}

  keras_path = root / f'{task}_{name}.keras'
  model.save(str(keras_path))
  restored = keras.models.load_model(str(keras_path))
  restored_outputs = {label: value.numpy()
                      for label, value in restored(features, training=False).items()}

  export_dir = root / 'exports' / f'{task}_{name}'
  testing.export_serving_model(model, info, str(export_dir))
  without_labels = root / f'{task}_{name}_features.tfrecord'
  with_labels = root / f'{task}_{name}_with_labels.tfrecord'
  testing.write_examples(str(without_labels), testing.serialize_examples(features))
  testing.write_examples(str(with_labels), testing.serialize_examples(features, labels))
  # After the export: a larger learning rate must let the model fit the small batch.
  model.optimizer.learning_rate.assign(0.01)
  memorised = model.fit(features, {label: labels[label] for label in model.output_names},
                        batch_size=BATCH_SIZE, epochs=MEMORISE_STEPS, verbose=0)

  return {
      'name': f'{task}_{name}',
      'export_dir': export_dir,
      'example_files': [without_labels, with_labels],
      'info': info,
      'output_names': list(model.output_names),
      'expected': expected,
      'keras_restored': restored_outputs,
      'loss': history.history['loss'][0],
      'memorise_losses': memorised.history['loss'],
  }


@pytest.fixture(scope='module')
def contract(tmp_path_factory):
  """Prepares every model, then reloads all exports in one subprocess."""
  root = tmp_path_factory.mktemp('contract')
  cases, errors = {}, {}
  for task, name in MODELS:
    try:
      cases[(task, name)] = _prepare(task, name, root)
    except Exception:  # pylint: disable=broad-except
      errors[(task, name)] = traceback.format_exc()
  report = testing.reload_in_fresh_process(list(cases.values()), str(root / 'reload'))
  return cases, errors, report


def _case(contract, task, name):
  cases, errors, report = contract
  if (task, name) in errors:
    pytest.fail(f'{task}/{name} could not be built, fitted or exported:\n'
                f'{errors[(task, name)]}')
  case = cases[(task, name)]
  return case, report[case['name']]


def test_contract_covers_both_tasks():
  assert {'deepfm', 'din', 'dien'} <= {name for task, name in MODELS if task == 'ctr'}
  assert {'esmm', 'mmoe', 'ple', 'single_click', 'single_like'} <= {
      name for task, name in MODELS if task == 'mtl'}


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_fit_step_finite_loss(contract, task, name):
  case, _ = _case(contract, task, name)
  assert math.isfinite(case['loss'])


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_training_lowers_loss(contract, task, name):
  case, _ = _case(contract, task, name)
  losses_by_step = case['memorise_losses']
  assert np.mean(losses_by_step[-5:]) < 0.8 * np.mean(losses_by_step[:5])


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_outputs_are_probabilities(contract, task, name):
  case, _ = _case(contract, task, name)
  for label, values in case['expected'].items():
    assert values.shape == (BATCH_SIZE, 1), label
    assert ((values > 0) & (values < 1)).all(), label


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_output_names(contract, task, name):
  case, _ = _case(contract, task, name)
  expected = ['click'] if task == 'ctr' else list(
      registry.get_model(task, name).default_hparams['objectives'])
  assert sorted(case['output_names']) == sorted(expected)


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_reload_same_predictions(contract, task, name):
  case, reloaded = _case(contract, task, name)
  for outputs in reloaded['outputs']:
    assert sorted(outputs) == sorted(case['expected'])
    for label, values in case['expected'].items():
      np.testing.assert_allclose(outputs[label], values, rtol=0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_keras_format_round_trip(contract, task, name):
  case, _ = _case(contract, task, name)
  for label, values in case['expected'].items():
    np.testing.assert_allclose(case['keras_restored'][label], values, rtol=0, atol=1e-6)


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_serving_signature_inputs(contract, task, name):
  _, reloaded = _case(contract, task, name)
  assert reloaded['serving_inputs'] == {'examples': {'dtype': 'string', 'shape': [None]}}


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_signature_outputs_match_labels(contract, task, name):
  case, reloaded = _case(contract, task, name)
  expected = {label: {'dtype': 'float32', 'shape': [None, 1]} for label in case['output_names']}
  assert reloaded['serving_outputs'] == expected
  assert reloaded['features_outputs'] == expected
  assert set(case['output_names']) <= set(case['info'].labels)


@pytest.mark.slow
@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_contract_feature_signature_matches_feature_info(contract, task, name):
  case, reloaded = _case(contract, task, name)
  expected = {
      f.name: {'dtype': 'int64', 'shape': [None, f.length] if f.is_sequence else [None]}
      for f in case['info'].features}
  assert reloaded['features_inputs'] == expected


@pytest.mark.slow
def test_contract_reload_process_imports_no_project_code(contract):
  _, _, report = contract
  assert report['__modules__'] == []


@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_hparams_include_training_keys(task, name):
  defaults = registry.get_model(task, name).default_hparams
  missing = [key for key in TRAINING_KEYS if key not in defaults]
  assert not missing


@pytest.mark.parametrize('task,name', MODELS, ids=MODEL_IDS)
def test_hparams_unknown_key_rejected(task, name):
  spec = registry.get_model(task, name)
  with pytest.raises(ValueError, match='embeding_dim'):
    spec.build(testing.tiny_feature_info(task), {'embeding_dim': 8})


# (hyper-parameter, invalid value, text the error must contain).
INVALID_VALUES = [
    ('embedding_dim', -4, '-4'),
    ('embedding_dim', 0, '0'),
    ('history_mode', 'ten_fields', "'ten_fields'"),
    ('dnn_hidden_units', (8, -2), '-2'),
    ('tower_hidden_units', (0,), '0'),
    ('expert_hidden_units', (-8,), '-8'),
    ('low_rank', 0, 'low_rank'),
    ('num_experts', 0, 'num_experts'),
    ('attention_factor', -1, '-1'),
    ('cross_layers', 0, 'cross_layers'),
    ('learning_rate', -0.1, '-0.1'),
    ('batch_size', 0, 'batch_size'),
    ('loss_reduction', 'median', "'median'"),
    ('embedding_l2', -1e-5, '-1e-05'),
    ('objectives', ('click', 'watch'), "'watch'"),
]
INVALID_CASES = [
    (task, name, key, value, text)
    for task, name in MODELS
    for key, value, text in INVALID_VALUES
    if key in registry.get_model(task, name).default_hparams
]


@pytest.mark.parametrize(
    'task,name,key,value,text', INVALID_CASES,
    ids=[f'{task}-{name}-{key}-{value}' for task, name, key, value, text in INVALID_CASES])
def test_hparams_invalid_value_rejected(task, name, key, value, text):
  spec = registry.get_model(task, name)
  with pytest.raises(ValueError, match=text.replace('.', r'\.').replace('(', r'\(')):
    spec.build(testing.tiny_feature_info(task), {key: value})
