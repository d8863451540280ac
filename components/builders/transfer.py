"""Transfer-learning dataset builder: the SBR datasets of a source and a target domain.

The source (QK-video in Tenrec) and the target (QB-video) are processed with the same SBR
rules (clicks, item popularity filter, users with enough clicks, leave-last-out, validation
users) and encoded with separate item vocabularies, because a transferred model replaces its
item embedding and output layer. They are written as two datasets, each a TFX Examples layout
with its own vocabulary:

  source/Split-{train,eval,test}/   source/item_vocabulary.txt   source/build_report.json
  target/Split-{train,eval,test}/   target/item_vocabulary.txt   target/build_report.json

The popularity filter counts clicks within each file. Train the source model on `source/` (or
reuse an SBR model trained with the same options) and fine-tune on `target/`.
"""

from typing import List

from components.builders import sbr
from components.builders.sequence_options import TransferOptions
from components.tenrec_io import schema as schema_lib

SOURCE = 'source'
TARGET = 'target'


class TransferBuilder(sbr.SbrBuilder):
  """Builds the source and target SBR datasets of the transfer-learning task."""

  task = 'transfer'

  def __init__(self, options: TransferOptions = None):
    super().__init__(options or TransferOptions())

  def _datasets(self) -> List[sbr.SequenceDataset]:
    return [
        sbr.SequenceDataset(SOURCE, schema_lib.get_scenario(self.options.scenario)),
        sbr.SequenceDataset(TARGET, schema_lib.get_scenario(self.options.target_scenario)),
    ]

  def deviations(self) -> List[str]:
    return super().deviations() + [
        'The target validation users follow the same rule as the source (the reference used '
        'the first 1% of QB-video users, a few hundred).'
    ]
