"""Passphrase-sealed blobs: Argon2id + XChaCha20-Poly1305 (``spec/keyfile.md``).

Generic: ``seal(plaintext, passphrase, label)`` / ``open_sealed(blob,
passphrase, label)``.  Identity keys, FROST shares and nonces all use it.

Layout (all integers big-endian)::

    off   len  field
      0     8  magic "CTSEAL01" (format version in the last two characters)
      8     1  kdf id   0x01 = Argon2id v1.3 (0x13)
      9     1  aead id  0x01 = XChaCha20-Poly1305-IETF
     10     4  t  (Argon2 passes)
     14     4  m  (Argon2 memory, KiB)
     18     4  p  (Argon2 lanes)
     22    16  salt
     38    24  nonce
     62     2  L, label length (1..255)
     64     L  label, UTF-8
   64+L    16  check = BLAKE2b-128(key=K, person="CTSEAL01-check")
   80+L     …  ciphertext || 16-byte Poly1305 tag

    K     = Argon2id(passphrase, salt, t, m, p, 32 bytes, no secret, no ad)
    K_enc = BLAKE2b-256(key=K, person="CTSEAL01-enc")
    ciphertext = XChaCha20-Poly1305(K_enc, nonce, plaintext, ad = bytes 0 .. 80+L)

The check value lets a wrong passphrase (check differs: exit 20) be told
apart from a corrupted file (check matches, tag fails: exit 10).  It gives an
attacker nothing the tag does not already give: each guess still costs one
Argon2id.  The whole header is associated data, so changing t/m/p, salt,
nonce, label or check makes the file fail to open.
"""

from __future__ import annotations

import hashlib
import os
import struct
from dataclasses import dataclass

from cerro_torre.suites.errors import Malformed, UsageError, WrongPassphrase
from cerro_torre.suites.kdf import argon2id_raw

MAGIC = b"CTSEAL01"
MAGIC_PREFIX = b"CTSEAL"
KDF_ARGON2ID = 0x01
AEAD_XCHACHA20POLY1305 = 0x01
SALT_SIZE = 16
NONCE_SIZE = 24
KEY_SIZE = 32
CHECK_SIZE = 16
TAG_SIZE = 16
MAX_LABEL = 255
_FIXED = struct.Struct(">8sBBIII16s24sH")  # up to and including the label length
FIXED_SIZE = _FIXED.size  # 64

# Limits on what a header may ask for, enforced on seal and on open.
MIN_MEMORY_KIB = 8 * 1024           # 8 MiB floor (unless allow_weak)
MAX_MEMORY_KIB = 4 * 1024 * 1024    # 4 GiB: a header asking more is refused, not attempted
MAX_TIME_COST = 64
MAX_PARALLELISM = 64

TEST_ENV_FLAG = "CT_TESTING"
TEST_ENV_MEMORY = "CT_TEST_ARGON2_MEMORY_KIB"

_PERSON_CHECK = b"CTSEAL01-check"
_PERSON_ENC = b"CTSEAL01-enc"


@dataclass(frozen=True)
class KDFParams:
    """Argon2id cost.  Default: RFC 9106 §4 second recommended option (t=3, p=4, m=64 MiB)."""

    time_cost: int = 3
    memory_kib: int = 64 * 1024
    parallelism: int = 4

    def check(self, *, allow_weak: bool = False, where: str = "") -> None:
        prefix = f"{where}: " if where else ""
        t, m, p = self.time_cost, self.memory_kib, self.parallelism
        for name, v in (("time cost", t), ("memory", m), ("parallelism", p)):
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise Malformed(f"{prefix}argon2id {name} must be a positive integer")
        if t > MAX_TIME_COST or m > MAX_MEMORY_KIB or p > MAX_PARALLELISM:
            raise Malformed(f"{prefix}argon2id parameters t={t} m={m}KiB p={p} exceed the limits "
                            f"(t <= {MAX_TIME_COST}, m <= {MAX_MEMORY_KIB} KiB, p <= {MAX_PARALLELISM})",
                            "this file was not written by ct, or was altered")
        if m < 8 * p:
            raise Malformed(f"{prefix}argon2id memory must be at least 8 KiB per lane")
        if not allow_weak and m < MIN_MEMORY_KIB:
            raise Malformed(f"{prefix}argon2id memory {m} KiB is below the {MIN_MEMORY_KIB} KiB floor",
                            "refusing a weakly protected file; it was made for tests or altered")


DEFAULT_PARAMS = KDFParams()


def params_from_env() -> tuple[KDFParams, bool]:
    """(params to seal with, allow_weak) — test-only override, see spec/keyfile.md.

    Only when ``CT_TESTING=1``: ``CT_TEST_ARGON2_MEMORY_KIB=N`` seals with
    t=1, p=1, m=N KiB, and weak headers are accepted on open.  Otherwise the
    defaults and the floor apply, whatever else is set.
    """
    if os.environ.get(TEST_ENV_FLAG) != "1":
        return DEFAULT_PARAMS, False
    raw = os.environ.get(TEST_ENV_MEMORY)
    if raw is None or raw == "":
        return DEFAULT_PARAMS, True
    try:
        m = int(raw)
    except ValueError:
        m = 0
    if m < 8:
        raise UsageError(f"{TEST_ENV_MEMORY} must be an integer >= 8, got {raw!r}")
    params = KDFParams(time_cost=1, memory_kib=m, parallelism=1)
    params.check(allow_weak=True)
    return params, True


_NO_DUMPS = False
PR_SET_DUMPABLE, PR_GET_DUMPABLE = 4, 3


def no_core_dumps() -> None:
    """Before a secret is in memory: no core file (``RLIMIT_CORE`` 0, soft and hard) and not dumpable
    (``prctl(PR_SET_DUMPABLE, 0)``: no core, no ptrace by other processes of the user, /proc/self/mem
    closed to them).  For the rest of the process's life: a key unlocked once may linger in freed memory.
    Refuses (exit 30) when the system will not allow it."""
    global _NO_DUMPS
    if _NO_DUMPS:
        return
    import ctypes
    import resource
    import sys

    from cerro_torre.suites.errors import Unavailable

    try:
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    except (ValueError, OSError) as e:
        raise Unavailable(f"cannot turn core dumps off before unlocking a key: {e}",
                          "check the process limits (ulimit -c)") from None
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) != 0:
            raise Unavailable(f"cannot mark the process not dumpable before unlocking a key: "
                              f"{os.strerror(ctypes.get_errno())}", "prctl(PR_SET_DUMPABLE) was refused")
    _NO_DUMPS = True


def _subkeys(k: bytearray) -> tuple[bytes, bytes]:
    check = hashlib.blake2b(b"", digest_size=CHECK_SIZE, key=bytes(k), person=_PERSON_CHECK).digest()
    enc = hashlib.blake2b(b"", digest_size=KEY_SIZE, key=bytes(k), person=_PERSON_ENC).digest()
    return check, enc


def _label_bytes(label: str) -> bytes:
    if not isinstance(label, str):
        raise TypeError("label must be a str")
    raw = label.encode("utf-8")
    if not 1 <= len(raw) <= MAX_LABEL:
        raise Malformed(f"sealed-file label must be 1..{MAX_LABEL} bytes of UTF-8")
    return raw


def seal(plaintext: bytes | bytearray, passphrase: bytes | bytearray, label: str,
         params: KDFParams | None = None, *, allow_weak: bool = False) -> bytes:
    """Encrypt ``plaintext`` under ``passphrase``; ``label`` names what it is (checked on open).

    Parameters below the floor (m < 8 MiB) need ``allow_weak=True`` (tests only).
    """
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_encrypt

    if not passphrase:
        raise UsageError("the passphrase cannot be empty")
    no_core_dumps()
    params = params or DEFAULT_PARAMS
    params.check(allow_weak=allow_weak)
    lab = _label_bytes(label)
    salt = os.urandom(SALT_SIZE)
    nonce = os.urandom(NONCE_SIZE)
    k = argon2id_raw(passphrase, salt, time_cost=params.time_cost, memory_kib=params.memory_kib,
                     parallelism=params.parallelism)
    try:
        check, enc = _subkeys(k)
    finally:
        k[:] = bytes(len(k))
    header = _FIXED.pack(MAGIC, KDF_ARGON2ID, AEAD_XCHACHA20POLY1305, params.time_cost, params.memory_kib,
                         params.parallelism, salt, nonce, len(lab)) + lab + check
    ct = crypto_aead_xchacha20poly1305_ietf_encrypt(bytes(plaintext), header, nonce, enc)
    return header + ct


@dataclass(frozen=True)
class SealedHeader:
    params: KDFParams
    salt: bytes
    nonce: bytes
    label: str
    check: bytes
    header: bytes  # the bytes used as associated data


def parse_header(blob: bytes, *, name: str = "sealed data", allow_weak: bool = False) -> SealedHeader:
    """Parse and bound-check the header (no passphrase needed).  ``name`` is used in errors."""
    blob = bytes(blob)
    if len(blob) < len(MAGIC) or not blob.startswith(MAGIC_PREFIX):
        raise Malformed(f"{name} is not a ct sealed file", "is this the right file?")
    if blob[: len(MAGIC)] != MAGIC:
        version = blob[len(MAGIC_PREFIX): len(MAGIC)].decode("ascii", "replace")
        raise Malformed(f"{name} has unsupported sealed-file version {version!r}",
                        "it was written by a newer ct; upgrade ct to read it")
    if len(blob) < FIXED_SIZE:
        raise Malformed(f"{name} is truncated", "restore it from a backup")
    _, kdf, aead, t, m, p, salt, nonce, lab_len = _FIXED.unpack_from(blob)
    if kdf != KDF_ARGON2ID:
        raise Malformed(f"{name} uses unknown key derivation {kdf}", "upgrade ct to read it")
    if aead != AEAD_XCHACHA20POLY1305:
        raise Malformed(f"{name} uses unknown cipher {aead}", "upgrade ct to read it")
    if not 1 <= lab_len <= MAX_LABEL:
        raise Malformed(f"{name} has a bad label length {lab_len}", "the file is corrupt")
    end = FIXED_SIZE + lab_len + CHECK_SIZE
    if len(blob) < end + TAG_SIZE:
        raise Malformed(f"{name} is truncated", "restore it from a backup")
    try:
        label = blob[FIXED_SIZE: FIXED_SIZE + lab_len].decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(f"{name} has a label that is not UTF-8", "the file is corrupt") from None
    params = KDFParams(t, m, p)
    params.check(allow_weak=allow_weak, where=name)
    return SealedHeader(params, salt, nonce, label, blob[end - CHECK_SIZE: end], blob[:end])


def open_sealed(blob: bytes, passphrase: bytes | bytearray, label: str, *, name: str = "sealed data",
                what: str | None = None, allow_weak: bool = False) -> bytes:
    """Decrypt a :func:`seal` blob.

    ``name`` describes the blob in format errors (e.g. "key file /h/keys/alice.sec");
    ``what`` in the passphrase error (e.g. "key 'alice'").
    Malformed: not sealed, unknown version, truncated, weak or absurd parameters,
    label differs, or corrupt ciphertext.  WrongPassphrase: the check value differs.
    """
    from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt
    from nacl.exceptions import CryptoError

    h = parse_header(blob, name=name, allow_weak=allow_weak)
    if h.label != label:
        raise Malformed(f"{name} is sealed for {h.label!r}, not {label!r}",
                        "files were swapped or renamed; restore the right one")
    no_core_dumps()
    k = argon2id_raw(passphrase, h.salt, time_cost=h.params.time_cost, memory_kib=h.params.memory_kib,
                     parallelism=h.params.parallelism)
    try:
        check, enc = _subkeys(k)
    finally:
        k[:] = bytes(len(k))
    import hmac

    if not hmac.compare_digest(check, h.check):
        raise WrongPassphrase(f"wrong passphrase for {what or repr(label)}",
                              "try again; check --passphrase-file or CT_PASSPHRASE if you use them")
    try:
        return crypto_aead_xchacha20poly1305_ietf_decrypt(bytes(blob)[len(h.header):], h.header, h.nonce, enc)
    except CryptoError:
        raise Malformed(f"{name} is corrupt: authentication failed", "restore it from a backup") from None


def is_sealed(blob: bytes) -> bool:
    return bytes(blob[: len(MAGIC_PREFIX)]) == MAGIC_PREFIX


HEAD_SIZE = FIXED_SIZE + MAX_LABEL      # enough of a file to read a sealed header's label
HOME_DIRS = ("keys", "shares", "nonces", "ceremonies")


def private_material(name: str, head: bytes) -> str | None:
    """What secret of a keyholder home a file is, from its path (``/``-separated) and its first
    :data:`HEAD_SIZE` bytes — a sealed file (``CTSEAL`` magic: identity key, FROST share, nonce, ceremony
    secret), a ``*.sec`` or ``*.share`` file, anything under a ``nonces/`` folder — or None."""
    sealed = is_sealed(head)
    label = ""
    if sealed and len(head) >= FIXED_SIZE:
        n = int.from_bytes(head[FIXED_SIZE - 2:FIXED_SIZE], "big")
        label = bytes(head[FIXED_SIZE:FIXED_SIZE + n]).decode("utf-8", "replace")
    parts = name.split("/")
    base = parts[-1]
    if not (sealed or base.endswith((".sec", ".share")) or "nonces" in parts[:-1]):
        return None
    kind = "a FROST key share" if label.startswith("ct-share:") or base.endswith(".share") else \
        "a sealed private key" if label.startswith("ct-identity:") or base.endswith(".sec") else \
        "a nonce of a signing ceremony" if label.startswith("ct-nonce") or "nonces" in parts[:-1] else \
        "sealed secret material"
    return kind + (f" ({label})" if label else "")


def home_of(name: str) -> str | None:
    """The keyholder home a secret at ``name`` (``/``-separated) lies in: the folder above its
    ``keys/``, ``shares/``, ``nonces/`` or ``ceremonies/`` folder (None when there is none)."""
    parts = name.split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] in HOME_DIRS:
            return "/".join(parts[:i]) or "."
    return None
