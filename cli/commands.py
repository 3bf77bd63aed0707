"""Registry of `ct` commands.

Each module named in MODULES has ``register(sub)`` that adds its sub-parsers
and sets ``handler="cerro_torre.cli.<module>:<function>"``; the handler is
imported only when the command runs.  Modules here import only the standard
library at top level.
"""

from __future__ import annotations

import argparse
import importlib

MODULES = ("info", "keys", "qr", "pack", "verify", "policy", "signature", "ceremony", "tui", "airgap", "registry", "unpack")

# `ct help TOPIC` topics that are not commands: name -> module:function returning text
TOPICS = {
    "exit-codes": "cerro_torre.cli.info:topic_exit_codes",
    "suites": "cerro_torre.cli.info:topic_suites",
    "environment": "cerro_torre.cli.info:topic_environment",
    "rotate": "cerro_torre.cli.info:topic_rotate",
}


def common(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Add the global flags to a sub-parser too, so they work after the command."""
    p.add_argument("--home", metavar="DIR", default=argparse.SUPPRESS, help="keyholder home")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="write only JSON to stdout")
    p.add_argument("-v", "--verbose", action="store_true", default=argparse.SUPPRESS, help="tracebacks on errors")
    return p


def passphrase_flags(p: argparse.ArgumentParser) -> argparse.ArgumentParser:
    p.add_argument("--passphrase-file", metavar="FILE",
                   help="read the passphrase from the first line of FILE (else $CT_PASSPHRASE, else a prompt)")
    return p


def register_all(sub: argparse._SubParsersAction) -> None:
    for name in MODULES:
        importlib.import_module(f"cerro_torre.cli.{name}").register(sub)
