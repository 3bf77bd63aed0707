"""Ed25519 (RFC 8032) signatures and X25519 sealed boxes, through PyNaCl (libsodium).

Private keys are 32-byte seeds.  A FROST(Ed25519, SHA-512) group signature
is an ordinary Ed25519 signature under the group public key, so
:func:`verify` checks those too.  libsodium's verification is the strict
one: it rejects non-canonical S, small-order R and public keys.
"""

from __future__ import annotations

import os
from typing import Any

from .errors import Malformed

SEED_SIZE = 32
PUBLIC_SIZE = 32
SIGNATURE_SIZE = 64
X25519_SIZE = 32


def _seed(seed: bytes | bytearray, what: str = "ed25519 seed") -> bytes:
    if not isinstance(seed, (bytes, bytearray)) or len(seed) != SEED_SIZE:
        raise Malformed(f"{what} must be {SEED_SIZE} bytes")
    return bytes(seed)


def generate_seed() -> bytes:
    return os.urandom(SEED_SIZE)


def public_from_seed(seed: bytes | bytearray) -> bytes:
    from nacl.signing import SigningKey

    return bytes(SigningKey(_seed(seed)).verify_key)


_SODIUM: list = []


def _sodium() -> Any:
    """The system libsodium (the one the C library links), through ctypes, for detached signing and
    verification of a buffer in place (PyNaCl copies a message twice per call: a 10 MB release
    statement would cost 20 MB more).  ctypes, not cffi: no C declarations to parse at start-up."""
    if not _SODIUM:
        import ctypes

        lib = None
        for name in ("libsodium.so.23", "libsodium.so.26", "libsodium.so", "libsodium.dylib"):
            try:
                lib = ctypes.CDLL(name)
                break
            except OSError:
                continue
        if lib is None or lib.sodium_init() < 0:
            from .errors import Unavailable

            raise Unavailable("libsodium could not be loaded", "install libsodium (apt-get install libsodium23)")
        p, ull = ctypes.c_void_p, ctypes.c_ulonglong
        lib.crypto_sign_seed_keypair.argtypes = (p, p, p)
        lib.crypto_sign_detached.argtypes = (p, p, p, ull, p)
        lib.crypto_sign_verify_detached.argtypes = (p, p, ull, p)
        lib.sodium_memzero.argtypes = (p, ctypes.c_size_t)
        lib.sodium_memzero.restype = None
        lib.crypto_hash_sha512_statebytes.restype = ctypes.c_size_t
        lib.crypto_hash_sha512.argtypes = (p, p, ull)
        lib.crypto_hash_sha512_init.argtypes = (p,)
        lib.crypto_hash_sha512_update.argtypes = (p, p, ull)
        lib.crypto_hash_sha512_final.argtypes = (p, p)
        lib.crypto_core_ed25519_scalar_reduce.argtypes = (p, p)
        lib.crypto_core_ed25519_scalar_reduce.restype = None
        lib.crypto_core_ed25519_scalar_mul.argtypes = (p, p, p)
        lib.crypto_core_ed25519_scalar_mul.restype = None
        lib.crypto_core_ed25519_scalar_add.argtypes = (p, p, p)
        lib.crypto_core_ed25519_scalar_add.restype = None
        lib.crypto_scalarmult_ed25519_base_noclamp.argtypes = (p, p)
        _SODIUM.append(lib)
    return _SODIUM[0]


def _in_place(message: Any) -> tuple[Any, int]:
    """(pointer argument, length) of a buffer without copying it (bytes as they are; a writable buffer
    such as a bytearray or a view of one through ctypes); other buffers are copied once."""
    import ctypes

    if isinstance(message, bytes):
        return message, len(message)
    view = memoryview(message).cast("B")
    if view.readonly:
        data = bytes(view)
        return data, len(data)
    return (ctypes.c_char * len(view)).from_buffer(view), len(view)


def sign(seed: bytes | bytearray, message: bytes | bytearray | memoryview) -> bytes:
    """RFC 8032 Ed25519 signature (deterministic) of ``message`` (any buffer, read in place)."""
    import ctypes

    lib = _sodium()
    pk = ctypes.create_string_buffer(32)
    sk = ctypes.create_string_buffer(64)
    sig = ctypes.create_string_buffer(SIGNATURE_SIZE)
    try:
        if lib.crypto_sign_seed_keypair(pk, sk, _seed(seed)) != 0:
            raise Malformed("ed25519 seed was refused")
        m, n = _in_place(message)
        if lib.crypto_sign_detached(sig, None, m, n, sk) != 0:
            raise Malformed("ed25519 signing failed")
        return sig.raw
    finally:
        lib.sodium_memzero(sk, 64)


def sign_chunks(seed: bytes | bytearray, chunks: Any) -> bytes:
    """:func:`sign` of a message given by ``chunks()``, a fresh iterable of buffers on each call, read twice
    and never held: RFC 8032 5.1.6 from libsodium's operations, every secret (the expanded key, the nonce
    and its hash state) in buffers zeroed after -- r = SHA-512(prefix || M) mod L, R = [r]B,
    k = SHA-512(R || A || M) mod L, S = r + k a mod L.  The same bytes as :func:`sign`.

    Both passes must read the same message: a second pass that reads M' != M would give S = r + k' a
    with the r of M, and two such signatures with one M reveal a = (S - S') / (k - k').  The SHA-512 of
    each pass's message is compared before S is computed; a message that changed raises ``Malformed``
    and nothing is returned."""
    import ctypes
    import hashlib
    import hmac

    lib = _sodium()
    st_size = lib.crypto_hash_sha512_statebytes()
    pk = ctypes.create_string_buffer(32)
    sk = ctypes.create_string_buffer(64)
    az = ctypes.create_string_buffer(64)
    state = ctypes.create_string_buffer(st_size)
    nonce = ctypes.create_string_buffer(64)
    r = ctypes.create_string_buffer(32)
    big_r = ctypes.create_string_buffer(32)
    k = ctypes.create_string_buffer(32)
    ka = ctypes.create_string_buffer(32)
    s = ctypes.create_string_buffer(32)
    secrets = ((sk, 64), (az, 64), (state, st_size), (nonce, 64), (r, 32), (ka, 32))
    try:
        if lib.crypto_sign_seed_keypair(pk, sk, _seed(seed)) != 0 or lib.crypto_hash_sha512(az, sk, 32) != 0:
            raise Malformed("ed25519 seed was refused")
        clamp = (ctypes.c_ubyte * 64).from_buffer(az)       # RFC 8032 5.1.5, in place (no copy of the key)
        clamp[0] &= 248
        clamp[31] = (clamp[31] & 127) | 64
        lib.crypto_hash_sha512_init(state)
        lib.crypto_hash_sha512_update(state, ctypes.byref(az, 32), 32)
        first = hashlib.sha512()
        for chunk in chunks():
            m, n = _in_place(chunk)
            lib.crypto_hash_sha512_update(state, m, n)
            first.update(chunk)
        lib.crypto_hash_sha512_final(state, nonce)
        lib.crypto_core_ed25519_scalar_reduce(r, nonce)
        if lib.crypto_scalarmult_ed25519_base_noclamp(big_r, r) != 0:
            raise Malformed("ed25519 signing failed")
        h = hashlib.sha512(big_r.raw + pk.raw)
        second = hashlib.sha512()
        for chunk in chunks():
            h.update(chunk)
            second.update(chunk)
        if not hmac.compare_digest(first.digest(), second.digest()):
            raise Malformed("the message changed while it was being signed (its two readings differ)",
                            "nothing was signed; run the command again")
        lib.crypto_core_ed25519_scalar_reduce(k, h.digest())
        lib.crypto_core_ed25519_scalar_mul(ka, k, az)
        lib.crypto_core_ed25519_scalar_add(s, ka, r)
        return big_r.raw + s.raw
    finally:
        for buf, size in secrets:
            lib.sodium_memzero(buf, size)


def verify(public_key: bytes, message: bytes | bytearray | memoryview, signature: bytes) -> bool:
    """True only for a valid signature; wrong sizes and bad signatures give False.

    libsodium's ``crypto_sign_verify_detached`` (what PyNaCl's ``verify`` calls underneath): strict
    (non-canonical S, small-order R and public keys refused); the message is read in place."""
    if not isinstance(public_key, (bytes, bytearray)) or not isinstance(signature, (bytes, bytearray)):
        return False
    if len(public_key) != PUBLIC_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    try:
        m, n = _in_place(message)
    except TypeError:
        return False
    return _sodium().crypto_sign_verify_detached(bytes(signature), m, n, bytes(public_key)) == 0


_L = (1 << 252) + 27742317777372353535851937790883648493     # the order of the base point


def verify_chunks(public_key: bytes, chunks: Any, signature: bytes) -> bool:
    """:func:`verify` of a message given as an iterable of buffers, read once and never held: RFC 8032
    5.1.7 composed from libsodium's group operations (through PyNaCl) -- S < L, then
    SHA-512(R || A || M) hashed as the chunks go by, reduced mod L, and [S]B - [k]A encoded must equal R
    (libsodium's cofactorless equation).  R and A must be valid points of the prime-order subgroup
    (``crypto_core_ed25519_is_valid_point``): stricter than :func:`verify` only for keys or R with a
    torsion component, which no RFC 8032 signer produces.  An exception raised by ``chunks`` propagates."""
    import hashlib

    import nacl.bindings as sodium
    from nacl.exceptions import RuntimeError as SodiumError

    if not isinstance(public_key, (bytes, bytearray)) or not isinstance(signature, (bytes, bytearray)):
        return False
    if len(public_key) != PUBLIC_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    pk, r, s = bytes(public_key), bytes(signature[:32]), bytes(signature[32:])
    if int.from_bytes(s, "little") >= _L:
        return False
    if not sodium.crypto_core_ed25519_is_valid_point(pk) or not sodium.crypto_core_ed25519_is_valid_point(r):
        return False
    h = hashlib.sha512(r + pk)
    for chunk in chunks:
        h.update(chunk)
    k = sodium.crypto_core_ed25519_scalar_reduce(h.digest())
    try:   # each refuses a zero scalar (probability 1/L for a real signature)
        check = sodium.crypto_core_ed25519_sub(sodium.crypto_scalarmult_ed25519_base_noclamp(s),
                                               sodium.crypto_scalarmult_ed25519_noclamp(k, pk))
    except SodiumError:
        return False
    return check == r


# ----------------------------------------------------------------- X25519

def x25519_public_from_private(private: bytes | bytearray) -> bytes:
    from nacl.public import PrivateKey

    return bytes(PrivateKey(_seed(private, "x25519 private key")).public_key)


def seal(recipient_public: bytes, data: bytes) -> bytes:
    """Anonymous sealed box (crypto_box_seal) to an X25519 public key.

    Confidential and integrity-protected, but says nothing about who sent
    it: authenticate the sender separately (sign what you seal).
    """
    from nacl.public import PublicKey, SealedBox

    if not isinstance(recipient_public, (bytes, bytearray)) or len(recipient_public) != X25519_SIZE:
        raise Malformed(f"x25519 public key must be {X25519_SIZE} bytes")
    return bytes(SealedBox(PublicKey(bytes(recipient_public))).encrypt(bytes(data)))


def open_sealed(private: bytes | bytearray, data: bytes) -> bytes | None:
    """The plaintext, or None when the box is not for this key or was altered."""
    from nacl.exceptions import CryptoError
    from nacl.public import PrivateKey, SealedBox

    try:
        return bytes(SealedBox(PrivateKey(_seed(private, "x25519 private key"))).decrypt(bytes(data)))
    except (CryptoError, ValueError, TypeError):
        return None
