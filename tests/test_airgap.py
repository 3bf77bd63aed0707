"""`ct export` / `ct import --verify` / `ct store list|pin` (spec/airgap.md): round trips, determinism,
trust on the disconnected host, the verifier's exit codes, tampering, and the store's atomicity."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess

import pytest
from cerro_torre.ceremony import bundle as B
from cerro_torre.offline import airgap as A
from test_airgap_support import (
    World,
    export,
    imp,
    sha256_file,
    store_snapshot,
    world_for_module,
)
from test_bundle_support import Coop, cheap_env, ct, error_lines, members, modes, statement_sha256, write_members


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.fixture(scope="module")
def world(tmp_path_factory) -> World:
    return world_for_module(tmp_path_factory)


def tar_members(path: str) -> list[tuple[str, int]]:
    with open(path, "rb") as f:
        r = A.AirgapReader(f, os.path.basename(path))
        return [(m.name, m.size) for m in r]


def read_member(path: str, name: str) -> bytes:
    return members(path)[name]


# ====================================================================== round trip

def test_round_trip_of_several_bundles(world: World, tmp_path):
    tar = str(tmp_path / "airgap.tar")
    code, out, err = export(world, tar, "tool.ctp", "big.ctp", "dir.ctp", "group.ctp",
                            extra=("--include-keys", "--policy", world.policy))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert re.fullmatch(rf"ok: wrote {re.escape(tar)} \(10 member\(s\) and the index, [\d.]+ [KM]iB\)", lines[0])
    assert re.fullmatch(r"  index       sha256 [0-9a-f]{64}", lines[1])
    assert [ln.split()[1] for ln in lines if ln.startswith("  bundle")] == \
        ["big.ctp", "dir.ctp", "group.ctp", "tool.ctp"]
    assert "  chain       coop epoch 1" in lines
    assert "  keys        alice, m1, m2, m3 (public keys only)" in lines
    assert f"  policy      {world.policy}" in lines
    assert lines[-1] == "  checked     not re-read (not removable media; --verify-after-write checks it)"
    assert tar_members(tar) == [
        ("airgap/bundles/big.ctp", os.path.getsize(world.bundles["big.ctp"])),
        ("airgap/bundles/dir.ctp", os.path.getsize(world.bundles["dir.ctp"])),
        ("airgap/bundles/group.ctp", os.path.getsize(world.bundles["group.ctp"])),
        ("airgap/bundles/tool.ctp", os.path.getsize(world.bundles["tool.ctp"])),
        ("airgap/keyholders/coop/0000000000000001.json", len(world.coop.record.to_bytes())),
        ("airgap/keys/alice.pub", os.path.getsize(os.path.join(world.root, "alice.pub"))),
        ("airgap/keys/m1.pub", len(world.coop.keys[0].public().to_file_bytes())),
        ("airgap/keys/m2.pub", len(world.coop.keys[1].public().to_file_bytes())),
        ("airgap/keys/m3.pub", len(world.coop.keys[2].public().to_file_bytes())),
        ("airgap/policy.json", os.path.getsize(world.policy)),
        ("index.json", len(read_member(tar, "index.json"))),
    ]

    host = str(tmp_path / "host")
    code, out, err = imp(host, tar, "--policy", world.policy)
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"ok: airgap.tar verified and imported into {host}/store"
    assert lines[1] == "  bundle      big 1.0  (big.ctp, signed by key 'alice')"
    assert lines[3] == "  bundle      dir 1.0  (dir.ctp, signed by key 'alice')"
    assert lines[5] == "  bundle      coop-release 2.0  (group.ctp, signed by keyholder set 'coop' epoch 1)"
    assert lines[7] == "  bundle      tool 1.0  (tool.ctp, signed by key 'alice')"
    fp = world.coop.record.fingerprint.hex
    assert f"  chain       keyholder set 'coop' at epoch 1, fingerprint {fp}" in lines
    assert "  keys        alice, m1, m2, m3 imported with trust none" in lines
    assert any(ln.startswith("  pinned      policy ") and ln.endswith("(later imports use this pinned trust)")
               for ln in lines)
    # every bundle landed byte for byte, named by its digest, and still verifies where it landed
    for name in ("big.ctp", "dir.ctp", "group.ctp", "tool.ctp"):
        digest = sha256_file(world.bundles[name])
        stored = os.path.join(host, "store", "bundles", f"{digest}.ctp")
        assert sha256_file(stored) == digest
        assert ct("--home", host, "verify", stored, "--policy", world.policy)[0] == 0
    code, out, err = ct("--home", host, "store", "list")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"store       {host}/store  (generation 1)"
    assert "bundles     4" in out.splitlines()
    assert any(ln.startswith("  coop-release 2.0  group.ctp  ") and ln.endswith("signed by keyholder set 'coop' epoch 1")
               for ln in out.splitlines())
    # public keys joined the home at trust none
    code, out, _ = ct("--home", host, "key", "list")
    assert [ln.split()[:3] for ln in out.splitlines()[1:]] == [
        ["alice", "CT-SIG-02", "none"], ["m1", "CT-SIG-02", "none"], ["m2", "CT-SIG-02", "none"],
        ["m3", "CT-SIG-02", "none"]]


def test_export_is_deterministic_and_readable_by_gnu_tar(world: World, tmp_path):
    t1, t2 = str(tmp_path / "one.tar"), str(tmp_path / "two.tar")
    assert export(world, t1, "tool.ctp", "group.ctp", extra=("--include-keys", "--policy", world.policy))[0] == 0
    assert export(world, t2, "group.ctp", "tool.ctp", "tool.ctp",
                  extra=("--policy", world.policy, "--include-keys"))[0] == 0
    assert sha256_file(t1) == sha256_file(t2)
    listing = subprocess.run(["tar", "-tvf", t1], capture_output=True, text=True, check=True).stdout.splitlines()
    assert all(re.match(r"-rw-r--r-- 0/0 +\d+ 1970-01-01 00:00 ", ln) for ln in listing)
    x = tmp_path / "x"
    x.mkdir()
    subprocess.run(["tar", "-xf", t1, "-C", str(x)], check=True)
    index = json.loads((x / "index.json").read_bytes())
    assert index["type"] == "ct-airgap-index" and index["version"] == 1
    for e in index["members"]:
        assert sha256_file(str(x / e["name"])) == e["sha256"]
        assert os.path.getsize(x / e["name"]) == e["size"]
    assert [e["kind"] for e in index["members"]] == ["bundle", "bundle", "keyholder-set", "key", "key", "key", "key",
                                                     "policy"]
    assert index["members"][0]["package"] == {"name": "coop-release", "version": "2.0"}


def test_export_json(world: World, tmp_path):
    tar = str(tmp_path / "a.tar")
    code, out, err = ct("--json", "export", world.bundles["tool.ctp"], "-o", tar)
    assert (code, err) == (0, "")
    j = json.loads(out)
    assert j["tarball"] == tar and j["size"] == os.path.getsize(tar)
    assert [m["name"] for m in j["members"]] == ["airgap/bundles/tool.ctp"]
    assert j["members"][0]["sha256"] == sha256_file(world.bundles["tool.ctp"])
    assert j["index_sha256"] == hashlib.sha256(read_member(tar, "index.json")).hexdigest()
    assert j["verified_after_write"] is False and j["removable_media"] is False


def test_manifest_lists_bundles_with_comments(world: World, tmp_path):
    lst = tmp_path / "packages.txt"
    rel = os.path.relpath(world.bundles["dir.ctp"], tmp_path)
    lst.write_text(f"# what goes to the plant\n\n{world.bundles['tool.ctp']}   # the tool\n  {rel}\n")
    tar = str(tmp_path / "m.tar")
    code, _, err = ct("export", "--manifest", str(lst), "-o", tar)
    assert (code, err) == (0, "")
    assert [n for n, _ in tar_members(tar)] == ["airgap/bundles/dir.ctp", "airgap/bundles/tool.ctp", "index.json"]
    lst.write_text(f"{world.bundles['tool.ctp']}\nmissing.ctp\n")
    code, _, err = ct("export", "--manifest", str(lst), "-o", tar)
    assert code == 21
    assert err.splitlines() == [f"error: {lst}:2: bundle not found: {tmp_path / 'missing.ctp'}",
                                "hint: check the path of the .ctp file"]
    code, _, err = ct("export", "-o", tar)
    assert (code, err.splitlines()[0]) == (64, "error: nothing to export")


def test_export_refuses_private_keys_and_shares(world: World, tmp_path):
    tar = str(tmp_path / "p.tar")
    hint = ("hint: private keys, FROST shares and nonces never leave the keyholder's machine; --include-keys "
            "carries public keys only")
    code, _, err = ct("export", world.bundles["tool.ctp"], "-o", tar, "--include-private")
    assert (code, err.splitlines()) == (64, ["error: refusing to export private keys or key shares", hint])
    sec = os.path.join(world.alice_home, "keys", "alice.sec")
    code, _, err = ct("export", sec, "-o", tar)
    assert (code, err.splitlines()) == (
        64, [f"error: refusing to export {sec}: it is a sealed private key (ct-identity:alice)", hint])
    code, _, err = ct("export", world.bundles["tool.ctp"], "-o", tar, "--include-keys", "--key", sec)
    assert code == 64 and err.splitlines()[0].startswith(f"error: refusing to export {sec}: it is a sealed private key")
    share = tmp_path / "0123.share"
    shutil.copy(sec, share)
    code, _, err = ct("export", world.bundles["tool.ctp"], "-o", tar, "--include-keys", "--keyholders", str(share))
    assert code == 64 and err.splitlines()[0] == (f"error: refusing to export {share}: it is a FROST key share "
                                                  "(ct-identity:alice)")
    assert not os.path.exists(tar)


def test_export_refuses_conflicting_names(world: World, tmp_path):
    other = tmp_path / "o"
    other.mkdir()
    shutil.copy(world.bundles["dir.ctp"], other / "tool.ctp")
    code, _, err = ct("export", world.bundles["tool.ctp"], str(other / "tool.ctp"), "-o", str(tmp_path / "x.tar"))
    assert code == 64
    assert err.splitlines()[0] == (f"error: two bundles are named tool.ctp: {world.bundles['tool.ctp']} and "
                                   f"{other / 'tool.ctp'}")


# ====================================================================== verify after write

def test_verify_after_write(world: World, tmp_path):
    tar = str(tmp_path / "v.tar")
    code, out, err = export(world, tar, "tool.ctp", extra=("--verify-after-write",))
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "  checked     flushed, re-read from disk and checked against the index"


def test_verify_after_write_catches_a_bad_write_and_keeps_the_old_file(world: World, tmp_path, monkeypatch):
    tar = tmp_path / "v.tar"
    tar.write_bytes(b"the previous export\n")
    monkeypatch.setenv("CT_AIRGAP_CORRUPT_WRITE", "1")
    code, out, err = export(world, str(tar), "tool.ctp", extra=("--verify-after-write", "--force"))
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert re.fullmatch(r"error: v\.tar as written does not read back: member 'airgap/bundles/tool\.ctp' sha256 "
                        r"[0-9a-f]{16}… differs from the [0-9a-f]{16}… written", lines[0])
    assert lines[1] == "hint: the media is failing or was removed; the tarball was not kept; try another"
    assert tar.read_bytes() == b"the previous export\n"
    assert os.listdir(tmp_path) == ["v.tar"]
    # without the check the damage goes unnoticed here (and is caught by ct import's index check)
    assert export(world, str(tar), "tool.ctp", extra=("--no-verify-after-write", "--force"))[0] == 0


def test_removable_media_detection(tmp_path):
    sysfs = tmp_path / "sys"
    disk = sysfs / "devices" / "pci0000:00" / "usb1" / "1-1" / "block" / "sdb"
    part = disk / "sdb1"
    part.mkdir(parents=True)
    (part / "partition").write_text("1\n")
    (disk / "removable").write_text("1\n")
    fixed = sysfs / "devices" / "virtual" / "block" / "vda"
    fixed.mkdir(parents=True)
    (fixed / "removable").write_text("0\n")
    card = sysfs / "devices" / "platform" / "mmc" / "block" / "mmcblk0"
    card.mkdir(parents=True)
    (card / "removable").write_text("1\n")
    usbdisk = sysfs / "devices" / "pci0000:00" / "usb2" / "2-1" / "block" / "sdc"
    usbdisk.mkdir(parents=True)
    (usbdisk / "removable").write_text("0\n")
    (sysfs / "dev" / "block").mkdir(parents=True)
    for majmin, target in (("8:17", part), ("253:0", fixed), ("179:0", card), ("8:32", usbdisk)):
        os.symlink(target, sysfs / "dev" / "block" / majmin)
    s = str(sysfs)
    assert A.device_is_removable(8, 17, s) is True       # partition of a removable disk
    assert A.device_is_removable(253, 0, s) is False     # a fixed virtual disk
    assert A.device_is_removable(179, 0, s) is True      # an SD card
    assert A.device_is_removable(8, 32, s) is True       # a USB disk that does not say it is removable
    assert A.device_is_removable(0, 45, s) is False      # no block device (tmpfs, overlay)
    assert A.is_removable(str(tmp_path)) in (True, False)


# ====================================================================== the verifier's exit codes

def _same_as_verify(world: World, tmp_path, bundle: str, host: str, policy: str, code_: int) -> None:
    """`ct import` of a tarball holding ``bundle`` fails like `ct verify` of it, and imports nothing."""
    tar = str(tmp_path / "t.tar")
    assert ct("export", bundle, "-o", tar, "--allow-unverified", "--force")[0] == 0
    before = store_snapshot(host)
    vcode, _, verr = ct("--home", host, "verify", bundle, "--policy", policy)
    code, out, err = imp(host, tar, "--policy", policy)
    assert (vcode, code, out) == (code_, code_, "")
    assert err.splitlines() == verr.splitlines() + ["hint: nothing was imported from t.tar"]
    assert store_snapshot(host) == before


def test_unsigned_bundle_is_2_like_verify(world: World, tmp_path):
    _same_as_verify(world, tmp_path, world.bundles["unsigned.ctp"], str(tmp_path / "h"), world.policy, 2)


def test_untrusted_signer_is_3_like_verify(world: World, tmp_path):
    _same_as_verify(world, tmp_path, world.bundles["bobs.ctp"], str(tmp_path / "h"), world.policy, 3)


def test_policy_mismatch_is_4_and_nothing_imported(world: World, tmp_path):
    host = str(tmp_path / "h")
    assert imp(host, _export(world, tmp_path, "dir.ctp"), "--policy", world.policy)[0] == 0   # a store exists
    for name in ("tool.ctp", "group.ctp"):
        _same_as_verify(world, tmp_path, world.bundles[name], host, world.strict, 4)


def test_payload_altered_before_export_is_1_like_verify(world: World, tmp_path):
    m = members(world.bundles["tool.ctp"])
    m["payload/tool-1.0.txt"] = m["payload/tool-1.0.txt"].replace(b"1.0", b"6.6", 1)
    bad = str(tmp_path / "tool.ctp")
    write_members(bad, list(m.items()))
    host = str(tmp_path / "h")
    assert imp(host, _export(world, tmp_path, "dir.ctp"), "--policy", world.policy)[0] == 0
    _same_as_verify(world, tmp_path, bad, host, world.policy, 1)


def test_malformed_bundle_is_10_like_verify(world: World, tmp_path):
    with open(world.bundles["tool.ctp"], "rb") as f:
        data = f.read()
    bad = str(tmp_path / "cut.ctp")
    with open(bad, "wb") as f:
        f.write(data[:1024] + b"\0" * 1024)        # manifest header and part of it, then an end marker
    _same_as_verify(world, tmp_path, bad, str(tmp_path / "h"), world.policy, 10)


def _export(world: World, tmp_path, *names: str, extra: tuple[str, ...] = (), out: str = "base.tar") -> str:
    tar = str(tmp_path / out)
    code, _, err = export(world, tar, *names, extra=extra)
    assert code == 0, err
    return tar


# ====================================================================== tampering in transit

def test_member_tampered_in_transit_is_1_and_nothing_imported(world: World, tmp_path):
    host = str(tmp_path / "h")
    assert imp(host, _export(world, tmp_path, "dir.ctp"), "--policy", world.policy)[0] == 0
    before = store_snapshot(host)
    tar = _export(world, tmp_path, "tool.ctp", "group.ctp", out="t.tar")
    with open(tar, "rb") as f:
        data = bytearray(f.read())
    i = data.index(b"tool release 1.0")              # inside airgap/bundles/tool.ctp's payload
    data[i] ^= 0x20
    with open(tar, "wb") as f:
        f.write(data)
    code, out, err = imp(host, tar)
    assert (code, out) == (1, "")
    lines = err.splitlines()
    assert re.fullmatch(r"error: t\.tar: member 'airgap/bundles/tool\.ctp' sha256 [0-9a-f]{16}… differs from the "
                        r"index \([0-9a-f]{16}…\)", lines[0])
    assert lines[1] == ("hint: the tarball was damaged or altered after export; nothing was imported; copy it again "
                        "from the export media (and check the media)")
    assert len(lines) == 2
    assert store_snapshot(host) == before


def test_tampered_member_with_a_rewritten_index_is_caught_by_the_verifier(world: World, tmp_path):
    host = str(tmp_path / "h")
    tar = _export(world, tmp_path, "tool.ctp")
    m = members(tar)
    inner = members(world.bundles["tool.ctp"])
    inner["payload/tool-1.0.txt"] = b"evil\n"
    bad = str(tmp_path / "tool.ctp")
    write_members(bad, list(inner.items()))
    with open(bad, "rb") as f:
        m["airgap/bundles/tool.ctp"] = f.read()
    entries = [A.Entry("airgap/bundles/tool.ctp", "bundle", len(m["airgap/bundles/tool.ctp"]),
                       hashlib.sha256(m["airgap/bundles/tool.ctp"]).hexdigest(), ("tool", "1.0"))]
    m["index.json"] = A.make_index(entries)
    forged = str(tmp_path / "forged.tar")
    write_members(forged, list(m.items()))
    code, _, err = imp(host, forged, "--policy", world.policy)
    assert code == 1
    assert re.fullmatch(r"error: tool\.ctp: payload/tool-1\.0\.txt sha256 [0-9a-f]{16}… differs from the signed "
                        r"[0-9a-f]{16}…", error_lines(err)[0])
    assert err.splitlines()[-1] == "hint: nothing was imported from forged.tar"
    assert store_snapshot(host) is None and not os.path.exists(host)


def test_index_must_match_the_members(world: World, tmp_path):
    tar = _export(world, tmp_path, "tool.ctp", "dir.ctp")
    m = members(tar)
    idx = json.loads(m["index.json"])
    cases = {
        "missing": ({k: v for k, v in m.items() if k != "airgap/bundles/dir.ctp"},
                    "error: missing.tar: index.json lists 'airgap/bundles/dir.ctp', which the tarball does not hold"),
        "noindex": ({k: v for k, v in m.items() if k != "index.json"},
                    "error: noindex.tar has no index.json"),
    }
    extra_idx = dict(idx, members=[e for e in idx["members"] if e["name"] != "airgap/bundles/dir.ctp"])
    from cerro_torre.suites.encoding import canonical_json

    cases["unlisted"] = ({**m, "index.json": canonical_json(extra_idx) + b"\n"},
                         "error: unlisted.tar: member 'airgap/bundles/dir.ctp' is not listed in index.json")
    cases["edited"] = ({**m, "index.json": json.dumps(idx).encode()},
                       "error: edited.tar: index.json is not in canonical form")
    for name, (mm, line) in cases.items():
        p = str(tmp_path / f"{name}.tar")
        write_members(p, list(mm.items()))
        code, _, err = imp(str(tmp_path / "h"), p, "--policy", world.policy)
        assert (code, error_lines(err)) == (10, [line]), name


def test_max_member_size(world: World, tmp_path):
    tar = _export(world, tmp_path, "big.ctp")
    code, _, err = imp(str(tmp_path / "h"), tar, "--policy", world.policy, "--max-member-size", "1M")
    size = os.path.getsize(world.bundles["big.ctp"])
    assert code == 10
    assert err.splitlines() == [
        f"error: base.tar: member 'airgap/bundles/big.ctp' is {size} bytes, more than the 1.0 MiB allowed for a bundle",
        "hint: nothing was imported; raise the limit with --max-member-size if this bundle is genuine"]
    assert imp(str(tmp_path / "h"), tar, "--policy", world.policy, "--max-member-size", "4M")[0] == 0


# ====================================================================== trust on the disconnected host

def test_first_import_pins_later_imports_use_the_pin(world: World, tmp_path):
    host = str(tmp_path / "h")
    t1 = _export(world, tmp_path, "tool.ctp", out="t1.tar")
    t2 = _export(world, tmp_path, "group.ctp", out="t2.tar")
    # nothing pinned, no policy: the chain has no root
    code, _, err = imp(host, t2)
    assert code == 3
    fp = world.coop.record.fingerprint.hex
    assert error_lines(err) == [(f"error: keyholder set 'coop' epoch 1 ({fp}) does not chain to a pinned root "
                                 f"(chain starts at epoch 1, fingerprint {fp})")]
    assert not os.path.exists(host)
    assert imp(host, t1, "--policy", world.policy)[0] == 0
    code, out, err = imp(host, t2)                    # no --policy: the pinned trust
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == "  policy      pinned policy"
    # a policy naming a root that is not pinned is refused before anything is read
    other = Coop(name="other", n=2, k=2)
    other.self_signed()
    rec = tmp_path / "other.json"
    rec.write_bytes(other.record.to_bytes())
    wider = str(tmp_path / "wider.json")
    assert ct("policy", "init", "--policy", wider, "--root", str(rec), "--root", world.keyholders,
              "--key", os.path.join(world.root, "alice.pub"))[0] == 0
    before = store_snapshot(host)
    code, _, err = imp(host, t2, "--policy", wider)
    assert code == 3
    assert err.splitlines() == [
        f"error: policy {wider} names 1 root(s)/key(s) this host has not pinned ({other.record.fingerprint.hex})",
        ("hint: this host's trust was pinned by its first import ('ct store list' shows it); to change it, check "
         f"the fingerprints with the cooperative, then 'ct store pin --policy {wider}' (logged)"),
        "hint: nothing was imported from t2.tar"]
    assert store_snapshot(host) == before
    # a narrower policy is fine (its rules apply)
    assert imp(host, t2, "--policy", world.strict)[0] == 4
    # explicit re-pin, logged
    code, out, err = ct("--home", host, "store", "pin", "--policy", wider)
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith(f"ok: pinned {wider} (sha256 ")
    code, out, _ = ct("--home", host, "store", "list", "--log")
    log = out.splitlines()[out.splitlines().index("log") + 1:]
    assert [ln.split()[1] for ln in log] == ["import", "pin", "import", "pin"]
    assert "by ct store pin" in log[-1] and "by first import" in log[1]
    assert ct("--home", host, "store", "pin", "--policy", wider)[1].startswith("ok: ")


def test_carried_keys_never_raise_trust(world: World, tmp_path):
    """bob's key rides along with --include-keys, but his bundle stays untrusted until 'ct key trust'."""
    host = str(tmp_path / "h")
    tar = _export(world, tmp_path, "tool.ctp", out="a.tar")
    assert imp(host, tar, "--policy", world.policy)[0] == 0
    tar = _export(world, tmp_path, "bobs.ctp", extra=("--include-keys",), out="b.tar")
    assert ("airgap/keys/bob.pub", os.path.getsize(os.path.join(world.root, "bob.pub"))) in tar_members(tar)
    before = store_snapshot(host)
    code, _, err = imp(host, tar)
    assert code == 3
    assert re.fullmatch(r"error: bobs\.ctp: signer key 'bob' \([0-9a-f ]{19}\) is not trusted", error_lines(err)[0])
    assert store_snapshot(host) == before
    assert ct("--home", host, "key", "list")[1].count("bob") == 0      # refused imports add no keys either
    assert ct("--home", host, "key", "import", os.path.join(world.root, "bob.pub"))[0] == 0
    assert ct("--home", host, "key", "trust", "bob", "trusted")[0] == 0   # the explicit step
    code, out, err = imp(host, tar)
    assert (code, err) == (0, "")
    assert "  bundle      bobs 1.0  (bobs.ctp, signed by key 'bob')" in out.splitlines()


def test_a_different_key_under_a_known_id_is_kept_out(world: World, tmp_path):
    host = str(tmp_path / "h")
    assert ct("--home", host, "keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0   # another 'alice'
    tar = _export(world, tmp_path, "tool.ctp", extra=("--include-keys",))
    code, _, err = imp(host, tar, "--policy", world.policy)
    assert code == 0
    assert err.startswith("warning: alice: a different key named 'alice' already exists; kept this home's key")
    assert ct("--home", host, "key", "list")[1].splitlines()[1].split()[1:4] == ["alice", "CT-SIG-01", "ultimate"]


def test_reimport_is_a_no_op(world: World, tmp_path):
    host = str(tmp_path / "h")
    tar = _export(world, tmp_path, "tool.ctp", "group.ctp", extra=("--include-keys", "--policy", world.policy))
    assert imp(host, tar, "--policy", world.policy)[0] == 0
    before = store_snapshot(host)
    keys_before = sorted(os.listdir(os.path.join(host, "keys")))
    for extra in ((), ("--policy", world.policy)):
        code, out, err = imp(host, tar, *extra)
        assert (code, err) == (0, "")
        assert out.splitlines()[0] == f"ok: base.tar verified; it is already in {host}/store (nothing changed)"
        assert "  keys        alice, m1, m2, m3 already here (trust unchanged)" in out.splitlines()
        assert store_snapshot(host) == before
    assert sorted(os.listdir(os.path.join(host, "keys"))) == keys_before


def test_chain_going_backwards_is_refused(world: World, tmp_path):
    coop = world.coop
    nxt = Coop(name="coop", n=3, k=2, epoch=2, previous=coop.record, prefix="n")
    coop.rotate_to(nxt)
    unsigned = world.bundles["unsigned.ctp"]
    new = str(tmp_path / "new.ctp")
    nxt.sign_bundle(unsigned, new, [coop.record, nxt.record])
    rec2 = tmp_path / "epoch2.json"
    rec2.write_bytes(nxt.record.to_bytes())
    host = str(tmp_path / "h")
    t_new = str(tmp_path / "new.tar")
    assert ct("export", new, "-o", t_new, "--include-keys")[0] == 0
    code, out, err = imp(host, t_new, "--policy", world.policy)
    assert (code, err) == (0, "")
    assert f"  chain       keyholder set 'coop' at epoch 2, fingerprint {nxt.record.fingerprint.hex}" in out.splitlines()
    before = store_snapshot(host)
    # an older tarball: a release of epoch 1 that the rotation to epoch 2 did not keep (closed_releases)
    t_old = _export(world, tmp_path, "group.ctp", extra=("--include-keys",), out="old.tar")
    code, out, err = imp(host, t_old)
    assert (code, out) == (4, "")
    digest = statement_sha256(world.bundles["group.ctp"])
    assert err.splitlines() == [
        (f"error: group.ctp: signed by epoch 1 of 'coop' after epoch 2 closed it: the release statement "
         f"(sha256 {digest[:16]}…) is not among the 0 release(s) that epoch 2 ({nxt.record.fingerprint.hex}) kept"),
        "hint: get the release signed by the current keyholder set (epoch 2); a release of a closed epoch that its "
        "rotation did not list was signed after the rotation, or left off by its coordinator",
        "hint: nothing was imported from old.tar"]
    assert store_snapshot(host) == before
    # without the carried chain: the same (the host knows epoch 2 from its own checkpoints)
    t_old2 = _export(world, tmp_path, "group.ctp", out="old2.tar")
    code, _, err = imp(host, t_old2)
    assert code == 4
    assert error_lines(err)[0].startswith("error: group.ctp: signed by epoch 1 of 'coop' after epoch 2 closed it")
    assert store_snapshot(host) == before


def test_store_list_json_and_empty(world: World, tmp_path):
    host = str(tmp_path / "h")
    code, out, _ = ct("--home", host, "store", "list")
    assert code == 0 and out.splitlines()[1] == "pinned      nothing yet (the first 'ct import --policy P' pins P)"
    assert not os.path.exists(host)
    assert imp(host, _export(world, tmp_path, "tool.ctp"), "--policy", world.policy)[0] == 0
    code, out, _ = ct("--home", host, "--json", "store", "list")
    j = json.loads(out)
    assert j["generation"] == 1 and j["pinned"]["policy"]["keys"] != []
    (b,) = j["bundles"]
    assert b["file"] == "tool.ctp" and b["package"] == {"name": "tool", "version": "1.0"}
    assert b["signer"]["kind"] == "key" and b["signer"]["name"] == "alice"
    assert b["path"] == f"bundles/{sha256_file(world.bundles['tool.ctp'])}.ctp"


def test_import_json(world: World, tmp_path):
    host = str(tmp_path / "h")
    tar = _export(world, tmp_path, "tool.ctp", "unsigned.ctp", extra=("--allow-unverified",))
    code, out, err = ct("--home", host, "--json", "import", tar, "--verify", "--policy", world.policy)
    assert code == 2
    j = json.loads(out)
    assert (j["ok"], j["exit_code"], j["changed"]) == (False, 2, False)
    assert error_lines(err) == ["error: " + j["error"]]
    tar = _export(world, tmp_path, "tool.ctp", out="ok.tar")
    code, out, err = ct("--home", host, "--json", "import", tar, "--verify", "--policy", world.policy)
    assert (code, err) == (0, "")
    j = json.loads(out)
    assert j["ok"] and j["changed"] and j["bundles"][0]["new"] is True
    assert j["verification"][0]["valid"] is True and j["verification"][0]["bundle"].endswith("tool.ctp")


def test_import_usage_errors(tmp_path):
    code, _, err = ct("--home", str(tmp_path / "h"), "import", str(tmp_path / "nope.tar"), "--verify")
    assert (code, err.splitlines()) == (21, [f"error: tarball not found: {tmp_path / 'nope.tar'}",
                                             "hint: check the path of the airgap tarball"])
    code, _, err = ct("--home", str(tmp_path / "h"), "import", str(tmp_path), "--verify")
    assert code == 64
    code, _, err = ct("--home", str(tmp_path / "h"), "import", str(tmp_path), "--max-member-size", "lots")
    assert (code, err.splitlines()[0]) == (64, "error: bad size 'lots'")


def test_failed_first_import_leaves_no_store(world: World, tmp_path):
    host = tmp_path / "h"
    tar = _export(world, tmp_path, "unsigned.ctp", extra=("--allow-unverified",))
    assert imp(str(host), tar, "--policy", world.policy)[0] == 2
    assert not host.exists()
    host.mkdir()
    assert imp(str(host), tar, "--policy", world.policy)[0] == 2
    assert os.listdir(host) == []


def test_stray_staging_is_cleaned_by_the_next_command(world: World, tmp_path):
    host = str(tmp_path / "h")
    assert imp(host, _export(world, tmp_path, "tool.ctp"), "--policy", world.policy)[0] == 0
    before = store_snapshot(host)
    store = os.path.join(host, "store")
    os.makedirs(os.path.join(store, ".staging-abandoned", "00000"))
    with open(os.path.join(store, ".staging-abandoned", "00000", "x.ctp"), "wb") as f:
        f.write(b"half")
    with open(os.path.join(store, "bundles", "f" * 64 + ".ctp"), "wb") as f:
        f.write(b"published but never committed")
    assert ct("--home", host, "store", "list")[0] == 0
    assert store_snapshot(host) == before


def test_the_bundle_sort_key_is_the_tar_order():
    assert B.sort_key("airgap/policy.json") < B.sort_key("index.json")
    assert all(B.sort_key(p) < B.sort_key(A.INDEX_NAME) for p in (A.BUNDLES, A.KEYHOLDERS, A.KEYS, A.POLICY))


def test_export_never_overwrites_its_input(world: World, tmp_path):
    b = tmp_path / "tool.ctp"
    shutil.copy(world.bundles["tool.ctp"], b)
    code, _, err = ct("export", str(b), "-o", str(b))
    assert (code, err.splitlines()) == (64, [f"error: {b} is one of the bundles to export",
                                             "hint: write the tarball somewhere else"])
    assert sha256_file(str(b)) == sha256_file(world.bundles["tool.ctp"])


def test_export_refuses_to_replace_a_tarball_unless_forced(world: World, tmp_path):
    tar = tmp_path / "a.tar"
    tar.write_bytes(b"last week's export\n")
    code, out, err = ct("export", world.bundles["tool.ctp"], "-o", str(tar))
    assert (code, out, err.splitlines()) == (22, "", [f"error: {tar} exists",
                                                      "hint: choose another -o, or pass --force to replace it"])
    assert tar.read_bytes() == b"last week's export\n"
    code, _, err = ct("export", world.bundles["tool.ctp"], "-o", str(tar), "--force")
    assert (code, err) == (0, "")
    assert [n for n, _ in tar_members(str(tar))] == ["airgap/bundles/tool.ctp", "index.json"]


class _Tty:
    """A stderr that says it is a terminal."""

    def __init__(self) -> None:
        self.parts: list[str] = []

    def write(self, s: str) -> int:
        self.parts.append(s)
        return len(s)

    def flush(self) -> None:
        pass

    def isatty(self) -> bool:
        return True

    def getvalue(self) -> str:
        return "".join(self.parts)


def test_progress_bar_on_a_terminal_only(world: World, tmp_path):
    import io

    from cerro_torre.cli.main import main

    tty = _Tty()
    assert main(["export", world.bundles["big.ctp"], "-o", str(tmp_path / "p.tar")], stdout=io.StringIO(),
                stderr=tty) == 0
    shown = tty.getvalue()
    assert "\rwriting p.tar [" in shown and "] 100%  3.0 MiB of 3.0 MiB" in shown
    assert shown.endswith("\r\x1b[K")                 # the bar is wiped at the end
    tty = _Tty()
    assert main(["--home", str(tmp_path / "h"), "import", str(tmp_path / "p.tar"), "--verify", "--policy",
                 world.policy], stdout=io.StringIO(), stderr=tty) == 0
    assert "\rimporting p.tar [" in tty.getvalue()
    tty = _Tty()                                      # --json: no bar
    assert main(["--json", "export", world.bundles["big.ctp"], "-o", str(tmp_path / "q.tar")],
                stdout=io.StringIO(), stderr=tty) == 0
    assert tty.getvalue() == ""


# ====================================================================== verified as it is staged

def _tarball_of(tmp_path, name: str, bundle: bytes, out: str) -> str:
    """An airgap tarball carrying ``bundle`` as ``name``, its index made to match."""
    entries = [A.Entry(f"airgap/bundles/{name}", "bundle", len(bundle), hashlib.sha256(bundle).hexdigest(),
                       ("tool", "1.0"))]
    path = str(tmp_path / out)
    write_members(path, [(f"airgap/bundles/{name}", bundle), ("index.json", A.make_index(entries))])
    return path


def test_a_bundle_is_staged_as_the_verifier_reads_it(world: World, tmp_path):
    """The verifier reads each bundle once, from the tarball; what it reads is what is staged and what the
    index digest covers.  What it reads again comes from the staged file: an envelope in another layout
    (read whole), the differences of a tampered payload, each attestation's signature."""
    host = str(tmp_path / "h")
    src = tmp_path / "many"
    src.mkdir()
    for i in range(2500):
        (src / f"f{i:04d}").write_bytes(b"%d\n" % i)
    many = str(tmp_path / "many.ctp")
    assert ct("--home", world.alice_home, "pack", str(src), "-o", many, "--key", "alice", "--name", "tool",
              "--version", "1.0")[0] == 0
    inner = members(many)
    env = json.loads(inner["signatures/release.dsse.json"])
    inner["signatures/release.dsse.json"] = json.dumps(env, indent=2).encode()   # valid, not ct's layout
    assert len(inner["signatures/release.dsse.json"]) > 256 << 10               # more than the first chunk read
    variant = str(tmp_path / "variant.ctp")
    write_members(variant, list(inner.items()), mode_of=modes(many))
    with open(variant, "rb") as f:
        data = f.read()
    code, out, err = imp(host, _tarball_of(tmp_path, "tool.ctp", data, "v.tar"), "--policy", world.policy)
    assert (code, err) == (0, ""), out
    with open(A.bundle_path(host, hashlib.sha256(data).hexdigest()), "rb") as f:
        assert f.read() == data
    # a bundle the verifier stops reading early (its manifest is damaged): the rest is staged and hashed all
    # the same, so the index check, which comes first, names the transfer damage
    tar = _export(world, tmp_path, "tool.ctp", out="t.tar")
    with open(tar, "rb") as f:
        raw = bytearray(f.read())
    i = raw.index(b'format = "ct-bundle"')
    raw[i] ^= 0x20
    with open(tar, "wb") as f:
        f.write(raw)
    code, out, err = imp(str(tmp_path / "h2"), tar, "--policy", world.policy)
    assert (code, out) == (1, "")
    assert re.fullmatch(r"error: t\.tar: member 'airgap/bundles/tool\.ctp' sha256 [0-9a-f]{16}… differs from the "
                        r"index \([0-9a-f]{16}…\)", err.splitlines()[0])
    # the same damage under a matching index: the verifier's own message, as ct verify gives it
    bundle = members(tar)["airgap/bundles/tool.ctp"]
    code, _, err = imp(str(tmp_path / "h3"), _tarball_of(tmp_path, "tool.ctp", bundle, "m.tar"), "--policy",
                       world.policy)
    assert code == 10
    assert err.splitlines()[0] == "error: tool.ctp: manifest.toml: format is None, not 'ct-bundle'"
    vfile = str(tmp_path / "tool.ctp")
    with open(vfile, "wb") as f:
        f.write(bundle)
    assert ct("verify", vfile, "--policy", world.policy)[2].splitlines()[0] == err.splitlines()[0]
