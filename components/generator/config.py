"""Scale, size floors and fixed shape parameters of the generated Tenrec-shaped data.

`--scale` is the fraction of the real QK-video user count. Every scenario's user count, catalogue
size and cross-scenario overlap is the real count times the scale, raised to a floor where the
scaled count would leave a downstream task with empty splits:

* QB-video users: at least min(2,000, 40% of QK-video users). The transfer task keeps QB-video
  users with >= 10 clicks and validates on 1% of them, so a few thousand users are needed.
* QK-article users: at least min(2,000, 40% of QK-video users), so the cold-start files have
  enough items and users.
* QB-article users: at least min(1,000, 20% of QK-video users).
* QK-video ∩ QK-article users: at least min(1,000, 20% of QK-video users), the cold-start users.
* QK-video ∩ QB-video users: at least min(1,000, 20% of QK-video users). The lifelong task uses
  their QB-video likes (1.2% of clicks), about 0.6 per user.
* QK-video ∩ QB-article users: at least min(500, 10% of QK-video users), the last lifelong task.

An overlap never exceeds half of the smaller of the two user sets. The floors stay in force at
`--scale 1`, so there QK-video ∩ QB-article has 500 users instead of the real 58.

Catalogue sizes follow Table 1's items per user (QK-video 0.75, QB-video 3.8, QK-article 0.17,
QB-article 0.30), which keeps clicks per item near Table 1. QB-video's catalogue is capped at
QK-video's, so that 60% of it can be QK-video items. Where the QB-video floor applies (scale
below 0.058), QB-video therefore has more clicks per item than the real 13.0.

Real counts are from the Tenrec paper (Yuan et al., "Tenrec: A Large-scale Multipurpose Benchmark
Dataset for Recommender Systems", NeurIPS 2022 Datasets and Benchmarks), Table 1 and its text.
"""

import dataclasses
import math
from typing import Dict, Mapping, Tuple

GENERATOR_VERSION = '1.0.0'

# Scenario names in file order; they match components.tenrec_io.schema.SCENARIOS.
SCENARIO_NAMES: Tuple[str, ...] = ('qk_video', 'qb_video', 'qk_article', 'qb_article')
SECONDARY_SCENARIOS: Tuple[str, ...] = ('qb_video', 'qk_article', 'qb_article')
VIDEO_SCENARIOS: Tuple[str, ...] = ('qk_video', 'qb_video')
ARTICLE_SCENARIOS: Tuple[str, ...] = ('qk_article', 'qb_article')

# Real Tenrec sizes (paper Table 1).
REAL_USERS: Mapping[str, int] = {
    'qk_video': 5_022_750,
    'qb_video': 34_240,
    'qk_article': 1_325_838,
    'qb_article': 24_516,
}
REAL_ITEMS: Mapping[str, int] = {
    'qk_video': 3_753_436,
    'qb_video': 130_637,
    'qk_article': 220_122,
    'qb_article': 7_355,
}
REAL_CLICKS: Mapping[str, int] = {
    'qk_video': 142_321_193,
    'qb_video': 1_701_171,
    'qk_article': 46_111_728,
    'qb_article': 348_736,
}
REAL_EXPOSURES: Mapping[str, int] = {'qk_video': 493_458_970, 'qb_video': 2_442_299}
# Users of each secondary scenario that also appear in QK-video (paper text).
REAL_OVERLAP_WITH_QK_VIDEO: Mapping[str, int] = {
    'qb_video': 3_261,
    'qk_article': 268_207,
    'qb_article': 58,
}
# 78,482 of the 130,637 QB-video items are QK-video items (paper text).
SHARED_VIDEO_ITEM_FRACTION = 78_482 / 130_637

# The default gives about 5,000 QK-video users and 490,000 QK-video rows. That is small enough
# for `tenrec run --task ctr` to train on in minutes on two CPU cores.
DEFAULT_SCALE = 0.001

# (absolute floor, floor as a fraction of QK-video users); the smaller of the two applies.
USER_FLOORS: Mapping[str, Tuple[int, float]] = {
    'qb_video': (2_000, 0.4),
    'qk_article': (2_000, 0.4),
    'qb_article': (1_000, 0.2),
}
OVERLAP_FLOORS: Mapping[str, Tuple[int, float]] = {
    'qb_video': (1_000, 0.2),
    'qk_article': (1_000, 0.2),
    'qb_article': (500, 0.1),
}
MAX_OVERLAP_FRACTION = 0.5

# Rows per user: exposures for the video files, clicks for the article files (Table 1 ratios).
MEAN_ROWS_PER_USER: Mapping[str, float] = {
    'qk_video': REAL_EXPOSURES['qk_video'] / REAL_USERS['qk_video'],
    'qb_video': REAL_EXPOSURES['qb_video'] / REAL_USERS['qb_video'],
    'qk_article': REAL_CLICKS['qk_article'] / REAL_USERS['qk_article'],
    'qb_article': REAL_CLICKS['qb_article'] / REAL_USERS['qb_article'],
}
# Minimum rows per user. QK-video users were sampled with >= 5 clicks each; users with fewer
# than about 17 exposures reach 5 clicks through the minimum-clicks rule of the video generator.
MIN_ROWS_PER_USER: Mapping[str, int] = {
    'qk_video': 12, 'qb_video': 5, 'qk_article': 1, 'qb_article': 1}
# A user sees at most this fraction of a catalogue, so per-user sampling without repeats ends.
MAX_ROWS_CATALOGUE_FRACTION = 0.5
# Correlation of a user's activity in a secondary scenario with their QK-video activity. Unknown
# for Tenrec; chosen.
SECONDARY_ACTIVITY_CORRELATION = 0.5

# Catalogues hold Table 1 items per user times the scenario's users, at least this many items.
MIN_CATALOGUE_ITEMS = 48

NUM_TOPICS = 16
# Users per stratum of the demographic assignment; a model constant, not a chunk size.
DEMOGRAPHIC_STRATUM_USERS = 4096
# Users generated per processing step. It sets memory and speed, never the output.
DEFAULT_BLOCK_USERS = 2048
# The first PILOT_USERS users of a scenario calibrate its intercepts and category shares.
PILOT_USERS = 1024


@dataclasses.dataclass(frozen=True)
class ScenarioPlan:
  """Sizes of one generated scenario.

  Attributes:
    name: Scenario name (`qk_video`, ...).
    users: Number of users.
    overlap_with_qk_video: Users that are also QK-video users (0 for QK-video itself).
    catalogue_items: Items in the scenario's catalogue (some may receive no row).
    shared_video_items: QB-video only: catalogue items taken from the QK-video catalogue.
    mean_rows_per_user: Target mean rows per user before duplicates are added.
  """

  name: str
  users: int
  overlap_with_qk_video: int
  catalogue_items: int
  shared_video_items: int
  mean_rows_per_user: float

  @property
  def own_users(self) -> int:
    return self.users - self.overlap_with_qk_video


@dataclasses.dataclass(frozen=True)
class GenerationPlan:
  """Sizes of every scenario for one scale."""

  scale: float
  scenarios: Dict[str, ScenarioPlan]

  @property
  def qk_video_users(self) -> int:
    return self.scenarios['qk_video'].users

  def to_json(self) -> Dict[str, Dict[str, float]]:
    return {name: dataclasses.asdict(plan) for name, plan in self.scenarios.items()}


def _floored(real: int, scale: float, floor: Tuple[int, float], qk_video_users: int) -> int:
  scaled = int(round(real * scale))
  absolute, fraction = floor
  return max(scaled, min(absolute, int(round(fraction * qk_video_users))))


def _catalogue(name: str, users: int) -> int:
  per_user = REAL_ITEMS[name] / REAL_USERS[name]
  return max(MIN_CATALOGUE_ITEMS, int(round(per_user * users)))


def plan_generation(scale: float) -> GenerationPlan:
  """Computes user counts, overlaps and catalogue sizes for `scale`.

  Raises:
    ValueError: `scale` is not in (0, 1] or gives fewer than 20 QK-video users.
  """
  if not (isinstance(scale, (int, float)) and math.isfinite(scale)) or not 0 < scale <= 1:
    raise ValueError(f'scale must be in (0, 1], got {scale!r}; 1 is the full QK-video user '
                     f'count ({REAL_USERS["qk_video"]:,}), the default is {DEFAULT_SCALE}.')
  qk_users = int(round(REAL_USERS['qk_video'] * scale))
  if qk_users < 20:
    raise ValueError(f'scale {scale!r} gives {qk_users} QK-video users; use at least '
                     f'{20 / REAL_USERS["qk_video"]:.1e} for 20 users.')

  plans = {
      'qk_video': ScenarioPlan(
          name='qk_video', users=qk_users, overlap_with_qk_video=0,
          catalogue_items=_catalogue('qk_video', qk_users), shared_video_items=0,
          mean_rows_per_user=MEAN_ROWS_PER_USER['qk_video']),
  }
  for name in SECONDARY_SCENARIOS:
    users = _floored(REAL_USERS[name], scale, USER_FLOORS[name], qk_users)
    overlap = _floored(REAL_OVERLAP_WITH_QK_VIDEO[name], scale, OVERLAP_FLOORS[name], qk_users)
    overlap = min(overlap, int(MAX_OVERLAP_FRACTION * min(users, qk_users)))
    catalogue = _catalogue(name, users)
    shared = 0
    if name == 'qb_video':
      # 60% of QB-video's items are QK-video items. Where the QB-video floor applies, the
      # per-user item ratio would make QB-video's catalogue larger than QK-video's, so it is
      # capped at the QK-video catalogue size (raising clicks per item above 13.0).
      catalogue = min(catalogue, plans['qk_video'].catalogue_items)
      shared = int(round(SHARED_VIDEO_ITEM_FRACTION * catalogue))
    plans[name] = ScenarioPlan(
        name=name, users=users, overlap_with_qk_video=overlap, catalogue_items=catalogue,
        shared_video_items=shared, mean_rows_per_user=MEAN_ROWS_PER_USER[name])
  return GenerationPlan(scale=float(scale), scenarios=plans)
