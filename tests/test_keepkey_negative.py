"""Issue 12, what the keep-key ceremonies refuse (every message serialized and parsed as it crosses,
tests/ceremony_sim): a malicious dealer or helper is named (exit 11), by the coordinator when its public part is
wrong and by the member it cheats when only its secret part is; replays and other ceremonies' replies are refused;
an equivocating dealer (two dealings) is caught by the confirmations, naming who saw the other one; a member that
derived another public key package is named; a request whose kept key or members lie is refused by the homes
that keep the record."""

from __future__ import annotations

import os
import shutil

import pytest
from ceremony_sim import PASS, Sim, collect, cross, view_of

from cerro_torre.ceremony import keygen, repair
from cerro_torre.ceremony.keyholder import share_set
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import make_bulletin
from cerro_torre.keys.identity import seal_to
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64e
from cerro_torre.suites.errors import CeremonyError

THREE = ["alice", "bob", "carol"]
NEW = ["alice", "carol", "dave", "erin"]
BAD = "the coordinator's request is inconsistent; refuse it and tell the other keyholders"


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    root = tmp_path_factory.mktemp("kkneg")
    sim = Sim(str(root / "homes"), THREE + ["dave", "erin"])
    rec = sim.keygen(THREE, 2)
    return {"sim": sim, "rec": rec}


def key(w, name):
    return w["sim"].holders[name].home.load_private(name, PASS)


def resigned(w, msg: Message, payload: dict) -> Message:
    return Message(msg.ceremony, msg.kind, msg.round, msg.sender, payload).signed_by(key(w, msg.sender))


def keep_key(w, **kw) -> Message:
    sim, rec = w["sim"], w["rec"]
    members = keygen.rotation_members(rec, [sim.publics["dave"], sim.publics["erin"]], ["bob"])
    return keygen.open_keygen("coop", members, 3, previous=rec, keep_key=True, **kw)


def deal(w, req: Message, names=("alice", "carol")) -> list[Message]:
    return [w["sim"].step(n, req) for n in names]


def refused(w, name: str, msg: Message) -> CeremonyError:
    with pytest.raises(CeremonyError) as e:
        kh = w["sim"].holders[name]
        kh.answer(kh.prepare(cross(msg)), PASS)
    return e.value


def keep_all(w, msg: Message, names) -> None:
    for n in names:
        kh = w["sim"].holders[n]
        kh.keep(kh.prepare(cross(msg)))


def forged_dealing(w, req: Message, sender: str, *, public_ok: bool, victim: str = "dave") -> Message:
    """``sender``'s deal reply, re-signed by ``sender`` (a malicious dealer): with ``public_ok`` the dealing is
    honest but the share sealed to ``victim`` is another scalar; otherwise the whole dealing is of a share that is
    not the sender's (its constant term does not match the sender's verification share)."""
    plan = keygen.plan_of(view_of(req))
    honest = w["sim"].step(sender, req)
    if public_ok:
        other = frost.trusted_dealer_keygen(2, 2).shares[0].signing_share
        shares = dict(honest.payload["shares"])
        shares[str(plan.new[victim])] = b64e(seal_to(plan.people[victim], other))
        return resigned(w, honest, {**honest.payload, "shares": shares})
    fake = frost.trusted_dealer_keygen(3, 2, identifiers=[1, 2, 3]).shares[plan.old[sender] - 1].key_package()
    if plan.method == "reshare":
        pkg, shares = frost.reshare_deal(fake, [plan.old[s] for s in plan.old_signers], sorted(plan.new.values()),
                                         plan.threshold)
    else:
        pkg, shares = frost.refresh_deal(fake, frost.PublicKeyPackage(
            fake.group_public_key, {i: fake.verifying_share for i in plan.old.values()}, fake.min_signers))
    by_index = {i: mid for mid, i in plan.new.items()}
    sealed = {str(i): b64e(seal_to(plan.people[by_index[i]], s)) for i, s in shares.items() if by_index[i] != sender}
    return resigned(w, honest, {**honest.payload, "package": b64e(pkg.to_bytes()), "shares": sealed})


# ---------------------------------------------------------------- malicious dealers

def test_a_dealing_of_another_share_is_named_by_the_coordinator(w):
    req = keep_key(w)
    bad = forged_dealing(w, req, "alice", public_ok=False)
    carol = w["sim"].step("carol", req)
    with pytest.raises(CeremonyError) as e:
        collect(req, [bad, carol])
    assert (e.value.exit_code, e.value.message) == (11, "invalid reshare dealing from alice")
    assert e.value.hints == ("that keyholder's deal reply is faulty or malicious; open the ceremony again without "
                             "it (a keep-key rotation: other --old-signer members in its place)",)


def test_a_bad_secret_share_is_named_by_the_member_it_was_sealed_to(w):
    req = keep_key(w)
    alice = w["sim"].step("alice", req)
    bad = forged_dealing(w, req, "carol", public_ok=True, victim="dave")
    keep_all(w, req, ["dave", "erin"])
    r1 = collect(req, [alice, bad])             # the public parts are right: the coordinator cannot tell
    e = refused(w, "dave", r1)
    assert (e.exit_code, e.message) == (11, "invalid reshare dealing from carol")
    assert w["sim"].step("erin", r1).round == "confirm"      # erin's share from carol is fine


def test_a_share_that_does_not_open_is_named(w):
    req = keep_key(w)
    alice = w["sim"].step("alice", req)
    carol = w["sim"].step("carol", req)
    plan = keygen.plan_of(view_of(req))
    shares = dict(carol.payload["shares"])
    shares[str(plan.new["erin"])] = shares[str(plan.new["dave"])]      # dave's box, addressed to erin
    bad = resigned(w, carol, {**carol.payload, "shares": shares})
    keep_all(w, req, ["dave", "erin"])
    r1 = collect(req, [alice, bad])
    e = refused(w, "erin", r1)
    assert (e.exit_code, e.message) == (11, "the reshare share from 'carol' does not open")


def test_a_malformed_dealing_is_named(w):
    req = refresh(w)
    r = w["sim"].step("bob", req)
    raw = frost.RefreshPackage.from_bytes(__import__("base64").b64decode(r.payload["package"])).to_bytes()
    broken = raw[:35] + b"\x02" + raw[36:]          # commitment point 0 (after tag, id, t) no longer the identity
    bad = resigned(w, r, {**r.payload, "package": b64e(broken)})
    with pytest.raises(CeremonyError) as e:
        collect(req, [w["sim"].step("alice", req), bad, w["sim"].step("carol", req)])
    assert (e.value.exit_code, e.value.message) == (
        11, "invalid refresh dealing from bob: refresh package commitment point 0 is not the identity")


def refresh(w, **kw) -> Message:
    return keygen.open_refresh(w["rec"], **kw)


def test_refresh_names_a_bad_secret_share(w):
    """Any sharing of zero is a valid refresh dealing in public: the member a wrong share was sealed to names
    its dealer."""
    req = refresh(w)
    bad = forged_dealing(w, req, "bob", public_ok=True, victim="carol")
    r1 = collect(req, [w["sim"].step("alice", req), bad, w["sim"].step("carol", req)])
    e = refused(w, "carol", r1)
    assert (e.exit_code, e.message) == (11, "invalid refresh dealing from bob")


# ---------------------------------------------------------------- malicious repair helpers

@pytest.fixture
def lost(w):
    """bob's share file is gone for the test (put back after)."""
    kh = w["sim"].holders["bob"]
    p = kh.shares.path(share_set(w["rec"]))
    shutil.move(p, p + ".away")
    yield
    shutil.move(p + ".away", p)


def test_a_bad_repair_delta_is_named_by_the_helper_it_was_sealed_to(w, lost):
    req = repair.open_repair(w["rec"], "bob", ["alice", "carol"])
    plan = repair.plan_of(view_of(req))
    a = w["sim"].step("alice", req)
    other = frost.trusted_dealer_keygen(2, 2).shares[0].signing_share
    bad = resigned(w, a, {**a.payload, "deltas": {"3": b64e(seal_to(plan.people["carol"], other))}})
    keep_all(w, req, ["bob"])
    r1 = collect(req, [bad, w["sim"].step("carol", req)])
    assert w["sim"].step("alice", r1).round == "part2"
    e = refused(w, "carol", r1)
    assert (e.exit_code, e.message) == (11, "invalid repair message from alice")
    assert e.hints == ("that helper's reply is faulty or malicious; the coordinator opens the repair again with "
                       "other helpers",)


def test_a_bad_repair_part_is_named_by_the_member_it_restores(w, lost):
    req = repair.open_repair(w["rec"], "bob", ["alice", "carol"])
    plan = repair.plan_of(view_of(req))
    keep_all(w, req, ["bob"])
    r1 = collect(req, [w["sim"].step("alice", req), w["sim"].step("carol", req)])
    keep_all(w, r1, ["bob"])
    c = w["sim"].step("carol", r1)
    other = frost.trusted_dealer_keygen(2, 2).shares[0].signing_share
    bad = resigned(w, c, {"answers": c.payload["answers"], "sigma": b64e(seal_to(plan.people["bob"], other))})
    r2 = collect(r1, [w["sim"].step("alice", r1), bad])
    e = refused(w, "bob", r2)
    assert (e.exit_code, e.message) == (11, "invalid repair message from carol")
    assert not w["sim"].holders["bob"].has_share(w["rec"])


def test_the_lost_member_refuses_a_repair_of_a_share_it_holds(w):
    req = repair.open_repair(w["rec"], "bob", ["alice", "carol"])
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["bob"].prepare(cross(req))
    kh = w["sim"].holders["bob"]
    assert e.value.message == f"this home holds the share of 'bob' in {w['rec'].describe()}: there is nothing to repair"
    assert e.value.hints == (f"a damaged share file is {kh.shares.path(share_set(w['rec']))}: move it away first, "
                             "then step the request again",)


def test_a_forged_repair_request_is_refused(w):
    req = repair.open_repair(w["rec"], "bob", ["alice", "carol"])
    forged = Message(req.ceremony, req.kind, req.round, req.sender, {**req.payload, "helpers": ["alice"]})
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["alice"].prepare(cross(forged))
    assert (e.value.message, e.value.hints) == (
        "the request's helpers are not 2 or more members other than 'bob', sorted", (BAD,))


# ---------------------------------------------------------------- replay and other ceremonies

def test_replayed_and_foreign_replies_are_refused(w):
    req, other = keep_key(w), keep_key(w)
    a = w["sim"].step("alice", other)
    with pytest.raises(CeremonyError) as e:
        collect(req, [a, w["sim"].step("carol", req)])
    assert e.value.message == f"reply from 'alice' belongs to another ceremony ({other.ceremony})"
    # a keyholder answers a round once
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["alice"].prepare(cross(other))
    assert e.value.message == f"'alice' already answered this request message of ceremony {other.ceremony}"
    # a reply of an earlier round given again in a later one
    c = w["sim"].step("carol", other)
    keep_all(w, other, ["bob", "dave", "erin"])
    r1 = collect(other, [a, c])
    with pytest.raises(CeremonyError) as e:
        collect(r1, [a])
    assert e.value.message == "reply from 'alice' is a 'deal' message, expected 'confirm'"
    # a repair's reply is not a rotation's
    rep = repair.open_repair(w["rec"], "bob", ["alice", "carol"])
    with pytest.raises(CeremonyError) as e:
        collect(r1, [w["sim"].step("alice", rep)])
    assert e.value.message == f"reply from 'alice' belongs to another ceremony ({rep.ceremony})"


# ---------------------------------------------------------------- equivocation, and a member that derived another group

def test_a_two_faced_dealer_is_caught_by_the_confirmations(w):
    """carol signs two dealings and the coordinator shows erin the second round-1 message: erin's confirmation
    answers that message, so the collect of the confirmations names her, and a package relaying it anyway is
    refused by every other member before anything is signed."""
    req = keep_key(w)
    a = w["sim"].step("alice", req)
    c1 = w["sim"].step("carol", req)
    plan = keygen.plan_of(view_of(req))
    payload, _ = __import__("cerro_torre.ceremony.reshare", fromlist=["deal"]).deal(
        plan, key(w, "carol"), w["sim"].holders["carol"].load_share(w["rec"], "carol", PASS))
    c2 = Message(req.ceremony, req.kind, "deal", "carol", {"answers": req.digest.hex(), **payload}) \
        .signed_by(key(w, "carol"))
    keep_all(w, req, ["bob", "dave", "erin"])
    r1 = collect(req, [a, c1])
    r1b = make_bulletin(req, "round1", [a, c2], {})
    confirms = [w["sim"].step(n, r1) for n in ["alice", "carol", "dave"]] + [w["sim"].step("erin", r1b)]
    assert confirms[3].payload["record"] != confirms[0].payload["record"]      # she derived another group
    with pytest.raises(CeremonyError) as e:
        collect(r1, confirms)
    assert (e.value.exit_code, e.value.message) == (11, "reply from 'erin' answers another round1 message")
    assert e.value.hints == ("it is replayed, or the coordinator showed this member a different message",)
    package = make_bulletin(r1, "package", confirms, {"signers": {"new": NEW, "old": ["alice", "carol"]}})
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["dave"].prepare(cross(package))
    assert e.value.message == "reply from 'erin' answers another round1 message"


def test_a_member_that_derived_another_public_key_package_is_named(w):
    req = refresh(w)
    r1 = collect(req, [w["sim"].step(n, req) for n in THREE])
    confirms = [w["sim"].step(n, r1) for n in THREE]
    b = confirms[1]
    lie = resigned(w, b, {**b.payload, "record": "ab" * 32})
    with pytest.raises(CeremonyError) as e:
        collect(r1, [confirms[0], lie, confirms[2]])
    assert (e.value.exit_code, e.value.message) == (
        11, "members bob derived a different keyholder set or saw a different round-1 message")
    assert e.value.hints[0].endswith("start a new refresh")


# ---------------------------------------------------------------- requests that lie

def test_a_kept_key_that_is_not_the_previous_records_is_refused(w):
    req = keep_key(w)
    other = frost.trusted_dealer_keygen(2, 2).group_public_key
    forged = Message(req.ceremony, req.kind, req.round, req.sender,
                     {**req.payload, "kept_key": {**req.payload["kept_key"], "group_public_key": b64e(other)}})
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders["alice"].prepare(cross(forged))
    assert (e.value.message, e.value.hints) == (
        "the group key the request keeps is not the one of epoch 1 (its key, threshold and the dealers' verification "
        "shares must be the previous record's)", (BAD,))


def test_a_refresh_that_changes_members_or_threshold_is_refused(w):
    req = refresh(w)
    t = req.payload["template"]
    for template in ({**t, "threshold": 3}, {**t, "members": t["members"][:2]}):
        forged = Message(req.ceremony, req.kind, req.round, req.sender, {"template": template})
        with pytest.raises(CeremonyError) as e:
            w["sim"].holders["carol"].prepare(cross(forged))
        assert e.value.message == (f"a refresh keeps the members and threshold of {w['rec'].describe()}; this "
                                   "request changes them")


def test_keep_key_needs_a_group_key_and_no_dealer(w):
    from cerro_torre.suites.errors import UsageError

    with pytest.raises(UsageError) as e:
        keep_key(w, dealer=True)
    assert e.value.message == "a keep-key rotation has no dealer: the outgoing signers reshare the group key"
    with pytest.raises(UsageError) as e:
        keygen.open_keygen("coop", [w["sim"].publics[n] for n in THREE], 2, keep_key=True)
    assert e.value.message == "only a rotation closes releases, names old signers or keeps the group key"


def test_a_dealer_without_its_share_cannot_deal(w, tmp_path):
    """A dealer's home that lost its epoch-1 share says so (and points to repair)."""
    req = keep_key(w)
    kh = w["sim"].holders["carol"]
    p = kh.shares.path(share_set(w["rec"]))
    os.rename(p, p + ".away")
    try:
        with pytest.raises(Exception) as e:
            kh.answer(kh.prepare(cross(req)), PASS)
        assert (e.value.exit_code, e.value.message) == (
            21, f"this home holds no share of keyholder set 'coop' epoch 1 (group key {w['rec'].group_keyid})")
    finally:
        os.rename(p + ".away", p)
