"""`ct qr encode|scan|decode`: carry a message across the air gap as fountain-coded QR frames (spec/qr.md)."""

from __future__ import annotations

import argparse
import os
from typing import TYPE_CHECKING

from .commands import common

if TYPE_CHECKING:
    from .main import Context

EC_CHOICES = ("L", "M", "Q", "H")
DEFAULT_FPS = 2.0  # = offline.qr.DEFAULT_FPS (not imported here: `ct --help` loads no QR code)
CLEAR = "\x1b[H\x1b[2J"
HIDE_CURSOR = "\x1b[?25l"
SHOW_CURSOR = "\x1b[?25h"
CLEAR_LINE = "\r\x1b[K"


def register(sub: argparse._SubParsersAction) -> None:
    p = common(sub.add_parser("qr", help="carry a file across the air gap as QR codes",
                              description="Turn a file into an endless stream of fountain-coded QR frames, "
                                          "or reassemble it from any sufficient set of them."))
    qsub = p.add_subparsers(dest="qr_command", metavar="ACTION", parser_class=type(p))
    qsub.required = True

    q = common(qsub.add_parser(
        "encode", help="turn FILE into QR frames (PNG files, or played in the terminal)",
        description="Turn FILE into fountain-coded QR frames (alphanumeric mode, base45): any set of about as many "
                    "frames as the message has parts, in any order, reassembles it.  -o writes 1.5 times the "
                    "minimum as PNGs; --terminal plays new frames until ctrl-c, at a size that fits the terminal."))
    q.add_argument("file", metavar="FILE")
    where = q.add_mutually_exclusive_group(required=True)
    where.add_argument("-o", "--output", metavar="DIR", help="write DIR/frame-NN-of-MM.png (DIR new or empty)")
    where.add_argument("--terminal", action="store_true", help="play the frames in the terminal")
    q.add_argument("--frames", type=int, default=None, metavar="N",
                   help="with -o: how many frames to write (default 1.5 times the minimum); "
                        "with --terminal: stop after N frames (default: play until ctrl-c)")
    q.add_argument("--max-version", type=int, default=25, metavar="N",
                   help="largest QR version (1-40) of a frame (default 25; the terminal player may use smaller "
                        "codes to fit)")
    q.add_argument("--ec", choices=EC_CHOICES, default="M", type=str.upper,
                   help="error correction level (default M)")
    q.add_argument("--fps", type=float, default=None, metavar="F",
                   help=f"with --terminal: frames per second (default {DEFAULT_FPS:g})")
    q.add_argument("--force", action="store_true", help="replace an earlier frame set in DIR")
    q.set_defaults(handler="cerro_torre.cli.qr:cmd_encode")

    q = common(qsub.add_parser(
        "scan", help="reassemble a file from a camera, a video or images of its QR frames",
        description="Read QR frames from a camera (--camera /dev/video0), a video file (--video FILE) or image "
                    "files and folders, until the message is complete; pictures without a code, codes that are "
                    "not ct frames and frames of another message are skipped and counted.  The result is checked "
                    "against its SHA-256 digest and written atomically."))
    src = q.add_mutually_exclusive_group()
    src.add_argument("--camera", metavar="DEVICE", help="a camera: /dev/videoN (or N)")
    src.add_argument("--video", metavar="FILE", help="a video file (MP4, AVI, MKV, WebM, ...)")
    q.add_argument("images", nargs="*", metavar="IMAGE-or-DIR", help="image files, or folders of them")
    _output(q).set_defaults(handler="cerro_torre.cli.qr:cmd_scan")

    q = common(qsub.add_parser(
        "decode", help="reassemble a file from image files of its QR frames",
        description="Reassemble a file from PNG/JPEG images of its QR frames (files or folders), in any order; "
                    "duplicates and images without a code are skipped; a frame of another message is refused. "
                    "The result is checked against its SHA-256 digest.  'ct qr scan' also reads videos and cameras."))
    q.add_argument("images", nargs="+", metavar="IMAGE-or-DIR")
    _output(q).set_defaults(handler="cerro_torre.cli.qr:cmd_decode")


def _output(q: argparse.ArgumentParser) -> argparse.ArgumentParser:
    q.add_argument("-o", "--output", required=True, metavar="FILE", help="where to write the file")
    q.add_argument("--force", action="store_true", help="overwrite FILE if it exists")
    return q


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# ----------------------------------------------------------------------------- encode

def cmd_encode(ctx: Context) -> int:
    import hashlib

    from cerro_torre.offline import qr
    from cerro_torre.suites.errors import UsageError

    a = ctx.args
    if not a.terminal and a.fps is not None:
        raise UsageError("--fps applies to --terminal only", "drop it, or use --terminal instead of -o")
    if a.terminal and ctx.json:
        raise UsageError("--json cannot be combined with --terminal", "use -o DIR with --json")
    fps = DEFAULT_FPS if a.fps is None else a.fps
    if not 0 < fps <= 60:
        raise UsageError(f"--fps must be above 0 and at most 60, not {a.fps:g}",
                         f"leave --fps out for the default of {DEFAULT_FPS:g} frames a second, "
                         "or pass a number such as 0.5 or 10")
    if a.frames is not None and a.frames < 1:
        raise UsageError(f"--frames must be at least 1, not {a.frames}")
    if a.output:
        qr.check_out_dir(a.output, force=a.force)  # fail before the slow part
    data = _read_input(a.file)
    if a.terminal:
        return _play(ctx, data, fps)
    enc = qr.Encoder(data, a.max_version, a.ec)
    n = enc.default_frames if a.frames is None else a.frames
    if n < enc.count:
        raise UsageError(f"--frames {n} is fewer than the {enc.count} frames this message needs at least",
                         f"leave --frames out (the default writes {enc.default_frames}), or pass {enc.count} or more")
    seqs = enc.sequence()
    parts = [next(seqs) for _ in range(n)]
    texts = [enc.text(s) for s in parts]
    paths = qr.write_png_set(texts, a.output, a.max_version, a.ec, force=a.force)
    digest = hashlib.sha256(data).hexdigest()
    version = qr.text_version(len(texts[0]), a.ec)  # every frame of a set has the same length
    if ctx.json:
        ctx.emit_json({
            "input": a.file, "bytes": len(data), "sha256": digest, "id": enc.id_hex, "parts": enc.count,
            "frames": n, "compressed": bool(enc.flags & qr.FLAG_DEFLATE), "ec": a.ec, "version": version,
            "output": os.path.abspath(a.output), "paths": paths, "seq": parts,
        })
    else:
        ctx.out(f"wrote {_plural(n, 'frame')} to {a.output}: message {enc.id_hex}, {len(data)} bytes in "
                f"{_plural(enc.count, 'part')} (any {enc.count} or a few more frames decode), QR version {version}, "
                f"error correction {a.ec}")
        ctx.out(f"sha256 {digest}")
    return 0


def _play(ctx: Context, data: bytes, fps: float) -> int:
    """``--terminal``: new frames one after another until ctrl-c (or --frames N), at a size that fits."""
    import hashlib
    import shutil
    import time

    from cerro_torre.offline import qr

    a = ctx.args
    out = ctx.stdout
    tty = _isatty(out)
    color = ctx.color(out)  # the config's color, else NO_COLOR / TERM=dumb / a terminal
    short = hashlib.sha256(data).hexdigest()[:16]
    if not tty:  # a file or a pipe: the first frames, no escape codes
        enc = qr.Encoder(data, a.max_version, a.ec)
        n = enc.default_frames if a.frames is None else a.frames
        seqs = enc.sequence()
        try:
            for i in range(1, n + 1):
                seq = next(seqs)
                out.write(qr.terminal_frame(enc.text(seq), a.max_version, a.ec, color=False) + "\n"
                          + f"frame {i} of {n}: part {seq} of message {enc.id_hex} ({len(data)} bytes, "
                            f"{enc.count} parts, sha256 {short}...)\n")
                if i < n:
                    out.write("\n")
            out.flush()
        except BrokenPipeError:  # e.g. piped into head: the reader has what it wanted
            _silence(out)
        return 0

    def terminal_size() -> tuple[int, int]:
        try:  # the terminal the frames go to; COLUMNS and LINES only when it cannot be asked
            return tuple(os.get_terminal_size(out.fileno()))  # type: ignore[return-value]
        except (AttributeError, OSError, ValueError):
            return tuple(shutil.get_terminal_size())  # type: ignore[return-value]

    size = os.terminal_size(terminal_size())
    low = qr.min_version(a.ec)
    version = max(low, qr.fit_version(size.columns, size.lines - 1, limit=a.max_version))
    enc = qr.Encoder(data, version, a.ec)
    side = qr.code_size(version)
    delay = 1.0 / fps
    seqs = enc.sequence()
    out.write(HIDE_CURSOR)
    try:
        i = 0
        while a.frames is None or i < a.frames:
            i += 1
            seq = next(seqs)
            pic = qr.terminal_frame(enc.text(seq), version, a.ec, color=color)
            cols, lines = terminal_size()
            if side > cols or (side + 1) // 2 + 1 > lines:  # the warning is redrawn with every frame
                caption = (f"warning: the terminal is {cols}x{lines}; these frames need {side}x{(side + 1) // 2 + 1}:"
                           " enlarge the window or shrink the font")
            else:
                caption = (f"frame {i} (part {seq}) QR v{version}/{a.ec}: message {enc.id_hex}, {len(data)} B, "
                           f"{enc.count} parts; ctrl-c stops")
                caption = caption[:max(1, cols - 1)]
            out.write(CLEAR + pic + "\n" + caption)
            out.flush()
            time.sleep(delay)
    except KeyboardInterrupt:
        pass
    finally:
        out.write("\n" + SHOW_CURSOR)
        out.flush()
    return 0


def _silence(out) -> None:
    """After a broken pipe, point the stream at /dev/null so the final flush does not fail."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
    except (OSError, AttributeError, ValueError):
        pass


# ----------------------------------------------------------------------------- scan / decode

def _check_output(path: str, force: bool) -> None:
    from cerro_torre.suites.errors import AlreadyExists, NotFound, UsageError

    if os.path.isdir(path):
        raise UsageError(f"-o {path} is a folder", "name the file to write, e.g. -o DIR/message.json")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise NotFound(f"folder {parent} does not exist", "create it first, or choose another -o")
    if os.path.lexists(path) and not force:
        raise AlreadyExists(f"{path} already exists", "pass --force to overwrite it, or choose another -o")


class _ProgressLine:
    """The scan's progress on stderr, rewritten in place -- only when stderr is a terminal."""

    def __init__(self, ctx: Context, what: str) -> None:
        import time

        self.stream = ctx.stderr
        self.on = _isatty(ctx.stderr) and not ctx.json
        self.what = what
        self.shown = ""
        self.at = 0.0
        self.clock = time.monotonic

    def __call__(self, scan) -> None:
        from cerro_torre.offline.scan import progress_text

        if not self.on:
            return
        now = self.clock()
        if scan.last is None:
            text = f"scanning {self.what}: no ct frame yet ({_plural(scan.pictures, 'picture')})"
        else:
            text = progress_text(scan.last)
        if text != self.shown and (now - self.at >= 0.1 or scan.complete):
            self.stream.write(CLEAR_LINE + text)
            self.stream.flush()
            self.shown, self.at = text, now

    def close(self) -> None:
        if self.on and self.shown:
            self.stream.write(CLEAR_LINE)
            self.stream.flush()


def _run_scan(ctx: Context, *, strict: bool, images: list[str], video: str | None = None,
              camera: str | None = None) -> int:
    import hashlib

    from cerro_torre.offline import scan as qscan
    from cerro_torre.suites.atomic import atomic_write

    a = ctx.args
    _check_output(a.output, a.force)
    what = camera or video or ("1 image" if len(images) == 1 else f"{len(images)} images and folders")
    line = _ProgressLine(ctx, what)
    s = qscan.Scan(strict=strict, on_progress=line)
    try:
        if camera is not None:
            s.video(camera, qscan.open_camera(camera))
        elif video is not None:
            s.video(video, qscan.open_video(video))
        else:
            s.images(qscan.image_paths(images))
        message = s.message()
    finally:
        line.close()
    atomic_write(a.output, message)
    asm = s.assembler
    digest = hashlib.sha256(message).hexdigest()
    kind = "video frame" if camera or video else "image"
    if ctx.json:
        ctx.emit_json({
            "output": os.path.abspath(a.output), "bytes": len(message), "sha256": digest, "id": asm.msg_id,
            "parts": asm.count, "frames": asm.frames, "pictures": s.pictures, "duplicates": asm.duplicates,
            "redundant": asm.redundant, "without_code": s.without_code, "not_ct": s.not_ct,
            "other_message": s.other,
        })
    else:
        ctx.out(f"wrote {a.output}: {len(message)} bytes from {_plural(asm.frames, 'frame')} of message "
                f"{asm.msg_id} ({_plural(asm.count or 0, 'part')})")
        details = ([f"{asm.duplicates} repeated"] if asm.duplicates else []) \
            + ([f"{asm.redundant} not needed"] if asm.redundant else []) + s.skipped()
        if details:
            ctx.out(f"read {_plural(s.pictures, kind)}: " + ", ".join(details))
        ctx.out(f"sha256 {digest}")
    return 0


def cmd_scan(ctx: Context) -> int:
    from cerro_torre.suites.errors import UsageError

    a = ctx.args
    if sum(bool(x) for x in (a.camera, a.video, a.images)) != 1:
        raise UsageError("give one source: --camera DEVICE, --video FILE, or images and folders",
                         "e.g. 'ct qr scan --camera /dev/video0 -o message.ctm'")
    return _run_scan(ctx, strict=False, images=a.images, video=a.video, camera=a.camera)


def cmd_decode(ctx: Context) -> int:
    return _run_scan(ctx, strict=True, images=ctx.args.images)
