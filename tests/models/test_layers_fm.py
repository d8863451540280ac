"""Tests for models.layers.fm: hand-computed FM and bi-interaction values."""

import numpy as np
import tensorflow as tf

from models.layers import fm

# Three fields with d = 2: e_1 = (1, 2), e_2 = (3, 4), e_3 = (5, 6).
FIELDS = np.array([[[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]], np.float32)


def test_fm_equals_sum_of_pairwise_dot_products():
  # <e1,e2> + <e1,e3> + <e2,e3> = 11 + 17 + 39 = 67.
  np.testing.assert_allclose(fm.FMInteraction()(FIELDS).numpy(), [[67.0]])


def test_fm_identity_half_square_minus_squares():
  square_of_sum = FIELDS.sum(axis=1) ** 2
  sum_of_square = (FIELDS ** 2).sum(axis=1)
  expected = 0.5 * (square_of_sum - sum_of_square).sum(axis=1, keepdims=True)
  np.testing.assert_allclose(fm.FMInteraction()(FIELDS).numpy(), expected)


def test_fm_single_field_is_zero():
  np.testing.assert_allclose(fm.FMInteraction()(FIELDS[:, :1]).numpy(), [[0.0]])


def test_fm_output_shape():
  assert fm.FMInteraction()(tf.ones([5, 4, 3])).shape == (5, 1)


def test_bi_interaction_elementwise_pairs():
  # Dimension 0: 1*3 + 1*5 + 3*5 = 23; dimension 1: 2*4 + 2*6 + 4*6 = 44.
  np.testing.assert_allclose(fm.BiInteractionPooling()(FIELDS).numpy(), [[23.0, 44.0]])


def test_bi_interaction_sums_to_fm():
  bi = fm.BiInteractionPooling()(FIELDS).numpy().sum(axis=1, keepdims=True)
  np.testing.assert_allclose(bi, fm.FMInteraction()(FIELDS).numpy())
