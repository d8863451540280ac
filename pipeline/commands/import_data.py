"""`tenrec import`: convert a public interaction log to Tenrec-schema raw files.

  tenrec import movielens [--source DIR] --out DIR
  tenrec import sequences FILE --out DIR
  tenrec import csv FILE --map user_id=visitor --map item_id=item [--timestamp ts] --out DIR
  tenrec import parquet FILE --mapping mapping.json --out DIR

The output folder contains the Tenrec file (QK-video.csv by default) and import.json, which
labels every later result on it as public data, not Tenrec results.
"""

import argparse
import json
import os
import pathlib
import sys
from typing import Any, Dict, Mapping

from pipeline.commands import common_args

SHARED_DATA_ENV = 'TENREC_SHARED_DATA'
MOVIELENS_FOLDER = 'movielens-100k'
_SCENARIO_CHOICES = ('qk_video', 'qb_video', 'qk_article', 'qb_article')
_DELIMITERS = {'tab': '\t', 'comma': ',', 'semicolon': ';', 'space': ' ', 'bar': '|'}


def default_movielens_dir() -> str:
  """../shared/data/movielens-100k beside the repository, or under $TENREC_SHARED_DATA."""
  override = os.environ.get(SHARED_DATA_ENV)
  if override:
    return str(pathlib.Path(override) / MOVIELENS_FOLDER)
  repository = pathlib.Path(__file__).resolve().parents[2]
  return str(repository.parent / 'shared' / 'data' / MOVIELENS_FOLDER)


def _add_common(parser: argparse.ArgumentParser) -> None:
  parser.add_argument('--out', '--output-dir', dest='out', required=True,
                      help='Output folder; receives the Tenrec CSV file and import.json.')
  parser.add_argument('--scenario', choices=_SCENARIO_CHOICES, default='qk_video',
                      help='Tenrec file to write (default: qk_video, that is QK-video.csv).')
  parser.add_argument('--name', default=None,
                      help='Source name recorded in import.json and in results (default: the '
                      'source file name).')
  parser.add_argument('--overwrite', action='store_true',
                      help='Replace a non-empty --out folder.')


def _delimiter(text: str) -> str:
  return _DELIMITERS.get(text.lower(), text)


def add_parser(subparsers) -> None:
  parser = subparsers.add_parser(
      'import', help='Convert a public log (MovieLens, sequence files, CSV, Parquet) to '
      'Tenrec-schema files.',
      description='Convert a public interaction log to a Tenrec-schema raw file plus '
      'import.json (the column mapping), so every task builder can read it. Results on '
      'imported data are labelled as public data, never as Tenrec results.',
      formatter_class=common_args.HelpFormatter)
  sources = parser.add_subparsers(dest='importer', metavar='SOURCE', required=True)

  movielens = sources.add_parser(
      'movielens', help='MovieLens in RecBole atomic format (.inter, .user, .item).',
      description='Rating >= 4 = click, <= 3 = negative exposure, 5 = like, first genre = '
      'video_category, gender M/F = 1/2, age // 10 = age bin; rows per user in timestamp '
      'order. See components/importers/movielens.py for the full mapping.',
      formatter_class=common_args.HelpFormatter)
  movielens.add_argument('--source', dest='source_dir', default=None,
                         help='Folder of the atomic files. Default: '
                         f'${SHARED_DATA_ENV}/{MOVIELENS_FOLDER} when that environment '
                         f'variable is set, else ../shared/data/{MOVIELENS_FOLDER} beside the '
                         'repository.')
  _add_common(movielens)

  sequences = sources.add_parser(
      'sequences', help='One user per line: `user item_1 item_2 ...` (Amazon Beauty format).',
      description='Every item becomes a click row; no negatives, gender and age 0 (unknown).',
      formatter_class=common_args.HelpFormatter)
  sequences.add_argument('file', help='The sequence file.')
  sequences.add_argument('--delimiter', type=_delimiter, default=None,
                         help='Token separator (default: any whitespace; tab, comma, ... or a '
                         'character).')
  sequences.add_argument('--remap-ids', action='store_true',
                         help='Number arbitrary user and item tokens 1, 2, ... in order of '
                         'first appearance (tables in user_ids.tsv and item_ids.tsv).')
  _add_common(sequences)

  for file_format in ('csv', 'parquet'):
    table = sources.add_parser(
        file_format, help=f'Any {file_format.upper()} log with a column mapping.',
        description='Map source columns to Tenrec columns with --map (repeatable) or '
        '--mapping; user_id and item_id are required. Unmapped columns get defaults: click 1, '
        'other actions 0, gender and age 0 (unknown), categories missing.',
        formatter_class=common_args.HelpFormatter)
    table.add_argument('file', help=f'The {file_format.upper()} file.')
    table.add_argument('--map', action='append', default=None, metavar='TENREC=SOURCE',
                       help='Map a Tenrec column to a source column, for example '
                       '--map user_id=visitorid. Repeatable.')
    table.add_argument('--mapping', default=None,
                       help='JSON object {tenrec_column: source_column}, inline or a file path.')
    table.add_argument('--timestamp', default=None,
                       help='Source column that orders each user\'s rows (numbers or ISO 8601); '
                       'without it the file order is kept.')
    if file_format == 'csv':
      table.add_argument('--delimiter', type=_delimiter, default=',',
                         help='Field separator (default: comma; tab, semicolon, ... or a '
                         'character).')
    table.add_argument('--remap-ids', action='store_true',
                       help='Number arbitrary user and item tokens 1, 2, ... in order of '
                       'first appearance (tables in user_ids.tsv and item_ids.tsv).')
    _add_common(table)
  parser.set_defaults(run=run)


def column_mapping(args: argparse.Namespace) -> Dict[str, str]:
  """Combines --mapping (JSON text or file) and --map items; --map wins on conflicts.

  Raises:
    ValueError: The JSON is invalid or not an object, or an item has no '='.
  """
  from components.importers import tabular  # pylint: disable=import-outside-toplevel

  mapping: Dict[str, str] = {}
  if args.mapping:
    text = args.mapping
    if os.path.isfile(text):
      with open(text, encoding='utf-8') as f:
        text = f.read()
    try:
      loaded = json.loads(text)
    except json.JSONDecodeError as error:
      raise ValueError(f'--mapping is neither a JSON object nor a JSON file: {error}.') from None
    if not isinstance(loaded, dict):
      raise ValueError('--mapping must be a JSON object {tenrec_column: source_column}.')
    mapping.update({str(k): str(v) for k, v in loaded.items()})
  mapping.update(tabular.parse_mapping_items(args.map or []))
  return mapping


def run(args: argparse.Namespace) -> int:
  try:
    metadata = _run_import(args)
  except (ValueError, FileExistsError) as error:
    if type(error).__name__ == 'TenrecInputError':
      raise
    print(f'tenrec import: error: {error}', file=sys.stderr)
    return 2
  print(format_summary(metadata, args.out))
  return 0


def _run_import(args: argparse.Namespace) -> Dict[str, Any]:
  if args.importer == 'movielens':
    from components.importers import movielens  # pylint: disable=import-outside-toplevel

    source_dir = args.source_dir or default_movielens_dir()
    if args.source_dir is None and not os.path.isdir(source_dir):
      raise common_args.UsageError(
          f'MovieLens folder {source_dir} not found. Pass --source with the folder of the '
          f'RecBole atomic files, or set ${SHARED_DATA_ENV} to a folder that contains '
          f'{MOVIELENS_FOLDER}/.')
    return movielens.import_movielens(source_dir, args.out,
                                      scenario=args.scenario, overwrite=args.overwrite,
                                      source_name=args.name)
  if args.importer == 'sequences':
    from components.importers import sequences  # pylint: disable=import-outside-toplevel

    return sequences.import_sequences(args.file, args.out, scenario=args.scenario,
                                      delimiter=args.delimiter, remap_ids=args.remap_ids,
                                      overwrite=args.overwrite, source_name=args.name)
  from components.importers import tabular  # pylint: disable=import-outside-toplevel

  return tabular.import_table(args.file, args.out, column_mapping(args), file_format=args.importer,
                              scenario=args.scenario, timestamp=args.timestamp,
                              delimiter=getattr(args, 'delimiter', ','),
                              remap_ids=args.remap_ids, overwrite=args.overwrite,
                              source_name=args.name)


def format_summary(metadata: Mapping[str, Any], out_dir: str) -> str:
  lines = [f'Imported {metadata["source"]} ({metadata["importer"]}): {metadata["rows"]:,} rows '
           f'into {os.path.join(out_dir, metadata["file"])}.',
           'Public data converted to the Tenrec schema; results on it are not Tenrec results.',
           'Column mapping:']
  for column, description in metadata['mapping'].items():
    if isinstance(description, dict):
      description = ', '.join(f'{k} {v}' for k, v in description.items())
    lines.append(f'  {column}: {description}')
  return '\n'.join(lines)
