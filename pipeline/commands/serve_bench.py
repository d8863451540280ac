"""`tenrec serve-bench`: inference latency and throughput of an exported model.

Measures p50/p95/p99 latency and examples per second at each batch size, after warm-up, for:

  (a) in-process calls of the exported signature (always);
  (b) a running TF Serving endpoint given by --rest-url and/or --grpc-address;
  (c) a `tensorflow_model_server` started on loopback with --start-model-server, when the
      binary is on PATH or given by --model-server-binary.

Targets (b) and (c) that are not requested or not possible are reported as skipped, with the
reason, in the table and the JSON results.
"""

import argparse
import json
import logging
import os
import sys
import tempfile
from typing import Any, Dict, List, Optional

from pipeline.commands import common_args

DEFAULT_BATCH_SIZES = '1,32,256'


def add_parser(subparsers) -> None:
  parser = subparsers.add_parser(
      'serve-bench', help='Measure inference latency and throughput of an exported model.',
      description='Measure latency percentiles (p50/p95/p99, in milliseconds per request) and '
      'throughput (examples/s) of an exported signature at several batch sizes: in-process, '
      'against a TF Serving endpoint, and against a tensorflow_model_server started on '
      '127.0.0.1. One client sends one request at a time.',
      formatter_class=common_args.HelpFormatter)
  parser.add_argument('--model-dir', required=True,
                      help='SavedModel version folder, model base path (latest version) or '
                      'serving base path containing one model.')
  parser.add_argument('--signature', default='serving_default',
                      help='Signature to benchmark (serving_default, serving_raw, top_k).')
  parser.add_argument('--batch-sizes', default=DEFAULT_BATCH_SIZES,
                      help='Comma-separated batch sizes (examples per request).')
  parser.add_argument('--warmup', type=common_args.at_least(0), default=20,
                      help='Untimed calls per batch size before timing.')
  parser.add_argument('--requests', type=common_args.at_least(1), default=200,
                      help='Timed calls per batch size; their latencies in milliseconds give '
                      'the p50, p95 and p99 columns.')

  parser.add_argument('--examples', default=None,
                      help='TFRecord file pattern, or the examples folder of a run (its '
                      'Split-test is read), with serialized tf.Example inputs. Default: inputs '
                      'synthesized from the signature and the vocabulary assets.')
  parser.add_argument('--pool-size', type=common_args.at_least(1), default=1024,
                      help='Distinct examples read or synthesized; batches cycle through them.')
  parser.add_argument('--top-k', type=common_args.at_least(1), default=10,
                      help='k of a top-k signature.')
  parser.add_argument('--sequence-length', type=common_args.at_least(1), default=30,
                      help='Longest synthesized history of a sequential model (items).')
  parser.add_argument('--seed', type=int, default=0, help='Seed of synthesized inputs.')

  parser.add_argument('--rest-url', default=None,
                      help='Root URL of a running TF Serving REST API, for example '
                      'http://127.0.0.1:8501.')
  parser.add_argument('--grpc-address', default=None,
                      help='HOST:PORT of a running TF Serving gRPC API, for example '
                      '127.0.0.1:8500.')
  parser.add_argument('--model-name', default=None,
                      help='Served model name (default: the model base path folder name).')
  parser.add_argument('--model-version', type=int, default=None,
                      help='Served version to call (default: the server\'s latest).')
  parser.add_argument('--request-format', choices=('columnar', 'row'), default='columnar',
                      help='REST body format: "inputs" (columnar) or "instances" (row).')
  parser.add_argument('--start-model-server', action='store_true',
                      help='Start tensorflow_model_server on 127.0.0.1 with this model and '
                      'benchmark its REST and gRPC APIs.')
  parser.add_argument('--model-server-binary', default=None,
                      help='Path of tensorflow_model_server (default: found on PATH).')

  parser.add_argument('--json', default=None, metavar='OUT',
                      help='Write the results to this JSON file.')
  parser.set_defaults(run=run)


def parse_batch_sizes(text: str) -> List[int]:
  """Parses --batch-sizes.

  Raises:
    common_args.UsageError: The text is not a comma-separated list of integers >= 1.
  """
  try:
    sizes = [int(part) for part in text.split(',') if part.strip()]
  except ValueError:
    raise common_args.UsageError(
        f'--batch-sizes must be comma-separated integers, got {text!r}.') from None
  if not sizes or any(size < 1 for size in sizes):
    raise common_args.UsageError(
        f'--batch-sizes must list integers of at least 1, got {text!r}.')
  return sizes


def _model_name_and_version(export_dir: str, args: argparse.Namespace):
  folder = os.path.basename(os.path.normpath(export_dir))
  version = int(folder) if folder.isdigit() else None
  base_path = os.path.dirname(os.path.normpath(export_dir)) if version is not None else None
  name = args.model_name or (os.path.basename(base_path) if base_path else folder)
  return name, version, base_path


def _measure_client(name: str, client, pool, args, batch_sizes, reference) -> Dict[str, Any]:
  from serving import bench  # pylint: disable=import-outside-toplevel
  from serving import request as request_lib  # pylint: disable=import-outside-toplevel

  try:
    target = bench.ClientTarget(name, client, args.signature, args.request_format)
    first = pool.batch(0, batch_sizes[0])
    outputs = target.call(target.prepare(first))
    results = bench.benchmark_target(target, pool, batch_sizes, args.warmup, args.requests)
  except (request_lib.ServingError, request_lib.RequestError, OSError) as error:
    logging.error('Benchmark of %s failed: %s', name, error)
    return {'status': 'failed', 'error': str(error)}
  return {'status': 'measured', 'results': results,
          'max_abs_difference_vs_in_process': bench.max_abs_difference(outputs, reference)}


def _run_remote(args, pool, batch_sizes, reference, model_name, report) -> None:
  from serving import grpc_client  # pylint: disable=import-outside-toplevel
  from serving import rest_client  # pylint: disable=import-outside-toplevel

  if args.rest_url:
    with rest_client.RestClient(args.rest_url, model_name, args.model_version) as client:
      report['rest'] = _measure_client('rest', client, pool, args, batch_sizes, reference)
  else:
    report['rest'] = {'status': 'skipped', 'reason': 'no --rest-url given'}
  if args.grpc_address:
    with grpc_client.GrpcClient(args.grpc_address, model_name, args.model_version) as client:
      report['grpc'] = _measure_client('grpc', client, pool, args, batch_sizes, reference)
  else:
    report['grpc'] = {'status': 'skipped', 'reason': 'no --grpc-address given'}


def _run_model_server(args, export_dir, pool, batch_sizes, reference, model_name, version,
                      base_path, report) -> None:
  from serving import grpc_client  # pylint: disable=import-outside-toplevel
  from serving import layout  # pylint: disable=import-outside-toplevel
  from serving import real_server  # pylint: disable=import-outside-toplevel
  from serving import rest_client  # pylint: disable=import-outside-toplevel

  if not args.start_model_server:
    report['model_server'] = {'status': 'skipped', 'reason': '--start-model-server not set'}
    return
  binary = real_server.find_model_server_binary(args.model_server_binary)
  if binary is None:
    report['model_server'] = {
        'status': 'skipped',
        'reason': f'{real_server.BINARY_NAME} is not on PATH; install TF Serving\'s '
                  'tensorflow-model-server package or pass --model-server-binary'}
    return
  if version is None:
    report['model_server'] = {
        'status': 'skipped',
        'reason': f'{export_dir} is not a numeric version folder of a model base path, which '
                  'TF Serving needs'}
    return

  with tempfile.TemporaryDirectory(prefix='tenrec-serve-bench-') as config_dir:
    entry = layout.ModelEntry(name=model_name, base_path=base_path,
                              version_policy=layout.SPECIFIC, versions=(version,))
    paths = layout.write_serving_configs(base_path, config_dir, entries=[entry])
    server = real_server.ModelServerProcess(
        binary, paths['models_config'], monitoring_config_file=paths['monitoring_config'],
        log_path=os.path.join(config_dir, 'model_server.log'))
    try:
      server.start()
      server.wait_until_ready([model_name])
      results: Dict[str, Any] = {'status': 'measured', 'binary': binary, 'pid': server.pid}
      with rest_client.RestClient(server.rest_url, model_name, version) as client:
        results['rest'] = _measure_client('model_server_rest', client, pool, args, batch_sizes,
                                          reference)
      with grpc_client.GrpcClient(server.grpc_address, model_name, version) as client:
        results['grpc'] = _measure_client('model_server_grpc', client, pool, args, batch_sizes,
                                          reference)
      report['model_server'] = results
    except real_server.ModelServerError as error:
      logging.error('%s', error)
      report['model_server'] = {'status': 'failed', 'binary': binary, 'error': str(error)}
    finally:
      server.stop()


def run(args: argparse.Namespace) -> int:
  from serving import bench  # pylint: disable=import-outside-toplevel
  from serving import layout  # pylint: disable=import-outside-toplevel

  batch_sizes = parse_batch_sizes(args.batch_sizes)
  if args.warmup < 0 or args.requests < 1:
    raise common_args.UsageError(f'--warmup must be >= 0 and --requests >= 1, got '
                                 f'{args.warmup} and {args.requests}.')
  if '://' not in args.model_dir and not os.path.isdir(args.model_dir):
    raise common_args.UsageError(
        f'--model-dir {args.model_dir}: folder not found. Pass the SavedModel version folder, '
        'the model base path or the serving base path of an exported model.')
  try:
    export_dir = layout.resolve_export_dir(args.model_dir)
    pool = bench.prepare_inputs(export_dir, args.signature, args.examples, args.pool_size,
                                args.top_k, args.sequence_length, args.seed)
  except (layout.LayoutError, bench.BenchmarkInputError, FileNotFoundError) as error:
    print(f'tenrec serve-bench: error: {error}', file=sys.stderr)
    return 2
  model_name, version, base_path = _model_name_and_version(export_dir, args)
  logging.info('Benchmarking %s signature %s with %d %s.', export_dir, args.signature,
               pool.size, pool.source)

  in_process = bench.InProcessTarget(export_dir, args.signature)
  reference = in_process.call(in_process.prepare(pool.batch(0, batch_sizes[0])))
  targets: Dict[str, Any] = {'in_process': {
      'status': 'measured',
      'results': bench.benchmark_target(in_process, pool, batch_sizes, args.warmup,
                                        args.requests)}}
  _run_remote(args, pool, batch_sizes, reference, model_name, targets)
  _run_model_server(args, export_dir, pool, batch_sizes, reference, model_name, version,
                    base_path, targets)

  report = {
      'command': ' '.join(['tenrec'] + sys.argv[1:]) if sys.argv else 'tenrec serve-bench',
      'export_dir': export_dir,
      'model_name': model_name,
      'model_version': version,
      'signature': args.signature,
      'inputs': {'source': pool.source, 'distinct_examples': pool.size},
      'settings': {'batch_sizes': batch_sizes, 'warmup': args.warmup,
                   'requests': args.requests, 'request_format': args.request_format,
                   'clients': 'one closed-loop client, one request in flight'},
      'environment': bench.environment(),
      'targets': targets,
  }
  print(format_report(report))
  if args.json:
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, 'w', encoding='utf-8') as f:
      json.dump(report, f, indent=2, sort_keys=True)
    print(f'Results: {args.json}')
  failed = [name for name, target in _flatten_targets(targets) if target['status'] == 'failed']
  return 1 if failed else 0


def _flatten_targets(targets: Dict[str, Any]):
  for name, target in targets.items():
    if name == 'model_server' and target.get('status') == 'measured':
      yield 'model_server_rest', target['rest']
      yield 'model_server_grpc', target['grpc']
    else:
      yield name, target


def format_report(report: Dict[str, Any]) -> str:
  """Formats the results as a plain-text table, one row per target and batch size."""
  lines = [f'Model {report["model_name"]} ({report["export_dir"]}), signature '
           f'{report["signature"]}; inputs: {report["inputs"]["source"]}',
           f'{report["settings"]["warmup"]} warm-up and {report["settings"]["requests"]} timed '
           f'requests per batch size; {report["settings"]["clients"]}.',
           '',
           f'{"target":<20} {"batch":>6} {"p50 ms":>9} {"p95 ms":>9} {"p99 ms":>9} '
           f'{"examples/s":>12}']
  for name, target in _flatten_targets(report['targets']):
    if target['status'] != 'measured':
      detail = target.get('reason') or target.get('error')
      lines.append(f'{name:<20} {target["status"]}: {detail}')
      continue
    for row in target['results']:
      lines.append(f'{name:<20} {row["batch_size"]:>6} {row["p50_ms"]:>9.3f} '
                   f'{row["p95_ms"]:>9.3f} {row["p99_ms"]:>9.3f} '
                   f'{row["examples_per_second"]:>12.1f}')
    difference = target.get('max_abs_difference_vs_in_process')
    if difference is not None:
      lines.append(f'{"":<20} outputs differ from in-process by at most {difference:.3g}')
  return '\n'.join(lines)
