"""Hash-chained ceremony transcripts (``spec/ceremony.md`` §transcript).

An entry is ``{"seq", "prev", "digest", "round", "sender", "words"}``:
``digest`` is the SHA-256 of a message's wire form, ``prev`` the hash of
the entry before (``GENESIS`` for the first), and an entry's hash is the
SHA-256 of its canonical JSON.  Changing, dropping or reordering any message
changes every later hash, and the head hash names the whole ceremony.

The coordinator's journal (``protocol.Journal``) holds every message in
order — the request, then for each round the replies and the bulletin that
merged them — so its transcript is rebuilt from it alone.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

from cerro_torre.suites.encoding import canonical_json

from .message import Message

GENESIS = hashlib.sha256(b"ct-transcript-v1").hexdigest()


@dataclass(frozen=True)
class Entry:
    seq: int
    prev: str
    digest: str
    round: str
    sender: str
    words: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "prev": self.prev, "digest": self.digest, "round": self.round,
                "sender": self.sender, "words": self.words}

    @property
    def hash(self) -> str:
        return hashlib.sha256(canonical_json(self.to_json())).hexdigest()


def build(messages: list[Message]) -> list[Entry]:
    out: list[Entry] = []
    prev = GENESIS
    for i, m in enumerate(messages):
        e = Entry(i, prev, m.digest.hex(), m.round, m.sender, m.fingerprint.words)
        out.append(e)
        prev = e.hash
    return out


def head(entries: list[Entry]) -> str:
    return entries[-1].hash if entries else GENESIS


def verify(entries: list[Entry]) -> None:
    """Raise ValueError at the first entry whose link is broken."""
    prev = GENESIS
    for i, e in enumerate(entries):
        if e.seq != i or e.prev != prev:
            raise ValueError(f"transcript entry {i} does not follow entry {i - 1}")
        prev = e.hash
