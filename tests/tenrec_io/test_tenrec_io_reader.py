"""Tests of the Tenrec raw-file reader: parsing, row offsets and every malformed-input class."""

import numpy as np
import pytest

from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError

VIDEO = schema_lib.QK_VIDEO
COLUMNS = ('user_id', 'item_id', 'click', 'video_category')
HEADER = 'user_id,item_id,click,follow,like,share,video_category,watching_times,gender,age'


def _file(tmp_path, text, name='QK-video.csv'):
  path = tmp_path / name
  path.write_text(text)
  return str(path)


def _read(path, columns=COLUMNS, **kwargs):
  return reader.read_file(path, VIDEO, columns, **kwargs)


def _lines(*rows):
  return HEADER + '\n' + ''.join(r + '\n' for r in rows)


def test_reader_parses_columns(tmp_path):
  path = _file(tmp_path, _lines('1,5,1,0,0,0,1,2,1,3', '2,6,0,0,0,0,\\N,0,2,0'))
  batch = _read(path)
  assert list(batch.columns['user_id']) == [1, 2]
  assert list(batch.columns['click']) == [1, 0]
  assert list(batch.columns['video_category']) == [1, schema_lib.MISSING_CATEGORY]


def test_reader_row_offsets_are_line_starts(tmp_path):
  text = _lines('1,5,1,0,0,0,1,2,1,3', '22,6,0,0,0,0,0,0,2,0')
  path = _file(tmp_path, text)
  batch = _read(path)
  assert list(batch.row_offset) == [len(HEADER) + 1, text.index('22,6')]


def test_reader_offsets_independent_of_chunking(tmp_path):
  rows = [f'{u},{u * 7 % 13},{u % 2},0,0,0,1,1,1,2' for u in range(1, 200)]
  path = _file(tmp_path, _lines(*rows))
  whole = _read(path)
  pieces = _read(path, chunk_bytes=97)
  assert (whole.row_offset == pieces.row_offset).all()
  assert (whole.columns['item_id'] == pieces.columns['item_id']).all()


def test_reader_article_float_click(tmp_path):
  header = ','.join(schema_lib.QB_ARTICLE.column_names)
  path = _file(tmp_path, header + '\n4,5,1.0,1,3,1,1,1,1,0.5,0.1,0.2,3,4,0.3\n', 'QB-article.csv')
  batch = reader.read_file(path, schema_lib.QB_ARTICLE, ('user_id', 'click'))
  assert list(batch.columns['click']) == [1]


def test_reader_missing_required_column(tmp_path):
  path = _file(tmp_path, 'user_id,item_id\n1,2\n')
  with pytest.raises(TenrecInputError) as caught:
    reader.read_header(path, VIDEO)
  assert caught.value.path == path
  assert caught.value.line == 1
  assert caught.value.column == 'click'


def test_reader_unknown_column(tmp_path):
  path = _file(tmp_path, 'user_id,item_id,click,rating\n1,2,1,5\n')
  with pytest.raises(TenrecInputError) as caught:
    reader.read_header(path, VIDEO)
  assert caught.value.line == 1
  assert caught.value.column == 'rating'


def test_reader_unknown_column_next_step(tmp_path):
  path = _file(tmp_path, 'user_id,item_id,click,rating\n1,2,1,5\n')
  with pytest.raises(TenrecInputError) as caught:
    reader.read_header(path, VIDEO)
  assert 'remove the column' in str(caught.value)
  assert 'tenrec import csv FILE --scenario qk_video --map user_id=' in str(caught.value)


def test_reader_unknown_column_allowed(tmp_path):
  path = _file(tmp_path, 'user_id,item_id,click,rating\n1,2,1,5\n')
  assert reader.read_header(path, VIDEO, allow_unknown_columns=True).columns[-1] == 'rating'


@pytest.mark.parametrize('row,line,column,value', [
    ('1,abc,1,0,0,0,1,2,1,3', 3, 'item_id', 'abc'),
    ('1,-4,1,0,0,0,1,2,1,3', 3, 'item_id', '-4'),
    ('x1,4,1,0,0,0,1,2,1,3', 3, 'user_id', 'x1'),
    ('1,4,2,0,0,0,1,2,1,3', 3, 'click', '2'),
])
def test_reader_invalid_value(tmp_path, row, line, column, value):
  path = _file(tmp_path, _lines('1,5,1,0,0,0,1,2,1,3', row, '2,6,0,0,0,0,0,0,2,0'))
  with pytest.raises(TenrecInputError) as caught:
    _read(path)
  assert caught.value.path == path
  assert caught.value.line == line
  assert caught.value.column == column
  assert caught.value.value == value


def test_reader_truncated_line(tmp_path):
  path = _file(tmp_path, _lines('1,5,1,0,0,0,1,2,1,3', '2,6,0,0'))
  with pytest.raises(TenrecInputError, match='truncated') as caught:
    _read(path)
  assert caught.value.line == 3
  assert caught.value.column == 'like'
  assert caught.value.value == '2,6,0,0'


def test_reader_empty_file(tmp_path):
  path = _file(tmp_path, '')
  with pytest.raises(TenrecInputError, match='empty') as caught:
    reader.read_header(path, VIDEO)
  assert caught.value.path == path
  assert caught.value.line is None


def test_reader_header_only(tmp_path):
  path = _file(tmp_path, HEADER + '\n')
  with pytest.raises(TenrecInputError, match='no data rows') as caught:
    reader.read_header(path, VIDEO)
  assert caught.value.line == 2


def test_reader_wrong_delimiter(tmp_path):
  path = _file(tmp_path, HEADER.replace(',', '\t') + '\n1\t2\t1\t0\t0\t0\t1\t2\t1\t3\n')
  with pytest.raises(TenrecInputError, match='tab-separated') as caught:
    reader.read_header(path, VIDEO)
  assert caught.value.line == 1


def test_reader_missing_file(tmp_path):
  with pytest.raises(TenrecInputError, match='not found'):
    reader.read_header(str(tmp_path / 'nope.csv'), VIDEO)


def test_reader_reject_mode_counts(tmp_path):
  path = _file(tmp_path, _lines('1,5,1,0,0,0,1,2,1,3', '1,x,1,0,0,0,1,2,1,3',
                                '2,6,7,0,0,0,0,0,2,0', '3,6,0,0,0,0,0,0,2,0'))
  batch = _read(path, on_invalid='reject')
  assert batch.num_rows == 2
  assert batch.num_read == 4
  assert [r.column for r in batch.rejected] == ['item_id', 'click']
  lines = reader.line_numbers_at(path, [r.offset for r in batch.rejected])
  assert sorted(lines.values()) == [3, 4]


def test_reader_rejects_unknown_on_invalid_mode(tmp_path):
  path = _file(tmp_path, _lines('1,5,1,0,0,0,1,2,1,3'))
  header = reader.read_header(path, VIDEO)
  with pytest.raises(ValueError, match='on_invalid'):
    reader.read_range(path, VIDEO, header, COLUMNS, header.data_offset, header.size,
                      on_invalid='skip')


def test_reader_plan_byte_ranges_cover_file(tmp_path):
  path = _file(tmp_path, _lines(*['1,5,1,0,0,0,1,2,1,3'] * 20))
  header = reader.read_header(path, VIDEO)
  ranges = reader.plan_byte_ranges(header, 50)
  assert ranges[0][0] == header.data_offset
  assert ranges[-1][1] == header.size
  assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:]))


def test_find_scenario_file_alternative_name(tmp_path):
  (tmp_path / 'QB-artilce.csv').write_text('user_id,item_id,click\n1,2,1.0\n')
  assert reader.find_scenario_file(str(tmp_path), schema_lib.QB_ARTICLE).endswith(
      'QB-artilce.csv')
  with pytest.raises(TenrecInputError, match='not found'):
    reader.find_scenario_file(str(tmp_path), VIDEO)


def test_reader_selected_column_missing_from_header(tmp_path):
  path = _file(tmp_path, 'user_id,item_id,click\n1,2,1\n')
  with pytest.raises(TenrecInputError) as caught:
    _read(path, columns=('user_id', 'like'))
  assert caught.value.column == 'like'
  assert np.isscalar(caught.value.line)
