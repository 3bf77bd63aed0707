"""What a ceremony must refuse, each with its exit code / exception and exact message:
replays, messages of another ceremony, wrong senders, tampered payloads, coordinator
equivocation in the DKG, duplicate signers, fewer than k signers, nonce reuse, and bad
FROST / DKG shares and proofs named by their sender.

Keyholder homes come from the in-memory simulator (tests/ceremony_sim.py); where the exit
code and the error/hint lines matter, the same homes and messages go through `ct` in process
(main()), messages as files."""

from __future__ import annotations

import dataclasses
import io
import json
import os

import pytest
from ceremony_sim import PASS, Sim, collect, cross, journal_of, view_of, cli_env

from cerro_torre.ceremony import bundle, keygen, signing
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import Journal, make_bulletin
from cerro_torre.ceremony.statement import Envelope
from cerro_torre.cli.main import main
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e, canonical_json
from cerro_torre.suites.errors import CeremonyError, Malformed, SignatureInvalid, UsageError
from cerro_torre.keys.identity import seal_to

THREE = ["alice", "bob", "carol"]
L = 2**252 + 27742317777372353535851937790883648493   # the Ed25519 group order


def ct(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def errlines(err: str) -> list[str]:
    return err.splitlines()


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    root = tmp_path_factory.mktemp("neg")
    sim = Sim(str(root / "homes"), THREE + ["mallory"])
    rec = sim.keygen(THREE, 2)
    (root / "app.txt").write_bytes(b"hello world\n")
    out, err = io.StringIO(), io.StringIO()
    assert main(["pack", str(root / "app.txt"), "-o", str(root / "app.ctp"), "--name", "app", "--version", "1.0",
                 "--no-sbom", "--no-provenance"], stdout=out, stderr=err) == 0, err.getvalue()
    (root / "keyholders.json").write_bytes(rec.to_bytes())
    parts = bundle.read_parts(str(root / "app.ctp"))
    statement = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload
    return {"root": root, "sim": sim, "rec": rec, "statement": statement}


def key(w, name):
    return w["sim"].holders[name].home.load_private(name, PASS)


def home(w, name) -> str:
    return w["sim"].holders[name].path


def put(path, msg: Message):
    """Write a message file; beside a coordinator message, its journal (as the coordinator keeps it)."""
    path.write_bytes(msg.to_bytes())
    if msg.sender == "coordinator":
        try:
            journal_of(msg).save(Journal.path_for(str(path), msg.ceremony))
        except KeyError:
            pass        # a bulletin the test forged: keyholders step it, no coordinator collects it
    return path


def resigned(w, msg: Message, payload: dict | None = None, sender: str | None = None) -> Message:
    """``msg`` with a new payload and/or sender, signed by that sender's own key."""
    sender = sender or msg.sender
    m = Message(msg.ceremony, msg.kind, msg.round, sender, msg.payload if payload is None else payload)
    return m.signed_by(key(w, sender))


def unsigned_edit(msg: Message, payload: dict | None = None, sender: str | None = None) -> Message:
    """``msg`` altered, keeping the original signature (as a forger without the key would)."""
    return Message(msg.ceremony, msg.kind, msg.round, sender or msg.sender,
                   msg.payload if payload is None else payload, msg.auth)


def open_sign(w, signers=("alice", "bob"), stock=False) -> Message:
    return signing.open_sign(w["statement"], [w["rec"]], list(signers), stock=stock)


def open_dkg(w, names=THREE, k=2) -> Message:
    return keygen.open_keygen("coop2", [w["sim"].publics[n] for n in names], k)


def steps(w, msg: Message, names) -> list[Message]:
    return [w["sim"].step(n, msg) for n in names]


def scalar_plus_one(b: bytes) -> bytes:
    return ((int.from_bytes(b, "little") + 1) % L).to_bytes(32, "little")


# ================================================================ replay

def test_keyholder_steps_same_message_twice(w, tmp_path):
    req = put(tmp_path / "s0.ctm", open_sign(w))
    assert ct("--home", home(w, "alice"), "ceremony", "step", req, "-o", tmp_path / "a1.ctm", "--yes")[0] == 0
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", req, "-o", tmp_path / "a2.ctm", "--yes")
    cid = Message.parse(req.read_bytes()).ceremony
    assert (code, out) == (11, "")
    stored = os.path.join(home(w, "alice"), "ceremonies", cid, "request.reply")
    assert errlines(err) == [f"error: 'alice' already answered this request message of ceremony {cid}",
                             f"hint: the reply is {stored}; send that file again"]
    assert not (tmp_path / "a2.ctm").exists()
    with open(stored, "rb") as f:
        assert f.read() == (tmp_path / "a1.ctm").read_bytes()


def test_keyholder_refuses_old_round_after_later_one(w):
    req = open_sign(w)
    pkg = collect(req, steps(w, req, ["alice", "bob"]))
    steps(w, pkg, ["alice"])
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["alice"].prepare(cross(req))
    assert e.value.message == f"'alice' already answered this request message of ceremony {req.ceremony}"


def test_keyholder_refuses_second_version_of_a_round(w):
    """The coordinator re-opens with the same ceremony id and another request: refused."""
    req = open_sign(w)
    steps(w, req, ["alice"])
    other = open_sign(w, ["alice", "bob", "carol"])
    other = Message(req.ceremony, "sign", "request", "coordinator", other.payload)
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["alice"].prepare(cross(other))
    assert e.value.message == f"a different request message for ceremony {req.ceremony} was answered before"
    assert e.value.hints == ("the coordinator sent two versions of a round (replay or equivocation); "
                             "refuse it and tell the other keyholders",)


def test_keyholder_refuses_bulletin_built_on_another_request(w):
    req = open_sign(w)
    steps(w, req, ["alice"])
    other = Message(req.ceremony, "sign", "request", "coordinator", open_sign(w, ["alice", "carol"]).payload)
    pkg = make_bulletin(other, "package", steps(w, other, ["carol"]), {"signers": ["carol"]})
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["alice"].prepare(cross(pkg))
    assert e.value.message == "this package message follows a request message that is not the one 'alice' answered"
    assert e.value.hints == ("the coordinator changed an earlier round; refuse this ceremony",)


def test_reply_collected_twice(w, tmp_path):
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), put(tmp_path / "a.ctm", a),
                        tmp_path / "a.ctm", put(tmp_path / "b.ctm", b), "-o", tmp_path / "s1.ctm")
    assert (code, out) == (11, "")
    assert errlines(err) == ["error: reply from 'alice' is given twice", "hint: pass each reply file once"]
    assert not (tmp_path / "s1.ctm").exists()


def test_reply_of_an_earlier_round_replayed(w, tmp_path):
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    pkg = collect(req, [a, b])
    sa = w["sim"].step("alice", pkg)
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s1.ctm", pkg), put(tmp_path / "sa.ctm", sa),
                        put(tmp_path / "b.ctm", b), "-o", tmp_path / "s2.ctm", "--bundle", w["root"] / "app.ctp")
    assert code == 11
    assert errlines(err) == ["error: reply from 'bob' is a 'commit' message, expected 'share'",
                             "hint: it answers another round: replayed or stale; ask for the current reply"]


# ================================================================ another ceremony

def test_reply_from_another_ceremony(w, tmp_path):
    one, two = open_sign(w), open_sign(w)
    a1, = steps(w, one, ["alice"])
    b2, = steps(w, two, ["bob"])
    code, out, err = ct("ceremony", "collect", put(tmp_path / "one.ctm", one), put(tmp_path / "a1.ctm", a1),
                        put(tmp_path / "b2.ctm", b2), "-o", tmp_path / "next.ctm")
    assert code == 11
    assert errlines(err) == [f"error: reply from 'bob' belongs to another ceremony ({two.ceremony})",
                             f"hint: this ceremony is {one.ceremony}; leave that file out"]


def test_reply_of_another_kind_with_the_same_id(w):
    dkg = open_dkg(w)
    sign = signing.open_sign(w["statement"], [w["rec"]], ["alice", "bob"], ceremony=dkg.ceremony)
    a, = steps(w, sign, ["alice"])
    with pytest.raises(CeremonyError) as e:
        collect(dkg, [a] + steps(w, dkg, ["bob", "carol"]))
    assert e.value.message == "reply from 'alice' is for a sign ceremony, not keygen"


def test_reply_to_another_message_of_the_same_round(w):
    """A reply whose "answers" names another request (same ceremony id) is refused."""
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    other = Message(req.ceremony, "sign", "request", "coordinator", open_sign(w, ["alice", "bob", "carol"]).payload)
    with pytest.raises(CeremonyError) as e:
        collect(other, [a, b])
    assert e.value.message == "reply from 'alice' answers another request message"
    assert e.value.hints == ("it is replayed, or the coordinator showed this member a different message",)


# ================================================================ wrong sender

def test_sender_field_changed(w, tmp_path):
    req = open_sign(w, ["alice", "bob", "carol"])
    a, = steps(w, req, ["alice"])
    forged = unsigned_edit(a, sender="bob")
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), put(tmp_path / "a.ctm", a),
                        put(tmp_path / "b.ctm", forged), "-o", tmp_path / "s1.ctm")
    assert code == 11
    assert errlines(err) == ["error: message from 'bob' (commit) has an invalid signature",
                             "hint: it was altered or forged; do not use it, ask the sender again"]


def test_reply_signed_with_another_members_key(w):
    """carol signs a message that claims bob as sender: bob's key does not verify it."""
    req = open_sign(w, ["alice", "bob", "carol"])
    a, c = steps(w, req, ["alice", "carol"])
    body = Message(c.ceremony, c.kind, c.round, "bob", c.payload)
    auth = Message(c.ceremony, c.kind, c.round, "carol", c.payload).signed_by(key(w, "carol")).auth
    with pytest.raises(CeremonyError) as e:
        collect(req, [a, cross(dataclasses.replace(body, auth=auth))])
    assert e.value.message == "message from 'bob' (commit) has an invalid signature"
    # and ct will not sign as someone else
    with pytest.raises(CeremonyError) as e:
        body.signed_by(key(w, "carol"))
    assert e.value.message == "key 'carol' cannot sign a message from 'bob'"


def test_reply_resigned_by_another_member(w):
    """bob takes alice's commit and sends it as his own, properly signed: her identifier gives it away."""
    req = open_sign(w, ["alice", "bob", "carol"])
    a, c = steps(w, req, ["alice", "carol"])
    stolen = resigned(w, a, sender="bob")
    with pytest.raises(CeremonyError) as e:
        collect(req, [a, c, stolen])
    assert e.value.message == "'bob' sent the same commitments as 'alice'"
    assert e.value.hints == ("a reply copied from another member; leave it out",)
    # the same in the DKG: a round-1 package under another member's identifier
    dkg = open_dkg(w)
    ca, cc = steps(w, dkg, ["alice", "carol"])
    with pytest.raises(CeremonyError) as e:
        collect(dkg, [ca, resigned(w, ca, sender="bob"), cc])
    assert e.value.message == "round-1 package from 'bob' claims identifier 1, expected 2"


def test_reply_from_outsider(w, tmp_path):
    req = open_sign(w)
    a, = steps(w, req, ["alice"])
    m = resigned(w, a, sender="mallory")
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), put(tmp_path / "a.ctm", a),
                        put(tmp_path / "m.ctm", m), "-o", tmp_path / "s1.ctm")
    assert code == 11
    assert errlines(err) == ["error: reply from 'mallory', who is not a participant of this ceremony",
                             "hint: participants: alice, bob, carol"]


def test_reply_from_member_not_invited(w):
    req = open_sign(w, ["alice", "bob"])
    a, = steps(w, req, ["alice"])
    c = resigned(w, Message(req.ceremony, "sign", "commit", "carol", a.payload), sender="carol")
    with pytest.raises(CeremonyError) as e:
        collect(req, [a, c])
    assert e.value.message == "reply from 'carol', who is not asked to answer request"
    # and carol's home will not answer it at all
    with pytest.raises(CeremonyError) as e:
        w["sim"].step("carol", req)
    assert e.value.message == "'carol' is not among the invited signers: alice, bob"


def test_reply_given_to_a_keyholder(w, tmp_path):
    req = open_sign(w)
    a, = steps(w, req, ["alice"])
    code, out, err = ct("--home", home(w, "bob"), "ceremony", "step", put(tmp_path / "a.ctm", a),
                        "-o", tmp_path / "x.ctm", "--yes")
    assert (code, out) == (11, "")
    assert errlines(err) == ["error: this is the commit reply of 'alice', not a message for a keyholder",
                             "hint: replies go to the coordinator ('ct ceremony collect')"]


def test_collect_with_a_reply_first(w, tmp_path):
    """BUG (cli/ceremony.py cmd_collect): coordinator.is_last_signing_round(msg) parses the chain of
    the first file before coordinator.collect checks that it is a coordinator message, so a reply
    given first fails with 'error: commit message has no previous message' (exit 10)."""
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    code, out, err = ct("ceremony", "collect", put(tmp_path / "a.ctm", a), put(tmp_path / "b.ctm", b),
                        "-o", tmp_path / "x.ctm")
    assert code == 11
    assert errlines(err) == ["error: this is the reply of 'alice', not the coordinator's message",
                             "hint: the first file is the message the replies answer"]


# ================================================================ tampered payload

def test_tampered_reply_payload(w, tmp_path):
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    other = frost.commit(w["sim"].holders["alice"].load_share(w["rec"], "alice", PASS))[1]
    bad = unsigned_edit(a, {**a.payload, "commitments": [b64e(other.hiding + other.binding)]})
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), put(tmp_path / "a.ctm", bad),
                        put(tmp_path / "b.ctm", b), "-o", tmp_path / "s1.ctm")
    assert code == 11
    assert errlines(err) == ["error: message from 'alice' (commit) has an invalid signature",
                             "hint: it was altered or forged; do not use it, ask the sender again"]


def test_non_canonical_reply(w, tmp_path):
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    path = tmp_path / "a.ctm"
    path.write_bytes(json.dumps(a.to_json(), indent=1).encode() + b"\n")
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), path, put(tmp_path / "b.ctm", b),
                        "-o", tmp_path / "s1.ctm")
    assert code == 10
    assert errlines(err) == [f"error: reply {path} is not in canonical form",
                             "hint: messages are canonical JSON; do not edit them"]


def test_unsigned_reply(w, tmp_path):
    req = open_sign(w)
    a, = steps(w, req, ["alice"])
    d = a.to_json()
    del d["auth"]
    path = tmp_path / "a.ctm"
    path.write_bytes(canonical_json(d) + b"\n")
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), path, "-o", tmp_path / "s1.ctm")
    assert (code, out) == (10, "")
    assert errlines(err) == [f"error: reply {path} from 'alice' is not signed",
                             "hint: members sign every message they send"]


def test_tampered_transcript_is_caught_by_status(w, tmp_path):
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    pkg = collect(req, [a, b])
    good = put(tmp_path / "good.ctm", pkg)
    assert ct("ceremony", "status", "--transcript", good)[0] == 0
    other = frost.commit(w["sim"].holders["bob"].load_share(w["rec"], "bob", PASS))[1]
    bad_b = unsigned_edit(b, {**b.payload, "commitments": [b64e(other.hiding + other.binding)]})
    # a journal (a transcript) holding bob's altered commit reply
    forged = make_bulletin(req, "package", [a, bad_b], {})
    journal = journal_of(req)
    journal.add([a, bad_b], forged)
    (tmp_path / "x").mkdir()
    bad = tmp_path / "x" / "bad.ctm"
    bad.write_bytes(forged.to_bytes())
    journal.save(Journal.path_for(str(bad), req.ceremony))
    code, out, err = ct("ceremony", "status", "--transcript", bad)
    assert (code, out) == (11, "")
    assert errlines(err) == ["error: message from 'bob' (commit) has an invalid signature",
                             "hint: it was altered or forged; do not use it, ask the sender again"]


def test_keyholder_refuses_package_with_tampered_relayed_commit(w):
    """BUG (ceremony/keyholder.py prepare, ceremony/signing.py answer): a keyholder signs a package
    whose relayed commit reply of another signer no longer verifies.  message.py promises that
    "every member checks" the relayed members' messages; nothing does before the share is made."""
    req = open_sign(w)
    a, b = steps(w, req, ["alice", "bob"])
    other = frost.commit(w["sim"].holders["bob"].load_share(w["rec"], "bob", PASS))[1]
    bad_b = unsigned_edit(b, {**b.payload, "commitments": [b64e(other.hiding + other.binding)]})
    pkg = make_bulletin(req, "package", [a, bad_b], {"signers": ["alice", "bob"]})
    kh = w["sim"].holders["alice"]
    with pytest.raises(CeremonyError) as e:
        kh.answer(kh.prepare(cross(pkg)), PASS)
    assert e.value.message == "message from 'bob' (commit) has an invalid signature"
    # and alice's nonces for this ceremony were not burnt by a message she must refuse
    assert f"{req.ceremony}.alice" not in kh.nonces.consumed()


def test_keyholder_refuses_round1_with_forged_relayed_package(w):
    """BUG (same as above, DKG): the coordinator swaps carol's round-1 package for one it made
    (valid proof of knowledge, carol's signature kept); bob computes and seals shares for it."""
    dkg = open_dkg(w)
    ca, cb, cc = steps(w, dkg, THREE)
    _, fake = frost.dkg_part1(3, 3, 2, keygen.plan_of(view_of(dkg)).context)
    forged = unsigned_edit(cc, {**cc.payload, "package": b64e(fake.to_bytes())})
    r1 = make_bulletin(dkg, "round1", [ca, cb, forged], {})
    with pytest.raises(CeremonyError) as e:
        w["sim"].step("bob", r1)
    assert e.value.message == "message from 'carol' (commit) has an invalid signature"


def test_package_record_altered(w):
    dkg = open_dkg(w)
    msg = dkg
    for _ in range(3):
        msg = collect(msg, steps(w, msg, THREE))
    assert msg.round == "package"
    assert "record" not in msg.payload     # every member derives the record from the round-1 data itself
    # a package relaying a confirmation (properly signed, by a colluding carol) of another record
    confirms = view_of(msg).replies(msg)
    lie = resigned(w, confirms[2], {**confirms[2].payload, "record": "11" * 32})
    bad = make_bulletin(view_of(msg).previous(msg), "package", confirms[:2] + [lie], {"signers": msg.payload["signers"]})
    with pytest.raises(CeremonyError) as e:
        w["sim"].step("alice", bad)
    assert e.value.message == "members carol confirmed a different keyholder set or round-1 message"
    assert e.value.hints == ("the coordinator's messages were inconsistent (equivocation); refuse this ceremony",)


# ================================================================ DKG equivocation

@pytest.fixture
def equivocation(w):
    """bob (colluding with the coordinator) makes two round-1 packages; the coordinator shows
    alice round1 X (bob's first) and carol round1 Y (bob's second), then a round2 bulletin per view."""
    dkg = open_dkg(w)
    ca, cc = steps(w, dkg, ["alice", "carol"])
    kb = key(w, "bob")
    b1 = keygen.answer(view_of(dkg), kb, {}, None, None)
    b2 = keygen.answer(view_of(dkg), kb, {}, None, None)
    x = collect(dkg, [ca, b1.reply, cc])
    y = collect(dkg, [ca, b2.reply, cc])
    assert x.digest != y.digest
    sa, = steps(w, x, ["alice"])
    sc, = steps(w, y, ["carol"])
    bx = keygen.answer(view_of(x), kb, {"dkg1": b1.keep["dkg1"]}, None, None)
    by = keygen.answer(view_of(y), kb, {"dkg1": b2.keep["dkg1"]}, None, None)
    r2x = make_bulletin(x, "round2", [sa, bx.reply, sc], {})
    r2y = make_bulletin(y, "round2", [sa, by.reply, sc], {})
    return {"dkg": dkg, "x": x, "y": y, "r2x": r2x, "r2y": r2y, "bx": bx, "kb": kb, "sa": sa, "sc": sc}


def test_equivocation_honest_collect_of_round1_names_member(w, equivocation):
    e_ = equivocation
    with pytest.raises(CeremonyError) as e:
        collect(e_["x"], [e_["sa"], e_["bx"].reply, e_["sc"]])
    assert e.value.message == "reply from 'carol' answers another round1 message"
    assert e.value.hints == ("it is replayed, or the coordinator showed this member a different message",)


def test_equivocation_keyholder_refuses_round2_relaying_a_reply_to_another_round1(w, equivocation, tmp_path):
    """Round 2 shows alice carol's shares, which answer the round-1 view carol was shown (Y), not
    alice's (X): alice's home refuses before deriving anything, naming carol."""
    e_ = equivocation
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", put(tmp_path / "r2.ctm", e_["r2x"]),
                        "--yes", "-o", tmp_path / "fa.ctm")
    assert (code, out) == (11, "")
    assert errlines(err)[-2:] == ["error: reply from 'carol' answers another round1 message",
                                  "hint: it is replayed, or the coordinator showed this member a different message"]
    assert not (tmp_path / "fa.ctm").exists()


def test_confirmation_with_another_transcript_names_member(w):
    """A confirmation that answers the right round2 but reports another round-1 digest and record."""
    dkg = open_dkg(w)
    r1 = collect(dkg, steps(w, dkg, THREE))
    r2 = collect(r1, steps(w, r1, THREE))
    fa, fb, fc = steps(w, r2, THREE)
    lie = resigned(w, fb, {**fb.payload, "transcript": "00" * 32})
    with pytest.raises(CeremonyError) as e:
        collect(r2, [fa, lie, fc])
    assert e.value.message == ("members bob derived a different keyholder set or saw a different round-1 message")
    assert e.value.hints == ("the coordinator's messages were inconsistent (equivocation) or a member is faulty; "
                             "start a new keygen",)
    lie2 = resigned(w, fc, {**fc.payload, "record": "11" * 32})
    with pytest.raises(CeremonyError) as e:
        collect(r2, [fa, lie, lie2])
    assert e.value.message == ("members bob, carol derived a different keyholder set or saw a different "
                               "round-1 message")


def test_equivocation_status_transcript_names_member(w, equivocation, tmp_path):
    """The journal of the equivocating coordinator (the transcript of the view shown to alice) holds
    carol's shares reply, which answers the other round-1 view: status --transcript names her."""
    e_ = equivocation
    journal = journal_of(e_["x"])
    journal.add([e_["sa"], e_["bx"].reply, e_["sc"]], e_["r2x"])
    path = put(tmp_path / "r2x.ctm", e_["r2x"])
    journal.save(Journal.path_for(str(path), e_["r2x"].ceremony))
    code, out, err = ct("ceremony", "status", "--transcript", path)
    assert (code, out) == (11, "")
    assert errlines(err) == ["error: reply from 'carol' answers another round1 message",
                             "hint: it is replayed, or the coordinator showed this member a different message"]


def test_equivocation_keyholder_refuses(w, equivocation):
    """BUG (ceremony/keyholder.py Keyholder.prepare; keygen.answer round2/package): alice's home
    accepts a round2 bulletin in which carol's shares reply answers another round-1 bulletin, and
    then a package in which carol's confirmation names another transcript and record.  With bob's
    help, the coordinator finishes a record carol never confirmed and cannot sign for (her share
    is of another group key), which walk_chain accepts.  The keyholder must check every relayed
    reply against the chain (what coordinator.verified_transcript does for status) and refuse."""
    e_ = equivocation
    kh = w["sim"].holders["alice"]

    def alice_goes_on():
        fa = w["sim"].step("alice", e_["r2x"])
        fc, = steps(w, e_["r2y"], ["carol"])
        fb = keygen.answer(view_of(e_["r2x"]), e_["kb"], {"dkg2": e_["bx"].keep["dkg2"]}, None, None)
        plan = keygen.plan_of(view_of(e_["r2x"]))
        pkp = keygen.group_keys(plan, view_of(e_["r2x"]))
        rec_x = plan.record(pkp.group_public_key, pkp.verifying_shares)
        pkg = make_bulletin(e_["r2x"], "package", [fa, fb.reply, fc], {"signers": {"new": THREE, "old": []}})
        return kh.answer(kh.prepare(cross(pkg)), PASS)

    with pytest.raises(CeremonyError) as e:
        alice_goes_on()
    assert e.value.message == "reply from 'carol' answers another round1 message"


# ================================================================ duplicate signers

def test_duplicate_signer_on_the_command_line(w, tmp_path):
    code, out, err = ct("ceremony", "sign", w["root"] / "app.ctp", "--group", w["root"] / "keyholders.json",
                        "--signer", "alice", "--signer", "alice", "-o", tmp_path / "s0.ctm")
    assert (code, out) == (64, "")
    assert errlines(err) == ["error: 1 signers chosen; the threshold is 2",
                             "hint: choose at least 2 of: alice, bob, carol"]
    assert not (tmp_path / "s0.ctm").exists()


def test_duplicate_member_in_keygen(w, tmp_path):
    pub = os.path.join(home(w, "alice"), "keys", "alice.pub")
    code, out, err = ct("ceremony", "keygen", "--threshold", "2", "--member", pub, "--member", pub,
                        "--member", os.path.join(home(w, "bob"), "keys", "bob.pub"), "-o", tmp_path / "r0.ctm")
    assert (code, out) == (64, "")
    assert errlines(err) == ["error: a member is listed twice", "hint: give each member's .pub file once"]


def test_two_different_commits_from_one_signer(w, tmp_path):
    req = open_sign(w, THREE)
    a, b = steps(w, req, ["alice", "bob"])
    a2 = signing.answer(view_of(req), key(w, "alice"),
                        lambda rec: w["sim"].holders["alice"].load_share(rec, "alice", PASS), None).reply
    assert a2.to_bytes() != a.to_bytes()
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), put(tmp_path / "a.ctm", a),
                        put(tmp_path / "b.ctm", b), put(tmp_path / "a2.ctm", a2), "-o", tmp_path / "s1.ctm")
    assert code == 11
    assert errlines(err) == ["error: 'alice' sent two different commit replies",
                             "hint: a keyholder answered twice; investigate before going on"]


def test_package_listing_a_signer_twice(w):
    req = open_sign(w, THREE)
    a, b = steps(w, req, ["alice", "bob"])
    pkg = make_bulletin(req, "package", [a, a, b], {})
    with pytest.raises(CeremonyError) as e:
        w["sim"].step("bob", pkg)
    assert e.value.message == "package message relays two replies from 'alice'"


# ================================================================ fewer than k

def test_fewer_than_k_signers_at_open(w, tmp_path):
    code, out, err = ct("ceremony", "sign", w["root"] / "app.ctp", "--group", w["root"] / "keyholders.json",
                        "--signer", "carol", "-o", tmp_path / "s0.ctm")
    assert (code, out) == (64, "")
    assert errlines(err) == ["error: 1 signers chosen; the threshold is 2",
                             "hint: choose at least 2 of: alice, bob, carol"]
    with pytest.raises(UsageError) as e:
        signing.open_sign(w["statement"], [w["rec"]], ["alice", "zed"])
    assert e.value.message == f"not members of {w['rec'].describe()}: zed"


def test_fewer_commits_than_invited_at_collect(w, tmp_path):
    """Every invited signer must commit (the set is fixed at the request), not just k of them."""
    req = open_sign(w, THREE)
    a, b = steps(w, req, ["alice", "bob"])
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s0.ctm", req), put(tmp_path / "a.ctm", a),
                        put(tmp_path / "b.ctm", b), "-o", tmp_path / "s1.ctm")
    assert (code, out) == (11, "")
    assert errlines(err) == ["error: 2 of 3 needed commit replies; missing: carol",
                             "hint: collect again when the missing keyholders have answered"]
    assert not (tmp_path / "s1.ctm").exists()


def test_fewer_shares_than_the_package_at_collect(w, tmp_path):
    req = open_sign(w, ["alice", "carol"])
    pkg = collect(req, steps(w, req, ["alice", "carol"]))
    sa, = steps(w, pkg, ["alice"])
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s1.ctm", pkg), put(tmp_path / "a.ctm", sa),
                        "-o", tmp_path / "s2.ctm", "--bundle", w["root"] / "app.ctp")
    assert code == 11
    assert errlines(err) == ["error: 1 of 2 needed share replies; missing: carol",
                             "hint: collect again when the missing keyholders have answered"]


def test_package_with_fewer_than_k_signers_refused_by_keyholder(w):
    req = open_sign(w, THREE)
    a, = steps(w, req, ["alice"])
    pkg = make_bulletin(req, "package", [a], {"signers": ["alice"]})
    kh = w["sim"].holders["alice"]
    with pytest.raises(CeremonyError) as e:
        kh.answer(kh.prepare(cross(pkg)), PASS)
    assert e.value.message == "package has 1 signers; the threshold is 2"
    assert f"{req.ceremony}.alice" not in kh.nonces.consumed()


def test_dkg_collect_missing_member(w, tmp_path):
    dkg = open_dkg(w)
    a, b = steps(w, dkg, ["alice", "bob"])
    code, out, err = ct("ceremony", "collect", put(tmp_path / "r0.ctm", dkg), put(tmp_path / "a.ctm", a),
                        put(tmp_path / "b.ctm", b), "-o", tmp_path / "r1.ctm")
    assert code == 11
    assert errlines(err) == ["error: 2 of 3 needed commit replies; missing: carol",
                             "hint: collect again when the missing keyholders have answered"]


def test_rotation_threshold_out_of_range(w, tmp_path):
    code, out, err = ct("ceremony", "rotate", "--group", w["root"] / "keyholders.json", "--threshold", "4",
                        "-o", tmp_path / "t0.ctm")
    assert (code, out) == (64, "")
    assert errlines(err) == ["error: threshold 4 is out of range for 3 members", "hint: choose k with 2 <= k <= 3"]


# ================================================================ nonce reuse

@pytest.fixture
def answered_package(w):
    """alice answered package P (alice, bob, carol); carol (malicious, colluding with the coordinator)
    signed a second commit reply, so a package P2 with the same set and other commitments exists."""
    req = open_sign(w, THREE)
    a, b, c = steps(w, req, THREE)
    p = collect(req, [a, b, c])
    first = w["sim"].step("alice", p)
    c2 = signing.answer(view_of(req), key(w, "carol"),
                        lambda rec: w["sim"].holders["carol"].load_share(rec, "carol", PASS), None).reply
    p2 = make_bulletin(req, "package", [a, b, c2], {"signers": THREE})
    return {"req": req, "p": p, "p2": p2, "first": first}


def test_altered_package_refused_by_the_home(w, answered_package, tmp_path):
    ap = answered_package
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", put(tmp_path / "p2.ctm", ap["p2"]),
                        "-o", tmp_path / "x.ctm", "--yes")
    assert (code, out) == (11, "")
    assert errlines(err) == [
        f"error: a different package message for ceremony {ap['req'].ceremony} was answered before",
        "hint: the coordinator sent two versions of a round (replay or equivocation); "
        "refuse it and tell the other keyholders"]


def test_altered_package_refused_by_the_nonce_store(w, answered_package, tmp_path):
    """Even with the home's ceremony state lost, the consumed nonces are never used again."""
    ap = answered_package
    cid = ap["req"].ceremony
    os.unlink(os.path.join(home(w, "alice"), "ceremonies", cid, "state.json"))
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", put(tmp_path / "p2.ctm", ap["p2"]),
                        "-o", tmp_path / "x.ctm", "--yes")
    assert code == 11
    assert errlines(err)[-2:] == [
        f"error: nonces for {cid}.alice were already used: a second signature share from them would leak "
        "the key share",
        "hint: this round cannot be answered again; ask the coordinator to restart the signing round"]
    assert not (tmp_path / "x.ctm").exists()
    # re-answering the request cannot store new nonces in the consumed slot either
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", put(tmp_path / "s0.ctm", ap["req"]),
                        "-o", tmp_path / "y.ctm", "--yes")
    assert code == 11
    assert errlines(err)[-2:] == [f"error: nonces for {cid}.alice were already used",
                                  "hint: a signing round can be answered once; ask the coordinator for a new one"]


def test_same_package_answered_twice_gives_no_second_share(w, answered_package):
    """The stored reply is sent again; no second share is ever computed."""
    ap = answered_package
    kh = w["sim"].holders["alice"]
    with pytest.raises(CeremonyError) as e:
        kh.prepare(cross(ap["p"]))
    assert e.value.message == f"'alice' already answered this package message of ceremony {ap['req'].ceremony}"
    stored = os.path.join(kh.path, "ceremonies", ap["req"].ceremony, "package.reply")
    with open(stored, "rb") as f:
        assert f.read() == ap["first"].to_bytes()


# ================================================================ bad shares and proofs name their sender

def _bad_share_reply(w, reply: Message, index: int = 0) -> Message:
    shares = list(reply.payload["shares"])
    shares[index] = b64e(scalar_plus_one(b64d(shares[index], "share")))
    return resigned(w, reply, {**reply.payload, "shares": shares})


def test_bad_signature_share_names_sender(w, tmp_path):
    req = open_sign(w, ["alice", "bob"])
    pkg = collect(req, steps(w, req, ["alice", "bob"]))
    sa, sb = steps(w, pkg, ["alice", "bob"])
    bad = _bad_share_reply(w, sb)
    code, out, err = ct("ceremony", "collect", put(tmp_path / "s1.ctm", pkg), put(tmp_path / "a.ctm", sa),
                        put(tmp_path / "b.ctm", bad), "-o", tmp_path / "out.ctp", "--bundle", w["root"] / "app.ctp")
    assert (code, out) == (2, "")
    assert errlines(err) == ["error: invalid signature share from bob (release app 1.0)",
                             "hint: that keyholder's machine or reply is faulty or malicious; leave them out and "
                             "run the signing round again"]
    assert not (tmp_path / "out.ctp").exists()


def test_bad_stock_form_share_names_sender(w):
    """With the stock forms, a bad share for the signify message (not the DSSE one) is caught too."""
    req = open_sign(w, ["alice", "carol"], stock=True)
    pkg = collect(req, steps(w, req, ["alice", "carol"]))
    sa, sc = steps(w, pkg, ["alice", "carol"])
    assert len(sa.payload["shares"]) == 5   # dsse, minisign, sha256sums, signify, ssh
    with pytest.raises(SignatureInvalid) as e:
        collect(pkg, [_bad_share_reply(w, sa, 3), sc])
    assert e.value.message == "invalid signature share from alice (release app 1.0)"


def test_bad_second_pass_share_names_sender(w):
    req = open_sign(w, ["alice", "carol"], stock=True)
    pkg = collect(req, steps(w, req, ["alice", "carol"]))
    p2 = collect(pkg, steps(w, pkg, ["alice", "carol"]))
    assert p2.round == "package2"
    s2a, s2c = steps(w, p2, ["alice", "carol"])
    bad = resigned(w, s2c, {**s2c.payload, "share": b64e(scalar_plus_one(b64d(s2c.payload["share"], "share")))})
    with pytest.raises(SignatureInvalid) as e:
        collect(p2, [s2a, bad])
    assert e.value.message == "invalid signature share from carol (minisign trusted comment)"


def test_bad_mldsa_signature_names_sender(w):
    req = open_sign(w, ["alice", "bob"])
    pkg = collect(req, steps(w, req, ["alice", "bob"]))
    sa, sb = steps(w, pkg, ["alice", "bob"])
    sig = dict(sb.payload["signatures"][0])
    raw = bytearray(b64d(sig["sig"], "sig"))
    raw[10] ^= 1
    sig["sig"] = b64e(bytes(raw))
    bad = resigned(w, sb, {**sb.payload, "signatures": [sig]})
    with pytest.raises(SignatureInvalid) as e:
        collect(pkg, [sa, bad])
    # checked at the share collect, like FROST shares, and named by member
    assert e.value.exit_code == 2
    assert e.value.message == "invalid ml-dsa-87 signature from bob (release app 1.0)"
    assert e.value.hints == ("that keyholder's machine or reply is faulty or malicious; "
                             "leave them out and run the signing round again",)


def test_bad_dkg_proof_names_sender(w, tmp_path):
    dkg = open_dkg(w)
    ca, cb, cc = steps(w, dkg, THREE)
    pkg = frost.DkgRound1Package.from_bytes(b64d(cb.payload["package"], "pkg"))
    proof = bytearray(pkg.proof_of_knowledge)
    proof[32:] = scalar_plus_one(bytes(proof[32:]))
    bad_pkg = frost.DkgRound1Package(pkg.identifier, pkg.commitment, bytes(proof))
    bad = resigned(w, cb, {**cb.payload, "package": b64e(bad_pkg.to_bytes())})
    code, out, err = ct("ceremony", "collect", put(tmp_path / "r0.ctm", dkg), put(tmp_path / "a.ctm", ca),
                        put(tmp_path / "b.ctm", bad), put(tmp_path / "c.ctm", cc), "-o", tmp_path / "r1.ctm")
    assert (code, out) == (11, "")
    assert errlines(err) == ["error: invalid proof of knowledge from bob",
                             "hint: that keyholder's round-1 message is faulty or forged; restart the keygen without it"]
    # a keyholder shown the bad proof (coordinator did not check) blames bob too
    r1 = make_bulletin(dkg, "round1", [ca, bad, cc], {})
    with pytest.raises(CeremonyError) as e:
        w["sim"].step("carol", r1)
    assert e.value.message == "invalid proof of knowledge from bob"


def test_bad_dkg_share_names_sender(w, tmp_path):
    dkg = open_dkg(w)
    r1 = collect(dkg, steps(w, dkg, THREE))
    sa, sb, sc = steps(w, r1, THREE)
    # bob (faulty) sends alice (identifier 1) a share that is not f_bob(1), sealed to her: only she can tell
    alice_pub = w["sim"].publics["alice"]
    wrong = scalar_plus_one(os.urandom(31) + b"\x00")
    shares = {**sb.payload["shares"], "1": b64e(seal_to(alice_pub, wrong))}
    bad = resigned(w, sb, {**sb.payload, "shares": shares})
    r2 = collect(r1, [sa, bad, sc])
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", put(tmp_path / "r2.ctm", r2),
                        "-o", tmp_path / "x.ctm", "--yes")
    assert code == 11
    assert errlines(err)[-2:] == ["error: invalid secret share from bob",
                                  "hint: that keyholder's round-2 message is faulty or malicious; restart without it"]
    # carol, who got a good share from bob, goes on
    assert w["sim"].step("carol", r2).round == "confirm"


def test_dkg_share_that_does_not_open_names_sender(w):
    dkg = open_dkg(w)
    r1 = collect(dkg, steps(w, dkg, THREE))
    sa, sb, sc = steps(w, r1, THREE)
    shares = {**sb.payload["shares"], "1": sb.payload["shares"]["3"]}   # carol's sealed share, sent to alice
    r2 = collect(r1, [sa, resigned(w, sb, {**sb.payload, "shares": shares}), sc])
    with pytest.raises(CeremonyError) as e:
        w["sim"].step("alice", r2)
    assert e.value.message == "the round-2 share from 'bob' does not open"
    assert e.value.hints == ("that keyholder's reply is faulty or was altered",)


def test_bad_keygen_record_share_names_sender(w):
    dkg = open_dkg(w)
    msg = dkg
    for _ in range(3):
        msg = collect(msg, steps(w, msg, THREE))
    sa, sb, sc = steps(w, msg, THREE)
    bad = resigned(w, sc, {**sc.payload, "new": b64e(scalar_plus_one(b64d(sc.payload["new"], "share")))})
    with pytest.raises(SignatureInvalid) as e:
        collect(msg, [sa, sb, bad])
    assert e.value.message.startswith("invalid signature share from carol (new group signature of keyholder set "
                                      "'coop2' epoch 1 (")


# ================================================================ every refusal with its hint

DAMAGED = "hint: the message is damaged or was not written by ct; ask its sender for it again"


def test_a_directory_for_the_message(w, tmp_path):
    for cmd in ("step", "status"):
        code, out, err = ct("ceremony", cmd, tmp_path)
        assert (code, out) == (10, "")
        assert errlines(err) == [f"error: message is a directory: {tmp_path}",
                                 "hint: give the path of the ceremony message file, e.g. req.ctm"]


def _forged(path, **fields):
    """A ceremony message file, canonical, with fields replaced (the format's other checks pass)."""
    d = {"type": "ct-ceremony-message", "version": 2, "ceremony": "ab" * 16, "kind": "sign", "round": "request",
         "sender": "coordinator", "payload": {}} | fields
    path.write_bytes(canonical_json(d) + b"\n")
    return path


@pytest.mark.parametrize("fields, line", [
    ({"payload": []}, "payload must be an object"),
    ({"round": 12345}, "has an invalid round 12345"),
    ({"round": "Request\x1b[31m"}, "has an invalid round 'Request\\x1b[31m'"),
    ({"sender": "x" * 100}, f"has an invalid sender '{'x' * 40}…' (100 characters)"),
    ({"ceremony": "zz"}, "has an invalid ceremony id 'zz'"),
    ({"sender": "alice"}, "from 'alice' is not signed"),
    ({"auth": {"alg": "ed25519"}}, ": signature object: missing field(s) keyid, sig"),
    ({"extra": 1}, "has unexpected or missing fields: 'extra'"),
])
def test_malformed_message_says_what_to_do(w, tmp_path, fields, line):
    path = _forged(tmp_path / "req.ctm", **fields)
    for cmd in ("step", "status"):
        code, out, err = ct("ceremony", cmd, path)
        assert (code, out) == (10, "")
        lines = errlines(err)
        assert lines[0] == f"error: message {path} {line}".replace(f"{path} :", f"{path}:")
        assert lines[1:] == (["hint: members sign every message they send"] if "not signed" in line else
                             ["hint: a signature has exactly alg, keyid and sig", DAMAGED] if "signature" in line else
                             [DAMAGED])


def test_keygen_name_is_a_usage_error(w, tmp_path):
    pubs = [os.path.join(home(w, n), "keys", f"{n}.pub") for n in ("alice", "bob")]
    for name, shown in (("c\x07d", "'c\\x07d'"), ("Coop", "'Coop'"), ("a" * 65, f"'{'a' * 40}…' (65 characters)")):
        code, out, err = ct("ceremony", "keygen", "--threshold", "2", "--member", pubs[0], "--member", pubs[1],
                            "--name", name, "-o", tmp_path / "r0.ctm")
        assert (code, out) == (64, "")
        assert errlines(err) == [f"error: invalid keyholder-set name {shown}",
                                 "hint: a keyholder-set name is 1-64 characters: lowercase letters, digits, '.', '_' "
                                 "or '-', starting with a letter or digit (e.g. --name coop-tools)"]
        assert os.listdir(tmp_path) == []


def test_rotation_removing_too_many(w, tmp_path):
    code, out, err = ct("ceremony", "rotate", "--group", w["root"] / "keyholders.json", "--remove", "alice",
                        "--remove", "bob", "--remove", "carol", "-o", tmp_path / "r.ctm")
    assert (code, out) == (64, "")
    assert errlines(err) == ["error: a keyholder set needs at least 2 members; this one would have 0",
                             "hint: add members with --add, or remove fewer"]
    assert os.listdir(tmp_path) == []


def test_a_bundle_given_for_a_message(w, tmp_path):
    app = str(w["root"] / "app.ctp")
    for argv in (["script", app, "-o", tmp_path / "s.md"], ["step", app], ["status", app],
                 ["collect", app, app, "-o", tmp_path / "n.ctm"]):
        code, out, err = ct("ceremony", *argv)
        assert (code, out) == (10, "")
        assert errlines(err) == [
            "error: app.ctp is a .ctp bundle, not a ceremony message",
            "hint: this is a bundle: 'ct ceremony script|step|status|collect' take ceremony messages (.ctm), e.g. "
            f"the request 'ct ceremony sign' wrote; to open a signing of this bundle: 'ct ceremony sign {app} "
            "--group KEYHOLDERS.json -o req.ctm'"]
    assert os.listdir(tmp_path) == []


def test_malformed_payload_says_what_to_do(w, tmp_path):
    """A payload field of the wrong type (checked by the payload's parser, not Message.parse) gets the
    same hint as a malformed message."""
    req = open_sign(w)
    bad = Message(req.ceremony, "sign", "request", "coordinator", req.payload | {"signers": ["alice", 5]})
    path = tmp_path / "req.ctm"
    path.write_bytes(bad.to_bytes())
    code, out, err = ct("--home", home(w, "bob"), "ceremony", "step", path, "-o", tmp_path / "b.ctm", "--yes")
    assert (code, out) == (10, "")
    assert errlines(err) == ["error: signing request: signers must be a list of strings", DAMAGED]
    assert not (tmp_path / "b.ctm").exists()
