"""Ceremony messages (``spec/ceremony.md``).

One self-describing, canonical, versioned document for every message of every
ceremony::

    {"type": "ct-ceremony-message", "version": 2,
     "ceremony": "<32 hex>", "kind": "keygen"|"sign"|"rotate"|"refresh"|"repair",
     "round": "<round name>", "sender": "coordinator"|"<member id>",
     "payload": {...},
     "auth": {"alg": ..., "keyid": ..., "sig": ...}}      # members only

The wire form is the canonical JSON of the whole object plus one LF.  A
member's message is signed with its identity key (Ed25519, or ML-DSA-87 for a
CT-SIG-03 identity) over ``DOMAIN || canonical JSON without "auth"``.  The
coordinator holds no secret: its messages carry no ``auth``; what they relay
is the members' own signed messages, verbatim, and every member checks them.

``Message.parse`` checks type, version, field types and sizes; the
state machines then check ceremony id, kind, round and sender, and
``verify_auth`` the signature, before anything else is done with a message.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass, field
from collections.abc import Callable
from typing import Any, TypeVar

from cerro_torre.keys.identity import IdentityKey, IdentityPublic
from cerro_torre.suites.encoding import canonical_json, parse_json, quoted, shown, type_of
from cerro_torre.suites.errors import CeremonyError, Malformed
from cerro_torre.suites.fingerprint import Fingerprint
from cerro_torre.suites.suite import Signature, verify_signature

TYPE = "ct-ceremony-message"
VERSION = 2
DOMAIN = b"ct-ceremony-message-v2\x00"
COORDINATOR = "coordinator"
KINDS = ("keygen", "sign", "rotate", "refresh", "repair")
MAX_MESSAGE_BYTES = 16 * 1024 * 1024
_CEREMONY_RE = re.compile(r"[0-9a-f]{32}\Z")
_NAME_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
_FIELDS = {"type", "version", "ceremony", "kind", "round", "sender", "payload"}
# the hint of every message (or payload) that breaks its format: nothing the reader can fix in it
T = TypeVar("T")
DAMAGED = "the message is damaged or was not written by ct; ask its sender for it again"


def auth_algorithm(public: IdentityPublic) -> str:
    """The algorithm an identity authenticates messages with: Ed25519 when it has one."""
    return "ed25519" if "ed25519" in public.keys else public.signing_algorithms()[0]


@dataclass(frozen=True)
class Message:
    ceremony: str
    kind: str
    round: str
    sender: str
    payload: dict[str, Any] = field(default_factory=dict)
    auth: Signature | None = None

    # ---- encoding
    def body(self) -> dict[str, Any]:
        return {"type": TYPE, "version": VERSION, "ceremony": self.ceremony, "kind": self.kind,
                "round": self.round, "sender": self.sender, "payload": self.payload}

    def signed_bytes(self) -> bytes:
        """What the sender's identity key signs."""
        return DOMAIN + canonical_json(self.body())

    def to_json(self) -> dict[str, Any]:
        d = self.body()
        if self.auth is not None:
            d["auth"] = self.auth.to_json()
        return d

    def to_bytes(self) -> bytes:
        return self._wire

    @functools.cached_property
    def _wire(self) -> bytes:
        # a Message is immutable once made (payloads are never edited in place), so the
        # canonical encoding of large coordinator messages is computed once
        return canonical_json(self.to_json()) + b"\n"

    @functools.cached_property
    def digest(self) -> bytes:
        """SHA-256 of the wire form: what later messages and the transcript refer to."""
        return hashlib.sha256(self._wire).digest()

    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint.of(self.to_bytes())

    # ---- parsing
    @classmethod
    def from_json(cls, d: Any, what: str = "ceremony message") -> Message:
        if not isinstance(d, dict):
            raise Malformed(f"{what} is not a JSON object", "is this a ceremony message file?")
        if d.get("type") != TYPE:
            raise Malformed(f"{what} is not a ceremony message ({type_of(d)})",
                            "is this a ceremony message file?")
        if d.get("version") != VERSION:
            raise Malformed(f"{what} has unsupported version {d.get('version')!r}",
                            "it was written by another ct version; use the same version on both sides")
        keys = set(d)
        extra = keys - _FIELDS - {"auth"}
        if extra or not _FIELDS <= keys:
            raise Malformed(f"{what} has unexpected or missing fields: "
                            + ", ".join(quoted(k) for k in sorted(extra | (_FIELDS - keys))[:8]), DAMAGED)
        ceremony, kind, rnd, sender, payload = d["ceremony"], d["kind"], d["round"], d["sender"], d["payload"]
        if not isinstance(ceremony, str) or not _CEREMONY_RE.match(ceremony):
            raise Malformed(f"{what} has an invalid ceremony id {shown(ceremony)}", DAMAGED)
        if kind not in KINDS:
            raise Malformed(f"{what} has unknown kind {shown(kind)}", "kinds: " + ", ".join(KINDS), DAMAGED)
        if not isinstance(rnd, str) or not _NAME_RE.match(rnd):
            raise Malformed(f"{what} has an invalid round {shown(rnd)}", DAMAGED)
        if not isinstance(sender, str) or not _NAME_RE.match(sender):
            raise Malformed(f"{what} has an invalid sender {shown(sender)}", DAMAGED)
        if not isinstance(payload, dict):
            raise Malformed(f"{what} payload must be an object", DAMAGED)
        try:
            auth = Signature.from_json(d["auth"]) if "auth" in d else None
        except Malformed as e:
            raise Malformed(f"{what}: {e.message}", *e.hints, DAMAGED) from None
        if sender == COORDINATOR and auth is not None:
            raise Malformed(f"{what}: coordinator messages carry no signature", DAMAGED)
        if sender != COORDINATOR and auth is None:
            raise Malformed(f"{what} from {sender!r} is not signed", "members sign every message they send")
        return cls(ceremony, kind, rnd, sender, payload, auth)

    @classmethod
    def parse(cls, data: bytes, what: str = "ceremony message") -> Message:
        if len(data) > MAX_MESSAGE_BYTES:
            raise Malformed(f"{what} is too large ({len(data)} bytes, limit {MAX_MESSAGE_BYTES})",
                            "is this a ceremony message file?")
        msg = cls.from_json(parse_json(data, what), what)
        if msg.to_bytes() != data:
            raise Malformed(f"{what} is not in canonical form", "messages are canonical JSON; do not edit them")
        return msg

    # ---- authentication
    def signed_by(self, key: IdentityKey) -> Message:
        """This message signed by ``key`` (whose id must be the sender)."""
        if key.id != self.sender:
            raise CeremonyError(f"key {key.id!r} cannot sign a message from {self.sender!r}")
        alg = auth_algorithm(key.public())
        sig = next(s for s in key.sign(self.signed_bytes()) if s.alg == alg)
        return Message(self.ceremony, self.kind, self.round, self.sender, self.payload, sig)

    def verify_auth(self, public: IdentityPublic) -> None:
        """Raise CeremonyError unless this message is signed by ``public`` (the expected sender)."""
        if self.sender != public.id:
            raise CeremonyError(f"message claims sender {self.sender!r}, expected {public.id!r}",
                                "it was misdirected or forged; ask the sender to send it again")
        alg = auth_algorithm(public)
        a = self.auth
        if a is None or a.alg != alg or a.keyid != public.keyid(alg) or \
                not verify_signature(alg, public.keys[alg], self.signed_bytes(), a.sig):
            raise CeremonyError(f"message from {self.sender!r} ({self.round}) has an invalid signature",
                                "it was altered or forged; do not use it, ask the sender again")


def reads_payload(fn: Callable[..., T]) -> Callable[..., T]:
    """Decorator of the functions that read a message's payload: a Malformed they raise without a hint
    (a field of the wrong type, bad base64, a missing list) gets :data:`DAMAGED`."""
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> T:
        try:
            return fn(*args, **kwargs)
        except Malformed as e:
            if not e.hints:
                e.hints = (DAMAGED,)
            raise
    return wrapper


def parse_embedded(d: Any, what: str) -> Message:
    """A member message relayed inside a coordinator message."""
    return Message.from_json(d, what)
