"""Multi-gate Mixture-of-Experts (Ma et al., KDD 2018).

  f_e(x) = ReLU(W_e x + b_e)                      E = 2 experts of width 128
  g_t(x) = softmax(G_t x + c_t)                   one trainable gate per objective
  p(t) = sigmoid(Tower_t(sum_e g_t(x)_e f_e(x)))

x is the concatenation of the field embeddings. The Tenrec reference kept the gates in plain
Python lists, so they were never trained or saved; here they are ordinary trainable weights.
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.layers import checks
from models.layers import moe
from models.mtl import base

NAME = 'mmoe'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    **base.TOWER_DEFAULTS,
    'objectives': ('click', 'like'),
    'num_experts': 2,
    'expert_hidden_units': (128,),
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    **base.TOWER_CHECKS,
    'objectives': base.objectives_check,
    'num_experts': checks.positive_int,
    'expert_hidden_units': base.units_check(),
}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds MMoE; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  objectives = hparams['objectives']
  base.check_objectives(feature_info, objectives)
  inputs = base.model_inputs(feature_info)

  shared = base.shared_input(feature_info, hparams, inputs)
  task_inputs = moe.MultiGateMixtureOfExperts(
      num_experts=hparams['num_experts'],
      num_tasks=len(objectives),
      expert_hidden_units=hparams['expert_hidden_units'],
      name='mmoe')(shared)

  probabilities = {}
  for objective, task_input in zip(objectives, task_inputs):
    logit = base.tower_logit(hparams, task_input, objective)
    probabilities[objective] = base.probability(logit, objective)
  return base.mtl_model(inputs, probabilities, name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='mtl',
    name=NAME,
    display_name='MMoE',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Shared experts mixed by one trainable softmax gate per objective.',
    paper_metrics={'click_auc': 0.7900, 'like_auc': 0.9020}))
