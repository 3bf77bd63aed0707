"""The coordinator's side of any ceremony: who answers next, merging replies, finishing.

The coordinator holds no secret.  What it holds is public: the :class:`~.protocol.Journal` of each
ceremony — every message and reply so far, and the keyholder-set records the messages name — kept beside
its messages.  Shared by the CLI and the TUI, so that both do exactly the same thing.
"""

from __future__ import annotations

import os
from typing import Any

from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.keys.identity import IdentityPublic
from cerro_torre.suites.encoding import field, typed
from cerro_torre.suites.errors import CeremonyError, UsageError

from . import keygen, repair, signing
from . import transcript as tr
from .message import COORDINATOR, Message, reads_payload
from .protocol import Journal, View, check_reply, make_bulletin, participants


def module(kind: str) -> Any:
    """The pure functions of a ceremony kind: ``signing``, ``repair``, or ``keygen`` (keygen, rotate, refresh)."""
    return signing if kind == signing.KIND else repair if kind == repair.KIND else keygen


def people(view: View) -> dict[str, IdentityPublic]:
    """Everyone who may reply in this ceremony."""
    if view.request.kind in (signing.KIND, repair.KIND, keygen.KIND_REFRESH):
        return dict(module(view.request.kind).plan_of(view).people)  # type: ignore[arg-type]
    return participants(view.request)


@reads_payload
def expected(view: View) -> dict[str, Any]:
    """What comes after coordinator message ``view.msg``: ``{"next": "step"|"done", "who": [...], "need": n,
    "optional": [...]}`` — ``who`` must answer, ``optional`` may (a rotation's outgoing members outside
    its signing set: their confirmation checks the closed releases, they do not sign)."""
    msg = view.msg
    if msg.round == "done":
        return {"next": "done", "who": [], "need": 0, "optional": []}
    if msg.kind == "sign":
        plan = signing.plan_of(view)
        return {"next": "step", "who": sorted(plan.signers), "need": len(plan.signers), "optional": []}
    if msg.kind == repair.KIND:
        rp = repair.plan_of(view)
        who = [m for m in sorted(rp.people) if repair.answers(rp, m, msg.round)]
        if not who:
            raise CeremonyError(f"unknown {msg.kind} round {msg.round!r}")
        return {"next": "step", "who": who, "need": len(who), "optional": []}
    plan = keygen.plan_of(view)
    if msg.round == plan.confirm_round:
        return {"next": "step", "who": plan.must_confirm, "need": len(plan.must_confirm),
                "optional": plan.may_confirm}
    if msg.round == "package":
        s = typed(msg.payload.get("signers"), "object", "package: signers")
        who = sorted(set(field(s, "new", "list of strings", "package signers"))
                     | set(field(s, "old", "list of strings", "package signers")))
        return {"next": "step", "who": who, "need": len(who), "optional": []}
    who = sorted(m for m in set(plan.new) | set(plan.old) if keygen.answers(plan, m, msg.round))
    if not who:
        raise CeremonyError(f"unknown {msg.kind} round {msg.round!r}")
    return {"next": "step", "who": who, "need": len(who), "optional": []}


def keeps(view: View) -> list[str]:
    """Who only keeps this message: nothing to answer yet, a later round names it (a rotation's outgoing
    members before the confirm round, a keep-key rotation's new members before it, a repair's lost member)."""
    if view.msg.kind == "sign" or view.msg.round == "done":
        return []
    mod = module(view.msg.kind)
    plan = mod.plan_of(view)
    return sorted(m for m in people(view) if mod.keeps(plan, m, view.msg.round))


def is_last_signing_round(view: View) -> bool:
    msg = view.msg
    return msg.kind == "sign" and msg.round == ("package2" if signing.plan_of(view).stock else "package")


def start(msg: Message, records: list[KeyholderSet] = ()) -> Journal:  # type: ignore[assignment]
    """The journal of a ceremony the coordinator just opened with ``msg``."""
    j = Journal([msg], list(records))
    j.view()     # every name the request makes resolves
    return j


def collect(journal: Journal, replies: list[Message]) -> Message | KeyholderSet | signing.Signed | repair.Repaired:
    """Merge ``replies`` to the journal's last message into the next message, or the ceremony's result;
    the journal then holds the replies (and the next message)."""
    view = journal.view()
    if view.msg.round == "done":
        raise CeremonyError(f"the {view.msg.kind} ceremony {view.msg.ceremony} is done",
                            "nothing to collect: its result was written by the last collect")
    out = module(view.msg.kind).collect(view, replies)
    # the journal ends with a "done" message naming the last replies: the ceremony's transcript is whole
    nxt = out if isinstance(out, Message) else make_bulletin(view.msg, "done", replies, {}, relay=False)
    view.with_message(nxt)     # what the next message names resolves
    journal.add(replies, nxt)
    return out


def record_written(view: View, out: KeyholderSet, path: str) -> list[str]:
    """What the end of a keygen or rotation tells the coordinator, keyholders and verifiers to do."""
    plan = keygen.plan_of(view)
    change = f": {keygen.membership_change(plan)}" if plan.rotation else ""
    name = os.path.basename(path)
    fate = f"deleting its epoch-{out.epoch - 1} shares (the group key is kept: they would still make it)" \
        if plan.keeps_key else f"retiring its epoch-{out.epoch - 1} shares"
    text = [f"wrote {path}: {out.describe()}, {out.threshold} of {len(out.members)}{change}",
            f"  fingerprint {out.fingerprint.hex}  {out.fingerprint.words}",
            f"  keyholders: each runs 'ct ceremony step {name}': the home checks it is the record it confirmed "
            "and keeps it" + (f", {fate}" if out.previous else "")]
    if plan.keeps_key:
        text.append(f"  group key kept (keyid {out.group_keyid}): stock-tool public keys exported before stay valid; "
                    f"every member of epoch {out.epoch - 1}, removed ones too, must keep this record so that their "
                    "homes delete the old shares")
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


def repaired(out: repair.Repaired, path: str) -> list[str]:
    """What the end of a repair tells the coordinator and the member."""
    return [f"wrote {path}: the repair ceremony is done",
            f"  {out.member!r} has its share of {out.record.describe()} back: it matches its verification share in "
            "the record (no new record)",
            f"  {out.member} signs again from the home that answered; the helpers' shares did not change"]


def write_signed_bundle(view: View, signed: signing.Signed, bundle_path: str, out_path: str) -> None:
    """Write ``out_path``: the bundle this ceremony signed, with the signatures, chain and stock forms."""
    from . import bundle
    from .statement import Envelope

    if not bundle_path:
        raise UsageError("the last signing collect needs the bundle",
                         "add --bundle BUNDLE.ctp (the one 'ct ceremony sign' opened)")
    parts = bundle.read_parts(bundle_path)
    env = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE])
    if env.payload != signing.plan_of(view).statement:
        raise CeremonyError(f"{bundle_path} is not the bundle this ceremony signs (its statement differs)",
                            "pass the bundle given to 'ct ceremony sign'")
    bundle.add_signatures(bundle_path, out_path, signed.signatures, records=signed.records, stock=signed.stock,
                          attestations=signed.attestations)


def verified_transcript(journal: Journal) -> list[tr.Entry]:
    """The transcript of a journal: every message in order, every reply's signature and link checked."""
    view = View(journal.messages[0], journal.history())
    who = people(view)
    last = journal.messages[0]
    seen: set[str] = set()
    for m in journal.messages[1:]:
        if m.sender == COORDINATOR:
            View(m, journal.history())
            if m.payload.get("prev") != last.digest.hex():
                raise CeremonyError(f"the journal's {m.round} message does not follow its {last.round} message",
                                    "the journal is damaged or forged")
            last, seen = m, set()
            continue
        check_reply(m, last, m.round, who, set(who))
        if m.sender in seen:
            raise CeremonyError(f"the journal holds two replies from {m.sender!r} to its {last.round} message",
                                "the journal is damaged or forged")
        seen.add(m.sender)
    entries = tr.build(journal.messages)
    tr.verify(entries)
    return entries
