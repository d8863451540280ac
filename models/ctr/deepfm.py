"""DeepFM (Guo et al., IJCAI 2017).

  FM(e) = 1/2 sum_k [(sum_i e_{i,k})^2 - sum_i e_{i,k}^2]
  logit = sum_i w_i[x_i] + FM(e) + w^T DNN(concat(e_1, ..., e_F))
  p(click) = sigmoid(logit + b)

The FM and DNN parts share the field embeddings.
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.layers import fm

NAME = 'deepfm'

DEFAULT_HPARAMS = {**base.TRAINING_DEFAULTS, **base.EMBEDDING_DEFAULTS, **base.DNN_DEFAULTS}
HPARAM_CHECKS = {**base.TRAINING_CHECKS, **base.EMBEDDING_CHECKS, **base.DNN_CHECKS}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds DeepFM; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)

  fields, linear_logit = base.field_embedding(feature_info, hparams)(inputs)
  fm_logit = fm.FMInteraction(name='fm')(fields)
  deep_logit = base.dnn_logit(hparams, keras.layers.Flatten(name='concat_fields')(fields))

  return base.ctr_model(inputs, [linear_logit, fm_logit, deep_logit], name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='DeepFM',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Linear part, second-order FM term and a DNN on shared field embeddings.',
    paper_metrics={'auc': 0.7930, 'logloss': 0.5083}))
