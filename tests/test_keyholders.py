"""Keyholder-set records and the rotation chain (spec/keyholder-set.md)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import os

import pytest
from test_bundle_support import VECTORS, Coop

from cerro_torre.governance.keyholders import (
    MAX_CHAIN,
    RECORD_PAYLOAD_TYPE,
    KeyholderSet,
    walk_chain,
)
from cerro_torre.ceremony.statement import pae
from cerro_torre.suites.encoding import canonical_json
from cerro_torre.suites.errors import KeyNotTrusted, Malformed, SignatureInvalid

NOW = dt.datetime(2030, 6, 1, tzinfo=dt.timezone.utc)


def load(name: str) -> dict:
    with open(os.path.join(VECTORS, name), "rb") as f:
        return json.load(f)


def t(s: str) -> dt.datetime:
    return dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.timezone.utc)


# ------------------------------------------------------------------ vectors

def test_keyholder_set_vector():
    v = load("keyholder-set.json")
    rec = KeyholderSet.from_body(v["body"])
    body = canonical_json(v["body"])
    assert rec.body_bytes() == body
    assert hashlib.sha256(body).hexdigest() == v["canonical_body_sha256"] == rec.fingerprint.full_hex
    assert rec.fingerprint.hex == v["fingerprint_hex"] and rec.fingerprint.words == v["fingerprint_words"]
    assert rec.message() == pae(RECORD_PAYLOAD_TYPE, body)
    assert hashlib.sha256(rec.message()).hexdigest() == v["message_sha256"]
    # the group key and shares are what FROST's trusted dealer makes from the fixed secret
    import sys

    sys.path.insert(0, VECTORS)
    from make_vectors import keyholder_members

    keys, dealer = keyholder_members()
    assert rec.group_public_key == dealer.group_public_key
    shares = dealer.public_key_package().verifying_shares
    assert [m.verification_share for m in rec.members] == [shares[1], shares[2], shares[3]]
    assert [m.identity for m in rec.members] == [k.public() for k in keys]


def _chain_case_id(case):
    return f"pin{len(case['pinned'])}-{case['now'][:4]}-{case.get('records', 'all')}"


@pytest.mark.parametrize("case", load("keyholder-chain.json")["cases"], ids=_chain_case_id)
def test_keyholder_chain_vector(case):
    v = load("keyholder-chain.json")
    recs = [KeyholderSet.from_bytes(r.encode()) for r in v["records"]]
    # records are stored byte-exact (canonical)
    assert [r.to_bytes().decode() for r in recs] == v["records"]
    chosen = [recs[i] for i in case["records"]] if "records" in case else recs
    res = walk_chain(chosen, set(case["pinned"]), t(case["now"]))
    if case["expect"] == 0:
        assert res.ok, res.error
        assert res.current.epoch == case["current_epoch"]
    else:
        assert res.error.exit_code == case["expect"]
        assert case["error_contains"] in res.error.message


# ------------------------------------------------------------------ records

def test_record_round_trip_and_strictness():
    c = Coop(n=3, k=2)
    rec = c.self_signed()
    raw = rec.to_bytes()
    back = KeyholderSet.from_bytes(raw)
    assert back == rec and back.to_bytes() == raw
    d = json.loads(raw)
    for mutate, msg in [
        (lambda d: d["body"].update({"threshold": 4}), "threshold must be between 1 and the 3 member(s)"),
        (lambda d: d["body"].update({"epoch": 0}), "epoch must be a positive integer"),
        (lambda d: d["body"].update({"expires": "2023-01-01T00:00:00Z"}), "expires must be after created"),
        (lambda d: d["body"].update({"created": "2024-01-01 00:00"}), "must be a UTC time"),
        (lambda d: d["body"].update({"group_public_key": None}), "group_public_key must be a base64 string"),
        (lambda d: d["body"]["members"].reverse(), "members must be sorted by index"),
        (lambda d: d["body"]["members"][1].update({"index": 1}), "duplicate member id or index"),
        (lambda d: d["body"]["members"][1].update({"identity": d["body"]["members"][0]["identity"]}),
         "identity is key 'm1', not 'm2'"),
        (lambda d: d["body"].update({"version": 2}), "unsupported version 2"),
        (lambda d: d["body"].update({"extra": 1}), "unexpected fields: extra"),
        (lambda d: d["body"].update({"previous": {"epoch": 1, "fingerprint": "xx"}}), "previous must be"),
        (lambda d: d["signatures"].reverse(), "is not canonical JSON"),
    ]:
        dd = json.loads(raw)
        mutate(dd)
        with pytest.raises(Malformed) as e:
            KeyholderSet.from_bytes(canonical_json(dd) + b"\n")
        assert msg in e.value.message, (msg, e.value.message)
    assert d["body"]["members"][0]["identity"]["type"] == "ct-identity-public"


def test_ct_sig_03_set_has_no_group_key_and_needs_ml_dsa_keys():
    c = Coop(suite="CT-SIG-03", n=2, k=2)
    rec = c.self_signed()
    assert rec.group_public_key is None and all(m.verification_share is None for m in rec.members)
    assert set(rec.requirements()) == {"ml-dsa-87"}
    d = json.loads(rec.to_bytes())
    d["body"]["suite"] = "CT-SIG-02"
    with pytest.raises(Malformed, match="must be a base64 string"):
        KeyholderSet.from_body(d["body"])
    c1 = Coop(suite="CT-SIG-01", n=2, k=2)
    d = json.loads(c1.self_signed().to_bytes())
    d["body"]["suite"] = "CT-SIG-02"
    d["body"]["group_public_key"] = d["body"]["group_public_key"]
    with pytest.raises(Malformed, match="a CT-SIG-02 set needs every member's ml-dsa-87 key"):
        KeyholderSet.from_body(d["body"])


# ------------------------------------------------------------------ rotation rules

@pytest.fixture(scope="module")
def chain():
    c1 = Coop(n=3, k=2, prefix="a")
    r1 = c1.self_signed()
    c2 = Coop(n=4, k=3, epoch=2, previous=r1, prefix="b")
    r2 = c1.rotate_to(c2)
    c3 = Coop(n=3, k=2, epoch=3, previous=r2, suite="CT-SIG-03", prefix="c")
    r3 = c2.rotate_to(c3)
    return c1, c2, c3, r1, r2, r3


def test_valid_three_epoch_chain_with_suite_change(chain):
    c1, c2, c3, r1, r2, r3 = chain
    res = walk_chain([r1, r2, r3], {r1.fingerprint.full_hex}, NOW)
    assert res.ok and res.current == r3
    assert [s.ok for s in res.steps] == [True, True, True]
    assert set(res.steps[2].by_previous.per_alg) == {"ed25519", "ml-dsa-87"}   # epoch 2's suite
    assert set(res.steps[2].own.per_alg) == {"ml-dsa-87"}                      # epoch 3's suite
    # pinning a later epoch skips the history before it
    res = walk_chain([r1, r2, r3], {r2.fingerprint.full_hex}, NOW)
    assert res.ok and [s.record.epoch for s in res.steps] == [2, 3]


def test_rotation_without_the_outgoing_threshold(chain):
    c1, c2, _c3, r1, _r2, _r3 = chain
    bad = Coop(n=4, k=3, epoch=2, previous=r1, prefix="x")
    rec = c1.rotate_to(bad, old_sign=False)
    res = walk_chain([r1, rec], {r1.fingerprint.full_hex}, NOW)
    # only the new set signed itself: nothing of epoch 1 (its own keys are not listed as strangers)
    assert isinstance(res.error, SignatureInvalid)
    assert res.error.message == (f"{rec.describe()} is not signed by the threshold of epoch 1: "
                                 "ed25519 0 of 1; ml-dsa-87 0 of 2")


def test_rotation_signed_by_strangers_is_not_trusted(chain):
    _c1, _c2, _c3, r1, _r2, _r3 = chain
    stranger = Coop(prefix="s")
    nxt = Coop(n=3, k=2, epoch=2, previous=r1, prefix="w")
    msg = nxt.unsigned.message()
    rec = nxt.unsigned.with_signatures(stranger.sign(msg) + nxt.sign(msg))
    res = walk_chain([r1, rec], {r1.fingerprint.full_hex}, NOW)
    assert isinstance(res.error, KeyNotTrusted)
    assert res.error.message.startswith(f"{rec.describe()} is not signed by the threshold of epoch 1: "
                                        f"ed25519 0 of 1 (keys not in the set: {stranger.record.group_keyid})")
    assert res.error.hints == ("the signers are not members of the previous set; the rotation was not "
                               "approved by it",)


def test_rotation_with_too_few_outgoing_ml_dsa_signatures(chain):
    c1, _c2, _c3, r1, _r2, _r3 = chain
    nxt = Coop(n=3, k=2, epoch=2, previous=r1, prefix="y")
    msg = nxt.unsigned.message()
    sigs = [c1.group_sign(msg)] + c1.mldsa_sign(msg, [1]) + nxt.sign(msg)
    rec = nxt.unsigned.with_signatures(sigs)
    res = walk_chain([r1, rec], {r1.fingerprint.full_hex}, NOW)
    assert isinstance(res.error, SignatureInvalid)
    assert res.error.message == f"{rec.describe()} is not signed by the threshold of epoch 1: ml-dsa-87 1 of 2"


def test_rotation_without_its_own_threshold(chain):
    c1, _c2, _c3, r1, _r2, _r3 = chain
    nxt = Coop(n=3, k=2, epoch=2, previous=r1, prefix="z")
    rec = c1.rotate_to(nxt, new_sign=False)
    res = walk_chain([r1, rec], {r1.fingerprint.full_hex}, NOW)
    assert res.error.message.startswith(f"{rec.describe()} is not signed by its own threshold: ed25519 0 of 1")


def test_invalid_signature_on_a_record_is_exit_2(chain):
    c1, _c2, _c3, r1, r2, _r3 = chain
    from cerro_torre.suites.suite import Signature

    sigs = list(r2.signatures)
    i = next(i for i, s in enumerate(sigs) if s.alg == "ed25519" and s.keyid == r1.group_keyid)
    s = sigs[i]
    sigs[i] = Signature(s.alg, s.keyid, bytes([s.sig[0] ^ 1]) + s.sig[1:])
    forged = KeyholderSet(r2.name, r2.epoch, r2.suite, r2.threshold, r2.created, r2.expires, r2.group_public_key,
                          r2.members, r2.previous, signatures=tuple(sigs))
    res = walk_chain([r1, forged], {r1.fingerprint.full_hex}, NOW)
    assert res.error.exit_code == 2
    assert f"ed25519 0 of 1 (invalid: group of coop epoch 1)" in res.error.message


def test_previous_link_must_match(chain):
    c1, _c2, _c3, r1, _r2, _r3 = chain
    other_root = Coop(prefix="o").self_signed()
    nxt = Coop(n=3, k=2, epoch=2, previous=other_root, prefix="p")
    rec = c1.rotate_to(nxt)
    res = walk_chain([r1, rec], {r1.fingerprint.full_hex}, NOW)
    assert res.error.exit_code == 3
    assert res.error.message == (f"{rec.describe()} does not name epoch 1 ({r1.fingerprint.hex}) "
                                 "as its previous set")


def test_epochs_only_increase(chain):
    _c1, _c2, _c3, r1, r2, _r3 = chain
    res = walk_chain([r2, r1], {r1.fingerprint.full_hex}, NOW)
    assert isinstance(res.error, Malformed)
    assert res.error.message == "keyholder chain: epoch 1 follows epoch 2; epochs only increase"
    res = walk_chain([r1, r1], {r1.fingerprint.full_hex}, NOW)
    assert res.error.message == "keyholder chain: epoch 1 follows epoch 1; epochs only increase"


def test_chain_length_limit(chain):
    _c1, _c2, _c3, r1, r2, r3 = chain
    res = walk_chain([r1, r2, r3], {r1.fingerprint.full_hex}, NOW, max_len=2)
    assert isinstance(res.error, Malformed)
    assert res.error.message == "keyholder chain has 3 records; the limit is 2"
    assert MAX_CHAIN == 64


def test_expired_current_set_but_expired_history_is_fine():
    c1 = Coop(expires="2026-01-01T00:00:00Z", prefix="e")
    r1 = c1.self_signed()
    c2 = Coop(epoch=2, previous=r1, created="2025-06-01T00:00:00Z", expires="2031-01-01T00:00:00Z", prefix="f")
    r2 = c1.rotate_to(c2)
    assert walk_chain([r1, r2], {r1.fingerprint.full_hex}, NOW).ok       # epoch 1 expired, rotated out: fine
    res = walk_chain([r1], {r1.fingerprint.full_hex}, NOW)
    assert res.error.exit_code == 3
    assert res.error.message == f"{r1.describe()} expired at 2026-01-01T00:00:00Z"
    assert res.error.hints == ("the cooperative must rotate to a new epoch; get a bundle signed by the "
                               "current keyholder set",)
