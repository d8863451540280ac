"""Tests of pipeline.results: reading a run's outputs from ML Metadata, anomalies, blessing."""

import os

from ml_metadata import metadata_store
from ml_metadata.proto import metadata_store_pb2
import pytest
import tensorflow as tf
from tensorflow_metadata.proto.v0 import anomalies_pb2

from pipeline import results


def _make_store(path):
  config = metadata_store_pb2.ConnectionConfig()
  config.sqlite.filename_uri = path
  return metadata_store.MetadataStore(config)


def _add_run(store, pipeline_name, run_name, node_outputs, state):
  run_type = store.put_context_type(metadata_store_pb2.ContextType(name='pipeline_run'))
  node_type = store.put_context_type(metadata_store_pb2.ContextType(name='node'))
  execution_type = store.put_execution_type(metadata_store_pb2.ExecutionType(name='component'))
  artifact_type = store.put_artifact_type(metadata_store_pb2.ArtifactType(name='Artifact'))
  [run_id] = store.put_contexts([metadata_store_pb2.Context(type_id=run_type, name=run_name)])
  for node, outputs in node_outputs.items():
    node_contexts = [c for c in store.get_contexts_by_type('node')
                     if c.name == f'{pipeline_name}.{node}']
    if node_contexts:
      node_id = node_contexts[0].id
    else:
      [node_id] = store.put_contexts([metadata_store_pb2.Context(
          type_id=node_type, name=f'{pipeline_name}.{node}')])
    execution = metadata_store_pb2.Execution(type_id=execution_type, last_known_state=state)
    artifacts_and_events = []
    for key, uri in outputs.items():
      artifact = metadata_store_pb2.Artifact(type_id=artifact_type, uri=uri)
      artifact.custom_properties['pushed'].int_value = 1
      event = metadata_store_pb2.Event(type=metadata_store_pb2.Event.OUTPUT)
      event.path.steps.add().key = key
      event.path.steps.add().index = 0
      artifacts_and_events.append((artifact, event))
    store.put_execution(execution, artifacts_and_events, [
        metadata_store_pb2.Context(id=run_id, type_id=run_type, name=run_name),
        metadata_store_pb2.Context(id=node_id, type_id=node_type,
                                   name=f'{pipeline_name}.{node}')])


def test_latest_run_outputs_reads_newest_run(tmp_path):
  path = str(tmp_path / 'md.sqlite')
  store = _make_store(path)
  _add_run(store, 'p', 'run-1', {'Trainer': {'model': '/old/model'}},
           metadata_store_pb2.Execution.COMPLETE)
  _add_run(store, 'p', 'run-2', {'Trainer': {'model': '/new/model'},
                                 'Pusher': {'pushed_model': '/push'}},
           metadata_store_pb2.Execution.CACHED)
  del store

  outputs = results.latest_run_outputs(path, 'p')
  assert sorted(outputs) == ['Pusher', 'Trainer']
  assert outputs['Trainer']['state'] == 'CACHED'
  assert results.first_uri(outputs, 'Trainer', 'model') == '/new/model'
  assert results.first_properties(outputs, 'Pusher', 'pushed_model') == {'pushed': 1}
  assert results.first_uri(outputs, 'Evaluator', 'evaluation') is None


def test_latest_run_outputs_unknown_pipeline(tmp_path):
  path = str(tmp_path / 'md.sqlite')
  store = _make_store(path)
  _add_run(store, 'p', 'run-1', {'Trainer': {'model': '/m'}},
           metadata_store_pb2.Execution.COMPLETE)
  del store
  with pytest.raises(ValueError, match="'other'"):
    results.latest_run_outputs(path, 'other')


def test_is_blessed(tmp_path):
  assert not results.is_blessed(str(tmp_path))
  (tmp_path / 'BLESSED').write_text('')
  assert results.is_blessed(str(tmp_path))


def test_read_anomalies(tmp_path):
  split = tmp_path / 'Split-test'
  split.mkdir()
  anomalies = anomalies_pb2.Anomalies()
  anomalies.anomaly_info['age'].short_description = 'Unexpected large value'
  (split / 'SchemaDiff.pb').write_bytes(anomalies.SerializeToString())
  (tmp_path / 'Split-train').mkdir()
  assert results.read_anomalies(str(tmp_path)) == {
      'test': ['age: Unexpected large value'], 'train': []}


def test_write_results_creates_folders(tmp_path):
  path = str(tmp_path / 'a' / 'b' / 'results.json')
  results.write_results(path, {'x': 1})
  assert os.path.exists(path)
  assert tf.io.gfile.GFile(path).read().strip().startswith('{')


def test_environment_lists_versions():
  environment = results.environment()
  assert environment['tensorflow'] == tf.__version__
  assert environment['cpu_count'] >= 1


def test_metrics_per_objective_single_output():
  metrics = {'': {'auc': 0.7, 'log_loss': 0.5}}
  assert results.metrics_per_objective(metrics, ['click']) == {'click': {'auc': 0.7,
                                                                        'log_loss': 0.5}}


def test_metrics_per_objective_drops_summed_loss():
  metrics = {'': {'loss': 0.67}, 'click': {'auc': 0.77}, 'like': {'auc': 0.76}}
  per_objective = results.metrics_per_objective(metrics, ['click', 'like'])
  assert per_objective == {'click': {'auc': 0.77}, 'like': {'auc': 0.76}}


def test_metrics_per_objective_empty():
  assert results.metrics_per_objective({}, ['click', 'like']) == {}
