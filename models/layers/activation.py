"""Data-adaptive activations: Dice (Zhou et al., Deep Interest Network, KDD 2018)."""

import tensorflow as tf
import tf_keras as keras


@keras.utils.register_keras_serializable(package='tenrec')
class Dice(keras.layers.Layer):
  """Dice activation, a PReLU whose rectifier point follows the input distribution.

  For each unit,

    p(s) = sigmoid((s - E[s]) / sqrt(Var[s] + epsilon))
    Dice(s) = p(s) * s + (1 - p(s)) * alpha * s

  E[s] and Var[s] are batch statistics during training and moving averages at inference
  (batch normalisation without scale and offset). `alpha` is a trainable vector with one value
  per unit, initialised at 0.

  Input shape: [..., units]; output shape: the same.

  Example:

    dice = Dice()
    y = dice(tf.constant([[1.0, -2.0], [3.0, 0.5]]), training=True)
  """

  def __init__(self, epsilon: float = 1e-8, momentum: float = 0.99, **kwargs):
    super().__init__(**kwargs)
    if not epsilon > 0:
      raise ValueError(f'Dice epsilon must be > 0, got {epsilon!r}.')
    if not 0 <= momentum < 1:
      raise ValueError(f'Dice momentum must be in [0, 1), got {momentum!r}.')
    self.epsilon = epsilon
    self.momentum = momentum
    self.batch_norm = keras.layers.BatchNormalization(
        axis=-1, center=False, scale=False, epsilon=epsilon, momentum=momentum,
        name='standardize')

  def build(self, input_shape):
    self.alpha = self.add_weight(
        name='alpha', shape=(input_shape[-1],), initializer='zeros', trainable=True)
    self.batch_norm.build(input_shape)
    super().build(input_shape)

  def call(self, inputs, training=None):
    probability = tf.sigmoid(self.batch_norm(inputs, training=training))
    return probability * inputs + (1.0 - probability) * self.alpha * inputs

  def get_config(self):
    config = super().get_config()
    config.update({'epsilon': self.epsilon, 'momentum': self.momentum})
    return config


def get(activation: str) -> keras.layers.Layer:
  """Returns a layer for `activation`: 'dice' or any name keras.activations accepts.

  Raises:
    ValueError: `activation` is neither 'dice' nor a Keras activation name.
  """
  if activation == 'dice':
    return Dice()
  try:
    keras.activations.get(activation)
  except (ValueError, TypeError) as error:
    raise ValueError(f"Unknown activation {activation!r}; use 'dice' or a Keras activation "
                     f"name such as 'relu' or 'linear'.") from error
  return keras.layers.Activation(activation)
