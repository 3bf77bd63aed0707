"""Ceremonies in memory (tests/ceremony_sim.py): a 3-of-5 DKG, release signing with and
without the stock-tool forms, a rotation (remove one, add one, change k) and the
trusted dealer.  Every message crosses as bytes and is parsed again; the outcomes
are checked with the verifier's own code (walk_chain, ``ct verify --policy``)."""

from __future__ import annotations

import dataclasses
import io
import os

import pytest
from ceremony_sim import PASS, Sim, collect, journal_of

from cerro_torre.ceremony import bundle, keygen, signing
from cerro_torre.governance.keyholders import KeyholderSet, walk_chain
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import make_bulletin, replies_in
from cerro_torre.ceremony.signedlog import SignedLog
from cerro_torre.ceremony.statement import PAYLOAD_TYPE, Envelope, pae
from cerro_torre.cli.main import main
from cerro_torre.suites.errors import CeremonyError, KeyNotTrusted, Malformed, SignatureInvalid, UsageError
from cerro_torre.suites.suite import keyid_of, verify_signature

FIVE = ["alice", "bob", "carol", "dave", "erin"]
ROTATED = ["alice", "bob", "carol", "dave", "frank"]   # erin removed, frank added, k 3 -> 2


def ct(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


class Wire:
    """The air gap: every message crosses as bytes; the log keeps (round, sender) in order."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.log: list[tuple[str, str]] = []

    def cross(self, msg: Message) -> Message:
        data = msg.to_bytes()
        back = Message.parse(data)
        assert back.to_bytes() == data
        self.log.append((back.round, back.sender))
        return back

    def step(self, name: str, msg: Message) -> Message | None:
        """A keyholder's step: its reply, or None when it only keeps the message."""
        kh = self.sim.holders[name]
        pending = kh.prepare(self.cross(msg))
        assert pending.member == name
        if not pending.answers:
            kh.keep(pending)
            return None
        return self.cross(kh.answer(pending, PASS))

    def keygen(self, request: Message, old: list[str] = ()) -> tuple[KeyholderSet, list[str]]:
        """Drive a keygen/rotation to its record; return it and the coordinator rounds seen.  Every member
        of either set steps every message (outgoing members keep the first two); the record then reaches
        every one of their homes."""
        plan = keygen.plan_of(journal_of(request).view())
        msg, rounds = request, []
        self.coordinator_messages = []
        while isinstance(msg, Message):
            rounds.append(msg.round)
            self.coordinator_messages.append(msg)
            if msg.round == "package":
                s = msg.payload["signers"]
                who = sorted(set(s["new"]) | set(s["old"]))
            else:
                who = sorted(set(plan.new) | set(old))
            replies = [r for r in (self.step(n, msg) for n in who) if r is not None]
            msg = collect(self.cross(msg), replies)
        self.sim.keep_record(msg, sorted(set(plan.new) | set(old)))
        return msg, rounds

    def sign(self, request: Message, names: list[str]) -> tuple[signing.Signed, list[str], dict[str, list[Message]]]:
        """Drive a signing ceremony; return the result, the rounds, and every reply by round."""
        msg, rounds, by_round = request, [], {}
        who = names
        while isinstance(msg, Message):
            rounds.append(msg.round)
            replies = [self.step(n, msg) for n in who]
            by_round[replies[0].round] = replies
            msg = collect(self.cross(msg), replies)
            if isinstance(msg, Message):
                who = sorted(r.sender for r in replies_in(msg)) if msg.round == "package" else who
        return msg, rounds, by_round


# ---------------------------------------------------------------- shared world

@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("sim")
    sim = Sim(str(root / "homes"), FIVE + ["frank"])
    wire = Wire(sim)
    req = keygen.open_keygen("coop", [sim.publics[n] for n in FIVE], 3)
    rec1, rounds = wire.keygen(req)
    w = {"root": root, "sim": sim, "wire": wire, "rec1": rec1, "rounds1": rounds, "request1": req,
         "coordinator_messages1": list(wire.coordinator_messages)}
    # a release to sign
    (root / "app.txt").write_bytes(b"hello world\n")
    code, _, err = ct("pack", str(root / "app.txt"), "-o", str(root / "app.ctp"), "--name", "app",
                      "--version", "1.0", "--no-sbom", "--no-provenance")
    assert (code, err) == (0, "")
    parts = bundle.read_parts(str(root / "app.ctp"))
    w["statement"] = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload
    (root / "rec1.json").write_bytes(rec1.to_bytes())
    code, _, err = ct("policy", "init", "--root", str(root / "rec1.json"), "--policy", str(root / "policy.json"))
    assert (code, err) == (0, "")
    return w


@pytest.fixture(scope="module")
def rotated(world):
    sim, wire, rec1 = world["sim"], world["wire"], world["rec1"]
    # the releases epoch 1 signed so far stay valid: the coordinator gathers them from the homes' logs
    closed = sorted({e.statement for n in FIVE for e in SignedLog(sim.holders[n].path).under(rec1.fingerprint.full_hex)})
    # erin (removed) signs with the old group too: every member of epoch 1 is in its signing set
    req = keygen.open_keygen("coop", [sim.publics[n] for n in ROTATED], 2, previous=rec1, closed_releases=closed,
                             old_signers=FIVE)
    wire.log.clear()
    rec2, rounds = wire.keygen(req, old=FIVE)
    (world["root"] / "rec2.json").write_bytes(rec2.to_bytes())
    return {"rec2": rec2, "rounds": rounds, "request": req, "log": list(wire.log)}


def sign_into_bundle(world, records, names, stock, out):
    wire = world["wire"]
    req = signing.open_sign(world["statement"], records, names, stock=stock)
    res, rounds, by_round = wire.sign(req, names)
    bundle.add_signatures(str(world["root"] / "app.ctp"), str(out), res.signatures, records=res.records,
                          stock=res.stock)
    return res, rounds, by_round


# ---------------------------------------------------------------- DKG 3 of 5

def test_dkg_3_of_5_record(world):
    rec, sim = world["rec1"], world["sim"]
    assert world["rounds1"] == ["request", "round1", "round2", "package"]
    assert (rec.name, rec.epoch, rec.suite, rec.threshold, rec.previous) == ("coop", 1, "CT-SIG-02", 3, None)
    assert [(m.id, m.index) for m in rec.members] == [(n, i + 1) for i, n in enumerate(FIVE)]
    assert [m.identity.to_bytes() for m in rec.members] == [sim.publics[n].to_bytes() for n in FIVE]
    # signed by its own threshold: one FROST group signature and an ML-DSA-87 signature of every member
    algs = sorted(s.alg for s in rec.signatures)
    assert algs == ["ed25519"] + ["ml-dsa-87"] * 5
    (g,) = [s for s in rec.signatures if s.alg == "ed25519"]
    assert g.keyid == keyid_of(rec.group_public_key)
    assert verify_signature("ed25519", rec.group_public_key, rec.message(), g.sig)
    assert rec.evaluate(rec.message(), list(rec.signatures)).ok
    # the record went through its wire form
    assert KeyholderSet.from_bytes(rec.to_bytes()).to_bytes() == rec.to_bytes()
    res = walk_chain([rec], {rec.fingerprint.full_hex})
    assert res.ok and res.current is rec and [s.ok for s in res.steps] == [True]


def test_dkg_every_home_holds_its_share(world):
    rec, sim = world["rec1"], world["sim"]
    for m in rec.members:
        kp = sim.holders[m.id].load_share(rec, m.id, PASS)
        assert (kp.identifier, kp.verifying_share, kp.group_public_key, kp.min_signers) == \
            (m.index, m.verification_share, rec.group_public_key, 3)
    assert not sim.holders["frank"].has_share(rec)


def test_dkg_secrets_between_rounds_are_dropped(world):
    cid = world["request1"].ceremony
    for n in FIVE:
        d = os.path.join(world["sim"].holders[n].path, "ceremonies", cid)
        assert sorted(os.listdir(d)) == ["messages", "package.reply", "request.reply", "round1.reply",
                                         "round2.reply", "state.json", "transcript.json"]
        # the coordinator messages it answered, by digest: later messages name them instead of carrying them
        assert sorted(os.listdir(os.path.join(d, "messages"))) == sorted(
            f"{m.digest.hex()}.ctm" for m in world["coordinator_messages1"])
        entries = world["sim"].holders[n].transcript(cid)
        assert [(e.round, e.sender) for e in entries] == [
            ("request", "coordinator"), ("commit", n), ("round1", "coordinator"), ("shares", n),
            ("round2", "coordinator"), ("confirm", n), ("package", "coordinator"), ("sign", n)]


# ---------------------------------------------------------------- signing

def test_sign_with_stock_forms(world, tmp_path):
    out = tmp_path / "signed.ctp"
    res, rounds, by_round = sign_into_bundle(world, [world["rec1"]], ["alice", "carol", "erin"], True, out)
    assert rounds == ["request", "package", "package2"]
    assert sorted(by_round) == ["commit", "share", "share2"]
    assert [r.sender for r in by_round["share"]] == ["alice", "carol", "erin"]
    rec = world["rec1"]
    assert sorted(s.alg for s in res.signatures) == ["ed25519", "ml-dsa-87", "ml-dsa-87", "ml-dsa-87"]
    (g,) = [s for s in res.signatures if s.alg == "ed25519"]
    assert verify_signature("ed25519", rec.group_public_key, pae(PAYLOAD_TYPE, world["statement"]), g.sig)
    assert res.stock is not None and res.stock.check(world["statement"]) == []
    code, stdout, err = ct("verify", str(out), "--policy", str(world["root"] / "policy.json"))
    assert (code, err) == (0, ""), stdout
    assert stdout.splitlines()[0] == f"ok: {out.name} is valid"
    assert "  stock       signify, minisign, ssh and SHA256SUMS signatures verified" in stdout.splitlines()
    assert "  signatures  ed25519 1 of 1 required, 1 valid; ml-dsa-87 3 of 5 required, 3 valid" in stdout.splitlines()


def test_sign_without_stock_forms(world, tmp_path):
    out = tmp_path / "signed.ctp"
    res, rounds, by_round = sign_into_bundle(world, [world["rec1"]], ["bob", "carol", "dave"], False, out)
    assert rounds == ["request", "package"]
    assert sorted(by_round) == ["commit", "share"]
    assert res.stock is None
    # one nonce pair per signature: the DSSE PAE only
    for r in by_round["commit"]:
        assert len(r.payload["commitments"]) == 1
    for r in by_round["share"]:
        assert len(r.payload["shares"]) == 1
    code, stdout, err = ct("verify", str(out), "--policy", str(world["root"] / "policy.json"))
    assert (code, err) == (0, ""), stdout
    assert not any(line.startswith("  stock") for line in stdout.splitlines())


def test_sign_every_invited_signer_answers(world):
    """Four invited, three commit: no package until the fourth commits (the set is fixed at the request);
    a package of the three is refused by every keyholder in it, and the fourth signs with the others."""
    wire = world["wire"]
    req = signing.open_sign(world["statement"], [world["rec1"]],
                            ["alice", "bob", "carol", "dave"], stock=False)
    commits = [wire.step(n, req) for n in ("alice", "bob", "dave")]
    with pytest.raises(CeremonyError) as e:
        collect(wire.cross(req), commits)
    assert e.value.message == "3 of 4 needed commit replies; missing: carol"
    subset = make_bulletin(req, "package", commits, {})
    kh = world["sim"].holders["alice"]
    with pytest.raises(CeremonyError) as e:
        kh.prepare(wire.cross(subset))
    assert e.value.message == ("this package's signers (alice, bob, dave) are not the set invited when 'alice' "
                               "committed (alice, bob, carol, dave)")
    commits.append(wire.step("carol", req))
    package = collect(wire.cross(req), commits)
    assert package.round == "package"
    assert [r.sender for r in replies_in(package)] == ["alice", "bob", "carol", "dave"]
    shares = [wire.step(n, package) for n in ("alice", "bob", "carol", "dave")]
    res = collect(wire.cross(package), shares)
    assert isinstance(res, signing.Signed)
    assert sorted(s.alg for s in res.signatures) == ["ed25519"] + ["ml-dsa-87"] * 4


# ---------------------------------------------------------------- rotation

def test_rotation_record(world, rotated):
    rec1, rec2 = world["rec1"], rotated["rec2"]
    assert rotated["rounds"] == ["request", "round1", "round2", "package"]
    assert (rec2.name, rec2.epoch, rec2.threshold) == ("coop", 2, 2)
    assert rec2.previous == (1, rec1.fingerprint.full_hex)
    assert [(m.id, m.index) for m in rec2.members] == [(n, i + 1) for i, n in enumerate(ROTATED)]
    assert rec2.group_public_key != rec1.group_public_key
    # signatures: the new group and the old group (FROST), and ML-DSA-87 of every member of either set
    by_key = sorted((s.alg, s.keyid) for s in rec2.signatures if s.alg == "ed25519")
    assert by_key == sorted([("ed25519", keyid_of(rec1.group_public_key)),
                             ("ed25519", keyid_of(rec2.group_public_key))])
    assert sum(s.alg == "ml-dsa-87" for s in rec2.signatures) == 6   # alice..erin and frank
    assert rec2.evaluate(rec2.message(), list(rec2.signatures)).ok
    assert rec1.evaluate(rec2.message(), list(rec2.signatures)).ok
    # erin (removed) answered as an old member only: confirm carries no "new" commitment
    log = rotated["log"]
    assert ("commit", "erin") not in log and ("shares", "erin") not in log
    assert ("confirm", "erin") in log and ("sign", "erin") in log
    assert ("commit", "frank") in log and ("sign", "frank") in log


def test_rotation_walks_from_pinned_root(world, rotated):
    rec1, rec2 = world["rec1"], rotated["rec2"]
    res = walk_chain([rec1, rec2], {rec1.fingerprint.full_hex})
    assert res.error is None
    assert res.pinned is rec1 and res.current is rec2
    assert [(s.record.epoch, s.ok) for s in res.steps] == [(1, True), (2, True)]
    assert res.steps[1].by_previous.ok and res.steps[1].own.ok
    # epoch 2 alone does not chain to root 1
    res = walk_chain([rec2], {rec1.fingerprint.full_hex})
    assert isinstance(res.error, KeyNotTrusted)
    assert res.error.message == (f"{rec2.describe()} does not chain to a pinned root (chain starts at epoch 2, "
                                 f"fingerprint {rec2.fingerprint.hex})")


def test_rotation_without_old_group_signature_is_refused(world, rotated):
    rec1, rec2 = world["rec1"], rotated["rec2"]
    old_kid = keyid_of(rec1.group_public_key)
    stripped = dataclasses.replace(rec2, signatures=tuple(s for s in rec2.signatures if s.keyid != old_kid))
    assert len(stripped.signatures) == len(rec2.signatures) - 1
    assert stripped.fingerprint.full_hex == rec2.fingerprint.full_hex   # signatures are outside the body
    res = walk_chain([rec1, stripped], {rec1.fingerprint.full_hex})
    assert isinstance(res.error, SignatureInvalid)
    assert res.error.message == (f"{rec2.describe()} is not signed by the threshold of epoch 1: "
                                 "ed25519 0 of 1")
    assert [s.note for s in res.steps] == ["", "not signed by the threshold of epoch 1"]


def test_bundle_signed_by_epoch_2_verifies_from_root_1(world, rotated, tmp_path):
    out = tmp_path / "signed2.ctp"
    res, rounds, _ = sign_into_bundle(world, [world["rec1"], rotated["rec2"]], ["bob", "frank"], False, out)
    assert rounds == ["request", "package"]
    assert [r.epoch for r in res.records] == [1, 2]
    code, stdout, err = ct("verify", str(out), "--policy", str(world["root"] / "policy.json"))
    assert (code, err) == (0, ""), stdout
    lines = stdout.splitlines()
    assert lines[0] == f"ok: {out.name} is valid"
    assert any(line.startswith("  chain       epoch 1 (pinned) -> epoch 2, 2 record(s)") for line in lines), lines
    assert "  signatures  ed25519 1 of 1 required, 1 valid; ml-dsa-87 2 of 5 required, 2 valid" in lines


def test_bundle_signed_by_epoch_2_without_chain_is_not_trusted(world, rotated, tmp_path):
    """A signing request always names the chain from the root; a bundle assembled with epoch 2 alone is
    not trusted by a verifier pinned to epoch 1."""
    rec2 = rotated["rec2"]
    with pytest.raises(UsageError) as e:
        signing.open_sign(world["statement"], [rec2], ["alice", "dave"], stock=False)
    assert e.value.message == (f"a signing request names the chain of {rec2.describe()} from its root: "
                               "2 record(s), not 1")
    full = tmp_path / "full.ctp"
    res, _, _ = sign_into_bundle(world, [world["rec1"], rec2], ["alice", "dave"], False, full)
    out = tmp_path / "signed2.ctp"
    bundle.add_signatures(str(world["root"] / "app.ctp"), str(out), res.signatures, records=[rec2])
    code, stdout, err = ct("verify", str(out), "--policy", str(world["root"] / "policy.json"))
    assert code == 3
    assert err.splitlines()[0] == (f"error: {rec2.describe()} does not chain to a pinned root "
                                   f"(chain starts at epoch 2, fingerprint {rec2.fingerprint.hex})")


def test_removed_member_cannot_answer_epoch_2(world, rotated):
    sim, wire = world["sim"], world["wire"]
    req = signing.open_sign(world["statement"], [world["rec1"], rotated["rec2"]],
                            ["alice", "bob"], stock=False)
    erin = sim.holders["erin"]
    with pytest.raises(CeremonyError) as e:
        erin.prepare(wire.cross(req))
    assert e.value.message == "none of this home's keys takes part in this ceremony"
    assert e.value.hints == ("participants: alice, bob, carol, dave, frank; use the right --home",)
    # nor can the coordinator invite her
    with pytest.raises(UsageError) as e:
        signing.open_sign(world["statement"], [world["rec1"], rotated["rec2"]], ["alice", "erin"])
    assert e.value.message == f"not members of {rotated['rec2'].describe()}: erin"
    # even if she is handed a request naming her and answers with her old share, it is refused
    forged = Message(req.ceremony, "sign", "request", "coordinator",
                     {**req.payload, "signers": ["alice", "bob", "erin"]})
    with pytest.raises(CeremonyError) as e:
        erin.prepare(wire.cross(forged))
    assert e.value.message == f"the request invites erin, not members of {rotated['rec2'].describe()}"
    # and she holds no share of the new group
    assert not erin.has_share(rotated["rec2"])


def test_new_member_signs_only_epoch_2(world, rotated):
    """frank holds no share of epoch 1: his home does not even keep its record, and if it did, he is not a
    participant of an epoch-1 signing."""
    rec1 = world["rec1"]
    req = signing.open_sign(world["statement"], [rec1], ["alice", "bob", "carol"])
    frank = world["sim"].holders["frank"]
    with pytest.raises(CeremonyError) as e:
        frank.prepare(world["wire"].cross(req))
    assert e.value.message == (f"this home does not keep the keyholder-set record (fingerprint {rec1.fingerprint.hex}), "
                               "which the ceremony names")
    assert e.value.hints == (f"bring it once: 'ct ceremony step RECORD.json' keeps it in {frank.path} (the record "
                             "the coordinator wrote at the end of that set's keygen or rotation)",)


# ---------------------------------------------------------------- trusted dealer

def test_trusted_dealer_keygen_and_sign(world, tmp_path):
    sim, wire = world["sim"], world["wire"]
    names = ["bob", "dave", "frank"]
    req = keygen.open_keygen("dealt", [sim.publics[n] for n in names], 2, dealer=True)
    assert req.payload["dealer"] is not None
    summary = sim.holders["bob"].prepare(wire.cross(req)).summary
    assert "  WARNING: trusted-dealer mode: the coordinator generated every share and saw the key" in summary
    rec, rounds = wire.keygen(req)
    assert rounds == ["request", "package"]
    assert (rec.name, rec.epoch, rec.threshold, [m.id for m in rec.members]) == ("dealt", 1, 2, names)
    assert len(rec.group_public_key) == 32
    assert walk_chain([rec], {rec.fingerprint.full_hex}).error is None
    for m in rec.members:
        kp = sim.holders[m.id].load_share(rec, m.id, PASS)
        assert (kp.identifier, kp.verifying_share) == (m.index, m.verification_share)
    # the dealt set signs a release that verifies under a policy pinning it
    (tmp_path / "dealt.json").write_bytes(rec.to_bytes())
    assert ct("policy", "init", "--root", str(tmp_path / "dealt.json"), "--policy", str(tmp_path / "p.json"))[0] == 0
    out = tmp_path / "dealt.ctp"
    req = signing.open_sign(world["statement"], [rec], ["dave", "frank"], stock=False)
    res, _, _ = wire.sign(req, ["dave", "frank"])
    bundle.add_signatures(str(world["root"] / "app.ctp"), str(out), res.signatures, records=res.records)
    code, stdout, err = ct("verify", str(out), "--policy", str(tmp_path / "p.json"))
    assert (code, err) == (0, ""), stdout


def test_dealer_share_for_someone_else_does_not_open(world):
    """A dealer share sealed to bob is of no use to dave (sealed boxes per recipient)."""
    sim, wire = world["sim"], world["wire"]
    names = ["bob", "dave", "frank"]
    req = keygen.open_keygen("dealt2", [sim.publics[n] for n in names], 2, dealer=True)
    shares = dict(req.payload["dealer"]["shares"])
    shares["dave"] = shares["bob"]
    bad = Message(req.ceremony, req.kind, "request", "coordinator",
                  {**req.payload, "dealer": {**req.payload["dealer"], "shares": shares}})
    kh = sim.holders["dave"]
    with pytest.raises(Malformed) as e:
        kh.answer(kh.prepare(wire.cross(bad)), PASS)
    assert e.value.message == "sealed box does not open with key 'dave'"
    assert e.value.hints == ("it was sealed to another key, or altered in transit",)
    assert not os.path.exists(os.path.join(kh.path, "ceremonies", req.ceremony, "request.reply"))
