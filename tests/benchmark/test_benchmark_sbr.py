"""Tests of `tenrec benchmark --task sbr` (pipeline.benchmark.sbr) on a tiny SBR dataset."""

import json
import os
import pathlib

import numpy as np
import pytest
import tensorflow as tf

from pipeline import cli
from pipeline.benchmark import common
from pipeline.benchmark import sbr

NUM_ITEMS = 20
TINY_HPARAMS = ['--hparam', 'max_len=8', '--hparam', 'batch_size=16',
                '--model-hparam', 'gru4rec:num_layers=1',
                '--model-hparam', 'sasrec:num_blocks=1', '--model-hparam', 'sasrec:num_heads=1']


def _example(user_id, item_ids, target=None) -> bytes:
  feature = {
      'user_id': tf.train.Feature(int64_list=tf.train.Int64List(value=[user_id])),
      'item_ids': tf.train.Feature(int64_list=tf.train.Int64List(value=item_ids)),
  }
  if target is not None:
    feature['target_item'] = tf.train.Feature(int64_list=tf.train.Int64List(value=[target]))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_tiny_sbr_dataset(directory: pathlib.Path) -> pathlib.Path:
  """Writes leave-last-out splits of 24 users over 20 items (each user walks the catalogue
  with step 1 or 2) and item_vocabulary.txt."""
  rng = np.random.default_rng(0)
  rows = {'train': [], 'eval': [], 'test': []}
  for user in range(24):
    start, step = int(rng.integers(0, NUM_ITEMS)), 1 + user % 2
    items = [(start + step * t) % NUM_ITEMS + 1 for t in range(int(rng.integers(6, 10)))]
    rows['train'].append(_example(100 + user, items[:-2]))
    rows['eval'].append(_example(100 + user, items[:-2], items[-2]))
    rows['test'].append(_example(100 + user, items[:-1], items[-1]))
  for split, examples in rows.items():
    (directory / f'Split-{split}').mkdir(parents=True)
    path = directory / f'Split-{split}' / 'data_tfrecord-00000-of-00001.gz'
    with tf.io.TFRecordWriter(str(path), options='GZIP') as writer:
      for example in examples:
        writer.write(example)
  (directory / 'item_vocabulary.txt').write_text(
      ''.join(f'{index}\n' for index in range(1, NUM_ITEMS + 1)))
  return directory


@pytest.fixture(scope='module')
def tiny_examples(tmp_path_factory) -> pathlib.Path:
  return write_tiny_sbr_dataset(tmp_path_factory.mktemp('sbr_examples'))


def _direct_argv(examples, output_dir, *extra):
  return (['benchmark', '--task', 'sbr', '--no-through-pipeline', '--examples', str(examples),
           '--models', 'gru4rec,sasrec', '--seeds', '2', '--epochs', '1', '--ks', '5,10',
           '--output-dir', str(output_dir)] + TINY_HPARAMS + list(extra))


@pytest.fixture(scope='module')
def direct_run(tiny_examples, tmp_path_factory):
  output_dir = tmp_path_factory.mktemp('bench_direct')
  assert cli.main(_direct_argv(tiny_examples, output_dir)) == 0
  report = json.loads((output_dir / common.REPORT_JSON).read_text())
  return output_dir, report


# ----- direct mode, 2 models x 2 seeds x 1 epoch -----


def test_direct_files_written(direct_run):
  output_dir, _ = direct_run
  for name in ('benchmark.md', 'benchmark.json', 'results.csv', 'cost.csv', 'hparams.csv',
               sbr.CURVES_FILE):
    assert (output_dir / name).is_file(), name
  assert (output_dir / sbr.CURVES_FILE).read_bytes()[:4] == b'\x89PNG'


def test_direct_run_records_and_tensorboard(direct_run):
  output_dir, report = direct_run
  assert [(r['model'], r['seed']) for r in report['runs']] == [
      ('gru4rec', 1), ('gru4rec', 2), ('sasrec', 1), ('sasrec', 2)]
  for record in report['runs']:
    run_dir = output_dir / 'runs' / record['model'] / f'seed-{record["seed"]}'
    assert (run_dir / sbr.RUN_FILE).is_file()
    assert list((run_dir / 'logs' / 'validation').glob('events.out.tfevents.*'))
    assert list((run_dir / 'logs' / 'train').glob('events.out.tfevents.*'))
    assert record['validation']['epochs_run'] == 1
    assert len(record['validation']['curve']) == 1
    assert record['parameters'] > 0
    assert record['command'].startswith('python -m models.trainers.sbr --examples ')


def test_direct_results_table_structure(direct_run):
  _, report = direct_run
  table = report['tables']['results']
  headers = [column['header'] for column in table['columns']]
  assert headers[:6] == ['Model', 'Seeds (n)', 'HR@5', 'NDCG@5', 'HR@10', 'NDCG@10']
  assert [row['model'] for row in table['rows']] == [
      'GRU4Rec', 'SASRec', 'Popularity (training-split click counts)']
  assert table['rows'][0]['seeds'] == '2 (1, 2)'
  assert table['rows'][0]['NDCG@10']['n'] == 2


def test_direct_mean_std_matches_runs(direct_run):
  _, report = direct_run
  values = [r['test']['NDCG@10'] for r in report['runs'] if r['model'] == 'sasrec']
  cell = report['tables']['results']['rows'][1]['NDCG@10']
  assert cell['mean'] == pytest.approx(np.mean(values))
  assert cell['std'] == pytest.approx(np.std(values, ddof=1))


def test_direct_paper_columns_labelled(direct_run):
  output_dir, report = direct_run
  headers = [c['header'] for c in report['tables']['results']['columns']]
  assert 'Tenrec paper HR@20 (QK-video-1M)' in headers
  assert 'Tenrec paper NDCG@20 (QK-video-1M)' in headers
  assert report['tables']['results']['rows'][1]['paper_hr20'] == 0.05017
  markdown = (output_dir / 'benchmark.md').read_text()
  assert 'not results of this benchmark' in markdown
  assert 'real QK-video-1M data' in markdown


def test_direct_popularity_row_deterministic(direct_run):
  _, report = direct_run
  row = report['tables']['results']['rows'][-1]
  assert row['seeds'] == 'deterministic'
  assert row['HR@10']['n'] == 1
  assert row['HR@10']['mean'] == report['runs'][0]['popularity_baseline']['HR@10']


def test_direct_cost_table(direct_run):
  _, report = direct_run
  rows = report['tables']['cost']['rows']
  assert [row['model'] for row in rows] == ['GRU4Rec', 'SASRec']
  assert rows[0]['validation_users'] == 24
  assert rows[0]['train']['n'] == 2
  assert rows[0]['ratio']['n'] == 2


def test_direct_report_records_mode_and_command(direct_run):
  output_dir, report = direct_run
  assert report['status'] == 'complete'
  assert report['mode'] == sbr.MODE_DIRECT
  assert report['command'].startswith('tenrec benchmark --task sbr ')
  assert '--no-through-pipeline' in report['command']
  assert "--model-hparam sasrec:num_blocks=1" in report['command']
  assert report['environment']['cpu_count'] >= 1
  markdown = (output_dir / 'benchmark.md').read_text()
  assert 'Mode: direct trainer' in markdown
  assert report['command'] in markdown


def test_direct_hparams_table(direct_run):
  _, report = direct_run
  rows = report['tables']['hparams']['rows']
  assert rows[1]['model'] == 'SASRec'
  assert 'num_blocks=1' in rows[1]['overrides']
  assert 'epochs=1' in rows[1]['overrides']


def test_direct_resume_reuses_runs(direct_run, tiny_examples, caplog):
  output_dir, report = direct_run
  caplog.set_level('INFO')
  assert cli.main(_direct_argv(tiny_examples, output_dir)) == 0
  again = json.loads((output_dir / common.REPORT_JSON).read_text())
  assert [r['finished_at'] for r in again['runs']] == [r['finished_at'] for r in report['runs']]
  assert 'Reusing the finished run sasrec seed 2' in caplog.text


# ----- option checks -----


def test_examples_needs_direct_mode(tiny_examples, tmp_path, capsys):
  argv = ['benchmark', '--task', 'sbr', '--examples', str(tiny_examples), '--output-dir',
          str(tmp_path)]
  assert cli.main(argv) == 2
  assert '--no-through-pipeline' in capsys.readouterr().err


def test_unknown_hparam_rejected_before_training(tiny_examples, tmp_path, capsys):
  argv = _direct_argv(tiny_examples, tmp_path, '--model-hparam', 'sasrec:num_layers=2')
  assert cli.main(argv) == 2
  assert "Unknown hyper-parameter 'num_layers'" in capsys.readouterr().err
  assert not os.path.exists(tmp_path / 'runs')


def test_invalid_trainer_option_rejected(tiny_examples, tmp_path, capsys):
  argv = _direct_argv(tiny_examples, tmp_path, '--early-stopping-patience', '0')
  assert cli.main(argv) == 2
  assert 'early_stopping_patience' in capsys.readouterr().err


def test_unknown_trainer_option_rejected(tiny_examples, tmp_path, capsys):
  argv = _direct_argv(tiny_examples, tmp_path, '--trainer-option', 'patience=3')
  assert cli.main(argv) == 2
  assert 'Unknown SBR trainer option(s) patience' in capsys.readouterr().err


# ----- tables from given records -----


def _record(model, display_name, seed, ndcg, train_seconds):
  return {
      'model': model, 'display_name': display_name, 'seed': seed,
      'test': {'HR@10': 2 * ndcg, 'NDCG@10': ndcg},
      'validation': {'best_epoch': seed, 'epochs_run': 3, 'users': 50},
      'timing': {'train_seconds_per_epoch': train_seconds,
                 'validation_seconds_per_epoch': train_seconds / 4, 'test_seconds': 1.0,
                 'wall_seconds': 10.0},
      'parameters': 1000,
      'paper_metrics': {'HR@20': 0.05017, 'NDCG@20': 0.0194},
      'popularity_baseline': {'HR@10': 0.02, 'NDCG@10': 0.01},
  }


def test_results_table_given_numbers():
  records = {'sasrec': [_record('sasrec', 'SASRec', 1, 0.03, 8.0),
                        _record('sasrec', 'SASRec', 2, 0.05, 12.0)]}
  table = sbr.results_table(records, [10], 'NDCG@10')
  row = table.rows[0]
  assert row['NDCG@10']['mean'] == pytest.approx(0.04)
  assert row['NDCG@10']['std'] == pytest.approx(np.sqrt(0.0002))
  assert row['best_epoch']['mean'] == pytest.approx(1.5)
  assert '| SASRec | 2 (1, 2) | 0.0800 ± 0.0283 | 0.0400 ± 0.0141 |' in table.to_markdown()
  assert table.rows[1]['HR@10']['mean'] == 0.02


def test_cost_table_ratio():
  records = {'sasrec': [_record('sasrec', 'SASRec', 1, 0.03, 8.0),
                        _record('sasrec', 'SASRec', 2, 0.05, 12.0)]}
  row = sbr.cost_table(records).rows[0]
  assert row['train']['mean'] == pytest.approx(10.0)
  assert row['ratio']['mean'] == pytest.approx(0.25)
  assert row['ratio']['std'] == pytest.approx(0.0)


# ----- pipeline mode -----


@pytest.mark.slow
def test_pipeline_mode_caches_dataset_components(tmp_path):
  from components import generator

  data_dir = tmp_path / 'data'
  generator.generate(str(data_dir), scale=0.0001, seed=5, scenarios=['qk_video'])
  output_dir = tmp_path / 'bench'
  argv = ['benchmark', '--task', 'sbr', '--data-dir', str(data_dir), '--models', 'gru4rec',
          '--seeds', '2', '--epochs', '1', '--ks', '5,10', '--output-dir', str(output_dir),
          '--hparam', 'max_len=10', '--model-hparam', 'gru4rec:num_layers=1',
          '--early-stopping-patience', '2']
  assert cli.main(argv) == 0

  report = json.loads((output_dir / common.REPORT_JSON).read_text())
  assert report['mode'] == sbr.MODE_PIPELINE
  first, second = report['runs']
  assert first['timing']['components']['TenrecExampleGen']['state'] == 'COMPLETE'
  assert second['timing']['components']['TenrecExampleGen']['state'] == 'CACHED'
  assert second['timing']['components']['Trainer']['state'] == 'COMPLETE'
  assert first['command'].startswith('tenrec run --task sbr --model gru4rec --seed 1 ')
  assert "--trainer-option early_stopping_patience=2" in first['command']
  assert os.path.isfile(first['outputs']['results'])
  assert report['tables']['results']['rows'][0]['seeds'] == '2 (1, 2)'
  assert (output_dir / sbr.CURVES_FILE).is_file()


def test_trainer_option_reaches_trainer_options():
  import argparse
  from pipeline.commands import common_args

  parser = argparse.ArgumentParser()
  common_args.add_sbr_arguments(parser)
  args = parser.parse_args(['--trainer-option', 'early_stopping_patience=3',
                            '--trainer-option', 'validation_users=0.5'])
  options = common_args.sbr_trainer_options(args)
  assert options['early_stopping_patience'] == 3
  assert options['validation_users'] == 0.5
  assert options['readout'] == 'last'
