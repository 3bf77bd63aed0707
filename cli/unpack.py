"""`ct unpack BUNDLE -o DIR [--policy P] [--oci]` and `ct attestations BUNDLE -o DIR`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from .commands import common

if TYPE_CHECKING:
    from .main import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser(
        "unpack", help="verify a bundle, then write its payload to a new folder",
        description="Verify BUNDLE.ctp as 'ct verify' does; only when it is valid, write its payload files to "
                    "DIR (a new folder, written whole or not at all).  Exit codes as for ct verify."))
    p.add_argument("bundle", metavar="BUNDLE.ctp")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="folder to create")
    p.add_argument("--policy", metavar="P.json", help="policy to apply (default: HOME/policy.json when present)")
    p.add_argument("--oci", action="store_true",
                   help="the bundle must hold an OCI image layout; DIR is then usable as 'skopeo copy oci:DIR ...'")
    p.set_defaults(handler="cerro_torre.cli.unpack:cmd_unpack")

    a = common(sub.add_parser(
        "attestations", help="write a bundle's attestations (in-toto statements and their DSSE envelopes)",
        description="Verify BUNDLE.ctp, then write each attestation's statement (<type>.<sha256>.json) and "
                    "signed DSSE envelope (<type>.<sha256>.dsse.json) to DIR."))
    a.add_argument("bundle", metavar="BUNDLE.ctp")
    a.add_argument("-o", "--output-dir", required=True, metavar="DIR")
    a.add_argument("--policy", metavar="P.json", help="policy to apply (default: HOME/policy.json when present)")
    a.set_defaults(handler="cerro_torre.cli.unpack:cmd_attestations")


def cmd_unpack(ctx: Context) -> int:
    from cerro_torre.offline.unpack import unpack
    from cerro_torre.suites.encoding import human_size
    from cerro_torre.suites.errors import NotFound

    from .verify import trust_of

    a = ctx.args
    if not os.path.isfile(a.bundle):
        raise NotFound(f"bundle not found: {a.bundle}", "check the path of the .ctp file")
    policy, trust = trust_of(ctx)
    res = unpack(a.bundle, a.output, trust, policy, oci=a.oci)
    from cerro_torre.ceremony.verifier import record_verified

    record_verified(res, ctx.home)
    m = res.manifest
    total = sum(f.size for f in m.files)
    if ctx.json:
        ctx.emit_json({"bundle": a.bundle, "output": a.output, "files": len(m.files), "bytes": total,
                       "package": {"name": m.name, "version": m.version}, "oci": a.oci})
        return 0
    ctx.out(f"verified {os.path.basename(a.bundle)} and unpacked {len(m.files)} file(s), {human_size(total)} "
            f"to {a.output}")
    if a.oci:
        ctx.out(f"  load it with 'skopeo copy oci:{a.output} DEST' (an OCI image layout)")
    return 0


def cmd_attestations(ctx: Context) -> int:
    import re

    from cerro_torre.ceremony.verifier import record_verified, verify_bundle
    from cerro_torre.suites.atomic import atomic_write
    from cerro_torre.suites.errors import NotFound

    from .verify import trust_of

    a = ctx.args
    if not os.path.isfile(a.bundle):
        raise NotFound(f"bundle not found: {a.bundle}", "check the path of the .ctp file")
    policy, trust = trust_of(ctx)
    res = verify_bundle(a.bundle, trust, policy)
    if res.error is not None:
        raise res.error
    record_verified(res, ctx.home)
    os.makedirs(a.output_dir, exist_ok=True)
    rows = []
    for att in res.attestations:
        slug = re.sub(r"[^A-Za-z0-9._-]+", "-", att.predicate_type.split("://", 1)[-1]).strip("-")[:80]
        stem = f"{slug}.{att.sha256[:16]}"
        env, _pae = att.read()
        atomic_write(os.path.join(a.output_dir, stem + ".json"), bytes(env.payload))
        atomic_write(os.path.join(a.output_dir, stem + ".dsse.json"), env.to_bytes())
        del env, _pae
        rows.append({"predicateType": att.predicate_type, "sha256": att.sha256,
                     "statement": stem + ".json", "envelope": stem + ".dsse.json"})
    if ctx.json:
        ctx.emit_json({"bundle": a.bundle, "directory": a.output_dir, "attestations": rows})
        return 0
    ctx.out(f"wrote {len(rows)} attestation(s) of {os.path.basename(a.bundle)} to {a.output_dir}")
    for r in rows:
        ctx.out(f"  {r['statement']:<48} {r['predicateType']}")
    return 0
