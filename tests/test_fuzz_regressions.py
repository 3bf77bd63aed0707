"""The fuzz corpus as regression tests: every committed input of ``fuzz/corpus/<target>/`` (the seeds,
and each finding of ``make fuzz`` once fixed, ``regress-*``) through its target's function
(``fuzz/targets.py``).  Each must end in success or in a clear error (a CTError other than exit 70)."""

from __future__ import annotations

import importlib.util
import os

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORPUS = os.path.join(REPO, "fuzz", "corpus")


def _targets():
    spec = importlib.util.spec_from_file_location("ct_fuzz_targets", os.path.join(REPO, "fuzz", "targets.py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


targets = _targets()
INPUTS = sorted((t, f) for t in os.listdir(CORPUS) for f in os.listdir(os.path.join(CORPUS, t)))


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.delenv("CT_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))


def test_every_target_has_a_corpus():
    assert sorted(os.listdir(CORPUS)) == sorted(targets.TARGETS)
    for t in targets.TARGETS:
        assert any(f.startswith("seed-") for f in os.listdir(os.path.join(CORPUS, t))), t


@pytest.mark.parametrize("target,name", INPUTS, ids=[f"{t}/{f}" for t, f in INPUTS])
def test_corpus_input(target, name):
    with open(os.path.join(CORPUS, target, name), "rb") as f:
        targets.run(target, f.read())
