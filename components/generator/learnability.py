"""Measures how much of a generated QK-video file ID-based CTR models can learn.

The CTR examples are built as the CTR task builds them by default. Each row's history is the
user's last 10 clicked items before the row. Every click is kept with up to 2 unclicked rows of
the same user, and rows are split at random (here 80% train, 20% test). The test rows are then
scored by

* `popularity`: the item's click-through rate on the training rows (smoothed);
* `id_logistic_regression`: logistic regression on one-hot user, item, video_category, gender
  and age, the mean of the one-hot history items, and one-hot (gender, age, item) crosses, the
  features an ID-based model sees;
* `oracle`: the generator's own time-free click logit (`oracle.LatentOracle`), which knows the
  latent factors but not the recent-click and session terms.

Run `python -m components.generator.learnability DIR` on a `tenrec generate` output folder to
print the AUCs (a few seconds to a minute at the default scale).

Example:

  aucs = measure('/tmp/tenrec-data')
  aucs['id_logistic_regression'] - aucs['popularity']  # about 0.1 at the default scale
"""

import argparse
import json
import os
import sys
from typing import Dict, Optional, Sequence, Tuple

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

HISTORY_LENGTH = 10
NEGATIVES_PER_POSITIVE = 2.0
TEST_FRACTION = 0.2
ID_COLUMNS = ('user_id', 'item_id', 'video_category', 'gender', 'age')
# Inverse L2 strength of the ID logistic regression.
REGULARISATION_C = 0.1


def read_qk_video(path: str) -> pd.DataFrame:
  """Reads a QK-video file; a missing video_category (`\\N`) becomes -1."""
  frame = pd.read_csv(path, na_values=['\\N'])
  frame['video_category'] = frame['video_category'].fillna(-1).astype(np.int64)
  return frame


def click_history(user_ids: np.ndarray, items: np.ndarray, click: np.ndarray,
                  length: int = HISTORY_LENGTH) -> np.ndarray:
  """Returns [rows, length]: the user's last `length` clicked items before each row.

  Rows must be grouped by user in time order. Oldest first, left-padded with -1.
  """
  click = click.astype(np.int64)
  new_user = np.concatenate([[True], user_ids[1:] != user_ids[:-1]])
  group = np.cumsum(new_user) - 1
  clicks_before = np.cumsum(click) - click
  user_base = clicks_before[np.flatnonzero(new_user)][group]
  own_before = clicks_before - user_base
  clicked_items = items[click == 1]
  index = own_before[:, None] + (np.arange(length) - length)[None, :]
  valid = index >= 0
  if not clicked_items.size:
    return np.full((user_ids.shape[0], length), -1, dtype=np.int64)
  gathered = clicked_items[np.where(valid, user_base[:, None] + index, 0)]
  return np.where(valid, gathered, -1).astype(np.int64)


def ctr_examples(frame: pd.DataFrame, seed: int = 0,
                 test_fraction: float = TEST_FRACTION) -> Tuple[pd.DataFrame, pd.DataFrame]:
  """Returns (train, test) CTR examples of a QK-video frame; see the module docstring.

  The history is stored in columns `hist_0` (oldest) .. `hist_9` (latest), -1 when empty.
  """
  user_ids = frame['user_id'].to_numpy()
  click = frame['click'].to_numpy()
  history = click_history(user_ids, frame['item_id'].to_numpy(), click)
  rng = np.random.default_rng(seed)

  # Up to NEGATIVES_PER_POSITIVE unclicked rows per click of the same user, chosen at random.
  new_user = np.concatenate([[True], user_ids[1:] != user_ids[:-1]])
  group = np.cumsum(new_user) - 1
  quota = np.ceil(NEGATIVES_PER_POSITIVE * np.bincount(group, weights=click))
  negatives = np.flatnonzero(click == 0)
  negatives = negatives[np.lexsort((rng.random(negatives.shape[0]), group[negatives]))]
  owners = group[negatives]
  rank = np.arange(negatives.shape[0]) - np.searchsorted(owners, owners)
  keep = click == 1
  keep[negatives[rank < quota[owners]]] = True

  examples = frame.loc[:, list(ID_COLUMNS) + ['click']].copy()
  for slot in range(HISTORY_LENGTH):
    examples[f'hist_{slot}'] = history[:, slot]
  test = rng.random(len(frame)) < test_fraction
  return examples[keep & ~test].reset_index(drop=True), examples[keep & test].reset_index(drop=True)


def popularity_scores(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
  """Returns each row's item click-through rate on `train`, (clicks + 1) / (exposures + 3)."""
  counts = train.groupby('item_id')['click'].agg(['sum', 'count'])
  rate = (counts['sum'] + 1.0) / (counts['count'] + 3.0)
  return rows['item_id'].map(rate).fillna(train['click'].mean()).to_numpy()


class IdFeatures:
  """One-hot ID features with vocabularies fitted on the training rows (unknown ids: 0)."""

  def __init__(self, train: pd.DataFrame):
    history = train[[f'hist_{slot}' for slot in range(HISTORY_LENGTH)]].to_numpy()
    self.vocabularies = {}
    for name in ID_COLUMNS:
      values = train[name].to_numpy()
      if name == 'item_id':
        values = np.concatenate([values, history[history >= 0]])
      unique = np.unique(values)
      self.vocabularies[name] = pd.Series(np.arange(1, unique.shape[0] + 1), index=unique)

  def _index(self, name: str, values: np.ndarray) -> np.ndarray:
    return pd.Series(values).map(self.vocabularies[name]).fillna(0).to_numpy().astype(np.int64)

  def transform(self, rows: pd.DataFrame) -> sparse.csr_matrix:
    """Returns the sparse design matrix of `rows`."""
    count = len(rows)
    row_index = np.arange(count)
    blocks = []
    for name in ID_COLUMNS:
      size = self.vocabularies[name].shape[0] + 1
      blocks.append(sparse.csr_matrix(
          (np.ones(count), (row_index, self._index(name, rows[name].to_numpy()))),
          shape=(count, size)))

    items = self.vocabularies['item_id'].shape[0] + 1
    history = rows[[f'hist_{slot}' for slot in range(HISTORY_LENGTH)]].to_numpy()
    present = history >= 0
    history_index = self._index('item_id', history.ravel()).reshape(history.shape)
    weights = np.repeat(1.0 / np.maximum(present.sum(axis=1), 1), HISTORY_LENGTH)
    blocks.append(sparse.csr_matrix(
        (weights[present.ravel()],
         (np.repeat(row_index, HISTORY_LENGTH)[present.ravel()], history_index[present])),
        shape=(count, items)))

    cell = rows['gender'].to_numpy() * 8 + rows['age'].to_numpy()
    item_index = self._index('item_id', rows['item_id'].to_numpy())
    blocks.append(sparse.csr_matrix(
        (np.ones(count), (row_index, cell * items + item_index)), shape=(count, 24 * items)))
    return sparse.hstack(blocks).tocsr()


def id_logistic_regression_scores(train: pd.DataFrame, rows: pd.DataFrame) -> np.ndarray:
  """Fits the ID logistic regression on `train` and returns click probabilities of `rows`."""
  features = IdFeatures(train)
  model = LogisticRegression(C=REGULARISATION_C, max_iter=500)
  model.fit(features.transform(train), train['click'].to_numpy())
  return model.predict_proba(features.transform(rows))[:, 1]


def measure(data_dir: str, seed: int = 0,
            scorers: Sequence[str] = ('popularity', 'id_logistic_regression', 'oracle'),
            scale: Optional[float] = None, generator_seed: Optional[int] = None
            ) -> Dict[str, float]:
  """Returns the test AUC of each scorer on the QK-video file of `data_dir`.

  The oracle needs the generation scale and seed; by default they are read from the folder's
  generation.json.
  """
  train, test = ctr_examples(read_qk_video(os.path.join(data_dir, 'QK-video.csv')), seed)
  labels = test['click'].to_numpy()
  aucs = {}
  if 'popularity' in scorers:
    aucs['popularity'] = roc_auc_score(labels, popularity_scores(train, test))
  if 'id_logistic_regression' in scorers:
    aucs['id_logistic_regression'] = roc_auc_score(labels,
                                                   id_logistic_regression_scores(train, test))
  if 'oracle' in scorers:
    from components.generator.oracle import LatentOracle  # pylint: disable=import-outside-toplevel
    if scale is None or generator_seed is None:
      with open(os.path.join(data_dir, 'generation.json'), encoding='utf-8') as handle:
        report = json.load(handle)
      scale, generator_seed = report['scale'], report['seed']
    oracle = LatentOracle(scale, generator_seed)
    logits = oracle.click_logits('qk_video', test['user_id'].to_numpy(),
                                 test['item_id'].to_numpy())
    aucs['oracle'] = roc_auc_score(labels, logits)
  return {name: float(value) for name, value in aucs.items()}


def main(argv: Optional[Sequence[str]] = None) -> int:
  parser = argparse.ArgumentParser(
      prog='python -m components.generator.learnability',
      description='Print test AUCs of popularity, ID logistic regression and the latent '
      'oracle on the QK-video file of a generated folder.')
  parser.add_argument('data_dir', help='Folder written by `tenrec generate`.')
  parser.add_argument('--seed', type=int, default=0, help='Seed of the sampling and split.')
  args = parser.parse_args(argv)
  for name, value in measure(args.data_dir, seed=args.seed).items():
    print(f'{name:24s} {value:.4f}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
