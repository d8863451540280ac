"""Reads the outputs of a finished local pipeline run from ML Metadata and writes results.json.

The latest `pipeline_run` context of a pipeline lists one execution per component, cached or
not; each execution's output events lead to the artifacts (URIs and custom properties) that the
run used. From them this module collects test metrics (TFMA), the blessing, the pushed model,
the trainer's summary and the data-validation anomalies.
"""

import datetime
import json
import os
import platform
import sys
from typing import Any, Dict, List, Mapping, Optional, Sequence

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
import tensorflow as tf

_OUTPUT_EVENTS = (metadata_store_pb2.Event.OUTPUT, metadata_store_pb2.Event.DECLARED_OUTPUT)


def _store(metadata_path: str) -> metadata_store.MetadataStore:
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = metadata_path
  config.sqlite.connection_mode = metadata_store_pb2.SqliteMetadataSourceConfig.READONLY
  return metadata_store.MetadataStore(config)


def _custom_properties(artifact) -> Dict[str, Any]:
  out = {}
  for key, value in artifact.custom_properties.items():
    kind = value.WhichOneof('value')
    out[key] = getattr(value, kind) if kind in ('int_value', 'double_value',
                                               'string_value') else str(value)
  return out


def latest_run_outputs(metadata_path: str, pipeline_name: str) -> Dict[str, Dict[str, Any]]:
  """Returns {component id: {'state', 'seconds', 'outputs': {key: [{'uri', 'properties'}]}}}
  for the latest run of a pipeline."""
  store = _store(metadata_path)
  prefix = f'{pipeline_name}.'
  runs = sorted(store.get_contexts_by_type('pipeline_run'),
                key=lambda c: c.create_time_since_epoch, reverse=True)
  executions = []
  for run in runs:
    executions = store.get_executions_by_context(run.id)
    if any(c.name.startswith(prefix) for e in executions[:1]
           for c in store.get_contexts_by_execution(e.id)):
      break
  else:
    raise ValueError(f'No run of pipeline {pipeline_name!r} in {metadata_path}.')

  result = {}
  for execution in executions:
    nodes = [c.name for c in store.get_contexts_by_execution(execution.id) if c.type == 'node']
    node = next((n[len(prefix):] for n in nodes if n.startswith(prefix)), None)
    if node is None:
      continue
    outputs: Dict[str, List[Dict[str, Any]]] = {}
    events = [e for e in store.get_events_by_execution_ids([execution.id])
              if e.type in _OUTPUT_EVENTS]
    artifacts = {a.id: a for a in store.get_artifacts_by_id([e.artifact_id for e in events])}
    for event in events:
      key = event.path.steps[0].key if event.path.steps else 'output'
      artifact = artifacts[event.artifact_id]
      outputs.setdefault(key, []).append({'uri': artifact.uri,
                                          'properties': _custom_properties(artifact)})
    result[node] = {
        'state': metadata_store_pb2.Execution.State.Name(execution.last_known_state),
        'seconds': max(0.0, (execution.last_update_time_since_epoch -
                             execution.create_time_since_epoch) / 1000.0),
        'outputs': outputs,
    }
  return result


def load_tfma_metrics(evaluation_uri: str) -> Dict[str, Dict[str, float]]:
  """Returns {output name: {metric name: value}} of the overall slice of a TFMA evaluation."""
  import tensorflow_model_analysis as tfma  # pylint: disable=import-outside-toplevel

  metrics: Dict[str, Dict[str, float]] = {}
  for record in tfma.load_metrics(evaluation_uri):
    if record.slice_key.single_slice_keys:
      continue
    for key_and_value in record.metric_keys_and_values:
      output = key_and_value.key.output_name or ''
      value = key_and_value.value
      if value.HasField('double_value'):
        metrics.setdefault(output, {})[key_and_value.key.name] = value.double_value.value
  return metrics


def metrics_per_objective(metrics: Mapping[str, Mapping[str, float]],
                          labels: Sequence[str]) -> Dict[str, Dict[str, float]]:
  """Returns {objective: metrics} from `load_tfma_metrics` output.

  A one-output model reports its metrics under the empty output name, which stands for its
  only objective. A multi-output model reports one named output per objective; its empty
  output holds only the summed training loss and is left out.

  Example:
    metrics_per_objective({'': {'loss': 0.6}, 'click': {'auc': 0.7}}, ['click', 'like'])
    # {'click': {'auc': 0.7}}
  """
  per_objective = {}
  for output, values in metrics.items():
    if not output and len(labels) > 1:
      continue
    per_objective[output or labels[0]] = dict(values)
  return per_objective


def objective_summaries(metrics: Mapping[str, Mapping[str, float]],
                        labels: Sequence[str]) -> Dict[str, Dict[str, Optional[float]]]:
  """Returns {objective: {auc, log_loss, examples, mean_label, mean_prediction, calibration}}.

  `metrics` is `load_tfma_metrics` output; a value TFMA did not compute is None.
  """
  summaries = {}
  for name, values in metrics_per_objective(metrics, labels).items():
    summaries[name] = {
        'auc': values.get('auc'),
        'log_loss': values.get('log_loss', values.get('binary_crossentropy')),
        'examples': values.get('example_count'),
        'mean_label': values.get('mean_label'),
        'mean_prediction': values.get('mean_prediction'),
        'calibration': values.get('calibration'),
    }
  return summaries


def is_blessed(blessing_uri: str) -> bool:
  return tf.io.gfile.exists(os.path.join(blessing_uri, 'BLESSED'))


def read_anomalies(anomalies_uri: str) -> Dict[str, List[str]]:
  """Returns {split: [anomaly descriptions]} from an ExampleValidator output."""
  from tensorflow_metadata.proto.v0 import anomalies_pb2  # pylint: disable=import-outside-toplevel

  found = {}
  for split_dir in sorted(tf.io.gfile.glob(os.path.join(anomalies_uri, 'Split-*'))):
    split = os.path.basename(split_dir)[len('Split-'):]
    descriptions = []
    for path in tf.io.gfile.glob(os.path.join(split_dir, '*')):
      anomalies = anomalies_pb2.Anomalies()
      anomalies.ParseFromString(tf.io.gfile.GFile(path, 'rb').read())
      for feature, info in anomalies.anomaly_info.items():
        descriptions.append(f'{feature}: {info.short_description}')
    found[split] = descriptions
  return found


def environment() -> Dict[str, Any]:
  """Describes the software and machine of the run."""
  import apache_beam  # pylint: disable=import-outside-toplevel
  import tfx  # pylint: disable=import-outside-toplevel

  return {
      'python': sys.version.split()[0],
      'tensorflow': tf.__version__,
      'tfx': tfx.__version__,
      'apache_beam': apache_beam.__version__,
      'platform': platform.platform(),
      'processor': platform.machine(),
      'cpu_count': os.cpu_count(),
  }


def write_results(path: str, payload: Mapping[str, Any]) -> None:
  tf.io.gfile.makedirs(os.path.dirname(path))
  with tf.io.gfile.GFile(path, 'w') as f:
    f.write(json.dumps(payload, indent=2, sort_keys=True, default=str))


def timestamp() -> str:
  return datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')


def first_uri(outputs: Mapping[str, Any], component: str, key: str) -> Optional[str]:
  items = outputs.get(component, {}).get('outputs', {}).get(key, [])
  return items[0]['uri'] if items else None


def first_properties(outputs: Mapping[str, Any], component: str, key: str) -> Dict[str, Any]:
  items = outputs.get(component, {}).get('outputs', {}).get(key, [])
  return items[0]['properties'] if items else {}
