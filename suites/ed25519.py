"""Ed25519 (RFC 8032) signatures and X25519 sealed boxes, through PyNaCl (libsodium).

Private keys are 32-byte seeds.  A FROST(Ed25519, SHA-512) group signature
is an ordinary Ed25519 signature under the group public key, so
:func:`verify` checks those too.  libsodium's verification is the strict
one: it rejects non-canonical S, small-order R and public keys.
"""

from __future__ import annotations

import os

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


def _sodium() -> tuple:
    """(ffi, lib) of the system libsodium (the one the C library links), for detached signing and
    verification over a buffer without copies (PyNaCl copies a message twice per call: a 10 MB
    release statement would cost 20 MB more)."""
    if not _SODIUM:
        from cffi import FFI

        ffi = FFI()
        ffi.cdef("""
            int sodium_init(void);
            int crypto_sign_seed_keypair(unsigned char *pk, unsigned char *sk, const unsigned char *seed);
            int crypto_sign_detached(unsigned char *sig, unsigned long long *siglen_p, const unsigned char *m,
                                     unsigned long long mlen, const unsigned char *sk);
            int crypto_sign_verify_detached(const unsigned char *sig, const unsigned char *m,
                                            unsigned long long mlen, const unsigned char *pk);
            void sodium_memzero(void * const pnt, const size_t len);
        """)
        lib = None
        for name in ("libsodium.so.23", "libsodium.so.26", "libsodium.so", "libsodium.dylib", "sodium"):
            try:
                lib = ffi.dlopen(name)
                break
            except OSError:
                continue
        if lib is None or lib.sodium_init() < 0:
            from .errors import Unavailable

            raise Unavailable("libsodium could not be loaded", "install libsodium (apt-get install libsodium23)")
        _SODIUM.extend((ffi, lib))
    return _SODIUM[0], _SODIUM[1]


def sign(seed: bytes | bytearray, message: bytes | bytearray | memoryview) -> bytes:
    """RFC 8032 Ed25519 signature (deterministic) of ``message`` (any buffer; not copied)."""
    ffi, lib = _sodium()
    pk = ffi.new("unsigned char[32]")
    sk = ffi.new("unsigned char[64]")
    sig = ffi.new("unsigned char[64]")
    try:
        if lib.crypto_sign_seed_keypair(pk, sk, _seed(seed)) != 0:
            raise Malformed("ed25519 seed was refused")
        m = ffi.from_buffer(message)
        if lib.crypto_sign_detached(sig, ffi.NULL, m, len(m), sk) != 0:
            raise Malformed("ed25519 signing failed")
        return bytes(ffi.buffer(sig, SIGNATURE_SIZE))
    finally:
        lib.sodium_memzero(sk, 64)


def verify(public_key: bytes, message: bytes | bytearray | memoryview, signature: bytes) -> bool:
    """True only for a valid signature; wrong sizes and bad signatures give False.

    libsodium's ``crypto_sign_verify_detached`` (what PyNaCl's ``verify`` calls underneath): strict,
    the message is read in place."""
    if not isinstance(public_key, (bytes, bytearray)) or not isinstance(signature, (bytes, bytearray)):
        return False
    if len(public_key) != PUBLIC_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    ffi, lib = _sodium()
    try:
        m = ffi.from_buffer(message)
    except TypeError:
        return False
    return lib.crypto_sign_verify_detached(bytes(signature), m, len(m), bytes(public_key)) == 0


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
