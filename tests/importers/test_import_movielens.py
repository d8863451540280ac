"""Tests of the MovieLens (RecBole atomic) importer."""

import json

import numpy as np
import pytest

from components.importers import movielens
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError

INTER = ('user_id:token\titem_id:token\trating:float\ttimestamp:float\n'
         '2\t10\t5\t300\n'
         '1\t11\t3\t200\n'
         '1\t10\t4\t100\n'
         '2\t12\t1\t100\n'
         '1\t12\t5\t200\n')
USER = ('user_id:token\tage:token\tgender:token\toccupation:token\tzip_code:token\n'
        '1\t24\tM\tstudent\t1\n'
        '2\t75\tF\tother\t2\n')
ITEM = ('item_id:token\tmovie_title:token_seq\trelease_year:token\tclass:token_seq\n'
        '10\tA Movie\t1995\tComedy Drama\n'
        '11\tB Movie\t1996\t\n'
        '12\tC Movie\t1997\tSci-Fi\n')


@pytest.fixture
def source(tmp_path):
  folder = tmp_path / 'ml'
  folder.mkdir()
  (folder / 'ml-tiny.inter').write_text(INTER)
  (folder / 'ml-tiny.user').write_text(USER)
  (folder / 'ml-tiny.item').write_text(ITEM)
  return folder


@pytest.fixture
def imported(source, tmp_path):
  out = tmp_path / 'out'
  metadata = movielens.import_movielens(source, out)
  batch = reader.read_file(str(out / 'QK-video.csv'), schema_lib.QK_VIDEO,
                           schema_lib.QK_VIDEO.column_names)
  return out, metadata, batch.columns


def test_movielens_rows_in_user_time_order(imported):
  _, _, columns = imported
  assert list(columns['user_id']) == [1, 1, 1, 2, 2]
  assert list(columns['item_id']) == [10, 11, 12, 12, 10]


def test_movielens_click_and_like_from_rating(imported):
  _, _, columns = imported
  assert list(columns['click']) == [1, 0, 1, 0, 1]
  assert list(columns['like']) == [0, 0, 1, 0, 1]


def test_movielens_first_genre_category(imported):
  _, _, columns = imported
  # Comedy = 5, no genre = missing, Sci-Fi = 15.
  assert list(columns['video_category']) == [5, -1, 15, 15, 5]


def test_movielens_demographics(imported):
  _, _, columns = imported
  assert list(columns['gender']) == [1, 1, 1, 2, 2]
  assert list(columns['age']) == [2, 2, 2, 7, 7]


def test_movielens_import_metadata(imported):
  out, metadata, _ = imported
  saved = json.loads((out / 'import.json').read_text())
  assert saved == metadata
  assert saved['kind'] == 'public'
  assert saved['source'] == 'ml-tiny'
  assert saved['rows'] == 5
  assert saved['mapping']['video_category_index']['Comedy'] == 5


def test_movielens_item_zero_shifted(source, tmp_path):
  (source / 'ml-tiny.inter').write_text(INTER.replace('\t12\t', '\t0\t'))
  metadata = movielens.import_movielens(source, tmp_path / 'out')
  batch = reader.read_file(str(tmp_path / 'out' / 'QK-video.csv'), schema_lib.QK_VIDEO,
                           ('item_id',))
  assert batch.columns['item_id'].min() == 1
  assert metadata['mapping']['item_id'] == 'item_id + 1'


def test_movielens_age_bins():
  assert list(movielens.age_bins(np.array([0, 7, 18, 25, 56, 99]))) == [0, 1, 1, 2, 5, 7]


def test_movielens_invalid_rating(source, tmp_path):
  (source / 'ml-tiny.inter').write_text(INTER.replace('\t3\t200', '\tthree\t200'))
  with pytest.raises(TenrecInputError) as caught:
    movielens.import_movielens(source, tmp_path / 'out')
  assert caught.value.line == 3
  assert caught.value.column == 'rating'
  assert caught.value.value == 'three'
  assert not (tmp_path / 'out').exists()


def test_movielens_missing_inter(tmp_path):
  (tmp_path / 'empty').mkdir()
  with pytest.raises(TenrecInputError, match='no .inter file'):
    movielens.import_movielens(tmp_path / 'empty', tmp_path / 'out')


def test_movielens_refuses_non_empty_out(source, tmp_path):
  out = tmp_path / 'out'
  out.mkdir()
  (out / 'other.txt').write_text('x')
  with pytest.raises(FileExistsError, match='--overwrite'):
    movielens.import_movielens(source, out)


def test_movielens_100k_counts(public_data_dir, tmp_path):
  metadata = movielens.import_movielens(public_data_dir / 'movielens-100k', tmp_path / 'ml')
  assert metadata['rows'] == 100_000
  assert metadata['users'] == 943
  assert metadata['items'] == 1682
  assert metadata['clicks'] == 55_375
