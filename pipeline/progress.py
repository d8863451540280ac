"""Progress lines for local pipeline runs.

LocalDagRunner reports each component through absl INFO messages ("Component X is running.",
"A cached execution N is used."). `ComponentProgress` turns them into one short line per
component with its position, duration and whether the cached result was reused, and keeps the
rest of TFX's INFO output out of the console unless the log level is DEBUG.
"""

import logging
import re
import time
from typing import Optional, Sequence

_RUNNING = re.compile(r'^Component (\S+) is running\.$')
_FINISHED = re.compile(r'^Component (\S+) is finished\.$')
_CACHED = re.compile(r'^A cached execution \d+ is used\.$')

_logger = logging.getLogger('tenrec.progress')


_QUIET_LOGGERS = ('absl', 'apache_beam', 'tensorflow')


class _QuietAbslInfo(logging.Filter):
  """Drops INFO records of TFX, Beam and TensorFlow (their verbose per-component output)."""

  def filter(self, record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING:
      return True
    return not any(record.name == name or record.name.startswith(name + '.')
                   for name in _QUIET_LOGGERS)


class _ProgressHandler(logging.Handler):

  def __init__(self, order: Sequence[str]):
    super().__init__(level=logging.INFO)
    self._order = list(order)
    self._current: Optional[str] = None
    self._started = 0.0
    self._cached = False

  def emit(self, record: logging.LogRecord) -> None:
    message = record.getMessage()
    running = _RUNNING.match(message)
    if running:
      self._current = running.group(1)
      self._started = time.perf_counter()
      self._cached = False
      _logger.info('[%s] %s started', self._position(self._current), self._current)
      return
    if _CACHED.match(message):
      self._cached = True
      return
    finished = _FINISHED.match(message)
    if finished:
      name = finished.group(1)
      seconds = time.perf_counter() - self._started
      _logger.info('[%s] %s finished in %.1f s%s', self._position(name), name, seconds,
                   ' (cached result reused)' if self._cached else '')

  def _position(self, name: str) -> str:
    total = len(self._order)
    if name in self._order:
      return f'{self._order.index(name) + 1}/{total}'
    return f'?/{total}'


class ComponentProgress:
  """Context manager that reports component progress of a LocalDagRunner run."""

  def __init__(self, order: Sequence[str], quiet_tfx: bool = True):
    self._handler = _ProgressHandler(order)
    self._filter = _QuietAbslInfo()
    self._quiet = quiet_tfx and logging.getLogger().getEffectiveLevel() > logging.DEBUG
    self._absl_level = None

  def __enter__(self):
    absl_logger = logging.getLogger('absl')
    self._absl_level = absl_logger.level
    absl_logger.setLevel(logging.INFO)
    absl_logger.addHandler(self._handler)
    if self._quiet:
      for handler in logging.getLogger().handlers:
        handler.addFilter(self._filter)
    return self

  def __exit__(self, *exc_info):
    absl_logger = logging.getLogger('absl')
    absl_logger.removeHandler(self._handler)
    absl_logger.setLevel(self._absl_level)
    for handler in logging.getLogger().handlers:
      handler.removeFilter(self._filter)
    return False
