"""Pieces shared by the CTR models: default hyper-parameters, their validation, the model
inputs, the embedding and DNN blocks, and the output head.

Every CTR model maps a dict of int64 index tensors (see models.features.FeatureInfo) to
{'click': probability [batch, 1]}.
"""

import functools
from typing import Any, Callable, Dict, Mapping, Optional

import tensorflow as tf
import tf_keras as keras

from models import features as features_lib
from models import losses
from models.layers import activation as activation_lib
from models.layers import checks
from models.layers import embedding
from models.layers import mlp
from models.layers import output

CTR_LABEL = 'click'

# Optimisation defaults of every CTR model, from the Tenrec README commands and paper: Adam,
# lr 5e-5, batch 4096, 20 epochs, seed 100. The reference code sums the loss over each batch
# ('sum'), which the default 'mean' replaces. The reference has no early stopping (patience 0).
TRAINING_DEFAULTS: Mapping[str, Any] = {
    'learning_rate': 5e-5,
    'batch_size': 4096,
    'epochs': 20,
    'loss_reduction': 'mean',
    'early_stopping_patience': 0,
    'seed': 100,
}

# Embedding defaults. The Tenrec paper (Yuan et al., NeurIPS 2022) states lambda = 5e-5, but
# the Tenrec reference code uses 1e-5 on the embedding tables and the linear weights.
EMBEDDING_DEFAULTS: Mapping[str, Any] = {
    'embedding_dim': 32,
    'history_mode': 'pooled',
    'history_pooling': 'mean',
    'embedding_l2': 5e-5,
    'linear_l2': 5e-5,
    'init_std': 1e-4,
}

# Embedding defaults of the behaviour-sequence models (DIN, DIEN): no linear part.
BEHAVIOUR_EMBEDDING_DEFAULTS: Mapping[str, Any] = {
    'embedding_dim': 32,
    'history_mode': 'sequence',
    'embedding_l2': 5e-5,
    'init_std': 1e-4,
}

DNN_DEFAULTS: Mapping[str, Any] = {
    'dnn_hidden_units': (256, 256),
    'dnn_activation': 'relu',
    'dnn_dropout': 0.0,
    'dnn_batch_norm': False,
    'dnn_l2': 0.0,
}

HParamCheck = Callable[[str, Any], Any]


def activation_check(name: str, value: Any) -> str:
  """Accepts 'dice' or a Keras activation name."""
  if not isinstance(value, str):
    raise ValueError(f'{name} must be an activation name, got {value!r}.')
  try:
    activation_lib.get(value)
  except ValueError as error:
    raise ValueError(f'{name}: {error}') from error
  return value


def choice_check(allowed) -> HParamCheck:
  """Returns a check that accepts only the values in `allowed`."""
  return functools.partial(_choice, allowed=tuple(allowed))


def _choice(name: str, value: Any, allowed) -> Any:
  return checks.choice(name, value, allowed)


def units_check(allow_empty: bool = False) -> HParamCheck:
  """Returns a check for a sequence of layer widths (lists are turned into tuples)."""
  return functools.partial(checks.units, allow_empty=allow_empty)


TRAINING_CHECKS: Mapping[str, HParamCheck] = {
    'learning_rate': checks.positive_float,
    'batch_size': checks.positive_int,
    'epochs': checks.positive_int,
    'loss_reduction': choice_check(losses.LOSS_REDUCTIONS),
    'early_stopping_patience': checks.non_negative_int,
    'seed': checks.non_negative_int,
}

EMBEDDING_CHECKS: Mapping[str, HParamCheck] = {
    'embedding_dim': checks.positive_int,
    'history_mode': choice_check(embedding.HISTORY_MODES),
    'history_pooling': choice_check(embedding.HISTORY_POOLINGS),
    'embedding_l2': checks.non_negative_float,
    'linear_l2': checks.non_negative_float,
    'init_std': checks.positive_float,
}

BEHAVIOUR_EMBEDDING_CHECKS: Mapping[str, HParamCheck] = {
    'embedding_dim': checks.positive_int,
    'history_mode': choice_check(embedding.BEHAVIOUR_MODES),
    'embedding_l2': checks.non_negative_float,
    'init_std': checks.positive_float,
}

DNN_CHECKS: Mapping[str, HParamCheck] = {
    'dnn_hidden_units': units_check(),
    'dnn_activation': activation_check,
    'dnn_dropout': checks.rate,
    'dnn_batch_norm': checks.boolean,
    'dnn_l2': checks.non_negative_float,
}

def resolve_hparams(model_name: str,
                    defaults: Mapping[str, Any],
                    hparam_checks: Mapping[str, HParamCheck],
                    hparams: Optional[Mapping[str, Any]]) -> Dict[str, Any]:
  """Returns `defaults` updated with `hparams`, every value validated.

  Raises:
    ValueError: `hparams` names an unknown hyper-parameter, or a value is invalid (the
      message names the hyper-parameter and the value).
  """
  missing_checks = sorted(set(defaults) - set(hparam_checks))
  if missing_checks:
    raise ValueError(f'Model {model_name!r} has no validation for {missing_checks}.')

  resolved = dict(defaults)
  for key, value in (hparams or {}).items():
    if key not in defaults:
      raise ValueError(
          f'Unknown hyper-parameter {key!r} for model {model_name!r}; known: '
          f'{", ".join(sorted(defaults))}.')
    resolved[key] = value

  for key in defaults:
    resolved[key] = hparam_checks[key](key, resolved[key])
  return resolved


def model_inputs(feature_info: features_lib.FeatureInfo) -> Dict[str, tf.Tensor]:
  """Returns one int64 keras.Input per feature: shape [batch] or [batch, length]."""
  return {
      f.name: keras.Input(shape=(f.length,) if f.is_sequence else (), dtype=tf.int64,
                          name=f.name)
      for f in feature_info.features
  }


def check_label(feature_info: features_lib.FeatureInfo, label: str = CTR_LABEL) -> None:
  """Raises ValueError unless `label` is one of the task's labels."""
  if label not in feature_info.labels:
    raise ValueError(f'CTR models predict {label!r}, but the task labels are '
                     f'{list(feature_info.labels)}.')


def field_embedding(feature_info: features_lib.FeatureInfo,
                    hparams: Mapping[str, Any],
                    use_linear: bool = True) -> embedding.FieldEmbedding:
  """Returns the FieldEmbedding configured by the embedding hyper-parameters."""
  return embedding.FieldEmbedding(
      feature_info,
      embedding_dim=hparams['embedding_dim'],
      history_mode=hparams['history_mode'],
      history_pooling=hparams['history_pooling'],
      use_linear=use_linear,
      embedding_l2=hparams['embedding_l2'],
      linear_l2=hparams.get('linear_l2', 0.0),
      init_std=hparams['init_std'],
      name='field_embedding')


def behaviour_embedding(feature_info: features_lib.FeatureInfo,
                        hparams: Mapping[str, Any]) -> embedding.BehaviourEmbedding:
  """Returns the BehaviourEmbedding configured by the embedding hyper-parameters."""
  return embedding.BehaviourEmbedding(
      feature_info,
      embedding_dim=hparams['embedding_dim'],
      behaviour_mode=hparams['history_mode'],
      embedding_l2=hparams['embedding_l2'],
      init_std=hparams['init_std'],
      name='behaviour_embedding')


def dnn(hparams: Mapping[str, Any], name: str = 'dnn') -> mlp.MLP:
  """Returns the DNN tower configured by the dnn_* hyper-parameters."""
  return mlp.MLP(
      hparams['dnn_hidden_units'],
      activation=hparams['dnn_activation'],
      dropout=hparams['dnn_dropout'],
      batch_norm=hparams['dnn_batch_norm'],
      l2=hparams['dnn_l2'],
      name=name)


def dnn_logit(hparams: Mapping[str, Any], inputs: tf.Tensor, name: str = 'dnn') -> tf.Tensor:
  """Returns the bias-free Linear(DNN(inputs)) logit [batch, 1]."""
  hidden = dnn(hparams, name=name)(inputs)
  return keras.layers.Dense(1, use_bias=False, name=f'{name}_logit')(hidden)


def ctr_model(inputs: Mapping[str, tf.Tensor], logits, name: str) -> keras.Model:
  """Returns the keras.Model {'click': sigmoid(sum(logits) + b)}."""
  if isinstance(logits, (list, tuple)):
    logit = keras.layers.Add(name='logit')(list(logits)) if len(logits) > 1 else logits[0]
  else:
    logit = logits
  probability = output.SigmoidOutput(name=CTR_LABEL)(logit)
  return keras.Model(inputs=dict(inputs), outputs={CTR_LABEL: probability}, name=name)
