"""Column schemas of the four Tenrec raw files (QK-video, QB-video, QK-article, QB-article).

The released files are comma-separated with a header row. Readers select columns by header name,
never by position, because the published field order and the order in the files differ.

Value conventions shared by every reader and writer in this project:

* ids (`user_id`, `item_id`) are non-negative 64-bit integers. User ids are shared across all four
  scenarios, item ids between QK-video and QB-video.
* binary feedback columns (`click`, `like`, ...) hold 0 or 1. Article files write `click` as a
  float (`1.0`), so binary columns are parsed numerically and compared by value.
* the literal `\\N` marks a missing value. Categorical integer columns map it to
  `MISSING_CATEGORY` (-1); float columns map it to NaN. Ids and binary columns may not be missing.
* `gender` is 0 (unknown), 1 or 2; `age` is a 10-year bin 0..7 with 0 = unknown.
"""

import dataclasses
import enum
from typing import Mapping, Optional, Sequence, Tuple

MISSING_VALUE_TOKEN = '\\N'
MISSING_CATEGORY = -1


class ColumnKind(enum.Enum):
  """How a raw column is parsed and validated."""

  ID = 'id'  # int64 >= 0, never missing
  BINARY = 'binary'  # 0 or 1 (integer or float text), never missing
  COUNT = 'count'  # int64 >= 0, never missing
  CATEGORY = 'category'  # int64 >= 0, `\N` -> MISSING_CATEGORY
  FLOAT = 'float'  # float64, `\N` -> NaN


@dataclasses.dataclass(frozen=True)
class Column:
  """One raw column: its header name, kind and allowed closed value range."""

  name: str
  kind: ColumnKind
  value_range: Optional[Tuple[float, float]] = None


@dataclasses.dataclass(frozen=True)
class ScenarioSchema:
  """Columns of one Tenrec scenario file, in the order the released file writes them."""

  name: str
  file_name: str
  columns: Tuple[Column, ...]
  # Columns whose absence from a header is an error. The remaining columns are optional: the
  # reader accepts a file without them (derived Tenrec files are column subsets), but a caller
  # that selects a missing column still gets an error.
  required: Tuple[str, ...]

  @property
  def column_names(self) -> Tuple[str, ...]:
    return tuple(c.name for c in self.columns)

  def column(self, name: str) -> Column:
    for c in self.columns:
      if c.name == name:
        return c
    raise KeyError(
        f'Column {name!r} is not part of the {self.name} schema; '
        f'known columns: {", ".join(self.column_names)}.')


_GENDER = Column('gender', ColumnKind.CATEGORY, (0, 2))
_AGE = Column('age', ColumnKind.CATEGORY, (0, 7))

VIDEO_COLUMNS: Tuple[Column, ...] = (
    Column('user_id', ColumnKind.ID),
    Column('item_id', ColumnKind.ID),
    Column('click', ColumnKind.BINARY),
    Column('follow', ColumnKind.BINARY),
    Column('like', ColumnKind.BINARY),
    Column('share', ColumnKind.BINARY),
    Column('video_category', ColumnKind.CATEGORY),
    Column('watching_times', ColumnKind.COUNT),
    _GENDER,
    _AGE,
)

QK_ARTICLE_COLUMNS: Tuple[Column, ...] = (
    Column('user_id', ColumnKind.ID),
    Column('item_id', ColumnKind.ID),
    Column('click', ColumnKind.BINARY),
    _GENDER,
    _AGE,
    Column('exposure_count', ColumnKind.COUNT),
    Column('click_count', ColumnKind.COUNT),
    Column('like_count', ColumnKind.COUNT),
    Column('comment_count', ColumnKind.COUNT),
    Column('read_percentage', ColumnKind.FLOAT),
    Column('item_score1', ColumnKind.FLOAT),
    Column('item_score2', ColumnKind.FLOAT),
    Column('category_second', ColumnKind.CATEGORY),
    Column('category_first', ColumnKind.CATEGORY),
    Column('item_score3', ColumnKind.FLOAT),
    Column('read', ColumnKind.BINARY),
    Column('read_time', ColumnKind.FLOAT),
    Column('share', ColumnKind.BINARY),
    Column('like', ColumnKind.BINARY),
    Column('follow', ColumnKind.BINARY),
    Column('favorite', ColumnKind.BINARY),
)

# QB-article has the first 15 QK-article columns (no read, read_time, share, like, follow,
# favorite).
QB_ARTICLE_COLUMNS: Tuple[Column, ...] = QK_ARTICLE_COLUMNS[:15]

QK_VIDEO = ScenarioSchema(
    name='qk_video',
    file_name='QK-video.csv',
    columns=VIDEO_COLUMNS,
    required=('user_id', 'item_id', 'click'),
)
QB_VIDEO = ScenarioSchema(
    name='qb_video',
    file_name='QB-video.csv',
    columns=VIDEO_COLUMNS,
    required=('user_id', 'item_id', 'click'),
)
QK_ARTICLE = ScenarioSchema(
    name='qk_article',
    file_name='QK-article.csv',
    columns=QK_ARTICLE_COLUMNS,
    required=('user_id', 'item_id', 'click'),
)
QB_ARTICLE = ScenarioSchema(
    name='qb_article',
    file_name='QB-article.csv',
    columns=QB_ARTICLE_COLUMNS,
    required=('user_id', 'item_id', 'click'),
)

SCENARIOS: Mapping[str, ScenarioSchema] = {
    s.name: s for s in (QK_VIDEO, QB_VIDEO, QK_ARTICLE, QB_ARTICLE)
}

# Spellings accepted on the command line and in configuration for each scenario.
_ALIASES = {
    'qk-video': 'qk_video',
    'qb-video': 'qb_video',
    'qk-article': 'qk_article',
    'qb-article': 'qb_article',
}


def get_scenario(name: str) -> ScenarioSchema:
  """Returns the schema of a scenario given as `qk_video`, `QK-video` or `QK-video.csv`."""
  key = name.strip()
  if key.lower().endswith('.csv'):
    key = key[:-4]
  key = key.lower()
  key = _ALIASES.get(key, key)
  if key not in SCENARIOS:
    raise ValueError(
        f'Unknown Tenrec scenario {name!r}; expected one of '
        f'{", ".join(s.file_name[:-4] for s in SCENARIOS.values())}.')
  return SCENARIOS[key]


def scenario_path(data_dir: str, scenario: ScenarioSchema) -> str:
  """Returns the path of a scenario's file inside a Tenrec data directory."""
  return f'{data_dir.rstrip("/")}/{scenario.file_name}'


def validate_selection(schema: ScenarioSchema, columns: Sequence[str]) -> None:
  """Raises ValueError when a requested column is not part of the scenario schema."""
  for name in columns:
    schema.column(name)
