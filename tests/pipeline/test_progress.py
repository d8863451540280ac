"""Tests of pipeline.progress: component progress lines from LocalDagRunner log messages."""

import logging

from pipeline import progress


def _absl(message):
  logging.getLogger('absl').info(message)


def test_progress_reports_running_and_finished(caplog):
  caplog.set_level(logging.INFO, logger='tenrec.progress')
  with progress.ComponentProgress(['A', 'B'], quiet_tfx=False):
    _absl('Component B is running.')
    _absl('Component B is finished.')
  messages = [r.getMessage() for r in caplog.records if r.name == 'tenrec.progress']
  assert messages[0] == '[2/2] B started'
  assert messages[1].startswith('[2/2] B finished in ')
  assert 'cached' not in messages[1]


def test_progress_marks_cached_components(caplog):
  caplog.set_level(logging.INFO, logger='tenrec.progress')
  with progress.ComponentProgress(['A'], quiet_tfx=False):
    _absl('Component A is running.')
    _absl('A cached execution 12 is used.')
    _absl('Component A is finished.')
  finished = [r.getMessage() for r in caplog.records if r.name == 'tenrec.progress'][-1]
  assert finished.endswith('(cached result reused)')


def test_progress_unknown_component_position(caplog):
  caplog.set_level(logging.INFO, logger='tenrec.progress')
  with progress.ComponentProgress(['A'], quiet_tfx=False):
    _absl('Component Z is running.')
  assert [r.getMessage() for r in caplog.records
          if r.name == 'tenrec.progress'] == ['[?/1] Z started']


def test_quiet_filter_drops_tfx_info_only():
  quiet = progress._QuietAbslInfo()  # pylint: disable=protected-access

  def record(name, level):
    return logging.LogRecord(name, level, __file__, 1, 'message', None, None)

  assert not quiet.filter(record('absl', logging.INFO))
  assert not quiet.filter(record('apache_beam.runners', logging.INFO))
  assert quiet.filter(record('absl', logging.WARNING))
  assert quiet.filter(record('tenrec.progress', logging.INFO))


def test_progress_restores_logger_state():
  absl_logger = logging.getLogger('absl')
  level = absl_logger.level
  handlers = list(absl_logger.handlers)
  with progress.ComponentProgress(['A']):
    pass
  assert absl_logger.level == level
  assert absl_logger.handlers == handlers
