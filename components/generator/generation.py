"""`generate()`: writes the four Tenrec-shaped raw files and generation.json.

Example:

  from components import generator
  report = generator.generate('/tmp/tenrec-data', scale=generator.DEFAULT_SCALE, seed=0)
  report['files']['QK-video.csv']['rows']  # about 490,000
"""

import json
import logging
import os
import pathlib
import sys
import time
from typing import Dict, Iterable, List, Optional, Sequence, Union

import numpy as np
import tqdm

from components.generator import config, scenarios, writer
from components.generator.article import ArticleGenerator
from components.generator import video as video_lib
from components.generator.catalogue import (assign_categories_from_pilot, build_article_catalogue,
                                            build_video_catalogues)
from components.generator.latent import LatentModel
from components.generator.population import Population
from components.tenrec_io import schema as schema_lib

REPORT_FILE = 'generation.json'
# Runs with more rows than this show a progress bar even when stderr is not a terminal.
PROGRESS_ROWS_THRESHOLD = 5_000_000
STATEMENT = ('Generated data with the shape of the Tenrec datasets (QK-video, QB-video, '
             'QK-article, QB-article). It is NOT Tenrec data: no row comes from a real user, and '
             'results measured on it are not Tenrec results.')


def resolve_scenarios(names: Optional[Iterable[str]]) -> List[str]:
  """Returns canonical scenario names in file order; None means all four.

  Raises:
    ValueError: a name is not a Tenrec scenario, or the list is empty.
  """
  if names is None:
    return list(config.SCENARIO_NAMES)
  wanted = {schema_lib.get_scenario(name).name for name in names}
  if not wanted:
    raise ValueError('the scenario list is empty; name at least one of '
                     f'{", ".join(config.SCENARIO_NAMES)}.')
  return [name for name in config.SCENARIO_NAMES if name in wanted]


class World:
  """Everything the scenario generators share for one (seed, scale).

  Building it plans the sizes, draws the users, the latent model and the catalogues, and
  assigns video categories from a pilot of exposures. It writes no rows. `LatentOracle` and
  the tests use it to inspect a run's latent structure.
  """

  def __init__(self, scale: float, seed: int):
    self.plan = config.plan_generation(scale)
    self.seed = seed
    self.population = Population(self.plan, seed)
    self.latent = LatentModel(seed)
    self.topic_demand = scenarios.topic_demand(self.population, self.latent)
    plans = self.plan.scenarios
    self.catalogues = {}
    self.catalogues['qk_video'], self.catalogues['qb_video'] = build_video_catalogues(
        seed, self.topic_demand,
        qk_items=plans['qk_video'].catalogue_items, qk_users=plans['qk_video'].users,
        qk_mean_rows=plans['qk_video'].mean_rows_per_user,
        qb_items=plans['qb_video'].catalogue_items,
        qb_shared_items=plans['qb_video'].shared_video_items,
        qb_users=plans['qb_video'].users, qb_mean_rows=plans['qb_video'].mean_rows_per_user)
    qk_pilot = video_lib.pilot_slot_counts('qk_video', seed, self.population, self.latent,
                                           self.catalogues['qk_video'])
    qb_pilot = video_lib.pilot_slot_counts('qb_video', seed, self.population, self.latent,
                                           self.catalogues['qb_video'])
    assign_categories_from_pilot(seed, self.catalogues['qk_video'], self.catalogues['qb_video'],
                                 qk_pilot, qb_pilot)
    next_id = (plans['qk_video'].catalogue_items + plans['qb_video'].catalogue_items -
               plans['qb_video'].shared_video_items + 1)
    for name in config.ARTICLE_SCENARIOS:
      self.catalogues[name] = build_article_catalogue(
          name, seed, self.topic_demand, items=plans[name].catalogue_items,
          users=plans[name].users, mean_rows=plans[name].mean_rows_per_user, first_id=next_id,
          platform_clicks=config.REAL_CLICKS[name])
      next_id += plans[name].catalogue_items

  def scenario_generator(self, name: str):
    generator_class = video_lib.VideoGenerator if name in config.VIDEO_SCENARIOS else ArticleGenerator
    return generator_class(name, self.seed, self.population, self.latent, self.catalogues[name])


def _validate_arguments(scale, seed, block_users) -> None:
  if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
    raise ValueError(f'seed must be a non-negative integer, got {seed!r}.')
  if isinstance(block_users, bool) or not isinstance(block_users, int) or block_users < 1:
    raise ValueError(f'block_users must be a positive integer, got {block_users!r}.')
  config.plan_generation(scale)


def _show_progress(world: World, names: Sequence[str]) -> bool:
  if sys.stderr.isatty():
    return True
  expected = sum(world.plan.scenarios[n].users * world.plan.scenarios[n].mean_rows_per_user
                 for n in names)
  return expected > PROGRESS_ROWS_THRESHOLD


def _write_scenario(world: World, name: str, folder: pathlib.Path, block_users: int,
                    progress: tqdm.tqdm) -> Dict[str, int]:
  schema = schema_lib.SCENARIOS[name]
  generator = world.scenario_generator(name)
  user_ids = world.population.user_ids[name]
  seen_items = np.zeros(int(world.catalogues[name].item_ids.max()) + 1, dtype=bool)
  counts = {'rows': 0, 'users': 0, 'items': 0, 'clicks': 0}

  with open(folder / schema.file_name, 'wb') as output:
    output.write(writer.header_line(schema))
    for start in range(0, user_ids.shape[0], block_users):
      block = user_ids[start:start + block_users]
      columns = generator.generate_block(block)
      output.write(writer.format_rows(schema, columns))
      counts['rows'] += int(columns['user_id'].shape[0])
      counts['users'] += int(np.unique(columns['user_id']).shape[0])
      counts['clicks'] += int(np.sum(columns['click']))
      seen_items[columns['item_id']] = True
      progress.update(block.shape[0])
  counts['items'] = int(seen_items.sum())
  return counts


def generate(out_dir: Union[str, os.PathLike],
             scale: float = config.DEFAULT_SCALE,
             seed: int = 0,
             scenarios: Optional[Iterable[str]] = None,  # pylint: disable=redefined-outer-name
             overwrite: bool = False,
             block_users: int = config.DEFAULT_BLOCK_USERS) -> Dict:
  """Generates Tenrec-shaped raw files into `out_dir` and returns the generation report.

  Args:
    out_dir: Output folder. It is written as a hidden sibling and renamed at the end, so an
      interrupted run leaves nothing at `out_dir`.
    scale: Fraction of the real QK-video user count (5,022,750); secondary scenarios have
      floors (see `config`).
    seed: Non-negative integer; the same seed and scale give byte-identical files.
    scenarios: Scenario names (`qk_video`, `QB-video`, ...); None writes all four. A
      scenario's file does not depend on which other scenarios are written.
    overwrite: Replace a non-empty `out_dir`.
    block_users: Users generated per step. Affects memory and speed only, never the output.

  Returns:
    The contents of generation.json plus `out_dir`, `seconds` and `rows_per_second`.

  Raises:
    ValueError: Invalid scale, seed, scenario name or block size.
    FileExistsError: `out_dir` is a file, or a non-empty folder without `overwrite`.
  """
  _validate_arguments(scale, seed, block_users)
  names = resolve_scenarios(scenarios)
  output = writer.AtomicOutputDirectory(out_dir, overwrite=overwrite)
  started = time.monotonic()

  logging.info('Generating %s at scale %g with seed %d into %s.', ', '.join(names), scale, seed,
               output.target)
  world = World(scale, int(seed))
  files = {}
  with output as folder:
    total_users = sum(world.plan.scenarios[n].users for n in names)
    with tqdm.tqdm(total=total_users, unit='user', file=sys.stderr, desc='generate',
                   disable=not _show_progress(world, names)) as progress:
      for name in names:
        file_name = schema_lib.SCENARIOS[name].file_name
        files[file_name] = _write_scenario(world, name, folder, block_users, progress)
        logging.info('Wrote %s: %s.', file_name, files[file_name])

    report = {
        'generator': 'tenrec-tfx components.generator',
        'generator_version': config.GENERATOR_VERSION,
        'generated': True,
        'statement': STATEMENT,
        'seed': int(seed),
        'scale': float(scale),
        'scenarios': names,
        'files': files,
        'plan': world.plan.to_json(),
        'topics': config.NUM_TOPICS,
    }
    with open(folder / REPORT_FILE, 'w', encoding='utf-8') as handle:
      json.dump(report, handle, indent=2, sort_keys=True)
      handle.write('\n')

  seconds = time.monotonic() - started
  total_rows = sum(f['rows'] for f in files.values())
  logging.info('Generated %d rows in %.1f s into %s.', total_rows, seconds, output.target)
  return dict(report, out_dir=str(output.target), seconds=seconds,
              rows_per_second=total_rows / max(seconds, 1e-9))
