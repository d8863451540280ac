"""Checks shared by the tests of the four sequential models."""

import numpy as np
import tensorflow as tf


def outputs_before_change(model, position: int, seed: int = 0):
  """Returns (logits of a sequence, logits after changing the item at `position` and later).

  The sequence is left-padded; items from `position` on are replaced by other items.
  """
  rng = np.random.default_rng(seed)
  length = model.max_len
  ids = np.zeros([1, length], np.int32)
  ids[0, 2:] = rng.integers(1, model.num_items + 1, size=length - 2)
  changed = ids.copy()
  changed[0, position:] = (ids[0, position:] % model.num_items) + 1
  before = model(tf.constant(ids), training=False).numpy()
  after = model(tf.constant(changed), training=False).numpy()
  return before, after


def assert_causal(model, position: int) -> None:
  """Asserts that changing the items at positions >= `position` leaves earlier outputs equal
  and changes the output at `position`."""
  before, after = outputs_before_change(model, position)
  np.testing.assert_allclose(before[:, :position], after[:, :position], rtol=1e-5,
                             atol=1e-5)
  assert not np.allclose(before[:, position], after[:, position])
