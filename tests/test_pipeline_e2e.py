"""End to end: `tenrec run --task ctr` on tiny generated data, caching, and the pushed export
scored in a fresh process."""

import glob
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from pipeline import cli

pytestmark = pytest.mark.slow

TINY_SCALE = 0.0001  # about 500 QK-video users, 50k exposures


@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
  from components import generator

  root = tmp_path_factory.mktemp('e2e')
  data_dir = root / 'data'
  generator.generate(str(data_dir), scale=TINY_SCALE, seed=3, scenarios=['qk_video'])
  output_dir = root / 'output'
  argv = ['run', '--task', 'ctr', '--model', 'deepfm', '--data-dir', str(data_dir),
          '--output-dir', str(output_dir), '--epochs', '2', '--batch-size', '512',
          '--learning-rate', '0.002', '--auc-threshold', '0.5']
  assert cli.main(argv) == 0
  results_files = sorted(glob.glob(str(output_dir / 'results' / '*' / 'results.json')))
  return {'argv': argv, 'root': root, 'data_dir': data_dir, 'output_dir': output_dir,
          'results': json.loads(pathlib.Path(results_files[-1]).read_text())}


def test_results_label_generated_data(tiny_run):
  dataset = tiny_run['results']['dataset']
  assert dataset['kind'] == 'generated'
  assert 'not Tenrec' in dataset['note']
  assert dataset['seed'] == 3


def test_results_have_test_metrics(tiny_run):
  test = tiny_run['results']['metrics']['test']['click']
  assert 0.5 < test['auc'] <= 1.0
  assert 0.0 < test['log_loss'] < 1.0
  assert test['examples'] == tiny_run['results']['protocol']['splits']['test']


def test_results_record_protocol_and_deviations(tiny_run):
  results = tiny_run['results']
  assert results['protocol']['builder']['history_mode'] == 'before_row'
  assert results['seeds']['training'] == 100
  assert any('best validation' in d for d in results['deviations_from_reference'])
  accounting = results['protocol']['row_accounting']['qk_video']
  filtered = sum(accounting['filtered'].values())
  rejected = sum(accounting['rejected'].values())
  assert accounting['read'] == accounting['used'] + filtered + rejected


def test_pushed_model_in_serving_layout(tiny_run):
  results = tiny_run['results']
  assert results['blessed']
  assert results['pushed']
  base = pathlib.Path(results['serving_base_path']) / 'ctr_deepfm'
  versions = [p for p in base.iterdir() if p.is_dir()]
  assert len(versions) == 1
  assert versions[0].name.isdigit()
  assert (versions[0] / 'saved_model.pb').exists()
  assert (versions[0] / 'variables' / 'variables.index').exists()
  assert (versions[0] / 'assets' / 'item_id_vocabulary').exists()
  assert pathlib.Path(results['pushed_model']) == versions[0]


def test_tensorboard_logs_written(tiny_run):
  logdir = tiny_run['results']['tensorboard_logdir']
  events = glob.glob(os.path.join(logdir, '**', 'events.out.tfevents.*'), recursive=True)
  assert events


def test_rerun_reuses_cached_components(tiny_run):
  assert cli.main(tiny_run['argv']) == 0
  results_files = sorted(glob.glob(str(tiny_run['output_dir'] / 'results' / '*' /
                                       'results.json')))
  rerun = json.loads(pathlib.Path(results_files[-1]).read_text())
  states = {name: info['state'] for name, info in rerun['timings']['components'].items()}
  assert set(states.values()) == {'CACHED'}
  assert rerun['metrics']['test'] == tiny_run['results']['metrics']['test']


_FRESH_PROCESS_SCORER = textwrap.dedent('''
    import json, sys
    import tensorflow as tf
    export_dir, examples_path, out_path = sys.argv[1:4]
    serialized = [line.strip() for line in open(examples_path)]
    loaded = tf.saved_model.load(export_dir)
    records = tf.constant([bytes.fromhex(s) for s in serialized])
    by_example = loaded.signatures['serving_default'](examples=records)['click'].numpy()
    parsed = tf.io.parse_example(records, {
        'user_id': tf.io.FixedLenFeature([], tf.int64),
        'item_id': tf.io.FixedLenFeature([], tf.int64),
        'video_category': tf.io.FixedLenFeature([], tf.int64),
        'gender': tf.io.FixedLenFeature([], tf.int64),
        'age': tf.io.FixedLenFeature([], tf.int64),
        'hist_item_ids': tf.io.FixedLenFeature([10], tf.int64)})
    by_tensors = loaded.signatures['serving_raw'](**parsed)['click'].numpy()
    json.dump({'examples': by_example.ravel().tolist(), 'raw': by_tensors.ravel().tolist(),
               'inputs': sorted(loaded.signatures['serving_raw'].structured_input_signature[1])},
              open(out_path, 'w'))
''')


def test_pushed_model_scores_like_trained_model(tiny_run, tmp_path):
  import tensorflow as tf
  import tensorflow_transform as tft
  import tf_keras

  results = tiny_run['results']
  pipeline_root = tiny_run['output_dir'] / 'pipelines' / results['pipeline_name']
  test_files = sorted(glob.glob(str(pipeline_root / 'TenrecExampleGen' / 'examples' / '*' /
                                    'Split-test' / '*.gz')))
  records = [r.numpy() for r in
             tf.data.TFRecordDataset(test_files, compression_type='GZIP').take(64)]
  examples_path = tmp_path / 'examples.txt'
  examples_path.write_text('\n'.join(r.hex() for r in records))

  # In this process: the Trainer's Keras model applied to the Transform output.
  model_dir = glob.glob(str(pipeline_root / 'Trainer' / 'model' / '*' / 'Format-Serving'))[0]
  transform_dir = glob.glob(str(pipeline_root / 'Transform' / 'transform_graph' / '*'))[0]
  tf_transform_output = tft.TFTransformOutput(transform_dir)
  raw_spec = {k: v for k, v in tf_transform_output.raw_feature_spec().items()
              if k not in ('click', 'like', 'share', 'follow')}
  transformed = tf_transform_output.transform_features_layer()(
      tf.io.parse_example(tf.constant(records), raw_spec))
  keras_model = tf_keras.models.load_model(model_dir)
  expected = keras_model({k: transformed[k] for k in keras_model.input_names},
                         training=False)['click'].numpy().ravel()

  # In a fresh process without project code: the pushed export.
  out_path = tmp_path / 'scores.json'
  env = {k: v for k, v in os.environ.items() if k != 'PYTHONPATH'}
  env['TF_USE_LEGACY_KERAS'] = '1'
  subprocess.run([sys.executable, '-c', _FRESH_PROCESS_SCORER, results['pushed_model'],
                  str(examples_path), str(out_path)], check=True, env=env, cwd=str(tmp_path),
                 timeout=300)
  scores = json.loads(out_path.read_text())

  np.testing.assert_allclose(scores['examples'], expected, rtol=0, atol=1e-6)
  np.testing.assert_allclose(scores['raw'], expected, rtol=0, atol=1e-6)
  assert scores['inputs'] == ['age', 'gender', 'hist_item_ids', 'item_id', 'user_id',
                              'video_category']
