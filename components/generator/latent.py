"""Latent user and item factors behind the generated interactions.

The model has K topics shared by videos and articles. A user has

* topic logits theta[u, k] = gender_effect[g, k] + age_effect[a, k] + 0.7 * z[u, k], with
  z standard normal; the user's feed shows topic k with probability softmax(theta[u])[k].
  The demographic effects (sd 1.5 for gender, 1.0 for age, smooth over neighbouring age bins)
  are larger than the individual part, so most of a user's preference is shared with the
  users of the same gender and age. That shared part is what ID-based CTR models learn from a
  few dozen rows per user, through the gender and age embeddings and their interactions with
  item embeddings. Each effect is centred on the row shares of the known values, so it moves
  topics between groups without making a topic more popular overall;
* a taste vector x[u] in R^4 (standard normal) that selects regions inside a topic;
* a click bias (normal, sd 0.5) and an engagement score (standard normal) for like, share,
  follow, read and favourite actions.

An item has a topic k, a position t in [0, 1) on its topic's circle and a vector
e[i] = R_k f(t) + 0.35 * noise, with f(t) = (cos 2 pi t, sin 2 pi t, cos 4 pi t, sin 4 pi t)
and R_k a random rotation per topic, so items close on the circle have similar vectors. The
click logit of a (user, item) exposure is built from these terms (see `click_score`).

Topic-level parameters come from a NumPy generator seeded with the run seed. Per-user and
per-item values are counter-based hashes of their ids, so a user or an item has the same
factors in every scenario and every block.

Example:

  model = LatentModel(seed=7)
  theta = model.user_topic_logits(np.array([1, 2]), gender=np.array([1, 2]), age=np.array([2, 3]))
  theta.shape  # (2, 16)
"""

import numpy as np

from components.generator import config
from components.generator import population
from components.generator.rng import CounterStream

TASTE_DIM = 4
# The feed draws session topics from softmax(FEED_TOPIC_SHARPNESS * theta).
FEED_TOPIC_SHARPNESS = 1.0
USER_TOPIC_SD = 0.7
ITEM_VECTOR_NOISE_SD = 0.35
CLICK_BIAS_SD = 0.5
# Standard deviations of the demographic effects on topic logits and on video_category 1.
GENDER_TOPIC_SD = 1.5
AGE_TOPIC_SD = 1.0
# Correlation of the age effects of neighbouring age bins.
AGE_EFFECT_CORRELATION = 0.6
CATEGORY_GENDER_SD = 1.0
CATEGORY_AGE_SD = 0.6

# Weights of the click-logit terms. They are chosen so that DeepFM with the Tenrec paper's
# hyper-parameters clearly beats item popularity at the default scale (docs/generator.md).
TOPIC_WEIGHT = 1.3
TASTE_WEIGHT = 0.7
QUALITY_WEIGHT = 1.0
CATEGORY_WEIGHT = 1.0
# Interest decays with each further exposure of the same feed session.
SESSION_FATIGUE = 0.03
# A video row's click logit gains RECENT_TOPIC_WEIGHT * m / RECENT_TOPIC_WINDOW, where m is the
# number of the user's last RECENT_TOPIC_WINDOW clicks in the row's topic (recent_clicks.py).
RECENT_TOPIC_WINDOW = 10
RECENT_TOPIC_WEIGHT = 1.5


def _centred(effects: np.ndarray, shares: np.ndarray) -> np.ndarray:
  """Subtracts the `shares`-weighted mean over axis 0 from `effects`."""
  weights = shares / shares.sum()
  return effects - np.tensordot(weights, effects, axes=1)


def _smooth_over_ages(rng: np.random.Generator, columns: int) -> np.ndarray:
  """Returns [7, columns] standard normal effects of the known age bins 1..7, AR(1) over age."""
  rho = AGE_EFFECT_CORRELATION
  effects = np.empty((7, columns))
  effects[0] = rng.normal(size=columns)
  for age in range(1, 7):
    effects[age] = rho * effects[age - 1] + np.sqrt(1.0 - rho * rho) * rng.normal(size=columns)
  return effects


class LatentModel:
  """Topic-level parameters plus per-user and per-item latent factors for one seed."""

  def __init__(self, seed: int, num_topics: int = config.NUM_TOPICS):
    if num_topics < 2:
      raise ValueError(f'num_topics must be at least 2, got {num_topics}.')
    self.seed = seed
    self.num_topics = num_topics
    rng = np.random.default_rng([seed, 0x1A7E47])

    # Gender 0 and age 0 mean "unknown", so they carry no preference of their own. The known
    # values are centred on their row shares, so the effects move topics between groups without
    # making any topic more popular overall.
    self.gender_effects = np.zeros((3, num_topics))
    self.gender_effects[1:] = _centred(rng.normal(0.0, GENDER_TOPIC_SD, size=(2, num_topics)),
                                       population.GENDER_SHARES[1:])
    self.age_effects = np.zeros((8, num_topics))
    self.age_effects[1:] = _centred(AGE_TOPIC_SD * _smooth_over_ages(rng, num_topics),
                                    population.AGE_SHARES[1:])

    # Preference for video_category 1 over 0 by gender and age, centred in the same way.
    gender_category = np.zeros(3)
    gender_category[1:] = _centred(rng.normal(0.0, CATEGORY_GENDER_SD, size=2),
                                   population.GENDER_SHARES[1:])
    age_category = np.zeros(8)
    age_category[1:] = _centred(CATEGORY_AGE_SD * _smooth_over_ages(rng, 1)[:, 0],
                                population.AGE_SHARES[1:])
    self.category_effects = gender_category[:, None] + age_category[None, :]

    self.rotations = np.stack(
        [np.linalg.qr(rng.normal(size=(TASTE_DIM, TASTE_DIM)))[0] for _ in range(num_topics)])

    self._user_topic = CounterStream(seed, 'user-topic')
    self._user_taste = CounterStream(seed, 'user-taste')
    self._user_bias = CounterStream(seed, 'user-click-bias')
    self._user_engagement = CounterStream(seed, 'user-engagement')
    self._item_noise = CounterStream(seed, 'item-vector')

  def user_topic_logits(self, user_ids: np.ndarray, gender: np.ndarray,
                        age: np.ndarray) -> np.ndarray:
    """Returns theta, shape [users, K]."""
    noise = self._user_topic.normal(user_ids[:, None], np.arange(self.num_topics)[None, :])
    return self.gender_effects[gender] + self.age_effects[age] + USER_TOPIC_SD * noise

  @staticmethod
  def topic_mixture(topic_logits: np.ndarray) -> np.ndarray:
    """Returns the feed's topic mixture softmax(FEED_TOPIC_SHARPNESS * theta), [users, K]."""
    shifted = FEED_TOPIC_SHARPNESS * (topic_logits - topic_logits.max(axis=1, keepdims=True))
    weights = np.exp(shifted)
    return weights / weights.sum(axis=1, keepdims=True)

  def user_taste(self, user_ids: np.ndarray) -> np.ndarray:
    """Returns x, shape [users, 4]."""
    return self._user_taste.normal(user_ids[:, None], np.arange(TASTE_DIM)[None, :])

  def user_click_bias(self, user_ids: np.ndarray) -> np.ndarray:
    return CLICK_BIAS_SD * self._user_bias.normal(user_ids)

  def user_engagement(self, user_ids: np.ndarray) -> np.ndarray:
    return self._user_engagement.normal(user_ids)

  def item_vectors(self, item_ids: np.ndarray, topics: np.ndarray,
                   positions: np.ndarray) -> np.ndarray:
    """Returns e, shape [items, 4]; `positions` are circle positions t in [0, 1)."""
    angle = 2.0 * np.pi * positions.astype(np.float64)
    basis = np.stack([np.cos(angle), np.sin(angle), np.cos(2 * angle), np.sin(2 * angle)], axis=1)
    rotated = np.einsum('nij,nj->ni', self.rotations[topics], basis)
    noise = self._item_noise.normal(item_ids[:, None], np.arange(TASTE_DIM)[None, :])
    return rotated + ITEM_VECTOR_NOISE_SD * noise

  def click_score(self, topic_logits: np.ndarray, taste: np.ndarray, click_bias: np.ndarray,
                  item_topics: np.ndarray, item_vectors: np.ndarray, item_quality: np.ndarray,
                  session_position: np.ndarray) -> np.ndarray:
    """Returns the click logit of each row before the scenario intercept.

    score = 1.3 * (theta[u, k_i] - mean_k theta[u, k]) + 0.7 * <x_u, e_i> / sqrt(2)
            + q_i + bias_u - 0.03 * session_position

    Video rows add `category_score` here and the recent-topic term in `recent_clicks`.

    All user arguments are already gathered per row: `topic_logits` [rows, K], `taste`
    [rows, 4], `click_bias` [rows]. Item arguments are per row as well.
    """
    rows = np.arange(item_topics.shape[0])
    topic_term = topic_logits[rows, item_topics] - topic_logits.mean(axis=1)
    taste_term = np.einsum('nd,nd->n', taste, item_vectors) / np.sqrt(2.0)
    return (TOPIC_WEIGHT * topic_term + TASTE_WEIGHT * taste_term + QUALITY_WEIGHT * item_quality
            + click_bias - SESSION_FATIGUE * session_position)

  def category_score(self, gender: np.ndarray, age: np.ndarray,
                     video_category: np.ndarray) -> np.ndarray:
    """Returns the demographic preference term for video_category (0 for 0 or missing)."""
    return CATEGORY_WEIGHT * self.category_effects[gender, age] * (video_category == 1)
