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

Rounds, keep-key rotation and refresh (``ceremony/reshare.py``: the outgoing
signers, or every member, deal; the group key stays)::

    request  --deal-->  round1  --confirm-->  package  --sign-->  record
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from typing import Any

from cerro_torre.governance.keyholders import (
    RECORD_TYPE,
    RECORD_VERSION,
    KeyholderSet,
    Member,
    format_time,
    now_utc,
    parse_time,
    validate_name,
)
from cerro_torre.governance.trust import fork_error, short
from cerro_torre.keys.identity import IdentityKey, IdentityPublic, seal_to
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e, field, typed
from cerro_torre.suites.errors import CeremonyError, Malformed, UsageError
from cerro_torre.suites.suite import SUITES, Signature, get_suite, keyid_of

from . import frostround, reshare
from .message import Message, reads_payload
from .signedlog import SignedRelease
from .statement import shown
from .protocol import View, gather, make_bulletin, make_reply, new_ceremony_id, participants

KIND_KEYGEN = "keygen"
KIND_ROTATE = "rotate"
KIND_REFRESH = "refresh"
KINDS = (KIND_KEYGEN, KIND_ROTATE, KIND_REFRESH)


# ============================================================== request

def open_keygen(name: str, members: list[IdentityPublic], threshold: int, *, suite: str = "CT-SIG-02",
                days: int = 365, dealer: bool = False, previous: KeyholderSet | None = None,
                closed_releases: list[str] | None = None, old_signers: list[str] | None = None,
                keep_key: bool = False, now: _dt.datetime | None = None, ceremony: str | None = None) -> Message:
    """The coordinator's request opening a keygen (or, with ``previous``, a rotation).

    A rotation carries ``closed_releases`` (the SHA-256 of every release statement epoch N signed that
    stays valid after it) and ``old_signers``: the members of epoch N who sign the new record with the
    old group, fixed now (default: those who stay, when they reach epoch N's threshold, else all).  With
    ``keep_key`` they reshare the group key to the new set instead of a DKG making a new one
    (``kept_key``: the public values the new members check the dealings against)."""
    if previous is None:
        validate_name(name)
    s = get_suite(suite, usage=True)
    if "ed25519" not in s.algorithms:
        raise UsageError(f"a {suite} keyholder set has no FROST group key to generate",
                         "use CT-SIG-01 or CT-SIG-02 for a cooperative")
    ids = [m.id for m in members]
    if len(set(ids)) != len(ids):
        raise UsageError("a member is listed twice", "give each member's .pub file once")
    if len(members) < 2:
        raise UsageError(f"a keyholder set needs at least 2 members; this one would have {len(members)}",
                         "add members with --add, or remove fewer" if previous is not None else
                         "give at least two --member FILE.pub")
    if not 2 <= threshold <= len(members):
        raise UsageError(f"threshold {threshold} is out of range for {len(members)} members",
                         f"choose k with 2 <= k <= {len(members)}")
    for m in members:
        for alg in s.algorithms:
            if alg not in m.keys:
                raise UsageError(f"member {m.id!r} has a {m.suite} identity without a {alg} key",
                                 f"a {suite} set needs members with {suite} identity keys")
    if previous is None and (closed_releases or old_signers or keep_key):
        raise UsageError("only a rotation closes releases, names old signers or keeps the group key")
    if keep_key and dealer:
        raise UsageError("a keep-key rotation has no dealer: the outgoing signers reshare the group key")
    ordered = sorted(members, key=lambda m: m.id)
    template = _template(name, suite, threshold, ordered, previous, closed_releases, days, now)
    if previous is not None and previous.name != name:
        raise UsageError(f"the set is called {previous.name!r}; a rotation keeps its name")
    old_set: list[str] | None = None
    if previous is not None:
        old_ids = [m.id for m in previous.members]
        staying = [i for i in old_ids if i in {m.id for m in ordered}]
        old_set = sorted(set(old_signers)) if old_signers else \
            (sorted(staying) if len(staying) >= previous.threshold else sorted(old_ids))
        unknown = [i for i in old_set if i not in old_ids]
        if unknown:
            raise UsageError(f"not members of {previous.describe()}: {', '.join(unknown)}",
                             "members: " + ", ".join(old_ids))
        if len(old_set) < previous.threshold:
            raise UsageError(f"{len(old_set)} members of epoch {previous.epoch} chosen to sign; its threshold is "
                             f"{previous.threshold}", f"choose at least {previous.threshold} of: " + ", ".join(old_ids))
    people = {m.id: m for m in ordered}
    if previous is not None:
        for m in previous.members:
            people.setdefault(m.id, m.identity)
    payload: dict[str, Any] = {
        "participants": [p.to_json() for _, p in sorted(people.items())],
        "template": template,
        "old_members": [{"id": m.id, "index": m.index} for m in previous.members] if previous else None,
        "old_signers": old_set,
        "dealer": None,
        "kept_key": _kept_key(previous, old_set) if keep_key else None,
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


def open_refresh(previous: KeyholderSet, *, days: int = 365, closed_releases: list[str] | None = None,
                 now: _dt.datetime | None = None, ceremony: str | None = None) -> Message:
    """The coordinator's request opening a refresh of ``previous``: the same members and threshold get new
    shares of the same group key, in a new epoch (every member deals and signs).  The request names the
    previous record by fingerprint: every member's home keeps it."""
    if previous.group_public_key is None:
        raise UsageError(f"{previous.describe()} has no FROST group key to refresh")
    ordered = sorted((m.identity for m in previous.members), key=lambda p: p.id)
    template = _template(previous.name, previous.suite, previous.threshold, ordered, previous, closed_releases,
                         days, now)
    return Message(ceremony or new_ceremony_id(), KIND_REFRESH, "request", "coordinator", {"template": template})


def _template(name: str, suite: str, threshold: int, ordered: list[IdentityPublic], previous: KeyholderSet | None,
              closed_releases: list[str] | None, days: int, now: _dt.datetime | None) -> dict[str, Any]:
    """The record to be, without the group key and verification shares."""
    if not 1 <= days <= MAX_DAYS:
        raise UsageError(f"--days must be from 1 to {MAX_DAYS}")
    for d in closed_releases or ():
        if not isinstance(d, str) or not _HEX64.match(d):
            raise UsageError(f"closed release {d!r} is not a sha256 digest (64 lowercase hex)")
    now = now or now_utc()
    return {
        "name": name,
        "epoch": previous.epoch + 1 if previous else 1,
        "suite": suite,
        "threshold": threshold,
        "created": format_time(now),
        "expires": format_time(now + _dt.timedelta(days=days)),
        "members": [{"id": m.id, "index": i + 1} for i, m in enumerate(ordered)],
        "previous": {"epoch": previous.epoch, "fingerprint": previous.fingerprint.full_hex} if previous else None,
        "closed_releases": sorted(set(closed_releases or ())) if previous else None,
    }


def _kept_key(previous: KeyholderSet, dealers: list[str]) -> dict[str, Any]:
    """What a keep-key request tells the new members about the outgoing group: its key, threshold and the
    dealers' verifying shares (those who keep the previous record check them against it)."""
    if previous.group_public_key is None:
        raise UsageError(f"{previous.describe()} has no FROST group key to keep")
    shares = {m.id: b64e(m.verification_share) for m in previous.members if m.id in dealers}
    return {"group_public_key": b64e(previous.group_public_key), "threshold": previous.threshold,
            "verifying_shares": shares}


def rotation_members(old: KeyholderSet, add: list[IdentityPublic], remove: list[str]) -> list[IdentityPublic]:
    """The members of the set after removing ``remove`` (ids) from ``old`` and adding ``add``."""
    members = {m.id: m.identity for m in old.members}
    for rid in remove:
        if rid not in members:
            raise UsageError(f"{rid!r} is not a member of {old.describe()}", "members: " + ", ".join(members))
        del members[rid]
    for pub in add:
        if pub.id in members:
            raise UsageError(f"{pub.id!r} is already a member", "use --remove first to replace a member's key")
        members[pub.id] = pub
    return list(members.values())


@dataclass(frozen=True)
class KeptKey:
    """The outgoing group a keep-key rotation or a refresh reshares: its key, threshold, and the verifying
    shares of the members who deal (by member id)."""

    group_public_key: bytes
    threshold: int
    verifying_shares: dict[str, bytes]


# ============================================================== shared views

@dataclass(frozen=True)
class Plan:
    """What a keygen/rotation request asks for, parsed and checked."""

    request: Message
    template: dict[str, Any]
    people: dict[str, IdentityPublic]
    new: dict[str, int]               # member id -> FROST identifier in the new set
    old: dict[str, int]               # rotation: member id -> FROST identifier in the previous set
    previous: KeyholderSet | None     # rotation: the previous record, when this side keeps it
    dealer: dict[str, Any] | None
    old_signers: list[str]            # members of the previous set who sign with its group (fixed)
    kept: KeptKey | None = None       # keep-key rotation and refresh: the group they reshare

    @property
    def method(self) -> str:
        """How the new shares come to be: ``dkg``, ``dealer``, ``reshare`` (keep-key) or ``refresh``."""
        if self.request.kind == KIND_REFRESH:
            return "refresh"
        return "reshare" if self.kept is not None else "dealer" if self.dealer else "dkg"

    @property
    def keeps_key(self) -> bool:
        return self.kept is not None

    @property
    def confirm_round(self) -> str:
        """The coordinator message members answer with their confirmation (the record they derived)."""
        return {"dkg": "round2", "dealer": "request"}.get(self.method, "round1")

    @property
    def threshold(self) -> int:
        return int(self.template["threshold"])

    @property
    def rotation(self) -> bool:
        return self.template["previous"] is not None

    @property
    def previous_epoch(self) -> int:
        return int(self.template["previous"]["epoch"])

    @property
    def closed_releases(self) -> list[str] | None:
        return self.template["closed_releases"]

    @property
    def must_confirm(self) -> list[str]:
        """Who must answer the confirm round: every new member and the old signing set."""
        return sorted(set(self.new) | set(self.old_signers))

    @property
    def may_confirm(self) -> list[str]:
        """Members of the previous set outside its signing set: they may confirm (their homes check the
        closed releases and the record) but do not sign."""
        return sorted(set(self.old) - set(self.must_confirm))

    @property
    def context(self) -> bytes:
        return b"ct-dkg-v1\x00" + bytes.fromhex(self.request.ceremony) + self.request.digest

    def record(self, group_public_key: bytes, verifying: dict[int, bytes]) -> KeyholderSet:
        t = self.template
        members = tuple(Member(m["id"], m["index"], self.people[m["id"]], verifying[m["index"]])
                        for m in t["members"])
        prev = (t["previous"]["epoch"], t["previous"]["fingerprint"]) if t["previous"] else None
        closed = tuple(t["closed_releases"]) if t["closed_releases"] is not None else None
        return KeyholderSet(t["name"], t["epoch"], t["suite"], t["threshold"], t["created"], t["expires"],
                            group_public_key, members, prev, closed)

    def summary(self, record: KeyholderSet | None = None) -> list[str]:
        """Every field of the record body the members sign (``record`` once the group key is known)."""
        t = self.template
        n = len(t["members"])
        if not self.rotation:
            lines = [f"new keyholder set {shown(t['name'])!r} epoch {t['epoch']} (a root: previous none, "
                     "closed_releases none)"]
        else:
            what = "refresh" if self.method == "refresh" else "rotation"
            lines = [f"{what} of keyholder set {shown(t['name'])!r}: epoch {self.previous_epoch} -> epoch "
                     f"{t['epoch']}: " + membership_change(self)]
        lines += [f"  suite {t['suite']}, threshold {t['threshold']} of {n}",
                  f"  created {t['created']}, expires {t['expires']}",
                  "  members (index, id, identity key fingerprint):"]
        for m in t["members"]:
            fp = self.people[m["id"]].fingerprint
            lines.append(f"    {m['index']:>3} {m['id']:<16} {fp.hex}  {fp.words}")
        if self.rotation:
            pe = self.previous_epoch
            lines.append(f"  previous: epoch {pe}, fingerprint {t['previous']['fingerprint']}")
            p = self.previous
            lines.append(f"            {p.fingerprint.words}; {p.threshold} of {len(p.members)}: "
                         + ", ".join(m.id for m in p.members) if p is not None else
                         "            (this home does not keep it: you join the set with this rotation); "
                         "members: " + ", ".join(sorted(self.old)))
            closed = self.closed_releases or []
            lines.append(f"  closed_releases: {len(closed)} release(s) of epoch {pe} stay valid; verifiers that "
                         f"know epoch {t['epoch']} refuse any other release of epoch {pe}")
            lines += [f"    {d}" for d in closed]
            lines.append(f"  epoch {pe} members signing this record with its group key: "
                         + ", ".join(self.old_signers)
                         + (f"; may confirm: {', '.join(self.may_confirm)}" if self.may_confirm else ""))
        if self.kept is not None:
            k = self.kept
            dealers = "every member" if self.method == "refresh" else ", ".join(self.old_signers)
            lines += [f"  group key kept: {b64e(k.group_public_key)} (keyid {keyid_of(k.group_public_key)}), dealt "
                      f"anew by {dealers}: stock-tool pins survive",
                      f"  honest limit: {k.threshold} shares of epoch {self.previous_epoch} still make this key; "
                      "their homes delete them when they keep the new record (use a new key when anyone may be "
                      "compromised)"]
        if record is not None:
            kept = f", kept from epoch {self.previous_epoch}" if self.kept is not None else ""
            lines.append(f"  group key {b64e(record.group_public_key)} (keyid {record.group_keyid}{kept})")
            lines.append(f"  the record to sign: fingerprint {record.fingerprint.full_hex}")
            lines.append(f"                      {record.fingerprint.words}")
        if self.dealer:
            lines.append("  WARNING: trusted-dealer mode: the coordinator generated every share and saw the key")
        return lines


def membership_change(plan: Plan) -> str:
    """'removes bob, adds frank, threshold 3 -> 2' (or 'members and threshold unchanged')."""
    parts = []
    removed = sorted(set(plan.old) - set(plan.new))
    added = sorted(set(plan.new) - set(plan.old))
    if removed:
        parts.append("removes " + ", ".join(removed))
    if added:
        parts.append("adds " + ", ".join(added))
    prev = plan.previous
    if prev is not None:
        rekeyed = sorted(m.id for m in prev.members
                         if m.id in plan.new and m.identity.to_bytes() != plan.people[m.id].to_bytes())
        if rekeyed:
            parts.append("changes the identity key of " + ", ".join(rekeyed))
    old_k = prev.threshold if prev is not None else plan.kept.threshold if plan.kept is not None else None
    if old_k is not None and plan.template["threshold"] != old_k:
        parts.append(f"threshold {old_k} -> {plan.template['threshold']}")
    if plan.method == "refresh":
        return "members and threshold unchanged, group key kept, new shares for every member"
    if plan.kept is not None:
        return ", ".join(parts + ["group key kept"])
    return ", ".join(parts) or "members and threshold unchanged (new group key)"


@reads_payload
def plan_of(view: View) -> Plan:
    req = view.request
    if req.kind not in KINDS:
        raise Malformed(f"not a keygen, rotation or refresh ceremony ({req.kind})")
    p = req.payload
    if req.kind == KIND_REFRESH:
        return _refresh_plan(view)
    if set(p) != {"participants", "template", "old_members", "old_signers", "dealer", "kept_key"}:
        raise Malformed("keygen request has unexpected or missing fields", "it was not made by ct")
    people = participants(req)
    t = _template_of(p)
    if (t["previous"] is None) != (req.kind == KIND_KEYGEN):
        raise Malformed("a rotation request names the previous record, a keygen request none")
    try:
        new = {m["id"]: m["index"] for m in t["members"]}
        old = {m["id"]: m["index"] for m in p["old_members"] or []}
        prev_fp = t["previous"]["fingerprint"] if t["previous"] else None
    except (KeyError, TypeError):
        raise Malformed("keygen request has malformed members or previous record") from None
    for mid in [*new, *old]:
        if mid not in people:
            raise Malformed(f"member {mid!r} is not a participant")
    signers = p["old_signers"] or []
    if not isinstance(signers, list) or not all(isinstance(x, str) for x in signers):
        raise Malformed("keygen request has a malformed old_signers list")
    prev = view.history.find_record(prev_fp) if isinstance(prev_fp, str) else None
    kept = _parse_kept(p["kept_key"], signers) if p["kept_key"] is not None else None
    if kept is not None and (req.kind != KIND_ROTATE or p["dealer"] is not None):
        raise Malformed("only a rotation without a dealer keeps the group key")
    dealer = p.get("dealer")
    if dealer is not None:
        typed(dealer, "object", "keygen request: dealer")
        if set(dealer) != {"group_public_key", "vss_commitment", "shares"}:
            raise Malformed("keygen request: dealer must have exactly group_public_key, shares and vss_commitment",
                            "it was not made by ct")
        field(dealer, "vss_commitment", "list of strings", "keygen request: dealer")
        field(dealer, "shares", "object", "keygen request: dealer")
    plan = Plan(req, t, people, new, old, prev, dealer, list(signers), kept)
    check_template(plan)
    _check_body(t, people)     # after the rules that explain themselves: what they leave, by the record's rules
    return plan


def _check_body(t: dict[str, Any], people: dict[str, IdentityPublic]) -> None:
    """The template by the record's own rules (names, epoch, suite, times, members, identities, threshold,
    previous, closed releases), so every field has its type and range before anything reads it."""
    what = "keygen request template"
    members = typed(t["members"], "list of objects", f"{what}: members")
    placeholder = b64e(bytes(32)) if "ed25519" in get_suite(t["suite"]).algorithms else None
    KeyholderSet.from_body({**t, "type": RECORD_TYPE, "version": RECORD_VERSION, "group_public_key": placeholder,
                            "members": [{**m, "identity": people[m["id"]].to_json(), "verification_share": placeholder}
                                        for m in members]}, what)


def _template_of(p: dict[str, Any]) -> dict[str, Any]:
    t = p.get("template")
    if not isinstance(t, dict) or set(t) != _TEMPLATE_FIELDS:
        raise Malformed("keygen request has no template, or one with unexpected fields")
    return t


def _parse_kept(d: Any, dealers: list[str]) -> KeptKey:
    if not isinstance(d, dict) or set(d) != {"group_public_key", "threshold", "verifying_shares"} \
            or not isinstance(d["threshold"], int) or isinstance(d["threshold"], bool) \
            or not isinstance(d["verifying_shares"], dict):
        raise Malformed("keep-key request has a malformed kept_key")
    if sorted(d["verifying_shares"]) != sorted(dealers):
        raise Malformed("keep-key request's kept_key does not give the verifying share of every dealer")
    return KeptKey(b64d(d["group_public_key"], "kept group key", size=32), d["threshold"],
                   {mid: b64d(y, f"verifying share of {mid}", size=32) for mid, y in d["verifying_shares"].items()})


def _refresh_plan(view: View) -> Plan:
    """A refresh names its previous record by fingerprint: every member, and the coordinator's journal,
    keeps it; the members, identities and group come from it."""
    req = view.request
    if set(req.payload) != {"template"}:
        raise Malformed("refresh request has unexpected or missing fields", "it was not made by ct")
    t = _template_of(req.payload)
    tp = t["previous"]
    if not isinstance(tp, dict) or not isinstance(tp.get("fingerprint"), str) or not _HEX64.match(tp["fingerprint"]):
        raise Malformed("a refresh request names the previous record")
    prev = view.history.record(tp["fingerprint"], req)
    if prev.group_public_key is None:
        raise Malformed(f"{prev.describe()} has no FROST group key to refresh")
    ids = {m.id: m.index for m in prev.members}
    try:
        new = {m["id"]: m["index"] for m in t["members"]}
    except (KeyError, TypeError):
        raise Malformed("refresh request has malformed members") from None
    if new != ids or t["threshold"] != prev.threshold:
        raise CeremonyError(f"a refresh keeps the members and threshold of {prev.describe()}; this request changes them",
                            "the coordinator's request is inconsistent; refuse it and tell the other keyholders")
    kept = KeptKey(prev.group_public_key, prev.threshold, {m.id: m.verification_share for m in prev.members})
    plan = Plan(req, t, {m.id: m.identity for m in prev.members}, new, ids, prev, None, sorted(ids), kept)
    check_template(plan)
    return plan


_TEMPLATE_FIELDS = {"name", "epoch", "suite", "threshold", "created", "expires", "members", "previous",
                    "closed_releases"}
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
MAX_DAYS = 3660
CLOCK_SKEW = _dt.timedelta(days=1)
MAX_AGE = _dt.timedelta(days=30)


def check_template(plan: Plan) -> None:
    """The record to be, against itself and the previous record the request carries (no clock, no home)."""
    t, prev = plan.template, plan.previous
    bad = "the coordinator's request is inconsistent; refuse it and tell the other keyholders"
    created = parse_time(t["created"], "the record's created time")
    expires = parse_time(t["expires"], "the record's expiry")
    if not created < expires <= created + _dt.timedelta(days=MAX_DAYS):
        raise CeremonyError(f"the record would expire at {t['expires']}, not within {MAX_DAYS} days after it is "
                            f"created ({t['created']})", bad)
    if not isinstance(t["threshold"], int) or not 2 <= t["threshold"] <= len(t["members"]):
        raise CeremonyError(f"the record's threshold {t['threshold']!r} is out of range for "
                            f"{len(t['members'])} members", bad)
    if [m["index"] for m in t["members"]] != list(range(1, len(t["members"]) + 1)) or \
            [m["id"] for m in t["members"]] != sorted(m["id"] for m in t["members"]):
        raise CeremonyError("the record's members are not numbered 1..n in id order", bad)
    if not plan.rotation:
        if t["epoch"] != 1 or t["closed_releases"] is not None or plan.old_signers or plan.old:
            raise CeremonyError("a new keyholder set must be epoch 1 with no previous set and no closed releases",
                                bad)
        return
    tp = t["previous"]
    if not isinstance(tp, dict) or set(tp) != {"epoch", "fingerprint"} or not isinstance(tp["epoch"], int) \
            or not isinstance(tp["fingerprint"], str) or not _HEX64.match(tp["fingerprint"]):
        raise CeremonyError("the record's previous set is not {epoch, fingerprint}", bad)
    if t["epoch"] != tp["epoch"] + 1:
        raise CeremonyError(f"the record would be epoch {t['epoch']}; a rotation of epoch {tp['epoch']} makes "
                            f"epoch {tp['epoch'] + 1}", bad)
    closed = t["closed_releases"]
    if not isinstance(closed, list) or closed != sorted(set(closed)) or \
            not all(isinstance(d, str) and _HEX64.match(d) for d in closed):
        raise CeremonyError("the record's closed_releases is not a sorted list of sha256 digests", bad)
    if plan.old_signers != sorted(set(plan.old_signers)) or not set(plan.old_signers) <= set(plan.old):
        raise CeremonyError(f"the request's signers of epoch {tp['epoch']} are not members of it", bad)
    prev = plan.previous
    if prev is None:
        return      # a member joining with this rotation: the outgoing members check the rest
    if prev.epoch != tp["epoch"]:
        raise CeremonyError(f"the record names epoch {tp['epoch']} as its previous set, but its fingerprint is "
                            f"epoch {prev.epoch}'s", bad)
    if t["name"] != prev.name:
        raise CeremonyError(f"the record is named {t['name']!r}; a rotation of {prev.name!r} keeps its name", bad)
    if t["suite"] != prev.suite:
        raise CeremonyError(f"the record's suite {t['suite']} is not the previous set's ({prev.suite})", bad)
    if created < prev.created_at():
        raise CeremonyError(f"the record would be created at {t['created']}, before epoch {prev.epoch} "
                            f"({prev.created})", bad)
    if plan.old != {m.id: m.index for m in prev.members} or \
            any(plan.people[m.id].to_bytes() != m.identity.to_bytes() for m in prev.members if m.id not in plan.new):
        raise CeremonyError(f"the request's members of epoch {prev.epoch} are not the ones its record names", bad)
    if len(plan.old_signers) < prev.threshold:
        raise CeremonyError(f"the request's signers of epoch {prev.epoch} are not {prev.threshold} or more of its "
                            "members", bad)
    own = prev.evaluate(prev.message(), list(prev.signatures))
    if not own.ok:
        raise CeremonyError(f"the previous record, {prev.describe()}, is not signed by its own threshold: "
                            + "; ".join(own.explain()), bad)
    k = plan.kept
    if k is not None and (k.group_public_key != prev.group_public_key or k.threshold != prev.threshold or
                          any(k.verifying_shares[m.id] != m.verification_share
                              for m in prev.members if m.id in k.verifying_shares)):
        raise CeremonyError(f"the group key the request keeps is not the one of epoch {prev.epoch} (its key, threshold "
                            "and the dealers' verification shares must be the previous record's)", bad)


def check_dates(plan: Plan, now: _dt.datetime) -> None:
    """Sane dates against this machine's clock (the keyholder's side)."""
    t = plan.template
    created = parse_time(t["created"], "the record's created time")
    hint = "the coordinator's clock or this machine's is wrong; check both before going on"
    if created > now + CLOCK_SKEW:
        raise CeremonyError(f"the record would be created at {t['created']}, in the future (this machine's clock "
                            f"says {format_time(now)})", hint)
    if created < now - MAX_AGE:
        raise CeremonyError(f"the record would be created at {t['created']}, more than {MAX_AGE.days} days ago "
                            f"(this machine's clock says {format_time(now)})", hint)
    if parse_time(t["expires"], "the record's expiry") <= now:
        raise CeremonyError(f"the record would expire at {t['expires']}, before now ({format_time(now)})", hint)


@reads_payload
def _r1_package(reply: Message, index: int) -> frost.DkgRound1Package:
    pkg = frost.DkgRound1Package.from_bytes(b64d(reply.payload.get("package"), f"{reply.sender} round-1 package"))
    if pkg.identifier != index:
        raise CeremonyError(f"round-1 package from {reply.sender!r} claims identifier {pkg.identifier}, "
                            f"expected {index}")
    return pkg


def _round1_packages(plan: Plan, view: View) -> dict[str, frost.DkgRound1Package]:
    return {r.sender: _r1_package(r, _new_index(plan, r)) for r in view.replies(view.of("round1"))}


def _new_index(plan: Plan, reply: Message) -> int:
    """The FROST identifier in the new set of a reply's sender (who may be a participant outside it)."""
    if reply.sender not in plan.new:
        raise CeremonyError(f"the {reply.round} reply from {reply.sender!r} comes from outside the new set",
                            "only new members send DKG packages and shares; refuse this message")
    return plan.new[reply.sender]


def _blame_proof(plan: Plan, e: frost.InvalidProof) -> CeremonyError:
    return CeremonyError(f"invalid proof of knowledge from {frostround.culprits(e.identifiers, plan.new)}",
                         "that keyholder's round-1 message is faulty or forged; restart the keygen without it")


@reads_payload
def group_keys(plan: Plan, view: View) -> frost.PublicKeyPackage:
    """The new group's public key package, from the round-1 bulletin (DKG, or the dealings of a keep-key
    rotation or refresh) or the dealer."""
    if plan.keeps_key:
        return reshare.public_package(plan, view)
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
    pkgs = _round1_packages(plan, view)
    try:
        return frost.dkg_public_key_package(list(pkgs.values()), plan.context)
    except frost.InvalidProof as e:
        raise _blame_proof(plan, e) from None


@dataclass(frozen=True)
class HomeView:
    """What a keyholder's home knows, for the checks only it can make: its clock, the releases it signed
    (``HOME/signed.log``) and its checkpoints of this set's lineage (``governance.trust.TrustStore``)."""

    now: _dt.datetime
    signed: tuple[SignedRelease, ...]
    checkpoints: dict[int, str]
    where: str = "this home"


def check_home(plan: Plan, me: str, home: HomeView) -> list[str]:
    """Refuse what this home knows to be wrong; return what it checked, for the summary."""
    check_dates(plan, home.now)
    t, prev, cps = plan.template, plan.previous, home.checkpoints
    if not plan.rotation:
        if cps:
            raise CeremonyError(f"this home already knows keyholder set {shown(t['name'])!r} (epochs "
                                f"{min(cps)}..{max(cps)}); a new keygen of that name would fork its lineage",
                                "a cooperative has one root: rotate its newest epoch, or choose another --name")
        return []
    pe, pfp = plan.previous_epoch, t["previous"]["fingerprint"]
    have = cps.get(pe)
    if have is not None and have != pfp:
        raise fork_error(t["name"], pe, have, f"checkpoint of {home.where}", pfp, "the rotation request")
    if cps and max(cps) > pe:
        newest = max(cps)
        raise CeremonyError(f"this home knows epoch {newest} of {shown(t['name'])!r} ({short(cps[newest])}); a "
                            f"rotation of epoch {pe} would fork the lineage",
                            f"rotate the newest epoch ({newest}); the coordinator may be behind")
    if me not in plan.old:
        return []
    if prev is None:
        raise lacks_record(pfp, f"keyholder set {shown(t['name'])!r} epoch {pe}", home.where)
    mine = [e for e in home.signed if e.record == prev.fingerprint.full_hex]
    closed = set(plan.closed_releases or ())
    missing = [e for e in mine if e.statement not in closed]
    if missing:
        e = missing[0]
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise CeremonyError(f"{me!r} signed release {shown(e.release)} (statement sha256 {e.statement}) with epoch "
                            f"{prev.epoch}, which this rotation's closed_releases leaves out{more}",
                            f"verifiers that know epoch {t['epoch']} would refuse it: the coordinator must open the "
                            "rotation again with it ('ct ceremony rotate ... --release BUNDLE' or --releases FILE); "
                            f"this home's list is {os.path.join(home.where, 'signed.log')}")
    return [f"  this home signed {len(mine)} release(s) with epoch {prev.epoch}: "
            + ("every one is in closed_releases" if mine else "none to keep")]


ROUNDS = ("request", "round1", "round2", "package")


def answers(plan: Plan, me: str, rnd: str) -> bool:
    """Whether ``me`` has something to answer to a coordinator message of round ``rnd`` (an outgoing member
    only keeps the DKG's first two messages: it answers from the confirm round on; in a keep-key rotation
    or a refresh the dealers answer the request, the others keep it)."""
    if rnd == plan.confirm_round:
        return me in plan.new or me in plan.old
    if rnd == "package":
        return me in plan.new or me in plan.old_signers
    if plan.method == "dkg" and rnd in ("request", "round1"):
        return me in plan.new
    if plan.keeps_key and rnd == "request":
        return me in plan.old_signers
    return False


def keeps(plan: Plan, me: str, rnd: str) -> bool:
    """Whether ``me`` only keeps a message of round ``rnd``: nothing to answer yet, it answers a later one."""
    later = ROUNDS[ROUNDS.index(rnd) + 1:] if rnd in ROUNDS else ()
    return not answers(plan, me, rnd) and any(answers(plan, me, r) for r in later)


def derived_record(plan: Plan, view: View) -> KeyholderSet:
    """The record (unsigned) the group keys in the messages so far make."""
    pkp = group_keys(plan, view)
    return plan.record(pkp.group_public_key, pkp.verifying_shares)


_WHAT = {"request": "generate your DKG commitment and proof (round 1)",
         "round1": "check everyone's proofs and send each member its sealed share (round 2)",
         "round2": "derive your share, check the group key and commit to signing the record",
         "package": "sign the new record: FROST share and ML-DSA-87 signature"}


def describe(view: View, me: str, home: HomeView | None = None) -> list[str]:
    """What answering ``view.msg`` approves, for the keyholder to read first; with ``home``, also refuse what
    the keyholder's home knows to be wrong (dates, forks, releases it signed that the rotation drops)."""
    plan = plan_of(view)
    msg = view.msg
    record = None
    if msg.round == "package":
        record = _package_view(plan, view)[0]
    elif msg.round == plan.confirm_round:
        record = derived_record(plan, view)
    lines = plan.summary(record)
    if home is not None:
        lines += check_home(plan, me, home)
    is_new, is_old = my_roles(plan, me)
    what = _WHAT.get(msg.round, msg.round)
    if plan.dealer and msg.round == "request":
        what = "open your share from the dealer, check it and commit to signing the record"
    if plan.keeps_key and msg.round == "request":
        what = (f"deal your share of epoch {plan.previous_epoch} anew, sealed to each member of the new set"
                if plan.method == "reshare" else "deal a sharing of zero, sealed to each member")
    if plan.keeps_key and msg.round == plan.confirm_round:
        what = ("check every dealing, derive your new share, check the group key is kept and commit to signing "
                "the record" if is_new else "check every dealing and the group key, and confirm the record")
    if is_old and not is_new and me not in plan.old_signers and msg.round == plan.confirm_round:
        what = "confirm the record and its closed releases (you do not sign it)"
    if not answers(plan, me, msg.round):
        what = "keep this message: nothing to answer in this round (it is needed for the next ones)"
    role = "new member" if is_new else ""
    if is_old:
        role = (role + " and " if role else "") + f"member of epoch {plan.previous_epoch}"
    lines.append(f"  you are {me!r} ({role or 'not a member'}); this step: {what}")
    lines.append("  never restore this home from a backup, or copy it, while this ceremony is open")
    lines.append(f"  message fingerprint: {msg.fingerprint.hex}  {msg.fingerprint.words}")
    return lines


def lacks_record(fingerprint: str, what: str, where: str) -> CeremonyError:
    return CeremonyError(f"this home does not keep {what} (fingerprint {short(fingerprint)}), which the "
                         "ceremony names",
                         f"bring it once: 'ct ceremony step RECORD.json' keeps it in {where} (the record the "
                         "coordinator wrote at the end of that set's keygen or rotation)")


# ============================================================== coordinator

def collect(view: View, replies: list[Message]) -> Message | KeyholderSet:
    """Merge the replies to coordinator message ``view.msg`` into the next message, or the final record."""
    plan = plan_of(view)
    msg = view.msg
    new = set(plan.new)
    if msg.round == plan.confirm_round:
        return _collect_confirmations(plan, view, replies)
    if msg.round == "request" and plan.keeps_key:
        got = gather(msg, replies, "deal", plan.people, set(plan.old_signers))
        for r in got.values():
            reshare.check_deal(plan, r)
        nxt = make_bulletin(msg, "round1", list(got.values()), {})
        reshare.public_package(plan, view.with_message(nxt))      # a bad dealing is named now
        return nxt
    if msg.round == "request" and plan.method == "dkg":
        got = gather(msg, replies, "commit", plan.people, new)
        pkgs = [_r1_package(r, plan.new[r.sender]) for r in got.values()]
        try:
            frost.dkg_public_key_package(pkgs, plan.context)
        except frost.InvalidProof as e:
            raise _blame_proof(plan, e) from None
        return make_bulletin(msg, "round1", list(got.values()), {})
    if msg.round == "round1" and plan.method == "dkg":
        got = gather(msg, replies, "shares", plan.people, new)
        for r in got.values():
            sh = r.payload.get("shares")
            want = {str(i) for mid, i in plan.new.items() if mid != r.sender}
            if not isinstance(sh, dict) or set(sh) != want:
                raise CeremonyError(f"shares from {r.sender!r} are not addressed to every other member")
        return make_bulletin(msg, "round2", list(got.values()), {})
    if msg.round == "package":
        return _finish(plan, view, replies)
    raise CeremonyError(f"nothing to collect after a {msg.round!r} message",
                        "collect takes the coordinator's last message and the replies to it")


def _collect_confirmations(plan: Plan, view: View, replies: list[Message]) -> Message:
    """Every member that must confirm did, and each derived the record the coordinator derives (the same
    group key and verifying shares) from the same round-1 message; those who differ are named."""
    msg = view.msg
    must = set(plan.must_confirm)
    record = derived_record(plan, view)
    got = gather(msg, replies, "confirm", plan.people, must | set(plan.may_confirm), need=0)
    missing = sorted(must - set(got))
    if missing:
        raise CeremonyError(f"{len(must) - len(missing)} of {len(must)} needed confirm replies; missing: "
                            f"{', '.join(missing)}",
                            "every new member and every chosen signer of the outgoing epoch must confirm; "
                            "collect again when they have answered")
    fp = record.fingerprint.full_hex
    transcript = _transcript(plan, view)
    differ = sorted(r.sender for r in got.values() if r.payload.get("record") != fp
                    or r.payload.get("transcript") != transcript)
    if differ:
        raise CeremonyError(f"members {', '.join(differ)} derived a different keyholder set or saw a "
                            "different round-1 message",
                            "the coordinator's messages were inconsistent (equivocation) or a member is "
                            "faulty; start a new " + {KIND_ROTATE: "rotation", KIND_REFRESH: "refresh"}.get(
                                plan.request.kind, "keygen"))
    signers = {"new": sorted(plan.new), "old": list(plan.old_signers)}
    return make_bulletin(msg, "package", list(got.values()), {"signers": signers})


def _transcript(plan: Plan, view: View) -> str:
    """What every confirmation names: the digest of the message that fixed the group keys, the round-1
    bulletin (dealer: the request)."""
    return view.of("round1").digest.hex() if not plan.dealer else plan.request.digest.hex()


def _package_view(plan: Plan, view: View) -> tuple[KeyholderSet, dict[str, list[str]],
                                                   dict[str, list[frost.SigningCommitments]]]:
    """The record (derived here, from the round-1 data), signer lists and sorted commitment lists of the
    package bulletin (checked against every relayed confirmation)."""
    package = view.of("package")
    record = derived_record(plan, view)
    signers = package.payload.get("signers")
    if not isinstance(signers, dict) or set(signers) != {"new", "old"}:
        raise Malformed("package has no signer lists")
    if signers != {"new": sorted(plan.new), "old": plan.old_signers}:
        raise CeremonyError("the package's signers are not the ones the request fixed (every new member, and "
                            f"{', '.join(plan.old_signers) or 'nobody'} of the outgoing epoch)",
                            "a copy of a home answering another set could leak its key share; refuse it")
    confirms = {r.sender: r for r in view.replies(package)}
    transcript = _transcript(plan, view)
    differ = sorted(mid for mid, r in confirms.items() if r.payload.get("record") != record.fingerprint.full_hex
                    or r.payload.get("transcript") != transcript)
    if differ:
        raise CeremonyError(f"members {', '.join(differ)} confirmed a different keyholder set or round-1 message",
                            "the coordinator's messages were inconsistent (equivocation); refuse this ceremony")
    comms: dict[str, list[frost.SigningCommitments]] = {"new": [], "old": []}
    for group, index_of in (("new", plan.new), ("old", plan.old)):
        for mid in signers[group]:
            if mid not in confirms or mid not in index_of:
                raise CeremonyError(f"package lists {mid!r} as a {group} signer without a confirmation",
                                    "the coordinator's message is incomplete; refuse it")
            (c,) = frostround.decode_commitments(confirms[mid].payload.get(group), 1, index_of[mid], f"{mid} {group}")
            comms[group].append(c)
        comms[group].sort(key=lambda c: c.identifier)
    return record, signers, comms


@reads_payload
def _finish(plan: Plan, view: View, replies: list[Message]) -> KeyholderSet:
    record, signers, comms = _package_view(plan, view)
    package = view.msg
    expected = set(signers["new"]) | set(signers["old"])
    got = gather(package, replies, "sign", plan.people, expected)
    message = record.message()
    sigs: list[Signature] = []
    for group, index_of in (("new", plan.new), ("old", plan.old)):
        if not signers[group]:
            continue
        shares = {index_of[mid]: frostround.decode_shares([got[mid].payload.get(group)], 1, index_of[mid],
                                                          f"{mid} {group}")
                  for mid in signers[group]}
        if group == "new":
            pkp = frost.PublicKeyPackage(record.group_public_key,
                                         {m.index: m.verification_share for m in record.members}, record.threshold)
        else:
            prev = plan.previous
            if prev is None:
                raise CeremonyError("the coordinator's journal does not hold the previous record")
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
    record: KeyholderSet | None = None      # the record (unsigned) the new share signs for


def my_roles(plan: Plan, me: str) -> tuple[bool, bool]:
    """(is a member of the new set, is a member of the old set)."""
    return me in plan.new, me in plan.old


def answer(view: View, me: IdentityKey, secrets: dict[str, bytes],
           old_share: frost.KeyPackage | None, take_nonces) -> Answer:
    """A member's answer to coordinator message ``view.msg``.  ``secrets`` holds what earlier rounds kept;
    ``take_nonces()`` returns this member's stored nonces, marking them consumed."""
    plan = plan_of(view)
    msg = view.msg
    is_new, is_old = my_roles(plan, me.id)
    if not (is_new or is_old):
        raise CeremonyError(f"{me.id!r} is not a member of this keyholder set or of the one it replaces")
    if msg.round == "request" and plan.keeps_key:
        if me.id not in plan.old_signers:
            raise CeremonyError(f"{me.id!r} does not deal in this ceremony; wait for the round-1 message")
        if old_share is None:
            raise CeremonyError(f"no share of keyholder set {plan.template['name']!r} epoch {plan.previous_epoch} "
                                "in this home", "answer from the home that holds that share")
        payload, keep = reshare.deal(plan, me, old_share)
        reply = make_reply(msg, "deal", me.id, payload)
        return Answer(reply.signed_by(me), keep)
    if msg.round == "request" and not plan.dealer:
        if not is_new:
            raise CeremonyError(f"{me.id!r} only signs this rotation; wait for the round-2 message")
        sec, pkg = frost.dkg_part1(plan.new[me.id], len(plan.new), plan.threshold, plan.context)
        reply = make_reply(msg, "commit", me.id, {"package": b64e(pkg.to_bytes())})
        return Answer(reply.signed_by(me), {"dkg1": sec.to_bytes()})
    if msg.round == "round1" and plan.method == "dkg":
        if not is_new:
            raise CeremonyError(f"{me.id!r} has no part in round 2 of the new set's keygen")
        sec1 = frost.DkgRound1Secret.from_bytes(secrets["dkg1"])
        pkgs = _round1_packages(plan, view)
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
    if msg.round == plan.confirm_round:
        pkp = group_keys(plan, view)
        record = plan.record(pkp.group_public_key, pkp.verifying_shares)
        payload: dict[str, Any] = {"record": record.fingerprint.full_hex, "transcript": _transcript(plan, view)}
        nonces = b""
        kp = None
        if is_new:
            kp = _derive_share(plan, view, me, secrets, pkp, old_share)
            blob, (c,) = frostround.commit_batch(kp, 1)
            nonces += blob
            payload["new"] = frostround.encode_commitments([c])
        if me.id in plan.old_signers:
            if old_share is None:
                raise CeremonyError(f"no share of keyholder set {plan.template['name']!r} epoch "
                                    f"{plan.previous_epoch} in this home",
                                    "answer from the home that holds that share")
            blob, (c,) = frostround.commit_batch(old_share, 1)
            nonces += blob
            payload["old"] = frostround.encode_commitments([c])
        reply = make_reply(msg, "confirm", me.id, payload)
        return Answer(reply.signed_by(me), {}, drop=("dkg2", reshare.OWN_SHARE), share=kp, nonces=nonces,
                      record=record)
    if msg.round == "package":
        record, signers, comms = _package_view(plan, view)
        groups = [g for g in ("new", "old") if me.id in signers[g]]
        if not groups:
            raise CeremonyError(f"{me.id!r} is not among this package's signers")
        is_old_signer = me.id in plan.old_signers
        blob = take_nonces()
        nonces = frostround.split_nonces(blob, (1 if is_new else 0) + (1 if is_old_signer else 0))
        by_group = {}
        k = 0
        for g, member in (("new", is_new), ("old", is_old_signer)):
            if member:
                by_group[g] = nonces[k]
                k += 1
        payload = {}
        message = record.message()
        for g in groups:
            kp = secrets["share:new"] if g == "new" else old_share
            kp = frost.KeyPackage.from_bytes(kp) if isinstance(kp, bytes) else kp
            (sh,) = frostround.sign_batch([message], [comms[g]], [by_group[g]], kp)
            (payload[g],) = frostround.encode_shares([sh])
        payload["signatures"] = [s.to_json() for s in me.sign(message) if s.alg != "ed25519"]
        reply = make_reply(msg, "sign", me.id, payload)
        return Answer(reply.signed_by(me), {})
    raise CeremonyError(f"a keyholder has nothing to answer to a {msg.round!r} message",
                        "pass the coordinator's latest message")


def _derive_share(plan: Plan, view: View, me: IdentityKey, secrets: dict[str, bytes],
                  pkp: frost.PublicKeyPackage, old_share: frost.KeyPackage | None = None) -> frost.KeyPackage:
    if plan.keeps_key:
        kp = reshare.derive(plan, view, me, secrets.get(reshare.OWN_SHARE), old_share)
    elif plan.dealer:
        sealed = plan.dealer["shares"].get(me.id)
        if sealed is None:
            raise CeremonyError(f"the dealer sent no share to {me.id!r}")
        share = frost.SecretShare.from_bytes(me.open_sealed(b64d(sealed, "sealed share")))
        if share.identifier != plan.new[me.id]:
            raise CeremonyError("the dealer's share is for another identifier")
        kp = share.key_package(plan.threshold)
    else:
        sec2 = frost.DkgRound2Secret.from_bytes(secrets["dkg2"])
        pkgs = _round1_packages(plan, view)
        pkgs.pop(me.id)
        received = {}
        for r in view.replies(view.of("round2")):
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
            raise CeremonyError(f"invalid secret share from {frostround.culprits(e.identifiers, plan.new)}",
                                "that keyholder's round-2 message is faulty or malicious; restart without it") from None
    if kp.group_public_key != pkp.group_public_key or kp.verifying_share != pkp.verifying_shares[kp.identifier]:
        raise CeremonyError("this member's share does not match the group key in the messages",
                            "the coordinator's messages are inconsistent; refuse this ceremony")
    return kp


__all__ = ["open_keygen", "open_refresh", "rotation_members", "collect", "answer", "plan_of", "Plan", "Answer",
           "SUITES"]
