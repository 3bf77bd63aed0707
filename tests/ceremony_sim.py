"""An in-memory ceremony simulator for tests: n keyholder homes and a coordinator, every message serialized
and parsed again as it crosses the air gap.

The coordinator side is :func:`collect`: it keeps the coordinator's journal of each ceremony (as the CLI keeps
``<ceremony>.journal`` beside its messages), and the keyholder-set records every ceremony made, so that a
request naming a record by fingerprint resolves.  A test may collect the same message twice with different
replies (an equivocating coordinator): each result continues its own copy of the journal."""

from __future__ import annotations

import os

import pytest

from cerro_torre.ceremony import coordinator, keygen
from cerro_torre.ceremony.keyholder import Keyholder
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import History, Journal, View
from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.keys.keyfile import KDFParams

PASS = b"correct horse battery staple"
WEAK = KDFParams(time_cost=1, memory_kib=256, parallelism=1)

RECORDS: dict[str, KeyholderSet] = {}          # every record a simulated ceremony made, by fingerprint
_JOURNALS: dict[str, Journal] = {}             # coordinator message digest -> the journal ending at it


@pytest.fixture
def cli_env(monkeypatch):
    """The environment `ct` runs in for these tests (import it into a test module, autouse there)."""
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "256")
    monkeypatch.setenv("CT_PASSPHRASE", PASS.decode())
    monkeypatch.delenv("CT_HOME", raising=False)
    monkeypatch.delenv("CT_CRASH_AT", raising=False)


def cross(msg: Message) -> Message:
    """What the other side of the air gap reads."""
    return Message.parse(msg.to_bytes())


def remember(*records: KeyholderSet) -> None:
    for r in records:
        RECORDS[r.fingerprint.full_hex] = r


def journal_of(msg: Message) -> Journal:
    """The coordinator's journal ending at ``msg`` (a request starts one, with the records it names)."""
    j = _JOURNALS.get(msg.digest.hex())
    if j is not None:
        return Journal(list(j.messages), list(j.records))
    if msg.round != "request":
        raise KeyError(f"no journal holds the {msg.round} message {msg.digest.hex()[:16]}")
    p = msg.payload
    names = list(p.get("records") or [])
    if p.get("template") and p["template"].get("previous"):
        names.append(p["template"]["previous"]["fingerprint"])
    if isinstance(p.get("record"), str):
        names.append(p["record"])
    j = coordinator.start(msg, [RECORDS[f] for f in names if f in RECORDS])
    _JOURNALS[msg.digest.hex()] = j
    return Journal(list(j.messages), list(j.records))


def view_of(msg: Message, *more: Message) -> View:
    """A coordinator message resolved against everything the simulated coordinator ever wrote or received
    (and ``more``): for tests that call the pure round functions directly, or forge bulletins."""
    held = [m for j in _JOURNALS.values() for m in j.messages] + list(more)
    return View(msg, History(held, RECORDS.values()))


def collect(msg: Message, replies: list[Message]):
    """The coordinator's collect of the replies to ``msg``, through its journal."""
    j = journal_of(msg)
    out = coordinator.collect(j, [cross(r) for r in replies])
    if isinstance(out, Message):
        _JOURNALS[out.digest.hex()] = j
    elif isinstance(out, KeyholderSet):
        remember(out)
    return out


class Sim:
    def __init__(self, root: str, names: list[str], suite: str = "CT-SIG-02") -> None:
        self.holders: dict[str, Keyholder] = {}
        self.publics = {}
        for n in names:
            path = os.path.join(root, n)
            kh = Keyholder(path, params=WEAK, allow_weak=True)
            kh.home.generate_key(n, suite, PASS)
            self.holders[n] = kh
            self.publics[n] = kh.home.public(n)

    def step(self, name: str, msg: Message) -> Message:
        kh = self.holders[name]
        pending = kh.prepare(cross(msg))
        if not pending.answers:
            kh.keep(pending)
            return None  # type: ignore[return-value]
        return cross(kh.answer(pending, PASS))

    def round(self, msg: Message, names: list[str]):
        replies = [r for r in (self.step(n, msg) for n in names) if r is not None]
        return collect(msg, replies)

    def keep_record(self, rec: KeyholderSet, names) -> None:
        """The record reaches these homes ('ct ceremony step keyholders.json')."""
        for n in names:
            self.holders[n].store_record(rec, "keyholders.json")

    def keygen(self, names: list[str], k: int, *, dealer: bool = False, name: str = "coop", previous=None,
               old: list[str] = ()):
        msg = keygen.open_keygen(name, [self.publics[n] for n in names], k, dealer=dealer, previous=previous)
        remember(*([previous] if previous else []))
        while True:
            if msg.round == "package":
                s = msg.payload["signers"]
                answering = sorted(set(s["new"]) | set(s["old"]))
            else:
                answering = sorted(set(names) | set(old))
            out = self.round(msg, answering)
            if not isinstance(out, Message):
                self.keep_record(out, sorted(set(names) | set(old)))
                return out
            msg = out


# ====================================================================== message sizes (issue 10)

def packed_release(root: str) -> tuple[bytes, list[bytes]]:
    """The release statement and attestation statements (SPDX SBOM, SLSA provenance) of what `ct pack
    app-1.0.txt -o app.ctp` writes by default for a one-file payload: what a signing ceremony signs."""
    from cerro_torre.ceremony import bundle
    from cerro_torre.ceremony.statement import Envelope
    from cerro_torre.cli.main import main

    os.makedirs(root, exist_ok=True)
    src, out = os.path.join(root, "app-1.0.txt"), os.path.join(root, "app.ctp")
    with open(src, "w") as f:
        f.write("the release\n")
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):
        code = main(["pack", src, "-o", out])
    if code != 0:
        raise RuntimeError("ct pack failed")
    parts = bundle.read_parts(out)
    return Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload, bundle.attestation_statements(parts)


def wire_sizes(root: str, n: int, k: int, statement: bytes, attestations: list[bytes] = ()) -> dict[str, dict]:
    """Every message of a keygen, a signing (stock forms, k signers), a rotation (the last member out, a new one
    in), then a keep-key rotation (the next member out, another new one in), a refresh and the repair of one
    member's share of an n-member CT-SIG-02 set, as they cross: per ceremony kind, the largest message of
    each round in each direction (``(round, "to keyholders" | "to coordinator") -> its wire form``) and each
    keyholder's whole session (every message it reads and every reply it writes, ``member -> bytes``)."""
    import hashlib

    from cerro_torre.ceremony import repair, signing
    from cerro_torre.ceremony.keyholder import share_set

    names = [f"m{i:02d}" for i in range(n)]
    sim = Sim(root, names + ["newcomer", "newcomer2"])
    out: dict[str, dict] = {}

    def run(kind: str, msg: Message, who_of) -> object:
        rounds: dict[tuple[str, str], bytes] = {}
        session: dict[str, int] = {}

        def seen(key: tuple[str, str], wire: bytes) -> int:
            if len(wire) > len(rounds.get(key, b"")):
                rounds[key] = wire
            return len(wire)

        while isinstance(msg, Message):
            replies = []
            for name in who_of(msg):
                session[name] = session.get(name, 0) + seen((msg.round, "to keyholders"), msg.to_bytes())
                r = sim.step(name, msg)
                if r is not None:
                    session[name] += seen((r.round, "to coordinator"), r.to_bytes())
                    replies.append(r)
            msg = collect(msg, replies)
        out[kind] = {"rounds": rounds, "sessions": session}
        return msg

    def signers_or(everyone):
        return lambda m: (sorted(set(m.payload["signers"]["new"]) | set(m.payload["signers"]["old"]))
                          if m.round == "package" else everyone)

    rec = run("keygen", keygen.open_keygen("coop", [sim.publics[x] for x in names], k), signers_or(names))
    sim.keep_record(rec, names)
    signers = names[:k]
    run("sign", signing.open_sign(statement, [rec], signers, stock=True, attestations=list(attestations)),
        lambda m: signers)
    new = names[:-1] + ["newcomer"]
    rot = keygen.open_keygen("coop", [sim.publics[x] for x in new], k, previous=rec,
                             closed_releases=[hashlib.sha256(statement).hexdigest()])
    rec2 = run("rotate", rot, signers_or(names + ["newcomer"]))
    sim.keep_record(rec2, names + ["newcomer"])
    third = names[:-2] + ["newcomer", "newcomer2"]
    kk = keygen.open_keygen("coop", keygen.rotation_members(rec2, [sim.publics["newcomer2"]], [names[-2]]), k,
                            previous=rec2, keep_key=True)
    rec3 = run("keepkey", kk, signers_or(sorted(set(new) | set(third))))
    sim.keep_record(rec3, sorted(set(new) | set(third)))
    rec4 = run("refresh", keygen.open_refresh(rec3), signers_or(third))
    sim.keep_record(rec4, third)
    lost, helpers = third[0], third[1:k + 1]
    os.unlink(sim.holders[lost].shares.path(share_set(rec4)))
    run("repair", repair.open_repair(rec4, lost, helpers), lambda m: helpers + [lost])
    return out
