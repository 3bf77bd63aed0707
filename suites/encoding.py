"""Canonical encodings shared by every format (``spec/canonical.md``).

Canonical JSON: UTF-8, object keys sorted by code point, no insignificant
white space, integers only (no floats), no duplicate keys on input.  Binary
values are standard base64 with padding (RFC 4648 §4), decoded strictly.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Iterator
from typing import Any

from .errors import Malformed


def _check(obj: Any, path: str = "$", depth: int = 1) -> None:
    if isinstance(obj, bool) or obj is None:
        return
    if isinstance(obj, str):
        if not obj.isascii() and _SURROGATE.search(obj):
            raise Malformed(f"string at {printable(path)} holds a lone surrogate and cannot be encoded as UTF-8")
        return
    if isinstance(obj, int):
        if not MIN_INT <= obj <= MAX_INT:
            raise Malformed(f"integer at {printable(path)} is out of range", _INT_HINT)
        return
    if isinstance(obj, float):
        raise Malformed(f"float at {printable(path)} cannot be encoded canonically", "use integers or strings")
    if depth > MAX_DEPTH:
        raise Malformed(f"value at {printable(path[:64])}… is nested more than {MAX_DEPTH} levels deep")
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise Malformed(f"non-string key at {printable(path)}")
            _check(k, f"{path} key", depth)
            _check(v, f"{path}.{k}", depth + 1)
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check(v, f"{path}[{i}]", depth + 1)
        return
    raise Malformed(f"value of type {type(obj).__name__} at {printable(path)} cannot be encoded canonically")


def canonical_json(obj: Any) -> bytes:
    """Return the canonical JSON encoding of ``obj`` as bytes."""
    _check(obj)
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def canonical_json_chunks(doc: dict[str, Any]) -> Iterator[bytes]:
    """``canonical_json(doc)`` in pieces: a value of ``doc`` that is an iterator is an array encoded one
    element at a time (a document listing 10,000 files is never built whole)."""
    sep = b"{"
    for k in sorted(doc):
        v = doc[k]
        yield sep + canonical_json(k) + b":"
        sep = b","
        if isinstance(v, Iterator):
            open_ = b"["
            for item in v:
                yield open_ + canonical_json(item)
                open_ = b","
            yield b"[]" if open_ == b"[" else b"]"
        else:
            yield canonical_json(v)
    yield b"{}" if sep == b"{" else b"}"
# ---------------------------------------------------------------- the one way to read JSON and TOML
#
# Every parser of untrusted input reads its document with parse_json or parse_toml (never json.loads or
# tomllib directly): any input ends in one Malformed (exit 10) that names the document, never a
# traceback.  The limits (spec/canonical.md, "Reading untrusted JSON and TOML"):

MAX_DOCUMENT = 16 << 20      # bytes; a caller may pass a smaller limit
MAX_DEPTH = 128              # nesting of arrays/objects (tables), the top level counting as 1
MIN_INT, MAX_INT = -2 ** 63, 2 ** 64 - 1   # integers: what a 64-bit field holds, signed or unsigned
_INT_DIGITS = len(str(MAX_INT))
_INT_HINT = "integers lie within -2^63 .. 2^64-1"
_SURROGATE = re.compile("[\ud800-\udfff]")


class _Refused(Exception):
    """Raised inside the parsers' hooks; parse_json/parse_toml turn it into a Malformed naming the document."""

    def __init__(self, message: str, hint: str = "") -> None:
        super().__init__(message)
        self.message, self.hint = message, hint


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise _Refused(f"duplicate key {k[:64]!r}", "a key may appear once in an object")
        out[k] = v
    return out


def _no_float(s: str) -> Any:
    raise _Refused(f"number {printable(s[:32])} is not an integer", "this format uses integers only")


def _int(s: str) -> int:
    digits = s.lstrip("-")
    if len(digits) > _INT_DIGITS or not MIN_INT <= int(s) <= MAX_INT:
        shown = s if len(s) <= 24 else f"{s[:12]}…({len(digits)} digits)"
        raise _Refused(f"integer {shown} is out of range", _INT_HINT)
    return int(s)


def _walk(doc: Any) -> None:
    """Depth, integer range and string checks over a parsed document (iterative: no recursion)."""
    stack = [(doc, 1)]
    while stack:
        v, depth = stack.pop()
        if isinstance(v, dict):
            items: Any = v.items()
        elif isinstance(v, list):
            items = ((None, x) for x in v)
        else:
            if isinstance(v, str):
                if not v.isascii() and _SURROGATE.search(v):
                    raise _Refused("a string holds a lone UTF-16 surrogate (not Unicode text)",
                                   "JSON \\u escapes must encode Unicode scalar values")
            elif isinstance(v, int) and not isinstance(v, bool) and not MIN_INT <= v <= MAX_INT:
                raise _Refused("an integer is out of range", _INT_HINT)
            elif isinstance(v, float):
                raise _Refused("a number is not an integer", "this format uses integers only")
            continue
        if depth > MAX_DEPTH:
            raise _Refused(f"it is nested more than {MAX_DEPTH} levels deep")
        for k, x in items:
            if k is not None and not k.isascii() and _SURROGATE.search(k):
                raise _Refused("a key holds a lone UTF-16 surrogate (not Unicode text)")
            stack.append((x, depth + 1))


def _text(data: bytes | bytearray | memoryview | str, what: str, limit: int) -> str:
    n = len(data)
    if n > limit:
        raise Malformed(f"{what} is too large ({n} bytes; the limit is {limit})", "is this the right file?")
    if isinstance(data, str):
        return data
    try:
        return bytes(data).decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(f"{what} is not UTF-8 text", "is this the right file?") from None


def parse_json(data: bytes | bytearray | memoryview | str, what: str = "document", *,
               limit: int = MAX_DOCUMENT) -> Any:
    """Parse untrusted JSON strictly: at most ``limit`` bytes of UTF-8, no duplicate keys, integers only
    (within -2^63 .. 2^64-1), no NaN/Infinity, strings of Unicode scalar values (no lone surrogates), nested at
    most MAX_DEPTH deep.  Any defect is one Malformed (exit 10) naming ``what``."""
    text = _text(data, what, limit)
    try:
        doc = json.loads(text, object_pairs_hook=_no_dupes, parse_float=_no_float,
                         parse_constant=_no_float, parse_int=_int)
        _walk(doc)
        return doc
    except json.JSONDecodeError as e:
        raise Malformed(f"{what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                        "is this the right file?") from None
    except RecursionError:
        raise Malformed(f"{what} is not valid JSON: it is nested more than {MAX_DEPTH} levels deep",
                        "is this the right file?") from None
    except _Refused as e:
        raise Malformed(f"{what} is not valid JSON: {e.message}", e.hint or "is this the right file?") from None


def parse_toml(data: bytes | bytearray | memoryview | str, what: str = "document", *,
               limit: int = MAX_DOCUMENT) -> dict[str, Any]:
    """Parse untrusted TOML with the limits of :func:`parse_json` (no floats either; TOML's own rules
    already refuse duplicate keys and surrogates).  Any defect is one Malformed naming ``what``."""
    import tomllib

    text = _text(data, what, limit)
    try:
        doc = tomllib.loads(text, parse_float=_no_float)
        _walk(doc)
        return doc
    except tomllib.TOMLDecodeError as e:
        raise Malformed(f"{what} is not valid TOML: {e}", "is this the right file?") from None
    except RecursionError:
        raise Malformed(f"{what} is not valid TOML: it is nested more than {MAX_DEPTH} levels deep",
                        "is this the right file?") from None
    except _Refused as e:
        raise Malformed(f"{what} is not valid TOML: {e.message}", e.hint or "is this the right file?") from None
    except ValueError:  # tomllib converts decimal integers with int(): past 4300 digits that raises
        raise Malformed(f"{what} is not valid TOML: an integer is out of range",
                        _INT_HINT) from None


# ---------------------------------------------------------------- typed fields

_KINDS: dict[str, tuple[type, ...]] = {"object": (dict,), "list": (list,), "string": (str,), "integer": (int,),
                                       "boolean": (bool,), "string or null": (str, type(None))}


def typed(value: Any, kind: str, what: str) -> Any:
    """``value`` when it is of JSON ``kind`` — "object", "list", "string", "integer", "boolean",
    "string or null", "non-empty string", "list of strings", "list of objects" — else Malformed
    ``"{what} must be a {kind}"``.  Integers exclude booleans.  Check every field of an untrusted
    document with this before using it."""
    ok: bool
    if kind == "non-empty string":
        ok = isinstance(value, str) and bool(value)
    elif kind.startswith("list of "):
        inner = kind[len("list of "):].rstrip("s")
        ok = isinstance(value, list) and all(_is(x, inner) for x in value)
    else:
        ok = _is(value, kind)
    if not ok:
        raise Malformed(f"{what} must be {'an' if kind[0] in 'aeiou' else 'a'} {kind}")
    return value


def _is(value: Any, kind: str) -> bool:
    if kind == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, _KINDS[kind])


def field(doc: dict[str, Any], key: str, kind: str, what: str) -> Any:
    """``doc[key]`` checked by :func:`typed` (missing counts as null); ``what`` names ``doc``."""
    return typed(doc.get(key), kind, f"{what}: {key}")


# ---------------------------------------------------------------- printing untrusted text

def printable(text: Any) -> str:
    """``text`` safe for a terminal: control characters, bidi overrides and every other non-printable
    character (lone surrogates included; bidi controls are format characters, so not printable) written as ``\\xNN``, ``\\uNNNN`` or ``\\UNNNNNNNN``.
    Every untrusted string (names, versions, ids, paths from bundles, messages, tarballs) goes through
    this before it is printed; ``ct`` applies it to every error line and to human output."""
    s = text if isinstance(text, str) else str(text)
    if s.isprintable():
        return s
    out = []
    for ch in s:
        if ch.isprintable():
            out.append(ch)
        else:
            o = ord(ch)
            out.append(f"\\x{o:02x}" if o < 0x100 else f"\\u{o:04x}" if o < 0x10000 else f"\\U{o:08x}")
    return "".join(out)


def quoted(text: str, limit: int = 40) -> str:
    """``text`` quoted (``repr``) for an error line, cut to its first ``limit`` characters and an
    ellipsis when longer (with its length), so a long argument is never echoed whole."""
    if len(text) <= limit:
        return repr(text)
    return f"{text[:limit] + '…'!r} ({len(text)} characters)"


def type_of(doc: Any) -> str:
    """What a document that is not of the expected type is, for the error line: 'it is not a JSON
    object', 'it has no "type" field', or 'its type is \'x\''."""
    if not isinstance(doc, dict):
        return "it is not a JSON object"
    if "type" not in doc:
        return 'it has no "type" field'
    return f"its type is {shown(doc['type'])}"


def shown(value: Any, limit: int = 40) -> str:
    """A JSON value from untrusted input, for an error line: a string :func:`quoted`, anything else as
    its canonical JSON cut to ``limit`` characters, or, when it has none (a float, a huge integer),
    what kind of value it is.  Never raises."""
    if isinstance(value, str):
        return quoted(value, limit)
    try:
        text = canonical_json(value).decode()
    except Exception:  # noqa: BLE001 - a value canonical JSON refuses is named by its kind
        kind = {float: "a number with a fraction", int: "a very long integer", list: "an array",
                dict: "an object"}.get(type(value), "a value")
        return f"({kind})"
    return text if len(text) <= limit else text[:limit] + "…"


def b64e(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64d(text: str, what: str = "value", size: int | None = None) -> bytes:
    """Strict base64 decode; ``size`` checks the decoded length."""
    if not isinstance(text, str):
        raise Malformed(f"{what} must be a base64 string")
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise Malformed(f"{what} is not valid base64") from None
    if b64e(raw) != text:
        raise Malformed(f"{what} is not canonical base64")
    if size is not None and len(raw) != size:
        raise Malformed(f"{what} must be {size} bytes, got {len(raw)}")
    return raw


def human_size(n: int) -> str:
    """``512 B``, ``1.5 KiB``, ``3.0 GiB``: sizes for people."""
    size = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if size < 1024 or unit == "TiB":
            return f"{n} B" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{n} B"


class Record:
    """A light value class: equality over its slots and a repr.

    Used instead of dataclasses for what ``ct verify`` loads: a dataclass costs
    about a millisecond to create at import, and verify of a small bundle must
    start fast.  ``_eq`` names the slots equality compares (default: all)."""

    __slots__ = ()
    _eq: tuple[str, ...] = ()

    def _fields(self) -> tuple[str, ...]:
        return self._eq or tuple(self.__slots__)

    def __eq__(self, other: object) -> bool:
        if type(other) is not type(self):
            return NotImplemented
        return all(getattr(self, k) == getattr(other, k) for k in self._fields())

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(" + ", ".join(f"{k}={getattr(self, k)!r}" for k in self.__slots__) + ")"


def pae(payload_type: str | bytes, body: bytes) -> bytes:
    """DSSE v1 Pre-Authentication Encoding.

    ``"DSSEv1" SP LEN(type) SP type SP LEN(body) SP body``, LEN = decimal byte
    length without leading zeros, type as UTF-8.
    """
    t = payload_type.encode("utf-8") if isinstance(payload_type, str) else bytes(payload_type)
    body = bytes(body)
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(body), body)
