"""Crash consistency of `ct import`: a process killed at any point (os._exit at named points, and a
real SIGKILL while a bundle streams in) leaves the store's state exactly as it was; the next store
command removes the leftovers, after which the store's files are exactly as they were too."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from cerro_torre.offline import airgap as A
from test_airgap_support import World, export, imp, store_snapshot, world_for_module
from test_bundle_support import cheap_env, ct


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return world_for_module(tmp_path_factory)


def ct_process(*argv: str, crash_at: str | None = None) -> subprocess.Popen:
    env = dict(os.environ, CT_TESTING="1")
    env.pop("CT_AIRGAP_CRASH_AT", None)
    if crash_at:
        env["CT_AIRGAP_CRASH_AT"] = crash_at
    return subprocess.Popen([sys.executable, "-m", "cerro_torre.cli", *argv], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def index_bytes(host: str) -> bytes:
    with open(os.path.join(host, "store", "index.json"), "rb") as f:
        return f.read()


def comparable(host: str) -> dict:
    """The store's state without the log's times and the generation counter."""
    d = json.loads(index_bytes(host))
    for ev in d["log"]:
        ev.pop("at")
    d.pop("generation")
    return d


@pytest.fixture
def scene(world: World, tmp_path):
    """A host that imported tool.ctp (pinning the policy), and a second tarball to import."""
    host = str(tmp_path / "host")
    first = str(tmp_path / "first.tar")
    assert export(world, first, "tool.ctp")[0] == 0
    assert imp(host, first, "--policy", world.policy)[0] == 0
    second = str(tmp_path / "second.tar")
    assert export(world, second, "group.ctp", "big.ctp", "dir.ctp", extra=("--include-keys", "--policy", world.policy))[0] == 0
    control = str(tmp_path / "control")
    assert imp(control, first, "--policy", world.policy)[0] == 0
    assert imp(control, second)[0] == 0
    return {"host": host, "second": second, "control": control}


@pytest.mark.parametrize("point", ["staged", "verified", "published-one", "published"])
def test_killed_before_the_commit_leaves_the_store_as_it_was(scene, point):
    host = scene["host"]
    before = store_snapshot(host)
    idx = index_bytes(host)
    listing = ct("--home", host, "store", "list")[1]
    p = ct_process("--home", host, "import", scene["second"], "--verify", crash_at=point)
    p.communicate(timeout=120)
    assert p.returncode == 137
    assert index_bytes(host) == idx                         # the state did not change
    after_kill = store_snapshot(host)
    assert after_kill != before                             # ... though the crash left files behind
    leftovers = set(after_kill) - set(before)
    assert any(k.startswith(".staging-") for k in leftovers)
    if point in ("published-one", "published"):
        assert any(k.startswith("bundles/") for k in leftovers)
    assert ct("--home", host, "store", "list")[1] == listing   # the next command cleans up
    assert store_snapshot(host) == before
    assert not os.path.exists(os.path.join(host, "keys"))   # no key was added either
    # and the import then goes through as if nothing had happened
    code, _, err = imp(host, scene["second"])
    assert (code, err) == (0, "")
    assert comparable(host) == comparable(scene["control"])
    assert {k: v for k, v in store_snapshot(host).items() if k != "index.json"} == \
        {k: v for k, v in store_snapshot(scene["control"]).items() if k != "index.json"}


def test_killed_after_the_commit_is_finished_by_the_next_import(scene):
    host = scene["host"]
    p = ct_process("--home", host, "import", scene["second"], "--verify", crash_at="committed")
    p.communicate(timeout=120)
    assert p.returncode == 137
    assert comparable(host) == comparable(scene["control"])   # committed: the import happened
    assert not os.path.exists(os.path.join(host, "keys", "m1.pub"))   # ... but the keys were not added yet
    code, out, err = imp(host, scene["second"])
    assert (code, err) == (0, "")
    assert "nothing changed" in out.splitlines()[0]
    assert "  keys        alice, m1, m2, m3 imported with trust none" in out.splitlines()
    assert comparable(host) == comparable(scene["control"])


def test_sigkill_while_a_bundle_streams_in(world: World, tmp_path):
    """A real SIGKILL at several moments of an import of a 48 MiB bundle."""
    src = tmp_path / "payload.bin"
    with open(src, "wb") as f:
        f.writelines(os.urandom(1 << 20) for i in range(48))
    bundle = str(tmp_path / "large.ctp")
    assert ct("--home", world.alice_home, "pack", str(src), "-o", bundle, "--key", "alice")[0] == 0
    tar = str(tmp_path / "large.tar")
    assert ct("export", bundle, "-o", tar)[0] == 0
    host = str(tmp_path / "host")
    first = str(tmp_path / "first.tar")
    assert export(world, first, "tool.ctp")[0] == 0
    assert imp(host, first, "--policy", world.policy)[0] == 0
    before = store_snapshot(host)
    idx = index_bytes(host)
    store = os.path.join(host, "store")
    killed_mid_stream = 0
    for delay in (0.0, 0.02, 0.1, 0.3):
        p = ct_process("--home", host, "import", tar, "--verify")
        partial = False
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and p.poll() is None:      # wait until the bundle is being staged
            staging = [d for d in os.listdir(store) if d.startswith(".staging-")]
            files = [os.path.join(dp, fn) for s in staging for dp, _, fns in os.walk(os.path.join(store, s))
                     for fn in fns]
            if any(0 < os.path.getsize(fp) < os.path.getsize(bundle) for fp in files if os.path.exists(fp)):
                partial = True
                break
            time.sleep(0.001)
        time.sleep(delay)
        if p.poll() is None:
            os.kill(p.pid, signal.SIGKILL)
        p.communicate(timeout=60)
        if p.returncode == -signal.SIGKILL and index_bytes(host) != idx:
            # on a loaded machine the kill can land after the commit: then the import is wholly there
            assert ct("--home", host, "store", "list")[0] == 0
            assert imp(host, tar)[1].splitlines()[0].endswith("(nothing changed)")
            break
        if p.returncode == -signal.SIGKILL:
            killed_mid_stream += partial
            assert index_bytes(host) == idx
            assert ct("--home", host, "store", "list")[0] == 0
            assert store_snapshot(host) == before
        else:   # it finished first: then it is wholly there; undo for the next round
            assert p.returncode == 0
            break
    assert killed_mid_stream >= 1


def test_crash_points_are_known():
    assert A.CRASH_POINTS == ("staged", "verified", "published-one", "published", "committed")
