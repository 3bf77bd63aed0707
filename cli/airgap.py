"""`ct export`, `ct import --verify` and `ct store list|pin` (spec/airgap.md)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from .commands import common

if TYPE_CHECKING:
    from .main import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "export", help="write an airgap tarball of bundles (and public keys) for a disconnected host",
        description="Write BUNDLE... into one deterministic tar with an index of every member and its sha256, "
                    "atomically; streamed, hashed while written.  --include-keys adds the keyholder-set chain, "
                    "the policy and public keys (never private keys or shares).  On removable media the file "
                    "is read back from disk and checked before success is reported.")
    common(p)
    p.add_argument("bundles", nargs="*", metavar="BUNDLE.ctp", help="bundles to carry")
    p.add_argument("-o", "--output", required=True, metavar="airgap.tar",
                   help="the tarball to write (an existing file is refused, exit 22)")
    p.add_argument("--force", action="store_true", help="replace airgap.tar if it exists")
    p.add_argument("--manifest", metavar="packages.txt",
                   help="a list of bundles, one per line ('#' comments; paths relative to the list)")
    p.add_argument("--include-keys", action="store_true",
                   help="carry the keyholder-set chain, the policy and public keys (public material only)")
    p.add_argument("--policy", metavar="P.json",
                   help="policy to carry (default with --include-keys: the config's default_policy, "
                        "else HOME/policy.json when present)")
    p.add_argument("--keyholders", action="append", default=[], metavar="KEYHOLDERS.json",
                   help="with --include-keys: also carry this keyholder-set record (repeatable)")
    p.add_argument("--key", action="append", default=[], metavar="ID|FILE.pub",
                   help="with --include-keys: also carry this public key (repeatable)")
    g = p.add_mutually_exclusive_group()
    g.add_argument("--verify-after-write", dest="verify_after_write", action="store_true", default=None,
                   help="flush, re-read from disk and check against the index (default on removable media)")
    g.add_argument("--no-verify-after-write", dest="verify_after_write", action="store_false",
                   help="do not read the tarball back, even on removable media")
    p.add_argument("--allow-unverified", action="store_true",
                   help="carry bundles that do not verify against the policy carried (else refused)")
    p.add_argument("--include-private", "--include-private-keys", "--include-shares", dest="include_private",
                   action="store_true", help="refused: private keys and key shares are never exported")
    p.set_defaults(handler="cerro_torre.cli.airgap:cmd_export")

    p = sub.add_parser(
        "import", help="verify an airgap tarball and add it to this host's store",
        description="Check the index, every bundle (as 'ct verify': exit 1 hash, 2 signature, 3 trust, 4 policy, "
                    "10 malformed), the keyholder chain from the pinned root and the policy, before anything "
                    "lands in HOME/store.  Only plain files are extracted, atomically; a refused or "
                    "interrupted import leaves the store as it was.  The first import with --policy pins "
                    "the roots it names.")
    common(p)
    p.add_argument("tarball", metavar="airgap.tar")
    p.add_argument("--verify", action="store_true",
                   help="verify everything before anything lands (always done; there is no other way to import)")
    p.add_argument("--policy", metavar="P.json",
                   help="policy to apply; the first import pins it (later: the pinned policy, which this may "
                        "narrow but not widen)")
    p.add_argument("--max-member-size", metavar="SIZE", default="64G",
                   help="refuse a bundle larger than this (default 64G; K, M, G, T suffixes)")
    p.set_defaults(handler="cerro_torre.cli.airgap:cmd_import")

    p = common(sub.add_parser("store", help="the verified bundles on this host (ct import puts them there)"))
    ssub = p.add_subparsers(dest="store_command", metavar="ACTION", parser_class=type(p))
    ssub.required = True
    q = common(ssub.add_parser("list", help="bundles, keyholder sets, pinned trust and the import log"))
    q.add_argument("--log", action="store_true", help="also show the log of imports and pins")
    q.set_defaults(handler="cerro_torre.cli.airgap:cmd_store_list")
    q = common(ssub.add_parser("pin", help="replace this host's pinned trust with a policy (logged)"))
    q.add_argument("--policy", required=True, metavar="P.json", help="the policy whose roots and keys to pin")
    q.set_defaults(handler="cerro_torre.cli.airgap:cmd_store_pin")


def _fp(hex64: str) -> str:
    return " ".join(hex64[i:i + 4] for i in range(0, 16, 4))


def cmd_export(ctx: Context) -> int:
    from cerro_torre.offline import airgap as A
    from cerro_torre.suites.errors import AlreadyExists, UsageError

    a = ctx.args
    if a.include_private:
        raise UsageError("refusing to export private keys or key shares",
                         "private keys, FROST shares and nonces never leave the keyholder's machine; "
                         "--include-keys carries public keys only")
    if (a.keyholders or a.key) and not a.include_keys:
        raise UsageError("--keyholders and --key need --include-keys", "add --include-keys")
    bundles = [(b, b) for b in a.bundles]
    if a.manifest:
        bundles += A.read_manifest(a.manifest)
    policy = a.policy or (ctx.config.default_policy if a.include_keys else None)
    plan = A.plan_export(bundles, include_keys=a.include_keys, policy_path=policy, home=ctx.home,
                         keyholder_files=a.keyholders, key_args=a.key, allow_unverified=a.allow_unverified)
    inputs = {os.path.realpath(it.path) for it in plan.items if it.path is not None}
    if os.path.lexists(a.output) and not a.force and os.path.realpath(a.output) not in inputs:
        raise AlreadyExists(f"{a.output} exists", "choose another -o, or pass --force to replace it")
    res = A.write_export(plan, a.output, verify_after_write=a.verify_after_write,
                         progress=ctx.progress())
    for n in res.notes:
        ctx.note(n)
    if ctx.json:
        ctx.emit_json(res.to_json())
        return 0
    items = {it.name: it for it in plan.items}
    ctx.out(f"ok: wrote {a.output} ({len(res.entries)} member(s) and the index, {A.human(res.size)})")
    ctx.out(f"  index       sha256 {res.index_sha256}")
    for e in res.entries:
        if e.kind == A.KIND_BUNDLE:
            assert e.package is not None
            ctx.out(f"  bundle      {e.name[len(A.BUNDLES):]}  {e.package[0]} {e.package[1]}  {A.human(e.size)}  "
                    f"sha256 {e.sha256[:16]}…")
    recs = [items[e.name].detail for e in res.entries if e.kind == A.KIND_RECORD]
    keys = [items[e.name].detail for e in res.entries if e.kind == A.KIND_KEY]
    pol = [items[e.name].detail for e in res.entries if e.kind == A.KIND_POLICY]
    if recs:
        ctx.out(f"  chain       {', '.join(recs)}")
    if keys:
        ctx.out(f"  keys        {', '.join(keys)} (public keys only)")
    if pol:
        ctx.out(f"  policy      {pol[0]}")
    if res.verified_after_write:
        ctx.out("  checked     flushed, re-read from disk and checked against the index"
                + (" (removable media)" if res.removable else ""))
    else:
        ctx.out("  checked     not re-read (not removable media; --verify-after-write checks it)")
    return 0


def cmd_import(ctx: Context) -> int:
    from cerro_torre.offline import airgap as A
    from cerro_torre.suites.errors import Malformed

    a = ctx.args
    max_size = A.parse_size(a.max_member_size)
    ctx.json_context.update({"tarball": a.tarball, "changed": False})
    try:
        res = A.import_tarball(a.tarball, ctx.home, policy_path=a.policy or ctx.config.default_policy,
                               max_member_size=max_size, progress=ctx.progress())
    except Malformed:
        if A.sniff(a.tarball) == "bundle":
            raise Malformed(f"{os.path.basename(a.tarball)} is a .ctp bundle, not an airgap tarball",
                            f"this is a bundle: use 'ct verify {a.tarball}'") from None
        raise
    for n in res.notes:
        ctx.note(n)
    if ctx.json:
        ctx.emit_json(res.to_json())
        return 0
    label = os.path.basename(a.tarball)
    if res.changed:
        ctx.out(f"ok: {label} verified and imported into {res.store}")
    else:
        ctx.out(f"ok: {label} verified; it is already in {res.store} (nothing changed)")
    for b in res.bundles:
        s = b["signer"]
        who = (f"keyholder set '{s['name']}' epoch {s['epoch']}" if s["kind"] == "keyholder-set"
               else f"key '{s['name']}'")
        ctx.out(f"  bundle      {b['package']['name']} {b['package']['version']}  ({b['file']}, signed by {who})"
                f"{'' if b['new'] else '  already here'}")
        ctx.out(f"              {os.path.join(res.store, b['path'])}")
    for st in res.sets:
        ctx.out(f"  chain       keyholder set '{st['name']}' at epoch {st['epoch']}, fingerprint {_fp(st['fingerprint'])}")
    if res.keys_new:
        ctx.out(f"  keys        {', '.join(res.keys_new)} imported with trust none"
                + (f"; {', '.join(res.keys_known)} already here" if res.keys_known else ""))
        ctx.out("              (a key is trusted only by 'ct key trust ID trusted' after checking its fingerprint)")
    elif res.keys_known:
        ctx.out(f"  keys        {', '.join(res.keys_known)} already here (trust unchanged)")
    if res.pinned_now is not None:
        roots = res.pinned_now["policy"]["roots"] + res.pinned_now["policy"]["keys"]
        ctx.out(f"  pinned      {res.policy_used}: {', '.join(_fp(r) for r in roots) or 'no roots'} "
                "(later imports use this pinned trust)")
    else:
        ctx.out(f"  policy      {res.policy_used if a.policy else 'pinned policy'}")
    return 0


def cmd_store_list(ctx: Context) -> int:
    from cerro_torre.offline import airgap as A

    st = A.list_store(ctx.home)
    if ctx.json:
        ctx.emit_json(st)
        return 0
    out = ctx.out
    out(f"store       {st['store']}  (generation {st['generation']})")
    pin = st["pinned"]
    if pin is None:
        out("pinned      nothing yet (the first 'ct import --policy P' pins P)")
    else:
        roots = pin["policy"]["roots"]
        keys = pin["policy"]["keys"]
        out(f"pinned      policy sha256 {pin['sha256'][:16]}… from {pin['source'] or '?'}")
        for r in roots:
            out(f"              root {_fp(r)}")
        for k in keys:
            out(f"              key  {_fp(k)}")
    if st["sets"]:
        out("keyholder sets")
        for name, v in sorted(st["sets"].items()):
            out(f"  {name:<20} epoch {v['epoch']:<4} fingerprint {_fp(v['fingerprint'])}")
    out(f"bundles     {len(st['bundles'])}")
    for b in st["bundles"]:
        s = b["signer"]
        who = (f"keyholder set '{s['name']}' epoch {s['epoch']}" if s["kind"] == "keyholder-set"
               else f"key '{s['name']}'")
        out(f"  {b['package']['name']} {b['package']['version']}  {b['file']}  {A.human(b['size'])}  "
            f"sha256 {b['sha256'][:16]}…  signed by {who}")
        out(f"      {os.path.join(st['store'], b['path'])}")
    if st["keys"]:
        out("keys        " + ", ".join(k["id"] for k in st["keys"]) + " (carried; trust is set with 'ct key trust')")
    if st["policies"]:
        out(f"policies    {len(st['policies'])} carried (stored, not applied): "
            + ", ".join(p["path"] for p in st["policies"]))
    if ctx.args.log:
        out("log")
        for ev in st["log"]:
            detail = ", ".join(f"{k} {_short(v)}" for k, v in sorted(ev.items()) if k not in ("at", "event"))
            out(f"  {ev['at']}  {ev['event']:<7} {detail}")
    return 0


def _short(v: Any) -> str:
    if isinstance(v, list):
        return "[" + " ".join(_short(x) for x in v) + "]"
    if isinstance(v, str) and len(v) == 64 and all(c in "0123456789abcdef" for c in v):
        return v[:16] + "…"
    return str(v)


def cmd_store_pin(ctx: Context) -> int:
    from cerro_torre.offline import airgap as A

    new, old = A.pin_policy(ctx.home, ctx.args.policy)
    if ctx.json:
        ctx.emit_json({"pinned": new, "previous": old, "changed": new is not old})
        return 0
    if new is old:
        ctx.out(f"ok: {ctx.args.policy} is already pinned (nothing changed)")
        return 0
    ctx.out(f"ok: pinned {ctx.args.policy} (sha256 {new['sha256'][:16]}…); logged in the store")
    for r in new["policy"]["roots"]:
        ctx.out(f"  root {_fp(r)}")
    for k in new["policy"]["keys"]:
        ctx.out(f"  key  {_fp(k)}")
    if old is not None:
        ctx.out(f"  replaces policy sha256 {old['sha256'][:16]}… from {old['source'] or '?'}")
    return 0
