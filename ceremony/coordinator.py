"""The coordinator's view of any ceremony: who answers next, merging replies, finishing.

Shared by the CLI and the TUI, so that both do exactly the same thing.
"""

from __future__ import annotations

from typing import Any

from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.suites.encoding import field, typed
from cerro_torre.suites.errors import CeremonyError, UsageError

from . import keygen, signing
from . import transcript as tr
from .message import COORDINATOR, Message
from .protocol import make_bulletin, replies_in, verify_chain


def expected(msg: Message) -> dict[str, Any]:
    """What comes after coordinator message ``msg``: ``{"next": "step"|"done", "who": [...], "need": n}``."""
    if msg.round == "done":
        return {"next": "done", "who": [], "need": 0}
    if msg.kind == "sign":
        plan = signing.plan_of(msg)
        if msg.round == "request":
            return {"next": "step", "who": sorted(plan.signers), "need": plan.group.threshold}
        package = msg if msg.round == "package" else signing._of(msg, "package")  # noqa: SLF001
        who = sorted(r.sender for r in replies_in(package))
        return {"next": "step", "who": who, "need": len(who)}
    plan = keygen.plan_of(msg)
    new = sorted(plan.new)
    if msg.round == "round1" or (msg.round == "request" and not plan.dealer):
        return {"next": "step", "who": new, "need": len(new)}
    if msg.round in ("round2", "request"):
        return {"next": "step", "who": sorted(set(new) | set(plan.old)), "need": len(new)}
    if msg.round == "package":
        s = typed(msg.payload.get("signers"), "object", "package: signers")
        who = sorted(set(field(s, "new", "list of strings", "package signers"))
                     | set(field(s, "old", "list of strings", "package signers")))
        return {"next": "step", "who": who, "need": len(who)}
    raise CeremonyError(f"unknown {msg.kind} round {msg.round!r}")


def is_last_signing_round(msg: Message) -> bool:
    return msg.sender == COORDINATOR and msg.kind == "sign" and msg.round == ("package2" if signing.plan_of(msg).stock else "package")


def collect(msg: Message, replies: list[Message]) -> Message | KeyholderSet | signing.Signed:
    """Merge ``replies`` into the next coordinator message, or the ceremony's result."""
    if msg.sender != COORDINATOR:
        raise CeremonyError(f"this is {msg.sender!r}'s reply, not the coordinator's message",
                            "the first file is the message the replies answer")
    mod = signing if msg.kind == "sign" else keygen
    return mod.collect(msg, replies)


def done_message(msg: Message, replies: list[Message]) -> Message:
    """The closing coordinator message: carries the whole ceremony (its transcript)."""
    return make_bulletin(msg, "done", replies, {})


def write_signed_bundle(msg: Message, signed: signing.Signed, bundle_path: str, out_path: str) -> None:
    """Write ``out_path``: the bundle this ceremony signed, with the signatures, chain and stock forms."""
    from . import bundle
    from .statement import Envelope

    if not bundle_path:
        raise UsageError("the last signing collect needs the bundle",
                         "add --bundle BUNDLE.ctp (the one 'ct ceremony sign' opened)")
    parts = bundle.read_parts(bundle_path)
    env = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE])
    if env.payload != signing.plan_of(msg).statement:
        raise CeremonyError(f"{bundle_path} is not the bundle this ceremony signs (its statement differs)",
                            "pass the bundle given to 'ct ceremony sign'")
    bundle.add_signatures(bundle_path, out_path, signed.signatures, records=signed.records, stock=signed.stock)


def verified_transcript(msg: Message) -> list[tr.Entry]:
    """The transcript a coordinator message carries, every reply's signature and link checked."""
    if msg.sender != COORDINATOR:
        raise UsageError("a transcript is kept in coordinator messages, not in replies",
                         "use the coordinator's latest message (or the --transcript file of the last collect)")
    verify_chain(msg)
    entries = tr.build(tr.messages_of(msg))
    tr.verify(entries)
    return entries
