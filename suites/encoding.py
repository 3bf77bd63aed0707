"""Canonical encodings shared by every format (``spec/canonical.md``).

Canonical JSON: UTF-8, object keys sorted by code point, no insignificant
white space, integers only (no floats), no duplicate keys on input.  Binary
values are standard base64 with padding (RFC 4648 §4), decoded strictly.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Iterator
from typing import Any

from .errors import Malformed


def _check(obj: Any, path: str = "$") -> None:
    if isinstance(obj, bool) or obj is None or isinstance(obj, str):
        return
    if isinstance(obj, int):
        return
    if isinstance(obj, float):
        raise Malformed(f"float at {path} cannot be encoded canonically", "use integers or strings")
    if isinstance(obj, dict):
        for k, v in obj.items():
            if not isinstance(k, str):
                raise Malformed(f"non-string key at {path}")
            _check(v, f"{path}.{k}")
        return
    if isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            _check(v, f"{path}[{i}]")
        return
    raise Malformed(f"value of type {type(obj).__name__} at {path} cannot be encoded canonically")


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


def _no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in pairs:
        if k in out:
            raise Malformed(f"duplicate key {k!r} in JSON")
        out[k] = v
    return out


def _no_float(s: str) -> Any:
    raise Malformed(f"float {s} not allowed in JSON", "this format uses integers only")


def parse_json(data: bytes | str, what: str = "document") -> Any:
    """Parse JSON strictly: no duplicate keys, no floats, no NaN."""
    try:
        if isinstance(data, bytes):
            data = data.decode("utf-8")
        return json.loads(
            data,
            object_pairs_hook=_no_dupes,
            parse_float=_no_float,
            parse_constant=_no_float,
        )
    except UnicodeDecodeError:
        raise Malformed(f"{what} is not UTF-8 text", "is this the right file?") from None
    except json.JSONDecodeError as e:
        raise Malformed(f"{what} is not valid JSON: {e.msg} at line {e.lineno} column {e.colno}",
                        "is this the right file?") from None


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
