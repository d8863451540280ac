"""Tests of the sequence builders' options."""

import pytest

from components.builders import sequence_options as so


def test_sbr_options_defaults():
  options = so.SbrOptions()
  assert options.min_item_clicks == 2
  assert options.max_item_clicks == 200_000
  assert options.min_user_clicks == 10
  assert options.item_order == 'raw_id'


def test_options_from_dict_lists_become_tuples():
  options = so.ProfileOptions.from_dict({'labels': ['age'], 'split_ratios': [0.6, 0.2, 0.2]})
  assert options.labels == ('age',)
  assert options.split_ratios == (0.6, 0.2, 0.2)


def test_options_round_trip():
  options = so.ColdStartOptions(setting='mixed', cold_fraction=0.3)
  assert so.ColdStartOptions.from_dict(options.to_dict()) == options


def test_options_unknown_key_raises():
  with pytest.raises(ValueError, match="Unknown SbrOptions option"):
    so.SbrOptions.from_dict({'min_clicks': 3})


@pytest.mark.parametrize('cls,values,message', [
    (so.SbrOptions, {'min_user_clicks': 2}, 'at least 3'),
    (so.SbrOptions, {'item_order': 'random'}, 'item_order must be one of'),
    (so.SbrOptions, {'validation_users': 'first'}, 'validation_users must be one of'),
    (so.SbrOptions, {'max_item_click_fraction': 2.0}, 'max_item_click_fraction'),
    (so.SbrOptions, {'max_item_clicks': 1}, 'at least min_item_clicks'),
    (so.SbrOptions, {'scenario': 'QX-video'}, 'Unknown Tenrec scenario'),
    (so.ProfileOptions, {'labels': ('height',)}, 'labels must be one of'),
    (so.ProfileOptions, {'drop_last_clicks': 10}, 'drop_last_clicks'),
    (so.ColdStartOptions, {'setting': 'recent'}, 'setting must be one of'),
    (so.ColdStartOptions, {'cold_fraction': 1.5}, 'cold_fraction'),
    (so.ColdStartOptions, {'split_ratios': (0.5, 0.5, 0.5)}, 'sum to 1'),
    (so.LifelongOptions, {'task0_user_fraction': 0.0}, 'task0_user_fraction'),
    (so.LifelongOptions, {'task2_signal': 'share'}, 'task2_signal must be one of'),
])
def test_options_invalid_value_raises(cls, values, message):
  with pytest.raises(ValueError, match=message):
    cls(**values)


def test_infacc_default_scenario():
  assert so.InfaccOptions().scenario == 'qb_video'
