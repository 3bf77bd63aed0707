"""The home's log of the releases it signed (``spec/ceremony.md`` §keyholder home).

``HOME/signed.log``: one canonical JSON object per line, appended and fsynced when the home answers
the share round of a signing (after the share is computed, before the reply is written), never
rewritten::

    {"ceremony": "<32 hex>", "epoch": 1, "name": "coop", "record": "<64 hex: keyholder-set fingerprint>",
     "release": "app 1.0", "statement": "<64 hex: sha256 of the release statement>"}

A rotation reads it: each member of the outgoing epoch refuses a rotation whose ``closed_releases``
leaves out a release this home signed with that epoch (``keygen.check_home``).  A crash between the
entry and the reply leaves an entry for a share that never left the machine: the rotation then asks
for a release that may not exist, which costs the coordinator a ``--releases`` line, never safety.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from cerro_torre.suites.atomic import read_limited
from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import Malformed

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_FIELDS = {"ceremony", "epoch", "name", "record", "release", "statement"}
MAX_LOG = 64 << 20


@dataclass(frozen=True)
class SignedRelease:
    ceremony: str
    name: str             # keyholder set
    epoch: int
    record: str           # keyholder-set fingerprint (full hex)
    release: str          # "NAME VERSION", from the statement
    statement: str        # sha256 hex of the statement

    def to_json(self) -> dict[str, Any]:
        return {"ceremony": self.ceremony, "epoch": self.epoch, "name": self.name, "record": self.record,
                "release": self.release, "statement": self.statement}


class SignedLog:
    def __init__(self, home: str) -> None:
        self.path = os.path.join(home, "signed.log")

    def append(self, entry: SignedRelease) -> None:
        os.makedirs(os.path.dirname(self.path), mode=0o700, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            os.write(fd, canonical_json(entry.to_json()) + b"\n")
            os.fsync(fd)
        finally:
            os.close(fd)

    def entries(self) -> list[SignedRelease]:
        try:
            with open(self.path, "rb") as f:
                data = f.read(MAX_LOG + 1)
        except FileNotFoundError:
            return []
        if len(data) > MAX_LOG:
            raise Malformed(f"{self.path} is larger than {MAX_LOG} bytes")
        out = []
        for n, line in enumerate(data.splitlines(), 1):
            d = parse_json(line, f"{self.path} line {n}")
            if not isinstance(d, dict) or set(d) != _FIELDS or not isinstance(d["statement"], str) \
                    or not _HEX64.match(d["statement"]) or not isinstance(d["record"], str) \
                    or not _HEX64.match(d["record"]) or not isinstance(d["epoch"], int) \
                    or not all(isinstance(d[k], str) for k in ("ceremony", "name", "release")):
                raise Malformed(f"{self.path} line {n} is not a signed-release entry",
                                "the log is append-only; restore it from a backup of this home")
            out.append(SignedRelease(d["ceremony"], d["name"], d["epoch"], d["record"], d["release"], d["statement"]))
        return out

    def under(self, record_fingerprint: str) -> list[SignedRelease]:
        """The releases this home signed with the keyholder set of that fingerprint."""
        return [e for e in self.entries() if e.record == record_fingerprint]


def closed_releases(bundles: list[str], files: list[str]) -> list[str]:
    """What a rotation or refresh closes epoch N with (``closed_releases``): the SHA-256 of each bundle's release
    statement, and of each digest in each file (one sha256 per line, or the JSON lines of a keyholder's
    signed.log; blank lines and # comments ignored)."""
    import hashlib

    from . import bundle
    from .statement import Envelope

    out: set[str] = set()
    for b in bundles:
        parts = bundle.read_parts(b)
        if bundle.ENVELOPE not in parts.signature_members:
            raise Malformed(f"{b} has no release statement")
        out.add(hashlib.sha256(Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload).hexdigest())
    for path in files:
        data = read_limited(path, "releases file", MAX_LOG)
        for n, raw in enumerate(data.splitlines(), 1):
            line = raw.strip()
            if not line or line.startswith(b"#"):
                continue
            if re.fullmatch(rb"[0-9a-f]{64}", line):
                out.add(line.decode())
                continue
            d = parse_json(line, f"{path} line {n}") if line.startswith(b"{") else None
            if not isinstance(d, dict) or not isinstance(d.get("statement"), str) or not _HEX64.match(d["statement"]):
                raise Malformed(f"{path} line {n} is neither a sha256 digest nor a signed.log entry",
                                "one lowercase hex sha256 of a release statement per line")
            out.add(d["statement"])
    return sorted(out)
