"""Lifelong user-representation (Conure) dataset builder: a chain of four tasks.

* task 0 (QK-video): the SBR dataset of a seeded random sample of floor(0.5 * U) SBR users,
  with its own item vocabulary, leave-last-out splits and validation users. The test input
  includes the validation item, as in the SBR task.
* task 1 (QK-article): each task-0 user's QK-article clicks, at most `task1_max_clicks` (3)
  per user; the reference kept the last three.
* task 2 (QB-video): the task-0 users' QB-video likes (the reference's loader used likes;
  `task2_signal='click'` uses clicks).
* task 3 (QB-article): the task-0 users' QB-article clicks.

Tasks 1-3 have one example per target interaction, like the cold-start task: `user_id`,
`item_ids` = the user's task-0 clicks without the last `source_drop_last` (3), in the task-0
item encoding, and `target_item` in the task's own vocabulary. They are split 8:1:1 by user.
Each task is a sub-dataset:

  task0/Split-*/  task0/item_vocabulary.txt
  taskK/Split-*/  taskK/item_vocabulary.txt  taskK/source_item_vocabulary.txt (= task 0's)

Three reference bugs are fixed. Task 3 comes from QB-article (the reference wrote task 1's data
to task 3). Task 0 is a random half of the users, not the first 500,000 ids. The task-0 test
input includes the validation item.
"""

from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import coldstart
from components.builders import hashing
from components.builders import sbr
from components.builders import sequences as seq
from components.builders.sequence_options import LifelongOptions
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib

TASK0_USER_SAMPLE = 'task0_user_sample'
USER_NOT_IN_TASK0 = 'user_not_in_task0'
TASK1_CLICK_LIMIT = 'task1_click_limit'
TASK_SCENARIOS = ('qk_video', 'qk_article', 'qb_video', 'qb_article')
_SBR = 'sbr'


def task_prefix(task: int) -> str:
  return f'task{task}'


class LifelongBuilder(base.TaskBuilder):
  """Builds the four task datasets of the lifelong-learning benchmark."""

  task = 'lifelong'
  num_passes = 3

  def __init__(self, options: Optional[LifelongOptions] = None):
    self.options = options or LifelongOptions()
    self._scenarios = [schema_lib.get_scenario(name) for name in TASK_SCENARIOS]
    self._filter = seq.ClickSequenceFilter(self._scenarios[0].name, self.options)
    self.split_names = tuple(name for task in range(4)
                             for name in seq.split_names(task_prefix(task)))

  def signal(self, task: int) -> str:
    return self.options.task2_signal if task == 2 else 'click'

  def inputs(self) -> List[base.BuilderInput]:
    inputs = [base.BuilderInput(self._scenarios[0].name, self._scenarios[0], sbr.COLUMNS)]
    for task in (1, 2, 3):
      columns = sbr.COLUMNS if self.signal(task) == 'click' else sbr.COLUMNS + (
          self.signal(task),)
      inputs.append(base.BuilderInput(self._scenarios[task].name, self._scenarios[task],
                                      columns))
    return inputs

  def options_dict(self) -> Dict[str, Any]:
    return self.options.to_dict()

  def deviations(self) -> List[str]:
    o = self.options
    notes = sbr.sbr_deviations(o)
    notes.append(f'Task 0 holds a seeded random {o.task0_user_fraction:.0%} of the SBR users '
                 '(the reference took the first 500,000 user ids).')
    notes.append('The task-0 test input includes the validation item (the reference fed only '
                 'the training items).')
    notes.append('Task 3 is built from QB-article (the reference script wrote the task-1 data '
                 'to task_3.csv).')
    if o.split_mode == 'user':
      notes.append('Tasks 1-3 are split 8:1:1 by user (the reference split examples at random, '
                   'so a user appeared in several splits).')
    if o.task1_keep == 'first':
      notes.append('Task 1 keeps each user\'s first clicks (the reference kept the last).')
    if o.task2_signal == 'click':
      notes.append('Task 2 targets QB-video clicks (the reference\'s loader used likes).')
    return notes

  def summarize_chunk(self, input_name: str, batch: reader.RawBatch) -> Dict[str, Any]:
    if input_name == self._scenarios[0].name:
      return self._filter.summarize_chunk(batch)
    return {}

  def finalize_summary(self, summary: Dict[str, Any]) -> Dict[str, Any]:
    out = base.public_entries(summary)
    out['filter'] = self._filter.finalize(summary)
    return out

  def process_bucket(self, tables: Mapping[str, base.UserTable],
                     summary: Mapping[str, Any]) -> base.BucketResult:
    accounts = {s.name: accounting.RowAccount() for s in self._scenarios}
    sbr_sequences, _ = self._filter.apply(tables[self._scenarios[0].name], summary['filter'],
                                          accounts[self._scenarios[0].name])
    intermediate = dict(sbr_sequences.to_arrays(_SBR))
    for task in (1, 2, 3):
      name = self._scenarios[task].name
      target = coldstart.target_sequences(tables[name], self.signal(task),
                                          sbr_sequences.user_ids, accounts[name])
      intermediate.update(target.to_arrays(task_prefix(task)))
    return base.BucketResult(accounts=accounts, intermediate=intermediate,
                             extras={'_users': [sbr_sequences.user_ids]})

  def finalize_pass(self, pass_index: int, side: Mapping[str, Any],
                    summary: Mapping[str, Any]) -> Dict[str, Any]:
    o = self.options
    if pass_index == 0:
      users = seq.concatenate_ids(summary.get('_users', []))
      count = int(np.floor(o.task0_user_fraction * users.size))
      threshold = seq.smallest_hash_threshold(
          hashing.hash_columns(o.seed, seq.SALT_USER_SUBSET, users), count)
      statistics = dict(side['filter']['statistics'], sbr_users=int(users.size),
                        task0_users=count)
      return {'task0_threshold': threshold, 'statistics': statistics}

    vocabularies = {0: seq.Vocabulary.from_counts(
        summary.get('_counts', {}).get('0', seq.EMPTY_COUNTS), o.item_order).raw_ids}
    for task in (1, 2, 3):
      vocabularies[task] = seq.Vocabulary.from_counts(
          summary.get('_counts', {}).get(str(task), seq.EMPTY_COUNTS), 'raw_id').raw_ids
    users = seq.concatenate_ids(summary.get('_task0_users', []))
    validation = seq.choose_validation(users, o.validation_users, o.validation_fraction,
                                       o.min_validation_users, o.seed)
    statistics = dict(side['statistics'], validation_users=validation['users'])
    for task in range(4):
      statistics[f'task{task}_items'] = int(vocabularies[task].size)
      statistics[f'task{task}_interactions'] = int(
          np.sum(summary.get('_counts', {}).get(str(task), seq.EMPTY_COUNTS)[1]))
    for task in (1, 2, 3):
      statistics[f'task{task}_users'] = int(summary.get('target_users', {}).get(str(task), 0))
    return {'vocabularies': vocabularies, 'validation': validation, 'statistics': statistics}

  def process_pass(self, pass_index: int, arrays: Mapping[str, np.ndarray],
                   side: Mapping[str, Any]) -> base.BucketResult:
    if pass_index == 1:
      return self._choose_task0_users(arrays, side)
    return self._write_tasks(arrays, side)

  def _choose_task0_users(self, arrays: Mapping[str, np.ndarray],
                          side: Mapping[str, Any]) -> base.BucketResult:
    o = self.options
    accounts = {s.name: accounting.RowAccount() for s in self._scenarios}
    sbr_sequences = seq.Sequences.from_arrays(arrays, _SBR)
    chosen = seq.select_by_threshold(
        hashing.hash_columns(o.seed, seq.SALT_USER_SUBSET, sbr_sequences.user_ids),
        side['task0_threshold'])
    task0 = sbr_sequences.select_users(chosen)
    accounts[self._scenarios[0].name].filter(TASK0_USER_SAMPLE,
                                              sbr_sequences.num_values - task0.num_values)
    accounts[self._scenarios[0].name].used = task0.num_values

    intermediate = dict(task0.to_arrays(task_prefix(0)))
    counts = {'0': base.value_counts(task0.values)}
    target_users = {}
    for task in (1, 2, 3):
      account = accounts[self._scenarios[task].name]
      target = seq.Sequences.from_arrays(arrays, task_prefix(task))
      member = target.select_users(np.isin(target.user_ids, task0.user_ids))
      account.filter(USER_NOT_IN_TASK0, target.num_values - member.num_values)
      if task == 1:
        limited = (member.take_last(o.task1_max_clicks) if o.task1_keep == 'last' else
                   member.take_first(o.task1_max_clicks))
        account.filter(TASK1_CLICK_LIMIT, member.num_values - limited.num_values)
        member = limited
      account.used = member.num_values
      intermediate.update(member.to_arrays(task_prefix(task)))
      counts[str(task)] = base.value_counts(member.values)
      target_users[str(task)] = member.num_users
    return base.BucketResult(accounts=accounts, intermediate=intermediate,
                             extras={'_counts': counts, '_task0_users': [task0.user_ids],
                                     'target_users': target_users})

  def _write_tasks(self, arrays: Mapping[str, np.ndarray],
                   side: Mapping[str, Any]) -> base.BucketResult:
    o = self.options
    vocabularies = {task: seq.Vocabulary(raw) for task, raw in side['vocabularies'].items()}
    raw_task0 = seq.Sequences.from_arrays(arrays, task_prefix(0))
    task0 = raw_task0.map_values(vocabularies[0].encode(raw_task0.values))
    chosen = seq.in_validation(task0.user_ids, side['validation'], o.seed)
    splits = seq.leave_last_out(task0, chosen, task_prefix(0))

    history = task0.drop_last(o.source_drop_last)
    for task in (1, 2, 3):
      raw = seq.Sequences.from_arrays(arrays, task_prefix(task))
      target = raw.map_values(vocabularies[task].encode(raw.values))
      user_rows = np.searchsorted(history.user_ids, target.user_ids)
      columns = coldstart.example_columns(history.gather(user_rows), target)
      splits.update(coldstart.split_examples(columns, raw.offsets, o.split_mode, o.seed,
                                             o.split_ratios, task_prefix(task)))
    return base.BucketResult(splits=splits)

  def write_side_files(self, output_dir: str, side: Mapping[str, Any]) -> List[str]:
    vocabularies = side['vocabularies']
    written = [seq.write_vocabulary(output_dir, f'{task_prefix(0)}/{sbr.VOCABULARY_FILE}',
                                    vocabularies[0])]
    for task in (1, 2, 3):
      written.append(seq.write_vocabulary(
          output_dir, f'{task_prefix(task)}/{sbr.VOCABULARY_FILE}', vocabularies[task]))
      written.append(seq.write_vocabulary(
          output_dir, f'{task_prefix(task)}/{coldstart.SOURCE_VOCABULARY_FILE}',
          vocabularies[0]))
    return written

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    return dict(summary.get('side_statistics', {}).get('pass_2', {}))

  def explain_empty(self, split: str, report: Mapping[str, Any]) -> str:
    statistics = report['statistics']
    if statistics.get('sbr_users', 0) == 0:
      return sbr.explain_empty_sequences(self.task, split, report, self._scenarios[0].name,
                                         dict(statistics, users=0), self.options)
    task = int(base.sub_dataset_of(split)[len('task'):])
    if task == 0:
      return (f'The lifelong dataset has no {split} examples: task 0 has '
              f'{statistics.get("task0_users", 0)} users; raise --task0-user-fraction or '
              '--min-validation-users, or use more input data.')
    scenario = self._scenarios[task]
    users = statistics.get(f'task{task}_users', 0)
    if users == 0:
      return (f'The lifelong dataset has no {split} examples: none of the '
              f'{statistics.get("task0_users", 0)} task-0 users has a {self.signal(task)} in '
              f'{scenario.file_name}. Check that the files share user ids, or raise '
              '--task0-user-fraction.')
    return (f'The lifelong dataset has no {split} examples: task {task} has only {users} users, '
            f'too few for the split ratios {self.options.split_ratios}; use more input data or '
            'raise --task0-user-fraction.')
