"""Keras AUC and log loss, with TFMA's settings, agree with scikit-learn.

Tolerances: the AUC with TFMA's 10000 evenly spaced thresholds differs from the exact
roc_auc_score by the rank errors of predictions that share a threshold bucket. On these 2000
continuous predictions it stays below 1e-4 (measured around 3e-6). With one threshold per
distinct prediction the trapezoidal ROC area is exact, so the two agree to float32 rounding
(1e-6). The mean BCE agrees with log_loss to 1e-5 (float32 accumulation); predictions stay
inside [1e-3, 1 - 1e-3], away from either library's clipping.
"""

import numpy as np
import pytest
from sklearn import metrics as sk_metrics
import tf_keras as keras

from models import losses
from models import testing
from models.ctr import deepfm

NUM_EXAMPLES = 2000


def _predictions(seed):
  rng = np.random.default_rng(seed)
  labels = rng.integers(0, 2, size=NUM_EXAMPLES)
  logits = rng.normal(size=NUM_EXAMPLES) + 1.5 * (labels - 0.5)
  probabilities = np.clip(1.0 / (1.0 + np.exp(-logits)), 1e-3, 1 - 1e-3)
  return labels, probabilities.astype(np.float32)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_auc_tfma_thresholds_matches_sklearn(seed):
  labels, probabilities = _predictions(seed)
  auc, _ = losses.evaluation_metrics()
  auc.update_state(labels, probabilities)
  assert abs(float(auc.result()) - sk_metrics.roc_auc_score(labels, probabilities)) < 1e-4


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_auc_exact_thresholds_matches_sklearn(seed):
  labels, probabilities = _predictions(seed)
  thresholds = np.unique(probabilities).astype(float).tolist()
  auc = keras.metrics.AUC(thresholds=thresholds)
  auc.update_state(labels, probabilities)
  assert abs(float(auc.result()) - sk_metrics.roc_auc_score(labels, probabilities)) < 1e-6


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_logloss_matches_sklearn(seed):
  labels, probabilities = _predictions(seed)
  _, logloss = losses.evaluation_metrics()
  logloss.update_state(labels[:, None].astype(np.float32), probabilities[:, None])
  assert abs(float(logloss.result()) - sk_metrics.log_loss(labels, probabilities)) < 1e-5


def test_auc_thresholds_equal_tfma_defaults():
  binary_confusion_matrices = pytest.importorskip(
      'tensorflow_model_analysis.metrics.binary_confusion_matrices')
  assert losses.TFMA_AUC_THRESHOLDS == binary_confusion_matrices.DEFAULT_NUM_THRESHOLDS
  auc, _ = losses.evaluation_metrics()
  # pylint: disable-next=protected-access
  tfma_thresholds = binary_confusion_matrices._interpolated_thresholds(
      losses.TFMA_AUC_THRESHOLDS)
  np.testing.assert_allclose(auc.thresholds, tfma_thresholds, atol=1e-7)
  assert auc.summation_method.value == 'interpolation'


def test_model_evaluate_matches_sklearn():
  # A large learning rate spreads the predictions over (0, 1). Predictions packed inside one
  # 1e-4-wide threshold bucket, as an untrained model's are near 0.5, would make the
  # thresholded AUC diverge from the exact one.
  info = testing.tiny_feature_info('ctr')
  model = deepfm.build(info, testing.tiny_hparams(deepfm.DEFAULT_HPARAMS))
  losses.compile_model(model, deepfm.SPEC.resolve_hparams({'learning_rate': 0.05}))
  features = testing.random_inputs(info, batch_size=512, seed=5)
  labels = testing.random_labels(info.labels, batch_size=512, seed=6)
  model.fit(features, labels, batch_size=128, epochs=3, verbose=0)

  reported = model.evaluate(features, labels, batch_size=128, verbose=0, return_dict=True)
  predictions = model.predict(features, batch_size=128, verbose=0)['click'][:, 0]
  truth = labels['click'][:, 0]
  assert abs(reported['auc'] - sk_metrics.roc_auc_score(truth, predictions)) < 1e-3
  assert abs(reported['logloss'] - sk_metrics.log_loss(truth, predictions)) < 1e-5
