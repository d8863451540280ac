"""Local runner: runs a pipeline in this process with TFX's LocalDagRunner.

Example:

  pipeline = pipeline_lib.create_pipeline(...)
  run_local(pipeline)
"""

from typing import Optional, Sequence

from tfx import v1 as tfx

from pipeline import pipeline as pipeline_lib
from pipeline import progress


def run_local(pipeline: tfx.dsl.Pipeline,
              component_order: Optional[Sequence[str]] = None) -> None:
  """Runs `pipeline` with LocalDagRunner and one progress line per component.

  Args:
    pipeline: A pipeline from `pipeline.pipeline.create_pipeline` with a metadata path.
    component_order: Component ids in run order, for the "[i/n]" progress prefix (default: the
      CTR and multi-task pipeline's order).
  """
  order = component_order or pipeline_lib.CTR_COMPONENT_ORDER
  with progress.ComponentProgress(order):
    tfx.orchestration.LocalDagRunner().run(pipeline)
