"""Task builders by task name, created from JSON-compatible option dictionaries.

The TFX component and the `tenrec build` command pass options as dictionaries, so every
builder module provides an options class with `from_dict` and a builder class that takes it.
"""

import importlib
from typing import Any, Dict, List, Mapping, Optional

from components.builders import base

# Task name -> (module, builder class, options class).
_BUILDERS: Dict[str, tuple] = {
    'ctr': ('components.builders.ctr', 'CtrBuilder', 'CtrOptions'),
    'sbr': ('components.builders.sbr', 'SbrBuilder', 'SbrOptions'),
    'mtl': ('components.builders.mtl', 'create_mtl_builder', 'MtlOptions'),
    'transfer': ('components.builders.transfer', 'TransferBuilder', 'TransferOptions'),
    'profile': ('components.builders.profile', 'ProfileBuilder', 'ProfileOptions'),
    'coldstart': ('components.builders.coldstart', 'ColdStartBuilder', 'ColdStartOptions'),
    'lifelong': ('components.builders.lifelong', 'LifelongBuilder', 'LifelongOptions'),
    'infacc': ('components.builders.infacc', 'InfaccBuilder', 'InfaccOptions'),
}


def register_builder(task: str, module: str, builder_class: str, options_class: str) -> None:
  """Registers a builder for a task (used by builder modules outside this file)."""
  _BUILDERS[task] = (module, builder_class, options_class)


def available_tasks() -> List[str]:
  return sorted(_BUILDERS)


def create_builder(task: str, options: Optional[Mapping[str, Any]] = None) -> base.TaskBuilder:
  """Returns the builder of `task` configured with `options`.

  Raises:
    ValueError: The task is unknown or an option is unknown or invalid.
  """
  if task not in _BUILDERS:
    raise ValueError(f'Unknown task {task!r}; available: {", ".join(available_tasks())}.')
  module_name, builder_name, options_name = _BUILDERS[task]
  module = importlib.import_module(module_name)
  options_type = getattr(module, options_name)
  return getattr(module, builder_name)(options_type.from_dict(dict(options or {})))
