"""`ct qr encode` and `ct qr decode`: carry a message across the air gap as QR codes (spec/qr.md)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from .commands import common

if TYPE_CHECKING:
    from .main import Context

EC_CHOICES = ("L", "M", "Q", "H")
CLEAR = "\x1b[H\x1b[2J"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser("qr", help="carry a file across the air gap as QR codes",
                              description="Split a file into QR frames, or reassemble it from images of them."))
    qsub = p.add_subparsers(dest="qr_command", metavar="ACTION", parser_class=type(p))
    qsub.required = True

    q = common(qsub.add_parser(
        "encode", help="split FILE into QR frames (PNG files or the terminal)",
        description="Split FILE into QR codes (alphanumeric mode, base45): numbered PNGs in DIR, "
                    "or shown one after another in the terminal."))
    q.add_argument("file", metavar="FILE")
    where = q.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="DIR", help="write DIR/frame-NN-of-MM.png (DIR new or empty)")
    where.add_argument("--terminal", action="store_true", help="show the frames in the terminal")
    q.add_argument("--max-version", type=int, default=25, metavar="N",
                   help="largest QR version (1-40) of a frame (default 25)")
    q.add_argument("--ec", choices=EC_CHOICES, default="M", type=str.upper,
                   help="error correction level (default M)")
    q.add_argument("--fps", type=float, default=None, metavar="F",
                   help="with --terminal: frames per second (default 1)")
    q.add_argument("--loops", type=int, default=None, metavar="N",
                   help="with --terminal: show the set N times, then stop (default: until ctrl-c)")
    q.add_argument("--force", action="store_true", help="replace an earlier frame set in DIR")
    q.set_defaults(handler="cerro_torre.cli.qr:cmd_encode")

    q = common(qsub.add_parser(
        "decode", help="reassemble a file from images of its QR frames",
        description="Reassemble a file from PNG/JPEG images of its QR frames, in any order; duplicates are "
                    "ignored and the result is checked against its SHA-256 digest."))
    q.add_argument("images", nargs="+", metavar="IMAGE")
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the file")
    q.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    q.set_defaults(handler="cerro_torre.cli.qr:cmd_decode")


def _read_input(path: str) -> bytes:
    from cerro_torre.offline.qr import MAX_MESSAGE
    from cerro_torre.suites.errors import NotFound, UsageError

    if not os.path.exists(path):
        raise NotFound(f"file {path} does not exist", "check the path")
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder, not a file", "pass the file to encode")
    if os.path.getsize(path) > MAX_MESSAGE:
        raise UsageError(f"{path} is too large for QR transport ({os.path.getsize(path)} bytes)",
                         "carry it as a file on removable media")
    with open(path, "rb") as f:
        return f.read()


def _isatty(stream) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def cmd_encode(ctx: Context) -> int:
    import hashlib

    from cerro_torre.offline import qr
    from cerro_torre.suites.errors import UsageError

    a = ctx.args
    if not a.terminal and (a.fps is not None or a.loops is not None):
        raise UsageError("--fps and --loops apply to --terminal only", "drop them, or use --terminal instead of -o")
    if a.terminal and ctx.json:
        raise UsageError("--json cannot be combined with --terminal", "use -o DIR with --json")
    fps = 1.0 if a.fps is None else a.fps
    if not 0 < fps <= 60:
        raise UsageError(f"--fps must be above 0 and at most 60, not {a.fps:g}")
    if a.loops is not None and a.loops < 1:
        raise UsageError(f"--loops must be at least 1, not {a.loops}")
    if a.output:
        qr.check_out_dir(a.output, force=a.force)  # fail before the slow part
    data = _read_input(a.file)
    texts = qr.split(data, a.max_version, a.ec)
    codes = [qr.make_code(t, a.max_version, a.ec) for t in texts]
    digest = hashlib.sha256(data).hexdigest()
    first = qr.parse_frame(texts[0])
    info = {
        "input": a.file,
        "bytes": len(data),
        "sha256": digest,
        "id": first.id_hex,
        "frames": len(texts),
        "compressed": bool(first.flags & qr.FLAG_DEFLATE),
        "ec": a.ec,
        "versions": [c.version for c in codes],
    }
    if a.terminal:
        return _show_terminal(ctx, codes, info, fps, a.loops)
    paths = qr.write_png_set(codes, a.output, force=a.force)
    info["output"] = os.path.abspath(a.output)
    info["paths"] = paths
    if ctx.json:
        ctx.emit_json(info)
    else:
        n = len(paths)
        ctx.out(f"wrote {n} frame{'s' if n != 1 else ''} (QR version {max(info['versions'])}, "
                f"error correction {a.ec}) to {a.output}")
        for p in paths:
            ctx.out(f"  {p}")
        ctx.out(f"sha256 {digest}")
    return 0


def _show_terminal(ctx: Context, codes: list, info: dict, fps: float, loops: int | None) -> int:
    import shutil
    import time

    from cerro_torre.offline import qr

    out = ctx.stdout
    tty = _isatty(out)
    color = ctx.color(out)  # the config's color, else NO_COLOR / TERM=dumb / a terminal
    pictures = [qr.render_matrix(c.get_matrix(), color=color) for c in codes]
    n = len(pictures)
    short = info["sha256"][:16]

    def caption(i: int) -> str:
        return f"frame {i} of {n}  (message {info['id']}, {info['bytes']} bytes, sha256 {short}...)"

    if not tty:
        try:
            for i, pic in enumerate(pictures, 1):
                out.write(pic + "\n" + caption(i) + "\n")
                if i < n:
                    out.write("\n")
            out.flush()
        except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
            _silence(out)
        return 0

    width = len(codes[0].get_matrix()[0])
    height = (len(codes[0].get_matrix()) + 1) // 2 + 1
    size = shutil.get_terminal_size()
    if size.columns < width or size.lines < height:
        ctx.note(f"warning: the terminal is {size.columns}x{size.lines} characters; the frames need "
                 f"{width}x{height}: enlarge the window, shrink the font, or lower --max-version")
    delay = 1.0 / fps
    out.write(HIDE_CURSOR)
    try:
        shown = 0
        while True:
            for i, pic in enumerate(pictures, 1):
                hint = "" if n == 1 else "  ctrl-c to stop"
                out.write(CLEAR + pic + "\n" + caption(i) + hint + "\n")
                out.flush()
                if n > 1:
                    time.sleep(delay)
            shown += 1
            if n == 1 or (loops is not None and shown >= loops):
                break
    except KeyboardInterrupt:
        out.write("\n")
    finally:
        out.write(SHOW_CURSOR)
        out.flush()
    return 0


def _silence(out) -> None:
    """After a broken pipe, point the stream at /dev/null so the final flush does not fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
    except (OSError, AttributeError, ValueError):
        pass


def cmd_decode(ctx: Context) -> int:
    import hashlib

    from cerro_torre.offline import qr
    from cerro_torre.suites.atomic import atomic_write
    from cerro_torre.suites.errors import AlreadyExists, NotFound, UsageError

    a = ctx.args
    out = a.output
    if os.path.isdir(out):
        raise UsageError(f"-o {out} is a folder", "name the file to write, e.g. -o DIR/message.json")
    parent = os.path.dirname(os.path.abspath(out))
    if not os.path.isdir(parent):
        raise NotFound(f"folder {parent} does not exist", "create it first, or choose another -o")
    if os.path.lexists(out) and not a.force:
        raise AlreadyExists(f"{out} already exists", "pass --force to overwrite it, or choose another -o")
    asm = qr.read_images(a.images)
    message = asm.message()
    atomic_write(out, message)
    digest = hashlib.sha256(message).hexdigest()
    if ctx.json:
        ctx.emit_json({
            "output": os.path.abspath(out),
            "bytes": len(message),
            "sha256": digest,
            "id": asm.msg_id,
            "frames": asm.count,
            "images": len(a.images),
            "duplicates": asm.duplicates,
        })
    else:
        dup = f", {asm.duplicates} duplicate{'s' if asm.duplicates != 1 else ''} ignored" if asm.duplicates else ""
        ctx.out(f"wrote {out}: {len(message)} bytes from {asm.count} frame{'s' if asm.count != 1 else ''}{dup}")
        ctx.out(f"sha256 {digest}")
    return 0

