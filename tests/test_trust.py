"""Trust that only moves forward (spec/keyholder-set.md §Lineage, §Closing an epoch, §Retired shares):
the record's closed_releases, lineage rules, the home's TrustStore (checkpoints, forks) and retired shares."""

from __future__ import annotations

import hashlib
import json
import os

import pytest
from test_bundle_support import Coop

from cerro_torre.governance.keyholders import KeyholderSet, walk_chain
from cerro_torre.governance.trust import Knowledge, TrustStore
from cerro_torre.keys.keyfile import KDFParams, seal
from cerro_torre.keys.shares import ShareSet, ShareStore
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import canonical_json
from cerro_torre.suites.errors import CeremonyError, KeyNotTrusted, Malformed
from cerro_torre.suites.suite import keyid_of

WEAK = KDFParams(time_cost=1, memory_kib=64, parallelism=1)
PASS = b"correct horse battery staple"
D1 = hashlib.sha256(b"release one").hexdigest()
D2 = hashlib.sha256(b"release two").hexdigest()


@pytest.fixture(scope="module")
def lineage():
    """coop epoch 1 -> epoch 2 (keeps D1), and a fork: another epoch 2 signed by the same epoch 1."""
    c1 = Coop(name="coop", prefix="a")
    r1 = c1.self_signed()
    c2 = Coop(name="coop", epoch=2, previous=r1, prefix="b", closed_releases=(D1,))
    r2 = c1.rotate_to(c2)
    f2 = Coop(name="coop", epoch=2, previous=r1, prefix="f")
    fork2 = c1.rotate_to(f2)
    c3 = Coop(name="coop", epoch=3, previous=r2, prefix="c")
    r3 = c2.rotate_to(c3)
    return c1, c2, c3, f2, r1, r2, r3, fork2


# ------------------------------------------------------------------ closed_releases in the record

def test_closed_releases_is_null_for_the_root_and_a_sorted_list_after(lineage):
    _c1, _c2, _c3, _f2, r1, r2, r3, _fork2 = lineage
    assert json.loads(r1.to_bytes())["body"]["closed_releases"] is None
    assert json.loads(r2.to_bytes())["body"]["closed_releases"] == [D1]
    assert json.loads(r3.to_bytes())["body"]["closed_releases"] == []
    # the constructor sorts and de-duplicates
    rec = KeyholderSet(r2.name, 2, r2.suite, r2.threshold, r2.created, r2.expires, r2.group_public_key,
                       r2.members, r2.previous, (D2, D1, D2))
    assert rec.closed_releases == tuple(sorted((D1, D2)))
    assert rec.closes(D1) and rec.closes(D2) and not r3.closes(D1) and not r1.closes(D1)
    with pytest.raises(ValueError, match="a root keyholder set closes no releases"):
        KeyholderSet(r1.name, 1, r1.suite, r1.threshold, r1.created, r1.expires, r1.group_public_key,
                     r1.members, None, (D1,))


def test_closed_releases_is_signed(lineage):
    """The list is part of the body: changing it changes the fingerprint and breaks every signature."""
    _c1, _c2, _c3, _f2, r1, r2, _r3, _fork2 = lineage
    d = json.loads(r2.to_bytes())
    d["body"]["closed_releases"] = sorted([D1, D2])
    forged = KeyholderSet.from_bytes(canonical_json(d) + b"\n")
    assert forged.fingerprint != r2.fingerprint
    res = walk_chain([r1, forged], {r1.fingerprint.full_hex})
    assert res.error.exit_code == 2
    assert res.error.message.startswith(f"{forged.describe()} is not signed by the threshold of epoch 1: "
                                        "ed25519 0 of 1 (invalid: group of coop epoch 1)")


@pytest.mark.parametrize("mutate, msg", [
    (lambda b: b.update(closed_releases=[]), "closed_releases must be null for a root (epoch 1)"),
    (lambda b: b.pop("closed_releases"), "unexpected fields: closed_releases"),
])
def test_root_closed_releases_strictness(lineage, mutate, msg):
    d = json.loads(lineage[4].to_bytes())
    mutate(d["body"])
    with pytest.raises(Malformed) as e:
        KeyholderSet.from_bytes(canonical_json(d) + b"\n", "r.json")
    assert e.value.message == f"r.json: {msg}" or e.value.message == f"r.json has {msg}"


@pytest.mark.parametrize("value, msg", [
    (None, "closed_releases must be a list of sha256 digests (64 lowercase hex)"),
    ([D1.upper()], "closed_releases must be a list of sha256 digests (64 lowercase hex)"),
    ([D1[:63]], "closed_releases must be a list of sha256 digests (64 lowercase hex)"),
    ([1], "closed_releases must be a list of sha256 digests (64 lowercase hex)"),
    (sorted([D1, D2], reverse=True), "closed_releases must be sorted and without duplicates"),
    ([D1, D1], "closed_releases must be sorted and without duplicates"),
])
def test_rotation_closed_releases_strictness(lineage, value, msg):
    d = json.loads(lineage[5].to_bytes())
    d["body"]["closed_releases"] = value
    with pytest.raises(Malformed) as e:
        KeyholderSet.from_bytes(canonical_json(d) + b"\n", "r.json")
    assert e.value.message == f"r.json: {msg}"


# ------------------------------------------------------------------ lineage rules

def test_epoch_follows_previous_and_only_the_root_has_none(lineage):
    d = json.loads(lineage[5].to_bytes())
    d["body"]["epoch"] = 3
    with pytest.raises(Malformed) as e:
        KeyholderSet.from_body(d["body"], "r")
    assert e.value.message == "r: epoch 3 names epoch 1 as its previous set; a rotation follows epoch 2"
    d = json.loads(lineage[4].to_bytes())
    d["body"]["epoch"] = 2
    with pytest.raises(Malformed) as e:
        KeyholderSet.from_body(d["body"], "r")
    assert e.value.message == "r: epoch 2 has no previous set; only the root (epoch 1) has none"


def test_a_chain_keeps_its_name_and_skips_no_epoch(lineage):
    _c1, c2, _c3, _f2, r1, r2, r3, _fork2 = lineage
    res = walk_chain([r1, r3], {r1.fingerprint.full_hex})
    assert isinstance(res.error, Malformed)
    assert res.error.message == "keyholder chain: epoch 3 follows epoch 1; the record of epoch 2 is missing"
    other = Coop(name="other", epoch=3, previous=r2, prefix="o")
    rec = c2.rotate_to(other)
    res = walk_chain([r1, r2, rec], {r1.fingerprint.full_hex})
    assert isinstance(res.error, Malformed)
    assert res.error.message == "keyholder chain mixes sets 'coop' and 'other'; a set's name never changes"


# ------------------------------------------------------------------ the home's TrustStore

def test_trust_store_add_get_latest(tmp_path, lineage):
    _c1, _c2, _c3, _f2, r1, r2, r3, _fork2 = lineage
    ts = TrustStore(str(tmp_path / "h"))
    assert ts.latest("coop") is None and ts.checkpoints("coop") == {} and ts.get(r1.fingerprint.full_hex) is None
    assert ts.add([r1, r2]) == [r1, r2]
    assert ts.add([r1, r2]) == []                       # nothing new: nothing written
    assert ts.checkpoints("coop") == {1: r1.fingerprint.full_hex, 2: r2.fingerprint.full_hex}
    assert ts.latest("coop") == r2 and ts.record_at("coop", 1) == r1 and ts.get(r2.fingerprint.full_hex) == r2
    assert ts.add([r2, r3]) == [r3]
    assert ts.latest("coop") == r3
    # the stored files: canonical record bytes, and the checkpoints document
    g = tmp_path / "h" / "governance"
    assert (g / "coop" / f"{2:016d}-{r2.fingerprint.full_hex}.json").read_bytes() == r2.to_bytes()
    doc = json.loads((g / "checkpoints.json").read_bytes())
    assert doc == {"type": "ct-checkpoints", "version": 1, "checkpoints": {"coop": {
        "1": r1.fingerprint.full_hex, "2": r2.fingerprint.full_hex, "3": r3.fingerprint.full_hex}}}
    assert (g / "checkpoints.json").read_bytes() == canonical_json(doc) + b"\n"
    assert not [n for n in os.listdir(g) if n.startswith(".ct-tmp-")]


def test_trust_store_refuses_a_fork_naming_both(tmp_path, lineage):
    _c1, _c2, _c3, _f2, r1, r2, r3, fork2 = lineage
    home = str(tmp_path / "h")
    ts = TrustStore(home)
    ts.add([r1, r2])
    before = (tmp_path / "h" / "governance" / "checkpoints.json").read_bytes()
    with pytest.raises(KeyNotTrusted) as e:
        ts.add([r1, fork2], "the bundle's chain")
    assert e.value.message == (
        f"fork: two different records claim epoch 2 of keyholder set 'coop': {r2.fingerprint.hex} "
        f"(checkpoint of {home}) and {fork2.fingerprint.hex} (the bundle's chain)")
    assert e.value.hints[-1] == f"full fingerprints: {r2.fingerprint.full_hex} and {fork2.fingerprint.full_hex}"
    assert (tmp_path / "h" / "governance" / "checkpoints.json").read_bytes() == before
    # a record that names a different previous than the checkpoint is a fork one epoch down
    ts2 = TrustStore(str(tmp_path / "h2"))
    ts2.add([r1, fork2])
    with pytest.raises(KeyNotTrusted) as e:
        ts2.add([r3])
    assert e.value.message.startswith("fork: two different records claim epoch 2 of keyholder set 'coop': "
                                      f"{fork2.fingerprint.hex} (checkpoint of ")
    # and a record the stored next epoch does not follow
    ts3 = TrustStore(str(tmp_path / "h3"))
    ts3.add([r2, r3])
    with pytest.raises(KeyNotTrusted) as e:
        ts3.add([fork2])
    assert e.value.message.startswith(f"fork: two different records claim epoch 2 of keyholder set 'coop': "
                                      f"{r2.fingerprint.hex} (checkpoint of ")
    # two records of one epoch in one call
    with pytest.raises(KeyNotTrusted, match="fork: two different records claim epoch 2"):
        TrustStore(str(tmp_path / "h4")).add([r1, r2, fork2])
    assert not os.path.exists(tmp_path / "h4" / "governance" / "checkpoints.json")


def test_knowledge_merges_policy_and_home_and_refuses_when_they_disagree(tmp_path, lineage):
    _c1, _c2, _c3, _f2, r1, r2, _r3, fork2 = lineage
    ts = TrustStore(str(tmp_path / "h"))
    ts.add([r1, r2])
    k = Knowledge([(r1, "policy p.json")], ts)
    lin = k.lineage("coop")
    assert sorted(lin.by_epoch) == [1, 2] and lin.newest.fingerprint == r2.fingerprint.full_hex
    assert lin.by_epoch[2].record == r2 and k.anchors == {r1.fingerprint.full_hex}
    with pytest.raises(KeyNotTrusted) as e:
        Knowledge([(fork2, "policy p.json")], ts).lineage("coop")
    assert e.value.message == (
        f"fork: two different records claim epoch 2 of keyholder set 'coop': {fork2.fingerprint.hex} "
        f"(policy p.json) and {r2.fingerprint.hex} (checkpoint of {ts.home})")


# ------------------------------------------------------------------ retired shares

def _share(home: str, dealer, i: int, rec=None) -> ShareStore:
    """Store member i's dealt share: for record ``rec`` (named by its fingerprint), or as a home written before
    shares were named by record did (``<group keyid>.share``, label ``ct-share:<group keyid>``, no status)."""
    s = ShareStore(home, params=WEAK, allow_weak=True)
    kp = dealer.shares[i].key_package()
    if rec is not None:
        s.store(kp, ShareSet(rec.name, rec.epoch, rec.fingerprint.full_hex, rec.group_public_key), PASS)
        return s
    kid = keyid_of(kp.group_public_key)
    os.makedirs(s.dir, exist_ok=True)
    with open(os.path.join(s.dir, kid + ".share"), "wb") as f:
        f.write(seal(kp.to_bytes(), PASS, "ct-share:" + kid, WEAK, allow_weak=True))
    return s


def test_share_retire_list_and_load(tmp_path):
    dealer = frost.trusted_dealer_keygen(3, 2)
    home = str(tmp_path / "h")
    gpk = dealer.group_public_key
    kid = keyid_of(gpk)
    ss = ShareSet("coop", 1, "ab" * 32, gpk)
    s = _share(home, dealer, 0)
    (e,) = s.list()
    assert (e.keyid, e.status, e.set_name, e.group_public_key, e.stem) == (kid, "active", None, None, kid)
    assert s.assign(ss) is True and s.assign(ss) is False
    y = dealer.shares[0].key_package().verifying_share
    assert s.load(ss, y, PASS).to_bytes() == dealer.shares[0].key_package().to_bytes()
    assert s.retire(ss, "keyholder set 'coop' epoch 1 was superseded by epoch 2 (fingerprint 0000)") is True
    assert s.retire(ss, "again") is False
    (e,) = s.list()
    assert (e.status, e.set_name, e.epoch, e.fingerprint, e.group_public_key) == ("retired", "coop", 1, "ab" * 32, gpk)
    assert e.reason == "keyholder set 'coop' epoch 1 was superseded by epoch 2 (fingerprint 0000)"
    with pytest.raises(CeremonyError) as err:
        s.load(ss, y, PASS)
    assert err.value.exit_code == 11
    assert err.value.message == (f"the share of group key {kid} is retired: keyholder set 'coop' epoch 1 was "
                                 "superseded by epoch 2 (fingerprint 0000)")
    # a fresh ShareStore object reads the same durable status
    with pytest.raises(CeremonyError):
        ShareStore(home, params=WEAK, allow_weak=True).load(ss, y, PASS)
    other = frost.trusted_dealer_keygen(3, 2)
    assert s.retire(ShareSet("coop", 1, "cd" * 32, other.group_public_key), "no share here") is False


def test_shares_are_named_by_record_and_a_deleted_one_is_gone(tmp_path):
    """Two records with one group key (a keep-key rotation): two shares side by side; deleting the first
    unlinks its sealed file and its status says why; loading it is refused (exit 11)."""
    dealer = frost.trusted_dealer_keygen(3, 2)
    gpk = dealer.group_public_key
    e1, e2 = ShareSet("coop", 1, "ab" * 32, gpk), ShareSet("coop", 2, "cd" * 32, gpk)
    home = str(tmp_path / "h")
    s = ShareStore(home, params=WEAK, allow_weak=True)
    k1, k2 = dealer.shares[0].key_package(), dealer.shares[1].key_package()
    s.store(k1, e1, PASS)
    s.store(k2, e2, PASS)
    assert sorted(os.listdir(s.dir)) == ["ab" * 32 + ".json", "ab" * 32 + ".share", "cd" * 32 + ".json",
                                         "cd" * 32 + ".share"]
    assert s.load(e2, k2.verifying_share, PASS).to_bytes() == k2.to_bytes()
    with pytest.raises(CeremonyError) as err:      # epoch 1's file holds another share than the one asked
        s.load(e1, k2.verifying_share, PASS)
    assert err.value.message == f"the share in {s.dir}/{'ab' * 32}.share is not this member's share of " \
                                "keyholder set 'coop' epoch 1"
    assert s.delete(e1, "superseded") is True and s.delete(e1, "again") is False
    assert not os.path.exists(os.path.join(s.dir, "ab" * 32 + ".share"))
    assert [(e.epoch, e.status, e.reason) for e in s.list()] == [(1, "deleted", "superseded"), (2, "active", None)]
    with pytest.raises(CeremonyError) as err:
        s.load(e1, k1.verifying_share, PASS)
    assert (err.value.exit_code, err.value.message) == (
        11, f"the share of group key {keyid_of(gpk)} for keyholder set 'coop' epoch 1 was deleted: superseded")
    assert s.load(e2, k2.verifying_share, PASS).to_bytes() == k2.to_bytes()


def test_storing_a_later_record_retires_the_superseded_share(tmp_path, lineage):
    """An older home's share (named by its group key) learns its set and is retired when the next epoch has a
    new group key; the share of the next epoch (named by its record) stays active."""
    c1, c2, _c3, _f2, r1, r2, _r3, _fork2 = lineage
    home = str(tmp_path / "h")
    old = _share(home, c1.dealer, 0)
    _share(home, c2.dealer, 1, r2)
    ts = TrustStore(home)
    ts.add([r1])
    assert [(e.set_label, e.status) for e in old.list()] == [("coop epoch 1", "active"), ("coop epoch 2", "active")]
    ts.add([r1, r2])
    entries = {e.keyid: e for e in old.list()}
    e1, e2 = entries[r1.group_keyid], entries[r2.group_keyid]
    assert (e1.set_label, e1.status, e1.stem) == ("coop epoch 1", "retired", r1.group_keyid)
    assert e1.reason == f"keyholder set 'coop' epoch 1 was superseded by epoch 2 (fingerprint {r2.fingerprint.hex})"
    assert (e2.set_label, e2.status, e2.fingerprint) == ("coop epoch 2", "active", r2.fingerprint.full_hex)
    s1 = ShareSet("coop", 1, r1.fingerprint.full_hex, r1.group_public_key)
    s2 = ShareSet("coop", 2, r2.fingerprint.full_hex, r2.group_public_key)
    with pytest.raises(CeremonyError, match="is retired: keyholder set 'coop' epoch 1 was superseded"):
        old.load(s1, c1.dealer.shares[0].key_package().verifying_share, PASS)
    kp2 = c2.dealer.shares[1].key_package()
    assert old.load(s2, kp2.verifying_share, PASS).to_bytes() == kp2.to_bytes()
