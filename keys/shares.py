"""FROST signing shares held by a keyholder home (``spec/ceremony.md`` §3).

One sealed key package per group key: ``HOME/shares/<group keyid>.share``,
sealed under the keyholder's passphrase with the label
``ct-share:<group keyid>`` (``spec/keyfile.md``).
"""

from __future__ import annotations

import os

from cerro_torre.suites import frost
from cerro_torre.suites.atomic import atomic_write
from cerro_torre.suites.errors import NotFound
from cerro_torre.suites.suite import keyid_of

from .keyfile import KDFParams, open_sealed, seal


class ShareStore:
    """The sealed FROST key packages of one home."""

    def __init__(self, home: str, *, params: KDFParams | None = None, allow_weak: bool = False) -> None:
        self.dir = os.path.join(home, "shares")
        self.params = params
        self.allow_weak = allow_weak

    def path(self, group_public_key: bytes) -> str:
        return os.path.join(self.dir, keyid_of(group_public_key) + ".share")

    def has(self, group_public_key: bytes) -> bool:
        return os.path.exists(self.path(group_public_key))

    def load(self, group_public_key: bytes, passphrase: bytes) -> frost.KeyPackage:
        p = self.path(group_public_key)
        label = "ct-share:" + keyid_of(group_public_key)
        try:
            with open(p, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            raise NotFound(f"this home holds no share of group key {keyid_of(group_public_key)}",
                           "answer from the keyholder home that took part in that keygen") from None
        return frost.KeyPackage.from_bytes(open_sealed(blob, passphrase, label, name=p,
                                                       what=f"this home ({label})", allow_weak=self.allow_weak))

    def store(self, kp: frost.KeyPackage, passphrase: bytes) -> None:
        os.makedirs(self.dir, mode=0o700, exist_ok=True)
        label = "ct-share:" + keyid_of(kp.group_public_key)
        atomic_write(self.path(kp.group_public_key),
                     seal(kp.to_bytes(), passphrase, label, self.params, allow_weak=self.allow_weak), mode=0o600)
