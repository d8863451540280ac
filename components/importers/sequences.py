"""One-user-per-line sequence files (`user item_1 item_2 ...`, oldest first) to Tenrec clicks.

This is the layout of the Amazon Beauty/Sports/Toys files of the S3-Rec and ICLRec papers.
Every item on a line becomes one QK-video-schema row with click = 1: such files hold
interactions only (no negatives, no demographics), so follow, like, share and watching_times
are 0, gender and age are 0 (unknown) and video_category is missing (`\\N`).

Ids must be non-negative integers, or any tokens with `remap_ids=True` (users and items then
get ids 1, 2, ... in order of first appearance, and the token-to-id tables are written beside
the Tenrec file as `user_ids.tsv` and `item_ids.tsv`). Item id 0 is reserved for padding by the
sequence pipelines, so a file whose item ids start at 0 is shifted by 1 (recorded in
import.json).

The file is read twice (a validation pass, then the conversion) in blocks of lines, so memory
stays bounded by the block size, whatever the file size, unless ids are remapped (the token
tables are kept in memory).
"""

import logging
import os
import pathlib
from typing import Any, Dict, Iterator, List, Optional, Tuple, Union

import numpy as np

from components.importers import common
from components.tenrec_io.errors import TenrecInputError

SOURCE_NAME = 'sequences'
DEFAULT_BLOCK_LINES = 100_000


def _read_blocks(path: pathlib.Path, delimiter: Optional[str],
                 block_lines: int) -> Iterator[Tuple[int, List[List[str]]]]:
  """Yields (1-based line number of the first line, token lists) per block of lines.

  Empty lines are skipped; a line with a user and no items is an error.
  """
  block: List[List[str]] = []
  first_line = 1
  with open(path, encoding='utf-8') as f:
    for number, line in enumerate(f, start=1):
      stripped = line.strip()
      if not block:
        first_line = number
      if not stripped:
        block.append([])
      else:
        block.append(stripped.split(delimiter))
      if len(block) >= block_lines:
        yield first_line, block
        block = []
  if block:
    yield first_line, block


def _check_tokens(path: pathlib.Path, first_line: int, block: List[List[str]],
                  remap_ids: bool) -> None:
  for offset, tokens in enumerate(block):
    if not tokens:
      continue
    line = first_line + offset
    if len(tokens) < 2:
      hint = 'Each line must be `user item_1 item_2 ...`; remove the line.'
      if any(separator in tokens[0] for separator in (',', ';', '\t', '|')):
        hint = ('Tokens are separated by whitespace by default; pass --delimiter with the '
                'separator of this file.')
      raise TenrecInputError(str(path), 'line has a user but no items', line=line,
                             column='item_id', value=' '.join(tokens), hint=hint)
    if remap_ids:
      continue
    for position, token in enumerate(tokens):
      column = 'user_id' if position == 0 else 'item_id'
      if not token.isdigit():
        reason = ('negative id' if token.startswith('-') and token[1:].isdigit() else
                  'id is not a non-negative integer')
        hint = ('Ids must be non-negative integers; pass --remap-ids to number arbitrary '
                'tokens.')
        if ',' in token or '\t' in token:
          hint = 'Tokens are separated by whitespace by default; pass --delimiter.'
        raise TenrecInputError(str(path), reason, line=line, column=column, value=token,
                               hint=hint)


class _TokenIds:
  """Numbers tokens 1, 2, ... in order of first appearance."""

  def __init__(self):
    self.ids: Dict[str, int] = {}

  def encode(self, tokens: List[str]) -> np.ndarray:
    out = np.empty(len(tokens), dtype=np.int64)
    for index, token in enumerate(tokens):
      value = self.ids.get(token)
      if value is None:
        value = len(self.ids) + 1
        self.ids[token] = value
      out[index] = value
    return out

  def write(self, path: pathlib.Path) -> None:
    with open(path, 'w', encoding='utf-8') as f:
      f.write('token\tid\n')
      for token, value in self.ids.items():
        f.write(f'{token}\t{value}\n')


def import_sequences(path: Union[str, os.PathLike], out_dir: Union[str, os.PathLike],
                     scenario: str = 'qk_video', delimiter: Optional[str] = None,
                     remap_ids: bool = False, overwrite: bool = False,
                     source_name: Optional[str] = None,
                     block_lines: int = DEFAULT_BLOCK_LINES) -> Dict[str, Any]:
  """Converts a one-user-per-line sequence file to Tenrec clicks in `out_dir`.

  Args:
    path: The sequence file.
    out_dir: Output folder (receives the scenario's CSV file and import.json).
    scenario: Tenrec file to write ('qk_video' by default).
    delimiter: Token separator; None splits on any whitespace.
    remap_ids: Number arbitrary user and item tokens 1, 2, ... (see the module docstring).
    overwrite: Replace a non-empty `out_dir`.
    source_name: Name recorded in import.json (default: the file name without extension).
    block_lines: Lines converted per block.

  Returns:
    The import.json content.

  Raises:
    TenrecInputError: The file is missing, empty or has an invalid line.
    FileExistsError: `out_dir` is not empty and `overwrite` is False.
  """
  path = pathlib.Path(path)
  if not path.is_file():
    raise TenrecInputError(str(path), 'file not found',
                           hint='Pass the path of a one-user-per-line sequence file.')
  if path.stat().st_size == 0:
    raise TenrecInputError(str(path), 'file is empty',
                           hint='Expected lines `user item_1 item_2 ...`.')

  min_item = None
  for first_line, block in _read_blocks(path, delimiter, block_lines):
    _check_tokens(path, first_line, block, remap_ids)
    if not remap_ids:
      items = [int(t) for tokens in block for t in tokens[1:]]
      if items:
        low = min(items)
        min_item = low if min_item is None else min(min_item, low)
  if min_item is None and not remap_ids:
    raise TenrecInputError(str(path), 'file has no interactions',
                           hint='Expected lines `user item_1 item_2 ...`.')
  item_offset = 1 if (not remap_ids and min_item == 0) else 0

  user_ids = _TokenIds() if remap_ids else None
  item_ids = _TokenIds() if remap_ids else None
  users_seen = 0
  with common.ImportOutput(out_dir, scenario, overwrite=overwrite) as output:
    for _, block in _read_blocks(path, delimiter, block_lines):
      lines = [tokens for tokens in block if tokens]
      users_seen += len(lines)
      lengths = np.array([len(tokens) - 1 for tokens in lines], dtype=np.int64)
      user_tokens = [tokens[0] for tokens in lines]
      item_tokens = [t for tokens in lines for t in tokens[1:]]
      if remap_ids:
        users = user_ids.encode(user_tokens)
        items = item_ids.encode(item_tokens)
      else:
        users = np.array(user_tokens, dtype=np.int64)
        items = np.array(item_tokens, dtype=np.int64) + item_offset
      output.write({'user_id': np.repeat(users, lengths), 'item_id': items,
                    'click': np.ones(items.size, np.int64)})
    if remap_ids:
      user_ids.write(output.partial_dir / 'user_ids.tsv')
      item_ids.write(output.partial_dir / 'item_ids.tsv')
    if output.rows == 0:
      raise TenrecInputError(str(path), 'file has no interactions',
                             hint='Expected lines `user item_1 item_2 ...`.')
    mapping = {
        'user_id': ('token -> 1, 2, ... by first appearance (user_ids.tsv)' if remap_ids else
                    'first token of the line'),
        'item_id': ('token -> 1, 2, ... by first appearance (item_ids.tsv)' if remap_ids else
                    f'item token + {item_offset}' if item_offset else 'item token'),
        'order': 'file order: users as listed, items oldest first',
    }
    for column in output.schema.columns:
      if column.name not in ('user_id', 'item_id'):
        mapping[column.name] = common.describe_default(column)
    metadata = output.finish({
        'source': source_name or path.stem,
        'source_path': str(path.resolve()),
        'importer': SOURCE_NAME,
        'mapping': mapping,
        'users': users_seen,
    })
  logging.info('Imported %d interactions of %d users from %s into %s.', metadata['rows'],
               users_seen, path, out_dir)
  return metadata
