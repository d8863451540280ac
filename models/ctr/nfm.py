"""Neural Factorization Machine (He and Chua, SIGIR 2017).

  BI(e) = 1/2 [(sum_i e_i)^2 - sum_i e_i^2]            (element-wise, in R^d)
  logit = sum_i w_i[x_i] + w^T DNN(Dropout(BI(e)))
  p(click) = sigmoid(logit + b)
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.layers import checks
from models.layers import fm

NAME = 'nfm'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    **base.DNN_DEFAULTS,
    # Dropout on the bi-interaction vector (0 in the Tenrec reference code).
    'bi_dropout': 0.0,
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    **base.DNN_CHECKS,
    'bi_dropout': checks.rate,
}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds NFM; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)

  fields, linear_logit = base.field_embedding(feature_info, hparams)(inputs)
  interactions = fm.BiInteractionPooling(name='bi_interaction')(fields)
  interactions = keras.layers.Dropout(hparams['bi_dropout'], name='bi_dropout')(interactions)
  deep_logit = base.dnn_logit(hparams, interactions)

  return base.ctr_model(inputs, [linear_logit, deep_logit], name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='NFM',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Linear part plus a DNN over the bi-interaction pooling of the embeddings.',
    paper_metrics={'auc': 0.7957, 'logloss': 0.5080}))
