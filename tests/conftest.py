"""Shared pytest set-up: tf-keras selection, the shared public data folder, fixtures."""

import os
import pathlib

# Must precede the first TensorFlow import of the test session.
os.environ['TF_USE_LEGACY_KERAS'] = '1'
os.environ.setdefault('TF_CPP_MIN_LOG_LEVEL', '2')

import pytest  # pylint: disable=wrong-import-position

REPO_ROOT = pathlib.Path(__file__).resolve().parent.parent


def shared_data_dir() -> pathlib.Path:
  """Returns the folder with the public MovieLens-100K and Amazon Beauty logs.

  TENREC_SHARED_DATA overrides the default, the `shared/data` folder beside the checkout
  (or beside /work/main when the checkout lives elsewhere, as in a CI clone).
  """
  override = os.environ.get('TENREC_SHARED_DATA')
  if override:
    return pathlib.Path(override)
  for candidate in (REPO_ROOT.parent / 'shared' / 'data', pathlib.Path('/work/shared/data')):
    if candidate.is_dir():
      return candidate
  return REPO_ROOT.parent / 'shared' / 'data'


@pytest.fixture
def public_data_dir() -> pathlib.Path:
  path = shared_data_dir()
  if not path.is_dir():
    pytest.skip(f'public data folder {path} not found; set TENREC_SHARED_DATA')
  return path
