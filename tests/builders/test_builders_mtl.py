"""Tests of the multi-task builders (QK-video CTR examples and the QK-article variant)."""

import pytest

import builder_fixtures as fx
from components.builders import base
from components.builders import mtl
from components.builders.mtl_options import MtlOptions


def _video_raw():
  rows = []
  for user in (1, 2, 3):
    rows.append(fx.video_row(user, 10, click=1, like=1, share=1))
    rows.append(fx.video_row(user, 11, click=0))
    rows.append(fx.video_row(user, 12, click=0))
    rows.append(fx.video_row(user, 13, click=1))
  return {'qk_video': fx.columns_of(rows, fx.VIDEO_HEADER)}


def _article_raw():
  rows = [fx.article_row(1, 100, read=1, like=1), fx.article_row(1, 101, read=0),
          fx.article_row(1, 102, read=1, favorite=1), fx.article_row(2, 100, read=1)]
  return {'qk_article': fx.columns_of(rows, fx.ARTICLE_HEADER)}


def _examples(build):
  return [e for split in base.SPLITS for e in build.examples(split)]


def test_mtl_video_default_objectives():
  build = fx.InMemoryBuild(mtl.create_mtl_builder(MtlOptions()), _video_raw())
  example = _examples(build)[0]
  assert 'click' in example
  assert 'like' in example
  assert 'share' not in example
  assert 'follow' not in example


def test_mtl_video_selected_objectives():
  options = MtlOptions(labels=('click', 'like', 'share'))
  build = fx.InMemoryBuild(mtl.create_mtl_builder(options), _video_raw())
  examples = _examples(build)
  assert sum(e['share'][0] for e in examples) == 3
  assert len(examples) == 12


def test_mtl_video_report_objectives():
  builder = mtl.create_mtl_builder(MtlOptions(split_ratios=(1.0, 0.0, 0.0)))
  build = fx.InMemoryBuild(builder, _video_raw())
  objectives = builder.report_statistics(build.extras)['objectives']
  assert objectives['click'] == {'train_positives': 6, 'train_examples': 12, 'learnable': True}
  assert objectives['like']['train_positives'] == 3


def test_mtl_article_builder_chosen():
  builder = mtl.create_mtl_builder(MtlOptions(scenario='QK-article'))
  assert isinstance(builder, mtl.ArticleMtlBuilder)
  assert builder.options.objectives == ('click', 'read', 'share', 'like', 'follow', 'favorite')


def test_mtl_article_features_and_history():
  builder = mtl.create_mtl_builder(MtlOptions(scenario='qk_article', history_length=2,
                                              split_ratios=(1.0, 0.0, 0.0)))
  build = fx.InMemoryBuild(builder, _article_raw())
  examples = {(e['user_id'][0], e['item_id'][0]): e for e in _examples(build)}
  assert examples[(1, 100)]['hist_item_ids'] == [-1, -1]
  assert examples[(1, 102)]['hist_item_ids'] == [100, 101]
  assert examples[(1, 102)]['favorite'] == [1]
  assert examples[(1, 101)]['read'] == [0]
  assert examples[(2, 100)]['category_first'] == [3]


def test_mtl_article_click_not_learnable():
  builder = mtl.create_mtl_builder(MtlOptions(scenario='qk_article',
                                              split_ratios=(1.0, 0.0, 0.0)))
  build = fx.InMemoryBuild(builder, _article_raw())
  objectives = builder.report_statistics(build.extras)['objectives']
  assert not objectives['click']['learnable']
  assert objectives['read']['learnable']
  assert not objectives['follow']['learnable']


def test_mtl_article_rejects_video_label():
  with pytest.raises(ValueError, match='labels must be one of'):
    MtlOptions(scenario='qk_article', labels=('click', 'watching'))


def test_mtl_article_rejects_reference_history():
  with pytest.raises(ValueError, match='before_row'):
    MtlOptions(scenario='qk_article', history_mode='reference_first_clicks')


def test_mtl_options_round_trip():
  options = MtlOptions(labels=('click', 'follow'), split_ratios=(0.7, 0.2, 0.1))
  assert MtlOptions.from_dict(options.to_dict()) == options
