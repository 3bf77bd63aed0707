"""The classes of hostile input from the fuzzing probe (issue 13) end in exit 10 with one error line,
through the CLI in-process: integers past Python's 4,300-digit limit, nesting past the recursion limit,
lone UTF-16 surrogates, fields of the wrong type, and untrusted text printed raw.

Each hostile document goes where ``ct`` reads untrusted input: a bundle's statement or manifest
(``ct verify``, ``ct explain``), an airgap tarball (``ct import --verify``), a ceremony message
(``ct ceremony status``), a public key (``ct key import``), a policy (``ct policy show``) and a
keyholder-set record (``ct policy init --root``).
"""

from __future__ import annotations

import json
import os

import pytest
from test_bundle_support import ct, cheap_env, make_payload_dir, members, pack_unsigned, write_members

from cerro_torre.ceremony import bundle as B
from cerro_torre.ceremony.statement import Envelope
from cerro_torre.offline import airgap
from cerro_torre.suites import encoding

BIG = "1" * 5000
BIG_SHOWN = "111111111111…(5000 digits)"
DEEP = "[" * 10000 + "]" * 10000

# (name, JSON text, what the parser says after "<document> is not valid JSON: ")
JSON_CASES = [
    ("5000-digit integer", '{"a":' + BIG + "}", f"integer {BIG_SHOWN} is out of range"),
    ("10000-deep nesting", DEEP, "it is nested more than 128 levels deep"),
    ("lone surrogate", '{"a":"\\ud800"}', "a string holds a lone UTF-16 surrogate (not Unicode text)"),
    ("lone surrogate key", '{"\\udfff":1}', "a key holds a lone UTF-16 surrogate (not Unicode text)"),
    ("2^64", '{"a":18446744073709551616}', "integer 18446744073709551616 is out of range"),
]
JSON_IDS = [c[0] for c in JSON_CASES]


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


def only_error(err: str) -> str:
    """The one ``error:`` line of stderr (the rest are hints)."""
    lines = err.splitlines()
    assert [x for x in lines if not x.startswith("hint: ")] == [lines[0]], err
    assert lines[0].startswith("error: ")
    return lines[0]


# ---------------------------------------------------------------------- the entry points themselves

@pytest.mark.parametrize("name,text,said", JSON_CASES, ids=JSON_IDS)
def test_parse_json_refuses_each_class(name, text, said):
    with pytest.raises(Exception) as e:
        encoding.parse_json(text.encode(), "doc.json")
    assert type(e.value).__name__ == "Malformed" and e.value.exit_code == 10
    assert e.value.message == f"doc.json is not valid JSON: {said}"


def test_parse_json_limits_are_exact():
    assert encoding.parse_json(b"[18446744073709551615,-9223372036854775808]") == [2 ** 64 - 1, -2 ** 63]
    assert encoding.parse_json(("[" * 128 + "]" * 128).encode()) is not None
    for bad, said in ((b"[-9223372036854775809]", "integer -9223372036854775809 is out of range"),
                      (("[" * 129 + "]" * 129).encode(), "it is nested more than 128 levels deep"),
                      (b'{"a":1,"a":1}', "duplicate key 'a'"), (b"[1.0]", "number 1.0 is not an integer"),
                      (b"[NaN]", "number NaN is not an integer")):
        with pytest.raises(Exception) as e:
            encoding.parse_json(bad, "d")
        assert e.value.message == f"d is not valid JSON: {said}"
    assert encoding.parse_json('"\\ud83d\\ude00"'.encode()) == "\U0001f600"  # a surrogate *pair* is one character
    with pytest.raises(Exception) as e:
        encoding.parse_json(b"[" + b" " * 20, "d", limit=16)
    assert e.value.message == "d is too large (21 bytes; the limit is 16)"


@pytest.mark.parametrize("text,said", [
    ("a = " + BIG, "an integer is out of range"),
    ("a = " + "[" * 10000 + "]" * 10000, "it is nested more than 128 levels deep"),
    ("a = 18446744073709551616", "an integer is out of range"),
    ("a = 1.5", "number 1.5 is not an integer"),
], ids=["5000 digits", "deep", "2^64", "float"])
def test_parse_toml_refuses_each_class(text, said):
    with pytest.raises(Exception) as e:
        encoding.parse_toml(text.encode(), "m.toml")
    assert (type(e.value).__name__, e.value.message) == ("Malformed", f"m.toml is not valid TOML: {said}")


def test_printable_escapes_what_a_terminal_would_obey():
    assert encoding.printable("app\x1b[2J\r\n\u202egnp.exe\ud800\x7f\x85é") == \
        "app\\x1b[2J\\x0d\\x0a\\u202egnp.exe\\ud800\\x7f\\x85é"
    assert encoding.printable("plain ünïcode name 1.0") == "plain ünïcode name 1.0"


# ---------------------------------------------------------------------- ct verify / ct explain

@pytest.fixture
def unsigned(tmp_path):
    src = make_payload_dir(str(tmp_path / "src"))
    out = str(tmp_path / "ok.ctp")
    pack_unsigned(src, out)
    return members(out)


def _bundle(tmp_path, mem: dict[str, bytes], name: str = "x.ctp") -> str:
    path = str(tmp_path / name)
    write_members(path, list(mem.items()))
    return path


@pytest.mark.parametrize("name,text,said", JSON_CASES, ids=JSON_IDS)
def test_verify_and_explain_of_a_hostile_statement(tmp_path, unsigned, name, text, said):
    mem = dict(unsigned)
    mem[B.ENVELOPE] = Envelope(text.encode()).to_bytes()
    path = _bundle(tmp_path, mem)
    line = f"error: x.ctp: release statement is not valid JSON: {said}"
    code, out, err = ct("--home", str(tmp_path / "h"), "verify", path)
    assert (code, out, only_error(err)) == (10, "", line)
    code, out, err = ct("--home", str(tmp_path / "h"), "explain", path)
    assert (code, err) == (10, "")
    assert f"status      MALFORMED (ct verify exits 10): {line[len('error: '):]}" in out.splitlines()


@pytest.mark.parametrize("name,text,said", JSON_CASES, ids=JSON_IDS)
def test_verify_of_a_hostile_envelope(tmp_path, unsigned, name, text, said):
    mem = dict(unsigned)
    mem[B.ENVELOPE] = text.encode()
    code, out, err = ct("--home", str(tmp_path / "h"), "verify", _bundle(tmp_path, mem))
    assert (code, only_error(err)) == (10, f"error: x.ctp: {B.ENVELOPE} is not valid JSON: {said}")


def test_verify_of_a_statement_with_a_surrogate_in_a_subject(tmp_path, unsigned):
    """A statement that is right in every other way: the surrogate used to reach the canonical check
    (a UnicodeEncodeError, exit 70)."""
    mem = dict(unsigned)
    st = Envelope.from_bytes(unsigned[B.ENVELOPE]).payload.decode()
    mem[B.ENVELOPE] = Envelope(st.replace('"name":"README"', '"name":"READ\\ud800ME"').encode()).to_bytes()
    path = _bundle(tmp_path, mem)
    code, out, err = ct("--home", str(tmp_path / "h"), "verify", path)
    assert (code, only_error(err)) == (10, "error: x.ctp: release statement is not valid JSON: "
                                           "a string holds a lone UTF-16 surrogate (not Unicode text)")


@pytest.mark.parametrize("toml,said", [
    ('format = "ct-bundle"\nformat_version = ' + BIG + "\n", "an integer is out of range"),
    ('format = "ct-bundle"\nx = ' + "[" * 10000 + "]" * 10000 + "\n", "it is nested more than 128 levels deep"),
    ('format = "ct-bundle"\nx = "\\uD800"\n',
     "Escaped character is not a Unicode scalar value (at line 2, column 12)"),
], ids=["5000 digits", "deep", "surrogate"])
def test_verify_and_explain_of_a_hostile_manifest(tmp_path, unsigned, toml, said):
    mem = dict(unsigned)
    mem[B.MANIFEST] = toml.encode()
    path = _bundle(tmp_path, mem)
    line = f"error: x.ctp: manifest.toml is not valid TOML: {said}"
    code, out, err = ct("--home", str(tmp_path / "h"), "verify", path)
    assert (code, out, only_error(err)) == (10, "", line)
    code, out, err = ct("--home", str(tmp_path / "h"), "explain", path)
    assert (code, err) == (10, "")
    assert f"status      MALFORMED (ct verify exits 10): {line[len('error: '):]}" in out.splitlines()


def test_manifest_files_of_the_wrong_type(tmp_path, unsigned):
    mem = dict(unsigned)
    mem[B.MANIFEST] = b'files = 5\nformat = "ct-bundle"\nformat_version = 1\n\n[package]\nname = "a"\nversion = "1"\n' \
        b'\n[source]\nkind = "dir"\n'
    code, out, err = ct("--home", str(tmp_path / "h"), "verify", _bundle(tmp_path, mem))
    assert (code, only_error(err)) == (10, "error: x.ctp: manifest.toml: files must be a list of objects")


def test_explain_escapes_untrusted_names(tmp_path):
    """A package name and a file name with escape sequences and a bidi override are printed escaped."""
    src = make_payload_dir(str(tmp_path / "src"))
    os.rename(os.path.join(src, "README"), os.path.join(src, "READ\u202eME.txt"))
    out = str(tmp_path / "n.ctp")
    pack_unsigned(src, out, name="app\u202e", version="1.0\u2066")
    code, text, err = ct("--home", str(tmp_path / "h"), "explain", out)
    assert code == 2  # unsigned
    assert "package     app\\u202e 1.0\\u2066" in text.splitlines()
    assert any(x.endswith("  READ\\u202eME.txt") for x in text.splitlines())
    assert all(x.isprintable() for x in text.splitlines())


# ---------------------------------------------------------------------- ct import --verify

@pytest.mark.parametrize("name,text,said", JSON_CASES, ids=JSON_IDS)
def test_import_of_a_tarball_with_a_hostile_index(tmp_path, name, text, said):
    path = str(tmp_path / "air.tar")
    write_members(path, [(airgap.INDEX_NAME, text.encode())])
    code, out, err = ct("--home", str(tmp_path / "host"), "import", path, "--verify")
    assert (code, only_error(err)) == (10, f"error: air.tar: index.json is not valid JSON: {said}")


@pytest.mark.parametrize("name,text,said", JSON_CASES, ids=JSON_IDS)
def test_import_of_a_tarball_with_a_hostile_bundle(tmp_path, unsigned, name, text, said):
    mem = dict(unsigned)
    mem[B.ENVELOPE] = Envelope(text.encode()).to_bytes()
    bundle = _bundle(tmp_path, mem, "rel.ctp")
    data = open(bundle, "rb").read()
    import hashlib

    name_in = "airgap/bundles/rel.ctp"
    index = airgap.make_index([airgap.Entry(name_in, "bundle", len(data), hashlib.sha256(data).hexdigest())])
    path = str(tmp_path / "air.tar")
    write_members(path, [(name_in, data), (airgap.INDEX_NAME, index)])
    code, out, err = ct("--home", str(tmp_path / "host"), "import", path, "--verify")
    assert (code, only_error(err)) == (10, f"error: rel.ctp: release statement is not valid JSON: {said}")


# ---------------------------------------------------------------------- ct ceremony status

@pytest.mark.parametrize("name,text,said", JSON_CASES, ids=JSON_IDS)
def test_ceremony_status_of_a_hostile_message(tmp_path, name, text, said):
    path = tmp_path / "m.ctm"
    path.write_bytes(text.encode())
    code, out, err = ct("ceremony", "status", str(path))
    assert (code, out) == (10, "")
    assert only_error(err) == f"error: message {path} is not valid JSON: {said}"


# ---------------------------------------------------------------------- keys and policies

# the command, with {f} for the hostile file; the document's name in the error line
KEY_AND_POLICY = [
    (("--home", "{d}/h", "key", "import", "{f}"), "public key file {f}"),
    (("policy", "show", "--policy", "{f}"), "policy {f}"),
    (("policy", "init", "--root", "{f}", "--policy", "{d}/p.json"), "{f}"),
]


@pytest.mark.parametrize("argv,doc", KEY_AND_POLICY, ids=["key import", "policy show", "policy init --root"])
@pytest.mark.parametrize("name,text,said", JSON_CASES, ids=JSON_IDS)
def test_keys_and_policies_of_a_hostile_file(tmp_path, argv, doc, name, text, said):
    path = tmp_path / "in.json"
    path.write_bytes(text.encode())
    code, out, err = ct(*(a.format(d=tmp_path, f=path) for a in argv))
    assert (code, out) == (10, "")
    assert only_error(err) == f"error: {doc.format(f=path)} is not valid JSON: {said}"
    assert not (tmp_path / "p.json").exists()


def test_policy_show_prints_untrusted_globs_escaped(tmp_path):
    path = tmp_path / "p.json"
    path.write_bytes(json.dumps({"type": "ct-policy", "version": 1, "signers": ["ops\x1b]0;pwned\x07"]},
                                separators=(",", ":")).encode())
    code, out, err = ct("policy", "show", "--policy", str(path))
    assert (code, err) == (0, "")
    assert all(x.isprintable() for x in out.splitlines())
    assert "ops\\x1b]0;pwned\\x07" in out


def test_error_lines_escape_untrusted_text(tmp_path, unsigned):
    """A member name cannot put a second 'error:' line or an escape sequence on the terminal."""
    mem = dict(unsigned)
    mem["signatures/zz\u202e"] = b"x"
    code, out, err = ct("--home", str(tmp_path / "h"), "verify", _bundle(tmp_path, mem))
    assert code == 10
    assert all(x.isprintable() for x in err.splitlines())


@pytest.mark.parametrize("layer,said", [
    ('digest = "sha256:aa"\n', "layers[0]: size must be an integer"),
    ('digest = "sha256:aa"\nplatform = ["linux"]\nsize = 1\n', "layers[0]: platform must be a string"),
], ids=["no size", "platform list"])
def test_explain_layers_of_the_wrong_type(tmp_path, unsigned, layer, said):
    """`ct explain --layers` formats a layer's size and platform: a missing size or a list used to raise."""
    mem = dict(unsigned)
    mem[B.MANIFEST] = unsigned[B.MANIFEST] + b"\n[[layers]]\n" + layer.encode()
    path = _bundle(tmp_path, mem)
    code, out, err = ct("--home", str(tmp_path / "h"), "explain", "--layers", path)
    assert (code, err) == (10, "")
    assert f"status      MALFORMED (ct verify exits 10): x.ctp: manifest.toml: {said}" in out.splitlines()


FOUND = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "fuzz", "corpus")


@pytest.mark.parametrize("corpus,argv,line", [
    # found by the `policy` target on main: an unknown field's name went raw into the error line
    ("policy/regress-found-control-char-in-field-name", ("policy", "show", "--policy", "{f}"),
     "error: policy {f} has unknown fields: min_ep\\x7fch, signeri"),
    # found by the `public_key` target on main: a bidi override in a field name, raw
    ("public_key/regress-found-bidi-in-field-name", ("--home", "{d}/h", "key", "import", "{f}"),
     "error: public key file {f} has unexpected fields: suite, s\\u202euite"),
    # found by the `status` target on main: a lone surrogate in a relayed reply (UnicodeEncodeError, exit 70)
    ("status/regress-found-surrogate-in-message", ("ceremony", "status", "{f}"),
     "error: message {f} is not valid JSON: a string holds a lone UTF-16 surrogate (not Unicode text)"),
], ids=["policy", "public_key", "status"])
def test_fuzz_findings(tmp_path, corpus, argv, line):
    path = tmp_path / "input"
    path.write_bytes(open(os.path.join(FOUND, corpus), "rb").read())
    code, out, err = ct(*(a.format(d=tmp_path, f=path) for a in argv))
    assert (code, out) == (10, "")
    assert only_error(err) == line.format(f=path)


def test_rotation_round2_relaying_shares_from_a_removed_member(tmp_path):
    """A coordinator relays, in a rotation's round-2 message, a (validly signed) shares reply from a member
    the rotation removes: the keyholder refuses it by name (it used to be a KeyError, exit 70)."""
    from ceremony_sim import PASS, Sim

    from cerro_torre.ceremony import keygen
    from cerro_torre.ceremony.protocol import make_bulletin, make_reply
    from cerro_torre.suites.errors import CeremonyError

    sim = Sim(str(tmp_path), ["alice", "bob", "carol"])
    rec1 = sim.keygen(["alice", "bob", "carol"], 2)
    req = keygen.open_keygen("coop", [sim.publics[n] for n in ("alice", "bob")], 2, previous=rec1)
    round1 = sim.round(req, ["alice", "bob"])
    replies = [sim.step(n, round1) for n in ("alice", "bob")]
    carol = sim.holders["carol"].home.load_private("carol", PASS)
    from cerro_torre.keys.identity import seal_to
    from cerro_torre.suites.encoding import b64e

    sealed = {"1": b64e(seal_to(sim.publics["alice"], bytes(32))), "2": b64e(seal_to(sim.publics["bob"], bytes(32)))}
    forged = make_reply(round1, "shares", "carol", {"shares": sealed}).signed_by(carol)
    round2 = make_bulletin(round1, "round2", replies + [forged], {})
    with pytest.raises(CeremonyError) as e:
        sim.step("alice", round2)
    assert e.value.message == "the shares reply from 'carol' comes from outside the new set"


def test_tui_error_lines_are_escaped_like_the_clis():
    from cerro_torre.suites.errors import Malformed
    from cerro_torre.tui.messages import error_lines

    assert error_lines(Malformed("bundle 'a\x1b[2J\u202eb' is bad", "hint\nerror: forged")) == [
        "error: bundle 'a\\x1b[2J\\u202eb' is bad", "hint: hint\\x0aerror: forged"]


def test_fuzz_finding_dealer_request_without_a_group_key(tmp_path, monkeypatch):
    """Found by the `message` target on the v2 ceremony code: a trusted-dealer request whose dealer object
    lacks group_public_key made a keyholder's step raise KeyError (exit 70)."""
    from cerro_torre.ceremony.message import Message

    monkeypatch.chdir(tmp_path)
    for n in ("alice", "bob"):
        assert ct("--home", f"home-{n}", "keygen", "--id", n)[0] == 0
        assert ct("--home", f"home-{n}", "key", "export", n, "--public", "-o", f"{n}.pub")[0] == 0
    assert ct("ceremony", "keygen", "-k", "2", "--name", "coop", "--dealer", "--member", "alice.pub",
              "--member", "bob.pub", "-o", "req.ctm")[0] == 0
    msg = Message.parse((tmp_path / "req.ctm").read_bytes())
    payload = dict(msg.payload, dealer={k: v for k, v in msg.payload["dealer"].items() if k != "group_public_key"})
    bad = Message(msg.ceremony, msg.kind, msg.round, msg.sender, payload)
    (tmp_path / "bad.ctm").write_bytes(bad.to_bytes())
    code, out, err = ct("--home", "home-alice", "ceremony", "step", "bad.ctm", "--yes", "-o", "r.ctm")
    assert (code, only_error(err)) == (
        10, "error: keygen request: dealer must have exactly group_public_key, shares and vss_commitment")
    assert not (tmp_path / "r.ctm").exists()
