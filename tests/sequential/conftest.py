"""Fixtures of the sequential-model tests."""

import pytest

import sbr_fixture


@pytest.fixture(scope='session')
def sbr_examples_dir(tmp_path_factory) -> str:
  """A leave-last-out SBR dataset of 36 users over 24 items, two gzip shards per split."""
  directory = str(tmp_path_factory.mktemp('sbr_examples'))
  return sbr_fixture.write_sbr_dataset(directory, sbr_fixture.user_sequences())
