"""Sequential-recommendation (SBR) dataset builder: click sequences with leave-last-out splits.

Pipeline (two bucket passes):
1. Chunks: clicks per item over the whole input file (and per user, for `max_users`).
2. Pass 0, per user bucket: keep clicks, drop items with fewer than `min_item_clicks` or more
   than the upper bound of clicks, keep users with at least `min_user_clicks` clicks left.
   The surviving raw sequences go to a spill file; the bucket reports its users and the
   click count of every kept item.
3. Global: the item vocabulary 1..V over the kept items (ascending raw id by default, the
   reference's order) and the validation users.
4. Pass 1, per bucket: encode the items and write, for a user with items s_1..s_n,

     train  item_ids = s_1..s_{n-2}
     eval   item_ids = s_1..s_{n-2}, target_item = s_{n-1}   (validation users only)
     test   item_ids = s_1..s_{n-1}, target_item = s_n

   and `item_vocabulary.txt` (line i = raw id of item index i) beside the splits.

Sequences are written in full. Trainers crop them to their `max_len`: the Tenrec paper used 30,
its reference code 20.

The same class builds several independent sequence datasets in one run, each in its own
sub-folder with its own vocabulary; the transfer builder uses this for its source and target
domains.
"""

import dataclasses
from typing import Any, Dict, List, Mapping, Optional, Sequence

import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import sequences as seq
from components.builders.sequence_options import SbrOptions  # pylint: disable=unused-import
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib

VOCABULARY_FILE = 'item_vocabulary.txt'
FEATURES = ('user_id', 'item_ids')
TARGET_FEATURES = ('user_id', 'item_ids', 'target_item')
COLUMNS = ('user_id', 'item_id', 'click')


@dataclasses.dataclass(frozen=True)
class SequenceDataset:
  """One sequential dataset of a build: its input and its sub-folder ('' = the top level)."""

  prefix: str
  scenario: schema_lib.ScenarioSchema

  @property
  def input_name(self) -> str:
    return self.scenario.name


class SbrBuilder(base.TaskBuilder):
  """Builds leave-last-out click-sequence datasets (one by default)."""

  task = 'sbr'
  num_passes = 2

  def __init__(self, options: Optional[SbrOptions] = None):
    self.options = options or SbrOptions()
    self.datasets = self._datasets()
    self.filters = {d.input_name: seq.ClickSequenceFilter(d.input_name, self.options)
                    for d in self.datasets}
    self.split_names = tuple(name for d in self.datasets for name in seq.split_names(d.prefix))

  def _datasets(self) -> List[SequenceDataset]:
    return [SequenceDataset('', schema_lib.get_scenario(self.options.scenario))]

  def inputs(self) -> List[base.BuilderInput]:
    return [base.BuilderInput(d.input_name, d.scenario, COLUMNS) for d in self.datasets]

  def options_dict(self) -> Dict[str, Any]:
    return self.options.to_dict()

  def deviations(self) -> List[str]:
    return sbr_deviations(self.options)

  def summarize_chunk(self, input_name: str, batch: reader.RawBatch) -> Dict[str, Any]:
    return self.filters[input_name].summarize_chunk(batch)

  def finalize_summary(self, summary: Dict[str, Any]) -> Dict[str, Any]:
    out = base.public_entries(summary)
    out['filters'] = {name: f.finalize(summary) for name, f in self.filters.items()}
    return out

  def process_bucket(self, tables: Mapping[str, base.UserTable],
                     summary: Mapping[str, Any]) -> base.BucketResult:
    accounts = {}
    intermediate = {}
    vocabulary_counts = {}
    users = {}
    for dataset in self.datasets:
      name = dataset.input_name
      account = accounting.RowAccount()
      sequences, _ = self.filters[name].apply(tables[name], summary['filters'][name], account)
      account.used = sequences.num_values
      accounts[name] = account
      intermediate.update(sequences.to_arrays(name))
      vocabulary_counts[name] = base.value_counts(sequences.values)
      users[name] = [sequences.user_ids]
    return base.BucketResult(
        accounts=accounts, intermediate=intermediate,
        extras={'_vocabulary_counts': vocabulary_counts, '_users': users})

  def finalize_pass(self, pass_index: int, side: Mapping[str, Any],
                    summary: Mapping[str, Any]) -> Dict[str, Any]:
    del pass_index
    o = self.options
    vocabularies = {}
    validation = {}
    statistics = {}
    for dataset in self.datasets:
      name = dataset.input_name
      counts = summary.get('_vocabulary_counts', {}).get(name, seq.EMPTY_COUNTS)
      vocabulary = seq.Vocabulary.from_counts(counts, o.item_order)
      user_ids = seq.concatenate_ids(summary.get('_users', {}).get(name, []))
      vocabularies[name] = vocabulary.raw_ids
      validation[name] = seq.choose_validation(user_ids, o.validation_users,
                                               o.validation_fraction, o.min_validation_users,
                                               o.seed)
      clicks = int(np.sum(counts[1]))
      statistics[dataset.prefix or name] = dict(
          side['filters'][name]['statistics'],
          users=int(user_ids.size), items=vocabulary.size, clicks=clicks,
          mean_clicks_per_user=round(clicks / user_ids.size, 3) if user_ids.size else 0.0,
          validation_users=validation[name]['users'])
    return {'vocabularies': vocabularies, 'validation': validation, 'statistics': statistics}

  def process_pass(self, pass_index: int, arrays: Mapping[str, np.ndarray],
                   side: Mapping[str, Any]) -> base.BucketResult:
    del pass_index
    splits = {}
    for dataset in self.datasets:
      name = dataset.input_name
      raw = seq.Sequences.from_arrays(arrays, name)
      vocabulary = seq.Vocabulary(side['vocabularies'][name])
      encoded = raw.map_values(vocabulary.encode(raw.values))
      chosen = seq.in_validation(encoded.user_ids, side['validation'][name], self.options.seed)
      splits.update(seq.leave_last_out(encoded, chosen, dataset.prefix))
    return base.BucketResult(splits=splits)

  def write_side_files(self, output_dir: str, side: Mapping[str, Any]) -> List[str]:
    return [seq.write_vocabulary(output_dir, _join(d.prefix, VOCABULARY_FILE),
                                 side['vocabularies'][d.input_name]) for d in self.datasets]

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    return dict(summary.get('side_statistics', {}).get('pass_1', {}))

  def explain_empty(self, split: str, report: Mapping[str, Any]) -> str:
    prefix = base.sub_dataset_of(split)
    dataset = next(d for d in self.datasets if d.prefix == prefix)
    return explain_empty_sequences(self.task, split, report, dataset.input_name,
                                   report['statistics'].get(prefix or dataset.input_name, {}),
                                   self.options)


def _join(prefix: str, name: str) -> str:
  return f'{prefix}/{name}' if prefix else name


def sbr_deviations(options: SbrOptions) -> List[str]:
  """The deviations of an SBR-style dataset from the reference, for the build report."""
  o = options
  notes = []
  if o.validation_users == 'random':
    notes.append(
        f'Validation users are a seeded random sample of min(U, max(floor('
        f'{o.validation_fraction} * U), {o.min_validation_users})) of the U users, so every '
        'user when U is smaller (the reference used the first 1% of users by id).')
  elif o.validation_users == 'all':
    notes.append('Every user has a validation example (the reference validated on the first '
                 '1% of users by id).')
  elif o.min_validation_users > 0:
    notes.append(f'At least {o.min_validation_users} validation users (the reference used '
                 'exactly the first 1%).')
  if o.max_item_clicks != 200_000 or o.max_item_click_fraction is not None:
    notes.append('Item popularity upper bound differs from the reference (more than 200,000 '
                 'clicks on the full QK-video file).')
  if o.max_users is not None and o.user_selection == 'random':
    notes.append('Users are a seeded random sample (the reference took the lowest ids).')
  if o.max_users is not None:
    notes.append('max_users chooses among users with at least one click before the item '
                 'filter (the reference chose among users with a click left after it).')
  if o.item_order == 'popularity':
    notes.append('Item indices follow descending popularity (the reference: ascending raw id).')
  notes.append('Sequences are written in full; trainers crop them to max_len (the reference '
               'cut training windows to the last 20 items when loading).')
  return notes


def explain_empty_sequences(task: str, split: str, report: Mapping[str, Any], input_name: str,
                            statistics: Mapping[str, Any], options) -> str:
  """Names the filter that left a sequence dataset without examples, and what to change."""
  account = report['accounts'].get(input_name, {})
  filtered = account.get('filtered', {})
  read = account.get('read', 0)
  if read == 0 or statistics.get('signal_rows', 1) == 0:
    return (f'The {task} dataset has no {split} examples: {input_name} has no clicked rows. '
            'Check the input file.')
  if statistics.get('users', 0) == 0:
    if filtered.get(seq.USER_TOO_FEW_CLICKS, 0):
      return (f'The {task} dataset has no {split} examples: no user has >= '
              f'{options.min_user_clicks} clicks after the item filter (it removed '
              f'{filtered.get(seq.ITEM_TOO_RARE, 0)} rows of rare and '
              f'{filtered.get(seq.ITEM_TOO_POPULAR, 0)} rows of popular items); lower '
              '--min-user-clicks or --min-item-clicks, or raise --max-item-clicks.')
    return (f'The {task} dataset has no {split} examples: the item filter removed every click '
            f'({filtered.get(seq.ITEM_TOO_RARE, 0)} rows of items with fewer than '
            f'{options.min_item_clicks} clicks, {filtered.get(seq.ITEM_TOO_POPULAR, 0)} rows of '
            'items above the upper bound); lower --min-item-clicks or raise --max-item-clicks.')
  if base.split_base_name(split) == 'eval':
    return (f'The {task} dataset has no {split} examples: no validation user was chosen '
            f'(validation_fraction {options.validation_fraction} of {statistics.get("users")} '
            'users rounds to 0); raise --validation-fraction or --min-validation-users, or use '
            '--validation-users all.')
  causes = ', '.join(f'{reason} removed {count}' for reason, count in sorted(filtered.items()))
  return (f'The {task} dataset has no {split} examples ({causes or "no rows removed"} of {read} '
          f'{input_name} rows). Use more input data or relax the filters.')
