"""DCNv2 (Wang et al., WWW 2021), the mixture of low-rank experts used by Tenrec.

  E_e(x_l) = x_0 * (U_e tanh(C_e tanh(V_e^T x_l)) + b_l)      (E = 4 experts, rank r = 32)
  x_{l+1} = sum_e softmax_e(G_l^T x_l) E_e(x_l) + x_l          (L = 2 layers)
  logit = sum_i w_i[x_i] + v^T [x_L ; DNN(x_0)]
  p(click) = sigmoid(logit + b)

`cross_parameterization='matrix'` gives DCNv2's full-rank cross layer and 'low_rank' its
single low-rank layer (both tensorflow_recommenders.layers.dcn.Cross).
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.ctr import base
from models.ctr import dcn

NAME = 'dcnv2'

DEFAULT_HPARAMS = {
    **dcn.DEFAULT_HPARAMS,
    'cross_parameterization': 'mixture',
    'low_rank': 32,
    'num_experts': 4,
}
HPARAM_CHECKS = dict(dcn.HPARAM_CHECKS)


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds DCNv2; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  return dcn.build_cross_model(NAME, feature_info, hparams)


SPEC = registry.register_model(registry.ModelSpec(
    task='ctr',
    name=NAME,
    display_name='DCNv2',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Mixture of low-rank cross experts beside a DNN.',
    paper_metrics={'auc': 0.7932, 'logloss': 0.5085}))
