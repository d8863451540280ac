"""User-profile dataset builder: click sequences labelled with the user's gender and age.

Users and items are exactly those of the SBR dataset built with the same filter options, and
items carry the same indices (the SBR vocabulary is computed over all SBR users, then reused),
so that SBR checkpoints can be fine-tuned on this task. One example per user:

| feature | type | meaning |
|---|---|---|
| `user_id` | int64 | raw id |
| `item_ids` | int64 list | SBR item indices of the user's clicks without the last `drop_last_clicks` (3 in the reference), oldest first |
| `gender_label` | int64 | gender - 1 in {0, 1}; -1 when unknown |
| `age_label` | int64 | age bin - 1 in {0..6}; -1 when unknown |

The labels come from the user's first kept click row (the reference read the first row of the
SBR file). A user is kept when at least one of the selected labels is known; a trainer of one
label skips the examples whose label is -1. Users are split 8:1:1 by a seeded hash of the user
id, so a user is in the same split for both labels.
"""

from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import hashing
from components.builders import sbr
from components.builders import sequences as seq
from components.builders.sequence_options import ProfileOptions
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib

MISSING_LABEL = -1
LABEL_FEATURES = {'gender': 'gender_label', 'age': 'age_label'}
NUM_CLASSES = {'gender': 2, 'age': 7}
LABEL_UNKNOWN = 'profile_label_unknown'
LAST_CLICKS_HELD_OUT = 'profile_last_clicks_held_out'
_SEQUENCES = 'profile'


class ProfileBuilder(base.TaskBuilder):
  """Builds the user-profile (gender and age prediction) dataset."""

  task = 'profile'
  num_passes = 2

  def __init__(self, options: Optional[ProfileOptions] = None):
    self.options = options or ProfileOptions()
    self._scenario = schema_lib.get_scenario(self.options.scenario)
    self._filter = seq.ClickSequenceFilter(self._scenario.name, self.options)

  def inputs(self) -> List[base.BuilderInput]:
    return [base.BuilderInput(self._scenario.name, self._scenario,
                              ('user_id', 'item_id', 'click', 'gender', 'age'))]

  def options_dict(self) -> Dict[str, Any]:
    return self.options.to_dict()

  def deviations(self) -> List[str]:
    notes = ['Users are split by a seeded hash of the user id, so the 8:1:1 shares hold in '
             'expectation (the reference split the user list exactly with a seeded shuffle).',
             'One dataset holds both labels, -1 marking an unknown label (the reference built '
             'one dataset per label).']
    if self.options.drop_last_clicks != 3:
      notes.append(f'Inputs drop the last {self.options.drop_last_clicks} clicks (the '
                   'reference: 3).')
    return notes

  def summarize_chunk(self, input_name: str, batch: reader.RawBatch) -> Dict[str, Any]:
    return self._filter.summarize_chunk(batch)

  def finalize_summary(self, summary: Dict[str, Any]) -> Dict[str, Any]:
    out = base.public_entries(summary)
    out['filter'] = self._filter.finalize(summary)
    return out

  def process_bucket(self, tables: Mapping[str, base.UserTable],
                     summary: Mapping[str, Any]) -> base.BucketResult:
    o = self.options
    table = tables[self._scenario.name]
    account = accounting.RowAccount()
    sequences, rows = self._filter.apply(table, summary['filter'], account)
    vocabulary_counts = base.value_counts(sequences.values)

    first_rows = rows[sequences.row_splits[:-1]]
    labels = {}
    known = np.zeros(sequences.num_users, dtype=bool)
    for label in o.labels:
      raw = table.columns[label][first_rows].astype(np.int64)
      labels[label] = np.where(raw > 0, raw - 1, MISSING_LABEL)
      known |= raw > 0

    lengths = sequences.lengths
    account.filter(LABEL_UNKNOWN, int(lengths[~known].sum()))
    kept = sequences.select_users(known)
    inputs = kept.drop_last(o.drop_last_clicks)
    account.filter(LAST_CLICKS_HELD_OUT, kept.num_values - inputs.num_values)
    account.used = inputs.num_values

    intermediate = inputs.to_arrays(_SEQUENCES)
    for label in o.labels:
      intermediate[f'label.{label}'] = labels[label][known]
    extras = {
        '_vocabulary_counts': vocabulary_counts,
        'sbr_users': sequences.num_users,
        'users_with_a_label': int(known.sum()),
        'label_counts': {label: {str(int(v)): int(c) for v, c in zip(
            *np.unique(labels[label][known], return_counts=True))} for label in o.labels},
    }
    return base.BucketResult(accounts={self._scenario.name: account},
                             intermediate=intermediate, extras=extras)

  def finalize_pass(self, pass_index: int, side: Mapping[str, Any],
                    summary: Mapping[str, Any]) -> Dict[str, Any]:
    del pass_index
    vocabulary = seq.Vocabulary.from_counts(
        summary.get('_vocabulary_counts', seq.EMPTY_COUNTS), self.options.item_order)
    statistics = dict(side['filter']['statistics'], items=vocabulary.size,
                      sbr_users=int(summary.get('sbr_users', 0)),
                      users=int(summary.get('users_with_a_label', 0)),
                      label_counts=summary.get('label_counts', {}))
    return {'vocabulary': vocabulary.raw_ids, 'statistics': statistics}

  def process_pass(self, pass_index: int, arrays: Mapping[str, np.ndarray],
                   side: Mapping[str, Any]) -> base.BucketResult:
    del pass_index
    o = self.options
    inputs = seq.Sequences.from_arrays(arrays, _SEQUENCES)
    encoded = inputs.map_values(seq.Vocabulary(side['vocabulary']).encode(inputs.values))
    split = seq.split_by_unit(
        seq.hash_unit(o.seed, hashing.SALT_SPLIT, encoded.user_ids), o.split_ratios)

    splits = {}
    label_counts = {}
    for index, name in enumerate(base.SPLITS):
      rows = np.flatnonzero(split == index)
      part = encoded.gather(rows)
      columns = {'user_id': part.user_ids, 'item_ids': part.ragged()}
      for label in o.labels:
        values = arrays[f'label.{label}'][rows]
        columns[LABEL_FEATURES[label]] = values
        label_counts[f'{name}_{label}_known'] = int((values != MISSING_LABEL).sum())
      splits[name] = columns
    return base.BucketResult(splits=splits, extras={'split_label_counts': label_counts})

  def write_side_files(self, output_dir: str, side: Mapping[str, Any]) -> List[str]:
    return [seq.write_vocabulary(output_dir, sbr.VOCABULARY_FILE, side['vocabulary'])]

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    statistics = dict(summary.get('side_statistics', {}).get('pass_1', {}))
    statistics['examples_with_label'] = summary.get('split_label_counts', {})
    return statistics

  def explain_empty(self, split: str, report: Mapping[str, Any]) -> str:
    statistics = report['statistics']
    if statistics.get('sbr_users', 0) and not statistics.get('users', 0):
      return (f'The profile dataset has no {split} examples: none of the '
              f'{statistics["sbr_users"]} users with enough clicks has a known '
              f'{" or ".join(self.options.labels)} (0 = unknown in the input file).')
    if statistics.get('users', 0):
      return (f'The profile dataset has no {split} examples: {statistics["users"]} users are '
              f'too few for the split ratios {self.options.split_ratios}; use more input data.')
    return sbr.explain_empty_sequences(self.task, split, report, self._scenario.name,
                                       statistics, self.options)
