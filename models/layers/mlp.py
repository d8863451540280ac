"""Fully connected towers (the DNN part of CTR models and the towers of multi-task models)."""

from typing import Optional, Sequence

import tensorflow as tf
import tf_keras as keras

from models.layers import activation as activation_lib
from models.layers import checks


@keras.utils.register_keras_serializable(package='tenrec')
class MLP(keras.layers.Layer):
  """A stack of Dense layers: Dense -> [BatchNorm] -> activation -> [Dropout], per width.

  For layer k with width h_k: x_k = Dropout(act(BN(W_k x_{k-1} + b_k))). The output has the
  width of the last layer; with no widths the layer is the identity.

  Input shape: [..., d]; output shape: [..., hidden_units[-1]].

  Example:

    tower = MLP((256, 256), activation='relu')
    y = tower(tf.ones([4, 32]))  # shape [4, 256]

  Args:
    hidden_units: Widths of the Dense layers.
    activation: 'dice' or any Keras activation name ('relu', 'linear', ...).
    dropout: Dropout rate after each layer's activation, in [0, 1).
    batch_norm: Whether to batch-normalise each layer's pre-activation.
    l2: L2 strength on the Dense kernels (lambda * sum(w^2) added to the model losses).
    kernel_initializer: Initializer of the Dense kernels (Keras name or config).
    seed: Seed of the dropout masks.
  """

  def __init__(self,
               hidden_units: Sequence[int],
               activation: str = 'relu',
               dropout: float = 0.0,
               batch_norm: bool = False,
               l2: float = 0.0,
               kernel_initializer='glorot_uniform',
               seed: Optional[int] = None,
               **kwargs):
    super().__init__(**kwargs)
    self.hidden_units = checks.units('hidden_units', hidden_units, allow_empty=True)
    self.activation = activation
    self.dropout = checks.rate('dropout', dropout)
    self.batch_norm = checks.boolean('batch_norm', batch_norm)
    self.l2 = checks.non_negative_float('l2', l2)
    self.kernel_initializer = keras.initializers.get(kernel_initializer)
    self.seed = seed

    regularizer = keras.regularizers.l2(self.l2) if self.l2 > 0 else None
    self.dense_layers = []
    self.norm_layers = []
    self.activation_layers = []
    self.dropout_layers = []
    for index, width in enumerate(self.hidden_units):
      self.dense_layers.append(keras.layers.Dense(
          width,
          kernel_initializer=self.kernel_initializer.__class__.from_config(
              self.kernel_initializer.get_config()),
          kernel_regularizer=regularizer,
          name=f'dense_{index}'))
      if self.batch_norm:
        self.norm_layers.append(keras.layers.BatchNormalization(name=f'batch_norm_{index}'))
      self.activation_layers.append(activation_lib.get(activation))
      if self.dropout > 0:
        self.dropout_layers.append(keras.layers.Dropout(
            self.dropout, seed=None if seed is None else seed + index,
            name=f'dropout_{index}'))

  def call(self, inputs, training=None):
    outputs = inputs
    for index, dense in enumerate(self.dense_layers):
      outputs = dense(outputs)
      if self.batch_norm:
        outputs = self.norm_layers[index](outputs, training=training)
      outputs = self.activation_layers[index](outputs, training=training)
      if self.dropout > 0:
        outputs = self.dropout_layers[index](outputs, training=training)
    return outputs

  def compute_output_shape(self, input_shape):
    input_shape = tf.TensorShape(input_shape)
    if not self.hidden_units:
      return input_shape
    return input_shape[:-1].concatenate([self.hidden_units[-1]])

  def get_config(self):
    config = super().get_config()
    config.update({
        'hidden_units': list(self.hidden_units),
        'activation': self.activation,
        'dropout': self.dropout,
        'batch_norm': self.batch_norm,
        'l2': self.l2,
        'kernel_initializer': keras.initializers.serialize(self.kernel_initializer),
        'seed': self.seed,
    })
    return config
