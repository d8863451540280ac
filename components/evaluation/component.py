"""RankingEvaluator: full-ranking evaluation and blessing of sequential recommenders.

TFMA has no full-catalogue ranking metric, so sequential models are evaluated by this
component: it scores every test user's history with the exported `serving_default` signature,
ranks the target among all items (pessimistic ties) and reports HR@k and NDCG@k averaged over
users beside an item-popularity baseline. Its `blessing` output gates the Pusher like the
Evaluator's.

Example:

  evaluator = RankingEvaluator(examples=example_gen.outputs['examples'],
                               model=trainer.outputs['model'], ks=[5, 10, 20],
                               selection_metric='NDCG@10')
"""

import json
from typing import Optional, Sequence

from tfx import types
from tfx.dsl.components.base import base_component
from tfx.dsl.components.base import executor_spec
from tfx.types import component_spec
from tfx.types import standard_artifacts

from components.evaluation import executor


class RankingEvaluatorSpec(component_spec.ComponentSpec):
  """Inputs, parameters and outputs of RankingEvaluator."""

  PARAMETERS = {
      'ks': component_spec.ExecutionParameter(type=str),
      'selection_metric': component_spec.ExecutionParameter(type=str),
      'min_value': component_spec.ExecutionParameter(type=float, optional=True),
      'require_beat_popularity': component_spec.ExecutionParameter(type=int, optional=True),
      'example_split': component_spec.ExecutionParameter(type=str, optional=True),
      'batch_size': component_spec.ExecutionParameter(type=int, optional=True),
      'code_version': component_spec.ExecutionParameter(type=str, optional=True),
  }
  INPUTS = {
      'examples': component_spec.ChannelParameter(type=standard_artifacts.Examples),
      'model': component_spec.ChannelParameter(type=standard_artifacts.Model),
  }
  OUTPUTS = {
      'evaluation': component_spec.ChannelParameter(type=standard_artifacts.ModelEvaluation),
      'blessing': component_spec.ChannelParameter(type=standard_artifacts.ModelBlessing),
  }


class RankingEvaluator(base_component.BaseComponent):
  """Evaluates a sequential model on a split of an SBR dataset and blesses it."""

  SPEC_CLASS = RankingEvaluatorSpec
  EXECUTOR_SPEC = executor_spec.ExecutorClassSpec(executor.Executor)

  def __init__(self,
               examples: types.BaseChannel,
               model: types.BaseChannel,
               ks: Sequence[int] = (5, 10, 20),
               selection_metric: str = 'NDCG@10',
               min_value: float = 0.0,
               require_beat_popularity: bool = True,
               example_split: str = 'test',
               batch_size: int = 256,
               code_version: Optional[str] = None):
    """Creates the component.

    Args:
      examples: The SBR dataset (Examples with Split-train and the evaluated split).
      model: The trained model; its serving export must have a `serving_default` signature
        returning `scores` over item indices 0..V.
      ks: Cut-offs of HR@k and NDCG@k.
      selection_metric: Metric of the blessing rule, for example 'NDCG@10'.
      min_value: The selection metric must reach this value.
      require_beat_popularity: The selection metric must also exceed the popularity baseline.
      example_split: Split to evaluate.
      batch_size: Users scored per call of the signature.
      code_version: Fingerprint of the evaluation code, part of the cache key.
    """
    ks = [int(k) for k in ks]
    if not ks or min(ks) < 1:
      raise ValueError(f'ks must be positive integers, got {ks}.')
    metric_kind, _, cutoff = selection_metric.partition('@')
    if metric_kind not in ('HR', 'NDCG') or not cutoff.isdigit() or int(cutoff) not in ks:
      raise ValueError(f'selection_metric must be HR@k or NDCG@k with k in {ks}, got '
                       f'{selection_metric!r}.')
    if batch_size < 1:
      raise ValueError(f'batch_size must be positive, got {batch_size}.')
    spec = RankingEvaluatorSpec(
        examples=examples,
        model=model,
        ks=json.dumps(ks),
        selection_metric=selection_metric,
        min_value=float(min_value),
        require_beat_popularity=int(bool(require_beat_popularity)),
        example_split=example_split,
        batch_size=batch_size,
        code_version=code_version or '',
        evaluation=types.Channel(type=standard_artifacts.ModelEvaluation),
        blessing=types.Channel(type=standard_artifacts.ModelBlessing))
    super().__init__(spec=spec)
