"""Tiny serving exports for the serving tests, built the way the pipeline builds them.

* CTR: a real Transform graph (the pipeline's `preprocessing_fn` analysed with TensorFlow
  Transform on 90 raw rows) and a tiny DeepFM, exported by `serving.export` with the
  `serving_default` and `serving_raw` signatures into SERVING_BASE/ctr_deepfm/1.
* Sequential: a tiny SASRec exported by `models.sequential.export` (`serving_default` and
  `top_k`) into SERVING_BASE/sbr_sasrec/1.

The raw rows are also written as a gzip TFRecord test split, EXAMPLES_DIR/Split-test/, laid
out like a TenrecExampleGen artifact.
"""

import os
from typing import Dict, List

import numpy as np
import tensorflow as tf
import tf_keras

CTR_MODEL = 'ctr_deepfm'
SEQUENTIAL_MODEL = 'sbr_sasrec'
VERSION = 1
HISTORY_LENGTH = 10
NUM_ROWS = 90
SCALAR_FEATURES = ('user_id', 'item_id', 'video_category', 'gender', 'age')
LABELS = ('click', 'like', 'share', 'follow')
SEQUENTIAL_ITEMS = 20
SEQUENTIAL_MAX_LEN = 6


def raw_rows(num_rows: int = NUM_ROWS, seed: int = 0) -> List[Dict[str, np.ndarray]]:
  """Raw CTR rows shaped like TenrecExampleGen's: int64 ids, -1-padded histories, labels."""
  rng = np.random.default_rng(seed)
  rows = []
  for _ in range(num_rows):
    filled = int(rng.integers(0, HISTORY_LENGTH + 1))
    history = np.full(HISTORY_LENGTH, -1, np.int64)
    history[HISTORY_LENGTH - filled:] = rng.integers(500, 530, size=filled)
    row = {
        'user_id': np.array([rng.integers(1, 15)], np.int64),
        'item_id': np.array([rng.integers(500, 530)], np.int64),
        'video_category': np.array([rng.choice([-1, 0, 1])], np.int64),
        'gender': np.array([rng.integers(0, 3)], np.int64),
        'age': np.array([rng.integers(0, 8)], np.int64),
        'hist_item_ids': history,
    }
    for label in LABELS:
      row[label] = np.array([rng.integers(0, 2)], np.int64)
    rows.append(row)
  return rows


def raw_feature_spec() -> Dict[str, tf.io.FixedLenFeature]:
  """The raw spec the pipeline's schema gives: [1] per scalar and label, [10] history."""
  spec = {name: tf.io.FixedLenFeature([1], tf.int64) for name in SCALAR_FEATURES + LABELS}
  spec['hist_item_ids'] = tf.io.FixedLenFeature([HISTORY_LENGTH], tf.int64)
  return spec


def to_example(row: Dict[str, np.ndarray]) -> tf.train.Example:
  feature = {name: tf.train.Feature(int64_list=tf.train.Int64List(value=values.tolist()))
             for name, values in row.items()}
  return tf.train.Example(features=tf.train.Features(feature=feature))


def write_test_split(rows: List[Dict[str, np.ndarray]], examples_dir: str) -> str:
  split = os.path.join(examples_dir, 'Split-test')
  os.makedirs(split, exist_ok=True)
  path = os.path.join(split, 'data_tfrecord-00000-of-00001.gz')
  with tf.io.TFRecordWriter(path, options='GZIP') as writer:
    for row in rows:
      writer.write(to_example(row).SerializeToString())
  return path


def analyze_transform(rows: List[Dict[str, np.ndarray]], work_dir: str) -> str:
  """Runs the pipeline's preprocessing_fn analysis with TensorFlow Transform; returns its dir."""
  import apache_beam as beam  # pylint: disable=import-outside-toplevel
  from apache_beam.options.pipeline_options import PipelineOptions  # pylint: disable=import-outside-toplevel
  import tensorflow_transform.beam as tft_beam  # pylint: disable=import-outside-toplevel
  from tensorflow_transform.tf_metadata import dataset_metadata  # pylint: disable=import-outside-toplevel
  from tensorflow_transform.tf_metadata import metadata_io  # pylint: disable=import-outside-toplevel
  from tensorflow_transform.tf_metadata import schema_utils  # pylint: disable=import-outside-toplevel

  from models.preprocessing import ctr as ctr_preprocessing  # pylint: disable=import-outside-toplevel

  transform_dir = os.path.join(work_dir, 'transform_graph')
  metadata = dataset_metadata.DatasetMetadata(
      schema_utils.schema_from_feature_spec(raw_feature_spec()))
  options = PipelineOptions(['--runner=FnApiRunner'])
  with beam.Pipeline(options=options) as pipeline:
    with tft_beam.Context(temp_dir=os.path.join(work_dir, 'tft_tmp'), force_tf_compat_v1=False):
      data = pipeline | beam.Create(rows)
      transform_fn = (data, metadata) | tft_beam.AnalyzeDataset(
          lambda inputs: ctr_preprocessing.preprocessing_fn(inputs))  # pylint: disable=unnecessary-lambda
      _ = transform_fn | tft_beam.WriteTransformFn(transform_dir)
  # TFTransformOutput.raw_feature_spec() reads the raw schema, which the Transform component
  # writes beside transform_fn/.
  metadata_io.write_metadata(metadata, os.path.join(transform_dir, 'metadata'))
  return transform_dir


def build_ctr_export(serving_base: str, work_dir: str) -> str:
  """Exports a tiny DeepFM with the real Transform graph; returns the version folder."""
  import tensorflow_transform as tft  # pylint: disable=import-outside-toplevel

  from models import registry  # pylint: disable=import-outside-toplevel
  from models import testing  # pylint: disable=import-outside-toplevel
  from models.preprocessing import ctr as ctr_preprocessing  # pylint: disable=import-outside-toplevel
  from serving import export  # pylint: disable=import-outside-toplevel

  rows = raw_rows()
  write_test_split(rows, os.path.join(work_dir, 'examples'))
  tft_output = tft.TFTransformOutput(analyze_transform(rows, work_dir))
  feature_info = ctr_preprocessing.feature_info(tft_output, ['click'])

  tf_keras.utils.set_random_seed(7)
  spec = registry.get_model('ctr', 'deepfm')
  model = spec.build(feature_info, spec.resolve_hparams(testing.tiny_hparams(
      spec.default_hparams)))
  export_dir = os.path.join(serving_base, CTR_MODEL, str(VERSION))
  export.export_transform_model(model, tft_output, list(LABELS), ['click'], export_dir)
  return export_dir


def build_sequential_export(serving_base: str) -> str:
  """Exports a tiny SASRec with `serving_default` and `top_k`; returns the version folder."""
  from models.sequential import export as sequential_export  # pylint: disable=import-outside-toplevel
  from models.sequential.sasrec import SASRec  # pylint: disable=import-outside-toplevel

  tf_keras.utils.set_random_seed(3)
  model = SASRec(SEQUENTIAL_ITEMS, SEQUENTIAL_MAX_LEN, hidden_dim=8, num_blocks=1,
                 num_heads=2).build_weights()
  export_dir = os.path.join(serving_base, SEQUENTIAL_MODEL, str(VERSION))
  sequential_export.export_saved_model(model, export_dir)
  return export_dir


def sequence_example(history: List[int]) -> bytes:
  feature = {'item_ids': tf.train.Feature(int64_list=tf.train.Int64List(value=history))}
  return tf.train.Example(features=tf.train.Features(feature=feature)).SerializeToString()
