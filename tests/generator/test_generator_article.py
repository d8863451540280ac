"""Tests of the article row generator on a tiny world."""

import numpy as np
import pytest

from components.generator.generation import World
from components.tenrec_io import schema


@pytest.fixture(scope='module')
def world():
  return World(0.0001, seed=6)


@pytest.fixture(scope='module')
def qk_article(world):
  generator = world.scenario_generator('qk_article')
  return generator.generate_block(world.population.user_ids['qk_article'])


def test_qk_article_has_every_column(qk_article):
  assert sorted(qk_article) == sorted(schema.QK_ARTICLE.column_names)


def test_qb_article_has_first_fifteen_columns(world):
  generator = world.scenario_generator('qb_article')
  columns = generator.generate_block(world.population.user_ids['qb_article'][:50])
  assert sorted(columns) == sorted(schema.QB_ARTICLE.column_names)


def test_rows_are_clicks(qk_article):
  assert np.all(qk_article['click'] == 1)


def test_items_distinct_per_user(qk_article):
  pairs = qk_article['user_id'] * 10**7 + qk_article['item_id']
  assert np.unique(pairs).shape[0] == pairs.shape[0]


def test_unread_rows_have_no_reading(qk_article):
  unread = qk_article['read'] == 0
  assert unread.any()
  assert np.all(qk_article['read_percentage'][unread] == 0)
  assert np.all(qk_article['read_time'][unread] == 0)


def test_read_percentage_range(qk_article):
  values = qk_article['read_percentage']
  assert values.min() >= 0
  assert values.max() <= 100


def test_item_columns_constant_per_item(qk_article):
  for item in np.unique(qk_article['item_id'])[:30]:
    rows = qk_article['item_id'] == item
    assert np.unique(qk_article['click_count'][rows]).shape[0] == 1
    assert np.unique(qk_article['item_score2'][rows]).shape[0] == 1


def test_read_rate_near_target(qk_article):
  assert abs(qk_article['read'].mean() - 0.959) < 0.02
