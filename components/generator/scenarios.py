"""Pieces shared by the video and article row generators: user blocks, scores, calibration.

Intercepts are calibrated once per scenario on a pilot: the first `PILOT_USERS` users of the
scenario, simulated exactly as in the real run. The pilot is fixed by the seed and the scale,
so calibration does not depend on how the run is split into blocks.
"""

import dataclasses
from typing import Callable, Optional

import numpy as np
from scipy import special

from components.generator import config
from components.generator.catalogue import Catalogue
from components.generator.exposures import Rows
from components.generator.latent import LatentModel
from components.generator.population import Population

# Weights of the standardised click score and of user engagement in action logits.
ACTION_SCORE_WEIGHT = 0.7
ACTION_ENGAGEMENT_WEIGHT = 0.8


@dataclasses.dataclass
class UserBlock:
  """Latent factors of a block of users, one row per user."""

  user_ids: np.ndarray
  gender: np.ndarray
  age: np.ndarray
  topic_logits: np.ndarray
  mixture: np.ndarray
  taste: np.ndarray
  click_bias: np.ndarray
  engagement: np.ndarray


def user_block(population: Population, latent: LatentModel, user_ids: np.ndarray) -> UserBlock:
  gender, age = population.demographics(user_ids)
  topic_logits = latent.user_topic_logits(user_ids, gender, age)
  return UserBlock(
      user_ids=user_ids,
      gender=gender,
      age=age,
      topic_logits=topic_logits,
      mixture=latent.topic_mixture(topic_logits),
      taste=latent.user_taste(user_ids),
      click_bias=latent.user_click_bias(user_ids),
      engagement=latent.user_engagement(user_ids))


def topic_demand(population: Population, latent: LatentModel) -> np.ndarray:
  """Returns the expected share of QK-video rows per topic, from the pilot users."""
  user_ids = population.user_ids['qk_video'][:config.PILOT_USERS]
  users = user_block(population, latent, user_ids)
  rows = population.rows_per_user('qk_video', user_ids, 1 << 40).astype(np.float64)
  # Trending rows follow this demand too, so it is also the share of all rows per topic.
  demand = rows @ users.mixture
  return demand / demand.sum()


def row_scores(latent: LatentModel, users: UserBlock, rows: Rows,
               catalogue: Catalogue) -> np.ndarray:
  """Returns the click logit of each row before the scenario intercept."""
  index = rows.user_index
  slots = rows.slot
  if catalogue.vectors is None:
    catalogue.vectors = latent.item_vectors(catalogue.item_ids, catalogue.topics,
                                            catalogue.positions).astype(np.float32)
  vectors = catalogue.vectors[slots].astype(np.float64)
  scores = latent.click_score(users.topic_logits[index], users.taste[index],
                              users.click_bias[index], rows.topic, vectors,
                              catalogue.quality[slots], rows.session_position)
  if catalogue.video_category is not None:
    scores = scores + latent.category_score(users.gender[index], users.age[index],
                                            catalogue.video_category[slots])
  return scores


def sigmoid(values: np.ndarray) -> np.ndarray:
  return 1.0 / (1.0 + np.exp(-values))


def solve_intercept(scores: np.ndarray, target: float, uniforms: Optional[np.ndarray] = None,
                    user_index: Optional[np.ndarray] = None, min_per_user: int = 0) -> float:
  """Finds b such that the positive rate of sigmoid(b + scores) equals `target`.

  Without `uniforms` the expected rate mean(sigmoid(b + s)) is matched. With `uniforms` the
  realised rate of `uniforms < sigmoid(b + s)` is matched, after raising every user (rows
  grouped by `user_index`) to at least `min_per_user` positives where they have enough rows.
  Bisection on [-20, 20]; returns the nearest bound when the target is out of reach.
  """
  if not 0 < target < 1:
    raise ValueError(f'target rate must be in (0, 1), got {target}.')
  if scores.size == 0:
    raise ValueError('cannot calibrate an intercept on zero rows.')
  if uniforms is not None and user_index is not None and min_per_user > 0:
    rows_per_user = np.bincount(user_index)
    floor_per_user = np.minimum(rows_per_user, min_per_user)
  else:
    floor_per_user = None

  def rate(intercept: float) -> float:
    probability = sigmoid(intercept + scores)
    if uniforms is None:
      return float(probability.mean())
    positive = uniforms < probability
    if floor_per_user is None:
      return float(positive.mean())
    per_user = np.bincount(user_index, weights=positive, minlength=floor_per_user.shape[0])
    return float(np.maximum(per_user, floor_per_user).sum() / scores.size)

  return bisect_intercept(rate, target)


def bisect_intercept(rate: Callable[[float], float], target: float, low: float = -20.0,
                     high: float = 20.0, iterations: int = 60) -> float:
  """Finds b in [low, high] with rate(b) = `target` by bisection; `rate` must increase in b.

  Returns the nearest bound when the target is out of reach.
  """
  for _ in range(iterations):
    middle = 0.5 * (low + high)
    if rate(middle) < target:
      low = middle
    else:
      high = middle
  return 0.5 * (low + high)


@dataclasses.dataclass(frozen=True)
class Standardiser:
  """Mean and standard deviation of pilot click scores, to standardise action inputs."""

  mean: float
  std: float

  @classmethod
  def fit(cls, scores: np.ndarray) -> 'Standardiser':
    return cls(float(scores.mean()), float(max(scores.std(), 1e-9)))

  def __call__(self, scores: np.ndarray) -> np.ndarray:
    return (scores - self.mean) / self.std


def action_logits(standard_scores: np.ndarray, engagement: np.ndarray) -> np.ndarray:
  """Returns the action logit before its intercept: 0.7 * z + 0.8 * engagement."""
  return ACTION_SCORE_WEIGHT * standard_scores + ACTION_ENGAGEMENT_WEIGHT * engagement


def engagement_quantiles(population: Population, latent: LatentModel, name: str,
                         catalogue_items: int, count: int = 64) -> np.ndarray:
  """Returns `count` quantiles of user engagement in scenario `name`, weighted by planned rows.

  Each user's actions scale with their engagement and with their number of rows, and the
  heavy-tailed rows per user make the row-weighted engagement of a few thousand users differ
  from a standard normal by several percent of the action rates. These quantiles describe the
  scenario's own users, so the action intercepts match the Table 1 rates without that error.
  """
  user_ids = population.user_ids[name]
  engagement = latent.user_engagement(user_ids)
  weights = population.rows_per_user(name, user_ids, catalogue_items).astype(np.float64)
  order = np.argsort(engagement)
  cumulative = np.cumsum(weights[order])
  levels = (np.arange(count) + 0.5) / count * cumulative[-1]
  return engagement[order][np.minimum(np.searchsorted(cumulative, levels), order.shape[0] - 1)]


def solve_action_intercept(standard_scores: np.ndarray, target: float,
                           engagement: Optional[np.ndarray] = None) -> float:
  """Finds the action intercept c with mean sigmoid(c + 0.7 z + 0.8 e) = `target`.

  Engagement e is independent of the click score, so it is integrated out over `engagement`
  (values of equal weight, for example `engagement_quantiles`), by default over 32 standard
  normal quantiles, instead of being taken from the pilot users. This removes the sampling
  noise of a pilot's few hundred users from the action rates.
  """
  if engagement is None:
    quantiles = (np.arange(32) + 0.5) / 32
    engagement = np.sqrt(2.0) * special.erfinv(2.0 * quantiles - 1.0)
  logits = action_logits(standard_scores[:, None], engagement[None, :])
  return solve_intercept(logits.ravel(), target)
