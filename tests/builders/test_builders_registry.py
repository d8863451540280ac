"""Tests of the builder registry."""

import pytest

from components.builders import registry

TASKS = ['coldstart', 'ctr', 'infacc', 'lifelong', 'mtl', 'profile', 'sbr', 'transfer']


def test_registry_lists_every_task():
  assert registry.available_tasks() == TASKS


@pytest.mark.parametrize('task', TASKS)
def test_registry_creates_builder(task):
  builder = registry.create_builder(task)
  assert builder.task == task
  assert builder.inputs()
  assert builder.options_dict()


def test_registry_options_round_trip():
  builder = registry.create_builder('coldstart', {'setting': 'mixed', 'cold_fraction': 0.7})
  again = registry.create_builder('coldstart', builder.options_dict())
  assert again.options == builder.options


def test_registry_unknown_task():
  with pytest.raises(ValueError, match='Unknown task'):
    registry.create_builder('ranking')
