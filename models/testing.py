"""Helpers for model tests: a tiny FeatureInfo, random inputs shaped like the Transform
output, an export with a tf.Example serving signature, and a reload in a fresh process.

The fresh process runs `RELOAD_SCRIPT`, which imports only TensorFlow and NumPy, so a
reload that works there also works in TF Serving or any consumer without this repository.

Example:

  from models import testing
  info = testing.tiny_feature_info('ctr')
  features = testing.random_inputs(info, batch_size=16, seed=0)
  testing.export_serving_model(model, info, '/tmp/export/deepfm')
"""

import json
import os
import pathlib
import subprocess
import sys
from typing import Any, Dict, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf
import tf_keras as keras

from models import features as features_lib

CTR_LABELS = ('click',)
MTL_LABELS = ('click', 'like', 'share', 'follow')
HISTORY_LENGTH = 10

SERVING_SIGNATURE = 'serving_default'
FEATURES_SIGNATURE = 'serving_features'
EXAMPLES_INPUT = 'examples'


# Small widths that keep a model's build, one training step and its export fast in tests.
TINY_HPARAMS = {
    'embedding_dim': 4,
    'dnn_hidden_units': (8,),
    'tower_hidden_units': (8,),
    'expert_hidden_units': (8,),
    'attention_hidden_units': (4,),
    'cin_layer_sizes': (4, 4),
    'low_rank': 2,
    'num_experts': 2,
    'attention_factor': 2,
}


def tiny_hparams(default_hparams: Mapping[str, Any]) -> Dict[str, Any]:
  """Returns the TINY_HPARAMS overrides that apply to a model with these defaults."""
  return {key: value for key, value in TINY_HPARAMS.items() if key in default_hparams}


def tiny_feature_info(task: str = 'ctr', history_length: int = HISTORY_LENGTH
                      ) -> features_lib.FeatureInfo:
  """Returns the CTR/MTL inputs with tiny vocabularies (index 0 = missing, last = OOV)."""
  if task not in ('ctr', 'mtl'):
    raise ValueError(f"task must be 'ctr' or 'mtl', got {task!r}.")
  return features_lib.FeatureInfo(
      features=(
          features_lib.CategoricalFeature('user_id', 13),
          features_lib.CategoricalFeature('item_id', 17),
          features_lib.CategoricalFeature('video_category', 4),
          features_lib.CategoricalFeature('gender', 4),
          features_lib.CategoricalFeature('age', 9),
          features_lib.CategoricalFeature('hist_item_ids', 17, length=history_length,
                                          vocabulary='item_id'),
      ),
      labels=CTR_LABELS if task == 'ctr' else MTL_LABELS)


def random_inputs(feature_info: features_lib.FeatureInfo, batch_size: int, seed: int = 0
                  ) -> Dict[str, np.ndarray]:
  """Returns int64 model inputs drawn uniformly from each vocabulary.

  Scalar inputs use all of [0, vocab_size), index 0 (missing) included. Each sequence row has
  a random length in [0, L] (so some rows have no history), real items in [1, vocab_size),
  and is left-padded with 0 like the Transform output.
  """
  rng = np.random.default_rng(seed)
  inputs = {}
  for feature in feature_info.features:
    if not feature.is_sequence:
      inputs[feature.name] = rng.integers(0, feature.vocab_size, size=batch_size,
                                          dtype=np.int64)
      continue
    items = rng.integers(1, feature.vocab_size, size=(batch_size, feature.length),
                         dtype=np.int64)
    lengths = rng.integers(0, feature.length + 1, size=batch_size)
    positions = np.arange(feature.length)[None, :]
    inputs[feature.name] = np.where(positions >= feature.length - lengths[:, None], items, 0)
  return inputs


def random_labels(labels: Sequence[str], batch_size: int, seed: int = 0
                  ) -> Dict[str, np.ndarray]:
  """Returns 0/1 float32 labels of shape [batch, 1] for every name in `labels`."""
  rng = np.random.default_rng(seed)
  return {label: rng.integers(0, 2, size=(batch_size, 1)).astype(np.float32)
          for label in labels}


def layer_outputs(model: keras.Model, layer_names: Sequence[str],
                  inputs: Mapping[str, np.ndarray]) -> Dict[str, Any]:
  """Returns {layer name: NumPy output} of the named layers of a functional model, computed
  on `inputs` with training=False (a list of arrays for a layer with several outputs)."""
  probe = keras.Model(model.inputs, {name: model.get_layer(name).output for name in layer_names})
  values = probe(dict(inputs), training=False)

  def to_numpy(value):
    if isinstance(value, (list, tuple)):
      return [to_numpy(item) for item in value]
    if isinstance(value, dict):
      return {key: to_numpy(item) for key, item in value.items()}
    return value.numpy()

  return {name: to_numpy(value) for name, value in values.items()}


def serving_feature_spec(feature_info: features_lib.FeatureInfo
                         ) -> Dict[str, tf.io.FixedLenFeature]:
  """Returns the tf.io.parse_example spec of the transformed features (no labels)."""
  return {
      f.name: tf.io.FixedLenFeature([f.length] if f.is_sequence else [], tf.int64)
      for f in feature_info.features
  }


def serialize_examples(features: Mapping[str, np.ndarray],
                       labels: Optional[Mapping[str, np.ndarray]] = None) -> list:
  """Returns one serialized tf.Example per row of `features` (and `labels`, if given)."""
  columns = dict(features)
  if labels:
    columns.update({name: np.asarray(values).astype(np.int64)
                    for name, values in labels.items()})
  batch_size = len(next(iter(columns.values())))
  serialized = []
  for row in range(batch_size):
    example = tf.train.Example()
    for name, values in columns.items():
      value = np.asarray(values[row]).reshape(-1)
      example.features.feature[name].int64_list.value.extend(int(v) for v in value)
    serialized.append(example.SerializeToString())
  return serialized


def export_serving_model(model: keras.Model, feature_info: features_lib.FeatureInfo,
                         export_dir: str) -> None:
  """Saves `model` with tf.saved_model.save and two signatures.

  * serving_default: `examples`, a [batch] string tensor of serialized tf.Example holding
    the transformed features (labels may be present and are ignored).
  * serving_features: the transformed features as int64 tensors, one per FeatureInfo input.

  Both return the model's outputs, {label: probability [batch, 1]}, with training=False.
  """
  spec = serving_feature_spec(feature_info)

  @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name=EXAMPLES_INPUT)])
  def serve_examples(examples):
    return model(tf.io.parse_example(examples, spec), training=False)

  @tf.function(input_signature=[{
      f.name: tf.TensorSpec([None, f.length] if f.is_sequence else [None], tf.int64,
                            name=f.name) for f in feature_info.features}])
  def serve_features(features):
    return model(features, training=False)

  tf.saved_model.save(model, export_dir, signatures={
      SERVING_SIGNATURE: serve_examples,
      FEATURES_SIGNATURE: serve_features.get_concrete_function(),
  })


def write_examples(path: str, serialized: Sequence[bytes]) -> None:
  """Writes serialized examples to an uncompressed TFRecord file."""
  with tf.io.TFRecordWriter(path) as writer:
    for record in serialized:
      writer.write(record)


# Runs in a fresh interpreter that must not import this repository: only TensorFlow, NumPy
# and the standard library. argv[1] is a JSON manifest, a list of cases with 'name',
# 'export_dir', 'example_files' (TFRecord paths) and 'output_file' (npz). The script writes
# the signature description of every case to argv[2].
RELOAD_SCRIPT = r'''
import json
import os
import sys

os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import numpy as np
import tensorflow as tf


def describe(specs):
  return {name: {'dtype': spec.dtype.name, 'shape': spec.shape.as_list()}
          for name, spec in specs.items()}


def main(manifest_path, report_path):
  with open(manifest_path) as handle:
    cases = json.load(handle)
  report = {}
  for case in cases:
    loaded = tf.saved_model.load(case['export_dir'])
    serving = loaded.signatures['serving_default']
    features = loaded.signatures['serving_features']
    arrays = {}
    for index, path in enumerate(case['example_files']):
      examples = [record.numpy() for record in tf.data.TFRecordDataset(path)]
      outputs = serving(examples=tf.constant(examples))
      for label, values in outputs.items():
        arrays[f'{index}/{label}'] = values.numpy()
    np.savez(case['output_file'], **arrays)
    report[case['name']] = {
        'serving_inputs': describe(serving.structured_input_signature[1]),
        'serving_outputs': describe(serving.structured_outputs),
        'features_inputs': describe(features.structured_input_signature[1]),
        'features_outputs': describe(features.structured_outputs),
    }
  report['__modules__'] = sorted(
      name for name in sys.modules if name.split('.')[0] in ('models', 'components',
                                                             'pipeline', 'serving'))
  with open(report_path, 'w') as handle:
    json.dump(report, handle)


if __name__ == '__main__':
  main(sys.argv[1], sys.argv[2])
'''


def reload_in_fresh_process(cases: Sequence[Mapping[str, Any]], work_dir: str,
                            timeout_s: float = 600.0) -> Dict[str, Any]:
  """Reloads every export in one new Python process and runs its serving signatures.

  Args:
    cases: Dicts with 'name', 'export_dir' and 'example_files' (TFRecord paths of
      serialized tf.Example).
    work_dir: Folder for the script, the manifest and the outputs; also the child's working
      directory, so the repository is not on its import path.
    timeout_s: Limit for the child process.

  Returns:
    {name: {'outputs': [ {label: array} per example file ], 'serving_inputs': ...,
    'serving_outputs': ..., 'features_inputs': ..., 'features_outputs': ...}} and
    '__modules__', the project modules the child had imported (expected empty).

  Raises:
    RuntimeError: The child process failed; the message includes its stderr.
  """
  work = pathlib.Path(work_dir)
  work.mkdir(parents=True, exist_ok=True)
  script = work / 'reload_saved_models.py'
  script.write_text(RELOAD_SCRIPT)

  manifest = []
  for case in cases:
    manifest.append({
        'name': case['name'],
        'export_dir': str(case['export_dir']),
        'example_files': [str(path) for path in case['example_files']],
        'output_file': str(work / f'{case["name"]}_outputs.npz'),
    })
  manifest_path = work / 'manifest.json'
  manifest_path.write_text(json.dumps(manifest))
  report_path = work / 'report.json'

  env = {key: value for key, value in os.environ.items() if key != 'PYTHONPATH'}
  env['TF_USE_LEGACY_KERAS'] = '1'
  completed = subprocess.run(
      [sys.executable, str(script), str(manifest_path), str(report_path)],
      cwd=str(work), env=env, capture_output=True, text=True, timeout=timeout_s,
      check=False)
  if completed.returncode != 0:
    raise RuntimeError(f'Reload process failed with exit code {completed.returncode}:\n'
                       f'{completed.stderr[-4000:]}')

  report = json.loads(report_path.read_text())
  for entry in manifest:
    with np.load(entry['output_file']) as arrays:
      outputs = [dict() for _ in entry['example_files']]
      for key in arrays.files:
        index, label = key.split('/', 1)
        outputs[int(index)][label] = arrays[key]
    report[entry['name']]['outputs'] = outputs
  return report
