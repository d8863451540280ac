"""Inference speed-up (SkipRec) dataset builder: QB-video click sequences in the SBR format.

The reference ran the SBR data pipeline on QB-video for this task, so this is the SBR builder
with QB-video as the default input; see `components.builders.sbr` for the rules and layout.
"""

from components.builders import sbr
from components.builders.sequence_options import InfaccOptions


class InfaccBuilder(sbr.SbrBuilder):
  """Builds the SBR dataset of QB-video for the inference speed-up task."""

  task = 'infacc'

  def __init__(self, options: InfaccOptions = None):
    super().__init__(options or InfaccOptions())
