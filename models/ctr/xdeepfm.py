"""xDeepFM (Lian et al., KDD 2018).

  logit = sum_i w_i[x_i] + w^T DNN(concat(e_1, ..., e_F)) + v^T CIN(e)
  p(click) = sigmoid(logit + b)

CIN is models.layers.cin.CompressedInteractionNetwork (layer sizes (256, 256), split-half,
ReLU maps, as in the Tenrec reference code).
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.layers import checks
from models.layers import cin

NAME = 'xdeepfm'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    **base.DNN_DEFAULTS,
    'cin_layer_sizes': (256, 256),
    'cin_split_half': True,
    'cin_activation': 'relu',
    'cin_l2': 0.0,
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    **base.DNN_CHECKS,
    'cin_layer_sizes': base.units_check(),
    'cin_split_half': checks.boolean,
    'cin_activation': base.activation_check,
    'cin_l2': checks.non_negative_float,
}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds xDeepFM; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)

  fields, linear_logit = base.field_embedding(feature_info, hparams)(inputs)
  deep_logit = base.dnn_logit(hparams, keras.layers.Flatten(name='concat_fields')(fields))
  cin_features = cin.CompressedInteractionNetwork(
      hparams['cin_layer_sizes'],
      split_half=hparams['cin_split_half'],
      activation=hparams['cin_activation'],
      l2=hparams['cin_l2'],
      name='cin')(fields)
  cin_logit = keras.layers.Dense(1, use_bias=False, name='cin_logit')(cin_features)

  return base.ctr_model(inputs, [linear_logit, deep_logit, cin_logit], name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='xDeepFM',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Linear part, a DNN and a compressed interaction network (CIN).',
    paper_metrics={'auc': 0.7931, 'logloss': 0.5081}))
