"""The `ct` command: the front door.  Nothing imports this module.

Start-up must stay fast (`ct --help` < 150 ms): this module and the
``cli/*`` modules it loads import only the standard library at top level;
crypto, Textual and friends are imported inside the command handlers.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Any, NoReturn, TextIO

from . import commands

USAGE_EXIT = 64


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors in our one-line + hint form and exit 64."""

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}\nhint: run '{self.prog} --help' for usage\n")
        raise SystemExit(USAGE_EXIT)


class Context:
    """What every command handler gets: where the home is, how to print."""

    def __init__(self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> None:
        self.args = args
        self.json: bool = bool(getattr(args, "json", False))
        self.verbose: bool = bool(getattr(args, "verbose", False))
        self.stdout = stdout
        self.stderr = stderr
        self.home = resolve_home(getattr(args, "home", None))

    def out(self, text: str = "") -> None:
        """Human output (suppressed under --json), every line made safe for a terminal (``safe``)."""
        if not self.json:
            self.stdout.write(safe(text) + "\n")

    def note(self, text: str) -> None:
        """Progress and warnings for humans, on stderr (made safe like ``out``)."""
        self.stderr.write(safe(text) + "\n")

    def emit_json(self, obj: Any) -> None:
        import json

        self.stdout.write(json.dumps(obj, indent=2, sort_keys=True) + "\n")

    def passphrase(self, purpose: str, *, confirm: bool = False) -> bytes:
        from .passphrase import read_passphrase

        return read_passphrase(self, purpose, confirm=confirm)


def safe(text: str) -> str:
    """``text`` with every line passed through ``suites.encoding.printable``: whatever untrusted names,
    versions, ids or paths it holds, no control character, escape sequence, bidi override or lone
    surrogate reaches the terminal.  Error lines, hints and human output all go through it."""
    if text.isprintable():
        return text
    from cerro_torre.suites.encoding import printable

    return "\n".join(printable(line) for line in text.split("\n"))


def resolve_home(explicit: str | None) -> str:
    if explicit:
        return os.path.abspath(explicit)
    env = os.environ.get("CT_HOME")
    if env:
        return os.path.abspath(env)
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "cerro-torre")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ct",
        description="Cerro Torre: threshold-signed software releases, airgap-first.",
        epilog="Run 'ct help TOPIC' for a command or one of: " + ", ".join(sorted(commands.TOPICS)),
    )
    parser.add_argument("--home", metavar="DIR", help="keyholder home (default $CT_HOME or $XDG_DATA_HOME/cerro-torre)")
    parser.add_argument("--json", action="store_true", help="write only JSON to stdout")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.register_all(sub)
    return parser


def _report(ctx_stderr: TextIO, exc: BaseException) -> None:
    from cerro_torre.suites.encoding import printable
    from cerro_torre.suites.errors import CTError

    if isinstance(exc, CTError):  # one line each, whatever the message holds
        ctx_stderr.write(f"error: {printable(exc.message)}\n")
        for h in exc.hints:
            ctx_stderr.write(f"hint: {printable(h)}\n")


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run `ct` with ``argv``; return the exit code (never raises for user errors)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    parser = build_parser()
    old_err = sys.stderr
    sys.stderr = stderr
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:
            return int(e.code or 0)
    finally:
        sys.stderr = old_err
    if args.version:
        args.command = "version"
        args.handler = "cerro_torre.cli.info:cmd_version"
    if not args.command:
        parser.print_help(stdout)
        return 0
    ctx = Context(args, stdout, stderr)
    module_name, func_name = args.handler.split(":")
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
        code = handler(ctx)
        return int(code or 0)
    except KeyboardInterrupt:
        stderr.write("error: interrupted\n")
        return 130
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        from cerro_torre.suites.errors import CTError

        if ctx.verbose:
            import traceback

            traceback.print_exception(exc, file=stderr)
        if isinstance(exc, CTError):
            _report(stderr, exc)
            return exc.exit_code
        if isinstance(exc, OSError) and exc.filename:
            stderr.write(f"error: {exc.strerror.lower() if exc.strerror else 'i/o error'}: {_describe(exc.filename)}\n")
            stderr.write("hint: check the path and its permissions\n")
            return 21 if isinstance(exc, FileNotFoundError) else 74
        stderr.write(f"error: internal error: {type(exc).__name__}: {_describe(exc)}\n")
        stderr.write("hint: run again with -v for a traceback, and report it\n")
        return 70


def _describe(exc: object) -> str:
    from cerro_torre.suites.encoding import printable

    try:
        return printable(str(exc))
    except Exception:  # noqa: BLE001 - str() of an exception can itself fail (e.g. a 5,000-digit integer)
        return "(no description)"


def entry() -> NoReturn:
    sys.exit(main())


if __name__ == "__main__":
    entry()
