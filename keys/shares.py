"""FROST signing shares held by a keyholder home (``spec/ceremony.md`` §3, ``spec/keyholder-set.md`` §Shares).

One sealed key package per keyholder-set record the home is a member of:
``HOME/shares/<record fingerprint, 64 hex>.share``, sealed under the keyholder's
passphrase with the label ``ct-share:<record fingerprint>`` (``spec/keyfile.md``),
and beside it its status, ``HOME/shares/<record fingerprint>.json`` (public,
canonical JSON, written atomically)::

    {"type": "ct-share-status", "version": 1, "group_public_key": B64,
     "status": "active" | "retired" | "deleted",
     "set": {"name": N, "epoch": E, "fingerprint": HEX} | null,   the keyholder set it signs for
     "reason": TEXT | null, "retired_at": TIME | null}

Shares are named by the record, not by the group key: a keep-key rotation or a
refresh makes a new record (a new epoch, new verification shares) with the same
group key, and the member's share of each epoch is another secret.

A share leaves service when its home stores a record that supersedes its set
(:meth:`ShareStore.supersede`): **deleted** (the sealed file is unlinked) when
the next epoch kept the group key — it is still a share of the live key —,
**retired** (kept, never opened again) when the next epoch has a new key.
:meth:`ShareStore.load` refuses both (exit 11).

Homes written before shares were named by record hold
``HOME/shares/<group keyid, 32 hex>.share`` (label ``ct-share:<group keyid>``)
and ``<group keyid>.json``: still read, in place.  Such a share belongs to the
earliest record with its group key (no older home took part in a keep-key
rotation); :meth:`supersede` records that set in its status, and :meth:`load`
checks the key package against the record either way.
"""

from __future__ import annotations

import contextlib
import datetime as _dt
import os
import re
from dataclasses import dataclass
from typing import Any

from cerro_torre.suites import frost
from cerro_torre.suites.atomic import atomic_write, fsync_dir
from cerro_torre.suites.encoding import b64d, b64e, canonical_json, parse_json
from cerro_torre.suites.errors import CeremonyError, Malformed, NotFound
from cerro_torre.suites.suite import keyid_of

from .keyfile import KDFParams, open_sealed, seal

STATUS_TYPE = "ct-share-status"
ACTIVE, RETIRED, DELETED = "active", "retired", "deleted"
_FP = re.compile(r"[0-9a-f]{64}\Z")
_KEYID = re.compile(r"[0-9a-f]{32}\Z")       # a share stored before shares were named by record


@dataclass(frozen=True)
class ShareSet:
    """The keyholder-set record a share signs for, as this layer knows it (it does not read records)."""

    name: str
    epoch: int
    fingerprint: str            # of the record, 64 hex
    group_public_key: bytes

    @property
    def keyid(self) -> str:
        return keyid_of(self.group_public_key)

    def describe(self) -> str:
        return f"keyholder set {self.name!r} epoch {self.epoch}"


@dataclass(frozen=True)
class ShareEntry:
    """One share of the home, as ``ct key list`` and the TUI show it (no secret: the share stays sealed)."""

    keyid: str                              # group keyid
    group_public_key: bytes | None          # None only for an older share whose set is not yet known
    status: str                             # active | retired | deleted
    set_name: str | None
    epoch: int | None
    fingerprint: str | None                 # of the keyholder-set record, full hex
    reason: str | None
    retired_at: str | None                  # when it left service (retired or deleted)
    path: str                               # the sealed file (gone once deleted)
    stem: str = ""                          # its file name without extension: record fingerprint, or group keyid

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


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class ShareStore:
    """The sealed FROST key packages of one home, and their status."""

    def __init__(self, home: str, *, params: KDFParams | None = None, allow_weak: bool = False) -> None:
        self.dir = os.path.join(home, "shares")
        self.params = params
        self.allow_weak = allow_weak

    def _share_path(self, stem: str) -> str:
        return os.path.join(self.dir, stem + ".share")

    def _status_path(self, stem: str) -> str:
        return os.path.join(self.dir, stem + ".json")

    def path(self, s: ShareSet) -> str:
        """Where the share of ``s`` is (or would be) kept."""
        return self._share_path(self._stem(s) or s.fingerprint)

    def _stem(self, s: ShareSet) -> str | None:
        """The file holding the share of ``s``: its own, or an older one named by the group key whose set is
        unknown or ``s``."""
        if os.path.exists(self._share_path(s.fingerprint)) or os.path.exists(self._status_path(s.fingerprint)):
            return s.fingerprint
        if os.path.exists(self._share_path(s.keyid)):
            d = self._read_status(s.keyid)
            if d is None or d["set"] is None or d["set"]["fingerprint"] == s.fingerprint:
                return s.keyid
        return None

    def has(self, s: ShareSet) -> bool:
        """Whether this home holds a sealed share for ``s`` (active or retired)."""
        stem = self._stem(s)
        return stem is not None and os.path.exists(self._share_path(stem))

    # ------------------------------------------------------------ status
    def _read_status(self, stem: str) -> dict[str, Any] | None:
        p = self._status_path(stem)
        try:
            with open(p, "rb") as f:
                d = parse_json(f.read(1 << 16), p)
        except FileNotFoundError:
            return None
        bad = Malformed(f"share status {p} is damaged", "restore it from a backup of this home")
        if not isinstance(d, dict) or d.get("type") != STATUS_TYPE or d.get("version") != 1 \
                or d.get("status") not in (ACTIVE, RETIRED, DELETED) \
                or set(d) != {"type", "version", "group_public_key", "status", "set", "reason", "retired_at"}:
            raise bad
        s = d["set"]
        if s is not None and (not isinstance(s, dict) or set(s) != {"name", "epoch", "fingerprint"}
                              or not isinstance(s["fingerprint"], str) or not _FP.match(s["fingerprint"])
                              or not isinstance(s["name"], str) or not isinstance(s["epoch"], int)):
            raise bad
        if not (d["group_public_key"] is None or isinstance(d["group_public_key"], str)) or \
                not all(d[k] is None or isinstance(d[k], str) for k in ("reason", "retired_at")):
            raise bad
        return d

    def _write_status(self, stem: str, d: dict[str, Any]) -> None:
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        atomic_write(self._status_path(stem), canonical_json(d) + b"\n", mode=0o644)

    def _status_or_new(self, stem: str, group_public_key: bytes | None) -> dict[str, Any]:
        d = self._read_status(stem)
        if d is None:
            d = {"type": STATUS_TYPE, "version": 1, "status": ACTIVE, "set": None, "reason": None,
                 "retired_at": None, "group_public_key": b64e(group_public_key) if group_public_key else None}
        return d

    @staticmethod
    def _set_json(s: ShareSet) -> dict[str, Any]:
        return {"name": s.name, "epoch": s.epoch, "fingerprint": s.fingerprint}

    def assign(self, s: ShareSet) -> bool:
        """Record that the share this home holds for ``s`` signs for it (an older share named by its group
        key learns its set); False when there is none or it is known already."""
        stem = self._stem(s)
        if stem is None or not os.path.exists(self._share_path(stem)):
            return False
        d = self._status_or_new(stem, s.group_public_key)
        if d["set"] == self._set_json(s) and d["group_public_key"]:
            return False
        d.update(set=self._set_json(s), group_public_key=b64e(s.group_public_key))
        self._write_status(stem, d)
        return True

    def retire(self, s: ShareSet, reason: str) -> bool:
        """Mark the share of ``s`` retired (durably; the sealed file stays); False when this home holds none
        or it is no longer active."""
        stem = self._stem(s)
        if stem is None or not os.path.exists(self._share_path(stem)):
            return False
        d = self._status_or_new(stem, s.group_public_key)
        if d["status"] != ACTIVE:
            return False
        d.update(status=RETIRED, reason=reason, set=self._set_json(s), group_public_key=b64e(s.group_public_key),
                 retired_at=_now())
        self._write_status(stem, d)
        return True

    def delete(self, s: ShareSet, reason: str) -> bool:
        """Delete the share of ``s``: its status says so first (durably), then the sealed file is unlinked and
        the folder fsynced (a crash in between is finished by the next call).  False when there was
        nothing to delete."""
        stem = self._stem(s)
        if stem is None:
            return False
        path = self._share_path(stem)
        d = self._status_or_new(stem, s.group_public_key)
        changed = d["status"] != DELETED
        if changed:
            d.update(status=DELETED, reason=reason, set=self._set_json(s), group_public_key=b64e(s.group_public_key),
                     retired_at=_now())
            self._write_status(stem, d)
        if os.path.exists(path):
            with contextlib.suppress(FileNotFoundError):
                os.unlink(path)
            fsync_dir(self.dir)
            changed = True
        return changed

    def supersede(self, lineage: list[ShareSet]) -> None:
        """Take out of service this home's shares of every epoch of one lineage before its newest
        (``lineage``: the records this home keeps, by epoch).  An older share named by a group key first
        learns its set: the earliest record with that key.  Then the share of each superseded epoch is
        deleted when the next record the home keeps has the same group key (a keep-key rotation or a
        refresh: it would still be a share of the live key), else retired."""
        lineage = sorted(lineage, key=lambda s: s.epoch)
        if not lineage or not os.path.isdir(self.dir):
            return
        first: dict[bytes, ShareSet] = {}
        for s in lineage:
            first.setdefault(s.group_public_key, s)
        for s in first.values():
            if os.path.exists(self._share_path(s.keyid)):
                self.assign(s)
        for s in lineage:
            if self._stem(s) is not None:
                self.assign(s)
        for s, nxt in zip(lineage, lineage[1:]):
            if self._stem(s) is None:
                continue
            why = f"{s.describe()} was superseded by epoch {nxt.epoch} (fingerprint {_short(nxt.fingerprint)})"
            if nxt.group_public_key == s.group_public_key:
                self.delete(s, why + ", which kept the group key")
            else:
                self.retire(s, why)

    def list(self) -> list[ShareEntry]:
        """Every share of the home with its status (deleted ones too), by set name, epoch and group keyid."""
        if not os.path.isdir(self.dir):
            return []
        stems: set[str] = set()
        for fn in os.listdir(self.dir):
            stem, _, ext = fn.rpartition(".")
            if not (_FP.match(stem) or _KEYID.match(stem)):
                continue
            if ext == "share" or (ext == "json" and (self._read_status(stem) or {}).get("status") == DELETED):
                stems.add(stem)
        out = []
        for stem in stems:
            d = self._status_or_new(stem, None)
            gpk = b64d(d["group_public_key"], "share status group_public_key", size=32) \
                if d["group_public_key"] else None
            s = d["set"] or {}
            fp = s.get("fingerprint") or (stem if _FP.match(stem) else None)
            keyid = keyid_of(gpk) if gpk else stem if _KEYID.match(stem) else ""
            out.append(ShareEntry(keyid, gpk, d["status"], s.get("name"), s.get("epoch"), fp, d["reason"],
                                  d["retired_at"], self._share_path(stem), stem))
        out.sort(key=lambda e: (e.set_name or "", e.epoch or 0, e.keyid, e.stem))
        return out

    # ------------------------------------------------------------ the sealed share
    def load(self, s: ShareSet, verifying_share: bytes, passphrase: bytes) -> frost.KeyPackage:
        """The member's key package for ``s``, whose verifying share must be ``verifying_share`` (the
        member's verification share in the record)."""
        stem = self._stem(s)
        missing = NotFound(f"this home holds no share of {s.describe()} (group key {s.keyid})",
                           "answer from the keyholder home that took part in that keygen or rotation; a member who "
                           "lost its share can have it repaired ('ct help rotate')")
        if stem is None:
            raise missing
        d = self._read_status(stem)
        if d is not None and d["status"] == RETIRED:
            raise CeremonyError(f"the share of group key {s.keyid} is retired: {d['reason']}",
                                "this home no longer signs for that set; 'ct key list' shows its shares "
                                "and their status")
        if d is not None and d["status"] == DELETED:
            raise CeremonyError(f"the share of group key {s.keyid} for {s.describe()} was deleted: {d['reason']}",
                                "this home no longer signs for that set; 'ct key list' shows its shares "
                                "and their status")
        p = self._share_path(stem)
        try:
            with open(p, "rb") as f:
                blob = f.read(1 << 16)
        except FileNotFoundError:
            raise missing from None
        label = "ct-share:" + stem
        kp = frost.KeyPackage.from_bytes(open_sealed(blob, passphrase, label, name=p, what=f"this home ({label})",
                                                     allow_weak=self.allow_weak))
        if kp.group_public_key != s.group_public_key or kp.verifying_share != verifying_share:
            if stem != s.fingerprint:
                raise missing      # an older share of the same group key: another epoch's
            raise CeremonyError(f"the share in {p} is not this member's share of {s.describe()}",
                                "the file was swapped or damaged; restore it from a backup of this home")
        if stem != s.fingerprint and (d is None or d["set"] is None):
            self.assign(s)
        return kp

    def store(self, kp: frost.KeyPackage, s: ShareSet, passphrase: bytes) -> None:
        """Seal the member's key package for ``s`` (then its status: active, this set)."""
        if kp.group_public_key != s.group_public_key:
            raise CeremonyError(f"the share is not of the group key of {s.describe()}")
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        label = "ct-share:" + s.fingerprint
        atomic_write(self._share_path(s.fingerprint),
                     seal(kp.to_bytes(), passphrase, label, self.params, allow_weak=self.allow_weak), mode=0o600)
        self._write_status(s.fingerprint, {"type": STATUS_TYPE, "version": 1, "status": ACTIVE,
                                           "set": self._set_json(s), "reason": None, "retired_at": None,
                                           "group_public_key": b64e(s.group_public_key)})


def _short(fp: str) -> str:
    return " ".join(fp[i:i + 4] for i in range(0, 16, 4))
