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


def sign(seed: bytes | bytearray, message: bytes) -> bytes:
    from nacl.signing import SigningKey

    return SigningKey(_seed(seed)).sign(bytes(message)).signature


def verify(public_key: bytes, message: bytes, signature: bytes) -> bool:
    """True only for a valid signature; wrong sizes and bad signatures give False."""
    if not isinstance(public_key, (bytes, bytearray)) or not isinstance(signature, (bytes, bytearray)):
        return False
    if len(public_key) != PUBLIC_SIZE or len(signature) != SIGNATURE_SIZE:
        return False
    from nacl.exceptions import BadSignatureError, CryptoError
    from nacl.signing import VerifyKey

    try:
        VerifyKey(bytes(public_key)).verify(bytes(message), bytes(signature))
        return True
    except (BadSignatureError, CryptoError, ValueError, TypeError):
        return False


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
