"""Item catalogues: topics, circle positions, popularity, quality and item columns.

A catalogue stores its items in slot order, sorted by (topic, position on the topic's circle),
so a topic is a contiguous slot range and circle neighbours are adjacent slots. Popularity
weights are lognormal with sigma 2.6, a heavy tail in the range that matches the per-item row
ratios of the released 1M-user QK-video CTR file (p50/mean 0.058, p99/mean 15.3). Each weight
is capped so that no item is expected to reach more than 70% of the users, because a user sees
an item at most once apart from injected repeats. At small scales that cap binds: the head
cannot hold the share of rows the real head holds, and per-item ratios stay flatter than the
real ones (see docs/generator.md).

Video items carry `video_category` (0, 1, or -1 for missing), assigned per topic by weighted
systematic sampling so that the expected row shares match 53.6% / 45.1% / 1.32%. Article items
carry the per-item columns of the article files. Item ids are a random permutation of a
catalogue's id range: QK-video items first, then QB-video's own items, then QK-article, then
QB-article, so ids never collide across catalogues and never are 0.
"""

import dataclasses
from typing import Dict, Optional

import numpy as np

POPULARITY_SIGMA = 2.6
MAX_EXPECTED_REACH = 0.7
# Expected row shares of video_category 1 and of a missing category.
CATEGORY_ONE_SHARE = 0.451
CATEGORY_MISSING_SHARE = 0.0132
# Standard deviation of a topic's category-1 share around CATEGORY_ONE_SHARE.
TOPIC_CATEGORY_SD = 0.2
# Trending rows draw items with probability proportional to (expected share)^2, so the few
# head items reach a large share of users.
TRENDING_EXPONENT = 2.0
ARTICLE_FINE_CATEGORIES_PER_TOPIC = 5
ARTICLE_TOPICS_PER_COARSE_CATEGORY = 3


@dataclasses.dataclass
class Catalogue:
  """Items of one scenario in slot order.

  Attributes:
    name: Scenario name.
    item_ids: int64 [n] raw item ids.
    topics: int64 [n] topic of each item; `topic_starts[k]:topic_starts[k + 1]` is topic k.
    positions: float64 [n] circle position t in [0, 1) inside the topic, ascending per topic.
    weights: float64 [n] popularity weights, summing to 1 within each topic.
    quality: float64 [n] item term of the click logit.
    topic_starts: int64 [K + 1] slot offsets of the topics.
    topic_demand: float64 [K] expected share of rows per topic.
    video_category: int64 [n] 0, 1 or -1 (missing) for video catalogues, else None.
    columns: per-item article columns by header name (empty for videos).
    vectors: float32 [n, 4] latent item vectors, filled on first use by the row scorer.
  """

  name: str
  item_ids: np.ndarray
  topics: np.ndarray
  positions: np.ndarray
  weights: np.ndarray
  quality: np.ndarray
  topic_starts: np.ndarray
  topic_demand: np.ndarray
  video_category: Optional[np.ndarray] = None
  columns: Dict[str, np.ndarray] = dataclasses.field(default_factory=dict)
  vectors: Optional[np.ndarray] = None

  def __post_init__(self):
    self.cumulative = np.cumsum(self.weights)
    self.topic_sizes = np.diff(self.topic_starts)
    demand = self.topic_demand * (self.topic_sizes > 0)
    global_weights = (self.weights * (demand / demand.sum())[self.topics])**TRENDING_EXPONENT
    self.trending_cumulative = np.cumsum(global_weights) / global_weights.sum()

  @property
  def size(self) -> int:
    return int(self.item_ids.shape[0])


def split_counts(total: int, shares: np.ndarray, minimum: int) -> np.ndarray:
  """Splits `total` into integer parts proportional to `shares`, each at least `minimum`."""
  minimum = min(minimum, total // len(shares))
  rest = total - minimum * len(shares)
  raw = shares / shares.sum() * rest
  counts = np.floor(raw).astype(np.int64)
  remainder = rest - counts.sum()
  counts[np.argsort(-(raw - counts), kind='stable')[:remainder]] += 1
  return counts + minimum


def lognormal_weights(rng: np.random.Generator, count: int) -> np.ndarray:
  return np.exp(POPULARITY_SIGMA * rng.standard_normal(count))


def cap_weights(weights: np.ndarray, topics: np.ndarray, topic_rows: np.ndarray,
                users: int) -> np.ndarray:
  """Caps weights so that each item's expected rows stay below 70% of `users`.

  `topic_rows[k]` is the expected number of rows in topic k.
  """
  capped = weights.astype(np.float64).copy()
  for _ in range(20):
    totals = np.bincount(topics, weights=capped, minlength=topic_rows.shape[0])
    limit = MAX_EXPECTED_REACH * users * totals[topics] / np.maximum(topic_rows[topics], 1e-12)
    over = capped > limit
    if not over.any():
      break
    capped[over] = limit[over]
  return capped


def normalise_per_topic(weights: np.ndarray, topics: np.ndarray, num_topics: int) -> np.ndarray:
  totals = np.bincount(topics, weights=weights, minlength=num_topics)
  return weights / totals[topics]


def item_quality(rng: np.random.Generator, weights: np.ndarray) -> np.ndarray:
  """Returns quality correlated (0.4) with log popularity, sd 0.5."""
  log_weight = np.log(weights)
  standardised = (log_weight - log_weight.mean()) / max(log_weight.std(), 1e-9)
  return 0.5 * (0.4 * standardised + np.sqrt(1 - 0.16) * rng.standard_normal(weights.shape[0]))


def topic_category_targets(rng: np.random.Generator, topic_demand: np.ndarray) -> np.ndarray:
  """Returns each topic's share of category-1 rows, averaging 45.1% under `topic_demand`."""
  demand = topic_demand / topic_demand.sum()
  deviation = rng.normal(0.0, TOPIC_CATEGORY_SD, size=demand.shape[0])
  upper = 1.0 - CATEGORY_MISSING_SHARE - 0.05
  targets = np.clip(CATEGORY_ONE_SHARE + deviation, 0.05, upper)
  for _ in range(50):
    targets = np.clip(targets + CATEGORY_ONE_SHARE - np.dot(demand, targets), 0.05, upper)
  return targets


def _systematic_positions(rng: np.random.Generator, groups: np.ndarray,
                          weights: np.ndarray, num_groups: int):
  """Returns (order, shifted midpoints) of weighted systematic sampling within groups.

  Items in a random order cover [0, 1) of their group in proportion to their weight. The
  midpoint of each item's interval is then shifted by one uniform offset per group, modulo 1.
  """
  order = np.lexsort((rng.random(groups.shape[0]), groups))
  ordered_groups = groups[order]
  ordered = weights[order]
  totals = np.bincount(ordered_groups, weights=ordered, minlength=num_groups)
  cumulative = np.cumsum(ordered)
  group_first = np.searchsorted(ordered_groups, np.arange(num_groups))
  before = np.concatenate([[0.0], cumulative])[group_first][ordered_groups]
  midpoints = (cumulative - before - 0.5 * ordered) / np.maximum(totals[ordered_groups], 1e-300)
  return order, np.mod(midpoints + rng.random(num_groups)[ordered_groups], 1.0)


def assign_video_categories(rng: np.random.Generator, topics: np.ndarray, weights: np.ndarray,
                            category_one_targets: np.ndarray) -> np.ndarray:
  """Assigns 0 / 1 / -1 per item by weighted systematic sampling.

  Missing (-1) is drawn over the whole catalogue, so that its 1.32% of rows spans many items.
  Then, within each topic, category 1 takes `category_one_targets[k]` of the topic's
  non-missing weight and 0 takes the rest. `weights` should be expected rows per item.
  """
  num_topics = category_one_targets.shape[0]
  category = np.zeros(topics.shape[0], dtype=np.int64)
  order, shifted = _systematic_positions(rng, np.zeros_like(topics), weights, 1)
  missing = order[shifted < CATEGORY_MISSING_SHARE]
  category[missing] = -1

  present = np.flatnonzero(category == 0)
  order, shifted = _systematic_positions(rng, topics[present], weights[present], num_topics)
  share = category_one_targets / (1.0 - CATEGORY_MISSING_SHARE)
  one = shifted < share[topics[present][order]]
  category[present[order[one]]] = 1
  return category


def circle_positions(rng: np.random.Generator, counts: np.ndarray) -> np.ndarray:
  """Returns ascending positions (j + U) / n_k for each topic's n_k items, topics in order."""
  local = np.concatenate([np.arange(n) for n in counts]) if counts.sum() else np.zeros(0)
  sizes = np.repeat(counts, counts)
  return (local + rng.random(local.shape[0])) / np.maximum(sizes, 1)


def sort_slots(topics: np.ndarray, positions: np.ndarray) -> np.ndarray:
  return np.lexsort((positions, topics))


def topic_starts_of(topics: np.ndarray, num_topics: int) -> np.ndarray:
  return np.searchsorted(topics, np.arange(num_topics + 1)).astype(np.int64)


def _expected_topic_rows(topic_demand: np.ndarray, users: int, mean_rows: float) -> np.ndarray:
  return topic_demand / topic_demand.sum() * users * mean_rows


def _popularity(rng: np.random.Generator, topics: np.ndarray, topic_demand: np.ndarray,
                users: int, mean_rows: float) -> np.ndarray:
  num_topics = topic_demand.shape[0]
  weights = normalise_per_topic(lognormal_weights(rng, topics.shape[0]), topics, num_topics)
  topic_rows = _expected_topic_rows(topic_demand, users, mean_rows)
  capped = cap_weights(weights, topics, topic_rows, users)
  return normalise_per_topic(capped, topics, num_topics)


def _in_slot_order(name: str, item_ids, topics, positions, weights, quality, topic_demand,
                   video_category=None, columns=None) -> Catalogue:
  num_topics = topic_demand.shape[0]
  order = sort_slots(topics, positions)
  return Catalogue(
      name=name,
      item_ids=item_ids[order].astype(np.int64),
      topics=topics[order].astype(np.int64),
      positions=positions[order].astype(np.float64),
      weights=weights[order],
      quality=quality[order],
      topic_starts=topic_starts_of(topics[order], num_topics),
      topic_demand=topic_demand,
      video_category=None if video_category is None else video_category[order],
      columns={key: value[order] for key, value in (columns or {}).items()})


def build_video_catalogues(seed: int, topic_demand: np.ndarray, qk_items: int, qk_users: int,
                           qk_mean_rows: float, qb_items: int, qb_shared_items: int,
                           qb_users: int, qb_mean_rows: float):
  """Builds the QK-video and QB-video catalogues without categories; returns (qk, qb).

  QB-video takes `qb_shared_items` QK-video items (same id, topic, position and quality) drawn
  without replacement with probability proportional to sqrt(QK-video expected share), plus
  items of its own. Popularity on QB-video is drawn afresh. `qb.columns['qk_video_slot']` is
  the QK-video slot of each shared item and -1 for QB-video's own items.
  """
  rng = np.random.default_rng([seed, 0xCA7A10])
  num_topics = topic_demand.shape[0]

  counts = split_counts(qk_items, topic_demand, minimum=2)
  topics = np.repeat(np.arange(num_topics), counts)
  positions = circle_positions(rng, counts)
  weights = _popularity(rng, topics, topic_demand, qk_users, qk_mean_rows)
  quality = item_quality(rng, weights)
  item_ids = rng.permutation(qk_items).astype(np.int64) + 1
  qk = _in_slot_order('qk_video', item_ids, topics, positions, weights, quality, topic_demand)

  # Gumbel top-k: the largest log(U) / sqrt(share) keys are a weighted sample without
  # replacement.
  global_share = qk.weights * (topic_demand / topic_demand.sum())[qk.topics]
  keys = np.log(rng.random(qk.size)) / np.sqrt(global_share)
  shared = np.sort(np.argpartition(-keys, qb_shared_items - 1)[:qb_shared_items]
                   if qb_shared_items else np.zeros(0, dtype=np.int64))
  own_items = qb_items - qb_shared_items
  own_counts = split_counts(own_items, topic_demand, minimum=1)
  own_topics = np.repeat(np.arange(num_topics), own_counts)
  own_positions = rng.random(own_items)
  own_ids = rng.permutation(own_items).astype(np.int64) + qk_items + 1

  qb_topics = np.concatenate([qk.topics[shared], own_topics])
  qb_weights = _popularity(rng, qb_topics, topic_demand, qb_users, qb_mean_rows)
  own_quality = item_quality(rng, qb_weights[qb_shared_items:])
  qb = _in_slot_order(
      'qb_video',
      np.concatenate([qk.item_ids[shared], own_ids]),
      qb_topics,
      np.concatenate([qk.positions[shared], own_positions]),
      qb_weights,
      np.concatenate([qk.quality[shared], own_quality]),
      topic_demand,
      columns={'qk_video_slot': np.concatenate([shared, np.full(own_items, -1)])})
  return qk, qb


def assign_categories_from_pilot(seed: int, qk: Catalogue, qb: Catalogue,
                                 qk_pilot_rows: np.ndarray, qb_pilot_rows: np.ndarray) -> None:
  """Sets `video_category` of both catalogues from pilot exposure counts per slot.

  Weighted systematic sampling needs each item's share of rows. Popularity weights overstate
  the head (a user sees an item at most once), so the weights are the pilot's exposures per
  item plus a small popularity term for items the pilot missed. Shared QB-video items keep
  their QK-video category.
  """
  rng = np.random.default_rng([seed, 0xCA7E60])
  targets = topic_category_targets(rng, qk.topic_demand)

  def estimate(catalogue: Catalogue, pilot_rows: np.ndarray) -> np.ndarray:
    mean_rows = max(pilot_rows.mean(), 1e-9)
    return pilot_rows + 0.1 * mean_rows * catalogue.weights * np.maximum(
        catalogue.topic_sizes[catalogue.topics], 1)

  qk.video_category = assign_video_categories(rng, qk.topics, estimate(qk, qk_pilot_rows),
                                              targets)
  source = qb.columns['qk_video_slot']
  own = source < 0
  category = np.where(own, 0, qk.video_category[np.maximum(source, 0)])
  if own.any():
    category[own] = assign_video_categories(rng, qb.topics[own],
                                            estimate(qb, qb_pilot_rows)[own], targets)
  qb.video_category = category


def build_article_catalogue(name: str, seed: int, topic_demand: np.ndarray, items: int,
                            users: int, mean_rows: float, first_id: int,
                            platform_clicks: int) -> Catalogue:
  """Builds an article catalogue with its per-item columns.

  The per-item totals describe the whole platform: click_count is the item's expected share of
  `platform_clicks` (the real scenario's click count) with lognormal noise, exposure_count =
  click_count / item CTR (about 15%), like_count and comment_count are binomial draws from
  click_count, so like_count <= click_count <= exposure_count within every item.
  """
  rng = np.random.default_rng([seed, 0xA7C1E5, first_id])
  num_topics = topic_demand.shape[0]
  counts = split_counts(items, topic_demand, minimum=1)
  topics = np.repeat(np.arange(num_topics), counts)
  positions = circle_positions(rng, counts)
  weights = _popularity(rng, topics, topic_demand, users, mean_rows)
  quality = item_quality(rng, weights)
  item_ids = rng.permutation(items).astype(np.int64) + first_id

  coarse_codes = rng.permutation(-(-num_topics // ARTICLE_TOPICS_PER_COARSE_CATEGORY))
  fine_codes = rng.permutation(num_topics * ARTICLE_FINE_CATEGORIES_PER_TOPIC)
  fine_index = (topics * ARTICLE_FINE_CATEGORIES_PER_TOPIC +
                np.minimum(np.floor(positions * ARTICLE_FINE_CATEGORIES_PER_TOPIC),
                           ARTICLE_FINE_CATEGORIES_PER_TOPIC - 1).astype(np.int64))

  demand = topic_demand / topic_demand.sum()
  click_share = weights * demand[topics]
  click_count = np.maximum(
      1, np.round(click_share * platform_clicks * np.exp(rng.normal(-0.045, 0.3, items))))
  click_count = click_count.astype(np.int64)
  item_ctr = 1.0 / (1.0 + np.exp(-(-1.7 + 0.8 * quality + rng.normal(0.0, 0.3, items))))
  exposure_count = np.maximum(click_count, np.round(click_count / item_ctr)).astype(np.int64)
  like_rate = np.clip(0.0178 * np.exp(0.5 * quality + rng.normal(-0.125, 0.5, items)), 0, 1)
  comment_rate = np.clip(0.004 * np.exp(rng.normal(-0.125, 0.5, items)), 0, 1)
  like_count = rng.binomial(click_count, like_rate).astype(np.int64)
  comment_count = rng.binomial(click_count, comment_rate).astype(np.int64)

  def sigmoid(values):
    return 1.0 / (1.0 + np.exp(-values))

  columns = {
      'exposure_count': exposure_count,
      'click_count': click_count,
      'like_count': like_count,
      'comment_count': comment_count,
      'item_score1': np.round(sigmoid(1.5 * quality + rng.normal(0.0, 0.5, items)), 4),
      'item_score2': np.round(1.0 + 4.0 * sigmoid(quality + rng.normal(0.3, 0.8, items)), 3),
      'item_score3': np.round(100.0 * sigmoid(0.8 * quality + rng.normal(-0.5, 1.0, items)), 2),
      'category_second': fine_codes[fine_index].astype(np.int64),
      'category_first': coarse_codes[topics // ARTICLE_TOPICS_PER_COARSE_CATEGORY].astype(np.int64),
      # Reading time of the whole article in seconds (not a file column).
      'length_seconds': np.exp(rng.normal(np.log(150.0), 0.6, items)),
  }
  return _in_slot_order(name, item_ids, topics, positions, weights, quality, topic_demand,
                        columns=columns)
