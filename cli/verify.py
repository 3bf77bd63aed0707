"""`ct verify BUNDLE [--policy P]` and `ct explain BUNDLE [--signers] [--layers]`."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING, Any

from cerro_torre.suites.encoding import human_size, printable

from .commands import common

if TYPE_CHECKING:
    from .main import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify", help="verify a .ctp bundle (exit 0 valid, 1 hash, 2 signature, 3 trust, 4 policy, 10 malformed)",
        description="Verify every payload digest, every signature, the keyholder chain from the pinned root "
                    "and the policy.  Exit 0 valid, 1 hash mismatch, 2 signature invalid, 3 key not trusted, "
                    "4 policy rejection, 10 malformed bundle.")
    common(p)
    p.add_argument("bundle", metavar="BUNDLE.ctp")
    p.add_argument("--policy", metavar="P.json", help="policy to apply (default: HOME/policy.json when present)")
    p.set_defaults(handler="cerro_torre.cli.verify:cmd_verify")

    p = sub.add_parser("explain", help="show what a bundle holds, who signed it and why it is (not) trusted",
                       description="Package, provenance, subjects and digests, signatures with fingerprints, "
                                   "the trust chain and its status.")
    common(p)
    p.add_argument("bundle", metavar="BUNDLE.ctp")
    p.add_argument("--policy", metavar="P.json", help="policy to apply (default: HOME/policy.json when present)")
    p.add_argument("--signers", action="store_true", help="detail every signer: member, key ids, fingerprints")
    p.add_argument("--layers", action="store_true", help="list the image layers")
    p.set_defaults(handler="cerro_torre.cli.verify:cmd_explain")


def load_policy(ctx: Context) -> Any:
    from cerro_torre.governance.policy import Policy

    path = getattr(ctx.args, "policy", None)
    if path:
        return Policy.load(path)
    default = os.path.join(ctx.home, "policy.json")
    if os.path.isfile(default):
        return Policy.load(default)
    return None


def _run(ctx: Context) -> Any:
    from cerro_torre.ceremony.verifier import trust_from, verify_bundle
    from cerro_torre.suites.errors import NotFound

    path = ctx.args.bundle
    if not os.path.exists(path):
        raise NotFound(f"bundle not found: {path}", "check the path of the .ctp file")
    policy = load_policy(ctx)
    trust = trust_from(ctx.home, policy)
    return verify_bundle(path, trust, policy)


def _report_error(ctx: Context, err: Any) -> None:
    ctx.stderr.write(f"error: {printable(err.message)}\n")
    for h in err.hints:
        ctx.stderr.write(f"hint: {printable(h)}\n")


def _signer_line(s: dict) -> str:
    if not s:
        return "unknown"
    if s["kind"] == "keyholder-set":
        return (f"keyholder set '{s['name']}' epoch {s['epoch']} ({s['suite']}, {s['threshold']} of "
                f"{s['members']}), fingerprint {s['fingerprint'].hex}")
    return f"key '{s['name']}' ({s['suite']}), fingerprint {s['fingerprint'].hex}"


def cmd_verify(ctx: Context) -> int:
    from cerro_torre.suites.suite import counts_text

    res = _run(ctx)
    err = res.error
    if ctx.json:
        ctx.emit_json(res.to_json())
        if err is not None:
            _report_error(ctx, err)
            return err.exit_code
        return 0
    if err is not None:
        raise err
    m = res.manifest
    total = sum(f.size for f in m.files)
    ctx.out(f"ok: {os.path.basename(res.path)} is valid")
    ctx.out(f"  package     {m.name} {m.version}")
    ctx.out(f"  signed by   {_signer_line(res.signer)}")
    ctx.out(f"  signatures  {counts_text(res.release)}")
    if res.chain is not None and res.chain.steps:
        first, last = res.chain.steps[0].record, res.chain.steps[-1].record
        ctx.out(f"  chain       epoch {first.epoch} (pinned) -> epoch {last.epoch}, "
                f"{len(res.chain.steps)} record(s), expires {last.expires}")
    if res.stock is not None:
        ctx.out("  stock       signify, minisign and ssh signatures verified")
    ctx.out(f"  payload     {len(m.files)} file(s), {human_size(total)}, every sha256 matches")
    ctx.out(f"  policy      {res.policy_label or 'none (trust from this home only)'}")
    return 0


def cmd_explain(ctx: Context) -> int:
    from cerro_torre.ceremony.verifier import signer_rows
    from cerro_torre.suites.suite import counts_text

    res = _run(ctx)
    err = res.error
    if ctx.json:
        data = res.to_json()
        if ctx.args.signers:
            data["signers"] = signer_rows(res)
        ctx.emit_json(data)
        return 0
    out = ctx.out
    m = res.manifest
    out(f"bundle      {os.path.basename(res.path)} ({human_size(res.size)})")
    if m is None:
        out(f"status      MALFORMED (exit {err.exit_code}): {err.message}")
        for h in err.hints:
            out(f"            hint: {h}")
        return 0
    out(f"package     {m.name} {m.version}")
    src = m.source
    out(f"source      {src.get('kind')}" + "".join(
        f"  {k} {', '.join(v) if isinstance(v, list) else v}" for k, v in sorted(src.items()) if k != "kind"))
    if res.statement is not None:
        import hashlib

        out(f"statement   in-toto Statement v1, sha256 {hashlib.sha256(res.statement.raw).hexdigest()}")
        out(f"            predicate {res.statement.predicate_type}")
    out(f"manifest    sha256 {res.manifest_sha256}")
    total = sum(f.size for f in m.files)
    out(f"subjects    {len(m.files)} file(s), {human_size(total)}")
    for f in m.files:
        got = res.computed.get(f.path)
        mark = "ok" if got and got[0] == f.sha256 else "MISMATCH" if got else "MISSING"
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
            detail = f"own: {counts_text(step.own)}"
            if step.by_previous is not None:
                detail = f"by previous: {counts_text(step.by_previous)}; " + detail
            out(f"             {role}; {detail}; {'ok' if step.ok else step.note or 'failed'}")
    if res.stock is not None:
        out(f"stock       signify, minisign, ssh signatures by keyid {res.stock.keyid}")
        out(f"            trusted comment: {res.stock.trusted_comment}")
    if ctx.args.signers:
        out("signers")
        for s in signer_rows(res):
            out(f"  {s['id']:<16} {s['role']:<8} fingerprint {s['fingerprint']}  words {s['words']}")
            for alg, info in s["keys"].items():
                out(f"      {alg:<10} keyid {info['keyid']}  {'signed' if info['signed'] else 'did not sign'}")
    out(f"trust from  {res.policy_label or 'this home only (no policy)'}")
    from cerro_torre.ceremony.verifier import STEPS

    out("checks      " + ", ".join(f"{s} {res.step_status(s)}" for s in STEPS))
    if err is None:
        out("status      valid (ct verify exits 0)")
    else:
        out(f"status      INVALID (ct verify exits {err.exit_code}): {err.message}")
        for h in err.hints:
            out(f"            hint: {h}")
    return 0


def args_layers(ctx: Context) -> bool:
    return bool(getattr(ctx.args, "layers", False))
