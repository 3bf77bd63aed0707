"""`ct push BUNDLE REG/REPO:TAG [--attach]` and `ct fetch REG/REPO:TAG -o OUT.ctp` (spec/registry.md)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from .commands import common

if TYPE_CHECKING:
    from .main import Context

INSECURE_HELP = "allow plain HTTP and unchecked TLS for this registry (localhost and 127.0.0.1 always use HTTP)"


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser(
        "push", help="store a bundle in an OCI registry (as an artifact, or attached to its image)",
        description="Push BUNDLE.ctp to REG/REPO:TAG as an OCI artifact (artifactType "
                    "application/vnd.cerro-torre.bundle.v1, the bundle as its one layer).  With --attach, "
                    "REG/REPO:TAG names the image the bundle signs: the artifact is attached to that image's "
                    "digest (OCI referrers API, or the sha256-<hex> referrers tag where the registry lacks it); "
                    "an image whose digest the bundle does not sign is refused (exit 1)."))
    p.add_argument("bundle", metavar="BUNDLE.ctp")
    p.add_argument("reference", metavar="REG/REPO:TAG")
    p.add_argument("--attach", action="store_true", help="attach to the image REG/REPO:TAG names")
    p.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    p.set_defaults(handler="cerro_torre.cli.registry:cmd_push")

    f = common(sub.add_parser(
        "fetch", help="get a bundle back from an OCI registry",
        description="Write the bundle REG/REPO:TAG names (a pushed bundle, or the bundle attached to an image) "
                    "to OUT.ctp, every byte checked against its digest.  It is not verified: run 'ct verify'."))
    f.add_argument("reference", metavar="REG/REPO:TAG")
    f.add_argument("-o", "--output", required=True, metavar="OUT.ctp")
    f.add_argument("--insecure", action="store_true", help=INSECURE_HELP)
    f.set_defaults(handler="cerro_torre.cli.registry:cmd_fetch")


def cmd_push(ctx: Context) -> int:
    from cerro_torre.ceremony.bundle import read_parts
    from cerro_torre.ceremony.statement import Envelope, parse_statement
    from cerro_torre.offline import registry
    from cerro_torre.suites.errors import HashMismatch, NotFound

    a = ctx.args
    if not os.path.isfile(a.bundle):
        raise NotFound(f"bundle not found: {a.bundle}", "check the path of the .ctp file")
    ref = registry.parse_ref(a.reference, need_tag=True)
    attach_to = None
    if a.attach:
        parts = read_parts(a.bundle)
        from cerro_torre.ceremony.bundle import ENVELOPE

        statement = parse_statement(Envelope.from_bytes(parts.signature_members.get(ENVELOPE, b"")).payload)
        found = registry.find(ref, insecure=a.insecure)
        if not registry.signed_blob(statement, found.digest):
            raise HashMismatch(
                f"{ref} is image {found.digest}, which {os.path.basename(a.bundle)} does not sign",
                "attach a bundle to the image it was packed from (ct explain BUNDLE shows its manifests)")
        attach_to = found.digest
    res = registry.push(a.bundle, ref, attach_to=attach_to, insecure=a.insecure)
    if ctx.json:
        ctx.emit_json({"bundle": a.bundle, "reference": str(ref), "artifact": res.digest, "size": res.size,
                       "attached_to": res.subject or None, "referrers": res.referrers or None})
        return 0
    if res.subject:
        ctx.out(f"attached {a.bundle} to {ref.name}@{res.subject}")
        ctx.out(f"  artifact   {ref.name}@{res.digest}")
        ctx.out("  found by   " + ("the registry's referrers API" if res.referrers == "api" else
                                   f"the referrers tag {registry.fallback_tag(res.subject)} "
                                   "(the registry has no referrers API)"))
    else:
        ctx.out(f"pushed {a.bundle} to {ref}")
        ctx.out(f"  artifact   {ref.name}@{res.digest}")
    ctx.out(f"  check it with 'ct verify docker://{ref}'")
    return 0


def cmd_fetch(ctx: Context) -> int:
    from cerro_torre.offline import registry
    from cerro_torre.suites.errors import AlreadyExists, UsageError

    a = ctx.args
    ref = registry.parse_ref(a.reference, need_tag=True)
    if os.path.isdir(a.output):
        raise UsageError(f"{a.output} is a directory", "give -o the path of the .ctp file to write")
    if os.path.exists(a.output):
        raise AlreadyExists(f"{a.output} exists", "choose another -o, or move the old file away")
    got = registry.fetch(ref, a.output, insecure=a.insecure)
    if ctx.json:
        ctx.emit_json({"reference": str(ref), "digest": got.found.digest, "artifact": got.layer["manifest"],
                       "attached": got.found.attached, "output": a.output, "size": got.layer["size"]})
        return 0
    what = f"the bundle attached to {ref.name}@{got.found.digest}" if got.found.attached \
        else f"{ref.name}@{got.found.digest}"
    ctx.out(f"fetched {a.output} ({got.layer['size']} bytes, sha256 checked) from {what}")
    ctx.out(f"  verify it with 'ct verify {a.output}'")
    return 0
