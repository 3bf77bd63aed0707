"""`ct version`, `ct help`, `ct doctor`."""

from __future__ import annotations

import argparse
import importlib
from typing import TYPE_CHECKING

from .commands import TOPICS, common

if TYPE_CHECKING:
    from .main import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser("version", help="print the version"))
    p.set_defaults(handler="cerro_torre.cli.info:cmd_version")
    p = common(sub.add_parser("help", help="help on a command or topic"))
    p.add_argument("topic", nargs="*", metavar="TOPIC")
    p.set_defaults(handler="cerro_torre.cli.info:cmd_help")
    p = common(sub.add_parser("doctor", help="check backends and run known-answer self-tests"))
    p.set_defaults(handler="cerro_torre.cli.info:cmd_doctor")
    p = common(sub.add_parser(
        "completion", help="print a shell completion script (bash or zsh)",
        description="Print the completion script for SHELL on stdout (made by shtab from ct's own parser).",
        epilog="bash: ct completion bash > ~/.local/share/bash-completion/completions/ct   "
               "zsh: ct completion zsh > ~/.zfunc/_ct (with fpath+=~/.zfunc before compinit)"))
    p.add_argument("shell", metavar="SHELL", choices=("bash", "zsh"), help="bash or zsh")
    p.set_defaults(handler="cerro_torre.cli.info:cmd_completion")


def cmd_version(ctx: Context) -> int:
    import platform

    from cerro_torre import __version__

    if ctx.json:
        ctx.emit_json({"name": "cerro-torre", "version": __version__, "python": platform.python_version()})
    else:
        ctx.out(f"ct {__version__} (Python {platform.python_version()})")
    return 0


def cmd_help(ctx: Context) -> int:
    from cerro_torre.suites.errors import UsageError

    from .main import build_parser

    parser = build_parser()
    words = list(ctx.args.topic)
    if not words:
        ctx.stdout.write(parser.format_help())  # print_help would hide a closed pipe
        return 0
    name = " ".join(words)
    if name in TOPICS:
        mod, func = TOPICS[name].split(":")
        ctx.stdout.write(getattr(importlib.import_module(mod), func)())
        return 0
    node = parser
    for w in words:
        subs = [a for a in node._actions if isinstance(a, argparse._SubParsersAction)]
        if not subs or w not in subs[0].choices:
            known = sorted(set(_command_names(parser)) | set(TOPICS))
            raise UsageError(f"no help for {name!r}", "topics: " + ", ".join(known))
        node = subs[0].choices[w]
    ctx.stdout.write(node.format_help())
    return 0


def _command_names(parser: argparse.ArgumentParser) -> list[str]:
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return list(subs[0].choices) if subs else []


def cmd_completion(ctx: Context) -> int:
    import shtab

    from .main import build_parser

    if ctx.json:
        ctx.emit_json({"shell": ctx.args.shell, "script": shtab.complete(build_parser(), shell=ctx.args.shell)})
    else:
        ctx.stdout.write(shtab.complete(build_parser(), shell=ctx.args.shell))
    return 0


def topic_exit_codes() -> str:
    from cerro_torre.suites.errors import EXIT_CODES

    rows = "".join(f"{code:>4}  {meaning}\n" for code, meaning in EXIT_CODES.items())
    return "Exit codes of ct (spec/exit-codes.md):\n" + rows


def topic_suites() -> str:
    return """\
Signature suites:
  CT-SIG-01  Ed25519. For a cooperative: one FROST(Ed25519, SHA-512) group
             signature (RFC 9591), a plain RFC 8032 signature under the
             group key made by >= k keyholders.
  CT-SIG-02  Hybrid (default): the CT-SIG-01 signature AND >= k ML-DSA-87
             signatures from distinct members; each threshold is counted on
             its own, so one algorithm never makes up for the other.
  CT-SIG-03  Post-quantum only: >= k ML-DSA-87 signatures from distinct members.
"""


def topic_environment() -> str:
    return """\
Environment:
  CT_HOME          keyholder home (same as --home); default: the config's home,
                   else $XDG_DATA_HOME/cerro-torre (default ~/.local/share/cerro-torre)
  CT_PASSPHRASE    passphrase for sealed keys, for automation (else --passphrase-file, else a prompt)
  XDG_CONFIG_HOME  the config file is $XDG_CONFIG_HOME/cerro-torre/config.toml (default ~/.config);
                   the old cerro/config.toml is read, with a warning, while the new one does not exist
  NO_COLOR         no colour (unless the config says color = "always")
  TMPDIR           where 'ct verify -' and 'ct explain -' spool standard input

Config file (TOML, every key optional; command-line flags and CT_HOME come first).
A file that is not TOML, an unknown key or a wrong value is refused (exit 10), never skipped:
  home = "~/keys/ct"           keyholder home, after --home and CT_HOME
  default_key = "alice"        the default key: what 'ct key export --public' exports without an ID
                               and 'ct key list' marks with *; it wins over 'ct key default'
  default_policy = "~/p.json"  the policy of verify, explain, import, export --include-keys and
                               'ct policy ...' when --policy is not given (instead of HOME/policy.json)
  output = "text"              "json": every command as if --json were given
  color = "auto"               "always" or "never"; auto: colour on a terminal unless NO_COLOR is set
                               (QR codes drawn in the terminal, ct tui)
"""


def topic_rotate() -> str:
    return """\
A keyholder lost a machine, forgot a passphrase, or leaves: rotate the set (or repair a lost share).

One share alone never signs: a release needs k of the n keyholders, so one
lost share is not a lost release key.  It is a smaller margin (n - k shares
may be lost before nothing can be signed), and a stolen machine is a share
in someone else's hands behind one passphrase.  Act soon.  First decide
what happened:

* The share is lost but the keyholder still has its identity key (a home
  restored from a backup made before the keygen, a damaged share file), and
  nothing was stolen: REPAIR it (A).
* A machine is lost or broken, a passphrase forgotten, or a member leaves,
  and there is no reason to think a share was taken: rotate KEEPING THE
  GROUP KEY (B, --keep-key): users who pinned the key in signify, minisign
  or ssh keep verifying.
* A machine was stolen or a home possibly copied, or a member leaves on bad
  terms: treat the share as compromised and rotate to A NEW KEY (B without
  --keep-key) before the next release.  With a kept key, k shares of the
  old epoch still make it: stock tools (and CT-SIG-01 sets) cannot tell a
  removed member's signature from the set's; CT-SIG-02's per-member
  ML-DSA-87 threshold can (spec/threat-model.md).

A. Repair (no new record: the restored share must match the member's
   verification share in the record).  k or more helpers, none learns it:
     ct ceremony repair --group keyholders.json --member bob \\
         --helper alice --helper carol -o rep.ctm
   helpers answer three rounds, bob keeps the first two and answers the
   last; bob's home must keep the record ('ct ceremony step keyholders.json'
   keeps one bob signed).  bob signs again from then on.

B. Rotation.
1. The coordinator opens a rotation of the current record, removing the
   keyholder and adding a replacement if there is one (--threshold K to
   change k), and lists the releases the old set signed that stay valid
   (each old member's home refuses a list that leaves out one it signed;
   --releases FILE takes digests or a keyholder's signed.log):
     ct ceremony rotate --group keyholders.json --remove bob --add frank.pub -o rot.ctm \\
         --release app-1.0-signed.ctp [--keep-key]
2. The members of the new set answer every round; the old set's signers
   (default: its members who stay; --old-signer ID to choose, at least k)
   answer the rounds that carry the old set's signature (with --keep-key
   they deal the key anew in the first round); the one who left is
   optional:
     ct ceremony step rot.ctm -o rot-alice.ctm
     ct ceremony collect rot.ctm rot-*.ctm -o rot1.ctm      (and so on)
   The last collect writes the record of epoch N+1, valid only when signed
   by k of epoch N and by k of epoch N+1, per algorithm.  Compare its
   fingerprint words across the air gap as for any ceremony.
   'ct ceremony script rot.ctm -o rot.md' prints every step for everyone.
3. Every keyholder, the one who left too, keeps the new record; the home
   retires its share of epoch N (deletes it when the key was kept) and
   signs no more with it:
     ct ceremony step keyholders-2.json
4. Verifiers move their trust forward: from then on a release epoch N signs
   is refused unless the new record lists it (closed_releases):
     ct policy add-checkpoint keyholders-2.json --policy POLICY.json
   Bundles signed by epoch N+1 carry the chain; 'ct export --include-keys
   --keyholders NEW.json' carries it to disconnected hosts.  To refuse even
   the releases epoch N signed before the rotation:
     ct policy set min-epoch N+1
5. Without --keep-key the group key changes: give users of the stock-tool
   forms (signify, minisign, ssh) the new public key ('ct signature export'
   of a release of epoch N+1).  With --keep-key nothing changes for them.

Refresh: the same members, threshold and key, new shares for everyone (a
new epoch; old and new shares do not combine; every member takes part):
     ct ceremony refresh --group keyholders.json -o ref.ctm [--release ...]
"""


def cmd_doctor(ctx: Context) -> int:
    from cerro_torre.keys.selftest import ALL as KEYS_SELFTESTS
    from cerro_torre.suites.selftest import run_doctor

    report = run_doctor(KEYS_SELFTESTS)
    if ctx.json:
        ctx.emit_json(report)
    else:
        ctx.out("backends:")
        for name, info in report["backends"].items():
            state = "ok" if info.get("available") else "absent"
            detail = info.get("version") or info.get("detail") or ""
            ctx.out(f"  {name:<10} {state:<7} {detail}")
        ctx.out("self-tests:")
        for t in report["selftests"]:
            mark = "pass" if t["passed"] else "FAIL"
            ctx.out(f"  {mark}  {t['name']}" + ("" if t["passed"] else f": {t.get('error', '')}"))
    if not report["ok"]:
        if not ctx.json:
            ctx.stderr.write("error: a self-test failed\nhint: reinstall with 'make setup'; if it persists, report it\n")
        return 70
    return 0
