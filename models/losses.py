"""Training objectives and evaluation metrics shared by the CTR and multi-task models.

Every CTR and multi-task model outputs probabilities, so the loss is binary cross-entropy on
probabilities, reduced per batch by its mean (default) or, as in the Tenrec reference code,
by its sum. Regularisation terms (model.losses) are added to it unscaled in both cases, so
with 'sum' they weigh about batch_size times less than with 'mean'.

Example:

  from models import losses
  losses.compile_model(model, {'learning_rate': 5e-5, 'loss_reduction': 'mean'})
  model.fit(features, {'click': labels}, batch_size=4096)
"""

from typing import Any, Dict, List, Mapping, Optional, Sequence

import tf_keras as keras

LOSS_REDUCTIONS = ('mean', 'sum')

# TFMA's AUC defaults: 10000 thresholds, interpolated (trapezoidal) summation on the ROC curve.
TFMA_AUC_THRESHOLDS = 10000

_KERAS_REDUCTIONS = {
    'mean': keras.losses.Reduction.SUM_OVER_BATCH_SIZE,
    'sum': keras.losses.Reduction.SUM,
}


def binary_crossentropy(reduction: str = 'mean', name: str = 'binary_crossentropy'
                        ) -> keras.losses.Loss:
  """Returns BCE on probabilities, -[y log p + (1 - y) log(1 - p)], reduced per batch.

  Args:
    reduction: 'mean' (divide the batch sum by the batch size) or 'sum' (the Tenrec
      reference: the batch sum).
    name: Loss name.

  Raises:
    ValueError: Unknown reduction.
  """
  if reduction not in _KERAS_REDUCTIONS:
    raise ValueError(f"loss_reduction must be 'mean' or 'sum', got {reduction!r}.")
  return keras.losses.BinaryCrossentropy(
      from_logits=False, reduction=_KERAS_REDUCTIONS[reduction], name=name)


def model_losses(output_names: Sequence[str], reduction: str = 'mean'
                 ) -> Dict[str, keras.losses.Loss]:
  """Returns one BCE loss per model output; Keras adds them with equal weights."""
  return {name: binary_crossentropy(reduction, name=f'{name}_bce') for name in output_names}


def evaluation_metrics(num_thresholds: int = TFMA_AUC_THRESHOLDS,
                       prefix: str = '') -> List[keras.metrics.Metric]:
  """Returns [ROC AUC, log loss] metrics for one probability output.

  The AUC uses `num_thresholds` evenly spaced thresholds and trapezoidal summation, the
  settings of TFMA's AUC; it approaches scikit-learn's exact roc_auc_score as the number of
  thresholds grows. The log loss is the mean BCE (Keras clips p to [1e-7, 1 - 1e-7]).
  """
  return [
      keras.metrics.AUC(num_thresholds=num_thresholds, curve='ROC',
                        summation_method='interpolation', name=f'{prefix}auc'),
      keras.metrics.BinaryCrossentropy(name=f'{prefix}logloss'),
  ]


def compile_model(model: keras.Model,
                  hparams: Mapping[str, Any],
                  optimizer: Optional[keras.optimizers.Optimizer] = None,
                  num_thresholds: int = TFMA_AUC_THRESHOLDS,
                  **compile_kwargs) -> keras.Model:
  """Compiles `model` with Adam(hparams['learning_rate']), BCE per output and metrics.

  Args:
    model: A CTR or multi-task model (dict of probability outputs).
    hparams: Resolved hyper-parameters; uses 'learning_rate' and 'loss_reduction'.
    optimizer: Overrides the Adam optimizer.
    num_thresholds: Thresholds of the AUC metrics.
    **compile_kwargs: Passed to model.compile (for example jit_compile, steps_per_execution).

  Returns:
    The compiled model.
  """
  if optimizer is None:
    optimizer = keras.optimizers.Adam(learning_rate=hparams['learning_rate'])
  output_names = list(model.output_names)
  model.compile(
      optimizer=optimizer,
      loss=model_losses(output_names, hparams.get('loss_reduction', 'mean')),
      metrics={name: evaluation_metrics(num_thresholds) for name in output_names},
      **compile_kwargs)
  return model
