"""`ct verify BUNDLE [--policy P]` and `ct explain BUNDLE [--signers] [--layers]`."""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from cerro_torre.suites.encoding import human_size

from .commands import common

if TYPE_CHECKING:
    from .main import Context


EXIT_TEXT = ("Exit 0 valid, 1 hash mismatch, 2 signature invalid, 3 key not trusted, 4 policy rejection, "
             "10 malformed bundle.")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify", help="verify a .ctp bundle (exit 0 valid, 1 hash, 2 signature, 3 trust, 4 policy, 10 malformed)",
        description="Verify every payload digest, every signature, the keyholder chain from the pinned root "
                    "and the policy.  BUNDLE '-' reads the bundle from standard input (spooled to a "
                    "temporary file).  " + EXIT_TEXT)
    common(p)
    p.add_argument("bundle", metavar="BUNDLE.ctp|docker://REG/REPO:TAG",
                   help="the bundle, '-' for standard input, or an image in a registry: its attached bundle is "
                        "verified and the image must have exactly the digests it signs")
    p.add_argument("--policy", metavar="P.json",
                   help="policy to apply, all the trust there is (default: the config's default_policy, else a "
                        "host's pinned store policy, else HOME/policy.json with the keys this home trusts)")
    p.add_argument("--insecure", action="store_true",
                   help="docker://: allow plain HTTP and unchecked TLS (localhost always uses HTTP)")
    p.set_defaults(handler="cerro_torre.cli.verify:cmd_verify")

    p = sub.add_parser("explain", help="show what a bundle holds, who signed it and why it is (not) trusted",
                       description="Package, provenance, subjects and digests, signatures with fingerprints, "
                                   "the trust chain and its status.  The whole report is printed whatever "
                                   "the verdict, and explain exits with the code 'ct verify' would: "
                                   + EXIT_TEXT + "  BUNDLE '-' reads standard input.")
    common(p)
    p.add_argument("bundle", metavar="BUNDLE.ctp", help="the bundle, or '-' for standard input")
    p.add_argument("--policy", metavar="P.json",
                   help="policy to apply, all the trust there is (default: the config's default_policy, else a "
                        "host's pinned store policy, else HOME/policy.json with the keys this home trusts)")
    p.add_argument("--signers", action="store_true",
                   help="who signed and who did not: the group key and each member's counted keys")
    p.add_argument("--layers", action="store_true", help="list the image layers")
    p.set_defaults(handler="cerro_torre.cli.verify:cmd_explain")


def trust_of(ctx: Context) -> tuple[Any, Any]:
    """(policy, Trust) of this home: ``--policy`` (or the config's default_policy: a policy named is all
    the trust there is), else the policy a host's store pinned, else ``HOME/policy.json`` (with the keys
    this home trusts); the epochs the home verified narrow it."""
    from cerro_torre.offline.airgap import resolve_trust
    from cerro_torre.offline.store import Store

    named = getattr(ctx.args, "policy", None) or ctx.config.default_policy
    policy, trust, _pin = resolve_trust(Store(ctx.home).load(), ctx.home, named)
    return policy, trust


@contextlib.contextmanager
def _bundle_file(ctx: Context) -> Iterator[str]:
    """The bundle's path; for '-', standard input spooled to a temporary file (1 MiB at a time)."""
    from cerro_torre.suites.errors import NotFound, UsageError

    path = ctx.args.bundle
    if path != "-":
        if not os.path.exists(path):
            raise NotFound(f"bundle not found: {path}", "check the path of the .ctp file")
        yield path
        return
    stdin = sys.stdin.buffer
    if stdin.isatty():
        raise UsageError("'-' reads the bundle from standard input, which is a terminal",
                         "pipe or redirect the bundle: ct verify - < BUNDLE.ctp")
    fd, tmp = tempfile.mkstemp(prefix="ct-stdin-", suffix=".ctp")
    try:
        with os.fdopen(fd, "wb") as f:
            shutil.copyfileobj(stdin, f, 1 << 20)
        yield tmp
    finally:
        os.unlink(tmp)


@contextlib.contextmanager
def _verified(ctx: Context) -> Iterator[Any]:
    """The VerifyResult of the bundle; a spooled standard input stays until the block ends (what is
    printed lists the files, read again from it)."""
    from cerro_torre.ceremony.verifier import Problem, verify_bundle
    from cerro_torre.offline.airgap import sniff
    from cerro_torre.suites.errors import Malformed

    policy, trust = trust_of(ctx)
    stdin = ctx.args.bundle == "-"
    with _bundle_file(ctx) as path:
        res = verify_bundle(path, trust, policy, progress=ctx.progress(), label="stdin" if stdin else None)
        if res.failed_step == "structure" and sniff(path) == "airgap":
            res.problems = [Problem("structure", Malformed(
                f"{'stdin' if stdin else os.path.basename(path)} is an airgap tarball, not a bundle",
                f"this is an airgap tarball: use 'ct import {'AIRGAP.tar' if stdin else path} --verify'"))]
        if stdin:
            res.path = "-"
        if policy is not None and not policy.path:
            res.policy_label = f"the policy pinned in {os.path.join(ctx.home, 'store')}"
        yield res


def _name(res: Any) -> str:
    return "stdin" if res.path == "-" else os.path.basename(res.path)


def _signer_line(s: dict) -> str:
    if not s:
        return "unknown"
    if s["kind"] == "keyholder-set":
        return (f"keyholder set '{s['name']}' epoch {s['epoch']} ({s['suite']}, {s['threshold']} of "
                f"{s['members']}), fingerprint {s['fingerprint'].hex}")
    return f"key '{s['name']}' ({s['suite']}), fingerprint {s['fingerprint'].hex}"


def _verify_reference(ctx: Context) -> tuple[Any, Any]:
    """(VerifyResult or None, RefVerdict) of ``docker://REG/REPO:TAG``."""
    from cerro_torre.offline import registry

    ref = registry.parse_ref(ctx.args.bundle, need_tag=True)
    policy, trust = trust_of(ctx)
    verdict = registry.verify_reference(ref, trust, policy, insecure=ctx.args.insecure)
    return verdict.result, verdict


def _json_of(ctx: Context, res: Any, verdict: Any, err: Any) -> dict[str, Any]:
    """The --json document of a reference (spec/verify-json.schema.json): ``image`` and its step added."""
    policy = trust_of(ctx)[0]
    data = res.to_json() if res is not None else {
        "bundle": None, "steps": {}, "problems": [], "failed_step": None, "attestations": [],
        "policy": policy.label if policy is not None else None}
    data["image"] = verdict.to_json()
    image_failed = err is not None and (res is None or res.error is None)
    data["steps"]["image"] = "failed" if image_failed else "ok" if err is None else "not checked"
    if image_failed:
        data["failed_step"] = "image"
        data["problems"].append({"step": "image", "exit_code": err.exit_code, "error": err.message,
                                 "hints": list(err.hints)})
    data.update({"valid": err is None, "exit_code": err.exit_code if err else 0,
                 "error": err.message if err else None, "hints": list(err.hints) if err else []})
    return data


def cmd_verify(ctx: Context) -> int:
    from cerro_torre.suites.suite import counts_text

    from cerro_torre.ceremony.verifier import record_verified

    verdict = None
    if ctx.args.bundle.startswith("docker://"):
        res, verdict = _verify_reference(ctx)
        err = verdict.error
        if err is None:
            record_verified(res, ctx.home)      # the epochs this home verified: its trust only moves forward
        if ctx.json:
            ctx.emit_json(_json_of(ctx, res, verdict, err))
    else:
        with _verified(ctx) as res:
            err = res.error
            if err is None:
                record_verified(res, ctx.home)
            if ctx.json:
                ctx.emit_json(res.to_json())
    if err is not None:
        raise err
    if ctx.json:
        return 0
    m = res.manifest
    if verdict is not None:
        f = verdict.found
        ctx.out(f"ok: {f.ref} is valid" + (f" (image {f.digest})" if f.attached else ""))
        ctx.out(f"  bundle      {os.path.basename(res.path)}, artifact {f.ref.name}@{verdict.bundle_digest}")
        if f.attached:
            ctx.out("  image       every digest of the image in the registry is signed by the bundle")
    else:
        ctx.out(f"ok: {_name(res)} is valid")
    ctx.out(f"  package     {m.name} {m.version}")
    ctx.out(f"  signed by   {_signer_line(res.signer)}")
    ctx.out(f"  signatures  {counts_text(res.release)}")
    if res.chain is not None and res.chain.steps:
        first, last = res.chain.steps[0].record, res.chain.steps[-1].record
        ctx.out(f"  chain       epoch {first.epoch} (pinned) -> epoch {last.epoch}, "
                f"{len(res.chain.steps)} record(s), expires {last.expires}")
        fwd = res.chain.forward
        if fwd is not None and fwd.status == "kept":
            ctx.out(f"  closed      epoch {last.epoch} was closed by epoch {fwd.closed_by.epoch} "
                    f"({fwd.closed_by.fingerprint.hex}), which kept this release")
    if res.stock is not None:
        ctx.out("  stock       signify, minisign, ssh and SHA256SUMS signatures verified")
    if res.attestations:
        ctx.out(f"  attests     {', '.join(a.predicate_type for a in res.attestations)}")
    ctx.out(f"  payload     {len(m.files)} file(s), {human_size(m.total_size)}, every sha256 matches")
    ctx.out(f"  policy      {res.policy_label or 'none (trust from this home only)'}")
    return 0


def cmd_explain(ctx: Context) -> int:
    with _verified(ctx) as res:
        return _explain(ctx, res)


def _explain(ctx: Context, res: Any) -> int:
    from cerro_torre.ceremony.verifier import chain_step_lines, epochs_text, signer_rows, signer_sections
    from cerro_torre.suites.suite import counts_text

    err = res.error
    code = err.exit_code if err is not None else 0
    if ctx.json:
        data = res.to_json()
        if ctx.args.signers:
            data["signers"] = signer_rows(res)
        ctx.emit_json(data)
        return code
    out = ctx.out
    m = res.manifest
    out(f"bundle      {_name(res)} ({human_size(res.size)})")
    if m is None:
        out(f"status      MALFORMED (ct verify exits {err.exit_code}): {err.message}")
        for h in err.hints:
            out(f"            hint: {h}")
        return code
    out(f"package     {m.name} {m.version}")
    src = m.source
    out(f"source      {src.get('kind')}" + "".join(
        f"  {k} {', '.join(v) if isinstance(v, list) else v}" for k, v in sorted(src.items()) if k != "kind"))
    if res.statement is not None:
        out(f"statement   in-toto Statement v1, sha256 {res.statement_sha256}")
        out(f"            predicate {res.statement.predicate_type}")
    out(f"manifest    sha256 {res.manifest_sha256}")
    out(f"subjects    {len(m.files)} file(s), {human_size(m.total_size)}")
    for f, mark in res.file_rows():
        out(f"  {f.sha256}  {f.size:>12}  {mark:<8}  {f.path}")
    if args_layers(ctx):
        out(f"layers      {len(m.layers)}")
        for layer in m.layers:
            out(f"  {layer.get('digest')}  {layer.get('size'):>12}  {layer.get('platform') or '-':<14}"
                f"  {layer.get('media_type')}")
    env = res.envelope
    if env is not None:
        out(f"signatures  {len(env.signatures)} over the DSSE envelope ({env.payload_type})")
        for s in env.signatures:
            out(f"  {s.alg:<10} keyid {s.keyid}  {res.names.get(s.keyid, 'unknown key')}")
    out(f"signer      {_signer_line(res.signer)}")
    if res.release is not None:
        out(f"threshold   {counts_text(res.release)}  ({'met' if res.release.ok else 'NOT met'})")
    if res.chain is not None:
        out("trust chain")
        if not res.chain.steps:
            out("  (no record of the chain starts at a pinned root)")
        for i, step in enumerate(res.chain.steps):
            r = step.record
            role = "pinned root" if i == 0 else f"rotated from epoch {res.chain.steps[i - 1].record.epoch}"
            out(f"  epoch {r.epoch:<4} {r.name}  {r.suite}  {r.threshold} of {len(r.members)}  "
                f"fingerprint {r.fingerprint.hex}  expires {r.expires}")
            for line in chain_step_lines(role, step):
                out("             " + line)
    epochs = epochs_text(res)
    if epochs:
        out(f"epochs      {epochs}")
    if res.stock is not None:
        out(f"stock       signify, minisign, ssh, SHA256SUMS signatures by keyid {res.stock.keyid}")
        out(f"            trusted comment: {res.stock.trusted_comment}")
    if res.attestations:
        from cerro_torre.ceremony.verifier import attestation_lines

        head, rows = attestation_lines(res)
        out(head)
        for row in rows:
            out("  " + row)
    if ctx.args.signers:
        out("signers")
        for title, rows in signer_sections(signer_rows(res)):
            out(f"  {title}")
            for s in rows:
                out(f"    {s['id']:<16} {s['role']:<9} fingerprint {s['fingerprint']}  words {s['words']}")
                for alg, info in s["keys"].items():
                    out(f"        {alg:<10} keyid {info['keyid']}")
    out(f"trust from  {res.policy_label or 'this home only (no policy)'}")
    from cerro_torre.ceremony.verifier import STEPS

    out("checks      " + ", ".join(f"{s} {res.step_status(s)}" for s in STEPS))
    if err is None:
        out("status      valid (ct verify exits 0)")
    else:
        out(f"status      {'MALFORMED' if err.exit_code == 10 else 'INVALID'} (ct verify exits {err.exit_code}): "
            f"{err.message}")
        for h in err.hints:
            out(f"            hint: {h}")
    return code


def args_layers(ctx: Context) -> bool:
    return bool(getattr(ctx.args, "layers", False))
