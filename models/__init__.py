"""Keras models, shared layers, metrics and TFX trainer functions for every baseline."""

import os

# tf-keras (Keras 2) must be selected before TensorFlow is first imported: tensorflow-recommenders
# and tensorflow-model-optimization reject Keras 3, and TF Serving cannot load Keras 3 exports.
os.environ['TF_USE_LEGACY_KERAS'] = '1'
