"""Trust that only moves forward: lineages, checkpoints, forks and closed epochs
(``spec/keyholder-set.md`` §Lineage and checkpoints, §Closing an epoch).

A *lineage* is the chain of one cooperative's keyholder-set records, named by
the set's ``name`` (which never changes): epoch 1 is the root, epoch N+1 names
epoch N as ``previous``.  A *checkpoint* is one ``(name, epoch, fingerprint)``
a verifier knows; two different records at one epoch of one lineage are a
**fork**, refused everywhere with both fingerprints named.

What a verifier knows (:class:`Knowledge`) comes from its policy's pinned
checkpoints (records) and from its home's :class:`TrustStore` — every record
of every chain the home verified.  Checkpoints never add trust: a chain must
still start at a pinned root or checkpoint.  They only narrow it:

* a chain whose records disagree with a checkpoint is a fork (exit 3);
* a chain that ends at epoch N below the newest epoch E the verifier knows
  signed its release with a closed epoch: it is valid only if the record of
  epoch N+1 is known and lists the release's statement digest in its
  ``closed_releases`` (else exit 4).

The home's store::

    HOME/governance/checkpoints.json            {"type": "ct-checkpoints", "version": 1,
                                                 "checkpoints": {NAME: {"EPOCH": FINGERPRINT}}}
    HOME/governance/<name>/<epoch:016>-<fingerprint>.json   each record, canonical, as verified
    HOME/governance/.lock                        serializes writers

``checkpoints.json`` is the commit point: records are written first (each
atomically), then the checkpoints (atomically, fsynced); a record file that
no checkpoint names is ignored.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from cerro_torre.suites.atomic import atomic_write, locked_dir
from cerro_torre.suites.encoding import Record, canonical_json, parse_json
from cerro_torre.suites.errors import CTError, KeyNotTrusted, Malformed, PolicyRejected

from .keyholders import MAX_RECORD, KeyholderSet

CHECKPOINTS_TYPE = "ct-checkpoints"
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def short(fp: str) -> str:
    """The 16-hex-digit form people compare (``spec/fingerprint.md``) of a full hex fingerprint."""
    return " ".join(fp[i:i + 4] for i in range(0, 16, 4))


def fork_error(name: str, epoch: int, a: str, a_from: str, b: str, b_from: str) -> KeyNotTrusted:
    return KeyNotTrusted(
        f"fork: two different records claim epoch {epoch} of keyholder set {name!r}: "
        f"{short(a)} ({a_from}) and {short(b)} ({b_from})",
        "a keyholder set has exactly one record per epoch: the other one was made by members forking "
        "the set (or forged); do not trust what it signed, and tell the cooperative",
        f"full fingerprints: {a} and {b}")


# ====================================================================== what a verifier knows

class Known(Record):
    """One checkpoint: the record's fingerprint at (name, epoch), where it came from, and the record
    itself when the verifier holds it (loaded on demand)."""

    __slots__ = ("name", "epoch", "fingerprint", "source", "_record", "_load")

    def __init__(self, name: str, epoch: int, fingerprint: str, source: str,
                 record: KeyholderSet | None = None, load: Callable[[], KeyholderSet | None] | None = None) -> None:
        self.name = name
        self.epoch = epoch
        self.fingerprint = fingerprint
        self.source = source
        self._record = record
        self._load = load

    @property
    def record(self) -> KeyholderSet | None:
        if self._record is None and self._load is not None:
            self._record = self._load()
            self._load = None
        return self._record

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "epoch": self.epoch, "fingerprint": self.fingerprint, "source": self.source}


class Lineage:
    """Every checkpoint a verifier knows of one set name, by epoch."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.by_epoch: dict[int, Known] = {}

    def add(self, k: Known) -> None:
        old = self.by_epoch.get(k.epoch)
        if old is None:
            self.by_epoch[k.epoch] = k
        elif old.fingerprint != k.fingerprint:
            raise fork_error(self.name, k.epoch, old.fingerprint, old.source, k.fingerprint, k.source)
        elif old.record is None and k.record is not None:
            self.by_epoch[k.epoch] = Known(k.name, k.epoch, k.fingerprint, old.source, k.record)

    @property
    def newest(self) -> Known | None:
        return self.by_epoch[max(self.by_epoch)] if self.by_epoch else None

    def forks_in(self, chain: Iterable[KeyholderSet], what: str) -> KeyNotTrusted | None:
        """The first record of ``chain`` (or the epoch it names as previous) that disagrees with a checkpoint."""
        for r in chain:
            k = self.by_epoch.get(r.epoch)
            if k is not None and k.fingerprint != r.fingerprint.full_hex:
                return fork_error(self.name, r.epoch, k.fingerprint, k.source, r.fingerprint.full_hex, what)
            if r.previous is not None:
                k = self.by_epoch.get(r.previous[0])
                if k is not None and k.fingerprint != r.previous[1]:
                    return fork_error(self.name, r.previous[0], k.fingerprint, k.source, r.previous[1],
                                      f"named as previous by epoch {r.epoch} of {what}")
        return None

    def conflict(self, r: KeyholderSet, what: str) -> KeyNotTrusted | None:
        """The fork adding ``r`` would make: it disagrees with a checkpoint at its epoch, with the one it
        names as previous, or the known next epoch does not name it as previous."""
        err = self.forks_in([r], what)
        nxt = self.by_epoch.get(r.epoch + 1)
        nrec = nxt.record if nxt is not None else None
        if err is None and nrec is not None and nrec.previous is not None \
                and nrec.previous[1] != r.fingerprint.full_hex:
            err = fork_error(self.name, r.epoch, nrec.previous[1],
                             f"named as previous by epoch {nrec.epoch}, {nxt.source}", r.fingerprint.full_hex, what)
        return err


class Forward(Record):
    """The verdict of the forward-only rules on a chain that signed a release.

    ``status``: ``current`` (the chain ends at the newest epoch the verifier knows, or later),
    ``kept`` (it ends at a closed epoch, and the record that closed it, ``closed_by``, lists the release),
    ``refused`` (``error`` says why: exit 4)."""

    __slots__ = ("status", "newest", "closed_by", "error")

    def __init__(self, status: str, newest: Known | None = None, closed_by: KeyholderSet | None = None,
                 error: CTError | None = None) -> None:
        self.status = status
        self.newest = newest
        self.closed_by = closed_by
        self.error = error

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "newest_known": self.newest.to_json() if self.newest else None,
                "closed_by": self.closed_by.fingerprint.full_hex if self.closed_by else None,
                "error": self.error.message if self.error else None}


def forward(lineage: Lineage, last: KeyholderSet, statement_sha256: str | None, what: str) -> Forward:
    """Apply the closing rule to a chain ending at ``last`` that signed the release ``statement_sha256``
    (None: no release, e.g. a carried chain — then only forks matter)."""
    newest = lineage.newest
    if newest is None or last.epoch >= newest.epoch:
        return Forward("current", newest)
    nxt_known = lineage.by_epoch.get(last.epoch + 1)
    nxt = nxt_known.record if nxt_known is not None else None
    if nxt is not None and nxt.previous is not None and nxt.previous[1] != last.fingerprint.full_hex:
        return Forward("refused", newest, nxt, fork_error(
            lineage.name, last.epoch, nxt.previous[1],
            f"named as previous by epoch {nxt.epoch}, {nxt_known.source}", last.fingerprint.full_hex, what))
    if statement_sha256 is None:
        return Forward("kept", newest, nxt)
    src = f"epoch {newest.epoch} ({short(newest.fingerprint)}, {newest.source})"
    if nxt is None:
        return Forward("refused", newest, None, PolicyRejected(
            f"{last.describe()} signed this release, but this verifier knows {src}: the rotation closed "
            f"epoch {last.epoch}, and the record of epoch {last.epoch + 1} that lists the releases it kept is not here",
            f"get the record of epoch {last.epoch + 1} from the cooperative and pin it "
            "('ct policy add-checkpoint KEYHOLDERS.json'), or verify a bundle signed by a later epoch first "
            "(its chain carries the record)"))
    if nxt.closes(statement_sha256):
        return Forward("kept", newest, nxt)
    return Forward("refused", newest, nxt, PolicyRejected(
        f"signed by epoch {last.epoch} of {lineage.name!r} after epoch {nxt.epoch} closed it: the release statement "
        f"(sha256 {statement_sha256[:16]}…) is not among the {len(nxt.closed_releases or ())} release(s) that "
        f"epoch {nxt.epoch} ({nxt.fingerprint.hex}) kept",
        f"get the release signed by the current keyholder set (epoch {newest.epoch}); a release of a closed "
        "epoch that its rotation did not list was signed after the rotation, or left off by its coordinator"))


class Knowledge:
    """What one verifier knows of every lineage: its policy's checkpoints and its home's store."""

    def __init__(self, pinned: Iterable[tuple[KeyholderSet, str]] = (), store: TrustStore | None = None,
                 extra: Iterable[tuple[KeyholderSet, str]] = ()) -> None:
        self.pinned = list(pinned)        # (record, source): policy checkpoints
        self.store = store
        self.extra = list(extra)          # (record, source): e.g. records an import verified in this run
        self._cache: dict[str, Lineage] = {}

    def with_records(self, records: Iterable[KeyholderSet], source: str) -> Knowledge:
        return Knowledge(self.pinned, self.store, self.extra + [(r, source) for r in records])

    def lineage(self, name: str) -> Lineage:
        """Raises KeyNotTrusted (a fork) when the verifier's own sources disagree."""
        lin = self._cache.get(name)
        if lin is not None:
            return lin
        lin = Lineage(name)
        for rec, src in self.pinned + self.extra:
            if rec.name == name:
                lin.add(Known(name, rec.epoch, rec.fingerprint.full_hex, src, rec))
        if self.store is not None:
            for epoch, fp in sorted(self.store.checkpoints(name).items()):
                lin.add(Known(name, epoch, fp, f"checkpoint of {self.store.home}",
                              load=lambda e=epoch: self.store.record_at(name, e)))
        self._cache[name] = lin
        return lin

    def judge(self, records: list[KeyholderSet], release: str | None,
              what: str) -> tuple[KeyNotTrusted | None, Forward]:
        """(fork error or None, forward verdict) of a walked chain ``records`` that signed ``release``."""
        last = records[-1]
        lin = self.lineage(last.name)
        fork = lin.forks_in(records, what)
        if fork is not None:
            return fork, Forward("refused", lin.newest, None, fork)
        fwd = forward(lin, last, release, what)
        if isinstance(fwd.error, KeyNotTrusted):
            return fwd.error, fwd
        return None, fwd

    @property
    def anchors(self) -> set[str]:
        """Fingerprints a chain may start from: the pinned checkpoints (never the home's)."""
        return {r.fingerprint.full_hex for r, _ in self.pinned}


# ====================================================================== the home's store

class TrustStore:
    """``HOME/governance``: the keyholder-set records this home verified, and its checkpoints."""

    def __init__(self, home: str) -> None:
        self.home = os.path.abspath(home)
        self.dir = os.path.join(self.home, "governance")
        self.cp_path = os.path.join(self.dir, "checkpoints.json")

    def record_path(self, name: str, epoch: int, fingerprint: str) -> str:
        return os.path.join(self.dir, name, f"{epoch:016d}-{fingerprint}.json")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with locked_dir(self.dir):
            yield

    # ------------------------------------------------------------ reading
    def _read(self) -> dict[str, dict[int, str]]:
        try:
            with open(self.cp_path, "rb") as f:
                raw = f.read(16 << 20)
        except FileNotFoundError:
            return {}
        d = parse_json(raw, self.cp_path)
        bad = Malformed(f"{self.cp_path} is not a ct checkpoints file",
                        "restore it from a backup of this home; removing it forgets every epoch this home verified")
        if not isinstance(d, dict) or set(d) != {"type", "version", "checkpoints"} \
                or d["type"] != CHECKPOINTS_TYPE or d["version"] != 1 or not isinstance(d["checkpoints"], dict):
            raise bad
        out: dict[str, dict[int, str]] = {}
        for name, eps in d["checkpoints"].items():
            if not _NAME.match(name) or not isinstance(eps, dict):
                raise bad
            out[name] = {}
            for e, fp in eps.items():
                if not re.fullmatch(r"[1-9][0-9]{0,15}", e) or not isinstance(fp, str) or not _HEX64.match(fp):
                    raise bad
                out[name][int(e)] = fp
        return out

    def _write(self, cps: dict[str, dict[int, str]]) -> None:
        doc = {"type": CHECKPOINTS_TYPE, "version": 1,
               "checkpoints": {n: {str(e): fp for e, fp in sorted(eps.items())} for n, eps in sorted(cps.items())}}
        atomic_write(self.cp_path, canonical_json(doc) + b"\n", mode=0o644)

    def checkpoints(self, name: str) -> dict[int, str]:
        return dict(self._read().get(name, {}))

    def names(self) -> list[str]:
        return sorted(self._read())

    def _load(self, name: str, epoch: int, fp: str) -> KeyholderSet | None:
        p = self.record_path(name, epoch, fp)
        try:
            with open(p, "rb") as f:
                rec = KeyholderSet.from_bytes(f.read(MAX_RECORD + 1), p)
        except FileNotFoundError:
            return None
        if rec.fingerprint.full_hex != fp or (rec.name, rec.epoch) != (name, epoch):
            raise Malformed(f"{p} does not hold keyholder set {name!r} epoch {epoch} ({short(fp)})",
                            "restore it from a backup of this home")
        return rec

    def record_at(self, name: str, epoch: int) -> KeyholderSet | None:
        fp = self.checkpoints(name).get(epoch)
        return self._load(name, epoch, fp) if fp else None

    def latest(self, name: str) -> KeyholderSet | None:
        cps = self.checkpoints(name)
        return self._load(name, max(cps), cps[max(cps)]) if cps else None

    def records(self, name: str) -> list[KeyholderSet]:
        """Every stored record of ``name`` that a checkpoint names, by epoch."""
        out = []
        for e, fp in sorted(self.checkpoints(name).items()):
            rec = self._load(name, e, fp)
            if rec is not None:
                out.append(rec)
        return out

    def get(self, fingerprint: str) -> KeyholderSet | None:
        for name, eps in self._read().items():
            for e, fp in eps.items():
                if fp == fingerprint:
                    return self._load(name, e, fp)
        return None

    # ------------------------------------------------------------ writing
    def check(self, records: Iterable[KeyholderSet], what: str = "the new records") -> None:
        """Raise a fork error when ``records`` disagree with this home's checkpoints or with each other."""
        self._check(self._read(), list(records), what)

    def _check(self, cps: dict[str, dict[int, str]], records: list[KeyholderSet], what: str) -> None:
        lins: dict[str, Lineage] = {}
        for name in {r.name for r in records}:
            lin = lins[name] = Lineage(name)
            for e, fp in cps.get(name, {}).items():
                lin.add(Known(name, e, fp, f"checkpoint of {self.home}",
                              load=lambda n=name, e=e, fp=fp: self._load(n, e, fp)))
        for r in sorted(records, key=lambda r: r.epoch):
            lin = lins[r.name]
            err = lin.conflict(r, what)
            if err is not None:
                raise err
            lin.add(Known(r.name, r.epoch, r.fingerprint.full_hex, what, r))

    def add(self, records: Iterable[KeyholderSet], what: str = "the new records") -> list[KeyholderSet]:
        """Store the records of a verified chain and advance the checkpoints (refusing a fork); mark
        retired the home's shares of every set a stored record supersedes.  Returns the records that
        were new to this home."""
        def fresh(cps: dict[str, dict[int, str]]) -> list[KeyholderSet]:
            return [r for r in records if cps.get(r.name, {}).get(r.epoch) != r.fingerprint.full_hex]

        records = list(records)
        if not fresh(self._read()):
            return []           # known already: nothing to check, nothing written (no lock, no folder)
        with self._locked():
            cps = self._read()
            self._check(cps, fresh(cps), what)
            new = fresh(cps)
            if not new:
                return []
            seen: set[tuple[str, int]] = set()
            for r in sorted(new, key=lambda r: (r.name, r.epoch)):
                if (r.name, r.epoch) in seen:
                    continue
                seen.add((r.name, r.epoch))
                folder = os.path.join(self.dir, r.name)
                os.makedirs(folder, mode=0o700, exist_ok=True)
                atomic_write(self.record_path(r.name, r.epoch, r.fingerprint.full_hex), r.to_bytes(), mode=0o644)
                cps.setdefault(r.name, {})[r.epoch] = r.fingerprint.full_hex
            self._write(cps)
        self._retire_superseded({r.name for r in new})
        return new

    def _retire_superseded(self, names: set[str]) -> None:
        """The home's shares: each learns its set; those of a superseded epoch are retired, or deleted when
        the next epoch kept the group key (``keys.shares.ShareStore.supersede``)."""
        from cerro_torre.keys.shares import ShareSet, ShareStore

        shares = ShareStore(self.home)
        if not os.path.isdir(shares.dir):
            return
        for name in sorted(names):
            shares.supersede([ShareSet(r.name, r.epoch, r.fingerprint.full_hex, r.group_public_key)
                              for r in self.records(name) if r.group_public_key is not None])
