"""Options of the CTR builder, importable without Beam (the command line builds its choices
from them)."""

import dataclasses
from typing import Any, Mapping, Optional, Sequence, Tuple

from components.tenrec_io import schema as schema_lib

HISTORY_MODES = ('before_row', 'reference_first_clicks')
NEGATIVE_SAMPLING_MODES = ('per_user', 'global')
SPLIT_MODES = ('random', 'user', 'temporal')
USER_SELECTION_MODES = ('random', 'lowest_ids')
LABELS = ('click', 'like', 'share', 'follow')
FEATURES = ('user_id', 'item_id', 'video_category', 'gender', 'age', 'hist_item_ids')
HISTORY_PADDING = -1

RAW_COLUMNS = ('user_id', 'item_id', 'click', 'follow', 'like', 'share', 'video_category',
                'watching_times', 'gender', 'age')


@dataclasses.dataclass(frozen=True)
class CtrOptions:
  """Options of the CTR builder; every field is recorded in the build report.

  Attributes:
    seed: Seed of negative sampling, user selection and the split.
    history_length: Number of history slots (10 in Tenrec).
    history_mode: 'before_row' (the user's last `history_length` clicks strictly before each
      row, so no future information) or 'reference_first_clicks' (the reference's static
      history of the user's first clicks; rows whose item is in it are deleted).
    negatives_per_positive: Negatives kept per positive (2 in Tenrec).
    negative_sampling: 'per_user' or 'global'.
    split_mode: 'random', 'user' or 'temporal'.
    split_ratios: Fractions of train, eval and test; must sum to 1.
    max_users: Keep at most this many users; None (`none` on the command line) keeps all.
      Tenrec's CTR file is the first million QK-video users.
    user_selection: With max_users, 'random' (seeded) or 'lowest_ids' (the reference).
    scenario: Input scenario (QK-video in Tenrec; QB-video works too).
  """

  seed: int = 100
  history_length: int = 10
  history_mode: str = 'before_row'
  negatives_per_positive: float = 2.0
  negative_sampling: str = 'per_user'
  split_mode: str = 'random'
  split_ratios: Tuple[float, float, float] = (0.8, 0.1, 0.1)
  max_users: Optional[int] = None
  user_selection: str = 'random'
  scenario: str = 'qk_video'

  def __post_init__(self):
    _check_choice('history_mode', self.history_mode, HISTORY_MODES)
    _check_choice('negative_sampling', self.negative_sampling, NEGATIVE_SAMPLING_MODES)
    _check_choice('split_mode', self.split_mode, SPLIT_MODES)
    _check_choice('user_selection', self.user_selection, USER_SELECTION_MODES)
    if self.history_length < 1:
      raise ValueError(f'history_length must be at least 1, got {self.history_length}.')
    if self.negatives_per_positive < 0:
      raise ValueError(
          f'negatives_per_positive must be non-negative, got {self.negatives_per_positive}.')
    check_split_ratios(self.split_ratios)
    if self.max_users is not None and self.max_users < 1:
      raise ValueError(f'max_users must be at least 1, got {self.max_users}.')
    if schema_lib.get_scenario(self.scenario).columns != schema_lib.VIDEO_COLUMNS:
      raise ValueError(f'The CTR builder reads a video scenario, got {self.scenario!r}.')

  @classmethod
  def from_dict(cls, values: Mapping[str, Any]) -> 'CtrOptions':
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
      raise ValueError(f'Unknown CTR builder option(s) {unknown}; known: {sorted(known)}.')
    values = dict(values)
    if 'split_ratios' in values:
      values['split_ratios'] = tuple(float(v) for v in values['split_ratios'])
    return cls(**values)


def _check_choice(name: str, value: str, choices: Sequence[str]) -> None:
  if value not in choices:
    raise ValueError(f'{name} must be one of {", ".join(choices)}, got {value!r}.')


def check_split_ratios(ratios: Sequence[float]) -> None:
  """Raises ValueError unless `ratios` are three non-negative fractions summing to 1."""
  if len(ratios) != 3 or any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
    raise ValueError(f'split_ratios must be three non-negative fractions that sum to 1, '
                     f'got {tuple(ratios)}.')
