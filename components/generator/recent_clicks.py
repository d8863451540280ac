"""Click decisions that depend on the topics of the user's recent clicks.

A user who has just clicked videos of a topic is more likely to click the next video of that
topic. Row t of a user is clicked when

  U_t < sigmoid(logit_t + w * m_t / L),

where logit_t is the row's click logit (intercept included) and U_t its click uniform. L is
the window (`latent.RECENT_TOPIC_WINDOW`, the 10 clicks of Tenrec's CTR history), and m_t
counts the user's last L clicks before row t whose item has row t's topic. The decisions are made in
time order, one row position at a time for all users of a block at once, so the cost is
O(rows * L) with a Python loop of length max(rows per user).

Example:

  click, matches = decide_clicks(user_index, topics, logits, uniform, window=10, weight=1.5)
"""

from typing import Tuple

import numpy as np


def _sigmoid(values: np.ndarray) -> np.ndarray:
  return 1.0 / (1.0 + np.exp(-values))


def decide_clicks(user_index: np.ndarray, topics: np.ndarray, logits: np.ndarray,
                  uniform: np.ndarray, window: int,
                  weight: float) -> Tuple[np.ndarray, np.ndarray]:
  """Returns (click, matches) per row; rows must be grouped by user in time order.

  Args:
    user_index: int [rows] user of each row; equal values are contiguous.
    topics: int [rows] topic of each row's item.
    logits: float [rows] click logits without the recent-topic term.
    uniform: float [rows] uniforms in (0, 1) that decide the clicks.
    window: Number of recent clicks L that are looked at.
    weight: Logit added when all L recent clicks share the row's topic.

  Returns:
    click: int64 [rows] 0 or 1.
    matches: int64 [rows] m_t, the recent clicks that share the row's topic.

  Raises:
    ValueError: `window` is below 1.
  """
  if window < 1:
    raise ValueError(f'window must be at least 1, got {window}.')
  num_rows = user_index.shape[0]
  click = np.zeros(num_rows, dtype=np.int64)
  matches = np.zeros(num_rows, dtype=np.int64)
  if num_rows == 0:
    return click, matches

  # Dense user groups and each row's position in its user's sequence.
  new_user = np.concatenate([[True], user_index[1:] != user_index[:-1]])
  group = np.cumsum(new_user) - 1
  starts = np.flatnonzero(new_user)
  position = np.arange(num_rows) - starts[group]
  by_position = np.argsort(position, kind='stable')
  bounds = np.searchsorted(position[by_position], np.arange(int(position.max()) + 2))

  # Ring buffer of the topics of each user's last `window` clicks (-1 = empty).
  recent = np.full((starts.shape[0], window), -1, dtype=np.int64)
  clicks_so_far = np.zeros(starts.shape[0], dtype=np.int64)
  for step in range(bounds.shape[0] - 1):
    rows = by_position[bounds[step]:bounds[step + 1]]
    users = group[rows]
    row_topics = topics[rows]
    matched = np.sum(recent[users] == row_topics[:, None], axis=1)
    clicked = uniform[rows] < _sigmoid(logits[rows] + weight * matched / window)
    matches[rows] = matched
    click[rows] = clicked
    clicked_users = users[clicked]
    recent[clicked_users, clicks_so_far[clicked_users] % window] = row_topics[clicked]
    clicks_so_far[clicked_users] += 1
  return click, matches
