"""Exact ranking metrics for next-item recommendation: HR@k and NDCG@k.

Scores are [batch, V + 1] matrices whose column j is item index j; column 0 is padding and
is never a candidate. A user's target t is ranked against every item 1..V (full ranking) or
against t and a fixed set of sampled negatives (sampled ranking), with pessimistic ties:

  r = 1 + #{j : s_j > s_t} + #{j != t : s_j = s_t}

so a model that gives every item the same score ranks each target last (r = number of
candidates) instead of being rewarded by an arbitrary tie-break. Per user:

  HR@k = 1[r <= k],   NDCG@k = 1[r <= k] / log2(r + 1)

and a split's value is the mean over users (not a mean of batch means). Sampled results
are always named with their candidate count, for example 'NDCG@10 (sampled 100)', so they are
never confused with full-ranking numbers.

Example:

  scores = tf.constant([[0.0, 0.2, 0.9, 0.2]])       # padding, items 1, 2, 3
  ranks = full_ranks(scores, tf.constant([1]))       # [3]: item 2 is above, item 3 ties
  summarize_ranks(ranks.numpy(), ks=(1, 5))          # {'HR@1': 0.0, 'NDCG@1': 0.0, 'HR@5': 1.0,
                                                     #  'NDCG@5': 0.5}
"""

import dataclasses
import io
import json
import os
import re
from typing import Dict, Iterable, Optional, Sequence, Tuple

import numpy as np
import tensorflow as tf

DEFAULT_KS = (5, 10, 20)

_METRIC_NAME = re.compile(r'^(HR|NDCG)@(\d+)(?: \(sampled (\d+)\))?$')


def metric_name(kind: str, k: int, num_negatives: Optional[int] = None) -> str:
  """Returns the name of a ranking metric: 'HR@10' or 'HR@10 (sampled 100)'."""
  if kind not in ('HR', 'NDCG'):
    raise ValueError(f'kind must be HR or NDCG, got {kind!r}.')
  name = f'{kind}@{int(k)}'
  if num_negatives is not None:
    name += f' (sampled {int(num_negatives)})'
  return name


def parse_metric_name(name: str) -> Tuple[str, int, Optional[int]]:
  """Splits 'NDCG@10' or 'NDCG@10 (sampled 100)' into (kind, k, negatives or None).

  Raises:
    ValueError: The name does not have one of these forms.
  """
  match = _METRIC_NAME.match(name.strip())
  if not match or int(match.group(2)) < 1:
    raise ValueError(f'Invalid ranking metric name {name!r}; expected HR@k or NDCG@k with '
                     'k >= 1, optionally followed by " (sampled N)".')
  negatives = None if match.group(3) is None else int(match.group(3))
  return match.group(1), int(match.group(2)), negatives


def check_ks(ks: Iterable[int]) -> Tuple[int, ...]:
  """Returns the cut-offs sorted and deduplicated; each must be an integer >= 1."""
  values = tuple(ks)
  if not values:
    raise ValueError('At least one cut-off k is required.')
  for k in values:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
      raise ValueError(f'Cut-off k must be an integer >= 1, got {k!r}.')
  return tuple(sorted({int(k) for k in values}))


def _mask_seen_items(scores: tf.Tensor, targets: tf.Tensor, seen_items: tf.Tensor) -> tf.Tensor:
  """Sets the scores of seen items (other than each row's target) to -inf."""
  seen_items = tf.cast(seen_items, tf.int64)
  seen_items = tf.where(seen_items == targets[:, tf.newaxis], tf.zeros_like(seen_items),
                        seen_items)
  positions = tf.where(seen_items > 0)
  columns = tf.gather_nd(seen_items, positions)
  indices = tf.stack([positions[:, 0], columns], axis=1)
  updates = tf.fill(tf.shape(columns), tf.constant(-np.inf, scores.dtype))
  return tf.tensor_scatter_nd_update(scores, indices, updates)


def full_ranks(scores: tf.Tensor,
               targets: tf.Tensor,
               seen_items: Optional[tf.Tensor] = None) -> tf.Tensor:
  """Ranks each target among all items 1..V with pessimistic ties.

  Args:
    scores: float [batch, V + 1]; column 0 (padding) is ignored.
    targets: int [batch] in 1..V.
    seen_items: Optional int [batch, L] of item indices to exclude from the candidates (for
      example the user's history), padded with 0. A row's own target is never excluded.

  Returns:
    int64 [batch] ranks in 1..V.

  Raises:
    tf.errors.InvalidArgumentError: A target is outside 1..V or a score is NaN or infinite.
  """
  scores = tf.convert_to_tensor(scores)
  targets = tf.cast(targets, tf.int64)
  num_columns = tf.shape(scores, out_type=tf.int64)[1]
  tf.debugging.assert_greater_equal(targets, tf.constant(1, tf.int64),
                                    message='targets must be item indices >= 1')
  tf.debugging.assert_less(targets, num_columns,
                           message='targets must be item indices <= V')
  scores = tf.debugging.check_numerics(scores, 'ranking scores')

  if seen_items is not None:
    scores = _mask_seen_items(scores, targets, seen_items)

  target_scores = tf.gather(scores, targets, batch_dims=1)[:, tf.newaxis]
  candidates = scores[:, 1:]
  # int32 counts keep the [batch, V] temporaries at the width of the scores.
  higher = tf.reduce_sum(tf.cast(candidates > target_scores, tf.int32), axis=1)
  equal = tf.reduce_sum(tf.cast(candidates == target_scores, tf.int32), axis=1)
  # `equal` counts the target itself once.
  return tf.cast(1 + higher + equal - 1, tf.int64)


def sampled_ranks(scores: tf.Tensor, targets: tf.Tensor, negatives: tf.Tensor) -> tf.Tensor:
  """Ranks each target among itself and its sampled negatives, pessimistic ties.

  Args:
    scores: float [batch, V + 1].
    targets: int [batch] in 1..V.
    negatives: int [batch, n] item indices, none equal to the row's target.

  Returns:
    int64 [batch] ranks in 1..n + 1.
  """
  scores = tf.debugging.check_numerics(tf.convert_to_tensor(scores), 'ranking scores')
  targets = tf.cast(targets, tf.int64)
  negatives = tf.cast(negatives, tf.int64)
  tf.debugging.assert_none_equal(negatives, targets[:, tf.newaxis],
                                 message='a sampled negative equals its target')
  target_scores = tf.gather(scores, targets, batch_dims=1)[:, tf.newaxis]
  negative_scores = tf.gather(scores, negatives, batch_dims=1)
  not_lower = tf.cast(negative_scores >= target_scores, tf.int64)
  return 1 + tf.reduce_sum(not_lower, axis=1)


def hit_rate(ranks: np.ndarray, k: int) -> np.ndarray:
  """Returns HR@k per user: 1.0 where rank <= k, else 0.0."""
  ranks = np.asarray(ranks)
  return (ranks <= k).astype(np.float64)


def ndcg(ranks: np.ndarray, k: int) -> np.ndarray:
  """Returns NDCG@k per user for one relevant item: 1 / log2(rank + 1) where rank <= k."""
  ranks = np.asarray(ranks, dtype=np.float64)
  return np.where(ranks <= k, 1.0 / np.log2(ranks + 1.0), 0.0)


def summarize_ranks(ranks: np.ndarray,
                    ks: Sequence[int] = DEFAULT_KS,
                    num_negatives: Optional[int] = None) -> Dict[str, float]:
  """Returns {'HR@k': mean, 'NDCG@k': mean} over users for every k.

  Raises:
    ValueError: `ranks` is empty or contains a rank below 1.
  """
  ranks = np.asarray(ranks)
  if ranks.size == 0:
    raise ValueError('Cannot compute ranking metrics over zero users.')
  if ranks.min() < 1:
    raise ValueError(f'Ranks must be >= 1, got {ranks.min()}.')
  result = {}
  for k in check_ks(ks):
    result[metric_name('HR', k, num_negatives)] = float(hit_rate(ranks, k).mean())
    result[metric_name('NDCG', k, num_negatives)] = float(ndcg(ranks, k).mean())
  return result


class RankAccumulator:
  """Collects per-user ranks over batches and averages the metrics over users.

  Keeping every rank (one integer per user) makes the split value exactly the mean over
  users whatever the batch sizes, and lets callers save per-user ranks for paired tests.
  """

  def __init__(self):
    self._ranks = []

  def update(self, ranks) -> None:
    self._ranks.append(np.asarray(ranks, dtype=np.int64).reshape(-1))

  @property
  def ranks(self) -> np.ndarray:
    if not self._ranks:
      return np.zeros([0], np.int64)
    return np.concatenate(self._ranks)

  @property
  def count(self) -> int:
    return int(sum(len(r) for r in self._ranks))

  def result(self, ks: Sequence[int] = DEFAULT_KS,
             num_negatives: Optional[int] = None) -> Dict[str, float]:
    return summarize_ranks(self.ranks, ks, num_negatives)


def top_k_items(scores: tf.Tensor, k, seen_items: Optional[tf.Tensor] = None):
  """Retrieves the k best items of each row (padding column excluded).

  Args:
    scores: float [batch, V + 1].
    k: int scalar; values above V are clipped to V.
    seen_items: Optional int [batch, L] of items to exclude, padded with 0.

  Returns:
    (item_ids int64 [batch, k'], scores [batch, k']) sorted by decreasing score, k' = min(k, V).
    Ties are returned in increasing item index (tf.math.top_k order).
  """
  scores = tf.convert_to_tensor(scores)
  if seen_items is not None:
    no_target = tf.zeros([tf.shape(scores)[0]], tf.int64)
    scores = _mask_seen_items(scores, no_target, seen_items)
  candidates = scores[:, 1:]
  k = tf.minimum(tf.cast(k, tf.int32), tf.shape(candidates)[1])
  values, indices = tf.math.top_k(candidates, k=k, sorted=True)
  return tf.cast(indices, tf.int64) + 1, values


@dataclasses.dataclass
class NegativeSamples:
  """Sampled negatives of one split, aligned with user ids.

  Attributes:
    user_ids: int64 [U] raw user ids.
    negatives: int64 [U, n] item indices in 1..V; row u never contains user u's target.
    num_items: V when the negatives were drawn.
    seed: Seed of the sampler.
    strategy: 'uniform' or 'popularity'.
    exclude_seen: Whether the user's history was excluded from the draws.
  """

  user_ids: np.ndarray
  negatives: np.ndarray
  num_items: int
  seed: int
  strategy: str
  exclude_seen: bool

  @property
  def num_negatives(self) -> int:
    return int(self.negatives.shape[1])

  def save(self, path: str) -> None:
    """Writes the negatives to an .npz file on any TensorFlow file system."""
    directory = os.path.dirname(path)
    if directory:
      tf.io.gfile.makedirs(directory)
    metadata = {'num_items': self.num_items, 'seed': self.seed, 'strategy': self.strategy,
                'exclude_seen': self.exclude_seen}
    buffer = io.BytesIO()
    np.savez_compressed(buffer, user_ids=self.user_ids, negatives=self.negatives,
                        metadata=np.array(json.dumps(metadata)))
    with tf.io.gfile.GFile(path, 'wb') as handle:
      handle.write(buffer.getvalue())

  @classmethod
  def load(cls, path: str) -> 'NegativeSamples':
    """Reads negatives written by `save`.

    Raises:
      ValueError: The file lacks an array or its arrays disagree in length.
    """
    with tf.io.gfile.GFile(path, 'rb') as handle:
      buffer = io.BytesIO(handle.read())
    with np.load(buffer, allow_pickle=False) as data:
      missing = {'user_ids', 'negatives', 'metadata'} - set(data.files)
      if missing:
        raise ValueError(f'{path}: not a negative-sample file; missing arrays '
                         f'{", ".join(sorted(missing))}. Delete it to draw new negatives.')
      metadata = json.loads(str(data['metadata']))
      samples = cls(user_ids=data['user_ids'].astype(np.int64),
                    negatives=data['negatives'].astype(np.int64),
                    num_items=int(metadata['num_items']), seed=int(metadata['seed']),
                    strategy=str(metadata['strategy']),
                    exclude_seen=bool(metadata['exclude_seen']))
    if samples.negatives.ndim != 2 or len(samples.negatives) != len(samples.user_ids):
      raise ValueError(f'{path}: negatives of shape {samples.negatives.shape} do not match '
                       f'{len(samples.user_ids)} user ids.')
    return samples

  def aligned(self, user_ids: np.ndarray) -> np.ndarray:
    """Returns the negatives rows of `user_ids`, in that order.

    Raises:
      ValueError: A user has no row.
    """
    order = np.argsort(self.user_ids, kind='stable')
    sorted_ids = self.user_ids[order]
    user_ids = np.asarray(user_ids, dtype=np.int64)
    positions = np.searchsorted(sorted_ids, user_ids)
    positions = np.minimum(positions, len(sorted_ids) - 1)
    found = (len(sorted_ids) > 0) & (sorted_ids[positions] == user_ids)
    if not np.all(found):
      missing = user_ids[~found]
      raise ValueError(f'{int(missing.size)} users have no sampled negatives (first: user '
                       f'{int(missing[0])}); draw the negatives again for this split.')
    return self.negatives[order[positions]]


def sample_negatives(user_ids: np.ndarray,
                     targets: np.ndarray,
                     num_items: int,
                     num_negatives: int,
                     seed: int,
                     history_values: Optional[np.ndarray] = None,
                     history_row_splits: Optional[np.ndarray] = None,
                     strategy: str = 'uniform',
                     item_counts: Optional[np.ndarray] = None) -> NegativeSamples:
  """Draws `num_negatives` distinct negatives per user, never the user's target.

  Args:
    user_ids: int [U].
    targets: int [U] in 1..V.
    num_items: V.
    num_negatives: Negatives per user.
    seed: Seed; the same seed and inputs give the same negatives.
    history_values, history_row_splits: Optional ragged histories; when given, a user's
      history items are excluded too (the usual sampled protocol).
    strategy: 'uniform' over items, or 'popularity' (probability proportional to
      `item_counts`).
    item_counts: float [V + 1] item frequencies for 'popularity' (index 0 ignored).

  Raises:
    ValueError: Too few items remain for some user, or an argument is invalid.
  """
  if strategy not in ('uniform', 'popularity'):
    raise ValueError(f'strategy must be uniform or popularity, got {strategy!r}.')
  if num_negatives < 1:
    raise ValueError(f'num_negatives must be >= 1, got {num_negatives!r}.')
  exclude_seen = history_values is not None
  cumulative = None
  if strategy == 'popularity':
    if item_counts is None or len(item_counts) != num_items + 1:
      raise ValueError(f'popularity sampling needs item_counts of length {num_items + 1}.')
    weights = np.asarray(item_counts, dtype=np.float64).copy()
    weights[0] = 0.0
    if np.any(weights < 0) or weights.sum() <= 0:
      raise ValueError('popularity sampling needs non-negative item_counts with a positive '
                       'sum.')
    cumulative = np.cumsum(weights) / weights.sum()
    has_weight = weights > 0
  else:
    has_weight = np.ones(num_items + 1, dtype=bool)
    has_weight[0] = False

  rng = np.random.default_rng(seed)
  user_ids = np.asarray(user_ids, dtype=np.int64)
  targets = np.asarray(targets, dtype=np.int64)
  negatives = np.zeros((len(user_ids), num_negatives), dtype=np.int64)
  num_candidates = int(np.count_nonzero(has_weight))
  for row, target in enumerate(targets.tolist()):
    excluded = {target}
    if exclude_seen:
      excluded.update(
          history_values[history_row_splits[row]:history_row_splits[row + 1]].tolist())
    excluded_candidates = sum(1 for item in excluded if 0 < item <= num_items and
                              has_weight[item])
    if num_candidates - excluded_candidates < num_negatives:
      raise ValueError(
          f'User {int(user_ids[row])} has only {num_candidates - excluded_candidates} '
          f'candidate items for {num_negatives} negatives; lower the number of negatives.')

    chosen = []
    chosen_set = set()
    while len(chosen) < num_negatives:
      draw_size = 2 * (num_negatives - len(chosen)) + 8
      if cumulative is None:
        draws = rng.integers(1, num_items + 1, size=draw_size)
      else:
        draws = np.searchsorted(cumulative, rng.random(draw_size), side='right')
        draws = np.minimum(draws, num_items)
      for item in draws.tolist():
        if item not in excluded and item not in chosen_set and has_weight[item]:
          chosen.append(item)
          chosen_set.add(item)
          if len(chosen) == num_negatives:
            break
    negatives[row] = chosen
  return NegativeSamples(user_ids=user_ids, negatives=negatives, num_items=int(num_items),
                         seed=int(seed), strategy=strategy, exclude_seen=exclude_seen)
