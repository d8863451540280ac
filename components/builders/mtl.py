"""Multi-task dataset builders.

Video variant (`scenario='qk_video'`, the Tenrec multi-task benchmark): the CTR examples (same
history, negative sampling and split as `components.builders.ctr`) with the selected labels
as objectives, click and like by default (share and follow optional).

QK-article variant (`scenario='qk_article'`): one example per QK-article row with up to six
objectives: click, read, share, like, follow, favorite. Features: `user_id`, `item_id`,
`gender`, `age`, `category_first`, `category_second` (-1 = missing) and `hist_item_ids`, the
user's last `history_length` clicked articles before the row (oldest first, left-padded with
-1). No negative sampling: every row is kept.

QK-article is a click log: in the released file every row has click = 1 (stored as 1.0), so
"click" is constant there and cannot be learned; read, share, like, follow and favorite are
post-click actions (their rate is conditional on the click), which is what the article
variant can learn. If an article file also contains click = 0 rows (exposures), click becomes
a proper objective. The report lists, per objective, the positives of the training split and
whether the objective is learnable (both classes present).
"""

from typing import Any, Dict, List, Mapping, Optional

import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import ctr
from components.builders import hashing
from components.builders.mtl_options import MtlOptions  # pylint: disable=unused-import
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib

ARTICLE_FEATURES = ('user_id', 'item_id', 'gender', 'age', 'category_first', 'category_second')


def create_mtl_builder(options: Optional[MtlOptions] = None) -> base.TaskBuilder:
  """Returns the video or the QK-article multi-task builder for `options.scenario`."""
  options = options or MtlOptions()
  return ArticleMtlBuilder(options) if options.is_article else VideoMtlBuilder(options)


def objective_statistics(label_counts: Mapping[str, Mapping[str, int]],
                         split_sizes: Mapping[str, int],
                         labels) -> Dict[str, Dict[str, Any]]:
  """Positives per objective in the training split, and whether the objective is learnable."""
  train = label_counts.get('train', {})
  examples = int(split_sizes.get('train', 0))
  out = {}
  for label in labels:
    positives = int(train.get(label, 0))
    out[label] = {'train_positives': positives, 'train_examples': examples,
                  'learnable': 0 < positives < examples}
  return out


class VideoMtlBuilder(ctr.CtrBuilder):
  """Builds the CTR examples restricted to the selected objectives."""

  task = 'mtl'

  def __init__(self, options: Optional[MtlOptions] = None):
    self.mtl_options = options or MtlOptions()
    super().__init__(self.mtl_options.ctr_options())

  def options_dict(self) -> Dict[str, Any]:
    return self.mtl_options.to_dict()

  def process_bucket(self, tables: Mapping[str, base.UserTable],
                     summary: Mapping[str, Any]) -> base.BucketResult:
    result = super().process_bucket(tables, summary)
    objectives = self.mtl_options.objectives
    for columns in result.splits.values():
      for label in ctr.LABELS:
        if label not in objectives:
          del columns[label]
    result.extras['label_counts'] = {
        split: {label: count for label, count in counts.items() if label in objectives}
        for split, counts in result.extras['label_counts'].items()}
    result.extras['split_sizes'] = {split: int(len(columns['user_id']))
                                    for split, columns in result.splits.items()}
    return result

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    statistics = super().report_statistics(summary)
    statistics['objectives'] = objective_statistics(
        summary.get('label_counts', {}), summary.get('split_sizes', {}),
        self.mtl_options.objectives)
    return statistics


class ArticleMtlBuilder(base.TaskBuilder):
  """One example per QK-article row with the read, share, like, follow, favorite objectives."""

  task = 'mtl'

  def __init__(self, options: Optional[MtlOptions] = None):
    self.options = options or MtlOptions(scenario='qk_article')
    self._scenario = schema_lib.get_scenario(self.options.scenario)
    self._columns = ARTICLE_FEATURES + tuple(
        dict.fromkeys(('click',) + self.options.objectives))

  def inputs(self) -> List[base.BuilderInput]:
    return [base.BuilderInput(self._scenario.name, self._scenario, self._columns)]

  def options_dict(self) -> Dict[str, Any]:
    return self.options.to_dict()

  def deviations(self) -> List[str]:
    notes = ['The QK-article multi-task variant is not part of the Tenrec benchmark (its '
             'multi-task task used QK-video click and like); QK-article has no exposures, so '
             'click is constant and the learnable objectives are post-click actions.']
    if self.options.split_mode == 'random':
      notes.append('Exact duplicate rows always share a split.')
    return notes

  def summarize_chunk(self, input_name: str, batch: reader.RawBatch) -> Dict[str, Any]:
    summary = {'rows': int(batch.num_rows)}
    if self.options.max_users is not None:
      summary['_user_counts'] = base.value_counts(batch.columns['user_id'])
    return summary

  def finalize_summary(self, summary: Dict[str, Any]) -> Dict[str, Any]:
    out = base.public_entries(summary)
    if self.options.max_users is not None:
      users = summary.get('_user_counts', (np.zeros(0, np.int64), None))[0]
      selector = ctr.CtrBuilder(self.options.ctr_options())
      out['selected_users'] = selector._select_users(users)  # pylint: disable=protected-access
    return out

  def process_bucket(self, tables: Mapping[str, base.UserTable],
                     summary: Mapping[str, Any]) -> base.BucketResult:
    o = self.options
    table = tables[self._scenario.name]
    account = accounting.RowAccount()
    if o.max_users is not None:
      selected = np.isin(table.columns['user_id'], summary['selected_users'])
      account.filter('user_selection', int((~selected).sum()))
      table = base.UserTable.from_columns({k: v[selected] for k, v in table.columns.items()},
                                          table.row_offset[selected])
    cols = table.columns
    history = ctr.history_before_row(table, cols['click'], cols['item_id'], o.history_length)
    split = self._assign_splits(table)

    splits = {}
    label_counts = {}
    for index, name in enumerate(self.split_names):
      rows = np.flatnonzero(split == index)
      columns = {feature: cols[feature][rows].astype(np.int64) for feature in ARTICLE_FEATURES}
      columns['hist_item_ids'] = history[rows]
      for label in o.objectives:
        columns[label] = cols[label][rows].astype(np.int64)
      splits[name] = columns
      label_counts[name] = {label: int(columns[label].sum()) for label in o.objectives}
    account.used = table.num_rows
    extras = {'label_counts': label_counts,
              'split_sizes': {name: int(len(c['user_id'])) for name, c in splits.items()}}
    return base.BucketResult(splits=splits, accounts={self._scenario.name: account},
                             extras=extras)

  def _assign_splits(self, table: base.UserTable) -> np.ndarray:
    o = self.options
    cols = table.columns
    if o.split_mode == 'random':
      keys = hashing.hash_columns(o.seed, hashing.SALT_SPLIT, *(cols[c] for c in self._columns))
      return ctr.assign_split_by_unit(hashing.to_unit_interval(keys), o.split_ratios)
    if o.split_mode == 'user':
      keys = hashing.hash_columns(o.seed, hashing.SALT_SPLIT, cols['user_id'])
      return ctr.assign_split_by_unit(hashing.to_unit_interval(keys), o.split_ratios)
    rows_per_user = np.repeat(np.diff(table.user_starts), np.diff(table.user_starts))
    fraction = table.position_in_user() / np.maximum(rows_per_user, 1)
    return ctr.assign_split_by_unit(fraction, o.split_ratios)

  def report_statistics(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    return {
        'rows': int(summary.get('rows', 0)),
        'label_counts': summary.get('label_counts', {}),
        'objectives': objective_statistics(summary.get('label_counts', {}),
                                           summary.get('split_sizes', {}),
                                           self.options.objectives),
    }
