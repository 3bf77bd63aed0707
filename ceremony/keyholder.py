"""The keyholder's side of every ceremony, over its home (``spec/ceremony.md`` §keyholder).

``Keyholder.prepare(msg)`` checks an incoming coordinator message against
everything this home has seen of that ceremony and says what answering it
approves; ``Keyholder.answer(pending, passphrase)`` unlocks the identity key,
does the round's work and returns the signed reply.  Per ceremony the home
keeps::

    ceremonies/<id>/state.json       rounds answered: coordinator digest -> reply file
    ceremonies/<id>/<round>.reply    each reply sent (to send again, never to recompute)
    ceremonies/<id>/<name>.sealed    secrets between rounds, sealed under the passphrase
    ceremonies/<id>/transcript.json  hash-chained log of every message seen and sent
    shares/<group keyid>.share       FROST key packages, sealed
    nonces/                          the durable single-use nonce store (nonces.py)

A message is refused when this home already answered its round, when it
contradicts a message this home answered before (a different request or
bulletin under the same ceremony id: replay or equivocation), or when it
comes before the round this home is at.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

from cerro_torre.keys.home import Home
from cerro_torre.keys.identity import IdentityKey
from cerro_torre.keys.keyfile import KDFParams, open_sealed, seal
from cerro_torre.keys.shares import ShareStore
from cerro_torre.suites import frost
from cerro_torre.suites.atomic import atomic_write
from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import CeremonyError

from . import crashpoints, transcript
from .message import COORDINATOR, Message
from .nonces import NonceStore
from .protocol import participants, request_of, verify_chain


@dataclass
class Pending:
    """A checked message waiting for the keyholder's approval."""

    message: Message
    member: str
    summary: list[str]


class Keyholder:
    def __init__(self, home: str, *, params: KDFParams | None = None, allow_weak: bool = False) -> None:
        self.path = home
        self.params = params
        self.allow_weak = allow_weak
        self.home = Home(home, params=params, allow_weak=allow_weak)
        self.nonces = NonceStore(home, params=params, allow_weak=allow_weak)
        self.shares = ShareStore(home, params=params, allow_weak=allow_weak)

    # ------------------------------------------------------------ storage
    def _cdir(self, cid: str) -> str:
        d = os.path.join(self.path, "ceremonies", cid)
        os.makedirs(d, mode=0o700, exist_ok=True)
        return d

    def _state(self, cid: str) -> dict[str, Any]:
        p = os.path.join(self.path, "ceremonies", cid, "state.json")
        try:
            with open(p, "rb") as f:
                return parse_json(f.read(), p)
        except FileNotFoundError:
            return {"answered": {}, "member": None}

    def _save_state(self, cid: str, st: dict[str, Any]) -> None:
        atomic_write(os.path.join(self._cdir(cid), "state.json"), canonical_json(st), mode=0o600)

    def _seal(self, path: str, label: str, data: bytes, passphrase: bytes) -> None:
        atomic_write(path, seal(data, passphrase, label, self.params, allow_weak=self.allow_weak), mode=0o600)

    def _open(self, path: str, label: str, passphrase: bytes) -> bytes:
        with open(path, "rb") as f:
            return open_sealed(f.read(), passphrase, label, name=path, what=f"this home ({label})",
                               allow_weak=self.allow_weak)

    def share_path(self, group_public_key: bytes) -> str:
        return self.shares.path(group_public_key)

    def has_share(self, group_public_key: bytes) -> bool:
        return self.shares.has(group_public_key)

    def load_share(self, group_public_key: bytes, passphrase: bytes) -> frost.KeyPackage:
        return self.shares.load(group_public_key, passphrase)

    def store_share(self, kp: frost.KeyPackage, passphrase: bytes) -> None:
        self.shares.store(kp, passphrase)

    def transcript(self, cid: str) -> list[transcript.Entry]:
        p = os.path.join(self.path, "ceremonies", cid, "transcript.json")
        try:
            with open(p, "rb") as f:
                raw = parse_json(f.read(), p)
        except FileNotFoundError:
            return []
        entries = [transcript.Entry(**e) for e in raw]
        transcript.verify(entries)
        return entries

    def _log(self, cid: str, *msgs: Message) -> None:
        entries = self.transcript(cid)
        prev = transcript.head(entries)
        for m in msgs:
            e = transcript.Entry(len(entries), prev, m.digest.hex(), m.round, m.sender, m.fingerprint.words)
            entries.append(e)
            prev = e.hash
        atomic_write(os.path.join(self._cdir(cid), "transcript.json"),
                     canonical_json([e.to_json() for e in entries]), mode=0o600)

    # ------------------------------------------------------------ who am I
    def member_of(self, request: Message) -> str:
        people = participants(request)
        mine = [e.id for e in self.home.list_keys() if e.has_private]
        hits = [mid for mid in mine if mid in people and people[mid].to_bytes() == self.home.public(mid).to_bytes()]
        if not hits:
            raise CeremonyError("none of this home's keys takes part in this ceremony",
                                "participants: " + ", ".join(sorted(people)) + "; use the right --home")
        if len(hits) > 1:
            raise CeremonyError("this home holds several participants' keys: " + ", ".join(hits),
                                "each keyholder answers from their own home")
        return hits[0]

    # ------------------------------------------------------------ the step
    def prepare(self, msg: Message) -> Pending:
        if msg.sender != COORDINATOR:
            raise CeremonyError(f"this is {msg.sender!r}'s {msg.round} reply, not a message for a keyholder",
                                "replies go to the coordinator ('ct ceremony collect')")
        request = request_of(msg)
        me = self.member_of(request)
        chain = {m.round: m for m in verify_chain(msg)}
        st = self._state(msg.ceremony)
        answered: dict[str, str] = st["answered"]
        if msg.round in answered:
            if answered[msg.round] == msg.digest.hex():
                raise CeremonyError(f"{me!r} already answered this {msg.round} message of ceremony {msg.ceremony}",
                                    f"the reply is {os.path.join(self.path, 'ceremonies', msg.ceremony, msg.round + '.reply')};"
                                    " send that file again")
            raise CeremonyError(f"a different {msg.round} message for ceremony {msg.ceremony} was answered before",
                                "the coordinator sent two versions of a round (replay or equivocation); "
                                "refuse it and tell the other keyholders")
        for rnd, digest in answered.items():
            if rnd in chain and chain[rnd].digest.hex() != digest:
                raise CeremonyError(f"this {msg.round} message follows a {rnd} message that is not the one "
                                    f"{me!r} answered",
                                    "the coordinator changed an earlier round; refuse this ceremony")
        from . import keygen, signing

        mod = signing if msg.kind == "sign" else keygen
        summary = mod.describe(msg, me)
        return Pending(msg, me, summary)

    def answer(self, pending: Pending, passphrase: bytes) -> Message:
        msg, me = pending.message, pending.member
        key = self.home.load_private(me, passphrase)
        try:
            reply = self._answer(msg, key, passphrase)
        finally:
            key.wipe()
        return reply

    def _answer(self, msg: Message, key: IdentityKey, passphrase: bytes) -> Message:
        from . import keygen, signing

        cid = msg.ceremony
        cdir = self._cdir(cid)
        st = self._state(cid)
        slot = f"{cid}.{key.id}"

        def load_secret(name: str) -> bytes:
            p = os.path.join(cdir, name + ".sealed")
            if not os.path.exists(p):
                raise CeremonyError(f"this home has no {name} secret for ceremony {cid}",
                                    "answer the ceremony's earlier rounds from this home first")
            return self._open(p, f"ct-ceremony:{cid}:{name}", passphrase)

        def take_nonces(suffix: str = "") -> bytes:
            return self.nonces.take(slot + suffix, passphrase)

        if msg.kind == "sign":
            ans = signing.answer(msg, key, lambda gpk: self.load_share(gpk, passphrase), take_nonces)
        else:
            plan = keygen.plan_of(msg)
            secrets: dict[str, bytes] = {}
            if msg.round == "round1":
                secrets["dkg1"] = load_secret("dkg1")
            elif msg.round == "round2":
                if not plan.dealer and key.id in plan.new:
                    secrets["dkg2"] = load_secret("dkg2")
            elif msg.round == "package":
                if key.id in plan.new:
                    pkp_gpk = keygen.group_keys(plan, keygen._chain(msg, "round2") if not plan.dealer  # noqa: SLF001
                                                else plan.request).group_public_key
                    secrets["share:new"] = self.load_share(pkp_gpk, passphrase).to_bytes()
            old = None
            if plan.previous is not None and key.id in plan.old and msg.round in ("round2", "package", "request"):
                if plan.previous.group_public_key and self.has_share(plan.previous.group_public_key):
                    old = self.load_share(plan.previous.group_public_key, passphrase)
            ans = keygen.answer(msg, key, secrets, old, take_nonces)
        for name, data in (getattr(ans, "keep", None) or {}).items():
            self._seal(os.path.join(cdir, name + ".sealed"), f"ct-ceremony:{cid}:{name}", data, passphrase)
        if getattr(ans, "share", None) is not None:
            self.store_share(ans.share, passphrase)
        if getattr(ans, "nonces", None):
            self.nonces.put(slot + getattr(ans, "nonce_slot_suffix", ""), ans.nonces, passphrase)
        crashpoints.hit("share-computed")
        reply = ans.reply
        atomic_write(os.path.join(cdir, msg.round + ".reply"), reply.to_bytes(), mode=0o600)
        st["answered"][msg.round] = msg.digest.hex()
        st["member"] = key.id
        self._save_state(cid, st)
        self._log(cid, msg, reply)
        for name in getattr(ans, "drop", ()):
            p = os.path.join(cdir, name + ".sealed")
            if os.path.exists(p):
                os.unlink(p)
        return reply
