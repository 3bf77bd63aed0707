"""policy.json and `ct policy ...` (spec/policy.md)."""

from __future__ import annotations

import json
import os

import pytest
from test_bundle_support import VECTORS, Coop, ct, cheap_env, error_lines

from cerro_torre.governance.policy import Policy
from cerro_torre.suites.encoding import canonical_json
from cerro_torre.suites.errors import Malformed

with open(os.path.join(VECTORS, "policy.json"), "rb") as _f:
    V = json.load(_f)


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.mark.parametrize("case", V["cases"])
def test_policy_decision_vectors(case):
    doc = {"type": "ct-policy", "version": 1, **case["policy"]}
    pol = Policy.from_bytes(canonical_json(doc), "p.json")
    broken = pol.check(**case["facts"])
    assert len(broken) == len(case["broken"])
    for err, want in zip(broken, case["broken"]):
        assert err.exit_code == 4
        assert err.message.startswith(want), (err.message, want)
        assert err.hints


@pytest.mark.parametrize("case", V["invalid_documents"], ids=lambda c: c["why"])
def test_invalid_policy_documents(case):
    with pytest.raises(Malformed):
        Policy.from_bytes(json.dumps(case["doc"]).encode())


def test_policy_file_is_canonical_and_sorted():
    p = Policy(signers=["b", "a", "a"], suites=["CT-SIG-03", "CT-SIG-02"])
    raw = p.to_bytes()
    d = json.loads(raw)
    assert canonical_json(d) + b"\n" == raw
    assert d["signers"] == ["a", "b"] and d["suites"] == ["CT-SIG-02", "CT-SIG-03"]


def test_globs_are_case_sensitive_and_star_crosses_slashes():
    p = Policy(registries=["docker.io/*"], signers=["Coop"])
    facts = dict(suite="CT-SIG-02", epoch=1, threshold=2, source_kind="oci")
    assert p.check(signer="Coop", registry="docker.io/library/nginx", **facts) == []
    assert len(p.check(signer="coop", registry="docker.io/library/nginx", **facts)) == 1


# ------------------------------------------------------------------ CLI

def test_policy_init_show_add(tmp_path):
    home = str(tmp_path / "home")
    coop = Coop()
    rec = coop.self_signed()
    (tmp_path / "coop.json").write_bytes(rec.to_bytes())
    code, out, err = ct("--home", home, "policy", "init", "--root", str(tmp_path / "coop.json"),
                        "--suite", "CT-SIG-02", "--min-threshold", "2")
    assert (code, err) == (0, "")
    path = os.path.join(home, "policy.json")
    assert out.splitlines() == [f"wrote policy {path}",
                                f"  pinned root: {rec.describe()}, words {rec.fingerprint.words}"]
    code, out, err = ct("--home", home, "policy", "add-signer", "coop*")
    assert (code, out) == (0, f"added signer 'coop*' in {path}\n")
    code, out, err = ct("--home", home, "policy", "add-signer", "coop*")
    assert (code, out) == (0, f"already present: signer 'coop*' in {path}\n")
    assert ct("--home", home, "policy", "add-registry", "docker.io/library/*")[0] == 0
    code, out, err = ct("--home", home, "--json", "policy", "show")
    assert code == 0
    pol = json.loads(out)["policy"]
    assert pol == {"type": "ct-policy", "version": 1, "roots": [rec.fingerprint.full_hex], "keys": [],
                   "suites": ["CT-SIG-02"], "signers": ["coop*"], "registries": ["docker.io/library/*"],
                   "min_epoch": 0, "min_threshold": 2}
    code, out, _ = ct("--home", home, "policy", "show")
    assert "  signers        coop*" in out.splitlines()
    # init again refuses to overwrite
    code, _, err = ct("--home", home, "policy", "init")
    assert code == 22
    assert error_lines(err) == [f"error: policy already exists: {path}"]


def test_policy_add_root_by_fingerprint_and_explicit_file(tmp_path):
    p = str(tmp_path / "p.json")
    assert ct("policy", "init", "--policy", p)[0] == 0
    fp = "ab" * 32
    code, out, _ = ct("policy", "add-root", fp, "--policy", p)
    assert code == 0 and out == f"added root fingerprint {fp} in {p}\n"
    code, _, err = ct("policy", "add-root", "abcd 1234", "--policy", p)
    assert code == 64
    assert err.splitlines() == ["error: 'abcd 1234' is not a full fingerprint",
                                "hint: give all 64 hex digits (the short form is for eyes only) or the file"]


def test_policy_commands_need_a_policy(tmp_path):
    code, _, err = ct("policy", "show", "--policy", str(tmp_path / "none.json"))
    assert code == 21
    assert err.splitlines() == [f"error: policy not found: {tmp_path / 'none.json'}",
                                "hint: create one with 'ct policy init'"]


def test_policy_init_with_bad_suite_is_usage_error(tmp_path):
    code, _, err = ct("policy", "init", "--policy", str(tmp_path / "p.json"), "--suite", "CT-SIG-9")
    assert code == 64
    assert error_lines(err) == ["error: unknown signature suite 'CT-SIG-9'"]
    assert not os.path.exists(tmp_path / "p.json")


def test_policy_init_pins_a_key_file(tmp_path):
    home = str(tmp_path / "h")
    assert ct("--home", home, "keygen", "--id", "rel")[0] == 0
    assert ct("--home", home, "key", "export", "rel", "--public", "-o", str(tmp_path / "rel.pub"))[0] == 0
    code, out, _ = ct("policy", "init", "--policy", str(tmp_path / "p.json"), "--key", str(tmp_path / "rel.pub"))
    assert code == 0 and "pinned key: key 'rel' (CT-SIG-02)" in out
    pol = Policy.load(str(tmp_path / "p.json"))
    from cerro_torre.keys.home import Home

    assert pol.keys == [Home(home).public("rel").fingerprint.full_hex]


def test_an_empty_glob_is_refused_as_an_argument(tmp_path):
    p = str(tmp_path / "p.json")
    assert ct("policy", "init", "--policy", p)[0] == 0
    before = open(p, "rb").read()
    for cmd, what, example in (("add-signer", "signer", "'ct policy add-signer \"coop*\"'"),
                               ("add-registry", "registry", "'ct policy add-registry \"docker.io/library/*\"'")):
        code, out, err = ct("policy", cmd, "", "--policy", p)
        assert (code, out) == (64, "")
        assert err.splitlines() == [f"error: the {what} glob is empty",
                                    f"hint: give a {what} name or a glob, e.g. {example}"]
    assert open(p, "rb").read() == before


def test_not_a_policy_says_what_it_is(tmp_path):
    """No Python None in the error: a file without "type" says so; a keyholder-set record given as the
    policy gets the command that pins it."""
    rec = tmp_path / "keyholders.json"
    rec.write_bytes(Coop().self_signed().to_bytes())
    other = tmp_path / "other.json"
    for doc, line, hint in (
            (rec.read_bytes(), 'it has no "type" field',
             "this is a keyholder-set record: pin it in a policy with 'ct policy init --root FILE', then give that "
             "policy"),
            (b'{"type":"ct-keyholder-set"}', "its type is 'ct-keyholder-set'", "create one with 'ct policy init'"),
            (b'{"type":7}', "its type is 7", "create one with 'ct policy init'"),
            (b'[1]', "it is not a JSON object", "create one with 'ct policy init'")):
        other.write_bytes(doc)
        code, out, err = ct("policy", "show", "--policy", str(other))
        assert (code, out) == (10, "")
        assert err.splitlines() == [f"error: policy {other} is not a ct policy ({line})", f"hint: {hint}"]
