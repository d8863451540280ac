"""A tiny SBR dataset in the builder's format, for the sequential-model tests."""

import os

import numpy as np
import tensorflow as tf

NUM_USERS = 36
NUM_ITEMS = 24


def user_sequences(num_users: int = NUM_USERS, num_items: int = NUM_ITEMS, seed: int = 3):
  """Returns {user_id: items} with a learnable pattern: each user walks the catalogue with
  a fixed step (1, 2 or 3), so the next item follows from the last two items."""
  rng = np.random.default_rng(seed)
  sequences = {}
  for user in range(num_users):
    length = int(rng.integers(10, 17))
    step = 1 + user % 3
    start = int(rng.integers(0, num_items))
    sequences[1000 + user] = [(start + step * t) % num_items + 1 for t in range(length)]
  return sequences


def _example(user_id, item_ids, target=None) -> bytes:
  feature = {
      'user_id': tf.train.Feature(int64_list=tf.train.Int64List(value=[user_id])),
      'item_ids': tf.train.Feature(int64_list=tf.train.Int64List(value=item_ids)),
  }
  if target is not None:
    feature['target_item'] = tf.train.Feature(int64_list=tf.train.Int64List(value=[target]))
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()


def write_sbr_dataset(directory: str, sequences, num_items: int = NUM_ITEMS,
                      shards: int = 2) -> str:
  """Writes leave-last-out splits as gzip TFRecord shards plus item_vocabulary.txt."""
  rows = {'train': [], 'eval': [], 'test': []}
  for user, items in sequences.items():
    rows['train'].append(_example(user, items[:-2]))
    rows['eval'].append(_example(user, items[:-2], items[-2]))
    rows['test'].append(_example(user, items[:-1], items[-1]))
  for split, examples in rows.items():
    folder = os.path.join(directory, f'Split-{split}')
    os.makedirs(folder, exist_ok=True)
    for shard in range(shards):
      path = os.path.join(folder, f'data_tfrecord-{shard:05d}-of-{shards:05d}.gz')
      with tf.io.TFRecordWriter(path, options='GZIP') as writer:
        for example in examples[shard::shards]:
          writer.write(example)
  with open(os.path.join(directory, 'item_vocabulary.txt'), 'w') as handle:
    handle.write(''.join(f'raw_{index}\n' for index in range(1, num_items + 1)))
  return directory
