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
