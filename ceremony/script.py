"""A printable script for one ceremony (``ct ceremony script``; ``spec/ceremony.md`` §Script).

Cooperatives that run ceremonies the way the DNSSEC root KSK ceremonies are run want a checklist printed
before they start: who takes part in which role, each step's exact command for each person, the
fingerprint words to compare at each crossing of the air gap, and lines to sign.  It is generated from the
ceremony's request (and from the coordinator's journal, for the rounds already done: their words are
filled in), through the same functions the ceremony runs on, so it always matches what ``ct ceremony
step`` and ``collect`` will do.  Markdown; :func:`to_html` renders it with markdown-it-py for printing.

File names follow one convention: the message the script starts from keeps its name ``P.ctm``; the
coordinator writes the next messages as ``P-<round>.ctm``; each keyholder writes its reply as
``P-<reply round>-<member>.ctm``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field

from . import coordinator, keygen, repair, signing
from .message import COORDINATOR, Message
from .protocol import View

_REPLY = {"keygen": {"request": "commit", "round1": "shares", "round2": "confirm", "package": "sign"},
          "dealer": {"request": "confirm", "package": "sign"},
          "keepkey": {"request": "deal", "round1": "confirm", "package": "sign"},
          "sign": {"request": "commit", "package": "share", "package2": "share2"},
          "repair": {"request": "part1", "round1": "part2", "round2": "restored"}}


@dataclass
class Round:
    """One crossing and back: the coordinator's message, who answers it (and with what), who only keeps it."""

    message: str                     # its round
    reply: str                       # the replies' round
    answer: list[str]
    optional: list[str] = field(default_factory=list)
    keep: list[str] = field(default_factory=list)
    what: str = ""


def _rounds(view: View) -> tuple[str, list[Round]]:
    """What the ceremony is (a title) and its rounds, from the request."""
    req = view.request
    if req.kind == signing.KIND:
        p = signing.plan_of(view)
        out = [Round("request", "commit", p.signers, what="commit to sign: FROST commitments, no signature yet"),
               Round("package", "share", p.signers, what="sign: FROST shares and an ML-DSA-87 signature")]
        if p.stock:
            out.append(Round("package2", "share2", p.signers, what="co-sign minisign's trusted comment"))
        return f"signing of release {p.name} {p.version} by {p.group.describe()}", out
    if req.kind == repair.KIND:
        rp = repair.plan_of(view)
        names = sorted(rp.people)


        what = {"request": "each helper splits its share into deltas, one sealed to each other helper",
                "round1": "each helper checks the commitments and its deltas and sends the lost member its part",
                "round2": f"the lost member ({rp.lost}) restores its share and checks it against the record"}
        out = [Round(r, _REPLY["repair"][r], [m for m in names if repair.answers(rp, m, r)],
                     keep=[m for m in names if repair.keeps(rp, m, r)], what=what[r])
               for r in ("request", "round1", "round2")]
        return f"repair of {rp.lost}'s share in {rp.record.describe()}", out
    plan = keygen.plan_of(view)
    method = {"dkg": "keygen", "dealer": "dealer"}.get(plan.method, "keepkey")
    people = sorted(set(plan.new) | set(plan.old))
    order = [r for r in keygen.ROUNDS if r in _REPLY[method]]
    what = {"keygen": {"request": "DKG round 1: commitment and proof of knowledge",
                    "round1": "DKG round 2: a sealed share for each other member",
                    "round2": "derive the share, check the group key, confirm the record",
                    "package": "sign the record: FROST shares and ML-DSA-87 signatures"},
            "dealer": {"request": "open the dealer's share, check it, confirm the record",
                       "package": "sign the record: FROST shares and ML-DSA-87 signatures"},
            "keepkey": {"request": "the dealers deal their share anew (a refresh: a sharing of zero), sealed to "
                                   "each member",
                        "round1": "check every dealing, derive the new share, check the group key, confirm the record",
                        "package": "sign the record: FROST shares and ML-DSA-87 signatures"}}[method]
    out = []
    for r in order:
        if r == plan.confirm_round:
            ans, opt = plan.must_confirm, plan.may_confirm
        elif r == "package":
            ans, opt = sorted(set(plan.new) | set(plan.old_signers)), []
        else:
            ans, opt = [m for m in people if keygen.answers(plan, m, r)], []
        out.append(Round(r, _REPLY[method][r], ans, opt, [m for m in people if keygen.keeps(plan, m, r)], what[r]))
    t = plan.template
    if not plan.rotation:
        title = f"keygen of keyholder set {t['name']!r} epoch 1, {t['threshold']} of {len(t['members'])}"
    else:
        kind = "refresh" if plan.method == "refresh" else "rotation"
        title = (f"{kind} of keyholder set {t['name']!r}, epoch {plan.previous_epoch} -> {t['epoch']}: "
                 f"{keygen.membership_change(plan)}")
    return title, out


def script(msg: Message, view: View, path: str, journal: list[Message] | None = None,
           bundle: str | None = None, version: str = "") -> str:
    """The markdown script of ``msg``'s ceremony, ``msg`` being the coordinator message at ``path`` (the
    request, or a later message: rounds before it are listed as done, with the words the journal holds)."""
    req = view.request
    title, rounds = _rounds(view)
    people = {mid: p for mid, p in coordinator.people(view).items()
              if any(mid in r.answer + r.optional + r.keep for r in rounds)}     # who takes part
    stem = os.path.splitext(os.path.basename(path))[0]
    held = {m.digest.hex(): m for m in journal or []}
    start = [r.message for r in rounds].index(msg.round) if msg.round in [r.message for r in rounds] else 0

    def file(rnd: str) -> str:
        return os.path.basename(path) if rnd == msg.round else f"{stem}-{rnd}.ctm"

    def reply(r: Round, who: str) -> str:
        return f"{stem}-{r.reply}-{who}.ctm"

    out = [f"# Ceremony script: {title}", "",
           f"- ceremony id `{req.ceremony}`, kind `{req.kind}`",
           f"- request fingerprint `{req.fingerprint.hex}`, words **{req.fingerprint.words}**",
           f"- written by `ct ceremony script {os.path.basename(path)}`" + (f" (ct {version})" if version else "")
           + ": it follows the request; if a command below does not match what `ct` shows, stop.", ""]
    out += ["## What this ceremony approves", "",
            "Each keyholder's `ct ceremony step` shows these lines (every field of what is signed) before it asks; "
            "compare them with this page.", "", "```"]
    out += _summary(view)
    out += ["```", "", "## Roles", "",
            "| role | who | identity key fingerprint | takes part in |", "|---|---|---|---|",
            "| Coordinator (ceremony administrator) | ______________________ | holds no secret | every round: "
            "carries messages, runs `collect` |",
            "| Witness | ______________________ | | watches every step, checks the words, signs off |"]
    for mid in sorted(people):
        parts = [r.message for r in rounds if mid in r.answer + r.optional + r.keep]
        fp = people[mid].fingerprint
        out.append(f"| Keyholder | {mid} | `{fp.hex}` {fp.words} | {', '.join(parts) or 'nothing'} |")
    out += ["", "## Before the first step", "",
            "- [ ] Every keyholder works on its own offline machine, from its own home (`--home`, or `CT_HOME`).",
            "- [ ] Each keyholder reads out its identity key fingerprint words; they match the table above.",
            "- [ ] Nobody restores a keyholder home from a backup, or copies it, while this ceremony is open.",
            "- [ ] The coordinator keeps the journal beside the messages "
            f"(`{req.ceremony}.journal`): collect needs it.", ""]
    for i, r in enumerate(rounds):
        out += _round(i + 1, r, i < start, file, reply, rounds, held, msg, view)
    out += _end(view, rounds, file, reply, stem, bundle)
    out += ["", "## Sign-off", "",
            "We ran this ceremony as written, compared the words at every crossing, and keep this page with the "
            "transcript.", "",
            "| role | name | signature | date and time (UTC) |", "|---|---|---|---|",
            "| Coordinator | | | |", "| Witness | | | |"]
    out += [f"| Keyholder {mid} | | | |" for mid in sorted(people)]
    return "\n".join(out) + "\n"


def _summary(view: View) -> list[str]:
    req = view.request
    if req.kind == signing.KIND:
        return signing.plan_of(view).summary()
    if req.kind == repair.KIND:
        return repair.plan_of(view).summary()
    return keygen.plan_of(view).summary()


def _round(n: int, r: Round, done: bool, file, reply, rounds: list[Round], held: dict[str, Message],
           msg: Message, view: View) -> list[str]:
    m = file(r.message)
    out = [f"## Step {n}: the {r.message} message", "", f"{r.what[:1].upper()}{r.what[1:]}.", ""]
    known = msg if r.message == msg.round else \
        next((x for x in held.values() if x.sender == COORDINATOR and x.round == r.message), None)
    if done:
        answered = sorted(x.sender for x in held.values() if x.sender != COORDINATOR and x.round == r.reply
                          and known is not None and x.payload.get("answers") == known.digest.hex())
        words = f"words **{known.fingerprint.words}**" if known is not None else "not in the journal"
        return out + [f"- [x] done before this script was written: the {r.message} message ({words}), answered by "
                      f"{', '.join(answered) or 'nobody'}", ""]
    words = f"**{known.fingerprint.words}**" if known is not None else "______ ______ ______ ______ ______ ______"
    out += [f"Coordinator: carry `{m}` to each keyholder below (file or `ct qr encode {m} -o DIR`); its words: "
            f"{words}", ""]
    for who in r.answer:
        out.append(f"- [ ] {who}: `ct ceremony step {m} -o {reply(r, who)}`; the words shown match the coordinator's; "
                   f"approve; carry `{reply(r, who)}` back. Reply words: ______________________________")
    for who in r.optional:
        out.append(f"- [ ] {who} (optional: may confirm, does not sign): `ct ceremony step {m} -o {reply(r, who)}`; "
                   f"the words match; carry `{reply(r, who)}` back if answered. Reply words: __________________")
    for who in r.keep:
        out.append(f"- [ ] {who}: `ct ceremony step {m}` (keeps it: nothing to answer in this round; the next ones "
                   "name it); the words match")
    out.append("- [ ] Coordinator, for each reply: `ct ceremony status REPLY` shows the words the keyholder read out")
    replies = " ".join(reply(r, w) for w in r.answer)
    extra = f" (and {' '.join(reply(r, w) for w in r.optional)} if answered)" if r.optional else ""
    last = r is rounds[-1]
    if not last:
        nxt = file(rounds[rounds.index(r) + 1].message)
        out.append(f"- [ ] Coordinator: `ct ceremony collect {m} {replies} -o {nxt}`{extra}; it names any bad reply "
                   "and its sender; new words: ______________________________")
    return out + [""]


def _end(view: View, rounds: list[Round], file, reply, stem: str, bundle: str | None) -> list[str]:
    r = rounds[-1]
    m = file(r.message)
    replies = " ".join(reply(r, w) for w in r.answer)
    req = view.request
    out = ["## The end", ""]
    if req.kind == signing.KIND:
        p = signing.plan_of(view)
        b = bundle or "BUNDLE.ctp"
        signed = os.path.splitext(os.path.basename(b))[0] + "-signed.ctp"
        note = "" if bundle else f" (BUNDLE.ctp: the bundle of {p.name} {p.version} given to `ct ceremony sign`)"
        out += [f"- [ ] Coordinator: `ct ceremony collect {m} {replies} -o {signed} --bundle {b} "
                f"--transcript {stem}-transcript.ctm`{note}",
                f"- [ ] Anyone: `ct verify {signed} --policy POLICY.json` exits 0",
                f"- [ ] Coordinator: `ct ceremony status --transcript {stem}-transcript.ctm`; head hash: "
                "______________________________"]
        return out
    if req.kind == repair.KIND:
        rp = repair.plan_of(view)
        out += [f"- [ ] Coordinator: `ct ceremony collect {m} {replies} -o {stem}-done.ctm "
                f"--transcript {stem}-transcript.ctm`: {rp.lost}'s share matches its verification share in the "
                "record (no new record)",
                f"- [ ] {rp.lost}: signs again from this home at the next signing ceremony",
                f"- [ ] Coordinator: `ct ceremony status --transcript {stem}-transcript.ctm`; head hash: "
                "______________________________"]
        return out
    plan = keygen.plan_of(view)
    t = plan.template
    rec = f"{t['name']}-epoch{t['epoch']}.json"
    everyone = sorted(set(plan.new) | set(plan.old))
    out += [f"- [ ] Coordinator: `ct ceremony collect {m} {replies} -o {rec} --transcript {stem}-transcript.ctm`; "
            "record fingerprint words: ______________________________",
            f"- [ ] Each of {', '.join(everyone)}: `ct ceremony step {rec}`: the home checks it is the record it "
            "confirmed and keeps it" + ((", deleting its superseded share (the group key is kept)" if plan.keeps_key
                                         else ", retiring its superseded share") if plan.rotation else "")
            + "; the words match"]
    if plan.rotation:
        out.append(f"- [ ] Verifiers, after comparing the words: `ct policy add-checkpoint {rec} --policy POLICY.json`")
    else:
        out.append(f"- [ ] Verifiers, after comparing the words: `ct policy init --root {rec} --policy POLICY.json`")
    out.append(f"- [ ] Coordinator: `ct ceremony status --transcript {stem}-transcript.ctm`; head hash: "
               "______________________________")
    return out


def to_html(markdown: str, title: str) -> str:
    """The script as a printable HTML page (markdown-it-py, CommonMark and tables)."""
    from html import escape

    from markdown_it import MarkdownIt

    body = MarkdownIt("commonmark", {"html": False}).enable("table").render(markdown)
    body = body.replace("<li>[ ] ", "<li>&#9744; ").replace("<li>[x] ", "<li>&#9745; ")
    return ("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>" + escape(title) + "</title>\n"
            "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;line-height:1.4}"
            "table{border-collapse:collapse}td,th{border:1px solid #888;padding:.3em .6em}"
            "code,pre{font-size:90%}li{margin:.4em 0}@media print{a{color:inherit}}</style></head>\n<body>\n"
            + body + "</body></html>\n")


__all__ = ["script", "to_html"]
