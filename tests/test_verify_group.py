"""`ct verify` of bundles signed by a keyholder set (FROST group signature + ML-DSA-87 multisig),
with the chain from a pinned root (spec/keyholder-set.md, spec/bundle.md #Verification)."""

from __future__ import annotations

import json
import os
import re

import pytest
from test_bundle_support import cheap, coop  # noqa: F401 - fixtures
from test_bundle_support import Coop, ct, error_lines, make_payload_dir, pack_unsigned

from cerro_torre.ceremony import bundle as B
from cerro_torre.governance.keyholders import KeyholderSet


pytestmark = pytest.mark.usefixtures("cheap")


@pytest.fixture
def unsigned(tmp_path):
    out = str(tmp_path / "rel.ctp")
    pack_unsigned(make_payload_dir(str(tmp_path / "p")), out)
    return out


def pin(tmp_path, *records: KeyholderSet, **extra) -> str:
    path = str(tmp_path / "policy.json")
    args = ["policy", "init", "--policy", path, "--force"]
    for r in records:
        args += ["--root", r.fingerprint.full_hex]
    for k, v in extra.items():
        args += [f"--{k.replace('_', '-')}", str(v)]
    assert ct(*args)[0] == 0
    return path


def test_group_signed_bundle_verifies(tmp_path, coop, unsigned):
    out = str(tmp_path / "signed.ctp")
    coop.sign_bundle(unsigned, out, [coop.record])
    pol = pin(tmp_path, coop.record)
    code, stdout, err = ct("--home", str(tmp_path / "h"), "verify", out, "--policy", pol)
    assert (code, err) == (0, "")
    lines = stdout.splitlines()
    assert lines[0] == "ok: signed.ctp is valid"
    assert lines[2] == (f"  signed by   keyholder set 'coop' epoch 1 (CT-SIG-02, 2 of 3), fingerprint "
                        f"{coop.record.fingerprint.hex}")
    assert lines[3] == "  signatures  ed25519 1 of 1 required, 1 valid; ml-dsa-87 2 of 3 required, 2 valid"
    assert lines[4] == "  chain       epoch 1 (pinned) -> epoch 1, 1 record(s), expires 2099-01-01T00:00:00Z"
    assert lines[5] == "  stock       signify, minisign, ssh and SHA256SUMS signatures verified"


def test_any_k_of_n_members_can_sign(tmp_path, coop, unsigned):
    pol = pin(tmp_path, coop.record)
    for ids in ([1, 3], [2, 3], [1, 2, 3]):
        out = str(tmp_path / f"s{len(ids)}{ids[0]}.ctp")
        coop.sign_bundle(unsigned, out, [coop.record], ids=ids)
        code, stdout, _ = ct("verify", out, "--policy", pol)
        assert code == 0, ids
        assert f"ml-dsa-87 2 of 3 required, {len(ids)} valid" in stdout  # never "3 of 2"


def test_unpinned_set_is_exit_3(tmp_path, coop, unsigned):
    out = str(tmp_path / "signed.ctp")
    coop.sign_bundle(unsigned, out, [coop.record])
    code, _, err = ct("--home", str(tmp_path / "h"), "verify", out)
    assert code == 3
    fp = coop.record.fingerprint.hex
    assert err.splitlines() == [
        f"error: keyholder set 'coop' epoch 1 ({fp}) does not chain to a pinned root (chain starts at epoch 1, "
        f"fingerprint {fp})",
        "hint: pin the cooperative's root set after checking its fingerprint: 'ct policy init --root "
        "KEYHOLDERS.json' (or add it with 'ct policy add-root')"]


def test_home_policy_is_the_default(tmp_path, coop, unsigned):
    out = str(tmp_path / "signed.ctp")
    coop.sign_bundle(unsigned, out, [coop.record])
    home = str(tmp_path / "h")
    (tmp_path / "coop.json").write_bytes(coop.record.to_bytes())
    assert ct("--home", home, "policy", "init", "--root", str(tmp_path / "coop.json"))[0] == 0
    code, stdout, err = ct("--home", home, "verify", out)
    assert (code, err) == (0, "")
    assert stdout.splitlines()[-1] == f"  policy      policy {home}/policy.json"


def test_too_few_ml_dsa_signatures_is_exit_2(tmp_path, coop, unsigned):
    out = str(tmp_path / "signed.ctp")
    msgs = B.release_messages(unsigned)
    sigs = [coop.group_sign(msgs["dsse"])] + coop.mldsa_sign(msgs["dsse"], [2])
    B.add_signatures(unsigned, out, sigs, records=[coop.record])
    code, _, err = ct("verify", out, "--policy", pin(tmp_path, coop.record))
    assert code == 2
    assert err.splitlines() == [
        f"error: signed.ctp: release signatures by {coop.record.describe()}: ml-dsa-87 1 of 2",
        "hint: a signature does not match the statement: the bundle was altered after signing, "
        "or it was signed incompletely"]


def test_classical_cannot_make_up_for_post_quantum(tmp_path, coop, unsigned):
    """Three ML-DSA signatures never replace the missing FROST group signature, and vice versa."""
    pol = pin(tmp_path, coop.record)
    msgs = B.release_messages(unsigned)
    out = str(tmp_path / "pq-only.ctp")
    B.add_signatures(unsigned, out, coop.mldsa_sign(msgs["dsse"], [1, 2, 3]), records=[coop.record])
    code, _, err = ct("verify", out, "--policy", pol)
    assert code == 2
    assert error_lines(err) == [f"error: pq-only.ctp: release signatures by {coop.record.describe()}: ed25519 0 of 1"]
    out = str(tmp_path / "classic-only.ctp")
    B.add_signatures(unsigned, out, [coop.group_sign(msgs["dsse"], [1, 2, 3])], records=[coop.record])
    code, _, err = ct("verify", out, "--policy", pol)
    assert code == 2
    assert error_lines(err) == [
        f"error: classic-only.ctp: release signatures by {coop.record.describe()}: ml-dsa-87 0 of 2"]


def test_ct_sig_01_and_ct_sig_03_sets(tmp_path, unsigned):
    for suite in ("CT-SIG-01", "CT-SIG-03"):
        c = Coop(name=f"coop-{suite[-2:]}", suite=suite, n=2, k=2, prefix=suite[-1])
        c.self_signed()
        out = str(tmp_path / f"{suite}.ctp")
        c.sign_bundle(unsigned, out, [c.record])
        code, stdout, err = ct("verify", out, "--policy", pin(tmp_path, c.record))
        assert (code, err) == (0, ""), suite
        assert ("ed25519 1 of 1 required, 1 valid" in stdout) == (suite == "CT-SIG-01")
        assert ("ml-dsa-87 2 of 2 required, 2 valid" in stdout) == (suite == "CT-SIG-03")
    # CT-SIG-03 has no Ed25519 signature: nothing for stock tools
    code, _, err = ct("signature", "export", str(tmp_path / "CT-SIG-03.ctp"), "--format", "minisign",
                      "-o", str(tmp_path / "exp"))
    assert code == 21
    assert err.splitlines() == [
        "error: CT-SIG-03.ctp carries no stock-tool signatures (signatures/stock.json)",
        "hint: stock tools verify Ed25519 only, and this bundle has no Ed25519 signature (suite CT-SIG-03?)"]


def test_rotated_chain(tmp_path, coop, unsigned):
    c2 = Coop(name="coop", n=4, k=3, epoch=2, previous=coop.record, prefix="n")
    r2 = coop.rotate_to(c2)
    out = str(tmp_path / "e2.ctp")
    c2.sign_bundle(unsigned, out, [coop.record, r2])
    pol = pin(tmp_path, coop.record)
    code, stdout, err = ct("verify", out, "--policy", pol)
    assert (code, err) == (0, "")
    assert "  chain       epoch 1 (pinned) -> epoch 2, 2 record(s), expires 2099-01-01T00:00:00Z" in stdout
    assert "ml-dsa-87 3 of 4 required, 3 valid" in stdout
    code, stdout, _ = ct("explain", out, "--policy", pol, "--signers")
    lines = stdout.splitlines()
    i = lines.index("trust chain")
    assert lines[i + 1].startswith(f"  epoch 1    coop  CT-SIG-02  2 of 3  fingerprint {coop.record.fingerprint.hex}")
    assert lines[i + 2:i + 4] == [
        "             pinned root: ok",
        "             signed by its members: ed25519 1 of 1 required, 1 valid; ml-dsa-87 2 of 3 required, 2 valid"]
    assert lines[i + 4].startswith(f"  epoch 2    coop  CT-SIG-02  3 of 4  fingerprint {r2.fingerprint.hex}")
    assert lines[i + 5:i + 8] == [
        "             rotated from epoch 1: ok",
        "             signed by epoch 1: ed25519 1 of 1 required, 1 valid; ml-dsa-87 2 of 3 required, 2 valid",
        "             signed by its members: ed25519 1 of 1 required, 1 valid; ml-dsa-87 3 of 4 required, 3 valid"]
    # --signers: who signed and who did not, only the keys that count (no member's identity Ed25519 key)
    j = lines.index("signers")
    body = lines[j + 1:next(n for n, ln in enumerate(lines) if ln.startswith("trust from"))]
    assert body[0] == "  signed"
    assert re.fullmatch(r"    coop@2           group     fingerprint [0-9a-f ]{19}  words( [a-z]+){6}", body[1])
    assert re.fullmatch(r"        ed25519    keyid [0-9a-f]{32}", body[2])
    assert all("ed25519" not in ln for ln in body[3:])
    members = [ln for ln in body if re.match(r"    n\d", ln)]
    assert len(members) == 4 and all("member" in ln for ln in members)
    # the old set signing after the rotation: its keys are no longer the release key
    old = str(tmp_path / "old.ctp")
    coop.sign_bundle(unsigned, old, [coop.record, r2])
    code, _, err = ct("verify", old, "--policy", pol)
    assert code == 3
    (line,) = error_lines(err)
    assert line.startswith(f"error: old.ctp: release signatures by {r2.describe()}: ed25519 0 of 1 (keys not in the set: ")
    # pinning epoch 2 directly works too; a min_epoch of 2 refuses releases of epoch 1
    assert ct("verify", out, "--policy", pin(tmp_path, r2))[0] == 0
    e1 = str(tmp_path / "e1.ctp")
    coop.sign_bundle(unsigned, e1, [coop.record])
    code, _, err = ct("--home", str(tmp_path / "fresh"), "verify", e1,
                      "--policy", pin(tmp_path, coop.record, min_epoch=2))
    assert code == 4
    assert error_lines(err) == [f"error: keyholder set epoch 1 is below the minimum epoch 2 of policy "
                                f"{tmp_path / 'policy.json'}"]
    # this home verified epoch 2: without any min_epoch it refuses epoch 1's later release (tests/test_trust.py)
    code, _, err = ct("verify", e1, "--policy", pin(tmp_path, coop.record))
    assert code == 4
    assert error_lines(err)[0].startswith("error: e1.ctp: signed by epoch 1 of 'coop' after epoch 2 closed it")


def test_expired_set(tmp_path, unsigned):
    c = Coop(name="old", expires="2025-01-01T00:00:00Z", prefix="x")
    c.self_signed()
    out = str(tmp_path / "x.ctp")
    c.sign_bundle(unsigned, out, [c.record])
    code, _, err = ct("verify", out, "--policy", pin(tmp_path, c.record))
    assert code == 3
    assert err.splitlines() == [
        f"error: {c.record.describe()} expired at 2025-01-01T00:00:00Z",
        "hint: the cooperative must rotate to a new epoch; get a bundle signed by the current keyholder set"]


def test_chain_longer_than_the_limit_is_malformed(tmp_path, coop, unsigned):
    recs = []
    prev = None
    for e in range(1, 66):
        r = KeyholderSet(coop.record.name, e, coop.record.suite, 2, coop.record.created, coop.record.expires,
                         coop.record.group_public_key, coop.record.members,
                         (prev.epoch, prev.fingerprint.full_hex) if prev else None)
        recs.append(r)
        prev = r
    out = str(tmp_path / "long.ctp")
    B.add_signatures(unsigned, out, [], records=recs)
    code, _, err = ct("verify", out, "--policy", pin(tmp_path, recs[0]))
    assert code == 10
    assert err.splitlines() == ["error: keyholder chain has 65 records; the limit is 64",
                                "hint: a verifier refuses longer chains; pin a more recent epoch as root"]


def test_verify_json_for_a_group_bundle(tmp_path, coop, unsigned):
    out = str(tmp_path / "signed.ctp")
    coop.sign_bundle(unsigned, out, [coop.record])
    code, stdout, _ = ct("--json", "verify", out, "--policy", pin(tmp_path, coop.record))
    assert code == 0
    j = json.loads(stdout)
    assert j["signer"]["kind"] == "keyholder-set" and j["signer"]["epoch"] == 1
    assert j["release_threshold"]["per_alg"]["ml-dsa-87"]["threshold"] == 2
    assert [c["epoch"] for c in j["chain"]] == [1]
    assert j["stock"]["keyid"] == coop.record.group_keyid
    assert {s["signer"] for s in j["signatures"]} == {"group of coop epoch 1", "m1", "m2"}
    assert os.path.getsize(out) == j["size"]
