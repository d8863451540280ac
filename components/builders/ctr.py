"""CTR dataset builder: QK-video exposures to tf.Example with click (and like, share, follow)
labels.

For every kept exposure the example holds `user_id`, `item_id`, `video_category`, `gender`,
`age`, `hist_item_ids` and the labels. `watching_times` is read only to recognise exact duplicate
rows and is never a feature, because it leaks the click label.

History (`history_mode`):
* 'before_row' (default): the user's last `history_length` clicked items strictly before the
  row in file order (= time order), oldest first, left-padded with -1. No future information.
* 'reference_first_clicks': the reference generator's static history. For a user with clicked
  items L: L[0:10] if |L| > 10, L[:-1] if 2 <= |L| <= 10, nothing if |L| = 1, right-padded. Every
  row of the user whose item is in that history is deleted, and users without clicks are
  dropped, as the reference did.

Negative sampling keeps every positive and, by default, `negatives_per_positive` negatives per
positive of the same user ('per_user'), chosen by a seeded hash of the row; 'global' keeps each
negative with probability min(1, ratio * positives / negatives) over the whole file, like the
reference's global uniform draw.

Splits are seeded and 8:1:1 by default. 'random' assigns a split by a hash of the whole raw row,
so exact duplicate rows always land in the same split; 'user' assigns whole users; 'temporal'
splits each user's rows in time order.
"""

import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import hashing
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib

from components.builders.ctr_options import (  # pylint: disable=unused-import
    CtrOptions, FEATURES, HISTORY_MODES, HISTORY_PADDING, LABELS, NEGATIVE_SAMPLING_MODES,
    SPLIT_MODES, USER_SELECTION_MODES, RAW_COLUMNS, check_split_ratios)


def assign_split_by_unit(unit: np.ndarray, ratios: Sequence[float]) -> np.ndarray:
  """Maps values in [0, 1) to split indices 0 (train), 1 (eval), 2 (test) by the ratios."""
  return np.searchsorted(np.cumsum(ratios)[:2], unit, side='right').astype(np.int8)


def history_before_row(table: base.UserTable, click: np.ndarray, items: np.ndarray,
                       length: int) -> np.ndarray:
  """Returns, per row, the last `length` clicked items of the user strictly before the row.

  Shape [rows, length], oldest first, left-padded with HISTORY_PADDING.
  """
  click = click.astype(np.int64)
  clicks_before = np.cumsum(click) - click
  user_base = np.repeat(clicks_before[table.user_starts[:-1]], np.diff(table.user_starts))
  own_before = clicks_before - user_base
  clicked_items = items[click == 1]
  slots = np.arange(length) - length
  index_in_user = own_before[:, None] + slots[None, :]
  valid = index_in_user >= 0
  global_index = np.where(valid, user_base[:, None] + index_in_user, 0)
  if clicked_items.size == 0:
    return np.full((table.num_rows, length), HISTORY_PADDING, dtype=np.int64)
  return np.where(valid, clicked_items[global_index], HISTORY_PADDING).astype(np.int64)


def history_reference_first_clicks(table: base.UserTable, click: np.ndarray, items: np.ndarray,
                                   length: int) -> Tuple[np.ndarray, np.ndarray]:
  """Returns the reference's static per-user history and each row's user click count.

  History per user with clicked items L: L[:length] if |L| > length, L[:-1] if 2 <= |L| <= length,
  empty if |L| <= 1; right-padded with HISTORY_PADDING; identical on every row of the user.
  """
  click = click.astype(np.int64)
  counts_per_user = np.add.reduceat(click, table.user_starts[:-1]) if table.num_rows else (
      np.zeros(0, np.int64))
  user_clicks = np.repeat(counts_per_user, np.diff(table.user_starts))
  first_click = np.cumsum(np.concatenate([[0], counts_per_user]))[:-1]
  clicked_items = items[click == 1]
  kept = np.where(counts_per_user > length, length, np.maximum(counts_per_user - 1, 0))
  slots = np.arange(length)
  valid_user = slots[None, :] < kept[:, None]
  index = np.where(valid_user, first_click[:, None] + slots[None, :], 0)
  if clicked_items.size == 0:
    per_user = np.full((table.num_users, length), HISTORY_PADDING, dtype=np.int64)
  else:
    per_user = np.where(valid_user, clicked_items[index], HISTORY_PADDING).astype(np.int64)
  return np.repeat(per_user, np.diff(table.user_starts), axis=0), user_clicks


def rank_within_groups(group: np.ndarray, key: np.ndarray) -> np.ndarray:
  """Returns each element's 0-based rank by `key` among the elements of the same group."""
  order = np.lexsort((key, group))
  sorted_group = group[order]
  starts = np.concatenate([[0], np.flatnonzero(sorted_group[1:] != sorted_group[:-1]) + 1])
  first_of_group = np.repeat(starts, np.diff(np.concatenate([starts, [group.size]])))
  ranks = np.empty(group.size, dtype=np.int64)
  ranks[order] = np.arange(group.size) - first_of_group
  return ranks


class CtrBuilder(base.TaskBuilder):
  """Builds the CTR (and multi-task) dataset from one video scenario."""

  task = 'ctr'

  def __init__(self, options: Optional[CtrOptions] = None):
    self.options = options or CtrOptions()
    self._scenario = schema_lib.get_scenario(self.options.scenario)

  def inputs(self) -> List[base.BuilderInput]:
    return [base.BuilderInput(self._scenario.name, self._scenario, RAW_COLUMNS)]

  def options_dict(self) -> Dict[str, Any]:
    values = dataclasses.asdict(self.options)
    values['split_ratios'] = list(self.options.split_ratios)
    return values

  def deviations(self) -> List[str]:
    o = self.options
    notes = []
    if o.history_mode == 'before_row':
      notes.append('History is the last clicked items before each exposure (the reference used '
                   'the first 10 clicks of the user on every row and deleted those rows).')
    else:
      notes.append('History follows the reference (first clicks, static per user); padding is '
                   '-1 rather than 0, so it cannot collide with an item id 0.')
    if o.negative_sampling == 'per_user':
      notes.append('Negatives are sampled per user (ratio per positive of the same user); the '
                   'reference drew them uniformly over the whole file.')
    else:
      notes.append('Global negative sampling keeps each negative independently with a fixed '
                   'probability, so the count is 2x positives in expectation, not exactly.')
    notes.append('Negative sampling and splits are computed once at build time with a seeded '
                 'hash (the reference re-sampled at every load).')
    if o.split_mode == 'random':
      notes.append('Exact duplicate rows always share a split (the reference split rows at '
                   'random, leaking duplicates between train and test).')
    else:
      notes.append(f'Split mode {o.split_mode!r} instead of the reference random row split.')
    if o.max_users is not None and o.user_selection == 'random':
      notes.append('Users are a seeded random sample (the reference took the lowest ids).')
    notes.append('Label encoding is fitted on the training split by the Transform step (the '
                 'reference fitted it on the whole table).')
    return notes

  def summarize_chunk(self, input_name: str, batch: reader.RawBatch) -> Dict[str, Any]:
    click = batch.columns['click']
    summary = {'clicks': int(click.sum()), 'non_clicks': int(click.size - click.sum())}
    if self.options.max_users is not None:
      summary['user_counts'] = base.value_counts(batch.columns['user_id'])
    return summary

  def finalize_summary(self, summary: Dict[str, Any]) -> Dict[str, Any]:
    summary = dict(summary)
    non_clicks = summary.get('non_clicks', 0)
    ratio = self.options.negatives_per_positive
    summary['negative_rate'] = (min(1.0, ratio * summary.get('clicks', 0) / non_clicks)
                                if non_clicks else 0.0)
    if self.options.max_users is not None:
      users = summary.get('user_counts', (np.zeros(0, np.int64), np.zeros(0, np.int64)))[0]
      summary['selected_users'] = self._select_users(users)
      summary.pop('user_counts', None)
    return summary

  def _select_users(self, users: np.ndarray) -> np.ndarray:
    limit = self.options.max_users
    if users.size <= limit:
      return users
    if self.options.user_selection == 'lowest_ids':
      return np.sort(users)[:limit]
    keys = hashing.hash_columns(self.options.seed, hashing.SALT_USER_SAMPLE, users)
    return np.sort(users[np.argsort(keys, kind='stable')[:limit]])

  def process_bucket(self, tables: Mapping[str, base.UserTable],
                     summary: Mapping[str, Any]) -> base.BucketResult:
    o = self.options
    table = tables[self._scenario.name]
    account = accounting.RowAccount()
    cols = table.columns

    keep = np.ones(table.num_rows, dtype=bool)
    if o.max_users is not None:
      selected = np.isin(cols['user_id'], summary['selected_users'])
      account.filter('user_selection', int((~selected).sum()))
      keep &= selected
      table = _subset(table, keep)
      cols = table.columns
      keep = np.ones(table.num_rows, dtype=bool)

    click = cols['click']
    if o.history_mode == 'before_row':
      history = history_before_row(table, click, cols['item_id'], o.history_length)
    else:
      history, user_clicks = history_reference_first_clicks(table, click, cols['item_id'],
                                                            o.history_length)
      no_clicks = user_clicks == 0
      account.filter('reference_users_without_clicks', int(no_clicks.sum()))
      in_history = (history == cols['item_id'][:, None]).any(axis=1) & ~no_clicks
      account.filter('reference_history_items', int(in_history.sum()))
      keep &= ~no_clicks & ~in_history

    sampled = self._sample_negatives(table, keep, summary)
    account.filter('negative_sampling', int((keep & ~sampled).sum()))
    keep &= sampled

    split = self._assign_splits(table)
    splits = {}
    for index, name in enumerate(self.split_names):
      rows = np.flatnonzero(keep & (split == index))
      splits[name] = self._features(table, history, rows)
    account.used = int(keep.sum())
    extras = {'label_counts': {name: {label: int(splits[name][label].sum()) for label in LABELS}
                               for name in self.split_names}}
    return base.BucketResult(splits=splits, accounts={self._scenario.name: account},
                             extras=extras)

  def _sample_negatives(self, table: base.UserTable, candidates: np.ndarray,
                        summary: Mapping[str, Any]) -> np.ndarray:
    """Returns a mask of rows to keep: every positive plus the sampled negatives."""
    o = self.options
    click = table.columns['click'] == 1
    keys = hashing.hash_columns(o.seed, hashing.SALT_NEGATIVE_SAMPLING, table.row_offset)
    negatives = candidates & ~click
    if o.negative_sampling == 'global':
      return click | (negatives & (hashing.to_unit_interval(keys) < summary['negative_rate']))

    user_index = table.user_index()
    positives_per_user = np.bincount(user_index[candidates & click], minlength=table.num_users)
    quota = np.ceil(positives_per_user * o.negatives_per_positive).astype(np.int64)
    negative_rows = np.flatnonzero(negatives)
    ranks = rank_within_groups(user_index[negative_rows], keys[negative_rows])
    keep = click.copy()
    keep[negative_rows] = ranks < quota[user_index[negative_rows]]
    return keep

  def _assign_splits(self, table: base.UserTable) -> np.ndarray:
    o = self.options
    cols = table.columns
    if o.split_mode == 'random':
      keys = hashing.hash_columns(o.seed, hashing.SALT_SPLIT, *(cols[c] for c in RAW_COLUMNS))
      return assign_split_by_unit(hashing.to_unit_interval(keys), o.split_ratios)
    if o.split_mode == 'user':
      keys = hashing.hash_columns(o.seed, hashing.SALT_SPLIT, cols['user_id'])
      return assign_split_by_unit(hashing.to_unit_interval(keys), o.split_ratios)
    rows_per_user = np.repeat(np.diff(table.user_starts), np.diff(table.user_starts))
    fraction = table.position_in_user() / np.maximum(rows_per_user, 1)
    return assign_split_by_unit(fraction, o.split_ratios)

  def _features(self, table: base.UserTable, history: np.ndarray,
                rows: np.ndarray) -> Dict[str, np.ndarray]:
    cols = table.columns
    out = {name: cols[name][rows].astype(np.int64)
           for name in ('user_id', 'item_id', 'video_category', 'gender', 'age')}
    out['hist_item_ids'] = history[rows]
    for label in LABELS:
      out[label] = cols[label][rows].astype(np.int64)
    return out

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        'raw_clicks': int(summary.get('clicks', 0)),
        'raw_non_clicks': int(summary.get('non_clicks', 0)),
        'label_counts': summary.get('label_counts', {}),
    }


def _subset(table: base.UserTable, keep: np.ndarray) -> base.UserTable:
  return base.UserTable.from_columns({k: v[keep] for k, v in table.columns.items()},
                                     table.row_offset[keep])
