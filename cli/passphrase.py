"""Reading passphrases: --passphrase-file, then $CT_PASSPHRASE, then a prompt."""

from __future__ import annotations

import getpass
import os
import sys
from typing import TYPE_CHECKING

from cerro_torre.suites.errors import NotFound, UsageError

if TYPE_CHECKING:
    from .main import Context


def read_passphrase(ctx: Context, purpose: str, *, confirm: bool = False) -> bytes:
    path = getattr(ctx.args, "passphrase_file", None)
    if path:
        try:
            with open(path, "rb") as f:
                line = f.readline().rstrip(b"\r\n")
        except FileNotFoundError:
            raise NotFound(f"passphrase file not found: {path}", "check the --passphrase-file path") from None
        if not line:
            raise UsageError(f"passphrase file is empty: {path}", "put the passphrase on its first line")
        return line
    env = os.environ.get("CT_PASSPHRASE")
    if env is not None:
        if not env:
            raise UsageError("CT_PASSPHRASE is set but empty", "unset it to be prompted, or set a passphrase")
        return env.encode("utf-8")
    if not sys.stdin.isatty():
        raise UsageError(f"a passphrase is needed for {purpose} and there is no terminal to ask on",
                         "use --passphrase-file FILE or set CT_PASSPHRASE")
    while True:
        first = getpass.getpass(f"passphrase for {purpose}: ")
        if not first:
            ctx.note("the passphrase cannot be empty")
            continue
        if confirm and getpass.getpass("again: ") != first:
            ctx.note("the two passphrases differ; try again")
            continue
        return first.encode("utf-8")
