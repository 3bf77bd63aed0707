"""`ct verify` / `ct explain` for single-holder bundles, output forms, and the exit-code table."""

from __future__ import annotations

import json
import os
import re

import pytest
from test_bundle_support import REPO, ct, cheap_env, error_lines, make_oci

from cerro_torre.cli.info import topic_exit_codes


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.fixture
def signed(tmp_path):
    """alice (CT-SIG-02) packs an OCI image; `verifier` home imports and trusts alice's key."""
    home = str(tmp_path / "alice")
    verifier = str(tmp_path / "verifier")
    assert ct("--home", home, "keygen", "--id", "alice")[0] == 0
    make_oci(str(tmp_path / "img"))
    out = str(tmp_path / "hello.ctp")
    code, _, err = ct("--home", home, "pack", f"oci:{tmp_path / 'img'}:1.0", "-o", out, "--key", "alice")
    assert (code, err) == (0, "")
    assert ct("--home", home, "key", "export", "alice", "--public", "-o", str(tmp_path / "alice.pub"))[0] == 0
    assert ct("--home", verifier, "key", "import", str(tmp_path / "alice.pub"))[0] == 0
    return {"home": home, "verifier": verifier, "bundle": out, "tmp": tmp_path}


def test_verify_signed_by_the_packer_home(signed):
    code, out, err = ct("--home", signed["home"], "verify", signed["bundle"])
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "ok: hello.ctp is valid"
    assert lines[1] == "  package     hello 1.0"
    assert lines[2].startswith("  signed by   key 'alice' (CT-SIG-02), fingerprint ")
    assert lines[3] == "  signatures  ed25519 1 of 1 required, 1 valid; ml-dsa-87 1 of 1 required, 1 valid"
    assert lines[4] == "  stock       signify, minisign, ssh and SHA256SUMS signatures verified"


def test_imported_but_untrusted_key_is_exit_3(signed):
    code, out, err = ct("--home", signed["verifier"], "verify", signed["bundle"])
    assert (code, out) == (3, "")
    from cerro_torre.keys.home import Home

    fp = Home(signed["verifier"]).public("alice").fingerprint.hex
    assert err.splitlines() == [
        f"error: hello.ctp: signer key 'alice' ({fp}) is not trusted (trust level none)",
        "hint: check the fingerprint with its owner, then 'ct key import KEY.pub' and 'ct key trust alice trusted' "
        "(or pin it in a policy's \"keys\")"]
    assert ct("--home", signed["verifier"], "key", "trust", "alice", "trusted")[0] == 0
    code, out, err = ct("--home", signed["verifier"], "verify", signed["bundle"])
    assert (code, err) == (0, "")


def test_unknown_signer_is_exit_3(signed, tmp_path):
    code, _, err = ct("--home", str(tmp_path / "empty"), "verify", signed["bundle"])
    assert code == 3
    (line,) = error_lines(err)
    assert re.fullmatch(r"error: hello\.ctp: signer key 'alice' \([0-9a-f ]{19}\) is not trusted", line)


def test_key_pinned_in_policy_is_trusted(signed, tmp_path):
    pol = str(tmp_path / "p.json")
    assert ct("policy", "init", "--policy", pol, "--key", str(tmp_path / "alice.pub"))[0] == 0
    code, out, err = ct("--home", str(tmp_path / "empty"), "verify", signed["bundle"], "--policy", pol)
    assert (code, err) == (0, "")
    assert out.splitlines()[-1] == f"  policy      policy {pol}"


def test_same_name_different_key_is_called_out(signed, tmp_path):
    other = str(tmp_path / "other")
    assert ct("--home", other, "keygen", "--id", "alice")[0] == 0   # a different 'alice'
    code, _, err = ct("--home", other, "verify", signed["bundle"])
    assert code == 3
    (line,) = error_lines(err)
    assert re.fullmatch(r"error: hello\.ctp: signer key 'alice' \([0-9a-f ]{19}\) is not the key 'alice' you have "
                        r"\([0-9a-f ]{19}\)", line)


def test_unsigned_bundle_is_exit_2(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    assert ct("pack", str(tmp_path / "f"), "-o", str(tmp_path / "u.ctp"))[0] == 0
    code, _, err = ct("--home", str(tmp_path / "h"), "verify", str(tmp_path / "u.ctp"))
    assert code == 2
    assert err.splitlines() == [
        "error: u.ctp is not signed",
        "hint: sign it when packing ('ct pack ... --key ID') or in a ceremony ('ct ceremony sign')"]


def test_missing_bundle_is_21(tmp_path):
    code, _, err = ct("verify", str(tmp_path / "nope.ctp"))
    assert code == 21
    assert err.splitlines() == [f"error: bundle not found: {tmp_path / 'nope.ctp'}",
                                "hint: check the path of the .ctp file"]


def test_verify_json(signed):
    code, out, err = ct("--home", signed["home"], "--json", "verify", signed["bundle"])
    assert (code, err) == (0, "")
    j = json.loads(out)
    assert j["valid"] is True and j["exit_code"] == 0 and j["error"] is None
    assert j["steps"] == {"structure": "ok", "trust": "ok", "signatures": "ok", "policy": "none",
                          "integrity": "ok"}
    assert j["signer"]["name"] == "alice" and j["signer"]["kind"] == "key"
    assert all(f["verified"] for f in j["files"])
    # failure in --json: JSON on stdout, the error line on stderr, the exit code
    code, out, err = ct("--home", signed["verifier"], "--json", "verify", signed["bundle"])
    assert code == 3
    j = json.loads(out)
    assert (j["valid"], j["exit_code"], j["failed_step"]) == (False, 3, "trust")
    assert error_lines(err) == ["error: " + j["error"]]


def test_explain_layers_and_signers(signed):
    code, out, err = ct("--home", signed["home"], "explain", signed["bundle"], "--layers", "--signers")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("bundle      hello.ctp (")
    assert lines[1] == "package     hello 1.0"
    assert lines[2].startswith("source      oci  image docker.io/library/hello:1.0  manifests sha256:")
    assert "registry docker.io/library/hello" in lines[2] and lines[2].endswith("tag 1.0")
    assert any(ln.startswith("layers      2") for ln in lines)
    assert sum(1 for ln in lines if "application/vnd.oci.image.layer.v1.tar+gzip" in ln) == 2
    assert sum(1 for ln in lines if ln.endswith("  ok        oci-layout")) == 1
    assert any(re.fullmatch(r"  ed25519    keyid [0-9a-f]{32}  alice", ln) for ln in lines)
    assert any(re.fullmatch(r"  ml-dsa-87  keyid [0-9a-f]{32}  alice", ln) for ln in lines)
    i = lines.index("signers")
    assert lines[i + 1] == "  signed"
    assert re.fullmatch(r"    alice            key       fingerprint [0-9a-f ]{19}  words( [a-z]+){6}", lines[i + 2])
    assert re.fullmatch(r"        ed25519    keyid [0-9a-f]{32}", lines[i + 3])
    assert re.fullmatch(r"        ml-dsa-87  keyid [0-9a-f]{32}", lines[i + 4])
    assert lines[i + 5].startswith("trust from  ")
    assert lines[-2] == "checks      structure ok, trust ok, signatures ok, policy none, integrity ok"
    assert lines[-1] == "status      valid (ct verify exits 0)"


def test_explain_shows_why_a_bundle_is_not_trusted(signed):
    code, out, err = ct("--home", signed["verifier"], "explain", signed["bundle"])
    assert (code, err) == (3, "")   # the whole report, and the code ct verify exits with
    lines = out.splitlines()
    assert lines[-3] == "checks      structure ok, trust failed, signatures not checked, policy not checked, integrity ok"
    assert lines[-2].startswith("status      INVALID (ct verify exits 3): hello.ctp: signer key 'alice' (")
    assert lines[-1].startswith("            hint: check the fingerprint with its owner")


def test_explain_json_with_signers(signed):
    code, out, _ = ct("--home", signed["home"], "--json", "explain", signed["bundle"], "--signers")
    assert code == 0
    j = json.loads(out)
    assert j["signers"][0]["id"] == "alice"
    assert set(j["signers"][0]["keys"]) == {"ed25519", "ml-dsa-87"}
    assert len(j["layers"]) == 2


def test_explain_malformed_bundle(tmp_path):
    (tmp_path / "junk.ctp").write_bytes(b"not a tar at all")
    code, out, _ = ct("explain", str(tmp_path / "junk.ctp"))
    assert code == 10
    assert out.splitlines()[1:] == ["status      MALFORMED (ct verify exits 10): junk.ctp is not a tar archive",
                                    "            hint: is this a .ctp bundle?"]


# ------------------------------------------------------------------ exit codes: spec == ct help

def test_spec_exit_codes_match_ct_help():
    with open(os.path.join(REPO, "spec", "exit-codes.md"), encoding="utf-8") as f:
        text = f.read()
    table = text.split("| code | meaning |")[1].split("\n\n")[0]
    spec = [tuple(c.strip() for c in row.strip("|").split("|")) for row in table.strip().splitlines()[1:]]
    help_rows = [tuple(m.groups()) for m in re.finditer(r"^\s*(\d+)\s{2}(.+)$", topic_exit_codes(), re.M)]
    assert spec == help_rows
    assert [c for c, _ in spec][:6] == ["0", "1", "2", "3", "4", "10"]


def test_verify_help_lists_the_codes():
    code, out, _ = ct("help", "verify")
    assert code == 0
    assert "0 valid, 1 hash mismatch, 2 signature invalid, 3 key not trusted, 4 policy rejection, 10" in \
        " ".join(out.split())


def test_large_members_stream_through_the_mmap_window(tmp_path):
    """A payload bigger than the mmap window, at an offset that is not page-aligned: the digest
    is right, and one flipped byte past the first window is caught."""
    from cerro_torre.ceremony import bundle as B

    home = str(tmp_path / "h")
    assert ct("--home", home, "keygen", "--id", "big", "--suite", "CT-SIG-01")[0] == 0
    d = tmp_path / "src"
    d.mkdir()
    (d / "a.txt").write_bytes(b"small first member\n")          # shifts the big one off page alignment
    size = B.MMAP_WINDOW + (3 << 20) + 123
    data = bytearray(os.urandom(size))
    (d / "big.bin").write_bytes(bytes(data))
    out = tmp_path / "big.ctp"
    assert ct("--home", home, "pack", str(d), "-o", str(out), "--key", "big")[0] == 0
    code, stdout, err = ct("--home", home, "--json", "verify", str(out))
    assert (code, err) == (0, "")
    import hashlib

    files = {f["path"]: f for f in json.loads(stdout)["files"]}
    assert files["big.bin"]["sha256"] == hashlib.sha256(data).hexdigest() and files["big.bin"]["verified"]
    raw = bytearray(out.read_bytes())
    start = raw.index(bytes(data[:64]))
    assert start % 4096 != 0
    raw[start + B.MMAP_WINDOW + 1000] ^= 0x40
    out.write_bytes(bytes(raw))
    code, _, err = ct("--home", home, "verify", str(out))
    assert code == 1
    assert error_lines(err)[0].startswith("error: big.ctp: payload/big.bin sha256 ")
