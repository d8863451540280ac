"""Deep & Cross Network (Wang et al., ADKDD 2017).

  x_0 = concat(e_1, ..., e_F)
  x_{l+1} = x_0 (x_l^T w_l) + b_l + x_l        (cross_parameterization='vector', L = 2)
  logit = sum_i w_i[x_i] + v^T [x_L ; DNN(x_0)]
  p(click) = sigmoid(logit + b)

`cross_parameterization` also accepts 'matrix' and 'low_rank' (DCNv2's cross layers from
tensorflow_recommenders) and 'mixture' (see models.ctr.dcnv2).
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.layers import checks
from models.layers import cross

NAME = 'dcn'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    **base.DNN_DEFAULTS,
    'cross_layers': 2,
    'cross_parameterization': 'vector',
    # Used by the 'low_rank' and 'mixture' parameterizations only.
    'low_rank': 32,
    'num_experts': 4,
    # The Tenrec paper's lambda; the Tenrec reference code puts 1e-5 on the cross weights.
    'cross_l2': 5e-5,
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    **base.DNN_CHECKS,
    'cross_layers': checks.positive_int,
    'cross_parameterization': base.choice_check(cross.PARAMETERIZATIONS),
    'low_rank': checks.positive_int,
    'num_experts': checks.positive_int,
    'cross_l2': checks.non_negative_float,
}


def build_cross_model(name: str, feature_info: features_lib.FeatureInfo,
                      hparams: Mapping[str, Any]) -> keras.Model:
  """Builds the DCN structure (cross network beside a DNN) with resolved `hparams`."""
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)

  fields, linear_logit = base.field_embedding(feature_info, hparams)(inputs)
  x0 = keras.layers.Flatten(name='concat_fields')(fields)
  crossed = cross.CrossNetwork(
      num_layers=hparams['cross_layers'],
      parameterization=hparams['cross_parameterization'],
      low_rank=hparams['low_rank'],
      num_experts=hparams['num_experts'],
      l2=hparams['cross_l2'],
      name='cross_network')(x0)
  deep = base.dnn(hparams)(x0)
  stacked = keras.layers.Concatenate(name='cross_and_deep')([crossed, deep])
  combined_logit = keras.layers.Dense(1, use_bias=False, name='combined_logit')(stacked)

  return base.ctr_model(inputs, [linear_logit, combined_logit], name=name)


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds DCN; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  return build_cross_model(NAME, feature_info, hparams)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='DCN',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Vector cross network beside a DNN, joined by one linear output.',
    paper_metrics={'auc': 0.7927, 'logloss': 0.5092}))
