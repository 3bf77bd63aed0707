"""Drive frost-py's key-keeping membership changes in memory for tests: every
public package crosses as bytes and is parsed again, every secret share is
handed only to its recipient."""

from __future__ import annotations

import itertools

from cerro_torre.suites import frost

L = 2**252 + 27742317777372353535851937790883648493
MSG = b"release v2.0.0"


def scalar(b: bytes) -> int:
    return int.from_bytes(b, "little")


def interpolate(shares: dict[int, int]) -> int:
    """The polynomial's value at 0 from {x: f(x)} (Python integers, mod L)."""
    total = 0
    for i, y in shares.items():
        num = den = 1
        for j in shares:
            if j != i:
                num = num * j % L
                den = den * (j - i) % L
        total = (total + y * num * pow(den, -1, L)) % L
    return total


def dealer(n: int, t: int, secret: int = 0x1234567890ABCDEF):
    out = frost.trusted_dealer_keygen(n, t, secret=secret.to_bytes(32, "little"))
    return {s.identifier: s.key_package() for s in out.shares}, out.public_key_package()


def sign(kps: dict[int, frost.KeyPackage], pkp: frost.PublicKeyPackage, signers, msg=MSG) -> bytes:
    nonces, commitments = {}, []
    for i in signers:
        n, c = frost.commit(kps[i])
        nonces[i] = n
        commitments.append(frost.SigningCommitments.from_bytes(c.to_bytes()))
    shares = [frost.sign(msg, commitments, nonces[i], kps[i]) for i in signers]
    return frost.aggregate(msg, commitments, shares, pkp)


def sign_round(kps, signers, msg=MSG):
    """Commitments and shares of one signing round (no aggregation)."""
    nonces, commitments = {}, []
    for i in signers:
        n, c = frost.commit(kps[i])
        nonces[i] = n
        commitments.append(c)
    return commitments, [frost.sign(msg, commitments, nonces[i], kps[i]) for i in signers]


def every_subset_signs(kps, pkp, size: int) -> None:
    for subset in itertools.combinations(sorted(kps), size):
        assert frost.verify(pkp.group_public_key, MSG, sign(kps, pkp, subset)), subset


def _deal_all(dealers, deal, parse, tamper):
    """Every dealer's (package as received, {recipient: share}); tamper(dealer,
    package, shares) may replace a dealer's output."""
    packages, sent = [], {}
    for i in dealers:
        pkg, shares = deal(i)
        if tamper:
            pkg, shares = tamper(i, pkg, shares)
        packages.append(parse(pkg.to_bytes()))
        sent[i] = shares
    return packages, sent


def refresh(kps, pkp, tamper=None):
    """Run a refresh: ({member: (KeyPackage, PublicKeyPackage)}, packages)."""
    wire, sent = _deal_all(kps, lambda i: frost.refresh_deal(kps[i], pkp),
                           frost.RefreshPackage.from_bytes, tamper)
    out = {i: frost.refresh_finish(kp, pkp, wire, {j: sent[j][i] for j in kps}) for i, kp in kps.items()}
    return out, wire


def reshare(kps, pkp, signers, new_ids, new_t, tamper=None):
    """Run a reshare: ({new member: (KeyPackage, PublicKeyPackage)}, packages)."""
    wire, sent = _deal_all(signers, lambda i: frost.reshare_deal(kps[i], signers, new_ids, new_t),
                           frost.ResharePackage.from_bytes, tamper)
    out = {j: frost.reshare_finish(j, pkp, signers, new_ids, new_t, wire,
                                   {i: sent[i][j] for i in signers}) for j in new_ids}
    return out, wire


def repair_deltas(kps, helpers, lost):
    """Part 1 of every helper: (RepairCommitments as sent, {helper: {to: delta}})."""
    rows, deltas = [], {}
    for i in helpers:
        row, d = frost.repair_part1(kps[i], helpers, lost)
        rows.append(frost.RepairCommitments.from_bytes(row.to_bytes()))
        deltas[i] = d
    return rows, deltas
