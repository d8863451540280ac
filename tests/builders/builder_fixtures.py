"""Tiny hand-made Tenrec files and helpers to run builders and read their splits in tests."""

import glob
import os
from typing import Dict, Iterable, List, Mapping, Optional, Sequence

import numpy as np

VIDEO_HEADER = ('user_id', 'item_id', 'click', 'follow', 'like', 'share', 'video_category',
                'watching_times', 'gender', 'age')
ARTICLE_HEADER = ('user_id', 'item_id', 'click', 'gender', 'age', 'exposure_count',
                  'click_count', 'like_count', 'comment_count', 'read_percentage', 'item_score1',
                  'item_score2', 'category_second', 'category_first', 'item_score3', 'read',
                  'read_time', 'share', 'like', 'follow', 'favorite')
QB_ARTICLE_HEADER = ARTICLE_HEADER[:15]


def write_csv(path: str, header: Sequence[str], rows: Iterable[Sequence]) -> str:
  os.makedirs(os.path.dirname(path) or '.', exist_ok=True)
  with open(path, 'w', encoding='utf-8') as f:
    f.write(','.join(header) + '\n')
    for row in rows:
      f.write(','.join(str(v) for v in row) + '\n')
  return path


def video_row(user: int, item: int, click: int = 1, like: int = 0, gender: int = 1,
              age: int = 2, category=0, follow: int = 0, share: int = 0,
              watching: Optional[int] = None) -> tuple:
  watching = click if watching is None else watching
  return (user, item, click, follow, like, share, category, watching, gender, age)


def article_row(user: int, item: int, click: int = 1, gender: int = 1, age: int = 2,
                read: int = 1, share: int = 0, like: int = 0, follow: int = 0,
                favorite: int = 0, category_first: int = 3, category_second: int = 30) -> tuple:
  return (user, item, f'{float(click):.1f}', gender, age, 100, 50, 5, 1, 55.5, 0.5, 3.1,
          category_second, category_first, 40.2, read, 12.0, share, like, follow, favorite)


def qb_article_row(user: int, item: int) -> tuple:
  return article_row(user, item)[:15]


def click_rows(sequences: Mapping[int, Sequence[int]], **kwargs) -> List[tuple]:
  """QK-video rows: every item of every user's sequence as a click, users in id order."""
  rows = []
  for user in sorted(sequences):
    for item in sequences[user]:
      rows.append(video_row(user, item, **kwargs))
  return rows


def run_builder(task: str, paths: Mapping[str, str], out: str,
                options: Optional[Mapping] = None, **kwargs) -> Dict:
  """Builds a task dataset in-process (FnApiRunner) and returns the report."""
  from components.builders import registry  # pylint: disable=import-outside-toplevel
  from components.builders import runner  # pylint: disable=import-outside-toplevel

  builder = registry.create_builder(task, options or {})
  return runner.run_builder(builder, paths, out, **kwargs)


def read_split(directory: str, split: str) -> List[Dict[str, List[int]]]:
  """Reads every example of `directory/Split-<split>/` as {feature: list of values}."""
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  examples = []
  for path in sorted(glob.glob(os.path.join(directory, f'Split-{split}', '*.gz'))):
    for record in tf.data.TFRecordDataset(path, compression_type='GZIP'):
      example = tf.train.Example.FromString(record.numpy())
      features = {}
      for name, feature in example.features.feature.items():
        kind = feature.WhichOneof('kind')
        features[name] = list(getattr(feature, kind).value)
      examples.append(features)
  return examples


def by_user(examples: List[Dict[str, List[int]]]) -> Dict[int, Dict[str, List[int]]]:
  """Indexes examples with one example per user by user id."""
  out = {}
  for example in examples:
    user = example['user_id'][0]
    assert user not in out, f'user {user} has two examples'
    out[user] = example
  return out


def read_vocabulary(path: str) -> List[int]:
  with open(path, encoding='utf-8') as f:
    return [int(line) for line in f if line.strip()]


def decode(items: Sequence[int], vocabulary: Sequence[int]) -> List[int]:
  """Maps item indices 1..V back to raw ids."""
  return [vocabulary[i - 1] for i in items]


def sorted_examples(examples: List[Dict[str, List[int]]]) -> List[tuple]:
  """A canonical, order-free form of a split for equality checks."""
  return sorted(tuple(sorted((k, tuple(v)) for k, v in e.items())) for e in examples)


def random_video_rows(seed: int, users: int, rows_per_user: int, items: int) -> List[tuple]:
  rng = np.random.default_rng(seed)
  rows = []
  for user in range(1, users + 1):
    for _ in range(int(rng.integers(1, rows_per_user + 1))):
      rows.append(video_row(user, int(rng.integers(1, items + 1)), int(rng.random() < 0.4),
                            like=int(rng.random() < 0.1), gender=user % 3, age=user % 8))
  return rows


class InMemoryBuild:
  """Runs a builder's chunk, bucket and pass steps in-process on one chunk per input.

  Mirrors the Beam driver (components.builders.runner) without Beam, for hand-checked tests.

  Attributes:
    sides: The side input of every pass (sides[0] = the finalized chunk summary).
    splits: {split: [columns of each bucket]} of the last pass.
    accounts: {input: RowAccount} over every pass (reads not included).
    extras: The merged extras of every pass.
  """

  def __init__(self, builder, raw: Mapping[str, Mapping[str, Sequence]], num_buckets: int = 1):
    from components.builders import accounting  # pylint: disable=import-outside-toplevel
    from components.builders import base  # pylint: disable=import-outside-toplevel
    from components.builders import hashing  # pylint: disable=import-outside-toplevel
    from components.tenrec_io import reader  # pylint: disable=import-outside-toplevel

    summary = {}
    batches = {}
    for builder_input in builder.inputs():
      columns = {c: np.asarray(raw[builder_input.name][c], dtype=np.int64)
                 for c in builder_input.columns}
      rows = len(columns['user_id'])
      batch = reader.RawBatch(path=builder_input.name, columns=columns,
                              row_offset=np.arange(rows, dtype=np.int64) * 7 + 3)
      batches[builder_input.name] = batch
      summary = base.merge_summaries(summary, builder.summarize_chunk(builder_input.name, batch))
    self.sides = [builder.finalize_summary(summary)]
    self.accounts = {}
    self.extras = {}

    bucket_inputs = []
    for bucket in range(num_buckets):
      tables = {}
      for name, batch in batches.items():
        keep = hashing.bucket_of(batch.columns['user_id'], num_buckets) == bucket
        tables[name] = base.UserTable.from_columns(
            {c: v[keep] for c, v in batch.columns.items()}, batch.row_offset[keep])
      bucket_inputs.append(tables)
    results = [builder.process_bucket(tables, self.sides[0]) for tables in bucket_inputs]

    for pass_index in range(1, builder.num_passes):
      merged = self._merge(results)
      self.sides.append(builder.finalize_pass(pass_index - 1, self.sides[-1], merged))
      results = [builder.process_pass(pass_index, r.intermediate, self.sides[-1])
                 for r in results]
    self._merge(results)
    self.splits = {split: [r.splits[split] for r in results] for split in builder.split_names}
    self._accounting = accounting

  def _merge(self, results):
    from components.builders import base  # pylint: disable=import-outside-toplevel

    merged = {}
    for result in results:
      merged = base.merge_summaries(merged, result.extras)
      for name, account in result.accounts.items():
        self.accounts[name] = (self.accounts[name].merge(account) if name in self.accounts
                               else account)
    self.extras = base.merge_summaries(self.extras, base.public_entries(merged))
    return merged

  def examples(self, split: str) -> List[Dict[str, List[int]]]:
    """The examples of a split as {feature: list of values}, like `read_split`."""
    out = []
    for columns in self.splits[split]:
      names = list(columns)
      count = len(columns[names[0]]) if names else 0
      for row in range(count):
        example = {}
        for name in names:
          values = columns[name]
          if hasattr(values, 'row_splits'):
            start, end = values.row_splits[row], values.row_splits[row + 1]
            example[name] = [int(v) for v in values.values[start:end]]
          elif np.ndim(values) == 2:
            example[name] = [int(v) for v in values[row]]
          else:
            example[name] = [int(values[row])]
        out.append(example)
    return out


def columns_of(rows: Sequence[Sequence], header: Sequence[str]) -> Dict[str, List]:
  """Turns rows into {column: values}; article click text like '1.0' becomes an int."""
  out = {name: [] for name in header}
  for row in rows:
    for name, value in zip(header, row):
      out[name].append(int(float(value)) if isinstance(value, str) else value)
  return out
