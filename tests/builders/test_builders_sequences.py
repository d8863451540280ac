"""Tests of the shared sequence helpers."""

import numpy as np
import pytest

from components.builders import accounting
from components.builders import base
from components.builders import hashing
from components.builders import sequences as seq
from components.builders.sequence_options import SequenceFilterOptions
from components.tenrec_io import reader


def _sequences():
  # user 7: [1, 2, 3, 4], user 9: [5], user 11: [6, 7]
  return seq.Sequences.from_rows(np.array([7, 7, 7, 7, 9, 11, 11]),
                                 np.array([1, 2, 3, 4, 5, 6, 7]),
                                 np.arange(7) * 10)


def _lists(sequences):
  return [list(sequences.values[a:b]) for a, b in
          zip(sequences.row_splits[:-1], sequences.row_splits[1:])]


def test_sequences_from_rows_groups_users():
  sequences = _sequences()
  assert list(sequences.user_ids) == [7, 9, 11]
  assert _lists(sequences) == [[1, 2, 3, 4], [5], [6, 7]]


def test_sequences_take_first_per_user_counts():
  assert _lists(_sequences().take_first(np.array([2, 5, 1]))) == [[1, 2], [5], [6]]


def test_sequences_take_last_keeps_offsets():
  last = _sequences().take_last(2)
  assert _lists(last) == [[3, 4], [5], [6, 7]]
  assert list(last.offsets) == [20, 30, 40, 50, 60]


def test_sequences_drop_last():
  assert _lists(_sequences().drop_last(1)) == [[1, 2, 3], [], [6]]


def test_sequences_gather_repeats_users():
  gathered = _sequences().gather(np.array([2, 0, 2]))
  assert list(gathered.user_ids) == [11, 7, 11]
  assert _lists(gathered) == [[6, 7], [1, 2, 3, 4], [6, 7]]


def test_sequences_item_from_end():
  sequences = _sequences().select_users(np.array([True, False, True]))
  assert list(sequences.item_from_end(2)) == [3, 6]
  with pytest.raises(ValueError, match='fewer than 3'):
    sequences.item_from_end(3)


def test_sequences_arrays_round_trip():
  sequences = _sequences()
  restored = seq.Sequences.from_arrays(sequences.to_arrays('x'), 'x')
  assert _lists(restored) == _lists(sequences)
  assert list(restored.offsets) == list(sequences.offsets)


def test_vocabulary_raw_id_order():
  vocabulary = seq.Vocabulary.from_counts((np.array([4, 9, 30]), np.array([5, 1, 7])), 'raw_id')
  assert list(vocabulary.raw_ids) == [4, 9, 30]
  assert list(vocabulary.encode(np.array([30, 4, 9, 4]))) == [3, 1, 2, 1]


def test_vocabulary_popularity_order_ties_by_id():
  vocabulary = seq.Vocabulary.from_counts((np.array([4, 9, 30, 31]), np.array([5, 7, 7, 1])),
                                          'popularity')
  assert list(vocabulary.raw_ids) == [9, 30, 4, 31]
  assert list(vocabulary.encode(np.array([31, 9]))) == [4, 1]


def test_vocabulary_unknown_item_raises():
  vocabulary = seq.Vocabulary(np.array([1, 2]))
  with pytest.raises(ValueError, match='Item 5 is not in'):
    vocabulary.encode(np.array([1, 5]))


def test_vocabulary_text_lines():
  assert seq.Vocabulary(np.array([12, 3])).text() == '12\n3\n'


def _table(users, items, clicks):
  columns = {'user_id': np.array(users), 'item_id': np.array(items), 'click': np.array(clicks)}
  return base.UserTable.from_columns(columns, np.arange(len(users)) * 5)


def test_click_filter_accounting():
  # Items: 1 has 3 clicks, 2 has 2, 3 has 1 (rare); user 2 keeps 1 click (too few).
  users = [1, 1, 1, 1, 1, 2, 2, 2]
  items = [1, 2, 3, 1, 4, 1, 2, 4]
  clicks = [1, 1, 1, 1, 0, 0, 1, 0]
  options = SequenceFilterOptions(min_user_clicks=3, min_item_clicks=2, max_item_clicks=None)
  sequence_filter = seq.ClickSequenceFilter('qk_video', options)
  batch = reader.RawBatch('f', {'user_id': np.array(users), 'item_id': np.array(items),
                                'click': np.array(clicks)}, np.arange(8))
  side = sequence_filter.finalize(sequence_filter.summarize_chunk(batch))
  account = accounting.RowAccount()
  sequences, rows = sequence_filter.apply(_table(users, items, clicks), side, account)
  assert list(sequences.user_ids) == [1]
  assert list(sequences.values) == [1, 2, 1]
  assert list(rows) == [0, 1, 3]
  assert account.filtered == {seq.NOT_CLICKED: 3, seq.ITEM_TOO_RARE: 1,
                              seq.USER_TOO_FEW_CLICKS: 1}


def test_click_filter_upper_bound_from_fraction():
  options = SequenceFilterOptions(max_item_clicks=500, max_item_click_fraction=0.01)
  sequence_filter = seq.ClickSequenceFilter('qk_video', options)
  assert sequence_filter.upper_bound(20_000) == 200
  assert sequence_filter.upper_bound(100_000) == 500


def test_click_filter_max_users_lowest_ids():
  options = SequenceFilterOptions(max_users=2, user_selection='lowest_ids')
  sequence_filter = seq.ClickSequenceFilter('qk_video', options)
  batch = reader.RawBatch('f', {'user_id': np.array([9, 4, 6, 4]), 'item_id': np.ones(4, int),
                                'click': np.array([1, 1, 1, 0])}, np.arange(4))
  side = sequence_filter.finalize(sequence_filter.summarize_chunk(batch))
  assert list(side['selected_users']) == [4, 6]


def test_leave_last_out_splits():
  encoded = seq.Sequences.from_rows(np.array([5] * 5 + [6] * 3), np.array([1, 2, 3, 4, 5, 7,
                                                                           8, 9]))
  splits = seq.leave_last_out(encoded, np.array([False, True]), prefix='target')
  assert list(splits['target/train']['item_ids'].values) == [1, 2, 3, 7]
  assert list(splits['target/eval']['user_id']) == [6]
  assert list(splits['target/eval']['target_item']) == [8]
  assert list(splits['target/test']['target_item']) == [5, 9]


def test_choose_validation_random_exact_count():
  users = np.arange(1, 1001)
  choice = seq.choose_validation(users, 'random', 0.05, 10, seed=3)
  assert choice['users'] == 50
  assert seq.in_validation(users, choice, seed=3).sum() == 50


def test_choose_validation_minimum_users():
  users = np.arange(1, 101)
  choice = seq.choose_validation(users, 'random', 0.01, 30, seed=3)
  assert seq.in_validation(users, choice, seed=3).sum() == 30


def test_choose_validation_reference_first():
  users = np.array([40, 10, 30, 20])
  choice = seq.choose_validation(users, 'reference_first', 0.5, 0, seed=0)
  assert list(seq.in_validation(users, choice, seed=0)) == [False, True, False, True]


def test_choose_validation_all():
  users = np.array([3, 1])
  assert seq.in_validation(users, seq.choose_validation(users, 'all', 0.0, 0, 0), 0).all()


def test_smallest_hash_threshold_selects_count():
  keys = hashing.hash_columns(1, 2, np.arange(100))
  assert seq.select_by_threshold(keys, seq.smallest_hash_threshold(keys, 37)).sum() == 37
  assert not seq.select_by_threshold(keys, seq.smallest_hash_threshold(keys, 0)).any()


def test_is_member_table_and_search_agree():
  values = np.array([5, 3, 9, 1 << 40, 7])
  members = np.array([3, 7, 1 << 40])
  assert list(seq.is_member(values, members)) == [False, True, False, True, True]
  assert list(seq.is_member(values[[0, 1, 2, 4]], members[:2])) == [False, True, False, True]
  assert seq.is_member(values, np.zeros(0, np.int64)).sum() == 0
