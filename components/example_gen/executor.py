"""Executor of TenrecExampleGen: runs a task builder in the component's Beam pipeline."""

import json
from typing import Any, Dict, List

from absl import logging
from tfx import types
from tfx.dsl.components.base import base_beam_executor
from tfx.types import artifact_utils

from components.builders import registry
from components.builders import runner

# Custom properties set on the output Examples artifact.
BUILD_REPORT_PROPERTY = 'tenrec_build_report'
DATASET_PROPERTY = 'tenrec_dataset'


class Executor(base_beam_executor.BaseBeamExecutor):
  """Builds a task dataset into the `examples` artifact (Split-train/eval/test TFRecords)."""

  def Do(self, input_dict: Dict[str, List[types.Artifact]],
         output_dict: Dict[str, List[types.Artifact]], exec_properties: Dict[str, Any]) -> None:
    self._log_startup(input_dict, output_dict, exec_properties)

    task = exec_properties['task']
    paths = json.loads(exec_properties['input_paths'])
    options = json.loads(exec_properties.get('builder_options') or '{}')
    dataset = json.loads(exec_properties.get('dataset') or '{}')
    builder = registry.create_builder(task, options)

    examples = artifact_utils.get_single_instance(output_dict['examples'])
    examples.split_names = artifact_utils.encode_split_names(list(builder.split_names))
    report = runner.run_builder(
        builder,
        paths,
        examples.uri,
        pipeline_factory=self._make_beam_pipeline,
        on_invalid=exec_properties.get('on_invalid_row') or 'raise',
        extra_report={'dataset': dataset})

    examples.set_string_custom_property('file_format', 'tfrecords_gzip')
    examples.set_string_custom_property('payload_format', 'FORMAT_TF_EXAMPLE')
    summary = {k: report[k] for k in ('task', 'splits', 'accounts', 'options')}
    examples.set_string_custom_property(BUILD_REPORT_PROPERTY, json.dumps(summary, sort_keys=True))
    examples.set_string_custom_property(DATASET_PROPERTY, json.dumps(dataset, sort_keys=True))
    logging.info('TenrecExampleGen wrote %s', report['splits'])
