"""Checks, without TensorFlow, that generated QK-video data has learnable structure.

On held-out CTR examples (built as the CTR task builds them), scorers that use the latent
user-item structure, and a logistic regression on ID features alone, must beat an
item-popularity scorer clearly. Gender must shift the clicked topics, recent clicks must predict
the next click beyond the user's long-term topic preference, and the next click must be
predictable from the previous one beyond popularity. These are the conditions under which CTR
and sequential models can beat popularity on the generated data.
"""

import collections

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score

from components.generator import learnability
from components.generator.oracle import LatentOracle


@pytest.fixture(scope='module')
def frame(small_dataset, small_settings):
  rows = learnability.read_qk_video(str(small_dataset / 'QK-video.csv'))
  oracle = LatentOracle(small_settings['scale'], small_settings['seed'])
  rows['topic'] = oracle.item_topics('qk_video', rows['item_id'].to_numpy())
  return rows


@pytest.fixture(scope='module')
def split(frame):
  train, test = learnability.ctr_examples(frame, seed=0)
  topic_of_item = frame.drop_duplicates('item_id').set_index('item_id')['topic']
  train['topic'] = train['item_id'].map(topic_of_item)
  test['topic'] = test['item_id'].map(topic_of_item)
  return train, test


@pytest.fixture(scope='module')
def popularity_auc(split):
  train, test = split
  return roc_auc_score(test['click'], learnability.popularity_scores(train, test))


def _logit(p):
  p = np.clip(p, 1e-3, 1 - 1e-3)
  return np.log(p / (1 - p))


def _topic_features(train, rows):
  user_rate = train.groupby('user_id')['click'].mean()
  prior = rows['user_id'].map(user_rate).fillna(train['click'].mean()).to_numpy()
  by_topic = train.groupby(['user_id', 'topic'])['click'].agg(['sum', 'count'])
  matched = by_topic.reindex(pd.MultiIndex.from_arrays([rows['user_id'], rows['topic']]))
  user_topic = ((matched['sum'].fillna(0).to_numpy() + 5 * prior) /
                (matched['count'].fillna(0).to_numpy() + 5))
  item_rate = learnability.popularity_scores(train, rows)
  return np.stack([_logit(user_topic), _logit(item_rate), _logit(prior)], axis=1)


def test_oracle_beats_popularity(split, small_settings, popularity_auc):
  _, test = split
  oracle = LatentOracle(small_settings['scale'], small_settings['seed'])
  logits = oracle.click_logits('qk_video', test['user_id'].to_numpy(), test['item_id'].to_numpy())
  oracle_auc = roc_auc_score(test['click'], logits)
  assert oracle_auc > 0.75
  assert oracle_auc > popularity_auc + 0.1


def test_topic_regression_beats_popularity(split, popularity_auc):
  train, test = split
  model = LogisticRegression().fit(_topic_features(train, train), train['click'])
  scores = model.predict_proba(_topic_features(train, test))[:, 1]
  assert roc_auc_score(test['click'], scores) > popularity_auc + 0.05


@pytest.mark.slow
def test_id_regression_beats_popularity(split, popularity_auc):
  train, test = split
  scores = learnability.id_logistic_regression_scores(train, test)
  assert roc_auc_score(test['click'], scores) > popularity_auc + 0.05


def test_genders_click_different_topics(frame):
  clicks = frame[frame['click'] == 1]
  shares = []
  for gender in (1, 2):
    counts = np.bincount(clicks.loc[clicks['gender'] == gender, 'topic'], minlength=16)
    shares.append(counts / counts.sum())
  total_variation = 0.5 * np.abs(shares[0] - shares[1]).sum()
  assert 0.3 < total_variation < 0.85


def test_recent_clicks_predict_beyond_preference(frame):
  # Long-term preference: the user's click rate per topic on their first 70% of rows. The
  # recent share of the row's topic among the last 10 clicks must still add information on
  # the remaining rows.
  history = learnability.click_history(frame['user_id'].to_numpy(), frame['item_id'].to_numpy(),
                                       frame['click'].to_numpy())
  topic_of_item = frame.drop_duplicates('item_id').set_index('item_id')['topic']
  history_topics = np.where(
      history >= 0, topic_of_item.reindex(history.ravel()).to_numpy().reshape(history.shape), -1)
  recent = (history_topics == frame['topic'].to_numpy()[:, None]).mean(axis=1)

  position = frame.groupby('user_id').cumcount().to_numpy()
  length = frame.groupby('user_id')['user_id'].transform('size').to_numpy()
  early = position < 0.7 * length
  first_rows = frame[early]
  user_rate = first_rows.groupby('user_id')['click'].mean()
  by_topic = first_rows.groupby(['user_id', 'topic'])['click'].agg(['sum', 'count'])
  late = frame[~early]
  prior = late['user_id'].map(user_rate).to_numpy()
  matched = by_topic.reindex(pd.MultiIndex.from_arrays([late['user_id'], late['topic']]))
  long_term = _logit((matched['sum'].fillna(0).to_numpy() + 3 * prior) /
                     (matched['count'].fillna(0).to_numpy() + 3))[:, None]
  with_recent = np.column_stack([long_term, recent[~early]])

  labels = late['click'].to_numpy()
  held_out = np.random.default_rng(0).random(labels.shape[0]) < 0.5
  aucs = []
  for features in (long_term, with_recent):
    model = LogisticRegression().fit(features[~held_out], labels[~held_out])
    aucs.append(roc_auc_score(labels[held_out], model.predict_proba(features[held_out])[:, 1]))
  assert aucs[1] > aucs[0] + 0.01


def test_next_click_stays_in_topic(frame):
  clicks = frame[frame['click'] == 1]
  users = clicks['user_id'].to_numpy()
  topics = clicks['topic'].to_numpy()
  same_user = users[1:] == users[:-1]
  observed = np.mean((topics[1:] == topics[:-1])[same_user])

  shuffled = clicks.groupby('user_id')['topic'].transform(
      lambda t: t.sample(frac=1.0, random_state=0).to_numpy()).to_numpy()
  chance = np.mean((shuffled[1:] == shuffled[:-1])[same_user])
  assert observed > 1.8 * chance


def test_previous_click_predicts_next(frame):
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
