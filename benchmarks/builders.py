"""Scale benchmark of the task-dataset builders (a script, not a test).

Builds the CTR and SBR datasets from the same generated QK-video file at several sizes with

  (a) our Beam builders (DirectRunner in multi_processing mode, `--workers` processes), and
  (b) a straightforward pandas implementation of the reference generators' approach
      (benchmarks/pandas_reference.py),

and reports rows per second and the peak memory of each run (resident set size of the whole
process tree, sampled every 0.1 s), next to two ceilings measured on the same file with one
thread: pyarrow's CSV parse rate, and pyarrow parsing plus tfx_bsl's
RecordBatchToExamplesEncoder on the ten integer columns without Beam.

Every run is a separate process, so imports and worker start-up are part of the measured wall
time ('process s'); 'build s' is the time inside the builder call. Row rates use the input
rows and the build time.

Example:

  python benchmarks/builders.py --work-dir /tmp/tenrec-bench --sizes 1e5,1e6,1e7 \\
      --pandas-max-rows ctr=1e6,sbr=1e7 --output /tmp/tenrec-bench/builders.json

The QK-video file comes from `tenrec generate --scenarios qk_video` at the scale that gives
the largest size; smaller sizes are prefixes of it cut at a user boundary.
"""

import argparse
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from typing import Any, Dict, List, Optional

REPOSITORY = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# QK-video rows that `tenrec generate` writes per 0.001 of scale (measured: 489,734 rows at
# the default scale 0.001 with seed 0).
ROWS_PER_MILLI_SCALE = 489_734
SAMPLE_SECONDS = 0.1
VIDEO_COLUMNS = ('user_id', 'item_id', 'click', 'follow', 'like', 'share', 'video_category',
                 'watching_times', 'gender', 'age')


def _environment() -> Dict[str, Any]:
  import numpy  # pylint: disable=import-outside-toplevel
  import pandas  # pylint: disable=import-outside-toplevel
  import pyarrow  # pylint: disable=import-outside-toplevel
  import apache_beam  # pylint: disable=import-outside-toplevel

  model = ''
  try:
    with open('/proc/cpuinfo', encoding='utf-8') as f:
      model = next((line.split(':', 1)[1].strip() for line in f if line.startswith('model name')),
                   '')
  except OSError:
    pass
  memory = 0
  try:
    with open('/proc/meminfo', encoding='utf-8') as f:
      memory = int(f.readline().split()[1]) * 1024
  except OSError:
    pass
  return {
      'date': datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds'),
      'machine': platform.machine(), 'cpu_model': model, 'cpu_count': os.cpu_count(),
      'memory_gib': round(memory / 2**30, 1), 'python': platform.python_version(),
      'numpy': numpy.__version__, 'pandas': pandas.__version__, 'pyarrow': pyarrow.__version__,
      'apache_beam': apache_beam.__version__,
      'load_average_at_start': os.getloadavg(),
  }


def _run_measured(command: List[str], env: Optional[Dict[str, str]] = None) -> Dict[str, Any]:
  """Runs a command, sampling the peak RSS of its process tree; returns time, RSS and stdout."""
  import psutil  # pylint: disable=import-outside-toplevel

  started = time.time()
  process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             cwd=REPOSITORY, env=env)
  peak = [0]
  done = threading.Event()

  def sample():
    try:
      root = psutil.Process(process.pid)
    except psutil.Error:
      return
    while not done.is_set():
      total = 0
      try:
        for proc in [root] + root.children(recursive=True):
          try:
            total += proc.memory_info().rss
          except psutil.Error:
            pass
      except psutil.Error:
        break
      peak[0] = max(peak[0], total)
      done.wait(SAMPLE_SECONDS)

  sampler = threading.Thread(target=sample, daemon=True)
  sampler.start()
  stdout, stderr = process.communicate()
  done.set()
  sampler.join()
  seconds = time.time() - started
  if process.returncode != 0:
    raise RuntimeError(f'{" ".join(command)} failed ({process.returncode}):\n{stderr[-3000:]}')
  result = json.loads(stdout.strip().splitlines()[-1])
  result.update({'process_seconds': round(seconds, 2), 'peak_rss_mib': round(peak[0] / 2**20)})
  return result


def generate(work_dir: str, rows: int, seed: int) -> str:
  """Writes QK-video.csv with at least `rows` rows (via `tenrec generate`) and returns it."""
  raw_dir = os.path.join(work_dir, 'raw')
  path = os.path.join(raw_dir, 'QK-video.csv')
  if os.path.exists(path) and count_rows(path) >= rows:
    return path
  scale = round(rows / ROWS_PER_MILLI_SCALE * 0.001 * 1.02, 5)
  subprocess.run([sys.executable, '-m', 'pipeline.cli', 'generate', '--scale', str(scale),
                  '--seed', str(seed), '--scenarios', 'qk_video', '--out', raw_dir,
                  '--overwrite'], cwd=REPOSITORY, check=True)
  return path


def count_rows(path: str) -> int:
  with open(path, 'rb') as f:
    return sum(block.count(b'\n') for block in iter(lambda: f.read(1 << 24), b'')) - 1


def prefix_file(source: str, rows: int, target_dir: str) -> Dict[str, Any]:
  """Copies the header and the first `rows` rows, extended to the end of the last user."""
  os.makedirs(target_dir, exist_ok=True)
  target = os.path.join(target_dir, 'QK-video.csv')
  written = 0
  with open(source, 'rb') as src, open(target, 'wb') as dst:
    dst.write(src.readline())
    last_user = None
    for line in src:
      user = line.split(b',', 1)[0]
      if written >= rows and user != last_user:
        break
      dst.write(line)
      written += 1
      last_user = user
  return {'path': target, 'rows': written, 'bytes': os.path.getsize(target)}


def ceilings(path: str) -> Dict[str, float]:
  """Single-thread rows/s of pyarrow CSV parsing, and of parsing plus tf.Example encoding."""
  import numpy as np  # pylint: disable=import-outside-toplevel
  import pyarrow as pa  # pylint: disable=import-outside-toplevel
  from pyarrow import csv as pa_csv  # pylint: disable=import-outside-toplevel
  from tfx_bsl.coders import example_coder  # pylint: disable=import-outside-toplevel

  convert = pa_csv.ConvertOptions(column_types={c: pa.int64() for c in VIDEO_COLUMNS},
                                  null_values=['\\N'])
  read = pa_csv.ReadOptions(use_threads=False, block_size=16 << 20)
  started = time.time()
  table = pa_csv.read_csv(path, read_options=read, convert_options=convert)
  parse_rate = table.num_rows / (time.time() - started)
  del table

  encoder = example_coder.RecordBatchToExamplesEncoder()
  started = time.time()
  encoded = 0
  for batch in pa_csv.open_csv(path, read_options=read, convert_options=convert):
    offsets = pa.array(np.arange(batch.num_rows + 1, dtype=np.int32))
    lists = [pa.ListArray.from_arrays(offsets, column.fill_null(-1)) for column in batch.columns]
    encoded += len(encoder.encode(pa.RecordBatch.from_arrays(lists, batch.schema.names)))
  return {'parse_rows_per_second': round(parse_rate),
          'parse_encode_rows_per_second': round(encoded / (time.time() - started))}


def run_ours(task: str, data_dir: str, out_dir: str, workers: int) -> Dict[str, Any]:
  shutil.rmtree(out_dir, ignore_errors=True)
  return _run_measured([sys.executable, os.path.abspath(__file__), '--child-build', task,
                        data_dir, out_dir, str(workers)])


def run_pandas(task: str, path: str, out_dir: str) -> Dict[str, Any]:
  shutil.rmtree(out_dir, ignore_errors=True)
  result = _run_measured([sys.executable, os.path.join(REPOSITORY, 'benchmarks',
                                                        'pandas_reference.py'), task, path,
                          out_dir, '--json'])
  shutil.rmtree(out_dir, ignore_errors=True)
  return result


def child_build(task: str, data_dir: str, out_dir: str, workers: int) -> int:
  """Runs one builder in this process (the benchmark's child process)."""
  os.environ['TF_USE_LEGACY_KERAS'] = '1'
  sys.path.insert(0, REPOSITORY)
  from absl import logging  # pylint: disable=import-outside-toplevel
  from components.builders import registry  # pylint: disable=import-outside-toplevel
  from components.builders import runner  # pylint: disable=import-outside-toplevel

  logging.set_verbosity('warning')
  args = (['--runner=FnApiRunner'] if workers == 1 else
          ['--runner=DirectRunner', '--direct_running_mode=multi_processing',
           f'--direct_num_workers={workers}'])
  builder = registry.create_builder(task)
  started = time.time()
  report = runner.run_builder(builder, {'qk_video': os.path.join(data_dir, 'QK-video.csv')},
                              out_dir, pipeline_factory=runner.make_pipeline_factory(args))
  seconds = time.time() - started
  shutil.rmtree(out_dir, ignore_errors=True)
  print(json.dumps({'seconds': round(seconds, 3), 'splits': report['splits'],
                    'num_buckets': report['num_buckets']}))
  return 0


def _parse_limits(text: str) -> Dict[str, int]:
  limits = {}
  for item in text.split(','):
    task, value = item.split('=')
    limits[task.strip()] = int(float(value))
  return limits


def evaluate_targets(results: Dict[str, Any]) -> Dict[str, Any]:
  """Compares our builders with the pandas approach, the ceiling and across sizes.

  The pandas time at the largest size is measured when available, else extrapolated linearly
  in rows from the largest measured size (marked 'extrapolated').
  """
  out = {}
  ceiling = results['ceilings']['parse_encode_rows_per_second']
  for task in sorted({r['task'] for r in results['runs']}):
    ours = [r for r in results['runs'] if r['task'] == task and r['implementation'] != (
        'pandas (reference approach)')]
    pandas_runs = [r for r in results['runs'] if r['task'] == task and r['implementation'] == (
        'pandas (reference approach)')]
    largest = max(r['rows'] for r in ours)
    best = min((r for r in ours if r['rows'] == largest), key=lambda r: r['seconds'])
    entry = {'rows': largest, 'best_implementation': best['implementation'],
             'seconds': best['seconds']}
    if pandas_runs:
      reference = max(pandas_runs, key=lambda r: r['rows'])
      pandas_seconds = reference['seconds'] * largest / reference['rows']
      entry['pandas_seconds'] = round(pandas_seconds, 1)
      entry['pandas_seconds_source'] = ('measured' if reference['rows'] == largest else
                                        f'extrapolated from {reference["rows"]:,} rows')
      entry['speedup_vs_pandas'] = round(pandas_seconds / best['seconds'], 2)
    per_core = best['rows_per_second'] / best['cores']
    entry['rows_per_second_per_core'] = round(per_core)
    entry['ceiling_over_ours_per_core'] = round(ceiling / per_core, 2)
    for workers in sorted({r['cores'] for r in ours}):
      runs = sorted((r for r in ours if r['cores'] == workers), key=lambda r: r['rows'])
      entry[f'peak_rss_mib_by_rows_{workers}_workers'] = {
          str(r['rows']): r['peak_rss_mib'] for r in runs}
    out[task] = entry
  return out


def format_table(results: Dict[str, Any]) -> str:
  lines = ['| task | rows | implementation | build s | process s | rows/s | rows/s per core | '
           'peak RSS MiB |', '|---|---|---|---|---|---|---|---|']
  for run in results['runs']:
    per_core = run['rows_per_second'] / run['cores']
    lines.append(f'| {run["task"]} | {run["rows"]:,} | {run["implementation"]} | '
                 f'{run["seconds"]:.1f} | {run["process_seconds"]:.1f} | '
                 f'{run["rows_per_second"]:,.0f} | {per_core:,.0f} | {run["peak_rss_mib"]:,} |')
  return '\n'.join(lines)


def main(argv: Optional[List[str]] = None) -> int:
  if argv is None:
    argv = sys.argv[1:]
  if argv and argv[0] == '--child-build':
    return child_build(argv[1], argv[2], argv[3], int(argv[4]))

  parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
  parser.add_argument('--work-dir', default='/tmp/tenrec-bench',
                      help='Folder for the generated file, its prefixes and outputs.')
  parser.add_argument('--sizes', default='1e5,1e6,1e7', help='Input rows, comma-separated.')
  parser.add_argument('--tasks', default='ctr,sbr', help='Builders to measure.')
  parser.add_argument('--workers', default='2',
                      help='Worker counts of our builders, comma-separated: 1 runs the '
                      'in-process FnApiRunner, N > 1 the DirectRunner with N processes.')
  parser.add_argument('--pandas-max-rows', default='ctr=1e7,sbr=1e7',
                      help='Largest input measured with the pandas approach, per task.')
  parser.add_argument('--seed', type=int, default=0, help='Seed of the generated data.')
  parser.add_argument('--output', default=None, help='JSON file for the results.')
  args = parser.parse_args(argv)

  sizes = sorted(int(float(s)) for s in args.sizes.split(','))
  tasks = [t.strip() for t in args.tasks.split(',') if t.strip()]
  limits = _parse_limits(args.pandas_max_rows)
  os.makedirs(args.work_dir, exist_ok=True)

  results: Dict[str, Any] = {'environment': _environment(),
                             'command': ' '.join([sys.executable, 'benchmarks/builders.py'] + argv),
                             'runs': [], 'inputs': []}
  source = generate(args.work_dir, sizes[-1], args.seed)
  inputs = []
  for size in sizes:
    inputs.append(dict(prefix_file(source, size, os.path.join(args.work_dir, f'rows-{size}')),
                       size=size))
  results['inputs'] = inputs
  ceiling_input = min(inputs, key=lambda i: abs(i['rows'] - 1_000_000))
  results['ceilings'] = dict(ceilings(ceiling_input['path']), rows=ceiling_input['rows'])
  print('ceilings', json.dumps(results['ceilings']), flush=True)

  worker_counts = [int(w) for w in args.workers.split(',')]
  for item in inputs:
    data_dir = os.path.dirname(item['path'])
    for task in tasks:
      for workers in worker_counts:
        measured = run_ours(task, data_dir, os.path.join(args.work_dir, f'out-{task}'), workers)
        label = 'beam, in-process' if workers == 1 else f'beam, {workers} processes'
        results['runs'].append({
            'task': task, 'rows': item['rows'], 'implementation': label, 'workers': workers,
            'cores': workers, 'seconds': measured['seconds'],
            'process_seconds': measured['process_seconds'],
            'peak_rss_mib': measured['peak_rss_mib'],
            'rows_per_second': item['rows'] / measured['seconds'],
            'splits': measured['splits']})
        print(json.dumps(results['runs'][-1]), flush=True)
      if item['rows'] <= limits.get(task, 0) * 1.05:
        measured = run_pandas(task, item['path'], os.path.join(args.work_dir, f'pd-{task}'))
        results['runs'].append({
            'task': task, 'rows': item['rows'], 'implementation': 'pandas (reference approach)',
            'cores': 1, 'seconds': measured['seconds'],
            'process_seconds': measured['process_seconds'],
            'peak_rss_mib': measured['peak_rss_mib'],
            'rows_per_second': item['rows'] / measured['seconds'],
            'splits': measured['splits']})
        print(json.dumps(results['runs'][-1]), flush=True)

  results['targets'] = evaluate_targets(results)
  results['environment']['load_average_at_end'] = os.getloadavg()
  print(format_table(results))
  print(json.dumps(results['targets'], indent=2))
  if args.output:
    with open(args.output, 'w', encoding='utf-8') as f:
      json.dump(results, f, indent=2)
  return 0


if __name__ == '__main__':
  sys.exit(main())
