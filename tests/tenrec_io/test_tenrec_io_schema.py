"""Tests of the Tenrec raw-file schemas."""

import pytest

from components.tenrec_io import schema as schema_lib


@pytest.mark.parametrize('name', ['qk_video', 'QK-video', 'QK-video.csv', ' qk-video '])
def test_get_scenario_spellings(name):
  assert schema_lib.get_scenario(name) is schema_lib.QK_VIDEO


def test_get_scenario_unknown():
  with pytest.raises(ValueError, match='Unknown Tenrec scenario'):
    schema_lib.get_scenario('QX-video')


def test_video_column_order():
  assert schema_lib.QK_VIDEO.column_names == (
      'user_id', 'item_id', 'click', 'follow', 'like', 'share', 'video_category',
      'watching_times', 'gender', 'age')


def test_qb_article_is_first_fifteen_columns():
  assert schema_lib.QB_ARTICLE.column_names == schema_lib.QK_ARTICLE.column_names[:15]
  assert 'read' not in schema_lib.QB_ARTICLE.column_names


def test_required_columns():
  for scenario in schema_lib.SCENARIOS.values():
    assert scenario.required == ('user_id', 'item_id', 'click')


def test_demographic_ranges():
  assert schema_lib.QK_VIDEO.column('gender').value_range == (0, 2)
  assert schema_lib.QK_VIDEO.column('age').value_range == (0, 7)


def test_validate_selection_unknown_column():
  with pytest.raises(KeyError, match='not part of the qk_video schema'):
    schema_lib.validate_selection(schema_lib.QK_VIDEO, ['user_id', 'read'])


def test_scenario_path():
  assert schema_lib.scenario_path('/data/', schema_lib.QB_VIDEO) == '/data/QB-video.csv'
