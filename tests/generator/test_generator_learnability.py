"""Checks, without TensorFlow, that generated QK-video data has learnable structure.

On held-out rows, scorers that use the latent user-item structure must beat an item-popularity
scorer clearly, and the next click must be predictable from the previous one beyond
popularity. These are the conditions under which CTR and sequential models can beat
popularity on the generated data.
"""

import collections

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from components.generator.oracle import LatentOracle


@pytest.fixture(scope='module')
def split(small_dataset, small_settings):
  frame = pd.read_csv(small_dataset / 'QK-video.csv', na_values=['\\N'])
  oracle = LatentOracle(small_settings['scale'], small_settings['seed'])
  frame['topic'] = oracle.item_topics('qk_video', frame['item_id'].to_numpy())
  held_out = np.random.default_rng(0).random(len(frame)) < 0.2
  return oracle, frame, frame[~held_out], frame[held_out]


def _item_ctr(train, rows):
  clicks = train.groupby('item_id')['click'].sum()
  shown = train.groupby('item_id').size()
  ctr = (clicks + 1.0) / (shown + 3.0)
  return rows['item_id'].map(ctr).fillna(train['click'].mean()).to_numpy()


def _logit(p):
  p = np.clip(p, 1e-3, 1 - 1e-3)
  return np.log(p / (1 - p))


def _features(train, rows):
  user_rate = train.groupby('user_id')['click'].mean()
  prior = rows['user_id'].map(user_rate).fillna(train['click'].mean()).to_numpy()
  by_topic = train.groupby(['user_id', 'topic'])['click'].agg(['sum', 'count'])
  matched = by_topic.reindex(pd.MultiIndex.from_arrays([rows['user_id'], rows['topic']]))
  user_topic = ((matched['sum'].fillna(0).to_numpy() + 5 * prior) /
                (matched['count'].fillna(0).to_numpy() + 5))
  return np.stack([_logit(user_topic), _logit(_item_ctr(train, rows)), _logit(prior)], axis=1)


def test_oracle_beats_popularity(split):
  oracle, _, train, test = split
  popularity_auc = roc_auc_score(test['click'], _item_ctr(train, test))
  logits = oracle.click_logits('qk_video', test['user_id'].to_numpy(), test['item_id'].to_numpy())
  oracle_auc = roc_auc_score(test['click'], logits)
  assert oracle_auc > 0.75
  assert oracle_auc > popularity_auc + 0.1


def test_logistic_regression_beats_popularity(split):
  _, _, train, test = split
  popularity_auc = roc_auc_score(test['click'], _item_ctr(train, test))
  model = LogisticRegression().fit(_features(train, train), train['click'])
  model_auc = roc_auc_score(test['click'], model.predict_proba(_features(train, test))[:, 1])
  assert model_auc > popularity_auc + 0.05


def test_next_click_stays_in_topic(split):
  _, frame, _, _ = split
  clicks = frame[frame['click'] == 1]
  users = clicks['user_id'].to_numpy()
  topics = clicks['topic'].to_numpy()
  same_user = users[1:] == users[:-1]
  observed = np.mean((topics[1:] == topics[:-1])[same_user])

  shuffled = clicks.groupby('user_id')['topic'].transform(
      lambda t: t.sample(frac=1.0, random_state=0).to_numpy()).to_numpy()
  chance = np.mean((shuffled[1:] == shuffled[:-1])[same_user])
  assert observed > 1.8 * chance


def test_previous_click_predicts_next(split):
  _, frame, _, _ = split
  sequences = frame[frame['click'] == 1].groupby('user_id')['item_id'].apply(list)
  sequences = [s for s in sequences if len(s) >= 3]
  successors = collections.defaultdict(collections.Counter)
  popularity = collections.Counter()
  for sequence in sequences:
    history = sequence[:-1]
    popularity.update(history)
    for previous, following in zip(history[:-1], history[1:]):
      successors[previous][following] += 1

  top = {item for item, _ in popularity.most_common(10)}
  popularity_hits = np.mean([s[-1] in top for s in sequences])
  markov_hits = np.mean([
      s[-1] in {item for item, _ in successors[s[-2]].most_common(10)} for s in sequences])
  assert markov_hits > 1.5 * popularity_hits
