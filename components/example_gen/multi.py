"""ExampleGen-style components for builders that write several datasets in one run.

The transfer builder writes a source and a target SBR dataset, each with its own item
vocabulary; the lifelong builder writes one dataset per task of its chain. Both read their raw
files once and decide users jointly, so they run as one Beam build. These components publish
each sub-dataset as its own `Examples` artifact (with `train`, `eval` and `test` splits), so
that downstream components consume them like any ExampleGen output.

Example:

  transfer = TransferExampleGen(input_paths={'qk_video': qk, 'qb_video': qb})
  source_trainer = Trainer(examples=transfer.outputs['source_examples'], ...)
"""

import json
import os
from typing import Any, Dict, List, Mapping, Optional

from absl import logging
from apache_beam.io.filesystems import FileSystems
from tfx import types
from tfx.dsl.components.base import base_beam_component
from tfx.dsl.components.base import executor_spec
from tfx.types import artifact_utils
from tfx.types import component_spec
from tfx.types import standard_artifacts

from components.builders import base as builder_base
from components.builders import registry
from components.builders import runner
from components.example_gen import component as single
from components.example_gen import executor as single_executor

TRANSFER_SUB_DATASETS = ('source', 'target')
LIFELONG_SUB_DATASETS = ('task0', 'task1', 'task2', 'task3')


def output_key(sub_dataset: str) -> str:
  """Returns the output channel name of a sub-dataset ('source' -> 'source_examples')."""
  return f'{sub_dataset}_examples'


class MultiExecutor(single_executor.Executor):
  """Builds all sub-datasets once and moves each into its own Examples artifact."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)
    task = exec_properties['task']
    builder = registry.create_builder(task, json.loads(exec_properties.get('builder_options')
                                                       or '{}'))
    dataset = json.loads(exec_properties.get('dataset') or '{}')
    prefixes = runner.sub_datasets(builder.split_names)
    artifacts = {prefix: artifact_utils.get_single_instance(output_dict[output_key(prefix)])
                 for prefix in prefixes}

    first_uri = artifacts[prefixes[0]].uri
    staging = FileSystems.join(os.path.dirname(first_uri.rstrip('/')),
                               f'.{os.path.basename(first_uri.rstrip("/"))}-build')
    try:
      report = runner.run_builder(
          builder, json.loads(exec_properties['input_paths']), staging,
          pipeline_factory=self._make_beam_pipeline,
          on_invalid=exec_properties.get('on_invalid_row') or 'raise',
          extra_report={'dataset': dataset}, overwrite=True)
      for prefix, artifact in artifacts.items():
        _move_tree(FileSystems.join(staging, prefix), artifact.uri)
        splits = [builder_base.split_base_name(s) for s in builder.split_names
                  if builder_base.sub_dataset_of(s) == prefix]
        artifact.split_names = artifact_utils.encode_split_names(splits)
        artifact.set_string_custom_property('file_format', 'tfrecords_gzip')
        artifact.set_string_custom_property('payload_format', 'FORMAT_TF_EXAMPLE')
        summary = {
            'task': task,
            'sub_dataset': prefix,
            'splits': {builder_base.split_base_name(s): n for s, n in report['splits'].items()
                       if builder_base.sub_dataset_of(s) == prefix},
            'accounts': report['accounts'],
            'options': report['options'],
        }
        artifact.set_string_custom_property(single_executor.BUILD_REPORT_PROPERTY,
                                            json.dumps(summary, sort_keys=True))
        artifact.set_string_custom_property(single_executor.DATASET_PROPERTY,
                                            json.dumps(dataset, sort_keys=True))
    finally:
      if FileSystems.exists(staging):
        FileSystems.delete([staging])
    logging.info('%s wrote %s', type(self).__name__, report['splits'])


def _move_tree(source: str, destination: str) -> None:
  """Moves every file under `source` to the same relative path under `destination`."""
  matches = FileSystems.match([FileSystems.join(source, '**')])[0].metadata_list
  prefix = source.rstrip('/') + '/'
  sources = [m.path for m in matches]
  targets = [FileSystems.join(destination, path[len(prefix):]) for path in sources]
  for target in targets:
    parent = target.rsplit('/', 1)[0]
    if not FileSystems.exists(parent):
      FileSystems.mkdirs(parent)
  FileSystems.rename(sources, targets)


def _parameters() -> Dict[str, component_spec.ExecutionParameter]:
  return dict(single.TenrecExampleGenSpec.PARAMETERS)


class TransferExampleGenSpec(component_spec.ComponentSpec):
  """Parameters and outputs of TransferExampleGen."""

  PARAMETERS = _parameters()
  INPUTS = {}
  OUTPUTS = {output_key(p): component_spec.ChannelParameter(type=standard_artifacts.Examples)
             for p in TRANSFER_SUB_DATASETS}


class LifelongExampleGenSpec(component_spec.ComponentSpec):
  """Parameters and outputs of LifelongExampleGen."""

  PARAMETERS = _parameters()
  INPUTS = {}
  OUTPUTS = {output_key(p): component_spec.ChannelParameter(type=standard_artifacts.Examples)
             for p in LIFELONG_SUB_DATASETS}


def _spec_arguments(task: str, input_paths: Mapping[str, str],
                    builder_options: Optional[Mapping[str, Any]], on_invalid_row: str,
                    dataset: Optional[Mapping[str, Any]], code_version: Optional[str],
                    input_fingerprint: Optional[str], sub_datasets) -> Dict[str, Any]:
  builder = registry.create_builder(task, builder_options)
  prefixes = runner.sub_datasets(builder.split_names)
  if tuple(prefixes) != tuple(sub_datasets):
    raise ValueError(f'The {task} builder writes sub-datasets {prefixes}, expected '
                     f'{list(sub_datasets)}.')
  missing = [i.name for i in builder.inputs() if i.name not in input_paths]
  if missing:
    raise ValueError(f'Task {task!r} needs input file(s) for {", ".join(missing)}.')
  if on_invalid_row not in ('raise', 'reject'):
    raise ValueError(f"on_invalid_row must be 'raise' or 'reject', got {on_invalid_row!r}.")
  arguments = dict(
      task=task,
      input_paths=json.dumps(dict(input_paths), sort_keys=True),
      builder_options=json.dumps(builder.options_dict(), sort_keys=True),
      input_fingerprint=input_fingerprint or single.fingerprint_inputs(input_paths),
      on_invalid_row=on_invalid_row,
      dataset=json.dumps(dict(dataset or {}), sort_keys=True),
      code_version=code_version or '')
  for prefix in sub_datasets:
    arguments[output_key(prefix)] = types.Channel(type=standard_artifacts.Examples)
  return arguments


class TransferExampleGen(base_beam_component.BaseBeamComponent):
  """Builds the transfer-learning datasets: `source_examples` (QK-video SBR data) and
  `target_examples` (QB-video SBR data), each with its own item vocabulary."""

  SPEC_CLASS = TransferExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(MultiExecutor)

  def __init__(self, input_paths: Mapping[str, str],
               builder_options: Optional[Mapping[str, Any]] = None,
               on_invalid_row: str = 'raise', dataset: Optional[Mapping[str, Any]] = None,
               code_version: Optional[str] = None, input_fingerprint: Optional[str] = None):
    super().__init__(spec=TransferExampleGenSpec(**_spec_arguments(
        'transfer', input_paths, builder_options, on_invalid_row, dataset, code_version,
        input_fingerprint, TRANSFER_SUB_DATASETS)))


class LifelongExampleGen(base_beam_component.BaseBeamComponent):
  """Builds the lifelong-learning chain: `task0_examples` (QK-video) to `task3_examples`
  (QB-article), one Examples artifact per task."""

  SPEC_CLASS = LifelongExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(MultiExecutor)

  def __init__(self, input_paths: Mapping[str, str],
               builder_options: Optional[Mapping[str, Any]] = None,
               on_invalid_row: str = 'raise', dataset: Optional[Mapping[str, Any]] = None,
               code_version: Optional[str] = None, input_fingerprint: Optional[str] = None):
    super().__init__(spec=LifelongExampleGenSpec(**_spec_arguments(
        'lifelong', input_paths, builder_options, on_invalid_row, dataset, code_version,
        input_fingerprint, LIFELONG_SUB_DATASETS)))
