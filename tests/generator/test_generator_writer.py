"""Tests of CSV formatting and the atomic output folder."""

import numpy as np
import pytest

from components.generator import writer
from components.tenrec_io import schema


def _video_columns(**overrides):
  columns = {name: np.array([1, 0]) for name in schema.QK_VIDEO.column_names}
  columns.update(overrides)
  return columns


def test_header_line_exact():
  assert writer.header_line(schema.QK_VIDEO) == (
      b'user_id,item_id,click,follow,like,share,video_category,watching_times,gender,age\n')


def test_video_rows_missing_category():
  columns = _video_columns(video_category=np.array([-1, 1]), watching_times=np.array([3, 0]))
  text = writer.format_rows(schema.QK_VIDEO, columns)
  assert text == b'1,1,1,1,1,1,\\N,3,1,1\n0,0,0,0,0,0,1,0,0,0\n'


def test_article_click_written_as_float():
  columns = {name: np.array([2]) for name in schema.QB_ARTICLE.column_names}
  columns['click'] = np.array([1])
  columns['read_percentage'] = np.array([37.25])
  columns['item_score1'] = np.array([1.0])
  text = writer.format_rows(schema.QB_ARTICLE, columns)
  assert text == b'2,2,1.0,2,2,2,2,2,2,37.25,1.0,2.0,2,2,2.0\n'


def test_missing_float_written_as_marker():
  columns = {name: np.array([1]) for name in schema.QB_ARTICLE.column_names}
  columns['read_percentage'] = np.array([np.nan])
  fields = writer.format_rows(schema.QB_ARTICLE, columns).decode().strip().split(',')
  assert fields[9] == '\\N'


def test_empty_rows_give_empty_bytes():
  columns = {name: np.zeros(0, np.int64) for name in schema.QK_VIDEO.column_names}
  assert writer.format_rows(schema.QK_VIDEO, columns) == b''


def test_missing_column_rejected():
  columns = _video_columns()
  del columns['age']
  with pytest.raises(ValueError, match="column 'age'"):
    writer.format_rows(schema.QK_VIDEO, columns)


def test_unequal_lengths_rejected():
  with pytest.raises(ValueError, match='differ in length'):
    writer.format_rows(schema.QK_VIDEO, _video_columns(age=np.array([1])))


def test_atomic_directory_renames_on_success(tmp_path):
  target = tmp_path / 'out'
  with writer.AtomicOutputDirectory(target) as folder:
    (folder / 'a.csv').write_text('x')
    assert not target.exists()
  assert (target / 'a.csv').read_text() == 'x'
  assert [p.name for p in tmp_path.iterdir()] == ['out']


def test_atomic_directory_cleans_up_on_error(tmp_path):
  target = tmp_path / 'out'
  with pytest.raises(RuntimeError):
    with writer.AtomicOutputDirectory(target) as folder:
      (folder / 'a.csv').write_text('x')
      raise RuntimeError('injected')
  assert list(tmp_path.iterdir()) == []


def test_atomic_directory_rejects_non_empty(tmp_path):
  (tmp_path / 'keep.txt').write_text('x')
  with pytest.raises(FileExistsError, match='--overwrite'):
    writer.AtomicOutputDirectory(tmp_path)


def test_atomic_directory_rejects_file(tmp_path):
  path = tmp_path / 'file'
  path.write_text('x')
  with pytest.raises(FileExistsError, match='not a folder'):
    writer.AtomicOutputDirectory(path)


def test_atomic_directory_overwrite_replaces(tmp_path):
  target = tmp_path / 'out'
  target.mkdir()
  (target / 'old.csv').write_text('old')
  with writer.AtomicOutputDirectory(target, overwrite=True) as folder:
    (folder / 'new.csv').write_text('new')
  assert sorted(p.name for p in target.iterdir()) == ['new.csv']
  assert [p.name for p in tmp_path.iterdir()] == ['out']


def test_atomic_directory_accepts_empty_target(tmp_path):
  target = tmp_path / 'out'
  target.mkdir()
  with writer.AtomicOutputDirectory(target) as folder:
    (folder / 'a.csv').write_text('x')
  assert (target / 'a.csv').exists()
