"""Keygen and rotation: every field of the record body the members sign is shown and checked against what the
keyholder's home knows (issue 9); a rotation closes the old epoch (closed_releases from the homes' signed.log);
the outgoing signing set is fixed at the request; the final record reaches the homes, which retire the shares
it supersedes.

Each forged request below is accepted by main before this change (the template came from the coordinator
unchecked); here every keyholder refuses it (exit 11) before doing anything."""

from __future__ import annotations

import datetime as dt
import hashlib
import os

import pytest
from ceremony_sim import PASS, Sim, cross, collect

from cerro_torre.ceremony import keygen, signing
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import make_bulletin
from cerro_torre.ceremony.signedlog import SignedLog
from cerro_torre.ceremony.statement import make_statement
from cerro_torre.governance.keyholders import format_time, now_utc
from cerro_torre.suites.errors import CeremonyError, KeyNotTrusted

FIVE = ["alice", "bob", "carol", "dave", "erin"]
BAD = "the coordinator's request is inconsistent; refuse it and tell the other keyholders"


def statement(version: str) -> bytes:
    return make_statement([("app.txt", "a" * 64)], {"package": {"name": "app", "version": version}})


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    root = tmp_path_factory.mktemp("rot")
    sim = Sim(str(root / "homes"), FIVE + ["frank"])
    rec = sim.keygen(FIVE, 3)
    for n in FIVE:
        sim.holders[n].store_record(rec, "keyholders.json")
    # alice, bob and carol sign two releases with epoch 1
    for v in ("1.0", "1.1"):
        req = signing.open_sign(statement(v), [rec], ["alice", "bob", "carol"], stock=False)
        pkg = collect(req, [sim.step(n, req) for n in ("alice", "bob", "carol")])
        collect(pkg, [sim.step(n, pkg) for n in ("alice", "bob", "carol")])
    return {"root": root, "sim": sim, "rec": rec}


def closed(w) -> list[str]:
    return sorted(hashlib.sha256(statement(v)).hexdigest() for v in ("1.0", "1.1"))


def rotation(w, **kw) -> Message:
    sim = w["sim"]
    members = [sim.publics[n] for n in ("alice", "bob", "carol", "dave", "frank")]
    kw.setdefault("closed_releases", closed(w))
    return keygen.open_keygen("coop", members, 2, previous=w["rec"], **kw)


def edited(req: Message, **template) -> Message:
    return Message(req.ceremony, req.kind, req.round, req.sender,
                   {**req.payload, "template": {**req.payload["template"], **template}})


def refused(w, name: str, msg: Message) -> CeremonyError:
    with pytest.raises(CeremonyError) as e:
        w["sim"].holders[name].prepare(cross(msg))
    return e.value


# ---------------------------------------------------------------- signed.log

def test_homes_log_what_they_sign(w):
    fp = w["rec"].fingerprint.full_hex
    for n in ("alice", "bob", "carol"):
        got = SignedLog(w["sim"].holders[n].path).under(fp)
        assert [(e.release, e.statement, e.name, e.epoch) for e in got] == [
            ("app 1.0", hashlib.sha256(statement("1.0")).hexdigest(), "coop", 1),
            ("app 1.1", hashlib.sha256(statement("1.1")).hexdigest(), "coop", 1)]
    assert SignedLog(w["sim"].holders["dave"].path).entries() == []


# ---------------------------------------------------------------- closed releases

def test_old_member_refuses_a_rotation_that_drops_its_release(w):
    req = rotation(w, closed_releases=closed(w)[:1])
    e = refused(w, "bob", req)
    kept = closed(w)[0]
    dropped = next(v for v in ("1.0", "1.1") if hashlib.sha256(statement(v)).hexdigest() != kept)
    assert e.message == (f"'bob' signed release app {dropped} (statement sha256 "
                         f"{hashlib.sha256(statement(dropped)).hexdigest()}) with epoch 1, which this rotation's "
                         "closed_releases leaves out")
    # dave signed nothing with epoch 1: nothing to object to
    assert w["sim"].holders["dave"].prepare(cross(req)).member == "dave"


def test_rotation_summary_shows_every_field(w):
    req = rotation(w)
    lines = w["sim"].holders["carol"].prepare(cross(req)).summary
    t = req.payload["template"]
    rec = w["rec"]
    assert lines[:4] == ["rotation of keyholder set 'coop': epoch 1 -> epoch 2: removes erin, adds frank, "
                         "threshold 3 -> 2",
                         "  suite CT-SIG-02, threshold 2 of 5",
                         f"  created {t['created']}, expires {t['expires']}",
                         "  members (index, id, identity key fingerprint):"]
    for i, n in enumerate(["alice", "bob", "carol", "dave", "frank"]):
        fp = w["sim"].publics[n].fingerprint
        assert lines[4 + i] == f"    {i + 1:>3} {n:<16} {fp.hex}  {fp.words}"
    assert lines[9:16] == [
        f"  previous: epoch 1, fingerprint {rec.fingerprint.full_hex}",
        f"            {rec.fingerprint.words}; 3 of 5: alice, bob, carol, dave, erin",
        "  closed_releases: 2 release(s) of epoch 1 stay valid; verifiers that know epoch 2 refuse any other "
        "release of epoch 1",
        f"    {closed(w)[0]}", f"    {closed(w)[1]}",
        "  epoch 1 members signing this record with its group key: alice, bob, carol, dave; may confirm: erin",
        "  this home signed 2 release(s) with epoch 1: every one is in closed_releases"]


# ---------------------------------------------------------------- the template checked

def test_forged_previous_fingerprint_is_a_fork(w):
    """A rotation naming another record as epoch 1: every home that keeps epoch 1 refuses it, naming both."""
    req = edited(rotation(w), previous={"epoch": 1, "fingerprint": "ab" * 32})
    with pytest.raises(KeyNotTrusted) as e:
        w["sim"].holders["alice"].prepare(cross(req))
    fp = w["rec"].fingerprint.full_hex
    assert e.value.message == (f"fork: two different records claim epoch 1 of keyholder set 'coop': "
                               f"{' '.join(fp[i:i + 4] for i in range(0, 16, 4))} (checkpoint of "
                               f"{w['sim'].holders['alice'].path}) and abab abab abab abab (the rotation request)")
    assert e.value.exit_code == 3


@pytest.mark.parametrize("change,message", [
    ({"epoch": 3}, "the record would be epoch 3; a rotation of epoch 1 makes epoch 2"),
    ({"name": "coop2"}, "the record is named 'coop2'; a rotation of 'coop' keeps its name"),
    ({"closed_releases": ["ff" * 32, "00" * 32]}, "the record's closed_releases is not a sorted list of sha256 digests"),
    ({"expires": "2199-01-01T00:00:00Z"}, "the record would expire at 2199-01-01T00:00:00Z, not within 3660 days "
                                          "after it is created ({created})"),
    ({"threshold": 6}, "the record's threshold 6 is out of range for 5 members"),
])
def test_forged_template_refused(w, change, message):
    req = rotation(w)
    e = refused(w, "alice", edited(req, **change))
    assert e.message == message.replace("{fp}", w["rec"].fingerprint.full_hex).replace(
        "{created}", req.payload["template"]["created"])
    assert e.hints == (BAD,)
    assert e.exit_code == 11


def test_record_dates_checked_against_the_keyholders_clock(w):
    now = now_utc()
    future = keygen.open_keygen("dated", [w["sim"].publics[n] for n in ("alice", "bob")], 2,
                                now=now + dt.timedelta(days=3))
    e = refused(w, "alice", future)
    assert e.message.startswith(f"the record would be created at {format_time(now + dt.timedelta(days=3))}, "
                                "in the future (this machine's clock says ")
    old = keygen.open_keygen("dated", [w["sim"].publics[n] for n in ("alice", "bob")], 2,
                             now=now - dt.timedelta(days=40))
    e = refused(w, "alice", old)
    assert e.message.startswith(f"the record would be created at {format_time(now - dt.timedelta(days=40))}, more "
                                "than 30 days ago")
    assert e.hints == ("the coordinator's clock or this machine's is wrong; check both before going on",)


def test_outgoing_members_identity_must_be_the_records(w):
    """An outgoing member's identity key in the request is not the one epoch 1's record names (a coordinator
    that swapped erin's key, to confirm in her name): the members who keep epoch 1 refuse it."""
    req = rotation(w)
    people = [p if p["id"] != "erin" else {**w["sim"].publics["frank"].to_json(), "id": "erin"}
              for p in req.payload["participants"]]
    bad = Message(req.ceremony, req.kind, req.round, req.sender, {**req.payload, "participants": people})
    e = refused(w, "alice", bad)
    assert e.message == "the request's members of epoch 1 are not the ones its record names"
    assert e.hints == (BAD,)


# ---------------------------------------------------------------- lineage: what the home already knows

def test_new_keygen_of_a_known_name_would_fork(w):
    req = keygen.open_keygen("coop", [w["sim"].publics[n] for n in ("alice", "bob")], 2)
    e = refused(w, "alice", req)
    assert e.message == ("this home already knows keyholder set 'coop' (epochs 1..1); a new keygen of that name "
                         "would fork its lineage")


def test_rotation_of_another_epoch_1_is_a_fork(w, tmp_path):
    """A 'rotation' from a different root record under the same name: refused naming both fingerprints."""
    sim = w["sim"]
    other = Sim(str(tmp_path / "o"), ["x", "y"])
    fork_root = other.keygen(["x", "y"], 2, name="coop")
    req = keygen.open_keygen("coop", [sim.publics["alice"], sim.publics["bob"], other.publics["x"],
                                      other.publics["y"]], 2, previous=fork_root)
    with pytest.raises(KeyNotTrusted) as e:
        sim.holders["alice"].prepare(cross(req))
    assert e.value.message == (
        f"fork: two different records claim epoch 1 of keyholder set 'coop': "
        f"{' '.join(w['rec'].fingerprint.full_hex[i:i + 4] for i in range(0, 16, 4))} (checkpoint of "
        f"{sim.holders['alice'].path}) and "
        f"{' '.join(fork_root.fingerprint.full_hex[i:i + 4] for i in range(0, 16, 4))} (the rotation request)")


# ---------------------------------------------------------------- the outgoing signing set is fixed

def test_package_with_another_old_signing_set_is_refused(w):
    """The coordinator may not pick, at package time, which outgoing members sign with the old group."""
    sim = w["sim"]
    req = rotation(w, old_signers=["alice", "bob", "carol"])
    assert req.payload["old_signers"] == ["alice", "bob", "carol"]
    new = ["alice", "bob", "carol", "dave", "frank"]
    msg = req
    for rnd in ("request", "round1"):
        msg = collect(msg, [sim.step(n, msg) for n in new])
    confirms = [sim.step(n, msg) for n in new]
    pkg = collect(msg, confirms)
    assert pkg.payload["signers"] == {"new": new, "old": ["alice", "bob", "carol"]}
    other = make_bulletin(msg, "package", confirms, {"signers": {"new": new, "old": ["alice", "bob", "dave"]}})
    e = refused(w, "bob", other)
    assert e.message == ("the package's signers are not the ones the request fixed (every new member, and "
                         "alice, bob, carol of the outgoing epoch)")


# ---------------------------------------------------------------- the record reaches the homes

def test_record_not_confirmed_here_is_refused(w):
    """A record with the right shape but not the one this home confirmed (here: a different keygen)."""
    sim = w["sim"]
    other = sim.keygen(["bob", "carol"], 2, name="other")
    with pytest.raises(CeremonyError) as e:
        sim.holders["alice"].store_record(other, "other.json")
    assert e.value.message == (f"other.json is {other.describe()}, which this home did not confirm in a ceremony "
                               "and which does not follow a record it keeps")
    # bob confirmed it (Sim.keygen brought it to his home already): keeping it again changes nothing
    stored = sim.holders["bob"].store_record(other, "other.json")
    assert (stored.new, stored.retired) == ([], [])
    assert os.path.exists(sim.holders["bob"].trust.record_path("other", 1, other.fingerprint.full_hex))


def test_a_releases_file_is_read_whole_or_refused(tmp_path, monkeypatch):
    """`ct ceremony rotate --releases FILE` reads every line, or says why not: never a silent first part."""
    from cerro_torre.ceremony import signedlog
    from cerro_torre.suites.errors import Malformed, NotFound

    f = tmp_path / "released.txt"
    f.write_text("# kept\n" + "a" * 64 + "\n\n" + "b" * 64 + "\n")
    assert signedlog.closed_releases([], [str(f)]) == ["a" * 64, "b" * 64]
    monkeypatch.setattr(signedlog, "MAX_LOG", 100)
    with pytest.raises(Malformed) as e:
        signedlog.closed_releases([], [str(f)])
    assert e.value.message == f"releases file {f} is larger than 100 bytes"
    with pytest.raises(NotFound) as e:
        signedlog.closed_releases([], [str(tmp_path / "none.txt")])
    assert (e.value.message, e.value.hints) == (f"releases file not found: {tmp_path / 'none.txt'}", ("check the path",))
    with pytest.raises(Malformed) as e:
        signedlog.closed_releases([], [str(tmp_path)])
    assert e.value.message == f"releases file is a directory: {tmp_path}"
