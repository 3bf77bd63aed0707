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
    """manifest.toml, the envelopes and the attestations used to be read whole, at most MAX_META bytes
    each (16 MiB: at 100,000 files `ct pack` with its default SBOM and provenance failed, "… is larger
    than 16777216 bytes").  Streamed, they may be larger: pack (default attestations), verify, explain,
    ct attestations, export and import --verify of a bundle whose every statement is over the limit."""
    from cerro_torre.ceremony import statement as S
    from cerro_torre.ceremony import streaming

    src = tree(tmp_path / "src", {f"src/m{i // 10}/file_{i:04d}.py": b"x = %d\n" % i for i in range(300)})
    limit = 4096
    for mod in (B, V, S, streaming):
        monkeypatch.setattr(mod, "MAX_META" if mod is not S else "MAX_ENVELOPE", limit)
    path = pack(home, src, str(tmp_path / "many.ctp"))
    items = members(path)
    atts = [n for n in items if n.startswith("signatures/attestations/")]
    assert len(atts) == 2
    for name in ["manifest.toml", "signatures/release.dsse.json", *atts]:
        assert len(items[name]) > limit, name
    code, out, err = ct("--home", home, "verify", path)
    assert (code, err) == (0, "")
    assert "  payload     300 file(s), 2.2 KiB, every sha256 matches" in out.splitlines()
    assert ct("--home", home, "explain", path)[0] == 0
    code, _, err = ct("--home", home, "attestations", path, "-o", str(tmp_path / "atts"))
    assert (code, err) == (0, "")
    assert sorted(os.listdir(tmp_path / "atts"))[0].startswith("slsa.dev-provenance-v1.")
    assert ct("--home", home, "key", "export", "rel", "--public", "-o", str(tmp_path / "rel.pub"))[0] == 0
    pol = str(tmp_path / "policy.json")
    assert ct("--home", home, "policy", "init", "--policy", pol, "--key", str(tmp_path / "rel.pub"))[0] == 0
    tar = str(tmp_path / "airgap.tar")
    code, _, err = ct("--home", home, "export", path, "-o", tar, "--include-keys", "--policy", pol)
    assert (code, err) == (0, "")
    code, out, err = ct("--home", str(tmp_path / "host"), "import", tar, "--verify", "--policy", pol)
    assert (code, err) == (0, ""), out


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


def _statements():
    from cerro_torre.ceremony.statement import make_statement

    subjects = [(n, hashlib.sha256(n.encode()).hexdigest()) for n in
                ('a', 'we"ird\\name é.txt', "a/b", "é/x", "z" * 300)]
    tricky = {"package": {"name": "p", "version": "1"}, "w": "}] before a nested subject list",
              "x": {"a": 1, "predicateType": "t", "subject": [{"name": "not a subject"}]},
              "y": 'brace } bracket ] quote " backslash \\ and ,"subject":[ inside a string'}
    return [make_statement(subjects, tricky), make_statement([], tricky),
            make_statement(subjects[:1], {"package": {"name": "p", "version": "1"}}),
            make_statement(subjects, {"big": ["v" * 100] * 50}, "https://example.org/other/v1")]


def test_a_statement_fed_in_pieces_reads_as_the_whole_statement():
    """StatementReader (the verifier's, fed as the envelope is decoded) gives what the in-place reader gives
    of the whole statement, whatever the piece boundaries: braces, brackets, quotes, escapes and the text
    that ends the head inside the predicate's strings and keys; no subjects; another predicate type."""
    from cerro_torre.ceremony.streaming import StatementReader, iter_subjects, read_statement_head

    for raw in _statements():
        release = b"other" not in raw
        predicate, ptype, start = read_statement_head(raw, release)
        want = list(iter_subjects(raw, start))
        for step in (1, 2, 3, 7, 64, len(raw)):
            rd = StatementReader(release)
            got = []
            for i in range(0, len(raw), step):
                got += rd.feed(raw[i:i + step])
            got += rd.close()
            assert got == want and rd.head == (predicate, ptype), step
            assert (rd.sha.hexdigest(), rd.length) == (hashlib.sha256(raw).hexdigest(), len(raw))
            assert rd.subjects.count == len(want)


@pytest.mark.parametrize("change,why", [
    (lambda s: s.replace(b'"name":"a/b"', b'"name":"a"'), "a name repeated"),
    (lambda s: s.replace(b'"name":"a/b"', b'"name":"zz"'), "out of order"),
    (lambda s: s + b" ", "bytes after the end"),
    (lambda s: s[:-1], "cut short"),
    (lambda s: s[:-30], "cut inside a subject"),
    (lambda s: s.replace(b'"sha256":"', b'"sha256":"A', 1)[:-1], "not a digest"),
    (lambda s: s.replace(b'{"_type"', b'{ "_type"'), "not canonical"),
])
def test_a_statement_fed_in_pieces_refuses_what_the_whole_reader_refuses(change, why):
    """Each subject is checked as it goes by against the previous one only: a repeated name and one out of
    order are refused (no set of names is kept), as are a statement cut short or with more after its end."""
    from cerro_torre.ceremony.streaming import StatementReader, read_statement
    from cerro_torre.suites.jsonstream import NotCanonical

    raw = change(_statements()[0])
    with pytest.raises(Exception):
        read_statement(raw, "s")
    for step in (1, 5, 64, len(raw)):
        rd = StatementReader()
        with pytest.raises(NotCanonical):
            for i in range(0, len(raw), step):
                rd.feed(raw[i:i + step])
            rd.close()
