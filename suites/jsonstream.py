"""Reading canonical JSON (``spec/canonical.md``) piece by piece, from a byte buffer, without
building the whole document: what lets ``ct verify`` walk a release statement that lists 100,000
subjects (about 13 MB) at a flat cost.

A caller walks a document it knows the shape of: :func:`expect` for the fixed bytes between values
(keys, ``,``, ``[``), :func:`value_at` for one value, :func:`string_at` for one string.  Each piece
is accepted only in its canonical encoding, so a document read this way end to end is canonical.
Anything else raises :class:`NotCanonical` (the position and what was expected): the caller then
hands the whole document to the strict whole-document parser (``encoding.parse_json``), whose
error message is the one users see; nothing is accepted here that that parser would refuse.

Limits: a value read by :func:`value_at` is at most ``max_len`` bytes (default 1 MiB), at most
``MAX_DEPTH`` levels deep, with integers of at most ``MAX_INT_DIGITS`` digits; strings must be
UTF-8 and re-encode to the same bytes (lone surrogates, over-long or invalid UTF-8 never do).
"""

from __future__ import annotations

import json
import re
from typing import Any

from .encoding import canonical_json

MAX_DEPTH = 64
MAX_INT_DIGITS = 64

_STRING = re.compile(rb'"((?:[^"\\\x00-\x1f]|\\.)*)"')
_DEEP = re.compile(rb"[\[{]")


class NotCanonical(Exception):
    """Not the canonical encoding the caller expected at ``pos`` (not an error users see)."""

    def __init__(self, pos: int, what: str) -> None:
        super().__init__(f"{what} at byte {pos}")
        self.pos = pos


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)
    if len(out) != len(pairs):
        raise ValueError("duplicate key")
    return out


def _no_float(s: str) -> Any:
    raise ValueError("float")


def _int(s: str) -> int:
    if len(s.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(s)


_DECODER = json.JSONDecoder(object_pairs_hook=_no_dupes, parse_float=_no_float, parse_constant=_no_float,
                            parse_int=_int)


def expect(buf: Any, pos: int, literal: bytes) -> int:
    """``pos`` past ``literal``, which must be at ``pos``."""
    end = pos + len(literal)
    if buf[pos:end] != literal:
        raise NotCanonical(pos, f"expected {literal[:40]!r}")
    return end


def string_at(buf: Any, pos: int) -> tuple[bytes, str, int]:
    """(UTF-8 bytes, text, end) of the canonical JSON string at ``pos``."""
    m = _STRING.match(buf, pos)
    if m is None:
        raise NotCanonical(pos, "expected a string")
    raw = m.group(1)
    try:
        if b"\\" not in raw:
            return raw, raw.decode("utf-8"), m.end()
        text = json.loads(m.group(0))
        enc = json.dumps(text, ensure_ascii=False).encode("utf-8")
    except (UnicodeError, ValueError):
        raise NotCanonical(pos, "expected a UTF-8 string") from None
    if enc != m.group(0):
        raise NotCanonical(pos, "string escapes are not canonical")
    return text.encode("utf-8"), text, m.end()


def value_at(buf: Any, pos: int, max_len: int = 1 << 20) -> tuple[Any, int]:
    """(value, end) of the canonical JSON value at ``pos`` (at most ``max_len`` bytes).

    Read through a window of 4 KiB first, 16 times larger while the value does not fit: a small value
    costs a small copy, however long the buffer after it."""
    size = min(4096, max_len)
    while True:
        window = bytes(buf[pos:pos + size])
        # decoding may cut a character at the window's end: then the value was too long for it
        text = window.decode("utf-8", "surrogateescape")
        if len(_DEEP.findall(window)) > MAX_DEPTH and _too_deep(window):
            raise NotCanonical(pos, "nested too deep")
        try:
            value, _ = _DECODER.raw_decode(text)
            enc = canonical_json(value)
        except Exception as e:  # noqa: BLE001 - ValueError, RecursionError, UnicodeError, Malformed: all refusals
            if size < max_len and len(window) == size:
                size = min(size * 16, max_len)
                continue
            raise NotCanonical(pos, f"expected a canonical value ({type(e).__name__})") from None
        if window[:len(enc)] != enc:
            raise NotCanonical(pos, "value is not in canonical form")
        return value, pos + len(enc)


def skip_value(buf: Any, pos: int, levels: int = 2, max_len: int = 1 << 20) -> int:
    """The end of the canonical JSON value at ``pos``, checked as :func:`value_at` checks one, without
    building it whole: the objects and arrays of its first ``levels`` levels are walked (keys sorted,
    no duplicates), each value below them read by :func:`value_at` (at most ``max_len`` bytes) and let
    go.  An SBOM listing 10,000 files is checked a file at a time."""
    first = buf[pos:pos + 1]
    if levels <= 0 or first not in (b"{", b"["):
        return value_at(buf, pos, max_len)[1]
    close = b"}" if first == b"{" else b"]"
    pos += 1
    if buf[pos:pos + 1] == close:
        return pos + 1
    last = None
    while True:
        if close == b"}":
            _raw, key, pos = string_at(buf, pos)
            if last is not None and key <= last:
                raise NotCanonical(pos, "object keys not sorted or repeated")
            last = key
            pos = expect(buf, pos, b":")
        pos = skip_value(buf, pos, levels - 1, max_len)
        sep = buf[pos:pos + 1]
        pos += 1
        if sep == close:
            return pos
        if sep != b",":
            raise NotCanonical(pos - 1, "expected , or the end of the object or array")


def _too_deep(window: bytes) -> bool:
    depth = 0
    in_str = esc = False
    for b in window:
        if in_str:
            if esc:
                esc = False
            elif b == 0x5C:
                esc = True
            elif b == 0x22:
                in_str = False
        elif b == 0x22:
            in_str = True
        elif b in (0x5B, 0x7B):
            depth += 1
            if depth > MAX_DEPTH:
                return True
        elif b in (0x5D, 0x7D):
            depth -= 1
            if depth <= 0:
                return False
    return False
