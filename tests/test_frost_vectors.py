"""RFC 9591 Appendix E.1, FROST(Ed25519, SHA-512), reproduced step by step
through frost-py, with the final signature checked by two independent
Ed25519 verifiers (OpenSSL through pyca/cryptography, and the libsodium
bundled with PyNaCl) and the intermediate points recomputed with PyNaCl."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nacl.bindings as sodium
import nacl.exceptions
import nacl.signing
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cerro_torre.suites import frost

VECTOR = Path(__file__).parent / "vectors" / "rfc9591-frost-ed25519-sha512.json"
VECTOR_SHA256 = "1aa27908efa7f9388c4145059021fe71db971613bfd1f27467b1bb2da5d95c9c"
h = bytes.fromhex


@pytest.fixture(scope="module")
def v() -> dict:
    data = VECTOR.read_bytes()
    assert hashlib.sha256(data).hexdigest() == VECTOR_SHA256
    doc = json.loads(data)
    assert doc["config"]["name"] == "FROST(Ed25519, SHA-512)"
    assert doc["config"]["MIN_PARTICIPANTS"] == "2" and doc["config"]["MAX_PARTICIPANTS"] == "3"
    return doc


@pytest.fixture(scope="module")
def dealer(v) -> frost.DealerOutput:
    inp = v["inputs"]
    return frost.trusted_dealer_keygen(
        3, 2, secret=h(inp["group_secret_key"]),
        coefficients=[h(c) for c in inp["share_polynomial_coefficients"]])


@pytest.fixture(scope="module")
def key_packages(dealer) -> dict[int, frost.KeyPackage]:
    return {s.identifier: s.key_package(2) for s in dealer.shares}


def _round_one(v, key_packages):
    nonces, commitments = {}, []
    for o in v["round_one_outputs"]["outputs"]:
        n, c = frost.commit(key_packages[o["identifier"]], h(o["hiding_nonce_randomness"]),
                            h(o["binding_nonce_randomness"]))
        nonces[o["identifier"]] = n
        commitments.append(c)
    return nonces, commitments


def test_group_key_from_secret(v, dealer):
    inp = v["inputs"]
    assert dealer.group_public_key == h(inp["group_public_key"])
    assert dealer.vss_commitment[0] == h(inp["group_public_key"])
    # independent: [s]B with PyNaCl's libsodium
    assert sodium.crypto_scalarmult_ed25519_base_noclamp(h(inp["group_secret_key"])) == dealer.group_public_key
    assert dealer.vss_commitment[1] == sodium.crypto_scalarmult_ed25519_base_noclamp(
        h(inp["share_polynomial_coefficients"][0]))


def test_dealer_shares_from_polynomial(v, dealer):
    expected = {s["identifier"]: s["participant_share"] for s in v["inputs"]["participant_shares"]}
    assert [s.identifier for s in dealer.shares] == [1, 2, 3]
    for share in dealer.shares:
        assert share.signing_share.hex() == expected[share.identifier]
        share.verify()


def test_key_packages_and_public_key_package(v, dealer, key_packages):
    pkp = dealer.public_key_package()
    assert pkp.group_public_key == h(v["inputs"]["group_public_key"])
    assert pkp.min_signers == 2
    for s in v["inputs"]["participant_shares"]:
        y = sodium.crypto_scalarmult_ed25519_base_noclamp(h(s["participant_share"]))
        assert pkp.verifying_shares[s["identifier"]] == y
        kp = key_packages[s["identifier"]]
        assert kp.verifying_share == y and kp.group_public_key == pkp.group_public_key
        assert kp.min_signers == 2


@pytest.mark.parametrize("index", [0, 1])
def test_round_one_nonces_and_commitments(v, key_packages, index):
    o = v["round_one_outputs"]["outputs"][index]
    nonces, commitments = _round_one(v, key_packages)
    c = commitments[index]
    assert c.identifier == o["identifier"]
    enc = nonces[o["identifier"]].to_bytes()  # 0x04 | hiding | binding | D | E
    assert enc[0] == 0x04 and len(enc) == 129
    assert enc[1:33].hex() == o["hiding_nonce"]
    assert enc[33:65].hex() == o["binding_nonce"]
    assert c.hiding.hex() == o["hiding_nonce_commitment"]
    assert c.binding.hex() == o["binding_nonce_commitment"]
    assert sodium.crypto_scalarmult_ed25519_base_noclamp(h(o["hiding_nonce"])) == c.hiding
    assert sodium.crypto_scalarmult_ed25519_base_noclamp(h(o["binding_nonce"])) == c.binding
    assert nonces[o["identifier"]].commitments(o["identifier"]) == c


def test_binding_factors(v, key_packages):
    _, commitments = _round_one(v, key_packages)
    factors = frost.compute_binding_factors(h(v["inputs"]["group_public_key"]),
                                            h(v["inputs"]["message"]), commitments)
    outputs = v["round_one_outputs"]["outputs"]
    assert [f.identifier for f in factors] == [o["identifier"] for o in outputs] == [1, 3]
    for f, o in zip(factors, outputs):
        assert f.input.hex() == o["binding_factor_input"]
        assert f.factor.hex() == o["binding_factor"]
        # H1 = SHA-512(contextString || "rho" || input) mod L, recomputed here
        digest = hashlib.sha512(b"FROST-ED25519-SHA512-v1rho" + f.input).digest()
        assert sodium.crypto_core_ed25519_scalar_reduce(digest) == f.factor


def test_signature_shares_and_final_signature(v, dealer, key_packages):
    msg = h(v["inputs"]["message"])
    nonces, commitments = _round_one(v, key_packages)
    pkp = dealer.public_key_package()
    shares = [frost.sign(msg, commitments, nonces[c.identifier], key_packages[c.identifier])
              for c in commitments]
    expected = {o["identifier"]: o["sig_share"] for o in v["round_two_outputs"]["outputs"]}
    assert {s.identifier: s.share.hex() for s in shares} == expected
    for s in shares:
        frost.verify_signature_share(msg, commitments, s, pkp)
    assert all(n.consumed for n in nonces.values())

    sig = frost.aggregate(msg, commitments, shares, pkp)
    assert sig.hex() == v["final_output"]["sig"]
    assert frost.verify(pkp.group_public_key, msg, sig) is True


def test_final_signature_independent_verifiers(v):
    pk = h(v["inputs"]["group_public_key"])
    msg = h(v["inputs"]["message"])
    sig = h(v["final_output"]["sig"])
    Ed25519PublicKey.from_public_bytes(pk).verify(sig, msg)  # OpenSSL
    assert nacl.signing.VerifyKey(pk).verify(msg, sig) == msg  # PyNaCl's libsodium
    assert frost.verify(pk, msg, sig) is True

    bad = bytearray(sig)
    bad[63] ^= 0x01
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(pk).verify(bytes(bad), msg)
    with pytest.raises(nacl.exceptions.BadSignatureError):
        nacl.signing.VerifyKey(pk).verify(msg, bytes(bad))
    assert frost.verify(pk, msg, bytes(bad)) is False
    assert frost.verify(pk, msg + b"!", sig) is False


def test_encodings_round_trip(v, dealer, key_packages):
    msg = h(v["inputs"]["message"])
    nonces, commitments = _round_one(v, key_packages)
    pkp = dealer.public_key_package()
    for s in dealer.shares:
        assert frost.SecretShare.from_bytes(s.to_bytes()) == s
    for kp in key_packages.values():
        enc = kp.to_bytes()
        assert len(enc) == 1 + 32 * 4 + 2 and enc[0] == 0x02
        assert frost.KeyPackage.from_bytes(enc) == kp
    assert frost.PublicKeyPackage.from_bytes(pkp.to_bytes()) == pkp
    for c in commitments:
        enc = c.to_bytes()
        assert enc[:33] == bytes([0x05, c.identifier]) + bytes(31)
        assert frost.SigningCommitments.from_bytes(enc) == c
    # nonces survive a round trip (as they would sealed at rest) and still sign
    restored = {i: frost.SigningNonces.from_bytes(n.to_bytes()) for i, n in nonces.items()}
    for n in nonces.values():
        n.wipe()
    shares = [frost.sign(msg, commitments, restored[c.identifier], key_packages[c.identifier])
              for c in commitments]
    for s in shares:
        assert frost.SignatureShare.from_bytes(s.to_bytes()) == s
    assert frost.aggregate(msg, commitments, shares, pkp).hex() == v["final_output"]["sig"]
