"""The error raised for malformed Tenrec input files."""

from typing import Optional


class TenrecInputError(ValueError):
  """Malformed input file, with the file, line, column and value that caused it.

  Attributes:
    path: The input file.
    line: 1-based line number in the file (the header is line 1), or None when the problem
      concerns the whole file (for example an empty file).
    column: Header name of the offending column, or None.
    value: The offending text, shortened to 80 characters, or None.
    reason: What is wrong, as a plain sentence fragment.
    hint: What the user can do about it.
  """

  def __init__(self,
               path: str,
               reason: str,
               *,
               line: Optional[int] = None,
               column: Optional[str] = None,
               value: Optional[str] = None,
               hint: str = ''):
    self.path = path
    self.line = line
    self.column = column
    self.value = None if value is None else _shorten(value)
    self.reason = reason
    self.hint = hint
    super().__init__(self._format())

  def _format(self) -> str:
    location = self.path if self.line is None else f'{self.path}, line {self.line}'
    parts = [location]
    if self.column is not None:
      parts.append(f'column {self.column!r}')
    if self.value is not None:
      parts.append(f'value {self.value!r}')
    message = ', '.join(parts) + f': {self.reason}.'
    if self.hint:
      message += f' {self.hint}'
    return message

  def __reduce__(self):
    # Beam workers pickle exceptions back to the launching process; keep every field.
    return (_rebuild, (self.path, self.reason, self.line, self.column, self.value, self.hint))


def _rebuild(path, reason, line, column, value, hint):
  return TenrecInputError(path, reason, line=line, column=column, value=value, hint=hint)


def _shorten(text: str, limit: int = 80) -> str:
  return text if len(text) <= limit else text[:limit - 3] + '...'
