"""Reshare to a new set of members and a new threshold, keeping the group key:
each old member of a qualified subset deals its Lagrange-weighted share;
new members check every dealing against the old verifying shares.  A
malicious dealer is named."""

from __future__ import annotations

import itertools
import subprocess

import nacl.bindings as sodium
import nacl.signing
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from frost_sim import L, MSG, dealer, every_subset_signs, interpolate, reshare, scalar, sign, sign_round

from cerro_torre.ceremony import stockformats
from cerro_torre.suites import errors, frost

SECRET = 0xFEEDFACE


@pytest.fixture(scope="module")
def group():
    return dealer(3, 2, SECRET)


@pytest.fixture(scope="module")
def reshared(group):
    """2-of-3 -> 3-of-4: member 2 leaves, 4 and 5 join, old members 1 and 3 deal."""
    kps, pkp = group
    return reshare(kps, pkp, [1, 3], [1, 3, 4, 5], 3)


def test_reshare_keeps_the_group_key(group, reshared):
    kps, pkp = group
    out, wire = reshared
    new_pkp = out[1][1]
    assert all(p == new_pkp for _, p in out.values())
    assert new_pkp == frost.reshare_public_key_package(pkp, [1, 3], [1, 3, 4, 5], 3, wire)
    assert new_pkp.group_public_key == pkp.group_public_key
    assert new_pkp.min_signers == 3 and sorted(new_pkp.verifying_shares) == [1, 3, 4, 5]
    for j, (kp, _) in out.items():
        assert kp.min_signers == 3 and kp.group_public_key == pkp.group_public_key
        assert sodium.crypto_scalarmult_ed25519_base_noclamp(kp.signing_share) == new_pkp.verifying_shares[j]
    # the dealings' constant terms are the old members' weighted verifying shares
    lambda_1 = 3 * pow(3 - 1, -1, L) % L  # over the signers {1, 3}
    assert wire[0].commitment[0] == sodium.crypto_scalarmult_ed25519_noclamp(
        lambda_1.to_bytes(32, "little"), pkp.verifying_shares[1])


def test_any_new_threshold_signs_under_the_old_key(group, reshared):
    kps, pkp = group
    out, _ = reshared
    new = {j: kp for j, (kp, _) in out.items()}
    every_subset_signs(new, out[1][1], 3)
    sig = sign(new, out[1][1], [3, 4, 5])
    # stock verifiers with the key exported before the reshare
    Ed25519PublicKey.from_public_bytes(pkp.group_public_key).verify(sig, MSG)
    nacl.signing.VerifyKey(pkp.group_public_key).verify(MSG, sig)


def test_stock_signify_verifies_with_the_key_exported_before(group, reshared, tmp_path):
    """The issue's case: 2-of-3 reshared to 3-of-4 (one member out, two in);
    Debian's signify-openbsd checks the new set's signature with the public
    key file written from the old record."""
    kps, pkp = group
    (tmp_path / "release.pub").write_text(stockformats.signify_public_file(pkp.group_public_key))
    out, _ = reshare(kps, pkp, [1, 3], [1, 3, 4, 5], 3)
    message = b"release statement after the reshare\n"
    sig = sign({j: kp for j, (kp, _) in out.items()}, out[1][1], [3, 4, 5], message)
    (tmp_path / "statement").write_bytes(message)
    (tmp_path / "statement.sig").write_text(stockformats.signify_signature_file(pkp.group_public_key, sig))
    p = subprocess.run(["signify-openbsd", "-V", "-p", "release.pub", "-x", "statement.sig", "-m", "statement"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert (p.returncode, p.stdout.strip()) == (0, "Signature Verified")
    (tmp_path / "statement").write_bytes(message + b"!")
    p = subprocess.run(["signify-openbsd", "-V", "-p", "release.pub", "-x", "statement.sig", "-m", "statement"],
                       cwd=tmp_path, capture_output=True, text=True)
    assert p.returncode == 1


def test_the_new_shares_hold_the_same_secret_at_the_new_threshold(reshared):
    out, _ = reshared
    new = {j: scalar(kp.signing_share) for j, (kp, _) in out.items()}
    for subset in itertools.combinations(new, 3):
        assert interpolate({j: new[j] for j in subset}) == SECRET
    for subset in itertools.combinations(new, 2):
        assert interpolate({j: new[j] for j in subset}) != SECRET


def test_fewer_than_the_new_threshold_do_not_sign(reshared):
    """Two of the new members (k' - 1), pretending the threshold were 2: each
    share is a correct share, but together they do not make a signature."""
    out, _ = reshared
    new_pkp = out[1][1]
    fake = {j: frost.KeyPackage(j, kp.signing_share, kp.verifying_share, kp.group_public_key, 2)
            for j, (kp, _) in out.items()}
    fake_pkp = frost.PublicKeyPackage(new_pkp.group_public_key, new_pkp.verifying_shares, 2)
    for pair in itertools.combinations(sorted(fake), 2):
        commitments, shares = sign_round(fake, pair)
        with pytest.raises(errors.SignatureInvalid) as e:
            frost.aggregate(MSG, commitments, shares, fake_pkp)
        assert str(e.value) == "aggregate signature does not verify under the group public key"
    with pytest.raises(frost.FrostError, match="fewer than the threshold 3"):
        commitments, shares = sign_round({j: kp for j, (kp, _) in out.items()}, [1, 4])


def test_removed_member_is_not_in_the_new_group(group, reshared):
    kps, pkp = group
    out, _ = reshared
    assert 2 not in out[1][1].verifying_shares
    new_pkp = out[1][1]
    with pytest.raises(frost.FrostError, match="^participant 2 is not in the public key package$"):
        commitments, shares = sign_round({1: out[1][0], 2: kps[2], 4: out[4][0]}, [1, 2, 4])
        frost.aggregate(MSG, commitments, shares, new_pkp)


@pytest.mark.parametrize("signers", [[1, 2], [2, 3], [1, 2, 3]])
def test_any_qualified_subset_can_deal(group, signers):
    kps, pkp = group
    out, _ = reshare(kps, pkp, signers, [2, 7, 9], 2)
    assert out[7][1].group_public_key == pkp.group_public_key
    every_subset_signs({j: kp for j, (kp, _) in out.items()}, out[7][1], 2)


def test_dealer_with_a_wrong_constant_term_is_named(group):
    """Dealer 3 deals a secret of its choosing (honestly committed): its
    constant term is not [lambda_3]Y_3, everyone names it."""
    kps, pkp = group

    def tamper(i, pkg, shares):
        if i == 3:
            bad = frost.trusted_dealer_keygen(4, 3, secret=(42).to_bytes(32, "little"),
                                              identifiers=[1, 3, 4, 5])
            pkg = frost.ResharePackage(3, bad.vss_commitment)
            shares = {s.identifier: s.signing_share for s in bad.shares}
        return pkg, shares

    with pytest.raises(frost.InvalidSecretShare) as e:
        reshare(kps, pkp, [1, 3], [1, 3, 4, 5], 3, tamper)
    assert e.value.identifiers == (3,)
    assert str(e.value) == "reshare dealing from participant 3 is invalid"
    assert e.value.hints == ("run the reshare again with other old members in their place",)


def test_dealer_with_a_bad_share_or_commitment_is_named(group):
    kps, pkp = group

    def bad_share(i, pkg, shares):
        if i == 1:
            shares = dict(shares)
            shares[5] = sodium.crypto_core_ed25519_scalar_add(shares[5], (7).to_bytes(32, "little"))
        return pkg, shares

    with pytest.raises(frost.InvalidSecretShare) as e:
        reshare(kps, pkp, [1, 3], [1, 3, 4, 5], 3, bad_share)
    assert e.value.identifiers == (1,)

    def non_canonical_share(i, pkg, shares):
        if i == 3:  # the share plus the group order: the same residue, not a canonical scalar
            shares = dict(shares)
            shares[4] = (int.from_bytes(shares[4], "little") + L).to_bytes(32, "little")
        return pkg, shares

    with pytest.raises(frost.InvalidSecretShare) as e:
        reshare(kps, pkp, [1, 3], [1, 3, 4, 5], 3, non_canonical_share)
    assert e.value.identifiers == (3,)

    def bad_commitment(i, pkg, shares):
        c = list(pkg.commitment)
        c[1] = sodium.crypto_core_ed25519_add(c[1], c[2])
        return frost.ResharePackage(i, c), shares

    with pytest.raises(frost.InvalidSecretShare) as e:
        reshare(kps, pkp, [1, 3], [1, 3, 4, 5], 3, bad_commitment)
    assert e.value.identifiers == (1, 3)
    assert str(e.value) == "reshare dealings from participants 1, 3 are invalid"


def test_malformed_commitment_point_is_named(group):
    kps, pkp = group
    packages, sent = {}, {}
    for i in (1, 3):
        packages[i], sent[i] = frost.reshare_deal(kps[i], [1, 3], [4, 5], 2)
    torsioned = sodium.crypto_core_ed25519_add(
        packages[3].commitment[1],
        bytes.fromhex("c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"))
    packages[3] = frost.ResharePackage(3, (packages[3].commitment[0], torsioned))
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.reshare_public_key_package(pkp, [1, 3], [4, 5], 2, packages.values())
    assert e.value.identifiers == (3,)
    with pytest.raises(frost.FrostError, match="not a point of the prime-order subgroup"):
        frost.ResharePackage.from_bytes(packages[3].to_bytes())


def test_inconsistent_old_public_key_package_is_refused(group, reshared):
    kps, pkp = group
    _, wire = reshared
    vs = dict(pkp.verifying_shares)
    vs[1], vs[3] = vs[3], vs[1]  # swapped: each dealer's constant term now fails
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.reshare_public_key_package(frost.PublicKeyPackage(pkp.group_public_key, vs, 2),
                                         [1, 3], [1, 3, 4, 5], 3, wire)
    assert e.value.identifiers == (1, 3)
    other = dealer(3, 2)[1]
    with pytest.raises(frost.FrostError, match="^the reshare dealings do not sum to the group public key$"):
        frost.reshare_public_key_package(
            frost.PublicKeyPackage(other.group_public_key, pkp.verifying_shares, 2),
            [1, 3], [1, 3, 4, 5], 3, wire)


def test_reshare_inputs_are_checked(group, reshared):
    kps, pkp = group
    _, wire = reshared
    with pytest.raises(frost.FrostError, match="^1 signers, fewer than the old threshold 2$"):
        frost.reshare_deal(kps[1], [1], [4, 5], 2)
    with pytest.raises(frost.FrostError, match="^participant 2 is not among the signers$"):
        frost.reshare_deal(kps[2], [1, 3], [4, 5], 2)
    with pytest.raises(frost.FrostError, match="^min_signers 3 and max_signers 2 are out of range$"):
        frost.reshare_deal(kps[1], [1, 3], [4, 5], 3)
    with pytest.raises(frost.FrostError, match="^no reshare package from participant 3$"):
        frost.reshare_public_key_package(pkp, [1, 3], [1, 3, 4, 5], 3, wire[:1])
    with pytest.raises(frost.FrostError, match="^participant 6 is not among the new members$"):
        frost.reshare_finish(6, pkp, [1, 3], [1, 3, 4, 5], 3, wire, {})
    with pytest.raises(frost.FrostError, match="has 3 commitment points, expected 2"):
        frost.reshare_public_key_package(pkp, [1, 3], [1, 3, 4, 5], 2, wire)
    p = wire[0]
    assert frost.ResharePackage.from_bytes(p.to_bytes()) == p
    with pytest.raises(frost.FrostError, match="wrong type tag"):
        frost.ResharePackage.from_bytes(b"\x0a" + p.to_bytes()[1:])
