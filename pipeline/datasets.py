"""Where a run's raw data comes from, and how it is labelled in results.

Three kinds of data directory hold Tenrec-schema raw files:

* generated: written by `tenrec generate` (contains `generation.json`). The default for
  `tenrec run` is a generated directory created on first use in the cache folder.
* public: converted from a public log by `tenrec import` (contains `import.json`).
* tenrec: the real Tenrec files, downloaded by the user after accepting their licence. They
  carry no provenance file, so any folder without `generation.json` or `import.json` is
  assumed to hold them: its description says so (`'provenance': 'assumed'`) and a warning is
  logged.

Results always carry this label, so numbers on generated data are never mistaken for Tenrec
results.
"""

import dataclasses
import json
import os
from typing import Any, Dict, Optional

from absl import logging

GENERATION_METADATA_FILE = 'generation.json'
IMPORT_METADATA_FILE = 'import.json'
CACHE_ENV = 'TENREC_CACHE_DIR'


@dataclasses.dataclass(frozen=True)
class DatasetInfo:
  """A data directory and its description.

  Attributes:
    data_dir: Folder with the scenario CSV files.
    kind: 'generated', 'public' or 'tenrec'.
    name: Short name used in pipeline names (for example 'generated-s0.001-seed0').
    description: Recorded in results.json and the dataset artifact.
  """

  data_dir: str
  kind: str
  name: str
  description: Dict[str, Any]


def default_cache_dir() -> str:
  """Returns the folder for generated data: $TENREC_CACHE_DIR or ~/.cache/tenrec-tfx."""
  base = os.environ.get(CACHE_ENV) or os.path.join(
      os.environ.get('XDG_CACHE_HOME') or os.path.expanduser('~/.cache'), 'tenrec-tfx')
  return base


def generated_dir(scale: float, seed: int, cache_dir: Optional[str] = None) -> str:
  return os.path.join(cache_dir or default_cache_dir(), 'generated', f'scale-{scale:g}-seed-{seed}')


def ensure_generated(scale: float, seed: int, cache_dir: Optional[str] = None) -> DatasetInfo:
  """Returns the generated dataset of (scale, seed), generating it on first use."""
  from components import generator  # pylint: disable=import-outside-toplevel

  path = generated_dir(scale, seed, cache_dir)
  if not os.path.exists(os.path.join(path, GENERATION_METADATA_FILE)):
    logging.info('Generating Tenrec-shaped data (scale %g, seed %d) into %s; later runs reuse it.',
                 scale, seed, path)
    generator.generate(path, scale=scale, seed=seed, overwrite=True)
  return describe(path)


def describe(data_dir: str) -> DatasetInfo:
  """Labels a data directory as generated, public or real Tenrec data."""
  data_dir = os.path.abspath(data_dir) if '://' not in data_dir else data_dir
  generation = _read_json(os.path.join(data_dir, GENERATION_METADATA_FILE))
  if generation is not None:
    scale = generation.get('scale')
    seed = generation.get('seed')
    return DatasetInfo(
        data_dir=data_dir, kind='generated', name=f'generated-s{scale:g}-seed{seed}',
        description={
            'kind': 'generated',
            'name': 'Tenrec-shaped generated data',
            'note': 'Synthetic data from the seeded generator; not Tenrec results.',
            'scale': scale,
            'seed': seed,
            'path': data_dir,
        })
  imported = _read_json(os.path.join(data_dir, IMPORT_METADATA_FILE))
  if imported is not None:
    source = imported.get('source', 'public')
    return DatasetInfo(
        data_dir=data_dir, kind='public', name=str(source),
        description={
            'kind': 'public',
            'name': source,
            'note': 'A public log converted to the Tenrec schema; not Tenrec results.',
            'mapping': imported.get('mapping'),
            'path': data_dir,
        })
  logging.warning(
      '%s contains neither %s nor %s, so it is assumed to hold real Tenrec data and results on '
      'it will be labelled as Tenrec data. Generated and imported folders must keep their %s '
      'or %s.', data_dir, GENERATION_METADATA_FILE, IMPORT_METADATA_FILE,
      GENERATION_METADATA_FILE, IMPORT_METADATA_FILE)
  return DatasetInfo(
      data_dir=data_dir, kind='tenrec', name='tenrec',
      description={
          'kind': 'tenrec',
          'name': (f'Tenrec-schema files (no {GENERATION_METADATA_FILE} or '
                   f'{IMPORT_METADATA_FILE}: assumed real Tenrec data)'),
          'provenance': 'assumed',
          'path': data_dir,
      })


def _read_json(path: str) -> Optional[Dict[str, Any]]:
  import tensorflow as tf  # pylint: disable=import-outside-toplevel

  if not tf.io.gfile.exists(path):
    return None
  with tf.io.gfile.GFile(path) as f:
    return json.loads(f.read())
