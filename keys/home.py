"""The keyholder home: identity keys, trust and the default key.

Layout (folders 0700, every write atomic)::

    HOME/
      keys/<id>.pub     public key file (canonical JSON + LF, spec/suites.md)
      keys/<id>.sec     sealed private key (spec/keyfile.md, label "ct-identity:<id>"), 0600
      trust.json        {"default": ID|null, "trust": {ID: LEVEL}, "type": "ct-trust", "version": 1}
      trust.log         one line per explicit trust change (time, key, old -> new level, fingerprint)
      .lock             advisory lock serializing changes to trust.json

Trust levels: ``none`` (imported, not yet vouched for), ``trusted`` (its
owner's fingerprint was checked), ``ultimate`` (a key generated here; only
keys whose private half is in this home can be ultimate).  A key absent from
trust.json is ``none``.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from dataclasses import dataclass

from cerro_torre.keys.identity import IdentityKey, IdentityPublic, validate_id
from cerro_torre.keys.keyfile import KDFParams, no_core_dumps, open_sealed, seal
from cerro_torre.suites.atomic import atomic_write, locked_dir
from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import AlreadyExists, Malformed, NotFound, UsageError
from cerro_torre.suites.fingerprint import Fingerprint

TRUST_LEVELS = ("none", "trusted", "ultimate")
TRUST_TYPE = "ct-trust"
DIR_MODE = 0o700
SECRET_MODE = 0o600
PUBLIC_MODE = 0o644


def identity_label(key_id: str) -> str:
    """The sealed-file label of an identity key (binds the .sec file to its id)."""
    return f"ct-identity:{key_id}"


@dataclass(frozen=True)
class KeyEntry:
    id: str
    suite: str
    trust: str
    default: bool
    has_private: bool
    fingerprint: Fingerprint
    public_path: str

    def to_json(self) -> dict:
        return {"id": self.id, "suite": self.suite, "trust": self.trust, "default": self.default,
                "private": self.has_private, "fingerprint": self.fingerprint.to_json(),
                "public_path": self.public_path}


class Home:
    def __init__(self, path: str | os.PathLike[str], *, params: KDFParams | None = None,
                 allow_weak: bool = False) -> None:
        """``params``/``allow_weak``: Argon2id cost for new key files (tests only lower it)."""
        self.path = os.path.abspath(os.fspath(path))
        self.keys_dir = os.path.join(self.path, "keys")
        self.trust_path = os.path.join(self.path, "trust.json")
        self.params = params
        self.allow_weak = allow_weak

    # ------------------------------------------------------------ paths
    def pub_path(self, key_id: str) -> str:
        return os.path.join(self.keys_dir, f"{validate_id(key_id)}.pub")

    def sec_path(self, key_id: str) -> str:
        return os.path.join(self.keys_dir, f"{validate_id(key_id)}.sec")

    def _ensure_dirs(self) -> None:
        for d in (self.path, self.keys_dir):
            if not os.path.isdir(d):
                os.makedirs(d, mode=DIR_MODE, exist_ok=True)
                os.chmod(d, DIR_MODE)

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dirs()
        with locked_dir(self.path):
            yield

    # ------------------------------------------------------------ trust.json
    def _read_state(self) -> dict:
        try:
            with open(self.trust_path, "rb") as f:
                raw = f.read()
        except FileNotFoundError:
            return {"type": TRUST_TYPE, "version": 1, "default": None, "trust": {}}
        d = parse_json(raw, self.trust_path)
        if not isinstance(d, dict) or d.get("type") != TRUST_TYPE or d.get("version") != 1 \
                or set(d) != {"type", "version", "default", "trust"} or not isinstance(d["trust"], dict):
            raise Malformed(f"{self.trust_path} is not a version 1 ct trust file",
                            "restore it from a backup, or remove it to start over (all keys become untrusted)")
        for k, v in d["trust"].items():
            validate_id(k, Malformed)
            if v not in TRUST_LEVELS:
                raise Malformed(f"{self.trust_path}: unknown trust level {v!r} for {k!r}",
                                "levels are none, trusted, ultimate; fix the file or restore it from a backup")
        if d["default"] is not None:
            validate_id(d["default"], Malformed)
        return d

    def _write_state(self, d: dict) -> None:
        atomic_write(self.trust_path, canonical_json(d) + b"\n", mode=SECRET_MODE)

    # ------------------------------------------------------------ keys
    def exists(self, key_id: str) -> bool:
        return os.path.exists(self.pub_path(key_id))

    def _not_found(self, key_id: str) -> NotFound:
        return NotFound(f"no key {key_id!r} in {self.keys_dir}", "see the keys there with 'ct key list'")

    def generate_key(self, key_id: str, suite: str, passphrase: bytes,
                     params: KDFParams | None = None) -> IdentityPublic:
        """Generate, seal and store a new identity; it becomes ultimate, and the default if it is the first."""
        validate_id(key_id)
        params = params or self.params
        with self._locked():
            if os.path.exists(self.pub_path(key_id)) or os.path.exists(self.sec_path(key_id)):
                raise AlreadyExists(f"key {key_id!r} already exists in {self.keys_dir}",
                                    "choose another --id; existing keys are never overwritten")
            no_core_dumps()
            key = IdentityKey.generate(key_id, suite)
            plain = key.private_bytes()
            try:
                blob = seal(plain, passphrase, identity_label(key_id), params, allow_weak=self.allow_weak)
            finally:
                plain[:] = bytes(len(plain))
            public = key.public()
            key.wipe()
            atomic_write(self.sec_path(key_id), blob, mode=SECRET_MODE)
            atomic_write(self.pub_path(key_id), public.to_file_bytes(), mode=PUBLIC_MODE)
            state = self._read_state()
            state["trust"][key_id] = "ultimate"
            if state["default"] is None:
                state["default"] = key_id
            self._write_state(state)
        return public

    def public(self, key_id: str) -> IdentityPublic:
        validate_id(key_id)
        path = self.pub_path(key_id)
        try:
            with open(path, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            raise self._not_found(key_id) from None
        pub = IdentityPublic.from_bytes(data, f"public key file {path}")
        if pub.id != key_id:
            raise Malformed(f"public key file {path} holds key {pub.id!r}", "the file was renamed; restore it")
        return pub

    def export_public(self, key_id: str) -> bytes:
        return self.public(key_id).to_file_bytes()

    def import_public(self, data: bytes, *, source: str = "public key") -> IdentityPublic:
        """Store a public key file; imported keys start at trust 'none'.

        The same key again changes nothing; a different key under an existing id
        is refused (AlreadyExists).
        """
        return self.import_public_report(data, source=source)[0]

    def import_public_report(self, data: bytes, *, source: str = "public key") -> tuple[IdentityPublic, bool]:
        """Like :meth:`import_public`, also saying whether anything changed."""
        pub = IdentityPublic.from_bytes(data, source)
        with self._locked():
            path = self.pub_path(pub.id)
            if os.path.exists(path):
                here = self.public(pub.id)
                if here == pub:
                    return pub, False
                raise AlreadyExists(f"a different key named {pub.id!r} already exists",
                                    f"compare fingerprints with its owner; the one here is {here.fingerprint.hex}")
            if os.path.exists(self.sec_path(pub.id)):
                raise AlreadyExists(f"a private key named {pub.id!r} exists without its public key",
                                    "check the home; refusing to pair it with an imported key")
            atomic_write(path, pub.to_file_bytes(), mode=PUBLIC_MODE)
            state = self._read_state()
            state["trust"].setdefault(pub.id, "none")
            self._write_state(state)
        return pub, True

    def has_private(self, key_id: str) -> bool:
        return os.path.exists(self.sec_path(key_id))

    def load_private(self, key_id: str, passphrase: bytes) -> IdentityKey:
        """Open ``keys/<id>.sec``; checks it matches ``keys/<id>.pub``."""
        pub = self.public(key_id)
        path = self.sec_path(key_id)
        try:
            with open(path, "rb") as f:
                blob = f.read()
        except FileNotFoundError:
            raise NotFound(f"no private key for {key_id!r} in this home",
                           "it was imported as a public key only; sign on the machine that holds it") from None
        plain = bytearray(open_sealed(blob, passphrase, identity_label(key_id), name=f"key file {path}",
                                      what=f"key {key_id!r}", allow_weak=self.allow_weak))
        try:
            key = IdentityKey.from_private_bytes(plain, f"key file {path}")
        finally:
            plain[:] = bytes(len(plain))
        if key.id != key_id or key.public() != pub:
            key.wipe()
            raise Malformed(f"key file {path} does not match {self.pub_path(key_id)}",
                            "one of the two was replaced; restore both from a backup")
        return key

    def list_keys(self) -> list[KeyEntry]:
        if not os.path.isdir(self.keys_dir):
            return []
        state = self._read_state()
        out = []
        for name in sorted(os.listdir(self.keys_dir)):
            if not name.endswith(".pub"):
                continue
            key_id = name[:-4]
            try:
                validate_id(key_id, Malformed)
            except Malformed:
                continue  # not ours
            pub = self.public(key_id)
            out.append(KeyEntry(key_id, pub.suite, state["trust"].get(key_id, "none"),
                                state["default"] == key_id, self.has_private(key_id), pub.fingerprint,
                                self.pub_path(key_id)))
        return out

    def set_default(self, key_id: str) -> None:
        validate_id(key_id)
        with self._locked():
            if not self.exists(key_id):
                raise self._not_found(key_id)
            if not self.has_private(key_id):
                raise UsageError(f"key {key_id!r} has no private key here; the default key signs",
                                 "choose one of your own keys (trust 'ultimate' in 'ct key list')")
            state = self._read_state()
            state["default"] = key_id
            self._write_state(state)

    def default(self) -> str | None:
        d = self._read_state()["default"]
        return d if d is not None and self.exists(d) else None

    def trust(self, key_id: str) -> str:
        if not self.exists(key_id):
            raise self._not_found(key_id)
        return self._read_state()["trust"].get(key_id, "none")

    def set_trust(self, key_id: str, level: str) -> None:
        validate_id(key_id)
        if level not in TRUST_LEVELS:
            raise UsageError(f"unknown trust level {level!r}", "levels: " + ", ".join(TRUST_LEVELS))
        with self._locked():
            if not self.exists(key_id):
                raise self._not_found(key_id)
            if level == "ultimate" and not self.has_private(key_id):
                raise UsageError(f"only your own keys can be ultimate, and {key_id!r} has no private key here",
                                 f"use 'ct key trust {key_id} trusted' for someone else's key")
            state = self._read_state()
            before = state["trust"].get(key_id, "none")
            state["trust"][key_id] = level
            self._write_state(state)
            self._log_trust(key_id, before, level)

    def _log_trust(self, key_id: str, before: str, after: str) -> None:
        """Append one line to HOME/trust.log (fsynced): every explicit trust change is on record."""
        import datetime as _dt

        when = _dt.datetime.now(_dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        fp = self.public(key_id).fingerprint
        line = f"{when} trust {key_id} {before} -> {after} fingerprint {fp.full_hex}\n"
        fd = os.open(os.path.join(self.path, "trust.log"), os.O_WRONLY | os.O_APPEND | os.O_CREAT, SECRET_MODE)
        try:
            os.write(fd, line.encode("utf-8"))
            os.fsync(fd)
        finally:
            os.close(fd)
