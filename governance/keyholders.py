"""Keyholder-set records and the rotation chain (``spec/keyholder-set.md``).

A record is ``{"body": BODY, "signatures": [Signature...]}`` in canonical
JSON.  BODY names the cooperative, its epoch, suite, threshold k, validity
window, the FROST group public key and every member (identity public key,
FROST identifier and verification share), and links to the previous epoch
by fingerprint.  The fingerprint of a set is SHA-256 of the canonical JSON
of its BODY; what signers sign is ``PAE(RECORD_PAYLOAD_TYPE, canonical BODY)``.

Rules a verifier applies, walking from the record it pinned:

1. every record meets its *own* threshold, per algorithm of its suite
   (``ed25519``: the FROST group signature under its group key;
   ``ml-dsa-87``: k distinct members' ML-DSA-87 signatures);
2. record N+1 also meets the threshold of record N (per N's suite), names N
   by epoch and fingerprint in ``previous``, has the next epoch and the same name;
3. the chain is at most :data:`MAX_CHAIN` records long;
4. given what the verifier knows (``governance.trust.Knowledge``): no record
   disagrees with a checkpoint (a fork), and a chain ending at a closed epoch
   signed a release its rotation kept (``closed_releases``);
5. the last record — the set that signs releases — is not expired (and its
   validity has begun), unless its rotation kept the release.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from dataclasses import dataclass, field
from typing import Any

from cerro_torre.keys.identity import IdentityPublic, validate_id
from cerro_torre.suites.encoding import (
    Record,
    b64d,
    b64e,
    canonical_json,
    pae,
    parse_json,
    quoted,
)
from cerro_torre.suites.errors import (
    CTError,
    KeyNotTrusted,
    Malformed,
    SignatureInvalid,
    UsageError,
)
from cerro_torre.suites.fingerprint import Fingerprint
from cerro_torre.suites.suite import (
    SUITES,
    Requirement,
    Signature,
    SuiteResult,
    evaluate,
    get_suite,
    keyid_of,
)

RECORD_TYPE = "ct-keyholder-set"
RECORD_VERSION = 1
RECORD_PAYLOAD_TYPE = "application/vnd.cerro-torre.keyholder-set.v1+json"
MAX_CHAIN = 64
MAX_MEMBERS = 255
MAX_RECORD = 4 << 20
_TS = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")


def validate_name(name: str) -> str:
    """``name`` if it can name a keyholder set, else UsageError (a name comes from the command line)."""
    if not _NAME.match(name):
        raise UsageError(f"invalid keyholder-set name {quoted(name)}",
                         "a keyholder-set name is 1-64 characters: lowercase letters, digits, '.', '_' or '-', "
                         "starting with a letter or digit (e.g. --name coop-tools)")
    return name


def parse_time(s: Any, what: str) -> _dt.datetime:
    if not isinstance(s, str) or not _TS.match(s):
        raise Malformed(f"{what} must be a UTC time like 2026-01-31T00:00:00Z")
    try:
        return _dt.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=_dt.timezone.utc)
    except ValueError:
        raise Malformed(f"{what} is not a valid time: {s}") from None


def format_time(t: _dt.datetime) -> str:
    return t.astimezone(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_utc() -> _dt.datetime:
    return _dt.datetime.now(_dt.timezone.utc).replace(microsecond=0)


class Member(Record):
    """A member: id, FROST identifier (1..255), identity public key, FROST verification share
    (32 bytes when the suite has ed25519, else None)."""

    __slots__ = ("id", "index", "identity", "verification_share")

    def __init__(self, id: str, index: int, identity: IdentityPublic, verification_share: bytes | None) -> None:
        self.id = id
        self.index = index
        self.identity = identity
        self.verification_share = verification_share

    def to_json(self) -> dict[str, Any]:
        return {"id": self.id, "index": self.index, "identity": self.identity.to_json(),
                "verification_share": b64e(self.verification_share) if self.verification_share else None}

    def mldsa_keyid(self) -> str | None:
        pk = self.identity.keys.get("ml-dsa-87")
        return keyid_of(pk) if pk else None


@dataclass(frozen=True)
class KeyholderSet:
    """One epoch of a cooperative's keyholder set (immutable; equality ignores the signatures).

    A dataclass so that ceremony code can ``dataclasses.replace`` it."""

    name: str
    epoch: int
    suite: str
    threshold: int
    created: str
    expires: str
    group_public_key: bytes | None
    members: tuple[Member, ...]
    previous: tuple[int, str] | None = None          # (epoch, fingerprint hex) of the previous set
    # sha256 hex of each release statement the previous epoch signed before this rotation closed it
    # (sorted, unique); None exactly for a root.  Left None on a rotation record, it becomes () —
    # the rotation then keeps none of the previous epoch's releases.
    closed_releases: tuple[str, ...] | None = None
    signatures: tuple[Signature, ...] = field(default=(), compare=False)
    _body: bytes | None = field(default=None, init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.previous is None:
            if self.closed_releases:
                raise ValueError("a root keyholder set closes no releases")
            object.__setattr__(self, "closed_releases", None)
        else:
            object.__setattr__(self, "closed_releases", tuple(sorted(set(self.closed_releases or ()))))

    # ---------------------------------------------------------- encoding
    def body(self) -> dict[str, Any]:
        return {
            "type": RECORD_TYPE, "version": RECORD_VERSION, "name": self.name, "epoch": self.epoch,
            "suite": self.suite, "threshold": self.threshold, "created": self.created, "expires": self.expires,
            "group_public_key": b64e(self.group_public_key) if self.group_public_key else None,
            "members": [m.to_json() for m in sorted(self.members, key=lambda m: m.index)],
            "previous": {"epoch": self.previous[0], "fingerprint": self.previous[1]} if self.previous else None,
            "closed_releases": list(self.closed_releases) if self.closed_releases is not None else None,
        }

    def body_bytes(self) -> bytes:
        if self._body is None:
            object.__setattr__(self, "_body", canonical_json(self.body()))
        return self._body  # type: ignore[return-value]

    def message(self) -> bytes:
        """What every signature on this record signs."""
        return pae(RECORD_PAYLOAD_TYPE, self.body_bytes())

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint.of(self.body_bytes())

    def to_bytes(self) -> bytes:
        sigs = sorted(self.signatures, key=lambda s: (s.alg, s.keyid, s.sig))
        return canonical_json({"body": self.body(), "signatures": [s.to_json() for s in sigs]}) + b"\n"

    def with_signatures(self, sigs: list[Signature]) -> KeyholderSet:
        merged = list(self.signatures)
        for s in sigs:
            if s not in merged:
                merged.append(s)
        return dataclasses.replace(self, signatures=tuple(merged))

    def closes(self, statement_sha256: str) -> bool:
        """Whether this rotation kept the previous epoch's release with this statement digest."""
        return self.closed_releases is not None and statement_sha256 in self.closed_releases

    # ---------------------------------------------------------- requirements
    def requirements(self) -> dict[str, Requirement]:
        """Per algorithm of the suite: who must sign, and how many."""
        req: dict[str, Requirement] = {}
        for alg in SUITES[self.suite].algorithms:
            if alg == "ed25519":
                assert self.group_public_key is not None
                req[alg] = Requirement(1, {keyid_of(self.group_public_key): self.group_public_key})
            else:
                keys = {keyid_of(m.identity.keys[alg]): m.identity.keys[alg] for m in self.members}
                req[alg] = Requirement(self.threshold, keys)
        return req

    def evaluate(self, message: bytes, signatures: list[Signature]) -> SuiteResult:
        return evaluate(SUITES[self.suite], message, list(signatures), self.requirements())

    def member_by_keyid(self) -> dict[str, str]:
        """keyid -> member id (ML-DSA keys) and the group keyid -> 'group'."""
        out = {}
        for m in self.members:
            for alg, pk in m.identity.keys.items():
                if alg != "x25519":
                    out[keyid_of(pk)] = m.id
        if self.group_public_key:
            out[keyid_of(self.group_public_key)] = f"group of {self.name} epoch {self.epoch}"
        return out

    def own_keyids(self) -> frozenset[str]:
        """The keyids that count for this set's own threshold."""
        return frozenset(k for req in self.requirements().values() for k in req.keys)

    @property
    def group_keyid(self) -> str | None:
        return keyid_of(self.group_public_key) if self.group_public_key else None

    def expires_at(self) -> _dt.datetime:
        return parse_time(self.expires, "expires")

    def created_at(self) -> _dt.datetime:
        return parse_time(self.created, "created")

    def describe(self) -> str:
        return f"keyholder set {self.name!r} epoch {self.epoch} ({self.fingerprint.hex})"

    # ---------------------------------------------------------- parsing
    @classmethod
    def from_bytes(cls, data: bytes, what: str = "keyholder-set record") -> KeyholderSet:
        if len(data) > MAX_RECORD:
            raise Malformed(f"{what} is larger than {MAX_RECORD} bytes")
        d = parse_json(data, what)
        if not isinstance(d, dict) or set(d) != {"body", "signatures"}:
            raise Malformed(f"{what} must be an object with body and signatures",
                            "is this a keyholder-set record (governance/keyholders/*.json)?")
        rec = cls.from_body(d["body"], what)
        rec = rec.with_signatures(Signature.list_from_json(d["signatures"], what))
        if rec.to_bytes() != bytes(data) and rec.to_bytes() != bytes(data) + b"\n":
            raise Malformed(f"{what} is not canonical JSON", "records are written by ct; was it edited?")
        return rec

    @classmethod
    def from_body(cls, b: Any, what: str = "keyholder-set record") -> KeyholderSet:
        keys = {"type", "version", "name", "epoch", "suite", "threshold", "created", "expires",
                "group_public_key", "members", "previous", "closed_releases"}
        if not isinstance(b, dict) or b.get("type") != RECORD_TYPE:
            raise Malformed(f"{what} is not a keyholder-set record")
        if b.get("version") != RECORD_VERSION:
            raise Malformed(f"{what} has unsupported version {b.get('version')!r}", "upgrade ct to read it")
        if set(b) != keys:
            raise Malformed(f"{what} has unexpected fields: {', '.join(sorted(set(b) ^ keys))}")
        name = b["name"]
        if not isinstance(name, str) or not _NAME.match(name):
            raise Malformed(f"{what}: name must match [a-z0-9][a-z0-9._-]{{0,63}}")
        epoch = b["epoch"]
        if isinstance(epoch, bool) or not isinstance(epoch, int) or not 1 <= epoch < 2 ** 53:
            raise Malformed(f"{what}: epoch must be a positive integer")
        suite = get_suite(b["suite"]).name
        algs = SUITES[suite].algorithms
        created = b["created"]
        expires = b["expires"]
        if parse_time(expires, f"{what} expires") <= parse_time(created, f"{what} created"):
            raise Malformed(f"{what}: expires must be after created")
        if not isinstance(b["members"], list) or not 1 <= len(b["members"]) <= MAX_MEMBERS:
            raise Malformed(f"{what}: members must be a list of 1 to {MAX_MEMBERS} entries")
        members = []
        ids: set[str] = set()
        indexes: set[int] = set()
        seen_keys: set[bytes] = set()
        for i, m in enumerate(b["members"]):
            mw = f"{what}: member {i}"
            if not isinstance(m, dict) or set(m) != {"id", "index", "identity", "verification_share"}:
                raise Malformed(f"{mw} must have id, index, identity and verification_share")
            mid = validate_id(m["id"], Malformed)
            idx = m["index"]
            if isinstance(idx, bool) or not isinstance(idx, int) or not 1 <= idx <= MAX_MEMBERS:
                raise Malformed(f"{mw}: index must be an integer from 1 to {MAX_MEMBERS}")
            if mid in ids or idx in indexes:
                raise Malformed(f"{mw}: duplicate member id or index")
            ids.add(mid)
            indexes.add(idx)
            ident = IdentityPublic.from_json(m["identity"], f"{mw} identity")
            if ident.id != mid:
                raise Malformed(f"{mw}: identity is key {ident.id!r}, not {mid!r}")
            for alg in algs:
                if alg != "ed25519" and alg not in ident.keys:
                    raise Malformed(f"{mw}: a {suite} set needs every member's {alg} key; "
                                    f"{mid!r} is a {ident.suite} identity")
            for slot, pk in ident.keys.items():
                if pk in seen_keys:
                    raise Malformed(f"{mw}: {slot} key is shared with another member")
                seen_keys.add(pk)
            share = m["verification_share"]
            if "ed25519" in algs:
                share = b64d(share, f"{mw} verification_share", size=32)
            elif share is not None:
                raise Malformed(f"{mw}: a {suite} set has no FROST verification shares")
            members.append(Member(mid, idx, ident, share))
        members.sort(key=lambda m: m.index)
        if [m.to_json() for m in members] != b["members"]:
            raise Malformed(f"{what}: members must be sorted by index")
        k = b["threshold"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= len(members):
            raise Malformed(f"{what}: threshold must be between 1 and the {len(members)} member(s)")
        gpk = b["group_public_key"]
        if "ed25519" in algs:
            gpk = b64d(gpk, f"{what} group_public_key", size=32)
        elif gpk is not None:
            raise Malformed(f"{what}: a {suite} set has no group public key")
        prev = b["previous"]
        if prev is not None:
            if not isinstance(prev, dict) or set(prev) != {"epoch", "fingerprint"} \
                    or isinstance(prev["epoch"], bool) or not isinstance(prev["epoch"], int) \
                    or not isinstance(prev["fingerprint"], str) or not _HEX64.match(prev["fingerprint"]):
                raise Malformed(f"{what}: previous must be {{epoch, fingerprint (64 hex)}} or null")
            prev = (prev["epoch"], prev["fingerprint"])
            if prev[0] != epoch - 1:
                raise Malformed(f"{what}: epoch {epoch} names epoch {prev[0]} as its previous set; "
                                f"a rotation follows epoch {epoch - 1}")
        elif epoch != 1:
            raise Malformed(f"{what}: epoch {epoch} has no previous set; only the root (epoch 1) has none")
        closed = b["closed_releases"]
        if prev is None:
            if closed is not None:
                raise Malformed(f"{what}: closed_releases must be null for a root (epoch 1)")
        else:
            if not isinstance(closed, list) or not all(isinstance(x, str) and _HEX64.match(x) for x in closed):
                raise Malformed(f"{what}: closed_releases must be a list of sha256 digests (64 lowercase hex)")
            if closed != sorted(set(closed)):
                raise Malformed(f"{what}: closed_releases must be sorted and without duplicates")
            closed = tuple(closed)
        return cls(name, epoch, suite, k, created, expires, gpk, tuple(members), prev, closed)


# ====================================================================== chain walk

class ChainStep(Record):
    """One record of the walk: its own-threshold result, the previous set's result, the verdict."""

    __slots__ = ("record", "own", "by_previous", "ok", "note")

    def __init__(self, record: KeyholderSet, own: SuiteResult | None = None,
                 by_previous: SuiteResult | None = None, ok: bool = False, note: str = "") -> None:
        self.record = record
        self.own = own
        self.by_previous = by_previous
        self.ok = ok
        self.note = note

    def to_json(self) -> dict[str, Any]:
        r = self.record
        return {"name": r.name, "epoch": r.epoch, "suite": r.suite, "threshold": r.threshold,
                "members": len(r.members), "fingerprint": r.fingerprint.to_json(), "expires": r.expires,
                "own_signatures": self.own.to_json() if self.own else None,
                "signed_by_previous": self.by_previous.to_json() if self.by_previous else None,
                "ok": self.ok, "note": self.note}


class ChainResult(Record):
    """The walk: its steps, the pinned record, the current (last) record — the set that signs
    releases — the error, if any, and the verdict of the forward-only rules (``governance.trust.Forward``,
    None when the walk was given no knowledge)."""

    __slots__ = ("steps", "pinned", "current", "error", "forward")

    def __init__(self, steps: list[ChainStep], pinned: KeyholderSet | None, current: KeyholderSet | None,
                 error: CTError | None = None, forward: Any = None) -> None:
        self.steps = steps
        self.pinned = pinned
        self.current = current
        self.error = error
        self.forward = forward

    @property
    def ok(self) -> bool:
        return self.error is None


def classify(result: SuiteResult, what: str, names: dict[str, str], hint_bad: str, hint_unknown: str,
             ignore: set[str] | frozenset[str] = frozenset()) -> CTError:
    """A failed threshold as an error.

    Exit 2 when a counted key presented an invalid signature, or some but too few
    counted keys signed; exit 3 when none of the required keys signed and the
    signatures present are by keys outside the requirement (``ignore``: keyids
    expected to be outside it, e.g. the new set's own keys on a rotation).
    """
    parts = []
    failing = {alg: r for alg, r in result.per_alg.items() if not r.ok}
    any_invalid = any(r.invalid for r in failing.values())
    any_partial = any(r.signed for r in failing.values())
    any_unknown = any(set(r.unknown) - set(ignore) for r in failing.values())
    for alg, r in failing.items():
        p = f"{alg} {len(r.signed)} of {r.threshold}"
        if r.invalid:
            p += " (invalid: " + ", ".join(sorted(names.get(k, k) for k in r.invalid)) + ")"
        unknown = [k for k in r.unknown if k not in ignore]
        if unknown:
            p += " (keys not in the set: " + ", ".join(unknown) + ")"
        parts.append(p)
    msg = f"{what}: " + "; ".join(parts)
    if any_invalid or any_partial or not any_unknown:
        return SignatureInvalid(msg, hint_bad)
    return KeyNotTrusted(msg, hint_unknown)


def walk_chain(records: list[KeyholderSet], pinned: set[str], now: _dt.datetime | None = None,
               max_len: int = MAX_CHAIN, *, known: Any = None, release: str | None = None,
               what: str = "the bundle's chain") -> ChainResult:
    """Check ``records`` (sorted by epoch) from the first one whose fingerprint is pinned.

    ``known`` (a ``governance.trust.Knowledge``): what the verifier knows of the lineage; the chain is
    then also checked for forks, and ``release`` (the sha256 of the release statement the last record
    signed, if any) against the closing rule — an expired last record does not matter when the
    rotation that closed it kept the release."""
    now = now or now_utc()
    if not records:
        return ChainResult([], None, None, KeyNotTrusted("the bundle carries no keyholder-set record"))
    if len(records) > max_len:
        return ChainResult([], None, None, Malformed(
            f"keyholder chain has {len(records)} records; the limit is {max_len}",
            "a verifier refuses longer chains; pin a more recent epoch as root"))
    for a, b in zip(records, records[1:]):
        if b.name != a.name:
            return ChainResult([], None, None, Malformed(
                f"keyholder chain mixes sets {a.name!r} and {b.name!r}; a set's name never changes",
                "the chain was spliced from different cooperatives' records; get the chain from the cooperative"))
        if b.epoch <= a.epoch:
            return ChainResult([], None, None, Malformed(
                f"keyholder chain: epoch {b.epoch} follows epoch {a.epoch}; epochs only increase",
                "the chain in the bundle is out of order or replays an old epoch"))
        if b.epoch != a.epoch + 1:
            return ChainResult([], None, None, Malformed(
                f"keyholder chain: epoch {b.epoch} follows epoch {a.epoch}; the record of epoch {a.epoch + 1} "
                "is missing", "a chain carries every record from its first epoch to its last"))
    start = next((i for i, r in enumerate(records) if r.fingerprint.full_hex in pinned), None)
    last = records[-1]
    if start is None:
        first = records[0]
        return ChainResult([], None, last, KeyNotTrusted(
            f"{last.describe()} does not chain to a pinned root "
            f"(chain starts at epoch {first.epoch}, fingerprint {first.fingerprint.hex})",
            "pin the cooperative's root set after checking its fingerprint: "
            "'ct policy init --root KEYHOLDERS.json' (or add it with 'ct policy add-root')"))
    steps: list[ChainStep] = []
    chain = records[start:]
    prev: KeyholderSet | None = None
    for rec in chain:
        step = ChainStep(rec)
        steps.append(step)
        names = {**rec.member_by_keyid(), **(prev.member_by_keyid() if prev else {})}
        if prev is not None:
            if rec.previous != (prev.epoch, prev.fingerprint.full_hex):
                step.note = "does not link to the previous epoch"
                return ChainResult(steps, chain[0], last, KeyNotTrusted(
                    f"{rec.describe()} does not name epoch {prev.epoch} ({prev.fingerprint.hex}) as its previous set",
                    "the chain was spliced from different cooperatives' records; get the chain from the cooperative"))
            step.by_previous = prev.evaluate(rec.message(), list(rec.signatures))
            if not step.by_previous.ok:
                step.note = f"not signed by the threshold of epoch {prev.epoch}"
                return ChainResult(steps, chain[0], last, classify(
                    step.by_previous, f"{rec.describe()} is not signed by the threshold of epoch {prev.epoch}",
                    names, "a rotation needs k signatures of the outgoing set; this record was altered or forged",
                    "the signers are not members of the previous set; the rotation was not approved by it",
                    ignore=rec.own_keyids()))
        step.own = rec.evaluate(rec.message(), list(rec.signatures))
        if not step.own.ok:
            step.note = "not signed by its own threshold"
            return ChainResult(steps, chain[0], last, classify(
                step.own, f"{rec.describe()} is not signed by its own threshold", names,
                "every set signs its own record with its threshold; this record was altered or forged",
                "the signatures are by keys outside the set",
                ignore=prev.own_keyids() if prev is not None else frozenset()))
        step.ok = True
        prev = rec
    fwd = None
    if known is not None:
        try:
            fork, fwd = known.judge(records, release, what)
        except CTError as e:
            fork = e
        if fork is not None:
            steps[-1].ok = False
            steps[-1].note = "fork"
            return ChainResult(steps, chain[0], last, fork, fwd)
    kept = fwd is not None and fwd.status == "kept" and release is not None
    if now >= last.expires_at() and not kept:
        steps[-1].ok = False
        steps[-1].note = "expired"
        return ChainResult(steps, chain[0], last, KeyNotTrusted(
            f"{last.describe()} expired at {last.expires}",
            "the cooperative must rotate to a new epoch; get a bundle signed by the current keyholder set"), fwd)
    if now < last.created_at():
        steps[-1].ok = False
        steps[-1].note = "not yet valid"
        return ChainResult(steps, chain[0], last, KeyNotTrusted(
            f"{last.describe()} is not valid before {last.created}",
            "check this machine's clock"), fwd)
    return ChainResult(steps, chain[0], last, None, fwd)


def epoch_changes(prev: KeyholderSet, rec: KeyholderSet) -> list[str]:
    """What a rotation changed, one line each (empty: nothing but the epoch): members added and removed
    (by id and identity fingerprint), threshold, suite, validity, and the releases it kept."""
    out = []
    before = {m.id: m.identity.fingerprint for m in prev.members}
    after = {m.id: m.identity.fingerprint for m in rec.members}
    for mid in sorted(set(after) - set(before)):
        out.append(f"+ member {mid} ({after[mid].hex})")
    for mid in sorted(set(before) - set(after)):
        out.append(f"- member {mid} ({before[mid].hex})")
    for mid in sorted(set(before) & set(after)):
        if before[mid] != after[mid]:
            out.append(f"~ member {mid}: new identity key {after[mid].hex} (was {before[mid].hex})")
    if (prev.threshold, len(prev.members)) != (rec.threshold, len(rec.members)):
        out.append(f"~ threshold {prev.threshold} of {len(prev.members)} -> {rec.threshold} of {len(rec.members)}")
    if prev.suite != rec.suite:
        out.append(f"~ suite {prev.suite} -> {rec.suite}")
    if prev.group_public_key != rec.group_public_key:
        out.append(f"~ group key {prev.group_keyid or 'none'} -> {rec.group_keyid or 'none'}")
    if prev.expires != rec.expires:
        out.append(f"~ expires {prev.expires} -> {rec.expires}")
    if rec.closed_releases is not None:
        out.append(f"= kept {len(rec.closed_releases)} release(s) of epoch {prev.epoch}; "
                   f"epoch {prev.epoch} signs nothing more")
    return out


def load_records(paths: list[str]) -> list[KeyholderSet]:
    out = []
    for p in paths:
        with open(p, "rb") as f:
            out.append(KeyholderSet.from_bytes(f.read(MAX_RECORD + 1), p))
    out.sort(key=lambda r: r.epoch)
    return out


def record_member_name(epoch: int) -> str:
    """Where the record of ``epoch`` lives inside a bundle (zero-padded so names sort by epoch)."""
    return f"signatures/keyholders/{epoch:016d}.json"
