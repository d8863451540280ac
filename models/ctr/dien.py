"""Deep Interest Evolution Network (Zhou et al., AAAI 2019).

  h_t = GRU(k_1..k_t)                               interest extractor over the history
  a_t = softmax over real positions of w^T MLP([q, h_t, q - h_t, q * h_t])
  gru_type='augru':  u = AUGRU(h_1..h_T; a_1..a_T)   final state; the update gate is a_t u_t
  gru_type='gru':    u = sum_t a'_t g_t with g = GRU(h), a' the attention of q on g
                     (the Tenrec reference: a plain second GRU, then attention pooling)
  logit = w^T DNN([e_1 ; ... ; e_S ; u]),  p(click) = sigmoid(logit + b)

With `auxiliary_loss_weight` > 0 the extractor states also predict the next clicked item:

  L_aux = mean over consecutive real positions of
          -log sigmoid(h_t . k_{t+1}) - log(1 - sigmoid(h_t . k'_{t+1}))

where the negative k'_{t+1} is the item at the same position of the next example in the
batch. The history shares the item_id table with padding masked (the reference never masked).
"""

from typing import Any, Mapping, Optional

import tensorflow as tf
import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.layers import attention
from models.layers import augru
from models.layers import checks

NAME = 'dien'

GRU_TYPES = ('augru', 'gru')

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.BEHAVIOUR_EMBEDDING_DEFAULTS,
    **base.DNN_DEFAULTS,
    'gru_type': 'augru',
    'attention_hidden_units': (64, 64),
    'attention_activation': 'relu',
    'auxiliary_loss_weight': 0.0,
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.BEHAVIOUR_EMBEDDING_CHECKS,
    **base.DNN_CHECKS,
    'gru_type': base.choice_check(GRU_TYPES),
    'attention_hidden_units': base.units_check(),
    'attention_activation': base.activation_check,
    'auxiliary_loss_weight': checks.non_negative_float,
}


@keras.utils.register_keras_serializable(package='tenrec')
class InterestAuxiliaryLoss(keras.layers.Layer):
  """Adds DIEN's auxiliary next-click loss (weight * L_aux) and returns the states unchanged.

  Inputs: a tuple (states [batch, T, d], keys [batch, T, d], mask [batch, T]). The state at
  position t is scored against the key at t + 1 (the positive) and against the key at t + 1 of
  the next example in the batch (the negative). Pairs involving a padded position are skipped.

  Example:

    states = InterestAuxiliaryLoss(weight=1.0)((states, keys, mask))
  """

  def __init__(self, weight: float = 1.0, **kwargs):
    super().__init__(**kwargs)
    self.weight = checks.non_negative_float('weight', weight)

  def auxiliary_loss(self, states, keys, mask):
    """Returns L_aux, a scalar."""
    mask = tf.cast(mask, states.dtype)
    negatives = tf.roll(keys, shift=-1, axis=0)
    negative_mask = tf.roll(mask, shift=-1, axis=0)

    history = states[:, :-1, :]
    positive_logits = tf.reduce_sum(history * keys[:, 1:, :], axis=-1)
    negative_logits = tf.reduce_sum(history * negatives[:, 1:, :], axis=-1)

    # -log sigmoid(x) = softplus(-x) and -log(1 - sigmoid(x)) = softplus(x).
    valid = mask[:, :-1] * mask[:, 1:] * negative_mask[:, 1:]
    losses = tf.nn.softplus(-positive_logits) + tf.nn.softplus(negative_logits)
    return tf.math.divide_no_nan(tf.reduce_sum(losses * valid), tf.reduce_sum(valid))

  def call(self, inputs):
    states, keys, mask = inputs
    self.add_loss(self.weight * self.auxiliary_loss(states, keys, mask))
    return states

  def get_config(self):
    config = super().get_config()
    config.update({'weight': self.weight})
    return config


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds DIEN; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)
  units = hparams['embedding_dim']

  embedded = base.behaviour_embedding(feature_info, hparams)(inputs)
  query, keys, mask = embedded['query'], embedded['keys'], embedded['mask']
  boolean_mask = tf.cast(mask, tf.bool)

  # Interest extractor.
  states = keras.layers.GRU(units, return_sequences=True, name='interest_extractor')(
      keys, mask=boolean_mask)
  if hparams['auxiliary_loss_weight'] > 0:
    states = InterestAuxiliaryLoss(hparams['auxiliary_loss_weight'], name='auxiliary_loss')(
        (states, keys, mask))

  # Interest evolution.
  attention_kwargs = {
      'hidden_units': hparams['attention_hidden_units'],
      'activation': hparams['attention_activation'],
      'normalization': 'softmax',
  }
  if hparams['gru_type'] == 'augru':
    _, scores = attention.AttentionPooling(
        return_weights=True, name='attention', **attention_kwargs)((query, states, mask))
    interest = augru.AUGRU(units, name='interest_evolution')((states, scores, mask))
  else:
    evolved = keras.layers.GRU(units, return_sequences=True, name='interest_evolution')(
        states, mask=boolean_mask)
    interest = attention.AttentionPooling(name='attention', **attention_kwargs)(
        (query, evolved, mask))

  fields = keras.layers.Flatten(name='concat_fields')(embedded['fields'])
  deep_input = keras.layers.Concatenate(name='fields_and_interest')([fields, interest])
  return base.ctr_model(inputs, base.dnn_logit(hparams, deep_input), name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='DIEN',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='GRU interest extractor and attention-gated AUGRU interest evolution.'))
