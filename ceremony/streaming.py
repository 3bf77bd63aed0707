"""Reading a bundle's three lists of files as streams (``spec/bundle.md`` §Verification).

A bundle names every payload file three times: in ``manifest.toml`` (path, sha256, size, mode),
in the signed statement (name, sha256) and as tar members.  All three are sorted by the bytes of
the name, so they are checked by walking them in order, never by holding them: memory stays flat
however many files a bundle has.

* :class:`ManifestReader` reads ``manifest.toml`` chunk by chunk as it streams out of the tar.
* :func:`read_envelope_streamed` decodes a DSSE envelope's payload chunk by chunk into a
  :class:`StatementReader` (predicate kept, subjects checked and folded as they go by): the statement
  is never held.  Its signatures are checked over the PAE read again, as it goes by
  (:func:`pae_message`, a :class:`~cerro_torre.suites.suite.StreamedMessage`), each reading checked
  to give the statement first read.
* :func:`iter_subjects` walks the subjects of a statement held in memory (ct pack, ceremonies);
  :func:`read_envelope` decodes an envelope into the buffer its signatures are over (``ct attestations``).
* :class:`ListDigest` folds a list of (name, sha256[, size, mode]) into one digest, so that the
  verifier compares three lists by three digests; only when they differ does it walk them again
  side by side to name every difference.

Each reader accepts only the canonical form ct writes.  Anything else raises :class:`NotCanonical`
internally, and the caller hands the whole member (at most ``MAX_META``, the limit every member had
before streaming) to the strict whole-document parser, whose error message is what users see.
"""

from __future__ import annotations

import binascii
import hashlib
import os
import re
from collections.abc import Callable, Generator, Iterable, Iterator
from typing import Any

from cerro_torre.suites.encoding import parse_toml
from cerro_torre.suites.errors import Malformed
from cerro_torre.suites.jsonstream import NotCanonical, expect, skip_value, string_at, value_at

from .bundle import (
    FORMAT,
    FORMAT_VERSION,
    MAX_META,
    FileEntry,
    Manifest,
    _toml_table_body,
    check_path,
    parse_manifest,
)

MAX_MANIFEST = 1 << 30        # manifest.toml read as a stream (never held)
MAX_ENVELOPE = 256 << 20      # an envelope read as a stream
MODES = {b"0644": 0o644, b"0755": 0o755}


# ====================================================================== digests of lists

class ListDigest:
    """sha256 over a list of (name, sha256 hex[, size, mode]) records, each ``LEN:NAME SHA256[:SIZE:MODE];``
    with the name's byte length first (so no two lists give the same bytes)."""

    __slots__ = ("h", "count")

    def __init__(self) -> None:
        self.h = hashlib.sha256()
        self.count = 0

    def add(self, name: bytes, sha256: bytes, size: int = -1, mode: int = -1) -> None:
        if size >= 0:
            self.h.update(b"%d:%s%s:%d:%d;" % (len(name), name, sha256, size, mode))
        else:
            self.h.update(b"%d:%s%s;" % (len(name), name, sha256))
        self.count += 1

    def digest(self) -> bytes:
        return self.h.digest()


# ====================================================================== manifest.toml

_FILE = re.compile(rb'\[\[files\]\]\nmode = "(0644|0755)"\npath = "((?:[^"\\\x00-\x1f\x7f]|\\["\\])*)"\n'
                   rb'sha256 = "([0-9a-f]{64})"\nsize = (0|[1-9][0-9]{0,17})\Z')
_UNESCAPE = re.compile(rb'\\(["\\])')
_HEAD = b'format = "' + FORMAT.encode() + b'"\nformat_version = ' + str(FORMAT_VERSION).encode()


class ManifestReader:
    """Push parser of a canonical ``manifest.toml``: :meth:`feed` chunks, get the files they complete
    as (path bytes, path, sha256, size, mode); :meth:`close` returns the manifest without its files.

    The header, tables and layers are small and read with ``parse_toml`` section by section, each
    checked against its canonical re-encoding; ``[[files]]`` sections, the bulk, by one pattern
    that matches their canonical form only."""

    def __init__(self) -> None:
        self.carry = b""
        self.head: tuple[str, str, dict[str, Any], list[dict[str, Any]]] | None = None
        self.sections = 0
        self.tables: dict[str, dict[str, Any]] = {}
        self.layers: list[dict[str, Any]] = []
        self.artifacts: list[dict[str, Any]] = []
        self.last: bytes | None = None
        self.count = 0
        self.total = 0
        self.size = 0
        self.sha = hashlib.sha256()
        self.pairs = ListDigest()        # (path, sha256): what the statement lists
        self.entries = ListDigest()      # (path, sha256, size, mode): what the payload holds

    def feed(self, chunk: Any) -> list[tuple[bytes, str, str, int, int]]:
        self.sha.update(chunk)
        self.size += len(chunk)
        parts = (self.carry + bytes(chunk)).split(b"\n\n")
        self.carry = parts.pop()
        return [f for f in map(self._section, parts) if f is not None]

    def close(self) -> list[tuple[bytes, str, str, int, int]]:
        """The last file (if the last section is one) once the whole member was fed; then ``head`` is
        (name, version, source, layers)."""
        if not self.carry.endswith(b"\n") or self.carry.endswith(b"\n\n"):
            raise NotCanonical(self.size, "expected one final newline")
        last = self._section(self.carry[:-1])
        self.carry = b""
        if "source" not in self.tables:
            raise NotCanonical(self.size, "expected [package] and [source]")
        pkg = self.tables["package"]
        self.head = (pkg["name"], pkg["version"], self.tables["source"], self.layers)
        return [last] if last is not None else []

    def _section(self, sec: bytes) -> tuple[bytes, str, str, int, int] | None:
        n = self.sections
        self.sections += 1
        m = _FILE.match(sec)
        if m is not None:
            if "source" not in self.tables or self.layers:
                raise NotCanonical(self.size, "[[files]] out of place")
            raw = m.group(2)
            if b"\\" in raw:
                raw = _UNESCAPE.sub(rb"\1", raw)
            if self.last is not None and raw <= self.last:
                raise NotCanonical(self.size, "files not sorted")
            self.last = raw
            try:
                path = check_path(raw.decode("utf-8"))
            except (UnicodeDecodeError, Malformed):
                raise NotCanonical(self.size, "bad path") from None
            shab, size, mode = m.group(3), int(m.group(4)), MODES[m.group(1)]
            self.count += 1
            self.total += size
            self.pairs.add(raw, shab)
            self.entries.add(raw, shab, size, mode)
            return raw, path, shab.decode(), size, mode
        if n == 0:
            if sec != _HEAD:
                raise NotCanonical(0, "expected the format header")
            return None
        try:
            doc = parse_toml(sec, "manifest.toml section")   # the limits of spec/canonical.md
        except Malformed:
            raise NotCanonical(self.size, "section is not TOML") from None
        if n == 1 and set(doc) == {"package"}:
            pkg = doc["package"]
            if set(pkg) != {"name", "version"} or not all(isinstance(pkg[k], str) and pkg[k] for k in pkg):
                raise NotCanonical(self.size, "bad [package]")
            table = "package"
        elif n == 2 and set(doc) == {"source"} and isinstance(doc["source"], dict) \
                and isinstance(doc["source"].get("kind"), str):
            table = "source"
        elif n > 2 and set(doc) == {"artifacts"} and isinstance(doc["artifacts"], list) \
                and len(doc["artifacts"]) == 1 and isinstance(doc["artifacts"][0], dict) and not self.count \
                and not self.layers and isinstance(doc["artifacts"][0].get("path"), str) \
                and isinstance(doc["artifacts"][0].get("kind"), str):
            self.artifacts.append(doc["artifacts"][0])
            if self._encode(sec, "[[artifacts]]", doc["artifacts"][0]) != sec:
                raise NotCanonical(self.size, "artifact not canonical")
            return None
        elif n > 2 and set(doc) == {"layers"} and isinstance(doc["layers"], list) and len(doc["layers"]) == 1 \
                and _typed_layer(doc["layers"][0]):
            self.layers.append(doc["layers"][0])
            if self._encode(sec, "[[layers]]", doc["layers"][0]) != sec:
                raise NotCanonical(self.size, "layer not canonical")
            return None
        else:
            raise NotCanonical(self.size, "unexpected section")
        self.tables[table] = doc[table]
        if self._encode(sec, f"[{table}]", doc[table]) != sec:
            raise NotCanonical(self.size, f"[{table}] not canonical")
        return None

    @staticmethod
    def _encode(sec: bytes, title: str, table: Any) -> bytes:
        try:
            return "\n".join([title, *_toml_table_body(table, title)]).encode("utf-8")
        except (Malformed, UnicodeError):
            raise NotCanonical(0, "not canonical") from None


def read_manifest(chunks: Iterable[Any], label: str, whole: Callable[[], bytes | None]) -> ManifestReader:
    """Stream ``chunks`` of ``manifest.toml`` through a :class:`ManifestReader` (files checked and folded
    into its digests, not kept).  Not canonical: the whole member (``whole()``, None when over
    ``MAX_META``) goes to :func:`~cerro_torre.ceremony.bundle.parse_manifest`, whose error is raised."""
    rd = ManifestReader()
    try:
        for chunk in chunks:
            rd.feed(chunk)
        rd.close()
    except NotCanonical:
        data = whole()
        if data is None:
            raise Malformed(f"{label} is larger than {MAX_META} bytes and not in canonical form",
                            "manifests are written by ct (spec/canonical.md); was it edited?") from None
        parse_manifest(data, label)   # raises the precise error
        raise Malformed(f"{label} is not in canonical form",
                        "manifests are written by ct (spec/canonical.md); was it edited?") from None
    return rd


class FileList:
    """The ``[[files]]`` of a manifest read from a bundle: their number and total size, and the
    entries themselves read again on each iteration (never held) from ``path`` at ``offset``
    (``data`` instead when the bundle could not be read twice).  An iteration that reads other
    bytes than the first reading did (the file changed) raises Malformed."""

    def __init__(self, count: int, total: int, sha256: str, label: str, path: str = "", offset: int = 0,
                 size: int = 0, data: bytes | None = None) -> None:
        self.count = count
        self.total_size = total
        self.sha256 = sha256
        self.label = label
        self.path, self.offset, self.size, self.data = path, offset, size, data

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[FileEntry]:
        for _raw, path, sha, size, mode in self.iter_raw():
            yield FileEntry(path, sha, size, mode)

    def iter_raw(self) -> Iterator[tuple[bytes, str, str, int, int]]:
        rd = ManifestReader()
        chunks = slices(self.data) if self.data is not None else file_chunks(self.path, self.offset, self.size)
        try:
            for chunk in chunks:
                yield from rd.feed(chunk)
            yield from rd.close()
        except NotCanonical:
            pass
        if rd.sha.hexdigest() != self.sha256:
            raise Malformed(f"{self.label} changed while it was being read",
                            "something is writing to the bundle; verify a copy that nothing changes")


def file_chunks(path: str, offset: int, size: int, step: int = 256 << 10) -> Iterator[bytes]:
    """``size`` bytes of ``path`` from ``offset``, in chunks (a member's data, read again)."""
    with open(path, "rb", buffering=0) as f:
        while size > 0:
            data = os.pread(f.fileno(), min(step, size), offset)
            if not data:
                raise Malformed(f"{os.path.basename(path)} is truncated (member data cut short)")
            offset += len(data)
            size -= len(data)
            yield data


def slices(data: bytes, size: int = 256 << 10) -> Iterator[memoryview]:
    """``data`` in views of ``size`` bytes (a reader fed a whole member at once would split it all at once)."""
    view = memoryview(data)
    for i in range(0, len(view), size):
        yield view[i:i + size]


def whole_member(path: str, offset: int, size: int, limit: int = MAX_META) -> bytes | None:
    return b"".join(file_chunks(path, offset, size)) if size <= limit else None


# ====================================================================== the statement

_SUBJECT = re.compile(rb'\{"digest":\{"sha256":"([0-9a-f]{64})"\},"name":')


def statement_prefix(predicate_type: str) -> tuple[bytes, bytes]:
    """The bytes of a canonical statement before its predicate, and those between the predicate and the
    first subject."""
    from cerro_torre.suites.encoding import canonical_json

    from .statement import STATEMENT_TYPE

    return (b'{"_type":"' + STATEMENT_TYPE.encode() + b'","predicate":',
            b',"predicateType":' + canonical_json(predicate_type) + b',"subject":[')


def read_statement_head(stmt: Any, release: bool = True) -> tuple[Any, str, int]:
    """(predicate, predicate type, position of the first subject) of a canonical release statement;
    ``release`` False: of any predicate type (an attestation), its predicate checked but not built
    (None is returned for it: an SBOM's can list 10,000 files)."""
    from .statement import PREDICATE_TYPE

    head, mid = statement_prefix(PREDICATE_TYPE)
    pos = expect(stmt, 0, head)
    if stmt[pos:pos + 1] != b"{":
        raise NotCanonical(pos, "predicate must be an object")
    if release:
        predicate, pos = value_at(stmt, pos)
        return predicate, PREDICATE_TYPE, expect(stmt, pos, mid)
    pos = expect(stmt, skip_value(stmt, pos, max_len=MAX_META), b',"predicateType":')
    _raw, ptype, pos = string_at(stmt, pos)
    return None, ptype, expect(stmt, pos, b',"subject":[')


def _subject_at(stmt: Any, pos: int) -> tuple[bytes, str, str, int, bool]:
    """(name bytes, name, sha256, position after the separator, it was the last) of the subject at ``pos``.
    Raises NotCanonical (also when ``stmt`` ends inside it)."""
    m = _SUBJECT.match(stmt, pos)
    if m is None:
        raise NotCanonical(pos, "expected a subject")
    raw, name, pos = string_at(stmt, m.end())
    pos = expect(stmt, pos, b"}")
    sep = stmt[pos:pos + 1]
    if sep != b"," and sep != b"]":
        raise NotCanonical(pos, "expected , or ]")
    return raw, name, m.group(1).decode(), pos + 1, sep == b"]"


def iter_subjects(stmt: Any, pos: int) -> Iterator[tuple[bytes, str, str]]:
    """(name bytes, name, sha256) of every subject from ``pos``; sorted, unique; the statement must end
    after them.  Raises NotCanonical."""
    last = None
    end = stmt[pos:pos + 1] == b"]"
    pos += end
    while not end:
        raw, name, sha, pos, end = _subject_at(stmt, pos)
        if last is not None and raw <= last:
            raise NotCanonical(pos, "subjects not sorted")
        last = raw
        yield raw, name, sha
    if stmt[pos:len(stmt)] != b"}":
        raise NotCanonical(pos, "expected the end of the statement")


_HEAD_END = b',"subject":['
_BRACKET = re.compile(rb'["{}\[\]]')
_STRING_REST = re.compile(rb'[^"\\]*(?:\\.[^"\\]*)*', re.S)


class StatementReader:
    """Push parser of a canonical statement fed in pieces (as its envelope is decoded): the head (``_type``,
    predicate, ``predicateType``; at most MAX_META bytes) is parsed once it is complete, then each subject
    is checked (sorted, unique), folded into :attr:`subjects` and returned by the :meth:`feed` that
    completed it; :attr:`sha` and :attr:`length` are of every byte fed.  Only a part of one subject is
    ever held.  ``release`` False: any predicate type, the predicate checked but not built (an
    attestation).  Raises NotCanonical."""

    def __init__(self, release: bool = True) -> None:
        self.release = release
        self.buf: Any = bytearray()  # the head, then bytes: what is left of the subject being read
        self.scan = 0                # how far the head was scanned
        self.in_string = False
        self.depth = 0
        self.end: int | None = None  # where the predicate ends
        self.head: tuple[Any, str] | None = None     # (predicate, predicate type)
        self.ended = False                           # the subjects' closing ] was read
        self.last: bytes | None = None
        self.subjects = ListDigest()
        self.sha = hashlib.sha256()
        self.length = 0

    def feed(self, piece: Any) -> list[tuple[bytes, str, str]]:
        self.sha.update(piece)
        self.length += len(piece)
        if self.head is None:
            self.buf.extend(piece)        # the head grows in place
        else:
            self.buf += bytes(piece)
        return self._run(False)

    def close(self) -> list[tuple[bytes, str, str]]:
        out = self._run(True)
        if not self.ended or self.buf != b"}":
            raise NotCanonical(self.length, "expected the end of the statement")
        return out

    def _find_head(self, final: bool) -> bool:
        """Find where the predicate ends by its brackets, outside strings (scanned once, from where the last
        feed stopped), then parse the head whole once it is complete."""
        buf = self.buf
        if self.end is None:
            if self.scan == 0:
                start = statement_prefix("")[0]
                if len(buf) <= len(start):
                    if final:
                        raise NotCanonical(0, "statement cut short")
                    return False
                self.scan = expect(buf, 0, start)
                if buf[self.scan:self.scan + 1] != b"{":
                    raise NotCanonical(self.scan, "predicate must be an object")
            pos = self.scan
            while self.end is None:
                if self.in_string:
                    m = _STRING_REST.match(buf, pos)
                    pos = m.end()
                    if buf[pos:pos + 1] != b'"':
                        break               # the string goes on in the next piece
                    pos += 1
                    self.in_string = False
                    continue
                m = _BRACKET.search(buf, pos)
                if m is None:
                    pos = len(buf)
                    break
                pos = m.end()
                c = m.group()
                if c == b'"':
                    self.in_string = True
                elif c in b"{[":
                    self.depth += 1
                else:
                    self.depth -= 1
                    if self.depth <= 0:
                        self.end = pos
            self.scan = pos
        if self.end is not None:
            at = buf.find(_HEAD_END, self.end)
            if at >= 0:
                end = at + len(_HEAD_END)
                with memoryview(buf) as view:     # parsed in place (an SBOM's predicate is megabytes)
                    predicate, ptype, start = read_statement_head(view[:end], self.release)
                if start != end:
                    raise NotCanonical(start, "expected the subjects of the statement")
                self.head = (predicate, ptype)
                self.buf = bytes(buf[end:])
                return True
        if final:
            raise NotCanonical(len(buf), "statement cut short")
        return False

    def _run(self, final: bool) -> list[tuple[bytes, str, str]]:
        if self.head is None and not self._find_head(final):
            return []
        out = []
        buf, pos = self.buf, 0
        while not self.ended:
            if not self.subjects.count and buf[:1] == b"]":
                pos, self.ended = 1, True
                break
            try:
                raw, name, sha, nxt, self.ended = _subject_at(buf, pos)
            except NotCanonical:
                if final or len(buf) - pos > MAX_META:
                    raise
                break       # the rest of this subject is still to come
            if self.last is not None and raw <= self.last:
                raise NotCanonical(pos, "subjects not sorted")
            self.last = raw
            self.subjects.add(raw, sha.encode())
            out.append((raw, name, sha))
            pos = nxt
        self.buf = buf[pos:]
        return out


class Subjects:
    """A statement's subjects read as a stream: their count and digest; walked again on demand
    (``walk()``: an iterator of (name bytes, name, sha256))."""

    def __init__(self, walk: Callable[[], Iterator[tuple[bytes, str, str]]], count: int, digest: bytes) -> None:
        self.walk = walk
        self.count = count
        self.digest = digest

    def __len__(self) -> int:
        return self.count

    def __iter__(self) -> Iterator[Any]:
        from .statement import Subject

        for _raw, name, sha in self.iter_raw():
            yield Subject(name, sha)

    def iter_raw(self) -> Iterator[tuple[bytes, str, str]]:
        """(name as UTF-8 bytes, name, sha256) of every subject, in order."""
        return self.walk()


def read_statement(stmt: Any, what: str, release: bool = True) -> Any:
    """A :class:`~cerro_torre.ceremony.statement.Statement` over the buffer ``stmt`` (not copied): the
    predicate parsed, the subjects checked (canonical, sorted, unique) and folded into a digest,
    not kept.  ``release`` False: any predicate type (an attestation), its predicate checked but not
    built (``predicate`` is None).  Not canonical: the strict whole-document parser's error
    (``parse_statement``)."""
    from .statement import PREDICATE_TYPE, Statement, parse_statement

    try:
        predicate, ptype, start = read_statement_head(stmt, release)
        d = ListDigest()
        for raw, _name, sha in iter_subjects(stmt, start):
            d.add(raw, sha.encode())
    except NotCanonical:
        if len(stmt) <= MAX_META:   # raises the precise error
            parse_statement(bytes(stmt), what, predicate_type=PREDICATE_TYPE if release else None)
        raise Malformed(f"{what} is not canonical JSON", "statements are written by ct; was it edited?") from None
    return Statement(Subjects(lambda: iter_subjects(stmt, start), d.count, d.digest()), predicate, ptype, stmt)


# ====================================================================== the DSSE envelope

_B64 = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
PAE_ROOM = 64


def read_envelope(chunks: Iterable[Any], size: int, what: str, whole: Callable[[], bytes | None]) -> tuple[Any, Any]:
    """(Envelope, PAE) of the envelope member streamed as ``chunks`` (``size`` bytes).

    The payload's base64 is decoded chunk by chunk into one buffer laid out as the DSSE PAE, so the
    statement is held once: ``Envelope.payload`` and the returned PAE are views of that buffer.  An
    envelope not in the layout ct writes (``{"payload":"<standard base64>","payloadType":…``) is
    read whole (``whole()``, None over ``MAX_META``) by ``Envelope.from_bytes``, as always."""
    from .statement import Envelope

    try:
        buf, n, tail = _decode_payload(iter(chunks), size)
        rest = _fields_after_payload(tail, what)
    except NotCanonical:
        env = _whole_envelope(whole, what)
        return env, env.pae()
    view = memoryview(buf)
    payload = view[PAE_ROOM:PAE_ROOM + n]
    env = Envelope.from_fields(rest, lambda: payload, what)
    t = env.payload_type.encode("utf-8")
    prefix = b"DSSEv1 %d %s %d " % (len(t), t, n)       # suites.encoding.pae, without the body
    start = PAE_ROOM - len(prefix)
    if start < 0:
        raise Malformed(f"{what}: payload type is too long")
    buf[start:PAE_ROOM] = prefix
    return env, view[start:PAE_ROOM + n]


def _fields_after_payload(tail: bytes, what: str) -> dict[str, Any]:
    """payloadType and signatures of an envelope laid out as ct writes it, from the bytes after its payload."""
    from cerro_torre.suites.encoding import parse_json

    if not tail.startswith(b',"payloadType":'):
        raise NotCanonical(0, "expected payloadType after the payload")
    try:
        rest = parse_json(b"{" + tail[1:], what)
    except Malformed:
        raise NotCanonical(0, "not JSON after the payload") from None
    if not isinstance(rest, dict) or set(rest) != {"payloadType", "signatures"}:
        raise NotCanonical(0, "unexpected fields")
    return rest


def _whole_envelope(whole: Callable[[], bytes | None], what: str) -> Any:
    """An envelope not laid out as ct writes it, read whole (at most MAX_META) by ``Envelope.from_bytes``."""
    from .statement import Envelope

    data = whole()
    if data is None:
        raise Malformed(f"{what} is larger than {MAX_META} bytes and not in the form ct writes") from None
    return Envelope.from_bytes(data, what)


def _decode_payload(chunks: Iterator[Any], size: int) -> tuple[bytearray, int, bytes]:
    """(buffer with the payload decoded from PAE_ROOM on, its length, the envelope's bytes after it)."""
    buf = bytearray(PAE_ROOM + size * 3 // 4 + 3)
    n = PAE_ROOM
    pieces = decoded_payload(chunks)
    while True:
        try:
            out = next(pieces)
        except StopIteration as stop:
            rest = stop.value
            break
        buf[n:n + len(out)] = out
        n += len(out)
    del buf[n:]
    return buf, n - PAE_ROOM, rest


def decoded_payload(chunks: Iterator[Any]) -> Generator[bytes, None, bytes]:
    """The payload of a canonical envelope streamed as ``chunks``, decoded from base64 piece by piece;
    returns the envelope's bytes after it.  Raises NotCanonical."""
    head = b""
    for chunk in chunks:
        head += bytes(chunk)
        if len(head) >= 12:
            break
    pos = expect(head, 0, b'{"payload":"')
    carry = b""
    tail = None
    pieces = _pieces(_then(head[pos:], chunks))
    for data in pieces:
        q = data.find(b'"')
        if q >= 0:
            data, tail = data[:q], data[q + 1:]
        if data.translate(None, _B64 + b"="):
            raise NotCanonical(0, "payload is not standard base64")
        carry += data
        eq = carry.find(b"=")
        upto = len(carry) if eq < 0 else eq
        cut = upto - upto % 4
        if cut:
            yield binascii.a2b_base64(carry[:cut])
            carry = carry[cut:]
        if len(carry) > 4:
            raise NotCanonical(0, "padding inside the payload")
        if tail is not None:
            break
    if tail is None:
        raise NotCanonical(0, "payload string does not end")
    if carry:      # the last quantum: XYZ= or XY==
        if len(carry) != 4 or carry[:2].count(b"=") or carry[2:3] == b"=" and carry[3:] != b"=":
            raise NotCanonical(0, "payload padding")
        yield binascii.a2b_base64(carry)
    return tail + b"".join(pieces)


def statement_pieces(chunks: Callable[[], Iterable[Any]], whole: Callable[[], bytes | None], sha256: str,
                     what: str, changed: str) -> Callable[[], Iterator[bytes]]:
    """A function giving, on each call, the statement (``sha256``) of an envelope member read once already,
    decoded again piece by piece (``chunks()``; the whole member through ``Envelope.from_bytes`` when it
    is not in the layout ct writes); Malformed(``changed``) at the end of a reading that gave other bytes."""

    def pieces() -> Iterator[bytes]:
        h = hashlib.sha256()
        started = False
        try:
            for piece in decoded_payload(iter(chunks())):
                started = True
                h.update(piece)
                yield piece
        except NotCanonical:
            if started:
                raise Malformed(changed, _CHANGED_HINT) from None
            payload = _whole_envelope(whole, what).payload
            h.update(payload)
            yield payload
        if h.hexdigest() != sha256:
            raise Malformed(changed, _CHANGED_HINT)

    return pieces


_CHANGED_HINT = "something is writing to the bundle; verify a copy that nothing changes"


def pae_message(pieces: Callable[[], Iterable[Any]], length: int) -> Any:
    """The DSSE PAE over a statement of ``length`` bytes given by ``pieces()``, as a StreamedMessage."""
    from cerro_torre.suites.suite import StreamedMessage

    from .statement import PAYLOAD_TYPE

    t = PAYLOAD_TYPE.encode()
    prefix = b"DSSEv1 %d %s %d " % (len(t), t, length)     # suites.encoding.pae, without the body

    def gen() -> Iterator[Any]:
        yield prefix
        yield from pieces()

    return StreamedMessage(gen)


def read_envelope_streamed(chunks: Iterable[Any], what: str, whole: Callable[[], bytes | None],
                           again: tuple[Callable[[], Iterable[Any]], Callable[[], bytes | None]],
                           stmt_what: str, changed: str, release: bool = True) -> tuple[Any, Any]:
    """(Envelope without its payload, :class:`StreamedStatement`) of an envelope member streamed as
    ``chunks``: its statement decoded piece by piece into a :class:`StatementReader`, never held.
    ``again``: (chunks, whole) of the same member, to read it again (signatures, subjects, stock).
    An envelope or statement not in the layout ct writes is read whole (``whole()``, None over MAX_META)
    by ``Envelope.from_bytes`` and :func:`read_statement`, whose precise errors are raised."""
    from .statement import Envelope

    try:
        rd = StatementReader(release)
        pieces = decoded_payload(iter(chunks))
        while True:
            try:
                rd.feed(next(pieces))
            except StopIteration as stop:
                tail = stop.value
                break
        rd.close()
        rest = _fields_after_payload(tail, what)
    except NotCanonical:
        env = _whole_envelope(whole, what)
        rd = StatementReader(release)
        try:
            for piece in slices(env.payload):
                rd.feed(piece)
            rd.close()
        except NotCanonical:
            read_statement(env.payload, stmt_what, release)   # raises the precise error
            raise Malformed(f"{stmt_what} is not canonical JSON",
                            "statements are written by ct; was it edited?") from None
        env.payload = b""
        return env, StreamedStatement(rd, statement_pieces(*again, rd.sha.hexdigest(), what, changed), changed)
    env = Envelope.from_fields(rest, lambda: b"", what)
    return env, StreamedStatement(rd, statement_pieces(*again, rd.sha.hexdigest(), what, changed), changed)


class StreamedStatement:
    """A statement read as a stream (:class:`StatementReader`) and not held: its predicate and type, its
    sha256 and length, its subjects' count and digest; ``pieces()`` reads its bytes again (checked at the
    end: Malformed ``changed`` otherwise), :meth:`message` is the PAE its signatures are over, and
    ``subjects`` are walked again from those pieces."""

    raw = b""       # never held

    def __init__(self, rd: StatementReader, pieces: Callable[[], Iterator[bytes]], changed: str) -> None:
        self.predicate, self.predicate_type = rd.head   # type: ignore[misc]
        self.sha256 = rd.sha.hexdigest()
        self.length = rd.length
        self.pieces = pieces
        release = rd.release     # the walk must not hold self (a cycle would keep the pieces' buffers alive)
        self.subjects = Subjects(lambda: _walk(pieces, release, changed), rd.subjects.count, rd.subjects.digest())

    @property
    def package(self) -> tuple[str, str]:
        from .statement import Statement

        return Statement.package.fget(self)     # type: ignore[attr-defined]

    def message(self) -> Any:
        return pae_message(self.pieces, self.length)

    def digests(self) -> dict[str, str]:
        return {name: sha for _raw, name, sha in self.subjects.iter_raw()}


def _walk(pieces: Callable[[], Iterator[bytes]], release: bool, changed: str) -> Iterator[tuple[bytes, str, str]]:
    """The subjects of a statement read again from ``pieces()``."""
    rd = StatementReader(release)
    try:
        for piece in pieces():
            yield from rd.feed(piece)
        yield from rd.close()
    except NotCanonical:
        raise Malformed(changed, _CHANGED_HINT) from None


def envelope_chunks(statement: StreamedStatement, signatures: list[Any]) -> tuple[int, Iterator[bytes]]:
    """(size, bytes in pieces) of the canonical envelope of ``statement`` with ``signatures``
    (``Envelope.to_bytes``), its base64 made as the statement is read again, never held."""
    import base64

    from .statement import PAYLOAD_TYPE, Envelope

    head, tail = Envelope(b"", PAYLOAD_TYPE).with_signatures(signatures).around_payload()   # sorted, as always

    def gen() -> Iterator[bytes]:
        yield head
        carry = b""
        for piece in statement.pieces():
            for data in _pieces([piece], 3 << 16):      # an SBOM's predicate is one piece of megabytes
                data = carry + data
                cut = len(data) - len(data) % 3
                carry = data[cut:]
                yield base64.b64encode(data[:cut])
        yield base64.b64encode(carry)
        yield tail

    return len(head) + 4 * ((statement.length + 2) // 3) + len(tail), gen()


def _then(first: bytes, rest: Iterator[Any]) -> Iterator[Any]:
    if first:
        yield first
    yield from rest


def _pieces(chunks: Iterable[Any], size: int = 64 << 10) -> Iterator[bytes]:
    """The chunks as bytes of at most ``size`` (copies of a whole 1 MiB chunk would stack up on top of
    the statement being decoded)."""
    for chunk in chunks:
        view = memoryview(chunk)
        for i in range(0, len(view), size):
            yield bytes(view[i:i + size])


# ====================================================================== writing the lists (ct pack)

_PLAIN_NAME = re.compile(r'[^"\\\x00-\x1f]*\Z')


class PackLists:
    """``manifest.toml`` and the statement's subjects, written file by file to two temporary files
    beside the bundle (a list of 100,000 files is never held), then read back: the manifest into the
    tar, the subjects into the buffer that is signed.  Every byte is what ``canonical_toml`` and
    ``make_statement`` make of the whole lists (``spec/vectors/bundle`` checks it)."""

    def __init__(self, folder: str, name: str, version: str, source: dict[str, Any],
                 layers: list[dict[str, Any]], artifacts: list[dict[str, Any]] | None = None) -> None:
        import tempfile

        from .bundle import canonical_toml

        self.layers = layers
        self.manifest = tempfile.TemporaryFile(dir=folder, prefix=".ct-manifest-")
        self.subjects = tempfile.TemporaryFile(dir=folder, prefix=".ct-subjects-")
        self.sha = hashlib.sha256()
        self.count = 0
        self.total = 0
        self.last: bytes | None = None
        head: dict[str, Any] = {"format": FORMAT, "format_version": FORMAT_VERSION,
                                "package": {"name": name, "version": version}, "source": dict(source)}
        if artifacts:
            head["artifacts"] = [dict(a) for a in artifacts]    # [[artifacts]] sort before [[files]]
        self._put(canonical_toml(head)[:-1])

    def _put(self, data: bytes) -> None:
        self.sha.update(data)
        self.manifest.write(data)

    def add(self, path: str, sha256: str, size: int, mode: int) -> None:
        from cerro_torre.suites.encoding import canonical_json

        raw = path.encode("utf-8")
        if self.last is not None and raw <= self.last:
            if raw == self.last:
                raise Malformed("the source holds two files with the same path")
            raise ValueError(f"payload files out of order at {path!r}")
        self.last = raw
        entry = FileEntry(path, sha256, size, mode).to_toml()
        self._put(("\n\n[[files]]\n" + "\n".join(_toml_table_body(entry, f"files[{self.count}]"))).encode("utf-8"))
        if _PLAIN_NAME.match(path):
            subject = b'{"digest":{"sha256":"%s"},"name":"%s"}' % (sha256.encode(), raw)
        else:
            subject = canonical_json({"digest": {"sha256": sha256}, "name": path})
        self.subjects.write(subject if not self.count else b"," + subject)
        self.count += 1
        self.total += size

    def close(self) -> None:
        """Write the layers and the final newline."""
        for i, layer in enumerate(self.layers):
            self._put(("\n\n[[layers]]\n" + "\n".join(_toml_table_body(dict(layer), f"layers[{i}]"))).encode("utf-8"))
        self._put(b"\n")
        self.manifest.flush()
        self.subjects.flush()
        self.manifest_size = self.manifest.tell()
        self.subjects_size = self.subjects.tell()
        self.manifest_sha256 = self.sha.hexdigest()

    def manifest_read(self, name: str, version: str, source: dict[str, Any], artifacts: Any) -> Any:
        """The manifest written, as a :class:`Manifest` whose files are read from the temporary file on
        demand (Linux: through /proc/self/fd)."""

        files = FileList(self.count, self.total, self.manifest_sha256, "manifest.toml",
                         f"/proc/self/fd/{self.manifest.fileno()}", 0, self.manifest_size)
        return Manifest(name, version, source, files, self.layers, artifacts=artifacts)  # type: ignore[arg-type]

    def manifest_file(self) -> Any:
        self.manifest.seek(0)
        return self.manifest

    def entries(self) -> Iterator[tuple[bytes, str, str, int, int]]:
        """The files as written, read back through the verifier's reader (what we write, we can read)."""
        self.manifest.seek(0)
        rd = ManifestReader()
        try:
            while chunk := self.manifest.read(256 << 10):
                yield from rd.feed(chunk)
            yield from rd.close()
        except NotCanonical as e:
            raise Malformed(f"the manifest ct wrote does not read back ({e})") from None

    def statement(self, predicate: dict[str, Any] | bytes | bytearray, predicate_type: str = "") -> StreamedStatement:
        """The statement over every file, never held: its bytes made again on each reading from the
        temporary list of subjects; read once here, through the verifier's reader, for its sha256 and
        subjects (what we write, we can read).  A release statement, or with ``predicate_type`` an
        attestation's.  ``predicate`` is a dict, or its canonical JSON (an SBOM's, made a file at a time)."""
        from cerro_torre.suites.encoding import canonical_json

        from .statement import PREDICATE_TYPE

        head, mid = statement_prefix(predicate_type or PREDICATE_TYPE)
        pred = predicate if isinstance(predicate, (bytes, bytearray)) else canonical_json(predicate)
        subjects = f"/proc/self/fd/{self.subjects.fileno()}"

        def pieces() -> Iterator[Any]:
            yield from (head, pred, mid)
            yield from file_chunks(subjects, 0, self.subjects_size)
            yield b"]}"

        rd = StatementReader(release=not predicate_type)
        try:
            for piece in pieces():
                rd.feed(piece)
            rd.close()
        except NotCanonical as e:
            raise Malformed(f"the statement ct wrote does not read back ({e})") from None
        return StreamedStatement(rd, pieces, "the statement ct wrote changed")

    def __enter__(self) -> PackLists:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.manifest.close()
        self.subjects.close()


def _typed_layer(layer: Any) -> bool:
    """A layer table whose fields have the types ``ct explain --layers`` formats (else the whole-manifest
    parser names the field)."""
    return isinstance(layer, dict) and isinstance(layer.get("digest"), str) \
        and isinstance(layer.get("size"), int) and not isinstance(layer.get("size"), bool) \
        and all(isinstance(layer[k], str) for k in ("media_type", "platform") if k in layer)
