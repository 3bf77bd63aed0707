"""Repair of a lost share, as pure functions (``spec/ceremony.md`` §Repair).

A member who lost its FROST share but not its identity key (a home restored from a backup made before
the keygen, a damaged share file) gets it back from k or more helpers, without anyone learning it
(the repairable threshold scheme of ``frost.repair_part1/2/3``)::

    request --part1--> round1 --part2--> round2 --restored--> done

* ``request``: the keyholder-set record by fingerprint (every member's home keeps it), the lost member
  and the helpers (>= k members, sorted, the lost member not among them), fixed from now on.
* ``part1`` (each helper): its ``RepairCommitments`` (to the helpers and the lost member) and a delta
  sealed to each other helper; its own delta stays sealed in its home.
* ``round1`` relays the part1 replies.  ``part2`` (each helper): every helper's commitments and the
  deltas sent to it checked (a bad one names its helper), summed into sigma, sealed to the lost member.
* ``round2`` relays the part2 replies.  ``restored`` (the lost member): every commitment and sigma
  checked, the sum is its share, checked against its verification share in the record (no new record:
  the share is the one the record names); it names the record and that verification share.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.keys.identity import IdentityKey, IdentityPublic, seal_to
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e
from cerro_torre.suites.errors import CeremonyError, Malformed, UsageError

from . import frostround
from .message import COORDINATOR, Message, reads_payload
from .protocol import View, gather, make_bulletin, make_reply, new_ceremony_id
from .statement import shown

KIND = "repair"
OWN_DELTA = "repair-delta"       # a helper's delta to itself, kept sealed in its home between rounds
_HEX64_LEN = 64


def open_repair(record: KeyholderSet, lost: str, helpers: list[str], *, ceremony: str | None = None) -> Message:
    """The coordinator's request to restore the share of ``lost`` in ``record`` with ``helpers`` (>= k)."""
    if record.group_public_key is None:
        raise UsageError(f"{record.describe()} has no FROST shares to repair ({record.suite})")
    ids = [m.id for m in record.members]
    if lost not in ids:
        raise UsageError(f"{lost!r} is not a member of {record.describe()}", "members: " + ", ".join(ids))
    chosen = sorted(set(helpers))
    unknown = [h for h in chosen if h not in ids]
    if unknown:
        raise UsageError(f"not members of {record.describe()}: {', '.join(unknown)}", "members: " + ", ".join(ids))
    if lost in chosen:
        raise UsageError(f"{lost!r} cannot help repair its own share", "choose the helpers among the other members")
    if len(chosen) < record.threshold:
        raise UsageError(f"{len(chosen)} helpers chosen; the threshold is {record.threshold}",
                         f"choose at least {record.threshold} of: " + ", ".join(i for i in ids if i != lost))
    payload = {"record": record.fingerprint.full_hex, "lost": lost, "helpers": chosen}
    return Message(ceremony or new_ceremony_id(), KIND, "request", COORDINATOR, payload)


@dataclass(frozen=True)
class RepairPlan:
    request: Message
    record: KeyholderSet
    lost: str
    helpers: list[str]

    @property
    def index(self) -> dict[str, int]:
        return {m.id: m.index for m in self.record.members}

    @property
    def people(self) -> dict[str, IdentityPublic]:
        return {m.id: m.identity for m in self.record.members}

    @property
    def verification_share(self) -> bytes:
        return next(m.verification_share for m in self.record.members if m.id == self.lost)

    def pkp(self) -> frost.PublicKeyPackage:
        r = self.record
        return frost.PublicKeyPackage(r.group_public_key, {m.index: m.verification_share for m in r.members},
                                      r.threshold)

    def summary(self) -> list[str]:
        r = self.record
        fp = r.fingerprint
        return [f"repair: restore the share of {shown(self.lost)!r} (index {self.index[self.lost]}) in {r.describe()}",
                f"  the record: fingerprint {fp.full_hex}",
                f"              {fp.words}; {r.threshold} of {len(r.members)}: "
                + ", ".join(m.id for m in r.members),
                f"  helpers: {', '.join(self.helpers)} ({len(self.helpers)}; the threshold is {r.threshold}); "
                "no one learns the share, the helpers' shares do not change",
                f"  {self.lost}'s verification share in the record: {b64e(self.verification_share)}",
                "  no new record: the restored share must match that verification share, or it is refused"]


@reads_payload
def plan_of(view: View) -> RepairPlan:
    req = view.request
    if req.kind != KIND:
        raise Malformed(f"not a repair ceremony ({req.kind})")
    p = req.payload
    if set(p) != {"record", "lost", "helpers"} or not isinstance(p["record"], str) or len(p["record"]) != _HEX64_LEN \
            or not isinstance(p["lost"], str) or not isinstance(p["helpers"], list) \
            or not all(isinstance(h, str) for h in p["helpers"]):
        raise Malformed("repair request has unexpected or malformed fields", "it was not made by 'ct ceremony repair'")
    record = view.history.record(p["record"], req)
    if record.group_public_key is None:
        raise Malformed(f"{record.describe()} has no FROST group key")
    plan = RepairPlan(req, record, p["lost"], list(p["helpers"]))
    bad = "the coordinator's request is inconsistent; refuse it and tell the other keyholders"
    ids = plan.index
    outside = [x for x in [plan.lost, *plan.helpers] if x not in ids]
    if outside:
        raise CeremonyError(f"the request names {', '.join(map(shown, outside))}, not members of {record.describe()}",
                            bad)
    if plan.helpers != sorted(set(plan.helpers)) or plan.lost in plan.helpers or \
            len(plan.helpers) < record.threshold:
        raise CeremonyError(f"the request's helpers are not {record.threshold} or more members other than "
                            f"{shown(plan.lost)!r}, sorted", bad)
    return plan


def answers(plan: RepairPlan, me: str, rnd: str) -> bool:
    if rnd in ("request", "round1"):
        return me in plan.helpers
    return rnd == "round2" and me == plan.lost


def keeps(plan: RepairPlan, me: str, rnd: str) -> bool:
    """The lost member keeps the first two messages (the last one names them)."""
    return me == plan.lost and rnd in ("request", "round1")


def describe(view: View, me: str) -> list[str]:
    plan = plan_of(view)
    msg = view.msg
    lines = plan.summary()
    role = "helper" if me in plan.helpers else "the member whose share is restored" if me == plan.lost else \
        "not taking part"
    what = {"request": "split your share into deltas, one sealed to each other helper (round 1)",
            "round1": "check every helper's commitments and your deltas, send the lost member its part, sealed "
                      "(round 2)",
            "round2": "check every helper's part, restore your share and check it against the record"}.get(
        msg.round, msg.round)
    if not answers(plan, me, msg.round):
        what = "keep this message: nothing to answer in this round (it is needed for the next ones)"
    lines.append(f"  you are {me!r} ({role}); this step: {what}")
    lines.append("  never restore this home from a backup, or copy it, while this ceremony is open")
    lines.append(f"  message fingerprint: {msg.fingerprint.hex}  {msg.fingerprint.words}")
    return lines


def _commitments(plan: RepairPlan, view: View) -> dict[str, frost.RepairCommitments]:
    reps = {r.sender: r for r in view.replies(view.of("round1"))}
    if sorted(reps) != plan.helpers:
        raise CeremonyError(f"the round-1 message relays repair messages from {', '.join(sorted(reps)) or 'nobody'}, "
                            f"not from the helpers the request fixed ({', '.join(plan.helpers)})",
                            "the coordinator's message is inconsistent; refuse this ceremony")
    return {mid: _row(plan, r) for mid, r in reps.items()}


@reads_payload
def _row(plan: RepairPlan, reply: Message) -> frost.RepairCommitments:
    try:
        row = frost.RepairCommitments.from_bytes(b64d(reply.payload.get("commitments"), f"{reply.sender} commitments"))
    except Malformed as e:
        raise CeremonyError(f"invalid repair message from {reply.sender}: {e.message}",
                            "that helper's reply is faulty or malicious; the coordinator opens the repair again with "
                            "other helpers") from None
    idx = plan.index
    if row.identifier != idx[reply.sender] or row.lost_identifier != idx[plan.lost] or \
            list(row.helpers) != sorted(idx[h] for h in plan.helpers):
        raise CeremonyError(f"the repair commitments from {reply.sender!r} are not for this repair (helper, lost "
                            "member or helper list differ)", "that keyholder's reply is faulty; leave it out")
    return row


def _blame(plan: RepairPlan, e: frost.InvalidSecretShare) -> CeremonyError:
    return CeremonyError(f"invalid repair message from {frostround.culprits(e.identifiers, plan.index)}",
                         "that helper's reply is faulty or malicious; the coordinator opens the repair again with "
                         "other helpers")


def _open(me: IdentityKey, reply: Message, field: str, key: str | None) -> bytes:
    box = reply.payload.get(field)
    sealed = box.get(key) if isinstance(box, dict) and key is not None else box
    try:
        return me.open_sealed(b64d(sealed, f"{field} from {reply.sender}"))
    except Malformed:
        raise CeremonyError(f"the repair {field} from {reply.sender!r} does not open",
                            "that helper's reply is faulty or was altered; open the repair again without it") from None


# ============================================================== coordinator

@dataclass(frozen=True)
class Repaired:
    """The outcome: the member's share is back (no new record)."""

    record: KeyholderSet = field(repr=False)
    member: str = ""


def collect(view: View, replies: list[Message]) -> Message | Repaired:
    plan = plan_of(view)
    msg = view.msg
    people = plan.people
    if msg.round == "request":
        got = gather(msg, replies, "part1", people, set(plan.helpers))
        idx = plan.index
        for mid, r in got.items():
            _row(plan, r)
            d = r.payload.get("deltas")
            want = {str(idx[h]) for h in plan.helpers if h != mid}
            if not isinstance(d, dict) or set(d) != want or not all(isinstance(v, str) for v in d.values()):
                raise CeremonyError(f"the repair reply from {mid!r} does not address a delta to every other helper",
                                    "that keyholder's reply is faulty or malicious; leave it out")
        return make_bulletin(msg, "round1", list(got.values()), {})
    if msg.round == "round1":
        got = gather(msg, replies, "part2", people, set(plan.helpers))
        for mid, r in got.items():
            if not isinstance(r.payload.get("sigma"), str):
                raise CeremonyError(f"the repair reply from {mid!r} carries no part for {plan.lost!r}")
        return make_bulletin(msg, "round2", list(got.values()), {})
    if msg.round == "round2":
        got = gather(msg, replies, "restored", people, {plan.lost})
        r = got[plan.lost]
        if r.payload.get("record") != plan.record.fingerprint.full_hex or \
                r.payload.get("verification_share") != b64e(plan.verification_share):
            raise CeremonyError(f"{plan.lost!r} restored a share that does not match its verification share in "
                                f"{plan.record.describe()}",
                                "the helpers' messages or the member's home are inconsistent; do not rely on it")
        return Repaired(plan.record, plan.lost)
    raise CeremonyError(f"nothing to collect after a {msg.round!r} message",
                        "collect takes the coordinator's last message and the replies to it")


# ============================================================== keyholder (pure)

@dataclass
class Answer:
    reply: Message
    keep: dict[str, bytes]
    drop: tuple[str, ...] = ()
    share: frost.KeyPackage | None = None        # the restored key package (the lost member, round 2)
    record: KeyholderSet | None = None


def answer(view: View, me: IdentityKey, load_share: Callable[[KeyholderSet], frost.KeyPackage],
           secrets: dict[str, bytes]) -> Answer:
    plan = plan_of(view)
    msg = view.msg
    idx = plan.index
    if not answers(plan, me.id, msg.round):
        raise CeremonyError(f"{me.id!r} has nothing to answer in the {msg.round} round of this repair")
    if msg.round == "request":
        kp = load_share(plan.record)
        row, deltas = frost.repair_part1(kp, [idx[h] for h in plan.helpers], idx[plan.lost])
        by_index = {idx[h]: h for h in plan.helpers}
        sealed = {str(i): b64e(seal_to(plan.people[by_index[i]], d)) for i, d in deltas.items() if by_index[i] != me.id}
        reply = make_reply(msg, "part1", me.id, {"commitments": b64e(row.to_bytes()), "deltas": sealed})
        return Answer(reply.signed_by(me), {OWN_DELTA: deltas[idx[me.id]]})
    if msg.round == "round1":
        kp = load_share(plan.record)
        rows = _commitments(plan, view)
        got: dict[int, bytes] = {}
        if OWN_DELTA not in secrets:
            raise CeremonyError(f"this home does not keep the delta {me.id!r} dealt itself",
                                "answer the repair's rounds from the home that answered its request")
        for r in view.replies(view.of("round1")):
            got[idx[r.sender]] = secrets[OWN_DELTA] if r.sender == me.id else _open(me, r, "deltas", str(idx[me.id]))
        try:
            sigma = frost.repair_part2(kp, plan.pkp(), list(rows.values()), got)
        except frost.InvalidSecretShare as e:
            raise _blame(plan, e) from None
        reply = make_reply(msg, "part2", me.id, {"sigma": b64e(seal_to(plan.people[plan.lost], sigma))})
        return Answer(reply.signed_by(me), {}, drop=(OWN_DELTA,))
    # round2: the lost member
    rows = _commitments(plan, view)
    parts = {r.sender: r for r in view.replies(view.of("round2"))}
    if sorted(parts) != plan.helpers:
        raise CeremonyError(f"the round-2 message relays parts from {', '.join(sorted(parts)) or 'nobody'}, not "
                            f"from the helpers the request fixed ({', '.join(plan.helpers)})",
                            "the coordinator's message is inconsistent; refuse this ceremony")
    sigmas = {idx[mid]: _open(me, r, "sigma", None) for mid, r in parts.items()}
    try:
        kp = frost.repair_part3(idx[me.id], plan.pkp(), list(rows.values()), sigmas)
    except frost.InvalidSecretShare as e:
        raise _blame(plan, e) from None
    except frost.FrostError as e:
        raise CeremonyError(f"the restored share does not match the verification share of {me.id!r} in "
                            f"{plan.record.describe()}", "the helpers' messages are inconsistent: do not use "
                            "them; the coordinator opens the repair again with other helpers") from e
    reply = make_reply(msg, "restored", me.id, {"record": plan.record.fingerprint.full_hex,
                                                "verification_share": b64e(kp.verifying_share)})
    return Answer(reply.signed_by(me), {}, share=kp, record=plan.record)

