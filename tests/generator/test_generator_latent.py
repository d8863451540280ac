"""Tests of the latent user and item factors."""

import numpy as np
import pytest

from components.generator import population
from components.generator.latent import LatentModel


@pytest.fixture(scope='module')
def model():
  return LatentModel(seed=8, num_topics=10)


def test_topic_logits_shape(model):
  theta = model.user_topic_logits(np.arange(1, 6), np.array([0, 1, 2, 1, 2]),
                                  np.array([0, 2, 3, 7, 1]))
  assert theta.shape == (5, 10)


def test_user_factors_depend_on_id_only(model):
  ids = np.array([5, 9, 13])
  together = model.user_taste(ids)
  alone = model.user_taste(ids[1:2])
  np.testing.assert_array_equal(together[1], alone[0])


def test_same_seed_same_model():
  first = LatentModel(seed=8, num_topics=10)
  second = LatentModel(seed=8, num_topics=10)
  np.testing.assert_array_equal(first.gender_effects, second.gender_effects)
  np.testing.assert_array_equal(first.rotations, second.rotations)


def test_unknown_demographics_have_no_effect(model):
  assert np.all(model.gender_effects[0] == 0)
  assert np.all(model.age_effects[0] == 0)


def test_gender_shifts_topic_preferences(model):
  ids = np.arange(1, 4001)
  men = model.user_topic_logits(ids, np.full(4000, 1), np.full(4000, 2)).mean(axis=0)
  women = model.user_topic_logits(ids, np.full(4000, 2), np.full(4000, 2)).mean(axis=0)
  assert np.abs(men - women).max() > 0.3


def test_topic_mixture_rows_sum_to_one(model):
  theta = np.random.default_rng(0).normal(size=(7, 10))
  mixture = model.topic_mixture(theta)
  np.testing.assert_allclose(mixture.sum(axis=1), 1.0)


def test_close_items_have_close_vectors(model):
  ids = np.arange(1, 2001)
  topics = np.zeros(2000, dtype=np.int64)
  positions = np.tile(np.array([0.10, 0.11, 0.60, 0.61]), 500)
  vectors = model.item_vectors(ids, topics, positions)
  near = np.linalg.norm(vectors[0::4] - vectors[1::4], axis=1).mean()
  far = np.linalg.norm(vectors[0::4] - vectors[2::4], axis=1).mean()
  assert near < 0.7 * far


def test_click_score_prefers_liked_topic(model):
  theta = np.zeros((2, 10))
  theta[:, 3] = 2.0
  taste = np.zeros((2, 4))
  score = model.click_score(theta, taste, np.zeros(2), np.array([3, 4]), np.zeros((2, 4)),
                            np.zeros(2), np.zeros(2))
  assert score[0] > score[1]


def test_category_score_zero_for_missing(model):
  score = model.category_score(np.array([1, 1]), np.array([2, 2]), np.array([-1, 0]))
  np.testing.assert_array_equal(score, 0.0)


def test_too_few_topics_rejected():
  with pytest.raises(ValueError, match='num_topics'):
    LatentModel(seed=1, num_topics=1)


def test_demographic_effects_centred(model):
  gender_weights = population.GENDER_SHARES[1:] / population.GENDER_SHARES[1:].sum()
  age_weights = population.AGE_SHARES[1:] / population.AGE_SHARES[1:].sum()
  np.testing.assert_allclose(gender_weights @ model.gender_effects[1:], 0.0, atol=1e-12)
  np.testing.assert_allclose(age_weights @ model.age_effects[1:], 0.0, atol=1e-12)


def test_category_effects_zero_for_unknown_profile(model):
  assert model.category_effects[0, 0] == 0.0
