"""The generator's own latent model as a scorer, for checking that the data is learnable.

`LatentOracle(scale, seed)` rebuilds the users, items and latent factors of a generated run
(cheap: no rows are generated) and scores (user, item) pairs with the click logit the
generator used, minus the within-session fatigue term, which the files do not record.

Example:

  oracle = LatentOracle(scale=0.0002, seed=1)
  logits = oracle.click_logits('qk_video', user_ids, item_ids)
"""

import numpy as np

from components.generator import scenarios
from components.generator.exposures import Rows
from components.generator.generation import World


class LatentOracle:
  """Scores (user, item) pairs with the generator's latent click model."""

  def __init__(self, scale: float, seed: int):
    self.world = World(scale, seed)

  def item_slots(self, scenario: str, item_ids: np.ndarray) -> np.ndarray:
    """Returns catalogue slots of `item_ids`.

    Raises:
      ValueError: an id is not in the scenario's catalogue.
    """
    catalogue = self.world.catalogues[scenario]
    order = np.argsort(catalogue.item_ids)
    position = np.searchsorted(catalogue.item_ids[order], item_ids)
    position = np.minimum(position, order.shape[0] - 1)
    found = catalogue.item_ids[order][position] == item_ids
    if not np.all(found):
      missing = item_ids[~found][0]
      raise ValueError(f'item id {missing} is not in the {scenario} catalogue of this run.')
    return order[position]

  def item_topics(self, scenario: str, item_ids: np.ndarray) -> np.ndarray:
    """Returns the latent topic of each item."""
    return self.world.catalogues[scenario].topics[self.item_slots(scenario, item_ids)]

  def click_logits(self, scenario: str, user_ids: np.ndarray,
                   item_ids: np.ndarray) -> np.ndarray:
    """Returns the click logit before the intercept for each (user, item) row."""
    unique_users, user_index = np.unique(user_ids, return_inverse=True)
    users = scenarios.user_block(self.world.population, self.world.latent, unique_users)
    catalogue = self.world.catalogues[scenario]
    slots = self.item_slots(scenario, item_ids)
    rows = Rows(user_index=user_index.astype(np.int64), slot=slots,
                topic=catalogue.topics[slots], session_position=np.zeros_like(slots),
                counter=np.zeros_like(slots))
    return scenarios.row_scores(self.world.latent, users, rows, catalogue)
