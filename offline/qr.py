"""QR transport: a message as an endless stream of fountain-coded QR frames (``spec/qr.md``).

A message (any bytes: a ceremony message, a reply) becomes a *stream*: the
message (deflated when that makes it smaller) followed by its full SHA-256
digest.  The stream is cut into ``count`` fragments of equal length, and
frame ``seq`` (1, 2, 3, ... without end) carries one *part*: the XOR of the
fragments :func:`fountain.choose_fragments` names -- frames ``1..count`` the
plain fragments, later ones pseudo-random mixes, chosen exactly as BC-UR
(BCR-2020-005) chooses them.  Each frame is one QR code in alphanumeric mode
whose text is the base45 encoding of a 15-byte header and the part::

    frame = base45( vf || seq || count || length || id || part )
            vf: format version (high nibble, 2) | flags (low nibble; bit 0 = deflate)
            seq (4 bytes), count (2), length (4): big-endian; id: sha256(message)[:4]

Any ``count`` independent frames -- in practice ``count`` or a few more, in
any order, duplicates ignored -- reassemble the message, which is then
checked against the full digest.  A frame of another message is refused,
naming both ids.

The pure part (:class:`Encoder`, :func:`parse_frame`, :class:`Assembler`,
capacity) imports nothing outside the standard library and
``cerro_torre.suites``; the edges (:func:`make_code`, :func:`write_png_set`,
:func:`render_matrix`) import ``segno`` when called.  Reading
frames from images, video files and cameras is ``offline/scan.py``.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from cerro_torre.suites.atomic import atomic_write, fsync_dir
from cerro_torre.suites.errors import (
    AlreadyExists,
    HashMismatch,
    Malformed,
    NotFound,
    SelfTestFailed,
    UsageError,
)

from . import base45, fountain

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Sequence

FORMAT_VERSION = 2
FLAG_DEFLATE = 0x01
KNOWN_FLAGS = FLAG_DEFLATE
HEADER_LEN = 15
ID_LEN = 4
DIGEST_LEN = 32
MAX_PARTS = 8192  # bounds a decoder's work and memory; 8192 parts of a version-5 code hold 540 KB
MAX_SEQ = 0xFFFFFFFF
MAX_MESSAGE = 16 * 1024 * 1024  # decompression bound: QR transport is for ceremony-sized messages
MAX_STREAM = MAX_MESSAGE + DIGEST_LEN
DEFAULT_MAX_VERSION = 25
DEFAULT_EC = "M"
DEFAULT_FPS = 2.0  # frames per second of the terminal player (ct qr encode --terminal) and the TUI's
REDUNDANCY = 1.5  # frames written by default, as a multiple of the parts count
TERMINAL_BORDER = 2  # quiet zone (modules) of codes drawn in a terminal
EC_LEVELS = ("L", "M", "Q", "H")
FRAME_NAME = re.compile(r"^frame-(\d{2,})-of-(\d{2,})\.png$")


# --------------------------------------------------------------------------- capacity

def _check_params(max_version: int, ec: str) -> None:
    if not isinstance(max_version, int) or not 1 <= max_version <= 40:
        raise UsageError(f"QR version must be 1 to 40, not {max_version}", "25 is a good size for a camera")
    if ec not in EC_LEVELS:
        raise UsageError(f"error correction level must be one of L, M, Q, H, not {ec!r}")


def data_codewords(version: int, ec: str) -> int:
    """Data codewords of a QR code of ``version`` at error correction ``ec`` (ISO/IEC 18004 table 9)."""
    _check_params(version, ec)
    from segno import consts

    return consts.SYMBOL_CAPACITY[version][consts.ERROR_MAPPING[ec]] // 8


def alphanumeric_capacity(version: int, ec: str) -> int:
    """How many characters one QR code holds in a single alphanumeric-mode segment.

    Bits: 4 (mode) + character count (9 bits to version 9, 11 to 26, 13 after)
    + 11 per pair of characters + 6 for an odd last one.
    """
    bits = data_codewords(version, ec) * 8 - 4 - (9 if version < 10 else 11 if version < 27 else 13)
    return (bits // 11) * 2 + (1 if bits % 11 >= 6 else 0)


def text_version(chars: int, ec: str) -> int | None:
    """The smallest QR version holding ``chars`` characters in one alphanumeric segment at ``ec``
    (None if not even version 40 does)."""
    return next((v for v in range(1, 41) if alphanumeric_capacity(v, ec) >= chars), None)


def frame_capacity(version: int, ec: str) -> int:
    """Bytes (header + part) one frame carries at ``version``/``ec``."""
    return base45.max_bytes(alphanumeric_capacity(version, ec))


def code_size(version: int, border: int = TERMINAL_BORDER) -> int:
    """Modules across a code of ``version`` with its quiet zone."""
    return 17 + 4 * version + 2 * border


def fit_version(cols: int, rows: int, border: int = TERMINAL_BORDER, limit: int = DEFAULT_MAX_VERSION) -> int:
    """The largest QR version (at most ``limit``) whose code fits ``cols`` x ``rows`` terminal cells
    (one cell = 1 x 2 modules); 0 if not even version 1 fits."""
    best = 0
    for v in range(1, limit + 1):
        n = code_size(v, border)
        if n <= cols and (n + 1) // 2 <= rows:
            best = v
    return best


def min_version(ec: str) -> int:
    """The smallest QR version that holds a frame with a one-byte part at level ``ec``."""
    return next(v for v in range(1, 41) if frame_capacity(v, ec) > HEADER_LEN)


# --------------------------------------------------------------------------- frames

@dataclass(frozen=True)
class Frame:
    """One parsed frame."""

    version: int
    flags: int
    seq: int  # 1-based part number
    count: int  # fragments in the message's stream
    length: int  # stream length in bytes
    msg_id: bytes  # first ID_LEN bytes of sha256(message)
    part: bytes

    @property
    def id_hex(self) -> str:
        return self.msg_id.hex()

    @property
    def layout(self) -> tuple[int, int, int, int]:
        """What every frame of one encoding shares besides the id."""
        return (self.flags, self.count, self.length, len(self.part))

    def indexes(self) -> frozenset[int]:
        """The fragments this frame's part combines (0-based)."""
        return fountain.choose_fragments(self.seq, self.count, int.from_bytes(self.msg_id, "big"))


def _header(flags: int, seq: int, count: int, length: int, msg_id: bytes) -> bytes:
    return (bytes(((FORMAT_VERSION << 4) | flags,)) + seq.to_bytes(4, "big") + count.to_bytes(2, "big")
            + length.to_bytes(4, "big") + msg_id)


class Encoder:
    """The frames of one message at QR version <= ``max_version``, level ``ec``.

    ``count`` is the fewest frames that can carry it; :meth:`text` gives the
    frame of any part number, :meth:`sequence` the order in which ct shows
    and writes them (``fountain.sequence``).
    """

    def __init__(self, message: bytes, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC) -> None:
        _check_params(max_version, ec)
        if not isinstance(message, (bytes, bytearray, memoryview)):
            raise TypeError("message must be bytes")
        message = bytes(message)
        if len(message) > MAX_MESSAGE:
            raise UsageError(f"message of {len(message)} bytes is too large for QR transport "
                             f"(at most {MAX_MESSAGE})", "carry it as a file on removable media")
        self.size = len(message)
        self.max_version = max_version
        self.ec = ec
        self.digest = hashlib.sha256(message).digest()
        self.msg_id = self.digest[:ID_LEN]
        self.flags = 0
        body = message
        if message:
            co = zlib.compressobj(9, zlib.DEFLATED, -15)
            packed = co.compress(message) + co.flush()
            if len(packed) < len(message):
                body, self.flags = packed, FLAG_DEFLATE
        stream = body + self.digest
        self.length = len(stream)
        per = frame_capacity(max_version, ec) - HEADER_LEN
        if per < 1:
            raise UsageError(f"a QR code of version {max_version} at level {ec} is too small for a frame",
                             f"use version {min_version(ec)} or larger")
        self.fragment = fountain.fragment_length(self.length, per)
        self.fragments = fountain.partition(stream, self.fragment)
        self.count = len(self.fragments)
        if self.count > MAX_PARTS:
            raise UsageError(
                f"message of {len(message)} bytes needs {self.count} parts at QR version {max_version}/{ec}; "
                f"the limit is {MAX_PARTS}",
                "carry it as a file on removable media, or use larger QR codes")
        self._checksum = int.from_bytes(self.msg_id, "big")

    @property
    def id_hex(self) -> str:
        return self.msg_id.hex()

    @property
    def default_frames(self) -> int:
        """How many frames ``ct qr encode -o`` writes by default: 1.5 times ``count``, rounded up."""
        return -(-self.count * 3 // 2)

    def text(self, seq: int) -> str:
        """The frame text (base45) of part ``seq``."""
        if not 1 <= seq <= MAX_SEQ:
            raise ValueError("part number out of range")
        part = fountain.mix(self.fragments, fountain.choose_fragments(seq, self.count, self._checksum))
        return base45.encode(_header(self.flags, seq, self.count, self.length, self.msg_id) + part)

    def sequence(self) -> Iterator[int]:
        """Part numbers in the order ct shows and writes them, without end."""
        return fountain.sequence(self.count, self._checksum, self.default_frames)

    def texts(self, n: int | None = None) -> list[str]:
        """The first ``n`` frame texts of :meth:`sequence` (default :attr:`default_frames`)."""
        n = self.default_frames if n is None else n
        seqs = self.sequence()
        return [self.text(next(seqs)) for _ in range(n)]


def split(message: bytes, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC,
          frames: int | None = None) -> list[str]:
    """Frame texts of ``message`` (the first ``frames`` of its stream; default 1.5 times the minimum)."""
    return Encoder(message, max_version, ec).texts(frames)


def parse_frame(text: str | bytes) -> Frame:
    """Parse one frame text; raise :class:`Malformed` if it is not a ct frame."""
    hint = "this QR code is not a frame of 'ct qr encode'; scan only the frames of the message"
    if isinstance(text, (bytes, bytearray)):
        try:
            text = bytes(text).decode("ascii")
        except UnicodeDecodeError:
            raise Malformed("QR code is not a ct frame (not base45 text)", hint) from None
    try:
        raw = base45.decode(text, "frame")
    except Malformed as e:
        raise Malformed(f"QR code is not a ct frame ({e.message})", hint) from None
    if len(raw) < HEADER_LEN + 1:
        raise Malformed(f"QR code is not a ct frame (only {len(raw)} bytes)", hint)
    vf = raw[0]
    version, flags = vf >> 4, vf & 0x0F
    if version != FORMAT_VERSION:
        raise Malformed(f"QR frame has format version {version}; this ct reads version {FORMAT_VERSION}",
                        "encode the message again with this ct, or scan the right code")
    if flags & ~KNOWN_FLAGS:
        raise Malformed(f"QR frame has unknown flags 0x{flags:x}", "decode it with a newer ct")
    seq = int.from_bytes(raw[1:5], "big")
    count = int.from_bytes(raw[5:7], "big")
    length = int.from_bytes(raw[7:11], "big")
    part = raw[HEADER_LEN:]
    if seq < 1:
        raise Malformed("QR frame has part number 0", hint)
    if not 1 <= count <= MAX_PARTS:
        raise Malformed(f"QR frame claims {count} parts (1 to {MAX_PARTS} allowed)", hint)
    if not DIGEST_LEN <= length <= MAX_STREAM:
        raise Malformed(f"QR frame claims a stream of {length} bytes ({DIGEST_LEN} to {MAX_STREAM} allowed)", hint)
    if -(-length // len(part)) != count:
        raise Malformed(f"QR frame is inconsistent: {count} parts of {len(part)} bytes cannot hold "
                        f"exactly {length} bytes", hint)
    return Frame(version, flags, seq, count, length, raw[11:HEADER_LEN], part)


class OtherMessage(Malformed):
    """A valid frame that belongs to another message (or another encoding of it) than the one being read."""


class Progress(NamedTuple):
    """Where an :class:`Assembler` stands after a frame."""

    seq: int
    new: bool  # False for a part number already received
    useful: bool  # it added information (False for duplicates and redundant mixes)
    recovered: int  # parts' worth of information so far (the rank); the message is complete at ``count``
    count: int
    frames: int  # distinct frames received

    @property
    def needed(self) -> int:
        """At least this many more frames are needed."""
        return self.count - self.recovered

    @property
    def percent(self) -> int:
        return self.recovered * 100 // self.count


class Assembler:
    """Collects frames of one message in any order and reassembles it.

    The first frame fixes the message (id) and its encoding (flags, count,
    length, part size).  ``feed`` refuses a frame of another message or
    encoding (:class:`OtherMessage`), ignores a repeated part number (and
    refuses one whose part differs: a misread), and solves the parts over
    GF(2) as they come (``fountain.Solver``).
    """

    def __init__(self) -> None:
        self._first: Frame | None = None
        self._solver: fountain.Solver | None = None
        self._seen: dict[int, bytes] = {}
        self.duplicates = 0
        self.redundant = 0

    # --- state
    @property
    def count(self) -> int | None:
        return self._first.count if self._first else None

    @property
    def msg_id(self) -> str | None:
        """Hex of the message id (first 4 bytes of its sha256) once a frame arrived."""
        return self._first.id_hex if self._first else None

    @property
    def frames(self) -> int:
        """Distinct frames (part numbers) received."""
        return len(self._seen)

    @property
    def recovered(self) -> int:
        return self._solver.rank if self._solver else 0

    @property
    def complete(self) -> bool:
        return self._solver is not None and self._solver.complete

    # --- input
    def feed(self, text: str | bytes) -> Progress:
        return self.feed_frame(parse_frame(text))

    def feed_frame(self, f: Frame) -> Progress:
        first = self._first
        if first is None:
            self._first = first = f
            self._solver = fountain.Solver(f.count, len(f.part))
        elif f.msg_id != first.msg_id:
            raise OtherMessage(
                f"frame {f.seq} belongs to message {f.id_hex}, not to message {first.id_hex} being decoded",
                "decode the frames of one message at a time")
        elif f.layout != first.layout:
            raise OtherMessage(
                f"frame {f.seq} of message {f.id_hex} comes from another encoding of it than frame {first.seq} "
                "(QR size or error correction differ)",
                "scan the frames of one encoding: the ones one player shows, or one folder")
        assert self._solver is not None
        seen = self._seen.get(f.seq)
        if seen is not None:
            if seen != f.part:
                raise HashMismatch(f"frame {f.seq} of message {f.id_hex} was read twice with different content",
                                   "a frame was altered or misread; rescan the frames")
            self.duplicates += 1
            return Progress(f.seq, False, False, self._solver.rank, f.count, len(self._seen))
        self._seen[f.seq] = f.part
        added = self._solver.add(f.indexes(), f.part)
        if added is None:
            raise HashMismatch(f"frame {f.seq} of message {f.id_hex} contradicts the frames read before it",
                               "a frame was altered or misread; rescan the frames")
        if not added:
            self.redundant += 1
        return Progress(f.seq, True, added, self._solver.rank, f.count, len(self._seen))

    # --- output
    def check_complete(self) -> None:
        """Raise :class:`Malformed` saying how many more frames are needed, if any."""
        if self._first is None:
            raise Malformed("no QR frames were read", "scan the frames shown by 'ct qr encode'")
        if not self.complete:
            need = self._first.count - self.recovered
            raise Malformed(
                f"not enough frames for message {self._first.id_hex}: {self.recovered} of {self._first.count} "
                f"parts recovered from {len(self._seen)} frames; at least {need} more "
                f"frame{'s are' if need != 1 else ' is'} needed",
                "add more frames of this message, any, in any order ('ct qr encode --frames N' writes more; "
                "the player shows new ones without end), and decode them together")

    def message(self) -> bytes:
        """The reassembled message, checked against its full SHA-256 digest."""
        self.check_complete()
        assert self._first is not None and self._solver is not None
        first = self._first
        stream = b"".join(self._solver.fragments())[:first.length]
        hint = "a frame was altered or misread; rescan the frames"
        body, digest = stream[:-DIGEST_LEN], stream[-DIGEST_LEN:]
        if digest[:ID_LEN] != first.msg_id:
            raise HashMismatch(
                f"frames carry message id {first.id_hex} but the digest inside is sha256 {digest.hex()}", hint)
        if first.flags & FLAG_DEFLATE:
            message = _inflate(body, digest, hint)
        else:
            message = body
        actual = hashlib.sha256(message).digest()
        if actual != digest:
            raise HashMismatch(
                f"reassembled message does not match its digest: expected sha256 {digest.hex()}, "
                f"got {actual.hex()}", hint)
        return message


def _inflate(body: bytes, digest: bytes, hint: str) -> bytes:
    d = zlib.decompressobj(-15)
    try:
        out = d.decompress(body, MAX_MESSAGE + 1)
    except zlib.error as e:
        raise HashMismatch(
            f"reassembled message (sha256 {digest.hex()}) is corrupt: its deflate data does not decompress ({e})",
            hint) from None
    if len(out) > MAX_MESSAGE:
        raise Malformed(f"reassembled message is larger than {MAX_MESSAGE} bytes once decompressed",
                        "QR transport is for ceremony messages; carry large files on removable media")
    if not d.eof or d.unused_data:
        raise HashMismatch(
            f"reassembled message (sha256 {digest.hex()}) is corrupt: "
            "its deflate data is truncated or has trailing bytes", hint)
    return out


def join(texts: Iterable[str | bytes]) -> bytes:
    """Reassemble a message from frame texts (any order, duplicates ignored)."""
    a = Assembler()
    for t in texts:
        a.feed(t)
        if a.complete:
            break
    return a.message()


# --------------------------------------------------------------------------- QR codes (segno)

def make_code(text: str, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC) -> Any:
    """A ``segno.QRCode`` holding frame ``text`` in one alphanumeric segment, smallest version that fits.

    ``code.version`` is the version used (the library's choice, which the tests check against
    :func:`alphanumeric_capacity`).  Any text, including long runs of ``0`` (zero bytes in base45),
    is drawn: ``qrcode`` 8.2, used before, failed on a Reed-Solomon block of zero codewords.
    """
    _check_params(max_version, ec)
    need = text_version(len(text), ec)
    if need is None or need > max_version:
        fits = f"version {need}" if need else "no QR version"
        raise UsageError(f"frame of {len(text)} characters needs QR version {max_version} or less at level {ec}, "
                         f"but {fits} holds it",
                         "encode the message again with the same version limit and level as this frame")
    import segno

    return segno.make(text, error=ec, mode="alphanumeric", micro=False, boost_error=False)


def frame_filename(number: int, total: int) -> str:
    width = max(2, len(str(total)))
    return f"frame-{number:0{width}d}-of-{total:0{width}d}.png"


def png_bytes(code: Any) -> bytes:
    """The PNG of a :func:`make_code` code: black on white, 1-bit, 6 pixels a module, a 4-module quiet zone."""
    import io

    buf = io.BytesIO()
    code.save(buf, kind="png", scale=6, border=4)
    return buf.getvalue()


def encode_png(message: bytes, out_dir: str | os.PathLike[str], max_version: int = DEFAULT_MAX_VERSION,
               ec: str = DEFAULT_EC, *, frames: int | None = None, force: bool = False) -> list[str]:
    """Write the first ``frames`` frames of ``message`` (default 1.5 times the minimum) as
    ``out_dir/frame-NN-of-MM.png``; return their paths (see :func:`write_png_set`)."""
    check_out_dir(out_dir, force=force)
    texts = Encoder(message, max_version, ec).texts(frames)
    return write_png_set(texts, out_dir, max_version, ec, force=force)


def check_out_dir(out_dir: str | os.PathLike[str], *, force: bool = False) -> bool:
    """Check that a frame set may be written to ``out_dir``; True if an earlier set will be replaced."""
    out_dir = os.path.abspath(os.fspath(out_dir))
    parent = os.path.dirname(out_dir)
    if not os.path.isdir(parent):
        raise NotFound(f"folder {parent} does not exist", "create it first, or choose another -o")
    if not os.path.lexists(out_dir):
        return False
    if not os.path.isdir(out_dir) or os.path.islink(out_dir):
        raise AlreadyExists(f"{out_dir} exists and is not a folder", "choose another -o")
    entries = os.listdir(out_dir)
    if not entries:
        return False
    if not force:
        raise AlreadyExists(f"folder {out_dir} is not empty",
                            "pass --force to replace an earlier frame set, or choose another -o")
    others = sorted(e for e in entries if not FRAME_NAME.match(e))
    if others:
        raise AlreadyExists(f"folder {out_dir} holds files other than QR frames (e.g. {others[0]})",
                            "choose an empty or new folder for -o")
    return True


def write_png_set(texts: Sequence[str], out_dir: str | os.PathLike[str], max_version: int = DEFAULT_MAX_VERSION,
                  ec: str = DEFAULT_EC, *, force: bool = False) -> list[str]:
    """Write frame ``texts`` as QR codes (:func:`make_code`) in ``out_dir/frame-NN-of-MM.png``; return their paths.

    The set is built in a temporary folder next to ``out_dir`` (every file
    written atomically) and renamed into place, so ``out_dir`` never holds a
    partial set.  ``out_dir`` must not exist or be empty; with ``force`` a
    folder holding only an earlier frame set is replaced.  Each PNG is read
    back with zbar before the set is moved into place.
    """
    from .scan import read_image

    out_dir = os.path.abspath(os.fspath(out_dir))
    parent = os.path.dirname(out_dir)
    replace_old = check_out_dir(out_dir, force=force)
    total = len(texts)
    tmp = tempfile.mkdtemp(prefix=".ct-qr-", dir=parent)
    old = None
    try:
        for i, text in enumerate(texts, 1):
            path = os.path.join(tmp, frame_filename(i, total))
            atomic_write(path, png_bytes(make_code(text, max_version, ec)))
            if read_image(path) != [text.encode("ascii")]:
                raise SelfTestFailed(f"frame {i} of {total} did not read back from its PNG",
                                     "this is a bug in ct or its QR libraries; report it")
        os.chmod(tmp, 0o755)
        if replace_old:
            old = tempfile.mkdtemp(prefix=".ct-qr-old-", dir=parent)
            os.rename(out_dir, os.path.join(old, "set"))
        os.rename(tmp, out_dir)  # also replaces an empty out_dir atomically
        fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        if old and os.path.isdir(os.path.join(old, "set")) and not os.path.exists(out_dir):
            os.rename(os.path.join(old, "set"), out_dir)
        raise
    finally:
        if old:
            shutil.rmtree(old, ignore_errors=True)
    return [os.path.join(out_dir, frame_filename(i, total)) for i in range(1, total + 1)]


# --------------------------------------------------------------------------- terminal

_SGR_BLACK_ON_WHITE = "\x1b[30;107m"
_SGR_RESET = "\x1b[0m"


def render_matrix(matrix: Sequence[Sequence[bool]], *, color: bool = True, light_on_dark: bool = True) -> str:
    """Draw a module matrix (True = dark, quiet zone included) with Unicode half blocks, 1 x 2 modules a cell.

    ``color``: black modules on a white ground set with SGR codes (30;107), so
    the code shows the same on any terminal theme.  Without colour (NO_COLOR,
    not a terminal) no escape codes are written: the *light* modules and the
    quiet zone are drawn as blocks in the terminal's text colour, which gives a
    dark-on-light code on the usual light-text-on-dark terminal; pass
    ``light_on_dark=False`` for a terminal with dark text on a light ground.
    """
    rows = [list(r) for r in matrix]
    if len(rows) % 2:
        rows.append([False] * len(rows[0]))
    # ink = modules drawn with the glyph (foreground); the rest shows the background
    draw_dark = color or not light_on_dark
    glyph = {(False, False): " ", (True, False): "\u2580", (False, True): "\u2584", (True, True): "\u2588"}
    lines = []
    for top, bottom in zip(rows[0::2], rows[1::2]):
        if draw_dark:
            line = "".join(glyph[(t, b)] for t, b in zip(top, bottom))
        else:
            line = "".join(glyph[(not t, not b)] for t, b in zip(top, bottom))
        if color:
            line = _SGR_BLACK_ON_WHITE + line + _SGR_RESET
        lines.append(line)
    return "\n".join(lines)


def terminal_frame(text: str, version: int, ec: str = DEFAULT_EC, *, color: bool = True,
                   light_on_dark: bool = True) -> str:
    """The QR code of frame ``text`` drawn for a terminal (quiet zone of :data:`TERMINAL_BORDER` modules)."""
    code = make_code(text, version, ec)
    return render_matrix([[bool(m) for m in row] for row in code.matrix_iter(border=TERMINAL_BORDER)],
                         color=color, light_on_dark=light_on_dark)

