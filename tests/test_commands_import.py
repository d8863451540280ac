"""Tests of `tenrec import`."""

import json

import pandas as pd
import pytest

from pipeline import cli
from pipeline import datasets
from pipeline.commands import import_data


@pytest.fixture
def movielens_dir(tmp_path):
  folder = tmp_path / 'ml'
  folder.mkdir()
  (folder / 'ml-mini.inter').write_text(
      'user_id:token\titem_id:token\trating:float\ttimestamp:float\n1\t5\t4\t10\n1\t6\t2\t5\n')
  return folder


def test_import_movielens_command(movielens_dir, tmp_path, capsys):
  out = tmp_path / 'out'
  status = cli.main(['import', 'movielens', '--source', str(movielens_dir), '--out', str(out)])
  printed = capsys.readouterr().out
  assert status == 0
  assert 'Imported ml-mini (movielens): 2 rows' in printed
  assert (out / 'QK-video.csv').read_text().splitlines()[1].startswith('1,6,0')


def test_import_labels_dataset_public(movielens_dir, tmp_path):
  out = tmp_path / 'out'
  cli.main(['import', 'movielens', '--source', str(movielens_dir), '--out', str(out),
            '--name', 'ml-mini-test'])
  info = datasets.describe(str(out))
  assert info.kind == 'public'
  assert info.name == 'ml-mini-test'


def test_import_default_movielens_dir(monkeypatch, tmp_path):
  monkeypatch.setenv(import_data.SHARED_DATA_ENV, str(tmp_path))
  assert import_data.default_movielens_dir() == str(tmp_path / 'movielens-100k')


def test_import_movielens_default_missing(monkeypatch, tmp_path, capsys):
  monkeypatch.setenv(import_data.SHARED_DATA_ENV, str(tmp_path))
  status = cli.main(['import', 'movielens', '--out', str(tmp_path / 'out')])
  error = capsys.readouterr().err
  assert status == 2
  assert str(tmp_path / 'movielens-100k') in error
  assert '--source' in error
  assert '$TENREC_SHARED_DATA' in error


def test_import_output_dir_alias():
  args = cli.build_parser().parse_args(['import', 'csv', 'log.csv', '--output-dir', 'folder'])
  assert args.out == 'folder'


def test_import_csv_command_with_map(tmp_path, capsys):
  pd.DataFrame({'u': [2, 1], 'i': [3, 4], 't': [9, 8]}).to_csv(tmp_path / 'log.csv', index=False)
  status = cli.main(['import', 'csv', str(tmp_path / 'log.csv'), '--map', 'user_id=u', '--map',
                     'item_id=i', '--timestamp', 't', '--out', str(tmp_path / 'out')])
  assert status == 0
  assert 'user_id: source column' in capsys.readouterr().out
  metadata = json.loads((tmp_path / 'out' / 'import.json').read_text())
  assert metadata['source_columns'] == {'user_id': 'u', 'item_id': 'i'}


def test_import_parquet_mapping_json(tmp_path):
  pd.DataFrame({'u': [1], 'i': [3]}).to_parquet(tmp_path / 'log.parquet')
  (tmp_path / 'map.json').write_text('{"user_id": "u", "item_id": "i"}')
  status = cli.main(['import', 'parquet', str(tmp_path / 'log.parquet'), '--mapping',
                     str(tmp_path / 'map.json'), '--out', str(tmp_path / 'out')])
  assert status == 0
  assert json.loads((tmp_path / 'out' / 'import.json').read_text())['importer'] == 'parquet'


def test_import_sequences_command(tmp_path):
  (tmp_path / 'seq.txt').write_text('1 2 3\n')
  status = cli.main(['import', 'sequences', str(tmp_path / 'seq.txt'), '--out',
                     str(tmp_path / 'out')])
  assert status == 0


def test_import_bad_mapping_exit_status(tmp_path, capsys):
  pd.DataFrame({'u': [1], 'i': [3]}).to_csv(tmp_path / 'log.csv', index=False)
  status = cli.main(['import', 'csv', str(tmp_path / 'log.csv'), '--map', 'user=u', '--out',
                     str(tmp_path / 'out')])
  assert status == 2
  assert 'Unknown Tenrec column' in capsys.readouterr().err


def test_import_invalid_value_exit_status(tmp_path):
  pd.DataFrame({'u': [1, -2], 'i': [3, 4]}).to_csv(tmp_path / 'log.csv', index=False)
  status = cli.main(['import', 'csv', str(tmp_path / 'log.csv'), '--map', 'user_id=u', '--map',
                     'item_id=i', '--out', str(tmp_path / 'out')])
  assert status == 2
