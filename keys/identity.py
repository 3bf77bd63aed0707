"""Identity keys of one keyholder (``spec/suites.md``, ``spec/keyfile.md``).

An identity has an id (``[a-z0-9][a-z0-9._-]{0,63}``), a suite and one key
per algorithm of the suite plus an X25519 key for sealed boxes:

    CT-SIG-01  ed25519, x25519
    CT-SIG-02  ed25519, x25519, ml-dsa-87   (default)
    CT-SIG-03  ml-dsa-87, x25519

Private material is held as 32-byte seeds (Ed25519 seed, ML-DSA seed xi,
X25519 private scalar).  The public half is a canonical JSON document::

    {"id":"alice","keys":{"ed25519":B64,"ml-dsa-87":B64,"x25519":B64},
     "suite":"CT-SIG-02","type":"ct-identity-public","version":1}

whose fingerprint is ``Fingerprint.of(canonical JSON)`` (spec/fingerprint.md).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Any

from cerro_torre.suites import ed25519, mldsa
from cerro_torre.suites.encoding import b64d, b64e, canonical_json, parse_json, type_of
from cerro_torre.suites.errors import CTError, Malformed, NotFound, UsageError
from cerro_torre.suites.fingerprint import Fingerprint
from cerro_torre.suites.suite import (
    SUITES,
    Requirement,
    Signature,
    StreamedMessage,
    SuiteResult,
    evaluate,
    get_suite,
    keyid_of,
)

ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")
X25519 = "x25519"
PUBLIC_TYPE = "ct-identity-public"
PRIVATE_TYPE = "ct-identity-private"
VERSION = 1

# suite -> the key slots an identity of that suite has
KEY_SLOTS: dict[str, tuple[str, ...]] = {
    "CT-SIG-01": ("ed25519", X25519),
    "CT-SIG-02": ("ed25519", X25519, "ml-dsa-87"),
    "CT-SIG-03": ("ml-dsa-87", X25519),
}
_PUBLIC_SIZES = {"ed25519": ed25519.PUBLIC_SIZE, X25519: ed25519.X25519_SIZE,
                 **{a: s[0] for a, s in mldsa.SIZES.items()}}


def validate_id(key_id: Any, exc: type[CTError] = UsageError) -> str:
    """Return ``key_id`` if it is a valid key id, else raise ``exc`` with the rule."""
    if not isinstance(key_id, str) or not ID_RE.match(key_id):
        raise exc(f"invalid key id {key_id!r}",
                  "a key id is 1-64 characters: lowercase letters, digits, '.', '_' or '-', "
                  "starting with a letter or digit")
    return key_id


def _public_from_seed(slot: str, seed: bytes | bytearray) -> bytes:
    if slot == "ed25519":
        return ed25519.public_from_seed(seed)
    if slot == X25519:
        return ed25519.x25519_public_from_private(seed)
    return mldsa.public_from_seed(slot, seed)


@dataclass(frozen=True)
class IdentityPublic:
    id: str
    suite: str
    keys: dict[str, bytes] = field(default_factory=dict)

    def __post_init__(self) -> None:
        validate_id(self.id, Malformed)
        get_suite(self.suite)
        slots = KEY_SLOTS[self.suite]
        if set(self.keys) != set(slots):
            raise Malformed(f"public key {self.id!r}: a {self.suite} identity has keys "
                            f"{', '.join(sorted(slots))}, got {', '.join(sorted(self.keys)) or 'none'}")
        for slot, pk in self.keys.items():
            if not isinstance(pk, bytes) or len(pk) != _PUBLIC_SIZES[slot]:
                raise Malformed(f"public key {self.id!r}: {slot} key must be {_PUBLIC_SIZES[slot]} bytes")

    # ---- encoding
    def to_json(self) -> dict[str, Any]:
        return {"type": PUBLIC_TYPE, "version": VERSION, "id": self.id, "suite": self.suite,
                "keys": {k: b64e(v) for k, v in sorted(self.keys.items())}}

    def to_bytes(self) -> bytes:
        """The canonical JSON of the public key (what the fingerprint covers)."""
        return canonical_json(self.to_json())

    def to_file_bytes(self) -> bytes:
        """The public key file: the canonical JSON and one LF."""
        return self.to_bytes() + b"\n"

    @classmethod
    def from_json(cls, d: Any, what: str = "public key") -> IdentityPublic:
        if not isinstance(d, dict):
            raise Malformed(f"{what} must be a JSON object")
        if d.get("type") != PUBLIC_TYPE:
            hint = "this is a sealed private key file" if d.get("type") == PRIVATE_TYPE else \
                "expected a ct public key file (.pub)"
            raise Malformed(f"{what} is not a ct identity public key ({type_of(d)})", hint)
        if d.get("version") != VERSION:
            raise Malformed(f"{what} has unsupported version {d.get('version')!r}", "upgrade ct to read it")
        expected = {"type", "version", "id", "suite", "keys"}
        if set(d) != expected:
            raise Malformed(f"{what} has unexpected fields: {', '.join(sorted(set(d) ^ expected))}")
        keys = d["keys"]
        if not isinstance(keys, dict):
            raise Malformed(f"{what}: keys must be an object")
        suite = d["suite"]
        get_suite(suite)
        raw = {}
        for slot, v in keys.items():
            if slot not in _PUBLIC_SIZES:
                raise Malformed(f"{what}: unknown key type {slot!r}")
            raw[slot] = b64d(v, f"{what} {slot} key", size=_PUBLIC_SIZES[slot])
        return cls(validate_id(d["id"], Malformed), suite, raw)

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "public key") -> IdentityPublic:
        from .keyfile import is_sealed

        if is_sealed(data):
            raise Malformed(f"{what} is a sealed private key file, not a public key",
                            "use the .pub file; private keys never leave their home")
        return cls.from_json(parse_json(data, what), what)

    # ---- identity
    @property
    def fingerprint(self) -> Fingerprint:
        return Fingerprint.of(self.to_bytes())

    def keyid(self, alg: str) -> str:
        """The keyid of this identity's ``alg`` key: hex(sha256(raw public key))[:32]."""
        if alg not in self.keys:
            raise NotFound(f"key {self.id!r} has no {alg} key", f"its suite {self.suite} has "
                           + ", ".join(KEY_SLOTS[self.suite]))
        return keyid_of(self.keys[alg])

    def signing_algorithms(self) -> tuple[str, ...]:
        return SUITES[self.suite].algorithms

    def requirements(self) -> dict[str, Requirement]:
        """One required signature per algorithm of the suite, from this key."""
        return {alg: Requirement(1, {self.keyid(alg): self.keys[alg]}) for alg in self.signing_algorithms()}

    def verify(self, message: bytes, signatures: list[Signature]) -> SuiteResult:
        """Every algorithm of the suite must carry a valid signature by this identity."""
        return evaluate(SUITES[self.suite], message, signatures, self.requirements())


class IdentityKey:
    """The private identity: one seed per key slot.  Never printed, never exported in clear."""

    __slots__ = ("id", "suite", "_seeds")

    def __init__(self, key_id: str, suite: str, seeds: dict[str, bytes | bytearray]) -> None:
        self.id = validate_id(key_id, Malformed)
        get_suite(suite)
        self.suite = suite
        if set(seeds) != set(KEY_SLOTS[suite]):
            raise Malformed(f"private key {key_id!r}: a {suite} identity has keys "
                            f"{', '.join(sorted(KEY_SLOTS[suite]))}")
        for slot, s in seeds.items():
            if not isinstance(s, (bytes, bytearray)) or len(s) != 32:
                raise Malformed(f"private key {key_id!r}: {slot} seed must be 32 bytes")
        self._seeds = {k: bytearray(v) for k, v in seeds.items()}

    @classmethod
    def generate(cls, key_id: str, suite: str = "CT-SIG-02") -> IdentityKey:
        validate_id(key_id)
        get_suite(suite, usage=True)
        return cls(key_id, suite, {slot: os.urandom(32) for slot in KEY_SLOTS[suite]})

    def public(self) -> IdentityPublic:
        return IdentityPublic(self.id, self.suite,
                              {slot: _public_from_seed(slot, seed) for slot, seed in self._seeds.items()})

    def sign(self, message: Any) -> list[Signature]:
        """One signature per algorithm of the suite, in suite order.  ``message``: a buffer, or a
        StreamedMessage (read as it goes by, never held)."""
        streamed = isinstance(message, StreamedMessage)
        out = []
        for alg in SUITES[self.suite].algorithms:
            seed = self._seeds[alg]
            if alg == "ed25519":
                sig = ed25519.sign_chunks(seed, message.chunks) if streamed else ed25519.sign(seed, message)
                pk = ed25519.public_from_seed(seed)
            else:
                key = mldsa.MLDSAPrivateKey(alg, seed)
                try:
                    sig = key.sign_chunks(message.chunks()) if streamed else key.sign(message)
                    pk = key.public_bytes()
                finally:
                    key.wipe()
            out.append(Signature(alg, keyid_of(pk), sig))
        return out

    def open_sealed(self, data: bytes) -> bytes:
        """Open a sealed box addressed to this identity's X25519 key."""
        plain = ed25519.open_sealed(self._seeds[X25519], data)
        if plain is None:
            raise Malformed(f"sealed box does not open with key {self.id!r}",
                            "it was sealed to another key, or altered in transit")
        return plain

    # ---- private serialization (only ever inside a sealed file)
    def private_bytes(self) -> bytearray:
        """The plaintext that goes inside the sealed .sec file (zero it after use)."""
        doc = {"type": PRIVATE_TYPE, "version": VERSION, "id": self.id, "suite": self.suite,
               "seeds": {k: b64e(bytes(v)) for k, v in sorted(self._seeds.items())}}
        return bytearray(canonical_json(doc))

    @classmethod
    def from_private_bytes(cls, data: bytes | bytearray, what: str = "private key") -> IdentityKey:
        d = parse_json(bytes(data), what)
        if not isinstance(d, dict) or d.get("type") != PRIVATE_TYPE or d.get("version") != VERSION:
            raise Malformed(f"{what} is not a version {VERSION} ct identity private key")
        if set(d) != {"type", "version", "id", "suite", "seeds"} or not isinstance(d["seeds"], dict):
            raise Malformed(f"{what} has unexpected fields")
        seeds = {k: b64d(v, f"{what} {k} seed", size=32) for k, v in d["seeds"].items()}
        return cls(d["id"], d["suite"], seeds)

    def wipe(self) -> None:
        for v in self._seeds.values():
            v[:] = bytes(len(v))

    def __repr__(self) -> str:
        return f"IdentityKey({self.id!r}, {self.suite!r}, <secret>)"


def seal_to(public: IdentityPublic, data: bytes) -> bytes:
    """Sealed box (X25519, anonymous sender) that only ``public``'s owner can open."""
    return ed25519.seal(public.keys[X25519], data)
