"""End to end: `tenrec run --task sbr` on tiny generated data, through the RankingEvaluator."""

import glob
import json
import pathlib

import pytest

from pipeline import cli

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def sbr_run(tmp_path_factory):
  from components import generator

  root = tmp_path_factory.mktemp('sbr_e2e')
  data_dir = root / 'data'
  generator.generate(str(data_dir), scale=0.0001, seed=5, scenarios=['qk_video'])
  argv = ['run', '--task', 'sbr', '--model', 'gru4rec', '--data-dir', str(data_dir),
          '--output-dir', str(root / 'output'), '--epochs', '2', '--seed', '3',
          '--hparam', 'num_layers=1', '--hparam', 'max_len=20', '--learning-rate', '0.005',
          '--no-require-beat-popularity', '--ks', '5,10']
  assert cli.main(argv) == 0
  path = sorted(glob.glob(str(root / 'output' / 'results' / '*' / 'results.json')))[-1]
  return json.loads(pathlib.Path(path).read_text())


def test_sbr_results_have_full_ranking_metrics(sbr_run):
  test = sbr_run['metrics']['test']
  assert set(test) == {'HR@5', 'HR@10', 'NDCG@5', 'NDCG@10'}
  assert all(0.0 <= value <= 1.0 for value in test.values())
  assert test['HR@5'] <= test['HR@10']
  assert set(sbr_run['metrics']['test_popularity_baseline']) == set(test)


def test_sbr_results_record_protocol(sbr_run):
  assert sbr_run['dataset']['kind'] == 'generated'
  assert sbr_run['protocol']['training']['readout'] == 'last'
  assert 'pessimistic ties' in sbr_run['protocol']['evaluation']
  assert sbr_run['metrics']['validation']['selection_metric'] == 'NDCG@10'
  assert sbr_run['seeds']['training'] == 3


def test_sbr_model_pushed_with_top_k(sbr_run):
  assert sbr_run['blessed']
  assert sbr_run['pushed']
  version = pathlib.Path(sbr_run['pushed_model'])
  assert version.parent.name == 'sbr_gru4rec'
  assert (version / 'saved_model.pb').exists()

  import tensorflow as tf
  loaded = tf.saved_model.load(str(version))
  assert set(loaded.signatures) == {'serving_default', 'top_k'}
  top = loaded.signatures['top_k'](item_ids=tf.constant([[1, 2, 3]], tf.int64),
                                   k=tf.constant(4))
  assert top['item_ids'].shape == (1, 4)
