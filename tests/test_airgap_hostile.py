"""Hostile airgap tarballs (tests/hostile/archives.py, built with Python's tarfile and GNU tar at test
time): every one is refused with exit 10 and an error naming the member, nothing is extracted
anywhere, and the store is exactly as it was."""

from __future__ import annotations

import os
import re

import pytest
from hostile import archives
from test_airgap_support import World, export, imp, store_snapshot, world_for_module
from test_bundle_support import cheap_env, ct


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return world_for_module(tmp_path_factory)


@pytest.fixture(scope="module")
def corpus(world: World, tmp_path_factory):
    """(host home with a store holding one import, the hostile cases)."""
    root = tmp_path_factory.mktemp("hostile")
    good = str(root / "good.tar")
    with pytest.MonkeyPatch.context() as mp:
        cheap_env(mp)
        assert export(world, good, "tool.ctp", "group.ctp", extra=("--include-keys", "--policy", world.policy))[0] == 0
        host = str(root / "host")
        assert imp(host, good, "--policy", world.policy)[0] == 0
    return host, archives.build(str(root / "cases"), good)


NAMES = ["absolute", "dotdot", "dotdot-top", "dot-segment", "symlink", "hardlink", "chardev", "blockdev", "fifo",
         "directory", "pax-global", "gnu-longname", "duplicate", "case-collision", "unicode-collision", "unexpected",
         "out-of-order", "deep-tarfile", "long-name", "ten-gib-claim", "base256-claim", "oversized-policy",
         "member-bomb", "truncated", "bad-checksum", "trailing-data", "not-a-tar", "empty", "gnu-symlink",
         "gnu-hardlink", "gnu-fifo", "gnu-chardev", "gnu-sparse", "gnu-sparse-posix", "gnu-directory", "gnu-deep",
         "gnu-deep-posix"]


def test_the_corpus_is_complete(corpus):
    _, cases = corpus
    assert [c.name for c in cases] == NAMES
    assert {c.tool for c in cases} == {"tarfile", "gnu tar", "bytes"}


@pytest.mark.parametrize("name", NAMES)
def test_hostile_archive_is_refused(corpus, name, tmp_path):
    host, cases = corpus
    (case,) = [c for c in cases if c.name == name]
    before = store_snapshot(host)
    keys_before = sorted(os.listdir(os.path.join(host, "keys")))
    outside_before = sorted(os.listdir(os.path.dirname(case.path)))
    cwd = os.getcwd()
    os.chdir(tmp_path)                      # anything extracted relative to the working folder would land here
    try:
        code, out, err = imp(host, case.path)
    finally:
        os.chdir(cwd)
    lines = err.splitlines()
    assert (code, out) == (10, ""), err
    assert re.fullmatch(case.error, lines[0]), (lines[0], case.error)
    assert "nothing was imported" in lines[-1]
    assert all(ln.startswith("hint: ") for ln in lines[1:])
    assert store_snapshot(host) == before
    assert sorted(os.listdir(os.path.join(host, "keys"))) == keys_before
    assert os.listdir(tmp_path) == []
    assert sorted(os.listdir(os.path.dirname(case.path))) == outside_before
    assert not os.path.exists("/tmp/ct-hostile-evil")
    assert not os.path.exists(os.path.join(os.path.dirname(host), "ct-hostile-evil.sh"))


def test_hostile_archive_into_a_fresh_home_leaves_nothing(corpus, tmp_path):
    _, cases = corpus
    for case in cases:
        home = tmp_path / case.name
        code, _, _ = imp(str(home), case.path)
        assert code == 10, case.name
        assert not home.exists(), case.name


def test_a_symlinked_store_folder_is_not_followed_for_objects(world: World, tmp_path):
    """An object folder replaced by a symbolic link (by someone with access to the host) is removed by
    the next store command, not written through."""
    host = str(tmp_path / "h")
    good = str(tmp_path / "g.tar")
    assert export(world, good, "tool.ctp")[0] == 0
    assert imp(host, good, "--policy", world.policy)[0] == 0
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    pol = os.path.join(host, "store", "policies")
    os.symlink(elsewhere, pol)
    assert ct("--home", host, "store", "list")[0] == 0
    assert not os.path.lexists(pol)
    assert os.listdir(elsewhere) == []
