"""Tests of serving.export: the CTR export contract seen by TF Serving."""

import numpy as np
import tensorflow as tf

from serving import signatures
import serving_exports


def _rows():
  return serving_exports.raw_rows(num_rows=6, seed=11)


def test_export_contract_in_fresh_process(ctr_export):
  described = signatures.describe_saved_model(ctr_export)
  assert signatures.compare_signatures(described, signatures.expected_ctr_signatures()) == []
  assert described.loaded_signatures['serving_raw']['outputs'] == ['click']


def test_export_layout_has_vocabulary_assets(ctr_export):
  assets = sorted(tf.io.gfile.listdir(f'{ctr_export}/assets'))
  assert 'item_id_vocabulary' in assets
  assert 'user_id_vocabulary' in assets


def test_serving_default_equals_serving_raw(ctr_export):
  loaded = tf.saved_model.load(ctr_export)
  rows = _rows()
  serialized = [serving_exports.to_example(r).SerializeToString() for r in rows]
  from_examples = loaded.signatures['serving_default'](examples=tf.constant(serialized))
  raw = {name: tf.constant(np.stack([r[name] for r in rows]))
         for name in serving_exports.SCALAR_FEATURES + ('hist_item_ids',)}
  from_tensors = loaded.signatures['serving_raw'](**raw)
  assert from_examples['click'].shape == (6, 1)
  np.testing.assert_allclose(from_examples['click'].numpy(), from_tensors['click'].numpy(),
                             rtol=1e-6)


def test_serving_default_without_labels(ctr_export):
  loaded = tf.saved_model.load(ctr_export)
  row = {k: v for k, v in _rows()[0].items() if k not in serving_exports.LABELS}
  serialized = serving_exports.to_example(row).SerializeToString()
  probability = loaded.signatures['serving_default'](examples=tf.constant([serialized]))['click']
  assert 0.0 < float(probability[0, 0]) < 1.0


def test_unknown_ids_are_served(ctr_export):
  loaded = tf.saved_model.load(ctr_export)
  row = dict(_rows()[0], user_id=np.array([10**12]), item_id=np.array([10**12]))
  serialized = serving_exports.to_example(row).SerializeToString()
  probability = loaded.signatures['serving_default'](examples=tf.constant([serialized]))['click']
  assert np.isfinite(probability.numpy()).all()
