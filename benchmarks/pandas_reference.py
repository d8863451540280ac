"""Straightforward pandas versions of the Tenrec reference generators, for the builder benchmark.

They follow the reference scripts' approach on one QK-video file:

* CTR (the reference's gen_ctr.py and its loader's sample_data): walk user-id windows of
  10,000 users; for every user take the clicked items, build the static history (the first 10
  clicks, or all clicks but the last), delete the rows of the history items, attach hist_1..10;
  write the derived file; then keep every click, draw twice as many non-clicks uniformly over
  the whole table, shuffle, split 10% test, then the last 11.11% of the rest as validation.
* SBR (gen_sbr.py and the sequence loader): keep clicks, drop items with fewer than 2 or more
  than 200,000 clicks, keep the first 1,000,000 users, keep users with >= 10 clicks, encode
  items 1..V by ascending raw id, group per user in file order, split leave-last-out.

Both write their splits as CSV files, the reference's own output format. Run as a script:

  python benchmarks/pandas_reference.py ctr QK-video.csv OUT_DIR
"""

import json
import os
import sys
import time

import numpy as np
import pandas as pd

HISTORY = 10
WINDOW_USERS = 10_000
SEED = 100


def build_ctr(path: str, out_dir: str) -> dict:
  df = pd.read_csv(path, na_values=['\\N'], keep_default_na=False)
  parts = []
  max_user = int(df['user_id'].max())
  for start in range(0, max_user + 1, WINDOW_USERS):
    window = df[(df['user_id'] > start) & (df['user_id'] <= start + WINDOW_USERS)]
    for user, rows in window.groupby('user_id', sort=True):
      clicked = rows.loc[rows['click'] == 1, 'item_id'].tolist()
      if not clicked:
        continue
      if len(clicked) > HISTORY:
        history = clicked[:HISTORY]
      else:
        history = clicked[:-1] + [0] * (HISTORY - len(clicked) + 1)
      rows = rows[~rows['item_id'].isin(history)].copy()
      for slot in range(HISTORY):
        rows[f'hist_{slot + 1}'] = history[slot]
      parts.append(rows)
  derived = pd.concat(parts, ignore_index=True)
  os.makedirs(out_dir, exist_ok=True)
  derived_path = os.path.join(out_dir, 'ctr_data.csv')
  derived.to_csv(derived_path, index=False)

  data = pd.read_csv(derived_path)
  positives = data[data['click'] == 1]
  negatives = data[data['click'] == 0]
  negatives = negatives.sample(n=min(len(negatives), 2 * len(positives)), random_state=SEED)
  sampled = pd.concat([positives, negatives]).sample(frac=1.0, random_state=SEED)
  test = sampled.sample(frac=0.1, random_state=SEED)
  rest = sampled.drop(test.index)
  cut = int(len(rest) * (1 - 0.1111))
  train, validation = rest.iloc[:cut], rest.iloc[cut:]
  for name, split in (('train', train), ('eval', validation), ('test', test)):
    split.to_csv(os.path.join(out_dir, f'{name}.csv'), index=False)
  return {'train': len(train), 'eval': len(validation), 'test': len(test)}


def build_sbr(path: str, out_dir: str) -> dict:
  df = pd.read_csv(path, na_values=['\\N'], keep_default_na=False)
  clicks = df[df['click'] == 1]
  counts = clicks['item_id'].value_counts()
  popularity = clicks['item_id'].map(counts)
  clicks = clicks[(popularity >= 2) & (popularity <= 200_000)]
  users = clicks['user_id'].drop_duplicates().sort_values().iloc[:1_000_000]
  clicks = clicks[clicks['user_id'].isin(users)]
  per_user = clicks['user_id'].value_counts()
  clicks = clicks[clicks['user_id'].map(per_user) >= 10]
  items = np.sort(clicks['item_id'].unique())
  clicks = clicks.assign(item=np.searchsorted(items, clicks['item_id'].to_numpy()) + 1)
  sequences = clicks.groupby('user_id', sort=True)['item'].apply(list)
  rows = {'train': [], 'eval': [], 'test': []}
  for user, sequence in sequences.items():
    rows['train'].append((user, ' '.join(map(str, sequence[:-2])), ''))
    rows['eval'].append((user, ' '.join(map(str, sequence[:-2])), sequence[-2]))
    rows['test'].append((user, ' '.join(map(str, sequence[:-1])), sequence[-1]))
  os.makedirs(out_dir, exist_ok=True)
  for name, split in rows.items():
    pd.DataFrame(split, columns=['user_id', 'item_ids', 'target_item']).to_csv(
        os.path.join(out_dir, f'{name}.csv'), index=False)
  return {name: len(split) for name, split in rows.items()}


def main(argv) -> int:
  task, path, out_dir = argv[1:4]
  started = time.time()
  splits = (build_ctr if task == 'ctr' else build_sbr)(path, out_dir)
  result = {'task': task, 'seconds': round(time.time() - started, 3), 'splits': splits}
  print(json.dumps(result) if '--json' in argv else result)
  return 0


if __name__ == '__main__':
  sys.exit(main(sys.argv))
