"""Single-use nonces across crashes.

For every crash point (ceremony/crashpoints.py) the keyholder's `ct ceremony step` on a signing
package runs in a subprocess that dies there (os._exit(137)); the step is then run again.  It
either refuses (exit 11: the nonces were marked consumed, or the round was answered), or succeeds
with a valid reply (the crash came before consumption); no two different signature shares ever
come from the same nonces; the ceremony then finishes, or has to be restarted and does.

Also NonceStore itself: put / take / take again, across instances, wrong passphrase."""

from __future__ import annotations

import os
import stat
import subprocess
import sys

import pytest
from ceremony_sim import PASS, WEAK, Sim, cross, collect

from cerro_torre.ceremony import crashpoints, keygen, signing
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.nonces import NonceStore
from cerro_torre.ceremony.protocol import replies_in
from cerro_torre.ceremony.statement import PAYLOAD_TYPE, make_statement, pae
from cerro_torre.suites.errors import CeremonyError, NotFound, WrongPassphrase
from cerro_torre.suites.suite import verify_signature

NAMES = ["alice", "bob", "carol"]
POINTS = ("nonce-opened", "nonce-marked", "nonce-deleted", "share-computed", "reply-written")
STATEMENT = make_statement([("app.txt", "a948904f2f0f479b8f8197694b30184b0d2ed1c1cd2a1ec0fb85d299a192a447")],
                           {"package": {"name": "app", "version": "1.0"}})


def test_the_points_tested_are_all_the_points():
    assert crashpoints.POINTS == POINTS


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    root = tmp_path_factory.mktemp("crash")
    sim = Sim(str(root / "homes"), NAMES)
    rec = sim.keygen(NAMES, 2)
    return {"root": root, "sim": sim, "rec": rec}


def run_step(home: str, msg_path, out_path, crash: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CT_")}
    env.update({"CT_TESTING": "1", "CT_TEST_ARGON2_MEMORY_KIB": "256", "CT_PASSPHRASE": PASS.decode()})
    if crash:
        env["CT_CRASH_AT"] = crash
    return subprocess.run([sys.executable, "-m", "cerro_torre.cli", "--home", home, "ceremony", "step",
                           str(msg_path), "-o", str(out_path), "--yes"],
                          env=env, capture_output=True, text=True, timeout=60)


def open_package(world, stock=False):
    sim = world["sim"]
    req = signing.open_sign(STATEMENT, [world["rec"]], ["alice", "bob"], stock=stock)
    pkg = collect(req, [sim.step(n, req) for n in ("alice", "bob")])
    return req, pkg


def shares_of(path) -> tuple[str, ...]:
    with open(path, "rb") as f:
        return tuple(Message.parse(f.read()).payload["shares"])


def nonce_used(cid: str, slot_suffix: str = "") -> list[str]:
    return [f"error: nonces for {cid}.alice{slot_suffix} were already used: a second signature share from them "
            "would leak the key share",
            "hint: this round cannot be answered again; ask the coordinator to restart the signing round"]


def check_signed(world, res) -> None:
    assert isinstance(res, signing.Signed)
    (g,) = [s for s in res.signatures if s.alg == "ed25519"]
    assert verify_signature("ed25519", world["rec"].group_public_key, pae(PAYLOAD_TYPE, STATEMENT), g.sig)
    assert sorted(s.alg for s in res.signatures) == ["ed25519", "ml-dsa-87", "ml-dsa-87"]


@pytest.mark.parametrize("point", POINTS)
def test_crash_during_signing_step(world, tmp_path, point):
    sim = world["sim"]
    alice = sim.holders["alice"]
    req, pkg = open_package(world)
    cid = req.ceremony
    slot = f"{cid}.alice"
    pkg_path = tmp_path / "s1.ctm"
    pkg_path.write_bytes(pkg.to_bytes())
    out1, out2 = tmp_path / "s1-alice.ctm", tmp_path / "s1-alice.again.ctm"

    assert alice.nonces.has(slot) and slot not in alice.nonces.consumed()
    p = run_step(alice.path, pkg_path, out1, crash=point)
    assert p.returncode == 137, p.stderr

    consumed = slot in NonceStore(alice.path).consumed()
    answered = "package" in alice._state(cid)["answered"]                      # noqa: SLF001
    # what the crash left, point by point
    assert consumed == (point != "nonce-opened")
    assert answered == (point == "reply-written")
    assert out1.exists() == (point == "reply-written")
    assert alice.nonces.has(slot) == (point in ("nonce-opened", "nonce-marked"))

    p2 = run_step(alice.path, pkg_path, out2)
    bob_share = sim.step("bob", pkg)
    if point == "nonce-opened":
        # crashed before the nonces were marked: the step runs again, and it is the only share ever made
        assert p2.returncode == 0, p2.stderr
        check_signed(world, collect(pkg, [Message.parse(out2.read_bytes()), bob_share]))
        produced = {shares_of(out2)}
    elif point == "reply-written":
        # the reply was written and recorded: the home refuses to answer again and points at it
        assert p2.returncode == 11
        stored = os.path.join(alice.path, "ceremonies", cid, "package.reply")
        assert p2.stderr.splitlines()[-2:] == [
            f"error: 'alice' already answered this package message of ceremony {cid}",
            f"hint: the reply is {stored}; send that file again"]
        assert not out2.exists()
        with open(stored, "rb") as f:
            assert f.read() == out1.read_bytes()
        # and writing over the first reply is refused outright
        p3 = run_step(alice.path, pkg_path, out1)
        assert (p3.returncode, p3.stderr.splitlines()) == (
            22, [f"error: {out1} exists", "hint: choose another -o, or move the old file away"])
        check_signed(world, collect(pkg, [Message.parse(out1.read_bytes()), bob_share]))
        produced = {shares_of(out1)}
    else:
        # nonces marked consumed and no reply out: refused for good; the ceremony must restart
        assert p2.returncode == 11
        assert p2.stderr.splitlines()[-2:] == nonce_used(cid)
        assert not out1.exists() and not out2.exists()
        assert not alice.nonces.has(slot) or point == "nonce-marked"
        with pytest.raises(CeremonyError) as e:
            collect(pkg, [bob_share])
        assert e.value.message == "1 of 2 needed share replies; missing: alice"
        produced = set()
        # a new ceremony with the same signers goes through
        req2, pkg2 = open_package(world)
        check_signed(world, collect(pkg2, [sim.step(n, pkg2) for n in ("alice", "bob")]))
    # never two different shares from one set of nonces: at most one reply exists for this package
    assert len(produced) <= 1
    replies = [f for f in (out1, out2) if f.exists()]
    assert len(replies) == len(produced)


def test_crash_before_the_commitment_leaves(world, tmp_path):
    """A crash after the nonces are stored but before the commit reply exists: answering again
    replaces them (they never left the machine), and the ceremony goes on with the new commitments."""
    sim = world["sim"]
    alice = sim.holders["alice"]
    req = signing.open_sign(STATEMENT, [world["rec"]], ["alice", "bob"], stock=False)
    path = tmp_path / "s0.ctm"
    path.write_bytes(req.to_bytes())
    assert run_step(alice.path, path, tmp_path / "a.ctm", crash="share-computed").returncode == 137
    assert alice.nonces.has(f"{req.ceremony}.alice") and not (tmp_path / "a.ctm").exists()
    with open(os.path.join(alice.nonces.dir, f"{req.ceremony}.alice.sealed"), "rb") as f:
        first = f.read()
    p = run_step(alice.path, path, tmp_path / "b.ctm")
    assert p.returncode == 0, p.stderr
    with open(os.path.join(alice.nonces.dir, f"{req.ceremony}.alice.sealed"), "rb") as f:
        assert f.read() != first
    pkg = collect(req, [Message.parse((tmp_path / "b.ctm").read_bytes()), sim.step("bob", req)])
    check_signed(world, collect(pkg, [sim.step(n, pkg) for n in ("alice", "bob")]))


def test_crash_in_second_pass(world, tmp_path):
    """With the stock forms the minisign pass has its own slot (<cid>.<member>.2), also single-use."""
    sim = world["sim"]
    alice = sim.holders["alice"]
    req, pkg = open_package(world, stock=True)
    p2 = collect(pkg, [sim.step(n, pkg) for n in ("alice", "bob")])
    assert p2.round == "package2"
    path = tmp_path / "s2.ctm"
    path.write_bytes(p2.to_bytes())
    slot2 = f"{req.ceremony}.alice.2"
    assert alice.nonces.has(slot2)
    assert run_step(alice.path, path, tmp_path / "a.ctm", crash="nonce-deleted").returncode == 137
    assert slot2 in alice.nonces.consumed() and not alice.nonces.has(slot2)
    again = run_step(alice.path, path, tmp_path / "b.ctm")
    assert again.returncode == 11
    assert again.stderr.splitlines()[-2:] == nonce_used(req.ceremony, ".2")


def test_crash_while_signing_a_keygen_record(world, tmp_path):
    """The DKG's record-signing round uses nonces committed in the confirm round: same rules."""
    sim = world["sim"]
    alice = sim.holders["alice"]
    msg = keygen.open_keygen("crashy", [sim.publics[n] for n in NAMES], 2)
    for _ in range(3):
        msg = collect(msg, [sim.step(n, msg) for n in NAMES])
    assert msg.round == "package"
    path = tmp_path / "r3.ctm"
    path.write_bytes(msg.to_bytes())
    assert run_step(alice.path, path, tmp_path / "a.ctm", crash="share-computed").returncode == 137
    again = run_step(alice.path, path, tmp_path / "b.ctm")
    assert again.returncode == 11
    assert again.stderr.splitlines()[-2:] == nonce_used(msg.ceremony)
    # bob and carol alone cannot finish: every new member signs its record
    with pytest.raises(CeremonyError) as e:
        collect(msg, [sim.step(n, msg) for n in ("bob", "carol")])
    assert e.value.message == "2 of 3 needed sign replies; missing: alice"


@pytest.mark.parametrize("testing,code,out", [("1", 137, ""), ("0", 0, "alive\n"), (None, 0, "alive\n")])
def test_crash_only_with_testing_flag(testing, code, out):
    """CT_CRASH_AT does nothing unless CT_TESTING=1."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CT_")}
    env["CT_CRASH_AT"] = "nonce-marked"
    if testing is not None:
        env["CT_TESTING"] = testing
    p = subprocess.run([sys.executable, "-c", "from cerro_torre.ceremony import crashpoints\n"
                        "crashpoints.hit('nonce-opened'); crashpoints.hit('nonce-marked'); print('alive')"],
                       env=env, capture_output=True, text=True, timeout=60)
    assert (p.returncode, p.stdout) == (code, out)


# ================================================================ NonceStore

SLOT = "0123456789abcdef0123456789abcdef.alice"


def test_noncestore_put_take_once(tmp_path):
    home = str(tmp_path / "h")
    ns = NonceStore(home, params=WEAK, allow_weak=True)
    secret = os.urandom(128)
    ns.put(SLOT, secret, PASS)
    assert ns.has(SLOT) and ns.consumed() == set()
    sealed = os.path.join(home, "nonces", SLOT + ".sealed")
    with open(sealed, "rb") as f:
        assert secret not in f.read()
    assert stat.S_IMODE(os.stat(sealed).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.join(home, "nonces")).st_mode) == 0o700
    assert ns.take(SLOT, PASS) == secret
    assert not ns.has(SLOT) and not os.path.exists(sealed)
    assert ns.consumed() == {SLOT}
    with open(os.path.join(home, "nonces", "consumed"), encoding="ascii") as f:
        assert f.read() == SLOT + "\n"
    with pytest.raises(CeremonyError) as e:
        ns.take(SLOT, PASS)
    assert e.value.message == (f"nonces for {SLOT} were already used: a second signature share from them "
                               "would leak the key share")
    assert e.value.hints == ("this round cannot be answered again; ask the coordinator to restart the signing "
                             "round",)


def test_noncestore_consumed_survives_a_new_instance(tmp_path):
    home = str(tmp_path / "h")
    NonceStore(home, params=WEAK, allow_weak=True).put(SLOT, b"n" * 128, PASS)
    assert NonceStore(home, params=WEAK, allow_weak=True).take(SLOT, PASS) == b"n" * 128
    fresh = NonceStore(home, params=WEAK, allow_weak=True)
    assert fresh.consumed() == {SLOT}
    with pytest.raises(CeremonyError) as e:
        fresh.take(SLOT, PASS)
    assert e.value.exit_code == 11
    with pytest.raises(CeremonyError) as e:
        fresh.put(SLOT, b"m" * 128, PASS)
    assert e.value.message == f"nonces for {SLOT} were already used"
    assert e.value.hints == ("a signing round can be answered once; ask the coordinator for a new one",)
    assert not fresh.has(SLOT)
    # other slots are unaffected
    other = SLOT + ".2"
    fresh.put(other, b"o" * 128, PASS)
    assert fresh.take(other, PASS) == b"o" * 128
    assert fresh.consumed() == {SLOT, other}


def test_noncestore_put_twice_before_take_replaces(tmp_path):
    ns = NonceStore(str(tmp_path / "h"), params=WEAK, allow_weak=True)
    ns.put(SLOT, b"1" * 128, PASS)
    ns.put(SLOT, b"2" * 128, PASS)
    assert ns.take(SLOT, PASS) == b"2" * 128


def test_noncestore_wrong_passphrase_consumes_nothing(tmp_path):
    ns = NonceStore(str(tmp_path / "h"), params=WEAK, allow_weak=True)
    ns.put(SLOT, b"n" * 128, PASS)
    with pytest.raises(WrongPassphrase):
        ns.take(SLOT, b"not the passphrase")
    assert ns.has(SLOT) and ns.consumed() == set()
    assert ns.take(SLOT, PASS) == b"n" * 128


def test_noncestore_missing_and_bad_slots(tmp_path):
    ns = NonceStore(str(tmp_path / "h"), params=WEAK, allow_weak=True)
    with pytest.raises(NotFound) as e:
        ns.take(SLOT, PASS)
    assert e.value.message == f"no stored nonces for {SLOT}"
    assert e.value.hints == ("answer the ceremony's request with this home first",)
    assert ns.consumed() == set()
    for bad in ("../x", "0123.alice", SLOT.upper(), SLOT + "/x"):
        with pytest.raises(ValueError) as e:
            ns.put(bad, b"n", PASS)
        assert str(e.value) == f"bad nonce slot {bad!r}"


def test_noncestore_refuses_weak_params_unless_allowed(tmp_path):
    from cerro_torre.suites.errors import CTError

    ns = NonceStore(str(tmp_path / "h"), params=WEAK, allow_weak=True)
    ns.put(SLOT, b"n" * 128, PASS)
    strict = NonceStore(str(tmp_path / "h"))
    with pytest.raises(CTError):
        strict.take(SLOT, PASS)
    assert strict.consumed() == set() and strict.has(SLOT)


def test_reply_sent_is_the_reply_stored(world, tmp_path):
    """After a normal step the home keeps the exact bytes sent; sending again never recomputes."""
    sim = world["sim"]
    req, pkg = open_package(world)
    reply = sim.step("alice", pkg)
    with open(os.path.join(sim.holders["alice"].path, "ceremonies", req.ceremony, "package.reply"), "rb") as f:
        assert f.read() == reply.to_bytes()
    assert [r.sender for r in replies_in(pkg)] == ["alice", "bob"]
    assert cross(reply).round == "share"
