"""Imports every model family so that each model registers itself in models.registry."""

import importlib

# One package per family; each package's __init__ imports its model modules.
MODEL_FAMILIES = ('models.ctr', 'models.mtl', 'models.sequential')

for _family in MODEL_FAMILIES:
  importlib.import_module(_family)
