"""frost-py: FROST(Ed25519, SHA-512) threshold signatures (RFC 9591).

Typed Python classes in front of the C library in ``frost.c`` (libsodium
underneath).  Nothing of cffi is visible outside this module.  Byte layouts,
the DKG proof and the validation rules are in ``spec/frost.md``.

Key generation
    ``trusted_dealer_keygen`` (tests and small groups), or the three DKG
    rounds ``dkg_part1`` / ``dkg_part2`` / ``dkg_part3``;
    ``dkg_public_key_package`` lets a coordinator or anyone holding the
    round-1 packages compute the group's ``PublicKeyPackage``.
Signing
    ``commit`` (round 1) -> ``sign`` (round 2) -> ``aggregate`` (coordinator,
    identifiable abort) -> ``verify``.  The signature is a plain RFC 8032
    Ed25519 signature under the group public key.
Membership changes that keep the group key
    refresh (``refresh_deal`` -> ``refresh_finish``), reshare to a new set
    and threshold (``reshare_deal`` -> ``reshare_finish``), repair of a lost
    share by helpers (``repair_part1`` -> ``repair_part2`` ->
    ``repair_part3``); each names the participants whose messages fail.

Secrets held in Python objects (signing shares, coefficients, nonces) cannot
be reliably wiped from memory; ``SigningNonces`` keeps its bytes in one
mutable buffer that ``sign`` and ``wipe`` zero, so that a nonce pair is
usable once per process.  Durable single use is the nonce store's job.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Iterable, Mapping, Sequence

from ..errors import CeremonyError, Malformed, SignatureInvalid
from ._native import ffi as _ffi
from ._native import lib as _lib

__all__ = [
    "SCALAR_SIZE", "POINT_SIZE", "SIGNATURE_SIZE", "PROOF_SIZE", "MAX_PARTICIPANTS",
    "MAX_IDENTIFIER",
    "FrostError", "InvalidSignatureShare", "InvalidProof", "InvalidSecretShare",
    "NoncesConsumed",
    "SecretShare", "KeyPackage", "PublicKeyPackage", "DealerOutput",
    "DkgRound1Package", "DkgRound1Secret", "DkgRound2Secret",
    "SigningNonces", "SigningCommitments", "SignatureShare", "BindingFactor",
    "trusted_dealer_keygen", "vss_public_key_package", "dkg_part1", "dkg_part2", "dkg_part3", "dkg_public_key_package",
    "RefreshPackage", "ResharePackage", "RepairCommitments",
    "refresh_deal", "refresh_public_key_package", "refresh_finish",
    "reshare_deal", "reshare_public_key_package", "reshare_finish",
    "repair_part1", "repair_part2", "repair_part3",
    "commit", "sign", "verify_signature_share", "aggregate", "verify",
    "compute_binding_factors", "validate_point", "validate_scalar",
]

SCALAR_SIZE = 32
POINT_SIZE = 32
SIGNATURE_SIZE = 64
PROOF_SIZE = 64
MAX_PARTICIPANTS = int(_lib.FROST_MAX_PARTICIPANTS)
MAX_IDENTIFIER = 2**32 - 1

_IDENTITY = bytes([1]) + bytes(31)
_P = 2**255 - 19

# encoding tags (spec/frost.md)
_TAG_SECRET_SHARE = 0x01
_TAG_KEY_PACKAGE = 0x02
_TAG_PUBLIC_KEY_PACKAGE = 0x03
_TAG_SIGNING_NONCES = 0x04
_TAG_SIGNING_COMMITMENTS = 0x05
_TAG_SIGNATURE_SHARE = 0x06
_TAG_DKG_ROUND1_PACKAGE = 0x07
_TAG_DKG_ROUND1_SECRET = 0x08
_TAG_DKG_ROUND2_SECRET = 0x09
_TAG_REFRESH_PACKAGE = 0x0A
_TAG_RESHARE_PACKAGE = 0x0B
_TAG_REPAIR_COMMITMENTS = 0x0C


# --------------------------------------------------------------------------
# errors

def _who(identifiers: Sequence[int]) -> str:
    ids = ", ".join(str(i) for i in identifiers)
    return f"participant {ids}" if len(identifiers) == 1 else f"participants {ids}"


class FrostError(Malformed):
    """FROST input that breaks the format or the rules: a bad encoding,
    element, scalar, identifier list or parameter (exit 10)."""


class _Blame:
    """Mixin: the error names the participants at fault in ``identifiers``."""

    identifiers: tuple[int, ...]


class InvalidSignatureShare(_Blame, SignatureInvalid):
    """One or more signature shares do not verify; ``identifiers`` are the
    signers at fault, all of them (exit 2)."""

    def __init__(self, identifiers: Iterable[int]) -> None:
        self.identifiers = tuple(sorted(identifiers))
        plural = len(self.identifiers) != 1
        super().__init__(
            f"signature share{'s' if plural else ''} from {_who(self.identifiers)} "
            f"{'are' if plural else 'is'} invalid",
            "exclude them and run the signing round again with other signers",
        )


class InvalidProof(_Blame, SignatureInvalid):
    """DKG round-1 proofs of knowledge that do not verify; ``identifiers``
    are the senders at fault (exit 2)."""

    def __init__(self, identifiers: Iterable[int]) -> None:
        self.identifiers = tuple(sorted(identifiers))
        plural = len(self.identifiers) != 1
        super().__init__(
            f"proof{'s' if plural else ''} of knowledge from {_who(self.identifiers)} "
            f"{'are' if plural else 'is'} invalid",
            "the key generation must be restarted without them",
        )


class InvalidSecretShare(_Blame, SignatureInvalid):
    """Secret shares (or dealings: a refresh, reshare or repair message) that
    do not match their sender's commitment; ``identifiers`` are the senders
    at fault, or the share's owner for ``SecretShare.verify`` (exit 2)."""

    def __init__(self, identifiers: Iterable[int], message: str | None = None,
                 hint: str = "the key generation must be restarted without them") -> None:
        self.identifiers = tuple(sorted(identifiers))
        plural = len(self.identifiers) != 1
        super().__init__(
            message
            or f"secret share{'s' if plural else ''} from {_who(self.identifiers)} "
            f"{'are' if plural else 'is'} invalid",
            hint,
        )


class NoncesConsumed(CeremonyError):
    """Signing nonces already used or wiped (exit 11)."""

    def __init__(self) -> None:
        super().__init__(
            "signing nonces were already used or wiped",
            "nonces are single-use: answer a new round-one request with fresh commitments",
        )


# --------------------------------------------------------------------------
# low-level checks (private)

def _fail(rc: int, what: str) -> FrostError:
    return FrostError(f"{what}: {_ffi.string(_lib.frost_strerror(rc)).decode()}")


def _int(value: object, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FrostError(f"{what} must be an integer, not {type(value).__name__}")
    return value


def _identifier(value: object, what: str = "identifier") -> int:
    v = _int(value, what)
    if v == 0:
        raise FrostError(f"{what} is zero", "identifiers start at 1")
    if not 1 <= v <= MAX_IDENTIFIER:
        raise FrostError(f"{what} {v} is out of range", f"identifiers are 1 to {MAX_IDENTIFIER}")
    return v


def _bytes(value: object, size: int, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise FrostError(f"{what} must be bytes, not {type(value).__name__}")
    b = bytes(value)
    if len(b) != size:
        raise FrostError(f"{what} is {len(b)} bytes, expected {size}")
    return b


def _point_problem(p: bytes) -> str | None:
    if p == _IDENTITY:
        return "is the identity element"
    if int.from_bytes(p, "little") & ((1 << 255) - 1) >= _P:
        return "is not canonically encoded"
    if _lib.frost_validate_point(p) != _lib.FROST_OK:
        return "is not a point of the prime-order subgroup"
    return None


def _point(value: object, what: str) -> bytes:
    b = _bytes(value, POINT_SIZE, what)
    problem = _point_problem(b)
    if problem:
        raise FrostError(f"{what} {problem}")
    return b


def _scalar(value: object, what: str) -> bytes:
    """A canonical scalar; the check is constant time (safe for secrets)."""
    b = _bytes(value, SCALAR_SIZE, what)
    if _lib.frost_validate_scalar(b) != _lib.FROST_OK:
        raise FrostError(f"{what} is not a canonical scalar (not below the group order)")
    return b


def validate_point(value: bytes, what: str = "point") -> bytes:
    """Return ``value`` if it is a valid group element, else raise FrostError."""
    return _point(value, what)


def validate_scalar(value: bytes, what: str = "scalar") -> bytes:
    """Return ``value`` if it is a canonical scalar, else raise FrostError."""
    return _scalar(value, what)


def _thresholds(max_signers: object, min_signers: object) -> tuple[int, int]:
    n = _int(max_signers, "max_signers")
    t = _int(min_signers, "min_signers")
    if not 2 <= t <= n <= MAX_PARTICIPANTS:
        raise FrostError(
            f"min_signers {t} and max_signers {n} are out of range",
            f"need 2 <= min_signers <= max_signers <= {MAX_PARTICIPANTS}",
        )
    return n, t


def _id_enc(i: int) -> bytes:
    return i.to_bytes(32, "little")


class _Reader:
    """Strict reader of the byte layouts in spec/frost.md."""

    def __init__(self, data: object, tag: int, what: str) -> None:
        if not isinstance(data, (bytes, bytearray, memoryview)):
            raise FrostError(f"{what} must be bytes, not {type(data).__name__}")
        self.data = bytes(data)
        self.pos = 0
        self.what = what
        if not self.data or self.data[0] != tag:
            raise FrostError(f"{what} encoding has the wrong type tag")
        self.pos = 1

    def take(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise FrostError(f"{self.what} encoding is truncated")
        b = self.data[self.pos:self.pos + n]
        self.pos += n
        return b

    def identifier(self) -> int:
        v = int.from_bytes(self.take(32), "little")
        if not 1 <= v <= MAX_IDENTIFIER:
            raise FrostError(f"{self.what} encoding has an identifier out of range")
        return v

    def u16(self) -> int:
        return int.from_bytes(self.take(2), "little")

    def point(self, what: str) -> bytes:
        return _point(self.take(32), f"{self.what} {what}")

    def scalar(self, what: str) -> bytes:
        return _scalar(self.take(32), f"{self.what} {what}")

    def points_by_id(self, n: int, what: str) -> dict[int, bytes]:
        """n x (id(32) | point(32)), identifiers strictly increasing; what(i)
        names the point of participant i in errors."""
        out: dict[int, bytes] = {}
        last = 0
        for _ in range(n):
            i = self.identifier()
            if i <= last:
                raise FrostError(f"{self.what} identifiers are not strictly increasing")
            last = i
            out[i] = self.point(what.format(i))
        return out

    def end(self) -> None:
        if self.pos != len(self.data):
            raise FrostError(f"{self.what} encoding has {len(self.data) - self.pos} trailing bytes")


def _u16(v: int) -> bytes:
    return v.to_bytes(2, "little")


def _points(values: Iterable[object], what: str) -> tuple[bytes, ...]:
    if isinstance(values, (bytes, bytearray, memoryview, str)):
        raise FrostError(f"{what} must be a sequence of points")
    return tuple(_bytes(v, POINT_SIZE, f"{what} [{k}]") for k, v in enumerate(values))


# --------------------------------------------------------------------------
# key material

@dataclass(frozen=True)
class SecretShare:
    """A dealer's share for one participant, with the dealer's VSS commitment.

    Encoding: 0x01 | id(32) | signing_share(32) | t(u16) | t x point(32).
    """

    identifier: int
    signing_share: bytes = field(repr=False)
    vss_commitment: tuple[bytes, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        object.__setattr__(self, "signing_share", _bytes(self.signing_share, 32, "signing share"))
        vss = _points(self.vss_commitment, "vss commitment")
        if not 2 <= len(vss) <= MAX_PARTICIPANTS:
            raise FrostError(f"vss commitment has {len(vss)} points, expected 2 to {MAX_PARTICIPANTS}")
        object.__setattr__(self, "vss_commitment", vss)

    def verify(self) -> None:
        """Check the share against the VSS commitment (RFC 9591 App. C.2).

        Raises InvalidSecretShare (identifiers = this share's identifier) or
        FrostError for a malformed commitment.
        """
        rc = _lib.frost_vss_verify(self.identifier, self.signing_share,
                                   b"".join(self.vss_commitment), len(self.vss_commitment))
        if rc == _lib.FROST_ERR_INVALID_SHARE:
            raise InvalidSecretShare(
                [self.identifier],
                f"secret share of participant {self.identifier} does not match the vss commitment")
        if rc == _lib.FROST_ERR_BAD_POINT:
            for k, p in enumerate(self.vss_commitment):
                _point(p, f"vss commitment point {k}")
        if rc != _lib.FROST_OK:
            raise _fail(rc, "vss commitment")

    def key_package(self, min_signers: int | None = None) -> KeyPackage:
        """Verify the share and derive this participant's KeyPackage.

        ``min_signers`` defaults to the commitment's length and must equal it.
        """
        t = len(self.vss_commitment)
        if min_signers is not None and _int(min_signers, "min_signers") != t:
            raise FrostError(f"min_signers {min_signers} does not match the vss commitment ({t} points)")
        self.verify()
        pk = _ffi.new("unsigned char[32]")
        ver = _ffi.new("unsigned char[32]")
        ids = _ffi.new("uint32_t[1]", [self.identifier])
        rc = _lib.frost_public_key_package(pk, ver, ids, 1, b"".join(self.vss_commitment), 1, t)
        if rc != _lib.FROST_OK:
            raise _fail(rc, "vss commitment")
        return KeyPackage(self.identifier, self.signing_share, bytes(ver), bytes(pk), t)

    def to_bytes(self) -> bytes:
        return (bytes([_TAG_SECRET_SHARE]) + _id_enc(self.identifier) + self.signing_share
                + _u16(len(self.vss_commitment)) + b"".join(self.vss_commitment))

    @classmethod
    def from_bytes(cls, data: bytes) -> SecretShare:
        r = _Reader(data, _TAG_SECRET_SHARE, "secret share")
        ident = r.identifier()
        share = r.scalar("signing share")
        t = r.u16()
        if not 2 <= t <= MAX_PARTICIPANTS:
            raise FrostError(f"secret share encoding has {t} commitment points")
        vss = tuple(r.point(f"vss commitment point {k}") for k in range(t))
        r.end()
        return cls(ident, share, vss)


@dataclass(frozen=True)
class KeyPackage:
    """What one participant needs to sign.

    Encoding: 0x02 | id(32) | signing_share(32) | verifying_share(32) |
    group_public_key(32) | min_signers(u16).
    """

    identifier: int
    signing_share: bytes = field(repr=False)
    verifying_share: bytes
    group_public_key: bytes
    min_signers: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        object.__setattr__(self, "signing_share", _bytes(self.signing_share, 32, "signing share"))
        object.__setattr__(self, "verifying_share", _bytes(self.verifying_share, 32, "verifying share"))
        object.__setattr__(self, "group_public_key",
                           _bytes(self.group_public_key, 32, "group public key"))
        t = _int(self.min_signers, "min_signers")
        if not 2 <= t <= MAX_PARTICIPANTS:
            raise FrostError(f"min_signers {t} is out of range", f"need 2 <= min_signers <= {MAX_PARTICIPANTS}")

    def to_bytes(self) -> bytes:
        return (bytes([_TAG_KEY_PACKAGE]) + _id_enc(self.identifier) + self.signing_share
                + self.verifying_share + self.group_public_key + _u16(self.min_signers))

    @classmethod
    def from_bytes(cls, data: bytes) -> KeyPackage:
        r = _Reader(data, _TAG_KEY_PACKAGE, "key package")
        ident = r.identifier()
        share = r.scalar("signing share")
        ver = r.point("verifying share")
        pk = r.point("group public key")
        t = r.u16()
        r.end()
        return cls(ident, share, ver, pk, t)


@dataclass(frozen=True)
class PublicKeyPackage:
    """The group's public keys: group key, every verifying share, threshold.

    Encoding: 0x03 | group_public_key(32) | min_signers(u16) | n(u16) |
    n x (id(32) | verifying_share(32)), identifiers increasing.
    """

    group_public_key: bytes
    verifying_shares: dict[int, bytes]
    min_signers: int

    def __post_init__(self) -> None:
        object.__setattr__(self, "group_public_key",
                           _bytes(self.group_public_key, 32, "group public key"))
        if not isinstance(self.verifying_shares, Mapping):
            raise FrostError("verifying shares must be a mapping of identifier to point")
        shares = {}
        for i in sorted(_identifier(i, "verifying share identifier") for i in self.verifying_shares):
            shares[i] = _bytes(self.verifying_shares[i], 32, f"verifying share of participant {i}")
        object.__setattr__(self, "verifying_shares", shares)
        t = _int(self.min_signers, "min_signers")
        if not 2 <= t <= len(shares) <= MAX_PARTICIPANTS:
            raise FrostError(f"public key package has {len(shares)} verifying shares and threshold {t}",
                             f"need 2 <= min_signers <= participants <= {MAX_PARTICIPANTS}")

    def to_bytes(self) -> bytes:
        return (bytes([_TAG_PUBLIC_KEY_PACKAGE]) + self.group_public_key + _u16(self.min_signers)
                + _u16(len(self.verifying_shares))
                + b"".join(_id_enc(i) + y for i, y in self.verifying_shares.items()))

    @classmethod
    def from_bytes(cls, data: bytes) -> PublicKeyPackage:
        r = _Reader(data, _TAG_PUBLIC_KEY_PACKAGE, "public key package")
        pk = r.point("group public key")
        t = r.u16()
        shares = r.points_by_id(r.u16(), "verifying share of participant {}")
        r.end()
        return cls(pk, shares, t)


@dataclass(frozen=True)
class DealerOutput:
    """Result of ``trusted_dealer_keygen`` (kept by the dealer; each share goes
    to its participant over a confidential channel).  No encoding of its own:
    the shares and the public key package have theirs."""

    group_public_key: bytes
    shares: tuple[SecretShare, ...]
    vss_commitment: tuple[bytes, ...]

    @property
    def min_signers(self) -> int:
        return len(self.vss_commitment)

    def public_key_package(self) -> PublicKeyPackage:
        """Group key and every participant's verifying share."""
        ids = [s.identifier for s in self.shares]
        return _public_key_package(ids, [self.vss_commitment], self.min_signers)


def _public_key_package(ids: Sequence[int], commitments: Sequence[Sequence[bytes]],
                        t: int) -> PublicKeyPackage:
    n = len(ids)
    pk = _ffi.new("unsigned char[32]")
    ver = _ffi.new("unsigned char[]", 32 * n)
    flat = b"".join(b"".join(c) for c in commitments)
    rc = _lib.frost_public_key_package(pk, ver, _ffi.new("uint32_t[]", list(ids)), n,
                                       flat, len(commitments), t)
    if rc == _lib.FROST_ERR_BAD_POINT:
        raise FrostError("commitments sum to an invalid group key or verifying share")
    if rc != _lib.FROST_OK:
        raise _fail(rc, "public key package")
    out = bytes(_ffi.buffer(ver))
    return PublicKeyPackage(bytes(pk), {i: out[32 * k:32 * k + 32] for k, i in enumerate(ids)}, t)


def vss_public_key_package(identifiers: Iterable[int], vss_commitment: Sequence[bytes]) -> PublicKeyPackage:
    """The group key and the verifying shares of ``identifiers`` from a dealer's
    VSS commitment alone (what every participant of a dealer split can check)."""
    ids = sorted(_identifier(i) for i in identifiers)
    vss = _points(vss_commitment, "vss commitment")
    _thresholds(len(ids), len(vss))
    return _public_key_package(ids, [vss], len(vss))


def trusted_dealer_keygen(max_signers: int, min_signers: int, secret: bytes | None = None,
                          coefficients: Sequence[bytes] | None = None,
                          identifiers: Iterable[int] | None = None) -> DealerOutput:
    """Trusted-dealer key generation (RFC 9591 App. C).

    ``secret`` (the group secret key) and ``coefficients`` (a_1..a_{t-1})
    are drawn at random unless given; give them only for known-answer tests.
    ``identifiers`` defaults to 1..max_signers; shares come out sorted by it.
    """
    n, t = _thresholds(max_signers, min_signers)
    if identifiers is None:
        ids = list(range(1, n + 1))
    else:
        ids = [_identifier(i) for i in identifiers]
        seen: set[int] = set()
        for i in ids:
            if i in seen:
                raise FrostError(f"duplicate identifier {i}")
            seen.add(i)
        if len(ids) != n:
            raise FrostError(f"{len(ids)} identifiers given for max_signers {n}")
        ids.sort()
    sec = None if secret is None else _scalar(secret, "group secret key")
    coeffs = None
    if coefficients is not None:
        cs = list(coefficients)
        if len(cs) != t - 1:
            raise FrostError(f"{len(cs)} coefficients given, expected min_signers - 1 = {t - 1}")
        coeffs = b"".join(_scalar(c, f"coefficient {k + 1}") for k, c in enumerate(cs))
    shares = _ffi.new("unsigned char[]", 32 * n)
    vss = _ffi.new("unsigned char[]", 32 * t)
    pk = _ffi.new("unsigned char[32]")
    rc = _lib.frost_dealer_keygen(shares, vss, pk, _ffi.new("uint32_t[]", ids), n, t,
                                  sec if sec is not None else _ffi.NULL,
                                  coeffs if coeffs is not None else _ffi.NULL)
    try:
        if rc == _lib.FROST_ERR_BAD_SCALAR:
            raise FrostError("group secret key and coefficients must not be zero")
        if rc != _lib.FROST_OK:
            raise _fail(rc, "dealer key generation")
        vss_points = tuple(bytes(vss[32 * j:32 * j + 32]) for j in range(t))
        out = tuple(SecretShare(i, bytes(shares[32 * k:32 * k + 32]), vss_points)
                    for k, i in enumerate(ids))
        return DealerOutput(bytes(pk), out, vss_points)
    finally:
        _ffi.memmove(shares, bytes(32 * n), 32 * n)


# --------------------------------------------------------------------------
# distributed key generation

@dataclass(frozen=True)
class DkgRound1Package:
    """Broadcast in DKG round 1: commitment to the secret polynomial and a
    proof of knowledge of its constant term.

    Encoding: 0x07 | id(32) | t(u16) | t x point(32) | proof(64).
    """

    identifier: int
    commitment: tuple[bytes, ...]
    proof_of_knowledge: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        c = _points(self.commitment, "dkg commitment")
        if not 2 <= len(c) <= MAX_PARTICIPANTS:
            raise FrostError(f"dkg commitment has {len(c)} points, expected 2 to {MAX_PARTICIPANTS}")
        object.__setattr__(self, "commitment", c)
        object.__setattr__(self, "proof_of_knowledge",
                           _bytes(self.proof_of_knowledge, PROOF_SIZE, "proof of knowledge"))

    def to_bytes(self) -> bytes:
        return (bytes([_TAG_DKG_ROUND1_PACKAGE]) + _id_enc(self.identifier)
                + _u16(len(self.commitment)) + b"".join(self.commitment) + self.proof_of_knowledge)

    @classmethod
    def from_bytes(cls, data: bytes) -> DkgRound1Package:
        r = _Reader(data, _TAG_DKG_ROUND1_PACKAGE, "dkg round-1 package")
        ident = r.identifier()
        t = r.u16()
        if not 2 <= t <= MAX_PARTICIPANTS:
            raise FrostError(f"dkg round-1 package encoding has {t} commitment points")
        c = tuple(r.point(f"commitment point {k}") for k in range(t))
        proof = r.take(PROOF_SIZE)
        r.end()
        return cls(ident, c, proof)


@dataclass(frozen=True)
class DkgRound1Secret:
    """Kept by a participant between DKG rounds 1 and 2 (secret).

    Encoding: 0x08 | id(32) | max_signers(u16) | min_signers(u16) |
    t x coefficient(32) | t x commitment point(32).
    """

    identifier: int
    max_signers: int
    min_signers: int
    coefficients: tuple[bytes, ...] = field(repr=False)
    commitment: tuple[bytes, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        n, t = _thresholds(self.max_signers, self.min_signers)
        coeffs = tuple(_bytes(c, 32, "coefficient") for c in self.coefficients)
        comm = _points(self.commitment, "dkg commitment")
        if len(coeffs) != t or len(comm) != t:
            raise FrostError(f"dkg round-1 secret needs {t} coefficients and commitment points")
        object.__setattr__(self, "coefficients", coeffs)
        object.__setattr__(self, "commitment", comm)

    def to_bytes(self) -> bytes:
        return (bytes([_TAG_DKG_ROUND1_SECRET]) + _id_enc(self.identifier)
                + _u16(self.max_signers) + _u16(self.min_signers)
                + b"".join(self.coefficients) + b"".join(self.commitment))

    @classmethod
    def from_bytes(cls, data: bytes) -> DkgRound1Secret:
        r = _Reader(data, _TAG_DKG_ROUND1_SECRET, "dkg round-1 secret")
        ident = r.identifier()
        n, t = _thresholds(r.u16(), r.u16())
        coeffs = tuple(r.scalar(f"coefficient {k}") for k in range(t))
        comm = tuple(r.point(f"commitment point {k}") for k in range(t))
        r.end()
        return cls(ident, n, t, coeffs, comm)


@dataclass(frozen=True)
class DkgRound2Secret:
    """Kept by a participant between DKG rounds 2 and 3 (secret): its own
    share f_i(i) and every participant's verified round-1 commitment.

    Encoding: 0x09 | id(32) | max_signers(u16) | min_signers(u16) |
    own_share(32) | max_signers x (id(32) | t x point(32)), ids increasing.
    """

    identifier: int
    max_signers: int
    min_signers: int
    own_share: bytes = field(repr=False)
    commitments: dict[int, tuple[bytes, ...]]

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        n, t = _thresholds(self.max_signers, self.min_signers)
        object.__setattr__(self, "own_share", _bytes(self.own_share, 32, "own share"))
        comms = {}
        for i in sorted(_identifier(i) for i in self.commitments):
            c = _points(self.commitments[i], f"dkg commitment of participant {i}")
            if len(c) != t:
                raise FrostError(f"dkg commitment of participant {i} has {len(c)} points, expected {t}")
            comms[i] = c
        if len(comms) != n or self.identifier not in comms:
            raise FrostError("dkg round-2 secret needs the commitment of every participant")
        object.__setattr__(self, "commitments", comms)

    def to_bytes(self) -> bytes:
        return (bytes([_TAG_DKG_ROUND2_SECRET]) + _id_enc(self.identifier)
                + _u16(self.max_signers) + _u16(self.min_signers) + self.own_share
                + b"".join(_id_enc(i) + b"".join(c) for i, c in self.commitments.items()))

    @classmethod
    def from_bytes(cls, data: bytes) -> DkgRound2Secret:
        r = _Reader(data, _TAG_DKG_ROUND2_SECRET, "dkg round-2 secret")
        ident = r.identifier()
        n, t = _thresholds(r.u16(), r.u16())
        own = r.scalar("own share")
        comms: dict[int, tuple[bytes, ...]] = {}
        last = 0
        for _ in range(n):
            i = r.identifier()
            if i <= last:
                raise FrostError("dkg round-2 secret identifiers are not strictly increasing")
            last = i
            comms[i] = tuple(r.point(f"commitment point {k} of participant {i}") for k in range(t))
        r.end()
        return cls(ident, n, t, own, comms)


def _context(context: object) -> bytes:
    if not isinstance(context, (bytes, bytearray, memoryview)):
        raise FrostError(f"dkg context must be bytes, not {type(context).__name__}")
    return bytes(context)


def dkg_part1(identifier: int, max_signers: int, min_signers: int,
              context: bytes) -> tuple[DkgRound1Secret, DkgRound1Package]:
    """DKG round 1.  ``context`` (the ceremony id) is bound into the proof of
    knowledge, so a package cannot be replayed into another ceremony."""
    ident = _identifier(identifier)
    n, t = _thresholds(max_signers, min_signers)
    ctx = _context(context)
    coeffs = _ffi.new("unsigned char[]", 32 * t)
    comm = _ffi.new("unsigned char[]", 32 * t)
    proof = _ffi.new("unsigned char[64]")
    try:
        rc = _lib.frost_dkg_part1(coeffs, comm, proof, ident, n, t, ctx, len(ctx))
        if rc != _lib.FROST_OK:
            raise _fail(rc, "dkg round 1")
        c = tuple(bytes(comm[32 * j:32 * j + 32]) for j in range(t))
        secret = DkgRound1Secret(ident, n, t,
                                 tuple(bytes(coeffs[32 * j:32 * j + 32]) for j in range(t)), c)
        return secret, DkgRound1Package(ident, c, bytes(proof))
    finally:
        _ffi.memmove(coeffs, bytes(32 * t), 32 * t)


def _peer_packages(own: int, n: int, t: int, packages: Iterable[DkgRound1Package],
                   expect_own: bool) -> list[DkgRound1Package]:
    pkgs = list(packages)
    by_id: dict[int, DkgRound1Package] = {}
    for p in pkgs:
        if not isinstance(p, DkgRound1Package):
            raise FrostError(f"expected DkgRound1Package, not {type(p).__name__}")
        if p.identifier in by_id:
            raise FrostError(f"two round-1 packages from participant {p.identifier}")
        if p.identifier == own and not expect_own:
            raise FrostError(f"round-1 package from participant {own} is our own",
                             "pass only the packages received from the others")
        if len(p.commitment) != t:
            raise FrostError(f"round-1 package from participant {p.identifier} has "
                             f"{len(p.commitment)} commitment points, expected {t}")
        by_id[p.identifier] = p
    want = n if expect_own else n - 1
    if len(by_id) != want:
        raise FrostError(f"{len(by_id)} round-1 packages, expected {want}")
    return [by_id[i] for i in sorted(by_id)]


def dkg_part2(secret: DkgRound1Secret, received_round1: Iterable[DkgRound1Package],
              context: bytes) -> tuple[DkgRound2Secret, dict[int, bytes]]:
    """DKG round 2: verify every other participant's proof of knowledge
    (InvalidProof names every failing sender), then compute the secret share
    for each of them.  Returns the round-2 secret and ``{recipient: share}``;
    each share must reach its recipient encrypted and authenticated."""
    if not isinstance(secret, DkgRound1Secret):
        raise FrostError(f"expected DkgRound1Secret, not {type(secret).__name__}")
    ctx = _context(context)
    n, t, own = secret.max_signers, secret.min_signers, secret.identifier
    peers = _peer_packages(own, n, t, received_round1, expect_own=False)
    m = len(peers)
    shares = _ffi.new("unsigned char[]", 32 * m)
    own_share = _ffi.new("unsigned char[32]")
    culprits = _ffi.new("uint32_t[]", m)
    n_culprits = _ffi.new("size_t *")
    try:
        rc = _lib.frost_dkg_part2(
            shares, own_share, culprits, n_culprits, own, b"".join(secret.coefficients), t,
            _ffi.new("uint32_t[]", [p.identifier for p in peers]),
            b"".join(b"".join(p.commitment) for p in peers),
            b"".join(p.proof_of_knowledge for p in peers), m, ctx, len(ctx))
        if rc == _lib.FROST_ERR_INVALID_PROOF:
            raise InvalidProof(culprits[k] for k in range(n_culprits[0]))
        if rc != _lib.FROST_OK:
            raise _fail(rc, "dkg round 2")
        comms = {p.identifier: p.commitment for p in peers}
        comms[own] = secret.commitment
        r2 = DkgRound2Secret(own, n, t, bytes(own_share), comms)
        return r2, {p.identifier: bytes(shares[32 * k:32 * k + 32]) for k, p in enumerate(peers)}
    finally:
        _ffi.memmove(shares, bytes(32 * m), 32 * m)
        _ffi.memmove(own_share, bytes(32), 32)


def dkg_part3(round2_secret: DkgRound2Secret, received_round1: Iterable[DkgRound1Package],
              received_shares: Mapping[int, bytes]) -> tuple[KeyPackage, PublicKeyPackage]:
    """DKG round 3: check that ``received_round1`` are the packages verified in
    round 2, verify each received share against its sender's commitment
    (InvalidSecretShare names every failing sender), and derive this
    participant's KeyPackage and the group's PublicKeyPackage."""
    if not isinstance(round2_secret, DkgRound2Secret):
        raise FrostError(f"expected DkgRound2Secret, not {type(round2_secret).__name__}")
    s = round2_secret
    n, t, own = s.max_signers, s.min_signers, s.identifier
    for p in _peer_packages(own, n, t, received_round1, expect_own=False):
        if s.commitments.get(p.identifier) != p.commitment:
            raise FrostError(f"round-1 package from participant {p.identifier} differs from "
                             "the one verified in round 2")
    if not isinstance(received_shares, Mapping):
        raise FrostError("received shares must be a mapping of sender identifier to share")
    senders = {_identifier(i, "sender identifier"): v for i, v in received_shares.items()}
    for i in s.commitments:
        if i != own and i not in senders:
            raise FrostError(f"no round-2 share from participant {i}")
    for i in senders:
        if i == own or i not in s.commitments:
            raise FrostError(f"unexpected round-2 share from participant {i}")
    ids = list(s.commitments)
    flat_shares = b"".join(
        s.own_share if i == own else _bytes(senders[i], 32, f"round-2 share from participant {i}")
        for i in ids)
    signing = _ffi.new("unsigned char[32]")
    pk = _ffi.new("unsigned char[32]")
    ver = _ffi.new("unsigned char[]", 32 * n)
    culprits = _ffi.new("uint32_t[]", n)
    n_culprits = _ffi.new("size_t *")
    try:
        rc = _lib.frost_dkg_part3(signing, pk, ver, culprits, n_culprits, own,
                                  _ffi.new("uint32_t[]", ids),
                                  b"".join(b"".join(s.commitments[i]) for i in ids),
                                  flat_shares, n, t)
        if rc == _lib.FROST_ERR_INVALID_SHARE:
            raise InvalidSecretShare(culprits[k] for k in range(n_culprits[0]))
        if rc != _lib.FROST_OK:
            raise _fail(rc, "dkg round 3")
        vs = bytes(_ffi.buffer(ver))
        verifying = {i: vs[32 * k:32 * k + 32] for k, i in enumerate(ids)}
        kp = KeyPackage(own, bytes(signing), verifying[own], bytes(pk), t)
        return kp, PublicKeyPackage(bytes(pk), verifying, t)
    finally:
        _ffi.memmove(signing, bytes(32), 32)


def dkg_public_key_package(round1_packages: Iterable[DkgRound1Package],
                           context: bytes) -> PublicKeyPackage:
    """The group's PublicKeyPackage from every participant's round-1 package
    alone (for the coordinator, or any member cross-checking).  Verifies every
    proof of knowledge first (InvalidProof names every failing sender)."""
    ctx = _context(context)
    pkgs = list(round1_packages)
    if not pkgs or not all(isinstance(p, DkgRound1Package) for p in pkgs):
        raise FrostError("expected a non-empty list of DkgRound1Package")
    t = len(pkgs[0].commitment)
    pkgs = _peer_packages(0, len(pkgs), t, pkgs, expect_own=True)
    _thresholds(len(pkgs), t)
    bad = []
    for p in pkgs:
        rc = _lib.frost_dkg_verify_proof(p.identifier, b"".join(p.commitment), t,
                                         p.proof_of_knowledge, ctx, len(ctx))
        if rc in (_lib.FROST_ERR_INVALID_PROOF, _lib.FROST_ERR_BAD_POINT):
            bad.append(p.identifier)
        elif rc != _lib.FROST_OK:
            raise _fail(rc, "dkg proof of knowledge")
    if bad:
        raise InvalidProof(bad)
    return _public_key_package([p.identifier for p in pkgs], [p.commitment for p in pkgs], t)


# --------------------------------------------------------------------------
# membership changes that keep the group key: refresh, reshare, repair

def _ids(values: Iterable[object], what: str) -> list[int]:
    """A non-empty, duplicate-free identifier list, sorted."""
    if isinstance(values, (bytes, bytearray, memoryview, str)) or not isinstance(values, Iterable):
        raise FrostError(f"{what} must be a sequence of identifiers")
    ids = [_identifier(i, f"{what} identifier") for i in values]
    if len(set(ids)) != len(ids):
        dup = next(i for i in ids if ids.count(i) > 1)
        raise FrostError(f"{what} name participant {dup} twice")
    if not 1 <= len(ids) <= MAX_PARTICIPANTS:
        raise FrostError(f"{what} has {len(ids)} participants, expected 1 to {MAX_PARTICIPANTS}")
    return sorted(ids)


def _by_sender(shares: object, senders: Sequence[int], what: str) -> bytes:
    """The secret shares received, one from each sender, flattened in order."""
    if not isinstance(shares, Mapping):
        raise FrostError(f"{what} must be a mapping of sender identifier to share")
    got = {_identifier(i, "sender identifier"): v for i, v in shares.items()}
    for i in got:
        if i not in senders:
            raise FrostError(f"unexpected {what} from participant {i}")
    for i in senders:
        if i not in got:
            raise FrostError(f"no {what} from participant {i}")
    return b"".join(_bytes(got[i], 32, f"{what} from participant {i}") for i in senders)


def _packages(packages: Iterable[object], cls: type, senders: Sequence[int], t: int,
              what: str) -> list:
    """One package of type cls from each sender, t commitment points each, in sender order."""
    by_id: dict[int, object] = {}
    for p in packages:
        if not isinstance(p, cls):
            raise FrostError(f"expected {cls.__name__}, not {type(p).__name__}")
        if p.identifier in by_id:
            raise FrostError(f"two {what}s from participant {p.identifier}")
        if p.identifier not in senders:
            raise FrostError(f"{what} from participant {p.identifier}, who is not a dealer here")
        if len(p.commitment) != t:
            raise FrostError(f"{what} from participant {p.identifier} has {len(p.commitment)} "
                             f"commitment points, expected {t}")
        by_id[p.identifier] = p
    for i in senders:
        if i not in by_id:
            raise FrostError(f"no {what} from participant {i}")
    return [by_id[i] for i in senders]


def _culprits(culprits, n_culprits) -> list[int]:
    return [culprits[k] for k in range(n_culprits[0])]


def _dealings_invalid(ids: Iterable[int], kind: str, hint: str) -> InvalidSecretShare:
    ids = sorted(ids)
    plural = len(ids) != 1
    return InvalidSecretShare(
        ids, f"{kind}{'s' if plural else ''} from {_who(ids)} {'are' if plural else 'is'} invalid",
        hint)


def _check_member(key_package: object, pkp: object) -> tuple[KeyPackage, PublicKeyPackage]:
    if not isinstance(key_package, KeyPackage):
        raise FrostError(f"expected KeyPackage, not {type(key_package).__name__}")
    if not isinstance(pkp, PublicKeyPackage):
        raise FrostError(f"expected PublicKeyPackage, not {type(pkp).__name__}")
    if key_package.group_public_key != pkp.group_public_key:
        raise FrostError("key package and public key package have different group keys")
    if key_package.identifier not in pkp.verifying_shares:
        raise FrostError(f"participant {key_package.identifier} is not in the public key package")
    if key_package.min_signers != pkp.min_signers:
        raise FrostError(f"key package threshold {key_package.min_signers} differs from the public "
                         f"key package's {pkp.min_signers}")
    return key_package, pkp


def _wipe(buf, n: int) -> None:
    _ffi.memmove(buf, bytes(n), n)


def _verifying_shares(ids: Sequence[int], buf) -> dict[int, bytes]:
    raw = bytes(_ffi.buffer(buf))
    return {i: raw[32 * k:32 * k + 32] for k, i in enumerate(ids)}


@dataclass(frozen=True)
class _Dealing:
    """The public part of a dealing: the dealer and the commitment to its
    polynomial (t points).  Encoding: tag | id(32) | t(u16) | t x point(32)."""

    identifier: int
    commitment: tuple[bytes, ...]

    _TAG: ClassVar[int]
    _WHAT: ClassVar[str]

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        c = _points(self.commitment, f"{self._WHAT} commitment")
        if not 2 <= len(c) <= MAX_PARTICIPANTS:
            raise FrostError(f"{self._WHAT} commitment has {len(c)} points, expected 2 to {MAX_PARTICIPANTS}")
        object.__setattr__(self, "commitment", c)

    def to_bytes(self) -> bytes:
        return (bytes([self._TAG]) + _id_enc(self.identifier)
                + _u16(len(self.commitment)) + b"".join(self.commitment))

    @classmethod
    def _constant_term(cls, r: _Reader) -> bytes:
        return r.point("commitment point 0")

    @classmethod
    def from_bytes(cls, data: bytes):
        r = _Reader(data, cls._TAG, f"{cls._WHAT} package")
        ident = r.identifier()
        t = r.u16()
        if not 2 <= t <= MAX_PARTICIPANTS:
            raise FrostError(f"{cls._WHAT} package encoding has {t} commitment points")
        c = (cls._constant_term(r),) + tuple(r.point(f"commitment point {k}") for k in range(1, t))
        r.end()
        return cls(ident, c)


@dataclass(frozen=True)
class RefreshPackage(_Dealing):
    """A member's refresh dealing, public part (broadcast to every member):
    the commitment to its polynomial with constant term zero, whose first
    point is therefore the identity.

    Encoding: 0x0A | id(32) | t(u16) | t x point(32), point 0 the identity
    encoding 01 00 .. 00 (the only place an identity is accepted).
    """

    _TAG = _TAG_REFRESH_PACKAGE
    _WHAT = "refresh"

    @classmethod
    def _constant_term(cls, r: _Reader) -> bytes:
        if r.take(32) != _IDENTITY:
            raise FrostError("refresh package commitment point 0 is not the identity",
                             "a refresh deals a sharing of zero")
        return _IDENTITY


@dataclass(frozen=True)
class ResharePackage(_Dealing):
    """An old member's reshare dealing, public part (broadcast to every new
    member): the commitment to its polynomial of degree t' - 1 whose
    constant term is its Lagrange-weighted share lambda_i s_i, so that the
    first point must equal [lambda_i]Y_i.

    Encoding: 0x0B | id(32) | t'(u16) | t' x point(32).
    """

    _TAG = _TAG_RESHARE_PACKAGE
    _WHAT = "reshare"


@dataclass(frozen=True)
class RepairCommitments:
    """A helper's repair broadcast (to the other helpers and the member
    being repaired): the commitments [delta_j]B to the delta it sent each
    helper j.  They sum to [zeta_i]Y_i, zeta_i its Lagrange coefficient at
    the lost member's identifier.

    Encoding: 0x0C | id(32) | lost_identifier(32) | h(u16) |
    h x (helper id(32) | point(32)), helper ids increasing.
    """

    identifier: int
    lost_identifier: int
    commitments: dict[int, bytes]

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        object.__setattr__(self, "lost_identifier", _identifier(self.lost_identifier, "lost identifier"))
        if not isinstance(self.commitments, Mapping):
            raise FrostError("repair commitments must be a mapping of helper identifier to point")
        c = {}
        for i in sorted(_identifier(i, "helper identifier") for i in self.commitments):
            c[i] = _bytes(self.commitments[i], 32, f"repair commitment for helper {i}")
        if not 2 <= len(c) <= MAX_PARTICIPANTS or self.identifier not in c:
            raise FrostError("repair commitments need an entry for every helper, this one included")
        object.__setattr__(self, "commitments", c)

    @property
    def helpers(self) -> tuple[int, ...]:
        return tuple(self.commitments)

    def to_bytes(self) -> bytes:
        return (bytes([_TAG_REPAIR_COMMITMENTS]) + _id_enc(self.identifier)
                + _id_enc(self.lost_identifier) + _u16(len(self.commitments))
                + b"".join(_id_enc(i) + p for i, p in self.commitments.items()))

    @classmethod
    def from_bytes(cls, data: bytes) -> RepairCommitments:
        r = _Reader(data, _TAG_REPAIR_COMMITMENTS, "repair commitments")
        ident = r.identifier()
        lost = r.identifier()
        c = r.points_by_id(r.u16(), "point for helper {}")
        r.end()
        return cls(ident, lost, c)


def _dealt(cls: type, dealer: int, comm, t: int, shares, recipients: Sequence[int]):
    """A dealing from C output: (cls package, {recipient: share})."""
    c = tuple(bytes(comm[32 * j:32 * j + 32]) for j in range(t))
    return cls(dealer, c), {i: bytes(shares[32 * k:32 * k + 32]) for k, i in enumerate(recipients)}


_REFRESH = ("refresh dealing", "run the refresh again without them")
_RESHARE = ("reshare dealing", "run the reshare again with other old members in their place")
_REPAIR = ("repair message", "run the repair again with other helpers")


def refresh_deal(key_package: KeyPackage,
                 public_key_package: PublicKeyPackage) -> tuple[RefreshPackage, dict[int, bytes]]:
    """Refresh, every member: deal a sharing of zero to all members of the
    group (``public_key_package``), itself included.

    Returns the broadcast ``RefreshPackage`` and ``{member: share}``; each
    share must reach its member encrypted and authenticated (this member's
    own share stays here)."""
    kp, pkp = _check_member(key_package, public_key_package)
    ids = list(pkp.verifying_shares)
    n, t = len(ids), pkp.min_signers
    shares = _ffi.new("unsigned char[]", 32 * n)
    comm = _ffi.new("unsigned char[]", 32 * t)
    try:
        rc = _lib.frost_refresh_deal(shares, comm, _ffi.new("uint32_t[]", ids), n, t)
        if rc != _lib.FROST_OK:
            raise _fail(rc, "refresh")
        return _dealt(RefreshPackage, kp.identifier, comm, t, shares, ids)
    finally:
        _wipe(shares, 32 * n)


def _refresh_inputs(pkp: PublicKeyPackage, packages: Iterable[RefreshPackage]):
    ids = list(pkp.verifying_shares)
    pkgs = _packages(packages, RefreshPackage, ids, pkp.min_signers, "refresh package")
    return (ids, _ffi.new("uint32_t[]", ids), b"".join(pkp.verifying_shares.values()),
            b"".join(b"".join(p.commitment) for p in pkgs))


def _raise_refresh(rc: int, culprits, n_culprits, pkp: PublicKeyPackage, what: str) -> None:
    if rc == _lib.FROST_ERR_INVALID_SHARE:
        raise _dealings_invalid(_culprits(culprits, n_culprits), *_REFRESH)
    if rc == _lib.FROST_ERR_BAD_POINT:
        for i, y in pkp.verifying_shares.items():
            _point(y, f"verifying share of participant {i}")
        raise FrostError("refreshed verifying share is the identity element")
    raise _fail(rc, what)


def refresh_public_key_package(public_key_package: PublicKeyPackage,
                               packages: Iterable[RefreshPackage]) -> PublicKeyPackage:
    """Refresh, anyone (the coordinator, a member cross-checking): the
    group's new PublicKeyPackage from the old one and every member's
    ``RefreshPackage``.  The group key is unchanged.  Raises
    InvalidSecretShare naming every member whose package is malformed."""
    if not isinstance(public_key_package, PublicKeyPackage):
        raise FrostError(f"expected PublicKeyPackage, not {type(public_key_package).__name__}")
    pkp = public_key_package
    ids, c_ids, ver, comms = _refresh_inputs(pkp, packages)
    n = len(ids)
    out = _ffi.new("unsigned char[]", 32 * n)
    culprits = _ffi.new("uint32_t[]", n)
    n_culprits = _ffi.new("size_t *")
    rc = _lib.frost_refresh_public_key_package(out, culprits, n_culprits, c_ids, ver, n, comms,
                                               pkp.min_signers)
    if rc != _lib.FROST_OK:
        _raise_refresh(rc, culprits, n_culprits, pkp, "refresh")
    return PublicKeyPackage(pkp.group_public_key, _verifying_shares(ids, out), pkp.min_signers)


def refresh_finish(key_package: KeyPackage, public_key_package: PublicKeyPackage,
                   packages: Iterable[RefreshPackage],
                   shares: Mapping[int, bytes]) -> tuple[KeyPackage, PublicKeyPackage]:
    """Refresh, every member: verify the dealing of every member (its
    ``RefreshPackage`` and the share it sent us, our own included) and add
    the shares to our signing share.  Returns the new KeyPackage and the
    group's new PublicKeyPackage (same group key, new verifying shares).
    Raises InvalidSecretShare naming every member whose dealing fails;
    FrostError if our share does not match our verifying share."""
    kp, pkp = _check_member(key_package, public_key_package)
    ids, c_ids, ver, comms = _refresh_inputs(pkp, packages)
    flat = _by_sender(shares, ids, "refresh share")
    n = len(ids)
    share = _ffi.new("unsigned char[32]")
    out = _ffi.new("unsigned char[]", 32 * n)
    culprits = _ffi.new("uint32_t[]", n)
    n_culprits = _ffi.new("size_t *")
    try:
        rc = _lib.frost_refresh_finish(share, out, culprits, n_culprits, kp.identifier,
                                       kp.signing_share, c_ids, ver, n, comms, flat,
                                       pkp.min_signers)
        if rc == _lib.FROST_ERR_MISMATCH:
            raise FrostError(f"signing share of participant {kp.identifier} does not match its "
                             "verifying share in the public key package")
        if rc != _lib.FROST_OK:
            _raise_refresh(rc, culprits, n_culprits, pkp, "refresh")
        verifying = _verifying_shares(ids, out)
        return (KeyPackage(kp.identifier, bytes(share), verifying[kp.identifier],
                           pkp.group_public_key, pkp.min_signers),
                PublicKeyPackage(pkp.group_public_key, verifying, pkp.min_signers))
    finally:
        _wipe(share, 32)


def reshare_deal(key_package: KeyPackage, signers: Iterable[int], new_identifiers: Iterable[int],
                 new_min_signers: int) -> tuple[ResharePackage, dict[int, bytes]]:
    """Reshare, each old member of ``signers`` (a qualified subset of the
    old group, at least its threshold, this member included): deal its
    Lagrange-weighted share to the new members ``new_identifiers`` with the
    new threshold.  Returns the broadcast ``ResharePackage`` and
    ``{new member: share}`` (each sent encrypted and authenticated)."""
    if not isinstance(key_package, KeyPackage):
        raise FrostError(f"expected KeyPackage, not {type(key_package).__name__}")
    kp = key_package
    old = _ids(signers, "signers")
    new = _ids(new_identifiers, "new members")
    n, t = _thresholds(len(new), new_min_signers)
    if kp.identifier not in old:
        raise FrostError(f"participant {kp.identifier} is not among the signers")
    if len(old) < kp.min_signers:
        raise FrostError(f"{len(old)} signers, fewer than the old threshold {kp.min_signers}")
    shares = _ffi.new("unsigned char[]", 32 * n)
    comm = _ffi.new("unsigned char[]", 32 * t)
    try:
        rc = _lib.frost_reshare_deal(shares, comm, kp.identifier, kp.signing_share, kp.min_signers,
                                     _ffi.new("uint32_t[]", old), len(old),
                                     _ffi.new("uint32_t[]", new), n, t)
        if rc == _lib.FROST_ERR_BAD_SCALAR:
            raise FrostError("signing share is not a canonical non-zero scalar")
        if rc != _lib.FROST_OK:
            raise _fail(rc, "reshare")
        return _dealt(ResharePackage, kp.identifier, comm, t, shares, new)
    finally:
        _wipe(shares, 32 * n)


def _reshare_inputs(pkp: object, signers: Iterable[int], new_identifiers: Iterable[int],
                    new_min_signers: int, packages: Iterable[ResharePackage]):
    if not isinstance(pkp, PublicKeyPackage):
        raise FrostError(f"expected PublicKeyPackage, not {type(pkp).__name__}")
    old = _ids(signers, "signers")
    new = _ids(new_identifiers, "new members")
    _, t = _thresholds(len(new), new_min_signers)
    if len(old) < pkp.min_signers:
        raise FrostError(f"{len(old)} signers, fewer than the old threshold {pkp.min_signers}")
    for i in old:
        if i not in pkp.verifying_shares:
            raise FrostError(f"signer {i} is not in the public key package")
    pkgs = _packages(packages, ResharePackage, old, t, "reshare package")
    return (old, new, t, b"".join(pkp.verifying_shares[i] for i in old),
            b"".join(b"".join(p.commitment) for p in pkgs))


def _raise_reshare(rc: int, culprits, n_culprits, pkp: PublicKeyPackage) -> None:
    if rc == _lib.FROST_ERR_INVALID_SHARE:
        raise _dealings_invalid(_culprits(culprits, n_culprits), *_RESHARE)
    if rc == _lib.FROST_ERR_MISMATCH:
        raise FrostError("the reshare dealings do not sum to the group public key",
                         "the public key package's verifying shares are inconsistent")
    if rc == _lib.FROST_ERR_BAD_POINT:
        _point(pkp.group_public_key, "group public key")
        for i, y in pkp.verifying_shares.items():
            _point(y, f"verifying share of participant {i}")
        raise FrostError("a reshared verifying share is the identity element")
    raise _fail(rc, "reshare")


def reshare_public_key_package(public_key_package: PublicKeyPackage, signers: Iterable[int],
                               new_identifiers: Iterable[int], new_min_signers: int,
                               packages: Iterable[ResharePackage]) -> PublicKeyPackage:
    """Reshare, anyone: the new group's PublicKeyPackage from the old one and
    every dealer's ``ResharePackage``, after checking each dealing's
    constant term against the old verifying shares (InvalidSecretShare names
    every failing dealer) and that the group key is unchanged."""
    pkp = public_key_package
    old, new, t, ver, comms = _reshare_inputs(pkp, signers, new_identifiers, new_min_signers,
                                              packages)
    out = _ffi.new("unsigned char[]", 32 * len(new))
    culprits = _ffi.new("uint32_t[]", len(old))
    n_culprits = _ffi.new("size_t *")
    rc = _lib.frost_reshare_public_key_package(
        out, culprits, n_culprits, pkp.group_public_key, pkp.min_signers,
        _ffi.new("uint32_t[]", old), ver, len(old), _ffi.new("uint32_t[]", new), len(new), comms, t)
    if rc != _lib.FROST_OK:
        _raise_reshare(rc, culprits, n_culprits, pkp)
    return PublicKeyPackage(pkp.group_public_key, _verifying_shares(new, out), t)


def reshare_finish(identifier: int, public_key_package: PublicKeyPackage, signers: Iterable[int],
                   new_identifiers: Iterable[int], new_min_signers: int,
                   packages: Iterable[ResharePackage],
                   shares: Mapping[int, bytes]) -> tuple[KeyPackage, PublicKeyPackage]:
    """Reshare, each new member ``identifier``: verify every dealing (its
    ``ResharePackage`` against the old group's verifying shares, and the
    share it sent us against the package), sum the shares.  Returns the new
    KeyPackage and the new group's PublicKeyPackage, whose group key is the
    old one.  InvalidSecretShare names every failing dealer."""
    pkp = public_key_package
    me = _identifier(identifier)
    old, new, t, ver, comms = _reshare_inputs(pkp, signers, new_identifiers, new_min_signers,
                                              packages)
    if me not in new:
        raise FrostError(f"participant {me} is not among the new members")
    flat = _by_sender(shares, old, "reshare share")
    share = _ffi.new("unsigned char[32]")
    out = _ffi.new("unsigned char[]", 32 * len(new))
    culprits = _ffi.new("uint32_t[]", len(old))
    n_culprits = _ffi.new("size_t *")
    try:
        rc = _lib.frost_reshare_finish(
            share, out, culprits, n_culprits, me, pkp.group_public_key, pkp.min_signers,
            _ffi.new("uint32_t[]", old), ver, len(old), _ffi.new("uint32_t[]", new), len(new),
            comms, flat, t)
        if rc != _lib.FROST_OK:
            _raise_reshare(rc, culprits, n_culprits, pkp)
        verifying = _verifying_shares(new, out)
        return (KeyPackage(me, bytes(share), verifying[me], pkp.group_public_key, t),
                PublicKeyPackage(pkp.group_public_key, verifying, t))
    finally:
        _wipe(share, 32)


def repair_part1(key_package: KeyPackage, helpers: Iterable[int],
                 lost_identifier: int) -> tuple[RepairCommitments, dict[int, bytes]]:
    """Repair, each helper: split this member's Lagrange-weighted share
    (at the lost member's identifier) into random deltas, one per helper.
    ``helpers`` (at least the threshold, this member included, the lost
    member not) must be the same list for every helper.  Returns the
    broadcast ``RepairCommitments`` and ``{helper: delta}`` (sent encrypted
    and authenticated; this helper's own delta stays here)."""
    if not isinstance(key_package, KeyPackage):
        raise FrostError(f"expected KeyPackage, not {type(key_package).__name__}")
    kp = key_package
    hs = _ids(helpers, "helpers")
    lost = _identifier(lost_identifier, "lost identifier")
    if kp.identifier not in hs:
        raise FrostError(f"participant {kp.identifier} is not among the helpers")
    if lost in hs:
        raise FrostError(f"participant {lost} cannot help repair its own share")
    if len(hs) < kp.min_signers:
        raise FrostError(f"{len(hs)} helpers, fewer than the threshold {kp.min_signers}")
    h = len(hs)
    deltas = _ffi.new("unsigned char[]", 32 * h)
    comm = _ffi.new("unsigned char[]", 32 * h)
    try:
        rc = _lib.frost_repair_part1(deltas, comm, kp.identifier, kp.signing_share, kp.min_signers,
                                     _ffi.new("uint32_t[]", hs), h, lost)
        if rc == _lib.FROST_ERR_BAD_SCALAR:
            raise FrostError("signing share is not a canonical non-zero scalar")
        if rc != _lib.FROST_OK:
            raise _fail(rc, "repair")
        points = {i: bytes(comm[32 * k:32 * k + 32]) for k, i in enumerate(hs)}
        return (RepairCommitments(kp.identifier, lost, points),
                {i: bytes(deltas[32 * k:32 * k + 32]) for k, i in enumerate(hs)})
    finally:
        _wipe(deltas, 32 * h)


def _repair_inputs(pkp: object, commitments: Iterable[RepairCommitments]):
    if not isinstance(pkp, PublicKeyPackage):
        raise FrostError(f"expected PublicKeyPackage, not {type(pkp).__name__}")
    rows = list(commitments)
    for r in rows:
        if not isinstance(r, RepairCommitments):
            raise FrostError(f"expected RepairCommitments, not {type(r).__name__}")
    if not rows:
        raise FrostError("no repair commitments")
    hs = list(rows[0].helpers)
    lost = rows[0].lost_identifier
    for r in rows:
        if r.lost_identifier != lost:
            raise FrostError(f"repair commitments from participant {r.identifier} are for "
                             f"participant {r.lost_identifier}, not {lost}")
        if list(r.helpers) != hs:
            raise FrostError(f"repair commitments from participant {r.identifier} name other helpers")
    rows = _packages_by_id(rows, hs)
    if len(hs) < pkp.min_signers:
        raise FrostError(f"{len(hs)} helpers, fewer than the threshold {pkp.min_signers}")
    for i in hs + [lost]:
        if i not in pkp.verifying_shares:
            raise FrostError(f"participant {i} is not in the public key package")
    flat = b"".join(b"".join(r.commitments.values()) for r in rows)
    return hs, lost, _ffi.new("uint32_t[]", hs), b"".join(pkp.verifying_shares[i] for i in hs), flat


def _packages_by_id(rows: Sequence[RepairCommitments], hs: Sequence[int]) -> list[RepairCommitments]:
    by_id: dict[int, RepairCommitments] = {}
    for r in rows:
        if r.identifier in by_id:
            raise FrostError(f"two repair commitments from participant {r.identifier}")
        by_id[r.identifier] = r
    for i in hs:
        if i not in by_id:
            raise FrostError(f"no repair commitments from participant {i}")
    return [by_id[i] for i in hs]


def _raise_repair(rc: int, culprits, n_culprits, pkp: PublicKeyPackage) -> None:
    if rc == _lib.FROST_ERR_INVALID_SHARE:
        raise _dealings_invalid(_culprits(culprits, n_culprits), *_REPAIR)
    if rc == _lib.FROST_ERR_BAD_POINT:
        for i, y in pkp.verifying_shares.items():
            _point(y, f"verifying share of participant {i}")
    raise _fail(rc, "repair")


def repair_part2(key_package: KeyPackage, public_key_package: PublicKeyPackage,
                 commitments: Iterable[RepairCommitments], deltas: Mapping[int, bytes]) -> bytes:
    """Repair, each helper: check every helper's ``RepairCommitments`` and
    the delta it sent us, and sum the deltas into sigma, the 32-byte secret
    for the lost member (sent encrypted and authenticated).
    InvalidSecretShare names every helper whose message fails."""
    kp, pkp = _check_member(key_package, public_key_package)
    hs, lost, c_hs, ver, flat = _repair_inputs(pkp, commitments)
    if kp.identifier not in hs:
        raise FrostError(f"participant {kp.identifier} is not among the helpers")
    got = _by_sender(deltas, hs, "repair delta")
    sigma = _ffi.new("unsigned char[32]")
    culprits = _ffi.new("uint32_t[]", len(hs))
    n_culprits = _ffi.new("size_t *")
    try:
        rc = _lib.frost_repair_part2(sigma, culprits, n_culprits, kp.identifier, pkp.min_signers,
                                     c_hs, ver, len(hs), lost, flat, got)
        if rc != _lib.FROST_OK:
            _raise_repair(rc, culprits, n_culprits, pkp)
        return bytes(sigma)
    finally:
        _wipe(sigma, 32)


def repair_part3(identifier: int, public_key_package: PublicKeyPackage,
                 commitments: Iterable[RepairCommitments],
                 sigmas: Mapping[int, bytes]) -> KeyPackage:
    """Repair, the lost member ``identifier``: check every helper's
    commitments and sigma, sum the sigmas, and check the restored share
    against our verifying share in ``public_key_package`` (the group's
    record).  Returns our KeyPackage.  InvalidSecretShare names every
    failing helper; FrostError if the share does not match the record."""
    if not isinstance(public_key_package, PublicKeyPackage):
        raise FrostError(f"expected PublicKeyPackage, not {type(public_key_package).__name__}")
    pkp = public_key_package
    me = _identifier(identifier)
    hs, lost, c_hs, ver, flat = _repair_inputs(pkp, commitments)
    if lost != me:
        raise FrostError(f"repair commitments are for participant {lost}, not {me}")
    got = _by_sender(sigmas, hs, "repair sigma")
    share = _ffi.new("unsigned char[32]")
    culprits = _ffi.new("uint32_t[]", len(hs))
    n_culprits = _ffi.new("size_t *")
    try:
        rc = _lib.frost_repair_part3(share, culprits, n_culprits, me, pkp.verifying_shares[me],
                                     pkp.min_signers, c_hs, ver, len(hs), flat, got)
        if rc == _lib.FROST_ERR_MISMATCH:
            raise FrostError(f"repaired share does not match the verifying share of participant {me}",
                             "the helpers' verifying shares and the record disagree")
        if rc != _lib.FROST_OK:
            _raise_repair(rc, culprits, n_culprits, pkp)
        return KeyPackage(me, bytes(share), pkp.verifying_shares[me], pkp.group_public_key,
                          pkp.min_signers)
    finally:
        _wipe(share, 32)


# --------------------------------------------------------------------------
# signing

@dataclass(frozen=True)
class SigningCommitments:
    """A signer's round-1 commitments (public).

    Encoding: 0x05 | id(32) | hiding(32) | binding(32).
    """

    identifier: int
    hiding: bytes
    binding: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        object.__setattr__(self, "hiding", _bytes(self.hiding, 32, "hiding commitment"))
        object.__setattr__(self, "binding", _bytes(self.binding, 32, "binding commitment"))

    def to_bytes(self) -> bytes:
        return bytes([_TAG_SIGNING_COMMITMENTS]) + _id_enc(self.identifier) + self.hiding + self.binding

    @classmethod
    def from_bytes(cls, data: bytes) -> SigningCommitments:
        r = _Reader(data, _TAG_SIGNING_COMMITMENTS, "signing commitments")
        ident = r.identifier()
        h = r.point("hiding commitment")
        b = r.point("binding commitment")
        r.end()
        return cls(ident, h, b)


@dataclass(frozen=True)
class SignatureShare:
    """A signer's round-2 output (public).

    Encoding: 0x06 | id(32) | share(32).
    """

    identifier: int
    share: bytes

    def __post_init__(self) -> None:
        object.__setattr__(self, "identifier", _identifier(self.identifier))
        object.__setattr__(self, "share", _bytes(self.share, 32, "signature share"))

    def to_bytes(self) -> bytes:
        return bytes([_TAG_SIGNATURE_SHARE]) + _id_enc(self.identifier) + self.share

    @classmethod
    def from_bytes(cls, data: bytes) -> SignatureShare:
        r = _Reader(data, _TAG_SIGNATURE_SHARE, "signature share")
        ident = r.identifier()
        share = r.take(32)  # a non-canonical share is the signer's fault: aggregate blames it
        r.end()
        return cls(ident, share)


class SigningNonces:
    """A signer's round-1 secret, single use.

    ``sign`` consumes it, whatever the outcome; ``wipe`` zeroes it; after
    either, ``to_bytes`` and ``sign`` raise NoncesConsumed.  Construct with
    ``commit`` or ``from_bytes`` only.

    Encoding: 0x04 | hiding nonce(32) | binding nonce(32) |
    hiding commitment(32) | binding commitment(32).
    """

    __slots__ = ("_buf", "_used")

    _SIZE = 128

    def __init__(self, _buf: bytearray) -> None:
        if not isinstance(_buf, bytearray) or len(_buf) != self._SIZE:
            raise FrostError("use commit() or SigningNonces.from_bytes()")
        self._buf = _buf
        self._used = False

    @property
    def consumed(self) -> bool:
        return self._used

    def wipe(self) -> None:
        """Zero the nonces; they can no longer be used."""
        buf = getattr(self, "_buf", None)
        if buf is not None:
            buf[:] = bytes(len(buf))  # same length: overwritten in place
        self._used = True

    def __del__(self) -> None:
        try:
            self.wipe()
        except Exception:  # pragma: no cover - interpreter shutdown
            pass

    def __repr__(self) -> str:
        return "SigningNonces(<consumed>)" if self._used else "SigningNonces(<secret>)"

    def commitments(self, identifier: int) -> SigningCommitments:
        """The public commitments these nonces were made for."""
        if self._used:
            raise NoncesConsumed()
        return SigningCommitments(identifier, bytes(self._buf[64:96]), bytes(self._buf[96:128]))

    def to_bytes(self) -> bytes:
        """The encoding, to be sealed at rest.  Raises NoncesConsumed."""
        if self._used:
            raise NoncesConsumed()
        return bytes([_TAG_SIGNING_NONCES]) + bytes(self._buf)

    @classmethod
    def from_bytes(cls, data: bytes) -> SigningNonces:
        r = _Reader(data, _TAG_SIGNING_NONCES, "signing nonces")
        secret = r.take(64)
        buf = bytearray(secret + r.point("hiding commitment") + r.point("binding commitment"))
        r.end()
        view = _ffi.from_buffer("unsigned char[]", buf)
        for k in (0, 32):  # constant-time canonical check; zero is refused by sign()
            if _lib.frost_validate_scalar(view + k) != _lib.FROST_OK:
                del view
                buf[:] = bytes(len(buf))
                raise FrostError("signing nonces encoding has a non-canonical nonce")
        del view
        return cls(buf)


@dataclass(frozen=True)
class BindingFactor:
    """One signer's binding factor and the H1 input it came from (RFC 9591 4.4)."""

    identifier: int
    input: bytes
    factor: bytes


def commit(key_package: KeyPackage, rng_hiding: bytes | None = None,
           rng_binding: bytes | None = None) -> tuple[SigningNonces, SigningCommitments]:
    """Round 1: hedged nonces H3(random || signing_share) and commitments.

    ``rng_hiding`` / ``rng_binding`` (32 bytes each) replace the system RNG;
    they exist for known-answer tests only.
    """
    if not isinstance(key_package, KeyPackage):
        raise FrostError(f"expected KeyPackage, not {type(key_package).__name__}")
    rh = _ffi.NULL if rng_hiding is None else _bytes(rng_hiding, 32, "hiding randomness")
    rb = _ffi.NULL if rng_binding is None else _bytes(rng_binding, 32, "binding randomness")
    buf = bytearray(SigningNonces._SIZE)
    com = _ffi.new("frost_commitment *")
    rc = _lib.frost_commit(_ffi.from_buffer("frost_nonces *", buf, require_writable=True), com,
                           key_package.identifier, key_package.signing_share, rh, rb)
    if rc == _lib.FROST_ERR_BAD_SCALAR:
        raise FrostError("signing share is not a canonical scalar")
    if rc != _lib.FROST_OK:
        raise _fail(rc, "commit")
    return SigningNonces(buf), SigningCommitments(com.identifier, bytes(com.hiding), bytes(com.binding))


def _commitment_list(commitments: Iterable[SigningCommitments]):
    """Check a signing package's commitment list and convert it for C."""
    cs = list(commitments)
    if not cs:
        raise FrostError("commitment list is empty")
    if len(cs) > MAX_PARTICIPANTS:
        raise FrostError(f"commitment list has {len(cs)} entries, more than {MAX_PARTICIPANTS}")
    for k, c in enumerate(cs):
        if not isinstance(c, SigningCommitments):
            raise FrostError(f"expected SigningCommitments, not {type(c).__name__}")
        if k and c.identifier == cs[k - 1].identifier:
            raise FrostError(f"commitment list has participant {c.identifier} twice")
        if k and c.identifier < cs[k - 1].identifier:
            raise FrostError(f"commitment list is not sorted by identifier "
                             f"({cs[k - 1].identifier} before {c.identifier})")
    arr = _ffi.new("frost_commitment[]", len(cs))
    for k, c in enumerate(cs):
        arr[k].identifier = c.identifier
        _ffi.memmove(arr[k].hiding, c.hiding, 32)
        _ffi.memmove(arr[k].binding, c.binding, 32)
    return cs, arr


def _message(message: object) -> bytes:
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise FrostError(f"message must be bytes, not {type(message).__name__}")
    return bytes(message)


def _diagnose_points(group_public_key: bytes, cs: Sequence[SigningCommitments],
                     verifying: Mapping[int, bytes] | None = None) -> FrostError:
    """Name the invalid element behind a FROST_ERR_BAD_POINT (error path only)."""
    items = [("group public key", group_public_key)]
    for c in cs:
        items.append((f"hiding commitment of participant {c.identifier}", c.hiding))
        items.append((f"binding commitment of participant {c.identifier}", c.binding))
        if verifying is not None:
            items.append((f"verifying share of participant {c.identifier}", verifying[c.identifier]))
    for what, p in items:
        problem = _point_problem(p)
        if problem:
            return FrostError(f"{what} {problem}")
    return FrostError("group commitment is the identity element")


def compute_binding_factors(group_public_key: bytes, message: bytes,
                            commitments: Sequence[SigningCommitments]) -> list[BindingFactor]:
    """Every signer's binding factor, in list order (for inspection and tests)."""
    pk = _bytes(group_public_key, 32, "group public key")
    msg = _message(message)
    cs, arr = _commitment_list(commitments)
    n = len(cs)
    rho = _ffi.new("unsigned char[]", 32 * n)
    inputs = _ffi.new("unsigned char[]", _lib.FROST_BINDING_INPUT_BYTES * n)
    rc = _lib.frost_binding_factors(rho, inputs, pk, arr, n, msg, len(msg))
    if rc == _lib.FROST_ERR_BAD_POINT:
        raise _diagnose_points(pk, cs)
    if rc != _lib.FROST_OK:
        raise _fail(rc, "binding factors")
    w = _lib.FROST_BINDING_INPUT_BYTES
    return [BindingFactor(c.identifier, bytes(inputs[w * k:w * k + w]), bytes(rho[32 * k:32 * k + 32]))
            for k, c in enumerate(cs)]


def sign(message: bytes, commitments: Sequence[SigningCommitments], nonces: SigningNonces,
         key_package: KeyPackage) -> SignatureShare:
    """Round 2: this signer's share of the signature on ``message``.

    ``commitments`` is the signing package's list, sorted by identifier and
    including this signer's commitments made with ``nonces``.  The nonces are
    consumed (wiped) by this call whatever its outcome.
    """
    if not isinstance(nonces, SigningNonces):
        raise FrostError(f"expected SigningNonces, not {type(nonces).__name__}")
    if nonces.consumed:
        raise NoncesConsumed()
    try:
        if not isinstance(key_package, KeyPackage):
            raise FrostError(f"expected KeyPackage, not {type(key_package).__name__}")
        msg = _message(message)
        cs, arr = _commitment_list(commitments)
        me = key_package.identifier
        mine = [c for c in cs if c.identifier == me]
        if not mine:
            raise FrostError(f"participant {me} is not in the commitment list",
                             "this signing package was not made for this signer")
        if len(cs) < key_package.min_signers:
            raise FrostError(f"commitment list has {len(cs)} signers, fewer than the threshold "
                             f"{key_package.min_signers}")
        if mine[0].hiding != bytes(nonces._buf[64:96]) or mine[0].binding != bytes(nonces._buf[96:128]):
            raise FrostError(f"commitments of participant {me} in the signing package are not "
                             "the ones made with these nonces",
                             "the package was altered or belongs to another round")
        out = _ffi.new("unsigned char[32]")
        rc = _lib.frost_sign(out, _ffi.from_buffer("frost_nonces *", nonces._buf, require_writable=True),
                             msg, len(msg), arr, len(cs), me, key_package.signing_share,
                             key_package.group_public_key, key_package.min_signers)
        if rc == _lib.FROST_ERR_BAD_POINT:
            raise _diagnose_points(key_package.group_public_key, cs)
        if rc == _lib.FROST_ERR_BAD_SCALAR:
            raise FrostError("signing share is not a canonical scalar")
        if rc != _lib.FROST_OK:
            raise _fail(rc, "sign")
        return SignatureShare(me, bytes(out))
    finally:
        nonces.wipe()


def _aligned_verifying(cs: Sequence[SigningCommitments], pkp: PublicKeyPackage) -> bytes:
    for c in cs:
        if c.identifier not in pkp.verifying_shares:
            raise FrostError(f"participant {c.identifier} is not in the public key package")
    return b"".join(pkp.verifying_shares[c.identifier] for c in cs)


def verify_signature_share(message: bytes, commitments: Sequence[SigningCommitments],
                           share: SignatureShare, public_key_package: PublicKeyPackage) -> None:
    """Check one signature share (RFC 9591 5.4); raises InvalidSignatureShare
    naming its signer, FrostError for malformed input."""
    if not isinstance(share, SignatureShare):
        raise FrostError(f"expected SignatureShare, not {type(share).__name__}")
    if not isinstance(public_key_package, PublicKeyPackage):
        raise FrostError(f"expected PublicKeyPackage, not {type(public_key_package).__name__}")
    msg = _message(message)
    cs, arr = _commitment_list(commitments)
    if share.identifier not in {c.identifier for c in cs}:
        raise FrostError(f"signature share from participant {share.identifier}, who is not in "
                         "the commitment list")
    pkp = public_key_package
    _aligned_verifying(cs, pkp)
    rc = _lib.frost_verify_signature_share(share.identifier, share.share,
                                           pkp.verifying_shares[share.identifier], msg, len(msg),
                                           arr, len(cs), pkp.group_public_key)
    if rc == _lib.FROST_ERR_INVALID_SIGNATURE_SHARE:
        raise InvalidSignatureShare([share.identifier])
    if rc == _lib.FROST_ERR_BAD_POINT:
        raise _diagnose_points(pkp.group_public_key, cs, pkp.verifying_shares)
    if rc != _lib.FROST_OK:
        raise _fail(rc, "signature share")


def aggregate(message: bytes, commitments: Sequence[SigningCommitments],
              shares: Iterable[SignatureShare], public_key_package: PublicKeyPackage) -> bytes:
    """Coordinator: aggregate the shares and verify the signature; only if
    it fails, verify every share to name the culprits.

    Returns the 64-byte signature (a plain RFC 8032 Ed25519 signature under
    the group public key).  Raises InvalidSignatureShare naming every signer
    whose share is invalid (when the signature fails); SignatureInvalid if
    every share is valid but the signature is not (the public key package
    is inconsistent); FrostError for malformed input or a share missing,
    duplicated or from outside the commitment list.  Shares that sum to a
    valid signature are accepted, as in the Zcash Foundation's frost-core.
    """
    if not isinstance(public_key_package, PublicKeyPackage):
        raise FrostError(f"expected PublicKeyPackage, not {type(public_key_package).__name__}")
    pkp = public_key_package
    msg = _message(message)
    cs, arr = _commitment_list(commitments)
    if len(cs) < pkp.min_signers:
        raise FrostError(f"commitment list has {len(cs)} signers, fewer than the threshold "
                         f"{pkp.min_signers}")
    verifying = _aligned_verifying(cs, pkp)
    by_id: dict[int, bytes] = {}
    listed = {c.identifier for c in cs}
    for s in shares:
        if not isinstance(s, SignatureShare):
            raise FrostError(f"expected SignatureShare, not {type(s).__name__}")
        if s.identifier in by_id:
            raise FrostError(f"two signature shares from participant {s.identifier}")
        if s.identifier not in listed:
            raise FrostError(f"signature share from participant {s.identifier}, who is not in "
                             "the commitment list")
        by_id[s.identifier] = s.share
    for c in cs:
        if c.identifier not in by_id:
            raise FrostError(f"no signature share from participant {c.identifier}")
    n = len(cs)
    sig = _ffi.new("unsigned char[64]")
    culprits = _ffi.new("uint32_t[]", n)
    n_culprits = _ffi.new("size_t *")
    rc = _lib.frost_aggregate(sig, culprits, n_culprits, msg, len(msg), arr, n,
                              b"".join(by_id[c.identifier] for c in cs), verifying,
                              pkp.group_public_key, pkp.min_signers)
    if rc == _lib.FROST_ERR_INVALID_SIGNATURE_SHARE:
        raise InvalidSignatureShare(culprits[k] for k in range(n_culprits[0]))
    if rc == _lib.FROST_ERR_INVALID_SIGNATURE:
        raise SignatureInvalid("aggregate signature does not verify under the group public key",
                               "the public key package's verifying shares do not match its group key")
    if rc == _lib.FROST_ERR_BAD_POINT:
        raise _diagnose_points(pkp.group_public_key, cs, pkp.verifying_shares)
    if rc != _lib.FROST_OK:
        raise _fail(rc, "aggregate")
    return bytes(sig)


def verify(group_public_key: bytes, message: bytes, signature: bytes) -> bool:
    """Verify a signature (RFC 9591 6.1, cofactored).  False for any 64-byte
    signature that does not verify; FrostError for an invalid group key or a
    signature that is not 64 bytes."""
    pk = _bytes(group_public_key, POINT_SIZE, "group public key")
    sig = _bytes(signature, SIGNATURE_SIZE, "signature")
    msg = _message(message)
    rc = _lib.frost_verify(sig, msg, len(msg), pk)
    if rc == _lib.FROST_OK:
        return True
    if rc == _lib.FROST_ERR_INVALID_SIGNATURE:
        return False
    if rc == _lib.FROST_ERR_BAD_POINT:
        _point(pk, "group public key")  # raises naming the problem
    raise _fail(rc, "verify")
