"""GRU with attentional update gate (AUGRU), the interest-evolving layer of DIEN
(Zhou et al., AAAI 2019)."""

import tensorflow as tf
import tf_keras as keras

from models.layers import checks


@keras.utils.register_keras_serializable(package='tenrec')
class AUGRUCell(keras.layers.Layer):
  """One AUGRU step: a GRU whose update gate is scaled by an attention score.

  With input x_t, attention score a_t (a scalar per example) and state h_{t-1}:

    r_t = sigmoid(W_r x_t + U_r h_{t-1} + b_r)
    u_t = sigmoid(W_u x_t + U_u h_{t-1} + b_u)
    h~_t = tanh(W_h x_t + U_h (r_t * h_{t-1}) + b_h)
    u'_t = a_t * u_t
    h_t = (1 - u'_t) * h_{t-1} + u'_t * h~_t

  A score of 0 leaves the state unchanged; a score of 1 gives a plain GRU step.

  Input shape: [batch, d + 1], the step input with the attention score appended as the last
  column; state and output shape: [batch, units].

  Example:

    cell = AUGRUCell(4)
    x_and_score = tf.concat([tf.ones([2, 3]), [[0.5], [1.0]]], axis=1)
    output, [state] = cell(x_and_score, [tf.zeros([2, 4])])
  """

  def __init__(self, units: int, **kwargs):
    super().__init__(**kwargs)
    self.units = checks.positive_int('units', units)

  @property
  def state_size(self):
    return self.units

  @property
  def output_size(self):
    return self.units

  def build(self, input_shape):
    input_dim = int(input_shape[-1]) - 1
    if input_dim < 1:
      raise ValueError(
          f'AUGRUCell expects the step input followed by one attention-score column, got '
          f'input width {input_shape[-1]}.')
    self.kernel = self.add_weight(
        name='kernel', shape=(input_dim, 3 * self.units), initializer='glorot_uniform')
    self.recurrent_kernel = self.add_weight(
        name='recurrent_kernel', shape=(self.units, 3 * self.units), initializer='orthogonal')
    self.bias = self.add_weight(name='bias', shape=(3 * self.units,), initializer='zeros')
    super().build(input_shape)

  def call(self, inputs, states):
    state = states[0] if isinstance(states, (list, tuple)) else states
    x, score = inputs[:, :-1], inputs[:, -1:]

    x_reset, x_update, x_candidate = tf.split(
        tf.matmul(x, self.kernel) + self.bias, 3, axis=-1)
    recurrent_reset, recurrent_update, recurrent_candidate = tf.split(
        self.recurrent_kernel, 3, axis=-1)

    reset = tf.sigmoid(x_reset + tf.matmul(state, recurrent_reset))
    update = tf.sigmoid(x_update + tf.matmul(state, recurrent_update))
    candidate = tf.tanh(x_candidate + tf.matmul(reset * state, recurrent_candidate))

    update = score * update
    new_state = (1.0 - update) * state + update * candidate
    return new_state, [new_state]

  def get_config(self):
    config = super().get_config()
    config.update({'units': self.units})
    return config


@keras.utils.register_keras_serializable(package='tenrec')
class AUGRU(keras.layers.Layer):
  """Runs an AUGRUCell over a sequence with attention scores and a padding mask.

  Padded steps (mask 0) keep the previous state, so with left padding the final state is the
  state after the last real step; a row with no real step returns the zero state.

  Inputs: a tuple (sequence [batch, T, d], scores [batch, T], mask [batch, T] of 0/1 or
  bool). Output: the final state [batch, units], or all states [batch, T, units] with
  `return_sequences`.

  Example:

    augru = AUGRU(8)
    final = augru((tf.ones([2, 5, 8]), tf.fill([2, 5], 0.2), tf.ones([2, 5])))  # [2, 8]
  """

  def __init__(self, units: int, return_sequences: bool = False, unroll: bool = False,
               **kwargs):
    super().__init__(**kwargs)
    self.units = checks.positive_int('units', units)
    self.return_sequences = checks.boolean('return_sequences', return_sequences)
    self.unroll = checks.boolean('unroll', unroll)
    self.rnn = keras.layers.RNN(
        AUGRUCell(self.units, name='cell'), return_sequences=self.return_sequences,
        unroll=self.unroll, name='rnn')

  def call(self, inputs, training=None):
    sequence, scores, mask = inputs
    steps = tf.concat([sequence, tf.cast(scores, sequence.dtype)[:, :, None]], axis=-1)
    return self.rnn(steps, mask=tf.cast(mask, tf.bool), training=training)

  def get_config(self):
    config = super().get_config()
    config.update({
        'units': self.units,
        'return_sequences': self.return_sequences,
        'unroll': self.unroll,
    })
    return config
