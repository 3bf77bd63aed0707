"""`ct ceremony keygen|sign|rotate|step|collect|status`."""

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
    p = common(sub.add_parser("ceremony", help="keygen, signing and rotation ceremonies across the air gap"))
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
    k.set_defaults(handler=H + "cmd_keygen")

    s = common(cs.add_parser("sign", help="coordinator: open a signing ceremony for a bundle"))
    s.add_argument("bundle", metavar="BUNDLE.ctp")
    s.add_argument("--group", action="append", required=True, metavar="KEYHOLDERS.json",
                   help="the keyholder-set record (repeat for the chain from the root, any order)")
    s.add_argument("--signer", action="append", metavar="ID", help="invite only these members (>= k)")
    s.add_argument("--no-stock", action="store_true",
                   help="sign the DSSE statement only: no signify/minisign/ssh forms, one round less")
    s.add_argument("-o", "--output", required=True, metavar="REQ")
    s.set_defaults(handler=H + "cmd_sign")

    r = common(cs.add_parser(
        "rotate", help="coordinator: open a rotation to a new keyholder set",
        description="Open a rotation of the keyholder set OLD.json to epoch N+1: remove members (a lost "
                    "machine, someone leaving), add members, change k.  The new set runs a DKG (a new group "
                    "key) and the outgoing set's threshold signs the new record with it, so verifiers walk "
                    "from the root they pinned.  Keyholders answer with 'ct ceremony step', the coordinator "
                    "collects until keyholders.json of epoch N+1.  'ct help rotate' is the whole guide.",
        epilog="example: ct ceremony rotate --group keyholders.json --remove bob --add frank.pub -o rot.ctm"))
    r.add_argument("--group", required=True, metavar="OLD.json", help="the current keyholder-set record")
    r.add_argument("--add", action="append", default=[], metavar="X.pub", help="a new member's public key")
    r.add_argument("--remove", action="append", default=[], metavar="ID", help="a member to retire")
    r.add_argument("--threshold", "-k", type=int, metavar="K", help="new threshold (default: unchanged)")
    r.add_argument("--days", type=int, default=365)
    r.add_argument("--dealer", action="store_true", help=argparse.SUPPRESS)
    r.add_argument("-o", "--output", required=True, metavar="REQ")
    r.set_defaults(handler=H + "cmd_rotate")

    st = passphrase_flags(common(cs.add_parser("step", help="keyholder: answer whatever message arrived")))
    st.add_argument("message", metavar="MESSAGE")
    st.add_argument("-o", "--output", required=True, metavar="REPLY")
    st.add_argument("--yes", action="store_true", help="approve without asking (scripts)")
    st.set_defaults(handler=H + "cmd_step")

    c = common(cs.add_parser("collect", help="coordinator: merge replies into the next message or the result"))
    c.add_argument("message", metavar="MESSAGE", help="the coordinator's last message")
    c.add_argument("replies", nargs="+", metavar="REPLY")
    c.add_argument("-o", "--output", required=True, metavar="NEXT",
                   help="next message; at the end the keyholder-set record or the signed bundle")
    c.add_argument("--bundle", metavar="BUNDLE.ctp", help="the bundle being signed (last signing collect)")
    c.add_argument("--transcript", metavar="FILE", help="at the end, also write the whole ceremony here")
    c.set_defaults(handler=H + "cmd_collect")

    t = common(cs.add_parser("status", help="what a message is, who answered, who is missing, what comes next"))
    t.add_argument("message", metavar="MESSAGE")
    t.add_argument("--transcript", action="store_true", help="verify and print the hash-chained transcript")
    t.set_defaults(handler=H + "cmd_status")


# ---------------------------------------------------------------- helpers

def _read(path: str, what: str) -> bytes:
    from cerro_torre.suites.errors import Malformed, NotFound

    try:
        with open(path, "rb") as f:
            data = f.read(64 * 1024 * 1024 + 1)
    except FileNotFoundError:
        raise NotFound(f"{what} not found: {path}", "check the path") from None
    except IsADirectoryError:
        raise Malformed(f"{what} is a directory: {path}") from None
    return data


def _message(path: str, what: str = "message") -> Any:
    from cerro_torre.ceremony.message import Message

    return Message.parse(_read(path, what), f"{what} {path}")


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
    _write(ctx, a.output, msg.to_bytes())
    return _opened(ctx, msg, a.output)


def _opened(ctx: Context, msg: Any, path: str) -> int:
    from cerro_torre.ceremony.coordinator import expected

    nxt = expected(msg)
    if ctx.json:
        ctx.emit_json({"ceremony": msg.ceremony, "kind": msg.kind, "round": msg.round, "file": path,
                       "fingerprint": msg.fingerprint.to_json(), **nxt})
        return 0
    _show_message(ctx, msg, path, "wrote")
    ctx.out(f"next: each of {', '.join(nxt['who'])} runs 'ct ceremony step {os.path.basename(path)} -o REPLY'")
    ctx.out("      and compares the fingerprint words above with yours")
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
    records = [_record(p) for p in a.group]
    msg = signing.open_sign(env.payload, parts.manifest.name, parts.manifest.version, records, a.signer,
                            stock=not a.no_stock)
    _write(ctx, a.output, msg.to_bytes())
    return _opened(ctx, msg, a.output)


def cmd_rotate(ctx: Context) -> int:
    from cerro_torre.ceremony import keygen
    from cerro_torre.suites.errors import UsageError

    a = ctx.args
    _refuse_overwrite(a.output)
    old = _record(a.group)
    members = {m.id: m.identity for m in old.members}
    for rid in a.remove:
        if rid not in members:
            raise UsageError(f"{rid!r} is not a member of {old.describe()}", "members: " + ", ".join(members))
        del members[rid]
    for pub in _publics(a.add):
        if pub.id in members:
            raise UsageError(f"{pub.id!r} is already a member", "use --remove first to replace a member's key")
        members[pub.id] = pub
    k = a.threshold or old.threshold
    msg = keygen.open_keygen(old.name, list(members.values()), k, suite=old.suite, days=a.days,
                             previous=old, dealer=a.dealer)
    _write(ctx, a.output, msg.to_bytes())
    return _opened(ctx, msg, a.output)


def cmd_collect(ctx: Context) -> int:
    from cerro_torre.ceremony import coordinator
    from cerro_torre.ceremony.message import Message
    from cerro_torre.governance.keyholders import KeyholderSet
    from cerro_torre.suites.errors import UsageError

    a = ctx.args
    _refuse_overwrite(a.output)
    if a.transcript:
        _refuse_overwrite(a.transcript)
    msg = _message(a.message)
    replies = [_message(p, "reply") for p in a.replies]
    if coordinator.is_last_signing_round(msg) and not a.bundle:
        raise UsageError("the last signing collect needs the bundle",
                         "add --bundle BUNDLE.ctp (the one 'ct ceremony sign' opened)")
    out = coordinator.collect(msg, replies)
    if isinstance(out, Message):
        _write(ctx, a.output, out.to_bytes())
        return _opened(ctx, out, a.output)
    if isinstance(out, KeyholderSet):
        _write(ctx, a.output, out.to_bytes())
        result = {"record": a.output, "set": out.describe(), "fingerprint": out.fingerprint.to_json()}
        text = [f"wrote {a.output}: {out.describe()}, {out.threshold} of {len(out.members)}",
                f"  fingerprint {out.fingerprint.hex}  {out.fingerprint.words}",
                "  pin it on verifiers with 'ct policy init --root " + a.output + "' after comparing the words"]
    else:
        coordinator.write_signed_bundle(msg, out, a.bundle, a.output)
        result = {"bundle": a.output, "signatures": len(out.signatures), "stock": out.stock is not None}
        text = [f"wrote {a.output}: signed by {out.records[-1].describe()}",
                f"  {len(out.signatures)} signatures (1 FROST group, "
                f"{len(out.signatures) - 1} ML-DSA-87)" + (", stock-tool forms included" if out.stock else ""),
                f"  check it with 'ct verify {a.output} --policy POLICY.json'"]
    if a.transcript:
        _write(ctx, a.transcript, coordinator.done_message(msg, replies).to_bytes())
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
    from cerro_torre.ceremony.keyholder import Keyholder
    from cerro_torre.keys.keyfile import params_from_env
    from cerro_torre.suites.errors import CeremonyError, UsageError

    a = ctx.args
    _refuse_overwrite(a.output)
    msg = _message(a.message)
    params, weak = params_from_env()
    kh = Keyholder(ctx.home, params=params, allow_weak=weak)
    pending = kh.prepare(msg)
    out = ctx.stderr if ctx.json else ctx.stdout
    out.write(f"ceremony {msg.ceremony} ({msg.kind}), round {msg.round}\n")
    for line in pending.summary:
        out.write(line + "\n")
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


# ---------------------------------------------------------------- status

def cmd_status(ctx: Context) -> int:
    from cerro_torre.ceremony import coordinator
    from cerro_torre.ceremony import transcript as tr
    from cerro_torre.ceremony.protocol import participants, replies_in, request_of

    a = ctx.args
    msg = _message(a.message)
    info: dict[str, Any] = {"ceremony": msg.ceremony, "kind": msg.kind, "round": msg.round, "sender": msg.sender,
                            "fingerprint": msg.fingerprint.to_json()}
    if msg.sender != "coordinator":
        info.update({"next": "collect", "who": ["coordinator"]})
    else:
        info["answered_previous_round"] = sorted(r.sender for r in replies_in(msg)) if msg.round != "request" else []
        info.update(coordinator.expected(msg))
        info["participants"] = sorted(participants(request_of(msg)))
    entries = None
    if a.transcript:
        entries = coordinator.verified_transcript(msg)
        info["transcript"] = [e.to_json() | {"hash": e.hash} for e in entries]
        info["transcript_head"] = tr.head(entries)
    if ctx.json:
        ctx.emit_json(info)
        return 0
    ctx.out(f"{msg.kind} ceremony {msg.ceremony}")
    ctx.out(f"  message: {msg.round} from {msg.sender}, fingerprint {msg.fingerprint.hex}  {msg.fingerprint.words}")
    if msg.sender != "coordinator":
        ctx.out("  next: collect (the coordinator merges this reply)")
    else:
        if info.get("answered_previous_round"):
            ctx.out(f"  answered the previous round: {', '.join(info['answered_previous_round'])}")
        if info["next"] == "done":
            ctx.out("  next: done")
        else:
            ctx.out(f"  next: step, by {', '.join(info['who'])} ({info['need']} needed), then collect")
    if entries is not None:
        ctx.out(f"transcript ({len(entries)} messages, every signature and link verified):")
        for e in entries:
            ctx.out(f"  {e.seq:>3} {e.round:<9} {e.sender:<14} {e.digest[:16]}  {e.words}")
        ctx.out(f"  head {tr.head(entries)}")
    return 0
