"""Progressive Layered Extraction (Tang et al., RecSys 2020).

A stack of `num_levels` customized gate control (CGC) levels. Each level has
`num_shared_experts` shared experts and `num_specific_experts` experts per objective. The gate
of objective t mixes its own and the shared experts. Every level but the last also has a shared
gate over all experts, which feeds the next level's shared experts:

  level 1:      inputs x_t = x_s = concat(e_1, ..., e_F)
  level l:      x_t^l = sum over [experts_t ; shared] of softmax(W_t^l x_t^{l-1})
                x_s^l = sum over [experts_1 ; ... ; experts_T ; shared] of softmax(W_s^l x_s^{l-1})
  p(t) = sigmoid(Tower_t(x_t^L))

Defaults: 2 levels, 1 shared and 1 specific expert per objective, experts of width 128
(the Tenrec reference code has no PLE).
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.layers import checks
from models.layers import moe
from models.mtl import base

NAME = 'ple'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    **base.TOWER_DEFAULTS,
    'objectives': ('click', 'like'),
    'num_levels': 2,
    'num_shared_experts': 1,
    'num_specific_experts': 1,
    'expert_hidden_units': (128,),
}
HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    **base.TOWER_CHECKS,
    'objectives': base.objectives_check,
    'num_levels': checks.positive_int,
    'num_shared_experts': checks.positive_int,
    'num_specific_experts': checks.positive_int,
    'expert_hidden_units': base.units_check(),
}


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds PLE; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  objectives = hparams['objectives']
  base.check_objectives(feature_info, objectives)
  inputs = base.model_inputs(feature_info)

  level_inputs = base.shared_input(feature_info, hparams, inputs)
  for level in range(hparams['num_levels']):
    is_last = level == hparams['num_levels'] - 1
    level_inputs = moe.CustomizedGateControl(
        num_tasks=len(objectives),
        num_shared_experts=hparams['num_shared_experts'],
        num_specific_experts=hparams['num_specific_experts'],
        expert_hidden_units=hparams['expert_hidden_units'],
        output_shared=not is_last,
        name=f'cgc_{level}')(level_inputs)

  probabilities = {}
  for objective, task_input in zip(objectives, level_inputs):
    logit = base.tower_logit(hparams, task_input, objective)
    probabilities[objective] = base.probability(logit, objective)
  return base.mtl_model(inputs, probabilities, name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='mtl',
    name=NAME,
    display_name='PLE',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='Stacked CGC levels of shared and objective-specific experts.',
    paper_metrics={'click_auc': 0.7822, 'like_auc': 0.9103}))
