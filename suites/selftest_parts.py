"""Known-answer self-tests of the suites' primitives, for ``ct doctor``.

Each function returns None when the check passes and raises
:class:`~cerro_torre.suites.errors.SelfTestFailed` (with a message saying
what differed) when it does not.  Each takes well under a second.
"""

from __future__ import annotations

import hashlib

from .errors import SelfTestFailed

# NIST ACVP-Server, gen-val/json-files/ML-DSA-keyGen-FIPS204, tgId 3 (ML-DSA-87), tcId 51:
# seed -> pk; we keep the seed, the pk's first 16 bytes and the SHA-256 of the whole 2592-byte pk.
_MLDSA87_KEYGEN_SEED = "5ac4d695186486c11d21f0300dbda6f38b8d1fa07a254549b64422d44b1aac42"
_MLDSA87_KEYGEN_PK_PREFIX = "a43d30aa48e12e950a08f7ed597ec7c8"
_MLDSA87_KEYGEN_PK_SHA256 = "f3181985231f1541993e4a5e676636e76ca97a2d551bff73d832e9ed80217b31"

# RFC 9106 §5.3 Argon2id test vector
_ARGON2ID_TAG = "0d640df58d78766c08c037a34a8b53c9d01ef0452d75b65eb52520e96b01e659"

# RFC 8032 §7.1 TEST 1 (empty message)
_ED25519_SK = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
_ED25519_PK = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"
_ED25519_SIG = ("e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
                "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b")


def _fail(msg: str) -> SelfTestFailed:
    return SelfTestFailed(msg, "reinstall ct ('make setup'); if it persists, report it")


def mldsa_kat() -> None:
    """ML-DSA-87: NIST ACVP keyGen vector (seed -> public key), then a sign/verify
    round trip, then negative checks (flipped signature bit, flipped message bit,
    other key).  When liboqs is present, it must accept OpenSSL's signature too."""
    from . import mldsa

    key = mldsa.MLDSAPrivateKey("ml-dsa-87", bytes.fromhex(_MLDSA87_KEYGEN_SEED))
    pk = key.public_bytes()
    if len(pk) != 2592 or pk[:16].hex() != _MLDSA87_KEYGEN_PK_PREFIX \
            or hashlib.sha256(pk).hexdigest() != _MLDSA87_KEYGEN_PK_SHA256:
        raise _fail("ml-dsa-87 key generation does not match the NIST ACVP vector (keyGen tcId 51)")
    msg = b"cerro torre ml-dsa-87 self-test"
    sig = key.sign(msg)
    if len(sig) != 4627:
        raise _fail(f"ml-dsa-87 signature has {len(sig)} bytes, expected 4627")
    if not mldsa.verify("ml-dsa-87", pk, msg, sig):
        raise _fail("ml-dsa-87 signature does not verify")
    bad = bytearray(sig)
    bad[len(bad) // 2] ^= 0x01
    if mldsa.verify("ml-dsa-87", pk, msg, bytes(bad)):
        raise _fail("ml-dsa-87 accepted a signature with a flipped bit")
    if mldsa.verify("ml-dsa-87", pk, msg + b"!", sig):
        raise _fail("ml-dsa-87 accepted a signature over a different message")
    other = mldsa.MLDSAPrivateKey("ml-dsa-87", bytes(32)).public_bytes()
    if mldsa.verify("ml-dsa-87", other, msg, sig):
        raise _fail("ml-dsa-87 accepted a signature under another key")
    if mldsa.backends()["liboqs"]["available"]:
        if not mldsa.verify("ml-dsa-87", pk, msg, sig, backend="liboqs"):
            raise _fail("liboqs rejects an ml-dsa-87 signature made by OpenSSL")
        if mldsa.verify("ml-dsa-87", pk, msg, bytes(bad), backend="liboqs"):
            raise _fail("liboqs accepted an ml-dsa-87 signature with a flipped bit")


def argon2id_kat() -> None:
    """RFC 9106 §5.3: Argon2id v1.3, t=3, m=32 KiB, p=4, password 32x01, salt 16x02,
    secret 8x03, associated data 12x04, 32-byte tag — through the same code path the
    key files use (argon2-cffi low_level.core with an argon2_context)."""
    from .kdf import argon2id_raw

    out = argon2id_raw(b"\x01" * 32, b"\x02" * 16, time_cost=3, memory_kib=32, parallelism=4,
                       out_len=32, secret=b"\x03" * 8, ad=b"\x04" * 12)
    got = bytes(out).hex()
    out[:] = bytes(len(out))
    if got != _ARGON2ID_TAG:
        raise _fail(f"argon2id does not match RFC 9106 §5.3: got {got[:16]}…")


def ed25519_kat() -> None:
    """RFC 8032 §7.1 TEST 1 through PyNaCl: public key and (deterministic) signature, plus a negative check."""
    from . import ed25519

    sk = bytes.fromhex(_ED25519_SK)
    if ed25519.public_from_seed(sk).hex() != _ED25519_PK:
        raise _fail("ed25519 public key does not match RFC 8032 TEST 1")
    sig = ed25519.sign(sk, b"")
    if sig.hex() != _ED25519_SIG:
        raise _fail("ed25519 signature does not match RFC 8032 TEST 1")
    if not ed25519.verify(bytes.fromhex(_ED25519_PK), b"", sig):
        raise _fail("ed25519 RFC 8032 TEST 1 signature does not verify")
    bad = bytearray(sig)
    bad[0] ^= 0x01
    if ed25519.verify(bytes.fromhex(_ED25519_PK), b"", bytes(bad)):
        raise _fail("ed25519 accepted a signature with a flipped bit")


ALL = (
    ("ml-dsa-87 keygen/sign/verify", mldsa_kat),
    ("argon2id rfc 9106", argon2id_kat),
    ("ed25519 rfc 8032", ed25519_kat),
)
