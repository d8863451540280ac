"""Registry of model builders, keyed by task and model name.

Every baseline registers a `ModelSpec` when its module is imported. Trainers, the command line
and the benchmark look models up here, so adding a model means adding one module and one line
in `models/catalog.py` (the list of modules to import).

Example:

  from models import registry
  spec = registry.get_model('ctr', 'deepfm')
  model = spec.build(feature_info, spec.resolve_hparams({'embedding_dim': 16}))
"""

import dataclasses
import importlib
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple

# Tasks whose models are registered. Each task's input contract is documented in
# docs/architecture.md.
TASKS = ('ctr', 'mtl', 'sbr')


@dataclasses.dataclass(frozen=True)
class ModelSpec:
  """A registered model: how to build it and its default hyper-parameters.

  Attributes:
    task: Task the model solves (one of TASKS).
    name: Command-line name, lower case (for example 'deepfm').
    display_name: Name used in result tables (for example 'DeepFM').
    build: Callable (feature_info, hparams) -> tf_keras.Model. `feature_info` describes the
      task's input features (see models.features); `hparams` is the resolved dictionary.
    default_hparams: Defaults, taken from the Tenrec paper where it states them.
    description: One line for `tenrec run --help` and the docs.
    paper_metrics: Published metrics on real Tenrec data, shown beside ours and labelled as
      the paper's; empty when the paper reports none.
  """

  task: str
  name: str
  display_name: str
  build: Callable[..., Any]
  default_hparams: Mapping[str, Any]
  description: str = ''
  paper_metrics: Mapping[str, float] = dataclasses.field(default_factory=dict)

  def resolve_hparams(self, overrides: Optional[Mapping[str, Any]] = None) -> Dict[str, Any]:
    """Returns the defaults updated with `overrides`.

    Raises:
      ValueError: An override names a hyper-parameter the model does not have.
    """
    resolved = dict(self.default_hparams)
    for key, value in (overrides or {}).items():
      if key not in resolved:
        raise ValueError(
            f'Unknown hyper-parameter {key!r} for model {self.name!r}; known: '
            f'{", ".join(sorted(resolved))}.')
      resolved[key] = value
    return resolved


_REGISTRY: Dict[Tuple[str, str], ModelSpec] = {}


def register_model(spec: ModelSpec) -> ModelSpec:
  """Adds a model to the registry.

  Raises:
    ValueError: The task is unknown or the (task, name) pair is already registered.
  """
  if spec.task not in TASKS:
    raise ValueError(f'Unknown task {spec.task!r} for model {spec.name!r}; expected one of '
                     f'{", ".join(TASKS)}.')
  key = (spec.task, spec.name)
  if key in _REGISTRY and _REGISTRY[key] is not spec:
    raise ValueError(f'Model {spec.name!r} is already registered for task {spec.task!r}.')
  _REGISTRY[key] = spec
  return spec


def _load_catalog() -> None:
  importlib.import_module('models.catalog')


def get_model(task: str, name: str) -> ModelSpec:
  """Returns the spec of a registered model.

  Raises:
    ValueError: No model of that name is registered for the task.
  """
  _load_catalog()
  key = (task, name.lower())
  if key not in _REGISTRY:
    raise ValueError(
        f'Unknown model {name!r} for task {task!r}; available: '
        f'{", ".join(list_models(task)) or "none"}.')
  return _REGISTRY[key]


def list_models(task: str) -> List[str]:
  """Returns the names of the models registered for a task, in registration order."""
  _load_catalog()
  return [name for (model_task, name) in _REGISTRY if model_task == task]
