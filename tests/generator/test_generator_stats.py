"""Tests of `compute_stats` and the stats table on small hand-written files."""

import json

import pytest

from components.generator import stats
from components.tenrec_io.errors import TenrecInputError

VIDEO_HEADER = 'user_id,item_id,click,follow,like,share,video_category,watching_times,gender,age\n'
# User 1: 4 rows, item 10 repeated twice (one exact duplicate, one conflict).
# User 2: 2 rows. Six rows in all.
VIDEO_ROWS = (
    '1,10,1,0,1,0,0,1,1,2\n'
    '1,11,0,0,0,0,1,0,1,2\n'
    '1,10,1,0,1,0,0,1,1,2\n'
    '1,10,0,0,0,0,0,1,1,2\n'
    '2,11,1,0,0,1,\\N,3,2,3\n'
    '2,12,0,0,0,0,1,7,2,3\n')


@pytest.fixture
def video_dir(tmp_path):
  (tmp_path / 'QK-video.csv').write_text(VIDEO_HEADER + VIDEO_ROWS)
  return tmp_path


def test_video_counts(video_dir):
  result = stats.compute_stats(str(video_dir))['scenarios']['qk_video']
  assert result['rows'] == 6
  assert result['users'] == 2
  assert result['items'] == 3
  assert result['clicks'] == 3
  assert result['click_rate'] == pytest.approx(0.5)


def test_video_actions(video_dir):
  result = stats.compute_stats(str(video_dir))['scenarios']['qk_video']
  assert result['like_per_click'] == pytest.approx(2 / 3)
  assert result['like_on_clicked_share'] == pytest.approx(1.0)
  assert result['share_per_click'] == pytest.approx(1 / 3)


def test_video_repeats(video_dir):
  result = stats.compute_stats(str(video_dir))['scenarios']['qk_video']
  assert result['repeated_pair_rate'] == pytest.approx(2 / 6)
  assert result['conflicting_repeat_share'] == pytest.approx(0.5)
  assert result['duplicate_row_rate'] == pytest.approx(1 / 6)


def test_video_shares(video_dir):
  result = stats.compute_stats(str(video_dir))['scenarios']['qk_video']
  assert result['gender_1_share'] == pytest.approx(4 / 6)
  assert result['age_3_share'] == pytest.approx(2 / 6)
  assert result['video_category_missing_share'] == pytest.approx(1 / 6)
  assert result['watching_times_above_5_share'] == pytest.approx(1 / 6)
  assert result['unclicked_watched_share'] == pytest.approx(2 / 3)


def test_video_per_user_and_item(video_dir):
  result = stats.compute_stats(str(video_dir))['scenarios']['qk_video']
  assert result['rows_per_user_mean'] == pytest.approx(3.0)
  assert result['rows_per_user_max'] == 4
  assert result['min_clicks_per_user'] == 1
  assert result['rows_per_item_max'] == 3
  assert result['singleton_item_share'] == pytest.approx(1 / 3)


def test_video_ordering_flags(video_dir):
  result = stats.compute_stats(str(video_dir))['scenarios']['qk_video']
  assert result['users_contiguous'] is True
  assert result['users_ascending'] is True
  assert result['demographics_constant_per_user'] is True


def test_ordering_flags_detect_interleaving(tmp_path):
  rows = '2,10,1,0,0,0,0,1,1,2\n1,10,1,0,0,0,0,1,1,2\n2,11,0,0,0,0,0,1,1,2\n'
  (tmp_path / 'QK-video.csv').write_text(VIDEO_HEADER + rows)
  result = stats.compute_stats(str(tmp_path))['scenarios']['qk_video']
  assert result['users_contiguous'] is False
  assert result['users_ascending'] is False


def test_demographic_change_detected(tmp_path):
  rows = '1,10,1,0,0,0,0,1,1,2\n1,11,0,0,0,0,0,1,2,2\n'
  (tmp_path / 'QK-video.csv').write_text(VIDEO_HEADER + rows)
  result = stats.compute_stats(str(tmp_path))['scenarios']['qk_video']
  assert result['demographics_constant_per_user'] is False


def test_small_chunks_same_result(video_dir):
  whole = stats.compute_stats(str(video_dir))['scenarios']['qk_video']
  chunked = stats.compute_stats(str(video_dir), chunk_bytes=30)['scenarios']['qk_video']
  for key in ('rows', 'users', 'duplicate_row_rate', 'repeated_pair_rate',
              'conflicting_repeat_share', 'rows_per_user_max', 'users_contiguous'):
    assert chunked[key] == whole[key]


ARTICLE_HEADER = ('user_id,item_id,click,gender,age,exposure_count,click_count,like_count,'
                  'comment_count,read_percentage,item_score1,item_score2,category_second,'
                  'category_first,item_score3\n')


def test_article_file_with_release_spelling(tmp_path):
  rows = ('3,5,1.0,1,2,100,10,1,0,55.5,0.5,3.0,7,1,40.0\n'
          '3,6,1.0,1,2,50,60,1,0,\\N,0.5,3.0,7,1,40.0\n'
          '4,5,1.0,2,3,100,10,1,0,20.0,0.5,3.0,7,1,40.0\n')
  (tmp_path / 'QB-artilce.csv').write_text(ARTICLE_HEADER + rows)
  result = stats.compute_stats(str(tmp_path))
  article = result['scenarios']['qb_article']
  assert article['file'] == 'QB-artilce.csv'
  assert article['click_one_share'] == pytest.approx(1.0)
  assert article['clicks_per_user_mean'] == pytest.approx(1.5)
  assert article['item_columns_constant_per_item'] is True
  assert article['item_count_violations'] == 1
  assert 'QK-video.csv' in result['missing']


def test_item_column_change_detected(tmp_path):
  rows = ('3,5,1.0,1,2,100,10,1,0,55.5,0.5,3.0,7,1,40.0\n'
          '4,5,1.0,2,3,100,11,1,0,20.0,0.5,3.0,7,1,40.0\n')
  (tmp_path / 'QB-article.csv').write_text(ARTICLE_HEADER + rows)
  article = stats.compute_stats(str(tmp_path))['scenarios']['qb_article']
  assert article['item_columns_constant_per_item'] is False


def test_cross_file_overlaps(tmp_path):
  (tmp_path / 'QK-video.csv').write_text(VIDEO_HEADER + VIDEO_ROWS)
  (tmp_path / 'QB-video.csv').write_text(VIDEO_HEADER + '2,12,1,0,0,0,0,1,2,3\n'
                                         '9,99,1,0,0,0,0,1,2,3\n')
  result = stats.compute_stats(str(tmp_path))['scenarios']
  assert result['qb_video']['qk_video_users'] == 1
  assert result['qb_video']['qk_video_user_share'] == pytest.approx(0.5)
  assert result['qb_video']['shared_item_share'] == pytest.approx(0.5)


def test_empty_folder_rejected(tmp_path):
  with pytest.raises(TenrecInputError, match='no Tenrec scenario file'):
    stats.compute_stats(str(tmp_path))


def test_malformed_file_rejected(tmp_path):
  (tmp_path / 'QK-video.csv').write_text(VIDEO_HEADER + '1,x,1,0,0,0,0,1,1,2\n')
  with pytest.raises(TenrecInputError, match='line 2'):
    stats.compute_stats(str(tmp_path))


def test_table_shows_target_and_source(video_dir):
  table = stats.format_stats_table(stats.compute_stats(str(video_dir)))
  line = next(l for l in table.splitlines() if l.startswith('like_per_click'))
  assert '0.07126' in line
  assert 'Table 1' in line
  assert 'treated as real Tenrec files' in table


def test_table_marks_generated_data(small_dataset):
  table = stats.format_stats_table(stats.compute_stats(str(small_dataset)), 'qb_article')
  assert 'Not Tenrec data' in table
  assert '== QB-article.csv ==' in table
  assert '== QK-video.csv ==' not in table


def test_json_has_values_and_targets(video_dir, tmp_path):
  path = tmp_path / 'stats.json'
  stats.write_stats_json(stats.compute_stats(str(video_dir)), str(path))
  data = json.loads(path.read_text())
  assert data['scenarios']['qk_video']['rows'] == 6
  assert data['targets']['qk_video']['click_rate']['source'] == 'Tenrec paper, Table 1'
  assert data['scenarios']['qk_video']['rows_per_user_p50'] == pytest.approx(3.0)
