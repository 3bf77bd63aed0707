"""Pedersen DKG with proofs of knowledge, end to end: every message is
serialized and parsed again as it crosses between participants, and the
resulting group signature is checked with pyca/cryptography (OpenSSL)."""

from __future__ import annotations

import itertools

import nacl.bindings as sodium
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cerro_torre.suites import frost


def run_dkg(ids, t, ctx):
    """Drive a DKG with every package crossing as bytes; returns
    (key packages, public key packages, round-1 packages, round-1 secrets)."""
    n = len(ids)
    r1_secret, r1_wire = {}, {}
    for i in ids:
        secret, pkg = frost.dkg_part1(i, n, t, ctx)
        # the secret is stored between rounds, the package broadcast
        r1_secret[i] = frost.DkgRound1Secret.from_bytes(secret.to_bytes())
        r1_wire[i] = pkg.to_bytes()
    r1 = {i: frost.DkgRound1Package.from_bytes(b) for i, b in r1_wire.items()}

    r2_secret, to_send = {}, {}
    for i in ids:
        secret, shares = frost.dkg_part2(r1_secret[i], [r1[j] for j in ids if j != i], ctx)
        assert sorted(shares) == [j for j in ids if j != i]
        r2_secret[i] = frost.DkgRound2Secret.from_bytes(secret.to_bytes())
        to_send[i] = shares

    kps, pkps = {}, {}
    for i in ids:
        received = {j: to_send[j][i] for j in ids if j != i}
        kp, pkp = frost.dkg_part3(r2_secret[i], [r1[j] for j in ids if j != i], received)
        kps[i] = frost.KeyPackage.from_bytes(kp.to_bytes())
        pkps[i] = frost.PublicKeyPackage.from_bytes(pkp.to_bytes())
    return kps, pkps, r1, r1_secret


def sign_with(kps, pkp, signers, msg):
    nonces, wire = {}, []
    for i in signers:
        n, c = frost.commit(kps[i])
        nonces[i] = frost.SigningNonces.from_bytes(n.to_bytes())  # sealed at rest and back
        n.wipe()
        wire.append(c.to_bytes())
    commitments = sorted((frost.SigningCommitments.from_bytes(b) for b in wire),
                         key=lambda c: c.identifier)
    shares = [frost.SignatureShare.from_bytes(frost.sign(msg, commitments, nonces[i], kps[i]).to_bytes())
              for i in signers]
    for s in shares:
        frost.verify_signature_share(msg, commitments, s, pkp)
    return frost.aggregate(msg, commitments, shares, pkp)


def check_group(ids, t, kps, pkps, r1, r1_secret, ctx):
    pkp = pkps[ids[0]]
    assert set(pkp.verifying_shares) == set(ids) and pkp.min_signers == t
    for i in ids:
        assert pkps[i] == pkp  # everyone derived the same public data
        assert kps[i].identifier == i and kps[i].min_signers == t
        assert kps[i].group_public_key == pkp.group_public_key
        assert kps[i].verifying_share == pkp.verifying_shares[i]
        # independent: [s_i]B with PyNaCl's libsodium
        assert sodium.crypto_scalarmult_ed25519_base_noclamp(kps[i].signing_share) == kps[i].verifying_share
    # the coordinator's view from the round-1 packages alone
    assert frost.dkg_public_key_package(r1.values(), ctx) == pkp
    # the group secret is the sum of the constant terms, and PK = [secret]B
    secret = bytes(32)
    for i in ids:
        secret = sodium.crypto_core_ed25519_scalar_add(secret, r1_secret[i].coefficients[0])
    assert sodium.crypto_scalarmult_ed25519_base_noclamp(secret) == pkp.group_public_key


def test_dkg_3_of_5_end_to_end():
    ids, t, ctx = [1, 2, 3, 4, 5], 3, b"ct-ceremony-3of5"
    kps, pkps, r1, r1_secret = run_dkg(ids, t, ctx)
    check_group(ids, t, kps, pkps, r1, r1_secret, ctx)
    pk = Ed25519PublicKey.from_public_bytes(pkps[1].group_public_key)
    for signers in [(1, 2, 3), (2, 4, 5), (1, 3, 4, 5), (1, 2, 3, 4, 5)]:
        msg = f"release signed by {signers}".encode()
        sig = sign_with(kps, pkps[1], signers, msg)
        pk.verify(sig, msg)  # raises if invalid
        assert frost.verify(pkps[1].group_public_key, msg, sig)


def test_dkg_2_of_3_large_identifiers():
    ids, t, ctx = [300, 1000, 70000], 2, b"ct-ceremony-2of3"
    kps, pkps, r1, r1_secret = run_dkg(ids, t, ctx)
    check_group(ids, t, kps, pkps, r1, r1_secret, ctx)
    pk = Ed25519PublicKey.from_public_bytes(pkps[300].group_public_key)
    for signers in itertools.combinations(ids, 2):
        msg = b"artifact digest " + bytes(signers[0] % 256 for _ in range(4))
        sig = sign_with(kps, pkps[300], signers, msg)
        pk.verify(sig, msg)
    msg = b"all three"
    pk.verify(sign_with(kps, pkps[300], ids, msg), msg)


def test_dkg_identifiers_at_the_edges():
    ids, t, ctx = [1, 256, 2**32 - 1], 2, b""
    kps, pkps, r1, r1_secret = run_dkg(ids, t, ctx)
    check_group(ids, t, kps, pkps, r1, r1_secret, ctx)
    # identifiers are 32-byte little-endian scalars on the wire
    assert r1[2**32 - 1].to_bytes()[1:33] == bytes([255] * 4) + bytes(28)
    msg = b"edge"
    Ed25519PublicKey.from_public_bytes(pkps[1].group_public_key).verify(
        sign_with(kps, pkps[1], [256, 2**32 - 1], msg), msg)


def test_dkg_key_works_with_dealer_style_api():
    """A DKG key package signs alongside the same API a dealer's does, and
    a signature under fewer than t signers is refused before signing."""
    ids, t, ctx = [5, 6, 7, 8], 3, b"ct-ceremony-3of4"
    kps, pkps, _, _ = run_dkg(ids, t, ctx)
    nonces, commitments = {}, []
    for i in (5, 6):
        nonces[i], c = frost.commit(kps[i])
        commitments.append(c)
    with pytest.raises(frost.FrostError, match="fewer than the threshold 3"):
        frost.sign(b"m", commitments, nonces[5], kps[5])


def test_round_secrets_do_not_show_secrets_in_repr():
    secret, pkg = frost.dkg_part1(1, 3, 2, b"ctx")
    assert secret.coefficients[0].hex() not in repr(secret)
    r2, _ = frost.dkg_part2(secret, [frost.dkg_part1(i, 3, 2, b"ctx")[1] for i in (2, 3)], b"ctx")
    assert r2.own_share.hex() not in repr(r2)


def test_proof_of_knowledge_matches_spec():
    """Recompute the PoK challenge exactly as spec/frost.md §3 defines it and
    check the Schnorr equation with PyNaCl's libsodium."""
    import hashlib

    ctx = b"ceremony id \x00 with bytes"
    _, pkg = frost.dkg_part1(70000, 3, 2, ctx)
    R, mu = pkg.proof_of_knowledge[:32], pkg.proof_of_knowledge[32:]
    c0 = pkg.commitment[0]
    digest = hashlib.sha512(b"FROST-ED25519-SHA512-v1" + b"dkg-pok" + len(ctx).to_bytes(8, "little")
                            + ctx + (70000).to_bytes(32, "little") + c0 + R).digest()
    c = sodium.crypto_core_ed25519_scalar_reduce(digest)
    lhs = sodium.crypto_scalarmult_ed25519_base_noclamp(mu)
    rhs = sodium.crypto_core_ed25519_add(R, sodium.crypto_scalarmult_ed25519_noclamp(c, c0))
    assert lhs == rhs
