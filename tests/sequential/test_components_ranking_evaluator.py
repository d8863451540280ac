"""Tests of components.evaluation: RankingEvaluator parameters, ranks and blessing."""

import json
import os

import numpy as np
import pytest
from tfx.types import standard_artifacts

from components.evaluation import component
from components.evaluation import executor
from models import registry
from models.sequential import base
from models.sequential import export
from models.trainers import sbr_data

import sbr_fixture


def test_fixed_score_ranks_pessimistic_ties():
  scores = np.array([0.0, 5.0, 3.0, 3.0, 1.0], dtype=np.float32)
  ranks = executor.fixed_score_ranks(scores, np.array([1, 2, 3, 4]))
  assert ranks.tolist() == [1, 3, 3, 4]


def test_popularity_scores_ignore_padding(tmp_path):
  directory = sbr_fixture.write_sbr_dataset(str(tmp_path), {1: [1, 2, 2, 3, 3, 3]},
                                            num_items=4)
  train = sbr_data.read_sequence_split(sbr_data.split_files(directory, 'train'), 'train', 4)
  assert executor.popularity_scores(train, 4).tolist() == [0.0, 1.0, 2.0, 1.0, 0.0]


@pytest.mark.parametrize('kwargs, message', [
    ({'ks': []}, 'ks'),
    ({'ks': [0, 5]}, 'ks'),
    ({'selection_metric': 'MRR@10'}, 'MRR@10'),
    ({'selection_metric': 'NDCG@50'}, 'NDCG@50'),
    ({'batch_size': 0}, 'batch_size'),
])
def test_component_rejects_invalid_parameters(kwargs, message):
  examples = component.types.Channel(type=standard_artifacts.Examples)
  model = component.types.Channel(type=standard_artifacts.Model)
  with pytest.raises(ValueError, match=message):
    component.RankingEvaluator(examples=examples, model=model, **kwargs)


def test_component_records_parameters():
  examples = component.types.Channel(type=standard_artifacts.Examples)
  model = component.types.Channel(type=standard_artifacts.Model)
  evaluator = component.RankingEvaluator(examples=examples, model=model, ks=[1, 10],
                                         selection_metric='HR@10', min_value=0.2)
  assert json.loads(evaluator.exec_properties['ks']) == [1, 10]
  assert evaluator.exec_properties['min_value'] == 0.2
  assert set(evaluator.outputs) == {'evaluation', 'blessing'}


def _run_executor(tmp_path, min_value, require_beat_popularity=True):
  directory = sbr_fixture.write_sbr_dataset(str(tmp_path / 'examples'),
                                            sbr_fixture.user_sequences())
  spec = registry.get_model('sbr', 'gru4rec')
  hparams = spec.resolve_hparams({'embedding_dim': 8, 'hidden_dim': 8, 'num_layers': 1,
                                  'max_len': 8})
  model = spec.build(base.sbr_feature_info(sbr_fixture.NUM_ITEMS, 8), hparams)
  model_dir = tmp_path / 'model'
  export.export_saved_model(model, str(model_dir / 'Format-Serving'))

  examples = standard_artifacts.Examples()
  examples.uri = directory
  model_artifact = standard_artifacts.Model()
  model_artifact.uri = str(model_dir)
  evaluation = standard_artifacts.ModelEvaluation()
  evaluation.uri = str(tmp_path / 'evaluation')
  blessing = standard_artifacts.ModelBlessing()
  blessing.uri = str(tmp_path / 'blessing')
  os.makedirs(evaluation.uri)
  os.makedirs(blessing.uri)
  executor.Executor().Do(
      {'examples': [examples], 'model': [model_artifact]},
      {'evaluation': [evaluation], 'blessing': [blessing]},
      {'ks': '[5, 10]', 'selection_metric': 'NDCG@10', 'min_value': min_value,
       'require_beat_popularity': int(require_beat_popularity), 'batch_size': 7})
  with open(os.path.join(evaluation.uri, executor.METRICS_FILE)) as handle:
    return json.load(handle), blessing


def test_executor_writes_metrics_and_blessing(tmp_path):
  metrics, blessing = _run_executor(tmp_path, min_value=0.0, require_beat_popularity=False)
  assert metrics['users'] == sbr_fixture.NUM_USERS
  assert metrics['num_items'] == sbr_fixture.NUM_ITEMS
  assert set(metrics['metrics']) == {'HR@5', 'HR@10', 'NDCG@5', 'NDCG@10'}
  assert 0.0 <= metrics['metrics']['NDCG@10'] <= 1.0
  assert 0.0 <= metrics['popularity_baseline']['HR@10'] <= 1.0
  assert metrics['blessed']
  assert blessing.get_int_custom_property('blessed') == 1
  assert os.path.exists(os.path.join(blessing.uri, executor.BLESSED_FILE))


def test_executor_threshold_blocks_blessing(tmp_path):
  metrics, blessing = _run_executor(tmp_path, min_value=1.5)
  assert not metrics['blessed']
  assert blessing.get_int_custom_property('blessed') == 0
  assert os.path.exists(os.path.join(blessing.uri, executor.NOT_BLESSED_FILE))
