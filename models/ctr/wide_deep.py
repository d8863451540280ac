"""Wide & Deep (Cheng et al., DLRS 2016) as in the Tenrec benchmark.

  logit = sum_i w_i[x_i] + w^T DNN(concat(e_1, ..., e_F))
  p(click) = sigmoid(logit + b)

The wide part is the linear term over the raw fields only (no hand-crafted cross-product
features), as in the Tenrec reference code.
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base

NAME = 'wide_deep'

DEFAULT_HPARAMS = {**base.TRAINING_DEFAULTS, **base.EMBEDDING_DEFAULTS, **base.DNN_DEFAULTS}
HPARAM_CHECKS = {**base.TRAINING_CHECKS, **base.EMBEDDING_CHECKS, **base.DNN_CHECKS}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds Wide & Deep; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)

  fields, linear_logit = base.field_embedding(feature_info, hparams)(inputs)
  deep_logit = base.dnn_logit(hparams, keras.layers.Flatten(name='concat_fields')(fields))

  return base.ctr_model(inputs, [linear_logit, deep_logit], name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='Wide & Deep',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Linear part over the fields plus a DNN over the concatenated embeddings.',
    paper_metrics={'auc': 0.7919, 'logloss': 0.5100}))
