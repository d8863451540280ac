"""Inference-speed harness: latency percentiles and throughput of an exported signature.

One closed-loop client sends one request at a time: `warmup` untimed calls, then `requests`
timed calls per batch size. Per batch size the result has p50/p95/p99/mean latency in
milliseconds and throughput in examples per second (batch size x requests / timed seconds).

Targets:

* in-process: the signature of the SavedModel loaded with `tf.saved_model.load`, called with
  prebuilt tensors (model execution only).
* REST or gRPC endpoint: `RestClient` / `GrpcClient` with prebuilt `PredictRequest`s. The time
  includes the clients' encoding and decoding in Python, the transport and the server.

Inputs come from real serialized tf.Example records, for example the test split of a run, or
are synthesized from the signature. A CTR export gets raw ids drawn uniformly from its
vocabulary assets, and a sequential export gets item ids 1..V (V from its `scores` output).

Example:

  inputs = prepare_inputs('/models/ctr_deepfm/1', 'serving_default', examples=None, seed=0)
  target = InProcessTarget('/models/ctr_deepfm/1', 'serving_default')
  stats = measure(target, inputs, batch_size=32, warmup=10, requests=100)
"""

import dataclasses
import datetime
import os
import platform
import sys
import time
from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence

import numpy as np
import tensorflow as tf

from serving import request as request_lib
from serving import signatures as signatures_lib

DEFAULT_BATCH_SIZES = (1, 32, 256)
DEFAULT_WARMUP = 20
DEFAULT_REQUESTS = 200
DEFAULT_TOP_K = 10
# Longest synthesized history of a sequential model: the max_len default of the Tenrec
# sequential baselines.
DEFAULT_SEQUENCE_LENGTH = 30
DEFAULT_POOL_SIZE = 1024
RAW_SIGNATURE = 'serving_raw'
VOCABULARY_SUFFIX = '_vocabulary'
# The CTR history feature shares the item vocabulary and pads empty slots with -1.
HISTORY_FEATURE = 'hist_item_ids'
HISTORY_VOCABULARY = 'item_id'
HISTORY_PADDING = -1


class BenchmarkInputError(ValueError):
  """Inputs for the benchmark cannot be built; the message names the option to pass."""


@dataclasses.dataclass
class InputPool:
  """Examples to draw benchmark batches from.

  Attributes:
    signature: The benchmarked signature.
    arrays: Input name -> array; batched inputs have `size` rows, scalar inputs (k) are 0-d.
    size: Number of distinct examples in the pool.
    source: How the examples were obtained, recorded in the results.
  """

  signature: signatures_lib.SignatureSpec
  arrays: Dict[str, np.ndarray]
  size: int
  source: str

  def batch(self, index: int, batch_size: int) -> Dict[str, np.ndarray]:
    """Returns batch number `index`: consecutive pool rows, wrapping around the pool."""
    rows = (np.arange(batch_size) + index * batch_size) % self.size
    return {name: array if array.ndim == 0 else array[rows]
            for name, array in self.arrays.items()}


# -- input sources ---------------------------------------------------------------------------------


def _record_files(pattern: str) -> List[str]:
  if tf.io.gfile.isdir(pattern):
    test_split = os.path.join(pattern, 'Split-test')
    folder = test_split if tf.io.gfile.isdir(test_split) else pattern
    files = [os.path.join(folder, name) for name in tf.io.gfile.listdir(folder)]
    files = [f for f in files if not tf.io.gfile.isdir(f) and not f.endswith('.json')]
  else:
    files = tf.io.gfile.glob(pattern)
  if not files:
    raise BenchmarkInputError(f'no TFRecord files match {pattern}; pass a file pattern or the '
                              'examples artifact folder of a run (its Split-test is used).')
  return sorted(files)


def load_serialized_examples(pattern: str, limit: int) -> List[bytes]:
  """Reads up to `limit` serialized records from TFRecord files (gzip when named *.gz)."""
  files = _record_files(pattern)
  records: List[bytes] = []
  for path in files:
    compression = 'GZIP' if path.endswith('.gz') else ''
    for record in tf.data.TFRecordDataset(path, compression_type=compression):
      records.append(record.numpy())
      if len(records) >= limit:
        return records
  if not records:
    raise BenchmarkInputError(f'the files matching {pattern} hold no records.')
  return records


def read_vocabularies(export_dir: str) -> Dict[str, np.ndarray]:
  """Returns {feature: raw int64 ids} from the `<feature>_vocabulary` assets of an export."""
  assets = os.path.join(export_dir, 'assets')
  vocabularies = {}
  if not tf.io.gfile.isdir(assets):
    return vocabularies
  for name in tf.io.gfile.listdir(assets):
    if not name.endswith(VOCABULARY_SUFFIX):
      continue
    with tf.io.gfile.GFile(os.path.join(assets, name)) as f:
      values = [line.strip() for line in f if line.strip()]
    try:
      vocabularies[name[:-len(VOCABULARY_SUFFIX)]] = np.array([int(v) for v in values],
                                                              np.int64)
    except ValueError:
      continue  # A text vocabulary; the CTR features are integer ids.
  return vocabularies


def _synthesize_ctr_features(raw: signatures_lib.SignatureSpec,
                             vocabularies: Mapping[str, np.ndarray], size: int,
                             rng: np.random.Generator) -> Dict[str, np.ndarray]:
  features = {}
  for name, info in sorted(raw.inputs.items()):
    if info.dtype not in ('DT_INT64', 'DT_INT32') or info.shape is None:
      raise BenchmarkInputError(f'cannot synthesize input {name!r} ({info.dtype}); pass '
                                '--examples.')
    width = int(np.prod(info.shape[1:])) if len(info.shape) > 1 else 1
    if name == HISTORY_FEATURE:
      items = vocabularies.get(HISTORY_VOCABULARY)
      if items is None or not items.size:
        raise BenchmarkInputError(f'the export has no {HISTORY_VOCABULARY}{VOCABULARY_SUFFIX} '
                                  'asset to draw history items from; pass --examples.')
      history = rng.choice(items, size=(size, width))
      filled = rng.integers(0, width + 1, size=size)
      history[np.arange(width)[None, :] < (width - filled)[:, None]] = HISTORY_PADDING
      values = history
    else:
      vocabulary = vocabularies.get(name)
      if vocabulary is None or not vocabulary.size:
        raise BenchmarkInputError(f'the export has no {name}{VOCABULARY_SUFFIX} asset to draw '
                                  f'{name!r} values from; pass --examples.')
      values = rng.choice(vocabulary, size=(size, width))
    features[name] = values.reshape((size,) + tuple(info.shape[1:])).astype(
        request_lib.numpy_dtype(info.dtype))
  return features


def _num_items(signatures: Mapping[str, signatures_lib.SignatureSpec]) -> Optional[int]:
  """Returns V of a sequential export from its `scores` [batch, V + 1] output, if static."""
  for signature in signatures.values():
    scores = signature.outputs.get('scores')
    if scores is not None and scores.shape and len(scores.shape) == 2 and scores.shape[1] > 1:
      return scores.shape[1] - 1
  return None


def _synthesize_histories(num_items: int, size: int, max_length: int,
                          rng: np.random.Generator) -> List[np.ndarray]:
  lengths = rng.integers(1, max_length + 1, size=size)
  return [rng.integers(1, num_items + 1, size=length, dtype=np.int64) for length in lengths]


def _left_pad(histories: Sequence[np.ndarray]) -> np.ndarray:
  width = max(len(h) for h in histories)
  matrix = np.zeros((len(histories), width), np.int64)
  for row, history in enumerate(histories):
    if len(history):
      matrix[row, width - len(history):] = history
  return matrix


def _serialize_features(features: Mapping[str, Sequence[Any]], size: int) -> np.ndarray:
  """Serializes int64 features (row i of every value) into `size` tf.Example records."""
  records = np.empty(size, dtype=object)
  for i in range(size):
    feature = {name: tf.train.Feature(int64_list=tf.train.Int64List(
        value=np.asarray(values[i], np.int64).reshape(-1).tolist()))
               for name, values in features.items()}
    records[i] = tf.train.Example(
        features=tf.train.Features(feature=feature)).SerializeToString()
  return records


def _parse_features(records: Sequence[bytes], signature: signatures_lib.SignatureSpec
                    ) -> Dict[str, np.ndarray]:
  """Parses tensor inputs out of tf.Example records; variable-length lists are left-padded
  with 0 (the padding index of the sequential models)."""
  spec = {}
  for name, info in signature.inputs.items():
    if info.shape == ():
      continue
    dtype = tf.as_dtype(request_lib.numpy_dtype(info.dtype))
    if info.shape is not None and all(d >= 0 for d in info.shape[1:]):
      spec[name] = tf.io.FixedLenFeature(info.shape[1:], tf.int64 if dtype.is_integer else dtype)
    else:
      spec[name] = tf.io.VarLenFeature(tf.int64 if dtype.is_integer else dtype)
  try:
    parsed = tf.io.parse_example(tf.constant(list(records), tf.string), spec)
  except tf.errors.InvalidArgumentError as error:
    raise BenchmarkInputError(f'the examples do not hold the inputs {sorted(spec)} of signature '
                              f'{signature.name!r}: {error.message.splitlines()[-1]}') from None
  arrays = {}
  for name, value in parsed.items():
    numpy_type = request_lib.numpy_dtype(signature.inputs[name].dtype)
    if isinstance(value, tf.SparseTensor):
      ragged = tf.RaggedTensor.from_sparse(value)
      arrays[name] = _left_pad([row.numpy() for row in ragged]).astype(numpy_type)
    else:
      arrays[name] = value.numpy().astype(numpy_type)
  return arrays


def prepare_inputs(export_dir: str, signature_name: str, examples: Optional[str] = None,
                   pool_size: int = DEFAULT_POOL_SIZE, top_k: int = DEFAULT_TOP_K,
                   sequence_length: int = DEFAULT_SEQUENCE_LENGTH, seed: int = 0) -> InputPool:
  """Builds the pool of benchmark inputs for one signature of an export.

  Args:
    export_dir: SavedModel folder.
    signature_name: Signature to benchmark.
    examples: TFRecord file pattern or examples folder with serialized tf.Example records;
      None synthesizes inputs from the signature and the vocabulary assets.
    pool_size: Distinct examples to read or synthesize.
    top_k: Value of the scalar `k` input of a top-k signature.
    sequence_length: Longest synthesized history of a sequential model.
    seed: Seed of the synthesized values.

  Raises:
    BenchmarkInputError: The signature is unknown, or its inputs can be neither read nor
      synthesized.
  """
  signatures = signatures_lib.read_signatures(export_dir)
  signature = signatures.get(signature_name)
  if signature is None or signature_name == signatures_lib.INIT_OP_SIGNATURE:
    callable_names = sorted(n for n in signatures if n != signatures_lib.INIT_OP_SIGNATURE)
    raise BenchmarkInputError(f'{export_dir} has no signature {signature_name!r}; choose one of '
                              f'{callable_names} with --signature.')
  rng = np.random.default_rng(seed)
  string_inputs = [n for n, i in signature.inputs.items()
                   if i.dtype == 'DT_STRING' and i.shape and i.shape[0] == -1]
  scalars = {n: i for n, i in signature.inputs.items() if i.shape == ()}
  records = load_serialized_examples(examples, pool_size) if examples else None

  if len(string_inputs) == 1 and len(signature.inputs) - len(scalars) == 1:
    if records is not None:
      serialized, source = np.array(records, dtype=object), f'tf.Example records from {examples}'
    else:
      serialized, source = _synthesize_serialized(export_dir, signatures, pool_size,
                                                  sequence_length, rng)
    arrays = {string_inputs[0]: serialized}
  elif records is not None:
    arrays, source = _parse_features(records, signature), f'tf.Example records from {examples}'
  else:
    arrays, source = _synthesize_tensors(export_dir, signatures, signature, pool_size,
                                         sequence_length, rng)

  for name, info in scalars.items():
    if name != request_lib.TOP_K_INPUT:
      raise BenchmarkInputError(f'cannot set the scalar input {name!r} of signature '
                                f'{signature_name!r}.')
    arrays[name] = np.array(top_k, dtype=request_lib.numpy_dtype(info.dtype))
  size = min(len(a) for a in arrays.values() if a.ndim > 0)
  return InputPool(signature=signature, arrays=arrays, size=size, source=source)


def _synthesize_serialized(export_dir, signatures, size, sequence_length, rng):
  raw = signatures.get(RAW_SIGNATURE)
  if raw is not None:
    features = _synthesize_ctr_features(raw, read_vocabularies(export_dir), size, rng)
    return (_serialize_features(features, size),
            'synthesized tf.Examples: raw ids drawn uniformly from the vocabulary assets')
  num_items = _num_items(signatures)
  if num_items is not None:
    histories = _synthesize_histories(num_items, size, sequence_length, rng)
    return (_serialize_features({'item_ids': histories}, size),
            f'synthesized tf.Examples: item_ids histories of 1..{sequence_length} items drawn '
            f'uniformly from 1..{num_items}')
  raise BenchmarkInputError(f'cannot synthesize examples for {export_dir} (it has neither a '
                            f'{RAW_SIGNATURE} signature nor a static scores output); pass '
                            '--examples.')


def _synthesize_tensors(export_dir, signatures, signature, size, sequence_length, rng):
  batched = {n: i for n, i in signature.inputs.items() if i.shape != ()}
  vocabularies = read_vocabularies(export_dir)
  if vocabularies and all(n in vocabularies or n == HISTORY_FEATURE for n in batched):
    features = _synthesize_ctr_features(
        dataclasses.replace(signature, inputs=batched), vocabularies, size, rng)
    return features, 'synthesized: raw ids drawn uniformly from the vocabulary assets'
  num_items = _num_items(signatures)
  if set(batched) == {'item_ids'} and num_items is not None:
    histories = _synthesize_histories(num_items, size, sequence_length, rng)
    return ({'item_ids': _left_pad(histories)},
            f'synthesized: item_ids histories of 1..{sequence_length} items drawn uniformly '
            f'from 1..{num_items}, left-padded with 0')
  raise BenchmarkInputError(f'cannot synthesize inputs {sorted(batched)} of signature '
                            f'{signature.name!r}; pass --examples.')


# -- targets ---------------------------------------------------------------------------------------


class InProcessTarget:
  """Calls a signature of a SavedModel loaded in this process."""

  name = 'in_process'

  def __init__(self, export_dir: str, signature_name: str):
    self._model = tf.saved_model.load(export_dir)
    if signature_name not in self._model.signatures:
      raise BenchmarkInputError(f'{export_dir} has no callable signature {signature_name!r}.')
    self._function = self._model.signatures[signature_name]

  def prepare(self, batch: Mapping[str, np.ndarray]) -> Dict[str, tf.Tensor]:
    return {name: tf.constant(array) for name, array in batch.items()}

  def call(self, prepared: Mapping[str, tf.Tensor]) -> Dict[str, np.ndarray]:
    return {name: tensor.numpy() for name, tensor in self._function(**prepared).items()}


class ClientTarget:
  """Calls a served model through a RestClient or GrpcClient with prebuilt requests."""

  def __init__(self, name: str, client, signature_name: str,
               request_format: str = request_lib.COLUMNAR):
    self.name = name
    self._client = client
    self._signature_name = signature_name
    self._request_format = request_format

  def prepare(self, batch: Mapping[str, np.ndarray]) -> request_lib.PredictRequest:
    return self._client.build_request(dict(batch), signature_name=self._signature_name)

  def call(self, prepared: request_lib.PredictRequest) -> Dict[str, np.ndarray]:
    if hasattr(self._client, 'url'):
      return self._client.predict_request(prepared, self._request_format)
    return self._client.predict_request(prepared)


# -- measurement -----------------------------------------------------------------------------------


@dataclasses.dataclass
class LatencyStats:
  """Latency (milliseconds) and throughput of one batch size on one target."""

  batch_size: int
  requests: int
  warmup: int
  p50_ms: float
  p95_ms: float
  p99_ms: float
  mean_ms: float
  min_ms: float
  max_ms: float
  examples_per_second: float
  requests_per_second: float

  def to_dict(self) -> Dict[str, Any]:
    return {k: (round(v, 4) if isinstance(v, float) else v)
            for k, v in dataclasses.asdict(self).items()}


def measure(target, pool: InputPool, batch_size: int, warmup: int, requests: int,
            clock: Callable[[], float] = time.perf_counter) -> LatencyStats:
  """Times `requests` calls of `target` with batches of `batch_size` after `warmup` calls.

  Inputs of every call are prepared (converted to tensors or requests) before the timed loop.
  Batches cycle through the pool, so a pool smaller than `requests` x `batch_size` repeats
  examples.
  """
  if batch_size < 1 or requests < 1 or warmup < 0:
    raise ValueError(f'batch_size and requests must be at least 1 and warmup non-negative, got '
                     f'{batch_size}, {requests}, {warmup}.')
  distinct = max(1, min(requests + warmup, -(-pool.size // batch_size) or 1))
  prepared = [target.prepare(pool.batch(i, batch_size)) for i in range(distinct)]
  for i in range(warmup):
    target.call(prepared[i % distinct])

  latencies = np.empty(requests, np.float64)
  started = clock()
  for i in range(requests):
    call_started = clock()
    target.call(prepared[(warmup + i) % distinct])
    latencies[i] = clock() - call_started
  elapsed = clock() - started

  milliseconds = latencies * 1000.0
  p50, p95, p99 = np.percentile(milliseconds, [50, 95, 99])
  return LatencyStats(
      batch_size=batch_size, requests=requests, warmup=warmup, p50_ms=float(p50),
      p95_ms=float(p95), p99_ms=float(p99), mean_ms=float(milliseconds.mean()),
      min_ms=float(milliseconds.min()), max_ms=float(milliseconds.max()),
      examples_per_second=batch_size * requests / elapsed if elapsed > 0 else float('inf'),
      requests_per_second=requests / elapsed if elapsed > 0 else float('inf'))


def max_abs_difference(first: Mapping[str, np.ndarray], second: Mapping[str, np.ndarray]
                       ) -> Optional[float]:
  """Largest absolute difference between two output dictionaries (None if keys differ)."""
  if set(first) != set(second):
    return None
  differences = [float(np.max(np.abs(np.asarray(first[k], np.float64) -
                                     np.asarray(second[k], np.float64))))
                 for k in first if np.asarray(first[k]).size]
  return max(differences) if differences else 0.0


def benchmark_target(target, pool: InputPool, batch_sizes: Sequence[int], warmup: int,
                     requests: int) -> List[Dict[str, Any]]:
  """Measures every batch size on one target; returns one dictionary per batch size."""
  return [measure(target, pool, b, warmup, requests).to_dict() for b in batch_sizes]


def environment() -> Dict[str, Any]:
  """Describes the machine and software of a benchmark run."""
  cpu_model = None
  if os.path.exists('/proc/cpuinfo'):
    with open('/proc/cpuinfo', encoding='utf-8', errors='replace') as f:
      for line in f:
        if line.startswith('model name'):
          cpu_model = line.split(':', 1)[1].strip()
          break
  return {
      'date_utc': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%dT%H:%M:%SZ'),
      'python': sys.version.split()[0],
      'tensorflow': tf.__version__,
      'platform': platform.platform(),
      'cpu_model': cpu_model or platform.processor() or platform.machine(),
      'cpu_count': os.cpu_count(),
      'gpus': [d.name for d in tf.config.list_physical_devices('GPU')],
  }
