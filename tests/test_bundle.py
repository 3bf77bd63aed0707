"""The .ctp bundle: canonical encodings, tar layout, determinism (spec/bundle.md, spec/canonical.md)."""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import tarfile
import tomllib

import pytest
from test_bundle_support import VECTORS, members, pack_unsigned

from cerro_torre.ceremony import bundle as B
from cerro_torre.ceremony.sources import open_source
from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import Malformed
from cerro_torre.keys.identity import IdentityKey


def load(name: str) -> dict:
    with open(os.path.join(VECTORS, name), "rb") as f:
        return json.load(f)


# ------------------------------------------------------------------ canonical JSON

@pytest.mark.parametrize("case", load("canonical-json.json")["valid"])
def test_canonical_json_vectors(case):
    out = canonical_json(parse_json(case["input"]))
    assert out == case["canonical"].encode("utf-8")
    assert hashlib.sha256(out).hexdigest() == case["sha256"]


@pytest.mark.parametrize("case", load("canonical-json.json")["invalid"])
def test_canonical_json_refuses(case):
    with pytest.raises(Malformed):
        canonical_json(parse_json(case["input"]))


# ------------------------------------------------------------------ canonical TOML

@pytest.mark.parametrize("case", load("canonical-toml.json")["valid"])
def test_canonical_toml_vectors(case):
    text = B.canonical_toml(case["doc"])
    assert text == case["toml"].encode("utf-8")
    # tomllib reads it back to the same document
    assert tomllib.loads(text.decode()) == case["doc"]


@pytest.mark.parametrize("case", load("canonical-toml.json")["not_canonical"], ids=lambda c: c["why"])
def test_manifest_not_in_canonical_form_is_refused(case):
    with pytest.raises(Malformed) as e:
        B.parse_manifest(case["toml"].encode())
    assert "manifest.toml" in e.value.message


def test_manifest_unknown_format_version():
    text = load("canonical-toml.json")["valid"][0]["toml"].replace("format_version = 1", "format_version = 2")
    with pytest.raises(Malformed) as e:
        B.parse_manifest(text.encode())
    assert e.value.message == "unsupported bundle format version 2 in manifest.toml"
    assert e.value.hints == ("this ct reads format version 1; upgrade ct to read newer bundles",)


# ------------------------------------------------------------------ tar headers

@pytest.mark.parametrize("case", load("tar-headers.json")["cases"], ids=lambda c: c["name"][:30])
def test_tar_header_vectors(case):
    hdr = B.member_header(case["name"], case["size"], int(case["mode"], 8))
    assert hdr.hex() == case["header_hex"]
    assert len(hdr) % 512 == 0
    if case["size"] < 1 << 20:  # Python's tarfile reads the member back identically
        data = b"x" * case["size"]
        raw = hdr + data + b"\0" * (-len(data) % 512) + b"\0" * 1024
        with tarfile.open(fileobj=io.BytesIO(raw)) as t:
            (m,) = t.getmembers()
            assert (m.name, m.size, m.mode, m.mtime, m.uid, m.gid, m.uname, m.gname, m.type) == \
                (case["name"], case["size"], int(case["mode"], 8), 0, 0, 0, "", "", tarfile.REGTYPE)


def test_writer_refuses_unsorted_and_duplicate_names():
    w = B.TarWriter(io.BytesIO())
    w.add_bytes("b", b"")
    with pytest.raises(ValueError):
        w.add_bytes("a", b"")
    with pytest.raises(ValueError):
        w.add_bytes("b", b"")


@pytest.mark.parametrize("name", ["/abs", "a/../b", "./a", "a//b", "a/", "", "a\nb", ".."])
def test_bad_member_paths(name):
    with pytest.raises(Malformed):
        B.check_path(name)


# ------------------------------------------------------------------ the bundle vector

def _pack_vector(tmp_path, key=None) -> bytes:
    v = load("bundle/vector.json")
    src = os.path.join(VECTORS, "bundle", v["source"])
    out = str(tmp_path / "v.ctp")
    with open_source(src) as s:
        B.pack(s, out, name=v["name"], version=v["version"], key=key)
    with open(out, "rb") as f:
        return f.read()


def test_bundle_vector_unsigned(tmp_path):
    v = load("bundle/vector.json")
    raw = _pack_vector(tmp_path)
    assert len(raw) == v["unsigned_bundle_size"]
    assert hashlib.sha256(raw).hexdigest() == v["unsigned_bundle_sha256"]
    m = members(str(tmp_path / "v.ctp"))
    assert list(m) == ["manifest.toml", "payload/README", "payload/sub/caf\u00e9.txt", "payload/sub/tool.sh",
                       "signatures/release.dsse.json"]
    with open(os.path.join(VECTORS, "bundle", "expected", "manifest.toml"), "rb") as f:
        assert m["manifest.toml"] == f.read()
    env = json.loads(m["signatures/release.dsse.json"])
    with open(os.path.join(VECTORS, "bundle", "expected", "statement.json"), "rb") as f:
        import base64

        assert base64.b64decode(env["payload"]) == f.read()
    assert env["signatures"] == []


def test_bundle_vector_signed_with_rfc8032_key_is_byte_exact(tmp_path):
    v = load("bundle/vector.json")
    sb = v["signed_by"]
    key = IdentityKey(sb["id"], sb["suite"], {"ed25519": bytes.fromhex(sb["ed25519_seed"]),
                                              "x25519": bytes.fromhex(sb["x25519_seed"])})
    raw = _pack_vector(tmp_path, key)
    assert len(raw) == v["signed_bundle_size"]
    assert hashlib.sha256(raw).hexdigest() == v["signed_bundle_sha256"]


def test_gnu_tar_lists_the_bundle_with_fixed_owner_and_mtime(tmp_path):
    _pack_vector(tmp_path)
    out = subprocess.run(["tar", "--numeric-owner", "-tvf", str(tmp_path / "v.ctp")], capture_output=True,
                         text=True, check=True)
    assert out.stderr == ""
    lines = out.stdout.splitlines()
    assert [ln.split()[-1] for ln in lines] == ["manifest.toml", "payload/README", "payload/sub/caf\u00e9.txt",
                                                "payload/sub/tool.sh", "signatures/release.dsse.json"]
    for ln in lines:
        perms, owner, _size, date, time_ = ln.split()[:5]
        assert owner == "0/0" and date == "1970-01-01" and time_ == "00:00"
        assert perms == ("-rwxr-xr-x" if ln.endswith("tool.sh") else "-rw-r--r--")
    # and extracts to the same bytes
    dest = tmp_path / "x"
    dest.mkdir()
    subprocess.run(["tar", "-xf", str(tmp_path / "v.ctp"), "-C", str(dest)], check=True)
    with open(dest / "payload" / "sub" / "caf\u00e9.txt", "rb") as f:
        assert f.read() == "caf\u00e9 au lait\n".encode()


# ------------------------------------------------------------------ determinism

def test_same_input_twice_gives_identical_bundles_whatever_mtimes_and_umask(tmp_path):
    v = load("bundle/vector.json")
    a = tmp_path / "copy" / v["source"]
    shutil.copytree(os.path.join(VECTORS, "bundle", "input"), a)
    pack_unsigned(str(a), str(tmp_path / "1.ctp"), "demo", "1.0")
    # touch everything, change group/other bits: the bundle must not change
    for root, _dirs, files in os.walk(a):
        for fn in files:
            p = os.path.join(root, fn)
            os.utime(p, (1_700_000_000, 1_700_000_000))
            os.chmod(p, os.stat(p).st_mode | 0o066)
    pack_unsigned(str(a), str(tmp_path / "2.ctp"), "demo", "1.0")
    with open(tmp_path / "1.ctp", "rb") as f1, open(tmp_path / "2.ctp", "rb") as f2:
        b1, b2 = f1.read(), f2.read()
    assert b1 == b2
    # same folder name as the vector's input elsewhere on disk: the same bytes as the vector too
    assert hashlib.sha256(b1).hexdigest() == v["unsigned_bundle_sha256"]


def test_executable_bit_is_the_only_mode_kept(tmp_path):
    d = tmp_path / "d"
    d.mkdir()
    (d / "x").write_bytes(b"1")
    os.chmod(d / "x", 0o700)
    pack_unsigned(str(d), str(tmp_path / "o.ctp"))
    with tarfile.open(tmp_path / "o.ctp") as t:
        assert t.getmember("payload/x").mode == 0o755


def test_long_and_non_ascii_names_round_trip(tmp_path):
    d = tmp_path / "src"
    deep = d / ("n" * 90) / ("m" * 90)
    deep.mkdir(parents=True)
    (deep / "\u00fcber.txt").write_bytes(b"deep")
    pack_unsigned(str(d), str(tmp_path / "o.ctp"))
    name = f"payload/{'n' * 90}/{'m' * 90}/\u00fcber.txt"
    assert members(str(tmp_path / "o.ctp"))[name] == b"deep"
    with tarfile.open(tmp_path / "o.ctp") as t:
        assert t.extractfile(name).read() == b"deep"


# ------------------------------------------------------------------ rewriting signatures

def test_rewrite_signatures_streams_the_payload_unchanged(tmp_path):
    _pack_vector(tmp_path)
    src = str(tmp_path / "v.ctp")
    dst = str(tmp_path / "w.ctp")
    B.rewrite_signatures(src, dst, {"signatures/stock.json": b"{}\n"}, replace=False)
    a, b = members(src), members(dst)
    assert {k: v for k, v in a.items() if not k.startswith("signatures/")} == \
        {k: v for k, v in b.items() if not k.startswith("signatures/")}
    assert b["signatures/stock.json"] == b"{}\n"
    assert b["signatures/release.dsse.json"] == a["signatures/release.dsse.json"]
    with pytest.raises(ValueError):
        B.rewrite_signatures(src, dst, {"payload/evil": b""})


def test_read_parts_skips_payload(tmp_path):
    _pack_vector(tmp_path)
    parts = B.read_parts(str(tmp_path / "v.ctp"))
    assert parts.manifest.name == "demo"
    assert list(parts.signature_members) == ["signatures/release.dsse.json"]


def test_generated_vectors_are_current():
    """spec/vectors/make_vectors.py --check: the deterministic vectors match this implementation."""
    import subprocess
    import sys

    p = subprocess.run([sys.executable, os.path.join(VECTORS, "make_vectors.py"), "--check"],
                       capture_output=True, text=True)
    assert (p.returncode, p.stdout.strip()) == (0, "ok"), p.stdout + p.stderr
