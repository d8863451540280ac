"""Model inputs of the sequential recommenders: training windows, masking, evaluation inputs.

Sequences are stored as one flat int array of item indices (`values`) and row boundaries
(`row_splits`, length U + 1), the layout of tf.RaggedTensor: user u owns
values[row_splits[u]:row_splits[u + 1]], oldest item first. Model inputs are [N, max_len]
arrays, left-padded with 0 so that the most recent item sits in the last column.

NumPy functions build the trainer's inputs; `left_pad_ragged` and `build_eval_inputs_tf` do
the same in TensorFlow for the serving signatures, and tests check that both agree.
"""

from typing import Optional, Tuple

import numpy as np
import tensorflow as tf

PADDING_ID = 0

# Evaluation read-outs. 'last': the output at the last real item (causal models) or at an
# appended [MASK] slot (BERT4Rec). 'reference_head': append a padding slot and read its output,
# as the Tenrec reference code did from March 2024. 'reference_paper_era': drop the last history
# item, append a padding slot and average the logits over all positions (padding included),
# as the code that produced the published Tenrec tables did.
READOUTS = ('last', 'reference_head', 'reference_paper_era')

# Training-window schemes. 'all': windows that tile the whole training sequence, so every
# training transition is used once per epoch. 'last': only the most recent
# window of each user, as the Tenrec reference code did.
TRAIN_WINDOWS = ('all', 'last')


def _check_choice(name: str, value: str, allowed) -> None:
  if value not in allowed:
    raise ValueError(f'{name} must be one of {", ".join(map(repr, allowed))}; got {value!r}.')


def readout_pooling(readout: str) -> str:
  """Returns how a read-out pools the encoder output: 'last' position or 'mean' over all."""
  _check_choice('readout', readout, READOUTS)
  return 'mean' if readout == 'reference_paper_era' else 'last'


def segments_to_left_padded(values: np.ndarray,
                            starts: np.ndarray,
                            ends: np.ndarray,
                            max_len: int) -> np.ndarray:
  """Copies the last `max_len` values of each segment into a left-padded matrix.

  Args:
    values: Flat int array.
    starts: int array [N], segment i is values[starts[i]:ends[i]].
    ends: int array [N], ends >= starts.
    max_len: Number of columns.

  Returns:
    int64 array [N, max_len]; row i ends with values[max(starts[i], ends[i] - max_len):ends[i]]
    and is padded on the left with PADDING_ID.
  """
  starts = np.asarray(starts, dtype=np.int64)
  ends = np.asarray(ends, dtype=np.int64)
  if np.any(ends < starts):
    row = int(np.argmax(ends < starts))
    raise ValueError(f'Segment {row} ends before it starts: start {starts[row]}, end '
                     f'{ends[row]}.')
  output = np.full((len(starts), max_len), PADDING_ID, dtype=np.int64)
  if not len(starts):
    return output

  kept_starts = np.maximum(starts, ends - max_len)
  counts = ends - kept_starts
  rows = np.repeat(np.arange(len(starts)), counts)
  offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
  columns = max_len - np.repeat(counts, counts) + offsets
  output[rows, columns] = np.asarray(values)[np.repeat(kept_starts, counts) + offsets]
  return output


def left_pad(values: np.ndarray,
             row_splits: np.ndarray,
             max_len: int,
             drop_last: int = 0,
             append_id: Optional[int] = None) -> np.ndarray:
  """Builds left-padded inputs from ragged sequences.

  Row u is the sequence u without its last `drop_last` items, followed by `append_id` when it
  is given, cropped to its last max_len entries and left-padded with PADDING_ID.

  Example:

    left_pad(np.array([1, 2, 3, 4, 5]), np.array([0, 3, 5]), max_len=3, append_id=9)
    # [[2, 3, 9],
    #  [4, 5, 9]]
  """
  row_splits = np.asarray(row_splits, dtype=np.int64)
  starts = row_splits[:-1]
  ends = np.maximum(row_splits[1:] - drop_last, starts)
  if append_id is None:
    return segments_to_left_padded(values, starts, ends, max_len)

  output = np.full((len(starts), max_len), PADDING_ID, dtype=np.int64)
  if max_len > 1:
    output[:, :-1] = segments_to_left_padded(values, starts, ends, max_len - 1)
  output[:, -1] = append_id
  return output


def build_eval_inputs(values: np.ndarray,
                      row_splits: np.ndarray,
                      max_len: int,
                      readout: str = 'last',
                      mask_token: Optional[int] = None) -> np.ndarray:
  """Builds the evaluation inputs of a batch of user histories.

  Args:
    values, row_splits: The histories (validation: training items; test: training items and
      the validation item).
    max_len: Model input length.
    readout: One of READOUTS.
    mask_token: The model's [MASK] id (BERT4Rec), or None for causal models. With
      readout='last' a [MASK] slot is appended when it is given.

  Returns:
    int64 array [U, max_len].
  """
  _check_choice('readout', readout, READOUTS)
  if readout == 'last':
    return left_pad(values, row_splits, max_len, append_id=mask_token)
  if readout == 'reference_head':
    return left_pad(values, row_splits, max_len, append_id=PADDING_ID)
  return left_pad(values, row_splits, max_len, drop_last=1, append_id=PADDING_ID)


def _window_segments(row_splits: np.ndarray, window_tokens: int, step: int, min_tokens: int,
                     scheme: str) -> Tuple[np.ndarray, np.ndarray]:
  """Returns (starts, ends) of windows that tile each sequence from its end backwards."""
  _check_choice('train_windows', scheme, TRAIN_WINDOWS)
  row_splits = np.asarray(row_splits, dtype=np.int64)
  row_starts = row_splits[:-1]
  row_ends = row_splits[1:]
  lengths = row_ends - row_starts

  if scheme == 'last':
    keep = lengths >= min_tokens
    ends = row_ends[keep]
    return np.maximum(row_starts[keep], ends - window_tokens), ends

  # Window w of a sequence of n tokens ends at n - w * step; windows continue while at least
  # min_tokens tokens remain.
  windows_per_row = np.where(lengths >= min_tokens, (lengths - min_tokens) // step + 1, 0)
  rows = np.repeat(np.arange(len(lengths)), windows_per_row)
  window_index = (np.arange(int(windows_per_row.sum())) -
                  np.repeat(np.cumsum(windows_per_row) - windows_per_row, windows_per_row))
  ends = row_ends[rows] - window_index * step
  starts = np.maximum(row_starts[rows], ends - window_tokens)
  return starts, ends


def next_item_windows(values: np.ndarray,
                      row_splits: np.ndarray,
                      max_len: int,
                      scheme: str = 'all') -> Tuple[np.ndarray, np.ndarray]:
  """Builds next-item training samples for causal models.

  A window of max_len + 1 consecutive tokens gives inputs = tokens[:-1] and labels =
  tokens[1:], both left-padded to max_len; label 0 marks padding (ignored by the loss).
  With scheme 'all', windows end at n, n - max_len, n - 2 max_len, ... of a sequence of n
  items and overlap by one token, so each of the n - 1 transitions is a label exactly once.
  With 'last', only the window ending at n is built. Sequences shorter than 2 items give no
  window.

  Example:

    next_item_windows(np.array([1, 2, 3, 4, 5]), np.array([0, 5]), max_len=2)
    # inputs  [[3, 4], [1, 2]]
    # labels  [[4, 5], [2, 3]]

  Returns:
    (inputs, labels), int64 arrays [N, max_len].
  """
  starts, ends = _window_segments(row_splits, max_len + 1, max_len, 2, scheme)
  inputs = segments_to_left_padded(values, starts, ends - 1, max_len)
  labels = segments_to_left_padded(values, starts + 1, ends, max_len)
  return inputs, labels


def masked_item_windows(values: np.ndarray,
                        row_splits: np.ndarray,
                        max_len: int,
                        scheme: str = 'all') -> np.ndarray:
  """Builds the unmasked training windows of a bidirectional (masked-item) model.

  Windows contain max_len tokens. With scheme 'all' they tile each sequence from its end,
  with 'last' only the last max_len tokens are used. `mask_items` masks them every epoch.

  Returns:
    int64 array [N, max_len], left-padded.
  """
  starts, ends = _window_segments(row_splits, max_len, max_len, 1, scheme)
  return segments_to_left_padded(values, starts, ends, max_len)


def mask_items(windows: np.ndarray,
               rng: np.random.Generator,
               mask_prob: float,
               mask_token: int,
               num_items: int) -> Tuple[np.ndarray, np.ndarray]:
  """Applies BERT-style masking to training windows.

  Every non-padding position is selected with probability mask_prob. A selected position gets
  label = its item and input = mask_token with probability 0.8, a uniform random item of
  1..num_items with probability 0.1, or its own item with probability 0.1. Other positions get
  label 0 (ignored by the loss) and keep their item.

  Returns:
    (inputs, labels), int64 arrays of the shape of `windows`.
  """
  if not 0 < mask_prob <= 1:
    raise ValueError(f'mask_prob must be in (0, 1], got {mask_prob!r}.')
  windows = np.asarray(windows, dtype=np.int64)
  selected = (rng.random(windows.shape) < mask_prob) & (windows != PADDING_ID)
  replacement = rng.random(windows.shape)
  random_items = rng.integers(1, num_items + 1, size=windows.shape)

  inputs = windows.copy()
  inputs[selected & (replacement < 0.8)] = mask_token
  use_random = selected & (replacement >= 0.8) & (replacement < 0.9)
  inputs[use_random] = random_items[use_random]

  labels = np.where(selected, windows, PADDING_ID)
  return inputs, labels


def left_pad_ragged(sequences: tf.RaggedTensor, max_len: int) -> tf.Tensor:
  """TensorFlow version of `left_pad`: last max_len items of each row, left-padded with 0.

  Args:
    sequences: int64 RaggedTensor [batch, None].
    max_len: Number of output columns.

  Returns:
    int64 tensor [batch, max_len].
  """
  lengths = tf.minimum(sequences.row_lengths(), max_len)
  starts = sequences.row_lengths() - lengths
  columns = tf.range(max_len, dtype=tf.int64)[tf.newaxis, :]
  shift = (max_len - lengths)[:, tf.newaxis]
  source = columns - shift + starts[:, tf.newaxis]
  valid = columns >= shift

  right_padded = sequences.to_tensor(default_value=PADDING_ID)
  width = tf.shape(right_padded, out_type=tf.int64)[1]
  safe_source = tf.clip_by_value(source, 0, tf.maximum(width - 1, 0))
  right_padded = tf.pad(right_padded, [[0, 0], [0, 1]])  # keeps gather valid for empty rows
  gathered = tf.gather(right_padded, safe_source, batch_dims=1)
  return tf.where(valid, gathered, tf.constant(PADDING_ID, tf.int64))


def build_eval_inputs_tf(sequences: tf.RaggedTensor,
                         max_len: int,
                         readout: str = 'last',
                         mask_token: Optional[int] = None) -> tf.Tensor:
  """TensorFlow version of `build_eval_inputs` for serving signatures."""
  _check_choice('readout', readout, READOUTS)
  sequences = tf.cast(sequences, tf.int64)
  if readout == 'reference_paper_era':
    sequences = sequences[:, :-1]
  if readout == 'last':
    append_id = mask_token
  else:
    append_id = PADDING_ID
  if append_id is None:
    return left_pad_ragged(sequences, max_len)

  batch = sequences.nrows()
  history = left_pad_ragged(sequences, max_len - 1) if max_len > 1 else tf.zeros(
      [batch, 0], tf.int64)
  slot = tf.fill([batch, 1], tf.constant(append_id, tf.int64))
  return tf.concat([history, slot], axis=1)
