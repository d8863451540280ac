"""Training and evaluation of the sequential (SBR) recommenders.

Reads the SBR TFRecord splits written by the dataset builder (one tf.Example per user and
split: `user_id`, `item_ids` and, in eval and test, `target_item`), trains a registered
`sbr` model with Keras, selects the epoch by a validation ranking metric, evaluates the test
split with the selected weights and writes:

  <output_dir>/metrics.json            protocol, per-epoch history, selection, test metrics
  <output_dir>/model_config.json       model name, class and constructor arguments
  <output_dir>/checkpoints/best*       weights of the selected epoch (tf_keras checkpoint)
  <output_dir>/ranks_test.npz          per-user test ranks (for paired significance tests)
  <output_dir>/negatives_{eval,test}.npz   sampled negatives (sampled mode only)
  <log_dir>/{train,validation,test}/   TensorBoard event files
  <serving_model_dir>/                 SavedModel with `serving_default` and `top_k`

Evaluation protocol (defaults): full ranking of every item 1..V (padding excluded),
pessimistic ties, HR@k and NDCG@k averaged over users, no masking of already-seen items,
validation input = training items, test input = training items + validation item, read-out at
the last real item (causal models) or at an appended [MASK] slot (BERT4Rec).

Use `train_and_evaluate` directly, `run_fn` from a TFX Trainer module file, or the command line:

  python -m models.trainers.sbr --examples build/sbr --model sasrec --output-dir runs/sasrec
"""

import argparse
import dataclasses
import io
import json
import logging
import os
import sys
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import tensorflow as tf
import tf_keras

from components.tenrec_io.errors import TenrecInputError
from models import registry
from models.metrics import ranking
from models.sequential import base
from models.sequential import export
from models.sequential import inputs
from models.trainers import sbr_data
from models.trainers import sbr_evaluation

METRICS_FILE = 'metrics.json'
MODEL_CONFIG_FILE = 'model_config.json'
PROTOCOL_VERSION = 'sbr-full-ranking-v1'


# ----- configuration -----


@dataclasses.dataclass
class SBRTrainingConfig:
  """Options of one SBR training run.

  Attributes:
    model: Registered sbr model name (gru4rec, nextitnet, sasrec, bert4rec).
    output_dir: Folder for metrics, checkpoints, ranks and (by default) logs and the export.
    hparams: Overrides of the model's default hyper-parameters (architecture, max_len,
      learning_rate, batch_size, epochs, weight_decay).
    seed: Seed of weight initialisation, dropout, shuffling, masking and user sampling.
    train_windows: 'all' (default): windows tiling each whole training sequence, every
      transition once per epoch; 'last': one window per user, the most recent max_len items
      (the Tenrec reference behaviour).
    readout: Evaluation read-out, one of inputs.READOUTS ('last' by default; the two
      'reference_*' values reproduce the Tenrec reference code's read-outs).
    ks: Cut-offs of HR@k and NDCG@k.
    selection_metric: Validation metric that selects the epoch, e.g. 'NDCG@10' or
      'NDCG@10 (sampled 100)'. Its k is added to `ks` when missing. Ties keep the earlier
      epoch.
    mask_seen_items: Exclude each user's history items (other than the target) from the
      candidates. Off by default: repeated consumption is part of the data.
    num_negatives: When set, also rank each target against this many sampled negatives and
      report metrics named '... (sampled N)'.
    negative_strategy: 'uniform' or 'popularity' (training-split frequency).
    negatives_dir: Folder with negatives_eval.npz and negatives_test.npz. Existing files are
      reused, so every model ranks against the same candidates. Missing files are drawn and
      written.
      Defaults to output_dir.
    negative_seed: Seed of the negative sampler; defaults to `seed`.
    validation_users: None for every eval user; an int for that many users; a float in
      (0, 1] for that fraction.
    validation_user_selection: 'random' (seeded) or 'lowest_ids' (the users with the
      smallest ids, as the Tenrec reference selected 1% of users).
    eval_batch_size: Users per evaluation batch; None sizes batches so that one score matrix
      has at most sbr_evaluation.EVAL_SCORE_ELEMENTS values.
    early_stopping_patience: Stop after this many epochs without improvement; None trains
      every epoch.
    check_splits: Verify the leave-last-out contract between splits when loading.
    log_dir: TensorBoard folder; defaults to <output_dir>/logs.
    serving_model_dir: SavedModel folder; defaults to <output_dir>/saved_model.
    export_model: Whether to write the SavedModel.
  """

  model: str
  output_dir: str
  hparams: Mapping[str, Any] = dataclasses.field(default_factory=dict)
  seed: int = 0
  train_windows: str = 'all'
  readout: str = 'last'
  ks: Sequence[int] = ranking.DEFAULT_KS
  selection_metric: str = 'NDCG@10'
  mask_seen_items: bool = False
  num_negatives: Optional[int] = None
  negative_strategy: str = 'uniform'
  negatives_dir: Optional[str] = None
  negative_seed: Optional[int] = None
  validation_users: Optional[Union[int, float]] = None
  validation_user_selection: str = 'random'
  eval_batch_size: Optional[int] = None
  early_stopping_patience: Optional[int] = None
  check_splits: bool = True
  log_dir: Optional[str] = None
  serving_model_dir: Optional[str] = None
  export_model: bool = True

  def validate(self) -> None:
    """Raises ValueError naming the first invalid option."""
    if self.train_windows not in inputs.TRAIN_WINDOWS:
      raise ValueError(f'train_windows must be one of {", ".join(inputs.TRAIN_WINDOWS)}; '
                       f'got {self.train_windows!r}.')

    inputs.readout_pooling(self.readout)
    ranking.check_ks(self.ks)
    _, _, negatives = ranking.parse_metric_name(self.selection_metric)

    if negatives is not None and negatives != self.num_negatives:
      raise ValueError(f'selection_metric {self.selection_metric!r} needs num_negatives='
                       f'{negatives}, got {self.num_negatives!r}.')

    if self.num_negatives is not None and (isinstance(self.num_negatives, bool) or
                                           int(self.num_negatives) < 1):
      raise ValueError(f'num_negatives must be a positive integer, got '
                       f'{self.num_negatives!r}.')

    if self.negative_strategy not in ('uniform', 'popularity'):
      raise ValueError(f'negative_strategy must be uniform or popularity, got '
                       f'{self.negative_strategy!r}.')

    if self.validation_user_selection not in ('random', 'lowest_ids'):
      raise ValueError('validation_user_selection must be random or lowest_ids, got '
                       f'{self.validation_user_selection!r}.')

    if self.validation_users is not None:
      value = self.validation_users
      if isinstance(value, bool) or not (
          (isinstance(value, int) and value >= 1) or
          (isinstance(value, float) and 0 < value <= 1)):
        raise ValueError('validation_users must be None, an integer >= 1 or a fraction in '
                         f'(0, 1]; got {value!r}.')

    if self.eval_batch_size is not None and int(self.eval_batch_size) < 1:
      raise ValueError(f'eval_batch_size must be >= 1, got {self.eval_batch_size!r}.')

    if self.early_stopping_patience is not None and int(self.early_stopping_patience) < 1:
      raise ValueError('early_stopping_patience must be >= 1 or None, got '
                       f'{self.early_stopping_patience!r}.')

  @property
  def all_ks(self) -> Tuple[int, ...]:
    _, k, _ = ranking.parse_metric_name(self.selection_metric)
    return ranking.check_ks(tuple(self.ks) + (k,))


# ----- samples -----


def training_samples(
    model: base.SequentialRecommender, train: sbr_data.SequenceSplit,
    scheme: str) -> Union[Tuple[np.ndarray, np.ndarray], np.ndarray]:
  """Builds the fixed part of the training samples.

  Returns (inputs, labels) for causal models, or the unmasked windows for masked-item models
  (masked anew each epoch by `epoch_samples`).
  """
  if model.mask_token is None:
    return inputs.next_item_windows(train.values, train.row_splits, model.max_len, scheme)
  return inputs.masked_item_windows(train.values, train.row_splits, model.max_len, scheme)


def epoch_samples(model: base.SequentialRecommender,
                  samples,
                  epoch: int,
                  seed: int) -> Tuple[np.ndarray, np.ndarray]:
  """Returns this epoch's shuffled (inputs, labels); masks are redrawn per epoch."""
  rng = np.random.default_rng([seed, sbr_evaluation.EPOCH_STREAM, epoch])
  if model.mask_token is None:
    model_inputs, labels = samples
  else:
    model_inputs, labels = inputs.mask_items(samples, rng, model.mask_prob, model.mask_token,
                                             model.num_items)
  order = rng.permutation(len(model_inputs))
  return model_inputs[order].astype(np.int32), labels[order].astype(np.int32)


# ----- training -----


def _write_scalars(writer, metrics: Mapping[str, float], step: int) -> None:
  with writer.as_default():
    for name, value in metrics.items():
      tf.summary.scalar(name.replace(' ', '_').replace('(', '').replace(')', ''), value,
                        step=step)
  writer.flush()


def _write_json(path: str, payload: Mapping[str, Any]) -> None:
  tf.io.gfile.makedirs(os.path.dirname(path) or '.')
  with tf.io.gfile.GFile(path, 'w') as handle:
    handle.write(json.dumps(payload, indent=2, sort_keys=True, default=_json_default))


def _json_default(value):
  if isinstance(value, np.integer):
    return int(value)
  if isinstance(value, np.floating):
    return float(value)
  if isinstance(value, (np.ndarray, tuple)):
    return list(value)
  raise TypeError(f'Object of type {type(value).__name__} is not JSON serializable.')


def _negatives(config: SBRTrainingConfig, dataset: sbr_data.SBRDataset,
               split: sbr_data.SequenceSplit, evaluated: sbr_data.SequenceSplit,
               item_counts: np.ndarray) -> Optional[np.ndarray]:
  """Returns the sampled negatives of `evaluated`, or None without sampled evaluation."""
  if config.num_negatives is None:
    return None
  seed = config.seed if config.negative_seed is None else config.negative_seed
  # Validation and test negatives come from different streams of the same seed.
  seed_offset = sbr_data.SPLITS.index(split.name)
  return sbr_evaluation.load_or_draw_negatives(
      split, evaluated, dataset.num_items, config.num_negatives,
      config.negatives_dir or config.output_dir, seed + seed_offset,
      config.negative_strategy, item_counts)


def build_model(model_name: str, num_items: int,
                hparam_overrides: Optional[Mapping[str, Any]] = None):
  """Builds a registered sbr model; returns (model, resolved hparams, spec)."""
  spec = registry.get_model('sbr', model_name)
  hparams = spec.resolve_hparams(hparam_overrides)
  model = spec.build(base.sbr_feature_info(num_items, hparams['max_len']), hparams)
  return model, hparams, spec


def compile_model(model: base.SequentialRecommender, hparams: Mapping[str, Any]) -> None:
  """Compiles with Adam (decoupled weight decay when weight_decay > 0)."""
  weight_decay = float(hparams['weight_decay'])
  optimizer = tf_keras.optimizers.Adam(learning_rate=float(hparams['learning_rate']),
                                       weight_decay=weight_decay or None)
  model.compile(optimizer=optimizer)


@dataclasses.dataclass
class _Selection:
  """Best validation epoch so far, with its weights."""

  value: Optional[float] = None
  epoch: Optional[int] = None
  weights: Optional[List[np.ndarray]] = None
  epochs_without_improvement: int = 0


def _fit_epochs(model: base.SequentialRecommender,
                hparams: Mapping[str, Any],
                samples,
                validation: sbr_evaluation.RankingEvaluator,
                config: SBRTrainingConfig,
                log_dir: str,
                checkpoint_path: str) -> Tuple[List[Dict[str, Any]], _Selection]:
  """Trains epoch by epoch, validates after each one and keeps the best epoch's weights.

  The best weights are also saved to `checkpoint_path` whenever they improve. Returns the
  per-epoch history and the selection.
  """
  tensorboard = tf_keras.callbacks.TensorBoard(log_dir=log_dir, update_freq='epoch',
                                               write_graph=False, profile_batch=0)
  validation_writer = tf.summary.create_file_writer(os.path.join(log_dir, 'validation'))
  history: List[Dict[str, Any]] = []
  selection = _Selection()

  for epoch in range(int(hparams['epochs'])):
    model_inputs, labels = epoch_samples(model, samples, epoch, config.seed)
    train_data = tf.data.Dataset.from_tensor_slices((model_inputs, labels)).batch(
        int(hparams['batch_size'])).prefetch(tf.data.AUTOTUNE)

    started = time.perf_counter()
    fit_history = model.fit(train_data, epochs=epoch + 1, initial_epoch=epoch, verbose=0,
                            callbacks=[tensorboard])
    train_seconds = time.perf_counter() - started

    started = time.perf_counter()
    validation_metrics, _ = validation.evaluate()
    validation_seconds = time.perf_counter() - started
    _write_scalars(validation_writer, validation_metrics, epoch)

    loss = float(fit_history.history['loss'][-1])
    history.append({'epoch': epoch + 1, 'loss': loss, 'validation': validation_metrics,
                    'train_seconds': train_seconds, 'validation_seconds': validation_seconds})
    value = validation_metrics[config.selection_metric]
    logging.info('Epoch %d: loss %.4f, validation %s %.5f (train %.1f s, validation %.1f s).',
                 epoch + 1, loss, config.selection_metric, value, train_seconds,
                 validation_seconds)

    if selection.value is None or value > selection.value:
      selection = _Selection(value=value, epoch=epoch + 1, weights=model.get_weights())
      model.save_weights(checkpoint_path)
      continue
    selection.epochs_without_improvement += 1
    if (config.early_stopping_patience is not None and
        selection.epochs_without_improvement >= config.early_stopping_patience):
      logging.info('Stopping early: no validation improvement for %d epochs.',
                   selection.epochs_without_improvement)
      break

  return history, selection


def _protocol(config: SBRTrainingConfig, hparams: Mapping[str, Any],
              ks: Sequence[int]) -> Dict[str, Any]:
  """Describes the evaluation protocol for metrics.json, so that runs are never compared
  across protocols silently."""
  if config.readout == 'reference_paper_era':
    test_input = 'training items without their last item, then a padding slot'
  else:
    test_input = 'training items + validation item (s_1..s_{n-1})'
  sampled = None
  if config.num_negatives is not None:
    sampled = {
        'count': config.num_negatives,
        'strategy': config.negative_strategy,
        'excludes_history': True,
        'seed': config.seed if config.negative_seed is None else config.negative_seed,
        'directory': config.negatives_dir or config.output_dir,
    }
  return {
      'version': PROTOCOL_VERSION,
      'candidates': 'all items 1..V (padding index 0 excluded)',
      'ties': 'pessimistic: rank = 1 + #higher + #other items with an equal score',
      'aggregation': 'mean over users',
      'readout': config.readout,
      'mask_seen_items': config.mask_seen_items,
      'validation_input': 'training items (s_1..s_{n-2})',
      'test_input': test_input,
      'validation_user_selection': (None if config.validation_users is None else
                                    config.validation_user_selection),
      'train_windows': config.train_windows,
      'max_len': hparams['max_len'],
      'ks': list(ks),
      'sampled_negatives': sampled,
  }


def train_and_evaluate(dataset: sbr_data.SBRDataset,
                       config: SBRTrainingConfig) -> Dict[str, Any]:
  """Trains, selects the epoch on validation, evaluates the test split and writes outputs.

  Returns:
    The content written to metrics.json.
  """
  config.validate()
  tf.io.gfile.makedirs(config.output_dir)
  log_dir = config.log_dir or os.path.join(config.output_dir, 'logs')
  serving_dir = config.serving_model_dir or os.path.join(config.output_dir, 'saved_model')
  checkpoint_path = os.path.join(config.output_dir, 'checkpoints', 'best')
  tf_keras.utils.set_random_seed(config.seed)

  model, hparams, spec = build_model(config.model, dataset.num_items, config.hparams)
  compile_model(model, hparams)
  _write_json(os.path.join(config.output_dir, MODEL_CONFIG_FILE), {
      'task': 'sbr', 'model': spec.name, 'class': type(model).__name__,
      'config': model.get_config(), 'hparams': dict(hparams)})

  samples = training_samples(model, dataset.train, config.train_windows)
  num_windows = len(samples[0]) if model.mask_token is None else len(samples)
  if num_windows == 0:
    raise ValueError(f'The train split of {dataset.source} yields no training window; '
                     'every user needs at least two training items.')

  item_counts = np.bincount(dataset.train.values, minlength=dataset.num_items + 1)
  eval_batch_size = (config.eval_batch_size or
                     sbr_evaluation.default_eval_batch_size(dataset.num_items))
  validation_rows = sbr_evaluation.select_validation_rows(
      dataset.eval, config.validation_users, config.validation_user_selection, config.seed)
  validation_split = dataset.eval.subset(validation_rows)
  ks = config.all_ks
  validation = sbr_evaluation.RankingEvaluator(
      model, validation_split, config.readout, ks, eval_batch_size, config.mask_seen_items,
      _negatives(config, dataset, dataset.eval, validation_split, item_counts))
  logging.info('Training %s on %d windows from %d users (V = %d); validating on %d users.',
               spec.display_name, num_windows, dataset.train.num_users, dataset.num_items,
               validation_split.num_users)

  history, selection = _fit_epochs(model, hparams, samples, validation, config, log_dir,
                                   checkpoint_path)
  model.set_weights(selection.weights)

  test_metrics, test_seconds = None, None
  if dataset.test is not None:
    started = time.perf_counter()
    test = sbr_evaluation.RankingEvaluator(
        model, dataset.test, config.readout, ks, eval_batch_size, config.mask_seen_items,
        _negatives(config, dataset, dataset.test, dataset.test, item_counts))
    test_metrics, test_ranks = test.evaluate()
    test_seconds = time.perf_counter() - started
    _write_scalars(tf.summary.create_file_writer(os.path.join(log_dir, 'test')),
                   test_metrics, selection.epoch - 1)
    buffer = io.BytesIO()
    np.savez_compressed(buffer, user_ids=dataset.test.user_ids, ranks=test_ranks)
    with tf.io.gfile.GFile(os.path.join(config.output_dir, 'ranks_test.npz'), 'wb') as handle:
      handle.write(buffer.getvalue())
  else:
    logging.warning('No test split; only validation metrics are reported.')

  if config.export_model:
    export.export_saved_model(model, serving_dir, readout=config.readout)

  result = {
      'task': 'sbr',
      'model': spec.name,
      'display_name': spec.display_name,
      'hparams': dict(hparams),
      'seed': config.seed,
      'data': {
          'source': dataset.source,
          'num_items': dataset.num_items,
          'num_users': {'train': dataset.train.num_users, 'eval': dataset.eval.num_users,
                        'test': None if dataset.test is None else dataset.test.num_users},
          'validation_users': validation_split.num_users,
          'training_windows': num_windows,
      },
      'protocol': _protocol(config, hparams, ks),
      'selection': {'metric': config.selection_metric, 'best_epoch': selection.epoch,
                    'best_value': selection.value, 'epochs_run': len(history)},
      'history': history,
      'validation': history[selection.epoch - 1]['validation'],
      'test': test_metrics,
      'timing': {
          'train_seconds_per_epoch': float(np.mean([e['train_seconds'] for e in history])),
          'validation_seconds_per_epoch': float(
              np.mean([e['validation_seconds'] for e in history])),
          'test_seconds': test_seconds,
      },
      'paper_metrics': dict(spec.paper_metrics),
      'artifacts': {
          'checkpoint': checkpoint_path,
          'saved_model': serving_dir if config.export_model else None,
          'tensorboard': log_dir,
      },
  }
  _write_json(os.path.join(config.output_dir, METRICS_FILE), result)
  return result


def load_trained_model(output_dir: str) -> base.SequentialRecommender:
  """Rebuilds the model of a finished run and loads its selected weights."""
  with tf.io.gfile.GFile(os.path.join(output_dir, MODEL_CONFIG_FILE)) as handle:
    saved = json.load(handle)
  spec = registry.get_model('sbr', saved['model'])
  num_items = int(saved['config']['num_items'])
  model = spec.build(base.sbr_feature_info(num_items, saved['hparams']['max_len']),
                     saved['hparams'])
  model.load_weights(os.path.join(output_dir, 'checkpoints', 'best')).expect_partial()
  return model


# ----- TFX and command line -----


def run_fn(fn_args) -> None:
  """TFX Trainer entry point.

  Reads fn_args.train_files and fn_args.eval_files, and from fn_args.custom_config:
  'model' (required), 'hparams', 'test_files', 'item_vocabulary', 'num_items' and any other
  SBRTrainingConfig field. Without 'item_vocabulary' and 'num_items', the vocabulary beside
  the `Split-train` folder of the train files is used. Writes the SavedModel to fn_args.serving_model_dir and the other
  outputs to fn_args.model_run_dir.
  """
  custom = dict(fn_args.custom_config or {})
  if 'model' not in custom:
    raise ValueError("custom_config must name the model, e.g. {'model': 'sasrec'}.")
  custom.pop('code_version', None)  # part of the TFX cache key only
  test_files = custom.pop('test_files', None)
  vocabulary = custom.pop('item_vocabulary', None)
  num_items = custom.pop('num_items', None)
  field_names = {field.name for field in dataclasses.fields(SBRTrainingConfig)}
  unknown = sorted(set(custom) - field_names)
  if unknown:
    raise ValueError(f'Unknown custom_config keys for the SBR trainer: {", ".join(unknown)}.')
  custom.setdefault('output_dir', fn_args.model_run_dir)
  custom.setdefault('serving_model_dir', fn_args.serving_model_dir)
  config = SBRTrainingConfig(**custom)
  if vocabulary is None and num_items is None:
    examples_dir = sbr_data.examples_dir_of(fn_args.train_files)
    candidate = examples_dir and os.path.join(examples_dir, sbr_data.VOCABULARY_FILE)
    if candidate and tf.io.gfile.exists(candidate):
      vocabulary = candidate
  dataset = sbr_data.load_sbr_dataset(
      train_files=fn_args.train_files, eval_files=fn_args.eval_files, test_files=test_files,
      vocabulary_path=vocabulary, num_items=num_items, check_splits=config.check_splits)
  train_and_evaluate(dataset, config)


def _parse_hparam(text: str) -> Tuple[str, Any]:
  if '=' not in text:
    raise argparse.ArgumentTypeError(f'--hparam expects KEY=VALUE, got {text!r}.')
  key, value = text.split('=', 1)
  try:
    return key.strip(), json.loads(value)
  except json.JSONDecodeError:
    return key.strip(), value


def _parse_validation_users(text: str) -> Union[int, float]:
  return float(text) if '.' in text else int(text)


def build_arg_parser() -> argparse.ArgumentParser:
  """Returns the parser of `python -m models.trainers.sbr`."""
  parser = argparse.ArgumentParser(
      prog='python -m models.trainers.sbr',
      description='Train and evaluate a sequential recommender on an SBR dataset.')
  parser.add_argument('--examples', required=True,
                      help='SBR dataset folder (Split-train/, Split-eval/, Split-test/, '
                      f'{sbr_data.VOCABULARY_FILE}).')
  parser.add_argument('--model', required=True,
                      help='Model name: gru4rec, nextitnet, sasrec or bert4rec.')
  parser.add_argument('--output-dir', required=True, help='Folder for every output.')

  parser.add_argument('--hparam', action='append', type=_parse_hparam, default=[],
                      metavar='KEY=VALUE',
                      help='Hyper-parameter override (JSON value), repeatable, e.g. '
                      '--hparam max_len=20 --hparam epochs=5.')
  parser.add_argument('--seed', type=int, default=0, help='Random seed (default: 0).')
  parser.add_argument('--train-windows', choices=inputs.TRAIN_WINDOWS, default='all',
                      help='Training windows per user: all (tile the sequence) or last '
                      '(most recent max_len items only). Default: all.')

  parser.add_argument('--readout', choices=inputs.READOUTS, default='last',
                      help='Evaluation read-out (default: last).')
  parser.add_argument('--ks', type=int, nargs='+', default=list(ranking.DEFAULT_KS),
                      help='Cut-offs of HR@k and NDCG@k (default: 5 10 20).')
  parser.add_argument('--selection-metric', default='NDCG@10',
                      help='Validation metric that selects the epoch (default: NDCG@10).')
  parser.add_argument('--mask-seen-items', action=argparse.BooleanOptionalAction,
                      default=False,
                      help='Exclude history items from the ranked candidates (default: no).')

  parser.add_argument('--num-negatives', type=int, default=None,
                      help='Also report metrics against this many sampled negatives.')
  parser.add_argument('--negative-strategy', choices=('uniform', 'popularity'),
                      default='uniform', help='Negative sampling distribution.')
  parser.add_argument('--negatives-dir', default=None,
                      help='Folder of shared negatives_{eval,test}.npz (default: output dir).')

  parser.add_argument('--validation-users', type=_parse_validation_users, default=None,
                      help='Number (integer) or fraction (with a dot) of eval users used for '
                      'validation (default: all).')
  parser.add_argument('--validation-user-selection', choices=('random', 'lowest_ids'),
                      default='random', help='How validation users are chosen.')

  parser.add_argument('--eval-batch-size', type=int, default=None,
                      help='Users per evaluation batch (default: sized from V).')
  parser.add_argument('--early-stopping-patience', type=int, default=None,
                      help='Epochs without improvement before stopping (default: never).')

  parser.add_argument('--num-items', type=int, default=None,
                      help='Number of items V (default: line count of '
                      f'{sbr_data.VOCABULARY_FILE}).')
  parser.add_argument('--export', action=argparse.BooleanOptionalAction, default=True,
                      help='Write the SavedModel (default: yes).')
  return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Runs the command line; prints the validation and test metrics."""
  args = build_arg_parser().parse_args(argv)
  logging.basicConfig(level=logging.INFO,
                      format='%(asctime)s %(levelname)s %(name)s: %(message)s')
  config = SBRTrainingConfig(
      model=args.model, output_dir=args.output_dir, hparams=dict(args.hparam),
      seed=args.seed, train_windows=args.train_windows, readout=args.readout, ks=args.ks,
      selection_metric=args.selection_metric, mask_seen_items=args.mask_seen_items,
      num_negatives=args.num_negatives, negative_strategy=args.negative_strategy,
      negatives_dir=args.negatives_dir, validation_users=args.validation_users,
      validation_user_selection=args.validation_user_selection,
      eval_batch_size=args.eval_batch_size,
      early_stopping_patience=args.early_stopping_patience, export_model=args.export)
  try:
    dataset = sbr_data.load_sbr_dataset(args.examples, num_items=args.num_items)
    result = train_and_evaluate(dataset, config)
  except TenrecInputError as error:
    logging.error('%s', error)
    return 2
  print(f'{result["display_name"]}: best epoch {result["selection"]["best_epoch"]} by '
        f'validation {config.selection_metric}')
  for split in ('validation', 'test'):
    if result[split]:
      print(f'  {split}: ' + ', '.join(f'{name} {value:.5f}'
                                       for name, value in result[split].items()))
  print(f'Outputs: {args.output_dir}')
  return 0


if __name__ == '__main__':
  sys.exit(main())
