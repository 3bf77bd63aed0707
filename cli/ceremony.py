"""`ct ceremony keygen|sign|rotate|refresh|repair|step|collect|status|script`."""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any

from .commands import common, passphrase_flags

if TYPE_CHECKING:
    from .main import Context

H = "cerro_torre.cli.ceremony:"


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser("ceremony", help="keygen, signing, rotation, refresh and repair ceremonies across the "
                                               "air gap"))
    cs = p.add_subparsers(dest="ceremony_command", metavar="STEP", required=True)

    k = common(cs.add_parser("keygen", help="coordinator: open a DKG for a keyholder set"))
    k.add_argument("--threshold", "-k", type=int, required=True, metavar="K", help="signatures needed (k of n)")
    k.add_argument("--member", action="append", required=True, metavar="FILE.pub", help="a member's public key")
    k.add_argument("--name", default="cooperative", help="name of the keyholder set (default: cooperative)")
    k.add_argument("--suite", default="CT-SIG-02", help="CT-SIG-01 or CT-SIG-02 (default)")
    k.add_argument("--days", type=int, default=365, help="days until the set expires (default 365)")
    k.add_argument("--dealer", action="store_true",
                   help="trusted-dealer split instead of a DKG (tests and small groups; the coordinator sees the key)")
    k.add_argument("-o", "--output", required=True, metavar="REQ", help="request file to write")
    _journal_flag(k)
    k.set_defaults(handler=H + "cmd_keygen")

    s = common(cs.add_parser("sign", help="coordinator: open a signing ceremony for a bundle"))
    s.add_argument("bundle", metavar="BUNDLE.ctp")
    s.add_argument("--group", action="append", required=True, metavar="KEYHOLDERS.json",
                   help="the keyholder-set record that signs (repeat for older epochs, any order); the chain "
                        "from the root is completed from this home's stored records, and refused if incomplete")
    s.add_argument("--signer", action="append", metavar="ID", help="invite only these members (>= k)")
    s.add_argument("--no-stock", action="store_true",
                   help="sign the DSSE statement only: no signify/minisign/ssh forms, one round less")
    s.add_argument("-o", "--output", required=True, metavar="REQ")
    _journal_flag(s)
    s.set_defaults(handler=H + "cmd_sign")

    r = common(cs.add_parser(
        "rotate", help="coordinator: open a rotation to a new keyholder set",
        description="Open a rotation of the keyholder set OLD.json to epoch N+1: remove members (a lost "
                    "machine, someone leaving), add members, change k.  The new set runs a DKG (a new group "
                    "key) and the outgoing set's threshold signs the new record with it, so verifiers walk "
                    "from the root they pinned.  Keyholders answer with 'ct ceremony step', the coordinator "
                    "collects until keyholders.json of epoch N+1.  With --keep-key the outgoing signers reshare "
                    "the group key to the new set and threshold instead: the key stays, so public keys exported "
                    "for signify, minisign and ssh stay valid (use it when members leave for benign reasons; k old "
                    "shares still make the key).  'ct help rotate' is the whole guide.",
        epilog="example: ct ceremony rotate --group keyholders.json --remove bob --add frank.pub -o rot.ctm"))
    r.add_argument("--group", required=True, metavar="OLD.json", help="the current keyholder-set record")
    r.add_argument("--add", action="append", default=[], metavar="X.pub", help="a new member's public key")
    r.add_argument("--remove", action="append", default=[], metavar="ID", help="a member to retire")
    r.add_argument("--threshold", "-k", type=int, metavar="K", help="new threshold (default: unchanged)")
    r.add_argument("--days", type=int, default=365)
    _release_flags(r)
    r.add_argument("--old-signer", action="append", metavar="ID",
                   help="members of the outgoing epoch who sign the new record with its group key (>= its k; "
                        "default: those who stay, when enough, else all); fixed for the whole rotation")
    r.add_argument("--keep-key", action="store_true",
                   help="keep the group key: the outgoing signers reshare it to the new members and threshold "
                        "(no DKG); stock-tool public keys survive, but k shares of the old epoch still make the key")
    r.add_argument("--dealer", action="store_true", help=argparse.SUPPRESS)
    r.add_argument("-o", "--output", required=True, metavar="REQ")
    _journal_flag(r)
    r.set_defaults(handler=H + "cmd_rotate")

    f = common(cs.add_parser(
        "refresh", help="coordinator: new shares of the same group key for the same members",
        description="Open a refresh of the keyholder set OLD.json: every member deals a sharing of zero to the "
                    "others, so each gets a new share of the same group key; the same members and threshold make "
                    "epoch N+1 with new verification shares, signed by epoch N and by itself.  Shares of epoch N "
                    "no longer combine with the new ones, and each home deletes its old share when it keeps the "
                    "new record.  Every member must take part.  'ct help rotate' is the whole guide.",
        epilog="example: ct ceremony refresh --group keyholders.json -o refresh.ctm"))
    f.add_argument("--group", required=True, metavar="OLD.json", help="the current keyholder-set record")
    f.add_argument("--days", type=int, default=365, help="days until the new epoch expires (default 365)")
    _release_flags(f)
    f.add_argument("-o", "--output", required=True, metavar="REQ")
    _journal_flag(f)
    f.set_defaults(handler=H + "cmd_refresh")

    rp = common(cs.add_parser(
        "repair", help="coordinator: restore a member's lost share with the help of k others",
        description="Open a repair of MEMBER's share of the keyholder set RECORD.json: k or more helpers each "
                    "split their share into random parts, so MEMBER gets its share back and nobody learns it.  "
                    "The restored share must match MEMBER's verification share in the record: no new record.  "
                    "MEMBER still needs its identity key (its home, or a backup of it made before the share was "
                    "lost); without it, rotate the member out ('ct ceremony rotate --keep-key').",
        epilog="example: ct ceremony repair --group keyholders.json --member bob --helper alice --helper carol "
               "-o repair.ctm"))
    rp.add_argument("--group", required=True, metavar="RECORD.json", help="the current keyholder-set record")
    rp.add_argument("--member", required=True, metavar="ID", help="the member whose share is lost")
    rp.add_argument("--helper", action="append", required=True, metavar="ID",
                    help="a member who helps (repeat; at least the threshold, the lost member not among them)")
    rp.add_argument("-o", "--output", required=True, metavar="REQ")
    _journal_flag(rp)
    rp.set_defaults(handler=H + "cmd_repair")

    st = passphrase_flags(common(cs.add_parser(
        "step", help="keyholder: answer whatever message arrived",
        description="Check the coordinator's message against everything this home has seen, show what "
                    "answering it approves (every field of what is signed), ask, and write the signed reply. "
                    "Never restore a keyholder home from a backup (or copy it to another machine) while one "
                    "of its ceremonies is open: a copy that answers a round again could reveal its key share.")))
    st.add_argument("message", metavar="MESSAGE",
                    help="the coordinator's message; or, at the end of a keygen or rotation, the record it wrote "
                         "(keyholders.json): it is checked and kept, and superseded shares are retired")
    st.add_argument("-o", "--output", metavar="REPLY", help="the reply to write (needed for a message)")
    st.add_argument("--yes", action="store_true", help="approve without asking (scripts)")
    st.set_defaults(handler=H + "cmd_step")

    c = common(cs.add_parser("collect", help="coordinator: merge replies into the next message or the result"))
    c.add_argument("message", metavar="MESSAGE", help="the coordinator's last message")
    c.add_argument("replies", nargs="+", metavar="REPLY")
    c.add_argument("-o", "--output", required=True, metavar="NEXT",
                   help="next message; at the end the keyholder-set record, the signed bundle, or (a repair) the "
                        "done message")
    c.add_argument("--bundle", metavar="BUNDLE.ctp", help="the bundle being signed (last signing collect)")
    c.add_argument("--transcript", metavar="FILE", help="at the end, also write the whole ceremony here")
    _journal_flag(c)
    c.set_defaults(handler=H + "cmd_collect")

    sc = common(cs.add_parser(
        "script", help="coordinator: a printable checklist of a ceremony (roles, commands, words, sign-off)",
        description="Write a printable script of the ceremony MESSAGE belongs to (its request, or a later "
                    "coordinator message beside its journal): the roles, each step's exact command for each person, "
                    "the fingerprint words to compare at each crossing of the air gap (known ones filled in, blanks "
                    "for the others) and sign-off lines, as the DNSSEC root KSK ceremonies do.  Generated from the "
                    "request through the functions the ceremony runs on, so it matches.  Markdown, or HTML when "
                    "FILE ends in .html.",
        epilog="example: ct ceremony script rot.ctm -o ceremony.md"))
    sc.add_argument("message", metavar="MESSAGE", help="the request (or a later coordinator message)")
    sc.add_argument("-o", "--output", required=True, metavar="FILE", help="the script to write (.md, or .html)")
    sc.add_argument("--bundle", metavar="BUNDLE.ctp", help="a signing's bundle, named in the last command")
    _journal_flag(sc)
    sc.set_defaults(handler=H + "cmd_script")

    t = common(cs.add_parser("status", help="what a message is, who answered, who is missing, what comes next"))
    t.add_argument("message", metavar="MESSAGE", help="a coordinator message, a reply, or a journal / transcript")
    t.add_argument("--transcript", action="store_true", help="verify and print the hash-chained transcript")
    _journal_flag(t)
    t.set_defaults(handler=H + "cmd_status")


# ---------------------------------------------------------------- helpers

def _release_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--release", action="append", default=[], metavar="BUNDLE.ctp",
                   help="a release the outgoing epoch signed that stays valid (repeat); every other release "
                        "of that epoch is refused by verifiers that know the new one")
    p.add_argument("--releases", action="append", default=[], metavar="FILE",
                   help="more of them: one statement sha256 per line, or a keyholder's signed.log")


def _journal_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--journal", metavar="FILE",
                   help="the coordinator's journal of the ceremony (default: CEREMONY-ID.journal beside the message)")


# what _read reads -> an example of its file, for the hint when a directory is given
_EXAMPLES = {"message": "the ceremony message file, e.g. req.ctm", "reply": "a reply file, e.g. reply-alice.ctm",
             "public key": "a public key file, e.g. alice.pub",
             "keyholder-set record": "the record file, e.g. keyholders.json"}


def _read(path: str, what: str) -> bytes:
    from cerro_torre.suites.errors import Malformed, NotFound

    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024 * 1024 + 1)
    except FileNotFoundError:
        raise NotFound(f"{what} not found: {path}", "check the path") from None
    except IsADirectoryError:
        raise Malformed(f"{what} is a directory: {path}", f"give the path of {_EXAMPLES[what]}") from None
    return data


def _message(path: str, what: str = "message") -> Any:
    return _parse(_read(path, what), path, what)


def _parse(data: bytes, path: str, what: str = "message") -> Any:
    """The ceremony message in ``data`` (read from ``path``); a bundle or airgap tarball given instead is
    named as such, with the file the command takes."""
    from cerro_torre.ceremony.message import Message
    from cerro_torre.offline.airgap import sniff
    from cerro_torre.suites.errors import Malformed

    try:
        return Message.parse(data, f"{what} {path}")
    except Malformed:
        kind = sniff(path)
        if kind is None:
            raise
    name = os.path.basename(path)
    if kind == "bundle":
        raise Malformed(f"{name} is a .ctp bundle, not a ceremony {what}",
                        "this is a bundle: 'ct ceremony script|step|status|collect' take ceremony messages (.ctm), "
                        "e.g. the request 'ct ceremony sign' wrote; to open a signing of this bundle: "
                        f"'ct ceremony sign {path} --group KEYHOLDERS.json -o req.ctm'") from None
    raise Malformed(f"{name} is an airgap tarball, not a ceremony {what}",
                    f"this is an airgap tarball: use 'ct import {path} --verify'; ceremony commands take "
                    "ceremony messages (.ctm)") from None


def _refuse_overwrite(path: str) -> None:
    from cerro_torre.suites.errors import AlreadyExists

    if os.path.exists(path):
        raise AlreadyExists(f"{path} exists", "choose another -o, or move the old file away")


def _write(ctx: Context, path: str, data: bytes, mode: int = 0o644) -> None:
    from cerro_torre.suites.atomic import atomic_write

    _refuse_overwrite(path)
    atomic_write(path, data, mode=mode)


def _show_message(ctx: Context, msg: Any, path: str, verb: str) -> None:
    fp = msg.fingerprint
    ctx.out(f"{verb} {path}: {msg.kind} ceremony {msg.ceremony}, round {msg.round}")
    ctx.out(f"  fingerprint {fp.hex}  {fp.words}")


def _publics(paths: list[str]) -> list[Any]:
    from cerro_torre.keys.identity import IdentityPublic

    return [IdentityPublic.from_bytes(_read(p, "public key"), p) for p in paths]


def _record(path: str) -> Any:
    from cerro_torre.governance.keyholders import KeyholderSet

    return KeyholderSet.from_bytes(_read(path, "keyholder-set record"), path)


# ---------------------------------------------------------------- coordinator

def cmd_keygen(ctx: Context) -> int:
    from cerro_torre.ceremony import keygen

    a = ctx.args
    _refuse_overwrite(a.output)
    if a.dealer:
        ctx.note("warning: trusted-dealer mode: this machine generates every share and sees the group's "
                 "secret key; use it for tests and small groups only")
    msg = keygen.open_keygen(a.name, _publics(a.member), a.threshold, suite=a.suite, days=a.days, dealer=a.dealer)
    return _open(ctx, msg, [], a.output)


def _open(ctx: Context, msg: Any, records: list[Any], path: str) -> int:
    """Write a ceremony's request and start the coordinator's journal beside it."""
    from cerro_torre.ceremony import coordinator
    from cerro_torre.ceremony.protocol import Journal

    journal = coordinator.start(msg, records)
    jpath = ctx.args.journal or Journal.path_for(path, msg.ceremony)
    _refuse_overwrite(jpath)
    _write(ctx, path, msg.to_bytes())
    journal.save(jpath)
    return _opened(ctx, journal, path)


def _opened(ctx: Context, journal: Any, path: str) -> int:
    from cerro_torre.ceremony.coordinator import expected, keeps

    view = journal.view()
    msg = view.msg
    nxt = expected(view)
    if ctx.json:
        ctx.emit_json({"ceremony": msg.ceremony, "kind": msg.kind, "round": msg.round, "file": path,
                       "journal": journal.path, "fingerprint": msg.fingerprint.to_json(), **nxt})
        return 0
    _show_message(ctx, msg, path, "wrote")
    name = os.path.basename(path)
    ctx.out(f"next: each of {', '.join(nxt['who'])} runs 'ct ceremony step {name} -o REPLY'")
    ctx.out("      and compares the fingerprint words above with yours")
    if nxt["optional"]:
        ctx.out(f"      optional: {', '.join(nxt['optional'])} (outgoing members who do not sign: their "
                "confirmation checks the closed releases)")
    kept = keeps(view)
    if kept:
        ctx.out(f"      {', '.join(kept)} only keep{'s' if len(kept) == 1 else ''} it: 'ct ceremony step {name}' "
                "(nothing to answer in this round; a later message names it)")
    ctx.out(f"      the coordinator's journal: {journal.path}")
    return 0


def cmd_sign(ctx: Context) -> int:
    from cerro_torre.ceremony import bundle, signing
    from cerro_torre.ceremony.statement import Envelope
    from cerro_torre.suites.errors import Malformed

    a = ctx.args
    _refuse_overwrite(a.output)
    parts = bundle.read_parts(a.bundle)
    if bundle.ENVELOPE not in parts.signature_members:
        raise Malformed(f"{a.bundle} has no release statement", "pack it with 'ct pack' first")
    env = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE])
    from cerro_torre.governance.trust import TrustStore

    records = signing.chain_from_root([_record(p) for p in a.group], TrustStore(ctx.home))
    msg = signing.open_sign(env.payload, records, a.signer, stock=not a.no_stock,
                            attestations=bundle.attestation_statements(parts))
    return _open(ctx, msg, records, a.output)


def cmd_rotate(ctx: Context) -> int:
    from cerro_torre.ceremony import keygen

    a = ctx.args
    _refuse_overwrite(a.output)
    old = _record(a.group)
    members = keygen.rotation_members(old, _publics(a.add), a.remove)
    k = a.threshold or old.threshold
    msg = keygen.open_keygen(old.name, members, k, suite=old.suite, days=a.days,
                             previous=old, dealer=a.dealer, closed_releases=_closed_releases(a.release, a.releases),
                             old_signers=a.old_signer, keep_key=a.keep_key)
    return _open(ctx, msg, [old], a.output)


def cmd_refresh(ctx: Context) -> int:
    from cerro_torre.ceremony import keygen

    a = ctx.args
    _refuse_overwrite(a.output)
    old = _record(a.group)
    msg = keygen.open_refresh(old, days=a.days, closed_releases=_closed_releases(a.release, a.releases))
    return _open(ctx, msg, [old], a.output)


def cmd_repair(ctx: Context) -> int:
    from cerro_torre.ceremony import repair

    a = ctx.args
    _refuse_overwrite(a.output)
    rec = _record(a.group)
    msg = repair.open_repair(rec, a.member, a.helper)
    return _open(ctx, msg, [rec], a.output)


def _closed_releases(bundles: list[str], files: list[str]) -> list[str]:
    from cerro_torre.ceremony.signedlog import closed_releases

    return closed_releases(bundles, files)


def _journal(ctx: Context, msg: Any, path: str) -> Any:
    """The coordinator's journal of ``msg``'s ceremony (beside ``path``, or --journal), holding ``msg``."""
    from cerro_torre.ceremony.protocol import Journal
    from cerro_torre.suites.errors import CeremonyError

    jpath = ctx.args.journal or Journal.path_for(path, msg.ceremony)
    journal = Journal.load(jpath, msg.ceremony)
    if msg.digest.hex() not in {m.digest.hex() for m in journal.messages}:
        raise CeremonyError(f"{path} is not in the journal {jpath}",
                            "it belongs to another run of this ceremony id; use that run's journal")
    return journal


def cmd_collect(ctx: Context) -> int:
    from cerro_torre.ceremony import coordinator, repair
    from cerro_torre.ceremony.message import COORDINATOR, Message
    from cerro_torre.governance.keyholders import KeyholderSet
    from cerro_torre.suites.errors import CeremonyError, UsageError

    a = ctx.args
    _refuse_overwrite(a.output)
    if a.transcript:
        _refuse_overwrite(a.transcript)
    msg = _message(a.message)
    if msg.sender != COORDINATOR:
        raise CeremonyError(f"this is the reply of {msg.sender!r}, not the coordinator's message",
                            "the first file is the message the replies answer")
    replies = [_message(p, "reply") for p in a.replies]
    from cerro_torre.ceremony.protocol import View

    journal = _journal(ctx, msg, a.message)
    if coordinator.is_last_signing_round(View(msg, journal.history())) and not a.bundle:
        raise UsageError("the last signing collect needs the bundle",
                         "add --bundle BUNDLE.ctp (the one 'ct ceremony sign' opened)")
    last = journal.last
    if last.digest != msg.digest:
        raise CeremonyError(f"{a.message} is not the last message of the journal {journal.path} (that is its "
                            f"{last.round} message, fingerprint {last.fingerprint.hex})",
                            "collect the replies to the coordinator's latest message")
    view = journal.view()
    out = coordinator.collect(journal, replies)
    if isinstance(out, Message):
        _write(ctx, a.output, out.to_bytes())
        journal.save()
        return _opened(ctx, journal, a.output)
    if isinstance(out, KeyholderSet):
        _write(ctx, a.output, out.to_bytes())
        result = {"record": a.output, "set": out.describe(), "fingerprint": out.fingerprint.to_json(),
                  "closed_releases": list(out.closed_releases) if out.closed_releases is not None else None}
        text = coordinator.record_written(view, out, a.output)
    elif isinstance(out, repair.Repaired):
        _write(ctx, a.output, journal.last.to_bytes())     # the done message: status and --transcript read it
        result = {"done": a.output, "member": out.member, "set": out.record.describe(),
                  "fingerprint": out.record.fingerprint.to_json()}
        text = coordinator.repaired(out, a.output)
    else:
        coordinator.write_signed_bundle(view, out, a.bundle, a.output)
        result = {"bundle": a.output, "signatures": len(out.signatures), "stock": out.stock is not None}
        text = [f"wrote {a.output}: signed by {out.records[-1].describe()}",
                f"  {len(out.signatures)} signatures (1 FROST group, "
                f"{len(out.signatures) - 1} ML-DSA-87)" + (", stock-tool forms included" if out.stock else ""),
                f"  check it with 'ct verify {a.output} --policy POLICY.json'"]
    journal.save()
    if a.transcript:
        _write(ctx, a.transcript, journal.to_bytes())
        result["transcript"] = a.transcript
        text.append(f"  transcript: {a.transcript} ('ct ceremony status --transcript {a.transcript}')")
    if ctx.json:
        ctx.emit_json({"ceremony": msg.ceremony, "kind": msg.kind, "round": "done", **result})
    else:
        for line in text:
            ctx.out(line)
    return 0


# ---------------------------------------------------------------- keyholder

def cmd_step(ctx: Context) -> int:
    from cerro_torre.ceremony import crashpoints
    from cerro_torre.ceremony.keyholder import Keyholder, is_record
    from cerro_torre.keys.keyfile import params_from_env
    from cerro_torre.suites.errors import CeremonyError, UsageError

    a = ctx.args
    data = _read(a.message, "message")
    params, weak = params_from_env()
    kh = Keyholder(ctx.home, params=params, allow_weak=weak)
    if is_record(data):
        return _store_record(ctx, kh, data)
    msg = _parse(data, a.message)
    if a.output:
        _refuse_overwrite(a.output)
    pending = kh.prepare(msg)
    out = ctx.stderr if ctx.json else ctx.stdout
    out.write(f"ceremony {msg.ceremony} ({msg.kind}), round {msg.round}\n")
    for line in pending.summary:
        out.write(line + "\n")
    if not pending.answers:
        kh.keep(pending)
        if ctx.json:
            ctx.emit_json({"ceremony": msg.ceremony, "kind": msg.kind, "kept": msg.round, "member": pending.member})
        else:
            ctx.out(f"kept the {msg.round} message: nothing for {pending.member!r} to answer in this round; "
                    "step the next message when it comes")
        return 0
    if not a.output:
        raise UsageError("the reply needs a file", "add -o REPLY")
    if not a.yes:
        if not sys.stdin.isatty():
            raise UsageError("approval needed and there is no terminal to ask on",
                             "read the summary above, then run again with --yes")
        out.write("approve? [y/N] ")
        out.flush()
        if sys.stdin.readline().strip().lower() not in ("y", "yes"):
            raise CeremonyError("refused by the keyholder", "nothing was signed or stored")
    def answer(pw: bytes) -> Any:
        with ctx.progress().task(f"answering as '{pending.member}' (Argon2id unlocks)"):
            return kh.answer(pending, pw)

    reply = ctx.unlock(f"key '{pending.member}'", answer)
    _write(ctx, a.output, reply.to_bytes())
    crashpoints.hit("reply-written")
    if ctx.json:
        ctx.emit_json({"ceremony": msg.ceremony, "kind": msg.kind, "answered": msg.round, "round": reply.round,
                       "member": pending.member, "file": a.output, "fingerprint": reply.fingerprint.to_json()})
    else:
        _show_message(ctx, reply, a.output, "wrote")
        ctx.out("next: carry it to the coordinator, who runs 'ct ceremony collect'")
    return 0


def _store_record(ctx: Context, kh: Any, data: bytes) -> int:
    from cerro_torre.governance.keyholders import KeyholderSet

    a = ctx.args
    rec = KeyholderSet.from_bytes(data, a.message)
    done = kh.store_record(rec, a.message)
    if ctx.json:
        ctx.emit_json({"record": a.message, "set": rec.describe(), "fingerprint": rec.fingerprint.to_json(),
                       "new": [r.epoch for r in done.new], "retired": done.retired})
        return 0
    for line in done.lines():
        ctx.out(line)
    return 0


# ---------------------------------------------------------------- script

def cmd_script(ctx: Context) -> int:
    from cerro_torre import __version__
    from cerro_torre.ceremony import script
    from cerro_torre.ceremony.message import COORDINATOR
    from cerro_torre.ceremony.protocol import View
    from cerro_torre.suites.errors import CeremonyError

    a = ctx.args
    _refuse_overwrite(a.output)
    msg = _message(a.message)
    if msg.sender != COORDINATOR:
        raise CeremonyError(f"this is the reply of {msg.sender!r}, not the coordinator's message",
                            "give the ceremony's request (or a later coordinator message)")
    if msg.round == "done":
        raise CeremonyError(f"the {msg.kind} ceremony {msg.ceremony} is done", "script its request instead")
    journal = _journal(ctx, msg, a.message)
    text = script.script(msg, View(msg, journal.history()), a.message, journal.messages, a.bundle, __version__)
    title = text.splitlines()[0].lstrip("# ")
    html = a.output.lower().endswith((".html", ".htm"))
    _write(ctx, a.output, (script.to_html(text, title) if html else text).encode())
    if ctx.json:
        ctx.emit_json({"ceremony": msg.ceremony, "kind": msg.kind, "file": a.output,
                       "format": "html" if html else "markdown", "title": title})
    else:
        ctx.out(f"wrote {a.output}: {title}")
        ctx.out("  print it; the coordinator and a witness tick each step and sign it off at the end")
    return 0


# ---------------------------------------------------------------- status

def cmd_status(ctx: Context) -> int:
    from cerro_torre.ceremony import coordinator
    from cerro_torre.ceremony import transcript as tr
    from cerro_torre.ceremony.message import COORDINATOR
    from cerro_torre.ceremony.protocol import Journal, View
    from cerro_torre.suites.errors import NotFound, UsageError

    a = ctx.args
    data = _read(a.message, "message")
    journal = None
    if data.startswith(b'{"ceremony":') and b'"messages":' in data[:64]:
        journal = Journal.from_bytes(data, a.message)
        msg = journal.last
    else:
        msg = _parse(data, a.message)
        if msg.sender == COORDINATOR:
            try:
                journal = _journal(ctx, msg, a.message)
            except NotFound:
                if a.transcript or a.journal:
                    raise
    info: dict[str, Any] = {"ceremony": msg.ceremony, "kind": msg.kind, "round": msg.round,
                            "sender": msg.sender, "fingerprint": msg.fingerprint.to_json()}
    if msg.sender != COORDINATOR:
        info.update({"next": "collect", "who": ["coordinator"]})
    elif journal is not None:
        view = View(msg, journal.history())
        info["answered_previous_round"] = sorted(r.sender for r in view.replies(msg)) if msg.round != "request" else []
        info.update(coordinator.expected(view))
        info["participants"] = sorted(coordinator.people(view))
    entries = None
    if a.transcript:
        if journal is None:
            raise UsageError("a transcript is kept in the coordinator's journal, not in replies",
                             "use the coordinator's latest message (beside its journal) or the --transcript file "
                             "of the last collect")
        entries = coordinator.verified_transcript(journal)
        info["transcript"] = [e.to_json() | {"hash": e.hash} for e in entries]
        info["transcript_head"] = tr.head(entries)
    if ctx.json:
        ctx.emit_json(info)
        return 0
    ctx.out(f"{msg.kind} ceremony {msg.ceremony}")
    ctx.out(f"  message: {msg.round} from {msg.sender}, fingerprint {msg.fingerprint.hex}  {msg.fingerprint.words}")
    if msg.sender != COORDINATOR:
        ctx.out("  next: collect (the coordinator merges this reply)")
    elif journal is None:
        ctx.out("  (no journal beside it: who answers and who is missing are in the coordinator's journal)")
    else:
        if info.get("answered_previous_round"):
            ctx.out(f"  answered the previous round: {', '.join(info['answered_previous_round'])}")
        if info["next"] == "done":
            ctx.out("  next: done")
        else:
            ctx.out(f"  next: step, by {', '.join(info['who'])} ({info['need']} needed), then collect")
            if info["optional"]:
                ctx.out(f"  optional: {', '.join(info['optional'])} (outgoing members who do not sign; their "
                        "confirmation checks the closed releases)")
    if entries is not None:
        ctx.out(f"transcript ({len(entries)} messages, every signature and link verified):")
        for e in entries:
            ctx.out(f"  {e.seq:>3} {e.round:<9} {e.sender:<14} {e.digest[:16]}  {e.words}")
        ctx.out(f"  head {tr.head(entries)}")
    return 0
