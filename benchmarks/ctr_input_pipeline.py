"""Training throughput of DeepFM: the trainer's TFRecord input pipeline versus in-memory data.

A script, not a test. It trains DeepFM with its registered defaults (the Tenrec paper's
hyper-parameters: batch 4096, Adam with learning rate 5e-5) on the Transform output of a
finished CTR pipeline run, feeding the same training examples in several ways:

  tfrecord_in_memory  `models.trainers.common.make_example_dataset(..., cache=True)` on the
                      gzip TFRecord files: parsed once, kept in memory, reshuffled every epoch.
                      What the CTR trainer uses when the examples fit in its memory budget
                      (`cache_examples='auto'`, the default).
  tfrecord_streamed   The same with `cache=False`: every epoch reads, shuffles (in windows)
                      and parses the files again. What the trainer uses for larger data.
  numpy               `model.fit(x=dict of NumPy arrays, y=labels, batch_size, shuffle=True)`
                      on the same examples parsed into memory (Keras reshuffles every epoch).
  tensor_slices       `tf.data.Dataset.from_tensor_slices(arrays).batch(...).cache()`, never
                      shuffled: the cheapest possible input, an upper bound.

The tf.data modes train on `dataset.repeat()` with `steps_per_epoch` set to one pass, as the
CTR trainer does.

Each mode runs `--epochs` epochs on a freshly built model per repeat. The first epoch includes
graph tracing and is excluded. Every later epoch gives one examples-per-second figure, from
wall-clock time, and one examples-per-CPU-second figure, from the process's CPU time (all
threads). On a machine shared with other jobs the wall-clock figure also measures waiting for a
core, while the CPU figure measures only the work done, so both are reported. Modes are
interleaved within every repeat (in a rotated order), so a change in machine load affects all
of them alike. The report gives, per mode, the median and the spread (min, max, interquartile
range) of the per-epoch figures, the ratio of each mode's median to that of `numpy`, and the
paired ratio: the median over repeats of (mode / numpy) within the same repeat.

Example (after `tenrec run --task ctr --model deepfm`):

  python benchmarks/ctr_input_pipeline.py \\
      --pipeline-root tenrec-output/pipelines/tenrec-ctr-deepfm-generated-s0.001-seed0 \\
      --epochs 4 --repeats 3 --output ctr_input_pipeline.json
"""

import argparse
import datetime
import glob
import json
import os
import platform
import statistics
import sys
import time
from typing import Any, Dict, List, Mapping, Optional, Sequence, Tuple

# Must precede the first TensorFlow import.
os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if REPOSITORY not in sys.path:
  sys.path.insert(0, REPOSITORY)

import numpy as np  # pylint: disable=wrong-import-position
import tensorflow as tf  # pylint: disable=wrong-import-position
import tensorflow_transform as tft  # pylint: disable=wrong-import-position
import tf_keras as keras  # pylint: disable=wrong-import-position

from models import losses  # pylint: disable=wrong-import-position
from models import registry  # pylint: disable=wrong-import-position
from models.preprocessing import ctr as ctr_preprocessing  # pylint: disable=wrong-import-position
from models.trainers import common  # pylint: disable=wrong-import-position

MODES = ('tfrecord_in_memory', 'tfrecord_streamed', 'numpy', 'tensor_slices')
REFERENCE_MODE = 'numpy'
LABEL = 'click'


def find_transform_output(pipeline_root: str) -> Tuple[str, List[str]]:
  """Returns the latest transform graph folder and the train files of a pipeline root."""
  graphs = sorted(glob.glob(os.path.join(pipeline_root, 'Transform', 'transform_graph', '*')),
                  key=_artifact_number)
  examples = sorted(glob.glob(os.path.join(pipeline_root, 'Transform', 'transformed_examples',
                                           '*')), key=_artifact_number)
  if not graphs or not examples:
    raise SystemExit(f'No Transform output under {pipeline_root}; run `tenrec run --task ctr` '
                     'first and pass its OUTPUT_DIR/pipelines/PIPELINE_NAME folder.')
  train_files = common.expand_file_patterns([os.path.join(examples[-1], 'Split-train')])
  if not train_files:
    raise SystemExit(f'No training files in {examples[-1]}/Split-train.')
  return graphs[-1], train_files


def _artifact_number(path: str) -> int:
  name = os.path.basename(path)
  return int(name) if name.isdigit() else -1


class EpochTimer(keras.callbacks.Callback):
  """Records the wall-clock and process CPU seconds of every training epoch."""

  def __init__(self):
    super().__init__()
    self.seconds: List[float] = []
    self.cpu_seconds: List[float] = []
    self._start = 0.0
    self._cpu_start = 0.0

  def on_epoch_begin(self, epoch, logs=None):
    self._start = time.perf_counter()
    self._cpu_start = time.process_time()

  def on_epoch_end(self, epoch, logs=None):
    self.seconds.append(time.perf_counter() - self._start)
    self.cpu_seconds.append(time.process_time() - self._cpu_start)


def load_in_memory(train_files: Sequence[str], feature_spec: Mapping[str, Any],
                   batch_size: int) -> Tuple[Dict[str, np.ndarray], Dict[str, np.ndarray]]:
  """Parses every training example once into NumPy arrays (features, labels)."""
  dataset = common.make_example_dataset(train_files, feature_spec, [LABEL], batch_size,
                                        shuffle=False, seed=0)
  features: Dict[str, List[np.ndarray]] = {}
  labels: List[np.ndarray] = []
  for batch_features, batch_labels in dataset:
    for name, value in batch_features.items():
      features.setdefault(name, []).append(value.numpy())
    labels.append(batch_labels[LABEL].numpy())
  return ({name: np.concatenate(values) for name, values in features.items()},
          {LABEL: np.concatenate(labels)})


def time_mode(mode: str, spec, feature_info, hparams, train_files, feature_spec, arrays,
              epochs: int, seed: int) -> Tuple[EpochTimer, float]:
  """Trains a fresh model for `epochs` epochs fed by `mode`.

  Returns the epoch timer and the seconds spent creating the input (for the in-memory TFRecord
  mode, reading and parsing every file once).
  """
  keras.utils.set_random_seed(seed)
  examples = int(arrays[1][LABEL].shape[0])
  model = spec.build(feature_info, hparams)
  losses.compile_model(model, hparams)
  batch_size = int(hparams['batch_size'])
  timer = EpochTimer()

  started = time.perf_counter()
  if mode in ('tfrecord_in_memory', 'tfrecord_streamed'):
    dataset = common.make_example_dataset(train_files, feature_spec, [LABEL], batch_size,
                                          shuffle=True, seed=seed,
                                          cache=mode == 'tfrecord_in_memory')
    setup_seconds = time.perf_counter() - started
    # As the CTR trainer does: one iterator for the whole fit.
    model.fit(dataset.repeat(), steps_per_epoch=common.steps_per_epoch(examples, batch_size),
              epochs=epochs, callbacks=[timer], verbose=0)
  elif mode == 'numpy':
    features, labels = arrays
    setup_seconds = 0.0
    model.fit(features, labels, batch_size=batch_size, epochs=epochs, shuffle=True,
              callbacks=[timer], verbose=0)
  elif mode == 'tensor_slices':
    dataset = tf.data.Dataset.from_tensor_slices(arrays).batch(batch_size).cache().prefetch(
        tf.data.AUTOTUNE)
    setup_seconds = time.perf_counter() - started
    model.fit(dataset.repeat(), steps_per_epoch=common.steps_per_epoch(examples, batch_size),
              epochs=epochs, callbacks=[timer], verbose=0)
  else:
    raise ValueError(f'Unknown mode {mode!r}; choose from {", ".join(MODES)}.')
  return timer, setup_seconds


def summarize(values: Sequence[float]) -> Dict[str, float]:
  """Median, min, max and interquartile range of a list of figures."""
  ordered = sorted(values)
  quartiles = statistics.quantiles(ordered, n=4) if len(ordered) > 1 else [ordered[0]] * 3
  return {'median': statistics.median(ordered), 'min': ordered[0], 'max': ordered[-1],
          'q1': quartiles[0], 'q3': quartiles[2], 'count': len(ordered)}


def run(args: argparse.Namespace) -> Dict[str, Any]:
  modes = [m.strip() for m in args.modes.split(',') if m.strip()]
  unknown = [m for m in modes if m not in MODES]
  if unknown:
    raise SystemExit(f'Unknown --modes {unknown}; choose from {", ".join(MODES)}.')
  if args.epochs < 2:
    raise SystemExit(f'--epochs must be at least 2 (the first epoch is excluded), got '
                     f'{args.epochs}.')

  transform_dir, train_files = find_transform_output(args.pipeline_root)
  tf_transform_output = tft.TFTransformOutput(transform_dir)
  feature_info = ctr_preprocessing.feature_info(tf_transform_output, [LABEL])
  transformed_spec = tf_transform_output.transformed_feature_spec()
  feature_spec = {k: v for k, v in transformed_spec.items()
                  if k not in ctr_preprocessing.LABELS or k == LABEL}
  spec = registry.get_model('ctr', args.model)
  hparams = spec.resolve_hparams({'batch_size': args.batch_size} if args.batch_size else None)

  arrays = load_in_memory(train_files, feature_spec, int(hparams['batch_size']))
  examples = int(arrays[1][LABEL].shape[0])
  print(f'{examples:,} training examples in {len(train_files)} files; vocabularies '
        + ', '.join(f'{f.name} {f.vocab_size:,}' for f in feature_info.features), flush=True)

  per_repeat: Dict[str, List[float]] = {mode: [] for mode in modes}
  per_epoch: Dict[str, List[float]] = {mode: [] for mode in modes}
  per_cpu_second: Dict[str, List[float]] = {mode: [] for mode in modes}
  first_epoch: Dict[str, List[float]] = {mode: [] for mode in modes}
  setup: Dict[str, List[float]] = {mode: [] for mode in modes}
  load: List[List[float]] = []
  for repeat in range(args.repeats):
    order = modes[repeat % len(modes):] + modes[:repeat % len(modes)]
    for mode in order:
      timer, setup_seconds = time_mode(mode, spec, feature_info, hparams, train_files,
                                       feature_spec, arrays, args.epochs, args.seed + repeat)
      first_epoch[mode].append(examples / timer.seconds[0])
      setup[mode].append(setup_seconds)
      rates = [examples / s for s in timer.seconds[1:]]
      per_epoch[mode].extend(rates)
      per_repeat[mode].append(statistics.median(rates))
      per_cpu_second[mode].extend(examples / s for s in timer.cpu_seconds[1:])
      load.append(list(os.getloadavg()))
      print(f'repeat {repeat + 1}/{args.repeats} {mode:18s} examples/s per epoch after the '
            f'first: {", ".join(f"{r:,.0f}" for r in rates)}', flush=True)

  summary = {mode: summarize(values) for mode, values in per_epoch.items()}
  cpu_summary = {mode: summarize(values) for mode, values in per_cpu_second.items()}
  return {
      'command': ' '.join([os.path.relpath(sys.argv[0], REPOSITORY)] + sys.argv[1:]),
      'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
      'machine': {'platform': platform.platform(), 'processor': platform.processor() or
                  platform.machine(), 'cpu_count': os.cpu_count(),
                  'load_average_after_each_mode': load},
      'software': {'python': platform.python_version(), 'tensorflow': tf.__version__,
                   'tf_keras': keras.__version__},
      'model': spec.name,
      'hparams': hparams,
      'train_examples': examples,
      'train_files': len(train_files),
      'vocabulary_sizes': {f.name: f.vocab_size for f in feature_info.features},
      'epochs': args.epochs,
      'repeats': args.repeats,
      'trainer_default_mode': ('tfrecord_in_memory' if common.resolve_cache(
          'auto', examples, feature_spec) else 'tfrecord_streamed'),
      'examples_per_second': summary,
      'examples_per_cpu_second': cpu_summary,
      'ratio_to_numpy_median': _ratios(summary),
      'paired_ratio_to_numpy': _paired_ratios(per_repeat),
      'cpu_ratio_to_numpy_median': _ratios(cpu_summary),
      'first_epoch_examples_per_second': {m: summarize(v) for m, v in first_epoch.items()},
      'input_setup_seconds': {m: summarize(v) for m, v in setup.items()},
      'raw_examples_per_second': per_epoch,
      'raw_examples_per_cpu_second': per_cpu_second,
  }


def _paired_ratios(per_repeat: Mapping[str, Sequence[float]]) -> Dict[str, Dict[str, float]]:
  """Per mode, the summary of (mode / numpy) within each repeat.

  The modes of one repeat run back to back, so their ratio is less affected by a change of
  machine load between repeats than the ratio of the overall medians.
  """
  reference = per_repeat.get(REFERENCE_MODE)
  if not reference:
    return {}
  return {mode: summarize([value / base for value, base in zip(values, reference)])
          for mode, values in per_repeat.items() if mode != REFERENCE_MODE}


def _ratios(summary: Mapping[str, Mapping[str, float]]) -> Dict[str, float]:
  reference = summary.get(REFERENCE_MODE, {}).get('median')
  return {mode: values['median'] / reference for mode, values in summary.items()
          if reference and mode != REFERENCE_MODE}


def format_report(report: Mapping[str, Any]) -> str:
  """Markdown table of the per-mode figures."""
  lines = ['| input | examples/s median | min-max | IQR | ratio to numpy | '
           'paired ratio (min-max) | examples/CPU-s median | IQR | ratio to numpy | '
           'epochs timed |',
           '|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|']
  for mode, wall in report['examples_per_second'].items():
    cpu = report['examples_per_cpu_second'][mode]
    ratio = _ratio_text(report['ratio_to_numpy_median'].get(mode), mode)
    cpu_ratio = _ratio_text(report['cpu_ratio_to_numpy_median'].get(mode), mode)
    paired = report['paired_ratio_to_numpy'].get(mode)
    paired_text = (f'{paired["median"]:.2f} ({paired["min"]:.2f}-{paired["max"]:.2f})'
                   if paired else _ratio_text(None, mode))
    lines.append(f'| `{mode}` | {wall["median"]:,.0f} | {wall["min"]:,.0f}-{wall["max"]:,.0f} | '
                 f'{wall["q1"]:,.0f}-{wall["q3"]:,.0f} | {ratio} | {paired_text} | '
                 f'{cpu["median"]:,.0f} | {cpu["q1"]:,.0f}-{cpu["q3"]:,.0f} | {cpu_ratio} | '
                 f'{wall["count"]} |')
  return '\n'.join(lines)


def _ratio_text(ratio: Optional[float], mode: str) -> str:
  if mode == REFERENCE_MODE:
    return '1.00'
  return f'{ratio:.2f}' if ratio else '-'



def main(argv=None) -> int:
  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0],
                                   formatter_class=argparse.ArgumentDefaultsHelpFormatter)
  parser.add_argument('--pipeline-root', required=True,
                      help='Pipeline root of a finished CTR run (OUTPUT_DIR/pipelines/NAME); '
                      'its latest Transform output is read.')
  parser.add_argument('--model', default='deepfm', help='Registered CTR model.')
  parser.add_argument('--modes', default=','.join(MODES), help='Comma-separated input modes.')
  parser.add_argument('--epochs', type=int, default=4,
                      help='Epochs per mode and repeat; the first is excluded.')
  parser.add_argument('--repeats', type=int, default=3, help='Repeats of every mode.')
  parser.add_argument('--batch-size', type=int, default=None,
                      help="Batch size (default: the model's, 4096).")
  parser.add_argument('--seed', type=int, default=100, help='Seed of the first repeat.')
  parser.add_argument('--output', default=None, help='JSON report path.')
  args = parser.parse_args(argv)

  report = run(args)
  print(format_report(report))
  print(f'Trainer default for these data: {report["trainer_default_mode"]}.')
  if args.output:
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    with open(args.output, 'w', encoding='utf-8') as f:
      json.dump(report, f, indent=2, sort_keys=True)
  return 0


if __name__ == '__main__':
  sys.exit(main())
