"""Tests of pipeline.pipeline: the CTR pipeline's components, configuration and code fingerprint."""

import json
import pathlib

import pytest
import tensorflow_model_analysis as tfma

from pipeline import pipeline as pipeline_lib

_HEADER = 'user_id,item_id,click,follow,like,share,video_category,watching_times,gender,age\n'


@pytest.fixture
def raw_file(tmp_path):
  path = tmp_path / 'QK-video.csv'
  path.write_text(_HEADER + '1,5,1,0,0,0,1,1,1,2\n1,6,0,0,0,0,0,0,1,2\n')
  return str(path)


def _create(raw_file, tmp_path, **overrides):
  arguments = dict(
      pipeline_name='test-ctr', pipeline_root=str(tmp_path / 'root'),
      metadata_path=str(tmp_path / 'md.sqlite'), task='ctr', model='deepfm',
      input_paths={'qk_video': raw_file}, builder_options={'seed': 7}, labels=['click'],
      hparams={'epochs': 1}, seed=5, serving_model_dir=str(tmp_path / 'serving' / 'm'),
      beam_pipeline_args=['--runner=FnApiRunner'])
  arguments.update(overrides)
  return pipeline_lib.create_pipeline(**arguments)


def test_create_pipeline_component_order(raw_file, tmp_path):
  pipeline = _create(raw_file, tmp_path)
  assert [c.id for c in pipeline.components] == list(pipeline_lib.CTR_COMPONENT_ORDER)


def test_create_pipeline_passes_options(raw_file, tmp_path):
  pipeline = _create(raw_file, tmp_path)
  components = {c.id: c for c in pipeline.components}

  builder_options = json.loads(components['TenrecExampleGen'].exec_properties['builder_options'])
  assert builder_options['seed'] == 7
  trainer_config = json.loads(components['Trainer'].exec_properties['custom_config'])
  assert trainer_config['model'] == 'deepfm'
  assert trainer_config['seed'] == 5
  assert trainer_config['labels'] == ['click']
  assert trainer_config['hparams'] == {'epochs': 1}
  assert pipeline.enable_cache
  assert pipeline.beam_pipeline_args == ['--runner=FnApiRunner']


def test_create_pipeline_evaluates_test_split(raw_file, tmp_path):
  pipeline = _create(raw_file, tmp_path)
  evaluator = {c.id: c for c in pipeline.components}['Evaluator']
  assert json.loads(evaluator.exec_properties['example_splits']) == ['test']


def test_create_pipeline_rejects_sequential_task(raw_file, tmp_path):
  with pytest.raises(ValueError, match="'sbr'"):
    _create(raw_file, tmp_path, task='sbr')


def test_create_pipeline_rejects_bad_builder_option(raw_file, tmp_path):
  with pytest.raises(ValueError, match='history_mode'):
    _create(raw_file, tmp_path, builder_options={'history_mode': 'future'})


def test_eval_config_single_objective():
  config = pipeline_lib.make_eval_config(['click'], auc_threshold=0.6)
  assert config.model_specs[0].label_key == 'click'
  assert config.model_specs[0].signature_name == 'serving_default'
  auc = [m for m in config.metrics_specs[0].metrics if m.class_name == 'AUC'][0]
  assert auc.threshold.value_threshold.lower_bound.value == pytest.approx(0.6)


def test_eval_config_multi_objective():
  config = pipeline_lib.make_eval_config(['click', 'like'], auc_threshold=0.6)
  assert dict(config.model_specs[0].label_keys) == {'click': 'click', 'like': 'like'}
  assert list(config.metrics_specs[0].output_names) == ['click', 'like']


def test_eval_config_without_threshold_blesses_any_model():
  config = pipeline_lib.make_eval_config(['click'], auc_threshold=None)
  auc = [m for m in config.metrics_specs[0].metrics if m.class_name == 'AUC'][0]
  assert auc.threshold.value_threshold.lower_bound.value == 0.0
  assert isinstance(config, tfma.EvalConfig)


def test_code_version_changes_with_source(tmp_path):
  package = tmp_path / 'models'
  package.mkdir()
  (package / 'a.py').write_text('x = 1\n')
  before = pipeline_lib.code_version(['models'], root=tmp_path)
  (package / 'a.py').write_text('x = 2\n')
  after = pipeline_lib.code_version(['models'], root=tmp_path)
  assert before != after
  assert pipeline_lib.code_version(['models'], root=tmp_path) == after


def test_default_beam_args_in_process():
  assert pipeline_lib.default_beam_pipeline_args(1) == ['--runner=FnApiRunner']


def test_default_beam_args_multi_processing():
  args = pipeline_lib.default_beam_pipeline_args(3)
  assert '--direct_running_mode=multi_processing' in args
  assert '--direct_num_workers=3' in args
