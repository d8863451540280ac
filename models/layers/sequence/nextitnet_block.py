"""NextItNet residual block: two dilated causal 1-D convolutions with LayerNorm and ReLU."""

import tensorflow as tf
import tf_keras

from models.layers import checks


@tf_keras.utils.register_keras_serializable(package='tenrec')
class DilatedResidualBlock(tf_keras.layers.Layer):
  """Two-convolution residual block of NextItNet (Yuan et al., WSDM 2019), as Tenrec uses it.

  For x of shape [batch, T, channels] and dilation δ:

    y   = ReLU(LN(CausalConv_{k, δ}(x)))
    z   = ReLU(LN(CausalConv_{k, 2δ}(y)))
    out = x + z

  CausalConv_{k, δ} left-pads the sequence with (k - 1) * δ zeros and applies a valid 1-D
  convolution channels -> channels with bias, so out[:, t] depends on x[:, :t + 1] only.
  LayerNorm normalises each position over the channels.

  Example:

    block = DilatedResidualBlock(channels=16, dilation=4)
    y = block(tf.random.normal([2, 10, 16]))  # shape [2, 10, 16]

  Args:
    channels: Width of the input, the output and both convolutions.
    dilation: Dilation δ of the first convolution; the second uses 2δ.
    kernel_size: Convolution width k.
    layer_norm_epsilon: Epsilon of both LayerNorms.
  """

  def __init__(self,
               channels: int,
               dilation: int,
               kernel_size: int = 3,
               layer_norm_epsilon: float = 1e-8,
               **kwargs):
    super().__init__(**kwargs)
    self.channels = checks.positive_int('channels', channels)
    self.dilation = checks.positive_int('dilation', dilation)
    self.kernel_size = checks.positive_int('kernel_size', kernel_size)
    self.layer_norm_epsilon = checks.positive_float('layer_norm_epsilon', layer_norm_epsilon)

    self.conv1 = tf_keras.layers.Conv1D(
        self.channels, self.kernel_size, padding='causal', dilation_rate=self.dilation,
        name='conv1')
    self.norm1 = tf_keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                     name='norm1')
    self.conv2 = tf_keras.layers.Conv1D(
        self.channels, self.kernel_size, padding='causal', dilation_rate=2 * self.dilation,
        name='conv2')
    self.norm2 = tf_keras.layers.LayerNormalization(epsilon=self.layer_norm_epsilon,
                                                     name='norm2')

  def build(self, input_shape):
    width = int(input_shape[-1])
    if width != self.channels:
      raise ValueError(f'DilatedResidualBlock {self.name!r} expects inputs of width '
                       f'{self.channels}, got {width}.')
    super().build(input_shape)

  def call(self, inputs):
    y = tf.nn.relu(self.norm1(self.conv1(inputs)))
    z = tf.nn.relu(self.norm2(self.conv2(y)))
    return inputs + z

  def compute_output_shape(self, input_shape):
    return tf.TensorShape(input_shape)

  def get_config(self):
    config = super().get_config()
    config.update({
        'channels': self.channels,
        'dilation': self.dilation,
        'kernel_size': self.kernel_size,
        'layer_norm_epsilon': self.layer_norm_epsilon,
    })
    return config
