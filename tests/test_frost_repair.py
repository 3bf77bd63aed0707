"""Repair of a lost share by helpers (repairable threshold scheme, as the Zcash
Foundation's frost-core `repairable` module): the restored share is the
member's share and matches its verifying share; no helper sees it; a
cheating helper is named.  The Zcash Foundation's published repair vector
checks the sums of parts 2 and 3."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import nacl.bindings as sodium
import pytest
from frost_sim import L, dealer, every_subset_signs, repair_deltas, scalar

from cerro_torre.suites import frost

VECTOR = Path(__file__).parent / "vectors" / "zf-frost-ed25519-repair-share.json"
VECTOR_SHA256 = "2f0c6fae5a29a48606865b68e76c90f75393a612111a192a4179704fba2d9b2b"


@pytest.fixture(scope="module")
def group():
    return dealer(5, 3)


def run_repair(kps, pkp, helpers, lost):
    rows, deltas = repair_deltas(kps, helpers, lost)
    sigmas = {j: frost.repair_part2(kps[j], pkp, rows, {i: deltas[i][j] for i in helpers})
              for j in helpers}
    return frost.repair_part3(lost, pkp, rows, sigmas), rows, deltas, sigmas


@pytest.mark.parametrize("helpers,lost", [([1, 4, 5], 2), ([2, 3, 4, 5], 1), ([1, 2, 3], 5)])
def test_repaired_share_is_the_lost_share(group, helpers, lost):
    kps, pkp = group
    kp, rows, deltas, sigmas = run_repair(kps, pkp, helpers, lost)
    assert kp == kps[lost]
    assert sodium.crypto_scalarmult_ed25519_base_noclamp(kp.signing_share) == pkp.verifying_shares[lost]
    # the repaired member signs with any others
    every_subset_signs({**{i: kps[i] for i in kps if i != lost}, lost: kp}, pkp, 3)
    # no helper sees the share: what one helper holds (its own deltas out,
    # the deltas in, its sigma) never is it, and the deltas differ per run
    for j in helpers:
        seen = [deltas[j][k] for k in helpers] + [deltas[i][j] for i in helpers] + [sigmas[j]]
        assert kp.signing_share not in seen
    _, _, deltas2, _ = run_repair(kps, pkp, helpers, lost)
    assert all(deltas[i][j] != deltas2[i][j] for i in helpers for j in helpers)


def test_part1_deltas_sum_to_the_weighted_share(group):
    """ZF's check_repair_share_part1: sum of a helper's deltas = zeta_i s_i,
    zeta_i = prod (x_r - x_j)/(x_i - x_j) over the other helpers."""
    kps, pkp = group
    row, deltas = frost.repair_part1(kps[4], [1, 4, 5], 2)
    zeta = (2 - 1) * (2 - 5) * pow((4 - 1) * (4 - 5), -1, L) % L
    assert sum(scalar(d) for d in deltas.values()) % L == zeta * scalar(kps[4].signing_share) % L
    for j, d in deltas.items():
        assert row.commitments[j] == sodium.crypto_scalarmult_ed25519_base_noclamp(d)


@pytest.fixture(scope="module")
def zf_vector():
    data = VECTOR.read_bytes()
    assert hashlib.sha256(data).hexdigest() == VECTOR_SHA256
    return json.loads(data)


def _rows_for(helpers, lost, deltas: dict[int, dict[int, int]]):
    """Repair commitments for a known matrix of deltas (deltas[i][j]: from
    helper i to helper j); each helper's verifying share is then the one
    whose weighted share its row splits: zeta_i s_i = sum_j deltas[i][j]."""
    rows, ver = [], {}
    for i in helpers:
        zeta = 1
        for j in helpers:
            if j != i:
                zeta = zeta * (lost - j) * pow(i - j, -1, L) % L
        share = sum(deltas[i].values()) * pow(zeta, -1, L) % L
        ver[i] = sodium.crypto_scalarmult_ed25519_base_noclamp(share.to_bytes(32, "little"))
        rows.append(frost.RepairCommitments(i, lost, {
            j: sodium.crypto_scalarmult_ed25519_base_noclamp(x.to_bytes(32, "little"))
            for j, x in deltas[i].items()}))
    return rows, ver


def test_zf_vector_part2_sigma_is_the_sum_of_deltas(zf_vector):
    """The three deltas helper 4 receives are the vector's random scalars."""
    v = zf_vector["scalar_generation"]
    helpers, lost, me = [1, 4, 5], 2, 4
    column = {1: v["random_scalar_1"], 4: v["random_scalar_2"], 5: v["random_scalar_3"]}
    deltas = {i: {j: scalar(bytes.fromhex(column[i])) if j == me else 1000 * i + j for j in helpers}
              for i in helpers}
    rows, ver = _rows_for(helpers, lost, deltas)
    ver[lost] = ver[1]  # part 2 does not use it
    pkp = frost.PublicKeyPackage(ver[1], ver, 3)
    kp = frost.KeyPackage(me, bytes(32), ver[me], pkp.group_public_key, 3)
    sigma = frost.repair_part2(kp, pkp, rows, {i: bytes.fromhex(column[i]) for i in helpers})
    assert sigma == bytes.fromhex(v["random_scalar_sum"])


def test_zf_vector_part3_share_is_the_sum_of_sigmas(zf_vector):
    """The four sigmas the lost member receives are the vector's."""
    v = zf_vector["sigma_generation"]
    helpers, lost = [1, 3, 4, 5], 2
    sigmas = {j: bytes.fromhex(v[f"sigma_{k + 1}"]) for k, j in enumerate(helpers)}
    deltas = {i: {j: 1000 * i + j for j in helpers} for i in helpers}
    for j in helpers:  # column j sums to sigma_j
        deltas[1][j] = (scalar(sigmas[j]) - sum(deltas[i][j] for i in helpers if i != 1)) % L
    rows, ver = _rows_for(helpers, lost, deltas)
    expected = bytes.fromhex(v["sigma_sum"])
    ver[lost] = sodium.crypto_scalarmult_ed25519_base_noclamp(expected)
    pkp = frost.PublicKeyPackage(ver[1], ver, 4)
    assert frost.repair_part3(lost, pkp, rows, sigmas).signing_share == expected


def test_helper_sending_a_bad_delta_is_named(group):
    kps, pkp = group
    helpers, lost = [1, 4, 5], 2
    rows, deltas = repair_deltas(kps, helpers, lost)
    got = {i: deltas[i][5] for i in helpers}
    got[4] = sodium.crypto_core_ed25519_scalar_add(got[4], (1).to_bytes(32, "little"))
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.repair_part2(kps[5], pkp, rows, got)
    assert e.value.identifiers == (4,)
    assert str(e.value) == "repair message from participant 4 is invalid"
    assert e.value.hints == ("run the repair again with other helpers",)


def test_helper_with_inconsistent_commitments_is_named(group):
    """Helper 1 splits something other than zeta_1 s_1 (here: its deltas are
    committed honestly, but one is changed): every other party names it."""
    kps, pkp = group
    helpers, lost = [1, 4, 5], 2
    rows, deltas = repair_deltas(kps, helpers, lost)
    deltas[1][4] = sodium.crypto_core_ed25519_scalar_add(deltas[1][4], (9).to_bytes(32, "little"))
    c = dict(rows[0].commitments)
    c[4] = sodium.crypto_scalarmult_ed25519_base_noclamp(deltas[1][4])
    rows[0] = frost.RepairCommitments(1, lost, c)
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.repair_part2(kps[5], pkp, rows, {i: deltas[i][5] for i in helpers})
    assert e.value.identifiers == (1,)
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.repair_part3(lost, pkp, rows, {j: b"\x01" + bytes(31) for j in helpers})
    assert e.value.identifiers == (1,)


def test_helper_sending_a_bad_sigma_is_named(group):
    kps, pkp = group
    helpers, lost = [1, 3, 4], 5
    rows, deltas = repair_deltas(kps, helpers, lost)
    sigmas = {j: frost.repair_part2(kps[j], pkp, rows, {i: deltas[i][j] for i in helpers})
              for j in helpers}
    sigmas[3] = sodium.crypto_core_ed25519_scalar_add(sigmas[3], (1).to_bytes(32, "little"))
    sigmas[4] = sigmas[1]
    with pytest.raises(frost.InvalidSecretShare) as e:
        frost.repair_part3(lost, pkp, rows, sigmas)
    assert e.value.identifiers == (3, 4)
    assert str(e.value) == "repair messages from participants 3, 4 are invalid"


def test_repaired_share_is_checked_against_the_record(group):
    """Helpers whose verifying shares in the record are consistent with each
    other but not with the lost member's entry: the result is refused."""
    kps, pkp = group
    helpers, lost = [1, 4, 5], 2
    rows, deltas = repair_deltas(kps, helpers, lost)
    sigmas = {j: frost.repair_part2(kps[j], pkp, rows, {i: deltas[i][j] for i in helpers})
              for j in helpers}
    vs = dict(pkp.verifying_shares)
    vs[2] = vs[3]
    with pytest.raises(frost.FrostError, match="^repaired share does not match the verifying share of participant 2$"):
        frost.repair_part3(lost, frost.PublicKeyPackage(pkp.group_public_key, vs, 3), rows, sigmas)


def test_repair_inputs_are_checked(group):
    kps, pkp = group
    with pytest.raises(frost.FrostError, match="^2 helpers, fewer than the threshold 3$"):
        frost.repair_part1(kps[1], [1, 4], 2)
    with pytest.raises(frost.FrostError, match="^participant 2 cannot help repair its own share$"):
        frost.repair_part1(kps[1], [1, 2, 4], 2)
    with pytest.raises(frost.FrostError, match="^participant 3 is not among the helpers$"):
        frost.repair_part1(kps[3], [1, 4, 5], 2)
    rows, deltas = repair_deltas(kps, [1, 4, 5], 2)
    with pytest.raises(frost.FrostError, match="^no repair commitments from participant 5$"):
        frost.repair_part2(kps[4], pkp, rows[:2], {i: deltas[i][4] for i in (1, 4, 5)})
    with pytest.raises(frost.FrostError, match="^repair commitments are for participant 2, not 3$"):
        frost.repair_part3(3, pkp, rows, {})
    other, _ = repair_deltas(kps, [1, 4, 5], 3)
    with pytest.raises(frost.FrostError, match="are for participant 3, not 2$"):
        frost.repair_part2(kps[4], pkp, [rows[0], rows[1], other[2]], {})
    r = rows[0]
    assert frost.RepairCommitments.from_bytes(r.to_bytes()) == r
    with pytest.raises(frost.FrostError, match="truncated"):
        frost.RepairCommitments.from_bytes(r.to_bytes()[:-3])
