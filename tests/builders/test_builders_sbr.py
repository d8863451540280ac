"""Tests of the SBR builder on hand-made QK-video files."""

import os

import pytest

import builder_fixtures as fx
from components.builders import base
from components.builders import runner
from components.builders import sbr
from components.builders import sequence_options

# Item 14, 20 and 30 have one click each (dropped as rare). User 3 keeps 2 clicks and user 4
# keeps 2 after the item filter, fewer than 3.
SEQUENCES = {1: [10, 11, 12, 13, 14], 2: [11, 12, 20, 11], 3: [12, 13], 4: [30, 10, 11]}
OPTIONS = {'min_user_clicks': 3, 'validation_users': 'all'}


@pytest.fixture(scope='module')
def qk_video(tmp_path_factory):
  rows = fx.click_rows(SEQUENCES)
  rows.insert(2, fx.video_row(1, 99, click=0))
  return fx.write_csv(str(tmp_path_factory.mktemp('raw') / 'QK-video.csv'), fx.VIDEO_HEADER,
                      rows)


@pytest.fixture(scope='module')
def built(qk_video, tmp_path_factory):
  out = str(tmp_path_factory.mktemp('built') / 'sbr')
  report = fx.run_builder('sbr', {'qk_video': qk_video}, out, OPTIONS)
  return out, report


def test_sbr_vocabulary_ascending_raw_ids(built):
  out, _ = built
  assert fx.read_vocabulary(os.path.join(out, 'item_vocabulary.txt')) == [10, 11, 12, 13]


def test_sbr_leave_last_out_train(built):
  out, _ = built
  train = fx.by_user(fx.read_split(out, 'train'))
  assert sorted(train) == [1, 2]
  assert train[1]['item_ids'] == [1, 2]
  assert train[2]['item_ids'] == [2]
  assert 'target_item' not in train[1]


def test_sbr_leave_last_out_eval(built):
  out, _ = built
  evaluation = fx.by_user(fx.read_split(out, 'eval'))
  assert evaluation[1]['item_ids'] == [1, 2]
  assert evaluation[1]['target_item'] == [3]
  assert evaluation[2]['item_ids'] == [2]
  assert evaluation[2]['target_item'] == [3]


def test_sbr_leave_last_out_test(built):
  out, _ = built
  test = fx.by_user(fx.read_split(out, 'test'))
  assert test[1]['item_ids'] == [1, 2, 3]
  assert test[1]['target_item'] == [4]
  assert test[2]['item_ids'] == [2, 3]
  assert test[2]['target_item'] == [2]


def test_sbr_row_accounting(built):
  _, report = built
  account = report['accounts']['qk_video']
  assert account['read'] == 15
  assert account['used'] == 7
  assert account['filtered'] == {'item_too_rare': 3, 'not_clicked': 1,
                                 'user_too_few_clicks': 4}
  assert account['balanced']


def test_sbr_report_statistics(built):
  _, report = built
  statistics = report['statistics']['qk_video']
  assert statistics['users'] == 2
  assert statistics['items'] == 4
  assert statistics['items_too_rare'] == 3
  assert report['splits'] == {'train': 2, 'eval': 2, 'test': 2}
  assert report['side_files'] == ['item_vocabulary.txt']


def test_sbr_popular_items_dropped(qk_video, tmp_path):
  out = str(tmp_path / 'sbr')
  report = fx.run_builder('sbr', {'qk_video': qk_video}, out,
                          dict(OPTIONS, max_item_clicks=3))
  assert report['accounts']['qk_video']['filtered']['item_too_popular'] == 4
  assert fx.read_vocabulary(os.path.join(out, 'item_vocabulary.txt')) == [10, 12, 13]


def test_sbr_popularity_order(qk_video, tmp_path):
  out = str(tmp_path / 'sbr')
  fx.run_builder('sbr', {'qk_video': qk_video}, out, dict(OPTIONS, item_order='popularity'))
  vocabulary = fx.read_vocabulary(os.path.join(out, 'item_vocabulary.txt'))
  assert vocabulary == [11, 12, 10, 13]
  test = fx.by_user(fx.read_split(out, 'test'))
  assert fx.decode(test[1]['item_ids'] + test[1]['target_item'], vocabulary) == [10, 11, 12, 13]


def test_sbr_reference_first_validation(qk_video, tmp_path):
  out = str(tmp_path / 'sbr')
  fx.run_builder('sbr', {'qk_video': qk_video}, out,
                 dict(OPTIONS, validation_users='reference_first', validation_fraction=0.5,
                      min_validation_users=0))
  assert sorted(fx.by_user(fx.read_split(out, 'eval'))) == [1]


def test_sbr_random_validation_count(qk_video, tmp_path):
  out = str(tmp_path / 'sbr')
  report = fx.run_builder('sbr', {'qk_video': qk_video}, out,
                          dict(OPTIONS, validation_users='random', validation_fraction=0.0,
                               min_validation_users=1))
  assert report['splits']['eval'] == 1
  assert report['splits']['test'] == 2


def test_sbr_empty_names_filter(qk_video, tmp_path):
  out = tmp_path / 'sbr'
  out.mkdir()
  (out / 'keep.txt').write_text('unrelated')
  with pytest.raises(base.EmptyDatasetError, match='--min-user-clicks'):
    fx.run_builder('sbr', {'qk_video': qk_video}, str(out), dict(OPTIONS, min_user_clicks=50))
  assert sorted(os.listdir(out)) == ['keep.txt']


def test_sbr_deterministic_across_chunks_and_buckets(tmp_path):
  path = fx.write_csv(str(tmp_path / 'QK-video.csv'), fx.VIDEO_HEADER,
                      fx.random_video_rows(seed=5, users=40, rows_per_user=30, items=25))
  options = {'min_user_clicks': 3, 'validation_users': 'random', 'validation_fraction': 0.3,
             'min_validation_users': 0}
  first = fx.run_builder('sbr', {'qk_video': path}, str(tmp_path / 'a'), options)
  second = fx.run_builder('sbr', {'qk_video': path}, str(tmp_path / 'b'), options,
                          chunk_bytes=300, num_buckets=5)
  assert first['splits'] == second['splits']
  assert first['accounts'] == second['accounts']
  for split in base.SPLITS:
    assert fx.sorted_examples(fx.read_split(str(tmp_path / 'a'), split)) == (
        fx.sorted_examples(fx.read_split(str(tmp_path / 'b'), split)))
  assert fx.read_vocabulary(str(tmp_path / 'a' / 'item_vocabulary.txt')) == (
      fx.read_vocabulary(str(tmp_path / 'b' / 'item_vocabulary.txt')))


def test_sbr_output_satisfies_trainer_contract(built):
  from models.trainers import sbr_data  # pylint: disable=import-outside-toplevel

  out, _ = built
  dataset = sbr_data.load_sbr_dataset(out)
  sbr_data.check_split_contract(dataset)
  assert dataset.train.num_users == 2


def test_sbr_overwrite_replaces_dataset(qk_video, tmp_path):
  out = str(tmp_path / 'sbr')
  fx.run_builder('sbr', {'qk_video': qk_video}, out, OPTIONS)
  with pytest.raises(FileExistsError, match='--overwrite'):
    fx.run_builder('sbr', {'qk_video': qk_video}, out, OPTIONS)
  report = fx.run_builder('sbr', {'qk_video': qk_video}, out,
                          dict(OPTIONS, max_item_clicks=3), overwrite=True)
  assert runner.read_report(out)['options']['max_item_clicks'] == 3
  assert report['splits']['train'] == 1
  assert not [name for name in os.listdir(out) if name.startswith('.tenrec-build')]


def test_sbr_deviation_states_user_cap():
  notes = sbr.sbr_deviations(sequence_options.SbrOptions(validation_users='random'))
  validation = [note for note in notes if note.startswith('Validation users')]
  assert len(validation) == 1
  assert 'min(U, max(floor(0.01 * U), 1000))' in validation[0]
