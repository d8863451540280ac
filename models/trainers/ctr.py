"""TFX Trainer `run_fn` for the CTR and multi-task models.

The Trainer passes `custom_config`:

  {'task': 'ctr' or 'mtl', 'model': registered model name, 'hparams': overrides,
   'labels': objectives (CTR: ['click']), 'seed': int, 'code_version': str}

Training follows the model's hyper-parameters (`learning_rate`, `batch_size`, `epochs`,
`loss_reduction`), selects the epoch with the best validation metric (CTR: AUC of the click
output; multi-task: the lowest total validation loss, as the reference did), restores its
weights and exports a SavedModel with `serving_default` (serialized tf.Example) and
`serving_raw` (raw tensors) signatures that include the Transform graph.
"""

import os
import time
from typing import Any, Dict, Mapping

from absl import logging
import tensorflow as tf
import tensorflow_transform as tft
import tf_keras as keras

from models import losses
from models import registry
from models.preprocessing import ctr as ctr_preprocessing
from models.trainers import common
from serving import export

DEFAULT_SEED = 100


def run_fn(fn_args) -> None:
  """Trains, selects and exports a CTR or multi-task model (TFX Trainer entry point)."""
  config = dict(fn_args.custom_config or {})
  task = config.get('task', 'ctr')
  spec = registry.get_model(task, config['model'])
  hparams = spec.resolve_hparams(config.get('hparams'))
  labels = list(config.get('labels') or hparams.get('objectives') or ['click'])
  seed = int(config.get('seed', hparams.get('seed', DEFAULT_SEED)))
  if 'seed' in hparams:
    hparams['seed'] = seed
  keras.utils.set_random_seed(seed)

  tf_transform_output = tft.TFTransformOutput(fn_args.transform_output)
  feature_info = ctr_preprocessing.feature_info(tf_transform_output, labels)
  feature_spec = tf_transform_output.transformed_feature_spec()
  raw_labels = [k for k in ctr_preprocessing.LABELS if k in feature_spec]
  model_feature_spec = {k: v for k, v in feature_spec.items() if k not in raw_labels}
  model_feature_spec.update({label: feature_spec[label] for label in labels})

  train_files = common.expand_file_patterns(fn_args.train_files)
  eval_files = common.expand_file_patterns(fn_args.eval_files)
  train_examples = common.count_records(train_files)
  batch_size = int(hparams['batch_size'])
  # 'auto' keeps the parsed training examples in memory when they fit in the budget, because
  # the streaming reader costs more CPU per example than a small CTR model's training step.
  cache_train = common.resolve_cache(config.get('cache_examples', 'auto'), train_examples,
                                     model_feature_spec)
  train_dataset = common.make_example_dataset(
      train_files, model_feature_spec, labels, batch_size, shuffle=True, seed=seed,
      cache=cache_train)
  eval_dataset = common.make_example_dataset(
      eval_files, model_feature_spec, labels, batch_size, shuffle=False, seed=seed,
      cache=True)
  logging.info('Training %s on %d examples (%d files, %s), batch %d, %d epochs.', spec.name,
               train_examples, len(train_files), 'in memory' if cache_train else 'streamed',
               batch_size, hparams['epochs'])

  model = spec.build(feature_info, hparams)
  losses.compile_model(model, hparams)

  patience = int(hparams.get('early_stopping_patience', 0))
  if task == 'mtl':
    best = common.BestEpochCallback(monitor='val_loss', mode='min', patience=patience)
  else:
    best = common.BestEpochCallback(
        monitor=f'val_{labels[0]}_auc' if len(labels) > 1 else 'val_auc', mode='max',
        patience=patience)
  callbacks = [
      best,
      keras.callbacks.TensorBoard(log_dir=fn_args.model_run_dir, update_freq='epoch',
                                  profile_batch=0),
  ]
  started = time.perf_counter()
  history = model.fit(train_dataset.repeat(),
                      steps_per_epoch=common.steps_per_epoch(train_examples, batch_size),
                      validation_data=eval_dataset, epochs=int(hparams['epochs']),
                      callbacks=callbacks, verbose=2)
  training_seconds = time.perf_counter() - started

  export.export_transform_model(model, tf_transform_output, raw_labels, labels,
                                fn_args.serving_model_dir)

  epoch_seconds = best.train_seconds
  throughput = [train_examples / s for s in epoch_seconds if s > 0]
  summary: Dict[str, Any] = {
      'task': task,
      'model': spec.name,
      'display_name': spec.display_name,
      'hparams': hparams,
      'labels': labels,
      'seed': seed,
      'train_examples': train_examples,
      'train_input': 'in_memory' if cache_train else 'streamed',
      'parameters': int(model.count_params()),
      'history': {k: [float(v) for v in values] for k, values in history.history.items()},
      'selection_metric': best.monitor,
      'best_epoch': best.best_epoch,
      'best_value': best.best_value,
      'epochs_run': len(epoch_seconds),
      'stopped_early': best.stopped_early,
      'train_seconds_per_epoch': epoch_seconds,
      # The first epoch includes graph tracing; the steady-state figure excludes it.
      'train_examples_per_second': (sum(throughput[1:]) / len(throughput[1:]) if
                                    len(throughput) > 1 else (throughput[0] if throughput else 0)),
      'training_seconds': training_seconds,
      'feature_info': {f.name: {'vocab_size': f.vocab_size, 'length': f.length,
                                'vocabulary': f.vocabulary_name} for f in feature_info.features},
  }
  common.write_json(os.path.join(fn_args.model_run_dir, common.TRAINING_SUMMARY_FILE), summary)
  common.write_json(os.path.join(fn_args.serving_model_dir, 'assets.extra',
                                 common.TRAINING_SUMMARY_FILE), summary)
  logging.info('Best epoch %s of %s with %s = %s.', best.best_epoch, len(epoch_seconds),
               best.monitor, best.best_value)
