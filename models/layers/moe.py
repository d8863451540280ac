"""Mixture-of-experts layers of multi-task models: MMoE (Ma et al., KDD 2018) and the
customized gate control (CGC) level of PLE (Tang et al., RecSys 2020)."""

from typing import List, Sequence

import tensorflow as tf
import tf_keras as keras

from models.layers import activation as activation_lib
from models.layers import checks


@keras.utils.register_keras_serializable(package='tenrec')
class Experts(keras.layers.Layer):
  """E experts with identical architecture applied to one input, computed in one pass.

  Expert e is an MLP: x_k = act(W_{e,k} x_{k-1} + b_{e,k}) for every width in
  `hidden_units`.

  Input shape: [batch, D]; output shape: [batch, E, hidden_units[-1]].

  Example:

    experts = Experts(num_experts=2, hidden_units=(128,))
    outputs = experts(tf.ones([4, 480]))  # shape [4, 2, 128]

  Args:
    num_experts: E.
    hidden_units: Widths of each expert's layers.
    activation: Activation after every layer, a Keras activation name.
    l2: L2 strength on the expert kernels.
  """

  def __init__(self,
               num_experts: int,
               hidden_units: Sequence[int] = (128,),
               activation: str = 'relu',
               l2: float = 0.0,
               **kwargs):
    super().__init__(**kwargs)
    self.num_experts = checks.positive_int('num_experts', num_experts)
    self.hidden_units = checks.units('hidden_units', hidden_units)
    self.activation = activation
    self.activation_fn = activation_lib.get(activation)
    self.l2 = checks.non_negative_float('l2', l2)

  def build(self, input_shape):
    regularizer = keras.regularizers.l2(self.l2) if self.l2 > 0 else None
    self.kernels = []
    self.biases = []
    previous = int(input_shape[-1])
    for index, width in enumerate(self.hidden_units):
      self.kernels.append(self.add_weight(
          name=f'kernel_{index}', shape=(self.num_experts, previous, width),
          initializer='glorot_uniform', regularizer=regularizer))
      self.biases.append(self.add_weight(
          name=f'bias_{index}', shape=(self.num_experts, width), initializer='zeros'))
      previous = width
    super().build(input_shape)

  def call(self, inputs):
    outputs = tf.einsum('bd,edh->beh', inputs, self.kernels[0]) + self.biases[0]
    outputs = self.activation_fn(outputs)
    for kernel, bias in zip(self.kernels[1:], self.biases[1:]):
      outputs = self.activation_fn(tf.einsum('bed,edh->beh', outputs, kernel) + bias)
    return outputs

  def compute_output_shape(self, input_shape):
    return tf.TensorShape([input_shape[0], self.num_experts, self.hidden_units[-1]])

  def get_config(self):
    config = super().get_config()
    config.update({
        'num_experts': self.num_experts,
        'hidden_units': list(self.hidden_units),
        'activation': self.activation,
        'l2': self.l2,
    })
    return config


def _mix(gates: tf.Tensor, experts: tf.Tensor) -> tf.Tensor:
  """Returns sum_e gates[:, e] * experts[:, e, :]: [batch, E] x [batch, E, H] -> [batch, H]."""
  return tf.einsum('be,beh->bh', gates, experts)


@keras.utils.register_keras_serializable(package='tenrec')
class MultiGateMixtureOfExperts(keras.layers.Layer):
  """MMoE: shared experts, one trainable softmax gate per task.

    f_e(x) = expert e (an MLP)
    g_t(x) = softmax(W_t x + b_t)            W_t in R^{E x D}
    input of task t = sum_e g_t(x)_e f_e(x)

  Input shape: [batch, D]. Output: a list of T tensors [batch, H], one per task.
  `gate_weights` returns the gates [batch, T, E].

  Example:

    mmoe = MultiGateMixtureOfExperts(num_experts=2, num_tasks=2, expert_hidden_units=(128,))
    click_input, like_input = mmoe(tf.ones([4, 480]))  # each [4, 128]

  Args:
    num_experts: E.
    num_tasks: T.
    expert_hidden_units: Widths of each expert's layers; H is the last.
    expert_activation: Activation of the expert layers.
    l2: L2 strength on the expert and gate kernels.
  """

  def __init__(self,
               num_experts: int = 2,
               num_tasks: int = 2,
               expert_hidden_units: Sequence[int] = (128,),
               expert_activation: str = 'relu',
               l2: float = 0.0,
               **kwargs):
    super().__init__(**kwargs)
    self.num_experts = checks.positive_int('num_experts', num_experts)
    self.num_tasks = checks.positive_int('num_tasks', num_tasks)
    self.expert_hidden_units = checks.units('expert_hidden_units', expert_hidden_units)
    self.expert_activation = expert_activation
    self.l2 = checks.non_negative_float('l2', l2)
    self.experts = Experts(self.num_experts, self.expert_hidden_units, expert_activation,
                           l2=self.l2, name='experts')

  def build(self, input_shape):
    self.gate_kernel = self.add_weight(
        name='gate_kernel', shape=(self.num_tasks, int(input_shape[-1]), self.num_experts),
        initializer='glorot_uniform',
        regularizer=keras.regularizers.l2(self.l2) if self.l2 > 0 else None)
    self.gate_bias = self.add_weight(
        name='gate_bias', shape=(self.num_tasks, self.num_experts), initializer='zeros')
    super().build(input_shape)

  def gate_weights(self, inputs):
    """Returns the gate of every task: [batch, T, E], each row summing to 1."""
    if not self.built:
      self.build(inputs.shape)
    logits = tf.einsum('bd,tde->bte', inputs, self.gate_kernel) + self.gate_bias
    return tf.nn.softmax(logits, axis=-1)

  def call(self, inputs):
    experts = self.experts(inputs)
    gates = self.gate_weights(inputs)
    return [_mix(gates[:, task, :], experts) for task in range(self.num_tasks)]

  def get_config(self):
    config = super().get_config()
    config.update({
        'num_experts': self.num_experts,
        'num_tasks': self.num_tasks,
        'expert_hidden_units': list(self.expert_hidden_units),
        'expert_activation': self.expert_activation,
        'l2': self.l2,
    })
    return config


@keras.utils.register_keras_serializable(package='tenrec')
class CustomizedGateControl(keras.layers.Layer):
  """One CGC level of PLE: task-specific experts, shared experts, per-task gates.

  With task inputs x_1..x_T and the shared input x_s (all equal at the first level):

    S = shared experts (S of them) on x_s; K_t = task t's own experts (K each) on x_t
    output_t = sum over [K_t ; S] of softmax(W_t x_t)     (gate over K + S experts)
    output_s = sum over [K_1 ; ... ; K_T ; S] of softmax(W_s x_s)   (gate over T K + S)

  The shared output feeds the next level's shared experts and is produced only when
  `output_shared` (every level but the last).

  Input: one tensor [batch, D] (first level) or a list of T + 1 tensors
  [x_1, ..., x_T, x_s]. Output: a list of T tensors [batch, H], followed by the shared
  output when `output_shared`. `gate_weights` returns the gates: T tensors [batch, K + S]
  and, when `output_shared`, one [batch, T K + S].

  Example:

    cgc = CustomizedGateControl(num_tasks=2, num_shared_experts=1, num_specific_experts=1,
                                expert_hidden_units=(128,), output_shared=True)
    click, like, shared = cgc(tf.ones([4, 480]))  # each [4, 128]

  Args:
    num_tasks: T.
    num_shared_experts: S.
    num_specific_experts: K, per task.
    expert_hidden_units: Widths of each expert's layers; H is the last.
    expert_activation: Activation of the expert layers.
    output_shared: Whether to produce the shared output (levels before the last).
    l2: L2 strength on the expert and gate kernels.
  """

  def __init__(self,
               num_tasks: int = 2,
               num_shared_experts: int = 1,
               num_specific_experts: int = 1,
               expert_hidden_units: Sequence[int] = (128,),
               expert_activation: str = 'relu',
               output_shared: bool = False,
               l2: float = 0.0,
               **kwargs):
    super().__init__(**kwargs)
    self.num_tasks = checks.positive_int('num_tasks', num_tasks)
    self.num_shared_experts = checks.positive_int('num_shared_experts', num_shared_experts)
    self.num_specific_experts = checks.positive_int('num_specific_experts',
                                                    num_specific_experts)
    self.expert_hidden_units = checks.units('expert_hidden_units', expert_hidden_units)
    self.expert_activation = expert_activation
    self.output_shared = checks.boolean('output_shared', output_shared)
    self.l2 = checks.non_negative_float('l2', l2)
    regularizer = keras.regularizers.l2(self.l2) if self.l2 > 0 else None

    self.specific_experts = [
        Experts(self.num_specific_experts, self.expert_hidden_units, expert_activation,
                l2=self.l2, name=f'task_{task}_experts') for task in range(self.num_tasks)]
    self.shared_experts = Experts(self.num_shared_experts, self.expert_hidden_units,
                                  expert_activation, l2=self.l2, name='shared_experts')
    self.task_gates = [
        keras.layers.Dense(self.num_specific_experts + self.num_shared_experts,
                           activation='softmax', kernel_regularizer=regularizer,
                           name=f'task_{task}_gate') for task in range(self.num_tasks)]
    self.shared_gate = None
    if self.output_shared:
      self.shared_gate = keras.layers.Dense(
          self.num_tasks * self.num_specific_experts + self.num_shared_experts,
          activation='softmax', kernel_regularizer=regularizer, name='shared_gate')

  def _split_inputs(self, inputs) -> List[tf.Tensor]:
    if isinstance(inputs, (list, tuple)):
      if len(inputs) != self.num_tasks + 1:
        raise ValueError(f'CGC expects {self.num_tasks + 1} inputs (one per task, then the '
                         f'shared input), got {len(inputs)}.')
      return list(inputs)
    return [inputs] * (self.num_tasks + 1)

  def _gates_and_experts(self, inputs):
    task_inputs = self._split_inputs(inputs)
    shared_input = task_inputs[-1]
    shared = self.shared_experts(shared_input)
    specific = [self.specific_experts[task](task_inputs[task])
                for task in range(self.num_tasks)]

    gates = [self.task_gates[task](task_inputs[task]) for task in range(self.num_tasks)]
    pools = [tf.concat([specific[task], shared], axis=1) for task in range(self.num_tasks)]
    if self.output_shared:
      gates.append(self.shared_gate(shared_input))
      pools.append(tf.concat(specific + [shared], axis=1))
    return gates, pools

  def gate_weights(self, inputs) -> List[tf.Tensor]:
    """Returns the gates: T tensors [batch, K + S], then [batch, T K + S] if output_shared."""
    gates, _ = self._gates_and_experts(inputs)
    return gates

  def call(self, inputs):
    gates, pools = self._gates_and_experts(inputs)
    return [_mix(gate, pool) for gate, pool in zip(gates, pools)]

  def get_config(self):
    config = super().get_config()
    config.update({
        'num_tasks': self.num_tasks,
        'num_shared_experts': self.num_shared_experts,
        'num_specific_experts': self.num_specific_experts,
        'expert_hidden_units': list(self.expert_hidden_units),
        'expert_activation': self.expert_activation,
        'output_shared': self.output_shared,
        'l2': self.l2,
    })
    return config
