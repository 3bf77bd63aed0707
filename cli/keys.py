"""`ct keygen` and `ct key list|import|export|default|trust`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from .commands import common, passphrase_flags

if TYPE_CHECKING:
    from .main import Context

SUITE_NAMES = ("CT-SIG-01", "CT-SIG-02", "CT-SIG-03")
TRUST_NAMES = ("none", "trusted", "ultimate")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("keygen", help="generate this holder's identity keys",
                       description="Generate identity keys (CT-SIG-02: Ed25519 + X25519 + ML-DSA-87), "
                                   "sealed with a passphrase (Argon2id) in HOME/keys.")
    common(p)
    passphrase_flags(p)
    p.add_argument("--id", required=True, metavar="NAME", help="key id: [a-z0-9][a-z0-9._-]{0,63}")
    p.add_argument("--suite", default="CT-SIG-02", metavar="SUITE",
                   help="CT-SIG-01 (Ed25519), CT-SIG-02 (hybrid, default) or CT-SIG-03 (ML-DSA-87)")
    p.add_argument("--allow-weak-passphrase", action="store_true",
                   help="accept a very weak passphrase (refused otherwise, exit 20; weak and fair ones are "
                        "accepted with a warning); for throwaway keys only")
    p.set_defaults(handler="cerro_torre.cli.keys:cmd_keygen")

    p = common(sub.add_parser("key", help="list, import, export and trust keys"))
    ksub = p.add_subparsers(dest="key_command", metavar="ACTION", parser_class=type(p))
    ksub.required = True

    q = common(ksub.add_parser("list", help="keys in this home"))
    q.set_defaults(handler="cerro_torre.cli.keys:cmd_list")

    q = common(ksub.add_parser("import", help="import someone's public key file"))
    q.add_argument("file", metavar="FILE.pub")
    q.set_defaults(handler="cerro_torre.cli.keys:cmd_import")

    q = common(ksub.add_parser("export", help="write a public key file (private keys are never exported)"))
    q.add_argument("key_id", metavar="ID", nargs="?",
                   help="the key (default: the default key, see 'ct key default' and the config's default_key)")
    q.add_argument("--public", action="store_true", help="export the public key (required)")
    q.add_argument("-o", "--output", metavar="FILE",
                   help="write to FILE instead of stdout (an existing FILE is refused, exit 22)")
    q.add_argument("--force", action="store_true", help="replace FILE if it exists")
    q.set_defaults(handler="cerro_torre.cli.keys:cmd_export")

    q = common(ksub.add_parser("default", help="make ID the default signing key"))
    q.add_argument("key_id", metavar="ID")
    q.set_defaults(handler="cerro_torre.cli.keys:cmd_default")

    q = common(ksub.add_parser("trust", help="set the trust of a key: none, trusted, ultimate"))
    q.add_argument("key_id", metavar="ID")
    q.add_argument("level", metavar="LEVEL", help="none | trusted | ultimate")
    q.set_defaults(handler="cerro_torre.cli.keys:cmd_trust")


def _home(ctx: Context):
    from cerro_torre.keys.home import Home
    from cerro_torre.keys.keyfile import params_from_env

    params, allow_weak = params_from_env()
    return Home(ctx.home, params=params, allow_weak=allow_weak)


def cmd_keygen(ctx: Context) -> int:
    from cerro_torre.keys.identity import validate_id
    from cerro_torre.suites.suite import get_suite

    key_id = validate_id(ctx.args.id)
    suite = get_suite(ctx.args.suite, usage=True).name
    home = _home(ctx)
    if home.exists(key_id) or home.has_private(key_id):
        from cerro_torre.suites.errors import AlreadyExists

        raise AlreadyExists(f"key {key_id!r} already exists in {home.keys_dir}",
                            "choose another --id; existing keys are never overwritten")
    from cerro_torre.keys.passphrase import check_new

    def strong_enough(pw: bytes) -> tuple[bytes, str | None]:
        return pw, check_new(pw.decode("utf-8", "replace"), allow_weak=ctx.args.allow_weak_passphrase)

    passphrase, warning = ctx.unlock(f"new key '{key_id}'", strong_enough, confirm=True)
    if warning:
        ctx.note(warning)
    with ctx.progress().task(f"generating and sealing key '{key_id}' (Argon2id)"):
        pub = home.generate_key(key_id, suite, passphrase)
    fp = pub.fingerprint
    path = home.pub_path(key_id)
    if ctx.json:
        ctx.emit_json({"id": pub.id, "suite": pub.suite, "fingerprint": fp.to_json(), "public_path": path,
                       "keyids": {alg: pub.keyid(alg) for alg in pub.signing_algorithms()},
                       "default": home.default() == key_id})
    else:
        ctx.out(f"generated key '{pub.id}' ({pub.suite})")
        ctx.out(f"  fingerprint  {fp.hex}")
        ctx.out(f"  words        {fp.words}")
        ctx.out(f"  public key   {path}")
        if home.default() == key_id:
            ctx.out("  this is now the default key")
    return 0


def _default_key(ctx: Context, home) -> str | None:
    """The config's default_key, else the home's ('ct key default')."""
    return ctx.config.default_key or home.default()


def cmd_list(ctx: Context) -> int:
    import dataclasses

    from cerro_torre.keys.shares import ShareStore

    home = _home(ctx)
    default = _default_key(ctx, home)
    entries = [dataclasses.replace(e, default=e.id == default) for e in home.list_keys()]
    shares = ShareStore(home.path).list()
    if ctx.json:
        ctx.emit_json({"home": home.path, "keys": [e.to_json() for e in entries],
                       "shares": [e.to_json() for e in shares]})
        return 0
    if not entries:
        ctx.note(f"no keys in {home.keys_dir}")
        ctx.note("hint: create one with 'ct keygen --id NAME', or import one with 'ct key import FILE.pub'")
    else:
        width = max(len("ID"), *(len(e.id) for e in entries))
        ctx.out(f"  {'ID':<{width}}  {'SUITE':<9}  {'TRUST':<8}  FINGERPRINT")
        for e in entries:
            mark = "*" if e.default else " "
            ctx.out(f"{mark} {e.id:<{width}}  {e.suite:<9}  {e.trust:<8}  {e.fingerprint.hex}")
    if shares:
        width = max(len("KEYHOLDER SET"), *(len(e.set_label) for e in shares))
        ctx.out("FROST shares")
        ctx.out(f"  {'GROUP KEYID':<32}  {'KEYHOLDER SET':<{width}}  STATUS")
        for e in shares:
            ctx.out(f"  {e.keyid:<32}  {e.set_label:<{width}}  {e.status}"
                    + (f" ({e.reason})" if e.status == "retired" else ""))
    return 0


def cmd_import(ctx: Context) -> int:
    from cerro_torre.suites.errors import NotFound

    path = ctx.args.file
    try:
        with open(path, "rb") as f:
            data = f.read(1 << 20)
    except FileNotFoundError:
        raise NotFound(f"file not found: {path}", "check the path of the .pub file") from None
    except IsADirectoryError:
        raise NotFound(f"not a file: {path}", "give the path of a .pub file") from None
    home = _home(ctx)
    pub, changed = home.import_public_report(data, source=f"public key file {path}")
    fp = pub.fingerprint
    trust = home.trust(pub.id)
    if ctx.json:
        ctx.emit_json({"id": pub.id, "suite": pub.suite, "fingerprint": fp.to_json(), "imported": changed,
                       "trust": trust, "public_path": home.pub_path(pub.id)})
        return 0
    ctx.out(f"{'imported' if changed else 'already present:'} key '{pub.id}' ({pub.suite})")
    ctx.out(f"  fingerprint  {fp.hex}")
    ctx.out(f"  words        {fp.words}")
    ctx.out(f"  trust        {trust}")
    if trust == "none":
        ctx.note(f"hint: compare the fingerprint with its owner, then run 'ct key trust {pub.id} trusted'")
    return 0


def cmd_export(ctx: Context) -> int:
    from cerro_torre.suites.atomic import atomic_write
    from cerro_torre.suites.errors import UsageError

    key_id = ctx.args.key_id
    if not ctx.args.public:
        raise UsageError("private keys are never exported",
                         f"use 'ct key export {key_id or 'ID'} --public' to export the public key")
    from cerro_torre.keys.identity import validate_id

    from cerro_torre.suites.errors import NotFound

    home = _home(ctx)
    configured = key_id is None and ctx.config.default_key is not None
    if key_id is None:
        key_id = _default_key(ctx, home)
        if key_id is None:
            raise UsageError("no key named and no default key",
                             "name one (ct key list), or set one with 'ct key default ID'")
    validate_id(key_id)
    try:
        pub = home.public(key_id)
    except NotFound as e:
        if not configured:
            raise
        raise NotFound(e.message, f'default_key "{key_id}" comes from {ctx.config.path}; fix it there, or name '
                                  "a key of 'ct key list'") from None
    data = pub.to_file_bytes()
    out = ctx.args.output
    if out:
        if os.path.lexists(out) and not ctx.args.force:
            from cerro_torre.suites.errors import AlreadyExists

            raise AlreadyExists(f"{out} exists", "choose another -o, or pass --force to replace it")
        atomic_write(out, data, mode=0o644)
        if ctx.json:
            ctx.emit_json({"id": pub.id, "suite": pub.suite, "fingerprint": pub.fingerprint.to_json(),
                           "path": out})
        else:
            ctx.out(f"wrote public key '{pub.id}' to {out}")
            ctx.out(f"  fingerprint  {pub.fingerprint.hex}")
        return 0
    if ctx.json:
        ctx.emit_json(pub.to_json())
    else:
        ctx.stdout.write(data.decode("utf-8"))
    return 0


def cmd_default(ctx: Context) -> int:
    from cerro_torre.keys.identity import validate_id

    key_id = validate_id(ctx.args.key_id)
    home = _home(ctx)
    home.set_default(key_id)
    if ctx.json:
        ctx.emit_json({"default": key_id})
    else:
        ctx.out(f"default key: {key_id}")
    cfg = ctx.config
    if cfg.default_key and cfg.default_key != key_id:
        ctx.note(f"warning: default_key = {cfg.default_key!r} in {cfg.path} wins over this home's default")
    return 0


def cmd_trust(ctx: Context) -> int:
    from cerro_torre.keys.identity import validate_id
    from cerro_torre.suites.errors import UsageError

    key_id = validate_id(ctx.args.key_id)
    level = ctx.args.level
    if level not in TRUST_NAMES:
        raise UsageError(f"unknown trust level {level!r}", "levels: " + ", ".join(TRUST_NAMES))
    home = _home(ctx)
    home.set_trust(key_id, level)
    if ctx.json:
        ctx.emit_json({"id": key_id, "trust": level})
    else:
        ctx.out(f"trust of '{key_id}': {level}")
    return 0
