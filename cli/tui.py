"""`ct tui [--home DIR]`: the keyholders' TUI (Textual is imported only when it runs)."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from .commands import common

if TYPE_CHECKING:
    from .main import Context


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser(
        "tui", help="the keyholders' terminal UI: keys, answering ceremonies, coordinating, verify, governance",
        description="A Textual UI over the same steps as the CLI: Keys (F2), Keyholder (F3), Coordinator (F4), "
                    "Verify (F5), Governance (F6).  Works in an 80x24 terminal; honours NO_COLOR and the config's "
                    "color.  No --json and no -v: errors show on screen with their hints."))
    p.set_defaults(handler="cerro_torre.cli.tui:cmd_tui")


def cmd_tui(ctx: Context) -> int:
    import sys

    from cerro_torre.suites.errors import UsageError

    if getattr(ctx.args, "json", False):
        raise UsageError("ct tui has no JSON output", "use the ct commands with --json for scripts")
    if ctx.verbose:
        raise UsageError("ct tui has no -v: its errors show on screen with their hints",
                         "for a traceback, run the same step as a ct command with -v")
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise UsageError("ct tui needs a terminal", "run it in a terminal, or use the ct commands in scripts")
    import os

    if ctx.config.color == "always":
        os.environ.pop("NO_COLOR", None)  # Textual reads NO_COLOR
    elif not ctx.color(sys.stdout):
        os.environ["NO_COLOR"] = "1"
    from cerro_torre.tui.app import CTApp

    CTApp(ctx.home).run()
    return 0
