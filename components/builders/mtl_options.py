"""Options of the multi-task builder, importable without Beam."""

import dataclasses
from typing import Any, Mapping, Optional, Tuple

from components.builders import ctr_options
from components.builders.sequence_options import check_choice
from components.tenrec_io import schema as schema_lib

MTL_SCENARIOS = ('qk_video', 'qb_video', 'qk_article')
VIDEO_LABELS = ('click', 'like', 'share', 'follow')
ARTICLE_LABELS = ('click', 'read', 'share', 'like', 'follow', 'favorite')
DEFAULT_VIDEO_LABELS = ('click', 'like')
# The options that only the video variant uses (negative sampling, the reference history).
VIDEO_ONLY_OPTIONS = ('negatives_per_positive', 'negative_sampling')


@dataclasses.dataclass(frozen=True)
class MtlOptions:
  """Options of the multi-task builder; every field is recorded in the build report.

  Attributes:
    scenario: 'qk_video' (or 'qb_video'): the CTR examples with several labels, as the Tenrec
      multi-task benchmark; 'qk_article': one example per QK-article row with six objectives.
    labels: Objectives to write. Video: any of click, like, share, follow (default click,
      like). Article: any of click, read, share, like, follow, favorite (default all six).
    seed: Seed of negative sampling, user selection and the split.
    history_length: Number of history slots (10 in Tenrec).
    history_mode: Video only: 'before_row' or 'reference_first_clicks' (see the CTR builder).
      Article histories are always the clicks before the row.
    negatives_per_positive: Video only: negatives kept per positive (2 in Tenrec).
    negative_sampling: Video only: 'per_user' or 'global'.
    split_mode: 'random' (duplicates share a split), 'user' or 'temporal'.
    split_ratios: Train, eval and test fractions.
    max_users: Keep at most this many users (none keeps all).
    user_selection: With max_users: 'random' (seeded) or 'lowest_ids' (the reference).
  """

  scenario: str = 'qk_video'
  labels: Optional[Tuple[str, ...]] = None
  seed: int = 100
  history_length: int = 10
  history_mode: str = 'before_row'
  negatives_per_positive: float = 2.0
  negative_sampling: str = 'per_user'
  split_mode: str = 'random'
  split_ratios: Tuple[float, float, float] = (0.8, 0.1, 0.1)
  max_users: Optional[int] = None
  user_selection: str = 'random'

  def __post_init__(self):
    check_choice('scenario', schema_lib.get_scenario(self.scenario).name, MTL_SCENARIOS)
    allowed = ARTICLE_LABELS if self.is_article else VIDEO_LABELS
    if self.labels is not None:
      if not self.labels:
        raise ValueError('labels must name at least one objective.')
      for label in self.labels:
        check_choice('labels', label, allowed)
      if len(set(self.labels)) != len(self.labels):
        raise ValueError(f'labels must not repeat an objective, got {self.labels}.')
    if self.is_article and self.history_mode != 'before_row':
      raise ValueError("The QK-article multi-task variant supports history_mode 'before_row' "
                       f'only, got {self.history_mode!r}.')
    # The CTR options check the shared fields (and raise ValueError naming a bad value).
    self.ctr_options()

  @property
  def is_article(self) -> bool:
    return schema_lib.get_scenario(self.scenario).name == 'qk_article'

  @property
  def objectives(self) -> Tuple[str, ...]:
    if self.labels is not None:
      return tuple(self.labels)
    return ARTICLE_LABELS if self.is_article else DEFAULT_VIDEO_LABELS

  def ctr_options(self) -> ctr_options.CtrOptions:
    """Returns the CTR builder options of the shared fields."""
    scenario = 'qk_video' if self.is_article else schema_lib.get_scenario(self.scenario).name
    return ctr_options.CtrOptions(
        seed=self.seed, history_length=self.history_length, history_mode=self.history_mode,
        negatives_per_positive=self.negatives_per_positive,
        negative_sampling=self.negative_sampling, split_mode=self.split_mode,
        split_ratios=tuple(self.split_ratios), max_users=self.max_users,
        user_selection=self.user_selection, scenario=scenario)

  @classmethod
  def from_dict(cls, values: Mapping[str, Any]) -> 'MtlOptions':
    known = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - known)
    if unknown:
      raise ValueError(f'Unknown multi-task builder option(s) {unknown}; known: {sorted(known)}.')
    converted = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items()}
    if 'split_ratios' in converted:
      converted['split_ratios'] = tuple(float(r) for r in converted['split_ratios'])
    return cls(**converted)

  def to_dict(self) -> dict:
    values = dataclasses.asdict(self)
    values['labels'] = list(self.objectives)
    values['split_ratios'] = list(self.split_ratios)
    return values
