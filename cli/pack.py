"""`ct pack SOURCE -o OUT.ctp [--key ID] [--name N --version V]`."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from cerro_torre.suites.encoding import human_size

from .commands import common, passphrase_flags

if TYPE_CHECKING:
    from .main import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "pack", help="pack an image, file or directory into a .ctp bundle",
        description="Pack SOURCE into a deterministic .ctp bundle: oci:DIR[:TAG] (OCI image layout), "
                    "docker-archive:TAR, a file or directory, or a registry image (docker://REF, via skopeo). "
                    "Several SOURCEs make one release (each under payload/<name>/).  The bundle attests an "
                    "SPDX 2.3 SBOM and SLSA provenance v1 of what was packed (spec/attestations.md).  "
                    "With --key, sign it with that key of this home; without, the bundle is unsigned "
                    "and a ceremony signs it.")
    common(p)
    passphrase_flags(p)
    p.add_argument("source", metavar="SOURCE", nargs="+",
                   help="one or more: several make one release whose statement names every file of every one")
    p.add_argument("-o", "--output", required=True, metavar="OUT.ctp",
                   help="bundle to write (atomically; an existing file is refused, exit 22)")
    p.add_argument("--force", action="store_true", help="replace OUT.ctp if it exists")
    p.add_argument("--key", metavar="ID", help="sign with this key of the home (all algorithms of its suite)")
    p.add_argument("--name", metavar="N",
                   help="package name (default: from the image name, or the file or folder name: "
                        "coop-tools-1.2.0.tar.gz is coop-tools)")
    p.add_argument("--version", dest="pkg_version", metavar="V",
                   help="package version (default: from the image tag or the file or folder name, "
                        "coop-tools-1.2.0.tar.gz is 1.2.0; else 'unversioned')")
    p.add_argument("--attest", action="append", default=[], metavar="TYPE=FILE",
                   help="add an attestation: predicate type TYPE (a URI), predicate the JSON object in FILE")
    p.add_argument("--no-sbom", action="store_true", help="do not generate the SPDX 2.3 SBOM attestation")
    p.add_argument("--no-provenance", action="store_true", help="do not generate the SLSA provenance v1 attestation")
    p.set_defaults(handler="cerro_torre.cli.pack:cmd_pack")


def cmd_pack(ctx: Context) -> int:
    import os

    from cerro_torre.ceremony.bundle import pack
    from cerro_torre.ceremony.sources import open_source

    args = ctx.args
    out = args.output
    from cerro_torre.ceremony.bundle import check_label
    from cerro_torre.suites.errors import UsageError

    for flag, value in (("--name", args.name), ("--version", args.pkg_version)):
        if value is not None:
            check_label(flag, value, UsageError)
    if os.path.isdir(out):
        raise UsageError(f"{out} is a directory", "give -o the path of the .ctp file to write")
    if os.path.lexists(out) and not args.force:
        from cerro_torre.suites.errors import AlreadyExists

        raise AlreadyExists(f"{out} exists", "choose another -o, or pass --force to replace it")
    import contextlib

    from cerro_torre.ceremony import attest

    user = [attest.load_user_predicate(x) for x in args.attest]   # before any passphrase is asked
    key = None
    if args.key:
        from cerro_torre.keys.home import Home
        from cerro_torre.keys.identity import validate_id
        from cerro_torre.keys.keyfile import params_from_env

        validate_id(args.key)
        params, allow_weak = params_from_env()
        home = Home(ctx.home, params=params, allow_weak=allow_weak)
        home.public(args.key)  # NotFound before asking for a passphrase

        def unlock(pw: bytes) -> Any:
            with ctx.progress().task(f"unlocking key '{args.key}' (Argon2id)"):
                return home.load_private(args.key, pw)

        key = ctx.unlock(f"key '{args.key}'", unlock)
    try:
        with contextlib.ExitStack() as stack:
            sources = [stack.enter_context(open_source(spec)) for spec in args.source]
            if len(sources) == 1:
                source, parts = sources[0], [("", sources[0])]
            else:
                from cerro_torre.ceremony.multi import combine

                source = combine(sources)
                parts = [(name + "/", s) for name, s in source.parts]
            wanted = user or not (args.no_sbom and args.no_provenance)   # none: the file list is never held
            res = pack(source, out, name=args.name, version=args.pkg_version, key=key, progress=ctx.progress(),
                       attestations=(lambda m: _attestations(args, parts, m, user)) if wanted else None)
    finally:
        if key is not None:
            key.wipe()
    m = res.manifest
    stmt = res.statement_sha256
    signer = res.signer
    if ctx.json:
        ctx.emit_json({
            "bundle": out, "package": {"name": m.name, "version": m.version}, "source": m.source,
            "files": res.files, "bytes": res.bytes, "statement_sha256": stmt, "attestations": res.attestations,
            "signed_by": None if signer is None else {
                "id": signer.id, "suite": signer.suite, "fingerprint": signer.fingerprint.to_json()},
        })
        return 0
    ctx.out(f"packed {m.name} {m.version} into {out}")
    ctx.out(f"  source     {m.source.get('kind')} {' '.join(args.source)}")
    ctx.out(f"  payload    {res.files} file(s), {human_size(res.bytes)}")
    ctx.out(f"  statement  sha256 {stmt}")
    for t in res.attestations:
        ctx.out(f"  attests    {t}")
    if signer is not None:
        ctx.out(f"  signed by  {signer.id} ({signer.suite}), fingerprint {signer.fingerprint.hex}")
    else:
        ctx.out("  unsigned   sign it in a ceremony ('ct ceremony sign') or pack with --key ID")
    return 0


def _attestations(args, parts, manifest, user):  # type: ignore[no-untyped-def]
    """(predicate type, predicate) of each attestation: SBOM, provenance, then the user's.  The files and
    their digests are read from the manifest as packed (a walk each; never held)."""
    from cerro_torre import __version__
    from cerro_torre.ceremony import attest, sbom

    def files_of(prefix):  # (path in the artifact, sha256) of one artifact's files
        return ((f.path[len(prefix):], f.sha256) for f in manifest.files if f.path.startswith(prefix))

    out = []
    if not args.no_sbom:
        out.append((sbom.PREDICATE_TYPE, sbom.sbom_for(parts, manifest, __version__)))
    if not args.no_provenance:
        out.append((attest.SLSA_TYPE, attest.provenance([attest.source_reference(s, files_of(p)) for p, s in parts],
                                                         manifest.name, manifest.version,
                                                         [t for t, _ in user], __version__)))
    return out + list(user)
