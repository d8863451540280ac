"""Published Tenrec statistics that `tenrec stats` compares measured values with.

Sources:

* Table 1 of the Tenrec paper (Yuan et al., "Tenrec: A Large-scale Multipurpose Benchmark
  Dataset for Recommender Systems", NeurIPS 2022 Datasets and Benchmarks): users, items, clicks,
  likes, shares, follows, reads, favourites and exposures per scenario.
* The paper's text: QK-video users have >= 5 clicks; user overlaps between scenarios; 78,482
  QK-video items in QB-video.
* Measurements of the released ctr_data_1M.csv, the first 1M QK-video users after the
  reference CTR preprocessing: demographic, category and watching_times row shares, per-user and
  per-item row quantiles, duplicate and conflicting rows.
"""

import dataclasses
from typing import Dict, List, Optional

from components.generator import config

TABLE_1 = 'Tenrec paper, Table 1'
PAPER_TEXT = 'Tenrec paper, text'
CTR_FILE = 'released ctr_data_1M.csv'
_CTR_ROWS = 120_342_306


@dataclasses.dataclass(frozen=True)
class Target:
  """A published value of one statistic.

  Attributes:
    statistic: Key of the statistic in the `compute_stats` output of a scenario.
    value: The published value, or the bound for `kind` 'min'.
    source: Where the value comes from.
    kind: 'equal' (match the value) or 'min' (at least the value).
    note: Short qualification printed with the source, or ''.
  """

  statistic: str
  value: float
  source: str
  kind: str = 'equal'
  note: str = ''

  def describe(self) -> str:
    text = f'{self.value:.4g}'
    return f'>= {text}' if self.kind == 'min' else text


def _per_click(scenario: str, counts: Dict[str, int]) -> List[Target]:
  clicks = config.REAL_CLICKS[scenario]
  return [Target(f'{action}_per_click', count / clicks, TABLE_1) for action, count in counts.items()]


def _shares(prefix: str, labels, shares, source: str) -> List[Target]:
  return [Target(f'{prefix}_{label}_share', share, source) for label, share in zip(labels, shares)]


def _item_quantile_targets() -> List[Target]:
  # Rows per item on the CTR file: mean 52.1, p50 3, p90 51, p99 799.
  return [Target('rows_per_item_p50_over_mean', 3 / 52.1, CTR_FILE),
          Target('rows_per_item_p90_over_mean', 51 / 52.1, CTR_FILE),
          Target('rows_per_item_p99_over_mean', 799 / 52.1, CTR_FILE)]


def _user_quantile_targets() -> List[Target]:
  # Rows per user on the CTR file: mean 120.4, p50 82, p90 265, p99 590.
  return [Target('rows_per_user_p50_over_mean', 82 / 120.4, CTR_FILE),
          Target('rows_per_user_p90_over_mean', 265 / 120.4, CTR_FILE),
          Target('rows_per_user_p99_over_mean', 590 / 120.4, CTR_FILE)]


def _qk_video() -> List[Target]:
  targets = [
      Target('click_rate', config.REAL_CLICKS['qk_video'] / config.REAL_EXPOSURES['qk_video'],
             TABLE_1, note='24.0% in the CTR file'),
      Target('rows_per_user_mean',
             config.REAL_EXPOSURES['qk_video'] / config.REAL_USERS['qk_video'], TABLE_1),
      Target('clicks_per_user_mean',
             config.REAL_CLICKS['qk_video'] / config.REAL_USERS['qk_video'], TABLE_1),
      Target('min_clicks_per_user', 5, PAPER_TEXT, kind='min'),
      Target('clicks_per_item', config.REAL_CLICKS['qk_video'] / config.REAL_ITEMS['qk_video'],
             TABLE_1),
  ]
  targets += _per_click('qk_video', {'like': 10_141_195, 'share': 1_128_312, 'follow': 857_678})
  targets += _user_quantile_targets() + _item_quantile_targets()
  targets += _shares('gender', range(3), (0.188, 0.580, 0.232), CTR_FILE)
  targets += _shares('age', range(8),
                     (0.186, 0.0198, 0.491, 0.213, 0.066, 0.018, 0.0055, 0.0008), CTR_FILE)
  targets += _shares('video_category', ('0', '1', 'missing'), (0.536, 0.451, 0.0132), CTR_FILE)
  targets += _shares('watching_times', ('0', '1', '2', '3', '4', '5', 'above_5'),
                     (0.328, 0.577, 0.0747, 0.0131, 0.0042, 0.0014, 0.0017), CTR_FILE)
  targets += [
      # Zeros are 32.8% of rows, so at the Table 1 click rate at least this share of unclicked
      # rows has watching_times >= 1 (57% in the CTR file, whose click rate is 24.0%).
      Target('unclicked_watched_share',
             1.0 - 0.328 / (1.0 - config.REAL_CLICKS['qk_video'] /
                            config.REAL_EXPOSURES['qk_video']),
             CTR_FILE, kind='min', note='zeros 32.8% of rows, at a 28.8% click rate'),
      Target('duplicate_row_rate', 883_646 / _CTR_ROWS, CTR_FILE),
      Target('repeated_pair_rate', 1_810_484 / _CTR_ROWS, CTR_FILE),
      Target('conflicting_repeat_share', 560_994 / 1_810_484, CTR_FILE),
  ]
  return targets


def _qb_video() -> List[Target]:
  targets = [
      Target('click_rate', config.REAL_CLICKS['qb_video'] / config.REAL_EXPOSURES['qb_video'],
             TABLE_1),
      Target('rows_per_user_mean',
             config.REAL_EXPOSURES['qb_video'] / config.REAL_USERS['qb_video'], TABLE_1),
      Target('clicks_per_user_mean',
             config.REAL_CLICKS['qb_video'] / config.REAL_USERS['qb_video'], TABLE_1),
      Target('clicks_per_item', config.REAL_CLICKS['qb_video'] / config.REAL_ITEMS['qb_video'],
             TABLE_1),
      Target('shared_item_share', config.SHARED_VIDEO_ITEM_FRACTION, PAPER_TEXT,
             note='QB-video items that are QK-video items'),
      Target('qk_video_user_share', config.REAL_OVERLAP_WITH_QK_VIDEO['qb_video'] /
             config.REAL_USERS['qb_video'], PAPER_TEXT, note='raised by floors at small scale'),
  ]
  return targets + _per_click('qb_video', {'like': 20_687, 'share': 2_541, 'follow': 2_487})


def _article(scenario: str) -> List[Target]:
  targets = [
      Target('click_one_share', 1.0, PAPER_TEXT, note='article files are click logs'),
      Target('clicks_per_user_mean',
             config.REAL_CLICKS[scenario] / config.REAL_USERS[scenario], TABLE_1),
      Target('clicks_per_item', config.REAL_CLICKS[scenario] / config.REAL_ITEMS[scenario],
             TABLE_1),
      Target('qk_video_user_share', config.REAL_OVERLAP_WITH_QK_VIDEO[scenario] /
             config.REAL_USERS[scenario], PAPER_TEXT, note='raised by floors at small scale'),
  ]
  if scenario == 'qk_article':
    targets += _per_click('qk_article', {
        'read': 44_228_593, 'like': 821_888, 'share': 591_834, 'follow': 62_239,
        'favorite': 316_627})
  return targets


TARGETS: Dict[str, List[Target]] = {
    'qk_video': _qk_video(),
    'qb_video': _qb_video(),
    'qk_article': _article('qk_article'),
    'qb_article': _article('qb_article'),
}


def find_target(scenario: str, statistic: str) -> Optional[Target]:
  """Returns the target of `statistic` in `scenario`, or None when nothing is published."""
  for target in TARGETS.get(scenario, ()):
    if target.statistic == statistic:
      return target
  return None
