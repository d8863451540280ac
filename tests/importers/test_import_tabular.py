"""Tests of the CSV and Parquet importer with a column mapping."""

import json

import pandas as pd
import pytest

from components.importers import tabular
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError

MAPPING = {'user_id': 'uid', 'item_id': 'iid', 'click': 'clicked', 'gender': 'sex'}
LOG = pd.DataFrame({
    'uid': [5, 3, 5, 3, 5, 9],
    'iid': [1, 2, 3, 4, 5, 6],
    'clicked': [1, 0, 1, 1, 0, 1],
    'sex': [1, 2, 1, 2, 1, 0],
    'ts': [30, 20, 10, 10, 20, 5],
    'extra': ['a', 'b', 'c', 'd', 'e', 'f'],
})


def _columns(out):
  return reader.read_file(str(out / 'QK-video.csv'), schema_lib.QK_VIDEO,
                          schema_lib.QK_VIDEO.column_names).columns


def test_tabular_csv_sorted_by_user_and_timestamp(tmp_path):
  LOG.to_csv(tmp_path / 'log.csv', index=False)
  tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', MAPPING, timestamp='ts',
                       rows_per_bucket=2)
  columns = _columns(tmp_path / 'out')
  assert list(columns['user_id']) == [3, 3, 5, 5, 5, 9]
  assert list(columns['item_id']) == [4, 2, 3, 5, 1, 6]
  assert list(columns['click']) == [1, 0, 1, 0, 1, 1]
  assert list(columns['gender']) == [2, 2, 1, 1, 1, 0]


def test_tabular_defaults_for_unmapped_columns(tmp_path):
  LOG.to_csv(tmp_path / 'log.csv', index=False)
  metadata = tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', MAPPING)
  columns = _columns(tmp_path / 'out')
  assert set(columns['like']) == {0}
  assert set(columns['age']) == {0}
  assert set(columns['video_category']) == {-1}
  assert metadata['mapping']['like'] == 'constant 0'
  assert metadata['mapping']['click'] == "source column 'clicked'"


def test_tabular_file_order_without_timestamp(tmp_path):
  LOG.to_csv(tmp_path / 'log.csv', index=False)
  tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', MAPPING)
  assert list(_columns(tmp_path / 'out')['item_id']) == [2, 4, 1, 3, 5, 6]


def test_tabular_parquet_equals_csv(tmp_path):
  LOG.to_csv(tmp_path / 'log.csv', index=False)
  LOG.to_parquet(tmp_path / 'log.parquet')
  tabular.import_table(tmp_path / 'log.csv', tmp_path / 'csv', MAPPING, timestamp='ts')
  tabular.import_table(tmp_path / 'log.parquet', tmp_path / 'pq', MAPPING, timestamp='ts',
                       parquet_batch_rows=2)
  assert (tmp_path / 'csv' / 'QK-video.csv').read_bytes() == (
      tmp_path / 'pq' / 'QK-video.csv').read_bytes()


def test_tabular_iso_timestamps(tmp_path):
  log = LOG.assign(ts=pd.to_datetime(LOG['ts'], unit='D').astype(str))
  log.to_csv(tmp_path / 'log.csv', index=False)
  tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', MAPPING, timestamp='ts')
  assert list(_columns(tmp_path / 'out')['item_id']) == [4, 2, 3, 5, 1, 6]


def test_tabular_remap_ids(tmp_path):
  log = LOG.assign(uid=['u' + str(u) for u in LOG['uid']], iid=['i' + str(i) for i in LOG['iid']])
  log.to_csv(tmp_path / 'log.csv', index=False)
  tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', MAPPING, remap_ids=True)
  columns = _columns(tmp_path / 'out')
  assert list(columns['user_id']) == [1, 1, 1, 2, 2, 3]
  users = (tmp_path / 'out' / 'user_ids.tsv').read_text().splitlines()
  assert users[1:] == ['u5\t1', 'u3\t2', 'u9\t3']


def test_tabular_invalid_click_located(tmp_path):
  LOG.assign(clicked=[1, 0, 3, 1, 0, 1]).to_csv(tmp_path / 'log.csv', index=False)
  with pytest.raises(TenrecInputError) as caught:
    tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', MAPPING)
  assert caught.value.line == 4
  assert caught.value.column == 'clicked'
  assert caught.value.value == '3'
  assert not (tmp_path / 'out').exists()


def test_tabular_non_numeric_id_located(tmp_path):
  LOG.assign(iid=['1', '2', 'x', '4', '5', '6']).to_csv(tmp_path / 'log.csv', index=False)
  with pytest.raises(TenrecInputError) as caught:
    tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', MAPPING)
  assert caught.value.line == 4
  assert caught.value.column == 'iid'


def test_tabular_parquet_error_names_row(tmp_path):
  LOG.assign(sex=[1, 2, 1, 2, 5, 0]).to_parquet(tmp_path / 'log.parquet')
  with pytest.raises(TenrecInputError, match=r'\(row 5\)') as caught:
    tabular.import_table(tmp_path / 'log.parquet', tmp_path / 'out', MAPPING,
                         parquet_batch_rows=2)
  assert caught.value.column == 'sex'
  assert caught.value.line is None


def test_tabular_missing_source_column(tmp_path):
  LOG.to_csv(tmp_path / 'log.csv', index=False)
  with pytest.raises(TenrecInputError) as caught:
    tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', dict(MAPPING, like='liked'))
  assert caught.value.line == 1
  assert caught.value.column == 'liked'


def test_tabular_wrong_delimiter(tmp_path):
  LOG.to_csv(tmp_path / 'log.tsv', index=False, sep='\t')
  with pytest.raises(TenrecInputError, match='tab-separated'):
    tabular.import_table(tmp_path / 'log.tsv', tmp_path / 'out', MAPPING)
  tabular.import_table(tmp_path / 'log.tsv', tmp_path / 'out', MAPPING, delimiter='\t')
  assert json.loads((tmp_path / 'out' / 'import.json').read_text())['rows'] == 6


@pytest.mark.parametrize('mapping,message', [
    ({'item_id': 'iid'}, 'user_id'),
    ({'user_id': 'uid', 'item_id': 'iid', 'rating': 'clicked'}, 'Unknown Tenrec column'),
    ({'user_id': 'uid', 'item_id': 'uid'}, 'more than once'),
])
def test_tabular_invalid_mapping(tmp_path, mapping, message):
  LOG.to_csv(tmp_path / 'log.csv', index=False)
  with pytest.raises(ValueError, match=message):
    tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', mapping)


def test_parse_mapping_items():
  assert tabular.parse_mapping_items(['user_id=a', ' item_id = b=c ']) == {'user_id': 'a',
                                                                           'item_id': 'b=c'}
  with pytest.raises(ValueError, match='tenrec_column=source_column'):
    tabular.parse_mapping_items(['user_id'])


def test_tabular_article_scenario(tmp_path):
  LOG.to_csv(tmp_path / 'log.csv', index=False)
  tabular.import_table(tmp_path / 'log.csv', tmp_path / 'out', {'user_id': 'uid', 'item_id': 'iid'},
                       scenario='qb_article')
  batch = reader.read_file(str(tmp_path / 'out' / 'QB-article.csv'), schema_lib.QB_ARTICLE,
                           ('user_id', 'click', 'read_percentage'))
  assert set(batch.columns['click']) == {1}
  assert (tmp_path / 'out' / 'QB-article.csv').read_text().splitlines()[1].split(',')[2] == '1.0'
