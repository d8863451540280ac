"""Tests of the row accounting (read = used + filtered + rejected)."""

from components.builders import accounting


def test_account_balanced():
  account = accounting.RowAccount(read=10, used=6)
  account.filter('not_clicked', 3)
  account.reject('bad id', 1)
  assert account.is_balanced()
  assert account.filtered_total == 3
  assert account.rejected_total == 1


def test_account_unbalanced():
  account = accounting.RowAccount(read=10, used=6)
  account.filter('not_clicked', 3)
  assert not account.is_balanced()


def test_account_zero_counts_not_recorded():
  account = accounting.RowAccount()
  account.filter('x', 0)
  assert account.filtered == {}


def test_account_merge_adds_reasons():
  left = accounting.RowAccount(read=5, used=2, filtered={'a': 3})
  right = accounting.RowAccount(read=4, used=1, filtered={'a': 1, 'b': 2})
  merged = left.merge(right)
  assert merged.read == 9
  assert merged.used == 3
  assert merged.filtered == {'a': 4, 'b': 2}


def test_account_dict_round_trip():
  account = accounting.RowAccount(read=7, used=3, filtered={'b': 1, 'a': 2}, rejected={'r': 1})
  restored = accounting.RowAccount.from_dict(account.to_dict())
  assert restored == account
  assert list(account.to_dict()['filtered']) == ['a', 'b']


def test_merge_accounts_by_input():
  merged = accounting.merge_accounts({'x': accounting.RowAccount(read=1, used=1)},
                                     {'x': accounting.RowAccount(read=2, used=2),
                                      'y': accounting.RowAccount(read=3, used=3)})
  assert merged['x'].read == 3
  assert merged['y'].used == 3
