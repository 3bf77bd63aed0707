"""The ``.ctp`` bundle: a deterministic tar (``spec/bundle.md``).

Members, in byte order of their names (which is also the order below)::

    manifest.toml                    canonical TOML (spec/canonical.md)
    payload/<path> ...               the payload files, sorted
    signatures/release.dsse.json     DSSE envelope of the in-toto statement
    signatures/keyholders/<epoch>.json   keyholder-set chain (group-signed bundles)
    signatures/keys/<id>.pub         the signer's public key (single-holder bundles)
    signatures/stock.json            signatures for signify / minisign / ssh-keygen

Every member is a regular file with mtime 0, uid/gid 0, empty owner names
and mode 0644 (0755 for an executable payload file).  Headers are POSIX
ustar; a name longer than 100 bytes or not ASCII, or a size of 8 GiB or
more, gets a pax ``x`` header.  The archive ends with two zero blocks and
nothing else.

The reader here is strict and streaming: it never seeks backwards, holds
one chunk of member data at a time, and rejects anything that is not a
regular file, a pax ``x`` header for the next member, names out of order,
duplicates, paths that escape the bundle, truncation and trailing data.
"""

from __future__ import annotations

import contextlib
import hashlib
import mmap
import os
import re
import stat
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from cerro_torre.suites.encoding import field, parse_toml, quoted, typed
from cerro_torre.suites.errors import CTError, HashMismatch, Malformed, UsageError
from cerro_torre.suites.progress import NULL, Progress

from .statement import Record

BLOCK = 512
CHUNK = 1 << 20
MMAP_WINDOW = 16 << 20
FORMAT = "ct-bundle"
FORMAT_VERSION = 1
MANIFEST = "manifest.toml"
PAYLOAD_DIR = "payload/"
SIGNATURES_DIR = "signatures/"
ENVELOPE = "signatures/release.dsse.json"
STOCK = "signatures/stock.json"
KEYHOLDERS_DIR = "signatures/keyholders/"
KEYS_DIR = "signatures/keys/"
MAX_META = 16 << 20          # a member read whole (larger manifest.toml and envelopes: see streaming.py)
MAX_MEMBERS = 1_000_000
USTAR_MAX_SIZE = 8 ** 11 - 1
MODE_FILE = 0o644
MODE_EXEC = 0o755

_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_PLAIN_PATH = re.compile(r"[A-Za-z0-9_+-][A-Za-z0-9_.+-]*(?:/[A-Za-z0-9_+-][A-Za-z0-9_.+-]*)*\Z")


# ====================================================================== package name and version

def check_label(flag: str, value: str, exc: type[CTError] = Malformed) -> str:
    """``value`` of the package's ``--name`` or ``--version`` if it is 1-200 characters without control
    characters, else ``exc`` (UsageError for a command-line argument, Malformed for a default taken
    from the source's name)."""
    if not value or _CTRL.search(value) or len(value) > 200:
        raise exc(f"{flag} {quoted(value)} must be 1-200 printable characters",
                  f"give {flag} on one line without control characters, e.g. "
                  + ("--name coop-tools" if flag == "--name" else "--version 1.2.0"))
    return value


# ====================================================================== paths

def check_path(name: str, what: str = "path") -> str:
    """A relative, normalized, printable POSIX path; raises Malformed otherwise."""
    if isinstance(name, str) and _PLAIN_PATH.match(name):
        return name     # the common case: ASCII segments that do not start with a dot
    if not isinstance(name, str) or not name:
        raise Malformed(f"{what} is empty")
    if _CTRL.search(name):
        raise Malformed(f"{what} {name!r} contains control characters")
    if name.startswith("/"):
        raise Malformed(f"{what} {name!r} is absolute", "bundle members are relative paths")
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise Malformed(f"{what} {name!r} leaves the bundle or is not normalized",
                        "members may not contain '..', '.', or empty path segments")
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise Malformed(f"{what} {name!r} is not valid UTF-8") from None
    return name


def sort_key(name: str) -> bytes:
    return name.encode("utf-8")


# ====================================================================== tar writer

def _octal(value: int, width: int) -> bytes:
    """``width``-byte field: zero-padded octal digits and a NUL."""
    s = b"%0*o" % (width - 1, value)
    if len(s) > width - 1:
        raise ValueError("value too large for field")
    return s + b"\0"


def _pax_record(key: str, value: str) -> bytes:
    body = f" {key}={value}\n".encode("utf-8")
    n = len(body) + 1
    while len(str(n).encode()) + len(body) != n:
        n = len(str(n).encode()) + len(body)
    return str(n).encode() + body


def _header(name: bytes, size: int, mode: int, typeflag: bytes) -> bytes:
    h = bytearray(BLOCK)
    h[0:len(name)] = name
    h[100:108] = _octal(mode, 8)
    h[108:116] = _octal(0, 8)
    h[116:124] = _octal(0, 8)
    h[124:136] = _octal(size, 12)
    h[136:148] = _octal(0, 12)
    h[148:156] = b" " * 8
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[329:337] = _octal(0, 8)
    h[337:345] = _octal(0, 8)
    chk = sum(h)
    h[148:156] = b"%06o\0 " % chk
    return bytes(h)


def member_header(name: str, size: int, mode: int = MODE_FILE) -> bytes:
    """The header block(s) of a regular-file member, deterministic (spec/bundle.md)."""
    raw = name.encode("utf-8")
    records = b""
    if len(raw) > 100 or not name.isascii():
        records += _pax_record("path", name)
    if size > USTAR_MAX_SIZE:
        records += _pax_record("size", str(size))
    out = b""
    if records:
        out += _header(b"././@PaxHeader", len(records), MODE_FILE, b"x")
        out += records + b"\0" * (-len(records) % BLOCK)
        ustar_name = raw[:100] if name.isascii() else b"././@LongName"
    else:
        ustar_name = raw
    out += _header(ustar_name, size if size <= USTAR_MAX_SIZE else 0, mode, b"0")
    return out


class TarWriter:
    """Writes members in strictly increasing name order; ``close()`` writes the end marker."""

    def __init__(self, f: BinaryIO) -> None:
        self.f = f
        self.last: bytes | None = None
        self.closed = False

    def _order(self, name: str) -> None:
        check_path(name, "member name")
        k = sort_key(name)
        if self.last is not None and k <= self.last:
            raise ValueError(f"member {name!r} out of order or duplicate")
        self.last = k

    def add_bytes(self, name: str, data: bytes, mode: int = MODE_FILE) -> None:
        self._order(name)
        self.f.write(member_header(name, len(data), mode))
        self.f.write(data)
        self.f.write(b"\0" * (-len(data) % BLOCK))

    def add_chunks(self, name: str, size: int, chunks: Any) -> None:
        """A member of exactly ``size`` bytes, given in pieces."""
        self._order(name)
        self.f.write(member_header(name, size, MODE_FILE))
        n = 0
        for c in chunks:
            self.f.write(c)
            n += len(c)
        if n != size:
            raise ValueError(f"member {name!r}: {n} bytes given, {size} announced")
        self.f.write(b"\0" * (-size % BLOCK))

    def add_stream(self, name: str, size: int, src: BinaryIO, mode: int = MODE_FILE,
                   progress: Progress = NULL) -> str:
        """Copy exactly ``size`` bytes from ``src``; returns their sha256 hex.

        The source must hold exactly ``size`` bytes from its position (Malformed otherwise: it changed).
        """
        self._order(name)
        self.f.write(member_header(name, size, mode))
        h = hashlib.sha256()
        left = size
        buf = bytearray(min(CHUNK, max(size, 1)))
        mv = memoryview(buf)
        while left:
            n = src.readinto(mv[:min(left, len(buf))])
            if not n:
                raise Malformed(f"{name}: source is shorter than its recorded size {size}",
                                "the source changed while packing; pack again")
            h.update(mv[:n])
            self.f.write(mv[:n])
            left -= n
            progress.advance(n)
        self.f.write(b"\0" * (-size % BLOCK))
        return h.hexdigest()

    def close(self) -> None:
        if not self.closed:
            self.f.write(b"\0" * (2 * BLOCK))
            self.closed = True


# ====================================================================== tar reader

class Member(Record):
    """A tar member: name, data size, mode, and the offset of its data in the archive."""

    __slots__ = ("name", "size", "mode", "offset")

    def __init__(self, name: str, size: int, mode: int, offset: int) -> None:
        self.name = name
        self.size = size
        self.mode = mode
        self.offset = offset


def _parse_octal(field_: bytes, what: str) -> int:
    s = field_.rstrip(b"\0 ").lstrip(b" ")
    if field_ and field_[0] & 0x80:
        raise Malformed(f"tar header: base-256 {what} is not supported in a bundle")
    if not s:
        return 0
    if s.translate(None, b"01234567"):
        raise Malformed(f"tar header: {what} field is not octal")
    return int(s, 8)


def _parse_pax(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    pos = 0
    while pos < len(data):
        sp = data.find(b" ", pos)
        if sp < 0:
            raise Malformed("tar pax header is malformed")
        try:
            n = int(data[pos:sp])
        except ValueError:
            raise Malformed("tar pax header has a bad record length") from None
        if n <= sp - pos + 1 or pos + n > len(data) or data[pos + n - 1:pos + n] != b"\n":
            raise Malformed("tar pax header has a bad record length")
        rec = data[sp + 1:pos + n - 1]
        k, eq, v = rec.partition(b"=")
        if not eq:
            raise Malformed("tar pax record without '='")
        try:
            out[k.decode("utf-8")] = v.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("tar pax record is not UTF-8") from None
        pos += n
    return out


_PAX_IGNORED = {"mtime", "atime", "ctime", "uid", "gid", "uname", "gname"}


class TarReader:
    """Strict sequential reader.  Iterate to get members; read each member's data
    with :meth:`chunks` / :meth:`read_all` before asking for the next one (unread
    data is skipped)."""

    def __init__(self, f: BinaryIO, label: str = "bundle") -> None:
        self.f = f
        self.label = label
        self.pos = 0
        self._left = 0      # unread data bytes of the current member
        self._pad = 0       # padding after it
        self.count = 0
        self.ended = False
        self.last: bytes | None = None
        self.fileno: int | None = None
        self.file_size: int | None = None
        try:
            fd = f.fileno()
            st = os.fstat(fd)
            if stat.S_ISREG(st.st_mode) and f.seekable() and f.tell() == 0:
                self.fileno, self.file_size = fd, st.st_size
        except (AttributeError, OSError, ValueError):
            pass

    # -- low level
    def _read_exact(self, n: int, what: str) -> bytes:
        data = self.f.read(n)
        if len(data) != n:
            raise Malformed(f"{self.label} is truncated (in {what})",
                            "the file was cut short in transfer; copy it again")
        self.pos += n
        return data

    def _skip(self, n: int, what: str) -> None:
        if n <= 0:
            return
        if self.file_size is not None:
            if self.pos + n > self.file_size:
                raise Malformed(f"{self.label} is truncated (in {what})",
                                "the file was cut short in transfer; copy it again")
            self.f.seek(n, os.SEEK_CUR)
            self.pos += n
            return
        while n:
            k = min(n, CHUNK)
            self._read_exact(k, what)
            n -= k

    def _finish_member(self) -> None:
        self._skip(self._left + self._pad, "member data")
        self._left = self._pad = 0

    # -- iteration
    def __iter__(self) -> Iterator[Member]:
        return self

    def __next__(self) -> Member:
        if self.ended:
            raise StopIteration
        self._finish_member()
        pax: dict[str, str] = {}
        while True:
            block = self.f.read(BLOCK)
            if self.pos == 0 and len(block) != BLOCK:
                raise Malformed(f"{self.label} is not a tar archive" if block else f"{self.label} is empty",
                                "is this a .ctp bundle?")
            if len(block) != BLOCK:
                raise Malformed(f"{self.label} is truncated (no end-of-archive marker)",
                                "the file was cut short in transfer; copy it again")
            self.pos += BLOCK
            if block == b"\0" * BLOCK:
                if pax:
                    raise Malformed(f"{self.label}: pax header not followed by a member")
                second = self.f.read(BLOCK)
                if len(second) != BLOCK:
                    raise Malformed(f"{self.label} is truncated (end-of-archive marker cut short)",
                                    "the file was cut short in transfer; copy it again")
                self.pos += BLOCK
                if second != b"\0" * BLOCK:
                    raise Malformed(f"{self.label}: lone zero block inside the archive")
                # only zero padding may follow
                while True:
                    rest = self.f.read(CHUNK)
                    if not rest:
                        break
                    if rest.count(0) != len(rest):
                        raise Malformed(f"{self.label} has data after the end of the archive",
                                        "something was appended to the bundle; get a clean copy")
                self.ended = True
                raise StopIteration
            self._check_sum(block)
            typeflag = block[156:157]
            size = _parse_octal(block[124:136], "size")
            if typeflag == b"x":
                if pax:
                    raise Malformed(f"{self.label}: two pax headers in a row")
                if size > 1 << 20:
                    raise Malformed(f"{self.label}: pax header too large")
                data = self._read_exact(size, "pax header")
                self._skip(-size % BLOCK, "pax header")
                pax = _parse_pax(data)
                for k in pax:
                    if k not in ("path", "size") and k not in _PAX_IGNORED:
                        raise Malformed(f"{self.label}: unsupported pax record {k!r}")
                if not pax:
                    pax = {"": ""}
                continue
            if typeflag not in (b"0", b"\0"):
                kind = {b"1": "hard link", b"2": "symbolic link", b"3": "device", b"4": "device",
                        b"5": "directory", b"6": "fifo", b"g": "pax global header",
                        b"L": "GNU long name", b"K": "GNU long link"}.get(typeflag, f"type {typeflag!r}")
                name = self._name(block, {})
                raise Malformed(f"{self.label}: member {name!r} is a {kind}",
                                "bundles hold regular files only")
            name = self._name(block, pax)
            if "size" in pax:
                try:
                    size = int(pax["size"])
                except ValueError:
                    raise Malformed(f"{self.label}: bad pax size for {name!r}") from None
                if size < 0:
                    raise Malformed(f"{self.label}: bad pax size for {name!r}")
            mode = _parse_octal(block[100:108], "mode")
            self._accept_name(name)
            self.count += 1
            if self.count > MAX_MEMBERS:
                raise Malformed(f"{self.label} has more than {MAX_MEMBERS} members")
            if self.file_size is not None and self.pos + size > self.file_size:
                raise Malformed(f"{self.label} is truncated (member {name!r} is cut short)",
                                "the file was cut short in transfer; copy it again")
            self._left = size
            self._pad = -size % BLOCK
            return Member(name, size, mode, self.pos)

    def _check_sum(self, block: bytes) -> None:
        stored = block[148:156]
        try:
            want = _parse_octal(stored, "checksum")
        except Malformed:
            want = -1
        got = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
        if want != got or block[257:262] != b"ustar":
            if self.pos == BLOCK:
                raise Malformed(f"{self.label} is not a tar archive", "is this a .ctp bundle?")
            raise Malformed(f"{self.label}: corrupt tar header at byte {self.pos - BLOCK}",
                            "the bundle is damaged; get a clean copy")

    def _name(self, block: bytes, pax: dict[str, str]) -> str:
        if "path" in pax:
            return pax["path"]
        raw = block[0:100].split(b"\0", 1)[0]
        prefix = block[345:500].split(b"\0", 1)[0]
        if prefix:
            raw = prefix + b"/" + raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed(f"{self.label}: member name is not UTF-8") from None

    def _accept_name(self, name: str) -> None:
        try:
            check_path(name, "member")
        except Malformed as e:
            raise Malformed(f"{self.label}: {e.message}", *e.hints) from None
        # members are sorted, so a name seen before is the previous one (no set of every name is kept:
        # a name repeated further on is out of order)
        k = sort_key(name)
        if k == self.last:
            raise Malformed(f"{self.label}: duplicate member {name!r}",
                            "a bundle names each file once; this one was tampered with or badly made")
        if self.last is not None and k < self.last:
            raise Malformed(f"{self.label}: member {name!r} is out of order",
                            "bundle members are sorted by name; this one was not written by ct")
        self.last = k

    # -- member data
    def chunks(self, chunk: int = CHUNK) -> Iterator[memoryview]:
        """The current member's remaining data, in chunks (valid until the next chunk).

        A source with a ``read_view(n)`` method lends its own buffers (a view of at most ``n`` bytes, valid
        until the next call): ``ct import`` stages and hashes what the verifier reads from them."""
        read_view = getattr(self.f, "read_view", None)
        buf = bytearray(min(chunk, max(self._left, 1)) if read_view is None else 0)
        mv = memoryview(buf)
        while self._left:
            if read_view is not None:
                view = read_view(min(self._left, chunk))
                n = len(view)
            else:
                n = self.f.readinto(mv[:min(self._left, len(buf))])  # type: ignore[attr-defined]
                view = mv[:n]
            if not n:
                raise Malformed(f"{self.label} is truncated (member data cut short)",
                                "the file was cut short in transfer; copy it again")
            self.pos += n
            self._left -= n
            yield view

    def hash_member(self, h: Any) -> int:
        """Feed the current member's remaining data to ``h``; returns the byte count.

        Large members are hashed through a sliding read-only mmap window (no
        copy, memory stays flat); small ones through a reused buffer."""
        total = self._left
        if self.fileno is not None and self.file_size is not None and self._left >= 4 * CHUNK:
            start = self.pos
            end = start + self._left
            gran = mmap.ALLOCATIONGRANULARITY
            off = start
            while off < end:
                base = off - off % gran
                length = min(MMAP_WINDOW, end - base)
                m = mmap.mmap(self.fileno, length, prot=mmap.PROT_READ, offset=base)
                try:
                    with memoryview(m) as mv:
                        h.update(mv[off - base:length])
                finally:
                    m.close()
                off = base + length
            self.f.seek(end)
            self.pos = end
            self._left = 0
            return total
        if self._left <= CHUNK:     # small: one read, no buffer to set up
            data = self.f.read(self._left)
            if len(data) != self._left:
                raise Malformed(f"{self.label} is truncated (member data cut short)",
                                "the file was cut short in transfer; copy it again")
            h.update(data)
            self.pos += self._left
            self._left = 0
            return total
        for c in self.chunks():
            h.update(c)
        return total

    def read_all(self, limit: int = MAX_META, name: str = "member") -> bytes:
        if self._left > limit:
            raise Malformed(f"{self.label}: {name} is larger than {limit} bytes")
        data = self._read_exact(self._left, name)
        self._left = 0
        return data


# ====================================================================== manifest.toml

_TOML_PLAIN = re.compile(r'[^"\\\x00-\x1f\x7f]*\Z')


def _toml_str(s: str) -> str:
    if _TOML_PLAIN.match(s):
        return f'"{s}"'
    out = ['"']
    for ch in s:
        o = ord(ch)
        if ch == '"':
            out.append('\\"')
        elif ch == "\\":
            out.append("\\\\")
        elif o < 0x20 or o == 0x7F:
            out.append("\\u%04X" % o)
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+\Z")


def _toml_key(k: str) -> str:
    return k if _BARE_KEY.match(k) else _toml_str(k)


def _toml_value(v: Any, path: str) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, str):
        return _toml_str(v)
    if isinstance(v, list):
        if not all(isinstance(x, str) for x in v):
            raise Malformed(f"manifest: {path}: only arrays of strings are allowed")
        return "[" + ", ".join(_toml_str(x) for x in v) + "]"
    raise Malformed(f"manifest: {path}: value of type {type(v).__name__} is not allowed")


def _toml_table_body(d: dict[str, Any], path: str) -> list[str]:
    lines = []
    for k in sorted(d, key=sort_key):
        v = d[k]
        if isinstance(v, dict):
            raise Malformed(f"manifest: {path}.{k}: nested tables are not allowed")
        lines.append(f"{_toml_key(k)} = {_toml_value(v, f'{path}.{k}')}")
    return lines


def canonical_toml(doc: dict[str, Any]) -> bytes:
    """The canonical TOML subset of spec/canonical.md.

    Top level: scalars and string arrays (sorted keys), then tables (sorted),
    then arrays of tables (sorted; entries in the order given).  Tables hold
    scalars and string arrays only.  One blank line between sections, LF,
    final newline, UTF-8.
    """
    scalars = {k: v for k, v in doc.items() if not isinstance(v, dict) and not _is_table_array(v)}
    tables = {k: v for k, v in doc.items() if isinstance(v, dict)}
    arrays = {k: v for k, v in doc.items() if _is_table_array(v)}
    sections: list[list[str]] = []
    if scalars:
        sections.append(_toml_table_body(scalars, "$"))
    for k in sorted(tables, key=sort_key):
        sections.append([f"[{_toml_key(k)}]"] + _toml_table_body(tables[k], k))
    for k in sorted(arrays, key=sort_key):
        for i, item in enumerate(arrays[k]):
            sections.append([f"[[{_toml_key(k)}]]"] + _toml_table_body(item, f"{k}[{i}]"))
    return ("\n\n".join("\n".join(s) for s in sections) + "\n").encode("utf-8")


def _is_table_array(v: Any) -> bool:
    return isinstance(v, list) and bool(v) and all(isinstance(x, dict) for x in v)


class FileEntry(Record):
    """One payload file of the manifest: path (relative to payload/), sha256, size, mode."""

    __slots__ = ("path", "sha256", "size", "mode")

    def __init__(self, path: str, sha256: str, size: int, mode: int = MODE_FILE) -> None:
        self.path = path
        self.sha256 = sha256
        self.size = size
        self.mode = mode

    def to_toml(self) -> dict[str, Any]:
        return {"path": self.path, "sha256": self.sha256, "size": self.size, "mode": "%04o" % self.mode}


class Manifest(Record):
    __slots__ = ("name", "version", "source", "files", "layers", "format_version", "artifacts")

    def __init__(self, name: str, version: str, source: dict[str, Any], files: list[FileEntry],
                 layers: list[dict[str, Any]] | None = None, format_version: int = FORMAT_VERSION,
                 artifacts: list[dict[str, Any]] | None = None) -> None:
        self.name = name
        self.version = version
        self.source = source
        self.files = files
        self.layers: list[dict[str, Any]] = list(layers or [])
        self.format_version = format_version
        self.artifacts: list[dict[str, Any]] = list(artifacts or [])   # a release of several artifacts

    def to_doc(self) -> dict[str, Any]:
        doc: dict[str, Any] = {
            "format": FORMAT,
            "format_version": self.format_version,
            "package": {"name": self.name, "version": self.version},
            "source": dict(self.source),
        }
        files = sorted(self.files, key=lambda f: sort_key(f.path))
        if files:
            doc["files"] = [f.to_toml() for f in files]
        if self.layers:
            doc["layers"] = [dict(x) for x in self.layers]
        if self.artifacts:
            doc["artifacts"] = [dict(x) for x in self.artifacts]
        return doc

    def to_bytes(self) -> bytes:
        return canonical_toml(self.to_doc())

    def file_map(self) -> dict[str, FileEntry]:
        return {f.path: f for f in self.files}

    @property
    def total_size(self) -> int:
        """Bytes of payload (a manifest read from a bundle knows it without reading its files again)."""
        known = getattr(self.files, "total_size", None)
        return known if known is not None else sum(f.size for f in self.files)

    @property
    def registry(self) -> str:
        r = self.source.get("registry", "")
        return r if isinstance(r, str) else ""

    @property
    def registries(self) -> list[str]:
        """The registry of each artifact ('' for one without): one entry for a single-artifact bundle."""
        if not self.artifacts:
            return [self.registry]
        return [a["registry"] if isinstance(a.get("registry"), str) else "" for a in self.artifacts]


_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def parse_manifest(data: bytes, label: str = "manifest.toml") -> Manifest:
    """Parse and check a manifest: canonical bytes, known format version, sane entries."""
    doc = parse_toml(data, label, limit=MAX_META)
    if doc.get("format") != FORMAT:
        raise Malformed(f"{label}: format is {doc.get('format')!r}, not {FORMAT!r}", "is this a .ctp bundle?")
    ver = doc.get("format_version")
    if ver != FORMAT_VERSION:
        raise Malformed(f"unsupported bundle format version {ver!r} in {label}",
                        f"this ct reads format version {FORMAT_VERSION}; upgrade ct to read newer bundles")
    allowed = {"format", "format_version", "package", "source", "files", "layers", "artifacts"}
    extra = set(doc) - allowed
    if extra:
        raise Malformed(f"{label}: unknown keys {', '.join(sorted(extra))}")
    pkg = doc.get("package")
    if not isinstance(pkg, dict) or set(pkg) != {"name", "version"} \
            or not all(isinstance(pkg[k], str) and pkg[k] for k in ("name", "version")):
        raise Malformed(f"{label}: [package] must have a name and a version")
    source = doc.get("source")
    if not isinstance(source, dict) or not isinstance(source.get("kind"), str):
        raise Malformed(f"{label}: [source] must have a kind")
    files: list[FileEntry] = []
    seen: set[str] = set()
    for i, f in enumerate(typed(doc.get("files", []), "list of objects", f"{label}: files")):
        if not isinstance(f, dict) or set(f) != {"path", "sha256", "size", "mode"}:
            raise Malformed(f"{label}: files[{i}] must have exactly path, sha256, size and mode")
        path = f["path"]
        if not isinstance(path, str):
            raise Malformed(f"{label}: files[{i}].path must be a string")
        check_path(path, f"{label}: files[{i}].path")
        if path in seen:
            raise Malformed(f"{label}: file {path!r} is listed twice")
        seen.add(path)
        if not isinstance(f["sha256"], str) or not _HEX64.match(f["sha256"]):
            raise Malformed(f"{label}: files[{i}].sha256 must be 64 lowercase hex digits")
        if isinstance(f["size"], bool) or not isinstance(f["size"], int) or f["size"] < 0:
            raise Malformed(f"{label}: files[{i}].size must be a non-negative integer")
        if f["mode"] not in ("0644", "0755"):
            raise Malformed(f"{label}: files[{i}].mode must be \"0644\" or \"0755\"")
        files.append(FileEntry(path, f["sha256"], f["size"], int(f["mode"], 8)))
    layers = typed(doc.get("layers", []), "list of objects", f"{label}: layers")
    for i, layer in enumerate(layers):
        field(layer, "digest", "string", f"{label}: layers[{i}]")
        field(layer, "size", "integer", f"{label}: layers[{i}]")
        for k in ("media_type", "platform"):
            if k in layer:
                field(layer, k, "string", f"{label}: layers[{i}]")
    artifacts = doc.get("artifacts", [])
    if not isinstance(artifacts, list) or not all(isinstance(x, dict) and isinstance(x.get("path"), str)
                                                  and isinstance(x.get("kind"), str) for x in artifacts):
        raise Malformed(f"{label}: artifacts must be an array of tables with a path and a kind")
    m = Manifest(pkg["name"], pkg["version"], source, files, layers, ver, artifacts)
    if m.to_bytes() != bytes(data):
        raise Malformed(f"{label} is not in canonical form",
                        "manifests are written by ct (spec/canonical.md); was it edited?")
    return m


# ====================================================================== writing bundles

class PayloadFile(Record):
    """A payload file to pack: its bundle path, size, mode, digest and how to open it."""

    __slots__ = ("path", "size", "mode", "opener", "sha256")

    def __init__(self, path: str, size: int, mode: int, opener: Callable[[], BinaryIO], sha256: str = "") -> None:
        self.path = path
        self.size = size
        self.mode = mode
        self.opener = opener
        self.sha256 = sha256


def hash_stream(f: BinaryIO, size: int | None = None, progress: Progress = NULL) -> tuple[str, int]:
    """sha256 hex and byte count of ``f`` (up to ``size`` bytes), in 1 MiB chunks."""
    h = hashlib.sha256()
    total = 0
    while size is None or total < size:
        data = f.read(CHUNK if size is None else min(CHUNK, size - total))
        if not data:
            break
        h.update(data)
        total += len(data)
        progress.advance(len(data))
    return h.hexdigest(), total


class BundleParts(Record):
    """Everything of a bundle except the payload data: the manifest (its files read again from the
    bundle on demand) and the signature members."""

    __slots__ = ("manifest", "signature_members")

    def __init__(self, manifest: Manifest, signature_members: dict[str, bytes]) -> None:
        self.manifest = manifest
        self.signature_members = signature_members


def read_parts(path: str, *, statements: bool = True) -> BundleParts:
    """Read a bundle's manifest and signature members, skipping the payload (structure checked).
    ``statements=False`` skips the DSSE envelopes too, the release's and the attestations' (each names
    every file; ``ct export`` needs none of them)."""
    from .attest import ATT_DIR
    from .streaming import MAX_MANIFEST, FileList, read_manifest, slices, whole_member

    label = os.path.basename(path)
    with open(path, "rb") as f:
        r = TarReader(f, label)
        manifest = None
        sigs: dict[str, bytes] = {}
        for m in r:
            if manifest is None:
                if m.name != MANIFEST:
                    raise Malformed(f"{label}: first member is {m.name!r}, not {MANIFEST}", "is this a .ctp bundle?")
                data = None
                if r.fileno is None:      # not a file: the member is held (at most MAX_META, as always)
                    data = r.read_all(MAX_META, MANIFEST)
                    rd = read_manifest(slices(data), MANIFEST, lambda: data)
                elif m.size > MAX_MANIFEST:
                    raise Malformed(f"{label}: {MANIFEST} is larger than {MAX_MANIFEST} bytes")
                else:
                    rd = read_manifest(r.chunks(256 << 10), MANIFEST, lambda: whole_member(path, m.offset, m.size))
                name, version, source, layers = rd.head  # type: ignore[misc]
                files = FileList(rd.count, rd.total, rd.sha.hexdigest(), f"{label}: {MANIFEST}", path, m.offset,
                                 m.size, data)
                manifest = Manifest(name, version, source, files, layers,  # type: ignore[arg-type]
                                    artifacts=rd.artifacts)
                continue
            if m.name.startswith(SIGNATURES_DIR):
                if statements or m.name != ENVELOPE and not m.name.startswith(ATT_DIR):
                    sigs[m.name] = r.read_all(MAX_META, m.name)
            elif not m.name.startswith(PAYLOAD_DIR):
                raise Malformed(f"{label}: unexpected member {m.name!r}")
        if manifest is None:
            raise Malformed(f"{label} has no {MANIFEST}", "is this a .ctp bundle?")
    return BundleParts(manifest, sigs)


def rewrite_signatures(src: str, dst: str, members: dict[str, bytes], *, replace: bool = True) -> None:
    """Copy bundle ``src`` to ``dst`` with its ``signatures/`` members replaced by
    ``members`` (or merged into them when ``replace`` is False).  The payload is
    streamed through unchanged; ``dst`` is written atomically (may equal ``src``)."""
    from cerro_torre.suites.atomic import atomic_writer

    for name in members:
        if not name.startswith(SIGNATURES_DIR):
            raise ValueError(f"signature member {name!r} must be under {SIGNATURES_DIR}")
        check_path(name)
    label = os.path.basename(src)
    with open(src, "rb") as f, atomic_writer(dst) as out:
        r = TarReader(f, label)
        w = TarWriter(out)
        old: dict[str, bytes] = {}
        first = True
        for m in r:
            if first:
                if m.name != MANIFEST:
                    raise Malformed(f"{label}: first member is {m.name!r}, not {MANIFEST}")
                w.add_bytes(MANIFEST, r.read_all(MAX_META, MANIFEST))
                first = False
            elif m.name.startswith(PAYLOAD_DIR):
                w.add_stream(m.name, m.size, _MemberReader(r), m.mode)
            elif m.name.startswith(SIGNATURES_DIR):
                old[m.name] = r.read_all(MAX_META, m.name)
            else:
                raise Malformed(f"{label}: unexpected member {m.name!r}")
        if first:
            raise Malformed(f"{label} has no {MANIFEST}")
        merged = dict(members) if replace else {**old, **members}
        for name in sorted(merged, key=sort_key):
            w.add_bytes(name, merged[name])
        w.close()


class _MemberReader:
    """A file-like view of the reader's current member data (readinto only)."""

    def __init__(self, r: TarReader) -> None:
        self.r = r

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.r._left)
        if n == 0:
            return 0
        got = self.r.f.readinto(memoryview(b)[:n])  # type: ignore[attr-defined]
        if not got:
            raise Malformed(f"{self.r.label} is truncated (member data cut short)")
        self.r.pos += got
        self.r._left -= got
        return got


# ====================================================================== packing and signing

class PackResult(Record):
    __slots__ = ("path", "manifest", "statement_sha256", "files", "bytes", "signer", "attestations")

    def __init__(self, path: str, manifest: Manifest, statement_sha256: str, files: int, size: int,
                 signer: Any = None, attestations: list[str] | None = None) -> None:
        self.path = path
        self.manifest = manifest
        self.statement_sha256 = statement_sha256
        self.files = files
        self.bytes = size
        self.signer = signer
        self.attestations = list(attestations or [])   # predicate types


def release_predicate(name: str, version: str, source: dict[str, Any], manifest_sha256: str,
                      attestations: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """The predicate of a release statement (spec/statement.md); ``attestations`` lists the
    attestation statements it binds (spec/attestations.md)."""
    pred = {
        "bundle": {"format": FORMAT, "format_version": FORMAT_VERSION},
        "manifest": {"name": MANIFEST, "sha256": manifest_sha256},
        "package": {"name": name, "version": version},
        "source": dict(source),
    }
    if attestations:
        pred["attestations"] = attestations
    return pred


def sign_single(statement: Any, key: Any) -> tuple[list[Any], Any]:
    """A single holder's DSSE signatures over the PAE of ``statement`` (a StreamedStatement, read as it goes
    by; one per algorithm of its suite) and, when it has an Ed25519 key, the stock-tool record (both passes)."""
    from cerro_torre.suites.suite import Signature

    from . import stockformats

    sigs = key.sign(statement.message())
    pub = key.public()
    stock = None
    if "ed25519" in pub.keys:
        ed_pk = pub.keys["ed25519"]

        def sign_ed(msg: Any) -> bytes:
            return next(s.sig for s in key.sign(msg) if isinstance(s, Signature) and s.alg == "ed25519")

        stock = stockformats.sign_record(statement, stockformats.trusted_comment(statement), ed_pk, sign_ed)
    return sigs, stock


def pack(source: Any, out_path: str, *, name: str | None = None, version: str | None = None,
         key: Any = None, progress: Progress = NULL,
         attestations: Callable[[Manifest], list[tuple[str, Any]]] | None = None) -> PackResult:
    """Pack a loaded :class:`~cerro_torre.ceremony.sources.Source` into ``out_path`` (atomic).

    ``key`` (an IdentityKey) signs the statement, the attestations and the stock-tool messages;
    without it the bundle is unsigned (a ceremony signs it later, see :func:`add_signatures`).
    ``attestations(manifest)`` gives the (predicate type, predicate) of each attestation: a dict, or
    its canonical JSON; the manifest's files are read again from a temporary file on demand.

    Two passes over the files, one at a time: digests first (the manifest, which lists them,
    comes first in the bundle), written to temporary files beside ``out_path``; then the copy,
    re-hashed and checked against them.  Each statement (every attestation's, then the release's)
    is laid out from the temporary list of subjects, signed, and its envelope written out before
    the next one is made: memory does not grow with the number of files, but for the one statement
    being signed (about 130 bytes a file)."""
    from .streaming import FileList

    name = name or source.default_name or "package"
    version = version or source.default_version or "unversioned"
    files = source.files if getattr(source.files, "sorted_by_path", False) else \
        sorted(source.files, key=lambda p: sort_key(p.path))
    folder = os.path.dirname(os.path.abspath(out_path))
    unhashed = sum(pf.size for pf in files if not pf.sha256)
    if unhashed:    # each pass its own bar, whose total is what that pass reads
        progress.start("pack: hashing 1/2", unhashed)
    copying = "pack: copying 2/2" if unhashed else "pack: copying"
    try:
        lists, statement, signer, atts = _pack(files, out_path, folder, name, version, source, key, progress,
                                               attestations, copying)
    finally:
        progress.done()
    files_list = FileList(lists.count, lists.total, lists.manifest_sha256, MANIFEST, out_path, BLOCK,
                          lists.manifest_size)
    manifest = Manifest(name, version, source.info, files_list, source.layers,  # type: ignore[arg-type]
                        artifacts=getattr(source, "artifacts", None))
    return PackResult(out_path, manifest, statement.sha256, lists.count, lists.total, signer, atts)


def _pack(files: Any, out_path: str, folder: str, name: str, version: str, source: Any, key: Any,
          progress: Progress, attestations: Any, copying: str) -> tuple[Any, Any, Any, list[str]]:
    """:func:`pack`'s two passes (``copying``: the label of the second's progress); -> (PackLists,
    statement, signer, attestation predicate types)."""
    from cerro_torre.suites.atomic import atomic_writer

    from .streaming import PackLists, envelope_chunks

    with PackLists(folder, name, version, source.info, source.layers, getattr(source, "artifacts", None)) as lists, \
            contextlib.ExitStack() as temps:
        for pf in files:
            check_path(pf.path, "payload path")
            sha = pf.sha256
            if not sha:
                with pf.opener() as f:
                    sha, n = hash_stream(f, progress=progress)
                if n != pf.size:
                    raise HashMismatch(f"{pf.path} changed size while it was being packed",
                                       "make sure nothing writes to the source, then pack again")
                pf.sha256 = sha
            lists.add(pf.path, sha, pf.size, pf.mode)
        for what, v in (("--name", name), ("--version", version)):
            check_label(what, v)
        lists.close()
        specs = [] if attestations is None else \
            attestations(lists.manifest_read(name, version, source.info, getattr(source, "artifacts", None)))
        members: dict[str, Any] = {}       # name -> bytes, or (temporary file, size) of an attestation envelope
        listing = []
        for ptype, predicate in specs:
            members.update(_attestation_member(lists, ptype, predicate, key, folder, temps, listing))
            if len(members) != len(listing):
                raise UsageError("the same attestation is given twice", "give each --attest once")
        specs, predicate = [], None       # an SBOM's predicate can be megabytes: let it go
        statement = lists.statement(release_predicate(name, version, source.info, lists.manifest_sha256, listing))
        sigs: list[Any] = []
        signer = None
        if key is not None:
            sigs, stock = sign_single(statement, key)
            signer = key.public()
            members[f"{KEYS_DIR}{signer.id}.pub"] = signer.to_file_bytes()
            if stock is not None:
                members[STOCK] = stock.to_bytes()
        progress.start(copying, lists.total)
        with atomic_writer(out_path) as out:
            w = TarWriter(out)
            w.add_stream(MANIFEST, lists.manifest_size, lists.manifest_file())
            written = iter(files)
            for _raw, path, sha, size, mode in lists.entries():
                pf = next(written, None)
                if pf is None or pf.path != path or pf.size != size:
                    raise HashMismatch(f"{path} changed while it was being packed",
                                       "make sure nothing writes to the source, then pack again")
                with pf.opener() as src:
                    if w.add_stream(PAYLOAD_DIR + path, size, src, mode, progress) != sha:
                        raise HashMismatch(f"{path} changed while it was being packed",
                                           "make sure nothing writes to the source, then pack again")
            if next(written, None) is not None:
                raise HashMismatch("the source changed while it was being packed (a file was added)",
                                   "make sure nothing writes to the source, then pack again")
            for mname in sorted([*members, ENVELOPE], key=sort_key):
                data = members.get(mname)
                if mname == ENVELOPE:
                    w.add_chunks(ENVELOPE, *envelope_chunks(statement, sigs))
                elif isinstance(data, tuple):
                    data[0].seek(0)
                    w.add_stream(mname, data[1], data[0])
                else:
                    w.add_bytes(mname, data)
            w.close()
    return lists, statement, signer, [e["predicateType"] for e in listing]


def _attestation_member(lists: Any, ptype: str, predicate: Any, key: Any, folder: str, temps: Any,
                        listing: list[dict[str, Any]]) -> dict[str, Any]:
    """One attestation statement laid out over every file, signed by ``key`` (every algorithm), its
    envelope written to a temporary file beside the bundle; its entry appended to ``listing`` (what
    the release statement binds).  -> {member name: (temporary file, size)}"""
    import tempfile

    from . import attest
    from .streaming import envelope_chunks

    statement = lists.statement(predicate, attest.check_type(ptype))
    size, chunks = envelope_chunks(statement, key.sign(statement.message()) if key is not None else [])
    tmp = temps.enter_context(tempfile.TemporaryFile(dir=folder, prefix=".ct-attestation-"))
    for chunk in chunks:
        tmp.write(chunk)
    listing.append({"predicateType": ptype, "digest": {"sha256": statement.sha256}})
    return {f"{attest.ATT_DIR}{statement.sha256}.dsse.json": (tmp, size)}


def release_messages(bundle_path: str) -> dict[str, bytes]:
    """What a signing ceremony signs for this bundle, first pass (spec/stock-signatures.md):

    ``dsse`` — the DSSE PAE of the statement (every algorithm signs it); ``signify``,
    ``minisign``, ``ssh`` — the stock-tool messages (the Ed25519 group key signs them).
    The second pass is ``stockformats.second_pass_messages(minisign_sig, trusted_comment)``,
    with ``trusted_comment`` from :func:`release_trusted_comment`."""
    from . import stockformats
    from .statement import Envelope

    from . import attest

    parts = read_parts(bundle_path)
    if ENVELOPE not in parts.signature_members:
        raise Malformed(f"{os.path.basename(bundle_path)} has no {ENVELOPE}")
    env = Envelope.from_bytes(parts.signature_members[ENVELOPE])
    return {"dsse": env.pae(), **stockformats.first_pass_messages(env.payload),
            **dict(attest.signing_messages(attestation_statements(parts)))}


def attestation_statements(parts: BundleParts) -> list[bytes]:
    """The attestation statements of a bundle, in the order its release statement lists them."""
    from . import attest
    from .statement import Envelope, parse_statement

    release = parse_statement(Envelope.from_bytes(parts.signature_members[ENVELOPE]).payload)
    out = []
    for _ptype, digest in attest.listed(release):
        name = f"{attest.ATT_DIR}{digest}.dsse.json"
        if name not in parts.signature_members:
            raise Malformed(f"attestation {digest} is listed by the release statement but not in the bundle")
        out.append(Envelope.from_bytes(parts.signature_members[name], name).payload)
    return out


def release_trusted_comment(bundle_path: str) -> str:
    from . import stockformats
    from .statement import Envelope

    parts = read_parts(bundle_path)
    env = Envelope.from_bytes(parts.signature_members[ENVELOPE])
    return stockformats.trusted_comment(env.payload)


def add_signatures(src: str, dst: str, signatures: list[Any] = (), *, records: list[Any] = (),  # type: ignore[assignment]
                   key: Any = None, stock: Any = None, attestations: dict[str, list[Any]] | None = None) -> None:
    """Write ``dst``: bundle ``src`` with ``signatures`` added to its DSSE envelope, the
    keyholder-set chain ``records`` (KeyholderSet objects) or the single signer's public
    key ``key`` (IdentityPublic), the stock-tool record ``stock`` (StockRecord), and
    ``attestations`` (statement sha256 -> signatures) added to the attestation envelopes."""
    from cerro_torre.governance.keyholders import record_member_name

    from .statement import Envelope

    parts = read_parts(src)
    members = dict(parts.signature_members)
    env = Envelope.from_bytes(members[ENVELOPE], ENVELOPE).with_signatures(list(signatures))
    members[ENVELOPE] = env.to_bytes()
    for rec in records:
        members[record_member_name(rec.epoch)] = rec.to_bytes()
    if key is not None:
        members[f"{KEYS_DIR}{key.id}.pub"] = key.to_file_bytes()
    if stock is not None:
        members[STOCK] = stock.to_bytes()
    for digest, sigs in (attestations or {}).items():
        from .attest import ATT_DIR

        name = f"{ATT_DIR}{digest}.dsse.json"
        if name not in members:
            raise Malformed(f"the bundle has no attestation {digest}")
        members[name] = Envelope.from_bytes(members[name], name).with_signatures(list(sigs)).to_bytes()
    rewrite_signatures(src, dst, members)
