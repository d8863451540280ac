"""SavedModel export with TF Serving signatures for models trained on Transform outputs.

Signatures of a CTR or multi-task export:

* `serving_default`: input `examples`, a [batch] string tensor of serialized `tf.Example`
  with the raw features (labels are not required); outputs one probability per objective,
  shape [batch, 1], named after the objective (`click`, `like`, ...).
* `serving_raw`: the raw feature tensors themselves, shaped as the raw feature spec says:
  with the pipeline's schema, `user_id`, `item_id`, `video_category`, `gender` and `age` are
  int64 [batch, 1] and `hist_item_ids` is int64 [batch, L]; same outputs.

Both run the TensorFlow Transform graph inside the SavedModel, so clients send raw ids.
"""

from typing import Dict, Mapping, Sequence

import tensorflow as tf
import tensorflow_transform as tft

SERVING_DEFAULT = 'serving_default'
SERVING_RAW = 'serving_raw'
EXAMPLES_INPUT = 'examples'


def raw_serving_feature_spec(tf_transform_output: tft.TFTransformOutput,
                             label_keys: Sequence[str]) -> Dict[str, tf.io.FixedLenFeature]:
  """Returns the raw feature spec without labels (what a serving client must send)."""
  spec = dict(tf_transform_output.raw_feature_spec())
  for key in label_keys:
    spec.pop(key, None)
  return spec


def _input_spec(name: str, feature: tf.io.FixedLenFeature) -> tf.TensorSpec:
  shape = [None] + list(feature.shape)
  return tf.TensorSpec(shape=shape, dtype=feature.dtype, name=name)


def make_transform_signatures(model: tf.keras.Model, tf_transform_output: tft.TFTransformOutput,
                              raw_label_keys: Sequence[str],
                              output_names: Sequence[str]) -> Dict[str, tf.types.experimental.ConcreteFunction]:
  """Builds `serving_default` (serialized tf.Example) and `serving_raw` (tensors) signatures."""
  model.tft_layer = tf_transform_output.transform_features_layer()
  feature_spec = raw_serving_feature_spec(tf_transform_output, raw_label_keys)
  model_inputs = list(model.input_names) if getattr(model, 'input_names', None) else None

  def predict(raw_features: Mapping[str, tf.Tensor]) -> Dict[str, tf.Tensor]:
    transformed = model.tft_layer(dict(raw_features))
    names = model_inputs or [k for k in transformed if k not in raw_label_keys]
    outputs = model({name: transformed[name] for name in names}, training=False)
    if not isinstance(outputs, Mapping):
      outputs = {output_names[0]: outputs}
    return {name: tf.identity(outputs[name], name=name) for name in output_names}

  @tf.function(input_signature=[tf.TensorSpec(shape=[None], dtype=tf.string,
                                              name=EXAMPLES_INPUT)])
  def serve_examples(serialized):
    return predict(tf.io.parse_example(serialized, feature_spec))

  raw_specs = {name: _input_spec(name, f) for name, f in feature_spec.items()}

  @tf.function(input_signature=[raw_specs])
  def serve_raw(features):
    return predict(features)

  return {
      SERVING_DEFAULT: serve_examples.get_concrete_function(),
      SERVING_RAW: serve_raw.get_concrete_function(),
  }


def export_transform_model(model: tf.keras.Model, tf_transform_output: tft.TFTransformOutput,
                           raw_label_keys: Sequence[str], output_names: Sequence[str],
                           export_dir: str) -> None:
  """Saves `model` with the Transform graph and both serving signatures to `export_dir`."""
  signatures = make_transform_signatures(model, tf_transform_output, raw_label_keys, output_names)
  model.save(export_dir, save_format='tf', signatures=signatures)
