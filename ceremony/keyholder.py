"""The keyholder's side of every ceremony, over its home (``spec/ceremony.md`` §keyholder).

``Keyholder.prepare(msg)`` checks an incoming coordinator message against
everything this home has seen of that ceremony and says what answering it
approves; ``Keyholder.answer(pending, passphrase)`` unlocks the identity key,
does the round's work and returns the signed reply.  Per ceremony the home
keeps::

    ceremonies/<id>/state.json       rounds answered (coordinator digests), the member, and in a keygen
                                     or rotation the fingerprint of the record this home confirmed
    ceremonies/<id>/<round>.reply    each reply sent (to send again, never to recompute)
    ceremonies/<id>/<name>.sealed    secrets between rounds, sealed under the passphrase
    ceremonies/<id>/messages/        every coordinator message it stepped, by digest (later ones name them)
    ceremonies/<id>/transcript.json  hash-chained log of every message seen and sent
    shares/<record fingerprint>.share  FROST key packages, one per keyholder-set record, sealed (and their
                                     status, keys/shares.py)
    nonces/                          the durable single-use nonce store (nonces.py)
    signed.log                       every release this home signed (signedlog.py)
    governance/                      the keyholder-set records it took part in (governance/trust.py)

A message is refused when this home already answered its round, when it
contradicts a message this home answered before (a different request or
bulletin under the same ceremony id: replay or equivocation), or when it
comes before the round this home is at.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any

from cerro_torre.governance.keyholders import KeyholderSet, now_utc, walk_chain
from cerro_torre.governance.trust import TrustStore, fork_error
from cerro_torre.keys.home import Home
from cerro_torre.keys.identity import IdentityKey
from cerro_torre.keys.keyfile import KDFParams, open_sealed, seal
from cerro_torre.keys.shares import ShareSet, ShareStore
from cerro_torre.suites import frost
from cerro_torre.suites.atomic import atomic_write
from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import CeremonyError

from . import crashpoints, transcript
from .message import COORDINATOR, Message
from .nonces import NonceStore
from .signedlog import SignedLog
from .protocol import History, View, verify_relayed


@dataclass
class Pending:
    """A checked message waiting for the keyholder's approval (or, when ``answers`` is false, to be kept)."""

    message: Message
    member: str
    summary: list[str]
    view: View
    answers: bool = True


# coordinator rounds in the order they come, in every kind of ceremony
_ORDER = ("request", "round1", "round2", "package", "package2")


def share_set(rec: KeyholderSet) -> ShareSet:
    """The record as the share store names a share (``keys/shares.py``)."""
    if rec.group_public_key is None:
        raise CeremonyError(f"{rec.describe()} has no FROST group key")
    return ShareSet(rec.name, rec.epoch, rec.fingerprint.full_hex, rec.group_public_key)


def is_record(data: bytes) -> bool:
    """A keyholder-set record file rather than a ceremony message (decided on its first bytes)."""
    return data.lstrip().startswith(b'{"body":')


@dataclass
class Stored:
    """What ``Keyholder.store_record`` did: the records new to this home, and the shares it retired."""

    record: KeyholderSet
    new: list[KeyholderSet]
    retired: list[str]          # reasons, one per share retired now
    deleted: list[str] = dataclasses.field(default_factory=list)    # reasons, one per share deleted now

    def lines(self) -> list[str]:
        fp = self.record.fingerprint
        out = [f"kept {self.record.describe()} in this home (records new here: epoch "
               + ", ".join(str(r.epoch) for r in self.new) + ")" if self.new
               else f"this home already keeps {self.record.describe()}",
               f"  fingerprint {fp.hex}  {fp.words}"]
        return out + [f"  retired a share: {reason}" for reason in self.retired] \
            + [f"  deleted a share: {reason}" for reason in self.deleted]


class Keyholder:
    def __init__(self, home: str, *, params: KDFParams | None = None, allow_weak: bool = False) -> None:
        self.path = home
        self.params = params
        self.allow_weak = allow_weak
        self.home = Home(home, params=params, allow_weak=allow_weak)
        self.nonces = NonceStore(home, params=params, allow_weak=allow_weak)
        self.shares = ShareStore(home, params=params, allow_weak=allow_weak)
        self.trust = TrustStore(home)
        self.signed = SignedLog(home)

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

    def has_share(self, rec: KeyholderSet) -> bool:
        return self.shares.has(share_set(rec))

    def load_share(self, rec: KeyholderSet, member: str, passphrase: bytes) -> frost.KeyPackage:
        """``member``'s key package for the keyholder set ``rec`` (checked against its verification share)."""
        m = next((m for m in rec.members if m.id == member), None)
        if m is None or m.verification_share is None:
            raise CeremonyError(f"{member!r} is not a member of {rec.describe()}")
        return self.shares.load(share_set(rec), m.verification_share, passphrase)

    def store_share(self, kp: frost.KeyPackage, rec: KeyholderSet, passphrase: bytes) -> None:
        self.shares.store(kp, share_set(rec), passphrase)

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

    # ------------------------------------------------------------ what this home holds
    def _messages_dir(self, cid: str) -> str:
        return os.path.join(self.path, "ceremonies", cid, "messages")

    def _history(self, msg: Message, st: dict[str, Any]) -> History:
        """The coordinator messages this home stepped in ``msg``'s ceremony, and its records."""
        d = self._messages_dir(msg.ceremony)
        held = []
        for fn in sorted(os.listdir(d)) if os.path.isdir(d) else []:
            with open(os.path.join(d, fn), "rb") as f:
                held.append(Message.parse(f.read(), os.path.join(d, fn)))
        answered = {**st["answered"], **{r: dg for r, dg in st.get("kept", {}).items()}}

        def lacks(what: str, ref: str, needed_by: Message) -> CeremonyError:
            from .keygen import lacks_record

            if what == "record":
                return lacks_record(ref, "the keyholder-set record", self.path)
            earlier = _ORDER[:_ORDER.index(needed_by.round)] if needed_by.round in _ORDER else ()
            before = next((r for r in reversed(earlier) if r in answered), "")
            if before:
                return CeremonyError(f"this {needed_by.round} message follows a {before} message that is not the "
                                     f"one {st.get('member') or 'this home'!r} answered",
                                     "the coordinator changed an earlier round; refuse this ceremony")
            if answered:
                return CeremonyError(f"this {needed_by.round} message follows a message ({ref[:16]}…) that is not "
                                     f"one {st.get('member') or 'this home'!r} answered",
                                     "the coordinator changed an earlier round; refuse this ceremony")
            return CeremonyError(f"this {needed_by.round} message follows a message of ceremony {needed_by.ceremony} "
                                 f"that this home has not seen ({ref[:16]}…)",
                                 "step the ceremony's earlier messages first, in order: 'ct ceremony step FILE' keeps "
                                 "a message even when there is nothing to answer in its round")
        return History(held, (), lacks, self.trust.get)

    # ------------------------------------------------------------ who am I
    def member_of(self, people: dict[str, Any]) -> str:
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
            raise CeremonyError(f"this is the {msg.round} reply of {msg.sender!r}, not a message for a keyholder",
                                "replies go to the coordinator ('ct ceremony collect')")
        from . import keygen, repair, signing

        st = self._state(msg.ceremony)
        answered: dict[str, str] = st["answered"]
        kept: dict[str, str] = st.get("kept", {})
        who = st.get("member") or "this home"
        if msg.round in answered or msg.round in kept:
            if msg.digest.hex() == answered.get(msg.round):
                raise CeremonyError(f"{who!r} already answered this {msg.round} message of ceremony {msg.ceremony}",
                                    f"the reply is {os.path.join(self.path, 'ceremonies', msg.ceremony, msg.round + '.reply')};"
                                    " send that file again")
            if msg.digest.hex() == kept.get(msg.round):
                raise CeremonyError(f"{who!r} already keeps this {msg.round} message of ceremony {msg.ceremony}",
                                    "there is nothing to answer in this round; step the next message")
            raise CeremonyError(f"a different {msg.round} message for ceremony {msg.ceremony} was answered before",
                                "the coordinator sent two versions of a round (replay or equivocation); "
                                "refuse it and tell the other keyholders")
        view = View(msg, self._history(msg, st))
        if msg.kind == "sign":
            plan = signing.plan_of(view)
            people: dict[str, Any] = dict(plan.people)
            me = self.member_of(people)
            verify_relayed(view, people)
            self._check_lineage(dict(enumerate(plan.chain, 1)), plan.group, "the signing request's chain")
            summary = signing.describe(view, me)
            answers = True
        elif msg.kind == repair.KIND:
            rplan = repair.plan_of(view)
            people = dict(rplan.people)
            me = self.member_of(people)
            verify_relayed(view, people)
            rec = rplan.record
            self._check_lineage({rec.epoch: rec.fingerprint.full_hex}, rec, "the repair request")
            if me == rplan.lost and self.shares.has(share_set(rec)) and msg.round == "request":
                raise CeremonyError(f"this home holds the share of {me!r} in {rec.describe()}: there is nothing to repair",
                                    f"a damaged share file is {self.shares.path(share_set(rec))}: move it away "
                                    "first, then step the request again")
            summary = repair.describe(view, me)
            answers = repair.answers(rplan, me, msg.round)
        else:
            kplan = keygen.plan_of(view)
            people = dict(kplan.people)
            me = self.member_of(people)
            verify_relayed(view, people)
            home = keygen.HomeView(now_utc(), tuple(self.signed.entries()),
                                   self.trust.checkpoints(kplan.template["name"]), self.path)
            summary = keygen.describe(view, me, home)
            answers = keygen.answers(kplan, me, msg.round)
        return Pending(msg, me, summary, view, answers)

    def _check_lineage(self, chain: dict[int, str], group: KeyholderSet, what: str) -> None:
        """The records a request names (fingerprints by epoch) against what this home knows: no fork, and
        not a closed epoch."""
        cps = self.trust.checkpoints(group.name)
        for epoch, fp in sorted(chain.items()):
            if cps.get(epoch, fp) != fp:
                raise fork_error(group.name, epoch, cps[epoch], f"checkpoint of {self.path}", fp, what)
        if cps and max(cps) > group.epoch:
            raise CeremonyError(f"this home knows epoch {max(cps)} of {group.name!r}: epoch {group.epoch} is closed "
                                "and signs no more releases",
                                f"sign with the current keyholder set (epoch {max(cps)}); a release epoch {group.epoch} "
                                "signed now would be refused by every verifier that knows the rotation")

    def keep(self, pending: Pending) -> None:
        """Keep a message this member has nothing to answer in (a rotation's outgoing member before the
        confirm round): later messages name it."""
        msg = pending.message
        st = self._state(msg.ceremony)
        self._store_message(msg)
        st.setdefault("kept", {})[msg.round] = msg.digest.hex()
        st["member"] = pending.member
        self._save_state(msg.ceremony, st)
        self._log(msg.ceremony, msg)

    def _store_message(self, msg: Message) -> None:
        d = self._messages_dir(msg.ceremony)
        os.makedirs(d, mode=0o700, exist_ok=True)
        atomic_write(os.path.join(d, msg.digest.hex() + ".ctm"), msg.to_bytes(), mode=0o600)

    def answer(self, pending: Pending, passphrase: bytes) -> Message:
        if not pending.answers:
            raise CeremonyError(f"{pending.member!r} has nothing to answer in the {pending.message.round} round",
                                "keep the message instead ('ct ceremony step' does)")
        key = self.home.load_private(pending.member, passphrase)
        try:
            reply = self._answer(pending.view, key, passphrase)
        finally:
            key.wipe()
        return reply

    def _answer(self, view: View, key: IdentityKey, passphrase: bytes) -> Message:
        from . import keygen, repair, reshare, signing

        msg = view.msg
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

        def load_share(rec: KeyholderSet) -> frost.KeyPackage:
            return self.load_share(rec, key.id, passphrase)

        if msg.kind == "sign":
            ans = signing.answer(view, key, load_share, take_nonces)
            if ans.signed is not None:
                self.signed.append(ans.signed)
        elif msg.kind == repair.KIND:
            rplan = repair.plan_of(view)
            secrets: dict[str, bytes] = {}
            if msg.round == "round1" and key.id in rplan.helpers:
                secrets[repair.OWN_DELTA] = load_secret(repair.OWN_DELTA)
            ans = repair.answer(view, key, load_share, secrets)
        else:
            plan = keygen.plan_of(view)
            secrets = {}
            if plan.method == "dkg" and msg.round == "round1":
                secrets["dkg1"] = load_secret("dkg1")
            elif plan.method == "dkg" and msg.round == "round2" and key.id in plan.new:
                secrets["dkg2"] = load_secret("dkg2")
            elif plan.keeps_key and msg.round == plan.confirm_round and key.id in plan.new \
                    and key.id in plan.old_signers:
                secrets[reshare.OWN_SHARE] = load_secret(reshare.OWN_SHARE)
            elif msg.round == "package" and key.id in plan.new:
                secrets["share:new"] = load_share(keygen.derived_record(plan, view)).to_bytes()
            old = None
            if plan.previous is not None and key.id in plan.old_signers and \
                    msg.round in (plan.confirm_round, "package", "request"):
                old = load_share(plan.previous)
            ans = keygen.answer(view, key, secrets, old, take_nonces)
        for name, data in (getattr(ans, "keep", None) or {}).items():
            self._seal(os.path.join(cdir, name + ".sealed"), f"ct-ceremony:{cid}:{name}", data, passphrase)
        if getattr(ans, "share", None) is not None:
            self.store_share(ans.share, ans.record, passphrase)
        if getattr(ans, "nonces", None):
            self.nonces.put(slot + getattr(ans, "nonce_slot_suffix", ""), ans.nonces, passphrase)
        crashpoints.hit("share-computed")
        reply = ans.reply
        atomic_write(os.path.join(cdir, msg.round + ".reply"), reply.to_bytes(), mode=0o600)
        st["answered"][msg.round] = msg.digest.hex()
        st["member"] = key.id
        if reply.round == "confirm":
            st["record"] = reply.payload["record"]
        self._store_message(msg)
        self._save_state(cid, st)
        self._log(cid, msg, reply)
        for name in getattr(ans, "drop", ()):
            p = os.path.join(cdir, name + ".sealed")
            if os.path.exists(p):
                os.unlink(p)
        return reply

    # ------------------------------------------------------------ the final record
    def _confirmed_in(self, fingerprint: str) -> str | None:
        """The ceremony in which this home confirmed the record of that fingerprint, if any."""
        root = os.path.join(self.path, "ceremonies")
        for cid in sorted(os.listdir(root)) if os.path.isdir(root) else []:
            if self._state(cid).get("record") == fingerprint:
                return cid
        return None

    def store_record(self, rec: KeyholderSet, what: str) -> Stored:
        """Keep a keyholder-set record this home took part in (it confirmed that very record in a keygen or
        rotation), one that one of this home's identity keys signed (a member restoring its home from a backup
        made before the ceremony), or one that follows a record it keeps; verified first (its own threshold,
        and the previous epoch's).  Storing a rotation's record retires this home's shares of the epochs it
        supersedes, or deletes them when it kept the group key."""
        fp = rec.fingerprint.full_hex
        cid = self._confirmed_in(fp) or self._signed_by_me(rec)
        prev = self.trust.record_at(rec.name, rec.epoch - 1) if rec.previous is not None else None
        if prev is not None and prev.fingerprint.full_hex != rec.previous[1]:
            prev = None      # the store's epoch is another record: TrustStore.add names the fork
        if cid is not None:
            chain = [prev, rec] if prev is not None else [rec]
        else:
            if prev is None:
                raise CeremonyError(f"{what} is {rec.describe()}, which this home did not confirm in a ceremony and "
                                    "which does not follow a record it keeps",
                                    "a home keeps the records of the ceremonies it took part in; check that this "
                                    "is the record the coordinator wrote at the end of yours")
            chain = [prev, rec]
        res = walk_chain(chain, {chain[0].fingerprint.full_hex})
        if res.error is not None:
            raise res.error
        before = {e.stem: e.status for e in self.shares.list()}
        new = self.trust.add(chain, what)
        after = [e for e in self.shares.list() if e.status != before.get(e.stem)]
        return Stored(rec, new, [e.reason or "" for e in after if e.status == "retired"],
                      [e.reason or "" for e in after if e.status == "deleted"])

    def _signed_by_me(self, rec: KeyholderSet) -> str | None:
        """The member of ``rec`` whose identity key this home holds and whose signature of it (over the
        record's signing message, made only when a member signs a record) ``rec`` carries."""
        from cerro_torre.suites.suite import verify_signature

        mine = {e.id for e in self.home.list_keys() if e.has_private}
        message = rec.message()
        for m in rec.members:
            if m.id not in mine or self.home.public(m.id).to_bytes() != m.identity.to_bytes():
                continue
            keyids = {m.identity.keyid(alg): alg for alg in m.identity.signing_algorithms()}
            for s in rec.signatures:
                alg = keyids.get(s.keyid)
                if alg == s.alg and verify_signature(alg, m.identity.keys[alg], message, s.sig):
                    return m.id
        return None
