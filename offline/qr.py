"""Multi-frame QR transport (``spec/qr.md``).

A message (any bytes: a ceremony message, a reply) that is too large for one
QR code is cut into frames.  Each frame is one QR code in alphanumeric mode
whose text is the base45 encoding of a 7-byte header and a chunk of the
*stream*; the stream is the message (deflated when that makes it smaller)
followed by the message's full SHA-256 digest::

    stream = body || sha256(message)              body = message or deflate(message)
    frame  = base45( vf || number || count || id || chunk )
             vf: format version (high nibble, 1) | flags (low nibble; bit 0 = deflate)
             number, count: 1-based frame number and frame count (1 byte each)
             id: the first 4 bytes of sha256(message)

Frames decode in any order; duplicates are ignored; a frame of another
message is refused naming both ids; missing frames are named by number; the
reassembled message is checked against the full digest.

The pure part (:func:`split`, :class:`Assembler`, :func:`parse_frame`,
capacity) imports nothing outside the standard library and
``cerro_torre.suites``; the edges (:func:`make_code`, :func:`encode_png`,
:func:`decode_images`, :func:`render_terminal`) import ``qrcode``, ``pyzbar``
and Pillow when called.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
import zlib
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

from . import base45

if TYPE_CHECKING:  # pragma: no cover
    from collections.abc import Iterable, Sequence

FORMAT_VERSION = 1
FLAG_DEFLATE = 0x01
KNOWN_FLAGS = FLAG_DEFLATE
HEADER_LEN = 7
ID_LEN = 4
DIGEST_LEN = 32
MAX_FRAMES = 255
MAX_MESSAGE = 16 * 1024 * 1024  # decompression bound: QR transport is for ceremony-sized messages
DEFAULT_MAX_VERSION = 25
DEFAULT_EC = "M"
EC_LEVELS = ("L", "M", "Q", "H")
FRAME_NAME = re.compile(r"^frame-(\d{2,3})-of-(\d{2,3})\.png$")


# --------------------------------------------------------------------------- capacity

def _ec_constant(ec: str) -> int:
    import qrcode.constants as c

    return {"L": c.ERROR_CORRECT_L, "M": c.ERROR_CORRECT_M,
            "Q": c.ERROR_CORRECT_Q, "H": c.ERROR_CORRECT_H}[ec]


def _check_params(max_version: int, ec: str) -> None:
    if not isinstance(max_version, int) or not 1 <= max_version <= 40:
        raise UsageError(f"QR version must be 1 to 40, not {max_version}", "25 is a good size for a camera")
    if ec not in EC_LEVELS:
        raise UsageError(f"error correction level must be one of L, M, Q, H, not {ec!r}")


def data_codewords(version: int, ec: str) -> int:
    """Data codewords of a QR code of ``version`` at error correction ``ec`` (ISO/IEC 18004 table 9)."""
    _check_params(version, ec)
    from qrcode.base import rs_blocks

    return sum(b.data_count for b in rs_blocks(version, _ec_constant(ec)))


def alphanumeric_capacity(version: int, ec: str) -> int:
    """How many characters one QR code holds in a single alphanumeric-mode segment.

    Bits: 4 (mode) + character count (9 bits to version 9, 11 to 26, 13 after)
    + 11 per pair of characters + 6 for an odd last one.
    """
    bits = data_codewords(version, ec) * 8 - 4 - (9 if version < 10 else 11 if version < 27 else 13)
    return (bits // 11) * 2 + (1 if bits % 11 >= 6 else 0)


def frame_capacity(version: int, ec: str) -> int:
    """Bytes (header + chunk) one frame carries at ``version``/``ec``."""
    return base45.max_bytes(alphanumeric_capacity(version, ec))


# --------------------------------------------------------------------------- frames

@dataclass(frozen=True)
class Frame:
    """One parsed frame."""

    version: int
    flags: int
    number: int  # 1-based
    count: int
    msg_id: bytes  # first ID_LEN bytes of sha256(message)
    chunk: bytes

    @property
    def id_hex(self) -> str:
        return self.msg_id.hex()


def _header(flags: int, number: int, count: int, msg_id: bytes) -> bytes:
    return bytes(((FORMAT_VERSION << 4) | flags, number, count)) + msg_id


def plan(message: bytes, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC) -> tuple[int, bytes, list[bytes]]:
    """Return ``(flags, digest, chunks)`` for ``message``: the stream cut into even chunks."""
    _check_params(max_version, ec)
    if not isinstance(message, (bytes, bytearray, memoryview)):
        raise TypeError("message must be bytes")
    message = bytes(message)
    digest = hashlib.sha256(message).digest()
    flags = 0
    body = message
    if message:
        co = zlib.compressobj(9, zlib.DEFLATED, -15)
        packed = co.compress(message) + co.flush()
        if len(packed) < len(message):
            body, flags = packed, FLAG_DEFLATE
    stream = body + digest
    per = frame_capacity(max_version, ec) - HEADER_LEN
    if per < 1:
        raise UsageError(f"a QR code of version {max_version} at level {ec} is too small for a frame",
                         "raise --max-version")
    count = -(-len(stream) // per)
    if count > MAX_FRAMES:
        raise UsageError(
            f"message of {len(message)} bytes needs {count} frames at QR version {max_version}/{ec}; "
            f"the limit is {MAX_FRAMES}",
            "carry it as a file on removable media, or raise --max-version")
    q, r = divmod(len(stream), count)
    chunks: list[bytes] = []
    pos = 0
    for i in range(count):
        n = q + (1 if i < r else 0)
        chunks.append(stream[pos:pos + n])
        pos += n
    return flags, digest, chunks


def split(message: bytes, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC) -> list[str]:
    """Cut ``message`` into frame texts (base45), each fitting a QR code of version <= ``max_version``.

    The stream is cut into the fewest chunks that fit, all of (nearly) the same
    size, so every frame uses the smallest QR version that holds it.
    """
    flags, digest, chunks = plan(message, max_version, ec)
    count = len(chunks)
    msg_id = digest[:ID_LEN]
    return [base45.encode(_header(flags, i + 1, count, msg_id) + c) for i, c in enumerate(chunks)]


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
    vf, number, count = raw[0], raw[1], raw[2]
    version, flags = vf >> 4, vf & 0x0F
    if version != FORMAT_VERSION:
        raise Malformed(f"QR frame has format version {version}; this ct reads version {FORMAT_VERSION}",
                        "decode it with the ct version that encoded it, or scan the right code")
    if flags & ~KNOWN_FLAGS:
        raise Malformed(f"QR frame has unknown flags 0x{flags:x}", "decode it with a newer ct")
    if count < 1 or not 1 <= number <= count:
        raise Malformed(f"QR frame has an invalid number {number} of {count}", hint)
    return Frame(version, flags, number, count, raw[3:HEADER_LEN], raw[HEADER_LEN:])


def _numbers(ns: Iterable[int]) -> str:
    return ", ".join(str(n) for n in ns)


class Progress(NamedTuple):
    """What one :meth:`Assembler.feed` did."""

    number: int
    count: int
    new: bool  # False for a duplicate
    received: int
    missing: tuple[int, ...]


class Assembler:
    """Collects frames of one message in any order and reassembles it.

    ``feed`` refuses a frame of another message (other id), a frame whose count
    or flags disagree with the first, and a second, different frame under a
    number already seen; an identical duplicate is ignored.
    """

    def __init__(self) -> None:
        self._chunks: dict[int, bytes] = {}
        self._first: Frame | None = None
        self.duplicates = 0

    # --- state
    @property
    def count(self) -> int | None:
        return self._first.count if self._first else None

    @property
    def msg_id(self) -> str | None:
        """Hex of the message id (first 4 bytes of its sha256) once a frame arrived."""
        return self._first.id_hex if self._first else None

    @property
    def received(self) -> int:
        return len(self._chunks)

    @property
    def missing(self) -> list[int]:
        """Frame numbers (1-based) not yet received; empty before the first frame."""
        if not self._first:
            return []
        return [n for n in range(1, self._first.count + 1) if n not in self._chunks]

    @property
    def complete(self) -> bool:
        return self._first is not None and len(self._chunks) == self._first.count

    # --- input
    def feed(self, text: str | bytes) -> Progress:
        f = parse_frame(text)
        first = self._first
        if first is None:
            self._first = first = f
        elif f.msg_id != first.msg_id:
            raise Malformed(
                f"frame {f.number} of {f.count} belongs to message {f.id_hex}, "
                f"not to message {first.id_hex} being decoded",
                "decode the frames of one message at a time")
        elif f.count != first.count or f.flags != first.flags:
            raise Malformed(
                f"frame {f.number} of {f.count} of message {f.id_hex} disagrees with frame "
                f"{first.number} of {first.count} (count or flags differ)",
                "the frames come from two encodings of the message; scan one set")
        seen = self._chunks.get(f.number)
        if seen is not None:
            if seen != f.chunk:
                raise Malformed(
                    f"frame {f.number} of {f.count} of message {f.id_hex} was read twice with different content",
                    f"rescan frame {f.number}")
            self.duplicates += 1
            new = False
        else:
            self._chunks[f.number] = f.chunk
            new = True
        return Progress(f.number, f.count, new, len(self._chunks), tuple(self.missing))

    # --- output
    def check_complete(self) -> None:
        """Raise :class:`Malformed` naming the missing frames, if any."""
        if self._first is None:
            raise Malformed("no QR frames were read", "scan the frames shown by 'ct qr encode'")
        missing = self.missing
        if missing:
            word = "frame" if len(missing) == 1 else "frames"
            raise Malformed(
                f"missing {word} {_numbers(missing)} of {self._first.count}",
                f"rescan {word} {_numbers(missing)} and decode them together with the frames you have")

    def message(self) -> bytes:
        """The reassembled message, checked against its full SHA-256 digest."""
        self.check_complete()
        assert self._first is not None
        first = self._first
        stream = b"".join(self._chunks[n] for n in range(1, first.count + 1))
        hint = "a frame was altered or misread; rescan all frames"
        if len(stream) < DIGEST_LEN:
            raise Malformed(f"frames of message {first.id_hex} are too short to hold a digest", hint)
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
    return a.message()


# --------------------------------------------------------------------------- QR codes (qrcode)

def make_code(text: str, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC,
              *, box_size: int = 6, border: int = 4) -> Any:
    """A ``qrcode.QRCode`` holding ``text`` in one alphanumeric segment, smallest version that fits.

    ``code.version`` is the version actually used.
    """
    _check_params(max_version, ec)
    import qrcode
    from qrcode.util import MODE_ALPHA_NUM, QRData

    code = qrcode.QRCode(version=None, error_correction=_ec_constant(ec), box_size=box_size, border=border)
    code.add_data(QRData(text.encode("ascii"), mode=MODE_ALPHA_NUM))
    try:
        code.make(fit=True)
    except Exception as e:  # qrcode raises DataOverflowError past version 40
        raise UsageError(f"frame of {len(text)} characters does not fit a QR code ({e})") from None
    if code.version > max_version:
        raise UsageError(f"frame of {len(text)} characters needs QR version {code.version} > {max_version}")
    return code


def codes(message: bytes, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC,
          **kw: int) -> list[Any]:
    """``qrcode.QRCode`` objects of all frames of ``message``."""
    return [make_code(t, max_version, ec, **kw) for t in split(message, max_version, ec)]


def frame_filename(number: int, count: int) -> str:
    width = 2 if count < 100 else 3
    return f"frame-{number:0{width}d}-of-{count:0{width}d}.png"


def png_bytes(code: Any) -> bytes:
    import io

    img = code.make_image()  # black on white, 1-bit
    buf = io.BytesIO()
    img.save(buf, format="PNG")
    return buf.getvalue()


def encode_png(message: bytes, out_dir: str | os.PathLike[str], max_version: int = DEFAULT_MAX_VERSION,
               ec: str = DEFAULT_EC, *, box_size: int = 6, border: int = 4, force: bool = False) -> list[str]:
    """Write the frames of ``message`` as ``out_dir/frame-NN-of-MM.png``; return their paths.

    See :func:`write_png_set` for how ``out_dir`` is filled.
    """
    check_out_dir(out_dir, force=force)
    return write_png_set(codes(message, max_version, ec, box_size=box_size, border=border), out_dir, force=force)


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


def write_png_set(frames: Sequence[Any], out_dir: str | os.PathLike[str], *, force: bool = False) -> list[str]:
    """Write ``qrcode.QRCode`` frames as ``out_dir/frame-NN-of-MM.png``; return their paths.

    The set is built in a temporary folder next to ``out_dir`` (every file
    written atomically) and renamed into place, so ``out_dir`` never holds a
    partial set.  ``out_dir`` must not exist or be empty; with ``force`` a
    folder holding only an earlier frame set is replaced.  Each PNG is read
    back with zbar before the set is moved into place.
    """
    out_dir = os.path.abspath(os.fspath(out_dir))
    parent = os.path.dirname(out_dir)
    replace_old = check_out_dir(out_dir, force=force)
    count = len(frames)
    tmp = tempfile.mkdtemp(prefix=".ct-qr-", dir=parent)
    old = None
    try:
        for i, code in enumerate(frames, 1):
            path = os.path.join(tmp, frame_filename(i, count))
            atomic_write(path, png_bytes(code))
            expected = b"".join(bytes(d.data) for d in code.data_list)
            if scan_image(path) != [expected]:
                raise SelfTestFailed(f"frame {i} of {count} did not read back from its PNG",
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
    return [os.path.join(out_dir, frame_filename(i, count)) for i in range(1, count + 1)]


# --------------------------------------------------------------------------- decoding images (pyzbar)

def _zbar(img: Any) -> list[bytes]:
    from pyzbar.pyzbar import ZBarSymbol
    from pyzbar.pyzbar import decode as zdecode

    return [r.data for r in zdecode(img, symbols=[ZBarSymbol.QRCODE])]


def _variants(gray: Any) -> Iterable[Any]:
    """Versions of the image to hand zbar, cheapest first.

    zbar's time grows with the pixel count, and a frame PNG or a photo has far
    more pixels per module than zbar needs, so smaller copies are tried first
    (a clean frame decodes from a 480-pixel copy in a few ms); then the image
    as given; then clean-ups that help with photos of screens.
    """
    from PIL import Image, ImageFilter, ImageOps

    w, h = gray.size
    side = max(w, h)
    for limit in (480, 960, 1920):
        if side > limit * 1.25:
            f = limit / side
            yield gray.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
    yield gray
    if side > 1600:
        f = 1600 / side
        gray = gray.resize((max(1, round(w * f)), max(1, round(h * f))), Image.Resampling.BOX)
        w, h = gray.size
    yield ImageOps.autocontrast(gray, cutoff=1)
    if max(w, h) < 800:
        yield gray.resize((w * 2, h * 2), Image.Resampling.BICUBIC)
    yield gray.filter(ImageFilter.MedianFilter(3))
    thr = _otsu(gray.histogram())
    yield gray.point(lambda p: 255 if p > thr else 0)
    yield ImageOps.invert(gray)  # a light-on-dark code (e.g. a terminal without colour)


def _otsu(hist: list[int]) -> int:
    """Otsu's threshold of a 256-bin histogram."""
    total = sum(hist)
    sum_all = sum(i * c for i, c in enumerate(hist))
    wb = 0
    sb = 0.0
    best, thr = -1.0, 128
    for t in range(256):
        wb += hist[t]
        if wb == 0:
            continue
        wf = total - wb
        if wf == 0:
            break
        sb += t * hist[t]
        mb, mf = sb / wb, (sum_all - sb) / wf
        between = wb * wf * (mb - mf) ** 2
        if between > best:
            best, thr = between, t
    return thr


def scan_image(path: str | os.PathLike[str]) -> list[bytes]:
    """Texts of the QR codes zbar finds in the image file ``path`` (PNG, JPEG, ...)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = os.fspath(path)
    if not os.path.exists(p):
        raise NotFound(f"image {p} does not exist", "check the path")
    try:
        with Image.open(p) as im:
            im = ImageOps.exif_transpose(im)
            gray = im.convert("L")
    except (UnidentifiedImageError, OSError, ValueError) as e:
        if isinstance(e, IsADirectoryError):
            raise Malformed(f"{p} is a folder, not an image", "pass the image files, e.g. DIR/*.png") from None
        raise Malformed(f"{p} is not an image Pillow can read", "pass PNG or JPEG files") from None
    for v in _variants(gray):
        found = _zbar(v)
        if found:
            return found
    return []


def read_images(paths: Sequence[str | os.PathLike[str]], assembler: Assembler | None = None) -> Assembler:
    """Feed every QR code found in ``paths`` into an :class:`Assembler` (a new one unless given)."""
    a = assembler or Assembler()
    for path in paths:
        p = os.fspath(path)
        found = scan_image(p)
        if not found:
            raise Malformed(f"no QR code found in {p}",
                            "photograph the screen again: closer, in focus, without glare")
        for data in found:
            try:
                a.feed(data)
            except Malformed as e:
                raise Malformed(f"{p}: {e.message}", *e.hints) from None
    return a


def decode_images(paths: Sequence[str | os.PathLike[str]]) -> bytes:
    """Reassemble the message whose frames are in the images ``paths`` (any order, duplicates ignored)."""
    return read_images(paths).message()


# --------------------------------------------------------------------------- terminal

_SGR_BLACK_ON_WHITE = "\x1b[30;107m"
_SGR_RESET = "\x1b[0m"


def render_terminal(text: str, max_version: int = DEFAULT_MAX_VERSION, ec: str = DEFAULT_EC, *,
                    color: bool = True, light_on_dark: bool = True, border: int = 4) -> str:
    """The QR code of frame ``text`` drawn with Unicode half blocks, one character per 1x2 modules.

    ``color``: black modules on a white ground set with SGR codes (30;107), so
    the code shows the same on any terminal theme.  Without colour (NO_COLOR,
    not a terminal) no escape codes are written: the *light* modules and the
    quiet zone are drawn as blocks in the terminal's text colour, which gives a
    dark-on-light code on the usual light-text-on-dark terminal; pass
    ``light_on_dark=False`` for a terminal with dark text on a light ground.
    """
    code = make_code(text, max_version, ec, border=border)
    return render_matrix(code.get_matrix(), color=color, light_on_dark=light_on_dark)


def render_matrix(matrix: Sequence[Sequence[bool]], *, color: bool = True, light_on_dark: bool = True) -> str:
    """Draw a module matrix (True = dark, quiet zone included) with half blocks."""
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
