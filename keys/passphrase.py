"""Passphrases for new sealed key files: how strong they are, and which are refused.

One estimate for the CLI (``ct keygen``) and the TUI's strength line.  A
rough guessing-entropy figure, no dictionary: characters that repeat or
continue a run (``aaaa``, ``1234``, ``abcd``) count for little; passphrases
of several lowercase words are counted per word, as if drawn from a 2048-word
list (which overrates words a person chose, so the advice still says to pick
them at random).

The rule (spec/keyfile.md): below ``REFUSE_BELOW`` bits ("very weak") a new
key is refused unless the caller allows it (``ct keygen --allow-weak-passphrase``);
below ``WARN_BELOW`` ("weak" or "fair") the caller warns.
"""

from __future__ import annotations

import math
import string

from cerro_torre.suites.errors import WrongPassphrase

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

REFUSE_BELOW = LEVELS[0][0]   # "very weak"
WARN_BELOW = LEVELS[2][0]     # "weak" and "fair"


def check_new(pw: str, *, allow_weak: bool = False) -> str | None:
    """A warning for a weak or fair new passphrase (None when good); WrongPassphrase (exit 20) for a
    very weak one unless ``allow_weak``."""
    bits, label, advice = estimate(pw)
    if bits < REFUSE_BELOW and not allow_weak:
        raise WrongPassphrase(f"the passphrase is too weak ({label}, ~{bits} bits)",
                              f"{advice}; or pass --allow-weak-passphrase for a throwaway key")
    if bits < WARN_BELOW:
        return f"warning: the passphrase is {label} (~{bits} bits): {advice}"
    return None
