"""Tests of pipeline.datasets: labelling data folders as generated, public or Tenrec data."""

import json
import logging

import pytest

from pipeline import datasets


def test_describe_generated(tmp_path):
  (tmp_path / 'generation.json').write_text(json.dumps({'scale': 0.002, 'seed': 4}))
  info = datasets.describe(str(tmp_path))
  assert info.kind == 'generated'
  assert info.name == 'generated-s0.002-seed4'
  assert 'not Tenrec' in info.description['note']


def test_describe_public(tmp_path):
  (tmp_path / 'import.json').write_text(
      json.dumps({'source': 'movielens-100k', 'mapping': {'click': 'rating >= 4'}}))
  info = datasets.describe(str(tmp_path))
  assert info.kind == 'public'
  assert info.name == 'movielens-100k'
  assert info.description['mapping'] == {'click': 'rating >= 4'}


def test_describe_real_tenrec(tmp_path):
  info = datasets.describe(str(tmp_path))
  assert info.kind == 'tenrec'
  assert info.data_dir == str(tmp_path)


def test_describe_tenrec_label_assumed(tmp_path):
  info = datasets.describe(str(tmp_path))
  assert info.description['kind'] == 'tenrec'
  assert info.description['provenance'] == 'assumed'
  assert 'assumed real Tenrec data' in info.description['name']
  assert 'no generation.json or import.json' in info.description['name']


def test_describe_tenrec_warns(tmp_path, caplog):
  with caplog.at_level(logging.WARNING):
    datasets.describe(str(tmp_path))
  warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
  assert any('labelled as Tenrec data' in message for message in warnings)
  assert any(str(tmp_path) in message for message in warnings)


def test_generated_dir_uses_cache_env(tmp_path, monkeypatch):
  monkeypatch.setenv(datasets.CACHE_ENV, str(tmp_path))
  assert datasets.generated_dir(0.001, 2) == str(tmp_path / 'generated' / 'scale-0.001-seed-2')


def test_ensure_generated_reuses_existing(tmp_path, monkeypatch):
  folder = tmp_path / 'generated' / 'scale-0.5-seed-1'
  folder.mkdir(parents=True)
  (folder / 'generation.json').write_text(json.dumps({'scale': 0.5, 'seed': 1}))

  from components import generator

  def fail(*args, **kwargs):
    raise AssertionError('generate must not run when the data exists')

  monkeypatch.setattr(generator, 'generate', fail)
  info = datasets.ensure_generated(0.5, 1, cache_dir=str(tmp_path))
  assert info.kind == 'generated'
  assert info.data_dir == str(folder)


def test_ensure_generated_creates_missing(tmp_path, monkeypatch):
  from components import generator

  calls = []

  def fake_generate(path, scale, seed, overwrite):
    calls.append((path, scale, seed, overwrite))
    import os
    os.makedirs(path, exist_ok=True)
    with open(os.path.join(path, 'generation.json'), 'w') as f:
      json.dump({'scale': scale, 'seed': seed}, f)

  monkeypatch.setattr(generator, 'generate', fake_generate)
  info = datasets.ensure_generated(0.25, 9, cache_dir=str(tmp_path))
  assert calls == [(str(tmp_path / 'generated' / 'scale-0.25-seed-9'), 0.25, 9, True)]
  assert info.name == 'generated-s0.25-seed9'
