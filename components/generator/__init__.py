"""Seeded generator of Tenrec-shaped data (`tenrec generate`, `tenrec stats`).

The generated files have the exact layout of the four Tenrec raw files and are calibrated to
the published Tenrec statistics, with latent user and item structure that models can learn.
They are not Tenrec data. See docs/generator.md.
"""

from components.generator.config import DEFAULT_SCALE, GENERATOR_VERSION
from components.generator.generation import generate

__all__ = ['DEFAULT_SCALE', 'GENERATOR_VERSION', 'generate']
