"""Passphrase strength feedback (advisory: any non-empty passphrase is accepted, as by the CLI).

A rough guessing-entropy estimate, no dictionary: characters that repeat or
continue a run (``aaaa``, ``1234``, ``abcd``) count for little; passphrases
of several lowercase words are counted per word, as if drawn from a 2048-word
list (which overrates words a person chose, so the advice still says to pick
them at random).
"""

from __future__ import annotations

import math
import string

from rich.text import Text
from textual.widgets import Static

LEVELS = ((28, "very weak"), (36, "weak"), (60, "fair"), (80, "good"), (10**9, "strong"))


def estimate(pw: str) -> tuple[int, str, str]:
    """``(bits, label, advice)`` for passphrase ``pw``."""
    if not pw:
        return 0, "empty", "type a passphrase"
    pool = 0
    if any(c in string.ascii_lowercase for c in pw):
        pool += 26
    if any(c in string.ascii_uppercase for c in pw):
        pool += 26
    if any(c in string.digits for c in pw):
        pool += 10
    if any(c in string.punctuation or c == " " for c in pw):
        pool += 33
    if any(ord(c) > 127 for c in pw):
        pool += 100
    effective = 0.0
    prev = None
    for c in pw:
        if prev is not None and (c == prev or abs(ord(c) - ord(prev)) == 1):
            effective += 0.25
        else:
            effective += 1
        prev = c
    bits = effective * math.log2(max(pool, 2))
    if len(pw) < 8:
        bits *= 0.6  # short ones fall to exhaustive search whatever they contain
    words = pw.split()
    if len(words) >= 2 and all(w.isalpha() for w in words):
        bits = min(bits, 11 * len(words) + 4)
    n = int(bits)
    label = next(name for limit, name in LEVELS if n < limit)
    if n < 36:
        advice = "too easy to guess: use four or more random words"
    elif n < 60:
        advice = "add a word or two: every key file is only as strong as its passphrase"
    elif len(pw) < 12:
        advice = "longer is stronger"
    else:
        advice = "ok; remember it: a lost passphrase cannot be recovered"
    return n, label, advice


class Strength(Static):
    """``strength ████░░░░ fair (~52 bits): advice``."""

    DEFAULT_CSS = """
    Strength { height: 1; }
    """

    def update_for(self, pw: str) -> None:
        bits, label, advice = estimate(pw)
        filled = min(8, bits // 12)
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append("strength ")
        t.append("\u2588" * filled, style="bold")
        t.append("\u2591" * (8 - filled))
        t.append(f" {label}", style="bold")
        t.append(f" (~{bits} bits): {advice}")
        self.update(t)
