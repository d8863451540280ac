"""Turns the totals of a `ScenarioAccumulator` into the named statistics of one file."""

from typing import Dict

import numpy as np

GENDER_LABELS = ('0', '1', '2')
AGE_LABELS = tuple(str(a) for a in range(8))
CATEGORY_LABELS = ('0', '1', 'missing')
WATCHING_LABELS = ('0', '1', '2', '3', '4', '5', 'above_5')


def _ratio(numerator: float, denominator: float) -> float:
  return float(numerator) / float(denominator) if denominator else float('nan')


def _distribution(prefix: str, values: np.ndarray) -> Dict[str, float]:
  mean = float(values.mean()) if values.size else float('nan')
  result = {f'{prefix}_mean': mean}
  for percentile in (50, 90, 99):
    value = float(np.percentile(values, percentile)) if values.size else float('nan')
    result[f'{prefix}_p{percentile}'] = value
    result[f'{prefix}_p{percentile}_over_mean'] = _ratio(value, mean)
  result[f'{prefix}_max'] = int(values.max()) if values.size else 0
  return result


def _shares(prefix: str, labels, counts, total: int) -> Dict[str, float]:
  return {f'{prefix}_{label}_share': _ratio(count, total) for label, count in zip(labels, counts)}


def _ordering(run_users) -> Dict[str, bool]:
  runs = np.concatenate(run_users) if run_users else np.zeros(0, np.int64)
  if runs.size:
    # A user split over two batches appears as two adjacent runs: merge them first.
    runs = runs[np.concatenate([[True], runs[1:] != runs[:-1]])]
  return {
      'users_contiguous': bool(np.unique(runs).shape[0] == runs.shape[0]),
      'users_ascending': bool(np.all(np.diff(runs) > 0)),
  }


def summarise(accumulator) -> Dict:
  """Returns the statistics dictionary of one scenario file (see `stats` for definitions)."""
  acc = accumulator
  user_ids, user_values = acc.users.result()
  item_ids, item_values = acc.items.result()
  rows_per_user = user_values[:, 0]
  clicks_per_user = user_values[:, 1]
  rows_per_item = item_values[:, 0]
  clicks = acc.sums.get('click', 0)

  stats = {
      'rows': acc.rows,
      'users': int(user_ids.shape[0]),
      'items': int(item_ids.shape[0]),
      'clicks': int(clicks),
  }
  if acc.is_video:
    stats['click_rate'] = _ratio(clicks, acc.rows)
  else:
    stats['click_one_share'] = _ratio(clicks, acc.rows)
  for action, on_clicks in acc.action_on_clicks.items():
    stats[f'{action}_per_click'] = _ratio(acc.sums[action], clicks)
    stats[f'{action}_on_clicked_share'] = _ratio(on_clicks, acc.sums[action])

  stats.update(_distribution('rows_per_user', rows_per_user))
  stats['clicks_per_user_mean'] = _ratio(clicks, user_ids.shape[0])
  stats['min_clicks_per_user'] = int(clicks_per_user.min()) if clicks_per_user.size else 0
  stats['users_below_5_clicks'] = int(np.sum(clicks_per_user < 5))
  stats['users_with_10_clicks'] = int(np.sum(clicks_per_user >= 10))
  stats.update(_distribution('rows_per_item', rows_per_item))
  stats['clicks_per_item'] = _ratio(clicks, item_ids.shape[0])
  stats['singleton_item_share'] = _ratio(np.sum(rows_per_item == 1), item_ids.shape[0])

  if 'gender' in acc.counts:
    stats.update(_shares('gender', GENDER_LABELS, acc.counts['gender'], acc.rows))
    stats.update(_shares('age', AGE_LABELS, acc.counts['age'], acc.rows))
    _, changes = acc.demographic_changes.result()
    stats['demographics_constant_per_user'] = bool(np.all(changes == 0))
  if 'video_category' in acc.counts:
    stats.update(_shares('video_category', CATEGORY_LABELS, acc.counts['video_category'],
                         acc.rows))
  if 'watching_times' in acc.counts:
    stats.update(_shares('watching_times', WATCHING_LABELS, acc.counts['watching_times'],
                         acc.rows))
    stats['unclicked_watched_share'] = _ratio(acc.unclicked_watched, acc.unclicked)

  stats['duplicate_row_rate'] = _ratio(acc.duplicates, acc.rows)
  stats['repeated_pair_rate'] = _ratio(acc.repeated, acc.rows)
  stats['conflicting_repeat_share'] = _ratio(acc.conflicting, acc.repeated)
  stats.update(_ordering(acc.run_users))
  stats['min_user_id'] = int(acc.sums.get('min_user_id', 0))
  stats['min_item_id'] = int(acc.sums.get('min_item_id', 0))

  if not acc.is_video:
    if acc.item_minimum:
      constant = True
      for name, minimum in acc.item_minimum.items():
        _, low = minimum.result()
        _, high = acc.item_maximum[name].result()
        constant &= bool(np.all(low == high))
      stats['item_columns_constant_per_item'] = constant
      stats['item_count_violations'] = int(acc.item_count_violations)
    if 'read_percentage' in acc.sums:
      stats['read_percentage_mean'] = _ratio(acc.sums['read_percentage'], acc.rows)
    if 'read_time' in acc.sums:
      stats['read_time_mean'] = _ratio(acc.sums['read_time'], acc.rows)

  stats['_user_ids'] = user_ids.astype(np.int64)
  stats['_item_ids'] = item_ids.astype(np.int64)
  return stats
