"""The contract between a task builder and the shared Beam driver (`builders.runner`).

A builder turns raw Tenrec files into tf.Example splits in two steps that the driver runs in
Beam:

1. Chunk step (`summarize_chunk`), once per byte range of every input file: returns a small
   dictionary of global statistics (counts, item popularity, ...). The driver merges the
   dictionaries of all chunks (`merge_summaries`) and hands the result to step 2.
2. Bucket step (`process_bucket`), once per user bucket: receives every row of the bucket's
   users from every input, sorted by (user_id, file order), plus the merged chunk statistics,
   and returns the examples of each split and the row accounting.

Users are assigned to buckets by a hash of `user_id`, so a bucket always holds complete users
and per-user work (histories, leave-last-out, sampling) is plain vectorised NumPy over sorted
arrays.

Builders that need a global value computed after a per-user step (for example an item
vocabulary over the users that survive a filter) declare `num_passes > 1`:

3. Pass 0 is the bucket step; instead of examples it returns `BucketResult.intermediate`, a
   dictionary of arrays that the driver writes to one spill file per bucket, plus statistics in
   `extras`. The driver merges the statistics of all buckets and calls
   `finalize_pass(0, side, merged)`, whose result (for example the vocabulary) is the side
   input of pass 1.
4. Pass k >= 1 (`process_pass`) reads one bucket's spill file of pass k - 1 with the side input
   and returns the next intermediate arrays, or, in the last pass, the examples.

Memory per worker stays bounded by one bucket; only bucket file paths and the side inputs,
whose size the builder controls (vocabularies, thresholds), pass through Beam.

Split names may carry a sub-dataset prefix ('source/train'): the examples are then written to
`<output>/source/Split-train/`, so one build can produce several TFX Examples layouts (for
example the source and target domains of transfer learning).
"""

import abc
import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from components.builders import accounting
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib

SPLITS = ('train', 'eval', 'test')


@dataclasses.dataclass(frozen=True)
class BuilderInput:
  """One raw file a builder reads.

  Attributes:
    name: Key of this input in summaries, accounts and bucket tables (usually the scenario
      name, for example 'qk_video').
    scenario: Schema of the file.
    columns: Columns to read, by header name; must include 'user_id'.
  """

  name: str
  scenario: schema_lib.ScenarioSchema
  columns: Tuple[str, ...]


@dataclasses.dataclass
class UserTable:
  """All rows of a bucket's users from one input, sorted by (user_id, row_offset).

  Attributes:
    columns: Column arrays of equal length.
    row_offset: Byte offset of each row in its file (a stable row id, increasing in file order).
    user_starts: Index of each user's first row, plus a final entry equal to the row count.
  """

  columns: Dict[str, np.ndarray]
  row_offset: np.ndarray
  user_starts: np.ndarray

  @property
  def num_rows(self) -> int:
    return int(self.row_offset.shape[0])

  @property
  def num_users(self) -> int:
    return int(self.user_starts.shape[0] - 1)

  @property
  def user_ids(self) -> np.ndarray:
    """The id of each user, in table order."""
    return self.columns['user_id'][self.user_starts[:-1]]

  def user_index(self) -> np.ndarray:
    """Returns, for every row, the 0-based index of its user in the table."""
    return np.repeat(np.arange(self.num_users), np.diff(self.user_starts))

  def position_in_user(self) -> np.ndarray:
    """Returns, for every row, its 0-based position among its user's rows."""
    return np.arange(self.num_rows) - np.repeat(self.user_starts[:-1], np.diff(self.user_starts))

  @classmethod
  def from_columns(cls, columns: Dict[str, np.ndarray], row_offset: np.ndarray) -> 'UserTable':
    """Sorts rows by (user_id, row_offset) and computes the user boundaries."""
    order = np.lexsort((row_offset, columns['user_id']))
    sorted_columns = {name: values[order] for name, values in columns.items()}
    users = sorted_columns['user_id']
    if users.size:
      boundaries = np.flatnonzero(users[1:] != users[:-1]) + 1
      starts = np.concatenate([[0], boundaries, [users.size]]).astype(np.int64)
    else:
      starts = np.zeros(1, dtype=np.int64)
    return cls(columns=sorted_columns, row_offset=row_offset[order], user_starts=starts)


@dataclasses.dataclass
class BucketResult:
  """Output of one bucket.

  Attributes:
    splits: Feature columns per split name; every split in `TaskBuilder.split_names` must be
      present (possibly with zero rows).
    accounts: Rows used and filtered per input (reads and rejections are counted by the
      driver). In a multi-pass build every row is counted exactly once, in the pass that
      decides its fate.
    extras: Additional statistics, merged across buckets with `merge_summaries`. Keys that
      start with '_' feed the next pass only and are left out of the final summary.
    intermediate: Arrays handed to the next pass (all passes but the last of a multi-pass
      builder); None in the last pass.
  """

  splits: Dict[str, Dict[str, Any]] = dataclasses.field(default_factory=dict)
  accounts: Dict[str, accounting.RowAccount] = dataclasses.field(default_factory=dict)
  extras: Dict[str, Any] = dataclasses.field(default_factory=dict)
  intermediate: Optional[Dict[str, np.ndarray]] = None


class EmptyDatasetError(ValueError):
  """A filter removed every row or user, so a split would be empty."""


class TaskBuilder(abc.ABC):
  """Builds one task's dataset; subclasses define inputs, options and the bucket step."""

  task: str = ''
  split_names: Tuple[str, ...] = SPLITS
  # Number of bucket passes: 1 = `process_bucket` writes the examples; n > 1 adds the passes
  # `process_pass(1..n-1)`, each preceded by a global `finalize_pass`.
  num_passes: int = 1

  @abc.abstractmethod
  def inputs(self) -> Sequence[BuilderInput]:
    """The raw files this builder reads."""

  @abc.abstractmethod
  def options_dict(self) -> Dict[str, Any]:
    """The builder's options, for the report and the run metadata."""

  def deviations(self) -> List[str]:
    """Ways in which this build differs from the reference implementation, as sentences."""
    return []

  def summarize_chunk(self, input_name: str, batch: reader.RawBatch) -> Dict[str, Any]:
    """Returns global statistics of one chunk; merged with `merge_summaries`."""
    del input_name, batch
    return {}

  def finalize_summary(self, summary: Dict[str, Any]) -> Dict[str, Any]:
    """Derives global values (for example sampling rates) from the merged chunk statistics."""
    return summary

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    """Returns JSON-compatible dataset statistics from the merged summaries, for the report."""
    del summary
    return {}

  @abc.abstractmethod
  def process_bucket(self, tables: Mapping[str, UserTable],
                     summary: Mapping[str, Any]) -> BucketResult:
    """Turns the rows of a bucket's users into examples of each split."""

  def finalize_pass(self, pass_index: int, side: Mapping[str, Any],
                    summary: Mapping[str, Any]) -> Dict[str, Any]:
    """Returns the side input of pass `pass_index + 1`.

    Args:
      pass_index: The pass whose buckets produced `summary`.
      side: The side input that pass `pass_index` ran with (the finalized chunk summary for
        pass 0).
      summary: The merged `extras` and accounts of every bucket of pass `pass_index`.

    The entry 'statistics' of the returned dictionary, if any, is copied into the report.
    """
    raise NotImplementedError(f'{type(self).__name__} declares {self.num_passes} passes but '
                              'does not implement finalize_pass.')

  def process_pass(self, pass_index: int, arrays: Mapping[str, np.ndarray],
                   side: Mapping[str, Any]) -> BucketResult:
    """Runs pass `pass_index` >= 1 on one bucket's intermediate arrays of the previous pass."""
    raise NotImplementedError(f'{type(self).__name__} declares {self.num_passes} passes but '
                              'does not implement process_pass.')

  def write_side_files(self, output_dir: str, side: Mapping[str, Any]) -> List[str]:
    """Writes files that accompany the splits (for example item_vocabulary.txt).

    Called once with the side input of the last pass; returns the written paths relative to
    `output_dir`.
    """
    del output_dir, side
    return []

  def check_result(self, report: Mapping[str, Any]) -> None:
    """Raises EmptyDatasetError when a split is empty, naming the filter responsible."""
    for split in self.split_names:
      if report['splits'].get(split, 0) == 0:
        raise EmptyDatasetError(self.explain_empty(split, report))

  def explain_empty(self, split: str, report: Mapping[str, Any]) -> str:
    """Describes which filter emptied a split and what to change."""
    causes = []
    for name, account in report['accounts'].items():
      for reason, count in sorted(account['filtered'].items(), key=lambda kv: -kv[1]):
        causes.append(f'{reason} removed {count} of {account["read"]} {name} rows')
    cause_text = '; '.join(causes) if causes else 'no rows were read'
    return (f'The {self.task} dataset has no {split} examples: {cause_text}. Use more input '
            'data or relax the filter that removed the most rows.')


def public_entries(summary: Mapping[str, Any]) -> Dict[str, Any]:
  """Returns the summary without its '_' entries (inputs of the next step, not for the report).

  `finalize_summary` of a builder keeps these entries (row accounts, rejected rows) and adds
  what its first bucket pass needs.
  """
  return {key: value for key, value in summary.items() if not str(key).startswith('_')}


def sub_dataset_of(split: str) -> str:
  """Returns the sub-dataset prefix of a split name ('' for 'train', 'source' for
  'source/train')."""
  return split.rsplit('/', 1)[0] if '/' in split else ''


def split_base_name(split: str) -> str:
  """Returns the split name without its sub-dataset prefix."""
  return split.rsplit('/', 1)[-1]


def merge_summaries(left: Mapping[str, Any], right: Mapping[str, Any]) -> Dict[str, Any]:
  """Merges two summary dictionaries: numbers add up, nested dictionaries merge recursively,
  lists concatenate, and (unique values, counts) array pairs under `*_counts` keys combine."""
  merged = dict(left)
  for key, value in right.items():
    if key not in merged:
      merged[key] = value
    elif isinstance(value, Mapping):
      merged[key] = merge_summaries(merged[key], value)
    elif isinstance(value, list):
      merged[key] = list(merged[key]) + value
    elif isinstance(value, tuple) and len(value) == 2 and isinstance(value[0], np.ndarray):
      merged[key] = merge_value_counts(merged[key], value)
    elif isinstance(value, (int, float, np.integer, np.floating)):
      merged[key] = merged[key] + value
    else:
      raise TypeError(f'Cannot merge summary entry {key!r} of type {type(value).__name__}.')
  return merged


def merge_value_counts(left: Tuple[np.ndarray, np.ndarray],
                       right: Tuple[np.ndarray, np.ndarray]) -> Tuple[np.ndarray, np.ndarray]:
  """Adds two (sorted unique values, counts) pairs."""
  values = np.concatenate([left[0], right[0]])
  counts = np.concatenate([left[1], right[1]])
  unique, inverse = np.unique(values, return_inverse=True)
  return unique, np.bincount(inverse, weights=counts, minlength=unique.size).astype(np.int64)


def value_counts(values: np.ndarray) -> Tuple[np.ndarray, np.ndarray]:
  """Returns (sorted unique values, counts) of an integer array."""
  unique, counts = np.unique(values, return_counts=True)
  return unique, counts.astype(np.int64)


def lookup_counts(counts: Tuple[np.ndarray, np.ndarray], values: np.ndarray) -> np.ndarray:
  """Returns the count of each value in a (sorted unique values, counts) pair; 0 if absent."""
  unique, totals = counts
  if unique.size == 0:
    return np.zeros(values.shape, dtype=np.int64)
  index = np.clip(np.searchsorted(unique, values), 0, unique.size - 1)
  return np.where(unique[index] == values, totals[index], 0)
