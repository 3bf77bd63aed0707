"""Argon2id, the passphrase KDF of sealed files (``spec/keyfile.md``).

The raw primitive only; the sealed-file format is ``cerro_torre.keys.keyfile``.
"""

from __future__ import annotations

from .errors import Malformed

KEY_SIZE = 32


def argon2id_raw(password: bytes | bytearray, salt: bytes, *, time_cost: int, memory_kib: int,
                 parallelism: int, out_len: int = KEY_SIZE, secret: bytes = b"", ad: bytes = b"") -> bytearray:
    """Argon2id v1.3 through argon2-cffi's ``low_level.core`` (argon2_ctx).

    Returns a bytearray the caller should zero.  The C copy of the password
    is cleared by libargon2 (ARGON2_FLAG_CLEAR_PASSWORD), the output buffer
    is zeroed after copying.
    """
    from argon2.low_level import ARGON2_VERSION, Type, core, error_to_str, ffi, lib

    pwd = ffi.new("uint8_t[]", bytes(password) or b"\0")
    sal = ffi.new("uint8_t[]", bytes(salt) or b"\0")
    sec = ffi.new("uint8_t[]", bytes(secret) or b"\0")
    add = ffi.new("uint8_t[]", bytes(ad) or b"\0")
    out = ffi.new("uint8_t[]", out_len)
    ctx = ffi.new("argon2_context *", dict(
        version=ARGON2_VERSION,
        out=out, outlen=out_len,
        pwd=pwd, pwdlen=len(password),
        salt=sal, saltlen=len(salt),
        secret=sec if secret else ffi.NULL, secretlen=len(secret),
        ad=add if ad else ffi.NULL, adlen=len(ad),
        t_cost=time_cost, m_cost=memory_kib, lanes=parallelism, threads=parallelism,
        allocate_cbk=ffi.NULL, free_cbk=ffi.NULL,
        flags=lib.ARGON2_FLAG_CLEAR_PASSWORD | lib.ARGON2_FLAG_CLEAR_SECRET,
    ))
    try:
        rc = core(ctx, Type.ID.value)
        if rc != lib.ARGON2_OK:
            raise Malformed(f"argon2id failed: {error_to_str(rc).lower()}")
        result = bytearray(ffi.buffer(out, out_len))
    finally:
        ffi.memmove(out, bytes(out_len), out_len)
        ffi.memmove(pwd, bytes(len(pwd)), len(pwd))
    return result
