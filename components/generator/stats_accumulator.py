"""Streaming accumulation of one scenario file's statistics, batch by batch.

Per-row totals are summed per batch. Per-user and per-item counts are kept as (id, count)
pairs, merged from time to time, so memory follows the number of distinct users and items.
Repeat detection needs all rows of a user together: the rows of the last user of a batch are
carried into the next batch.
"""

from typing import Dict, List, Sequence

import numpy as np

from components.generator import stats_summary
from components.tenrec_io import schema as schema_lib

VIDEO_ACTIONS = ('like', 'share', 'follow')
ARTICLE_ACTIONS = ('read', 'like', 'share', 'follow', 'favorite')
ITEM_COUNT_COLUMNS = ('exposure_count', 'click_count', 'like_count', 'comment_count')
ITEM_COLUMNS = ITEM_COUNT_COLUMNS + ('item_score1', 'item_score2', 'item_score3',
                                     'category_first', 'category_second')
_MERGE_THRESHOLD = 4_000_000


class _KeyedSums:
  """Sums (or minima, or maxima) of values per integer key (user or item id), merged lazily."""

  _REDUCERS = {'sum': (np.add, 0.0), 'min': (np.minimum, np.inf), 'max': (np.maximum, -np.inf)}

  def __init__(self, num_values: int, reduce: str = 'sum'):
    if reduce not in self._REDUCERS:
      raise ValueError(f'reduce must be one of {sorted(self._REDUCERS)}, got {reduce!r}.')
    self._keys: List[np.ndarray] = []
    self._values: List[np.ndarray] = []
    self._pending = 0
    self.num_values = num_values
    self._ufunc, self._identity = self._REDUCERS[reduce]

  def add(self, keys: np.ndarray, values: np.ndarray) -> None:
    self._keys.append(keys)
    self._values.append(values.reshape(keys.shape[0], self.num_values))
    self._pending += keys.shape[0]
    if self._pending > _MERGE_THRESHOLD:
      self._merge()

  def _merge(self) -> None:
    if not self._keys:
      return
    keys = np.concatenate(self._keys)
    values = np.concatenate(self._values)
    unique, inverse = np.unique(keys, return_inverse=True)
    reduced = np.full((unique.shape[0], self.num_values), self._identity)
    self._ufunc.at(reduced, inverse.ravel(), values)
    self._keys, self._values = [unique], [reduced]
    self._pending = unique.shape[0]

  def result(self):
    self._merge()
    if not self._keys:
      return np.zeros(0, np.int64), np.zeros((0, self.num_values))
    return self._keys[0], self._values[0]


def _runs(user_ids: np.ndarray) -> np.ndarray:
  """Returns the start index of each run of equal consecutive user ids."""
  if not user_ids.shape[0]:
    return np.zeros(0, dtype=np.int64)
  return np.concatenate([[0], np.flatnonzero(user_ids[1:] != user_ids[:-1]) + 1])



class ScenarioAccumulator:
  """Accumulates the statistics of one scenario file."""

  def __init__(self, scenario: schema_lib.ScenarioSchema, columns: Sequence[str]):
    self.scenario = scenario
    self.columns = list(columns)
    self.is_video = scenario.name in ('qk_video', 'qb_video')
    self.rows = 0
    self.sums: Dict[str, float] = {}
    self.counts: Dict[str, np.ndarray] = {}
    self.action_on_clicks: Dict[str, int] = {}
    self.unclicked = 0
    self.unclicked_watched = 0
    self.repeated = 0
    self.conflicting = 0
    self.duplicates = 0
    self.item_count_violations = 0
    self.run_users: List[np.ndarray] = []
    self.users = _KeyedSums(2)  # rows, clicks
    self.items = _KeyedSums(2)
    self.demographic_changes = _KeyedSums(1)  # (gender, age) changes inside a user's run
    self.item_minimum: Dict[str, _KeyedSums] = {}
    self.item_maximum: Dict[str, _KeyedSums] = {}
    self._carry = None

  def add(self, batch: Dict[str, np.ndarray]) -> None:
    """Adds one batch of rows (file order) to the statistics."""
    if self._carry is not None:
      batch = {name: np.concatenate([self._carry[name], batch[name]]) for name in batch}
      self._carry = None
    user_ids = batch['user_id']
    if not user_ids.shape[0]:
      return
    starts = _runs(user_ids)
    last = starts[-1]
    complete = {name: values[:last] for name, values in batch.items()}
    self._carry = {name: values[last:] for name, values in batch.items()}
    if last:
      self._add_complete(complete)

  def _add_complete(self, batch: Dict[str, np.ndarray]) -> None:
    user_ids = batch['user_id']
    item_ids = batch['item_id']
    click = batch['click'].astype(np.int64)
    self.rows += user_ids.shape[0]
    self.sums['click'] = self.sums.get('click', 0) + int(click.sum())
    self.sums['min_user_id'] = min(self.sums.get('min_user_id', np.inf), int(user_ids.min()))
    self.sums['min_item_id'] = min(self.sums.get('min_item_id', np.inf), int(item_ids.min()))

    starts = _runs(user_ids)
    self.run_users.append(user_ids[starts])
    lengths = np.diff(np.concatenate([starts, [user_ids.shape[0]]]))
    self.users.add(user_ids[starts],
                   np.stack([lengths, np.add.reduceat(click, starts)], axis=1).astype(float))
    unique_items, inverse, item_rows = np.unique(item_ids, return_inverse=True,
                                                 return_counts=True)
    self.items.add(unique_items,
                   np.stack([item_rows, np.bincount(inverse, weights=click)], axis=1))

    actions = VIDEO_ACTIONS if self.is_video else ARTICLE_ACTIONS
    for action in actions:
      if action in batch:
        values = batch[action].astype(np.int64)
        self.sums[action] = self.sums.get(action, 0) + int(values.sum())
        self.action_on_clicks[action] = (self.action_on_clicks.get(action, 0) +
                                         int(values[click == 1].sum()))
    self._add_categoricals(batch, click, starts)
    self._add_repeats(batch, click)
    if not self.is_video:
      self._add_article_columns(batch)

  def _bincount(self, key: str, values: np.ndarray, size: int) -> None:
    counts = np.bincount(np.clip(values, 0, size - 1), minlength=size)
    self.counts[key] = self.counts.get(key, 0) + counts

  def _add_categoricals(self, batch, click, starts) -> None:
    if 'gender' in batch and 'age' in batch:
      self._bincount('gender', batch['gender'], 3)
      self._bincount('age', batch['age'], 8)
      pair = batch['gender'] * 8 + batch['age']
      changes = np.add.reduceat(np.concatenate([[0], (pair[1:] != pair[:-1]).astype(int)]),
                                starts)
      # The first row of each run is compared with the previous run: discount that change.
      first_change = np.concatenate([[0], (pair[starts[1:]] != pair[starts[1:] - 1])])
      self.demographic_changes.add(batch['user_id'][starts],
                                   (changes - first_change).astype(float))
    if 'video_category' in batch:
      category = batch['video_category']
      self._bincount('video_category', np.where(category < 0, 2, category), 3)
    if 'watching_times' in batch:
      watching = batch['watching_times']
      self._bincount('watching_times', np.minimum(watching, 6), 7)
      self.unclicked += int((click == 0).sum())
      self.unclicked_watched += int(((click == 0) & (watching >= 1)).sum())

  def _add_repeats(self, batch, click) -> None:
    user_ids = batch['user_id']
    position = np.arange(user_ids.shape[0])
    order = np.lexsort((position, batch['item_id'], user_ids))
    same_pair = ((user_ids[order][1:] == user_ids[order][:-1]) &
                 (batch['item_id'][order][1:] == batch['item_id'][order][:-1]))
    group = np.concatenate([[0], np.cumsum(~same_pair)])
    group_first = np.concatenate([[0], np.flatnonzero(~same_pair) + 1])
    first_click = click[order][group_first][group]
    repeated = np.concatenate([[False], same_pair])
    self.repeated += int(repeated.sum())
    self.conflicting += int((repeated & (click[order] != first_click)).sum())

    keys = [batch[name] for name in reversed(self.columns)]
    full_order = np.lexsort(keys)
    equal = np.ones(max(user_ids.shape[0] - 1, 0), dtype=bool)
    for name in self.columns:
      values = batch[name][full_order]
      same = values[1:] == values[:-1]
      if values.dtype.kind == 'f':
        same |= np.isnan(values[1:]) & np.isnan(values[:-1])
      equal &= same
    self.duplicates += int(equal.sum())

  def _add_article_columns(self, batch) -> None:
    item_ids = batch['item_id']
    order = np.argsort(item_ids, kind='stable')
    sorted_items = item_ids[order]
    starts = _runs(sorted_items)
    for name in ITEM_COLUMNS:
      if name not in batch:
        continue
      values = np.nan_to_num(batch[name][order].astype(np.float64), nan=-1.0)
      self.item_minimum.setdefault(name, _KeyedSums(1, 'min')).add(
          sorted_items[starts], np.minimum.reduceat(values, starts))
      self.item_maximum.setdefault(name, _KeyedSums(1, 'max')).add(
          sorted_items[starts], np.maximum.reduceat(values, starts))
    if all(name in batch for name in ITEM_COUNT_COLUMNS):
      self.item_count_violations += int(np.sum(
          (batch['click_count'] > batch['exposure_count']) |
          (batch['like_count'] > batch['click_count']) |
          (batch['comment_count'] > batch['click_count'])))
    if 'read_percentage' in batch:
      self.sums['read_percentage'] = (self.sums.get('read_percentage', 0.0) +
                                      float(np.nansum(batch['read_percentage'])))
    if 'read_time' in batch:
      self.sums['read_time'] = self.sums.get('read_time', 0.0) + float(np.nansum(
          batch['read_time']))

  def finish(self) -> Dict:
    """Returns the statistics; `_user_ids` and `_item_ids` are for cross-file checks."""
    if self._carry is not None and self._carry['user_id'].shape[0]:
      carry, self._carry = self._carry, None
      self._add_complete(carry)
    return stats_summary.summarise(self)
