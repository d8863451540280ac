"""Rows of the video files (QK-video.csv, QB-video.csv) for one block of users.

For each user: the feed recommender draws the exposures; the click decisions are Bernoulli
with p = sigmoid(b + score + 1.5 m / 10), made in time order, where m counts the user's last 10
clicks in the row's topic (see `recent_clicks.py`). b is calibrated on the pilot users so the
click rate matches Table 1 of the Tenrec paper (28.8% QK-video, 69.7% QB-video). QK-video users were sampled with at least 5 clicks each, so a
QK-video user with fewer clicks gets their highest-score unclicked exposures turned into clicks.
Like, share and follow fall mostly on clicked rows: 97% of each action's expected count is on
clicks, with p = sigmoid(c + 0.7 z + 0.8 engagement) and c calibrated to the Table 1 ratio per
click; the other 3% is spread evenly over unclicked rows. watching_times depends on the click
label only (see `watching.py`). Finally repeats are injected (see `repeats.py`).
"""

import dataclasses
from typing import Dict

import numpy as np

from components.generator import config, recent_clicks, repeats, scenarios
from components.generator import latent as latent_lib
from components.generator.catalogue import Catalogue
from components.generator.exposures import Rows, sample_rows
from components.generator.latent import LatentModel
from components.generator import population as population_lib
from components.generator.population import Population
from components.generator.rng import CounterStream
from components.generator.watching import draw_watching_times

ACTIONS = ('follow', 'like', 'share')
# Share of each action's count that falls on unclicked rows (not published; chosen).
UNCLICKED_ACTION_SHARE = 0.03
# Bisection steps of the click intercept (a bracket of width 2 + weight, so about 1e-8).
RECENT_CALIBRATION_STEPS = 30


@dataclasses.dataclass(frozen=True)
class VideoTargets:
  """Per-scenario targets: click rate, actions per click and the minimum clicks per user."""

  click_rate: float
  per_click: Dict[str, float]
  min_clicks_per_user: int


TARGETS = {
    'qk_video': VideoTargets(
        click_rate=142_321_193 / 493_458_970,
        per_click={'like': 10_141_195 / 142_321_193, 'share': 1_128_312 / 142_321_193,
                   'follow': 857_678 / 142_321_193},
        min_clicks_per_user=5),
    'qb_video': VideoTargets(
        click_rate=1_701_171 / 2_442_299,
        per_click={'like': 20_687 / 1_701_171, 'share': 2_541 / 1_701_171,
                   'follow': 2_487 / 1_701_171},
        min_clicks_per_user=0),
}


def simulate_exposures(name: str, seed: int, population: Population, latent: LatentModel,
                       catalogue: Catalogue, user_ids: np.ndarray):
  """Returns (users, planned rows per user, exposure rows) of `user_ids` in scenario `name`.

  Exposures do not depend on item categories or click intercepts, so this also serves the
  pilot that assigns video categories before those exist.
  """
  users = scenarios.user_block(population, latent, user_ids)
  planned = population.rows_per_user(name, user_ids, catalogue.size)
  injector = repeats.RepeatInjector(CounterStream(seed, f'{name}/repeats'))
  base = planned - injector.repeat_counts(user_ids, planned)
  rows = sample_rows(CounterStream(seed, f'{name}/exposures'), user_ids, base, users.mixture,
                     catalogue)
  return users, planned, rows


def post_stratification_weights(users: scenarios.UserBlock, rows: Rows) -> np.ndarray:
  """Returns a weight per row: population share / pilot share of its user's (gender, age) cell.

  Topic preferences depend strongly on gender and age, and a pilot's (gender, age) row shares
  differ from the population's by sampling noise. Weighted pilot rows have the population's
  shares. Cells absent from the pilot get no weight.
  """
  target = population_lib.joint_demographics().ravel()
  row_cells = (users.gender * 8 + users.age)[rows.user_index]
  pilot_share = np.bincount(row_cells, minlength=target.shape[0]) / max(len(rows), 1)
  cell_weights = np.divide(target, pilot_share, out=np.zeros_like(target),
                           where=pilot_share > 0)
  return cell_weights[row_cells]


def pilot_slot_counts(name: str, seed: int, population: Population, latent: LatentModel,
                      catalogue: Catalogue) -> np.ndarray:
  """Returns post-stratified exposures per catalogue slot among the scenario's pilot users."""
  pilot = population.user_ids[name][:config.PILOT_USERS]
  users, _, rows = simulate_exposures(name, seed, population, latent, catalogue, pilot)
  return np.bincount(rows.slot, weights=post_stratification_weights(users, rows),
                     minlength=catalogue.size)


class VideoGenerator:
  """Generates the rows of one video scenario, block by block."""

  def __init__(self, name: str, seed: int, population: Population, latent: LatentModel,
               catalogue: Catalogue):
    if catalogue.video_category is None:
      raise ValueError(f'the {name} catalogue has no video categories assigned.')
    self.name = name
    self.seed = seed
    self.population = population
    self.latent = latent
    self.catalogue = catalogue
    self.targets = TARGETS[name]
    self._labels = CounterStream(seed, f'{name}/labels')
    self.repeats = repeats.RepeatInjector(CounterStream(seed, f'{name}/repeats'))
    self._calibrate()

  def _simulate(self, user_ids: np.ndarray):
    users, planned, rows = simulate_exposures(self.name, self.seed, self.population, self.latent,
                                              self.catalogue, user_ids)
    scores = scenarios.row_scores(self.latent, users, rows, self.catalogue)
    click_uniform = self._labels.uniform(user_ids[rows.user_index], rows.counter, 0)
    return users, planned, rows, scores, click_uniform

  def _calibrate(self) -> None:
    pilot = self.population.user_ids[self.name][:config.PILOT_USERS]
    users, _, rows, scores, click_uniform = self._simulate(pilot)
    row_weights = post_stratification_weights(users, rows)
    minimum = self.targets.min_clicks_per_user
    # Conflicting repeats flip the label of R * C of all rows and so move the click rate by
    # R * C * (1 - 2 p). The base rows aim at the rate that compensates.
    flipped = repeats.REPEATED_ROW_RATE * repeats.CONFLICT_SHARE
    base_rate = (self.targets.click_rate - flipped) / (1.0 - 2.0 * flipped)
    static_intercept = scenarios.solve_intercept(
        scores, base_rate, click_uniform, rows.user_index, minimum)

    # Recent clicks only raise click logits, so the intercept lies below the one that matches
    # the rate without them, by at most the recent-topic weight.
    def rate(intercept: float) -> float:
      click = self._decide_clicks(rows, scores, click_uniform, intercept)
      return float(np.average(click, weights=row_weights))

    self.click_intercept = scenarios.bisect_intercept(
        rate, base_rate, low=static_intercept - latent_lib.RECENT_TOPIC_WEIGHT - 1.0,
        high=static_intercept + 1.0, iterations=RECENT_CALIBRATION_STEPS)
    click = self._decide_clicks(rows, scores, click_uniform, self.click_intercept)
    self.standardiser = scenarios.Standardiser.fit(scores)
    clicked_scores = self.standardiser(scores[click == 1])
    realised_rate = float(click.mean())
    engagement = scenarios.engagement_quantiles(self.population, self.latent, self.name,
                                                self.catalogue.size)
    self.action_intercepts = {}
    self.unclicked_probability = {}
    for action, per_click in self.targets.per_click.items():
      on_clicks = (1.0 - UNCLICKED_ACTION_SHARE) * per_click
      self.action_intercepts[action] = scenarios.solve_action_intercept(
          clicked_scores, on_clicks, engagement)
      self.unclicked_probability[action] = (UNCLICKED_ACTION_SHARE * per_click * realised_rate /
                                            (1.0 - realised_rate))

  def _decide_clicks(self, rows: Rows, scores: np.ndarray, click_uniform: np.ndarray,
                     intercept: float) -> np.ndarray:
    click, _ = recent_clicks.decide_clicks(
        rows.user_index, rows.topic, intercept + scores, click_uniform,
        window=latent_lib.RECENT_TOPIC_WINDOW, weight=latent_lib.RECENT_TOPIC_WEIGHT)
    minimum = self.targets.min_clicks_per_user
    if minimum <= 0 or not len(rows):
      return click

    # Raise users below the minimum by clicking their best-scoring unclicked rows.
    clicks_per_user = np.bincount(rows.user_index, weights=click,
                                  minlength=int(rows.user_index.max()) + 1)
    deficit = np.maximum(minimum - clicks_per_user, 0).astype(np.int64)
    candidates = np.flatnonzero((deficit[rows.user_index] > 0) & (click == 0))
    if candidates.size:
      order = candidates[np.lexsort((-scores[candidates], rows.user_index[candidates]))]
      owners = rows.user_index[order]
      first = np.searchsorted(owners, owners, side='left')
      rank = np.arange(order.size) - first
      click[order[rank < deficit[owners]]] = 1
    return click

  def action_probabilities(self, users: scenarios.UserBlock, rows: Rows,
                           scores: np.ndarray) -> Dict[str, np.ndarray]:
    """Returns [rows, 2] probabilities per action, for click 0 (column 0) and click 1."""
    logits = scenarios.action_logits(self.standardiser(scores),
                                     users.engagement[rows.user_index])
    result = {}
    for action in ACTIONS:
      clicked = scenarios.sigmoid(self.action_intercepts[action] + logits)
      unclicked = np.full_like(clicked, self.unclicked_probability[action])
      result[action] = np.stack([unclicked, clicked], axis=1)
    return result

  def generate_block(self, user_ids: np.ndarray) -> Dict[str, np.ndarray]:
    """Returns the file columns for `user_ids` (ascending), rows grouped by user in time order."""
    users, planned, rows, scores, click_uniform = self._simulate(user_ids)
    click = self._decide_clicks(rows, scores, click_uniform, self.click_intercept)
    row_uid = user_ids[rows.user_index]
    probabilities = self.action_probabilities(users, rows, scores)

    columns = {
        'user_id': row_uid,
        'item_id': self.catalogue.item_ids[rows.slot],
        'click': click,
    }
    for offset, action in enumerate(ACTIONS):
      uniform = self._labels.uniform(row_uid, rows.counter, 1 + offset)
      columns[action] = (uniform < probabilities[action][np.arange(len(rows)), click]).astype(
          np.int64)
    columns['video_category'] = self.catalogue.video_category[rows.slot]
    columns['watching_times'] = draw_watching_times(
        click, self._labels.uniform(row_uid, rows.counter, 4),
        self._labels.uniform(row_uid, rows.counter, 5))
    columns['gender'] = users.gender[rows.user_index]
    columns['age'] = users.age[rows.user_index]

    return self.repeats.inject(columns, rows, planned, probabilities)
