"""Rows of the article files (QK-article.csv, QB-article.csv) for one block of users.

The article files are click logs: every row has click = 1. The feed recommender proposes
candidates and the user clicks each with p = sigmoid(b + score), b calibrated so that 35% of
candidates are clicked. A user's rows are their first clicks, as many as their activity
sets.
QK-article rows also carry read, like, share, follow and favorite, each with
p = sigmoid(c + 0.7 z + 0.8 engagement) and c calibrated to the Table 1 ratio per click, and a
per-row read_percentage and read_time:

* read_percentage = 100 * sigmoid(0.8 + 0.6 z + N(0, 1)), two decimals, and 0 on unread rows;
* read_time = item reading time * read_percentage / 100 * LogNormal(0, 0.3) seconds, one
  decimal, 0 on unread rows.

Both distributions and their units (percent, seconds) are choices: Tenrec publishes only the
meaning of these columns. Item columns (counts, scores, categories) come from the catalogue.
"""

from typing import Dict

import numpy as np

from components.generator import config, scenarios
from components.generator.catalogue import Catalogue
from components.generator.exposures import Rows, sample_rows
from components.generator.latent import LatentModel
from components.generator.population import Population
from components.generator.rng import CounterStream

CANDIDATE_CLICK_RATE = 0.35
ITEM_COLUMNS = ('exposure_count', 'click_count', 'like_count', 'comment_count', 'item_score1',
                'item_score2', 'category_second', 'category_first', 'item_score3')
QK_ARTICLE_PER_CLICK = {
    'read': 44_228_593 / 46_111_728,
    'share': 591_834 / 46_111_728,
    'like': 821_888 / 46_111_728,
    'follow': 62_239 / 46_111_728,
    'favorite': 316_627 / 46_111_728,
}


class ArticleGenerator:
  """Generates the rows of one article scenario, block by block."""

  def __init__(self, name: str, seed: int, population: Population, latent: LatentModel,
               catalogue: Catalogue):
    self.name = name
    self.population = population
    self.latent = latent
    self.catalogue = catalogue
    self.per_click = QK_ARTICLE_PER_CLICK if name == 'qk_article' else {}
    self._candidates = CounterStream(seed, f'{name}/candidates')
    self._labels = CounterStream(seed, f'{name}/labels')
    self.click_intercept = 0.0
    self._calibrate()

  def _accept(self, users: scenarios.UserBlock):
    def accept(rows: Rows) -> np.ndarray:
      scores = scenarios.row_scores(self.latent, users, rows, self.catalogue)
      uniform = self._labels.uniform(users.user_ids[rows.user_index], rows.counter, 0)
      return uniform < scenarios.sigmoid(self.click_intercept + scores)
    return accept

  def _simulate(self, user_ids: np.ndarray):
    users = scenarios.user_block(self.population, self.latent, user_ids)
    clicks = self.population.rows_per_user(self.name, user_ids, self.catalogue.size)
    rows = sample_rows(self._candidates, user_ids, clicks, users.mixture, self.catalogue,
                       accept=self._accept(users),
                       accept_rate=CANDIDATE_CLICK_RATE)
    scores = scenarios.row_scores(self.latent, users, rows, self.catalogue)
    return users, rows, scores

  def _calibrate(self) -> None:
    pilot = self.population.user_ids[self.name][:config.PILOT_USERS]
    users = scenarios.user_block(self.population, self.latent, pilot)
    wanted = self.population.rows_per_user(self.name, pilot, self.catalogue.size)
    candidates = sample_rows(self._candidates, pilot, wanted, users.mixture, self.catalogue)
    candidate_scores = scenarios.row_scores(self.latent, users, candidates, self.catalogue)
    self.click_intercept = scenarios.solve_intercept(candidate_scores, CANDIDATE_CLICK_RATE)

    _, _, scores = self._simulate(pilot)
    self.standardiser = scenarios.Standardiser.fit(scores)
    standard = self.standardiser(scores)
    engagement = scenarios.engagement_quantiles(self.population, self.latent, self.name,
                                                self.catalogue.size)
    self.action_intercepts = {
        action: scenarios.solve_action_intercept(standard, rate, engagement)
        for action, rate in self.per_click.items()}

  def generate_block(self, user_ids: np.ndarray) -> Dict[str, np.ndarray]:
    """Returns the file columns for `user_ids` (ascending), rows grouped by user in time order."""
    users, rows, scores = self._simulate(user_ids)
    row_uid = user_ids[rows.user_index]
    slots = rows.slot
    columns = {
        'user_id': row_uid,
        'item_id': self.catalogue.item_ids[slots],
        'click': np.ones(len(rows), dtype=np.int64),
        'gender': users.gender[rows.user_index],
        'age': users.age[rows.user_index],
    }
    for name in ITEM_COLUMNS:
      columns[name] = self.catalogue.columns[name][slots]

    standard = self.standardiser(scores)
    logits = scenarios.action_logits(standard, users.engagement[rows.user_index])
    actions = {}
    for offset, (action, intercept) in enumerate(sorted(self.action_intercepts.items())):
      uniform = self._labels.uniform(row_uid, rows.counter, 1 + offset)
      actions[action] = (uniform < scenarios.sigmoid(intercept + logits)).astype(np.int64)

    # Without a read column (QB-article) every click counts as read for read_percentage.
    read = actions.get('read', np.ones(len(rows), dtype=np.int64))
    noise = self._labels.normal(row_uid, rows.counter, 10)
    percentage = 100.0 * scenarios.sigmoid(0.8 + 0.6 * standard + noise)
    columns['read_percentage'] = np.where(read == 1, np.round(percentage, 2), 0.0)

    if self.name == 'qk_article':
      time_noise = np.exp(0.3 * self._labels.normal(row_uid, rows.counter, 11))
      seconds = self.catalogue.columns['length_seconds'][slots] * percentage / 100.0 * time_noise
      columns['read'] = read
      columns['read_time'] = np.where(read == 1, np.round(seconds, 1), 0.0)
      for action in ('share', 'like', 'follow', 'favorite'):
        columns[action] = actions[action]
    return columns
