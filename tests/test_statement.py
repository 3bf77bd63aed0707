"""Release statement (in-toto Statement v1) and DSSE envelope: spec/statement.md."""

from __future__ import annotations

import base64
import hashlib
import json
import os

import pytest
from test_bundle_support import VECTORS

from cerro_torre.ceremony.statement import (
    PAYLOAD_TYPE,
    PREDICATE_TYPE,
    STATEMENT_TYPE,
    Envelope,
    make_statement,
    pae,
    parse_statement,
)
from cerro_torre.suites.encoding import canonical_json
from cerro_torre.suites.errors import Malformed
from cerro_torre.keys.identity import IdentityKey
from cerro_torre.suites.suite import Signature


def load(name: str) -> dict:
    with open(os.path.join(VECTORS, name), "rb") as f:
        return json.load(f)


# ------------------------------------------------------------------ PAE: the DSSE spec's own example

def test_pae_matches_the_dsse_published_example():
    v = load("dsse-pae.json")
    assert pae(v["payloadType"], v["body"].encode()) == v["pae"].encode()
    env = v["envelope"]
    assert base64.b64decode(env["payload"]) == v["body"].encode()


def test_published_ecdsa_signature_verifies_over_our_pae():
    """The example's signature (ECDSA P-256, RFC 6979) verifies only over the exact PAE bytes."""
    from cryptography.exceptions import InvalidSignature
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec, utils

    v = load("dsse-pae.json")
    pub = ec.EllipticCurvePublicNumbers(int(v["ecdsa_p256_public"]["x"]), int(v["ecdsa_p256_public"]["y"]),
                                        ec.SECP256R1()).public_key()
    raw = base64.b64decode(v["envelope"]["signatures"][0]["sig"])
    der = utils.encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    ours = pae(v["envelope"]["payloadType"], base64.b64decode(v["envelope"]["payload"]))
    pub.verify(der, ours, ec.ECDSA(hashes.SHA256()))
    with pytest.raises(InvalidSignature):  # one byte of the length field off: must not verify
        pub.verify(der, ours.replace(b" 11 ", b" 12 "), ec.ECDSA(hashes.SHA256()))


@pytest.mark.parametrize("ptype,body,expected", [
    ("", b"", b"DSSEv1 0  0 "),
    ("application/vnd.ex\u00e4mple+json", b"{}", b"DSSEv1 29 application/vnd.ex\xc3\xa4mple+json 2 {}"),
    ("t", b"a b 1 c", b"DSSEv1 1 t 7 a b 1 c"),
])
def test_pae_lengths_are_byte_lengths(ptype, body, expected):
    assert pae(ptype, body) == expected


# ------------------------------------------------------------------ statement

def test_statement_vector_of_the_bundle():
    with open(os.path.join(VECTORS, "bundle", "expected", "statement.json"), "rb") as f:
        raw = f.read()
    st = parse_statement(raw)
    assert json.loads(raw)["_type"] == STATEMENT_TYPE
    assert [s.name for s in st.subjects] == ["README", "sub/caf\u00e9.txt", "sub/tool.sh"]
    assert st.predicate["package"] == {"name": "demo", "version": "1.0"}
    with open(os.path.join(VECTORS, "bundle", "expected", "manifest.toml"), "rb") as f:
        assert st.predicate["manifest"]["sha256"] == hashlib.sha256(f.read()).hexdigest()
    v = load("bundle/vector.json")
    assert hashlib.sha256(raw).hexdigest() == v["statement_sha256"]


def test_make_statement_sorts_and_is_canonical():
    a = make_statement([("b", "1" * 64), ("a", "2" * 64)], {"x": 1})
    b = make_statement([("a", "2" * 64), ("b", "1" * 64)], {"x": 1})
    assert a == b
    d = json.loads(a)
    assert [s["name"] for s in d["subject"]] == ["a", "b"]
    assert d["predicateType"] == PREDICATE_TYPE
    assert canonical_json(d) == a
    assert parse_statement(a).digests() == {"a": "2" * 64, "b": "1" * 64}


@pytest.mark.parametrize("mutate,msg", [
    (lambda d: d.update({"_type": "https://in-toto.io/Statement/v0.1"}), "is not an in-toto Statement v1"),
    (lambda d: d.update({"predicateType": "x"}), "has predicate type 'x'"),
    (lambda d: d.update({"extra": 1}), "unexpected fields: extra"),
    (lambda d: d["subject"].append(dict(d["subject"][0])), "duplicate subject 'a'"),
    (lambda d: d["subject"][0]["digest"].update({"sha512": "0"}), "subject 0 must be"),
    (lambda d: d["subject"][0]["digest"].update({"sha256": "A" * 64}), "subject 0 must be"),
    (lambda d: d["subject"].reverse(), "subjects are not sorted by name"),
])
def test_parse_statement_is_strict(mutate, msg):
    d = json.loads(make_statement([("a", "1" * 64), ("b", "2" * 64)], {}))
    mutate(d)
    with pytest.raises(Malformed) as e:
        parse_statement(canonical_json(d))
    assert msg in e.value.message


def test_parse_statement_refuses_non_canonical_json():
    raw = make_statement([("a", "1" * 64)], {})
    with pytest.raises(Malformed, match="not canonical JSON"):
        parse_statement(json.dumps(json.loads(raw), indent=1).encode())


# ------------------------------------------------------------------ envelope

def test_envelope_round_trip_and_signature_over_pae():
    key = IdentityKey.generate("alice", "CT-SIG-02")
    st = make_statement([("f", "3" * 64)], {"k": "v"})
    env = Envelope(st)
    env = env.with_signatures(key.sign(env.pae()))
    raw = env.to_bytes()
    assert raw.endswith(b"\n") and canonical_json(json.loads(raw)) + b"\n" == raw
    back = Envelope.from_bytes(raw)
    assert back.payload == st and back.payload_type == PAYLOAD_TYPE
    assert [s.alg for s in back.signatures] == ["ed25519", "ml-dsa-87"]
    assert key.public().verify(pae(PAYLOAD_TYPE, st), back.signatures).ok
    # adding the same signatures again changes nothing
    assert back.with_signatures(back.signatures).to_bytes() == raw


def test_envelope_accepts_url_safe_payload_as_dsse_requires():
    payload = b"\xfb\xff\xbf>?"
    d = {"payload": base64.urlsafe_b64encode(payload).decode(), "payloadType": PAYLOAD_TYPE, "signatures": []}
    assert "-" in d["payload"] or "_" in d["payload"]
    assert Envelope.from_bytes(json.dumps(d).encode()).payload == payload


@pytest.mark.parametrize("doc,msg", [
    ({"payload": "", "payloadType": "application/json", "signatures": []}, "has payload type 'application/json'"),
    ({"payload": "", "payloadType": PAYLOAD_TYPE}, "must have exactly payload, payloadType and signatures"),
    ({"payload": "!!", "payloadType": PAYLOAD_TYPE, "signatures": []}, "payload is not valid base64"),
    ({"payload": "", "payloadType": PAYLOAD_TYPE, "signatures": [{"sig": "AA=="}]}, "signature 0: signature object"),
])
def test_envelope_is_strict(doc, msg):
    with pytest.raises(Malformed) as e:
        Envelope.from_bytes(json.dumps(doc).encode())
    assert msg in e.value.message


def test_signature_objects_are_algorithm_agile():
    s = Signature("ml-dsa-87", "0" * 32, b"\1" * 4627)
    env = Envelope(b"{}", signatures=[s])
    d = json.loads(env.to_bytes())
    assert d["signatures"] == [{"alg": "ml-dsa-87", "keyid": "0" * 32, "sig": base64.b64encode(b"\1" * 4627).decode()}]
