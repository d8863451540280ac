"""Entire Space Multi-task Model (Ma et al., SIGIR 2018).

  p(click) = sigmoid(Tower_ctr(x))
  p(o) = p(click) * sigmoid(Tower_cvr,o(x))     for every post-click objective o (like, ...)

Both outputs are probabilities trained with BCE on the whole exposure space, so the
post-click rate p(o | click) = sigmoid(Tower_cvr,o(x)) is learnt without ever being
supervised directly. The Tenrec reference multiplied the two raw logits and fed the product
to BCE-with-logits; this is the published formulation.
"""

from typing import Any, Mapping, Optional

import tensorflow as tf
import tf_keras as keras

from models import features as features_lib
from models import registry
from models.mtl import base

NAME = 'esmm'

DEFAULT_HPARAMS = {
    **base.TRAINING_DEFAULTS,
    **base.EMBEDDING_DEFAULTS,
    **base.TOWER_DEFAULTS,
    'objectives': ('click', 'like'),
}


def _esmm_objectives(name: str, value: Any):
  objectives = base.objectives_check(name, value)
  if objectives[0] != 'click' or len(objectives) < 2:
    raise ValueError(f"{name} of ESMM must start with 'click' followed by at least one "
                     f"post-click objective, for example ('click', 'like'); got {value!r}.")
  return objectives


HPARAM_CHECKS = {
    **base.TRAINING_CHECKS,
    **base.EMBEDDING_CHECKS,
    **base.TOWER_CHECKS,
    'objectives': _esmm_objectives,
}


@keras.utils.register_keras_serializable(package='tenrec')
class CTCVRProbability(keras.layers.Layer):
  """p(click and conversion) = sigmoid(ctr_logit) * sigmoid(cvr_logit).

  Inputs: a tuple (ctr_logit, cvr_logit) of equal shape; output: the product, same shape.

  Example:

    CTCVRProbability()((tf.constant([[0.0]]), tf.constant([[0.0]])))  # [[0.25]]
  """

  def call(self, inputs):
    ctr_logit, cvr_logit = inputs
    return tf.sigmoid(ctr_logit) * tf.sigmoid(cvr_logit)


def build(feature_info: features_lib.FeatureInfo,
          hparams: Optional[Mapping[str, Any]] = None) -> keras.Model:
  """Builds ESMM; `hparams` overrides DEFAULT_HPARAMS."""
  hparams = base.resolve_hparams(NAME, DEFAULT_HPARAMS, HPARAM_CHECKS, hparams)
  base.check_objectives(feature_info, hparams['objectives'])
  inputs = base.model_inputs(feature_info)

  shared = base.shared_input(feature_info, hparams, inputs)
  ctr_logit = base.tower_logit(hparams, shared, 'click')
  probabilities = {'click': base.probability(ctr_logit, 'click')}
  for objective in hparams['objectives'][1:]:
    cvr_logit = base.tower_logit(hparams, shared, f'{objective}_cvr')
    probabilities[objective] = CTCVRProbability(name=objective)((ctr_logit, cvr_logit))

  return base.mtl_model(inputs, probabilities, name=NAME)


SPEC = registry.register_model(registry.ModelSpec(
    task='mtl',
    name=NAME,
    display_name='ESMM',
    build=build,
    default_hparams=DEFAULT_HPARAMS,
    description='CTR and post-click towers; p(like) = p(click) * p(like | click).',
    paper_metrics={'click_auc': 0.7940, 'like_auc': 0.9110}))
