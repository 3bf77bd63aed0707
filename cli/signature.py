"""`ct signature export BUNDLE --format signify|minisign|ssh`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from .commands import common

if TYPE_CHECKING:
    from .main import Context

FORMATS = ("signify", "minisign", "ssh", "sha256sums", "all")


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser("signature", help="stock-tool forms of a bundle's signature"))
    ssub = p.add_subparsers(dest="signature_command", metavar="ACTION", parser_class=type(p))
    ssub.required = True
    q = common(ssub.add_parser(
        "export", help="write files that signify -V, minisign -V or ssh-keygen -Y verify accept",
        description="Write the release statement (the signed message), the signature in the chosen "
                    "stock format and the matching public-key file, and print the command that checks them.  "
                    "The bundle is verified first, with this home's trust (or --policy): the public key "
                    "written is the pinned set's group key (or the trusted signer's key), never one the bundle "
                    "brings."))
    q.add_argument("bundle", metavar="BUNDLE.ctp")
    q.add_argument("--policy", metavar="P.json", help="trust to verify with (default: as 'ct verify')")
    q.add_argument("--format", required=True, choices=FORMATS,
                   help="signify, minisign, ssh (the statement), sha256sums (SHA256SUMS of the payload files "
                        "with its signify signature, for 'signify -C'), or all")
    q.add_argument("-o", "--output-dir", default=".", metavar="DIR", help="folder to write to (default: .)")
    q.add_argument("--force", action="store_true", help="replace files of the same names in DIR")
    q.add_argument("--principal", default=None, metavar="NAME",
                   help="signer identity in the ssh allowed_signers file (default: the package name)")
    q.set_defaults(handler="cerro_torre.cli.signature:cmd_export")


def cmd_export(ctx: Context) -> int:
    import re

    from cerro_torre.ceremony import stockformats
    from cerro_torre.ceremony.bundle import ENVELOPE, STOCK, read_parts
    from cerro_torre.ceremony.statement import Envelope, parse_statement
    from cerro_torre.ceremony.stockformats import StockRecord
    from cerro_torre.suites.atomic import atomic_write
    from cerro_torre.suites.errors import (
        AlreadyExists,
        Malformed,
        NotFound,
        SignatureInvalid,
        UsageError,
    )

    a = ctx.args
    if not os.path.isfile(a.bundle):
        raise NotFound(f"bundle not found: {a.bundle}", "check the path of the .ctp file")
    label = os.path.basename(a.bundle)
    parts = read_parts(a.bundle)
    if ENVELOPE not in parts.signature_members:
        raise Malformed(f"{label} has no {ENVELOPE}")
    env = Envelope.from_bytes(parts.signature_members[ENVELOPE], f"{label}: {ENVELOPE}")
    parse_statement(env.payload, f"{label}: release statement")
    if STOCK not in parts.signature_members:
        if not env.signatures:
            hint = "the bundle is not signed; sign it ('ct pack ... --key ID' or 'ct ceremony sign') first"
        elif any(s.alg == "ed25519" for s in env.signatures):
            hint = ("a keyholder set adds them in its signing ceremony; a single holder packs with --key "
                    "(an Ed25519 key)")
        else:
            hint = "stock tools verify Ed25519 only, and this bundle has no Ed25519 signature (suite CT-SIG-03?)"
        raise NotFound(f"{label} carries no stock-tool signatures ({STOCK})", hint)
    rec = StockRecord.from_bytes(parts.signature_members[STOCK], f"{label}: {STOCK}")
    bad = rec.check(env.payload)
    if bad:
        raise SignatureInvalid(f"{label}: stock-tool signature(s) {', '.join(bad)} do not verify",
                               "the bundle was altered; get a clean copy")
    # verify first: the key the stock tools will trust comes from this verifier's pinned trust
    from cerro_torre.ceremony.verifier import record_verified, verify_bundle
    from cerro_torre.offline.airgap import resolve_trust
    from cerro_torre.offline.store import Store

    policy, trust, _pin = resolve_trust(Store(ctx.home).load(), ctx.home, a.policy or ctx.config.default_policy)
    res = verify_bundle(a.bundle, trust, policy)
    if res.error is not None:
        e = res.error
        raise type(e)(e.message, *e.hints, "ct signature export verifies the bundle first: stock tools would "
                      "accept whatever key it names, so only a bundle this home trusts is exported")
    record_verified(res, ctx.home)
    cur = res.chain.current if res.chain is not None else None
    if cur is not None:
        trusted_key, whose, fp = cur.group_public_key, f"the group key of {cur.describe()}", cur.fingerprint
    else:
        trusted_key, whose, fp = res.key.keys.get("ed25519"), f"the Ed25519 key of {res.key.id!r}", res.key.fingerprint
    if trusted_key is None or trusted_key != rec.public_key:
        raise SignatureInvalid(f"{label}: the stock-tool signatures are not by {whose}",
                               "the stock-tool signatures were replaced; get a clean copy of the bundle")
    rec = StockRecord(trusted_key, rec.trusted_comment, rec.signatures, rec.namespace)
    principal = a.principal or re.sub(r"[^A-Za-z0-9._@-]", "_", parts.manifest.name) or "release"
    if not re.fullmatch(r"[A-Za-z0-9._@-]+", principal):
        raise UsageError(f"--principal {principal!r} may use letters, digits and . _ @ - only")
    stem = label[:-4] if label.endswith(".ctp") else label
    outdir = a.output_dir
    os.makedirs(outdir, exist_ok=True)
    formats = stockformats.FORMATS + ("sha256sums",) if a.format == "all" else (a.format,)
    written = {} if formats == ("sha256sums",) else {f"{stem}.statement.json": env.payload}
    for fmt in formats:
        if fmt == "sha256sums":
            written.update(stockformats.sha256sums_files(rec, env.payload, stem))
            continue
        for name, text in stockformats.export_files(rec, fmt, stem, principal).items():
            written[name] = text.encode("utf-8")
    there = sorted(n for n in written if os.path.lexists(os.path.join(outdir, n)))
    if there and not a.force:  # checked before anything is written: all files or none
        raise AlreadyExists(f"{os.path.join(outdir, there[0])} exists"
                            + (f" (and {len(there) - 1} more)" if len(there) > 1 else ""),
                            "choose another -o, or pass --force to replace them")
    for name, data in written.items():
        atomic_write(os.path.join(outdir, name), data, mode=0o644)
    cmds = {fmt: stockformats.verify_commands(fmt, stem, principal) for fmt in formats}
    if ctx.json:
        ctx.emit_json({"bundle": a.bundle, "directory": os.path.abspath(outdir), "keyid": rec.keyid,
                       "key_of": whose, "fingerprint": fp.to_json(), "trust": res.policy_label or None,
                       "files": sorted(written), "commands": cmds, "namespace": stockformats.NAMESPACE,
                       "trusted_comment": rec.trusted_comment})
        return 0
    ctx.out(f"verified {label} ({res.policy_label or 'trust from this home only'})")
    ctx.out(f"  key         {whose}, fingerprint {fp.hex}")
    ctx.out(f"  words       {fp.words}")
    ctx.out(f"wrote {len(written)} file(s) to {outdir} (Ed25519 key {rec.keyid})")
    for name in sorted(written):
        ctx.out(f"  {name}")
    ctx.out(f"check them in {outdir} with:")
    for fmt, c in cmds.items():
        ctx.out(f"  {c}")
    if "signify" in cmds:
        ctx.out("  (Debian names the signify binary 'signify-openbsd')")
    if formats != ("sha256sums",):
        ctx.out("then check each payload file's sha256 against the statement's subjects")
    return 0
