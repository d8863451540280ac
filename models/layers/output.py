"""Prediction layer shared by the CTR and multi-task models."""

import tensorflow as tf
import tf_keras as keras

from models.layers import checks


@keras.utils.register_keras_serializable(package='tenrec')
class SigmoidOutput(keras.layers.Layer):
  """Turns a logit into a probability: p = sigmoid(logit + b).

  b is a learnable scalar initialised at 0 (`use_bias=False` drops it, for heads whose
  logit already has a bias).

  Input shape: [batch, 1]; output shape: [batch, 1].

  Example:

    SigmoidOutput(name='click')(tf.constant([[0.0], [2.0]]))  # [[0.5], [0.881]]
  """

  def __init__(self, use_bias: bool = True, **kwargs):
    super().__init__(**kwargs)
    self.use_bias = checks.boolean('use_bias', use_bias)

  def build(self, input_shape):
    if self.use_bias:
      self.bias = self.add_weight(name='bias', shape=(1,), initializer='zeros')
    super().build(input_shape)

  def call(self, inputs):
    if self.use_bias:
      inputs = inputs + self.bias
    return tf.sigmoid(inputs)

  def get_config(self):
    config = super().get_config()
    config.update({'use_bias': self.use_bias})
    return config
