"""Single-task baselines of the multi-task benchmark: click only and like only.

  architecture='tower' (default): p = sigmoid(Tower(concat(e_1, ..., e_F)))
  architecture='mmoe': MMoE with one task (the reference's "Only-click"/"Only-like"
  baselines), p = sigmoid(Tower(sum_e g(x)_e f_e(x)))

Registered as `single_click` (objective 'click') and `single_like` (objective 'like').
"""

from typing import Any, Mapping, Optional

import tf_keras as keras

from models import features as features_lib
from models import registry
from models.layers import checks
from models.layers import moe
from models.mtl import base

ARCHITECTURES = ('tower', 'mmoe')

_COMMON_DEFAULTS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    **base.TOWER_DEFAULTS,
    'architecture': 'tower',
    # Used by architecture='mmoe' only.
    'num_experts': 2,
    'expert_hidden_units': (128,),
}


def _single_objective(name: str, value: Any):
  objectives = base.objectives_check(name, value)
  if len(objectives) != 1:
    raise ValueError(f'{name} of a single-task model must name one objective, got {value!r}.')
  return objectives


HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    **base.TOWER_CHECKS,
    'architecture': base.choice_check(ARCHITECTURES),
    'num_experts': checks.positive_int,
    'expert_hidden_units': base.units_check(),
    'objectives': _single_objective,
}

CLICK_DEFAULT_HPARAMS = {**_COMMON_DEFAULTS, 'objectives': ('click',)}
LIKE_DEFAULT_HPARAMS = {**_COMMON_DEFAULTS, 'objectives': ('like',)}


def _build(name: str, defaults: Mapping[str, Any], feature_info: features_lib.FeatureInfo,
           hparams: Optional[Mapping[str, Any]]) -> keras.Model:
  hparams = base.resolve_hparams(name, defaults, HPARAM_CHECKS, hparams)
  (objective,) = hparams['objectives']
  base.check_objectives(feature_info, hparams['objectives'])
  inputs = base.model_inputs(feature_info)

  shared = base.shared_input(feature_info, hparams, inputs)
  if hparams['architecture'] == 'mmoe':
    (shared,) = moe.MultiGateMixtureOfExperts(
        num_experts=hparams['num_experts'], num_tasks=1,
        expert_hidden_units=hparams['expert_hidden_units'], name='mmoe')(shared)
  logit = base.tower_logit(hparams, shared, objective)

  return base.mtl_model(inputs, {objective: base.probability(logit, objective)}, name=name)


def build_click(feature_info: features_lib.FeatureInfo,
                hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds the click-only baseline; `hparams` overrides CLICK_DEFAULT_HPARAMS."""
  return _build('single_click', CLICK_DEFAULT_HPARAMS, feature_info, hparams)


def build_like(feature_info: features_lib.FeatureInfo,
               hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds the like-only baseline; `hparams` overrides LIKE_DEFAULT_HPARAMS."""
  return _build('single_like', LIKE_DEFAULT_HPARAMS, feature_info, hparams)


CLICK_SPEC = registry.register_model(registry.ModelSpec(
    task='mtl',
    name='single_click',
    display_name='Only-click',
    build=build_click,
    default_hparams=CLICK_DEFAULT_HPARAMS,
    description='Single-task click model with the multi-task input and tower.',
    paper_metrics={'click_auc': 0.7957}))

LIKE_SPEC = registry.register_model(registry.ModelSpec(
    task='mtl',
    name='single_like',
    display_name='Only-like',
    build=build_like,
    default_hparams=LIKE_DEFAULT_HPARAMS,
    description='Single-task like model with the multi-task input and tower.',
    paper_metrics={'like_auc': 0.9160}))
