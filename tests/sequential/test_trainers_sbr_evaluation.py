"""Tests of models.trainers.sbr_evaluation."""

import numpy as np
import pytest

from models.sequential.bert4rec import BERT4Rec
from models.sequential.sasrec import SASRec
from models.trainers import sbr_data
from models.trainers import sbr_evaluation


def _split(name, sequences, targets):
  lengths = [len(s) for s in sequences]
  return sbr_data.SequenceSplit(
      name=name, user_ids=np.arange(10, 10 + len(sequences)),
      values=np.concatenate([np.array(s, np.int64) for s in sequences]),
      row_splits=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
      targets=np.array(targets, np.int64), source=('memory',))


def _sasrec():
  return SASRec(num_items=12, max_len=4, hidden_dim=8, num_blocks=1, num_heads=2).build_weights()


TEST = _split('test', [[1, 2, 3, 4, 5], [6, 7]], [6, 8])


def test_inputs_paper_era_test_drop_two():
  model_inputs = sbr_evaluation.evaluation_inputs(_sasrec(), TEST, 'reference_paper_era')
  np.testing.assert_array_equal(model_inputs, [[1, 2, 3, 0], [0, 0, 0, 0]])


def test_inputs_bert_mask_slot():
  model = BERT4Rec(num_items=12, max_len=4, hidden_dim=8, num_blocks=1, num_heads=2)
  model_inputs = sbr_evaluation.evaluation_inputs(model, TEST, 'last')
  np.testing.assert_array_equal(model_inputs, [[3, 4, 5, 13], [0, 6, 7, 13]])


def test_evaluator_matches_numpy_ranks():
  model = _sasrec()
  split = _split('eval', [[1, 2, 3], [4, 5, 6, 7, 8], [9], [2, 2, 2]], [4, 9, 10, 3])
  evaluator = sbr_evaluation.RankingEvaluator(model, split, 'last', (1, 5, 10), batch_size=3)
  metrics, ranks = evaluator.evaluate()
  scores = model.score(evaluator.model_inputs).numpy()[:, 1:]
  expected = []
  for row, target in enumerate(split.targets):
    target_score = scores[row, target - 1]
    expected.append(1 + np.sum(scores[row] > target_score) +
                    np.sum(scores[row] == target_score) - 1)
  np.testing.assert_array_equal(ranks, expected)
  assert metrics['HR@10'] == pytest.approx(np.mean(np.array(expected) <= 10))


def test_evaluator_seen_masking_improves_rank():
  model = _sasrec()
  split = _split('eval', [[1, 2, 3, 4, 5, 6, 7, 8]], [9])
  plain = sbr_evaluation.RankingEvaluator(model, split, 'last', (5,), 8).ranks()[0]
  masked = sbr_evaluation.RankingEvaluator(model, split, 'last', (5,), 8,
                                           mask_seen_items=True).ranks()[0]
  assert masked[0] <= plain[0]
  assert masked[0] <= 12 - 8


def test_evaluator_sampled_names():
  split = _split('eval', [[1, 2], [3, 4]], [5, 6])
  negatives = np.array([[1, 2, 3], [1, 2, 3]])
  metrics, _ = sbr_evaluation.RankingEvaluator(_sasrec(), split, 'last', (10,), 8,
                                               negatives=negatives).evaluate()
  assert metrics['HR@10 (sampled 3)'] == 1.0
  assert 'HR@10' in metrics


def test_validation_rows_fraction_and_lowest():
  split = _split('eval', [[1]] * 10, [2] * 10)
  split.user_ids = np.array([50, 40, 30, 20, 10, 90, 80, 70, 60, 100])
  np.testing.assert_array_equal(
      sbr_evaluation.select_validation_rows(split, 3, 'lowest_ids', 0), [2, 3, 4])
  assert len(sbr_evaluation.select_validation_rows(split, 0.5, 'random', 0)) == 5
  assert len(sbr_evaluation.select_validation_rows(split, None, 'random', 0)) == 10


def test_negatives_reused_across_runs(tmp_path):
  split = _split('eval', [[1, 2], [3, 4]], [5, 6])
  first = sbr_evaluation.load_or_draw_negatives(split, split, 12, 3, str(tmp_path), seed=1)
  second = sbr_evaluation.load_or_draw_negatives(split, split, 12, 3, str(tmp_path), seed=99)
  np.testing.assert_array_equal(first, second)
  with pytest.raises(ValueError, match='contains 3 negatives'):
    sbr_evaluation.load_or_draw_negatives(split, split, 12, 4, str(tmp_path), seed=1)


def test_default_batch_size_bounded():
  assert sbr_evaluation.default_eval_batch_size(10) == 1024
  assert sbr_evaluation.default_eval_batch_size(2**25) == 1
