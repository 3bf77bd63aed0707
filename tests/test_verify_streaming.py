"""The streaming verifier (ceremony/streaming.py): what it reads in pieces it checks as the whole-document
readers did, differences are named as before, and the limits that held whole members no longer cap the
number of files."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest
from test_bundle_support import cheap_env, ct, members, modes, write_members

from cerro_torre.ceremony import bundle as B
from cerro_torre.ceremony import verifier as V
from cerro_torre.suites.encoding import parse_json


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.fixture()
def home(tmp_path):
    h = str(tmp_path / "home")
    assert ct("--home", h, "keygen", "--id", "rel", "--suite", "CT-SIG-02")[0] == 0
    return h


def tree(root, files: dict[str, bytes]) -> str:
    for rel, data in files.items():
        p = os.path.join(root, *rel.split("/"))
        os.makedirs(os.path.dirname(p), exist_ok=True)
        with open(p, "wb") as f:
            f.write(data)
    return str(root)


def pack(home, src, out, *extra: str) -> str:
    code, _, err = ct("--home", home, "pack", src, "-o", out, "--key", "rel", "--name", "app", "--version", "1",
                      *extra)
    assert code == 0, err
    return out


def verify_json(home, path) -> tuple[int, dict]:
    code, out, _ = ct("--home", home, "--json", "verify", path)
    return code, json.loads(out)


def statement_of(items: dict[str, bytes]) -> bytes:
    return base64.b64decode(json.loads(items["signatures/release.dsse.json"])["payload"])


def old_integrity(label: str, items: dict[str, bytes], mode_of: dict[str, int]) -> list[str]:
    """What the verifier before streaming reported, computed here from whole dictionaries."""
    st = json.loads(statement_of(items))
    signed = {s["name"]: s["digest"]["sha256"] for s in st["subject"]}
    import tomllib

    files = {f["path"]: f for f in tomllib.loads(items["manifest.toml"].decode())["files"]}
    computed = {n[len("payload/"):]: (hashlib.sha256(d).hexdigest(), len(d), mode_of.get(n, 0o644))
                for n, d in items.items() if n.startswith("payload/")}
    out = []
    for name in sorted(signed, key=str.encode):
        digest, got, entry = signed[name], computed.get(name), files.get(name)
        if got is None:
            out.append(f"{label}: payload/{name} is signed but missing from the bundle")
        elif got[0] != digest:
            out.append(f"{label}: payload/{name} sha256 {got[0][:16]}… differs from the signed {digest[:16]}…")
        elif entry is None or entry["sha256"] != digest:
            out.append(f"{label}: payload/{name} is signed with sha256 {digest[:16]}… but manifest.toml says "
                       f"{entry['sha256'][:16] + '…' if entry else 'nothing'}")
        elif got[1] != entry["size"] or got[2] != int(entry["mode"], 8):
            out.append(f"{label}: payload/{name} size/mode {got[1]}/{got[2]:04o} differ from the signed "
                       f"{entry['size']}/{entry['mode']}")
    out += [f"{label}: payload/{n} is in the bundle but not in the signed statement"
            for n in sorted(set(computed) - set(signed), key=str.encode)]
    out += [f"{label}: manifest.toml lists payload/{n}, which the signed statement does not"
            for n in sorted(set(files) - set(signed), key=str.encode)]
    return out


def test_every_difference_is_named_in_the_order_it_always_was(home, tmp_path):
    src = tree(tmp_path / "src", {"a.txt": b"alpha\n", "b.txt": b"beta\n", "c.txt": b"gamma\n",
                                  "d/e.txt": b"delta\n", "f.txt": b"phi\n", "g.txt": b"last\n"})
    good = pack(home, src, str(tmp_path / "good.ctp"))
    items, mode_of = members(good), modes(good)
    items["payload/a.txt"] = b"ALPHA\n"              # content changed
    del items["payload/c.txt"]                       # removed
    items["payload/bb.txt"] = b"added\n"             # added
    items["payload/zz.txt"] = b"added too\n"
    mode_of["payload/f.txt"] = 0o755                 # metadata changed
    path = str(tmp_path / "t.ctp")
    write_members(path, list(items.items()), mode_of=mode_of)
    code, j = verify_json(home, path)
    want = old_integrity("t.ctp", items, mode_of)
    assert len(want) == 5
    assert code == 1
    assert [p["error"] for p in j["problems"]] == want
    assert {p["step"] for p in j["problems"]} == {"integrity"}
    verified = {f["path"]: f["verified"] for f in j["files"]}
    assert verified == {"a.txt": False, "b.txt": True, "c.txt": False, "d/e.txt": True, "f.txt": True,
                        "g.txt": True}
    code, out, _ = ct("--home", home, "explain", path)
    rows = {line.split()[-1]: line.split()[2] for line in out.splitlines() if line.startswith("  ") and
            len(line.split()) == 4 and len(line.split()[0]) == 64}
    assert rows == {"a.txt": "MISMATCH", "b.txt": "ok", "c.txt": "MISSING", "d/e.txt": "ok", "f.txt": "ok",
                    "g.txt": "ok"}


def test_more_files_than_the_old_member_limit_held(home, tmp_path, monkeypatch):
    """manifest.toml and the envelope used to be read whole, at most MAX_META bytes each (16 MiB: a
    bundle of ~100,000 files could be packed but not verified).  Streamed, they may be larger."""
    src = tree(tmp_path / "src", {f"src/m{i // 10}/file_{i:04d}.py": b"x = %d\n" % i for i in range(300)})
    path = pack(home, src, str(tmp_path / "many.ctp"), "--no-sbom", "--no-provenance")  # attestations are read whole
    items = members(path)
    limit = 4096
    assert len(items["manifest.toml"]) > limit and len(items["signatures/release.dsse.json"]) > limit
    monkeypatch.setattr(B, "MAX_META", limit)
    monkeypatch.setattr(V, "MAX_META", limit)
    code, out, err = ct("--home", home, "verify", path)
    assert (code, err) == (0, "")
    assert "  payload     300 file(s), 2.2 KiB, every sha256 matches" in out.splitlines()


def test_an_envelope_not_laid_out_as_ct_writes_it_is_still_read(home, tmp_path):
    """DSSE envelopes from other tools (white space, key order, URL-safe base64) are read whole."""
    src = tree(tmp_path / "src", {"f": b"data\n"})
    good = pack(home, src, str(tmp_path / "good.ctp"))
    items = members(good)
    env = json.loads(items["signatures/release.dsse.json"])
    for variant in (json.dumps(env, indent=2).encode(),
                    json.dumps(dict(reversed(list(env.items())))).encode(),
                    json.dumps({**env, "payload": env["payload"].replace("+", "-").replace("/", "_")}).encode()):
        path = str(tmp_path / "v.ctp")
        write_members(path, list({**items, "signatures/release.dsse.json": variant}.items()), mode_of=modes(good))
        assert ct("--home", home, "verify", path)[0] == 0, variant[:80]


def test_statement_errors_are_those_of_the_whole_document_parser(home, tmp_path):
    src = tree(tmp_path / "src", {"a": b"1\n", "b": b"2\n"})
    good = pack(home, src, str(tmp_path / "good.ctp"))
    items = members(good)
    st = json.loads(statement_of(items))
    st["subject"].reverse()
    env = json.loads(items["signatures/release.dsse.json"])
    env["payload"] = base64.b64encode(json.dumps(st, sort_keys=True, separators=(",", ":")).encode()).decode()
    path = str(tmp_path / "t.ctp")
    write_members(path, list({**items, "signatures/release.dsse.json": json.dumps(env).encode()}.items()),
                  mode_of=modes(good))
    code, _, err = ct("--home", home, "verify", path)
    assert (code, err.splitlines()[0]) == (10, "error: t.ctp: release statement: subjects are not sorted by name")


def test_names_that_need_escapes_and_a_walk_in_byte_order(home, tmp_path):
    names = {'we"ird\\name é.txt': b"1\n", "a0": b"2\n", "a/b": b"3\n", "a.txt": b"4\n", "é/x": b"5\n"}
    src = tree(tmp_path / "src", names)
    path = pack(home, src, str(tmp_path / "esc.ctp"))
    got = [n for n in members(path) if n.startswith("payload/")]
    assert got == sorted(("payload/" + n for n in names), key=str.encode)
    assert got[:3] == ["payload/a.txt", "payload/a/b", "payload/a0"]
    code, j = verify_json(home, path)
    assert code == 0 and sorted(f["path"] for f in j["files"]) == sorted(names)
    # what pack wrote file by file is what the whole-list writers make (and the strict readers accept)
    from cerro_torre.ceremony.statement import make_statement

    items = members(path)
    st = json.loads(statement_of(items))
    assert make_statement([(x["name"], x["digest"]["sha256"]) for x in st["subject"]], st["predicate"]) \
        == statement_of(items)
    m = B.parse_manifest(items["manifest.toml"])
    assert m.to_bytes() == items["manifest.toml"] and [f.path for f in m.files] == [g[len("payload/"):] for g in got]


def test_a_manifest_read_again_must_be_the_one_verified(home, tmp_path):
    """Listing the files reads manifest.toml again from the bundle; bytes that changed since are refused."""
    src = tree(tmp_path / "src", {"a": b"1\n", "b": b"2\n"})
    path = pack(home, src, str(tmp_path / "b.ctp"))
    res = V.verify_bundle(path, V.trust_from(home, None))
    assert res.ok and [f.path for f in res.manifest.files] == ["a", "b"]
    raw = bytearray(open(path, "rb").read())
    at = raw.index(b'path = "b"')
    raw[at + 8] = ord("c")
    open(path, "wb").write(bytes(raw))
    with pytest.raises(Exception) as e:
        list(res.manifest.files)
    assert str(e.value) == "b.ctp: manifest.toml changed while it was being read"


def test_streamed_envelope_is_the_envelope(tmp_path):
    """The envelope decoded in pieces equals Envelope.from_bytes, whatever the piece boundaries."""
    from cerro_torre.ceremony.statement import Envelope
    from cerro_torre.ceremony.streaming import read_envelope

    for n in (0, 1, 2, 3, 4, 5, 1000, 4099):
        data = Envelope(os.urandom(n)).to_bytes()
        for step in (1, 3, 7, 64, len(data) or 1):
            pieces = [data[i:i + step] for i in range(0, len(data), step)]
            env, message = read_envelope(pieces, len(data), "e", lambda: data)
            whole = Envelope.from_bytes(data)
            assert (bytes(env.payload), env.payload_type, env.signatures) == (whole.payload, whole.payload_type,
                                                                              whole.signatures)
            assert bytes(message) == whole.pae()
    assert parse_json(data)["payloadType"] == "application/vnd.in-toto+json"
