"""`ct policy init|add-signer|add-registry|add-root|add-checkpoint|set|show`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from .commands import common

if TYPE_CHECKING:
    from .main import Context


# `ct policy set KEY VALUE`: the key on the command line -> (field, lowest value, highest value, what it is).
# The highest are what a record can hold: epochs are below 2^53, a set has at most 255 members.
SETTABLE = {"min-epoch": ("min_epoch", 0, 2 ** 53 - 1,
                          "it is the lowest keyholder-set epoch accepted (0: any); after a rotation to epoch 2: "
                          "'ct policy set min-epoch 2'"),
            "min-threshold": ("min_threshold", 1, 255,
                              "it is the lowest k accepted of a k-of-n keyholder set (at most 255 members); "
                              "e.g. 'ct policy set min-threshold 2'")}


def _setting(key: str, raw: str) -> int:
    """VALUE of ``ct policy set KEY VALUE`` (or --KEY of init) as a number in its range, else UsageError."""
    import re

    from cerro_torre.suites.encoding import quoted
    from cerro_torre.suites.errors import UsageError

    _, low, high, hint = SETTABLE[key]
    if not re.fullmatch(r"[0-9]{1,20}", raw) or not low <= int(raw) <= high:
        raise UsageError(f"{key} must be a whole number from {low} to {high}, got {quoted(raw)}", hint)
    return int(raw)


def _policy_flag(p: argparse.ArgumentParser) -> None:
    p.add_argument("--policy", metavar="FILE",
                   help="policy file (default: the config's default_policy, else HOME/policy.json)")


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser("policy", help="create and edit a trust policy (policy.json)"))
    psub = p.add_subparsers(dest="policy_command", metavar="ACTION", parser_class=type(p))
    psub.required = True

    q = common(psub.add_parser(
        "init", help="create a policy",
        description="Create a policy: pinned keyholder-set roots and keys, allowed suites, signers "
                    "and registries, minimum epoch and threshold.  Compare every pinned fingerprint "
                    "with the cooperative before you rely on it."))
    _policy_flag(q)
    q.add_argument("--root", action="append", default=[], metavar="KEYHOLDERS.json|FINGERPRINT",
                   help="pin a keyholder set (record file or 64-hex fingerprint); repeatable")
    q.add_argument("--checkpoint", action="append", default=[], metavar="KEYHOLDERS.json",
                   help="pin a later epoch's record as a checkpoint; repeatable")
    q.add_argument("--key", action="append", default=[], metavar="KEY.pub|FINGERPRINT",
                   help="pin a single holder's public key; repeatable")
    q.add_argument("--suite", action="append", default=[], metavar="SUITE", help="allowed suite; repeatable")
    q.add_argument("--signer", action="append", default=[], metavar="GLOB", help="allowed signer; repeatable")
    q.add_argument("--registry", action="append", default=[], metavar="GLOB", help="allowed registry; repeatable")
    q.add_argument("--min-epoch", default="0", metavar="N")
    q.add_argument("--min-threshold", default="1", metavar="K")
    q.add_argument("--force", action="store_true", help="replace an existing policy")
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_init")

    q = common(psub.add_parser("add-signer", help="allow a signer name (glob)"))
    _policy_flag(q)
    q.add_argument("glob", metavar="GLOB")
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_add_signer")

    q = common(psub.add_parser("add-registry", help="allow a registry/repository (glob)"))
    _policy_flag(q)
    q.add_argument("glob", metavar="GLOB")
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_add_registry")

    q = common(psub.add_parser("require-attestation", help="require an attestation predicate type (e.g. SPDX, SLSA)"))
    _policy_flag(q)
    q.add_argument("predicate_type", metavar="TYPE", help="e.g. https://slsa.dev/provenance/v1")
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_require_attestation")

    q = common(psub.add_parser("add-root", help="pin a keyholder set (record file or fingerprint)"))
    _policy_flag(q)
    q.add_argument("root", metavar="KEYHOLDERS.json|FINGERPRINT")
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_add_root")

    q = common(psub.add_parser(
        "add-checkpoint", help="pin a later epoch of a keyholder set (its record file) as a checkpoint",
        description="Pin a rotation's record: chains must pass through it (a different record at its epoch is "
                    "a fork, refused), and releases of the epoch it closed verify only if it lists them.  "
                    "It is not a second root.  Compare the printed fingerprint with the cooperative."))
    _policy_flag(q)
    q.add_argument("record", metavar="KEYHOLDERS.json")
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_add_checkpoint")

    q = common(psub.add_parser(
        "set", help="change a number of the policy: min-epoch N or min-threshold K",
        description="Set min-epoch (the lowest keyholder-set epoch accepted; raise it after a rotation, once "
                    "every verifier has the new record, so the old epochs no longer count) or min-threshold "
                    "(the lowest k accepted).  The rest of the policy is kept."))
    _policy_flag(q)
    q.add_argument("key", metavar="KEY", choices=tuple(SETTABLE), help="min-epoch or min-threshold")
    q.add_argument("value", metavar="VALUE", help="a whole number (min-epoch 0 to 2^53-1, min-threshold 1 to 255)")
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_set")

    q = common(psub.add_parser("show", help="print the policy"))
    _policy_flag(q)
    q.set_defaults(handler="cerro_torre.cli.policy:cmd_show")


def _path(ctx: Context) -> str:
    return ctx.args.policy or ctx.config.default_policy or os.path.join(ctx.home, "policy.json")


def _write(path: str, policy: Any) -> None:
    from cerro_torre.suites.atomic import atomic_write

    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    atomic_write(path, policy.to_bytes(), mode=0o644)


def _fingerprint_of(arg: str, kind: str) -> tuple[str, str]:
    """(fingerprint hex, description) of a record/key file or a literal fingerprint."""
    import re

    from cerro_torre.suites.errors import NotFound, UsageError

    lit = arg.replace(" ", "").lower()
    if re.fullmatch(r"[0-9a-f]{64}", lit) and not os.path.exists(arg):
        return lit, f"fingerprint {lit}"
    if not os.path.isfile(arg):
        if re.fullmatch(r"[0-9a-f]+", lit):
            raise UsageError(f"{arg!r} is not a full fingerprint",
                             "give all 64 hex digits (the short form is for eyes only) or the file")
        raise NotFound(f"file not found: {arg}", f"give a {kind} file or its 64-hex fingerprint")
    with open(arg, "rb") as f:
        data = f.read(4 << 20)
    if kind == "keyholder-set":
        from cerro_torre.governance.keyholders import KeyholderSet

        rec = KeyholderSet.from_bytes(data, arg)
        if rec.previous is not None:
            raise UsageError(f"{rec.describe()} is a later epoch, not a root",
                             f"pin it as a checkpoint: 'ct policy add-checkpoint {arg}'")
        fp = rec.fingerprint
        return fp.full_hex, f"{rec.describe()}, words {fp.words}"
    from cerro_torre.keys.identity import IdentityPublic

    pub = IdentityPublic.from_bytes(data, arg)
    fp = pub.fingerprint
    return fp.full_hex, f"key {pub.id!r} ({pub.suite}) {fp.hex}, words {fp.words}"


def _load(ctx: Context) -> Any:
    from cerro_torre.governance.policy import Policy

    return Policy.load(_path(ctx))


def cmd_init(ctx: Context) -> int:
    from cerro_torre.governance.policy import Policy
    from cerro_torre.suites.errors import AlreadyExists, UsageError
    from cerro_torre.suites.suite import get_suite

    a = ctx.args
    path = _path(ctx)
    if os.path.exists(path) and not a.force:
        raise AlreadyExists(f"policy already exists: {path}", "use --force to replace it, or edit it with "
                            "'ct policy add-signer|add-registry|add-root'")
    min_epoch, min_threshold = _setting("min-epoch", a.min_epoch), _setting("min-threshold", a.min_threshold)
    pinned = []
    pol = Policy(path=path, min_epoch=min_epoch, min_threshold=min_threshold)
    for r in a.root:
        fp, desc = _fingerprint_of(r, "keyholder-set")
        pol.roots.append(fp)
        pinned.append(("root", desc))
    for c in a.checkpoint:
        rec = _record(c)
        pol.add_checkpoint(rec, c)
        pinned.append(("checkpoint", f"{rec.describe()}, words {rec.fingerprint.words}"))
    for k in a.key:
        fp, desc = _fingerprint_of(k, "public key")
        pol.keys.append(fp)
        pinned.append(("key", desc))
    pol.suites = [get_suite(s, usage=True).name for s in a.suite]
    pol.signers = list(a.signer)
    pol.registries = list(a.registry)
    # round-trip through the parser: what we write, we can read
    Policy.from_bytes(pol.to_bytes(), path)
    _write(path, pol)
    if ctx.json:
        ctx.emit_json({"path": path, "policy": pol.to_json()})
        return 0
    ctx.out(f"wrote policy {path}")
    for kind, desc in pinned:
        ctx.out(f"  pinned {kind}: {desc}")
    if not pinned:
        ctx.note("hint: nothing is pinned yet; add a keyholder set with 'ct policy add-root KEYHOLDERS.json'")
    return 0


def _add(ctx: Context, field: str, value: str, desc: str) -> int:
    pol = _load(ctx)
    values = getattr(pol, field)
    changed = value not in values
    if changed:
        values.append(value)
        from cerro_torre.governance.policy import Policy

        Policy.from_bytes(pol.to_bytes(), pol.path)
        _write(pol.path, pol)
    if ctx.json:
        ctx.emit_json({"path": pol.path, "changed": changed, "policy": pol.to_json()})
    else:
        ctx.out(f"{'added' if changed else 'already present:'} {desc} in {pol.path}")
    return 0


def _glob(g: str, what: str, example: str) -> str:
    """A GLOB argument, refused (exit 64) when empty, before the policy is read: a policy's globs are
    non-empty strings."""
    from cerro_torre.suites.errors import UsageError

    if not g:
        raise UsageError(f"the {what} glob is empty", f"give a {what} name or a glob, e.g. {example}")
    return g


def cmd_add_signer(ctx: Context) -> int:
    g = _glob(ctx.args.glob, "signer", "'ct policy add-signer \"coop*\"'")
    return _add(ctx, "signers", g, f"signer {g!r}")


def cmd_add_registry(ctx: Context) -> int:
    g = _glob(ctx.args.glob, "registry", "'ct policy add-registry \"docker.io/library/*\"'")
    return _add(ctx, "registries", g, f"registry {g!r}")


def cmd_require_attestation(ctx: Context) -> int:
    from cerro_torre.ceremony.attest import check_type

    t = check_type(ctx.args.predicate_type)
    return _add(ctx, "attestations", t, f"required attestation {t}")


def cmd_add_root(ctx: Context) -> int:
    fp, desc = _fingerprint_of(ctx.args.root, "keyholder-set")
    return _add(ctx, "roots", fp, f"root {desc}")


def _record(arg: str) -> Any:
    from cerro_torre.governance.keyholders import MAX_RECORD, KeyholderSet
    from cerro_torre.suites.errors import NotFound

    if not os.path.isfile(arg):
        raise NotFound(f"file not found: {arg}", "give the record file (KEYHOLDERS.json) of the epoch to pin")
    with open(arg, "rb") as f:
        return KeyholderSet.from_bytes(f.read(MAX_RECORD + 1), arg)


def cmd_add_checkpoint(ctx: Context) -> int:
    from cerro_torre.governance.policy import Policy

    pol = _load(ctx)
    rec = _record(ctx.args.record)
    changed = pol.add_checkpoint(rec, ctx.args.record)
    fp = rec.fingerprint
    if changed:
        Policy.from_bytes(pol.to_bytes(), pol.path)
        _write(pol.path, pol)
    if ctx.json:
        ctx.emit_json({"path": pol.path, "changed": changed, "policy": pol.to_json()})
        return 0
    ctx.out(f"{'added' if changed else 'already present:'} checkpoint {rec.describe()}, words {fp.words} "
            f"in {pol.path}")
    kept = len(rec.closed_releases or ())
    ctx.out(f"  chains must pass through it; releases of epoch {rec.epoch - 1} verify only if it kept them "
            f"({kept} listed)")
    return 0


def cmd_set(ctx: Context) -> int:
    from cerro_torre.governance.policy import Policy
    from cerro_torre.suites.errors import UsageError

    key = ctx.args.key
    field = SETTABLE[key][0]
    value = _setting(key, ctx.args.value)
    pol = _load(ctx)
    old = getattr(pol, field)
    changed = old != value
    if changed:
        setattr(pol, field, value)
        Policy.from_bytes(pol.to_bytes(), pol.path)
        _write(pol.path, pol)
    if ctx.json:
        ctx.emit_json({"path": pol.path, "changed": changed, "policy": pol.to_json()})
    elif changed:
        ctx.out(f"{key}: {old} -> {value} in {pol.path}")
    else:
        ctx.out(f"{key} is already {value} in {pol.path} (nothing changed)")
    return 0


def cmd_show(ctx: Context) -> int:
    pol = _load(ctx)
    if ctx.json:
        ctx.emit_json({"path": pol.path, "policy": pol.to_json()})
        return 0
    any_ = "any"
    ctx.out(f"policy {pol.path}")
    ctx.out(f"  roots          {', '.join(pol.roots) if pol.roots else 'none pinned'}")
    ctx.out("  checkpoints    " + (", ".join(f"{r.name} epoch {r.epoch} {r.fingerprint.full_hex}"
                                           for r in pol.checkpoints) or "none pinned"))
    ctx.out(f"  keys           {', '.join(pol.keys) if pol.keys else 'none pinned'}")
    ctx.out(f"  suites         {', '.join(sorted(pol.suites)) or any_}")
    ctx.out(f"  signers        {', '.join(sorted(pol.signers)) or any_}")
    ctx.out(f"  registries     {', '.join(sorted(pol.registries)) or any_}")
    ctx.out(f"  min epoch      {pol.min_epoch}")
    ctx.out(f"  min threshold  {pol.min_threshold}")
    ctx.out(f"  attestations   {', '.join(sorted(pol.attestations)) or 'none required'}")
    return 0
