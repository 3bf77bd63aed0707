"""Short, human-comparable fingerprints (``spec/fingerprint.md``).

``Fingerprint.of(data)`` is SHA-256 of ``data``.  Humans compare one of two
renderings of its leading bits:

* ``hex``: the first 8 bytes as 16 lowercase hex digits in 4 groups of 4,
  e.g. ``3f9a 1c2e 77b0 4d1a`` (64 bits);
* ``words``: 6 words of the BIP39 English list, each the next 11 bits of the
  digest, most significant bit first (the first 66 bits).

Both are for eyes and voices across an air gap; programs compare ``digest``.
"""

from __future__ import annotations

import functools
import hashlib
from dataclasses import dataclass

from .errors import Unavailable

WORD_COUNT = 6
BITS_PER_WORD = 11
HEX_GROUPS = 4
HEX_GROUP_DIGITS = 4
# SHA-256 of the BIP39 English word list: its 2048 words, each followed by LF.
ENGLISH_SHA256 = "2f5eed53a4727b4bf8880d8f3f199efc90e58503646d9ff8eff3a2ed3b24dbda"


@functools.cache
def english_words() -> tuple[str, ...]:
    """The 2048-word BIP39 English list shipped by the ``mnemonic`` package (checked by hash)."""
    import importlib.util
    import os

    spec = importlib.util.find_spec("mnemonic")
    if spec is None or not spec.submodule_search_locations:
        raise Unavailable("the BIP39 word list is not installed (python package 'mnemonic')",
                          "reinstall ct ('make setup')")
    path = os.path.join(list(spec.submodule_search_locations)[0], "wordlist", "english.txt")
    try:
        with open(path, "rb") as f:
            raw = f.read()
    except OSError:
        raise Unavailable(f"the BIP39 word list is missing: {path}", "reinstall the 'mnemonic' package") from None
    try:
        words = tuple(w.strip() for w in raw.decode("ascii").splitlines() if w.strip())
    except UnicodeDecodeError:
        words = ()
    if len(words) != 2048 or hashlib.sha256(("\n".join(words) + "\n").encode()).hexdigest() != ENGLISH_SHA256:
        raise Unavailable(f"the BIP39 word list at {path} is not the standard one",
                          "reinstall the 'mnemonic' package")
    return words


@dataclass(frozen=True)
class Fingerprint:
    digest: bytes  # the full SHA-256

    @classmethod
    def of(cls, data: bytes) -> Fingerprint:
        return cls(hashlib.sha256(bytes(data)).digest())

    @property
    def hex(self) -> str:
        h = self.digest[: HEX_GROUPS * HEX_GROUP_DIGITS // 2].hex()
        return " ".join(h[i:i + HEX_GROUP_DIGITS] for i in range(0, len(h), HEX_GROUP_DIGITS))

    @property
    def full_hex(self) -> str:
        return self.digest.hex()

    @property
    def word_list(self) -> tuple[str, ...]:
        words = english_words()
        n = int.from_bytes(self.digest, "big")
        total = len(self.digest) * 8
        out = []
        for i in range(WORD_COUNT):
            shift = total - BITS_PER_WORD * (i + 1)
            out.append(words[(n >> shift) & 0x7FF])
        return tuple(out)

    @property
    def words(self) -> str:
        return " ".join(self.word_list)

    def to_json(self) -> dict[str, str]:
        return {"sha256": self.full_hex, "hex": self.hex, "words": self.words}

    def __str__(self) -> str:
        return self.hex
