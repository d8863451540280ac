"""Exact ranking evaluation of the sequential recommenders on an SBR split.

Protocol: each user's target is ranked against every item 1..V (padding excluded) with
pessimistic ties, or additionally against a persisted set of sampled negatives; HR@k and
NDCG@k are averaged over users. Validation input = the training items; test input = the
training items and the validation item. The read-out (inputs.READOUTS) decides which output
is ranked.
"""

import logging
import os
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from models.metrics import ranking
from models.sequential import base
from models.sequential import inputs
from models.trainers.sbr_data import SequenceSplit

# Upper bound on the elements of one [batch, V + 1] evaluation score matrix when no
# evaluation batch size is given (2**25 float32 values = 128 MiB).
EVAL_SCORE_ELEMENTS = 2**25
# Random streams derived from the run seed: numpy.random.default_rng([seed, stream, ...]).
# The trainer shuffles and masks epoch e with [seed, EPOCH_STREAM, e].
EPOCH_STREAM = 0
VALIDATION_SAMPLING_STREAM = 1


def evaluation_inputs(model: base.SequentialRecommender,
                      split: SequenceSplit,
                      readout: str) -> np.ndarray:
  """Builds the model inputs of an eval or test split for a read-out.

  Validation input = the eval item_ids (training items); test input = the test item_ids
  (training items + validation item). With 'reference_paper_era' the test input leaves out
  the validation item, as the code behind the published Tenrec tables did, and the read-out
  then drops the last remaining item.
  """
  if readout == 'reference_paper_era' and split.name == 'test':
    split = split.without_last_items(1)
  values, row_splits = split.values, split.row_splits
  return inputs.build_eval_inputs(values, row_splits, model.max_len, readout=readout,
                                  mask_token=model.mask_token)


def select_validation_rows(split: SequenceSplit,
                           validation_users: Optional[Union[int, float]],
                           selection: str,
                           seed: int) -> np.ndarray:
  """Returns the rows of the eval split used for validation, in increasing order."""
  total = split.num_users
  if validation_users is None:
    return np.arange(total)
  if isinstance(validation_users, float):
    count = max(1, int(np.floor(total * validation_users)))
  else:
    count = min(int(validation_users), total)
  if selection == 'lowest_ids':
    rows = np.argsort(split.user_ids, kind='stable')[:count]
  else:
    rng = np.random.default_rng([seed, VALIDATION_SAMPLING_STREAM])
    rows = rng.choice(total, size=count, replace=False)
  return np.sort(rows)


class RankingEvaluator:
  """Ranks the targets of one split with a model, exactly, in batches of users.

  The inputs, targets, seen items and negatives are prepared once; `evaluate` runs the model
  on every batch (training=False) and returns full-ranking (and sampled) metrics averaged
  over users.
  """

  def __init__(self,
               model: base.SequentialRecommender,
               split: SequenceSplit,
               readout: str,
               ks: Sequence[int],
               batch_size: int,
               mask_seen_items: bool = False,
               negatives: Optional[np.ndarray] = None):
    self.model = model
    self.split = split
    self.ks = ranking.check_ks(ks)
    self.batch_size = int(batch_size)
    self.mask_seen_items = mask_seen_items
    self.negatives = negatives
    self.num_negatives = None if negatives is None else int(negatives.shape[1])
    self.model_inputs = evaluation_inputs(model, split, readout).astype(np.int32)
    self.pooling = inputs.readout_pooling(readout)
    # One trace for every batch: the last batch and the optional inputs vary in shape.
    self._rank_fn = tf.function(self._rank_batch, input_signature=[
        tf.TensorSpec([None, None], tf.int32),
        tf.TensorSpec([None], tf.int64),
        tf.TensorSpec([None, None], tf.int64),
        tf.TensorSpec([None, None], tf.int64),
    ])

  def _rank_batch(self, model_inputs, targets, seen, negatives):
    scores = self.model.score(model_inputs, pooling=self.pooling, training=False)
    full = ranking.full_ranks(scores, targets, seen_items=seen)
    sampled = ranking.sampled_ranks(scores, targets, negatives)
    return full, sampled

  def _seen_batch(self, rows: slice) -> np.ndarray:
    if not self.mask_seen_items:
      return np.zeros([rows.stop - rows.start, 0], np.int64)
    starts = self.split.row_splits[rows.start:rows.stop]
    ends = self.split.row_splits[rows.start + 1:rows.stop + 1]
    width = max(int((ends - starts).max(initial=0)), 1)
    return inputs.segments_to_left_padded(self.split.values, starts, ends, width)

  def ranks(self) -> Tuple[np.ndarray, Optional[np.ndarray]]:
    """Returns (full ranks [U], sampled ranks [U] or None)."""
    full = ranking.RankAccumulator()
    sampled = ranking.RankAccumulator()
    for start in range(0, self.split.num_users, self.batch_size):
      rows = slice(start, min(start + self.batch_size, self.split.num_users))
      if self.negatives is None:
        negatives = np.zeros([rows.stop - rows.start, 0], np.int64)
      else:
        negatives = self.negatives[rows]
      full_ranks, sampled_ranks = self._rank_fn(
          tf.constant(self.model_inputs[rows]), tf.constant(self.split.targets[rows]),
          tf.constant(self._seen_batch(rows)), tf.constant(negatives))
      full.update(full_ranks.numpy())
      sampled.update(sampled_ranks.numpy())
    return full.ranks, (sampled.ranks if self.negatives is not None else None)

  def evaluate(self) -> Tuple[Dict[str, float], np.ndarray]:
    """Returns (metrics, full ranks)."""
    full_ranks, sampled_ranks = self.ranks()
    metrics = ranking.summarize_ranks(full_ranks, self.ks)
    if sampled_ranks is not None:
      metrics.update(ranking.summarize_ranks(sampled_ranks, self.ks, self.num_negatives))
    return metrics, full_ranks


def default_eval_batch_size(num_items: int) -> int:
  """Users per evaluation batch so that a [batch, V + 1] score matrix stays bounded."""
  return int(max(1, min(1024, EVAL_SCORE_ELEMENTS // (num_items + 1))))


def load_or_draw_negatives(split: SequenceSplit,
                           evaluated: SequenceSplit,
                           num_items: int,
                           num_negatives: int,
                           directory: str,
                           seed: int,
                           strategy: str = 'uniform',
                           item_counts: Optional[np.ndarray] = None) -> np.ndarray:
  """Returns the sampled negatives of the users of `evaluated`, one row per user.

  Negatives are stored in <directory>/negatives_<split>.npz. An existing file is reused, so
  every model evaluated with the same directory ranks against the same candidates.
  Otherwise negatives are drawn for every user of `split`, not only the evaluated subset,
  excluding each user's history and target, and the file is written.

  Raises:
    ValueError: The existing file was drawn for another V or negative count, or lacks a user.
  """
  path = os.path.join(directory, f'negatives_{split.name}.npz')
  if tf.io.gfile.exists(path):
    samples = ranking.NegativeSamples.load(path)
    if samples.num_items != num_items or samples.num_negatives != num_negatives:
      raise ValueError(
          f'{path} contains {samples.num_negatives} negatives per user over '
          f'{samples.num_items} items, but this run needs {num_negatives} over '
          f'{num_items}; use another negatives folder or delete the file.')
    logging.info('Reusing sampled negatives from %s.', path)
    return samples.aligned(evaluated.user_ids)

  samples = ranking.sample_negatives(
      split.user_ids, split.targets, num_items, num_negatives, seed=seed,
      history_values=split.values, history_row_splits=split.row_splits,
      strategy=strategy, item_counts=item_counts)
  samples.save(path)
  logging.info('Wrote %d sampled negatives per user for the %s split to %s.',
               num_negatives, split.name, path)
  return samples.aligned(evaluated.user_ids)
