"""Shared fixtures for the airgap tarball tests (no tests here).

A *world* is built once per test module: two single-key signers (alice: CT-SIG-02, bob: CT-SIG-01)
with homes, a 2-of-3 keyholder set (trusted dealer) with its record, signed bundles of each kind,
and policies.  Everything is real: ``ct keygen``, ``ct pack --key``, FROST group signatures and
ML-DSA-87 through the real libraries, ``ct policy init``.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field

import pytest
from cerro_torre.offline.store import snapshot
from test_bundle_support import Coop, cheap_env, ct, make_payload_dir, pack_unsigned


@dataclass
class World:
    root: str
    alice_home: str
    bob_home: str
    coop: Coop
    bundles: dict[str, str] = field(default_factory=dict)     # name -> path
    keyholders: str = ""
    policy: str = ""
    strict: str = ""

    def path(self, *names: str) -> list[str]:
        return [self.bundles[n] for n in names]


def build_world(root: str) -> World:
    os.makedirs(root, exist_ok=True)
    alice, bob = os.path.join(root, "alice"), os.path.join(root, "bob")
    assert ct("--home", alice, "keygen", "--id", "alice", "--suite", "CT-SIG-02")[0] == 0
    assert ct("--home", bob, "keygen", "--id", "bob", "--suite", "CT-SIG-01")[0] == 0
    for h, kid in ((alice, "alice"), (bob, "bob")):
        assert ct("--home", h, "key", "export", kid, "--public", "-o", os.path.join(root, f"{kid}.pub"))[0] == 0
    coop = Coop(name="coop", n=3, k=2)
    coop.self_signed()
    w = World(root, alice, bob, coop)
    w.keyholders = os.path.join(root, "keyholders.json")
    with open(w.keyholders, "wb") as f:
        f.write(coop.record.to_bytes())
    src = os.path.join(root, "src")
    os.makedirs(src, exist_ok=True)
    with open(os.path.join(src, "tool-1.0.txt"), "wb") as f:
        f.write(b"tool release 1.0\n" * 100)
    with open(os.path.join(src, "big.bin"), "wb") as f:
        f.write(hashlib.sha256(b"seed").digest() * (3 << 15))         # 3 MiB
    for name, source, home, key in (("tool.ctp", os.path.join(src, "tool-1.0.txt"), alice, "alice"),
                                    ("big.ctp", os.path.join(src, "big.bin"), alice, "alice"),
                                    ("dir.ctp", make_payload_dir(os.path.join(root, "payload")), alice, "alice"),
                                    ("bobs.ctp", os.path.join(src, "tool-1.0.txt"), bob, "bob")):
        out = os.path.join(root, name)
        code, _, err = ct("--home", home, "pack", source, "-o", out, "--key", key, "--name", name[:-4],
                          "--version", "1.0")
        assert code == 0, err
        w.bundles[name] = out
    unsigned = os.path.join(root, "group-unsigned.ctp")
    pack_unsigned(make_payload_dir(os.path.join(root, "payload2")), unsigned, name="coop-release", version="2.0")
    w.bundles["group.ctp"] = os.path.join(root, "group.ctp")
    coop.sign_bundle(unsigned, w.bundles["group.ctp"], [coop.record])
    w.bundles["unsigned.ctp"] = unsigned
    w.policy = os.path.join(root, "policy.json")
    assert ct("policy", "init", "--policy", w.policy, "--key", os.path.join(root, "alice.pub"),
              "--root", w.keyholders)[0] == 0
    w.strict = os.path.join(root, "strict.json")
    assert ct("policy", "init", "--policy", w.strict, "--key", os.path.join(root, "alice.pub"),
              "--root", w.keyholders, "--signer", "other-*")[0] == 0
    return w


def world_for_module(tmp_path_factory) -> World:
    """Build a world for a module-scoped ``world`` fixture (with the cheap test KDF)."""
    with pytest.MonkeyPatch.context() as mp:
        cheap_env(mp)
        return build_world(str(tmp_path_factory.mktemp("world")))


def store_snapshot(home: str) -> dict[str, str] | None:
    """Every file of HOME/store with its sha256 (None when there is no store)."""
    p = os.path.join(home, "store")
    return snapshot(p) if os.path.isdir(p) else None


def sha256_file(path: str) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def export(w: World, out: str, *names: str, extra: tuple[str, ...] = ()) -> tuple[int, str, str]:
    return ct("export", *w.path(*names), "-o", out, *extra)


def imp(home: str, tar: str, *extra: str) -> tuple[int, str, str]:
    return ct("--home", home, "import", tar, "--verify", *extra)
