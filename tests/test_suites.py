"""Signatures, suites and per-algorithm threshold evaluation; identity keys; ML-DSA backends; KATs."""

from __future__ import annotations

import base64
import hashlib
import json

import pytest

from cerro_torre.suites import ed25519, mldsa, selftest_parts
from cerro_torre.suites.encoding import canonical_json
from cerro_torre.suites.errors import Malformed, NotFound, UsageError
from cerro_torre.keys.identity import IdentityKey, IdentityPublic, seal_to, validate_id
from cerro_torre.suites.suite import (
    SUITES,
    AlgResult,
    Requirement,
    Signature,
    Suite,
    evaluate,
    get_suite,
    keyid_of,
    verify_signature,
)

MSG = b"release statement: ct 1.0.0"


# ------------------------------------------------------------------ helpers

class Ed:
    def __init__(self, n: int) -> None:
        self.seed = hashlib.sha256(b"ed%d" % n).digest()
        self.pk = ed25519.public_from_seed(self.seed)
        self.keyid = hashlib.sha256(self.pk).hexdigest()[:32]

    def sign(self, msg: bytes = MSG) -> Signature:
        return Signature("ed25519", self.keyid, ed25519.sign(self.seed, msg))


class Ml:
    def __init__(self, n: int, alg: str = "ml-dsa-87") -> None:
        self.alg = alg
        self.key = mldsa.MLDSAPrivateKey(alg, hashlib.sha256(b"ml%d" % n).digest())
        self.pk = self.key.public_bytes()
        self.keyid = hashlib.sha256(self.pk).hexdigest()[:32]

    def sign(self, msg: bytes = MSG) -> Signature:
        return Signature(self.alg, self.keyid, self.key.sign(msg))


@pytest.fixture(scope="module")
def eds():
    return [Ed(i) for i in range(4)]


@pytest.fixture(scope="module")
def mls():
    return [Ml(i) for i in range(4)]


def req(threshold, holders):
    return Requirement(threshold, {h.keyid: h.pk for h in holders})


def flip(sig: Signature) -> Signature:
    b = bytearray(sig.sig)
    b[7] ^= 0x40
    return Signature(sig.alg, sig.keyid, bytes(b))


# ------------------------------------------------------------------ keyid, verify_signature

def test_keyid_rule_is_sha256_prefix_hex():
    pk = bytes(range(32))
    assert keyid_of(pk) == hashlib.sha256(pk).hexdigest()[:32]
    assert len(keyid_of(pk)) == 32


@pytest.mark.parametrize("alg", ["ml-dsa-44", "ml-dsa-65", "ml-dsa-87"])
def test_mldsa_parameter_sets_sign_and_verify(alg):
    m = Ml(9, alg)
    s = m.sign()
    assert len(m.pk) == mldsa.SIZES[alg][0]
    assert len(s.sig) == mldsa.SIZES[alg][1]
    assert verify_signature(alg, m.pk, MSG, s.sig)
    assert not verify_signature(alg, m.pk, MSG + b"x", s.sig)
    assert not verify_signature(alg, m.pk, MSG, flip(s).sig)


def test_mldsa_seed_is_deterministic_and_signing_hedged():
    a = mldsa.MLDSAPrivateKey("ml-dsa-87", b"\x07" * 32)
    b = mldsa.MLDSAPrivateKey("ml-dsa-87", b"\x07" * 32)
    assert a.public_bytes() == b.public_bytes()
    s1, s2 = a.sign(MSG), a.sign(MSG)
    assert s1 != s2  # hedged signing
    assert mldsa.verify("ml-dsa-87", a.public_bytes(), MSG, s1)
    assert mldsa.verify("ml-dsa-87", a.public_bytes(), MSG, s2)
    assert "secret" in repr(a) and (b"\x07" * 32).hex() not in repr(a)


def test_verify_signature_never_raises_on_bad_input(eds, mls):
    e, m = eds[0], mls[0]
    es, ms = e.sign(), m.sign()
    assert verify_signature("ed25519", e.pk, MSG, es.sig)
    assert verify_signature("ml-dsa-87", m.pk, MSG, ms.sig)
    # wrong sizes
    assert not verify_signature("ed25519", e.pk[:31], MSG, es.sig)
    assert not verify_signature("ed25519", e.pk, MSG, es.sig + b"\0")
    assert not verify_signature("ml-dsa-87", m.pk[:-1], MSG, ms.sig)
    assert not verify_signature("ml-dsa-87", m.pk, MSG, ms.sig[:-1])
    assert not verify_signature("ml-dsa-87", b"", MSG, b"")
    # cross-algorithm confusion
    assert not verify_signature("ml-dsa-87", e.pk, MSG, es.sig)
    assert not verify_signature("ed25519", m.pk, MSG, ms.sig)
    assert not verify_signature("ml-dsa-65", m.pk, MSG, ms.sig)
    # unknown algorithm, garbage types
    assert not verify_signature("rsa", e.pk, MSG, es.sig)
    assert not verify_signature("ed25519", None, MSG, es.sig)  # type: ignore[arg-type]
    # flipped bits, other key, other message
    assert not verify_signature("ed25519", e.pk, MSG, flip(es).sig)
    assert not verify_signature("ml-dsa-87", m.pk, MSG, flip(ms).sig)
    assert not verify_signature("ed25519", eds[1].pk, MSG, es.sig)
    assert not verify_signature("ml-dsa-87", mls[1].pk, MSG, ms.sig)
    # an all-zero (small-order) Ed25519 key with an all-zero signature is rejected
    assert not verify_signature("ed25519", bytes(32), MSG, bytes(64))


# ------------------------------------------------------------------ Signature JSON

def test_signature_json_round_trip(eds, mls):
    for s in (eds[0].sign(), mls[0].sign()):
        d = s.to_json()
        assert set(d) == {"alg", "keyid", "sig"}
        assert base64.b64decode(d["sig"]) == s.sig
        assert Signature.from_json(json.loads(json.dumps(d))) == s


def test_signature_from_json_is_strict(eds):
    good = eds[0].sign().to_json()
    bad_cases = [
        ({**good, "alg": "rsa-pss"}, "unknown signature algorithm 'rsa-pss'"),
        ({**good, "alg": "ED25519"}, "unknown signature algorithm 'ED25519'"),
        ({**good, "extra": 1}, "signature object: unknown field(s) extra"),
        ({"alg": "ed25519", "sig": good["sig"]}, "signature object: missing field(s) keyid"),
        ({**good, "keyid": good["keyid"].upper()}, "signature keyid must be 32 lowercase hex digits"),
        ({**good, "keyid": good["keyid"][:30]}, "signature keyid must be 32 lowercase hex digits"),
        ({**good, "sig": good["sig"].rstrip("=")}, "ed25519 signature is not valid base64"),
        ({**good, "sig": base64.b64encode(b"\0" * 63).decode()}, "ed25519 signature must be 64 bytes, got 63"),
        ({**good, "alg": "ml-dsa-87"}, "ml-dsa-87 signature must be 4627 bytes, got 64"),
        ("not an object", "signature must be a JSON object"),
    ]
    for d, msg in bad_cases:
        with pytest.raises(Malformed) as ei:
            Signature.from_json(d)
        assert ei.value.message == msg
        assert ei.value.exit_code == 10


# ------------------------------------------------------------------ suites

def test_suite_table():
    assert SUITES["CT-SIG-01"] == Suite("CT-SIG-01", ("ed25519",))
    assert SUITES["CT-SIG-02"] == Suite("CT-SIG-02", ("ed25519", "ml-dsa-87"))
    assert SUITES["CT-SIG-03"] == Suite("CT-SIG-03", ("ml-dsa-87",))
    assert get_suite("CT-SIG-02") is SUITES["CT-SIG-02"]


def test_get_suite_unknown():
    with pytest.raises(Malformed) as ei:
        get_suite("CT-SIG-04")
    assert ei.value.message == "unknown signature suite 'CT-SIG-04'"
    assert ei.value.hints == ("valid suites: CT-SIG-01, CT-SIG-02, CT-SIG-03",)
    with pytest.raises(UsageError) as ei:
        get_suite("ct-sig-02", usage=True)
    assert ei.value.exit_code == 64


def test_ct_sig_01_group_signature_threshold_one(eds):
    group = eds[0]
    reqs = {"ed25519": req(1, [group])}
    r = evaluate(SUITES["CT-SIG-01"], MSG, [group.sign()], reqs)
    assert r.ok
    assert r.per_alg["ed25519"] == AlgResult(1, (group.keyid,), (), (), 0)
    r = evaluate(SUITES["CT-SIG-01"], MSG, [], reqs)
    assert not r.ok and r.per_alg["ed25519"].missing == 1
    r = evaluate(SUITES["CT-SIG-01"], MSG, [eds[1].sign()], reqs)
    assert not r.ok and r.per_alg["ed25519"].unknown == (eds[1].keyid,)


def test_ct_sig_03_k_of_n(mls):
    reqs = {"ml-dsa-87": req(2, mls[:3])}
    suite = SUITES["CT-SIG-03"]
    r = evaluate(suite, MSG, [mls[0].sign()], reqs)
    assert not r.ok
    assert r.per_alg["ml-dsa-87"].signed == (mls[0].keyid,) and r.per_alg["ml-dsa-87"].missing == 1
    r = evaluate(suite, MSG, [mls[0].sign(), mls[2].sign()], reqs)
    assert r.ok and r.per_alg["ml-dsa-87"].missing == 0
    r = evaluate(suite, MSG, [s for s in (mls[0].sign(), mls[1].sign(), mls[2].sign())], reqs)
    assert r.ok and len(r.per_alg["ml-dsa-87"].signed) == 3


def test_ct_sig_02_ml_dsa_never_makes_up_for_missing_ed25519(eds, mls):
    suite = SUITES["CT-SIG-02"]
    reqs = {"ed25519": req(1, [eds[0]]), "ml-dsa-87": req(2, mls[:3])}
    # every ML-DSA member signs, no group signature
    r = evaluate(suite, MSG, [m.sign() for m in mls[:3]], reqs)
    assert not r.ok
    assert r.per_alg["ml-dsa-87"].ok and r.per_alg["ed25519"].missing == 1
    # an ML-DSA signature dressed up as an ed25519 one does not count either
    fake = Signature("ed25519", mls[0].keyid, mls[0].sign().sig[:64])
    r = evaluate(suite, MSG, [fake] + [m.sign() for m in mls[:3]], reqs)
    assert not r.ok and r.per_alg["ed25519"].unknown == (mls[0].keyid,)


def test_ct_sig_02_ed25519_never_makes_up_for_missing_ml_dsa(eds, mls):
    suite = SUITES["CT-SIG-02"]
    reqs = {"ed25519": req(1, [eds[0]]), "ml-dsa-87": req(2, mls[:3])}
    r = evaluate(suite, MSG, [eds[0].sign(), mls[0].sign()], reqs)
    assert not r.ok
    assert r.per_alg["ed25519"].ok
    assert r.per_alg["ml-dsa-87"].signed == (mls[0].keyid,) and r.per_alg["ml-dsa-87"].missing == 1
    # an ed25519 signature relabelled ml-dsa-87 under an ml-dsa keyid is simply invalid
    relabelled = Signature("ml-dsa-87", mls[1].keyid, eds[0].sign().sig)
    r = evaluate(suite, MSG, [eds[0].sign(), mls[0].sign(), relabelled], reqs)
    assert not r.ok and r.per_alg["ml-dsa-87"].invalid == (mls[1].keyid,)
    # both thresholds met
    r = evaluate(suite, MSG, [eds[0].sign(), mls[0].sign(), mls[1].sign()], reqs)
    assert r.ok
    assert r.explain() == []


def test_duplicates_count_once(mls):
    suite = SUITES["CT-SIG-03"]
    reqs = {"ml-dsa-87": req(2, mls[:3])}
    one = mls[0].sign()
    again = mls[0].sign()  # hedged: a different valid signature from the same key
    assert one.sig != again.sig
    r = evaluate(suite, MSG, [one, one, one, again], reqs)
    assert not r.ok
    assert r.per_alg["ml-dsa-87"].signed == (mls[0].keyid,)
    assert r.per_alg["ml-dsa-87"].missing == 1


def test_invalid_and_unknown_reported(eds, mls):
    suite = SUITES["CT-SIG-02"]
    reqs = {"ed25519": req(1, [eds[0]]), "ml-dsa-87": req(2, mls[:3])}
    sigs = [
        flip(eds[0].sign()),         # invalid ed25519 from the group key
        mls[3].sign(),               # ml-dsa key not in the set
        mls[3].sign(),               # reported once
        flip(mls[1].sign()),         # invalid ml-dsa from a member
        mls[2].sign(MSG + b"!"),     # member signed another message: invalid
        mls[0].sign(),               # valid
    ]
    r = evaluate(suite, MSG, sigs, reqs)
    assert not r.ok
    ed, ml = r.per_alg["ed25519"], r.per_alg["ml-dsa-87"]
    assert ed == AlgResult(1, (), (eds[0].keyid,), (), 1)
    assert ml == AlgResult(2, (mls[0].keyid,), (mls[1].keyid, mls[2].keyid), (mls[3].keyid,), 1)
    assert r.explain() == [
        f"ed25519: 0 of 1 required signatures verified; invalid from {eds[0].keyid}",
        f"ml-dsa-87: 1 of 2 required signatures verified; invalid from {mls[1].keyid}, {mls[2].keyid}; "
        f"unknown keys {mls[3].keyid}",
    ]
    j = r.to_json()
    assert j["ok"] is False and j["per_alg"]["ml-dsa-87"]["missing"] == 1


def test_invalid_then_valid_from_same_key_counts(mls):
    reqs = {"ml-dsa-87": req(1, mls[:1])}
    r = evaluate(SUITES["CT-SIG-03"], MSG, [flip(mls[0].sign()), mls[0].sign()], reqs)
    assert r.ok
    assert r.per_alg["ml-dsa-87"].signed == (mls[0].keyid,)
    assert r.per_alg["ml-dsa-87"].invalid == ()


def test_signatures_of_other_algorithms_are_ignored(eds, mls):
    m65 = Ml(5, "ml-dsa-65")
    reqs = {"ml-dsa-87": req(1, mls[:1])}
    r = evaluate(SUITES["CT-SIG-03"], MSG, [eds[0].sign(), m65.sign()], reqs)
    assert not r.ok
    assert r.ignored == ("ed25519", "ml-dsa-65")
    assert r.per_alg["ml-dsa-87"].missing == 1


def test_requirements_are_checked(eds, mls):
    suite = SUITES["CT-SIG-02"]
    with pytest.raises(Malformed, match="suite CT-SIG-02 needs a requirement for ml-dsa-87"):
        evaluate(suite, MSG, [], {"ed25519": req(1, [eds[0]])})
    with pytest.raises(Malformed, match="threshold must be a positive integer"):
        evaluate(SUITES["CT-SIG-01"], MSG, [], {"ed25519": req(0, [eds[0]])})
    with pytest.raises(Malformed, match="threshold 3 exceeds the 2 key"):
        evaluate(SUITES["CT-SIG-03"], MSG, [], {"ml-dsa-87": req(3, mls[:2])})
    # one key listed under a second name would count twice: refused
    with pytest.raises(Malformed, match="does not match its public key"):
        evaluate(SUITES["CT-SIG-03"], MSG, [],
                 {"ml-dsa-87": Requirement(2, {mls[0].keyid: mls[0].pk, "0" * 32: mls[0].pk})})
    with pytest.raises(Malformed, match="must be 2592 bytes"):
        evaluate(SUITES["CT-SIG-03"], MSG, [], {"ml-dsa-87": Requirement(1, {eds[0].keyid: eds[0].pk})})


# ------------------------------------------------------------------ identity keys

@pytest.mark.parametrize("suite,slots", [
    ("CT-SIG-01", {"ed25519", "x25519"}),
    ("CT-SIG-02", {"ed25519", "x25519", "ml-dsa-87"}),
    ("CT-SIG-03", {"ml-dsa-87", "x25519"}),
])
def test_identity_per_suite(suite, slots):
    k = IdentityKey.generate("alice", suite)
    pub = k.public()
    assert set(pub.keys) == slots
    sigs = k.sign(MSG)
    assert [s.alg for s in sigs] == list(SUITES[suite].algorithms)
    for s in sigs:
        assert s.keyid == hashlib.sha256(pub.keys[s.alg]).hexdigest()[:32] == pub.keyid(s.alg)
    assert pub.verify(MSG, sigs).ok
    assert not pub.verify(MSG + b"!", sigs).ok
    if len(sigs) == 2:  # hybrid: dropping either algorithm fails
        assert not pub.verify(MSG, sigs[:1]).ok
        assert not pub.verify(MSG, sigs[1:]).ok
    assert open_ok(k, pub)
    # private serialization round trip
    plain = k.private_bytes()
    k2 = IdentityKey.from_private_bytes(plain)
    assert k2.public() == pub
    assert "secret" in repr(k)


def open_ok(k: IdentityKey, pub: IdentityPublic) -> bool:
    return k.open_sealed(seal_to(pub, b"dkg share")) == b"dkg share"


def test_sealed_box_only_opens_for_recipient():
    a = IdentityKey.generate("alice", "CT-SIG-01")
    b = IdentityKey.generate("bob", "CT-SIG-01")
    box = seal_to(a.public(), b"share for alice")
    with pytest.raises(Malformed) as ei:
        b.open_sealed(box)
    assert ei.value.message == "sealed box does not open with key 'bob'"
    tampered = bytearray(box)
    tampered[-1] ^= 1
    with pytest.raises(Malformed):
        a.open_sealed(bytes(tampered))


def test_public_key_json(tmp_path):
    k = IdentityKey.generate("carol.ops-1", "CT-SIG-02")
    pub = k.public()
    doc = json.loads(pub.to_bytes())
    assert doc == {"type": "ct-identity-public", "version": 1, "id": "carol.ops-1", "suite": "CT-SIG-02",
                   "keys": {a: base64.b64encode(v).decode() for a, v in pub.keys.items()}}
    assert pub.to_bytes() == json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()
    assert pub.to_file_bytes() == pub.to_bytes() + b"\n"
    assert pub.fingerprint.digest == hashlib.sha256(pub.to_bytes()).digest()
    # formatting does not change the fingerprint: it is over the canonical form
    pretty = json.dumps(doc, indent=4).encode()
    assert IdentityPublic.from_bytes(pretty).fingerprint == pub.fingerprint


def test_public_key_json_strict():
    pub = IdentityKey.generate("dave", "CT-SIG-01").public()
    doc = pub.to_json()
    cases = [
        ({**doc, "type": "ct-identity-private"}, "public key is not a ct identity public key (its type is 'ct-identity-private')"),
        ({**doc, "version": 2}, "public key has unsupported version 2"),
        ({**doc, "extra": 1}, "public key has unexpected fields: extra"),
        ({**doc, "suite": "CT-SIG-02"}, "public key 'dave': a CT-SIG-02 identity has keys ed25519, ml-dsa-87, x25519, "
                                        "got ed25519, x25519"),
        ({**doc, "id": "Dave"}, "invalid key id 'Dave'"),
        ({**doc, "keys": {**doc["keys"], "rsa": "AA=="}}, "public key: unknown key type 'rsa'"),
        ({**doc, "keys": {**doc["keys"], "ed25519": base64.b64encode(b"\0" * 31).decode()}},
         "public key ed25519 key must be 32 bytes, got 31"),
    ]
    for d, msg in cases:
        with pytest.raises(Malformed) as ei:
            IdentityPublic.from_bytes(canonical_json(d))
        assert ei.value.message == msg
    with pytest.raises(NotFound, match="key 'dave' has no ml-dsa-87 key"):
        pub.keyid("ml-dsa-87")


@pytest.mark.parametrize("good", ["a", "0", "alice", "release-bot_2.key", "a" * 64])
def test_valid_ids(good):
    assert validate_id(good) == good


@pytest.mark.parametrize("bad", ["", "A", "-a", ".a", "_a", "a b", "a/b", "../x", "a" * 65, "ä", "a\n", 7])
def test_invalid_ids(bad):
    with pytest.raises(UsageError) as ei:
        validate_id(bad)
    assert ei.value.message == f"invalid key id {bad!r}"
    assert ei.value.hints == ("a key id is 1-64 characters: lowercase letters, digits, '.', '_' or '-', "
                              "starting with a letter or digit",)
    with pytest.raises(UsageError):
        IdentityKey.generate(bad)  # type: ignore[arg-type]


# ------------------------------------------------------------------ backends and KATs

def test_backends_report():
    b = mldsa.backends()
    assert b["openssl"]["available"] is True
    assert b["openssl"]["version"].startswith("OpenSSL ")
    assert b["openssl"]["algorithms"] == {"ml-dsa-44": True, "ml-dsa-65": True, "ml-dsa-87": True}
    assert isinstance(b["liboqs"]["available"], bool)
    assert isinstance(b["liboqs"]["detail"], str) and b["liboqs"]["detail"]
    json.dumps(b)  # serializable for `ct doctor --json`


def test_liboqs_absent_is_reported_not_raised(monkeypatch):
    monkeypatch.setattr(mldsa, "_probe_liboqs", lambda: (None, "no liboqs shared library found (test)"))
    mldsa._oqs_info.cache_clear()
    try:
        b = mldsa.backends()
        assert b["liboqs"] == {"available": False, "version": None, "detail": "no liboqs shared library found (test)"}
        with pytest.raises(Exception) as ei:
            mldsa.verify("ml-dsa-87", b"\0" * 2592, MSG, b"\0" * 4627, backend="liboqs")
        assert getattr(ei.value, "exit_code", None) == 30
    finally:
        mldsa._oqs_info.cache_clear()


def test_kats_pass():
    assert selftest_parts.mldsa_kat() is None
    assert selftest_parts.argon2id_kat() is None
    assert selftest_parts.ed25519_kat() is None
    from cerro_torre.keys import selftest as keys_selftest
    assert keys_selftest.seal_roundtrip() is None


def test_argon2id_kat_vector_independently():
    # RFC 9106 §5.3 through our raw Argon2id, and a changed input must change the tag
    from cerro_torre.suites.kdf import argon2id_raw

    tag = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"
    args = dict(time_cost=3, memory_kib=32, parallelism=4, secret=b"\x03" * 8, ad=b"\x04" * 12)
    assert bytes(argon2id_raw(b"\x01" * 32, b"\x02" * 16, **args)).hex() == tag
    assert bytes(argon2id_raw(b"\x01" * 32, b"\x02" * 16, **{**args, "ad": b"\x05" * 12})).hex() != tag
    # without secret/ad it equals argon2-cffi's high-level raw hash
    from argon2.low_level import Type, hash_secret_raw

    ours = bytes(argon2id_raw(b"pw", b"s" * 16, time_cost=2, memory_kib=64, parallelism=2))
    assert ours == hash_secret_raw(b"pw", b"s" * 16, 2, 64, 2, 32, Type.ID)


def test_mldsa_kat_detects_wrong_vector(monkeypatch):
    from cerro_torre.suites.errors import SelfTestFailed

    monkeypatch.setattr(selftest_parts, "_MLDSA87_KEYGEN_PK_SHA256", "00" * 32)
    with pytest.raises(SelfTestFailed, match="does not match the NIST ACVP vector"):
        selftest_parts.mldsa_kat()


def test_liboqs_library_without_python_package_is_reported(monkeypatch):
    import importlib.metadata

    monkeypatch.setattr(mldsa, "_probe_liboqs", lambda: ("/opt/fake/liboqs.so", "loaded"))
    try:
        importlib.metadata.version("liboqs-python")
        pytest.skip("liboqs-python is installed here")
    except importlib.metadata.PackageNotFoundError:
        pass
    mldsa._oqs_info.cache_clear()
    try:
        b = mldsa.backends()
        assert b["liboqs"]["available"] is False
        assert b["liboqs"]["detail"] == ("liboqs library present (/opt/fake/liboqs.so) but the liboqs-python "
                                         "package is not installed")
    finally:
        mldsa._oqs_info.cache_clear()


def test_repeated_invalid_signature_verified_once(mls, monkeypatch):
    import cerro_torre.suites.suite as suite_mod

    calls = []
    real = suite_mod.verify_signature
    monkeypatch.setattr(suite_mod, "verify_signature", lambda *a: calls.append(a[0]) or real(*a))
    bad = flip(mls[0].sign())
    r = evaluate(SUITES["CT-SIG-03"], MSG, [bad] * 50, {"ml-dsa-87": req(1, mls[:1])})
    assert not r.ok and r.per_alg["ml-dsa-87"].invalid == (mls[0].keyid,)
    assert len(calls) == 1


# ------------------------------------------------------------------ messages read as they go by (StreamedMessage)

# RFC 8032 §7.1 TEST 1, 2, 3: (public key, message, signature)
RFC8032 = [
    (selftest_parts._ED25519_PK, "", selftest_parts._ED25519_SIG),
    ("3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
     "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"),
    ("fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
     "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"),
]
L_ED = 2 ** 252 + 27742317777372353535851937790883648493


def chunked(msg: bytes, n: int = 3):
    from cerro_torre.suites.suite import StreamedMessage

    return StreamedMessage(lambda: (msg[i:i + n] for i in range(0, max(len(msg), 1), n)))


@pytest.mark.parametrize("pk,msg,sig", RFC8032)
def test_streamed_ed25519_verifies_the_rfc8032_vectors(pk, msg, sig):
    pk, msg, sig = bytes.fromhex(pk), bytes.fromhex(msg), bytes.fromhex(sig)
    assert ed25519.verify(pk, msg, sig) is True
    assert verify_signature("ed25519", pk, chunked(msg, 1), sig) is True
    assert ed25519.verify_chunks(pk, [msg], sig) is True
    assert verify_signature("ed25519", pk, chunked(msg + b"x"), sig) is False
    bad = bytearray(sig)
    bad[0] ^= 1
    assert verify_signature("ed25519", pk, chunked(msg), bytes(bad)) is False


def test_streamed_ed25519_agrees_with_libsodium_on_flipped_bits(eds):
    """Every single-bit change of the signature, key or message: the streamed check and libsodium's
    one-shot check give the same answer (False)."""
    msg = bytes(range(200))
    sig = ed25519.sign(eds[0].seed, msg)
    assert ed25519.verify_chunks(eds[0].pk, [msg[:77], msg[77:]], sig) is True
    for i in range(0, 64 * 8, 5):
        bad = bytearray(sig)
        bad[i // 8] ^= 1 << (i % 8)
        assert ed25519.verify_chunks(eds[0].pk, [msg], bytes(bad)) is ed25519.verify(eds[0].pk, msg, bytes(bad)) is False
    for i in range(0, 32 * 8, 7):
        pk = bytearray(eds[0].pk)
        pk[i // 8] ^= 1 << (i % 8)
        assert ed25519.verify_chunks(bytes(pk), [msg], sig) is ed25519.verify(bytes(pk), msg, sig) is False
    assert ed25519.verify_chunks(eds[1].pk, [msg], sig) is False


def test_streamed_ed25519_refuses_non_canonical_s_and_small_order_points(eds):
    """S + L (the same signature modulo L, malleated), the identity as R or as the public key: refused, as
    libsodium refuses them."""
    msg = b"release"
    sig = ed25519.sign(eds[0].seed, msg)
    s = int.from_bytes(sig[32:], "little") + L_ED
    assert s < 2 ** 256
    mall = sig[:32] + s.to_bytes(32, "little")
    assert ed25519.verify(eds[0].pk, msg, mall) is False
    assert ed25519.verify_chunks(eds[0].pk, [msg], mall) is False
    identity = (1).to_bytes(32, "little")
    assert ed25519.verify_chunks(eds[0].pk, [msg], identity + sig[32:]) is False
    assert ed25519.verify_chunks(identity, [msg], sig) is False
    assert ed25519.verify_chunks(eds[0].pk[:31], [msg], sig) is False
    assert ed25519.verify_chunks(eds[0].pk, [msg], sig[:63]) is False


def test_streamed_ml_dsa_verifies_over_mu(mls):
    """ML-DSA-87 over a message given in pieces (mu hashed as they go by): the one-shot signature verifies,
    a flipped bit, another message or another key does not."""
    msg = bytes(range(256)) * 40
    sig = mls[0].sign(msg).sig
    assert verify_signature("ml-dsa-87", mls[0].pk, chunked(msg, 999), sig) is True
    assert mldsa.verify_chunks("ml-dsa-87", mls[0].pk, [msg], sig) is True
    bad = bytearray(sig)
    bad[100] ^= 1
    assert verify_signature("ml-dsa-87", mls[0].pk, chunked(msg, 999), bytes(bad)) is False
    assert verify_signature("ml-dsa-87", mls[0].pk, chunked(msg + b"!", 999), sig) is False
    assert verify_signature("ml-dsa-87", mls[1].pk, chunked(msg, 999), sig) is False
    assert verify_signature("ml-dsa-87", mls[0].pk[:-1], chunked(msg), sig) is False


def test_a_streamed_message_is_read_once_per_signature_and_its_errors_propagate(eds, mls):
    from cerro_torre.suites.suite import StreamedMessage

    reads = []

    def chunks():
        reads.append(1)
        yield MSG

    sigs = [eds[0].sign(), mls[0].sign()]
    res = evaluate(SUITES["CT-SIG-02"], StreamedMessage(chunks), sigs,
                   {"ed25519": req(1, eds[:1]), "ml-dsa-87": req(1, mls[:1])})
    assert res.ok and len(reads) == 2

    def changed():
        yield MSG
        raise Malformed("b.ctp changed while it was being verified")

    with pytest.raises(Malformed, match="changed while it was being verified"):
        verify_signature("ed25519", eds[0].pk, StreamedMessage(changed), eds[0].sign().sig)


def test_streamed_ed25519_signing_gives_the_bytes_of_rfc8032_signing(eds):
    """Signing a message read twice as it goes by (never held) is RFC 8032 signing: TEST 1's signature from
    its secret key, and libsodium's one-shot signature of other messages, byte for byte."""
    sk = bytes.fromhex(selftest_parts._ED25519_SK)
    assert ed25519.sign_chunks(sk, lambda: iter(())).hex() == selftest_parts._ED25519_SIG
    for i, msg in enumerate([b"", b"r", bytes(range(256)) * 50, MSG]):
        seed = eds[i].seed
        assert ed25519.sign_chunks(seed, lambda: (msg[j:j + 97] for j in range(0, len(msg), 97))) \
            == ed25519.sign(seed, msg)
    reads = []

    def counted():
        reads.append(1)
        return [MSG]

    ed25519.sign_chunks(eds[0].seed, counted)
    assert len(reads) == 2


def test_streamed_ed25519_signing_refuses_a_message_that_changes_between_its_readings(eds):
    """Two passes that read different messages would reuse the nonce of the first: two such signatures
    with one first message solve for the secret scalar.  The attack, then the refusal."""
    seed = eds[0].seed
    _L = ed25519._L

    def two_faced(second: bytes):
        reads = []

        def chunks():
            reads.append(1)
            return [MSG] if len(reads) == 1 else [second]
        return chunks

    for second in (MSG + b"1", MSG + b"2"):
        with pytest.raises(Malformed) as e:
            ed25519.sign_chunks(seed, two_faced(second))
        assert e.value.message == "the message changed while it was being signed (its two readings differ)"
    # what the check prevents: S = r + k a with the r of MSG and k of each second message
    a = int.from_bytes(hashlib.sha512(seed).digest()[:32], "little")
    a = (a & ~7 & ((1 << 254) - 1)) | (1 << 254)
    r = int.from_bytes(hashlib.sha512(hashlib.sha512(seed).digest()[32:] + MSG).digest(), "little") % _L
    big_r = ed25519.sign(seed, MSG)[:32]
    pk = ed25519.public_from_seed(seed)
    sigs = []
    for second in (MSG + b"1", MSG + b"2"):
        k = int.from_bytes(hashlib.sha512(big_r + pk + second).digest(), "little") % _L
        sigs.append((k, (r + k * a) % _L))
    (k1, s1), (k2, s2) = sigs
    assert (s1 - s2) * pow(k1 - k2, -1, _L) % _L == a % _L

def test_streamed_ml_dsa_signing_verifies_one_shot(mls):
    """ML-DSA-87 signing over mu hashed as the pieces go by: the one-shot verifier accepts it, for that
    message only."""
    msg = bytes(range(256)) * 40
    sig = mls[0].key.sign_chunks(msg[i:i + 1000] for i in range(0, len(msg), 1000))
    assert mldsa.verify("ml-dsa-87", mls[0].pk, msg, sig) is True
    assert mldsa.verify("ml-dsa-87", mls[0].pk, msg + b"!", sig) is False


def test_an_identity_signs_a_streamed_message_as_it_signs_its_bytes(eds):
    from cerro_torre.suites.suite import StreamedMessage

    key = IdentityKey.generate("s", "CT-SIG-02")
    msg = bytes(range(200)) * 30
    streamed = key.sign(StreamedMessage(lambda: (msg[i:i + 333] for i in range(0, len(msg), 333))))
    whole = key.sign(msg)
    assert [s.alg for s in streamed] == ["ed25519", "ml-dsa-87"]
    assert streamed[0] == whole[0]             # Ed25519 is deterministic
    assert key.public().verify(msg, streamed).ok
