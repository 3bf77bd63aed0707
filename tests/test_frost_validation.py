"""frost-py input validation: every rule of spec/frost.md has a negative test
asserting the exception type, the culprit identifiers and the message."""

from __future__ import annotations

import nacl.bindings as sodium
import nacl.exceptions
import nacl.signing
import pytest
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from cerro_torre.suites import errors, frost

L = 2**252 + 27742317777372353535851937790883648493
P = 2**255 - 19
IDENTITY = bytes([1]) + bytes(31)
ORDER2 = (P - 1).to_bytes(32, "little")  # (0, -1)
ORDER8 = bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a")
NONCANON_IDENTITY = (P + 1).to_bytes(32, "little")  # y = 1 unreduced
NONCANON_Y3 = (P + 3).to_bytes(32, "little")  # on the curve, y = 3 unreduced
OFF_CURVE = (2).to_bytes(32, "little")  # no x with y = 2
MSG = b"release v1.2.3"


def le(x: int) -> bytes:
    return x.to_bytes(32, "little")


@pytest.fixture(scope="module")
def group():
    dealer = frost.trusted_dealer_keygen(5, 3)
    kps = {s.identifier: s.key_package() for s in dealer.shares}
    return dealer, kps, dealer.public_key_package()


def round_one(kps, ids):
    nonces, commitments = {}, []
    for i in ids:
        n, c = frost.commit(kps[i])
        nonces[i] = n
        commitments.append(c)
    return nonces, commitments


def signed_round(group, ids, msg=MSG):
    _, kps, pkp = group
    nonces, commitments = round_one(kps, ids)
    shares = [frost.sign(msg, commitments, nonces[i], kps[i]) for i in ids]
    return commitments, shares


def torsioned(p: bytes, t: bytes) -> bytes:
    return sodium.crypto_core_ed25519_add(p, t)


# -------------------------------------------------------------- error classes

def test_error_classes_and_exit_codes():
    assert issubclass(frost.FrostError, errors.Malformed) and frost.FrostError.exit_code == 10
    for cls in (frost.InvalidSignatureShare, frost.InvalidProof, frost.InvalidSecretShare):
        assert issubclass(cls, errors.SignatureInvalid) and cls.exit_code == 2
    assert issubclass(frost.NoncesConsumed, errors.CeremonyError)
    assert frost.NoncesConsumed.exit_code == 11


# ----------------------------------------------------------------- elements

def test_identity_point_rejected(group):
    _, kps, pkp = group
    enc = frost.SigningCommitments(1, IDENTITY, ORDER8).to_bytes()
    with pytest.raises(frost.FrostError) as e:
        frost.SigningCommitments.from_bytes(enc)
    assert str(e.value) == "signing commitments hiding commitment is the identity element"
    with pytest.raises(frost.FrostError, match="^group public key is the identity element$"):
        frost.verify(IDENTITY, MSG, bytes(64))
    with pytest.raises(frost.FrostError, match="^point is the identity element$"):
        frost.validate_point(IDENTITY)
    # bypassing the parser: the C library refuses it, and the binding names it
    nonces, commitments = round_one(kps, [1, 2, 3])
    commitments[2] = frost.SigningCommitments(3, IDENTITY, commitments[2].binding)
    with pytest.raises(frost.FrostError) as e:
        frost.compute_binding_factors(pkp.group_public_key, MSG, commitments)
    assert str(e.value) == "hiding commitment of participant 3 is the identity element"
    commitments[2] = frost.SigningCommitments(3, commitments[1].hiding, IDENTITY)
    with pytest.raises(frost.FrostError) as e:
        frost.sign(MSG, commitments, nonces[1], kps[1])
    assert str(e.value) == "binding commitment of participant 3 is the identity element"
    assert nonces[1].consumed


@pytest.mark.parametrize("point", [ORDER8, ORDER2], ids=["order8", "order2"])
def test_small_order_point_rejected(group, point):
    _, kps, pkp = group
    with pytest.raises(frost.FrostError) as e:
        frost.SigningCommitments.from_bytes(frost.SigningCommitments(1, point, point).to_bytes())
    assert str(e.value) == "signing commitments hiding commitment is not a point of the prime-order subgroup"
    with pytest.raises(frost.FrostError, match="^group public key is not a point of the prime-order subgroup$"):
        frost.verify(point, MSG, bytes(64))


@pytest.mark.parametrize("torsion", [ORDER8, ORDER2], ids=["P+T8", "P+T2"])
def test_torsioned_point_rejected(group, torsion):
    """P + T with T of small order: on the curve, outside the prime-order
    subgroup.  P + T2 is the CVE-2025-69277 case."""
    _, kps, pkp = group
    bad = torsioned(pkp.group_public_key, torsion)
    enc = frost.PublicKeyPackage(bad, pkp.verifying_shares, 3).to_bytes()
    with pytest.raises(frost.FrostError) as e:
        frost.PublicKeyPackage.from_bytes(enc)
    assert str(e.value) == "public key package group public key is not a point of the prime-order subgroup"
    commitments, shares = signed_round(group, [1, 2, 4])
    commitments[1] = frost.SigningCommitments(2, commitments[1].hiding,
                                              torsioned(commitments[1].binding, torsion))
    with pytest.raises(frost.FrostError) as e:
        frost.aggregate(MSG, commitments, shares, pkp)
    assert str(e.value) == "binding commitment of participant 2 is not a point of the prime-order subgroup"
    # a torsioned verifying share in the public key package: aggregate uses
    # the verifying shares only when the signature fails, share verification
    # always
    vs = dict(pkp.verifying_shares)
    vs[4] = torsioned(vs[4], torsion)
    bad_pkp = frost.PublicKeyPackage(pkp.group_public_key, vs, 3)
    commitments, shares = signed_round(group, [1, 2, 4])
    with pytest.raises(frost.FrostError) as e:
        frost.verify_signature_share(MSG, commitments, shares[2], bad_pkp)
    assert str(e.value) == "verifying share of participant 4 is not a point of the prime-order subgroup"
    shares[0] = frost.SignatureShare(1, le(1))
    with pytest.raises(frost.FrostError) as e:
        frost.aggregate(MSG, commitments, shares, bad_pkp)
    assert str(e.value) == "verifying share of participant 4 is not a point of the prime-order subgroup"
    with pytest.raises(frost.FrostError) as e:
        frost.PublicKeyPackage.from_bytes(bad_pkp.to_bytes())
    assert str(e.value) == ("public key package verifying share of participant 4 is not a point "
                            "of the prime-order subgroup")


@pytest.mark.parametrize("point", [NONCANON_IDENTITY, NONCANON_Y3], ids=["p+1", "p+3"])
def test_non_canonical_point_rejected(group, point):
    _, kps, pkp = group
    with pytest.raises(frost.FrostError, match="^point is not canonically encoded$"):
        frost.validate_point(point)
    enc = frost.DkgRound1Package(1, (point, pkp.group_public_key), bytes(64)).to_bytes()
    with pytest.raises(frost.FrostError) as e:
        frost.DkgRound1Package.from_bytes(enc)
    assert str(e.value) == "dkg round-1 package commitment point 0 is not canonically encoded"
    nonces, commitments = round_one(kps, [1, 2, 3])
    commitments[0] = frost.SigningCommitments(1, point, commitments[0].binding)
    with pytest.raises(frost.FrostError) as e:
        frost.sign(MSG, commitments, nonces[2], kps[2])
    assert str(e.value) == "hiding commitment of participant 1 is not canonically encoded"


def test_off_curve_point_rejected():
    with pytest.raises(frost.FrostError, match="^point is not a point of the prime-order subgroup$"):
        frost.validate_point(OFF_CURVE)


# ------------------------------------------------------------------ scalars

@pytest.mark.parametrize("value", [L, L + 1, 2**255 - 1, 2**256 - 1])
def test_scalar_not_below_order_rejected(group, value):
    _, kps, _ = group
    kp = kps[1]
    enc = frost.KeyPackage(1, le(value), kp.verifying_share, kp.group_public_key, 3).to_bytes()
    with pytest.raises(frost.FrostError) as e:
        frost.KeyPackage.from_bytes(enc)
    assert str(e.value) == "key package signing share is not a canonical scalar (not below the group order)"
    with pytest.raises(frost.FrostError) as e:
        frost.trusted_dealer_keygen(3, 2, secret=le(value))
    assert str(e.value) == "group secret key is not a canonical scalar (not below the group order)"
    with pytest.raises(frost.FrostError) as e:
        frost.trusted_dealer_keygen(3, 2, coefficients=[le(value)])
    assert str(e.value) == "coefficient 1 is not a canonical scalar (not below the group order)"
    with pytest.raises(frost.FrostError, match="^scalar is not a canonical scalar"):
        frost.validate_scalar(le(value))


def test_largest_canonical_scalar_accepted():
    assert frost.validate_scalar(le(L - 1)) == le(L - 1)


def test_zero_secret_rejected():
    with pytest.raises(frost.FrostError, match="^group secret key and coefficients must not be zero$"):
        frost.trusted_dealer_keygen(3, 2, secret=bytes(32))


def test_signature_with_non_canonical_z_rejected_by_all_verifiers(group):
    _, _, pkp = group
    commitments, shares = signed_round(group, [1, 3, 5])
    sig = frost.aggregate(MSG, commitments, shares, pkp)
    z = int.from_bytes(sig[32:], "little")
    bad = sig[:32] + le(z + L)  # the same z mod L
    assert frost.verify(pkp.group_public_key, MSG, bad) is False
    with pytest.raises(InvalidSignature):
        Ed25519PublicKey.from_public_bytes(pkp.group_public_key).verify(bad, MSG)
    with pytest.raises(nacl.exceptions.BadSignatureError):
        nacl.signing.VerifyKey(pkp.group_public_key).verify(MSG, bad)


def test_signature_with_torsioned_r_rejected(group):
    _, _, pkp = group
    commitments, shares = signed_round(group, [1, 3, 5])
    sig = frost.aggregate(MSG, commitments, shares, pkp)
    assert frost.verify(pkp.group_public_key, MSG, torsioned(sig[:32], ORDER8) + sig[32:]) is False
    with pytest.raises(frost.FrostError, match="^signature is 63 bytes, expected 64$"):
        frost.verify(pkp.group_public_key, MSG, sig[:63])


def test_non_canonical_signature_share_blames_signer(group):
    _, _, pkp = group
    commitments, shares = signed_round(group, [1, 3, 5])
    z = int.from_bytes(shares[1].share, "little")
    shares[1] = frost.SignatureShare(3, le(z + L))  # same value mod L, non-canonical
    with pytest.raises(frost.InvalidSignatureShare) as e:
        frost.aggregate(MSG, commitments, shares, pkp)
    assert e.value.identifiers == (3,)
    assert str(e.value) == "signature share from participant 3 is invalid"


# -------------------------------------------------------------- identifiers

def test_zero_identifier_rejected(group):
    _, kps, pkp = group
    c = frost.commit(kps[1])[1]
    with pytest.raises(frost.FrostError, match="^identifier is zero$"):
        frost.SigningCommitments(0, c.hiding, c.binding)
    with pytest.raises(frost.FrostError, match="^identifier is zero$"):
        frost.trusted_dealer_keygen(3, 2, identifiers=[0, 1, 2])
    with pytest.raises(frost.FrostError, match="^identifier is zero$"):
        frost.dkg_part1(0, 3, 2, b"ceremony")
    enc = bytearray(frost.SignatureShare(1, bytes(32)).to_bytes())
    enc[1] = 0
    with pytest.raises(frost.FrostError, match="^signature share encoding has an identifier out of range$"):
        frost.SignatureShare.from_bytes(bytes(enc))


def test_identifier_out_of_range():
    with pytest.raises(frost.FrostError, match="^identifier 4294967296 is out of range$"):
        frost.trusted_dealer_keygen(3, 2, identifiers=[1, 2, 2**32])
    with pytest.raises(frost.FrostError, match="^identifier must be an integer, not str$"):
        frost.SignatureShare("1", bytes(32))


def test_duplicate_identifiers_in_commitment_list(group):
    _, kps, pkp = group
    nonces, commitments = round_one(kps, [1, 2, 3])
    dup = [commitments[0], commitments[1], commitments[1], commitments[2]]
    with pytest.raises(frost.FrostError, match="^commitment list has participant 2 twice$"):
        frost.compute_binding_factors(pkp.group_public_key, MSG, dup)
    with pytest.raises(frost.FrostError, match="^commitment list has participant 2 twice$"):
        frost.sign(MSG, dup, nonces[1], kps[1])
    assert nonces[1].consumed
    with pytest.raises(frost.FrostError, match="^commitment list has participant 2 twice$"):
        frost.aggregate(MSG, dup, [], pkp)


def test_unsorted_commitment_list(group):
    _, kps, pkp = group
    nonces, commitments = round_one(kps, [1, 2, 3])
    unsorted = [commitments[2], commitments[0], commitments[1]]
    with pytest.raises(frost.FrostError) as e:
        frost.sign(MSG, unsorted, nonces[1], kps[1])
    assert str(e.value) == "commitment list is not sorted by identifier (3 before 1)"
    with pytest.raises(frost.FrostError, match=r"^commitment list is not sorted by identifier \(3 before 1\)$"):
        frost.aggregate(MSG, unsorted, [], pkp)


def test_signer_missing_from_commitment_list(group):
    _, kps, pkp = group
    nonces, commitments = round_one(kps, [1, 2, 3, 4])
    without_2 = [c for c in commitments if c.identifier != 2]
    with pytest.raises(frost.FrostError) as e:
        frost.sign(MSG, without_2, nonces[2], kps[2])
    assert str(e.value) == "participant 2 is not in the commitment list"
    assert e.value.hints == ("this signing package was not made for this signer",)
    with pytest.raises(frost.NoncesConsumed):
        frost.sign(MSG, commitments, nonces[2], kps[2])


def test_dealer_duplicate_identifiers():
    with pytest.raises(frost.FrostError, match="^duplicate identifier 5$"):
        frost.trusted_dealer_keygen(3, 2, identifiers=[5, 9, 5])
    with pytest.raises(frost.FrostError, match="^2 identifiers given for max_signers 3$"):
        frost.trusted_dealer_keygen(3, 2, identifiers=[5, 9])


@pytest.mark.parametrize("n,t", [(3, 1), (2, 3), (1, 1), (4097, 2), (3, 0)])
def test_threshold_out_of_range(n, t):
    with pytest.raises(frost.FrostError) as e:
        frost.trusted_dealer_keygen(n, t)
    assert str(e.value) == f"min_signers {t} and max_signers {n} are out of range"
    assert e.value.hints == ("need 2 <= min_signers <= max_signers <= 4096",)
    with pytest.raises(frost.FrostError, match=f"^min_signers {t} and max_signers {n} are out of range$"):
        frost.dkg_part1(1, n, t, b"ceremony")


def test_fewer_signers_than_threshold(group):
    _, kps, pkp = group
    nonces, commitments = round_one(kps, [1, 2])
    with pytest.raises(frost.FrostError, match="^commitment list has 2 signers, fewer than the threshold 3$"):
        frost.sign(MSG, commitments, nonces[1], kps[1])
    with pytest.raises(frost.FrostError, match="^commitment list has 2 signers, fewer than the threshold 3$"):
        frost.aggregate(MSG, commitments, [], pkp)


def test_share_set_must_match_commitment_list(group):
    _, _, pkp = group
    commitments, shares = signed_round(group, [1, 2, 3])
    with pytest.raises(frost.FrostError, match="^no signature share from participant 3$"):
        frost.aggregate(MSG, commitments, shares[:2], pkp)
    with pytest.raises(frost.FrostError, match="^two signature shares from participant 2$"):
        frost.aggregate(MSG, commitments, shares + [shares[1]], pkp)
    stray = frost.SignatureShare(5, shares[0].share)
    with pytest.raises(frost.FrostError, match="^signature share from participant 5, who is not in the commitment list$"):
        frost.aggregate(MSG, commitments, shares + [stray], pkp)
    partial = frost.PublicKeyPackage(pkp.group_public_key,
                                     {i: y for i, y in pkp.verifying_shares.items() if i != 3}, 3)
    with pytest.raises(frost.FrostError, match="^participant 3 is not in the public key package$"):
        frost.aggregate(MSG, commitments, shares, partial)


# ----------------------------------------------------------- identifiable abort

def test_bad_signature_share_names_culprit(group):
    _, _, pkp = group
    commitments, shares = signed_round(group, [1, 2, 4])
    bad = bytearray(shares[2].share)
    bad[0] ^= 1
    shares[2] = frost.SignatureShare(4, bytes(bad))
    with pytest.raises(frost.InvalidSignatureShare) as e:
        frost.aggregate(MSG, commitments, shares, pkp)
    assert e.value.identifiers == (4,)
    assert str(e.value) == "signature share from participant 4 is invalid"
    assert e.value.exit_code == 2
    with pytest.raises(frost.InvalidSignatureShare) as e:
        frost.verify_signature_share(MSG, commitments, shares[2], pkp)
    assert e.value.identifiers == (4,)
    frost.verify_signature_share(MSG, commitments, shares[0], pkp)


def test_every_bad_signature_share_is_named(group):
    _, _, pkp = group
    commitments, shares = signed_round(group, [1, 2, 4])
    # 1 signs another message; 4 sends 2's share as its own; 2 is honest
    other_c, other_s = signed_round(group, [1, 2, 4], msg=b"something else")
    shares = [frost.SignatureShare(1, other_s[0].share), shares[1],
              frost.SignatureShare(4, shares[1].share)]
    with pytest.raises(frost.InvalidSignatureShare) as e:
        frost.aggregate(MSG, commitments, shares, pkp)
    assert e.value.identifiers == (1, 4)
    assert str(e.value) == "signature shares from participants 1, 4 are invalid"


def test_shares_summing_to_a_valid_signature(group):
    """Aggregate checks the shares one by one only when the signature fails
    (as the Zcash Foundation's frost-core does): two colluders shifting a
    value between their shares still produce the valid signature, and each
    shifted share fails on its own."""
    _, _, pkp = group
    commitments, shares = signed_round(group, [2, 3, 5])
    good = frost.aggregate(MSG, commitments, shares, pkp)
    delta = le(12345)
    a = sodium.crypto_core_ed25519_scalar_add(shares[0].share, delta)
    b = sodium.crypto_core_ed25519_scalar_sub(shares[1].share, delta)
    shifted = [frost.SignatureShare(2, a), frost.SignatureShare(3, b), shares[2]]
    assert frost.aggregate(MSG, commitments, shifted, pkp) == good
    assert frost.verify(pkp.group_public_key, MSG, good)
    for s in shifted[:2]:
        with pytest.raises(frost.InvalidSignatureShare) as e:
            frost.verify_signature_share(MSG, commitments, s, pkp)
        assert e.value.identifiers == (s.identifier,)


def test_dealer_share_verification(group):
    dealer, _, _ = group
    s = dealer.shares[1]
    bad = frost.SecretShare(s.identifier, sodium.crypto_core_ed25519_scalar_add(s.signing_share, le(1)),
                            s.vss_commitment)
    with pytest.raises(frost.InvalidSecretShare) as e:
        bad.verify()
    assert e.value.identifiers == (2,)
    assert str(e.value) == "secret share of participant 2 does not match the vss commitment"
    with pytest.raises(frost.InvalidSecretShare):
        bad.key_package()
    with pytest.raises(frost.FrostError, match=r"^min_signers 2 does not match the vss commitment \(3 points\)$"):
        s.key_package(2)


def _dkg_round1(ids, t, ctx):
    out = {i: frost.dkg_part1(i, len(ids), t, ctx) for i in ids}
    return {i: s for i, (s, _) in out.items()}, {i: p for i, (_, p) in out.items()}


def test_bad_proof_of_knowledge_names_sender():
    ctx = b"ceremony-7"
    secrets, pkgs = _dkg_round1([1, 2, 3, 4], 3, ctx)
    forged = bytearray(pkgs[2].proof_of_knowledge)
    forged[40] ^= 1
    pkgs[2] = frost.DkgRound1Package(2, pkgs[2].commitment, bytes(forged))
    # 4 replaces its constant term after proving: the proof no longer matches
    pkgs[4] = frost.DkgRound1Package(4, (pkgs[3].commitment[0],) + pkgs[4].commitment[1:],
                                     pkgs[4].proof_of_knowledge)
    with pytest.raises(frost.InvalidProof) as e:
        frost.dkg_part2(secrets[1], [pkgs[2], pkgs[3], pkgs[4]], ctx)
    assert e.value.identifiers == (2, 4)
    assert str(e.value) == "proofs of knowledge from participants 2, 4 are invalid"
    with pytest.raises(frost.InvalidProof) as e:
        frost.dkg_public_key_package(pkgs.values(), ctx)
    assert e.value.identifiers == (2, 4)


def test_proof_of_knowledge_bound_to_context_and_identifier():
    secrets, pkgs = _dkg_round1([1, 2, 3], 2, b"ceremony-A")
    with pytest.raises(frost.InvalidProof) as e:
        frost.dkg_part2(secrets[1], [pkgs[2], pkgs[3]], b"ceremony-B")
    assert e.value.identifiers == (2, 3)
    relabelled = frost.DkgRound1Package(9, pkgs[3].commitment, pkgs[3].proof_of_knowledge)
    secrets, pkgs2 = _dkg_round1([1, 2, 9], 2, b"ceremony-A")
    with pytest.raises(frost.InvalidProof) as e:
        frost.dkg_part2(secrets[1], [pkgs2[2], relabelled], b"ceremony-A")
    assert e.value.identifiers == (9,)
    assert str(e.value) == "proof of knowledge from participant 9 is invalid"


def test_bad_dkg_share_names_sender():
    ctx = b"ceremony-8"
    ids = [10, 20, 30]
    r1, pkgs = _dkg_round1(ids, 2, ctx)
    r2, sent = {}, {}
    for i in ids:
        r2[i], sent[i] = frost.dkg_part2(r1[i], [pkgs[j] for j in ids if j != i], ctx)
    received = {j: sent[j][10] for j in ids if j != 10}
    received[30] = sodium.crypto_core_ed25519_scalar_add(received[30], le(1))
    others = [pkgs[j] for j in ids if j != 10]
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.dkg_part3(r2[10], others, received)
    assert e.value.identifiers == (30,)
    assert str(e.value) == "secret share from participant 30 is invalid"
    received[20] = le(L)  # non-canonical: blamed too
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.dkg_part3(r2[10], others, received)
    assert e.value.identifiers == (20, 30)
    assert str(e.value) == "secret shares from participants 20, 30 are invalid"


def test_dkg_rounds_must_see_the_same_packages():
    ctx = b"ceremony-9"
    ids = [1, 2, 3]
    r1, pkgs = _dkg_round1(ids, 2, ctx)
    r2, sent = {}, {}
    for i in ids:
        r2[i], sent[i] = frost.dkg_part2(r1[i], [pkgs[j] for j in ids if j != i], ctx)
    _, other = frost.dkg_part1(3, 3, 2, ctx)
    with pytest.raises(frost.FrostError, match="^round-1 package from participant 3 differs from the one verified in round 2$"):
        frost.dkg_part3(r2[1], [pkgs[2], other], {2: sent[2][1], 3: sent[3][1]})
    with pytest.raises(frost.FrostError, match="^no round-2 share from participant 3$"):
        frost.dkg_part3(r2[1], [pkgs[2], pkgs[3]], {2: sent[2][1]})
    with pytest.raises(frost.FrostError, match="^unexpected round-2 share from participant 1$"):
        frost.dkg_part3(r2[1], [pkgs[2], pkgs[3]], {1: sent[2][1], 2: sent[2][1], 3: sent[3][1]})
    with pytest.raises(frost.FrostError, match="^round-1 package from participant 1 is our own$"):
        frost.dkg_part2(r1[1], [pkgs[1], pkgs[2]], ctx)
    with pytest.raises(frost.FrostError, match="^1 round-1 packages, expected 2$"):
        frost.dkg_part2(r1[1], [pkgs[2]], ctx)
    with pytest.raises(frost.FrostError, match="^two round-1 packages from participant 2$"):
        frost.dkg_part2(r1[1], [pkgs[2], pkgs[2]], ctx)


# ------------------------------------------------------------------- nonces

def test_nonce_reuse_refused(group):
    _, kps, pkp = group
    nonces, commitments = round_one(kps, [1, 2, 3])
    frost.sign(MSG, commitments, nonces[1], kps[1])
    assert nonces[1].consumed and repr(nonces[1]) == "SigningNonces(<consumed>)"
    with pytest.raises(frost.NoncesConsumed) as e:
        frost.sign(b"another message", commitments, nonces[1], kps[1])
    assert str(e.value) == "signing nonces were already used or wiped"
    assert e.value.exit_code == 11
    with pytest.raises(frost.NoncesConsumed):
        nonces[1].to_bytes()
    nonces[2].wipe()
    with pytest.raises(frost.NoncesConsumed):
        frost.sign(MSG, commitments, nonces[2], kps[2])


def test_nonces_must_match_the_package(group):
    _, kps, pkp = group
    nonces, commitments = round_one(kps, [1, 2, 3])
    stale, _ = frost.commit(kps[1])
    with pytest.raises(frost.FrostError) as e:
        frost.sign(MSG, commitments, stale, kps[1])
    assert str(e.value) == ("commitments of participant 1 in the signing package are not the ones "
                            "made with these nonces")
    assert stale.consumed


def test_zero_nonces_refused_by_the_library(group):
    _, kps, _ = group
    nonces, commitments = round_one(kps, [1, 2, 3])
    enc = bytearray(nonces[1].to_bytes())
    enc[1:65] = bytes(64)
    zero = frost.SigningNonces.from_bytes(bytes(enc))
    with pytest.raises(frost.FrostError, match="^sign: nonces already used or not matching the commitment$"):
        frost.sign(MSG, commitments, zero, kps[1])


# ---------------------------------------------------------------- encodings

def test_encodings_are_strict(group):
    _, kps, pkp = group
    enc = kps[1].to_bytes()
    with pytest.raises(frost.FrostError, match="^key package encoding has the wrong type tag$"):
        frost.KeyPackage.from_bytes(b"\x03" + enc[1:])
    with pytest.raises(frost.FrostError, match="^key package encoding is truncated$"):
        frost.KeyPackage.from_bytes(enc[:-1])
    with pytest.raises(frost.FrostError, match="^key package encoding has 1 trailing bytes$"):
        frost.KeyPackage.from_bytes(enc + b"\x00")
    with pytest.raises(frost.FrostError, match="^signing nonces encoding has the wrong type tag$"):
        frost.SigningNonces.from_bytes(enc)
    pk_enc = bytearray(pkp.to_bytes())
    # swap the first two verifying-share entries: identifiers no longer increase
    first, second = pk_enc[37:101], pk_enc[101:165]
    pk_enc[37:101], pk_enc[101:165] = second, first
    with pytest.raises(frost.FrostError, match="^public key package identifiers are not strictly increasing$"):
        frost.PublicKeyPackage.from_bytes(bytes(pk_enc))
    with pytest.raises(frost.FrostError, match="^use commit"):
        frost.SigningNonces(bytearray(10))
