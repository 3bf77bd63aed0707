"""Base45 (RFC 9285), strict.

Base45 is the encoding whose 45-character alphabet is exactly the QR code
alphanumeric character set, so base45 text fills a QR code in alphanumeric
mode (5.5 bits per character): 2 bytes become 3 characters, a final odd byte
becomes 2 characters.

The decoder is strict: it refuses characters outside the alphabet (lower
case included), a length that leaves one character over, and groups whose
value is out of range (a 3-character group above 65535, a 2-character group
above 255).  With those checks the encoding is a bijection, so every string
the decoder accepts is the one canonical encoding of its bytes.
"""

from __future__ import annotations

from cerro_torre.suites.errors import Malformed

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUE = {c: i for i, c in enumerate(ALPHABET)}


def encoded_length(n: int) -> int:
    """Length of the base45 text of ``n`` bytes."""
    return 3 * (n // 2) + 2 * (n % 2)


def max_bytes(chars: int) -> int:
    """The most bytes whose base45 text fits in ``chars`` characters."""
    return 2 * (chars // 3) + (1 if chars % 3 == 2 else 0)


def encode(data: bytes) -> str:
    """Base45-encode ``data`` (RFC 9285 §4)."""
    a = ALPHABET
    out: list[str] = []
    n = len(data)
    for i in range(0, n - 1, 2):
        v = (data[i] << 8) | data[i + 1]
        v, c = divmod(v, 45)
        e, d = divmod(v, 45)
        out.append(a[c] + a[d] + a[e])
    if n % 2:
        d, c = divmod(data[-1], 45)
        out.append(a[c] + a[d])
    return "".join(out)


def decode(text: str, what: str = "base45 text") -> bytes:
    """Decode base45 ``text`` strictly; raise :class:`Malformed` on any defect."""
    if not isinstance(text, str):
        raise Malformed(f"{what} must be text")
    if len(text) % 3 == 1:
        raise Malformed(f"{what} has an invalid length {len(text)} (one character left over)")
    val = _VALUE
    try:
        digits = [val[ch] for ch in text]
    except KeyError as e:
        ch = e.args[0]
        pos = text.index(ch)
        raise Malformed(f"{what} has a character outside the base45 alphabet: {ch!r} at offset {pos}") from None
    out = bytearray()
    full = len(digits) - len(digits) % 3
    for i in range(0, full, 3):
        v = digits[i] + digits[i + 1] * 45 + digits[i + 2] * 2025
        if v > 0xFFFF:
            raise Malformed(f"{what} has an out-of-range group {text[i:i + 3]!r} at offset {i} (value {v} > 65535)")
        out += bytes((v >> 8, v & 0xFF))
    if full != len(digits):
        v = digits[full] + digits[full + 1] * 45
        if v > 0xFF:
            raise Malformed(f"{what} has an out-of-range final group {text[full:]!r} (value {v} > 255)")
        out.append(v)
    return bytes(out)
