"""Nonces no copy of a home can reuse (issue 9): the co-signer set is fixed when a keyholder commits.

A FROST share is z = d + e*rho + lambda*c*s (mod L): d, e the signer's nonce pair, s its signing share,
rho its binding factor, lambda its Lagrange coefficient and c the challenge.  rho, lambda and c depend on
the signing package (the co-signers and their commitments).  The home marks its nonces consumed when it
answers, but a *copy* of the home taken after the commit round (a backup restored, a disk image) still
holds the sealed nonces: three answers to three packages with different co-signer sets are three
equations in d, e and s, and s falls out.  So a signing package must carry exactly the set the request
invited (fixed before anyone committed): then every copy can only compute the one share the home computed.

The first test shows the algebra with the library alone; the second runs it against copied homes."""

from __future__ import annotations

import hashlib
import io
import os
import shutil

import pytest
from ceremony_sim import PASS, WEAK, Sim, cross, collect
from nacl.bindings import (
    crypto_core_ed25519_add,
    crypto_scalarmult_ed25519_base_noclamp,
    crypto_scalarmult_ed25519_noclamp,
)

from cerro_torre.ceremony import bundle, frostround
from cerro_torre.ceremony.keyholder import Keyholder
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import make_bulletin, replies_in
from cerro_torre.ceremony.statement import PAYLOAD_TYPE, Envelope, pae
from cerro_torre.cli.main import main
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d
from cerro_torre.suites.errors import CeremonyError

L = 2**252 + 27742317777372353535851937790883648493   # the Ed25519 group order
NAMES = ["alice", "bob", "carol"]


def ct(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# ---------------------------------------------------------------- the algebra (RFC 9591, FROST(Ed25519, SHA-512))

def _int(b: bytes) -> int:
    return int.from_bytes(b, "little")


def _enc(x: int) -> bytes:
    return (x % L).to_bytes(32, "little")


def lagrange(me: int, ids: list[int]) -> int:
    num, den = 1, 1
    for j in ids:
        if j != me:
            num = num * j % L
            den = den * (j - me) % L
    return num * pow(den, -1, L) % L


def equation(gpk: bytes, message: bytes, commitments: list[frost.SigningCommitments], me: int) -> tuple[int, int, int]:
    """(rho, lambda*c) of signer ``me`` for one package: z = d + rho*e + (lambda*c)*s."""
    factors = {b.identifier: _int(b.factor) for b in frost.compute_binding_factors(gpk, message, commitments)}
    r = None
    for cm in commitments:
        term = crypto_core_ed25519_add(cm.hiding, crypto_scalarmult_ed25519_noclamp(_enc(factors[cm.identifier]),
                                                                                    cm.binding))
        r = term if r is None else crypto_core_ed25519_add(r, term)
    c = _int(hashlib.sha512(r + gpk + message).digest()) % L
    return factors[me], lagrange(me, [cm.identifier for cm in commitments]) * c % L


def solve_share(gpk: bytes, message: bytes, answers: list[tuple[list[frost.SigningCommitments], bytes]],
                me: int) -> bytes:
    """Three shares of signer ``me`` from ONE nonce pair, in three packages -> its signing share s."""
    rows = []
    for comms, z in answers[:3]:
        rho, lc = equation(gpk, message, comms, me)
        rows.append([1, rho, lc, _int(z) % L])
    # Gaussian elimination mod L on [1 rho lc | z] for the unknowns (d, e, s)
    for col in range(3):
        piv = next(i for i in range(col, 3) if rows[i][col] % L)
        rows[col], rows[piv] = rows[piv], rows[col]
        inv = pow(rows[col][col], -1, L)
        rows[col] = [v * inv % L for v in rows[col]]
        for i in range(3):
            if i != col and rows[i][col]:
                f = rows[i][col]
                rows[i] = [(a - f * b) % L for a, b in zip(rows[i], rows[col])]
    return _enc(rows[2][3])


def test_three_shares_from_one_nonce_pair_give_the_signing_share():
    """Why the set must be fixed: the same nonce pair in three packages reveals the signing share."""
    out = frost.trusted_dealer_keygen(4, 2)
    kps = [s.key_package(2) for s in out.shares]
    msg = b"the release statement"
    nonces = {kp.identifier: frost.commit(kp) for kp in kps}
    alice = kps[0]
    blob = nonces[1][0].to_bytes()
    answers = []
    for others in ([2], [3], [2, 3, 4]):
        comms = sorted([nonces[1][1]] + [nonces[i][1] for i in others], key=lambda c: c.identifier)
        share = frost.sign(msg, comms, frost.SigningNonces.from_bytes(blob), alice)   # a restored copy each time
        answers.append((comms, share.share))
    s = solve_share(out.group_public_key, msg, answers, 1)
    assert s == alice.signing_share
    assert crypto_scalarmult_ed25519_base_noclamp(s) == alice.verifying_share


# ---------------------------------------------------------------- copied homes

@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "256")
    monkeypatch.setenv("CT_PASSPHRASE", PASS.decode())
    monkeypatch.delenv("CT_HOME", raising=False)
    sim = Sim(str(tmp_path / "homes"), NAMES)
    rec = sim.keygen(NAMES, 2)
    (tmp_path / "keyholders.json").write_bytes(rec.to_bytes())
    (tmp_path / "app.txt").write_bytes(b"hello world\n")
    assert ct("pack", tmp_path / "app.txt", "-o", tmp_path / "app.ctp", "--name", "app", "--version", "1.0",
              "--no-sbom", "--no-provenance")[0] == 0
    # every member invited and committing, through the command line
    code, _, err = ct("ceremony", "sign", tmp_path / "app.ctp", "--group", tmp_path / "keyholders.json",
                      "--no-stock", "-o", tmp_path / "s0.ctm")
    assert code == 0, err
    req = Message.parse((tmp_path / "s0.ctm").read_bytes())
    commits = {n: sim.step(n, req) for n in NAMES}
    parts = bundle.read_parts(str(tmp_path / "app.ctp"))
    statement = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload
    return {"dir": tmp_path, "sim": sim, "rec": rec, "req": req, "commits": commits, "statement": statement}


def copy_of(w, name: str, label: str) -> Keyholder:
    """A byte-for-byte copy of a home (a backup, a disk image), taken now."""
    dst = os.path.join(str(w["dir"]), f"copy-{label}")
    shutil.copytree(w["sim"].holders[name].path, dst)
    return Keyholder(dst, params=WEAK, allow_weak=True)


def package(w, signers: list[str]) -> Message:
    return make_bulletin(w["req"], "package", [w["commits"][n] for n in signers], {})


@pytest.fixture
def copies(world):
    return [world["sim"].holders["alice"], copy_of(world, "alice", "1"), copy_of(world, "alice", "2")]


def test_copies_of_a_home_cannot_give_a_second_equation(world, copies):
    """alice's home copied twice after her commit; the coordinator shows each copy a package with another
    co-signer set.  Only the invited set ({alice, bob, carol}) is answered, by every copy with the same share."""
    w = world
    shares: dict[bytes, list[frost.SigningCommitments]] = {}
    refused = []
    for kh, signers in zip(copies, (["alice", "bob"], ["alice", "carol"], NAMES)):
        pkg = package(w, signers)
        try:
            reply = kh.answer(kh.prepare(cross(pkg)), PASS)
        except CeremonyError as e:
            refused.append((signers, e.message, e.hints))
            continue
        (share,) = reply.payload["shares"]
        index = {m.id: m.index for m in w["rec"].members}
        comms = sorted((frostround.decode_commitments(r.payload["commitments"], 1, index[r.sender], r.sender)[0]
                        for r in replies_in(pkg)), key=lambda c: c.identifier)
        shares[b64d(share, "share")] = comms
    if len(shares) >= 3:
        # what today's main does: three equations, and alice's signing share falls out
        msg = pae(PAYLOAD_TYPE, w["statement"])
        s = solve_share(w["rec"].group_public_key, msg, [(c, z) for z, c in shares.items()], 1)
        alice = w["rec"].members[0]
        assert crypto_scalarmult_ed25519_base_noclamp(s) != alice.verification_share, \
            "alice's FROST signing share was solved for from three answers of copies of her home"
    assert [r[0] for r in refused] == [["alice", "bob"], ["alice", "carol"]]
    for signers, message, hints in refused:
        assert message == (f"this package's signers ({', '.join(signers)}) are not the set invited when "
                           "'alice' committed (alice, bob, carol)")
        assert hints == ("a copy of a home answering another set could leak its key share; the coordinator "
                         "must open a new signing ceremony to sign with other members",)
    assert len(shares) == 1
    # the home and the other copy answer the invited set too: with the very same share, so still one equation
    pkg = package(w, NAMES)
    again = {b64d(kh.answer(kh.prepare(cross(pkg)), PASS).payload["shares"][0], "share") for kh in copies[:2]}
    assert again == set(shares)


def test_coordinator_cannot_package_a_subset(world):
    """The coordinator's collect wants every invited signer's commitment: no package of a subset."""
    from cerro_torre.ceremony import signing

    with pytest.raises(CeremonyError) as e:
        collect(world["req"], [world["commits"]["alice"], world["commits"]["bob"]])
    assert e.value.message == "2 of 3 needed commit replies; missing: carol"
    assert e.value.hints == ("collect again when the missing keyholders have answered",)


def test_step_help_says_never_restore_a_home(capsys):
    assert main(["ceremony", "step", "--help"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert ("Never restore a keyholder home from a backup (or copy it to another machine) while one of its "
            "ceremonies is open") in out
