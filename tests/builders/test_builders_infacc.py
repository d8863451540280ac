"""Tests of the inference speed-up builder (QB-video in the SBR format)."""

import builder_fixtures as fx
from components.builders import infacc
from components.builders import registry
from components.builders.sequence_options import InfaccOptions


def test_infacc_reads_qb_video():
  builder = registry.create_builder('infacc')
  assert [i.name for i in builder.inputs()] == ['qb_video']
  assert builder.task == 'infacc'


def test_infacc_builds_sbr_splits():
  builder = infacc.InfaccBuilder(InfaccOptions(min_user_clicks=3, min_item_clicks=1,
                                               validation_users='all'))
  rows = fx.click_rows({3: [5, 6, 7, 8]})
  build = fx.InMemoryBuild(builder, {'qb_video': fx.columns_of(rows, fx.VIDEO_HEADER)})
  test = fx.by_user(build.examples('test'))
  assert test[3]['item_ids'] == [1, 2, 3]
  assert test[3]['target_item'] == [4]
  assert fx.by_user(build.examples('eval'))[3]['target_item'] == [3]
