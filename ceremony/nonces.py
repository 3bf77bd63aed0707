"""Single-use FROST nonces, durably, across crashes (``spec/ceremony.md`` §nonces).

Layout under the keyholder home::

    nonces/<slot>.sealed    the nonces, sealed under the holder's passphrase (0600)
    nonces/consumed         one slot name per line, appended and fsynced

A slot names one round of one ceremony for one member (``<ceremony>.<member>``).

``take`` opens the sealed nonces, then *first* appends the slot to
``consumed`` and fsyncs it, then deletes the sealed file, and only then
returns the nonces to the caller that computes the signature share.  So a
crash at any point leaves either nonces that never produced a share, or a
slot marked consumed whose nonces can never be read again: no nonce is ever
usable twice.  A slot is never stored again after it was consumed.
"""

from __future__ import annotations

import contextlib
import os
import re
from collections.abc import Iterator

from cerro_torre.keys.keyfile import KDFParams, open_sealed, seal
from cerro_torre.suites.atomic import atomic_write, fsync_dir, locked_dir
from cerro_torre.suites.errors import CeremonyError, NotFound

from . import crashpoints

_SLOT = re.compile(r"[0-9a-f]{32}\.[a-z0-9][a-z0-9._-]{0,63}\Z")


def _label(slot: str) -> str:
    return f"ct-nonces:{slot}"


class NonceStore:
    def __init__(self, home: str, *, params: KDFParams | None = None, allow_weak: bool = False) -> None:
        self.dir = os.path.join(home, "nonces")
        self.params = params
        self.allow_weak = allow_weak

    def _path(self, slot: str) -> str:
        if not _SLOT.match(slot):
            raise ValueError(f"bad nonce slot {slot!r}")
        return os.path.join(self.dir, slot + ".sealed")

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        with locked_dir(self.dir):
            yield

    def consumed(self) -> set[str]:
        try:
            with open(os.path.join(self.dir, "consumed"), encoding="ascii") as f:
                return {line.strip() for line in f if line.strip()}
        except FileNotFoundError:
            return set()

    def has(self, slot: str) -> bool:
        return os.path.exists(self._path(slot))

    def put(self, slot: str, nonces: bytes, passphrase: bytes) -> None:
        """Store sealed nonces for ``slot``; refuse a slot used before."""
        path = self._path(slot)
        with self._locked():
            if slot in self.consumed():
                raise CeremonyError(f"nonces for {slot} were already used",
                                    "a signing round can be answered once; ask the coordinator for a new one")
            # nonces stored but never consumed belong to a reply that was never recorded as sent
            # (the caller refuses rounds it answered), so they are replaced, never reused
            atomic_write(path, seal(nonces, passphrase, _label(slot), self.params, allow_weak=self.allow_weak),
                         mode=0o600)

    def take(self, slot: str, passphrase: bytes) -> bytes:
        """Open, mark consumed (durably), delete, and return the nonces of ``slot``."""
        path = self._path(slot)
        with self._locked():
            if slot in self.consumed():
                raise CeremonyError(f"nonces for {slot} were already used: a second signature share "
                                    "from them would leak the key share",
                                    "this round cannot be answered again; ask the coordinator to restart "
                                    "the signing round")
            try:
                with open(path, "rb") as f:
                    blob = f.read()
            except FileNotFoundError:
                raise NotFound(f"no stored nonces for {slot}",
                               "answer the ceremony's request with this home first") from None
            nonces = open_sealed(blob, passphrase, _label(slot), name=f"nonce file {path}",
                                 what="the nonce store", allow_weak=self.allow_weak)
            crashpoints.hit("nonce-opened")
            fd = os.open(os.path.join(self.dir, "consumed"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
            try:
                os.write(fd, (slot + "\n").encode("ascii"))
                os.fsync(fd)
            finally:
                os.close(fd)
            crashpoints.hit("nonce-marked")
            os.unlink(path)
            fsync_dir(self.dir)
            crashpoints.hit("nonce-deleted")
            return nonces
