"""End-to-end tests of `generate()`: layout, ordering, overlaps, determinism, atomic output."""

import json

import numpy as np
import pandas as pd
import pytest

from components import generator
from components.generator import generation, writer
from components.tenrec_io import schema

FILES = ('QK-video.csv', 'QB-video.csv', 'QK-article.csv', 'QB-article.csv')


def _read(path):
  return pd.read_csv(path, dtype=str, keep_default_na=False)


@pytest.fixture(scope='module')
def frames(small_dataset):
  return {name: _read(small_dataset / name) for name in FILES}


def test_output_files(small_dataset):
  assert sorted(p.name for p in small_dataset.iterdir()) == sorted(FILES + ('generation.json',))


@pytest.mark.parametrize('file_name', FILES)
def test_header_exact(small_dataset, file_name):
  scenario = schema.get_scenario(file_name)
  with open(small_dataset / file_name, encoding='ascii') as handle:
    header = handle.readline().rstrip('\n')
  assert header == ','.join(scenario.column_names)


def test_missing_category_marker(frames):
  category = frames['QK-video.csv']['video_category']
  assert set(category) == {'0', '1', '\\N'}


@pytest.mark.parametrize('file_name', ['QK-article.csv', 'QB-article.csv'])
def test_article_click_is_float_text(frames, file_name):
  assert set(frames[file_name]['click']) == {'1.0'}


@pytest.mark.parametrize('file_name', FILES)
def test_ids_are_positive_integers(frames, file_name):
  for column in ('user_id', 'item_id'):
    values = frames[file_name][column]
    assert values.str.fullmatch(r'[1-9][0-9]*').all()


def test_user_ids_start_at_one(frames):
  assert frames['QK-video.csv']['user_id'].astype(int).min() == 1


@pytest.mark.parametrize('file_name', FILES)
def test_users_contiguous_and_ascending(frames, file_name):
  users = frames[file_name]['user_id'].astype(int).to_numpy()
  starts = np.concatenate([[True], users[1:] != users[:-1]])
  runs = users[starts]
  assert np.all(np.diff(runs) > 0)


@pytest.mark.parametrize('file_name', FILES)
def test_demographics_constant_per_user(frames, file_name):
  frame = frames[file_name]
  per_user = frame.groupby('user_id')[['gender', 'age']].nunique()
  assert per_user.max().max() == 1


def test_overlaps_match_plan(frames, small_dataset):
  report = json.loads((small_dataset / 'generation.json').read_text())
  qk_users = set(frames['QK-video.csv']['user_id'].astype(int))
  for name, file_name in (('qb_video', 'QB-video.csv'), ('qk_article', 'QK-article.csv'),
                          ('qb_article', 'QB-article.csv')):
    users = set(frames[file_name]['user_id'].astype(int))
    assert len(users & qk_users) == report['plan'][name]['overlap_with_qk_video']


def test_shared_video_items(frames):
  qk_items = set(frames['QK-video.csv']['item_id'])
  qb_items = set(frames['QB-video.csv']['item_id'])
  share = len(qk_items & qb_items) / len(qb_items)
  assert 0.5 < share < 0.7


def test_article_items_disjoint_from_videos(frames):
  videos = set(frames['QK-video.csv']['item_id']) | set(frames['QB-video.csv']['item_id'])
  articles = set(frames['QK-article.csv']['item_id']) | set(frames['QB-article.csv']['item_id'])
  assert not videos & articles


def test_five_clicks_per_qk_video_user(frames):
  frame = frames['QK-video.csv']
  clicks = frame['click'].astype(int).groupby(frame['user_id']).sum()
  assert clicks.min() >= 5


def test_duplicates_and_conflicts_present(frames):
  frame = frames['QK-video.csv']
  duplicated = frame.duplicated().mean()
  repeated = frame.duplicated(['user_id', 'item_id'])
  first_click = frame.groupby(['user_id', 'item_id'])['click'].transform('first')
  conflicting = (frame['click'][repeated] != first_click[repeated]).mean()
  assert 0.004 < duplicated < 0.011
  assert 0.011 < repeated.mean() < 0.019
  assert 0.2 < conflicting < 0.42


def test_generation_report(small_dataset, small_settings, frames):
  report = json.loads((small_dataset / 'generation.json').read_text())
  assert report['generated'] is True
  assert 'NOT Tenrec data' in report['statement']
  assert report['seed'] == small_settings['seed']
  assert report['scale'] == small_settings['scale']
  assert report['generator_version'] == generator.GENERATOR_VERSION
  for file_name in FILES:
    counts = report['files'][file_name]
    frame = frames[file_name]
    assert counts['rows'] == len(frame)
    assert counts['users'] == frame['user_id'].nunique()
    assert counts['items'] == frame['item_id'].nunique()


def test_same_seed_same_bytes_any_block_size(tmp_path, small_dataset, small_settings):
  again = tmp_path / 'again'
  generator.generate(again, scale=small_settings['scale'], seed=small_settings['seed'],
                     block_users=333,
                     scenarios=['QK-video', 'qb_article'])
  for file_name in ('QK-video.csv', 'QB-article.csv'):
    assert (again / file_name).read_bytes() == (small_dataset / file_name).read_bytes()


def test_other_seed_other_data(tmp_path, small_dataset, small_settings):
  other = tmp_path / 'other'
  generator.generate(other, scale=small_settings['scale'], seed=small_settings['seed'] + 1,
                     scenarios=['qb_article'])
  assert (other / 'QB-article.csv').read_bytes() != (small_dataset / 'QB-article.csv').read_bytes()


def test_failure_leaves_no_partial_output(tmp_path, monkeypatch):
  calls = []

  def failing_format(scenario, columns):
    calls.append(scenario.name)
    if len(calls) == 2:
      raise RuntimeError('injected failure')
    return original(scenario, columns)

  original = writer.format_rows
  monkeypatch.setattr(writer, 'format_rows', failing_format)
  target = tmp_path / 'out'
  with pytest.raises(RuntimeError, match='injected'):
    generator.generate(target, scale=0.0001, seed=1, block_users=100)
  assert list(tmp_path.iterdir()) == []


def test_non_empty_output_rejected(tmp_path):
  (tmp_path / 'keep.txt').write_text('x')
  with pytest.raises(FileExistsError, match='not empty'):
    generator.generate(tmp_path, scale=0.0001, seed=1)
  assert (tmp_path / 'keep.txt').read_text() == 'x'


def test_overwrite_replaces_folder(tmp_path):
  target = tmp_path / 'out'
  target.mkdir()
  (target / 'stale.csv').write_text('x')
  generator.generate(target, scale=0.0001, seed=1, scenarios=['qb_article'], overwrite=True)
  assert sorted(p.name for p in target.iterdir()) == ['QB-article.csv', 'generation.json']


@pytest.mark.parametrize('names', [['qk-videos'], []])
def test_bad_scenarios_rejected(tmp_path, names):
  with pytest.raises(ValueError):
    generator.generate(tmp_path / 'out', scale=0.0001, seed=1, scenarios=names)


@pytest.mark.parametrize('seed', [-1, 1.5, True])
def test_bad_seed_rejected(tmp_path, seed):
  with pytest.raises(ValueError, match='seed'):
    generator.generate(tmp_path / 'out', scale=0.0001, seed=seed)


def test_resolve_scenarios_order():
  assert generation.resolve_scenarios(['QB-article.csv', 'qk_video']) == ['qk_video',
                                                                          'qb_article']
