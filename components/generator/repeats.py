"""Repeated (user, item) rows in the video files, at the rates of the released Tenrec data.

The released 1M-user QK-video CTR file has 120,342,306 rows, of which 1,810,484 (1.50%) repeat
an earlier (user, item) pair; 883,646 of those (48.8%) are full duplicates of an earlier row
and 560,994 (31.0%) carry the other click label. The generator copies these rates: each user
gets floor(rows * 1.50% + U) repeat rows. A repeat copies one of the user's earlier rows and is
placed at a random later time. With the shares above it is a full duplicate or a conflict
(click flipped, actions and watching_times drawn again for the new label). Otherwise it is a
re-watch: same labels, watching_times changed by one.
"""

from typing import Dict

import numpy as np

from components.generator.exposures import Rows
from components.generator.rng import CounterStream
from components.generator.watching import draw_watching_times

REPEATED_ROW_RATE = 1_810_484 / 120_342_306
DUPLICATE_SHARE = 883_646 / 1_810_484
CONFLICT_SHARE = 560_994 / 1_810_484
_ACTIONS = ('follow', 'like', 'share')


class RepeatInjector:
  """Adds repeat rows to a block of video rows."""

  def __init__(self, stream: CounterStream):
    self._stream = stream

  def repeat_counts(self, user_ids: np.ndarray, planned_rows: np.ndarray) -> np.ndarray:
    """Returns how many of each user's planned rows are repeats (never all of them)."""
    expected = planned_rows * REPEATED_ROW_RATE
    counts = np.floor(expected + self._stream.uniform(user_ids, 0)).astype(np.int64)
    return np.clip(counts, 0, np.maximum(planned_rows - 1, 0))

  def inject(self, columns: Dict[str, np.ndarray], rows: Rows, planned_rows: np.ndarray,
             action_probabilities: Dict[str, np.ndarray]) -> Dict[str, np.ndarray]:
    """Returns `columns` with repeat rows inserted, still grouped by user in time order.

    `action_probabilities[action]` has shape [rows, 2]: the action's probability on each row
    for click 0 and click 1.
    """
    num_users = planned_rows.shape[0]
    base_counts = np.bincount(rows.user_index, minlength=num_users)
    user_start = np.cumsum(base_counts) - base_counts
    block_user_ids = np.zeros(num_users, dtype=np.int64)
    block_user_ids[rows.user_index] = columns['user_id']
    repeat_counts = np.where(base_counts > 0,
                             self.repeat_counts(block_user_ids, planned_rows), 0)
    if not repeat_counts.sum():
      return columns

    repeat_user = np.repeat(np.arange(num_users), repeat_counts)
    repeat_local = np.arange(repeat_user.shape[0]) - np.repeat(
        np.cumsum(repeat_counts) - repeat_counts, repeat_counts)
    uid = block_user_ids[repeat_user]
    stream = self._stream
    source_local = np.minimum(
        np.floor(stream.uniform(uid, repeat_local, 1) * base_counts[repeat_user]),
        base_counts[repeat_user] - 1).astype(np.int64)
    source = user_start[repeat_user] + source_local
    repeat_key = source_local + (base_counts[repeat_user] - source_local) * stream.uniform(
        uid, repeat_local, 2)
    kind = stream.uniform(uid, repeat_local, 3)
    conflict = (kind >= DUPLICATE_SHARE) & (kind < DUPLICATE_SHARE + CONFLICT_SHARE)
    rewatch = kind >= DUPLICATE_SHARE + CONFLICT_SHARE

    added = {name: values[source].copy() for name, values in columns.items()}
    new_click = np.where(conflict, 1 - added['click'], added['click'])
    for offset, action in enumerate(_ACTIONS):
      redrawn = (stream.uniform(uid, repeat_local, 4 + offset) <
                 action_probabilities[action][source, new_click]).astype(np.int64)
      added[action] = np.where(conflict, redrawn, added[action])
    redrawn_watching = draw_watching_times(new_click, stream.uniform(uid, repeat_local, 7),
                                           stream.uniform(uid, repeat_local, 8))
    watching = added['watching_times']
    step_up = ((watching == 0) | ((added['click'] == 1) & (watching == 1)) |
               (stream.uniform(uid, repeat_local, 9) < 0.5))
    changed_watching = watching + np.where(step_up, 1, -1)
    added['watching_times'] = np.where(conflict, redrawn_watching,
                                       np.where(rewatch, changed_watching, watching))
    added['click'] = new_click

    base_key = (np.arange(rows.user_index.shape[0]) - user_start[rows.user_index]).astype(
        np.float64)
    keys = np.concatenate([base_key, repeat_key])
    owners = np.concatenate([rows.user_index, repeat_user])
    order = np.lexsort((keys, owners))
    return {name: np.concatenate([columns[name], added[name]])[order] for name in columns}
