"""Options of the sequence-task builders (sbr, transfer, infacc, profile, coldstart, lifelong).

Importable without Beam, so that the command line can build its choices from them. Every
field is recorded in the build report. All builders share the click-sequence filter options of
`SequenceFilterOptions`. With equal filter options, the profile and cold-start builders encode
items exactly as the SBR builder does, so SBR checkpoints can be reused.

"The reference" is the Tenrec authors' PyTorch code, "the Tenrec paper" is Yuan et al.,
"Tenrec: A Large-scale Multipurpose Benchmark Dataset for Recommender Systems" (NeurIPS 2022
Datasets and Benchmarks).
"""

import dataclasses
from typing import Any, Mapping, Optional, Sequence, Tuple

from components.tenrec_io import schema as schema_lib

ITEM_ORDERS = ('raw_id', 'popularity')
USER_SELECTION_MODES = ('random', 'lowest_ids')
VALIDATION_MODES = ('random', 'reference_first', 'all')
PROFILE_LABELS = ('gender', 'age')
COLD_SETTINGS = ('recent5', 'first5', 'mixed')
COLD_KEEP = ('first', 'last')
EXAMPLE_SPLIT_MODES = ('user', 'example')
TASK2_SIGNALS = ('like', 'click')

# The reference removed items with more than 200,000 clicks on the whole QK-video file.
REFERENCE_MAX_ITEM_CLICKS = 200_000
# The same bound as a share of all clicks: 200,000 of QK-video's 142,321,193 clicks.
REFERENCE_MAX_ITEM_CLICK_FRACTION = 200_000 / 142_321_193


def check_choice(name: str, value: str, choices: Sequence[str]) -> None:
  if value not in choices:
    raise ValueError(f'{name} must be one of {", ".join(choices)}, got {value!r}.')


def check_ratios(name: str, ratios: Sequence[float]) -> None:
  if len(ratios) != 3 or any(r < 0 for r in ratios) or abs(sum(ratios) - 1.0) > 1e-6:
    raise ValueError(f'{name} must be three non-negative fractions that sum to 1, '
                     f'got {tuple(ratios)}.')


def check_scenario(value: str) -> None:
  """Raises ValueError (naming the value and the known scenarios) for an unknown scenario."""
  schema_lib.get_scenario(value)


@dataclasses.dataclass(frozen=True)
class SequenceFilterOptions:
  """The click-sequence filter shared by every sequence builder.

  Attributes:
    seed: Seed of every seeded choice of the builder (user samples, splits).
    min_item_clicks: Drop items with fewer clicks than this in the whole input file (the
      reference: 2).
    max_item_clicks: Drop items with more clicks than this in the whole input file (the
      reference: 200,000 on the full QK-video file); none = no absolute bound.
    max_item_click_fraction: Drop items whose clicks exceed this share of all clicks of the
      file (the reference bound scaled to the file: 0.0014053); none = unused. With both
      bounds set, the smaller one applies.
    min_user_clicks: Keep users with at least this many clicks after the item filter (the
      reference: 10); at least 3, so that leave-last-out leaves a training item.
    max_users: Keep at most this many users, chosen among users with at least one click
      (the reference: the first 1,000,000 QK-video users); none keeps all.
    user_selection: With max_users: 'random' (seeded) or 'lowest_ids' (the reference).
    item_order: Order of the item indices 1..V: 'raw_id' (ascending raw id, the reference) or
      'popularity' (most clicked first, for frequency-based models such as CpRec).
  """

  seed: int = 100
  min_item_clicks: int = 2
  max_item_clicks: Optional[int] = REFERENCE_MAX_ITEM_CLICKS
  max_item_click_fraction: Optional[float] = None
  min_user_clicks: int = 10
  max_users: Optional[int] = None
  user_selection: str = 'random'
  item_order: str = 'raw_id'

  def __post_init__(self):
    if self.min_item_clicks < 1:
      raise ValueError(f'min_item_clicks must be at least 1, got {self.min_item_clicks}.')
    if self.max_item_clicks is not None and self.max_item_clicks < self.min_item_clicks:
      raise ValueError(f'max_item_clicks ({self.max_item_clicks}) must be at least '
                       f'min_item_clicks ({self.min_item_clicks}).')
    if self.max_item_click_fraction is not None and not 0 < self.max_item_click_fraction <= 1:
      raise ValueError('max_item_click_fraction must be in (0, 1], got '
                       f'{self.max_item_click_fraction}.')
    if self.min_user_clicks < 3:
      raise ValueError(f'min_user_clicks must be at least 3 (leave-last-out needs a training '
                       f'item), got {self.min_user_clicks}.')
    if self.max_users is not None and self.max_users < 1:
      raise ValueError(f'max_users must be at least 1, got {self.max_users}.')
    check_choice('user_selection', self.user_selection, USER_SELECTION_MODES)
    check_choice('item_order', self.item_order, ITEM_ORDERS)

  @classmethod
  def from_dict(cls, values: Mapping[str, Any]):
    """Creates the options from a JSON-compatible dictionary (lists become tuples).

    Raises:
      ValueError: An option is unknown or invalid.
    """
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(values) - set(fields))
    if unknown:
      raise ValueError(f'Unknown {cls.__name__} option(s) {unknown}; known: {sorted(fields)}.')
    converted = {}
    for name, value in values.items():
      if isinstance(value, list):
        value = tuple(value)
      converted[name] = value
    return cls(**converted)

  def to_dict(self) -> dict:
    values = dataclasses.asdict(self)
    return {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}


def _check_validation(options) -> None:
  check_choice('validation_users', options.validation_users, VALIDATION_MODES)
  if not 0 <= options.validation_fraction <= 1:
    raise ValueError(f'validation_fraction must be in [0, 1], got {options.validation_fraction}.')
  if options.min_validation_users < 0:
    raise ValueError(
        f'min_validation_users must be non-negative, got {options.min_validation_users}.')


@dataclasses.dataclass(frozen=True)
class SbrOptions(SequenceFilterOptions):
  """Options of the sequential-recommendation builder (`sbr`, also `infacc`).

  Attributes:
    scenario: Input scenario (QK-video for SBR, QB-video for inference speed-up).
    validation_users: Users with an eval example: 'random' (a seeded sample), 'reference_first'
      (the lowest user ids, as the reference) or 'all'.
    validation_fraction: Share of the users in the eval split (the reference: 0.01).
    min_validation_users: Lower bound of the eval user count, so that small datasets still
      have a usable validation set (the count is min(U, max(floor(fraction * U), this))).
  """

  scenario: str = 'qk_video'
  validation_users: str = 'random'
  validation_fraction: float = 0.01
  min_validation_users: int = 1000

  def __post_init__(self):
    super().__post_init__()
    check_scenario(self.scenario)
    _check_validation(self)


@dataclasses.dataclass(frozen=True)
class InfaccOptions(SbrOptions):
  """Options of the inference speed-up builder: the SBR dataset of QB-video.

  Attributes:
    scenario: Input scenario (QB-video in Tenrec).
  """

  scenario: str = 'qb_video'


@dataclasses.dataclass(frozen=True)
class TransferOptions(SbrOptions):
  """Options of the transfer-learning builder: two SBR datasets with their own vocabularies.

  Attributes:
    scenario: Source scenario (QK-video in Tenrec), written to `source/`.
    target_scenario: Target scenario (QB-video in Tenrec), written to `target/`.
  """

  target_scenario: str = 'qb_video'

  def __post_init__(self):
    super().__post_init__()
    check_scenario(self.target_scenario)
    if schema_lib.get_scenario(self.target_scenario) == schema_lib.get_scenario(self.scenario):
      raise ValueError(f'The transfer source and target scenarios must differ, both are '
                       f'{self.scenario!r}.')


@dataclasses.dataclass(frozen=True)
class ProfileOptions(SequenceFilterOptions):
  """Options of the user-profile builder.

  Attributes:
    scenario: Input scenario (QK-video in Tenrec).
    labels: Labels to write ('gender', 'age'); users without any of them are dropped.
    drop_last_clicks: Clicks removed from the end of every input sequence (the reference: 3);
      0 keeps all clicks.
    split_ratios: Train, eval and test shares of the users.
  """

  scenario: str = 'qk_video'
  labels: Tuple[str, ...] = PROFILE_LABELS
  drop_last_clicks: int = 3
  split_ratios: Tuple[float, float, float] = (0.8, 0.1, 0.1)

  def __post_init__(self):
    super().__post_init__()
    check_scenario(self.scenario)
    if not self.labels:
      raise ValueError('labels must name at least one of gender, age.')
    for label in self.labels:
      check_choice('labels', label, PROFILE_LABELS)
    if not 0 <= self.drop_last_clicks < self.min_user_clicks:
      raise ValueError(f'drop_last_clicks must be in [0, min_user_clicks), got '
                       f'{self.drop_last_clicks}.')
    check_ratios('split_ratios', self.split_ratios)


@dataclasses.dataclass(frozen=True)
class ColdStartOptions(SequenceFilterOptions):
  """Options of the cold-start builder.

  Attributes:
    source_scenario: Scenario of the source histories (QK-video in Tenrec).
    target_scenario: Scenario of the cold-start targets (QK-article in Tenrec).
    setting: 'recent5' (every user keeps the most recent max_cold_clicks target clicks, as the
      paper describes), 'first5' (the earliest ones, as the reference's cold_data.csv) or
      'mixed' (a share cold_fraction of the users is cold and keeps n ~ U{1..max_cold_clicks}
      clicks, the others keep all, as the reference's cold_data_{r}.csv).
    cold_fraction: Share r of cold users in the 'mixed' setting; floor(r * U) users.
    max_cold_clicks: Target clicks kept per cold user (5 in Tenrec).
    cold_keep: In the 'mixed' setting, whether cold users keep their 'first' (the reference)
      or 'last' clicks.
    source_drop_last: Clicks removed from the end of every source history (the reference: 3).
    split_mode: 'user' (every example of a user in one split) or 'example' (examples at
      random, as the reference, which puts a user's examples in several splits).
    split_ratios: Train, eval and test shares.
  """

  source_scenario: str = 'qk_video'
  target_scenario: str = 'qk_article'
  setting: str = 'recent5'
  cold_fraction: float = 1.0
  max_cold_clicks: int = 5
  cold_keep: str = 'first'
  source_drop_last: int = 3
  split_mode: str = 'user'
  split_ratios: Tuple[float, float, float] = (0.8, 0.1, 0.1)

  def __post_init__(self):
    super().__post_init__()
    check_scenario(self.source_scenario)
    check_scenario(self.target_scenario)
    check_choice('setting', self.setting, COLD_SETTINGS)
    check_choice('cold_keep', self.cold_keep, COLD_KEEP)
    check_choice('split_mode', self.split_mode, EXAMPLE_SPLIT_MODES)
    if not 0 <= self.cold_fraction <= 1:
      raise ValueError(f'cold_fraction must be in [0, 1], got {self.cold_fraction}.')
    if self.max_cold_clicks < 1:
      raise ValueError(f'max_cold_clicks must be at least 1, got {self.max_cold_clicks}.')
    if not 0 <= self.source_drop_last < self.min_user_clicks:
      raise ValueError(f'source_drop_last must be in [0, min_user_clicks), got '
                       f'{self.source_drop_last}.')
    check_ratios('split_ratios', self.split_ratios)


@dataclasses.dataclass(frozen=True)
class LifelongOptions(SbrOptions):
  """Options of the lifelong-learning builder (task 0 uses the SBR options).

  Attributes:
    scenario: Scenario of task 0 (QK-video in Tenrec).
    task0_user_fraction: Share of the SBR users in task 0, a seeded random sample of
      floor(share * U) users (the Tenrec paper: 50%; the reference took the lowest ids).
    task1_max_clicks: Target clicks kept per user in task 1 (QK-article; the reference: 3).
    task1_keep: Whether task 1 keeps a user's 'last' (the reference) or 'first' clicks.
    task2_signal: Target signal of task 2 (QB-video): 'like' (the reference's loader) or
      'click'.
    source_drop_last: Clicks removed from the end of the task-0 history that is the input of
      tasks 1-3 (the reference: 3).
    split_mode: Split of tasks 1-3: 'user' or 'example' (the reference's random example split).
    split_ratios: Train, eval and test shares of tasks 1-3.
  """

  task0_user_fraction: float = 0.5
  task1_max_clicks: int = 3
  task1_keep: str = 'last'
  task2_signal: str = 'like'
  source_drop_last: int = 3
  split_mode: str = 'user'
  split_ratios: Tuple[float, float, float] = (0.8, 0.1, 0.1)

  def __post_init__(self):
    super().__post_init__()
    if schema_lib.get_scenario(self.scenario).name != 'qk_video':
      raise ValueError('The lifelong task chain starts with QK-video (then QK-article, QB-video, '
                       f'QB-article); scenario must be qk_video, got {self.scenario!r}.')
    if not 0 < self.task0_user_fraction <= 1:
      raise ValueError(
          f'task0_user_fraction must be in (0, 1], got {self.task0_user_fraction}.')
    if self.task1_max_clicks < 1:
      raise ValueError(f'task1_max_clicks must be at least 1, got {self.task1_max_clicks}.')
    check_choice('task1_keep', self.task1_keep, COLD_KEEP)
    check_choice('task2_signal', self.task2_signal, TASK2_SIGNALS)
    check_choice('split_mode', self.split_mode, EXAMPLE_SPLIT_MODES)
    if not 0 <= self.source_drop_last < self.min_user_clicks:
      raise ValueError(f'source_drop_last must be in [0, min_user_clicks), got '
                       f'{self.source_drop_last}.')
    check_ratios('split_ratios', self.split_ratios)
