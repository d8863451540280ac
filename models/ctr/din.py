"""Deep Interest Network (Zhou et al., KDD 2018).

  s_t = w^T MLP_Dice([q, k_t, q - k_t, q * k_t])    q = item_id embedding, k_t = history items
  u = sum_t m_t s_t k_t                            m_t = 0 on padded history positions
  logit = w^T DNN([e_1 ; ... ; e_S ; u])           e_i = scalar-field embeddings
  p(click) = sigmoid(logit + b)

The history shares the item_id embedding table and padded positions are masked; the Tenrec
reference gave the history its own table and never masked (history_mode=
'reference_separate_table' reproduces that). Scores are not softmax-normalised, as in DIN.
There is no linear part.
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.layers import attention

NAME = 'din'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.BEHAVIOUR_EMBEDDING_DEFAULTS,
    **base.DNN_DEFAULTS,
    'attention_hidden_units': (64, 64),
    'attention_activation': 'dice',
    'attention_normalization': 'none',
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.BEHAVIOUR_EMBEDDING_CHECKS,
    **base.DNN_CHECKS,
    'attention_hidden_units': base.units_check(),
    'attention_activation': base.activation_check,
    'attention_normalization': base.choice_check(attention.NORMALIZATIONS),
}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds DIN; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)

  embedded = base.behaviour_embedding(feature_info, hparams)(inputs)
  interest = attention.AttentionPooling(
      hparams['attention_hidden_units'],
      activation=hparams['attention_activation'],
      normalization=hparams['attention_normalization'],
      name='attention_pooling')((embedded['query'], embedded['keys'], embedded['mask']))

  fields = keras.layers.Flatten(name='concat_fields')(embedded['fields'])
  deep_input = keras.layers.Concatenate(name='fields_and_interest')([fields, interest])
  return base.ctr_model(inputs, base.dnn_logit(hparams, deep_input), name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='DIN',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Attention pooling of the click history by the candidate item, then a DNN.'))
