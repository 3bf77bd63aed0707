"""Reading passphrases: --passphrase-file, then $CT_PASSPHRASE, then a prompt.

At the prompt a wrong passphrase gets three tries in all (as gpg and ssh), and
so do an empty one and a confirmation that differs;
from a file or the environment it fails at once (exit 20).  Ctrl-D at the
prompt is "no passphrase given" (exit 20).
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import TYPE_CHECKING, Any, Callable

from cerro_torre.suites.errors import NotFound, UsageError, WrongPassphrase

if TYPE_CHECKING:
    from .main import Context

TRIES = 3


def _prompted(ctx: Context) -> bool:
    return not getattr(ctx.args, "passphrase_file", None) and os.environ.get("CT_PASSPHRASE") is None


def _ask(prompt: str) -> str:
    try:
        return getpass.getpass(prompt)
    except KeyboardInterrupt:
        _end_prompt_line()
        raise
    except EOFError:
        _end_prompt_line()
        raise WrongPassphrase("no passphrase given",
                              "type it at the prompt, or use --passphrase-file FILE or CT_PASSPHRASE") from None


def _end_prompt_line() -> None:
    """Ctrl-D or Ctrl-C at the prompt leaves the cursor after it: the error goes on a line of its own."""
    try:
        if sys.stderr.isatty():
            sys.stderr.write("\n")
    except (OSError, ValueError):
        pass


def read_passphrase(ctx: Context, purpose: str, *, confirm: bool = False) -> bytes:
    path = getattr(ctx.args, "passphrase_file", None)
    if path:
        try:
            with open(path, "rb") as f:
                line = f.readline().rstrip(b"\r\n")
        except FileNotFoundError:
            raise NotFound(f"passphrase file not found: {path}", "check the --passphrase-file path") from None
        if not line:
            raise WrongPassphrase(f"no passphrase given: the passphrase file {path} is empty",
                                  "put the passphrase on its first line")
        return line
    env = os.environ.get("CT_PASSPHRASE")
    if env is not None:
        if not env:
            raise WrongPassphrase("no passphrase given: CT_PASSPHRASE is set but empty",
                                  "unset it to be prompted, or set a passphrase")
        return env.encode("utf-8")
    if not sys.stdin.isatty():
        raise UsageError(f"a passphrase is needed for {purpose} and there is no terminal to ask on",
                         "use --passphrase-file FILE or set CT_PASSPHRASE")
    for attempt in range(1, TRIES + 1):   # an empty one or a mismatch uses a try, as a wrong one does
        left = f"try again ({TRIES - attempt} left)"
        first = _ask(f"passphrase for {purpose}: ")
        if not first:
            if attempt == TRIES:
                raise WrongPassphrase("no passphrase given", "type it at the prompt, or use --passphrase-file FILE "
                                      "or CT_PASSPHRASE")
            ctx.note(f"the passphrase cannot be empty; {left}")
            continue
        if confirm and _ask("again: ") != first:
            if attempt == TRIES:
                raise WrongPassphrase("the two passphrases typed differ",
                                      "type the same passphrase twice; nothing was written")
            ctx.note(f"the two passphrases differ; {left}")
            continue
        return first.encode("utf-8")
    raise AssertionError("unreachable")


def unlock(ctx: Context, purpose: str, use: Callable[[bytes], Any], *, confirm: bool = False) -> Any:
    """``use(passphrase)``, asking again after a WrongPassphrase at the prompt (three tries in all)."""
    tries = TRIES if _prompted(ctx) else 1
    attempt = 1
    while True:
        passphrase = read_passphrase(ctx, purpose, confirm=confirm)
        try:
            return use(passphrase)
        except WrongPassphrase as e:
            if attempt >= tries:
                raise
            ctx.note(f"{e.message}; try again ({tries - attempt} left)")
        attempt += 1
