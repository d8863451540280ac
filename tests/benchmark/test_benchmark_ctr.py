"""Tests of `tenrec benchmark --task ctr|mtl` (pipeline.benchmark.ctr)."""

import argparse
import glob
import json
import math
import os

import numpy as np
import pytest
import tensorflow as tf
import tf_keras

from models import losses
from models import registry
from models import testing
from pipeline import cli
from pipeline.benchmark import common
from pipeline.benchmark import ctr
from pipeline.commands import benchmark as benchmark_command

PAPER_AUC_HEADER = 'Tenrec paper AUC (real QK-video-1M)'


def _args(*argv):
  parser = argparse.ArgumentParser(conflict_handler='resolve')
  benchmark_command.configure_parser(parser)
  return parser.parse_args(list(argv))


# ----- exact metrics -----


def test_exact_metrics_auc_hand_computed():
  # Positives 0.8 and 0.25, negatives 0.1 and 0.3: 3 of the 4 pairs are ordered.
  result = ctr.exact_metrics({'click': np.array([0, 1, 1, 0])},
                             {'click': np.array([0.1, 0.8, 0.25, 0.3])})
  assert result['click']['auc'] == pytest.approx(0.75)


def test_exact_metrics_log_loss_hand_computed():
  result = ctr.exact_metrics({'click': np.array([0, 1, 1, 0])},
                             {'click': np.array([0.1, 0.8, 0.25, 0.3])})
  expected = -(math.log(0.9) + math.log(0.8) + math.log(0.25) + math.log(0.7)) / 4
  assert result['click']['log_loss'] == pytest.approx(expected)
  assert result['click']['examples'] == 4


def test_exact_metrics_clips_probabilities():
  result = ctr.exact_metrics({'click': np.array([1, 0])}, {'click': np.array([0.0, 0.0])})
  assert result['click']['log_loss'] == pytest.approx(-math.log(1e-7) / 2)


def test_exact_metrics_one_class_has_no_auc():
  result = ctr.exact_metrics({'like': np.array([0, 0, 0])}, {'like': np.array([0.2, 0.4, 0.6])})
  assert result['like']['auc'] is None


def test_score_examples_matches_model(tmp_path):
  feature_info = testing.tiny_feature_info('ctr')
  spec = registry.get_model('ctr', 'deepfm')
  hparams = spec.resolve_hparams(testing.tiny_hparams(spec.default_hparams))
  tf_keras.utils.set_random_seed(0)
  model = spec.build(feature_info, hparams)
  losses.compile_model(model, hparams)
  features = testing.random_inputs(feature_info, 20, seed=1)
  labels = {'click': np.arange(20) % 2}
  model.fit(features, labels, epochs=1, verbose=0)
  testing.export_serving_model(model, feature_info, str(tmp_path / 'export'))
  path = tmp_path / 'test.gz'
  with tf.io.TFRecordWriter(str(path), options='GZIP') as writer:
    for record in testing.serialize_examples(features, labels):
      writer.write(record)

  truth, scores = ctr.score_examples(str(tmp_path / 'export'), [str(path)], ['click'],
                                     batch_size=8)

  expected = model(features, training=False)['click'].numpy().ravel()
  np.testing.assert_array_equal(truth['click'], labels['click'])
  np.testing.assert_allclose(scores['click'], expected, atol=1e-6)


# ----- settings -----


def test_settings_runs_are_seed_major():
  settings = ctr.resolve_settings(_args('--task', 'ctr', '--models', 'deepfm,nfm',
                                        '--seed-list', '3,4'))
  assert [(r.model, r.seed) for r in settings.runs] == [
      ('deepfm', 3), ('nfm', 3), ('deepfm', 4), ('nfm', 4)]


def test_settings_fewer_seeds_for_one_model():
  settings = ctr.resolve_settings(_args('--task', 'ctr', '--models', 'deepfm,dien',
                                        '--seeds', '3', '--model-seeds', 'dien=1'))
  assert [(r.model, r.seed) for r in settings.runs] == [
      ('deepfm', 1), ('dien', 1), ('deepfm', 2), ('deepfm', 3)]


def test_settings_reject_model_seeds_count():
  with pytest.raises(common.OptionError, match='between 1 and the number of seeds'):
    ctr.resolve_settings(_args('--task', 'ctr', '--models', 'dien', '--seeds', '2',
                               '--model-seeds', 'dien=3'))


def test_settings_component_id_suffix():
  settings = ctr.resolve_settings(_args('--task', 'ctr', '--models', 'deepfm', '--seeds', '1'))
  assert settings.runs[0].id_suffix == '.deepfm.seed1'


def test_settings_fix_dataset_seed():
  settings = ctr.resolve_settings(_args('--task', 'ctr', '--models', 'deepfm', '--seeds', '2'))
  assert settings.builder_options['seed'] == ctr.DEFAULT_DATASET_SEED


def test_settings_mtl_labels_follow_objectives():
  settings = ctr.resolve_settings(_args('--task', 'mtl', '--models', 'single_like,esmm',
                                        '--seeds', '1'))
  assert {r.model: r.labels for r in settings.runs} == {'single_like': ['like'],
                                                        'esmm': ['click', 'like']}


def test_settings_reject_direct_mode():
  with pytest.raises(common.OptionError, match='--no-through-pipeline'):
    ctr.resolve_settings(_args('--task', 'ctr', '--no-through-pipeline'))


def test_settings_reject_unknown_model():
  with pytest.raises(common.OptionError, match='sasrec'):
    ctr.resolve_settings(_args('--task', 'ctr', '--models', 'sasrec'))


def test_settings_reject_bad_hparam_value():
  with pytest.raises(common.OptionError, match='dnn_dropout'):
    ctr.resolve_settings(_args('--task', 'ctr', '--models', 'deepfm', '--hparam',
                               'dnn_dropout=1.5'))


def test_settings_reject_min_frequency():
  with pytest.raises(common.OptionError, match='--min-frequency must be at least 1, got 0'):
    ctr.resolve_settings(_args('--task', 'ctr', '--min-frequency', '0'))


# ----- tables from given records -----


def _record(model, display_name, seed, test, exact, paper, labels=('click',), status='ok'):
  return {
      'model': model, 'display_name': display_name, 'seed': seed, 'labels': list(labels),
      'status': status, 'paper_metrics': paper,
      'test': {label: {'auc': auc, 'log_loss': 0.5} for label, auc in test.items()},
      'test_exact': {label: {'auc': auc, 'log_loss': 0.5} for label, auc in exact.items()},
      'validation': {'best_epoch': seed, 'epochs_run': 20,
                     'auc_curves': {label: [0.6, 0.7] for label in labels}},
      'training': {'parameters': 1000, 'train_examples_per_second': 100.0 * seed,
                   'train_seconds_per_epoch': [2.0, 1.0, 1.0]},
      'timing': {'trainer_seconds': 10.0, 'evaluator_seconds': 5.0,
                 'exact_metrics_seconds': 1.0, 'pipeline_seconds': 16.0},
  }


def _ctr_records():
  paper = {'auc': 0.7930, 'logloss': 0.5083}
  return {'deepfm': [_record('deepfm', 'DeepFM', 1, {'click': 0.70}, {'click': 0.71}, paper),
                     _record('deepfm', 'DeepFM', 2, {'click': 0.72}, {'click': 0.73}, paper),
                     _record('deepfm', 'DeepFM', 3, {}, {}, paper, status='failed')],
          'din': [_record('din', 'DIN', 1, {'click': 0.75}, {'click': 0.75}, {})]}


def test_results_table_mean_std():
  table = ctr.results_table('ctr', _ctr_records())
  row = table.rows[0]
  assert row['click_auc']['mean'] == pytest.approx(0.71)
  assert row['click_auc']['std'] == pytest.approx(math.sqrt(2) * 0.01)
  assert row['click_auc_exact']['mean'] == pytest.approx(0.72)


def test_results_table_leaves_out_failed_runs():
  table = ctr.results_table('ctr', _ctr_records())
  assert table.rows[0]['seeds'] == '2 (1, 2)'


def test_results_table_paper_column_labelled():
  table = ctr.results_table('ctr', _ctr_records())
  markdown = table.to_markdown()
  assert PAPER_AUC_HEADER in markdown.splitlines()[0]
  assert table.rows[0]['paper_auc'] == pytest.approx(0.7930)
  assert any('not results of this benchmark' in note for note in table.notes)


def test_results_table_model_without_paper_numbers():
  table = ctr.results_table('ctr', _ctr_records())
  din_line = table.to_markdown().splitlines()[3]
  assert din_line.endswith('| – | – |')


def test_results_table_mtl_columns():
  records = {'single_like': [_record('single_like', 'Only-like', 1, {'like': 0.9},
                                     {'like': 0.91}, {'like_auc': 0.916}, labels=('like',))],
             'esmm': [_record('esmm', 'ESMM', 1, {'click': 0.7, 'like': 0.8},
                              {'click': 0.7, 'like': 0.8},
                              {'click_auc': 0.794, 'like_auc': 0.911},
                              labels=('click', 'like'))]}
  table = ctr.results_table('mtl', records)
  headers = [column.header for column in table.columns]
  assert 'Click AUC (scikit-learn)' in headers
  assert 'Tenrec paper like AUC (real QK-video-1M)' in headers
  assert 'click_auc' not in table.rows[0]
  assert table.rows[0]['like_auc']['mean'] == pytest.approx(0.9)
  assert table.rows[1]['paper_click_auc'] == pytest.approx(0.794)


def test_failures_table_lists_failed_runs():
  records = [r for runs in _ctr_records().values() for r in runs]
  records[2]['error'] = 'RuntimeError: out of memory'
  table = ctr.failures_table(records)
  assert [(row['model'], row['seed']) for row in table.rows] == [('DeepFM', 3)]


def test_failures_table_none_without_failures():
  assert ctr.failures_table(_ctr_records()['din']) is None


# ----- through the pipeline: 2 models x 2 seeds x 1 epoch -----


@pytest.fixture(scope='module')
def pipeline_run(tmp_path_factory):
  from components import generator

  root = tmp_path_factory.mktemp('bench_ctr')
  data_dir = root / 'data'
  generator.generate(str(data_dir), scale=0.0001, seed=3, scenarios=['qk_video'])
  output_dir = root / 'output'
  argv = ['benchmark', '--task', 'ctr', '--data-dir', str(data_dir), '--models', 'deepfm,din',
          '--seeds', '2', '--epochs', '1', '--hparam', 'batch_size=256', '--max-users', '60',
          '--output-dir', str(output_dir)]
  assert cli.main(argv) == 0
  report = json.loads((output_dir / common.REPORT_JSON).read_text())
  return {'argv': argv, 'output_dir': output_dir, 'report': report}


@pytest.mark.slow
def test_pipeline_files_written(pipeline_run):
  output_dir = pipeline_run['output_dir']
  for name in ('benchmark.md', 'benchmark.json', 'results.csv', 'cost.csv', 'hparams.csv',
               'validation_auc_click.png'):
    assert (output_dir / name).is_file(), name
  assert (output_dir / 'validation_auc_click.png').read_bytes()[:4] == b'\x89PNG'


@pytest.mark.slow
def test_pipeline_every_run_has_results(pipeline_run):
  runs = pipeline_run['report']['runs']
  assert [(r['model'], r['seed'], r['status']) for r in runs] == [
      ('deepfm', 1, 'ok'), ('din', 1, 'ok'), ('deepfm', 2, 'ok'), ('din', 2, 'ok')]
  assert runs[0]['component_ids']['trainer'] == 'Trainer.deepfm.seed1'


@pytest.mark.slow
def test_pipeline_results_table_structure(pipeline_run):
  results = pipeline_run['report']['tables']['results']
  assert [row['model'] for row in results['rows']] == ['DeepFM', 'DIN']
  assert results['rows'][0]['seeds'] == '2 (1, 2)'
  assert results['rows'][0]['click_auc']['n'] == 2
  assert PAPER_AUC_HEADER in [column['header'] for column in results['columns']]


@pytest.mark.slow
def test_pipeline_exact_auc_beside_tfma(pipeline_run):
  for record in pipeline_run['report']['runs']:
    tfma_auc = record['test']['click']['auc']
    exact_auc = record['test_exact']['click']['auc']
    assert 0.0 < exact_auc < 1.0
    assert abs(tfma_auc - exact_auc) < 0.05
    assert record['test_exact']['click']['examples'] == record['test']['click']['examples']


@pytest.mark.slow
def test_pipeline_tensorboard_logs_per_run(pipeline_run):
  logdirs = {r['outputs']['tensorboard'] for r in pipeline_run['report']['runs']}
  assert len(logdirs) == 4
  for logdir in logdirs:
    assert glob.glob(os.path.join(logdir, '**', 'events.out.tfevents.*'), recursive=True)


@pytest.mark.slow
def test_pipeline_markdown_records_command_and_data(pipeline_run):
  markdown = (pipeline_run['output_dir'] / 'benchmark.md').read_text()
  assert 'tenrec benchmark --task ctr' in markdown
  assert 'not Tenrec results' in markdown
  assert PAPER_AUC_HEADER in markdown


@pytest.mark.slow
def test_pipeline_rerun_reuses_cached_runs(pipeline_run):
  assert cli.main(pipeline_run['argv']) == 0
  report = json.loads((pipeline_run['output_dir'] / common.REPORT_JSON).read_text())
  states = {state for record in report['runs']
            for state in record['component_states'].values()}
  assert states == {'CACHED'}
  assert ([r['test'] for r in report['runs']] ==
          [r['test'] for r in pipeline_run['report']['runs']])
