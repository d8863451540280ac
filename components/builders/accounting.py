"""Row accounting: every row read is used, filtered (with a reason) or rejected (with a reason)."""

import collections
import dataclasses
from typing import Dict, Mapping

from absl import logging


@dataclasses.dataclass
class RowAccount:
  """Row counts of one input file.

  Attributes:
    read: Data rows read from the file (blank lines are not rows).
    used: Rows that contributed to the output dataset.
    filtered: Rows removed by a task rule, by rule name (for example 'negative_sampling').
    rejected: Invalid rows skipped in `--on-invalid-row=reject` mode, by reason.
  """

  read: int = 0
  used: int = 0
  filtered: Dict[str, int] = dataclasses.field(default_factory=dict)
  rejected: Dict[str, int] = dataclasses.field(default_factory=dict)

  def filter(self, reason: str, count: int) -> None:
    if count:
      self.filtered[reason] = self.filtered.get(reason, 0) + int(count)

  def reject(self, reason: str, count: int) -> None:
    if count:
      self.rejected[reason] = self.rejected.get(reason, 0) + int(count)

  @property
  def filtered_total(self) -> int:
    return sum(self.filtered.values())

  @property
  def rejected_total(self) -> int:
    return sum(self.rejected.values())

  def merge(self, other: 'RowAccount') -> 'RowAccount':
    merged = RowAccount(read=self.read + other.read, used=self.used + other.used)
    merged.filtered = dict(collections.Counter(self.filtered) + collections.Counter(other.filtered))
    merged.rejected = dict(collections.Counter(self.rejected) + collections.Counter(other.rejected))
    return merged

  def is_balanced(self) -> bool:
    return self.read == self.used + self.filtered_total + self.rejected_total

  def to_dict(self) -> Dict[str, object]:
    """Returns the counts as a JSON-compatible dictionary (mergeable by adding numbers)."""
    return {
        'read': self.read,
        'used': self.used,
        'filtered': dict(sorted(self.filtered.items())),
        'rejected': dict(sorted(self.rejected.items())),
    }

  @classmethod
  def from_dict(cls, data: Mapping[str, object]) -> 'RowAccount':
    return cls(read=int(data['read']), used=int(data['used']),
               filtered=dict(data.get('filtered', {})), rejected=dict(data.get('rejected', {})))


def merge_accounts(left: Mapping[str, RowAccount],
                   right: Mapping[str, RowAccount]) -> Dict[str, RowAccount]:
  """Merges two {input name: RowAccount} mappings."""
  merged = dict(left)
  for name, account in right.items():
    merged[name] = merged[name].merge(account) if name in merged else account
  return merged


def log_accounts(accounts: Mapping[str, RowAccount]) -> None:
  """Logs `read = used + filtered + rejected` per input, with the reasons."""
  for name, account in sorted(accounts.items()):
    logging.info('%s: read %d = used %d + filtered %d %s + rejected %d %s', name, account.read,
                 account.used, account.filtered_total, dict(sorted(account.filtered.items())),
                 account.rejected_total, dict(sorted(account.rejected.items())))
    if not account.is_balanced():
      logging.error('%s: row accounting does not balance: %s', name, account.to_dict())
