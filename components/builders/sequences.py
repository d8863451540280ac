"""Per-user item sequences and the filters, vocabularies and splits of the sequence tasks.

The sequential (SBR), transfer, profile, cold-start, lifelong and inference speed-up builders
all start from the same click sequences. They keep clicked rows, drop items that are too rare
or too popular over the whole file, optionally keep a subset of users, and keep users with
enough clicks left. `ClickSequenceFilter` implements that step for one input file, in three parts that
match the driver's stages: chunk statistics, their finalisation into global thresholds, and the
per-bucket filter.

`Sequences` holds the sequences of a bucket's users in compressed-row layout (one flat value
array plus row splits), so every per-user operation (first or last k items, leave-last-out,
gathering users) is vectorised NumPy.

`Vocabulary` re-encodes raw item ids to 1..V (0 is padding). The order of the indices is the
ascending raw id by default, as the Tenrec reference did (sklearn's LabelEncoder), or
descending popularity.
"""

import dataclasses
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import numpy as np

from components.builders import accounting
from components.builders import base
from components.builders import hashing
from components.builders import tfexample
from components.builders.sequence_options import SequenceFilterOptions
from components.tenrec_io import reader

# Salts of the sequence builders' seeded choices (see hashing.py for the shared ones).
SALT_VALIDATION_USERS = 0x2F6B1D83
SALT_USER_SUBSET = 0x4A7C15E9
SALT_COLD_USERS = 0x61C88647
SALT_COLD_LENGTH = 0x3C6EF372

# Row accounting reasons of the shared filter.
NOT_CLICKED = 'not_clicked'
USER_SELECTION = 'user_selection'
ITEM_TOO_RARE = 'item_too_rare'
ITEM_TOO_POPULAR = 'item_too_popular'
USER_TOO_FEW_CLICKS = 'user_too_few_clicks'

EMPTY_COUNTS = (np.zeros(0, np.int64), np.zeros(0, np.int64))


@dataclasses.dataclass
class Sequences:
  """Item sequences of several users in compressed-row layout.

  Attributes:
    user_ids: int64 [U], one entry per user (sorted ascending when built from a UserTable).
    values: int64 [N], every user's items, oldest first, users one after the other.
    row_splits: int64 [U + 1]; user u's items are values[row_splits[u]:row_splits[u + 1]].
    offsets: Optional int64 [N], the byte offset of each value's raw row in its file (a stable
      row id for seeded per-row choices).
  """

  user_ids: np.ndarray
  values: np.ndarray
  row_splits: np.ndarray
  offsets: Optional[np.ndarray] = None

  @property
  def num_users(self) -> int:
    return int(self.user_ids.shape[0])

  @property
  def num_values(self) -> int:
    return int(self.values.shape[0])

  @property
  def lengths(self) -> np.ndarray:
    return np.diff(self.row_splits)

  @classmethod
  def from_rows(cls, user_ids: np.ndarray, values: np.ndarray,
                offsets: Optional[np.ndarray] = None) -> 'Sequences':
    """Groups rows that are already sorted by (user, time) into sequences."""
    user_ids = np.asarray(user_ids, dtype=np.int64)
    if user_ids.size:
      boundaries = np.flatnonzero(user_ids[1:] != user_ids[:-1]) + 1
      starts = np.concatenate([[0], boundaries, [user_ids.size]]).astype(np.int64)
      users = user_ids[starts[:-1]]
    else:
      starts = np.zeros(1, np.int64)
      users = np.zeros(0, np.int64)
    return cls(users, np.asarray(values, dtype=np.int64), starts,
               None if offsets is None else np.asarray(offsets, dtype=np.int64))

  def user_index(self) -> np.ndarray:
    """Returns the 0-based user index of every value."""
    return np.repeat(np.arange(self.num_users), self.lengths)

  def _take(self, starts: np.ndarray, counts: np.ndarray, users: np.ndarray) -> 'Sequences':
    counts = counts.astype(np.int64)
    total = int(counts.sum())
    within = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
    index = np.repeat(starts.astype(np.int64), counts) + within
    row_splits = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    offsets = None if self.offsets is None else self.offsets[index]
    return Sequences(users, self.values[index], row_splits, offsets)

  def take_first(self, counts) -> 'Sequences':
    """Keeps the first `counts` items of every user (a scalar or one count per user)."""
    counts = np.minimum(np.broadcast_to(np.asarray(counts, np.int64), (self.num_users,)),
                        self.lengths)
    return self._take(self.row_splits[:-1], np.maximum(counts, 0), self.user_ids)

  def take_last(self, counts) -> 'Sequences':
    """Keeps the last `counts` items of every user (a scalar or one count per user)."""
    counts = np.maximum(np.minimum(
        np.broadcast_to(np.asarray(counts, np.int64), (self.num_users,)), self.lengths), 0)
    return self._take(self.row_splits[1:] - counts, counts, self.user_ids)

  def drop_last(self, count: int) -> 'Sequences':
    """Removes the last `count` items of every user."""
    return self.take_first(np.maximum(self.lengths - count, 0))

  def item_from_end(self, position: int) -> np.ndarray:
    """Returns every user's item at `position` from the end (1 = last item).

    Raises:
      ValueError: A user has fewer than `position` items.
    """
    if self.num_users and int(self.lengths.min()) < position:
      raise ValueError(f'A user has fewer than {position} items.')
    return self.values[self.row_splits[1:] - position]

  def select_users(self, mask: np.ndarray) -> 'Sequences':
    """Keeps the users where `mask` is True."""
    rows = np.flatnonzero(mask)
    return self.gather(rows)

  def gather(self, rows: np.ndarray) -> 'Sequences':
    """Returns the sequences of users `rows` (indices, repeats allowed), in that order."""
    rows = np.asarray(rows, dtype=np.int64)
    return self._take(self.row_splits[:-1][rows], self.lengths[rows], self.user_ids[rows])

  def map_values(self, values: np.ndarray) -> 'Sequences':
    """Returns the same layout with new values (for example encoded items)."""
    return Sequences(self.user_ids, values, self.row_splits, self.offsets)

  def ragged(self) -> tfexample.RaggedColumn:
    """Returns the sequences as a variable-length tf.Example feature."""
    return tfexample.RaggedColumn(self.values, self.row_splits)

  def to_arrays(self, prefix: str) -> Dict[str, np.ndarray]:
    """Returns the arrays under `prefix.` keys, for an intermediate spill file."""
    arrays = {f'{prefix}.user_ids': self.user_ids, f'{prefix}.values': self.values,
              f'{prefix}.row_splits': self.row_splits}
    if self.offsets is not None:
      arrays[f'{prefix}.offsets'] = self.offsets
    return arrays

  @classmethod
  def from_arrays(cls, arrays: Mapping[str, np.ndarray], prefix: str) -> 'Sequences':
    return cls(arrays[f'{prefix}.user_ids'], arrays[f'{prefix}.values'],
               arrays[f'{prefix}.row_splits'], arrays.get(f'{prefix}.offsets'))


@dataclasses.dataclass(frozen=True)
class Vocabulary:
  """Item re-encoding: index i in 1..V stands for raw id `raw_ids[i - 1]`; 0 is padding."""

  raw_ids: np.ndarray

  def __post_init__(self):
    raw = np.asarray(self.raw_ids, dtype=np.int64)
    order = np.argsort(raw, kind='stable')
    object.__setattr__(self, 'raw_ids', raw)
    object.__setattr__(self, '_sorted', raw[order])
    object.__setattr__(self, '_index_of_sorted', (order + 1).astype(np.int64))

  @property
  def size(self) -> int:
    return int(self.raw_ids.shape[0])

  @classmethod
  def from_counts(cls, counts: Tuple[np.ndarray, np.ndarray], order: str) -> 'Vocabulary':
    """Builds the vocabulary of the items in a (sorted unique ids, counts) pair.

    Args:
      counts: Item ids and their number of kept clicks.
      order: 'raw_id' (ascending raw id, as the reference) or 'popularity' (most clicked
        first, ties by ascending raw id).
    """
    items, totals = counts
    if order == 'raw_id':
      return cls(np.asarray(items, np.int64))
    if order == 'popularity':
      return cls(np.asarray(items, np.int64)[np.lexsort((items, -np.asarray(totals)))])
    raise ValueError(f"item order must be 'raw_id' or 'popularity', got {order!r}.")

  def encode(self, raw: np.ndarray) -> np.ndarray:
    """Maps raw item ids to indices 1..V.

    Raises:
      ValueError: An id is not in the vocabulary (a bug in the builder that made it).
    """
    raw = np.asarray(raw, dtype=np.int64)
    if raw.size == 0:
      return np.zeros(0, np.int64)
    if self.size == 0:
      raise ValueError(f'Item {int(raw[0])} is not in the (empty) item vocabulary.')
    position = np.clip(np.searchsorted(self._sorted, raw), 0, self.size - 1)
    found = self._sorted[position] == raw
    if not found.all():
      missing = int(raw[np.argmin(found)])
      raise ValueError(f'Item {missing} is not in the item vocabulary.')
    return self._index_of_sorted[position]

  def text(self) -> str:
    """Returns the vocabulary file text: line i is the raw id of item index i."""
    return ''.join(f'{int(i)}\n' for i in self.raw_ids)


def write_vocabulary(output_dir: str, relative_path: str, raw_ids: np.ndarray) -> str:
  """Writes a vocabulary file (line i = raw id of index i) and returns its relative path."""
  from apache_beam.io.filesystems import FileSystems  # pylint: disable=import-outside-toplevel

  path = FileSystems.join(output_dir, *relative_path.split('/'))
  parent = path.rsplit('/', 1)[0]
  if not FileSystems.exists(parent):
    FileSystems.mkdirs(parent)
  with FileSystems.create(path) as f:
    f.write(Vocabulary(raw_ids).text().encode())
  return relative_path


# Largest id range for which `is_member` uses a lookup table (one byte per id).
_TABLE_LOOKUP_RANGE = 1 << 26


def is_member(values: np.ndarray, sorted_set: np.ndarray) -> np.ndarray:
  """Returns values in `sorted_set` (sorted, unique), by a lookup table for compact id ranges
  and binary search otherwise."""
  if sorted_set.size == 0 or values.size == 0:
    return np.zeros(values.shape, dtype=bool)
  low = int(min(sorted_set[0], values.min()))
  high = int(max(sorted_set[-1], values.max()))
  if high - low < _TABLE_LOOKUP_RANGE:
    table = np.zeros(high - low + 1, dtype=bool)
    table[sorted_set - low] = True
    return table[values - low]
  position = np.clip(np.searchsorted(sorted_set, values), 0, sorted_set.size - 1)
  return sorted_set[position] == values


def hash_unit(seed: int, salt: int, *columns: np.ndarray) -> np.ndarray:
  """Seeded uniform values in [0, 1) per row of the given integer columns."""
  return hashing.to_unit_interval(hashing.hash_columns(seed, salt, *columns))


def smallest_hash_threshold(keys: np.ndarray, count: int) -> Optional[int]:
  """Returns the largest of the `count` smallest hash keys, or None when `count` is 0.

  `keys <= threshold` then selects exactly `count` users (64-bit hash collisions aside).
  """
  if count <= 0 or keys.size == 0:
    return None
  count = min(count, keys.size)
  return int(np.partition(keys, count - 1)[count - 1])


def select_by_threshold(keys: np.ndarray, threshold: Optional[int]) -> np.ndarray:
  if threshold is None:
    return np.zeros(keys.shape, dtype=bool)
  return keys <= np.uint64(threshold)


def concatenate_ids(parts: Iterable[np.ndarray]) -> np.ndarray:
  """Concatenates the per-bucket id arrays of a merged summary list."""
  parts = [np.asarray(p, np.int64) for p in parts]
  return np.concatenate(parts) if parts else np.zeros(0, np.int64)


class ClickSequenceFilter:
  """The shared click-sequence filter of one input file.

  Steps, in the order they are counted in the row accounting:
  1. keep rows whose `signal` column is 1 ('not_clicked' otherwise, also for likes);
  2. keep the users chosen by `max_users` ('user_selection');
  3. drop rows of items with fewer than `min_item_clicks` ('item_too_rare') or more than the
     upper bound ('item_too_popular') signal rows in the whole file;
  4. drop users with fewer than `min_user_clicks` rows left ('user_too_few_clicks').

  Example (inside a builder):

    sbr = ClickSequenceFilter('qk_video', options)
    summary = sbr.summarize_chunk(batch)               # per chunk
    side = sbr.finalize(merged_summary)                # once
    sequences = sbr.apply(table, side, account)        # per bucket
  """

  def __init__(self, input_name: str, options: SequenceFilterOptions, signal: str = 'click'):
    self.input_name = input_name
    self.options = options
    self.signal = signal

  @property
  def _key(self) -> str:
    return f'_filter_{self.input_name}'

  def summarize_chunk(self, batch: reader.RawBatch) -> Dict[str, Any]:
    """Counts signal rows per item (and per user, for `max_users`)."""
    positive = batch.columns[self.signal] == 1
    stats = {
        'item_counts': base.value_counts(batch.columns['item_id'][positive]),
        'rows': int(batch.num_rows),
        'signal_rows': int(positive.sum()),
    }
    if self.options.max_users is not None:
      stats['user_counts'] = base.value_counts(batch.columns['user_id'][positive])
    return {self._key: stats}

  def upper_bound(self, total_clicks: int) -> Optional[int]:
    """Returns the largest allowed click count of an item (None = no upper bound)."""
    o = self.options
    bounds = []
    if o.max_item_clicks is not None:
      bounds.append(int(o.max_item_clicks))
    if o.max_item_click_fraction is not None:
      bounds.append(int(np.floor(o.max_item_click_fraction * total_clicks)))
    return min(bounds) if bounds else None

  def finalize(self, summary: Mapping[str, Any]) -> Dict[str, Any]:
    """Turns the merged chunk statistics into the per-bucket side input of `apply`."""
    o = self.options
    stats = summary.get(self._key, {})
    items, counts = stats.get('item_counts', EMPTY_COUNTS)
    total = int(stats.get('signal_rows', 0))
    upper = self.upper_bound(total)
    keep = counts >= o.min_item_clicks
    if upper is not None:
      keep &= counts <= upper
    side = {
        'kept_items': items[keep],
        'too_popular_items': items[counts > upper] if upper is not None else items[:0],
        'upper_bound': upper,
        'statistics': {
            'signal_rows': total,
            'clicked_items': int(items.size),
            'items_too_rare': int((counts < o.min_item_clicks).sum()),
            'items_too_popular': int((counts > upper).sum()) if upper is not None else 0,
            'max_item_clicks_bound': upper,
            'max_clicks_of_an_item': int(counts.max()) if counts.size else 0,
        },
    }
    if o.max_users is not None:
      users = stats.get('user_counts', EMPTY_COUNTS)[0]
      side['selected_users'] = self._select_users(users)
      side['statistics']['users_with_signal'] = int(users.size)
      side['statistics']['users_selected'] = int(side['selected_users'].size)
    return side

  def _select_users(self, users: np.ndarray) -> np.ndarray:
    limit = self.options.max_users
    if users.size <= limit:
      return users
    if self.options.user_selection == 'lowest_ids':
      return np.sort(users)[:limit]
    keys = hashing.hash_columns(self.options.seed, hashing.SALT_USER_SAMPLE, users)
    return np.sort(users[np.argsort(keys, kind='stable')[:limit]])

  def apply(self, table: base.UserTable, side: Mapping[str, Any],
            account: accounting.RowAccount) -> Tuple[Sequences, np.ndarray]:
    """Filters a bucket's rows and returns the surviving users' sequences of raw item ids.

    The filtered rows are counted in `account`; the surviving rows are not (the caller
    decides whether they are used). Also returns the table row index of every value, so that
    callers can read other columns of the kept rows.
    """
    o = self.options
    cols = table.columns
    keep = cols[self.signal] == 1
    account.filter(NOT_CLICKED if self.signal == 'click' else f'not_{self.signal}d',
                   int((~keep).sum()))

    if o.max_users is not None:
      selected = np.isin(cols['user_id'], side['selected_users'])
      account.filter(USER_SELECTION, int((keep & ~selected).sum()))
      keep &= selected

    candidates = np.flatnonzero(keep)
    item_kept = is_member(cols['item_id'][candidates], side['kept_items'])
    dropped_items = candidates[~item_kept]
    if dropped_items.size:
      too_popular = is_member(cols['item_id'][dropped_items], side['too_popular_items'])
      account.filter(ITEM_TOO_POPULAR, int(too_popular.sum()))
      account.filter(ITEM_TOO_RARE, int((~too_popular).sum()))
    keep[dropped_items] = False

    user_index = table.user_index()
    per_user = np.bincount(user_index[keep], minlength=table.num_users)
    enough = per_user >= o.min_user_clicks
    short = keep & ~enough[user_index]
    account.filter(USER_TOO_FEW_CLICKS, int(short.sum()))
    keep &= enough[user_index]

    rows = np.flatnonzero(keep)
    sequences = Sequences.from_rows(cols['user_id'][rows], cols['item_id'][rows],
                                    table.row_offset[rows])
    return sequences, rows


def leave_last_out(sequences: Sequences, in_validation: np.ndarray,
                   prefix: str = '') -> Dict[str, Dict[str, Any]]:
  """Builds the sequential splits of encoded sequences (every user has at least 3 items).

  train: item_ids = s_1..s_{n-2}; eval (users in validation): item_ids = s_1..s_{n-2},
  target_item = s_{n-1}; test: item_ids = s_1..s_{n-1}, target_item = s_n.
  """
  name = (lambda split: f'{prefix}/{split}') if prefix else (lambda split: split)
  train = sequences.drop_last(2)
  test = sequences.drop_last(1)
  validation_rows = np.flatnonzero(in_validation)
  evaluation = train.gather(validation_rows)
  return {
      name('train'): {'user_id': train.user_ids, 'item_ids': train.ragged()},
      name('eval'): {'user_id': evaluation.user_ids, 'item_ids': evaluation.ragged(),
                     'target_item': sequences.item_from_end(2)[validation_rows]},
      name('test'): {'user_id': test.user_ids, 'item_ids': test.ragged(),
                     'target_item': sequences.item_from_end(1)},
  }


def choose_validation(user_ids: np.ndarray, mode: str, fraction: float, min_users: int,
                      seed: int) -> Dict[str, Any]:
  """Chooses the validation users of a sequential dataset among `user_ids` (all its users).

  The count is min(U, max(floor(fraction * U), min_users)). Modes: 'all' (every user),
  'random' (a seeded sample of that many users) and 'reference_first' (the users with the
  lowest ids, as the reference did with 1%).
  """
  total = int(user_ids.size)
  count = total if mode == 'all' else min(total, max(int(np.floor(fraction * total)), min_users))
  choice: Dict[str, Any] = {'mode': mode, 'users': count, 'of_users': total}
  if mode == 'all':
    return choice
  if mode == 'reference_first':
    choice['max_user_id'] = int(np.partition(user_ids, count - 1)[count - 1]) if count else None
    return choice
  keys = hashing.hash_columns(seed, SALT_VALIDATION_USERS, user_ids)
  choice['threshold'] = smallest_hash_threshold(keys, count)
  return choice


def in_validation(user_ids: np.ndarray, choice: Mapping[str, Any], seed: int) -> np.ndarray:
  """Returns the mask of the users chosen by `choose_validation`."""
  mode = choice['mode']
  if mode == 'all':
    return np.ones(user_ids.shape, dtype=bool)
  if mode == 'reference_first':
    limit = choice.get('max_user_id')
    return np.zeros(user_ids.shape, dtype=bool) if limit is None else user_ids <= limit
  keys = hashing.hash_columns(seed, SALT_VALIDATION_USERS, user_ids)
  return select_by_threshold(keys, choice.get('threshold'))


def split_by_unit(unit: np.ndarray, ratios: Sequence[float]) -> np.ndarray:
  """Maps values in [0, 1) to split indices 0 (train), 1 (eval), 2 (test) by the ratios."""
  return np.searchsorted(np.cumsum(ratios)[:2], unit, side='right').astype(np.int8)


def split_names(prefix: str) -> List[str]:
  return [f'{prefix}/{s}' if prefix else s for s in base.SPLITS]
