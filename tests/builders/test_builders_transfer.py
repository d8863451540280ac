"""Tests of the transfer-learning builder."""

import json

import pytest

import builder_fixtures as fx
from components.builders import transfer
from components.builders.sequence_options import TransferOptions

OPTIONS = {'min_user_clicks': 3, 'min_item_clicks': 1, 'validation_users': 'all'}
SOURCE = {1: [10, 11, 12, 13], 2: [11, 12, 13]}
TARGET = {7: [50, 11, 51, 52], 8: [52, 50, 51]}


@pytest.fixture(scope='module')
def built(tmp_path_factory):
  folder = tmp_path_factory.mktemp('transfer')
  paths = {
      'qk_video': fx.write_csv(str(folder / 'QK-video.csv'), fx.VIDEO_HEADER,
                               fx.click_rows(SOURCE)),
      'qb_video': fx.write_csv(str(folder / 'QB-video.csv'), fx.VIDEO_HEADER,
                               fx.click_rows(TARGET)),
  }
  out = folder / 'out'
  report = fx.run_builder('transfer', paths, str(out), OPTIONS)
  return out, report


def test_transfer_split_names():
  builder = transfer.TransferBuilder(TransferOptions())
  assert builder.split_names == ('source/train', 'source/eval', 'source/test', 'target/train',
                                 'target/eval', 'target/test')


def test_transfer_separate_vocabularies(built):
  out, _ = built
  assert fx.read_vocabulary(str(out / 'source' / 'item_vocabulary.txt')) == [10, 11, 12, 13]
  assert fx.read_vocabulary(str(out / 'target' / 'item_vocabulary.txt')) == [11, 50, 51, 52]


def test_transfer_target_sequences(built):
  out, _ = built
  vocabulary = fx.read_vocabulary(str(out / 'target' / 'item_vocabulary.txt'))
  test = fx.by_user(fx.read_split(str(out / 'target'), 'test'))
  assert fx.decode(test[7]['item_ids'], vocabulary) == [50, 11, 51]
  assert fx.decode(test[7]['target_item'], vocabulary) == [52]


def test_transfer_sub_dataset_reports(built):
  out, report = built
  source = json.loads((out / 'source' / 'build_report.json').read_text())
  assert source['splits'] == {'train': 2, 'eval': 2, 'test': 2}
  assert source['side_files'] == ['item_vocabulary.txt']
  assert report['splits']['target/test'] == 2


def test_transfer_rejects_same_scenarios():
  with pytest.raises(ValueError, match='must differ'):
    TransferOptions(scenario='qb_video', target_scenario='QB-video')


def test_transfer_target_loads_as_sbr_dataset(built):
  from models.trainers import sbr_data  # pylint: disable=import-outside-toplevel

  out, _ = built
  dataset = sbr_data.load_sbr_dataset(str(out / 'target'))
  sbr_data.check_split_contract(dataset)
  assert dataset.num_items == 4
