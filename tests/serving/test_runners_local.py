"""Tests of pipeline.runners.local (LocalDagRunner is replaced by a recorder)."""

import logging

from tfx import v1 as tfx

from pipeline.runners import local


class RecordingRunner:
  """Stands in for LocalDagRunner: records the pipeline and logs like a running component."""

  runs = []

  def run(self, pipeline):
    RecordingRunner.runs.append(pipeline)
    logging.getLogger('absl').info('Component Trainer is running.')


def test_run_local_hands_pipeline_to_runner(monkeypatch, caplog):
  monkeypatch.setattr(tfx.orchestration, 'LocalDagRunner', RecordingRunner)
  caplog.set_level(logging.INFO)
  pipeline = object()
  local.run_local(pipeline)
  assert RecordingRunner.runs == [pipeline]
  assert any('[6/8] Trainer started' in r.getMessage() for r in caplog.records)
