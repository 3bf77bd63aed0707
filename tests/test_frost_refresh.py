"""Refresh: the same members get new shares of the same secret (each deals a
VSS sharing of zero).  The group key stays, old shares become useless, and a
malicious dealer is named."""

from __future__ import annotations

import nacl.bindings as sodium
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from frost_sim import L, MSG, dealer, every_subset_signs, interpolate, refresh, scalar, sign, sign_round

from cerro_torre.suites import frost

SECRET = 0xC0FFEE


@pytest.fixture(scope="module")
def group():
    return dealer(5, 3, SECRET)


@pytest.fixture(scope="module")
def refreshed(group):
    kps, pkp = group
    out, wire = refresh(kps, pkp)
    return out, wire


def test_refresh_keeps_the_key_and_changes_every_share(group, refreshed):
    kps, pkp = group
    out, wire = refreshed
    new_pkp = out[1][1]
    assert all(p == new_pkp for _, p in out.values())  # every member derives the same package
    assert new_pkp == frost.refresh_public_key_package(pkp, wire)
    assert new_pkp.group_public_key == pkp.group_public_key and new_pkp.min_signers == 3
    for i, (kp, _) in out.items():
        assert kp.signing_share != kps[i].signing_share
        assert new_pkp.verifying_shares[i] != pkp.verifying_shares[i]
        assert sodium.crypto_scalarmult_ed25519_base_noclamp(kp.signing_share) == new_pkp.verifying_shares[i]
    # the new shares still interpolate to the same secret
    new = {i: scalar(kp.signing_share) for i, (kp, _) in out.items()}
    assert interpolate({i: new[i] for i in (1, 2, 3)}) == SECRET
    assert interpolate({i: new[i] for i in (2, 4, 5)}) == SECRET


def test_any_threshold_of_refreshed_shares_signs(group, refreshed):
    kps, pkp = group
    out, _ = refreshed
    new = {i: kp for i, (kp, _) in out.items()}
    every_subset_signs(new, out[1][1], 3)
    sig = sign(new, out[1][1], [1, 4, 5])
    Ed25519PublicKey.from_public_bytes(pkp.group_public_key).verify(sig, MSG)  # OpenSSL


@pytest.mark.parametrize("old_ids", [(1, 2), (4, 5), (1, 5)])
def test_old_and_new_shares_do_not_combine(group, refreshed, old_ids):
    """k-1 old shares and 1 new share: the signature does not verify, and the
    coordinator names whoever holds a share of the other generation."""
    kps, pkp = group
    out, _ = refreshed
    new_pkp = out[1][1]
    new_id = next(i for i in (3, 2, 4) if i not in old_ids)
    mixed = {i: kps[i] for i in old_ids}
    mixed[new_id] = out[new_id][0]
    signers = sorted(mixed)
    commitments, shares = sign_round(mixed, signers)
    # summed by hand (R with PyNaCl), without aggregate's checks: not a signature
    rho = {b.identifier: b.factor for b in
           frost.compute_binding_factors(pkp.group_public_key, MSG, commitments)}
    R = None
    for c in commitments:
        term = sodium.crypto_core_ed25519_add(
            c.hiding, sodium.crypto_scalarmult_ed25519_noclamp(rho[c.identifier], c.binding))
        R = term if R is None else sodium.crypto_core_ed25519_add(R, term)
    z = sum(scalar(s.share) for s in shares) % L
    assert frost.verify(pkp.group_public_key, MSG, R + z.to_bytes(32, "little")) is False
    with pytest.raises(frost.InvalidSignatureShare) as e:
        frost.aggregate(MSG, commitments, shares, new_pkp)
    assert e.value.identifiers == tuple(sorted(old_ids))
    with pytest.raises(frost.InvalidSignatureShare) as e:
        frost.aggregate(MSG, commitments, shares, pkp)
    assert e.value.identifiers == (new_id,)
    # the interpolated key of the mixed shares is not the secret
    assert interpolate({i: scalar(kp.signing_share) for i, kp in mixed.items()}) != SECRET


def test_refresh_packages_round_trip_and_reject_garbage(refreshed):
    _, wire = refreshed
    p = wire[0]
    assert frost.RefreshPackage.from_bytes(p.to_bytes()) == p
    assert p.commitment[0] == bytes([1]) + bytes(31)
    enc = bytearray(p.to_bytes())
    enc[35] = 0x02  # constant-term commitment no longer the identity
    with pytest.raises(frost.FrostError, match="^refresh package commitment point 0 is not the identity$"):
        frost.RefreshPackage.from_bytes(bytes(enc))
    with pytest.raises(frost.FrostError, match="wrong type tag"):
        frost.RefreshPackage.from_bytes(b"\x0b" + p.to_bytes()[1:])
    with pytest.raises(frost.FrostError, match="truncated"):
        frost.RefreshPackage.from_bytes(p.to_bytes()[:-1])
    with pytest.raises(frost.FrostError, match="1 trailing bytes"):
        frost.RefreshPackage.from_bytes(p.to_bytes() + b"\0")


def test_dealer_with_a_bad_share_is_named(group):
    kps, pkp = group

    def tamper(i, pkg, shares):
        if i == 4:  # sends member 2 a share off by one
            shares = dict(shares)
            shares[2] = sodium.crypto_core_ed25519_scalar_add(shares[2], (1).to_bytes(32, "little"))
        return pkg, shares

    with pytest.raises(frost.InvalidSecretShare) as e:
        refresh(kps, pkp, tamper)
    assert e.value.identifiers == (4,)
    assert str(e.value) == "refresh dealing from participant 4 is invalid"
    assert e.value.hints == ("run the refresh again without them",)


def test_dealer_with_a_nonzero_constant_term_is_named(group):
    """A dealer that shares a non-zero value (its constant-term commitment is
    not the identity) would move the group key: everyone names it, and the
    coordinator's public check too."""
    kps, pkp = group
    packages, sent = {}, {}
    for i, kp in kps.items():
        packages[i], sent[i] = frost.refresh_deal(kp, pkp)
    # participant 5 deals f(x) = 1 + ..., committing honestly to it
    bad = frost.trusted_dealer_keygen(5, 3, secret=(1).to_bytes(32, "little"))
    packages[5] = frost.RefreshPackage(5, bad.vss_commitment)
    sent[5] = {s.identifier: s.signing_share for s in bad.shares}
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.refresh_public_key_package(pkp, packages.values())
    assert e.value.identifiers == (5,)
    for i, kp in kps.items():
        with pytest.raises(frost.InvalidSecretShare) as e:
            frost.refresh_finish(kp, pkp, packages.values(), {j: sent[j][i] for j in kps})
        assert e.value.identifiers == (5,)


def test_two_bad_dealers_are_both_named(group):
    kps, pkp = group

    def tamper(i, pkg, shares):
        if i in (1, 3):  # a commitment point changed: no share matches it
            c = list(pkg.commitment)
            c[2] = sodium.crypto_core_ed25519_add(c[2], c[1])
            pkg = frost.RefreshPackage(i, c)
        return pkg, shares

    with pytest.raises(frost.InvalidSecretShare) as e:
        refresh(kps, pkp, tamper)
    assert e.value.identifiers == (1, 3)
    assert str(e.value) == "refresh dealings from participants 1, 3 are invalid"


def test_refresh_inputs_are_checked(group, refreshed):
    kps, pkp = group
    _, wire = refreshed
    with pytest.raises(frost.FrostError, match="^no refresh package from participant 5$"):
        frost.refresh_public_key_package(pkp, wire[:4])
    with pytest.raises(frost.FrostError, match="^two refresh packages from participant 1$"):
        frost.refresh_public_key_package(pkp, wire + [wire[0]])
    pkg, shares = frost.refresh_deal(kps[1], pkp)
    with pytest.raises(frost.FrostError, match="^no refresh share from participant 5$"):
        frost.refresh_finish(kps[1], pkp, wire, {j: shares[1] for j in (1, 2, 3, 4)})
    other = dealer(5, 3)[1]
    with pytest.raises(frost.FrostError, match="^key package and public key package have different group keys$"):
        frost.refresh_deal(kps[1], other)
    # a member whose own share does not match its verifying share
    wrong = frost.KeyPackage(1, kps[2].signing_share, kps[1].verifying_share, pkp.group_public_key, 3)
    packages, sent = {}, {}
    for i, kp in kps.items():
        packages[i], sent[i] = frost.refresh_deal(kp, pkp)
    with pytest.raises(frost.FrostError, match="^signing share of participant 1 does not match its "
                                               "verifying share in the public key package$"):
        frost.refresh_finish(wrong, pkp, packages.values(), {j: sent[j][1] for j in kps})
