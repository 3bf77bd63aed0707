"""Keygen (DKG) and rotation ceremonies, as pure functions (``spec/ceremony.md`` §keygen).

Rounds, DKG::

    request  --commit-->  round1  --shares-->  round2  --confirm-->  package  --sign-->  record

Rounds, trusted dealer (``dealer=True``; tests and small groups only)::

    request  --confirm-->  package  --sign-->  record

* ``commit``: Pedersen DKG round 1 (commitment + Schnorr proof of knowledge
  bound to the ceremony id and the request's digest).
* ``shares``: round 2, each share sealed to its recipient's X25519 key.
* ``confirm``: each member derives its share, the group key and every
  verification share, builds the keyholder-set record and names its
  fingerprint, the digest of the round-1 bulletin it saw (the transcript
  hash: a coordinator that showed members different round-1 data is caught
  here, by name) and its FROST commitments to sign the record.
* ``sign``: every member signs the record with its ML-DSA key and a FROST
  share; the coordinator aggregates the group signature.

A rotation is the same ceremony for the new set, with the old set's record in
the request: the old members also answer ``round2`` (commitments of the old
group) and ``package`` (old-group shares and ML-DSA signatures), so the new
record carries the threshold of epoch N and of epoch N+1, per algorithm.
"""

from __future__ import annotations

import datetime as _dt
from dataclasses import dataclass
from typing import Any

from cerro_torre.governance.keyholders import RECORD_TYPE, RECORD_VERSION, KeyholderSet, Member, format_time, now_utc
from cerro_torre.keys.identity import IdentityKey, IdentityPublic, seal_to
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e, field, parse_json, typed
from cerro_torre.suites.errors import CeremonyError, Malformed, UsageError
from cerro_torre.suites.suite import SUITES, Signature, get_suite, keyid_of

from . import frostround
from .message import Message
from .protocol import (
    gather,
    make_bulletin,
    make_reply,
    new_ceremony_id,
    participants,
    replies_in,
    request_of,
)

KIND_KEYGEN = "keygen"
KIND_ROTATE = "rotate"


# ============================================================== request

def open_keygen(name: str, members: list[IdentityPublic], threshold: int, *, suite: str = "CT-SIG-02",
                days: int = 365, dealer: bool = False, previous: KeyholderSet | None = None,
                now: _dt.datetime | None = None, ceremony: str | None = None) -> Message:
    """The coordinator's request opening a keygen (or, with ``previous``, a rotation)."""
    s = get_suite(suite, usage=True)
    if "ed25519" not in s.algorithms:
        raise UsageError(f"a {suite} keyholder set has no FROST group key to generate",
                         "use CT-SIG-01 or CT-SIG-02 for a cooperative")
    ids = [m.id for m in members]
    if len(set(ids)) != len(ids):
        raise UsageError("a member is listed twice", "give each member's .pub file once")
    if len(members) < 2:
        raise UsageError("a keyholder set needs at least 2 members")
    if not 2 <= threshold <= len(members):
        raise UsageError(f"threshold {threshold} is out of range for {len(members)} members",
                         f"choose k with 2 <= k <= {len(members)}")
    for m in members:
        for alg in s.algorithms:
            if alg not in m.keys:
                raise UsageError(f"member {m.id!r} has a {m.suite} identity without a {alg} key",
                                 f"a {suite} set needs members with {suite} identity keys")
    if days < 1:
        raise UsageError("--days must be at least 1")
    now = now or now_utc()
    ordered = sorted(members, key=lambda m: m.id)
    template = {
        "name": name,
        "epoch": previous.epoch + 1 if previous else 1,
        "suite": suite,
        "threshold": threshold,
        "created": format_time(now),
        "expires": format_time(now + _dt.timedelta(days=days)),
        "members": [{"id": m.id, "index": i + 1, "identity": m.to_json()} for i, m in enumerate(ordered)],
        "previous": {"epoch": previous.epoch, "fingerprint": previous.fingerprint.full_hex} if previous else None,
    }
    if previous is not None and previous.name != name:
        raise UsageError(f"the set is called {previous.name!r}; a rotation keeps its name")
    people = {m.id: m for m in ordered}
    if previous is not None:
        for m in previous.members:
            people.setdefault(m.id, m.identity)
    payload: dict[str, Any] = {
        "participants": [p.to_json() for _, p in sorted(people.items())],
        "template": template,
        "previous_record": parse_json(previous.to_bytes()) if previous else None,
        "dealer": None,
    }
    if dealer:
        out = frost.trusted_dealer_keygen(len(ordered), threshold)
        payload["dealer"] = {
            "group_public_key": b64e(out.group_public_key),
            "vss_commitment": [b64e(p) for p in out.vss_commitment],
            "shares": {m.id: b64e(seal_to(m, out.shares[i].to_bytes())) for i, m in enumerate(ordered)},
        }
    kind = KIND_ROTATE if previous else KIND_KEYGEN
    return Message(ceremony or new_ceremony_id(), kind, "request", "coordinator", payload)


# ============================================================== shared views

@dataclass(frozen=True)
class Plan:
    """What a keygen/rotation request asks for, parsed and checked."""

    request: Message
    template: dict[str, Any]
    people: dict[str, IdentityPublic]
    new: dict[str, int]               # member id -> FROST identifier in the new set
    previous: KeyholderSet | None
    dealer: dict[str, Any] | None

    @property
    def threshold(self) -> int:
        return int(self.template["threshold"])

    @property
    def old(self) -> dict[str, int]:
        return {m.id: m.index for m in self.previous.members} if self.previous else {}

    @property
    def context(self) -> bytes:
        return b"ct-dkg-v1\x00" + bytes.fromhex(self.request.ceremony) + self.request.digest

    def record(self, group_public_key: bytes, verifying: dict[int, bytes]) -> KeyholderSet:
        t = self.template
        members = tuple(Member(m["id"], m["index"], self.people[m["id"]], verifying[m["index"]])
                        for m in t["members"])
        prev = (t["previous"]["epoch"], t["previous"]["fingerprint"]) if t["previous"] else None
        return KeyholderSet(t["name"], t["epoch"], t["suite"], t["threshold"], t["created"], t["expires"],
                            group_public_key, members, prev)

    def summary(self) -> list[str]:
        t = self.template
        lines = [f"{'rotation to' if self.previous else 'new'} keyholder set {t['name']!r} epoch {t['epoch']}: "
                 f"{t['threshold']} of {len(t['members'])}, suite {t['suite']}, expires {t['expires']}"]
        for m in t["members"]:
            fp = self.people[m["id"]].fingerprint
            lines.append(f"  member {m['index']}: {m['id']:<16} {fp.hex}  {fp.words}")
        if self.previous:
            p = self.previous
            lines.append(f"  replaces epoch {p.epoch} ({p.fingerprint.hex}), {p.threshold} of {len(p.members)}: "
                         + ", ".join(m.id for m in p.members))
        if self.dealer:
            lines.append("  WARNING: trusted-dealer mode: the coordinator generated every share and saw the key")
        return lines


def plan_of(msg: Message) -> Plan:
    req = request_of(msg)
    if req.kind not in (KIND_KEYGEN, KIND_ROTATE):
        raise Malformed(f"not a keygen or rotation ceremony ({req.kind})")
    p = req.payload
    people = participants(req)
    t = _template(p.get("template"))
    prev = None
    if p.get("previous_record") is not None:
        from cerro_torre.suites.encoding import canonical_json

        prev = KeyholderSet.from_bytes(canonical_json(p["previous_record"]) + b"\n", "previous keyholder set")
    if (prev is None) != (req.kind == KIND_KEYGEN):
        raise Malformed("a rotation request needs the previous record, a keygen request none")
    new = {m["id"]: m["index"] for m in t["members"]}
    for mid in new:
        if mid not in people:
            raise Malformed(f"member {mid!r} is not a participant")
    dealer = p.get("dealer")
    if dealer is not None:
        typed(dealer, "object", "keygen request: dealer")
        field(dealer, "vss_commitment", "list of strings", "keygen request: dealer")
        field(dealer, "shares", "object", "keygen request: dealer")
    return Plan(req, t, people, new, prev, dealer)


def _template(t: Any) -> dict[str, Any]:
    """A request's template: a record body less its FROST keys, checked by the record's own rules (so
    every field has its type and range before anything reads it)."""
    what = "keygen request template"
    typed(t, "object", what)
    members = typed(t.get("members"), "list of objects", f"{what}: members")
    algs = get_suite(t.get("suite")).algorithms
    placeholder = b64e(bytes(32)) if "ed25519" in algs else None
    closed = None if t.get("previous") is None else []  # (a template need not carry it)
    KeyholderSet.from_body({"closed_releases": closed, **t, "type": RECORD_TYPE, "version": RECORD_VERSION,
                            "group_public_key": placeholder,
                            "members": [{**m, "verification_share": placeholder} for m in members]}, what)
    return t


def _r1_package(reply: Message, index: int) -> frost.DkgRound1Package:
    pkg = frost.DkgRound1Package.from_bytes(b64d(reply.payload.get("package"), f"{reply.sender} round-1 package"))
    if pkg.identifier != index:
        raise CeremonyError(f"round-1 package from {reply.sender!r} claims identifier {pkg.identifier}, "
                            f"expected {index}")
    return pkg


def _round1_packages(plan: Plan, round1: Message) -> dict[str, frost.DkgRound1Package]:
    return {r.sender: _r1_package(r, _new_index(plan, r)) for r in replies_in(round1)}


def _new_index(plan: Plan, reply: Message) -> int:
    """The FROST identifier in the new set of a reply's sender (who may be a participant outside it)."""
    if reply.sender not in plan.new:
        raise CeremonyError(f"the {reply.round} reply from {reply.sender!r} comes from outside the new set",
                            "only new members send DKG packages and shares; refuse this message")
    return plan.new[reply.sender]


def _chain(msg: Message, rnd: str) -> Message:
    """The coordinator message of round ``rnd`` in ``msg``'s chain."""
    from .protocol import chain_of

    for m in chain_of(msg):
        if m.round == rnd:
            return m
    raise Malformed(f"message has no {rnd} in its chain")


def _blame_proof(plan: Plan, e: frost.InvalidProof) -> CeremonyError:
    by_index = {i: mid for mid, i in plan.new.items()}
    who = ", ".join(by_index.get(i, str(i)) for i in e.identifiers)
    return CeremonyError(f"invalid proof of knowledge from {who}",
                         "that keyholder's round-1 message is faulty or forged; restart the keygen without it")


def group_keys(plan: Plan, upto: Message) -> frost.PublicKeyPackage:
    """The new group's public key package, from the round-1 bulletin (DKG) or the dealer."""
    if plan.dealer:
        d = plan.dealer
        vss = [b64d(x, "dealer vss commitment", size=32) for x in d["vss_commitment"]]
        gpk = b64d(d["group_public_key"], "dealer group key", size=32)
        if len(vss) != plan.threshold:
            raise CeremonyError("dealer's vss commitment does not match the threshold")
        pkp = frost.vss_public_key_package(plan.new.values(), vss)
        if pkp.group_public_key != gpk:
            raise CeremonyError("dealer's group key does not match its vss commitment")
        return pkp
    pkgs = _round1_packages(plan, _chain(upto, "round1"))
    try:
        return frost.dkg_public_key_package(list(pkgs.values()), plan.context)
    except frost.InvalidProof as e:
        raise _blame_proof(plan, e) from None


def describe(msg: Message, me: str) -> list[str]:
    """What answering ``msg`` approves, for the keyholder to read first."""
    plan = plan_of(msg)
    lines = plan.summary()
    is_new, is_old = my_roles(plan, me)
    what = {"request": "generate your DKG commitment and proof (round 1)",
            "round1": "check everyone's proofs and send each member its sealed share (round 2)",
            "round2": "derive your share, check the group key and commit to signing the record",
            "package": "sign the new record: FROST share and ML-DSA-87 signature"}.get(msg.round, msg.round)
    if plan.dealer and msg.round == "request":
        what = "open your share from the dealer, check it and commit to signing the record"
    role = "new member" if is_new else ""
    if is_old:
        role = (role + " and " if role else "") + f"member of epoch {plan.previous.epoch}"
    lines.append(f"  you are {me!r} ({role or 'not a member'}); this step: {what}")
    lines.append(f"  message fingerprint: {msg.fingerprint.hex}  {msg.fingerprint.words}")
    return lines


# ============================================================== coordinator

def collect(msg: Message, replies: list[Message]) -> Message | KeyholderSet:
    """Merge the replies to coordinator message ``msg`` into the next message, or the final record."""
    plan = plan_of(msg)
    new = set(plan.new)
    if msg.round == "request" and not plan.dealer:
        got = gather(msg, replies, "commit", plan.people, new)
        pkgs = [_r1_package(r, plan.new[r.sender]) for r in got.values()]
        try:
            frost.dkg_public_key_package(pkgs, plan.context)
        except frost.InvalidProof as e:
            raise _blame_proof(plan, e) from None
        return make_bulletin(msg, "round1", list(got.values()), {})
    if msg.round == "round1":
        got = gather(msg, replies, "shares", plan.people, new)
        for r in got.values():
            sh = r.payload.get("shares")
            want = {str(i) for mid, i in plan.new.items() if mid != r.sender}
            if not isinstance(sh, dict) or set(sh) != want:
                raise CeremonyError(f"shares from {r.sender!r} are not addressed to every other member")
        return make_bulletin(msg, "round2", list(got.values()), {})
    if msg.round == "round2" or (msg.round == "request" and plan.dealer):
        expected = new | set(plan.old)
        pkp = group_keys(plan, msg)
        record = plan.record(pkp.group_public_key, pkp.verifying_shares)
        got = gather(msg, replies, "confirm", plan.people, expected, need=len(new))
        missing_new = sorted(new - set(got))
        if missing_new:
            raise CeremonyError(f"every new member must confirm; missing: {', '.join(missing_new)}",
                                "collect again when they have answered")
        fp = record.fingerprint.full_hex
        transcript = _chain(msg, "round1").digest.hex() if not plan.dealer else msg.digest.hex()
        differ = sorted(r.sender for r in got.values() if r.payload.get("record") != fp
                        or r.payload.get("transcript") != transcript)
        if differ:
            raise CeremonyError(f"members {', '.join(differ)} derived a different keyholder set or saw a "
                                "different round-1 message",
                                "the coordinator's messages were inconsistent (equivocation) or a member is "
                                "faulty; start a new keygen")
        old_signers = sorted(mid for mid in got if mid in plan.old and got[mid].payload.get("old"))
        if plan.previous is not None and len(old_signers) < plan.previous.threshold:
            raise CeremonyError(f"{len(old_signers)} of {plan.previous.threshold} needed members of epoch "
                                f"{plan.previous.epoch} confirmed",
                                "a rotation needs the outgoing set's threshold; collect again when they answered")
        signers = {"new": sorted(m for m in got if got[m].payload.get("new")), "old": old_signers}
        return make_bulletin(msg, "package", list(got.values()),
                             {"record": record.body(), "signers": signers})
    if msg.round == "package":
        return _finish(plan, msg, replies)
    raise CeremonyError(f"nothing to collect after a {msg.round!r} message",
                        "collect takes the coordinator's last message and the replies to it")


def _package_view(plan: Plan, package: Message) -> tuple[KeyholderSet, dict[str, list[str]],
                                                          dict[str, list[frost.SigningCommitments]]]:
    """The record, signer lists and sorted commitment lists of a package bulletin (checked)."""
    prev = _chain(package, "round2") if not plan.dealer else plan.request
    pkp = group_keys(plan, prev)
    record = plan.record(pkp.group_public_key, pkp.verifying_shares)
    if package.payload.get("record") != record.body():
        raise CeremonyError("the package's record is not the one the round-1 data gives",
                            "the coordinator altered the record; refuse it")
    signers = package.payload.get("signers")
    if not isinstance(signers, dict) or set(signers) != {"new", "old"}:
        raise Malformed("package has no signer lists")
    for group in ("new", "old"):
        field(signers, group, "list of strings", "package signers")
    confirms = {r.sender: r for r in replies_in(package)}
    transcript = _chain(package, "round1").digest.hex() if not plan.dealer else plan.request.digest.hex()
    differ = sorted(mid for mid, r in confirms.items() if r.payload.get("record") != record.fingerprint.full_hex
                    or r.payload.get("transcript") != transcript)
    if differ:
        raise CeremonyError(f"members {', '.join(differ)} confirmed a different keyholder set or round-1 message",
                            "the coordinator's messages were inconsistent (equivocation); refuse this ceremony")
    comms: dict[str, list[frost.SigningCommitments]] = {"new": [], "old": []}
    for group, index_of in (("new", plan.new), ("old", plan.old)):
        for mid in signers[group]:
            if mid not in confirms or mid not in index_of:
                raise Malformed(f"package lists {mid!r} as a {group} signer without a confirmation")
            (c,) = frostround.decode_commitments(confirms[mid].payload.get(group), 1, f"{mid} {group}")
            if c.identifier != index_of[mid]:
                raise CeremonyError(f"{mid!r} committed as identifier {c.identifier}, expected {index_of[mid]}")
            comms[group].append(c)
        comms[group].sort(key=lambda c: c.identifier)
    return record, signers, comms


def _finish(plan: Plan, package: Message, replies: list[Message]) -> KeyholderSet:
    record, signers, comms = _package_view(plan, package)
    expected = set(signers["new"]) | set(signers["old"])
    got = gather(package, replies, "sign", plan.people, expected)
    message = record.message()
    sigs: list[Signature] = []
    for group, index_of in (("new", plan.new), ("old", plan.old)):
        if not signers[group]:
            continue
        shares = {}
        for mid in signers[group]:
            sh = frost.SignatureShare.from_bytes(b64d(got[mid].payload.get(group), f"{mid} {group} share"))
            if sh.identifier != index_of[mid]:
                raise CeremonyError(f"{mid!r} sent a share for identifier {sh.identifier}")
            shares[sh.identifier] = [sh]
        if group == "new":
            pkp = frost.PublicKeyPackage(record.group_public_key,
                                         {m.index: m.verification_share for m in record.members}, record.threshold)
        else:
            prev = plan.previous
            pkp = frost.PublicKeyPackage(prev.group_public_key,
                                         {m.index: m.verification_share for m in prev.members}, prev.threshold)
        names = {i: mid for mid, i in index_of.items()}
        (sig,) = frostround.aggregate_batch([message], [comms[group]], shares, pkp, names,
                                            f"{group} group signature of {record.describe()}")
        gpk = pkp.group_public_key
        sigs.append(Signature("ed25519", keyid_of(gpk), sig))
    for _, r in sorted(got.items()):
        for s in typed(r.payload.get("signatures", []), "list", f"signatures from {r.sender}"):
            sigs.append(Signature.from_json(s))
    signed = record.with_signatures(sigs)
    own = signed.evaluate(message, list(signed.signatures))
    if not own.ok:
        raise CeremonyError(f"{record.describe()} is not signed by its own threshold: "
                            + "; ".join(own.explain()), "a member's ML-DSA signature is missing or invalid")
    if plan.previous is not None:
        by_prev = plan.previous.evaluate(message, list(signed.signatures))
        if not by_prev.ok:
            raise CeremonyError(f"{record.describe()} is not signed by the threshold of epoch "
                                f"{plan.previous.epoch}: " + "; ".join(by_prev.explain()))
    return signed


# ============================================================== keyholder side (pure)

@dataclass
class Answer:
    reply: Message
    keep: dict[str, bytes]      # secrets to store sealed for later rounds (name -> bytes)
    drop: tuple[str, ...] = ()  # secrets no longer needed
    share: frost.KeyPackage | None = None   # the member's new key package (confirm round)
    nonces: bytes | None = None             # nonces to store durably before sending the reply


def my_roles(plan: Plan, me: str) -> tuple[bool, bool]:
    """(is a member of the new set, is a member of the old set)."""
    return me in plan.new, me in plan.old


def answer(msg: Message, me: IdentityKey, secrets: dict[str, bytes],
           old_share: frost.KeyPackage | None, take_nonces) -> Answer:
    """A member's answer to coordinator message ``msg``.  ``secrets`` holds what earlier rounds kept;
    ``take_nonces()`` returns this member's stored nonces, marking them consumed."""
    plan = plan_of(msg)
    is_new, is_old = my_roles(plan, me.id)
    if not (is_new or is_old):
        raise CeremonyError(f"{me.id!r} is not a member of this keyholder set or of the one it replaces")
    if msg.round == "request" and not plan.dealer:
        if not is_new:
            raise CeremonyError(f"{me.id!r} only signs this rotation; wait for the round-2 message")
        sec, pkg = frost.dkg_part1(plan.new[me.id], len(plan.new), plan.threshold, plan.context)
        reply = make_reply(msg, "commit", me.id, {"package": b64e(pkg.to_bytes())})
        return Answer(reply.signed_by(me), {"dkg1": sec.to_bytes()})
    if msg.round == "round1":
        if not is_new:
            raise CeremonyError(f"{me.id!r} has no part in round 2 of the new set's keygen")
        sec1 = frost.DkgRound1Secret.from_bytes(secrets["dkg1"])
        pkgs = _round1_packages(plan, msg)
        if set(pkgs) != set(plan.new):
            raise CeremonyError("round-1 message does not have every member's package")
        mine = pkgs.pop(me.id)
        if mine.to_bytes() != frost.DkgRound1Package(sec1.identifier, sec1.commitment, mine.proof_of_knowledge).to_bytes():
            raise CeremonyError("the round-1 message carries a package in this member's name that it did not send",
                                "the coordinator altered it; refuse this ceremony")
        try:
            sec2, out = frost.dkg_part2(sec1, list(pkgs.values()), plan.context)
        except frost.InvalidProof as e:
            raise _blame_proof(plan, e) from None
        by_index = {i: mid for mid, i in plan.new.items()}
        sealed = {str(i): b64e(seal_to(plan.people[by_index[i]], share)) for i, share in out.items()}
        reply = make_reply(msg, "shares", me.id, {"shares": sealed})
        return Answer(reply.signed_by(me), {"dkg2": sec2.to_bytes()}, drop=("dkg1",))
    if msg.round == "round2" or (msg.round == "request" and plan.dealer):
        pkp = group_keys(plan, msg)
        record = plan.record(pkp.group_public_key, pkp.verifying_shares)
        payload: dict[str, Any] = {"record": record.fingerprint.full_hex,
                                   "transcript": (_chain(msg, "round1").digest.hex() if not plan.dealer
                                                  else msg.digest.hex())}
        nonces = b""
        kp = None
        if is_new:
            kp = _derive_share(plan, msg, me, secrets, pkp)
            blob, (c,) = frostround.commit_batch(kp, 1)
            nonces += blob
            payload["new"] = frostround.encode_commitments([c])
        if is_old:
            if old_share is None:
                raise CeremonyError(f"no share of {plan.previous.describe()} in this home",
                                    "answer from the home that holds that share")
            blob, (c,) = frostround.commit_batch(old_share, 1)
            nonces += blob
            payload["old"] = frostround.encode_commitments([c])
        reply = make_reply(msg, "confirm", me.id, payload)
        return Answer(reply.signed_by(me), {}, drop=("dkg2",), share=kp, nonces=nonces)
    if msg.round == "package":
        record, signers, comms = _package_view(plan, msg)
        groups = [g for g in ("new", "old") if me.id in signers[g]]
        if not groups:
            raise CeremonyError(f"{me.id!r} is not among this package's signers")
        blob = take_nonces()
        nonces = frostround.split_nonces(blob, (1 if is_new else 0) + (1 if is_old else 0))
        by_group = {}
        k = 0
        for g, member in (("new", is_new), ("old", is_old)):
            if member:
                by_group[g] = nonces[k]
                k += 1
        payload = {}
        message = record.message()
        for g in groups:
            kp = secrets["share:new"] if g == "new" else old_share
            kp = frost.KeyPackage.from_bytes(kp) if isinstance(kp, bytes) else kp
            (sh,) = frostround.sign_batch([message], [comms[g]], [by_group[g]], kp)
            payload[g] = b64e(sh.to_bytes())
        payload["signatures"] = [s.to_json() for s in me.sign(message) if s.alg != "ed25519"]
        reply = make_reply(msg, "sign", me.id, payload)
        return Answer(reply.signed_by(me), {})
    raise CeremonyError(f"a keyholder has nothing to answer to a {msg.round!r} message",
                        "pass the coordinator's latest message")


def _derive_share(plan: Plan, msg: Message, me: IdentityKey, secrets: dict[str, bytes],
                  pkp: frost.PublicKeyPackage) -> frost.KeyPackage:
    if plan.dealer:
        sealed = plan.dealer["shares"].get(me.id)
        if sealed is None:
            raise CeremonyError(f"the dealer sent no share to {me.id!r}")
        share = frost.SecretShare.from_bytes(me.open_sealed(b64d(sealed, "sealed share")))
        if share.identifier != plan.new[me.id]:
            raise CeremonyError("the dealer's share is for another identifier")
        kp = share.key_package(plan.threshold)
    else:
        sec2 = frost.DkgRound2Secret.from_bytes(secrets["dkg2"])
        round1 = _chain(msg, "round1")
        pkgs = _round1_packages(plan, round1)
        pkgs.pop(me.id)
        received = {}
        by_index = {i: mid for mid, i in plan.new.items()}
        for r in replies_in(msg):
            if r.sender == me.id:
                continue
            idx = _new_index(plan, r)
            sealed = typed(r.payload.get("shares"), "object", f"round-2 shares from {r.sender}").get(str(plan.new[me.id]))
            try:
                received[idx] = me.open_sealed(b64d(sealed, f"share from {r.sender}"))
            except Malformed:
                raise CeremonyError(f"the round-2 share from {r.sender!r} does not open",
                                    "that keyholder's reply is faulty or was altered") from None
        try:
            kp, _ = frost.dkg_part3(sec2, list(pkgs.values()), received)
        except frost.InvalidSecretShare as e:
            who = ", ".join(by_index.get(i, str(i)) for i in e.identifiers)
            raise CeremonyError(f"invalid secret share from {who}",
                                "that keyholder's round-2 message is faulty or malicious; restart without it") from None
    if kp.group_public_key != pkp.group_public_key or kp.verifying_share != pkp.verifying_shares[kp.identifier]:
        raise CeremonyError("this member's share does not match the group key in the messages",
                            "the coordinator's messages are inconsistent; refuse this ceremony")
    return kp


__all__ = ["open_keygen", "collect", "answer", "plan_of", "Plan", "Answer", "SUITES"]
