"""Reading the SBR dataset splits and checking their leave-last-out contract.

The SBR builder writes one tf.Example per user and split (gzip TFRecord files under
Split-train/, Split-eval/, Split-test/) and item_vocabulary.txt beside them:

  split   item_ids (int64 list, oldest first)   target_item
  train   s_1 .. s_{n-2}                        -
  eval    s_1 .. s_{n-2}                        s_{n-1}
  test    s_1 .. s_{n-1}                        s_n

Every example also has `user_id`. Items are indices 1..V; line i of item_vocabulary.txt is
the raw id of item index i, so V is its line count.
"""

import dataclasses
import logging
import os
from typing import Any, List, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf

from components.tenrec_io.errors import TenrecInputError

SPLITS = ('train', 'eval', 'test')
VOCABULARY_FILE = 'item_vocabulary.txt'



@dataclasses.dataclass
class SequenceSplit:
  """One SBR split held in memory.

  Attributes:
    name: 'train', 'eval' or 'test'.
    user_ids: int64 [U] raw user ids, in file order.
    values: int64 flat item indices of every user's `item_ids`, oldest first.
    row_splits: int64 [U + 1]; user u's items are values[row_splits[u]:row_splits[u + 1]].
    targets: int64 [U] `target_item`, or None for the train split.
    source: The files the split was read from.
  """

  name: str
  user_ids: np.ndarray
  values: np.ndarray
  row_splits: np.ndarray
  targets: Optional[np.ndarray]
  source: Tuple[str, ...]

  @property
  def num_users(self) -> int:
    return len(self.user_ids)

  @property
  def lengths(self) -> np.ndarray:
    return np.diff(self.row_splits)

  def sequence(self, row: int) -> np.ndarray:
    return self.values[self.row_splits[row]:self.row_splits[row + 1]]

  def without_last_items(self, count: int) -> 'SequenceSplit':
    """Returns the split with the last `count` items of every sequence removed."""
    starts = self.row_splits[:-1]
    counts = np.maximum(self.lengths - count, 0)
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    values = self.values[np.repeat(starts, counts) + offsets]
    row_splits = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return SequenceSplit(self.name, self.user_ids, values, row_splits, self.targets,
                         self.source)

  def subset(self, rows: np.ndarray) -> 'SequenceSplit':
    """Returns the split restricted to `rows` (in that order)."""
    rows = np.asarray(rows, dtype=np.int64)
    starts = self.row_splits[rows]
    ends = self.row_splits[rows + 1]
    counts = ends - starts
    offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    values = self.values[np.repeat(starts, counts) + offsets]
    row_splits = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    targets = None if self.targets is None else self.targets[rows]
    return SequenceSplit(self.name, self.user_ids[rows], values, row_splits, targets,
                         self.source)


def split_files(examples_dir: str, split: str) -> List[str]:
  """Returns the TFRecord files of `<examples_dir>/Split-<split>/`, sorted.

  Raises:
    FileNotFoundError: The folder is missing or empty.
  """
  directory = os.path.join(examples_dir, f'Split-{split}')
  files = sorted(tf.io.gfile.glob(os.path.join(directory, '*')))
  files = [path for path in files if not tf.io.gfile.isdir(path)]
  if not files:
    raise FileNotFoundError(
        f'No TFRecord files in {directory}; expected the {split} split of an SBR dataset '
        'built by `tenrec build --task sbr`.')
  return files


def examples_dir_of(patterns: Union[str, Sequence[str]]) -> Optional[str]:
  """Returns the builder output folder of split file patterns (the parent of `Split-*/`).

  TFX hands trainers patterns such as `<uri>/Split-train/*`; the item vocabulary lives in
  `<uri>`. Returns None when no pattern lies in a `Split-*` folder.
  """
  for pattern in ([patterns] if isinstance(patterns, str) else list(patterns)):
    path = pattern.rstrip('/')
    while path and path != os.path.dirname(path):
      if os.path.basename(path).startswith('Split-'):
        return os.path.dirname(path)
      path = os.path.dirname(path)
  return None


def expand_patterns(patterns: Union[str, Sequence[str]]) -> List[str]:
  """Returns the sorted files matched by file patterns (a folder means every file in it)."""
  if isinstance(patterns, str):
    patterns = [patterns]
  files = []
  for pattern in patterns:
    if tf.io.gfile.isdir(pattern):
      pattern = os.path.join(pattern, '*')
    files.extend(path for path in tf.io.gfile.glob(pattern) if not tf.io.gfile.isdir(path))
  return sorted(set(files))


def read_item_vocabulary_size(path: str) -> int:
  """Returns V, the number of lines of an item_vocabulary.txt (line i = raw id of item i).

  Raises:
    TenrecInputError: The file is empty or has a blank line.
  """
  count = 0
  with tf.io.gfile.GFile(path) as handle:
    for line_number, line in enumerate(handle, start=1):
      if not line.strip():
        raise TenrecInputError(path, 'blank line in the item vocabulary', line=line_number,
                               hint='Each line must hold the raw id of one item index.')
      count += 1
  if count == 0:
    raise TenrecInputError(path, 'the item vocabulary is empty',
                           hint='Rebuild the SBR dataset.')
  return count


def _record_error(path: str, record: int, reason: str, column: str, value: Any,
                  hint: str) -> TenrecInputError:
  return TenrecInputError(path, f'{reason} (record {record}, counting from 1)',
                          column=column, value=str(value), hint=hint)


def read_sequence_split(files: Sequence[str],
                        split: str,
                        num_items: Optional[int] = None,
                        batch_size: int = 4096) -> SequenceSplit:
  """Reads one SBR split from gzip (`.gz`) or uncompressed TFRecord files.

  Args:
    files: TFRecord files of serialized tf.Example.
    split: 'train', 'eval' or 'test'; eval and test examples must have `target_item`.
    num_items: V; when given, every item index must lie in 1..V.
    batch_size: Records parsed per step.

  Raises:
    TenrecInputError: A record lacks a feature, has the wrong type, an item index outside
      1..V or a user id that already occurred. The message names the file and the record.
  """
  if split not in SPLITS:
    raise ValueError(f'split must be one of {", ".join(SPLITS)}, got {split!r}.')
  if not files:
    raise ValueError(f'No files given for the {split} split.')
  needs_target = split != 'train'
  spec = {
      'user_id': tf.io.FixedLenFeature([], tf.int64, default_value=-1),
      'item_ids': tf.io.VarLenFeature(tf.int64),
  }
  if needs_target:
    spec['target_item'] = tf.io.FixedLenFeature([], tf.int64, default_value=-1)
  item_hint = ('Item indices must be 1..V as written by the SBR builder; pass the '
               f'{VOCABULARY_FILE} of the same build.')

  user_chunks, value_chunks, length_chunks, target_chunks = [], [], [], []
  for path in files:
    compression = 'GZIP' if path.endswith('.gz') else ''
    dataset = tf.data.TFRecordDataset(path, compression_type=compression).batch(batch_size)
    first_record = 1
    try:
      for serialized in dataset:
        parsed = tf.io.parse_example(serialized, spec)
        ragged = tf.RaggedTensor.from_sparse(parsed['item_ids'])
        user_ids = parsed['user_id'].numpy()
        values = ragged.flat_values.numpy()
        lengths = ragged.row_lengths().numpy()
        # from_sparse drops trailing empty rows; restore them.
        lengths = np.concatenate(
            [lengths, np.zeros(len(user_ids) - len(lengths), np.int64)])

        if np.any(user_ids < 0):
          row = int(np.argmax(user_ids < 0))
          raise _record_error(path, first_record + row, 'missing or negative user_id',
                              'user_id', user_ids[row], 'Every example needs a user_id.')
        if num_items is not None and values.size and (values.min() < 1 or
                                                      values.max() > num_items):
          flat = int(np.argmax((values < 1) | (values > num_items)))
          row = int(np.searchsorted(np.cumsum(lengths), flat, side='right'))
          raise _record_error(path, first_record + row,
                              f'item index outside 1..{num_items}', 'item_ids',
                              values[flat], item_hint)
        if num_items is None and values.size and values.min() < 1:
          flat = int(np.argmax(values < 1))
          row = int(np.searchsorted(np.cumsum(lengths), flat, side='right'))
          raise _record_error(path, first_record + row, 'item index below 1', 'item_ids',
                              values[flat], item_hint)
        if needs_target:
          targets = parsed['target_item'].numpy()
          upper = num_items if num_items is not None else np.iinfo(np.int64).max
          bad = (targets < 1) | (targets > upper)
          if np.any(bad):
            row = int(np.argmax(bad))
            reason = ('missing target_item' if targets[row] == -1 else
                      f'target_item outside 1..{num_items}')
            raise _record_error(path, first_record + row, reason, 'target_item',
                                targets[row], item_hint)
          target_chunks.append(targets)

        user_chunks.append(user_ids)
        value_chunks.append(values)
        length_chunks.append(lengths)
        first_record += len(user_ids)
    except tf.errors.OpError as error:
      raise TenrecInputError(
          path, f'cannot parse the {split} split near record {first_record}: '
          f'{error.message.splitlines()[0]}',
          hint='Expected gzip TFRecord files of tf.Example with int64 user_id, item_ids'
          + (' and target_item.' if needs_target else '.')) from error

  user_ids = np.concatenate(user_chunks) if user_chunks else np.zeros([0], np.int64)
  values = np.concatenate(value_chunks) if value_chunks else np.zeros([0], np.int64)
  lengths = np.concatenate(length_chunks) if length_chunks else np.zeros([0], np.int64)
  unique, counts = np.unique(user_ids, return_counts=True)
  if np.any(counts > 1):
    duplicate = int(unique[np.argmax(counts > 1)])
    raise TenrecInputError(
        files[0], f'user_id {duplicate} occurs {int(counts.max())} times in the {split} '
        'split', column='user_id', value=str(duplicate),
        hint='An SBR split contains one example per user; rebuild the dataset.')
  targets = None
  if needs_target:
    targets = np.concatenate(target_chunks) if target_chunks else np.zeros([0], np.int64)
  row_splits = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
  return SequenceSplit(split, user_ids.astype(np.int64), values.astype(np.int64), row_splits,
                       targets, tuple(files))


@dataclasses.dataclass
class SBRDataset:
  """The three SBR splits and the catalogue size V (test may be None)."""

  train: SequenceSplit
  eval: SequenceSplit
  test: Optional[SequenceSplit]
  num_items: int
  source: str


def load_sbr_dataset(examples_dir: Optional[str] = None,
                     train_files: Optional[Sequence[str]] = None,
                     eval_files: Optional[Sequence[str]] = None,
                     test_files: Optional[Sequence[str]] = None,
                     vocabulary_path: Optional[str] = None,
                     num_items: Optional[int] = None,
                     check_splits: bool = True) -> SBRDataset:
  """Loads an SBR dataset from a builder output folder or explicit file patterns.

  V comes from `num_items`, else from the item vocabulary (`vocabulary_path`, or
  item_vocabulary.txt in `examples_dir`), else from the largest item index in the splits.

  Args:
    examples_dir: Folder with Split-train/, Split-eval/, Split-test/ and
      item_vocabulary.txt. Explicit file lists take precedence per split.
    train_files, eval_files, test_files: File patterns per split. A missing test split is
      allowed only when examples_dir has none either; the test evaluation is then skipped.
    vocabulary_path: Path of item_vocabulary.txt.
    num_items: V, overriding the vocabulary.
    check_splits: Verify the leave-last-out contract between splits (see check_split_contract).

  Raises:
    TenrecInputError: A file is malformed or the splits contradict each other.
    FileNotFoundError: A split has no files.
  """
  def files_for(split, patterns):
    if patterns:
      files = expand_patterns(patterns)
      if not files:
        raise FileNotFoundError(f'No files match the {split} patterns {list(patterns)}.')
      return files
    if examples_dir is None:
      return None
    if split == 'test' and not tf.io.gfile.exists(os.path.join(examples_dir, 'Split-test')):
      return None
    return split_files(examples_dir, split)

  if vocabulary_path is None and examples_dir is not None:
    candidate = os.path.join(examples_dir, VOCABULARY_FILE)
    if tf.io.gfile.exists(candidate):
      vocabulary_path = candidate
  if num_items is None and vocabulary_path is not None:
    num_items = read_item_vocabulary_size(vocabulary_path)

  split_file_lists = {split: files_for(split, patterns) for split, patterns in
                      (('train', train_files), ('eval', eval_files), ('test', test_files))}
  for split in ('train', 'eval'):
    if split_file_lists[split] is None:
      raise ValueError(f'No {split} split: pass examples_dir or {split}_files.')

  splits = {split: (None if files is None else read_sequence_split(files, split, num_items))
            for split, files in split_file_lists.items()}

  if num_items is None:
    largest = 0
    for split in splits.values():
      if split is not None:
        largest = max(largest, int(split.values.max(initial=0)))
        if split.targets is not None and split.targets.size:
          largest = max(largest, int(split.targets.max()))
    if largest < 1:
      raise ValueError('The SBR splits contain no item; cannot infer the number of items.')
    logging.warning('No %s found; using the largest item index, %d, as the number of items.',
                    VOCABULARY_FILE, largest)
    num_items = largest

  dataset = SBRDataset(train=splits['train'], eval=splits['eval'], test=splits['test'],
                       num_items=int(num_items),
                       source=examples_dir or os.path.dirname(split_file_lists['train'][0]))
  if check_splits:
    check_split_contract(dataset)
  return dataset


def _aligned_rows(reference: SequenceSplit, other: SequenceSplit) -> Tuple[np.ndarray,
                                                                           np.ndarray]:
  """Returns (rows in other, rows in reference) of the users present in both splits."""
  order = np.argsort(reference.user_ids, kind='stable')
  sorted_ids = reference.user_ids[order]
  if not len(sorted_ids):
    return np.zeros([0], np.int64), np.zeros([0], np.int64)
  positions = np.minimum(np.searchsorted(sorted_ids, other.user_ids), len(sorted_ids) - 1)
  found = sorted_ids[positions] == other.user_ids
  return np.nonzero(found)[0], order[positions[found]]


def _first_mismatch(left: SequenceSplit, left_rows: np.ndarray, right: SequenceSplit,
                    right_rows: np.ndarray, right_drop_last: int) -> Optional[int]:
  """Returns the first k with left[left_rows[k]] != right[right_rows[k]][:-drop], or None."""
  left_lengths = left.lengths[left_rows]
  right_lengths = right.lengths[right_rows] - right_drop_last
  bad_length = left_lengths != right_lengths
  if np.any(bad_length):
    return int(np.argmax(bad_length))
  counts = left_lengths
  offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
  left_values = left.values[np.repeat(left.row_splits[left_rows], counts) + offsets]
  right_values = right.values[np.repeat(right.row_splits[right_rows], counts) + offsets]
  bad_value = left_values != right_values
  if np.any(bad_value):
    return int(np.repeat(np.arange(len(counts)), counts)[np.argmax(bad_value)])
  return None


def check_split_contract(dataset: SBRDataset) -> None:
  """Checks the leave-last-out contract for the users present in several splits.

  For a user with items s_1..s_n: train item_ids = s_1..s_{n-2}; eval item_ids = s_1..s_{n-2}
  and target s_{n-1}; test item_ids = s_1..s_{n-1} and target s_n. So the eval history must
  equal the train sequence, and the test history must be the eval history followed by the
  eval target. This guarantees that no training input or label is a validation or test
  target of the same user.

  Raises:
    TenrecInputError: A user breaks the contract (the message names the user and the split).
  """
  eval_rows, train_rows = _aligned_rows(dataset.train, dataset.eval)
  mismatch = _first_mismatch(dataset.eval, eval_rows, dataset.train, train_rows, 0)
  if mismatch is not None:
    user = int(dataset.eval.user_ids[eval_rows[mismatch]])
    raise TenrecInputError(
        dataset.eval.source[0], f'user {user}: eval item_ids differ from the train item_ids',
        column='item_ids', value=str(user),
        hint='Validation inputs must be the training sequence; rebuild the SBR dataset.')

  if dataset.test is None:
    return
  test_rows, eval_rows = _aligned_rows(dataset.eval, dataset.test)
  mismatch = _first_mismatch(dataset.eval, eval_rows, dataset.test, test_rows, 1)
  if mismatch is None:
    last_items = dataset.test.values[dataset.test.row_splits[test_rows + 1] - 1]
    bad = last_items != dataset.eval.targets[eval_rows]
    mismatch = int(np.argmax(bad)) if np.any(bad) else None
  if mismatch is not None:
    user = int(dataset.test.user_ids[test_rows[mismatch]])
    raise TenrecInputError(
        dataset.test.source[0],
        f'user {user}: test item_ids must be the eval item_ids followed by the eval '
        'target_item', column='item_ids', value=str(user),
        hint='Test inputs must be the training items and the validation item; rebuild the '
        'SBR dataset.')
