"""Descriptions of a task's model inputs, shared by trainers, models and exports.

All model inputs are integer indices produced by the task's Transform step (or, for sequential
tasks, by the dataset builder). Index 0 is reserved for padding or a missing value in every
vocabulary; known values use 1..n; the last index, when the vocabulary has one, is the
out-of-vocabulary bucket.
"""

import dataclasses
from typing import Optional, Tuple


@dataclasses.dataclass(frozen=True)
class CategoricalFeature:
  """One categorical model input.

  Attributes:
    name: Input name in the model's input dictionary.
    vocab_size: Number of distinct indices; inputs lie in [0, vocab_size).
    length: 1 for a scalar input of shape [batch]; L > 1 for a fixed-length sequence of shape
      [batch, L] in which 0 marks padding.
    vocabulary: Name of the vocabulary the indices belong to. Inputs that share a vocabulary
      (for example `hist_item_ids` and `item_id`) index the same items and may share an
      embedding table.
  """

  name: str
  vocab_size: int
  length: int = 1
  vocabulary: Optional[str] = None

  def __post_init__(self):
    if self.vocab_size < 1:
      raise ValueError(f'vocab_size of {self.name!r} must be at least 1, got {self.vocab_size}.')
    if self.length < 1:
      raise ValueError(f'length of {self.name!r} must be at least 1, got {self.length}.')

  @property
  def vocabulary_name(self) -> str:
    return self.vocabulary or self.name

  @property
  def is_sequence(self) -> bool:
    return self.length > 1


@dataclasses.dataclass(frozen=True)
class FeatureInfo:
  """The inputs and outputs of a task's models.

  Attributes:
    features: Categorical inputs, in a fixed order (the field order of CTR models).
    labels: Output names; CTR models output one probability per label, multi-task models one
      per objective.
  """

  features: Tuple[CategoricalFeature, ...]
  labels: Tuple[str, ...]

  def feature(self, name: str) -> CategoricalFeature:
    for feature in self.features:
      if feature.name == name:
        return feature
    raise KeyError(f'No input feature {name!r}; inputs: '
                   f'{", ".join(f.name for f in self.features)}.')

  @property
  def scalar_features(self) -> Tuple[CategoricalFeature, ...]:
    return tuple(f for f in self.features if not f.is_sequence)

  @property
  def sequence_features(self) -> Tuple[CategoricalFeature, ...]:
    return tuple(f for f in self.features if f.is_sequence)
