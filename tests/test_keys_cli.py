"""`ct keygen` and `ct key ...` through main(), in process: exact exit codes, error and hint lines."""

from __future__ import annotations

import hashlib
import io
import json
import os
import stat
import struct

import pytest

from cerro_torre.keys.home import Home
from cerro_torre.cli.main import main
from cerro_torre.keys.keyfile import KDFParams

PW = "hunter2 but longer"


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("CT_PASSPHRASE", PW)
    monkeypatch.delenv("CT_HOME", raising=False)


def ct(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


@pytest.fixture
def other(tmp_path):
    return str(tmp_path / "other")


def fp_hex_of_file(path: str) -> str:
    with open(path, "rb") as f:
        raw = f.read()
    assert raw.endswith(b"\n")
    doc = json.loads(raw)
    canon = json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert canon + b"\n" == raw  # the file is canonical JSON + LF
    h = hashlib.sha256(canon).hexdigest()[:16]
    return " ".join(h[i:i + 4] for i in range(0, 16, 4))


# ------------------------------------------------------------------ keygen

def test_keygen_default_suite(home):
    code, out, err = ct("--home", home, "keygen", "--id", "alice")
    assert (code, err) == (0, "")
    pub = os.path.join(home, "keys", "alice.pub")
    lines = out.splitlines()
    assert lines[0] == "generated key 'alice' (CT-SIG-02)"
    assert lines[1] == f"  fingerprint  {fp_hex_of_file(pub)}"
    assert lines[2].startswith("  words        ") and len(lines[2].split()) == 7
    assert lines[3] == f"  public key   {pub}"
    assert lines[4] == "  this is now the default key"
    doc = json.loads(open(pub, "rb").read())
    assert doc["suite"] == "CT-SIG-02" and set(doc["keys"]) == {"ed25519", "x25519", "ml-dsa-87"}
    sec = os.path.join(home, "keys", "alice.sec")
    assert stat.S_IMODE(os.stat(sec).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(home).st_mode) == 0o700
    # test-only cheap Argon2id is what the header says
    with open(sec, "rb") as f:
        blob = f.read()
    assert struct.unpack(">III", blob[10:22]) == (1, 64, 1)


@pytest.mark.parametrize("suite,algs", [
    ("CT-SIG-01", ["ed25519"]), ("CT-SIG-02", ["ed25519", "ml-dsa-87"]), ("CT-SIG-03", ["ml-dsa-87"])])
def test_keygen_json_each_suite(home, suite, algs):
    code, out, err = ct("--home", home, "keygen", "--id", "k1", "--suite", suite, "--json")
    assert (code, err) == (0, "")
    d = json.loads(out)
    assert d["id"] == "k1" and d["suite"] == suite and d["default"] is True
    assert sorted(d["keyids"]) == sorted(algs)
    assert d["fingerprint"]["hex"] == fp_hex_of_file(d["public_path"])
    assert len(d["fingerprint"]["words"].split()) == 6
    # the sealed key opens with the passphrase and signs for its suite
    h = Home(home, params=KDFParams(1, 64, 1), allow_weak=True)
    key = h.load_private("k1", PW.encode())
    sigs = key.sign(b"release")
    assert [s.alg for s in sigs] == algs
    assert {s.alg: s.keyid for s in sigs} == d["keyids"]
    assert h.public("k1").verify(b"release", sigs).ok


def test_keygen_without_test_flag_uses_full_argon2(home, monkeypatch):
    monkeypatch.delenv("CT_TESTING")
    code, _, _ = ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    assert code == 0
    with open(os.path.join(home, "keys", "alice.sec"), "rb") as f:
        assert struct.unpack(">III", f.read()[10:22]) == (3, 65536, 4)


def test_keygen_passphrase_file(home, tmp_path, monkeypatch):
    monkeypatch.delenv("CT_PASSPHRASE")
    pf = tmp_path / "pp"
    pf.write_text("read from a file, first line only\n")
    code, _, err = ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01", "--passphrase-file", str(pf))
    assert (code, err) == (0, "")
    Home(home, allow_weak=True).load_private("alice", b"read from a file, first line only")


def test_keygen_no_passphrase_source(home, monkeypatch):
    monkeypatch.delenv("CT_PASSPHRASE")
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    code, out, err = ct("--home", home, "keygen", "--id", "alice")
    assert (code, out) == (64, "")
    assert err == ("error: a passphrase is needed for new key 'alice' and there is no terminal to ask on\n"
                   "hint: use --passphrase-file FILE or set CT_PASSPHRASE\n")
    assert not os.path.exists(os.path.join(home, "keys", "alice.pub"))


def test_keygen_duplicate(home):
    assert ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    before = open(os.path.join(home, "keys", "alice.sec"), "rb").read()
    code, out, err = ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    assert (code, out) == (22, "")
    assert err == (f"error: key 'alice' already exists in {os.path.join(home, 'keys')}\n"
                   "hint: choose another --id; existing keys are never overwritten\n")
    assert open(os.path.join(home, "keys", "alice.sec"), "rb").read() == before


def test_keygen_bad_id(home):
    code, out, err = ct("--home", home, "keygen", "--id", "Alice/../x")
    assert (code, out) == (64, "")
    assert err == ("error: invalid key id 'Alice/../x'\n"
                   "hint: a key id is 1-64 characters: lowercase letters, digits, '.', '_' or '-', "
                   "starting with a letter or digit\n")
    assert not os.path.exists(home)


def test_keygen_bad_suite(home):
    code, out, err = ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-04")
    assert (code, out) == (64, "")
    assert err == ("error: unknown signature suite 'CT-SIG-04'\n"
                   "hint: valid suites: CT-SIG-01, CT-SIG-02, CT-SIG-03\n")


def test_keygen_missing_id():
    code, out, err = ct("keygen")
    assert code == 64
    assert err.splitlines()[-2:] == ["error: the following arguments are required: --id",
                                     "hint: run 'ct keygen --help' for usage"]


# ------------------------------------------------------------------ list

def test_list_empty(home):
    code, out, err = ct("--home", home, "key", "list")
    assert (code, out) == (0, "")
    assert err == (f"no keys in {os.path.join(home, 'keys')}\n"
                   "hint: create one with 'ct keygen --id NAME', or import one with 'ct key import FILE.pub'\n")
    assert not os.path.exists(home)  # listing creates nothing
    code, out, _ = ct("--home", home, "key", "list", "--json")
    assert json.loads(out) == {"home": home, "keys": [], "shares": []}


def test_list_table_and_json(home, other):
    ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    ct("--home", other, "keygen", "--id", "bob", "--suite", "CT-SIG-03")
    bob_pub = os.path.join(other, "keys", "bob.pub")
    assert ct("--home", home, "key", "import", bob_pub)[0] == 0
    code, out, err = ct("--home", home, "key", "list")
    assert (code, err) == (0, "")
    alice_fp = fp_hex_of_file(os.path.join(home, "keys", "alice.pub"))
    bob_fp = fp_hex_of_file(bob_pub)
    assert out.splitlines() == [
        "  ID     SUITE      TRUST     FINGERPRINT",
        f"* alice  CT-SIG-01  ultimate  {alice_fp}",
        f"  bob    CT-SIG-03  none      {bob_fp}",
    ]
    code, out, err = ct("--home", home, "key", "list", "--json")
    d = json.loads(out)
    assert [(k["id"], k["trust"], k["default"], k["private"], k["fingerprint"]["hex"]) for k in d["keys"]] == [
        ("alice", "ultimate", True, True, alice_fp), ("bob", "none", False, False, bob_fp)]


# ------------------------------------------------------------------ import

def test_import_and_reimport(home, other):
    ct("--home", other, "keygen", "--id", "bob", "--suite", "CT-SIG-02")
    bob_pub = os.path.join(other, "keys", "bob.pub")
    fp = fp_hex_of_file(bob_pub)
    code, out, err = ct("--home", home, "key", "import", bob_pub)
    assert code == 0
    assert out.splitlines()[0] == "imported key 'bob' (CT-SIG-02)"
    assert out.splitlines()[1] == f"  fingerprint  {fp}"
    assert out.splitlines()[3] == "  trust        none"
    assert err == "hint: compare the fingerprint with its owner, then run 'ct key trust bob trusted'\n"
    assert open(os.path.join(home, "keys", "bob.pub"), "rb").read() == open(bob_pub, "rb").read()
    code, out, err = ct("--home", home, "key", "import", bob_pub, "--json")
    assert code == 0
    d = json.loads(out)
    assert (d["id"], d["imported"], d["trust"], d["fingerprint"]["hex"]) == ("bob", False, "none", fp)


def test_import_different_key_same_id(home, other, tmp_path):
    ct("--home", home, "keygen", "--id", "bob", "--suite", "CT-SIG-01")
    ct("--home", other, "keygen", "--id", "bob", "--suite", "CT-SIG-01")
    mine = fp_hex_of_file(os.path.join(home, "keys", "bob.pub"))
    code, out, err = ct("--home", home, "key", "import", os.path.join(other, "keys", "bob.pub"))
    assert (code, out) == (22, "")
    assert err == ("error: a different key named 'bob' already exists\n"
                   f"hint: compare fingerprints with its owner; the one here is {mine}\n")


def test_import_private_file_refused(home, other):
    ct("--home", other, "keygen", "--id", "bob", "--suite", "CT-SIG-01")
    sec = os.path.join(other, "keys", "bob.sec")
    code, out, err = ct("--home", home, "key", "import", sec)
    assert (code, out) == (10, "")
    assert err == (f"error: public key file {sec} is a sealed private key file, not a public key\n"
                   "hint: use the .pub file; private keys never leave their home\n")


def test_import_garbage_and_missing(home, tmp_path):
    bad = tmp_path / "bad.pub"
    bad.write_bytes(b"{not json")
    code, out, err = ct("--home", home, "key", "import", str(bad))
    assert code == 10
    assert err.splitlines()[0].startswith(f"error: public key file {bad} is not valid JSON: ")
    wrong_type = tmp_path / "wrong.pub"
    wrong_type.write_text('{"type":"ct-policy","version":1}')
    code, _, err = ct("--home", home, "key", "import", str(wrong_type))
    assert code == 10
    assert err == (f"error: public key file {wrong_type} is not a ct identity public key (its type is 'ct-policy')\n"
                   "hint: expected a ct public key file (.pub)\n")
    code, out, err = ct("--home", home, "key", "import", str(tmp_path / "nope.pub"))
    assert (code, out) == (21, "")
    assert err == f"error: file not found: {tmp_path / 'nope.pub'}\nhint: check the path of the .pub file\n"


# ------------------------------------------------------------------ export

def test_export_requires_public(home):
    ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    code, out, err = ct("--home", home, "key", "export", "alice")
    assert (code, out) == (64, "")
    assert err == ("error: private keys are never exported\n"
                   "hint: use 'ct key export alice --public' to export the public key\n")


def test_export_public_stdout_file_json(home, tmp_path):
    ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    pub_path = os.path.join(home, "keys", "alice.pub")
    stored = open(pub_path, "rb").read()
    code, out, err = ct("--home", home, "key", "export", "alice", "--public")
    assert (code, err) == (0, "")
    assert out.encode() == stored
    dest = tmp_path / "alice.pub"
    code, out, err = ct("--home", home, "key", "export", "alice", "--public", "-o", str(dest))
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"wrote public key 'alice' to {dest}", f"  fingerprint  {fp_hex_of_file(pub_path)}"]
    assert dest.read_bytes() == stored
    code, out, _ = ct("--home", home, "key", "export", "alice", "--public", "--json")
    assert json.loads(out) == json.loads(stored)
    code, out, err = ct("--home", home, "key", "export", "alice", "--public", "-o", str(dest), "--json")
    assert code == 22 and err.splitlines() == [f"error: {dest} exists",
                                               "hint: choose another -o, or pass --force to replace it"]
    assert json.loads(out) == {"ok": False, "exit_code": 22, "error": f"{dest} exists",
                               "hints": ["choose another -o, or pass --force to replace it"]}
    code, out, _ = ct("--home", home, "key", "export", "alice", "--public", "-o", str(dest), "--json", "--force")
    assert json.loads(out)["path"] == str(dest)


def test_export_unknown(home):
    ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    code, out, err = ct("--home", home, "key", "export", "zed", "--public")
    assert (code, out) == (21, "")
    assert err == (f"error: no key 'zed' in {os.path.join(home, 'keys')}\n"
                   "hint: see the keys there with 'ct key list'\n")


# ------------------------------------------------------------------ default and trust

def test_default(home, other):
    ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    ct("--home", home, "keygen", "--id", "carol", "--suite", "CT-SIG-01")
    ct("--home", other, "keygen", "--id", "bob", "--suite", "CT-SIG-01")
    ct("--home", home, "key", "import", os.path.join(other, "keys", "bob.pub"))
    assert Home(home).default() == "alice"
    code, out, err = ct("--home", home, "key", "default", "carol")
    assert (code, out, err) == (0, "default key: carol\n", "")
    assert Home(home).default() == "carol"
    code, out, err = ct("--home", home, "key", "default", "bob")
    assert (code, out) == (64, "")
    assert err == ("error: key 'bob' has no private key here; the default key signs\n"
                   "hint: choose one of your own keys (trust 'ultimate' in 'ct key list')\n")
    code, out, err = ct("--home", home, "key", "default", "zed")
    assert code == 21 and err.endswith("hint: see the keys there with 'ct key list'\n")
    code, out, _ = ct("--home", home, "key", "default", "alice", "--json")
    assert (code, json.loads(out)) == (0, {"default": "alice"})


def test_trust(home, other):
    ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    ct("--home", other, "keygen", "--id", "bob", "--suite", "CT-SIG-01")
    ct("--home", home, "key", "import", os.path.join(other, "keys", "bob.pub"))
    code, out, err = ct("--home", home, "key", "trust", "bob", "trusted")
    assert (code, out, err) == (0, "trust of 'bob': trusted\n", "")
    assert Home(home).trust("bob") == "trusted"
    code, out, err = ct("--home", home, "key", "trust", "bob", "ultimate")
    assert (code, out) == (64, "")
    assert err == ("error: only your own keys can be ultimate, and 'bob' has no private key here\n"
                   "hint: use 'ct key trust bob trusted' for someone else's key\n")
    code, out, err = ct("--home", home, "key", "trust", "bob", "full")
    assert (code, out) == (64, "")
    assert err == "error: unknown trust level 'full'\nhint: levels: none, trusted, ultimate\n"
    code, out, err = ct("--home", home, "key", "trust", "zed", "trusted")
    assert code == 21
    code, out, _ = ct("--home", home, "key", "trust", "bob", "none", "--json")
    assert (code, json.loads(out)) == (0, {"id": "bob", "trust": "none"})
    with open(os.path.join(home, "trust.json"), "rb") as f:
        state = json.loads(f.read())
    assert state == {"type": "ct-trust", "version": 1, "default": "alice",
                     "trust": {"alice": "ultimate", "bob": "none"}}


def test_key_without_action():
    code, out, err = ct("key")
    assert code == 64
    assert err.splitlines()[-1] == "hint: run 'ct key --help' for usage"


def test_corrupt_trust_file(home):
    ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")
    with open(os.path.join(home, "trust.json"), "w") as f:
        f.write('{"type":"ct-trust","version":1,"default":null,"trust":{"alice":"godlike"}}')
    code, out, err = ct("--home", home, "key", "list")
    assert (code, out) == (10, "")
    assert err == (f"error: {os.path.join(home, 'trust.json')}: unknown trust level 'godlike' for 'alice'\n"
                   "hint: levels are none, trusted, ultimate; fix the file or restore it from a backup\n")


def test_home_api_import_returns_public(home, other):
    a = Home(other, params=KDFParams(1, 64, 1), allow_weak=True)
    pub = a.generate_key("bob", "CT-SIG-01", b"pw")
    b = Home(home)
    got = b.import_public(a.export_public("bob"))
    assert got == pub == b.public("bob")
    assert b.import_public_report(a.export_public("bob")) == (pub, False)
    assert [e.id for e in b.list_keys()] == ["bob"] and b.trust("bob") == "none" and b.default() is None


def test_trust_changes_are_logged(tmp_path, monkeypatch):
    """`ct key trust` appends one fsynced line per change to HOME/trust.log."""
    import io
    import re

    from cerro_torre.cli.main import main

    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "256")
    monkeypatch.setenv("CT_PASSPHRASE", "a test passphrase, not a secret")
    a, b = str(tmp_path / "a"), str(tmp_path / "b")
    assert main(["--home", b, "keygen", "--id", "bob"], stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert main(["--home", a, "key", "import", str(tmp_path / "b" / "keys" / "bob.pub")],
                stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert main(["--home", a, "key", "trust", "bob", "trusted"], stdout=io.StringIO(), stderr=io.StringIO()) == 0
    assert main(["--home", a, "key", "trust", "bob", "none"], stdout=io.StringIO(), stderr=io.StringIO()) == 0
    lines = (tmp_path / "a" / "trust.log").read_text().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ trust bob none -> trusted fingerprint [0-9a-f]{64}", lines[0])
    assert lines[1].split(" ", 1)[1].startswith("trust bob trusted -> none fingerprint ")
