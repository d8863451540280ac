"""Measured statistics of Tenrec-shaped raw files, beside the published Tenrec values.

`compute_stats(data_dir)` streams each scenario file present in `data_dir` through
`components.tenrec_io.reader.iter_batches`, with columns selected by header name. It works on
generated files and on the real Tenrec files alike, at any size, because memory grows with the
number of users and items, not rows.

Definitions:

* click_rate = clicked rows / rows; `<action>_per_click` = rows with the action / clicked rows.
* rows_per_user_pXX_over_mean = the XXth percentile of rows per user over the mean (linear
  interpolation); rows_per_item likewise.
* repeated_pair_rate = rows whose (user, item) pair occurred in an earlier row / rows;
  conflicting_repeat_share = share of those rows whose click differs from the pair's first row;
  duplicate_row_rate = rows identical in every read column to an earlier row / rows.
  Repeats are searched within each contiguous run of a user's rows, which finds all of them in
  files grouped by user (`users_contiguous` reports whether the file is).
"""

import json
import os
from typing import Dict, Optional

import numpy as np

from components.generator import targets as targets_lib
from components.generator.stats_accumulator import ScenarioAccumulator
from components.generator import config
from components.tenrec_io import reader
from components.tenrec_io import schema as schema_lib
from components.tenrec_io.errors import TenrecInputError

GENERATION_REPORT = 'generation.json'
# Bytes per batch. Smaller than the reader default: repeat detection sorts every column of a
# batch, which needs several copies of it in memory.
STATS_CHUNK_BYTES = 16 << 20


def scenario_stats(path: str, scenario: schema_lib.ScenarioSchema,
                   chunk_bytes: int = STATS_CHUNK_BYTES) -> Dict:
  """Streams one scenario file and returns its statistics (see module docstring)."""
  header = reader.read_header(path, scenario)
  columns = [name for name in scenario.column_names if name in header.columns]
  accumulator = ScenarioAccumulator(scenario, columns)
  for batch in reader.iter_batches(path, scenario, columns, chunk_bytes=chunk_bytes):
    accumulator.add(batch.columns)
  return accumulator.finish()


def _cross_stats(per_scenario: Dict[str, Dict], sets: Dict[str, Dict[str, np.ndarray]]) -> None:
  if 'qk_video' not in sets:
    return
  qk_users = sets['qk_video']['users']
  for name in config.SECONDARY_SCENARIOS:
    if name not in sets:
      continue
    overlap = int(np.intersect1d(qk_users, sets[name]['users'], assume_unique=True).shape[0])
    per_scenario[name]['qk_video_users'] = overlap
    per_scenario[name]['qk_video_user_share'] = overlap / max(sets[name]['users'].shape[0], 1)
  if 'qb_video' in sets:
    shared = np.intersect1d(sets['qk_video']['items'], sets['qb_video']['items'],
                            assume_unique=True).shape[0]
    per_scenario['qb_video']['shared_items'] = int(shared)
    per_scenario['qb_video']['shared_item_share'] = shared / max(
        sets['qb_video']['items'].shape[0], 1)


def compute_stats(data_dir: str, chunk_bytes: int = STATS_CHUNK_BYTES) -> Dict:
  """Returns statistics of every Tenrec scenario file found in `data_dir`.

  The result has `data_dir`, `generation` (the generation.json contents, or None for files
  not written by the generator), `scenarios` (statistics per scenario name) and `missing`
  (scenario files not found).

  Raises:
    TenrecInputError: no scenario file exists in `data_dir`, or a file is malformed.
  """
  per_scenario: Dict[str, Dict] = {}
  sets: Dict[str, Dict[str, np.ndarray]] = {}
  missing = []
  for scenario in schema_lib.SCENARIOS.values():
    try:
      path = reader.find_scenario_file(data_dir, scenario)
    except TenrecInputError:
      missing.append(scenario.file_name)
      continue
    stats = scenario_stats(path, scenario, chunk_bytes)
    sets[scenario.name] = {'users': stats.pop('_user_ids'), 'items': stats.pop('_item_ids')}
    stats['file'] = os.path.basename(path)
    per_scenario[scenario.name] = stats
  if not per_scenario:
    raise TenrecInputError(
        data_dir, 'no Tenrec scenario file found',
        hint='The folder must contain QK-video.csv, QB-video.csv, QK-article.csv or '
        'QB-article.csv; create them with `tenrec generate`.')
  _cross_stats(per_scenario, sets)

  generation = None
  report_path = os.path.join(data_dir, GENERATION_REPORT)
  if os.path.exists(report_path):
    with open(report_path, encoding='utf-8') as handle:
      generation = json.load(handle)
  return {'data_dir': data_dir, 'generation': generation, 'scenarios': per_scenario,
          'missing': missing}


def _format_value(value) -> str:
  if isinstance(value, (bool, np.bool_)):
    return 'yes' if value else 'no'
  if isinstance(value, (int, np.integer)):
    return f'{int(value):,}'
  if isinstance(value, float):
    if value != value:  # NaN
      return 'n/a'
    return f'{value:.4g}' if abs(value) < 1e5 else f'{value:,.0f}'
  return str(value)


def format_stats_table(stats: Dict, scenario: Optional[str] = None) -> str:
  """Formats `compute_stats` output as one text table per scenario.

  Columns: statistic, measured value, published Tenrec value, and its source.
  """
  lines = []
  generation = stats.get('generation')
  if generation:
    lines.append(f'{stats["data_dir"]}: generated by {generation.get("generator")} '
                 f'{generation.get("generator_version")} (seed {generation.get("seed")}, '
                 f'scale {generation.get("scale")}). Not Tenrec data.')
  else:
    lines.append(f'{stats["data_dir"]}: no generation.json; treated as real Tenrec files.')
  if stats.get('missing'):
    lines.append(f'Not found: {", ".join(stats["missing"])}.')

  for name, values in stats['scenarios'].items():
    if scenario is not None and name != scenario:
      continue
    rows = [('statistic', 'measured', 'target', 'source of the target')]
    for key, value in values.items():
      if key == 'file':
        continue
      target = targets_lib.find_target(name, key)
      if target is None:
        rows.append((key, _format_value(value), '-', ''))
        continue
      source = target.source + (f' ({target.note})' if target.note else '')
      rows.append((key, _format_value(value), target.describe(), source))
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    lines.append('')
    lines.append(f'== {values.get("file", name)} ==')
    for row in rows:
      lines.append('  '.join(cell.ljust(widths[i]) if i < 3 else cell
                             for i, cell in enumerate(row)).rstrip())
  return '\n'.join(lines) + '\n'


def write_stats_json(stats: Dict, path: str) -> None:
  """Writes `compute_stats` output, with each published target beside its statistic."""
  enriched = dict(stats)
  enriched['targets'] = {
      name: {t.statistic: {'value': t.value, 'kind': t.kind, 'source': t.source, 'note': t.note}
             for t in targets_lib.TARGETS[name]}
      for name in stats['scenarios']}
  with open(path, 'w', encoding='utf-8') as handle:
    json.dump(enriched, handle, indent=2, sort_keys=True, default=_json_default)
    handle.write('\n')


def _json_default(value):
  if isinstance(value, np.generic):
    return value.item()
  raise TypeError(f'cannot write {type(value).__name__} to JSON')
