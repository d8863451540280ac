"""Tests of models.trainers.sbr: training loop, selection, outputs, leakage."""

import glob
import json
import os
import types

import numpy as np
import pytest
import tensorflow as tf

from models.sequential.bert4rec import BERT4Rec
from models.sequential.sasrec import SASRec
from models.trainers import sbr
from models.trainers import sbr_data
from models.trainers import sbr_evaluation

import sbr_fixture

TINY = {
    'sasrec': {'num_blocks': 1, 'hidden_dim': 16, 'ffn_dim': 32, 'max_len': 8, 'epochs': 2},
    'bert4rec': {'num_blocks': 1, 'hidden_dim': 16, 'ffn_dim': 32, 'max_len': 8, 'epochs': 2},
    'gru4rec': {'num_layers': 1, 'embedding_dim': 8, 'hidden_dim': 8, 'max_len': 8,
                'epochs': 1},
}


@pytest.fixture(scope='module')
def dataset(sbr_examples_dir):
  return sbr_data.load_sbr_dataset(sbr_examples_dir)


@pytest.fixture(scope='module')
def sasrec_run(dataset, tmp_path_factory):
  output_dir = str(tmp_path_factory.mktemp('sasrec_run'))
  config = sbr.SBRTrainingConfig(model='sasrec', output_dir=output_dir,
                                 hparams=TINY['sasrec'], seed=5)
  return output_dir, sbr.train_and_evaluate(dataset, config)


def test_run_writes_metrics(sasrec_run):
  output_dir, result = sasrec_run
  with open(os.path.join(output_dir, 'metrics.json')) as handle:
    written = json.load(handle)
  assert written['selection'] == result['selection']
  assert written['protocol']['readout'] == 'last'
  assert written['protocol']['mask_seen_items'] is False
  assert written['protocol']['aggregation'] == 'mean over users'
  assert len(written['history']) == 2


def test_run_selects_best_validation_epoch(sasrec_run):
  _, result = sasrec_run
  values = [entry['validation']['NDCG@10'] for entry in result['history']]
  assert result['selection']['best_epoch'] == int(np.argmax(values)) + 1
  assert result['selection']['best_value'] == max(values)
  assert result['validation'] == result['history'][int(np.argmax(values))]['validation']


def test_run_test_metrics_in_unit_interval(sasrec_run):
  _, result = sasrec_run
  assert set(result['test']) == {f'{kind}@{k}' for kind in ('HR', 'NDCG') for k in (5, 10, 20)}
  for name, value in result['test'].items():
    assert 0.0 <= value <= 1.0, name


def test_run_writes_tensorboard_events(sasrec_run):
  output_dir, _ = sasrec_run
  for split in ('train', 'validation', 'test'):
    events = glob.glob(os.path.join(output_dir, 'logs', split, 'events.out.tfevents.*'))
    assert events, split


def test_run_writes_model_and_ranks(sasrec_run, dataset):
  output_dir, _ = sasrec_run
  assert tf.saved_model.contains_saved_model(os.path.join(output_dir, 'saved_model'))
  with np.load(os.path.join(output_dir, 'ranks_test.npz')) as ranks:
    assert len(ranks['ranks']) == dataset.test.num_users


def test_reloaded_model_reproduces_validation(sasrec_run, dataset):
  output_dir, result = sasrec_run
  model = sbr.load_trained_model(output_dir)
  metrics, _ = sbr_evaluation.RankingEvaluator(model, dataset.eval, 'last', (5, 10, 20),
                                               batch_size=64).evaluate()
  for name, value in result['validation'].items():
    assert metrics[name] == pytest.approx(value), name


def test_bert4rec_sampled_run(dataset, tmp_path):
  config = sbr.SBRTrainingConfig(model='bert4rec', output_dir=str(tmp_path),
                                 hparams=TINY['bert4rec'], num_negatives=5,
                                 selection_metric='NDCG@10 (sampled 5)',
                                 validation_users=20, export_model=False)
  result = sbr.train_and_evaluate(dataset, config)
  assert 'HR@10 (sampled 5)' in result['test']
  assert result['data']['validation_users'] == 20
  assert result['protocol']['sampled_negatives']['count'] == 5
  assert os.path.exists(tmp_path / 'negatives_eval.npz')
  assert os.path.exists(tmp_path / 'negatives_test.npz')


def test_reference_protocol_run(dataset, tmp_path):
  config = sbr.SBRTrainingConfig(
      model='gru4rec', output_dir=str(tmp_path), hparams=TINY['gru4rec'],
      readout='reference_paper_era', train_windows='last', validation_users=0.25,
      validation_user_selection='lowest_ids', selection_metric='NDCG@5', ks=(5, 20),
      export_model=False)
  result = sbr.train_and_evaluate(dataset, config)
  assert result['protocol']['readout'] == 'reference_paper_era'
  assert result['protocol']['train_windows'] == 'last'
  assert result['data']['training_windows'] == dataset.train.num_users
  assert result['data']['validation_users'] == dataset.eval.num_users // 4
  assert set(result['test']) == {'HR@5', 'NDCG@5', 'HR@20', 'NDCG@20'}


def test_sampled_selection_needs_negatives():
  config = sbr.SBRTrainingConfig(model='sasrec', output_dir='unused',
                                 selection_metric='HR@10 (sampled 100)')
  with pytest.raises(ValueError, match='num_negatives=100'):
    config.validate()


def test_selection_k_added():
  config = sbr.SBRTrainingConfig(model='sasrec', output_dir='unused', ks=(5,),
                                 selection_metric='NDCG@7')
  assert config.all_ks == (5, 7)


@pytest.mark.parametrize('model', [
    SASRec(num_items=12, max_len=12, hidden_dim=8, num_blocks=1, num_heads=2),
    BERT4Rec(num_items=12, max_len=12, hidden_dim=8, num_blocks=1, num_heads=2),
])
def test_no_target_leakage(tmp_path, model):
  items = list(range(1, 11))  # s_1..s_10: validation target 9, test target 10
  directory = sbr_fixture.write_sbr_dataset(str(tmp_path), {7: items}, num_items=12,
                                            shards=1)
  data = sbr_data.load_sbr_dataset(directory)
  samples = sbr.training_samples(model, data.train, 'all')
  for epoch in range(3):
    model_inputs, labels = sbr.epoch_samples(model, samples, epoch, seed=0)
    assert not np.isin(labels, [9, 10]).any()
    # BERT4Rec replaces 10% of the selected positions by a uniform random item of 1..V,
    # which may be any item. Every other input position contains the user's own item.
    own_items = model_inputs if model.mask_token is None else model_inputs[labels == 0]
    assert not np.isin(own_items, [9, 10]).any()
  validation_input = sbr_evaluation.evaluation_inputs(model, data.eval, 'last')[0]
  test_input = sbr_evaluation.evaluation_inputs(model, data.test, 'last')[0]
  history_slots = slice(None) if model.mask_token is None else slice(None, -1)
  assert validation_input[history_slots][validation_input[history_slots] > 0].tolist() == \
      items[:8]
  assert test_input[history_slots][test_input[history_slots] > 0].tolist() == items[:9]


def test_command_line(sbr_examples_dir, tmp_path, capsys):
  code = sbr.main(['--examples', sbr_examples_dir, '--model', 'gru4rec', '--output-dir',
                   str(tmp_path), '--no-export', '--ks', '5', '10',
                   *[f'--hparam={key}={value}' for key, value in TINY['gru4rec'].items()]])
  assert code == 0
  assert 'best epoch 1' in capsys.readouterr().out
  assert os.path.exists(tmp_path / 'metrics.json')


def test_run_fn(sbr_examples_dir, tmp_path):
  fn_args = types.SimpleNamespace(
      train_files=[os.path.join(sbr_examples_dir, 'Split-train', '*')],
      eval_files=[os.path.join(sbr_examples_dir, 'Split-eval', '*')],
      serving_model_dir=str(tmp_path / 'serving'), model_run_dir=str(tmp_path / 'run'),
      custom_config={'model': 'gru4rec', 'hparams': TINY['gru4rec'],
                     'test_files': [os.path.join(sbr_examples_dir, 'Split-test', '*')],
                     'item_vocabulary': os.path.join(sbr_examples_dir,
                                                     'item_vocabulary.txt')})
  sbr.run_fn(fn_args)
  assert tf.saved_model.contains_saved_model(str(tmp_path / 'serving'))
  assert os.path.exists(tmp_path / 'run' / 'metrics.json')


def test_run_fn_unknown_option(tmp_path):
  fn_args = types.SimpleNamespace(train_files=[], eval_files=[], serving_model_dir='s',
                                  model_run_dir='r',
                                  custom_config={'model': 'sasrec', 'learning_rate': 1})
  with pytest.raises(ValueError, match='learning_rate'):
    sbr.run_fn(fn_args)
