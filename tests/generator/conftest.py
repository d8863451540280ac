"""Fixtures shared by the generator tests: generated datasets, built once per test session.

With pytest-xdist every worker runs session fixtures itself, so each dataset is generated
under a file lock in the folder that all workers share and reused when it already exists.
"""

import contextlib
import fcntl
import pathlib

import pytest

from components import generator

# About 1,500 QK-video users and 150,000 rows in all; generated in a few seconds.
SMALL_SCALE = 0.0003
SMALL_SEED = 11
DEFAULT_SEED = 5


@contextlib.contextmanager
def _locked(path: pathlib.Path):
  with open(path, 'w', encoding='ascii') as handle:
    fcntl.flock(handle, fcntl.LOCK_EX)
    try:
      yield
    finally:
      fcntl.flock(handle, fcntl.LOCK_UN)


def _shared_dataset(tmp_path_factory, name: str, scale: float, seed: int) -> pathlib.Path:
  root = tmp_path_factory.getbasetemp()
  if root.name.startswith('popen-gw'):
    root = root.parent
  out = root / name
  with _locked(root / f'{name}.lock'):
    if not (out / 'generation.json').exists():
      generator.generate(out, scale=scale, seed=seed, overwrite=True)
  return out


@pytest.fixture(scope='session')
def small_settings() -> dict:
  """Scale and seed of `small_dataset`."""
  return {'scale': SMALL_SCALE, 'seed': SMALL_SEED}


@pytest.fixture(scope='session')
def small_dataset(tmp_path_factory) -> pathlib.Path:
  return _shared_dataset(tmp_path_factory, 'generated-small', SMALL_SCALE, SMALL_SEED)


@pytest.fixture(scope='session')
def default_dataset(tmp_path_factory) -> pathlib.Path:
  return _shared_dataset(tmp_path_factory, 'generated-default', generator.DEFAULT_SCALE,
                         DEFAULT_SEED)
