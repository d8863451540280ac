"""TenrecExampleGen: a TFX component that builds one Tenrec task dataset from raw files.

It plays the role of ExampleGen: no input channels, one `examples` output with `train`, `eval`
and `test` splits of gzip TFRecord `tf.Example` files, so StatisticsGen, SchemaGen, Transform
and Trainer consume it unchanged. The Beam pipeline arguments of the TFX pipeline apply, so the
same component runs locally or on Dataflow, Flink or Spark.

Example:

  example_gen = TenrecExampleGen(
      task='ctr',
      input_paths={'qk_video': '/data/tenrec/QK-video.csv'},
      builder_options={'seed': 100, 'history_mode': 'before_row'})
"""

import hashlib
import json
from typing import Any, Mapping, Optional

from apache_beam.io.filesystems import FileSystems
from tfx.dsl.components.base import base_beam_component
from tfx.dsl.components.base import executor_spec
from tfx import types
from tfx.types import component_spec
from tfx.types import standard_artifacts

from components.builders import registry
from components.example_gen import executor


class TenrecExampleGenSpec(component_spec.ComponentSpec):
  """Parameters and output of TenrecExampleGen."""

  PARAMETERS = {
      'task': component_spec.ExecutionParameter(type=str),
      # JSON object {builder input name: file path}.
      'input_paths': component_spec.ExecutionParameter(type=str),
      # JSON object of builder options (see the builder's options class).
      'builder_options': component_spec.ExecutionParameter(type=str, optional=True),
      # Size and modification time of every input, so that cached results are reused only
      # while the inputs are unchanged.
      'input_fingerprint': component_spec.ExecutionParameter(type=str),
      'on_invalid_row': component_spec.ExecutionParameter(type=str, optional=True),
      # JSON description of the data (kind: generated, public or tenrec; name; seed).
      'dataset': component_spec.ExecutionParameter(type=str, optional=True),
      # Fingerprint of the builder code, so that code changes invalidate the cache.
      'code_version': component_spec.ExecutionParameter(type=str, optional=True),
  }
  INPUTS = {}
  OUTPUTS = {
      'examples': component_spec.ChannelParameter(type=standard_artifacts.Examples),
  }


def fingerprint_inputs(paths: Mapping[str, str]) -> str:
  """Returns a fingerprint of the input files from their paths, sizes and modification times."""
  parts = []
  for name in sorted(paths):
    metadata = FileSystems.match([paths[name]])[0].metadata_list
    if not metadata:
      raise FileNotFoundError(f'Input file {paths[name]} of {name!r} not found.')
    parts.append(f'{name}={paths[name]}:{metadata[0].size_in_bytes}:'
                 f'{metadata[0].last_updated_in_seconds}')
  return hashlib.sha256('\n'.join(parts).encode()).hexdigest()[:16]


class TenrecExampleGen(base_beam_component.BaseBeamComponent):
  """Builds a task dataset (CTR, multi-task, sequential, ...) from Tenrec raw files."""

  SPEC_CLASS = TenrecExampleGenSpec
  EXECUTOR_SPEC = executor_spec.BeamExecutorSpec(executor.Executor)

  def __init__(self,
               task: str,
               input_paths: Mapping[str, str],
               builder_options: Optional[Mapping[str, Any]] = None,
               on_invalid_row: str = 'raise',
               dataset: Optional[Mapping[str, Any]] = None,
               code_version: Optional[str] = None,
               input_fingerprint: Optional[str] = None):
    """Creates the component.

    Args:
      task: Builder task name (see components.builders.registry).
      input_paths: Raw file of each builder input, by input name (for example 'qk_video').
      builder_options: Options of the task builder; validated now, before the pipeline runs.
      on_invalid_row: 'raise' (stop at the first invalid row) or 'reject' (skip and count).
      dataset: Description of the data recorded with the artifact and the results.
      code_version: Fingerprint of the project code, part of the cache key.
      input_fingerprint: Cache key of the input files; None computes it from their sizes and
        modification times, which opens them (a compiler for remote URIs passes its own).
    """
    builder = registry.create_builder(task, builder_options)
    missing = [i.name for i in builder.inputs() if i.name not in input_paths]
    if missing:
      raise ValueError(f'Task {task!r} needs input file(s) for {", ".join(missing)}.')
    if on_invalid_row not in ('raise', 'reject'):
      raise ValueError(f"on_invalid_row must be 'raise' or 'reject', got {on_invalid_row!r}.")
    spec = TenrecExampleGenSpec(
        task=task,
        input_paths=json.dumps(dict(input_paths), sort_keys=True),
        builder_options=json.dumps(builder.options_dict(), sort_keys=True),
        input_fingerprint=input_fingerprint or fingerprint_inputs(input_paths),
        on_invalid_row=on_invalid_row,
        dataset=json.dumps(dict(dataset or {}), sort_keys=True),
        code_version=code_version or '',
        examples=types.Channel(type=standard_artifacts.Examples))
    super().__init__(spec=spec)
