"""Tests of pipeline.commands.common_args: hyper-parameter overrides, builder options, Beam
arguments."""

import argparse

import pytest

from pipeline.commands import common_args


def _parse(argv):
  parser = argparse.ArgumentParser()
  common_args.add_data_arguments(parser)
  common_args.add_ctr_builder_arguments(parser)
  common_args.add_training_arguments(parser)
  common_args.add_beam_arguments(parser)
  return parser.parse_args(argv)


def test_hparam_overrides_from_flags():
  args = _parse(['--epochs', '3', '--learning-rate', '0.01', '--hparam', 'dnn_units=[64,32]',
                 '--hparam', 'history_mode=reference_separate_fields'])
  assert common_args.hparam_overrides(args) == {
      'epochs': 3, 'learning_rate': 0.01, 'dnn_units': [64, 32],
      'history_mode': 'reference_separate_fields'}


def test_hparam_override_needs_equals_sign():
  args = _parse(['--hparam', 'epochs'])
  with pytest.raises(ValueError, match="KEY=VALUE, got 'epochs'"):
    common_args.hparam_overrides(args)


def test_objectives_become_hparam():
  args = _parse(['--objectives', 'click, like,share'])
  assert common_args.hparam_overrides(args)['objectives'] == ['click', 'like', 'share']


def test_builder_options_default_to_training_seed():
  args = _parse(['--seed', '11', '--split-ratios', '0.7,0.2,0.1'])
  options = common_args.ctr_builder_options(args)
  assert options['seed'] == 11
  assert options['split_ratios'] == [0.7, 0.2, 0.1]
  assert options['history_mode'] == 'before_row'


def test_builder_options_dataset_seed_overrides():
  args = _parse(['--seed', '11', '--dataset-seed', '3'])
  assert common_args.ctr_builder_options(args)['seed'] == 3


def test_beam_args_local_default():
  assert common_args.beam_pipeline_args(_parse([])) == ['--runner=FnApiRunner']


def test_beam_args_extra_runner_replaces_local():
  args = _parse(['--beam-arg=--runner=DataflowRunner', '--beam-arg=--project=p'])
  assert common_args.beam_pipeline_args(args) == ['--runner=DataflowRunner', '--project=p']


def test_beam_args_workers():
  args = _parse(['--beam-workers', '2', '--beam-arg=--direct_running_mode=multi_threading'])
  result = common_args.beam_pipeline_args(args)
  assert '--direct_num_workers=2' in result
  assert result[-1] == '--direct_running_mode=multi_threading'


def test_choices_reject_unknown_history_mode():
  with pytest.raises(SystemExit):
    _parse(['--history-mode', 'future'])


def _help_of(parser, option):
  """Returns the help text of one option as the formatter renders it, on a single line."""
  text = ' '.join(parser.format_help().split())
  start = text.rindex(option)
  return text[start:start + 300]


def _formatted_parser():
  parser = argparse.ArgumentParser(formatter_class=common_args.HelpFormatter)
  parser.add_argument('--plain', type=int, default=3, help='A number.')
  parser.add_argument('--stated', default='x', help='A name (default: x).')
  parser.add_argument('--unset', default=None, help='Unset option.')
  parser.add_argument('--needed', required=True, default='y', help='Required option.')
  parser.add_argument('--flag', action='store_true', help='A flag.')
  return parser


def test_help_formatter_appends_default():
  assert 'A number. (default: 3)' in _help_of(_formatted_parser(), '--plain PLAIN')


def test_help_formatter_skips_stated_default():
  assert _help_of(_formatted_parser(), '--stated STATED').count('default') == 1


def test_help_formatter_skips_none_required_flag():
  help_text = ' '.join(_formatted_parser().format_help().split())
  assert 'Unset option. (default' not in help_text
  assert 'Required option. (default' not in help_text
  assert 'A flag. (default' not in help_text


def test_at_least_rejects_small_value():
  parse = common_args.at_least(1)
  assert parse('4') == 4
  with pytest.raises(argparse.ArgumentTypeError, match='at least 1, got 0'):
    parse('0')
  with pytest.raises(argparse.ArgumentTypeError, match='expected an integer'):
    parse('two')


def test_hparam_help_names_real_hparam():
  parser = argparse.ArgumentParser(formatter_class=common_args.HelpFormatter)
  common_args.add_training_arguments(parser)
  assert 'dnn_hidden_units=[128,64]' in _help_of(parser, '--hparam KEY=VALUE')


def test_key_value_error_is_usage_error():
  with pytest.raises(common_args.UsageError):
    common_args.parse_key_values(['no_equals_sign'], '--hparam')
