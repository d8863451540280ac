"""Tests of models.sequential.export: SavedModel signatures and reload in a fresh process."""

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models.sequential import export
from models.sequential import inputs
from models.sequential.bert4rec import BERT4Rec
from models.sequential.gru4rec import GRU4Rec
from models.sequential.nextitnet import NextItNet
from models.sequential.sasrec import SASRec

# Exporting four SavedModels and reloading them in a subprocess takes 20-45 s on 2 cores.
pytestmark = pytest.mark.slow

NUM_ITEMS = 20
MAX_LEN = 6
HISTORIES = [[3, 4, 5], [7], [1, 2, 3, 4, 5, 6, 7, 8, 9], [11, 12, 13, 14, 15, 16]]

MODELS = {
    'gru4rec': lambda: GRU4Rec(NUM_ITEMS, MAX_LEN, embedding_dim=8, hidden_dim=8,
                               num_layers=2),
    'nextitnet': lambda: NextItNet(NUM_ITEMS, MAX_LEN, embedding_dim=8, block_num=1),
    'sasrec': lambda: SASRec(NUM_ITEMS, MAX_LEN, hidden_dim=8, num_blocks=1, num_heads=2),
    'bert4rec': lambda: BERT4Rec(NUM_ITEMS, MAX_LEN, hidden_dim=8, num_blocks=1,
                                 num_heads=2),
}

# Runs in a fresh interpreter without project imports: only TensorFlow and NumPy.
RELOAD_SCRIPT = textwrap.dedent('''
    import sys
    import numpy as np
    import tensorflow as tf

    failures = []
    for name in sys.argv[2:]:
      expected = np.load(f'{sys.argv[1]}/{name}.npz')
      loaded = tf.saved_model.load(f'{sys.argv[1]}/{name}')
      served = loaded.signatures['serving_default'](examples=tf.constant(expected['examples']))
      top = loaded.signatures['top_k'](item_ids=tf.constant(expected['matrix']),
                                      k=tf.constant(5))
      if sorted(served) != ['scores'] or sorted(top) != ['item_ids', 'scores']:
        failures.append(f'{name}: outputs {sorted(served)} and {sorted(top)}')
        continue
      if not np.allclose(served['scores'].numpy(), expected['scores'], rtol=1e-5, atol=1e-5):
        failures.append(f'{name}: serving_default scores differ')
      if not np.array_equal(top['item_ids'].numpy(), expected['top_items']):
        failures.append(f'{name}: top_k item_ids differ')
      if not np.allclose(top['scores'].numpy(), expected['top_scores'], rtol=1e-5, atol=1e-5):
        failures.append(f'{name}: top_k scores differ')
    print('\\n'.join(failures) or 'ok')
    sys.exit(1 if failures else 0)
''')


def _serialized(history):
  feature = {'item_ids': tf.train.Feature(int64_list=tf.train.Int64List(value=history))}
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def _left_padded_matrix():
  width = max(len(h) for h in HISTORIES)
  return np.array([[0] * (width - len(h)) + h for h in HISTORIES], np.int64)


def _trained_model(name):
  tf_keras.utils.set_random_seed(0)
  model = MODELS[name]().build_weights()
  model.compile(optimizer=tf_keras.optimizers.Adam(1e-3))
  batch = np.array([[0, 0, 3, 4, 5, 6], [1, 2, 3, 4, 5, 6]], np.int32)
  labels = np.array([[0, 0, 4, 5, 6, 7], [2, 3, 4, 5, 6, 7]], np.int32)
  model.fit(tf.data.Dataset.from_tensors((batch, labels)), epochs=1, verbose=0)
  return model


@pytest.fixture(scope='module')
def exported(tmp_path_factory):
  """Exports the four models after one training step; returns (folder, expected outputs)."""
  folder = str(tmp_path_factory.mktemp('exports'))
  examples = np.array([_serialized(h) for h in HISTORIES], dtype=object)
  matrix = _left_padded_matrix()
  expected = {}
  for name in MODELS:
    model = _trained_model(name)
    export.export_saved_model(model, os.path.join(folder, name))
    module = export.SequentialServingModule(model)
    scores = module.serve_examples(tf.constant(examples))['scores'].numpy()
    top = module.top_k(tf.constant(matrix), tf.constant(5))
    values = np.concatenate([np.array(h, np.int64) for h in HISTORIES])
    row_splits = np.concatenate([[0], np.cumsum([len(h) for h in HISTORIES])])
    model_inputs = inputs.build_eval_inputs(values, row_splits, MAX_LEN, 'last',
                                            model.mask_token)
    expected[name] = {
        'examples': examples.astype(bytes), 'matrix': matrix, 'scores': scores,
        'top_items': top['item_ids'].numpy(), 'top_scores': top['scores'].numpy(),
        'trainer_scores': model.score(model_inputs).numpy(),
    }
    np.savez(os.path.join(folder, f'{name}.npz'), **{
        key: value for key, value in expected[name].items() if key != 'trainer_scores'})
  return folder, expected


@pytest.mark.parametrize('name', list(MODELS))
def test_served_scores_match_trainer(exported, name):
  _, expected = exported
  np.testing.assert_allclose(expected[name]['scores'], expected[name]['trainer_scores'],
                             rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize('name', list(MODELS))
def test_top_k_matches_scores(exported, name):
  _, expected = exported
  scores = expected[name]['scores'][:, 1:]
  best = np.argsort(-scores, axis=1, kind='stable')[:, :5] + 1
  np.testing.assert_array_equal(expected[name]['top_items'], best)
  assert expected[name]['top_items'].min() >= 1


def test_top_k_padding_side_irrelevant(exported):
  folder, expected = exported
  loaded = tf.saved_model.load(os.path.join(folder, 'sasrec'))
  width = max(len(h) for h in HISTORIES)
  right_padded = np.array([h + [0] * (width - len(h)) for h in HISTORIES], np.int64)
  top = loaded.signatures['top_k'](item_ids=tf.constant(right_padded), k=tf.constant(5))
  np.testing.assert_array_equal(top['item_ids'].numpy(), expected['sasrec']['top_items'])


def test_reload_in_fresh_process(exported):
  folder, _ = exported
  environment = dict(os.environ, TF_CPP_MIN_LOG_LEVEL='3')
  completed = subprocess.run(
      [sys.executable, '-c', RELOAD_SCRIPT, folder, *MODELS], capture_output=True,
      text=True, env=environment, timeout=300, check=False)
  assert completed.returncode == 0, completed.stdout + completed.stderr[-2000:]
  assert completed.stdout.strip().endswith('ok')
