"""Tests for models.losses."""

import numpy as np
import pytest
import tensorflow as tf

from models import losses
from models import testing
from models.ctr import deepfm

Y_TRUE = np.array([[1.0], [0.0], [1.0], [0.0]], np.float32)
Y_PRED = np.array([[0.9], [0.2], [0.4], [0.5]], np.float32)
PER_EXAMPLE = -(Y_TRUE * np.log(Y_PRED) + (1 - Y_TRUE) * np.log(1 - Y_PRED))


def test_bce_mean_reduction():
  value = float(losses.binary_crossentropy('mean')(Y_TRUE, Y_PRED))
  np.testing.assert_allclose(value, PER_EXAMPLE.mean(), rtol=1e-6)


def test_bce_sum_reduction():
  value = float(losses.binary_crossentropy('sum')(Y_TRUE, Y_PRED))
  np.testing.assert_allclose(value, PER_EXAMPLE.sum(), rtol=1e-6)


def test_bce_rejects_unknown_reduction():
  with pytest.raises(ValueError, match="'median'"):
    losses.binary_crossentropy('median')


def test_model_losses_one_per_output():
  assert sorted(losses.model_losses(['click', 'like'])) == ['click', 'like']


def test_evaluation_metrics_use_tfma_threshold_count():
  auc, logloss = losses.evaluation_metrics()
  assert auc.num_thresholds == 10000
  assert (auc.name, logloss.name) == ('auc', 'logloss')


def _tiny_deepfm(**overrides):
  info = testing.tiny_feature_info('ctr')
  hparams = deepfm.SPEC.resolve_hparams({**testing.tiny_hparams(deepfm.DEFAULT_HPARAMS),
                                         **overrides})
  return info, deepfm.build(info, hparams), hparams


@pytest.mark.parametrize('reduction', losses.LOSS_REDUCTIONS)
def test_compile_loss_is_reduced_bce_plus_regularisation(reduction):
  info, model, hparams = _tiny_deepfm(loss_reduction=reduction)
  losses.compile_model(model, hparams)
  features = testing.random_inputs(info, batch_size=16, seed=3)
  labels = testing.random_labels(info.labels, batch_size=16, seed=4)

  reported = model.evaluate(features, labels, batch_size=16, verbose=0, return_dict=True)

  predictions = model(features, training=False)['click'].numpy()
  per_example = -(labels['click'] * np.log(predictions) +
                  (1 - labels['click']) * np.log(1 - predictions))
  bce = per_example.sum() if reduction == 'sum' else per_example.mean()
  regularisation = float(tf.add_n(model.losses))
  np.testing.assert_allclose(reported['loss'], bce + regularisation, rtol=1e-5)


def test_compile_uses_learning_rate():
  _, model, hparams = _tiny_deepfm(learning_rate=0.003)
  losses.compile_model(model, hparams)
  np.testing.assert_allclose(float(model.optimizer.learning_rate), 0.003, rtol=1e-6)
