"""Tests of serving.layout: version folders, models.config and the monitoring config."""

import os
import pathlib

from google.protobuf import text_format
import pytest
from tensorflow_serving.config import model_server_config_pb2

from serving import layout


def _version(base: pathlib.Path, version: str, complete: bool = True) -> pathlib.Path:
  folder = base / version
  folder.mkdir(parents=True)
  if complete:
    (folder / 'saved_model.pb').write_bytes(b'')
    (folder / 'variables').mkdir()
  return folder


@pytest.fixture
def serving_tree(tmp_path):
  """ctr_deepfm with versions 3 and 10 (plus clutter), sbr_sasrec with version 1."""
  ctr = tmp_path / 'ctr_deepfm'
  _version(ctr, '3')
  _version(ctr, '10')
  (ctr / 'tmp-push').mkdir()
  (ctr / 'notes.txt').write_text('x')
  _version(tmp_path / 'sbr_sasrec', '1')
  (tmp_path / 'empty_model').mkdir()
  return tmp_path


def test_list_versions_numeric_order(serving_tree):
  versions = layout.list_versions(str(serving_tree / 'ctr_deepfm'))
  assert [v.version for v in versions] == [3, 10]


def test_list_versions_skips_incomplete(tmp_path):
  _version(tmp_path, '1')
  _version(tmp_path, '2', complete=False)
  assert [v.version for v in layout.list_versions(str(tmp_path))] == [1]


def test_check_base_path_servable(serving_tree):
  assert layout.check_model_base_path(str(serving_tree / 'ctr_deepfm')) == []


def test_check_base_path_incomplete_version(tmp_path):
  _version(tmp_path, '4', complete=False)
  problems = layout.check_model_base_path(str(tmp_path))
  assert len(problems) == 1
  assert 'has no saved_model.pb' in problems[0]


def test_check_base_path_is_saved_model(tmp_path):
  folder = _version(tmp_path, '1')
  problems = layout.check_model_base_path(str(folder))
  assert 'is a SavedModel folder, not a model base path' in problems[0]


def test_check_base_path_without_versions(tmp_path):
  problems = layout.check_model_base_path(str(tmp_path))
  assert 'no numeric version folder' in problems[0]


def test_check_base_path_missing(tmp_path):
  problems = layout.check_model_base_path(str(tmp_path / 'nope'))
  assert 'does not exist' in problems[0]


def test_discover_models(serving_tree):
  entries = layout.discover_models(str(serving_tree))
  assert [e.name for e in entries] == ['ctr_deepfm', 'sbr_sasrec']
  assert entries[0].base_path == str(serving_tree / 'ctr_deepfm')


def test_discover_models_empty(tmp_path):
  with pytest.raises(layout.LayoutError, match='contains no model folder'):
    layout.discover_models(str(tmp_path))


def test_select_versions_policies(serving_tree):
  base = str(serving_tree / 'ctr_deepfm')
  latest = layout.ModelEntry('m', base)
  two = layout.ModelEntry('m', base, num_versions=2)
  everything = layout.ModelEntry('m', base, version_policy='all')
  specific = layout.ModelEntry('m', base, version_policy='specific', versions=(3,))
  assert [v.version for v in layout.select_versions(latest)] == [10]
  assert [v.version for v in layout.select_versions(two)] == [3, 10]
  assert [v.version for v in layout.select_versions(everything)] == [3, 10]
  assert [v.version for v in layout.select_versions(specific)] == [3]


def test_select_versions_missing_specific(serving_tree):
  entry = layout.ModelEntry('m', str(serving_tree / 'ctr_deepfm'), version_policy='specific',
                            versions=(4,))
  with pytest.raises(layout.LayoutError, match=r'versions \[4\] are not in'):
    layout.select_versions(entry)


@pytest.mark.parametrize('kwargs, message', [
    ({'name': 'a/b'}, 'model name'),
    ({'name': 'm', 'version_policy': 'newest'}, 'version policy'),
    ({'name': 'm', 'num_versions': 0}, 'num_versions'),
    ({'name': 'm', 'version_policy': 'specific'}, 'needs versions'),
])
def test_model_entry_invalid(kwargs, message):
  with pytest.raises(layout.LayoutError, match=message):
    layout.ModelEntry(base_path='/m', **kwargs)


def test_models_config_lists_every_model(serving_tree):
  text = layout.models_config_text(layout.discover_models(str(serving_tree)))
  config = text_format.Parse(text, model_server_config_pb2.ModelServerConfig())
  models = config.model_config_list.config
  assert [m.name for m in models] == ['ctr_deepfm', 'sbr_sasrec']
  assert models[0].base_path == str(serving_tree / 'ctr_deepfm')
  assert models[0].model_platform == 'tensorflow'
  assert models[0].model_version_policy.latest.num_versions == 1


def test_models_config_text_layout(tmp_path):
  text = layout.models_config_text([layout.ModelEntry('ctr_deepfm', '/x/ctr_deepfm')],
                                   container_base_path='/models/')
  assert text == ('model_config_list {\n'
                  '  config {\n'
                  '    name: "ctr_deepfm"\n'
                  '    base_path: "/models/ctr_deepfm"\n'
                  '    model_platform: "tensorflow"\n'
                  '    model_version_policy {\n'
                  '      latest {\n'
                  '        num_versions: 1\n'
                  '      }\n'
                  '    }\n'
                  '  }\n'
                  '}\n')


def test_models_config_round_trip():
  entries = [layout.ModelEntry('a', '/a', version_policy='all'),
             layout.ModelEntry('b', '/b', version_policy='specific', versions=(5, 2)),
             layout.ModelEntry('c', '/c', num_versions=3)]
  parsed = layout.parse_models_config(layout.models_config_text(entries))
  assert parsed[0].version_policy == 'all'
  assert parsed[1].versions == (2, 5)
  assert parsed[2].num_versions == 3


def test_models_config_duplicate_names():
  entries = [layout.ModelEntry('a', '/a'), layout.ModelEntry('a', '/b')]
  with pytest.raises(layout.LayoutError, match="repeated: \\['a'\\]"):
    layout.models_config_text(entries)


def test_parse_models_config_invalid():
  with pytest.raises(layout.LayoutError, match='not a valid ModelServerConfig'):
    layout.parse_models_config('model_config_list { config { nme: "a" } }')


def test_monitoring_config_text():
  assert layout.monitoring_config_text() == (
      'prometheus_config {\n  enable: true\n  path: "/monitoring/prometheus/metrics"\n}\n')


def test_monitoring_config_invalid_path():
  with pytest.raises(layout.LayoutError, match='must start with'):
    layout.monitoring_config_text('metrics')


def test_write_serving_configs(serving_tree, tmp_path_factory):
  output = tmp_path_factory.mktemp('configs')
  paths = layout.write_serving_configs(str(serving_tree), str(output),
                                       container_base_path='/models')
  entries = layout.parse_models_config(pathlib.Path(paths['models_config']).read_text())
  assert [e.base_path for e in entries] == ['/models/ctr_deepfm', '/models/sbr_sasrec']
  assert os.path.basename(paths['monitoring_config']) == 'monitoring.config'


def test_resolve_export_dir_forms(serving_tree):
  ctr = serving_tree / 'ctr_deepfm'
  assert layout.resolve_export_dir(str(ctr / '3')) == str(ctr / '3')
  assert layout.resolve_export_dir(str(ctr)) == str(ctr / '10')
  assert layout.resolve_export_dir(str(serving_tree / 'sbr_sasrec')) == str(
      serving_tree / 'sbr_sasrec' / '1')


def test_resolve_export_dir_several_models(serving_tree):
  with pytest.raises(layout.LayoutError, match='contains several models'):
    layout.resolve_export_dir(str(serving_tree))


def test_layout_main_writes_configs(serving_tree, capsys):
  status = layout.main([str(serving_tree), '--container-base-path', '/models'])
  output = capsys.readouterr().out
  assert status == 0
  assert 'ctr_deepfm: versions [3, 10]' in output
  assert (serving_tree / 'models.config').exists()


def test_layout_main_missing_base(tmp_path, capsys):
  status = layout.main([str(tmp_path / 'nope')])
  assert status == 2
  assert 'does not exist' in capsys.readouterr().err
