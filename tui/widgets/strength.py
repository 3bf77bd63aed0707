"""Passphrase strength feedback: the strength line of the "Generate identity keys" dialog.

The estimate and the rule (very weak refused, weak or fair warned) are
``keys.passphrase``, the same as ``ct keygen``'s.
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

from cerro_torre.keys.passphrase import estimate


class Strength(Static):
    """``strength ████░░░░ fair (~52 bits): advice``."""

    DEFAULT_CSS = """
    Strength { height: auto; max-height: 3; }
    """

    def update_for(self, pw: str) -> None:
        bits, label, advice = estimate(pw)
        filled = min(8, bits // 12)
        t = Text(no_wrap=False, overflow="fold")   # the advice wraps in a narrow dialog, never cut
        t.append("strength ")
        t.append("\u2588" * filled, style="bold")
        t.append("\u2591" * (8 - filled))
        t.append(f" {label}", style="bold")
        t.append(f" (~{bits} bits): {advice}")
        self.update(t)
