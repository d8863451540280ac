"""The simulated feed recommender that decides which items a user is shown, in time order.

A user's feed is a sequence of sessions with a mean length of 8 rows. A session is trending
with probability 0.35, otherwise it has one topic drawn from the user's topic mixture
softmax(theta). Inside a session each row is either fresh (the first row, and each later row
with probability 0.5) or related. A fresh row of a topic session is drawn by popularity within
the topic. A fresh row of a trending session is drawn from the whole catalogue with
probability proportional to (expected share)^2, so a few head items reach many users. A
related row is one of the 8 circle neighbours on either side of the session's last fresh item,
chosen in proportion to popularity. So exposures are biased by popularity and by preference,
consecutive rows share topics, and items that follow each other in a feed are close on the
topic circle.

A user never sees an item twice here (repeats are injected later, on purpose). Candidates are
drawn in rounds: every round draws more than the remaining need, drops items the user has
already seen (and, for click-only files, candidates the user does not click), and keeps the
earliest rows. All draws are counter-based on (user id, candidate index), so a user's rows do
not depend on the other users of the block.
"""

import dataclasses
from typing import Callable, List, Optional

import numpy as np

from components.generator.catalogue import Catalogue
from components.generator.rng import CounterStream

SESSION_MEAN_LENGTH = 8.0
TRENDING_SESSION_SHARE = 0.35
FRESH_PROBABILITY = 0.5
NEIGHBOUR_RADIUS = 8
MAX_ROUNDS = 12
OVERSAMPLING = 1.25


@dataclasses.dataclass
class Rows:
  """Rows of a block of users, as parallel arrays.

  Attributes:
    user_index: index of the row's user in the block's user array.
    slot: catalogue slot of the item.
    topic: topic of the item (equal to the session topic).
    session_position: 0 for the first row of a feed session, then 1, 2, ...
    counter: per-user candidate number; increases with time within a user.
  """

  user_index: np.ndarray
  slot: np.ndarray
  topic: np.ndarray
  session_position: np.ndarray
  counter: np.ndarray

  def __len__(self) -> int:
    return int(self.user_index.shape[0])

  def take(self, selection: np.ndarray) -> 'Rows':
    return Rows(*(getattr(self, f.name)[selection] for f in dataclasses.fields(self)))

  @staticmethod
  def concat(parts: List['Rows']) -> 'Rows':
    return Rows(*(np.concatenate([getattr(p, f.name) for p in parts])
                  for f in dataclasses.fields(Rows)))


def _available_mixture(mixture: np.ndarray, catalogue: Catalogue) -> np.ndarray:
  available = (catalogue.topic_sizes > 0).astype(np.float64)
  masked = mixture * available[None, :]
  return masked / masked.sum(axis=1, keepdims=True)


def _popularity_slots(catalogue: Catalogue, topics: np.ndarray, uniform: np.ndarray) -> np.ndarray:
  """Draws one slot per row from the row's topic in proportion to popularity."""
  starts = catalogue.topic_starts[topics]
  ends = catalogue.topic_starts[topics + 1]
  cumulative = catalogue.cumulative
  before = np.where(starts > 0, cumulative[np.maximum(starts - 1, 0)], 0.0)
  total = cumulative[ends - 1] - before
  slots = np.searchsorted(cumulative, before + uniform * total, side='right')
  return np.clip(slots, starts, ends - 1)


def _trending_slots(catalogue: Catalogue, uniform: np.ndarray) -> np.ndarray:
  """Draws slots from the whole catalogue in proportion to expected rows (trending items)."""
  slots = np.searchsorted(catalogue.trending_cumulative, uniform, side='right')
  return np.minimum(slots, catalogue.size - 1)


def _neighbour_slots(catalogue: Catalogue, anchors: np.ndarray, topics: np.ndarray,
                     uniform: np.ndarray) -> np.ndarray:
  """Draws a circle neighbour within NEIGHBOUR_RADIUS of each anchor, never the anchor itself
  unless its topic is that small."""
  offsets = np.concatenate([np.arange(-NEIGHBOUR_RADIUS, 0), np.arange(1, NEIGHBOUR_RADIUS + 1)])
  starts = catalogue.topic_starts[topics]
  sizes = catalogue.topic_sizes[topics]
  local = anchors - starts
  candidates = starts[:, None] + np.mod(local[:, None] + offsets[None, :], sizes[:, None])
  cumulative = np.cumsum(catalogue.weights[candidates], axis=1)
  chosen = np.sum(cumulative < (uniform * cumulative[:, -1])[:, None], axis=1)
  return candidates[np.arange(anchors.shape[0]), np.minimum(chosen, offsets.shape[0] - 1)]


def draw_candidates(stream: CounterStream, user_ids: np.ndarray, active: np.ndarray,
                    counts: np.ndarray, first_counter: np.ndarray, mixture: np.ndarray,
                    catalogue: Catalogue) -> Rows:
  """Draws `counts[j]` feed rows for each active user `active[j]` (indices into the block).

  `mixture` is the block's [users, K] topic mixture restricted to topics with items.
  """
  row_user = np.repeat(active, counts)
  row_starts = np.repeat(np.cumsum(counts) - counts, counts)
  local = np.arange(row_user.shape[0]) - row_starts
  counter = first_counter[row_user] + local
  uid = user_ids[row_user]

  starts_session = (local == 0) | (stream.uniform(uid, counter, 0) < 1.0 / SESSION_MEAN_LENGTH)
  session_rows = np.flatnonzero(starts_session)
  session_index = np.cumsum(starts_session) - 1

  session_uid = uid[session_rows]
  session_counter = counter[session_rows]
  trending = stream.uniform(session_uid, session_counter, 1) < TRENDING_SESSION_SHARE
  topic_uniform = stream.uniform(session_uid, session_counter, 2)
  user_cumulative = np.cumsum(mixture[row_user[session_rows]], axis=1)
  num_topics = catalogue.topic_sizes.shape[0]
  session_topic = np.minimum(np.sum(user_cumulative < topic_uniform[:, None], axis=1),
                             num_topics - 1)
  row_trending = trending[session_index]
  session_position = np.arange(row_user.shape[0]) - session_rows[session_index]

  fresh = starts_session | (stream.uniform(uid, counter, 3) < FRESH_PROBABILITY)
  fresh_rows = np.flatnonzero(fresh)
  fresh_uniform = stream.uniform(uid[fresh_rows], counter[fresh_rows], 4)
  fresh_slots = np.where(
      row_trending[fresh_rows],
      _trending_slots(catalogue, fresh_uniform),
      _popularity_slots(catalogue, session_topic[session_index[fresh_rows]], fresh_uniform))
  anchors = fresh_slots[np.cumsum(fresh) - 1]
  slots = anchors.copy()
  walk_rows = np.flatnonzero(~fresh)
  if walk_rows.size:
    slots[walk_rows] = _neighbour_slots(
        catalogue, anchors[walk_rows], catalogue.topics[anchors[walk_rows]],
        stream.uniform(uid[walk_rows], counter[walk_rows], 5))
  topics = catalogue.topics[slots]

  return Rows(user_index=row_user, slot=slots.astype(np.int64), topic=topics.astype(np.int64),
              session_position=session_position.astype(np.int64),
              counter=counter.astype(np.int64))


def sample_rows(stream: CounterStream, user_ids: np.ndarray, rows_needed: np.ndarray,
                mixture: np.ndarray, catalogue: Catalogue,
                accept: Optional[Callable[[Rows], np.ndarray]] = None,
                accept_rate: float = 1.0) -> Rows:
  """Returns up to `rows_needed[u]` distinct-item rows per user, sorted by (user, time).

  `accept(rows)` returns a boolean mask of candidates to keep, for click-only files the
  candidates the user clicks. `accept_rate`, its expected pass rate, sizes the rounds.
  A user whose need exceeds what MAX_ROUNDS rounds can find keeps fewer rows.
  """
  num_users = user_ids.shape[0]
  rows_needed = np.asarray(rows_needed, dtype=np.int64)
  mixture = _available_mixture(mixture, catalogue)
  have = np.zeros(num_users, dtype=np.int64)
  next_counter = np.zeros(num_users, dtype=np.int64)
  finished: List[Rows] = []
  kept: Optional[Rows] = None

  for attempt in range(MAX_ROUNDS):
    need = rows_needed - have
    active = np.flatnonzero(need > 0)
    if kept is not None:
      # Users whose rows are complete leave the merge below.
      done = need[kept.user_index] <= 0
      finished.append(kept.take(done))
      kept = kept.take(~done)
    if not active.size:
      break
    # Later rounds oversample more: they serve users whose feeds repeat a lot.
    factor = OVERSAMPLING * min(1.5**attempt, 16.0) / accept_rate
    counts = np.ceil(need[active] * factor).astype(np.int64) + 2
    candidates = draw_candidates(stream, user_ids, active, counts, next_counter, mixture,
                                 catalogue)
    next_counter[active] += counts
    if accept is not None:
      candidates = candidates.take(accept(candidates))

    merged = candidates if kept is None else Rows.concat([kept, candidates])
    merged = merged.take(np.lexsort((merged.counter, merged.user_index)))
    _, first = np.unique(merged.user_index * catalogue.size + merged.slot, return_index=True)
    is_first = np.zeros(len(merged), dtype=bool)
    is_first[first] = True
    merged = merged.take(is_first)
    user_start = np.searchsorted(merged.user_index, np.arange(num_users))
    rank = np.arange(len(merged)) - user_start[merged.user_index]
    kept = merged.take(rank < rows_needed[merged.user_index])
    have[active] = 0
    have += np.bincount(kept.user_index, minlength=num_users)

  if kept is not None:
    finished.append(kept)
  if not finished:
    empty = np.zeros(0, dtype=np.int64)
    return Rows(empty, empty, empty, empty, empty)
  rows = Rows.concat(finished)
  return rows.take(np.lexsort((rows.counter, rows.user_index)))
