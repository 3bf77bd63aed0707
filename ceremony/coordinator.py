"""The coordinator's view of any ceremony: who answers next, merging replies, finishing.

Shared by the CLI and the TUI, so that both do exactly the same thing.
"""

from __future__ import annotations

import os
from typing import Any

from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.suites.errors import CeremonyError, UsageError

from . import keygen, signing
from . import transcript as tr
from .message import COORDINATOR, Message
from .protocol import make_bulletin, replies_in, verify_chain


def expected(msg: Message) -> dict[str, Any]:
    """What comes after coordinator message ``msg``: ``{"next": "step"|"done", "who": [...], "need": n,
    "optional": [...]}`` — ``who`` must answer, ``optional`` may (a rotation's outgoing members outside
    its signing set: their confirmation checks the closed releases, they do not sign)."""
    if msg.round == "done":
        return {"next": "done", "who": [], "need": 0, "optional": []}
    if msg.kind == "sign":
        plan = signing.plan_of(msg)
        return {"next": "step", "who": sorted(plan.signers), "need": len(plan.signers), "optional": []}
    plan = keygen.plan_of(msg)
    new = sorted(plan.new)
    if msg.round == "round1" or (msg.round == "request" and not plan.dealer):
        return {"next": "step", "who": new, "need": len(new), "optional": []}
    if msg.round in ("round2", "request"):
        return {"next": "step", "who": plan.must_confirm, "need": len(plan.must_confirm),
                "optional": plan.may_confirm}
    if msg.round == "package":
        s = msg.payload["signers"]
        who = sorted(set(s["new"]) | set(s["old"]))
        return {"next": "step", "who": who, "need": len(who), "optional": []}
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


def record_written(msg: Message, out: KeyholderSet, path: str) -> list[str]:
    """What the end of a keygen or rotation tells the coordinator, keyholders and verifiers to do."""
    prev = keygen.plan_of(msg).previous
    change = f": {keygen.membership_change(prev, keygen.plan_of(msg).template)}" if prev is not None else ""
    name = os.path.basename(path)
    text = [f"wrote {path}: {out.describe()}, {out.threshold} of {len(out.members)}{change}",
            f"  fingerprint {out.fingerprint.hex}  {out.fingerprint.words}",
            f"  keyholders: each runs 'ct ceremony step {name}': the home checks it is the record it confirmed "
            "and keeps it" + (f", retiring its epoch-{out.epoch - 1} shares" if out.previous else "")]
    if out.previous is None:
        text.append(f"  verifiers: pin it with 'ct policy init --root {name}' after comparing the words")
        return text
    n = len(out.closed_releases or ())
    text[2:2] = [f"  closes epoch {out.epoch - 1}: the {n} release(s) in closed_releases stay valid; verifiers that "
                 f"know epoch {out.epoch} refuse every other release signed by epoch {out.epoch - 1}"]
    text += [f"  verifiers: move trust forward now, after comparing the words: 'ct policy add-checkpoint {name} "
             "--policy POLICY.json' (a verifier also learns it from the chain of any bundle epoch "
             f"{out.epoch} signs)",
             f"  new releases: 'ct ceremony sign BUNDLE --group {name}' with the older records (or this home's "
             "stored ones): bundles carry the chain from the root"]
    return text


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
