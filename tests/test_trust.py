"""Trust that only moves forward (spec/keyholder-set.md §Lineage, §Closing an epoch, §Retired shares):
the record's closed_releases, lineage rules, the home's TrustStore (checkpoints, forks) and retired shares."""

from __future__ import annotations

import hashlib
import json
import os
import re

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



# ================================================================== the attacks of issue 9, end to end

class World:
    pass


@pytest.fixture(scope="module")
def rotated(tmp_path_factory):
    """coop epoch 1 (a1, a2, a3; 2 of 3) signs app 1.0; a rotation to epoch 2 (a1, a2, b4) removes a3 and keeps
    app 1.0; then the old epoch's shares (a3, the removed member, with a2) sign app 1.1 (rollback) and a fork
    of epoch 2 of their own choosing signs app 6.6.6."""
    from test_bundle_support import make_payload_dir, pack_unsigned, statement_sha256

    w = World()
    root = tmp_path_factory.mktemp("rotated")
    w.root = root
    w.c1 = Coop(name="coop", prefix="a")
    w.r1 = w.c1.self_signed()

    def unsigned(version: str) -> str:
        src = make_payload_dir(str(root / f"src-{version}"))
        (root / f"src-{version}" / "VERSION").write_text(version + "\n")
        out = str(root / f"unsigned-{version}.ctp")
        pack_unsigned(src, out, name="app", version=version)
        return out

    w.a = str(root / "a.ctp")
    w.c1.sign_bundle(unsigned("1.0"), w.a, [w.r1])
    w.kept = statement_sha256(w.a)
    w.c2 = Coop(name="coop", epoch=2, previous=w.r1, prefix="b", closed_releases=(w.kept,))
    w.r2 = w.c1.rotate_to(w.c2)
    w.b = str(root / "b.ctp")
    w.c2.sign_bundle(unsigned("2.0"), w.b, [w.r1, w.r2])
    w.c = str(root / "c.ctp")                                  # rollback: epoch 1 signs after its rotation
    w.c1.sign_bundle(unsigned("1.1"), w.c, [w.r1], ids=[2, 3])
    w.f2 = Coop(name="coop", epoch=2, previous=w.r1, prefix="f")
    w.fork2 = w.c1.rotate_to(w.f2)                             # fork: another epoch 2, signed by epoch 1
    w.d = str(root / "d.ctp")
    w.f2.sign_bundle(unsigned("6.6.6"), w.d, [w.r1, w.fork2])
    for name, rec in (("r1", w.r1), ("r2", w.r2), ("fork2", w.fork2)):
        (root / f"{name}.json").write_bytes(rec.to_bytes())
    w.policy = str(root / "policy.json")
    assert ct_("policy", "init", "--policy", w.policy, "--root", str(root / "r1.json"))[0] == 0
    return w


def ct_(*argv: str):
    from test_bundle_support import ct

    return ct(*argv)


@pytest.fixture(autouse=True)
def _env(monkeypatch):
    from test_bundle_support import cheap_env

    cheap_env(monkeypatch)


def _rollback_error(w, bundle: str = "c.ctp") -> list[str]:
    from test_bundle_support import statement_sha256

    d = statement_sha256(str(w.root / bundle))
    return [f"error: {bundle}: signed by epoch 1 of 'coop' after epoch 2 closed it: the release statement "
            f"(sha256 {d[:16]}…) is not among the 1 release(s) that epoch 2 ({w.r2.fingerprint.hex}) kept",
            "hint: get the release signed by the current keyholder set (epoch 2); a release of a closed epoch that "
            "its rotation did not list was signed after the rotation, or left off by its coordinator"]


def _fork_error(w, known_from: str) -> list[str]:
    return [f"error: fork: two different records claim epoch 2 of keyholder set 'coop': {w.r2.fingerprint.hex} "
            f"({known_from}) and {w.fork2.fingerprint.hex} (d.ctp's chain)",
            "hint: a keyholder set has exactly one record per epoch: the other one was made by members forking the "
            "set (or forged); do not trust what it signed, and tell the cooperative",
            f"hint: full fingerprints: {w.r2.fingerprint.full_hex} and {w.fork2.fingerprint.full_hex}"]


def test_a_home_that_verified_the_new_epoch_refuses_rollback_and_fork(rotated, tmp_path):
    w = rotated
    home = str(tmp_path / "h")
    # a home that has not seen the rotation cannot know better (nothing in the bundles tells it)
    for b in (w.c, w.d):
        assert ct_("--home", str(tmp_path / "naive"), "verify", b, "--policy", w.policy)[0] == 0
    code, out, err = ct_("--home", home, "verify", w.b, "--policy", w.policy)
    assert (code, err) == (0, "")
    assert TrustStore(home).checkpoints("coop") == {1: w.r1.fingerprint.full_hex, 2: w.r2.fingerprint.full_hex}
    code, out, err = ct_("--home", home, "verify", w.c, "--policy", w.policy)
    assert (code, out, err.splitlines()) == (4, "", _rollback_error(w))
    code, out, err = ct_("--home", home, "verify", w.d, "--policy", w.policy)
    assert (code, out, err.splitlines()) == (3, "", _fork_error(w, f"checkpoint of {home}"))
    # the release epoch 1 signed before the rotation, and that epoch 2 kept, still verifies
    code, out, err = ct_("--home", home, "verify", w.a, "--policy", w.policy)
    assert (code, err) == (0, "")
    assert (f"  closed      epoch 1 was closed by epoch 2 ({w.r2.fingerprint.hex}), which kept this release"
            in out.splitlines())
    # --json says so too
    code, out, _ = ct_("--home", home, "--json", "verify", w.c, "--policy", w.policy)
    j = json.loads(out)
    assert (code, j["failed_step"], j["epochs"]["status"]) == (4, "policy", "refused")
    assert j["epochs"]["newest_known"]["epoch"] == 2


def test_a_policy_that_pins_the_new_epoch_refuses_rollback_and_fork(rotated, tmp_path):
    w = rotated
    pol = str(tmp_path / "p.json")
    assert ct_("policy", "init", "--policy", pol, "--root", str(w.root / "r1.json"))[0] == 0
    # the way, `ct policy add-root` of epoch 2, now says what to do instead
    code, out, err = ct_("policy", "add-root", str(w.root / "r2.json"), "--policy", pol)
    assert (code, out, err.splitlines()) == (64, "", [
        f"error: {w.r2.describe()} is a later epoch, not a root",
        f"hint: pin it as a checkpoint: 'ct policy add-checkpoint {w.root / 'r2.json'}'"])
    code, out, err = ct_("policy", "add-checkpoint", str(w.root / "r2.json"), "--policy", pol)
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"added checkpoint {w.r2.describe()}, words {w.r2.fingerprint.words} in {pol}",
        "  chains must pass through it; releases of epoch 1 verify only if it kept them (1 listed)"]
    # every verify on a fresh home: the policy alone carries the knowledge
    fresh = iter(range(100))

    def verify(b):
        return ct_("--home", str(tmp_path / f"h{next(fresh)}"), "verify", b, "--policy", pol)

    code, out, err = verify(w.c)
    assert (code, err.splitlines()) == (4, _rollback_error(w))
    code, out, err = verify(w.d)
    assert (code, err.splitlines()) == (3, _fork_error(w, f"policy {pol}"))
    assert verify(w.a)[0] == 0 and verify(w.b)[0] == 0
    # a fork of the checkpoint is refused when pinned as well
    code, _, err = ct_("policy", "add-checkpoint", str(w.root / "fork2.json"), "--policy", pol)
    assert code == 3
    assert err.splitlines()[0] == (f"error: fork: two different records claim epoch 2 of keyholder set 'coop': "
                                   f"{w.r2.fingerprint.hex} (policy {pol}) and {w.fork2.fingerprint.hex} "
                                   f"({w.root / 'fork2.json'})")


def test_a_policy_checkpoint_is_also_a_place_to_start(rotated, tmp_path):
    """Pinning epoch 2 alone (no root) verifies chains that pass through it, and still knows epoch 1 is closed."""
    w = rotated
    pol = str(tmp_path / "p.json")
    assert ct_("policy", "init", "--policy", pol, "--checkpoint", str(w.root / "r2.json"))[0] == 0
    assert ct_("--home", str(tmp_path / "h1"), "verify", w.b, "--policy", pol)[0] == 0
    code, _, err = ct_("--home", str(tmp_path / "h2"), "verify", w.c, "--policy", pol)
    assert code == 3   # epoch 1 is not pinned here: the rollback does not even chain to the trust


def test_a_disconnected_host_refuses_rollback_and_fork_after_importing_the_new_epoch(rotated, tmp_path):
    w = rotated
    host = str(tmp_path / "host")

    def tar(*bundles: str, name: str) -> str:
        out = str(tmp_path / name)
        code, _, err = ct_("export", *bundles, "-o", out, "--include-keys", "--allow-unverified")
        assert code == 0, err
        return out

    code, _, err = ct_("--home", host, "import", tar(w.b, name="new.tar"), "--verify", "--policy", w.policy)
    assert (code, err) == (0, "")
    code, out, err = ct_("--home", host, "import", tar(w.c, name="rollback.tar"), "--verify")
    assert (code, out, err.splitlines()) == (4, "", _rollback_error(w) + ["hint: nothing was imported from rollback.tar"])
    code, out, err = ct_("--home", host, "import", tar(w.d, name="fork.tar"), "--verify")
    assert code == 3
    assert err.splitlines()[0] == (
        f"error: fork.tar: carried keyholder chain: fork: two different records claim epoch 2 of keyholder set "
        f"'coop': {w.r2.fingerprint.hex} (checkpoint of {host}) and {w.fork2.fingerprint.hex} (fork.tar's carried chain)")
    bare = str(tmp_path / "fork-bare.tar")
    assert ct_("export", w.d, "-o", bare, "--allow-unverified")[0] == 0
    code, out, err = ct_("--home", host, "import", bare, "--verify")
    assert (code, err.splitlines()) == (3, _fork_error(w, f"checkpoint of {host}") + [
        "hint: nothing was imported from fork-bare.tar"])
    code, _, err = ct_("--home", host, "import", tar(w.a, name="old.tar"), "--verify")
    assert code == 0, err
    # and `ct verify` on the host uses the store's pinned trust and the host's checkpoints
    code, _, err = ct_("--home", host, "verify", w.c)
    assert (code, err.splitlines()) == (4, _rollback_error(w))
    assert ct_("--home", host, "verify", w.b)[0] == 0


def test_one_tarball_that_shows_the_rotation_refuses_the_old_epochs_later_release(rotated, tmp_path):
    """A host new to the cooperative importing both at once: the tarball itself shows epoch 2."""
    w = rotated
    out = str(tmp_path / "both.tar")
    assert ct_("export", w.b, w.c, "-o", out, "--allow-unverified")[0] == 0
    code, _, err = ct_("--home", str(tmp_path / "host"), "import", out, "--verify", "--policy", w.policy)
    assert code == 4
    assert err.splitlines()[0] == "error: both.tar: c.ctp: " + _rollback_error(w)[0][len("error: c.ctp: "):]


def test_a_kept_release_outlives_its_expired_epoch(tmp_path):
    import datetime as dt

    from test_bundle_support import make_payload_dir, pack_unsigned, statement_sha256

    c1 = Coop(name="old", prefix="x", expires="2026-01-01T00:00:00Z")
    r1 = c1.self_signed()
    a = str(tmp_path / "a.ctp")
    src = str(tmp_path / "u.ctp")
    pack_unsigned(make_payload_dir(str(tmp_path / "p")), src)
    c1.sign_bundle(src, a, [r1])
    c2 = Coop(name="old", epoch=2, previous=r1, prefix="y", created="2025-06-01T00:00:00Z",
              closed_releases=(statement_sha256(a),))
    r2 = c1.rotate_to(c2)
    later = dt.datetime(2027, 1, 1, tzinfo=dt.timezone.utc)
    known = Knowledge([(r2, "policy p")])
    res = walk_chain([r1], {r1.fingerprint.full_hex}, later, known=known, release=statement_sha256(a))
    assert res.ok and res.forward.status == "kept" and res.forward.closed_by == r2
    res = walk_chain([r1], {r1.fingerprint.full_hex}, later, known=known, release=D1)
    assert res.error.message == f"{r1.describe()} expired at 2026-01-01T00:00:00Z"
    assert res.forward.status == "refused"
    # without knowing epoch 2, the expired epoch 1 is just expired
    assert walk_chain([r1], {r1.fingerprint.full_hex}, later, release=statement_sha256(a)).error.exit_code == 3


# ================================================================== low findings

_DUMP_PROBE = r"""
import ctypes, resource, sys
from cerro_torre.keys.home import Home
from cerro_torre.keys.keyfile import KDFParams
libc = ctypes.CDLL(None)
def state():
    return f"{resource.getrlimit(resource.RLIMIT_CORE)} {libc.prctl(3, 0, 0, 0, 0)}"
# (the core limit is inherited, and this pytest process may have unlocked keys already: it may be 0;
# the dumpable flag is reset to 1 by exec)
print("before", libc.prctl(3, 0, 0, 0, 0))
h = Home(sys.argv[1], params=KDFParams(time_cost=1, memory_kib=64, parallelism=1), allow_weak=True)
h.generate_key("alice", "CT-SIG-01", b"pw")
print("keygen", state())
"""


def test_core_dumps_are_off_once_a_key_is_unlocked(tmp_path):
    import subprocess
    import sys

    home = str(tmp_path / "h")
    p = subprocess.run([sys.executable, "-c", _DUMP_PROBE, home], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["before 1", "keygen (0, 0) 0"]
    probe = _DUMP_PROBE.split("h.generate_key")[0] + (
        "h.load_private('alice', b'pw').wipe()\nprint('unlock', state())\n")
    p = subprocess.run([sys.executable, "-c", probe, home], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["before 1", "unlock (0, 0) 0"]


def test_policy_given_is_all_the_trust(rotated, tmp_path):
    """A key this home trusts alone must not pass a policy that pins a 2-of-3 set."""
    from test_bundle_support import make_payload_dir

    w = rotated
    home = str(tmp_path / "h")
    assert ct_("--home", home, "keygen", "--id", "mallory", "--suite", "CT-SIG-02")[0] == 0
    out = str(tmp_path / "m.ctp")
    assert ct_("--home", home, "pack", make_payload_dir(str(tmp_path / "p")), "-o", out, "--key", "mallory")[0] == 0
    assert ct_("--home", home, "verify", out)[0] == 0                 # the home's own trust: fine
    code, stdout, err = ct_("--home", home, "verify", out, "--policy", w.policy)
    from cerro_torre.keys.home import Home

    fp = Home(home).public("mallory").fingerprint.hex
    assert (code, stdout) == (3, "")
    assert err.splitlines() == [
        f"error: m.ctp: signer key 'mallory' ({fp}) is not trusted",
        "hint: the policy given is all the trust there is (the keys a home trusts do not count): check the "
        "fingerprint with its owner, then pin the key in its \"keys\" ('ct policy init --key KEY.pub')"]


def test_pack_refuses_a_folder_holding_a_keyholder_home(tmp_path):
    from test_bundle_support import make_payload_dir

    src = make_payload_dir(str(tmp_path / "rel"))
    home = os.path.join(src, "dot-ct")
    assert ct_("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    code, out, err = ct_("pack", src, "-o", str(tmp_path / "x.ctp"))
    assert (code, out) == (64, "")
    assert err.splitlines() == [
        f"error: refusing to pack {home}/keys/alice.sec: it is a sealed private key (ct-identity:alice) of the "
        f"keyholder home {home}",
        "hint: private keys, FROST shares and nonces never leave the keyholder's machine; pack a folder that "
        "holds only the release (move the home out of it, or keep CT_HOME elsewhere)"]
    assert not os.path.exists(tmp_path / "x.ctp")
    # a FROST share, named anything, is found by its sealed header
    share_dir = tmp_path / "rel2"
    make_payload_dir(str(share_dir))
    dealer = frost.trusted_dealer_keygen(3, 2)
    _share(str(tmp_path / "kh"), dealer, 0)          # as an older home names it: <group keyid>.share
    blob = (tmp_path / "kh" / "shares" / (keyid_of(dealer.group_public_key) + ".share")).read_bytes()
    (share_dir / "notes.txt").write_bytes(blob)
    code, _, err = ct_("pack", str(share_dir), "-o", str(tmp_path / "y.ctp"))
    assert code == 64
    assert err.splitlines()[0] == (f"error: refusing to pack {share_dir}/notes.txt: it is a FROST key share "
                                   f"(ct-share:{keyid_of(dealer.group_public_key)})")
    # a single sealed file too
    code, _, err = ct_("pack", f"{home}/keys/alice.sec", "-o", str(tmp_path / "z.ctp"))
    assert code == 64 and err.startswith(f"error: refusing to pack {home}/keys/alice.sec: it is a sealed private key")


def test_export_scans_bundle_payloads_for_a_home(rotated, tmp_path):
    """A bundle packed (by an older ct) from a folder holding a home is not carried across the gap."""
    from test_bundle_support import members, write_members

    w = rotated
    items = members(w.b)
    home = str(tmp_path / "h")
    assert ct_("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    items["payload/.ct/keys/alice.sec"] = (tmp_path / "h" / "keys" / "alice.sec").read_bytes()
    bad = str(tmp_path / "leaky.ctp")
    write_members(bad, list(items.items()))
    code, out, err = ct_("export", bad, "-o", str(tmp_path / "t.tar"), "--allow-unverified")
    assert (code, out) == (64, "")
    assert err.splitlines() == [
        f"error: refusing to export {bad}: its payload/.ct/keys/alice.sec is a sealed private key "
        "(ct-identity:alice) of the keyholder home payload/.ct",
        "hint: the bundle was packed from a folder holding a keyholder's secrets; do not ship it: pack the release "
        "again from a folder without them (ct pack now refuses such folders)"]
    assert not os.path.exists(tmp_path / "t.tar")


def test_export_checks_every_bundle_before_writing(rotated, tmp_path):
    from test_bundle_support import make_payload_dir, pack_unsigned

    w = rotated
    unsigned = str(tmp_path / "u.ctp")
    pack_unsigned(make_payload_dir(str(tmp_path / "p")), unsigned)
    tar = str(tmp_path / "t.tar")
    code, out, err = ct_("export", w.b, unsigned, "-o", tar)
    assert (code, out) == (2, "")
    assert err.splitlines() == [
        "error: u.ctp is not signed",
        "hint: sign it when packing ('ct pack ... --key ID') or in a ceremony ('ct ceremony sign')",
        "hint: checked against its own signer (no policy carried): the host would refuse it; carry it anyway "
        "with --allow-unverified"]
    assert not os.path.exists(tar)
    code, out, err = ct_("export", w.b, unsigned, "-o", tar, "--allow-unverified")
    assert code == 0
    assert err.splitlines() == ["warning: carrying u.ctp although it does not verify against its own signer "
                                "(no policy carried): u.ctp is not signed"]
    # `ct ceremony sign` with only the newest record: a bundle every verifier pinned to the root refuses
    newest_only = str(tmp_path / "newest.ctp")
    w.c2.sign_bundle(unsigned, newest_only, [w.r2])
    assert ct_("export", newest_only, "-o", tar, "--force")[0] == 0                 # consistent in itself
    code, _, err = ct_("export", newest_only, "-o", tar, "--force", "--policy", w.policy)
    assert code == 3
    assert err.splitlines()[0] == (f"error: {w.r2.describe()} does not chain to a pinned root (chain starts at "
                                   f"epoch 2, fingerprint {w.r2.fingerprint.hex})")
    assert err.splitlines()[-1] == (f"hint: checked against policy {w.policy}: the host would refuse it; carry it "
                                    "anyway with --allow-unverified")


def test_key_list_shows_shares_with_their_status(tmp_path, lineage):
    c1, c2, _c3, _f2, r1, r2, _r3, _fork2 = lineage
    from test_bundle_support import ct

    home = str(tmp_path / "h")
    _share(home, c1.dealer, 0)
    _share(home, c2.dealer, 1)
    TrustStore(home).add([r1, r2])
    code, out, err = ct("--home", home, "key", "list")
    assert (code, err.splitlines()[0]) == (0, f"no keys in {home}/keys")
    assert out.splitlines() == [
        "FROST shares",
        f"  {'GROUP KEYID':<32}  KEYHOLDER SET  STATUS",
        f"  {r1.group_keyid}  coop epoch 1   retired (keyholder set 'coop' epoch 1 was superseded by epoch 2 "
        f"(fingerprint {r2.fingerprint.hex}))",
        f"  {r2.group_keyid}  coop epoch 2   active"]
    code, out, _ = ct("--home", home, "--json", "key", "list")
    j = json.loads(out)["shares"]
    assert [(s["group_keyid"], s["status"], s["set"]["epoch"]) for s in j] == [
        (r1.group_keyid, "retired", 1), (r2.group_keyid, "active", 2)]


# ================================================================== the TUI

def test_tui_verify_records_the_epoch_then_refuses_the_rollback(rotated, tmp_path, monkeypatch):
    import asyncio
    import shutil

    from test_tui_support import fill, screen_text, settle

    from cerro_torre.tui.app import CTApp

    w = rotated
    monkeypatch.setenv("HOME", str(tmp_path))
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(w.policy, home / "policy.json")

    async def go():
        app = CTApp(str(home), mode="verify", cwd=str(w.root), qr_autoplay=False)
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot, app)
            for bundle, verdict in (("c.ctp", "VALID"), ("b.ctp", "VALID"), ("c.ctp", "INVALID: ct verify exits 4")):
                await pilot.press("o")
                await pilot.pause()
                await fill(pilot, app, {"path": bundle})
                await settle(pilot, app)
                text = str(app.screen.query_one("#verdict").render())
                assert text.startswith(verdict), (bundle, text)
            assert text.split("\n")[1] == _rollback_error(w)[0]
            assert "epochs      newest known: epoch 2" in screen_text(app)
    asyncio.run(go())
    assert TrustStore(str(home)).checkpoints("coop") == {1: w.r1.fingerprint.full_hex, 2: w.r2.fingerprint.full_hex}


def test_tui_keys_show_retired_shares_and_governance_shows_what_a_rotation_changed(lineage, tmp_path, monkeypatch):
    import asyncio

    from test_tui_support import screen_text, settle

    from cerro_torre.tui.app import CTApp

    c1, c2, _c3, _f2, r1, r2, _r3, _fork2 = lineage
    monkeypatch.setenv("HOME", str(tmp_path))
    home = str(tmp_path / "home")
    _share(home, c1.dealer, 0)
    _share(home, c2.dealer, 1)
    TrustStore(home).add([r1, r2])

    async def go():
        app = CTApp(home, mode="keys", cwd=str(tmp_path), qr_autoplay=False)
        async with app.run_test(size=(110, 36)) as pilot:
            await settle(pilot, app)
            text = screen_text(app)
            assert re.search(rf"{r1.group_keyid}\s+coop epoch 1, 2 of 3\s+retired", text), text
            assert re.search(rf"{r2.group_keyid}\s+coop epoch 2, 2 of 3\s+active", text), text
            assert (f"retired {ShareStore(home).list()[0].retired_at}: keyholder set 'coop' "
                    f"epoch 1 was superseded by epoch 2 (fingerprint {r2.fingerprint.hex}); this home no longer "
                    "signs with it") in " ".join(text.split())
            await pilot.press("f6")                      # the epochs this home verified
            await settle(pilot, app)
            text = " ".join(screen_text(app).split())
            assert "chain ok: keyholder set 'coop' epoch 2" in text
            assert "changes from epoch 1:" in text
            for m in c2.keys:
                assert f"+ member {m.id} ({m.public().fingerprint.hex})" in text
            for m in c1.keys:
                assert f"- member {m.id} ({m.public().fingerprint.hex})" in text
            assert "= kept 1 release(s) of epoch 1; epoch 1 signs nothing more" in text
    asyncio.run(go())


def test_every_test_the_threat_model_names_exists():
    """spec/threat-model.md cites tests as `tests/FILE::NAME` (or `::NAME` after one): each must exist."""
    import ast

    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, "spec", "threat-model.md"), encoding="utf-8").read()
    names: dict[str, set[str]] = {}
    cited = []
    current = None
    for ref in re.findall(r"`((?:tests/[\w./]+\.py)?::\w+)`", text):
        path, name = ref.split("::")
        current = path or current
        cited.append((current, name))
    assert len(cited) > 60
    for path, name in cited:
        if path not in names:
            tree = ast.parse(open(os.path.join(root, path), encoding="utf-8").read())
            names[path] = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
        assert name in names[path], f"{path}::{name}"


def test_add_checkpoint_refuses_a_root_and_an_unsigned_record(rotated, tmp_path):
    w = rotated
    pol = str(tmp_path / "p.json")
    assert ct_("policy", "init", "--policy", pol)[0] == 0
    code, _, err = ct_("policy", "add-checkpoint", str(w.root / "r1.json"), "--policy", pol)
    assert (code, err.splitlines()) == (64, [f"error: {w.r1.describe()} is a root",
                                             f"hint: pin it with 'ct policy add-root {w.root / 'r1.json'}'"])
    unsigned = tmp_path / "u.json"
    unsigned.write_bytes(w.c2.unsigned.to_bytes())
    code, _, err = ct_("policy", "add-checkpoint", str(unsigned), "--policy", pol)
    assert code == 2
    assert err.splitlines()[0] == (f"error: {w.c2.unsigned.describe()} is not signed by its own threshold: "
                                   "ed25519 0 of 1; ml-dsa-87 0 of 2")
    code, out, _ = ct_("--json", "policy", "add-checkpoint", str(w.root / "r2.json"), "--policy", pol)
    assert code == 0 and json.loads(out)["changed"] is True
    code, out, _ = ct_("policy", "add-checkpoint", str(w.root / "r2.json"), "--policy", pol)
    assert code == 0 and out.startswith("already present: checkpoint")
    code, out, _ = ct_("policy", "show", "--policy", pol)
    assert f"  checkpoints    coop epoch 2 {w.r2.fingerprint.full_hex}" in out.splitlines()
