"""Tests of the one-user-per-line sequence importer."""

import pytest

from components.importers import sequences
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError


def _read(out, columns=('user_id', 'item_id', 'click', 'gender', 'video_category')):
  return reader.read_file(str(out / 'QK-video.csv'), schema_lib.QK_VIDEO, columns).columns


def test_sequences_rows_in_file_order(tmp_path):
  path = tmp_path / 'seq.txt'
  path.write_text('3 7 8 9\n\n1 4 7\n')
  metadata = sequences.import_sequences(path, tmp_path / 'out', block_lines=1)
  columns = _read(tmp_path / 'out')
  assert list(columns['user_id']) == [3, 3, 3, 1, 1]
  assert list(columns['item_id']) == [7, 8, 9, 4, 7]
  assert set(columns['click']) == {1}
  assert set(columns['gender']) == {0}
  assert set(columns['video_category']) == {-1}
  assert metadata['rows'] == 5
  assert metadata['users'] == 2


def test_sequences_item_zero_shifted(tmp_path):
  path = tmp_path / 'seq.txt'
  path.write_text('1 0 2\n')
  metadata = sequences.import_sequences(path, tmp_path / 'out')
  assert list(_read(tmp_path / 'out')['item_id']) == [1, 3]
  assert metadata['mapping']['item_id'] == 'item token + 1'


def test_sequences_remap_tokens(tmp_path):
  path = tmp_path / 'seq.txt'
  path.write_text('alice a b a\nbob b c\n')
  sequences.import_sequences(path, tmp_path / 'out', remap_ids=True)
  columns = _read(tmp_path / 'out')
  assert list(columns['user_id']) == [1, 1, 1, 2, 2]
  assert list(columns['item_id']) == [1, 2, 1, 2, 3]
  assert (tmp_path / 'out' / 'item_ids.tsv').read_text().splitlines()[1] == 'a\t1'


def test_sequences_invalid_token(tmp_path):
  path = tmp_path / 'seq.txt'
  path.write_text('1 2 3\n2 4 x5\n')
  with pytest.raises(TenrecInputError) as caught:
    sequences.import_sequences(path, tmp_path / 'out')
  assert caught.value.line == 2
  assert caught.value.column == 'item_id'
  assert caught.value.value == 'x5'
  assert not (tmp_path / 'out').exists()


def test_sequences_user_without_items(tmp_path):
  path = tmp_path / 'seq.txt'
  path.write_text('1 2 3\n7\n')
  with pytest.raises(TenrecInputError, match='no items') as caught:
    sequences.import_sequences(path, tmp_path / 'out')
  assert caught.value.line == 2


def test_sequences_empty_file(tmp_path):
  path = tmp_path / 'seq.txt'
  path.write_text('')
  with pytest.raises(TenrecInputError, match='empty'):
    sequences.import_sequences(path, tmp_path / 'out')


def test_sequences_comma_delimiter(tmp_path):
  path = tmp_path / 'seq.csv'
  path.write_text('1,2,3\n')
  with pytest.raises(TenrecInputError, match='--delimiter'):
    sequences.import_sequences(path, tmp_path / 'bad')
  sequences.import_sequences(path, tmp_path / 'out', delimiter=',')
  assert list(_read(tmp_path / 'out')['item_id']) == [2, 3]


def test_sequences_beauty_counts(public_data_dir, tmp_path):
  metadata = sequences.import_sequences(public_data_dir / 'amazon-beauty' / 'Beauty.txt',
                                        tmp_path / 'beauty')
  assert metadata['rows'] == 198_502
  assert metadata['users'] == 22_363
  assert metadata['source'] == 'Beauty'
