"""MovieLens in RecBole atomic format (`*.inter`, `*.user`, `*.item`) to the Tenrec video schema.

Mapping (each rating is one exposure of the user to the movie):

| Tenrec column | MovieLens source |
|---|---|
| `user_id`, `item_id` | the MovieLens ids, unchanged (item ids are shifted by 1 only if an item id 0 exists) |
| `click` | rating >= 4; ratings <= 3 are true negative exposures (click = 0) |
| `like` | rating == 5 |
| `follow`, `share` | 0 (no such signal) |
| `video_category` | the movie's first genre, by the MovieLens genre index below; `\\N` when the movie has no genre or is missing from the item file |
| `watching_times` | 0 (MovieLens has no viewing counts) |
| `gender` | M -> 1, F -> 2, anything else 0 (unknown) |
| `age` | age // 10 clipped to 1..7 (Tenrec's 10-year bins); 0 when unknown |

Genre index (the order of MovieLens 100K's u.genre file): unknown 0, Action 1, Adventure 2,
Animation 3, Children's 4, Comedy 5, Crime 6, Documentary 7, Drama 8, Fantasy 9, Film-Noir 10,
Horror 11, Musical 12, Mystery 13, Romance 14, Sci-Fi 15, Thriller 16, War 17, Western 18
(IMAX 19 for later MovieLens releases). Unlisted genres get the next free indices in order of
first appearance, and the full mapping is recorded in import.json.

Rows are written grouped by ascending user id, each user's rows in timestamp order (ties by
item id), because Tenrec rows are in time order per user and builders rely on the file order.

The whole interaction table is held in NumPy arrays (about 40 bytes per rating), which suits
MovieLens releases up to tens of millions of ratings.
"""

import logging
import os
import pathlib
from typing import Any, Dict, List, Optional, Tuple, Union

import numpy as np
import pyarrow as pa
from pyarrow import csv as pa_csv

from components.importers import common
from components.tenrec_io.errors import TenrecInputError

SOURCE_NAME = 'movielens'
MOVIELENS_GENRES = ('unknown', 'Action', 'Adventure', 'Animation', "Children's", 'Comedy',
                    'Crime', 'Documentary', 'Drama', 'Fantasy', 'Film-Noir', 'Horror',
                    'Musical', 'Mystery', 'Romance', 'Sci-Fi', 'Thriller', 'War', 'Western',
                    'IMAX')
CLICK_MIN_RATING = 4
LIKE_RATING = 5
MAX_AGE_BIN = 7


def find_atomic_files(source_dir: Union[str, os.PathLike]) -> Dict[str, pathlib.Path]:
  """Returns the .inter file (required) and the .user and .item files (optional) of a folder.

  Raises:
    TenrecInputError: The folder has no .inter file, or several of one kind.
  """
  folder = pathlib.Path(source_dir)
  if not folder.is_dir():
    raise TenrecInputError(str(folder), 'folder not found',
                           hint='Pass --source with the folder of the RecBole atomic files '
                           '(ml-100k.inter, ml-100k.user, ml-100k.item).')
  found = {}
  for suffix in ('inter', 'user', 'item'):
    matches = sorted(folder.glob(f'*.{suffix}'))
    if len(matches) > 1:
      raise TenrecInputError(str(folder), f'several .{suffix} files: '
                             f'{", ".join(m.name for m in matches)}',
                             hint='Keep one MovieLens release per folder.')
    if matches:
      found[suffix] = matches[0]
  if 'inter' not in found:
    raise TenrecInputError(str(folder), 'no .inter file (RecBole atomic interactions) found',
                           hint='The folder must contain for example ml-100k.inter.')
  return found


def _read_atomic(path: pathlib.Path, required: List[str]) -> Dict[str, pa.Array]:
  """Reads a tab-separated RecBole atomic file with `name:type` headers, as text columns."""
  with open(path, 'rb') as f:
    header = f.readline().decode('utf-8', errors='replace').rstrip('\r\n')
  if not header:
    raise TenrecInputError(str(path), 'file is empty', hint='Expected a RecBole atomic file.')
  names = [field.split(':', 1)[0] for field in header.split('\t')]
  if len(names) == 1 and ',' in header:
    raise TenrecInputError(str(path), 'header is comma-separated, expected tab-separated '
                           'RecBole atomic columns', line=1, value=header,
                           hint='Use the RecBole atomic files, or `tenrec import csv`.')
  for name in required:
    if name not in names:
      raise TenrecInputError(str(path), 'required column is missing from the header', line=1,
                             column=name, value=header,
                             hint=f'The header must contain {", ".join(required)}.')
  try:
    table = pa_csv.read_csv(
        path,
        read_options=pa_csv.ReadOptions(column_names=names, skip_rows=1),
        parse_options=pa_csv.ParseOptions(delimiter='\t', quote_char=False),
        convert_options=pa_csv.ConvertOptions(column_types={n: pa.string() for n in names},
                                              strings_can_be_null=False))
  except pa.ArrowInvalid as error:
    raise TenrecInputError(str(path), f'could not parse the file ({error})',
                           hint='Every line needs one tab-separated value per header column.'
                           ) from None
  return {name: table.column(name).combine_chunks() for name in names}


def _parse_integers(path: pathlib.Path, column: str, values: pa.Array,
                    allow_empty: bool = False) -> np.ndarray:
  return common.parse_integers(values, str(path), column, first_line=2,
                               allow_missing=allow_empty)


def _parse_numbers(path: pathlib.Path, column: str, values: pa.Array) -> np.ndarray:
  numbers = common.parse_numbers(values, str(path), column, first_line=2)
  if np.isnan(numbers).any():
    index = int(np.argmax(np.isnan(numbers)))
    raise TenrecInputError(str(path), 'missing value', line=index + 2, column=column,
                           value=values[index].as_py(), hint=f'{column} must be set in every row.')
  return numbers


def age_bins(ages: np.ndarray) -> np.ndarray:
  """Tenrec age bins: age // 10 clipped to 1..7 for known ages (> 0), else 0."""
  ages = np.asarray(ages, dtype=np.int64)
  return np.where(ages > 0, np.clip(ages // 10, 1, MAX_AGE_BIN), 0)


def gender_codes(genders: np.ndarray) -> np.ndarray:
  """Tenrec gender codes: M -> 1, F -> 2, anything else -> 0 (unknown)."""
  upper = np.char.upper(np.char.strip(np.asarray(genders, dtype=str)))
  return np.where(upper == 'M', 1, np.where(upper == 'F', 2, 0)).astype(np.int64)


def genre_categories(genre_lists: List[str]) -> Tuple[np.ndarray, Dict[str, int]]:
  """Maps each movie's first genre to an integer; returns (categories, genre -> integer)."""
  mapping = {genre: index for index, genre in enumerate(MOVIELENS_GENRES)}
  categories = np.full(len(genre_lists), -1, dtype=np.int64)
  for row, text in enumerate(genre_lists):
    tokens = text.split()
    if not tokens:
      continue
    first = tokens[0]
    if first not in mapping:
      mapping[first] = len(mapping)
    categories[row] = mapping[first]
  return categories, mapping


def _lookup(keys: np.ndarray, values: np.ndarray, queries: np.ndarray,
            missing: int) -> np.ndarray:
  """Returns values[keys == query] for every query, or `missing` when the key is absent."""
  if keys.size == 0:
    return np.full(queries.shape, missing, dtype=np.int64)
  order = np.argsort(keys, kind='stable')
  sorted_keys = keys[order]
  position = np.clip(np.searchsorted(sorted_keys, queries), 0, keys.size - 1)
  found = sorted_keys[position] == queries
  return np.where(found, values[order][position], missing)


def convert(source_dir: Union[str, os.PathLike]) -> Tuple[Dict[str, np.ndarray],
                                                           Dict[str, Any]]:
  """Reads a MovieLens atomic folder and returns (Tenrec columns in row order, mapping)."""
  files = find_atomic_files(source_dir)
  inter_path = files['inter']
  inter = _read_atomic(inter_path, ['user_id', 'item_id', 'rating', 'timestamp'])
  users = _parse_integers(inter_path, 'user_id', inter['user_id'])
  items = _parse_integers(inter_path, 'item_id', inter['item_id'])
  ratings = _parse_numbers(inter_path, 'rating', inter['rating'])
  timestamps = _parse_numbers(inter_path, 'timestamp', inter['timestamp'])
  for name, values in (('user_id', users), ('item_id', items)):
    if values.size and values.min() < 0:
      index = int(np.argmin(values))
      raise TenrecInputError(str(inter_path), 'negative id', line=index + 2, column=name,
                             value=str(values[index]), hint='Ids must be non-negative.')
  if users.size == 0:
    raise TenrecInputError(str(inter_path), 'file has a header but no data rows', line=2,
                           hint='Check that the file was copied completely.')
  item_offset = 1 if items.min() == 0 else 0

  genders = np.zeros(users.size, dtype=np.int64)
  ages = np.zeros(users.size, dtype=np.int64)
  if 'user' in files:
    user_table = _read_atomic(files['user'], ['user_id'])
    user_keys = _parse_integers(files['user'], 'user_id', user_table['user_id'])
    if 'gender' in user_table:
      genders = _lookup(user_keys, gender_codes(user_table['gender'].to_pylist()), users, 0)
    if 'age' in user_table:
      raw_ages = _parse_integers(files['user'], 'age', user_table['age'], allow_empty=True)
      ages = _lookup(user_keys, age_bins(raw_ages), users, 0)

  categories = np.full(users.size, -1, dtype=np.int64)
  genre_mapping = {genre: index for index, genre in enumerate(MOVIELENS_GENRES)}
  genre_column = None
  if 'item' in files:
    item_table = _read_atomic(files['item'], ['item_id'])
    genre_column = next((name for name in ('class', 'genre', 'genres') if name in item_table),
                        None)
    if genre_column is not None:
      item_keys = _parse_integers(files['item'], 'item_id', item_table['item_id'])
      per_item, genre_mapping = genre_categories(item_table[genre_column].to_pylist())
      categories = _lookup(item_keys, per_item, items, -1)

  order = np.lexsort((items, timestamps, users))
  columns = {
      'user_id': users[order],
      'item_id': items[order] + item_offset,
      'click': (ratings[order] >= CLICK_MIN_RATING).astype(np.int64),
      'like': (ratings[order] == LIKE_RATING).astype(np.int64),
      'follow': np.zeros(users.size, np.int64),
      'share': np.zeros(users.size, np.int64),
      'video_category': categories[order],
      'watching_times': np.zeros(users.size, np.int64),
      'gender': genders[order],
      'age': ages[order],
  }
  mapping = {
      'user_id': 'user_id (unchanged)',
      'item_id': f'item_id + {item_offset}' if item_offset else 'item_id (unchanged)',
      'click': f'rating >= {CLICK_MIN_RATING} (ratings <= {CLICK_MIN_RATING - 1} are negative '
               'exposures)',
      'like': f'rating == {LIKE_RATING}',
      'follow': 'constant 0',
      'share': 'constant 0',
      'video_category': (f'first genre of {genre_column}; missing (\\N) without a genre'
                         if genre_column else 'missing (\\N): no item file with genres'),
      'video_category_index': genre_mapping,
      'watching_times': 'constant 0',
      'gender': 'M -> 1, F -> 2, otherwise 0' if 'user' in files else 'constant 0',
      'age': 'age // 10 clipped to 1..7, 0 unknown' if 'user' in files else 'constant 0',
      'order': 'users ascending; rows of a user by timestamp, then item id',
  }
  return columns, mapping


def import_movielens(source_dir: Union[str, os.PathLike], out_dir: Union[str, os.PathLike],
                     scenario: str = 'qk_video', overwrite: bool = False,
                     source_name: Optional[str] = None) -> Dict[str, Any]:
  """Converts a MovieLens atomic folder to `out_dir/<scenario file>` plus import.json.

  Returns the import.json content.

  Raises:
    TenrecInputError: A source file is missing or malformed.
    FileExistsError: `out_dir` is not empty and `overwrite` is False.
  """
  columns, mapping = convert(source_dir)
  files = find_atomic_files(source_dir)
  name = source_name or files['inter'].stem
  with common.ImportOutput(out_dir, scenario, overwrite=overwrite) as output:
    output.write(columns)
    metadata = output.finish({
        'source': name,
        'source_path': str(pathlib.Path(source_dir).resolve()),
        'importer': SOURCE_NAME,
        'mapping': mapping,
        'users': int(np.unique(columns['user_id']).size),
        'items': int(np.unique(columns['item_id']).size),
        'clicks': int(columns['click'].sum()),
    })
  logging.info('Imported %d MovieLens ratings from %s into %s.', metadata['rows'], source_dir,
               out_dir)
  return metadata
