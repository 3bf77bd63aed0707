"""FROST signing shares held by a keyholder home (``spec/ceremony.md`` §3, ``spec/keyholder-set.md`` §Retired shares).

One sealed key package per group key: ``HOME/shares/<group keyid>.share``,
sealed under the keyholder's passphrase with the label
``ct-share:<group keyid>`` (``spec/keyfile.md``), and beside it its status,
``HOME/shares/<group keyid>.json`` (public, canonical JSON, written atomically the first
time the home learns the share's set or retires it; no file = active, set not yet seen)::

    {"type": "ct-share-status", "version": 1, "group_public_key": B64,
     "status": "active" | "retired",
     "set": {"name": N, "epoch": E, "fingerprint": HEX} | null,   the keyholder set it signs for, once known
     "reason": TEXT | null, "retired_at": TIME | null}

A retired share is kept (its owner may want to see it) but never opened
again: :meth:`ShareStore.load` refuses it (exit 11).  A share is retired when
its home takes part in, or is shown, a rotation that supersedes its set.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
from dataclasses import dataclass
from typing import Any

from cerro_torre.suites import frost
from cerro_torre.suites.atomic import atomic_write
from cerro_torre.suites.encoding import b64d, b64e, canonical_json, parse_json
from cerro_torre.suites.errors import CeremonyError, Malformed, NotFound
from cerro_torre.suites.suite import keyid_of

from .keyfile import KDFParams, open_sealed, seal

STATUS_TYPE = "ct-share-status"
ACTIVE, RETIRED = "active", "retired"
_KEYID = re.compile(r"[0-9a-f]{32}\Z")


@dataclass(frozen=True)
class ShareEntry:
    """One share of the home, as ``ct key list`` and the TUI show it (no secret: the share stays sealed)."""

    keyid: str                              # group keyid
    group_public_key: bytes | None          # None only for a share stored before statuses existed
    status: str                             # active | retired
    set_name: str | None
    epoch: int | None
    fingerprint: str | None                 # of the keyholder-set record, full hex
    reason: str | None
    retired_at: str | None
    path: str

    @property
    def set_label(self) -> str:
        return f"{self.set_name} epoch {self.epoch}" if self.set_name is not None else "(set not yet seen)"

    def to_json(self) -> dict[str, Any]:
        return {"group_keyid": self.keyid,
                "group_public_key": b64e(self.group_public_key) if self.group_public_key else None,
                "status": self.status,
                "set": None if self.set_name is None else
                {"name": self.set_name, "epoch": self.epoch, "fingerprint": self.fingerprint},
                "reason": self.reason, "retired_at": self.retired_at, "path": self.path}


class ShareStore:
    """The sealed FROST key packages of one home, and their status."""

    def __init__(self, home: str, *, params: KDFParams | None = None, allow_weak: bool = False) -> None:
        self.dir = os.path.join(home, "shares")
        self.params = params
        self.allow_weak = allow_weak

    def path(self, group_public_key: bytes) -> str:
        return os.path.join(self.dir, keyid_of(group_public_key) + ".share")

    def _status_path(self, keyid: str) -> str:
        return os.path.join(self.dir, keyid + ".json")

    def has(self, group_public_key: bytes) -> bool:
        return os.path.exists(self.path(group_public_key))

    # ------------------------------------------------------------ status
    def _read_status(self, keyid: str) -> dict[str, Any] | None:
        p = self._status_path(keyid)
        try:
            with open(p, "rb") as f:
                d = parse_json(f.read(1 << 16), p)
        except FileNotFoundError:
            return None
        if not isinstance(d, dict) or d.get("type") != STATUS_TYPE or d.get("version") != 1 \
                or d.get("status") not in (ACTIVE, RETIRED) \
                or set(d) != {"type", "version", "group_public_key", "status", "set", "reason", "retired_at"}:
            raise Malformed(f"share status {p} is damaged", "restore it from a backup of this home")
        s = d["set"]
        if s is not None and (not isinstance(s, dict) or set(s) != {"name", "epoch", "fingerprint"}):
            raise Malformed(f"share status {p} is damaged", "restore it from a backup of this home")
        return d

    def _write_status(self, keyid: str, d: dict[str, Any]) -> None:
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        atomic_write(self._status_path(keyid), canonical_json(d) + b"\n", mode=0o644)

    def _status_or_new(self, keyid: str, group_public_key: bytes | None) -> dict[str, Any]:
        d = self._read_status(keyid)
        if d is None:
            d = {"type": STATUS_TYPE, "version": 1, "status": ACTIVE, "set": None, "reason": None,
                 "retired_at": None, "group_public_key": b64e(group_public_key) if group_public_key else None}
        return d

    def retire(self, group_public_key: bytes, reason: str) -> bool:
        """Mark the share of ``group_public_key`` retired (durably); False when this home holds none
        or it is already retired."""
        keyid = keyid_of(group_public_key)
        if not self.has(group_public_key):
            return False
        d = self._status_or_new(keyid, group_public_key)
        if d["status"] == RETIRED:
            return False
        d.update(status=RETIRED, reason=reason, group_public_key=b64e(group_public_key),
                 retired_at=_dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"))
        self._write_status(keyid, d)
        return True

    def assign(self, group_public_key: bytes, name: str, epoch: int, fingerprint: str) -> bool:
        """Record which keyholder set (name, epoch, record fingerprint) the share of this group key
        signs for; False when this home holds no such share or already knows it."""
        keyid = keyid_of(group_public_key)
        if not self.has(group_public_key):
            return False
        d = self._status_or_new(keyid, group_public_key)
        want = {"name": name, "epoch": epoch, "fingerprint": fingerprint}
        if d["set"] == want and d["group_public_key"]:
            return False
        d.update(set=want, group_public_key=b64e(group_public_key))
        self._write_status(keyid, d)
        return True

    def list(self) -> list[ShareEntry]:
        """Every share of the home with its status, ordered by set name, epoch and keyid."""
        if not os.path.isdir(self.dir):
            return []
        out = []
        for fn in os.listdir(self.dir):
            if not fn.endswith(".share") or not _KEYID.match(fn[:-6]):
                continue
            keyid = fn[:-6]
            d = self._status_or_new(keyid, None)
            gpk = b64d(d["group_public_key"], "share status group_public_key", size=32) \
                if d["group_public_key"] else None
            s = d["set"] or {}
            out.append(ShareEntry(keyid, gpk, d["status"], s.get("name"), s.get("epoch"), s.get("fingerprint"),
                                  d["reason"], d["retired_at"], os.path.join(self.dir, fn)))
        out.sort(key=lambda e: (e.set_name or "", e.epoch or 0, e.keyid))
        return out

    # ------------------------------------------------------------ the sealed share
    def load(self, group_public_key: bytes, passphrase: bytes) -> frost.KeyPackage:
        p = self.path(group_public_key)
        keyid = keyid_of(group_public_key)
        label = "ct-share:" + keyid
        try:
            with open(p, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            raise NotFound(f"this home holds no share of group key {keyid}",
                           "answer from the keyholder home that took part in that keygen") from None
        d = self._read_status(keyid)
        if d is not None and d["status"] == RETIRED:
            raise CeremonyError(f"the share of group key {keyid} is retired: {d['reason']}",
                                "this home no longer signs for that set; 'ct key list' shows its shares "
                                "and their status")
        return frost.KeyPackage.from_bytes(open_sealed(blob, passphrase, label, name=p,
                                                       what=f"this home ({label})", allow_weak=self.allow_weak))

    def store(self, kp: frost.KeyPackage, passphrase: bytes) -> None:
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        keyid = keyid_of(kp.group_public_key)
        label = "ct-share:" + keyid
        atomic_write(self.path(kp.group_public_key),
                     seal(kp.to_bytes(), passphrase, label, self.params, allow_weak=self.allow_weak), mode=0o600)
