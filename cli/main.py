"""The `ct` command: the front door.  Nothing imports this module.

Start-up must stay fast (`ct --help` < 150 ms): this module and the
``cli/*`` modules it loads import only the standard library at top level;
crypto, Textual and friends are imported inside the command handlers.
"""

from __future__ import annotations

import argparse
import contextlib
import errno
import importlib
import os
import sys
from typing import Any, NoReturn, TextIO

from . import commands

USAGE_EXIT = 64
CLOSED_PIPE = 141  # 128 + SIGPIPE: what a shell shows for a writer whose reader went away


class _Parser(argparse.ArgumentParser):
    """argparse, with usage errors as a UsageError (one line + hint, exit 64, JSON under --json)."""

    def error(self, message: str) -> NoReturn:
        from cerro_torre.suites.errors import UsageError

        raise UsageError(message, f"run '{self.prog} --help' for usage")

    def parse_known_args(self, args: Any = None, namespace: Any = None) -> Any:
        ns, extras = super().parse_known_args(args, namespace)
        if not hasattr(ns, "_ct_prog"):   # the innermost (sub)command parsed sets it first
            ns._ct_prog = self.prog
        return ns, extras

    def parse_args(self, args: Any = None, namespace: Any = None) -> Any:
        """As argparse's, but an unknown option points to the help of the command it was given to."""
        from cerro_torre.suites.errors import UsageError

        ns, extras = self.parse_known_args(args, namespace)
        prog = ns.__dict__.pop("_ct_prog", self.prog)
        if extras:
            raise UsageError(f"unrecognized arguments: {' '.join(extras)}", f"run '{prog} --help' for usage")
        return ns


class Context:
    """What every command handler gets: where the home is, how to print."""

    def __init__(self, args: argparse.Namespace, stdout: TextIO, stderr: TextIO, config: Any = None) -> None:
        from .config import Config

        self.args = args
        self.config = config if config is not None else Config()
        self.json: bool = bool(getattr(args, "json", False)) or self.config.output == "json"
        self.verbose: bool = bool(getattr(args, "verbose", False))
        self.stdout = stdout
        self.stderr = stderr
        self.home = resolve_home(getattr(args, "home", None), self.config.home)
        self.emitted = False  # a JSON document went to stdout already
        self.json_context: dict[str, Any] = {}  # fields a handler adds to the JSON error object
        self._progress: list[Any] = []

    def out(self, text: str = "") -> None:
        """Human output (suppressed under --json), every line made safe for a terminal (``safe``)."""
        if not self.json:
            self.stdout.write(safe(text) + "\n")

    def note(self, text: str) -> None:
        """Warnings for humans, on stderr (made safe like ``out``; progress bars, which draw with
        control characters, write to ``self.stderr`` themselves)."""
        self.stderr.write(safe(text) + "\n")

    def emit_json(self, obj: Any) -> None:
        """``obj`` as ``json.dumps(obj, indent=2, sort_keys=True)`` writes it; an iterator in it (a
        bundle's files) is written as an array one element at a time, never held."""
        self.emitted = True
        write_json(obj, self.stdout.write)
        self.stdout.write("\n")

    def passphrase(self, purpose: str, *, confirm: bool = False) -> bytes:
        from .passphrase import read_passphrase

        return read_passphrase(self, purpose, confirm=confirm)

    def unlock(self, purpose: str, use: Any, *, confirm: bool = False) -> Any:
        """``use(passphrase)``; at a terminal prompt a wrong passphrase gets three tries in all."""
        from .passphrase import unlock

        return unlock(self, purpose, use, confirm=confirm)

    def color(self, stream: Any) -> bool:
        """Colour on ``stream``: the config's color, else NO_COLOR / TERM=dumb / a terminal."""
        if self.config.color != "auto":
            return self.config.color == "always"
        if os.environ.get("NO_COLOR") or os.environ.get("TERM") == "dumb":
            return False
        return _isatty(stream)

    def progress(self) -> Any:
        """A suites.progress.Progress drawn on stderr when it is a terminal and not --json, else silent."""
        from .progress import TerminalProgress

        p = TerminalProgress(self.stderr, enabled=_isatty(self.stderr) and not self.json)
        self._progress.append(p)
        return p

    def end_progress(self) -> None:
        """Clear any progress line (before an error is printed)."""
        for p in self._progress:
            p.done()


def write_json(obj: Any, write: Any, indent: str = "") -> None:
    """``json.dumps(obj, indent=2, sort_keys=True)``, written piece by piece; iterators (not lists) are
    arrays written one element at a time, so a document listing 100,000 files is never held whole."""
    import json
    from collections.abc import Iterator

    def lazy(v: Any) -> bool:
        return isinstance(v, Iterator) or isinstance(v, (dict, list)) and any(
            lazy(x) for x in (v.values() if isinstance(v, dict) else v))

    if not lazy(obj):
        write(json.dumps(obj, indent=2, sort_keys=True).replace("\n", "\n" + indent))
        return
    inner = indent + "  "
    if isinstance(obj, dict):
        items: Any = ((json.dumps(k) + ": ", obj[k]) for k in sorted(obj))
        open_, close = "{", "}"
    else:
        items = (("", v) for v in obj)
        open_, close = "[", "]"
    sep = open_ + "\n"
    for key, value in items:
        write(sep + inner + key)
        write_json(value, write, inner)
        sep = ",\n"
    write(open_ + close if sep != ",\n" else "\n" + indent + close)


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError, OSError):
        return False


def safe(text: str) -> str:
    """``text`` with every line passed through ``suites.encoding.printable``: whatever untrusted names,
    versions, ids or paths it holds, no control character, escape sequence, bidi override or lone
    surrogate reaches the terminal.  Human output goes through it; error lines through ``printable``."""
    if text.isprintable():
        return text
    from cerro_torre.suites.encoding import printable

    return "\n".join(printable(line) for line in text.split("\n"))


def resolve_home(explicit: str | None, configured: str | None = None) -> str:
    """--home, else $CT_HOME, else the config's home, else $XDG_DATA_HOME/cerro-torre."""
    if explicit:
        return os.path.abspath(explicit)
    env = os.environ.get("CT_HOME")
    if env:
        return os.path.abspath(env)
    if configured:
        return os.path.abspath(configured)
    data = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local", "share")
    return os.path.join(data, "cerro-torre")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="ct",
        description="Cerro Torre: threshold-signed software releases, airgap-first.",
        epilog="Run 'ct help TOPIC' for a command or one of: " + ", ".join(sorted(commands.TOPICS)),
    )
    parser.add_argument("--home", metavar="DIR",
                        help="keyholder home (default $CT_HOME, the config's home, or $XDG_DATA_HOME/cerro-torre)")
    parser.add_argument("--json", action="store_true", help="write only JSON to stdout")
    parser.add_argument("-v", "--verbose", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--version", action="store_true", help=argparse.SUPPRESS)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    commands.register_all(sub)
    return parser


def _json_asked(argv: list[str]) -> bool:
    """--json on the command line (before a '--'), or output = "json" in a readable config."""
    words = argv[:argv.index("--")] if "--" in argv else argv
    if "--json" in words:
        return True
    from .config import load

    try:
        return load().output == "json"
    except Exception:  # noqa: BLE001 - a broken config is reported when a command runs
        return False


def _fail(stdout: TextIO, stderr: TextIO, code: int, message: str, hints: tuple[str, ...] | list[str],
          as_json: bool, extra: dict[str, Any] | None = None) -> int:
    """The one way an error leaves ct: ``error:``/``hint:`` lines on stderr, and under --json the
    error object on stdout: {"ok": false, "exit_code", "error", "hints", ...}.  Each line is one line,
    untrusted text in it escaped (``suites.encoding.printable``)."""
    from cerro_torre.suites.encoding import printable

    hints = list(hints) or [FALLBACK_HINTS.get(code, "run 'ct --help' for usage")]
    stderr.write(f"error: {printable(_cap(message))}\n")
    for h in hints:
        stderr.write(f"hint: {printable(_cap(h))}\n")
    if as_json:
        import json

        doc = {**(extra or {}), "ok": False, "exit_code": code, "error": _cap(message), "hints": hints}
        with contextlib.suppress(OSError):   # stdout itself may be what failed; stderr has the error
            stdout.write(json.dumps(doc, indent=2, sort_keys=True) + "\n")
    return code


MAX_ERROR_LINE = 1000


def _cap(text: str) -> str:
    """An error or hint line is at most MAX_ERROR_LINE characters (a 10,000-character argument echoed
    in one is cut, saying how long it was)."""
    if len(text) <= MAX_ERROR_LINE:
        return text
    return f"{text[:MAX_ERROR_LINE - 40]}… ({len(text):,} characters in all)"


# A hint for every error that comes without its own (the source's hint, when there is one, says more).
FALLBACK_HINTS = {
    1: "the file differs from what was signed: get it again from a source you trust",
    2: "run 'ct explain FILE' to see which signatures are missing or invalid",
    3: "run 'ct explain FILE' to see the chain of trust; 'ct policy show' shows what this host pins",
    4: "run 'ct policy show' to see what the policy allows",
    10: "the input is damaged or is not what this command reads: check it, or get it again from its source",
    11: "run 'ct ceremony status MESSAGE' to see where the ceremony stands",
    20: "give the passphrase of this key (at the prompt, --passphrase-file FILE or CT_PASSPHRASE)",
    21: "check the name or the path",
    22: "choose another output path, or give --force where the command has it",
    30: "run 'ct doctor' to see what is missing",
    64: "run 'ct --help', or 'ct COMMAND --help', for usage",
    70: "run again with -v for a traceback, and report it",
    74: "check the path and the device",
    130: "files are written atomically: nothing half-written was kept; run the command again",
}


def _silence_stdout(stdout: TextIO) -> None:
    """After a closed pipe: point stdout's descriptor at /dev/null so the flush at exit stays quiet."""
    try:
        fd = stdout.fileno()
    except (AttributeError, ValueError, OSError):
        return
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


def main(argv: list[str] | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run `ct` with ``argv``; return the exit code (never raises for user errors)."""
    stdout = stdout or sys.stdout
    stderr = stderr or sys.stderr
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        return _main(argv, stdout, stderr)
    except BrokenPipeError:
        _silence_stdout(stdout)
        return CLOSED_PIPE


def _main(argv: list[str], stdout: TextIO, stderr: TextIO) -> int:
    from cerro_torre.suites.errors import CTError, UsageError

    parser = build_parser()
    old_out, old_err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = stdout, stderr
    try:
        try:
            args = parser.parse_args(argv)
        except SystemExit as e:  # --help
            return int(e.code or 0)
        except UsageError as e:
            return _fail(stdout, stderr, e.exit_code, e.message, e.hints, _json_asked(argv))
    finally:
        sys.stdout, sys.stderr = old_out, old_err
    if args.version:
        args.command = "version"
        args.handler = "cerro_torre.cli.info:cmd_version"
    if not args.command:
        as_json = _json_asked(argv)
        if not as_json:
            parser.print_help(stderr)
        return _fail(stdout, stderr, USAGE_EXIT, "no command given",
                     ("run 'ct help' for the commands, 'ct help TOPIC' for one of them",), as_json)
    config = None
    if args.command != "help":  # the help stays readable whatever the config holds
        from .config import load

        try:
            config = load()
        except CTError as e:
            return _fail(stdout, stderr, e.exit_code, e.message, e.hints, _json_asked(argv))
        if config.warning:
            stderr.write(safe(config.warning) + "\n")
    ctx = Context(args, _NamedOut(stdout), stderr, config)  # type: ignore[arg-type]
    module_name, func_name = args.handler.split(":")
    try:
        handler = getattr(importlib.import_module(module_name), func_name)
        code = handler(ctx)
        return int(code or 0)
    except KeyboardInterrupt:
        ctx.end_progress()
        return _fail(stdout, stderr, 130, "interrupted", (), ctx.json and not ctx.emitted, ctx.json_context)
    except BrokenPipeError:
        raise
    except Exception as exc:  # noqa: BLE001 - the one place errors become exit codes
        ctx.end_progress()
        if ctx.verbose and not isinstance(exc, UsageError):
            import traceback

            traceback.print_exception(exc, file=stderr)
        as_json = ctx.json and not ctx.emitted
        if isinstance(exc, CTError):
            return _fail(stdout, stderr, exc.exit_code, exc.message, exc.hints, as_json, ctx.json_context)
        if isinstance(exc, OSError) and exc.errno is not None:
            code, message, hint = os_error(exc)
            if exc.filename == STDOUT_NAME:   # nothing more goes there, nor at exit
                _silence_stdout(stdout)
                return _fail(stdout, stderr, code, message, (hint,), False)
            return _fail(stdout, stderr, code, message, (hint,), as_json, ctx.json_context)
        return _fail(stdout, stderr, 70, f"internal error: {type(exc).__name__}: {_describe(exc)}",
                     ("run again with -v for a traceback, and report it",), as_json, ctx.json_context)


_OS_HINTS = {
    errno.ENOSPC: "free some space on that device, or write somewhere else",
    errno.EDQUOT: "free some space (your disk quota is used up), or write somewhere else",
    errno.EACCES: "check the path and its permissions",
    errno.EPERM: "check the path and its permissions (and that the folder is not immutable)",
    errno.EROFS: "that file system is read-only: write somewhere else, or remount it read-write",
    errno.EISDIR: "give the path of a file, not of a folder",
    errno.ENOTDIR: "a part of the path is a file, not a folder: check the path",
    errno.ENOENT: "check the path",
    errno.EIO: "the device failed: check it (dmesg), or use another",
    errno.ENAMETOOLONG: "use a shorter path",
    errno.EFBIG: "the file is larger than this system or file system allows: write somewhere else",
    errno.ECONNREFUSED: "check the address, and that the server is running and reachable",
    errno.ECONNRESET: "the server closed the connection: try again, or check the server",
    errno.ETIMEDOUT: "check the address, and that the server is reachable from here",
    errno.EHOSTUNREACH: "check the address, and that the server is reachable from here",
    errno.ENETUNREACH: "check the address, and that the server is reachable from here",
}


STDOUT_NAME = "standard output"


class _NamedOut:
    """Standard output as the handlers see it: an error writing it (a full disk behind ``>``) names it."""

    def __init__(self, f: TextIO) -> None:
        self._f = f

    def _named(self, e: OSError) -> OSError:
        return e if e.filename or isinstance(e, BrokenPipeError) else type(e)(e.errno, e.strerror, STDOUT_NAME)

    def write(self, text: str) -> int:
        try:
            return self._f.write(text)
        except OSError as e:
            named = self._named(e)
            if named is e:
                raise
            raise named from e

    def flush(self) -> None:
        try:
            self._f.flush()
        except OSError as e:
            named = self._named(e)
            if named is e:
                raise
            raise named from e

    def __getattr__(self, name: str) -> Any:
        return getattr(self._f, name)


def os_error(exc: OSError) -> tuple[int, str, str]:
    """(exit code, error line, hint) for an error of the operating system: 21 for a missing file,
    else 74 (EX_IOERR: a disk full, a refused or failed write or read).  A temp file ct was writing
    (``.ct-…``) is named by its folder, where the user can act."""
    text = (exc.strerror or "i/o error").lower()
    code = 21 if isinstance(exc, FileNotFoundError) else 74
    hint = _OS_HINTS.get(exc.errno or 0, "check the path and the device")
    if not exc.filename:
        return code, text, hint
    name = os.fsdecode(exc.filename) if isinstance(exc.filename, (bytes, os.PathLike)) else str(exc.filename)
    if os.path.basename(name).startswith(".ct-"):
        return code, f"{text}: writing in {os.path.dirname(name) or '.'}", hint
    return code, f"{text}: {name}", hint


def _describe(exc: BaseException) -> str:
    try:
        return str(exc)
    except Exception:  # noqa: BLE001 - str() of an exception can itself fail (e.g. a 5,000-digit integer)
        return "(no description)"


def entry() -> NoReturn:
    code = main()
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout(sys.stdout)
        code = CLOSED_PIPE
    except OSError as e:   # a full disk behind stdout (ct ... > /dev/full): what was written is lost
        _silence_stdout(sys.stdout)
        code, text, hint = os_error(e)
        sys.stderr.write(f"error: {text}: {STDOUT_NAME}\nhint: {hint}\n")
    sys.exit(code)


if __name__ == "__main__":
    entry()
