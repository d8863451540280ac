"""Users of the generated scenarios: ids, overlaps, activity and demographics.

User ids are global: QK-video users are 1..N, and the users of each secondary scenario that are
not QK-video users get consecutive id ranges after N (QB-video, then QK-article, then
QB-article). A secondary scenario's QK-video users are drawn uniformly from 1..N, so the low-id
half of QK-video used by the lifelong task contains about half of every overlap.

Activity (rows per user) follows a shifted Weibull distribution. For QK-video the shape 0.88
with a 12-row minimum gives per-user row quantiles p50/mean 0.67, p90/mean 2.25 and p99/mean 4.8,
against 0.68, 2.2 and 4.9 measured on the released 1M-user QK-video CTR file. Activity is
driven by one normal variable per user, correlated across scenarios.

Gender and age are constant per user and shared across scenarios. They are assigned within
strata of consecutive ids by weighted systematic sampling: users in a random order cover [0, 1)
in proportion to their QK-video row count, and each user takes the demographic cell in which
their midpoint falls. Each stratum's row shares therefore match the target shares to within one
user's weight, while the cell of any single user stays random.
"""

import math
from typing import Dict, Tuple

import numpy as np
from scipy import special

from components.generator import config
from components.generator.rng import CounterStream

# Row shares measured on the released 1M-user QK-video CTR file.
GENDER_SHARES = np.array([0.188, 0.580, 0.232])
AGE_SHARES = np.array([0.186, 0.0198, 0.491, 0.213, 0.066, 0.018, 0.0055, 0.0008])
AGE_SHARES = AGE_SHARES / AGE_SHARES.sum()
# Share of rows whose user has both gender 0 and age 0 (unknown profile). The joint
# distribution is not published; this choice makes unknown gender and unknown age mostly
# coincide, as for users without a profile.
UNKNOWN_PROFILE_SHARE = 0.180
WEIBULL_SHAPE = 0.88


def joint_demographics() -> np.ndarray:
  """Returns the [3, 8] joint distribution of (gender, age) with the published marginals."""
  joint = np.zeros((3, 8))
  joint[0, 0] = UNKNOWN_PROFILE_SHARE
  known_ages = AGE_SHARES[1:] / AGE_SHARES[1:].sum()
  known_genders = GENDER_SHARES[1:] / GENDER_SHARES[1:].sum()
  joint[0, 1:] = (GENDER_SHARES[0] - UNKNOWN_PROFILE_SHARE) * known_ages
  joint[1:, 0] = (AGE_SHARES[0] - UNKNOWN_PROFILE_SHARE) * known_genders
  gender_rest = GENDER_SHARES[1:] - joint[1:, 0]
  age_rest = AGE_SHARES[1:] - joint[0, 1:]
  joint[1:, 1:] = np.outer(gender_rest, age_rest) / gender_rest.sum()
  return joint


def weibull_rows(uniform: np.ndarray, mean: float, minimum: int, maximum: int) -> np.ndarray:
  """Maps uniforms to row counts: minimum + Weibull(shape 0.88), mean `mean`, capped."""
  scale = (mean - minimum) / math.gamma(1.0 + 1.0 / WEIBULL_SHAPE)
  rows = minimum + scale * (-np.log1p(-uniform))**(1.0 / WEIBULL_SHAPE)
  return np.clip(np.floor(rows), minimum, max(minimum, maximum)).astype(np.int64)


class Population:
  """User ids of every scenario plus per-user activity and demographics.

  Memory is one byte per user for the demographic cell and eight bytes per secondary-scenario
  user for the id lists; rows are never held here.
  """

  def __init__(self, plan: config.GenerationPlan, seed: int):
    self.plan = plan
    self.seed = seed
    self._activity = CounterStream(seed, 'user-activity')
    self._scenario_activity = CounterStream(seed, 'scenario-activity')

    self.qk_video_users = plan.qk_video_users
    self.user_ids: Dict[str, np.ndarray] = {
        'qk_video': np.arange(1, self.qk_video_users + 1, dtype=np.int64)}
    next_id = self.qk_video_users + 1
    self._segments = [(1, self.qk_video_users)]
    for index, name in enumerate(config.SECONDARY_SCENARIOS):
      scenario = plan.scenarios[name]
      chooser = np.random.default_rng([seed, 0x0E71A9, index])
      shared = chooser.choice(self.qk_video_users, size=scenario.overlap_with_qk_video,
                              replace=False) + 1
      own = np.arange(next_id, next_id + scenario.own_users, dtype=np.int64)
      if scenario.own_users:
        self._segments.append((next_id, next_id + scenario.own_users - 1))
      next_id += scenario.own_users
      self.user_ids[name] = np.concatenate([np.sort(shared).astype(np.int64), own])
    self.total_users = next_id - 1
    self._cells = self._assign_demographic_cells()

  def activity(self, user_ids: np.ndarray) -> np.ndarray:
    """Returns each user's standard normal activity score (shared by all scenarios)."""
    return self._activity.normal(user_ids)

  def rows_per_user(self, name: str, user_ids: np.ndarray, catalogue_items: int) -> np.ndarray:
    """Returns the number of rows (before added duplicates) of each user in scenario `name`."""
    score = self.activity(user_ids)
    if name != 'qk_video':
      rho = config.SECONDARY_ACTIVITY_CORRELATION
      own = self._scenario_activity.normal(user_ids, config.SCENARIO_NAMES.index(name))
      score = rho * score + math.sqrt(1.0 - rho * rho) * own
    uniform = np.clip(special.ndtr(score), 1e-12, 1 - 1e-12)
    maximum = int(config.MAX_ROWS_CATALOGUE_FRACTION * catalogue_items)
    return weibull_rows(uniform, config.MEAN_ROWS_PER_USER[name],
                        config.MIN_ROWS_PER_USER[name], maximum)

  def demographics(self, user_ids: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
    """Returns (gender, age) int64 arrays for global user ids."""
    user_ids = np.asarray(user_ids, dtype=np.int64)
    if user_ids.size and (user_ids.min() < 1 or user_ids.max() > self.total_users):
      raise ValueError(f'user ids must lie in 1..{self.total_users}, got '
                       f'{user_ids.min()}..{user_ids.max()}.')
    cells = self._cells[user_ids - 1].astype(np.int64)
    return cells // 8, cells % 8

  def _assign_demographic_cells(self) -> np.ndarray:
    cells = np.zeros(self.total_users, dtype=np.uint8)
    cumulative = np.cumsum(joint_demographics().ravel())
    cumulative[-1] = 1.0
    order_stream = CounterStream(self.seed, 'demographic-order')
    offset_stream = CounterStream(self.seed, 'demographic-offset')
    qk_plan = self.plan.scenarios['qk_video']
    size = config.DEMOGRAPHIC_STRATUM_USERS

    for segment_index, (first, last) in enumerate(self._segments):
      for start in range(first, last + 1, size):
        ids = np.arange(start, min(start + size, last + 1), dtype=np.int64)
        weights = self.rows_per_user('qk_video', ids, qk_plan.catalogue_items).astype(np.float64)
        order = np.argsort(order_stream.bits(ids), kind='stable')
        ordered = weights[order]
        midpoints = (np.cumsum(ordered) - 0.5 * ordered) / ordered.sum()
        offset = offset_stream.uniform(segment_index, start)
        positions = np.mod(midpoints + offset, 1.0)
        chosen = np.minimum(np.searchsorted(cumulative, positions, side='right'),
                            cumulative.size - 1)
        cells[ids[order] - 1] = chosen.astype(np.uint8)
    return cells
