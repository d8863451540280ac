"""Executor of RankingEvaluator: full-ranking HR@k and NDCG@k of an exported sequential model.

The exported `serving_default` signature returns one score per item index for each serialized
test example, so this executor evaluates exactly what the Pusher would push. Every test user's
target is ranked among all items 1..V with pessimistic ties, and the metrics are averaged over
users. An item-popularity scorer (training-split click counts) is evaluated on the same users
as a baseline. The model is blessed when its selection metric reaches `min_value` and, if
`require_beat_popularity` is set, exceeds the popularity baseline.
"""

import json
import os
from typing import Any, Dict, List

from absl import logging
import numpy as np
import tensorflow as tf
from tfx import types
from tfx.dsl.components.base import base_executor
from tfx.types import artifact_utils
from tfx.utils import io_utils
from tfx.utils import path_utils

from models.metrics import ranking
from models.trainers import sbr_data

METRICS_FILE = 'metrics.json'
BLESSED_FILE = 'BLESSED'
NOT_BLESSED_FILE = 'NOT_BLESSED'


def popularity_scores(train: sbr_data.SequenceSplit, num_items: int) -> np.ndarray:
  """Returns one score per item index 0..V: its click count in the training split."""
  counts = np.bincount(train.values, minlength=num_items + 1).astype(np.float32)
  counts[0] = 0.0
  return counts


def fixed_score_ranks(scores: np.ndarray, targets: np.ndarray) -> np.ndarray:
  """Ranks targets under one score vector shared by all users (pessimistic ties).

  rank(t) = #{j in 1..V : s_j >= s_t}, which counts every tied item as ranked above t.
  """
  candidates = np.sort(scores[1:])
  return (candidates.size - np.searchsorted(candidates, scores[targets], side='left')).astype(
      np.int64)


def rank_examples(signature, records: List[bytes], targets: np.ndarray,
                  batch_size: int) -> np.ndarray:
  """Ranks each record's target among all items with the export's `serving_default` scores."""
  ranks = []
  for start in range(0, len(records), batch_size):
    batch = tf.constant(records[start:start + batch_size])
    scores = signature(examples=batch)['scores']
    ranks.append(ranking.full_ranks(scores, targets[start:start + batch_size]).numpy())
  return np.concatenate(ranks) if ranks else np.zeros(0, np.int64)


def read_records(files: List[str]) -> List[bytes]:
  dataset = tf.data.TFRecordDataset(files, compression_type='GZIP')
  return [record.numpy() for record in dataset]


class Executor(base_executor.BaseExecutor):
  """Computes full-ranking test metrics and writes the evaluation and the blessing."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    examples = artifact_utils.get_single_instance(input_dict['examples'])
    model = artifact_utils.get_single_instance(input_dict['model'])
    evaluation = artifact_utils.get_single_instance(output_dict['evaluation'])
    blessing = artifact_utils.get_single_instance(output_dict['blessing'])
    ks = tuple(json.loads(exec_properties.get('ks') or '[5, 10, 20]'))
    selection_metric = exec_properties.get('selection_metric') or 'NDCG@10'
    min_value = float(exec_properties.get('min_value') or 0.0)
    require_beat_popularity = bool(exec_properties.get('require_beat_popularity', 1))
    batch_size = int(exec_properties.get('batch_size') or 256)

    split = exec_properties.get('example_split') or 'test'
    vocabulary = os.path.join(examples.uri, sbr_data.VOCABULARY_FILE)
    num_items = sbr_data.read_item_vocabulary_size(vocabulary)
    test_files = sbr_data.split_files(examples.uri, split)
    test = sbr_data.read_sequence_split(test_files, split, num_items)
    train = sbr_data.read_sequence_split(sbr_data.split_files(examples.uri, 'train'), 'train',
                                         num_items)

    export_dir = path_utils.serving_model_path(model.uri)
    signature = tf.saved_model.load(export_dir).signatures['serving_default']
    model_ranks = rank_examples(signature, read_records(test_files), test.targets, batch_size)
    model_metrics = ranking.summarize_ranks(model_ranks, ks)

    popularity_ranks = fixed_score_ranks(popularity_scores(train, num_items), test.targets)
    popularity_metrics = ranking.summarize_ranks(popularity_ranks, ks)

    value = model_metrics[selection_metric]
    baseline = popularity_metrics[selection_metric]
    blessed = value >= min_value and (not require_beat_popularity or value > baseline)
    result = {
        'split': split,
        'users': int(len(test.targets)),
        'num_items': num_items,
        'protocol': 'full ranking over items 1..V, pessimistic ties, mean over users, no '
                    'masking of seen items',
        'metrics': model_metrics,
        'popularity_baseline': popularity_metrics,
        'selection_metric': selection_metric,
        'blessed': blessed,
        'blessing_rule': {'min_value': min_value,
                          'require_beat_popularity': require_beat_popularity},
    }
    io_utils.write_string_file(os.path.join(evaluation.uri, METRICS_FILE),
                               json.dumps(result, indent=2, sort_keys=True))
    io_utils.write_string_file(
        os.path.join(blessing.uri, BLESSED_FILE if blessed else NOT_BLESSED_FILE), '')
    blessing.set_int_custom_property('blessed', int(blessed))
    blessing.set_string_custom_property('current_model', model.uri)
    blessing.set_int_custom_property('current_model_id', model.id)
    logging.info('RankingEvaluator: %s = %.5f (popularity %.5f) on %d users; blessed: %s.',
                 selection_metric, value, baseline, len(test.targets), blessed)
