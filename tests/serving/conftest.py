"""Session fixtures of the serving tests: one CTR and one sequential export, one test double."""

import os
import pathlib
import sys

import pytest

import serving_exports as exports


@pytest.fixture(scope='session')
def serving_work_dir(tmp_path_factory) -> pathlib.Path:
  return tmp_path_factory.mktemp('serving')


@pytest.fixture(scope='session')
def serving_base(serving_work_dir) -> str:
  return str(serving_work_dir / 'serving')


@pytest.fixture(scope='session')
def ctr_export(serving_base, serving_work_dir) -> str:
  return exports.build_ctr_export(serving_base, str(serving_work_dir))


@pytest.fixture(scope='session')
def sequential_export(serving_base) -> str:
  return exports.build_sequential_export(serving_base)


@pytest.fixture(scope='session')
def test_split(ctr_export, serving_work_dir) -> str:
  """The examples folder (with Split-test) written beside the CTR export."""
  return str(serving_work_dir / 'examples')


@pytest.fixture(scope='session')
def test_double(ctr_export, sequential_export, serving_base):
  """The TestingModelServer serving both exports on 127.0.0.1 for the whole session."""
  from serving import testing_server  # pylint: disable=import-outside-toplevel

  models = {exports.CTR_MODEL: os.path.join(serving_base, exports.CTR_MODEL),
            exports.SEQUENTIAL_MODEL: os.path.join(serving_base, exports.SEQUENTIAL_MODEL)}
  server = testing_server.TestingModelServer(models, max_batch_size=64)
  server.start()
  yield server
  server.stop()


@pytest.fixture(scope='session')
def stand_in_model_server(tmp_path_factory) -> str:
  """An executable that runs the test double with tensorflow_model_server's flags.

  Tests of real_server and serve-bench use it where the real binary is not installed.
  """
  repo_root = pathlib.Path(__file__).resolve().parents[2]
  path = tmp_path_factory.mktemp('bin') / 'tensorflow_model_server'
  path.write_text('#!/bin/sh\n'
                  f'PYTHONPATH="{repo_root}${{PYTHONPATH:+:$PYTHONPATH}}" '
                  f'exec "{sys.executable}" -m serving.testing_server "$@"\n')
  path.chmod(0o755)
  return str(path)
