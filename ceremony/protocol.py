"""What every ceremony shares: requests, bulletins, replies, checks (``spec/ceremony.md``).

A ceremony is a chain of *coordinator messages* — the ``request``, then one
*bulletin* per round — and the *replies* members send to each of them.

* A reply's payload always has ``"answers"``: the hex SHA-256 of the wire
  form of the coordinator message it answers.
* A bulletin's payload always has ``"previous"`` (the coordinator message it
  follows, verbatim) and ``"replies"`` (the replies to that message it
  merged, verbatim, sorted by sender).  So any coordinator message carries
  the whole ceremony so far, every member message still signed by its
  sender: the transcript can be re-checked from it alone.
* A request's payload always has ``"participants"``: the identity public
  keys of everyone who may send replies in this ceremony.
"""

from __future__ import annotations

import os
from typing import Any

from cerro_torre.keys.identity import IdentityPublic
from cerro_torre.suites.errors import CeremonyError, Malformed

from .message import COORDINATOR, Message, parse_embedded


def new_ceremony_id() -> str:
    return os.urandom(16).hex()


def request_of(msg: Message) -> Message:
    """The request at the root of a coordinator message's chain."""
    seen = 0
    while msg.round != "request":
        prev = msg.payload.get("previous")
        if prev is None:
            raise Malformed(f"{msg.round} message has no previous message", "the message is incomplete")
        msg = parse_embedded(prev, f"message before {msg.round}")
        seen += 1
        if seen > 32:
            raise Malformed("ceremony message chain is too long")
    return msg


def chain_of(msg: Message) -> list[Message]:
    """Every coordinator message from the request to ``msg``, oldest first."""
    out = [msg]
    while out[-1].round != "request":
        out.append(parse_embedded(out[-1].payload.get("previous"), f"message before {out[-1].round}"))
        if len(out) > 32:
            raise Malformed("ceremony message chain is too long")
    return out[::-1]


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


def replies_in(bulletin: Message) -> list[Message]:
    reps = bulletin.payload.get("replies")
    if not isinstance(reps, list):
        raise Malformed(f"{bulletin.round} message has no replies list")
    return [parse_embedded(r, f"reply {i} in {bulletin.round}") for i, r in enumerate(reps)]


def make_reply(to: Message, rnd: str, sender: str, payload: dict[str, Any]) -> Message:
    body = {"answers": to.digest.hex(), **payload}
    return Message(to.ceremony, to.kind, rnd, sender, body)


def make_bulletin(prev: Message, rnd: str, replies: list[Message], extra: dict[str, Any]) -> Message:
    payload = {"previous": prev.to_json(),
               "replies": [r.to_json() for r in sorted(replies, key=lambda r: r.sender)], **extra}
    return Message(prev.ceremony, prev.kind, rnd, COORDINATOR, payload)


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


def verify_chain(msg: Message) -> list[Message]:
    """Check every reply a coordinator message relays: signed by its sender, a participant, answering
    exactly the coordinator message before it, once per sender.  Returns the chain, oldest first.

    Keyholders run this on every message before using anything in it: a coordinator cannot forge,
    alter or mix in replies without breaking a member's signature or an ``answers`` link."""
    chain = chain_of(msg)
    people = participants(chain[0])
    for prev, cur in zip(chain, chain[1:]):
        seen: set[str] = set()
        for r in replies_in(cur):
            check_reply(r, prev, r.round, people, set(people))
            if r.sender in seen:
                raise CeremonyError(f"{cur.round} message relays two replies from {r.sender!r}",
                                    "the coordinator's message is malformed or forged; refuse it")
            seen.add(r.sender)
    return chain
