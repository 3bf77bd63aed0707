"""What every ceremony shares: requests, bulletins, replies, what each side holds (``spec/ceremony.md``).

A ceremony is a chain of *coordinator messages* — the ``request``, then one *bulletin* per round — and
the *replies* members send to each of them.  Messages carry only what the receiver does not have:

* A reply's payload always has ``"answers"``: the hex SHA-256 of the wire form of the coordinator
  message it answers.
* A bulletin's payload always has ``"prev"`` (the hex digest of the coordinator message it follows) and
  either ``"replies"`` — the replies to that message it merged, verbatim (still signed by their senders),
  sorted by sender, when the members need them — or ``"merged"``: only their digests, in the same order.
* A keygen or rotation request carries ``"participants"``: the identity public keys of everyone who may
  reply, once.  A signing request names the keyholder-set records by fingerprint: a keyholder's home
  keeps the records it took part in (``governance.trust.TrustStore``).

Each side resolves what a message names from what it holds (a :class:`History`): a keyholder's home keeps
every coordinator message it stepped (``ceremonies/<id>/messages/``) and its records; the coordinator keeps
a :class:`Journal` — every message and reply of the ceremony, and the records it uses — in one file beside
its messages.  A :class:`View` is one coordinator message with everything it names resolved.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from typing import Any

from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.keys.identity import IdentityPublic
from cerro_torre.suites.atomic import atomic_write
from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import CeremonyError, Malformed, NotFound

from .message import COORDINATOR, MAX_MESSAGE_BYTES, Message, parse_embedded, reads_payload

MAX_CHAIN = 16
JOURNAL_TYPE = "ct-ceremony-journal"


def new_ceremony_id() -> str:
    return os.urandom(16).hex()


# ====================================================================== what one side holds

class History:
    """The coordinator messages and replies one side holds (by digest) and its keyholder-set records (by
    fingerprint); ``lacks`` makes the error for something named that it does not hold."""

    def __init__(self, messages: Iterable[Message] = (), records: Iterable[KeyholderSet] = (),
                 lacks: Any = None, lookup: Any = None) -> None:
        self.messages: dict[str, Message] = {}
        self.records: dict[str, KeyholderSet] = {}
        self._lacks = lacks
        self._lookup = lookup      # fingerprint -> record or None, for records held elsewhere (a TrustStore)
        for m in messages:
            self.add(m)
        for r in records:
            self.records[r.fingerprint.full_hex] = r

    def add(self, m: Message) -> None:
        self.messages[m.digest.hex()] = m

    def message(self, digest: str, needed_by: Message) -> Message:
        m = self.messages.get(digest)
        if m is None:
            raise self._error("message", digest, needed_by)
        return m

    def find_record(self, fingerprint: str) -> KeyholderSet | None:
        r = self.records.get(fingerprint)
        if r is None and self._lookup is not None:
            r = self._lookup(fingerprint)
            if r is not None:
                self.records[fingerprint] = r
        return r

    def record(self, fingerprint: str, needed_by: Message) -> KeyholderSet:
        r = self.find_record(fingerprint)
        if r is None:
            raise self._error("record", fingerprint, needed_by)
        return r

    def _error(self, what: str, ref: str, needed_by: Message) -> CeremonyError:
        if self._lacks is not None:
            return self._lacks(what, ref, needed_by)
        return CeremonyError(f"the {needed_by.round} message of ceremony {needed_by.ceremony} names a {what} "
                             f"({ref[:16]}…) that is not at hand")


class View:
    """A coordinator message with the chain it follows, resolved from a :class:`History`."""

    def __init__(self, msg: Message, history: History) -> None:
        if msg.sender != COORDINATOR:
            raise CeremonyError(f"this is the {msg.round} reply of {msg.sender!r}, not a coordinator message",
                                "replies go to the coordinator ('ct ceremony collect')")
        self.msg = msg
        self.history = history
        chain = [msg]
        while chain[-1].round != "request":
            cur = chain[-1]
            prev = cur.payload.get("prev")
            if not isinstance(prev, str):
                raise Malformed(f"{cur.round} message names no previous message", "the message is incomplete")
            nxt = history.message(prev, cur)
            if nxt.ceremony != msg.ceremony or nxt.kind != msg.kind or nxt.sender != COORDINATOR:
                raise CeremonyError(f"the {cur.round} message follows a message of another ceremony or kind",
                                    "the coordinator's message is malformed or forged; refuse it")
            chain.append(nxt)
            if len(chain) > MAX_CHAIN:
                raise Malformed("ceremony message chain is too long")
        self.chain = chain[::-1]
        self._replies: dict[str, list[Message]] = {}

    @property
    def request(self) -> Message:
        return self.chain[0]

    def of(self, rnd: str) -> Message:
        """The coordinator message of round ``rnd`` in this chain."""
        for m in self.chain:
            if m.round == rnd:
                return m
        raise Malformed(f"message has no {rnd} in its chain")

    def previous(self, bulletin: Message) -> Message:
        return self.chain[self.chain.index(bulletin) - 1]

    def replies(self, bulletin: Message) -> list[Message]:
        """The replies ``bulletin`` merged: relayed verbatim, or named by digest and resolved."""
        key = bulletin.digest.hex()
        if key not in self._replies:
            self._replies[key] = replies_in(bulletin, self.history)
        return self._replies[key]

    def with_message(self, msg: Message) -> View:
        """The view of ``msg``, a bulletin that follows this one."""
        self.history.add(self.msg)
        return View(msg, self.history)


@reads_payload
def replies_in(bulletin: Message, history: History | None = None) -> list[Message]:
    p = bulletin.payload
    if "replies" in p:
        reps = p["replies"]
        if not isinstance(reps, list):
            raise Malformed(f"{bulletin.round} message has a malformed replies list")
        return [parse_embedded(r, f"reply {i} in {bulletin.round}") for i, r in enumerate(reps)]
    merged = p.get("merged")
    if not isinstance(merged, list) or not all(isinstance(d, str) for d in merged):
        raise Malformed(f"{bulletin.round} message has no replies list")
    if history is None:
        raise CeremonyError(f"the {bulletin.round} message names the replies it merged by digest only")
    return [history.message(d, bulletin) for d in merged]


@reads_payload
def participants(request: Message) -> dict[str, IdentityPublic]:
    plist = request.payload.get("participants")
    if not isinstance(plist, list) or not plist:
        raise Malformed("request has no participants")
    out: dict[str, IdentityPublic] = {}
    for i, p in enumerate(plist):
        pub = IdentityPublic.from_json(p, f"participant {i}")
        if pub.id in out:
            raise Malformed(f"participant {pub.id!r} is listed twice")
        out[pub.id] = pub
    return out


def make_reply(to: Message, rnd: str, sender: str, payload: dict[str, Any]) -> Message:
    body = {"answers": to.digest.hex(), **payload}
    return Message(to.ceremony, to.kind, rnd, sender, body)


def make_bulletin(prev: Message, rnd: str, replies: list[Message], extra: dict[str, Any], *,
                  relay: bool = True) -> Message:
    """The bulletin after ``prev``: the merged replies relayed verbatim (``relay``), or by digest only."""
    ordered = sorted(replies, key=lambda r: r.sender)
    merged = {"replies": [r.to_json() for r in ordered]} if relay else \
        {"merged": [r.digest.hex() for r in ordered]}
    return Message(prev.ceremony, prev.kind, rnd, COORDINATOR, {"prev": prev.digest.hex(), **merged, **extra})


def check_reply(reply: Message, to: Message, rnd: str, people: dict[str, IdentityPublic],
                expected: set[str]) -> None:
    """Everything a reply must satisfy before its content is used."""
    if reply.ceremony != to.ceremony:
        raise CeremonyError(f"reply from {reply.sender!r} belongs to another ceremony ({reply.ceremony})",
                            f"this ceremony is {to.ceremony}; leave that file out")
    if reply.kind != to.kind:
        raise CeremonyError(f"reply from {reply.sender!r} is for a {reply.kind} ceremony, not {to.kind}")
    if reply.sender == COORDINATOR:
        raise CeremonyError(f"{reply.round} message is a coordinator message, not a reply",
                            "pass keyholders' replies after the message they answer")
    if reply.round != rnd:
        raise CeremonyError(f"reply from {reply.sender!r} is a {reply.round!r} message, expected {rnd!r}",
                            "it answers another round: replayed or stale; ask for the current reply")
    if reply.sender not in people:
        raise CeremonyError(f"reply from {reply.sender!r}, who is not a participant of this ceremony",
                            "participants: " + ", ".join(sorted(people)))
    if reply.sender not in expected:
        raise CeremonyError(f"reply from {reply.sender!r}, who is not asked to answer {to.round}")
    reply.verify_auth(people[reply.sender])
    if reply.payload.get("answers") != to.digest.hex():
        raise CeremonyError(f"reply from {reply.sender!r} answers another {to.round} message",
                            "it is replayed, or the coordinator showed this member a different message")


def gather(to: Message, replies: list[Message], rnd: str, people: dict[str, IdentityPublic],
           expected: set[str], *, need: int | None = None) -> dict[str, Message]:
    """Check ``replies`` to ``to``; refuse duplicates; require ``need`` (default: all expected)."""
    got: dict[str, Message] = {}
    for r in replies:
        check_reply(r, to, rnd, people, expected)
        if r.sender in got:
            if got[r.sender].to_bytes() == r.to_bytes():
                raise CeremonyError(f"reply from {r.sender!r} is given twice", "pass each reply file once")
            raise CeremonyError(f"{r.sender!r} sent two different {rnd} replies",
                                "a keyholder answered twice; investigate before going on")
        got[r.sender] = r
    need = len(expected) if need is None else need
    if len(got) < need:
        missing = sorted(expected - set(got))
        raise CeremonyError(f"{len(got)} of {need} needed {rnd} replies; missing: {', '.join(missing)}",
                            "collect again when the missing keyholders have answered")
    return got


def verify_relayed(view: View, people: dict[str, IdentityPublic]) -> None:
    """Check every reply the chain relays: signed by its sender, a participant, answering exactly the
    coordinator message before it, once per sender.

    Keyholders run this on every message before using anything in it: a coordinator cannot forge, alter
    or mix in replies without breaking a member's signature or an ``answers`` link."""
    for prev, cur in zip(view.chain, view.chain[1:]):
        if "replies" not in cur.payload:
            continue
        seen: set[str] = set()
        for r in view.replies(cur):
            check_reply(r, prev, r.round, people, set(people))
            if r.sender in seen:
                raise CeremonyError(f"{cur.round} message relays two replies from {r.sender!r}",
                                    "the coordinator's message is malformed or forged; refuse it")
            seen.add(r.sender)


# ====================================================================== the coordinator's journal

class Journal:
    """Everything the coordinator holds of one ceremony: every message and reply in order, and the
    keyholder-set records its messages name.  A file beside the messages (``<ceremony>.journal``,
    canonical JSON + LF, rewritten atomically by each collect); it is also the ceremony's transcript."""

    def __init__(self, messages: list[Message], records: list[KeyholderSet] = (),  # type: ignore[assignment]
                 path: str = "") -> None:
        if not messages or messages[0].round != "request" or messages[0].sender != COORDINATOR:
            raise Malformed("a ceremony journal starts with the request")
        self.messages = list(messages)
        self.records = list(records)
        self.path = path

    @property
    def ceremony(self) -> str:
        return self.messages[0].ceremony

    @property
    def last(self) -> Message:
        """The coordinator's latest message."""
        return next(m for m in reversed(self.messages) if m.sender == COORDINATOR)

    def history(self) -> History:
        def lacks(what: str, ref: str, needed_by: Message) -> CeremonyError:
            return CeremonyError(f"the journal {self.path or 'of this ceremony'} has no {what} {ref[:16]}… that the "
                                 f"{needed_by.round} message names", "the journal is damaged; restore it")
        return History(self.messages, self.records, lacks)

    def view(self) -> View:
        return View(self.last, self.history())

    def add(self, replies: list[Message], nxt: Message | None) -> None:
        self.messages += sorted(replies, key=lambda r: r.sender)
        if nxt is not None:
            self.messages.append(nxt)

    def to_bytes(self) -> bytes:
        return canonical_json({"type": JOURNAL_TYPE, "version": 1, "ceremony": self.ceremony,
                               "records": [parse_json(r.to_bytes()) for r in self.records],
                               "messages": [m.to_json() for m in self.messages]}) + b"\n"

    def save(self, path: str | None = None) -> None:
        self.path = path or self.path
        atomic_write(self.path, self.to_bytes(), mode=0o644)

    @staticmethod
    def path_for(message_path: str, ceremony: str) -> str:
        return os.path.join(os.path.dirname(os.path.abspath(message_path)), f"{ceremony}.journal")

    @classmethod
    def from_bytes(cls, data: bytes, path: str) -> Journal:
        if len(data) > 8 * MAX_MESSAGE_BYTES:
            raise Malformed(f"journal {path} is too large")
        d = parse_json(data, f"journal {path}")
        if not isinstance(d, dict) or d.get("type") != JOURNAL_TYPE or d.get("version") != 1 \
                or set(d) != {"type", "version", "ceremony", "records", "messages"} \
                or not isinstance(d["messages"], list) or not isinstance(d["records"], list):
            raise Malformed(f"{path} is not a ceremony journal", "the coordinator writes it beside its messages")
        msgs = [Message.from_json(m, f"journal {path} message {i}") for i, m in enumerate(d["messages"])]
        recs = [KeyholderSet.from_bytes(canonical_json(r) + b"\n", f"journal {path} record {i}")
                for i, r in enumerate(d["records"])]
        j = cls(msgs, recs, path)
        if any(m.ceremony != d["ceremony"] for m in msgs) or j.to_bytes() != bytes(data):
            raise Malformed(f"journal {path} is damaged (not canonical, or mixes ceremonies)",
                            "restore it; the coordinator rewrites it at every collect")
        return j

    @classmethod
    def load(cls, path: str, ceremony: str) -> Journal:
        try:
            with open(path, "rb") as f:
                data = f.read(8 * MAX_MESSAGE_BYTES + 1)
        except FileNotFoundError:
            raise NotFound(f"the coordinator's journal of ceremony {ceremony} is not at {path}",
                           "collect needs the journal the ceremony's first command wrote beside its request "
                           "(or name it with --journal FILE)") from None
        j = cls.from_bytes(data, path)
        if j.ceremony != ceremony:
            raise CeremonyError(f"{path} is the journal of ceremony {j.ceremony}, not {ceremony}")
        return j
