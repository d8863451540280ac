"""watching_times of video rows, drawn given the click label.

Target row shares of watching_times 0, 1, 2, 3, 4, 5 and > 5 are those of the released 1M-user
QK-video CTR file: 32.8%, 57.7%, 7.47%, 1.31%, 0.42%, 0.14% and about 0.17%. All zeros go to
unclicked rows and 80% of each value >= 2 to clicked rows; value 1 takes the rest of each label.
At a 28.8% click rate this reproduces the marginal, and about 54% of unclicked rows get
watching_times >= 1, as the real file requires (its 39.5M zeros are fewer than its 91.5M
unclicked rows). The split between labels is a choice; only the marginal is published.
"""

import numpy as np

WATCHING_TIMES_SHARES = np.array([0.328, 0.577, 0.0747, 0.0131, 0.0042, 0.0014, 0.0017])
WATCHING_TIMES_SHARES = WATCHING_TIMES_SHARES / WATCHING_TIMES_SHARES.sum()
WATCHING_TIMES_CLICK_RATE = 0.2884
WATCHING_TIMES_CLICKED_SHARE_OF_HIGH = 0.8


def watching_times_conditionals() -> np.ndarray:
  """Returns [2, 7] probabilities of watching_times 0..5 and > 5 given click 0 and 1."""
  shares = WATCHING_TIMES_SHARES
  rate = WATCHING_TIMES_CLICK_RATE
  high = WATCHING_TIMES_CLICKED_SHARE_OF_HIGH
  clicked = np.zeros(7)
  clicked[2:] = high * shares[2:] / rate
  clicked[1] = 1.0 - clicked.sum()
  unclicked = np.zeros(7)
  unclicked[0] = shares[0] / (1.0 - rate)
  unclicked[2:] = (1.0 - high) * shares[2:] / (1.0 - rate)
  unclicked[1] = 1.0 - unclicked.sum()
  return np.stack([unclicked, clicked])


def draw_watching_times(click: np.ndarray, uniform: np.ndarray, tail_uniform: np.ndarray):
  """Draws watching_times given click; values above 5 are 6 + Geometric(1/2), at most 50."""
  cumulative = np.cumsum(watching_times_conditionals(), axis=1)
  cumulative[:, -1] = 1.0
  value = np.sum(uniform[:, None] > cumulative[click], axis=1)
  tail = 6 + np.floor(-np.log(tail_uniform) / np.log(2.0)).astype(np.int64)
  return np.where(value == 6, np.minimum(tail, 50), value).astype(np.int64)
