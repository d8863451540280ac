"""Pieces shared by the multi-task models: hyper-parameters, shared input, towers, output.

Every multi-task model maps a dict of int64 index tensors (see models.features.FeatureInfo)
to one probability [batch, 1] per objective, for example {'click': ..., 'like': ...}.
"""

from typing import Any, Mapping, Sequence, Tuple

import tensorflow as tf
import tf_keras as keras

from models import features as features_lib
from models.ctr import base as ctr_base
from models.layers import checks
from models.layers import mlp
from models.layers import output

# Labels a multi-task example may carry (see docs/architecture.md).
MTL_LABELS = ('click', 'like', 'share', 'follow')

# Optimisation defaults from the Tenrec README commands and paper for ESMM and MMoE: Adam,
# lr 1e-4, batch 4096, 20 epochs, seed 100, selection on the validation loss with patience 5.
TRAINING_DEFAULTS: Mapping[str, Any] = {
    'learning_rate': 1e-4,
    'batch_size': 4096,
    'epochs': 20,
    'loss_reduction': 'mean',
    'early_stopping_patience': 5,
    'seed': 100,
}

# The reference trains the multi-task models without any L2 term.
EMBEDDING_DEFAULTS: Mapping[str, Any] = {
    'embedding_dim': 32,
    'history_mode': 'pooled',
    'history_pooling': 'mean',
    'embedding_l2': 0.0,
    'init_std': 1e-4,
}

# Towers as in the reference (Linear -> BatchNorm -> Dropout 0.5, twice, then Linear), with a
# ReLU after each BatchNorm; the reference had no activation ('linear' reproduces it).
TOWER_DEFAULTS: Mapping[str, Any] = {
    'tower_hidden_units': (128, 128),
    'tower_activation': 'relu',
    'tower_batch_norm': True,
    'tower_dropout': 0.5,
    'tower_l2': 0.0,
}


def objectives_check(name: str, value: Any) -> Tuple[str, ...]:
  """Accepts a non-empty sequence of distinct labels from MTL_LABELS."""
  if isinstance(value, str) or not isinstance(value, Sequence) or not value:
    raise ValueError(f'{name} must be a non-empty sequence of labels from '
                     f'{", ".join(MTL_LABELS)}; got {value!r}.')
  for label in value:
    if label not in MTL_LABELS:
      raise ValueError(f'{name} contains unknown objective {label!r}; choose from '
                       f'{", ".join(MTL_LABELS)}.')
  if len(set(value)) != len(value):
    raise ValueError(f'{name} repeats an objective: {value!r}.')
  return tuple(value)


TRAINING_CHECKS = ctr_base.TRAINING_CHECKS

EMBEDDING_CHECKS = {
    key: check for key, check in ctr_base.EMBEDDING_CHECKS.items() if key in EMBEDDING_DEFAULTS
}

TOWER_CHECKS = {
    'tower_hidden_units': ctr_base.units_check(allow_empty=True),
    'tower_activation': ctr_base.activation_check,
    'tower_batch_norm': checks.boolean,
    'tower_dropout': checks.rate,
    'tower_l2': checks.non_negative_float,
}

resolve_hparams = ctr_base.resolve_hparams
model_inputs = ctr_base.model_inputs
choice_check = ctr_base.choice_check
units_check = ctr_base.units_check


def check_objectives(feature_info: features_lib.FeatureInfo,
                     objectives: Sequence[str]) -> None:
  """Raises ValueError if an objective is not one of the task's labels."""
  missing = [label for label in objectives if label not in feature_info.labels]
  if missing:
    raise ValueError(f'Objectives {missing} are not labels of this task; the task labels are '
                     f'{list(feature_info.labels)}.')


def shared_input(feature_info: features_lib.FeatureInfo, hparams: Mapping[str, Any],
                 inputs: Mapping[str, tf.Tensor]) -> tf.Tensor:
  """Returns the concatenated field embeddings [batch, F * d] that all tasks share."""
  fields = ctr_base.field_embedding(feature_info, hparams, use_linear=False)(inputs)
  return keras.layers.Flatten(name='concat_fields')(fields)


def tower_logit(hparams: Mapping[str, Any], inputs: tf.Tensor, name: str) -> tf.Tensor:
  """Returns the logit [batch, 1] of one task tower."""
  hidden = mlp.MLP(
      hparams['tower_hidden_units'],
      activation=hparams['tower_activation'],
      dropout=hparams['tower_dropout'],
      batch_norm=hparams['tower_batch_norm'],
      l2=hparams['tower_l2'],
      name=f'{name}_tower')(inputs)
  return keras.layers.Dense(1, name=f'{name}_logit')(hidden)


def probability(logit: tf.Tensor, name: str) -> tf.Tensor:
  """Returns sigmoid(logit) as a layer named `name` (the tower's Dense has the bias)."""
  return output.SigmoidOutput(use_bias=False, name=name)(logit)


def mtl_model(inputs: Mapping[str, tf.Tensor], probabilities: Mapping[str, tf.Tensor],
              name: str) -> keras.Model:
  """Returns the keras.Model {objective: probability}."""
  return keras.Model(inputs=dict(inputs), outputs=dict(probabilities), name=name)
