"""Attentional Factorization Machine (Xiao et al., IJCAI 2017).

  a_ij = h^T ReLU(W (e_i * e_j) + c),   alpha = softmax over the pairs i < j of a_ij
  logit = sum_i w_i[x_i] + p^T sum_{i<j} alpha_ij (e_i * e_j)
  p(click) = sigmoid(logit + b)

There is no DNN: the attention network (attention factor t = 8) is the only hidden layer.
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.layers import attention
from models.layers import checks

NAME = 'afm'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    'attention_factor': 8,
    # The Tenrec paper's lambda; the Tenrec reference code puts 1e-5 on the attention matrix W.
    'attention_l2': 5e-5,
    'afm_dropout': 0.0,
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    'attention_factor': checks.positive_int,
    'attention_l2': checks.non_negative_float,
    'afm_dropout': checks.rate,
}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds AFM; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_label(feature_info)
  inputs = base.model_inputs(feature_info)

  embedding_layer = base.field_embedding(feature_info, hparams)
  if embedding_layer.num_fields < 2:
    raise ValueError(f'AFM needs at least 2 fields, but the inputs give '
                     f'{embedding_layer.num_fields}.')
  fields, linear_logit = embedding_layer(inputs)
  afm_logit = attention.AttentionalFactorization(
      attention_factor=hparams['attention_factor'],
      l2=hparams['attention_l2'],
      dropout=hparams['afm_dropout'],
      name='afm')(fields)

  return base.ctr_model(inputs, [linear_logit, afm_logit], name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='AFM',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Linear part plus attention-weighted pairwise interactions.',
    paper_metrics={'auc': 0.7928, 'logloss': 0.5090}))
