"""TF Serving's model layout, `models.config` and the Prometheus monitoring config.

TF Serving reads a model from a *model base path* whose numeric sub-folders are versions:

  BASE_PATH/                  serving base path (`tenrec run --serving-dir`)
    ctr_deepfm/               model base path (`--model_base_path`), named after the model
      1796419990/             one version: a SavedModel folder
        saved_model.pb
        variables/
        assets/               Transform vocabularies
        assets.extra/         files TF Serving ignores (the training summary)

Non-numeric sub-folders are ignored by TF Serving, and the highest number is the latest
version. The TFX Pusher writes one version folder per push, named after the push time in
seconds.

Example:

  entries = discover_models('/tmp/out/serving')
  print(models_config_text(entries, container_base_path='/models'))

Run `python -m serving.layout BASE_PATH --output DIR` to write `models.config` and
`monitoring.config` for every model under BASE_PATH.
"""

import argparse
import dataclasses
import os
import re
import sys
from typing import Dict, List, Optional, Sequence, Tuple

from google.protobuf import text_format
import tensorflow as tf
from tensorflow_serving.config import model_server_config_pb2

LATEST = 'latest'
ALL = 'all'
SPECIFIC = 'specific'
VERSION_POLICIES = (LATEST, ALL, SPECIFIC)
MODEL_PLATFORM = 'tensorflow'
DEFAULT_PROMETHEUS_PATH = '/monitoring/prometheus/metrics'
MODELS_CONFIG_FILE = 'models.config'
MONITORING_CONFIG_FILE = 'monitoring.config'
# Model names appear in REST paths (/v1/models/NAME:predict), so they exclude '/' and ':'.
_MODEL_NAME = re.compile(r'^[A-Za-z0-9][A-Za-z0-9_.-]*$')


class LayoutError(ValueError):
  """A folder that TF Serving cannot serve as given; the message names the fix."""


@dataclasses.dataclass(frozen=True)
class ModelVersion:
  """One version folder of a model base path."""

  version: int
  path: str


@dataclasses.dataclass(frozen=True)
class ModelEntry:
  """One model of a `model_config_list`.

  Attributes:
    name: Served model name (the REST path and gRPC ModelSpec.name).
    base_path: Model base path, the folder with the numeric version folders.
    version_policy: 'latest' (the `num_versions` highest versions), 'all', or 'specific'
      (exactly `versions`).
    num_versions: Versions kept by the 'latest' policy.
    versions: Versions served by the 'specific' policy.
  """

  name: str
  base_path: str
  version_policy: str = LATEST
  num_versions: int = 1
  versions: Tuple[int, ...] = ()

  def __post_init__(self):
    if not _MODEL_NAME.match(self.name):
      raise LayoutError(f'model name {self.name!r} is invalid: use letters, digits, "_", "." and '
                        '"-", starting with a letter or digit.')
    if self.version_policy not in VERSION_POLICIES:
      raise LayoutError(f'version policy must be one of {VERSION_POLICIES}, got '
                        f'{self.version_policy!r}.')
    if self.version_policy == LATEST and self.num_versions < 1:
      raise LayoutError(f'num_versions must be at least 1, got {self.num_versions}.')
    if self.version_policy == SPECIFIC and not self.versions:
      raise LayoutError(f'model {self.name!r}: the specific version policy needs versions.')


def _is_saved_model(path: str) -> bool:
  return (tf.io.gfile.exists(os.path.join(path, 'saved_model.pb')) or
          tf.io.gfile.exists(os.path.join(path, 'saved_model.pbtxt')))


def _children(path: str) -> List[str]:
  return sorted(name.rstrip('/') for name in tf.io.gfile.listdir(path))


def list_versions(model_base_path: str) -> List[ModelVersion]:
  """Returns the version folders (numeric names with a SavedModel) in ascending order."""
  if not tf.io.gfile.isdir(model_base_path):
    return []
  versions = []
  for name in _children(model_base_path):
    path = os.path.join(model_base_path, name)
    if name.isdigit() and tf.io.gfile.isdir(path) and _is_saved_model(path):
      versions.append(ModelVersion(int(name), path))
  return sorted(versions, key=lambda v: v.version)


def check_model_base_path(model_base_path: str) -> List[str]:
  """Lists what would stop TF Serving from serving `model_base_path`; empty means servable."""
  if not tf.io.gfile.isdir(model_base_path):
    return [f'{model_base_path} does not exist or is not a folder.']
  if _is_saved_model(model_base_path):
    return [f'{model_base_path} is a SavedModel folder, not a model base path: TF Serving '
            f'expects numeric version folders inside it; pass its parent '
            f'{os.path.dirname(model_base_path.rstrip("/"))} or move the model to '
            f'{model_base_path.rstrip("/")}/1.']
  problems = []
  numeric = [name for name in _children(model_base_path) if name.isdigit()]
  for name in numeric:
    path = os.path.join(model_base_path, name)
    if not tf.io.gfile.isdir(path):
      problems.append(f'{path} is a file; a version must be a SavedModel folder.')
    elif not _is_saved_model(path):
      problems.append(f'version folder {path} has no saved_model.pb (an incomplete export?).')
    elif not tf.io.gfile.isdir(os.path.join(path, 'variables')):
      problems.append(f'version folder {path} has no variables/ folder.')
  if not numeric:
    problems.append(f'{model_base_path} has no numeric version folder; TF Serving serves '
                    'MODEL_BASE_PATH/<version>/saved_model.pb.')
  return problems


def discover_models(base_path: str) -> List[ModelEntry]:
  """Returns one entry (latest-version policy) per model folder with a servable version.

  Raises:
    LayoutError: `base_path` is missing or contains no servable model.
  """
  if not tf.io.gfile.isdir(base_path):
    raise LayoutError(f'serving base path {base_path} does not exist; run `tenrec run` (it '
                      'pushes to OUTPUT_DIR/serving) or pass --serving-dir.')
  entries = []
  for name in _children(base_path):
    path = os.path.join(base_path, name)
    if tf.io.gfile.isdir(path) and list_versions(path) and _MODEL_NAME.match(name):
      entries.append(ModelEntry(name=name, base_path=path))
  if not entries:
    raise LayoutError(f'{base_path} contains no model folder with a numeric version folder '
                      'containing saved_model.pb.')
  return entries


def select_versions(entry: ModelEntry) -> List[ModelVersion]:
  """Returns the versions TF Serving would load for `entry` under its version policy.

  Raises:
    LayoutError: The policy selects a version that does not exist, or no version exists.
  """
  versions = list_versions(entry.base_path)
  if not versions:
    raise LayoutError(f'model {entry.name!r}: no servable version in {entry.base_path}; '
                      + ' '.join(check_model_base_path(entry.base_path)))
  if entry.version_policy == ALL:
    return versions
  if entry.version_policy == LATEST:
    return versions[-entry.num_versions:]
  available = {v.version: v for v in versions}
  missing = sorted(set(entry.versions) - set(available))
  if missing:
    raise LayoutError(f'model {entry.name!r}: versions {missing} are not in {entry.base_path}; '
                      f'available: {sorted(available)}.')
  return [available[v] for v in sorted(entry.versions)]


def resolve_export_dir(path: str) -> str:
  """Returns the SavedModel folder meant by `path`.

  `path` may be a SavedModel (version) folder, a model base path (its latest version is used)
  or a serving base path that contains exactly one model.

  Raises:
    LayoutError: No SavedModel can be chosen; the message lists the candidates.
  """
  if _is_saved_model(path):
    return path
  versions = list_versions(path)
  if versions:
    return versions[-1].path
  if tf.io.gfile.isdir(path):
    models = [e for e in (_model_entry_or_none(path, n) for n in _children(path)) if e]
    if len(models) == 1:
      return list_versions(models[0].base_path)[-1].path
    if len(models) > 1:
      raise LayoutError(f'{path} contains several models ({", ".join(m.name for m in models)}); '
                        'pass one model folder or version folder.')
  raise LayoutError(f'{path} is neither a SavedModel folder nor a model base path with '
                    'numeric version folders.')


def _model_entry_or_none(base_path: str, name: str) -> Optional[ModelEntry]:
  path = os.path.join(base_path, name)
  if tf.io.gfile.isdir(path) and list_versions(path) and _MODEL_NAME.match(name):
    return ModelEntry(name=name, base_path=path)
  return None


def models_config(entries: Sequence[ModelEntry],
                  container_base_path: Optional[str] = None
                  ) -> model_server_config_pb2.ModelServerConfig:
  """Builds a ModelServerConfig with one `config` per model.

  Args:
    entries: The models to serve.
    container_base_path: When TF Serving reads the models from another path (a container
      mount such as /models), each base path becomes CONTAINER_BASE_PATH/NAME.

  Raises:
    LayoutError: Two entries share a model name.
  """
  names = [e.name for e in entries]
  duplicates = sorted({n for n in names if names.count(n) > 1})
  if duplicates:
    raise LayoutError(f'model names must be unique in models.config, repeated: {duplicates}.')
  config = model_server_config_pb2.ModelServerConfig()
  for entry in entries:
    model = config.model_config_list.config.add()
    model.name = entry.name
    model.base_path = (f'{container_base_path.rstrip("/")}/{entry.name}'
                       if container_base_path else entry.base_path)
    model.model_platform = MODEL_PLATFORM
    policy = model.model_version_policy
    if entry.version_policy == LATEST:
      policy.latest.num_versions = entry.num_versions
    elif entry.version_policy == ALL:
      policy.all.SetInParent()
    else:
      policy.specific.versions.extend(sorted(entry.versions))
  return config


def models_config_text(entries: Sequence[ModelEntry],
                       container_base_path: Optional[str] = None) -> str:
  """Returns `models.config` text (a ModelServerConfig text proto) for `--model_config_file`."""
  return text_format.MessageToString(models_config(entries, container_base_path))


def parse_models_config(text: str) -> List[ModelEntry]:
  """Parses `models.config` text back into ModelEntry values.

  Raises:
    LayoutError: The text is not a ModelServerConfig with a model_config_list.
  """
  config = model_server_config_pb2.ModelServerConfig()
  try:
    text_format.Parse(text, config)
  except text_format.ParseError as error:
    raise LayoutError(f'models.config is not a valid ModelServerConfig text proto: {error}'
                      ) from None
  if not config.HasField('model_config_list'):
    raise LayoutError('models.config has no model_config_list.')
  entries = []
  for model in config.model_config_list.config:
    policy = model.model_version_policy
    kind = policy.WhichOneof('policy_choice') or LATEST
    entries.append(ModelEntry(
        name=model.name, base_path=model.base_path, version_policy=kind,
        num_versions=(policy.latest.num_versions or 1) if kind == LATEST else 1,
        versions=tuple(policy.specific.versions) if kind == SPECIFIC else ()))
  return entries


def monitoring_config_text(path: str = DEFAULT_PROMETHEUS_PATH) -> str:
  """Returns a MonitoringConfig text proto that exports Prometheus metrics on the REST port.

  TF Serving serves the metrics at http://HOST:REST_PORT{path} when started with
  `--monitoring_config_file`.
  """
  if not path.startswith('/') or any(c.isspace() or c == '"' for c in path):
    raise LayoutError(f'Prometheus path must start with "/" and contain no spaces or quotes, '
                      f'got {path!r}.')
  # The pip package tensorflow-serving-api ships no monitoring_config_pb2, so the text proto
  # is written directly: MonitoringConfig { PrometheusConfig prometheus_config = 1; } with
  # PrometheusConfig { bool enable = 1; string path = 2; }.
  return f'prometheus_config {{\n  enable: true\n  path: "{path}"\n}}\n'


def write_serving_configs(base_path: str, output_dir: Optional[str] = None,
                          container_base_path: Optional[str] = None,
                          prometheus_path: str = DEFAULT_PROMETHEUS_PATH,
                          entries: Optional[Sequence[ModelEntry]] = None) -> Dict[str, str]:
  """Writes models.config (every model under `base_path`) and monitoring.config.

  Returns:
    {'models_config': path, 'monitoring_config': path}.
  """
  entries = list(entries) if entries is not None else discover_models(base_path)
  for entry in entries:
    select_versions(entry)
  output_dir = output_dir or base_path
  tf.io.gfile.makedirs(output_dir)
  paths = {'models_config': os.path.join(output_dir, MODELS_CONFIG_FILE),
           'monitoring_config': os.path.join(output_dir, MONITORING_CONFIG_FILE)}
  with tf.io.gfile.GFile(paths['models_config'], 'w') as f:
    f.write(models_config_text(entries, container_base_path))
  with tf.io.gfile.GFile(paths['monitoring_config'], 'w') as f:
    f.write(monitoring_config_text(prometheus_path))
  return paths


def main(argv: Optional[Sequence[str]] = None) -> int:
  """Writes models.config and monitoring.config for the models under a serving base path."""
  parser = argparse.ArgumentParser(
      prog='python -m serving.layout',
      description='Check the TF Serving layout under a serving base path and write '
      'models.config and monitoring.config for every model found there.')
  parser.add_argument('base_path', help='Serving base path (tenrec run: OUTPUT_DIR/serving).')
  parser.add_argument('--output', default=None,
                      help='Folder for the two config files (default: BASE_PATH).')
  parser.add_argument('--container-base-path', default=None,
                      help='Path of BASE_PATH inside the TF Serving container, for example '
                      '/models; base paths in models.config use it.')
  parser.add_argument('--prometheus-path', default=DEFAULT_PROMETHEUS_PATH,
                      help='HTTP path of the Prometheus metrics on the REST port.')
  args = parser.parse_args(argv)
  try:
    entries = discover_models(args.base_path)
    for entry in entries:
      problems = check_model_base_path(entry.base_path)
      for problem in problems:
        print(f'warning: {problem}', file=sys.stderr)
    paths = write_serving_configs(args.base_path, args.output, args.container_base_path,
                                  args.prometheus_path, entries)
  except LayoutError as error:
    print(f'error: {error}', file=sys.stderr)
    return 2
  for entry in entries:
    print(f'{entry.name}: versions {[v.version for v in list_versions(entry.base_path)]}')
  print(f'Wrote {paths["models_config"]} and {paths["monitoring_config"]}.')
  return 0


if __name__ == '__main__':
  sys.exit(main())
