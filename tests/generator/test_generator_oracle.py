"""Tests of the latent-model scorer used for learnability checks."""

import numpy as np
import pytest

from components.generator.oracle import LatentOracle


@pytest.fixture(scope='module')
def oracle():
  return LatentOracle(scale=0.00002, seed=3)


def test_topics_match_catalogue(oracle):
  catalogue = oracle.world.catalogues['qk_video']
  picked = catalogue.item_ids[[0, 5, catalogue.size - 1]]
  np.testing.assert_array_equal(oracle.item_topics('qk_video', picked),
                                catalogue.topics[[0, 5, catalogue.size - 1]])


def test_logits_shape_and_determinism(oracle):
  items = oracle.world.catalogues['qk_video'].item_ids[:4]
  users = np.array([1, 1, 2, 3])
  first = oracle.click_logits('qk_video', users, items)
  second = oracle.click_logits('qk_video', users[::-1].copy(), items[::-1].copy())
  assert first.shape == (4,)
  np.testing.assert_allclose(first, second[::-1])


def test_unknown_item_rejected(oracle):
  with pytest.raises(ValueError, match='item id 999999999'):
    oracle.item_slots('qk_video', np.array([999999999]))
