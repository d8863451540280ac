"""Tests of serving.bench: input pools, the measurement loop (with a fake clock), targets."""

import numpy as np
import pytest
import tensorflow as tf

from serving import bench
from serving import rest_client
import serving_exports


class FakeClock:
  """A clock that only advances when a FakeTarget call moves it forward."""

  def __init__(self):
    self.now = 0.0

  def __call__(self) -> float:
    return self.now


class FakeTarget:
  """Records the batches it is called with; each call takes `durations[i]` seconds."""

  def __init__(self, clock: FakeClock, durations):
    self.clock = clock
    self.durations = list(durations)
    self.calls = []

  def prepare(self, batch):
    return batch

  def call(self, prepared):
    self.calls.append(prepared)
    self.clock.now += self.durations[len(self.calls) - 1]
    return {}


def _pool(size=4):
  signature = bench.signatures_lib.SignatureSpec('s', {}, {})
  return bench.InputPool(signature, {'x': np.arange(size), 'k': np.array(3)}, size, 'test')


def test_pool_batch_wraps_around():
  pool = _pool(4)
  batch = pool.batch(1, 3)
  assert batch['x'].tolist() == [3, 0, 1]
  assert int(batch['k']) == 3


def test_measure_percentiles_with_fake_clock():
  clock = FakeClock()
  # Two warm-up calls of 1 s, then timed calls of 1..10 ms.
  durations = [1.0, 1.0] + [i / 1000 for i in range(1, 11)]
  target = FakeTarget(clock, durations)
  stats = bench.measure(target, _pool(), batch_size=2, warmup=2, requests=10, clock=clock)
  assert len(target.calls) == 12
  assert stats.p50_ms == pytest.approx(5.5)
  assert stats.p95_ms == pytest.approx(9.55)
  assert stats.p99_ms == pytest.approx(9.91)
  assert stats.mean_ms == pytest.approx(5.5)
  assert stats.examples_per_second == pytest.approx(2 * 10 / 0.055)
  assert stats.requests_per_second == pytest.approx(10 / 0.055)


def test_measure_invalid_settings():
  with pytest.raises(ValueError, match='at least 1'):
    bench.measure(FakeTarget(FakeClock(), []), _pool(), batch_size=0, warmup=0, requests=1)


def test_max_abs_difference():
  first = {'a': np.array([1.0, 2.0]), 'b': np.array([[0.5]])}
  second = {'a': np.array([1.0, 2.5]), 'b': np.array([[0.25]])}
  assert bench.max_abs_difference(first, second) == 0.5
  assert bench.max_abs_difference(first, {'a': first['a']}) is None


def test_read_vocabularies(ctr_export):
  vocabularies = bench.read_vocabularies(ctr_export)
  assert set(vocabularies) == {'user_id', 'item_id', 'video_category', 'gender', 'age'}
  assert vocabularies['item_id'].min() >= 500


def test_synthesized_ctr_examples(ctr_export):
  pool = bench.prepare_inputs(ctr_export, 'serving_default', pool_size=16, seed=1)
  example = tf.train.Example.FromString(pool.arrays['examples'][0])
  history = list(example.features.feature['hist_item_ids'].int64_list.value)
  items = set(bench.read_vocabularies(ctr_export)['item_id'].tolist())
  assert pool.size == 16
  assert len(history) == serving_exports.HISTORY_LENGTH
  assert all(h == -1 or h in items for h in history)
  assert 'vocabulary assets' in pool.source


def test_synthesized_ctr_raw_tensors(ctr_export):
  pool = bench.prepare_inputs(ctr_export, 'serving_raw', pool_size=8, seed=1)
  assert pool.arrays['user_id'].shape == (8, 1)
  assert pool.arrays['hist_item_ids'].shape == (8, 10)
  assert pool.arrays['age'].dtype == np.int64


def test_examples_from_test_split(ctr_export, test_split):
  pool = bench.prepare_inputs(ctr_export, 'serving_raw', examples=test_split, pool_size=10)
  expected = serving_exports.raw_rows()[:10]
  assert pool.size == 10
  np.testing.assert_array_equal(pool.arrays['user_id'][:, 0],
                                [int(r['user_id'][0]) for r in expected])


def test_serialized_examples_from_pattern(ctr_export, test_split):
  pool = bench.prepare_inputs(ctr_export, 'serving_default',
                              examples=f'{test_split}/Split-test/*.gz', pool_size=1000)
  assert pool.size == serving_exports.NUM_ROWS
  assert 'tf.Example records from' in pool.source


def test_synthesized_top_k(sequential_export):
  pool = bench.prepare_inputs(sequential_export, 'top_k', pool_size=32, top_k=7,
                              sequence_length=5, seed=3)
  matrix = pool.arrays['item_ids']
  assert int(pool.arrays['k']) == 7
  assert pool.arrays['k'].dtype == np.int32
  assert matrix.shape == (32, 5)
  assert matrix.max() <= serving_exports.SEQUENTIAL_ITEMS
  assert (matrix[:, -1] > 0).all()


def test_synthesized_sequential_examples(sequential_export):
  pool = bench.prepare_inputs(sequential_export, 'serving_default', pool_size=4,
                              sequence_length=3, seed=3)
  example = tf.train.Example.FromString(pool.arrays['examples'][0])
  items = list(example.features.feature['item_ids'].int64_list.value)
  assert 1 <= len(items) <= 3
  assert all(1 <= i <= serving_exports.SEQUENTIAL_ITEMS for i in items)


def test_unknown_signature(ctr_export):
  with pytest.raises(bench.BenchmarkInputError, match="no signature 'top_k'"):
    bench.prepare_inputs(ctr_export, 'top_k')


def test_missing_examples(ctr_export, tmp_path):
  with pytest.raises(bench.BenchmarkInputError, match='no TFRecord files match'):
    bench.prepare_inputs(ctr_export, 'serving_default', examples=str(tmp_path / '*.gz'))


def test_in_process_and_rest_targets_agree(ctr_export, test_double):
  pool = bench.prepare_inputs(ctr_export, 'serving_raw', pool_size=8, seed=0)
  in_process = bench.InProcessTarget(ctr_export, 'serving_raw')
  with rest_client.RestClient(test_double.rest_url, serving_exports.CTR_MODEL) as client:
    remote = bench.ClientTarget('rest', client, 'serving_raw')
    batch = pool.batch(0, 8)
    difference = bench.max_abs_difference(in_process.call(in_process.prepare(batch)),
                                          remote.call(remote.prepare(batch)))
  assert difference == 0.0


def test_benchmark_target_rows(ctr_export):
  pool = bench.prepare_inputs(ctr_export, 'serving_default', pool_size=8, seed=0)
  target = bench.InProcessTarget(ctr_export, 'serving_default')
  rows = bench.benchmark_target(target, pool, [1, 4], warmup=1, requests=3)
  assert [r['batch_size'] for r in rows] == [1, 4]
  assert all(r['p50_ms'] <= r['p99_ms'] for r in rows)


def test_environment_fields():
  environment = bench.environment()
  assert environment['tensorflow'] == tf.__version__
  assert environment['cpu_count'] >= 1
