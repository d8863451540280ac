"""Cold-start dataset builder: predict a user's QK-article clicks from their QK-video history.

Users are the SBR users of the source scenario (QK-video, same filter options as the SBR
builder) that also clicked in the target scenario (QK-article). One example per kept target
click:

| feature | type | meaning |
|---|---|---|
| `user_id` | int64 | raw id |
| `item_ids` | int64 list | the user's source clicks without the last `source_drop_last` (3 in the reference), in the SBR item encoding (`source_item_vocabulary.txt`), oldest first |
| `target_item` | int64 | target item index 1..V_target (`item_vocabulary.txt`) |
| `is_cold` | int64 | 1 when the user's target clicks were truncated to the cold-start budget |

Settings (`setting`):
* 'recent5': every user keeps the most recent `max_cold_clicks` (5) target clicks, as the Tenrec paper
  describes.
* 'first5': every user keeps the earliest five, as the reference's cold_data.csv did.
* 'mixed': floor(r * U) users chosen by a seeded hash are cold and keep their first (or last,
  `cold_keep`) n clicks with n ~ U{1..5} drawn per user; the others keep every target click,
  as the reference's cold_data_{r}.csv for r = `cold_fraction` (0.3, 0.7, 1).

The source vocabulary is computed over all SBR users, so it equals the SBR dataset's
vocabulary and SBR checkpoints can be fine-tuned. Target items are encoded over the kept
target clicks. Users are split 8:1:1 by a seeded hash of the user id (`split_mode='user'`),
so no user has examples in two splits; 'example' splits examples at random, as the reference.

Passes: 0 filters both files per user bucket; a global step builds the source vocabulary and
chooses the cold users; 1 truncates the target clicks; a global step builds the target
vocabulary; 2 writes the examples.
"""

from typing import Any, Dict, List, Mapping, Optional, Tuple

import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import hashing
from components.builders import sbr
from components.builders import sequences as seq
from components.builders import tfexample
from components.builders.sequence_options import ColdStartOptions
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib

SOURCE_VOCABULARY_FILE = 'source_item_vocabulary.txt'
USER_NOT_IN_SOURCE = 'user_not_in_sbr_users'
USER_WITHOUT_TARGET = 'user_without_target_clicks'
SOURCE_HELD_OUT = 'source_last_clicks_held_out'
COLD_TRUNCATION = 'cold_truncation'
FEATURES = ('user_id', 'item_ids', 'target_item', 'is_cold')
_SOURCE = 'source'
_TARGET = 'target'


def target_sequences(table: base.UserTable, signal: str, users: np.ndarray,
                     account: accounting.RowAccount) -> seq.Sequences:
  """Returns the signal rows (clicks or likes) of `users` (sorted ids) as raw sequences.

  Rows without the signal and rows of other users are counted as filtered in `account`.
  """
  cols = table.columns
  positive = cols[signal] == 1
  account.filter(seq.NOT_CLICKED if signal == 'click' else f'not_{signal}d',
                 int((~positive).sum()))
  member = np.isin(cols['user_id'], users)
  account.filter(USER_NOT_IN_SOURCE, int((positive & ~member).sum()))
  rows = np.flatnonzero(positive & member)
  return seq.Sequences.from_rows(cols['user_id'][rows], cols['item_id'][rows],
                                 table.row_offset[rows])


def align_users(source: seq.Sequences, target: seq.Sequences):
  """Restricts two sequence sets to their common users; both keep ascending user order."""
  common = np.intersect1d(source.user_ids, target.user_ids)
  return (source.select_users(np.isin(source.user_ids, common)),
          target.select_users(np.isin(target.user_ids, common)))


def example_columns(source: seq.Sequences, target: seq.Sequences,
                    extra: Optional[Mapping[str, np.ndarray]] = None) -> Dict[str, Any]:
  """Returns one example per target item: the user's source history and the target item.

  `source` and `target` contain the same users in the same order. `extra` contains per-user
  columns, repeated on each of the user's examples.
  """
  user_index = target.user_index()
  history = source.gather(user_index)
  columns = {'user_id': target.user_ids[user_index], 'item_ids': history.ragged(),
             'target_item': target.values}
  for name, values in (extra or {}).items():
    columns[name] = values[user_index]
  return columns


def split_examples(columns: Mapping[str, Any], offsets: np.ndarray, mode: str, seed: int,
                   ratios, prefix: str = '') -> Dict[str, Dict[str, Any]]:
  """Splits example columns by user ('user') or by example ('example') with a seeded hash."""
  users = columns['user_id']
  if mode == 'user':
    unit = seq.hash_unit(seed, hashing.SALT_SPLIT, users)
  else:
    unit = seq.hash_unit(seed, hashing.SALT_SPLIT, users, offsets)
  split = seq.split_by_unit(unit, ratios)
  out = {}
  for index, name in enumerate(seq.split_names(prefix)):
    rows = np.flatnonzero(split == index)
    out[name] = {key: _take_rows(values, rows) for key, values in columns.items()}
  return out


def _take_rows(values, rows: np.ndarray):
  if isinstance(values, tfexample.RaggedColumn):
    sequences = seq.Sequences(np.zeros(len(values), np.int64), values.values,
                              values.row_splits - values.row_splits[0])
    return sequences.gather(rows).ragged()
  return values[rows]


class ColdStartBuilder(base.TaskBuilder):
  """Builds the cold-start dataset (one setting per build)."""

  task = 'coldstart'
  num_passes = 3

  def __init__(self, options: Optional[ColdStartOptions] = None):
    self.options = options or ColdStartOptions()
    self._source = schema_lib.get_scenario(self.options.source_scenario)
    self._target = schema_lib.get_scenario(self.options.target_scenario)
    if self._source == self._target:
      raise ValueError(f'The cold-start source and target scenarios must differ, both are '
                       f'{self.options.source_scenario!r}.')
    self._filter = seq.ClickSequenceFilter(self._source.name, self.options)

  def inputs(self) -> List[base.BuilderInput]:
    return [base.BuilderInput(self._source.name, self._source, sbr.COLUMNS),
            base.BuilderInput(self._target.name, self._target, sbr.COLUMNS)]

  def options_dict(self) -> Dict[str, Any]:
    return self.options.to_dict()

  def deviations(self) -> List[str]:
    o = self.options
    notes = []
    if o.setting == 'recent5':
      notes.append(f'Every user keeps the most recent {o.max_cold_clicks} target clicks, as the '
                   'paper describes (the reference kept the earliest five).')
    if o.setting == 'mixed':
      notes.append('Cold users and their click budgets are drawn with a seeded hash (the '
                   'reference drew them without a seed).')
    if o.split_mode == 'user':
      notes.append('Examples are split 8:1:1 by user, so a user is in one split only (the '
                   'reference split examples at random, so a user\'s other targets leaked into '
                   'training).')
    notes.append('Users are the SBR users that also clicked in the target scenario (the '
                  'reference also intersected with the SBR users, after taking the overlap '
                  'with every QK-video user).')
    return notes

  def summarize_chunk(self, input_name: str, batch: reader.RawBatch) -> Dict[str, Any]:
    if input_name == self._source.name:
      return self._filter.summarize_chunk(batch)
    return {'target_rows': int(batch.num_rows)}

  def finalize_summary(self, summary: Dict[str, Any]) -> Dict[str, Any]:
    out = base.public_entries(summary)
    out['filter'] = self._filter.finalize(summary)
    return out

  def process_bucket(self, tables: Mapping[str, base.UserTable],
                     summary: Mapping[str, Any]) -> base.BucketResult:
    o = self.options
    source_account = accounting.RowAccount()
    target_account = accounting.RowAccount()
    sbr_sequences, _ = self._filter.apply(tables[self._source.name], summary['filter'],
                                          source_account)
    target = target_sequences(tables[self._target.name], 'click', sbr_sequences.user_ids,
                              target_account)
    source, target = align_users(sbr_sequences, target)

    source_account.filter(USER_WITHOUT_TARGET, sbr_sequences.num_values - source.num_values)
    history = source.drop_last(o.source_drop_last)
    source_account.filter(SOURCE_HELD_OUT, source.num_values - history.num_values)
    source_account.used = history.num_values

    intermediate = dict(history.to_arrays(_SOURCE))
    intermediate.update(target.to_arrays(_TARGET))
    return base.BucketResult(
        accounts={self._source.name: source_account, self._target.name: target_account},
        intermediate=intermediate,
        extras={'_source_counts': base.value_counts(sbr_sequences.values),
                '_users': [source.user_ids], 'sbr_users': sbr_sequences.num_users})

  def finalize_pass(self, pass_index: int, side: Mapping[str, Any],
                    summary: Mapping[str, Any]) -> Dict[str, Any]:
    o = self.options
    if pass_index == 0:
      vocabulary = seq.Vocabulary.from_counts(summary.get('_source_counts', seq.EMPTY_COUNTS),
                                              o.item_order)
      users = seq.concatenate_ids(summary.get('_users', []))
      cold_count = int(np.floor(o.cold_fraction * users.size)) if o.setting == 'mixed' else (
          int(users.size))
      threshold = seq.smallest_hash_threshold(
          hashing.hash_columns(o.seed, seq.SALT_COLD_USERS, users), cold_count)
      statistics = dict(side['filter']['statistics'], source_items=vocabulary.size,
                        sbr_users=int(summary.get('sbr_users', 0)), users=int(users.size),
                        cold_users=cold_count)
      return {'source_vocabulary': vocabulary.raw_ids, 'cold_threshold': threshold,
              'statistics': statistics}
    vocabulary = seq.Vocabulary.from_counts(summary.get('_target_counts', seq.EMPTY_COUNTS),
                                            'raw_id')
    statistics = dict(side['statistics'], target_items=vocabulary.size,
                      target_clicks=int(np.sum(summary.get('_target_counts',
                                                           seq.EMPTY_COUNTS)[1])))
    return {'source_vocabulary': side['source_vocabulary'], 'target_vocabulary':
            vocabulary.raw_ids, 'statistics': statistics}

  def cold_budget(self, users: np.ndarray, lengths: np.ndarray,
                  threshold: Optional[int]) -> Tuple[np.ndarray, np.ndarray]:
    """Returns (is_cold, clicks kept) per user for the configured setting."""
    o = self.options
    if o.setting != 'mixed':
      return np.ones(users.shape, dtype=bool), np.full(users.shape, o.max_cold_clicks)
    cold = seq.select_by_threshold(hashing.hash_columns(o.seed, seq.SALT_COLD_USERS, users),
                                   threshold)
    budget = 1 + np.floor(seq.hash_unit(o.seed, seq.SALT_COLD_LENGTH, users) *
                          o.max_cold_clicks).astype(np.int64)
    return cold, np.where(cold, budget, lengths)

  def process_pass(self, pass_index: int, arrays: Mapping[str, np.ndarray],
                   side: Mapping[str, Any]) -> base.BucketResult:
    o = self.options
    if pass_index == 1:
      history = seq.Sequences.from_arrays(arrays, _SOURCE)
      target = seq.Sequences.from_arrays(arrays, _TARGET)
      cold, budget = self.cold_budget(target.user_ids, target.lengths, side['cold_threshold'])
      keep_last = o.setting == 'recent5' or (o.setting == 'mixed' and o.cold_keep == 'last')
      kept = target.take_last(budget) if keep_last else target.take_first(budget)
      account = accounting.RowAccount(used=kept.num_values)
      account.filter(COLD_TRUNCATION, target.num_values - kept.num_values)

      encoded = history.map_values(seq.Vocabulary(side['source_vocabulary']).encode(
          history.values))
      intermediate = dict(encoded.to_arrays(_SOURCE))
      intermediate.update(kept.to_arrays(_TARGET))
      intermediate['is_cold'] = cold.astype(np.int64)
      return base.BucketResult(accounts={self._target.name: account},
                               intermediate=intermediate,
                               extras={'_target_counts': base.value_counts(kept.values),
                                       'cold_users_kept': int(cold.sum())})

    history = seq.Sequences.from_arrays(arrays, _SOURCE)
    target = seq.Sequences.from_arrays(arrays, _TARGET)
    encoded = target.map_values(seq.Vocabulary(side['target_vocabulary']).encode(target.values))
    columns = example_columns(history, encoded, {'is_cold': arrays['is_cold']})
    splits = split_examples(columns, target.offsets, o.split_mode, o.seed, o.split_ratios)
    users = {f'{name}_users': int(np.unique(split['user_id']).size)
             for name, split in splits.items()}
    return base.BucketResult(splits=splits, extras={'split_users': users})

  def write_side_files(self, output_dir: str, side: Mapping[str, Any]) -> List[str]:
    return [
        seq.write_vocabulary(output_dir, sbr.VOCABULARY_FILE, side['target_vocabulary']),
        seq.write_vocabulary(output_dir, SOURCE_VOCABULARY_FILE, side['source_vocabulary']),
    ]

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    statistics = dict(summary.get('side_statistics', {}).get('pass_2', {}))
    statistics['split_users'] = summary.get('split_users', {})
    statistics['cold_users_truncated'] = int(summary.get('cold_users_kept', 0))
    return statistics

  def explain_empty(self, split: str, report: Mapping[str, Any]) -> str:
    statistics = report['statistics']
    if statistics.get('sbr_users', 0) == 0:
      return sbr.explain_empty_sequences(self.task, split, report, self._source.name,
                                         dict(statistics, users=0), self.options)
    if statistics.get('users', 0) == 0:
      return (f'The cold-start dataset has no {split} examples: none of the '
              f'{statistics["sbr_users"]} {self._source.file_name} users with enough clicks '
              f'clicked in {self._target.file_name}. Check that both files share user ids.')
    return (f'The cold-start dataset has no {split} examples: {statistics["users"]} users are '
            f'too few for the split ratios {self.options.split_ratios}; use more input data.')
