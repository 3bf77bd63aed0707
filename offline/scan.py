"""Reading QR frames: image files, video files and cameras, through OpenCV and zbar (``spec/qr.md``).

Every picture -- an image file, a frame of a video file, a frame from a
camera -- goes the same way: a grey numpy array, handed to zbar at a few
sizes and clean-ups, and every QR code found is fed to one
:class:`offline.qr.Assembler`.  A :class:`Scan` keeps the tally: pictures
without a code are skipped and counted, not fatal; while *scanning*, codes
that are not ct frames and frames of another message are counted and
ignored; a *strict* scan (``ct qr decode``, files the user named) refuses
them, naming the file.  A scan stops as soon as the message is complete.

OpenCV reads video files (FFmpeg) and cameras (Video4Linux, ``/dev/videoN``)
through the same loop; Pillow reads image files (it knows more formats and
applies EXIF orientation).  Both are imported when first used.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from cerro_torre.suites.errors import HashMismatch, Malformed, NotFound, Unavailable, UsageError

from .qr import Assembler, OtherMessage, Progress, parse_frame

IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")
VIDEO_EXTS = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm", ".mpg", ".mpeg", ".ogv", ".wmv")
CAMERA = re.compile(r"^/dev/video\d+$")


def _cv2() -> Any:
    # OpenCV and FFmpeg log to the process's stderr; ct reports errors itself
    os.environ.setdefault("OPENCV_LOG_LEVEL", "SILENT")
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")
    import cv2

    return cv2


# --------------------------------------------------------------------------- one picture

def _zbar(gray: Any) -> list[bytes]:
    from pyzbar.pyzbar import ZBarSymbol
    from pyzbar.pyzbar import decode as zdecode

    return [r.data for r in zdecode(gray, symbols=[ZBarSymbol.QRCODE])]


def _resized(cv2: Any, gray: Any, side: int) -> Any:
    h, w = gray.shape[:2]
    f = side / max(h, w)
    return cv2.resize(gray, (max(1, round(w * f)), max(1, round(h * f))), interpolation=cv2.INTER_AREA)


def _variants(gray: Any, thorough: bool) -> list[tuple[str, Callable[[], Any]]]:
    """Versions of a grey picture to hand zbar, cheapest first, each made when asked for.

    zbar's time grows with the pixel count, and a frame PNG, a photo or a
    video frame has far more pixels per module than zbar needs, so smaller
    copies are tried first; then the picture as given; then a black-and-white
    copy (Otsu's threshold) and a negative (a light-on-dark code, e.g. a
    terminal without colour).  ``thorough`` adds the clean-ups that help with
    photos of screens (contrast stretch, enlargement, median filter); video
    frames skip them -- the next frame is a few milliseconds away.
    """
    import numpy as np

    cv2 = _cv2()
    side = max(gray.shape[:2])
    out: list[tuple[str, Callable[[], Any]]] = [
        (str(limit), lambda limit=limit: _resized(cv2, gray, limit))
        for limit in (480, 960, 1920) if side > limit * 1.25]
    out.append(("as given", lambda: gray))
    work = lru_cache(maxsize=1)(lambda: gray if side <= 1600 else _resized(cv2, gray, 1600))
    out.append(("otsu", lambda: cv2.threshold(work(), 0, 255, cv2.THRESH_BINARY | cv2.THRESH_OTSU)[1]))
    if thorough:
        def stretch() -> Any:
            g = work()
            lo, hi = np.percentile(g, (1, 99))
            return np.clip((g.astype(np.float32) - lo) * (255.0 / max(1.0, hi - lo)), 0, 255).astype(np.uint8)
        out.append(("stretch", stretch))
        if max(work().shape[:2]) < 800:
            out.append(("x2", lambda: cv2.resize(work(), None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC)))
        out.append(("median", lambda: cv2.medianBlur(work(), 3)))
    out.append(("negative", lambda: 255 - work()))
    return out


def find_codes(gray: Any, *, thorough: bool = True, prefer: str | None = None) -> tuple[list[bytes], str | None]:
    """Texts of the QR codes zbar finds in a grey picture (2-D uint8 array), and the version that gave
    them; ``prefer`` names a version to try first (the one that read the previous frame of a video)."""
    variants = _variants(gray, thorough)
    variants.sort(key=lambda v: v[0] != prefer)  # stable: the rest keep their order
    for name, make in variants:
        found = _zbar(make())
        if found:
            return found, name
    return [], None


def codes_in(gray: Any, *, thorough: bool = True) -> list[bytes]:
    """Texts of the QR codes zbar finds in a grey picture; empty if none."""
    return find_codes(gray, thorough=thorough)[0]


def load_image(path: str | os.PathLike[str]) -> Any:
    """The image file ``path`` as a grey array (Pillow reads it; EXIF orientation applied)."""
    import numpy as np
    from PIL import Image, ImageOps, UnidentifiedImageError

    p = os.fspath(path)
    if not os.path.exists(p):
        raise NotFound(f"image {p} does not exist", "check the path")
    if os.path.isdir(p):
        raise UsageError(f"{p} is a folder, not an image", "pass its images, or the folder itself to 'ct qr scan'")
    try:
        with Image.open(p) as im:
            return np.asarray(ImageOps.exif_transpose(im).convert("L"))
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError):
        raise Malformed(f"{p} is not an image Pillow can read", "pass PNG or JPEG files") from None


def read_image(path: str | os.PathLike[str]) -> list[bytes]:
    """Texts of the QR codes in the image file ``path``."""
    return codes_in(load_image(path))


def image_paths(args: Iterable[str]) -> list[str]:
    """Image files named by ``args``: files as given, folders as their images (sorted by name)."""
    out: list[str] = []
    for a in args:
        if os.path.isdir(a):
            names = sorted(n for n in os.listdir(a)
                           if n.lower().endswith(IMAGE_EXTS) and os.path.isfile(os.path.join(a, n)))
            if not names:
                raise NotFound(f"no images in folder {a}", "put the photos or frame PNGs of the message there")
            out += [os.path.join(a, n) for n in names]
        elif not os.path.exists(a):
            raise NotFound(f"image {a} does not exist", "check the path")
        else:
            out.append(a)
    return out


# --------------------------------------------------------------------------- video files and cameras

def open_video(path: str) -> Any:
    """A ``cv2.VideoCapture`` on the video file ``path``."""
    if not os.path.exists(path):
        raise NotFound(f"video {path} does not exist", "check the path")
    if os.path.isdir(path):
        raise UsageError(f"{path} is a folder, not a video", "scan a folder of images without --video")
    cv2 = _cv2()
    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        raise Malformed(f"{path} is not a video OpenCV can read", "pass a video file (MP4, AVI, MKV, WebM)")
    return cap


def camera_device(name: str) -> str:
    """``/dev/videoN`` for a camera given as a device path or as its number ``N``."""
    return f"/dev/video{name}" if name.isdigit() else name


def open_camera(name: str) -> Any:
    """A ``cv2.VideoCapture`` on the camera ``name`` (``/dev/videoN``, a link to one, or ``N``), through V4L2."""
    dev = camera_device(name)
    if not os.path.exists(dev):
        raise NotFound(f"camera {dev} does not exist",
                       "list the cameras with 'ls /dev/video*' and pass one with --camera /dev/videoN")
    cv2 = _cv2()
    cap = cv2.VideoCapture(os.path.realpath(dev), cv2.CAP_V4L2)
    if not cap.isOpened():
        raise Unavailable(f"camera {dev} cannot be opened",
                          "check that it is a camera, that no other program is using it, and that you may "
                          "read it (the 'video' group)")
    return cap


def grey_frames(cap: Any, stop: Callable[[], bool] = lambda: False) -> Iterator[Any]:
    """The frames of an open ``cv2.VideoCapture`` as grey arrays, until it ends or ``stop()``."""
    cv2 = _cv2()
    try:
        while not stop():
            ok, frame = cap.read()
            if not ok or frame is None:
                return
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    finally:
        cap.release()


# --------------------------------------------------------------------------- a scan

def progress_text(p: Progress) -> str:
    """``62 % — 13 of 21 parts, 8 more expected``: the line a scan shows."""
    return f"{p.percent} % \u2014 {p.recovered} of {p.count} parts, {p.needed} more expected"


MAX_MESSAGES = 8  # messages a lenient scan follows at once; frames of more are counted and dropped


@dataclass
class Scan:
    """Pictures fed to assemblers, and what they held.

    A *strict* scan (files the user named) follows the message of the first
    frame and refuses anything else: a QR code that is not a ct frame, a
    frame of another message.  A lenient scan (a camera, a video, a folder)
    counts those codes and follows every message it sees (up to
    :data:`MAX_MESSAGES`), finishing with the first one complete -- so a stray
    frame of an old message seen first does not take the scan hostage.
    """

    strict: bool = False
    on_progress: Callable[[Scan], None] | None = None
    pictures: int = 0  # images or video frames looked at
    without_code: int = 0
    not_ct: int = 0  # QR codes that are not ct frames
    dropped: int = 0  # frames of messages beyond MAX_MESSAGES
    last: Progress | None = None  # the latest progress of the message furthest along
    prefer: str | None = None  # the picture version that read the last code (tried first next time)
    _assemblers: dict[tuple, Assembler] = field(default_factory=dict)
    _lead: Assembler | None = None

    @property
    def assembler(self) -> Assembler:
        """The message being read: the one complete, else the one furthest along."""
        return self._lead or Assembler()

    @property
    def complete(self) -> bool:
        return self._lead is not None and self._lead.complete

    @property
    def others(self) -> list[Assembler]:
        return [a for a in self._assemblers.values() if a is not self._lead]

    @property
    def other(self) -> int:
        """Frames of other messages (or other encodings) seen."""
        return self.dropped + sum(a.frames + a.duplicates for a in self.others)

    @property
    def other_ids(self) -> list[str]:
        return sorted({a.msg_id or "" for a in self.others})

    def picture(self, label: str, gray: Any, *, thorough: bool = True) -> None:
        """Look for frames in one picture (``label`` names it in errors)."""
        found, used = find_codes(gray, thorough=thorough, prefer=self.prefer)
        self.prefer = used or self.prefer
        self.codes(label, found)

    def codes(self, label: str, codes: list[bytes]) -> None:
        self.pictures += 1
        if not codes:
            self.without_code += 1
        for data in codes:
            try:
                f = parse_frame(data)
            except Malformed as e:
                if self.strict:
                    raise Malformed(f"{label}: {e.message}", *e.hints) from None
                self.not_ct += 1
                continue
            key = (f.msg_id, f.layout)
            a = self._assemblers.get(key)
            if a is None:
                if self.strict and self._lead is not None:
                    try:
                        self._lead.feed_frame(f)  # raises OtherMessage, naming both messages
                    except OtherMessage as e:
                        raise Malformed(f"{label}: {e.message}", *e.hints) from None
                if len(self._assemblers) >= MAX_MESSAGES:
                    self.dropped += 1
                    continue
                a = self._assemblers[key] = Assembler()
            try:
                p = a.feed_frame(f)
            except HashMismatch as e:
                raise HashMismatch(f"{label}: {e.message}", *e.hints) from None
            if self._lead is None or a is self._lead or a.complete or a.recovered > self._lead.recovered:
                self._lead, self.last = a, p
            if self.complete:
                break
        if self.on_progress is not None:
            self.on_progress(self)

    def images(self, paths: Iterable[str]) -> None:
        """Read image files until the message is complete."""
        for p in paths:
            if self.complete:
                return
            self.picture(p, load_image(p))

    def video(self, label: str, cap: Any, stop: Callable[[], bool] = lambda: False) -> None:
        """Read the frames of an open video file or camera until it ends, ``stop()``, or the message is complete."""
        for i, gray in enumerate(grey_frames(cap, lambda: self.complete or stop()), 1):
            self.picture(f"{label} frame {i}", gray, thorough=False)

    def skipped(self) -> list[str]:
        """What was skipped, for people: ``3 without a QR code`` ..."""
        out = []
        if self.without_code:
            out.append(f"{self.without_code} without a QR code")
        if self.not_ct:
            out.append(f"{self.not_ct} QR code{'s' if self.not_ct != 1 else ''} not of ct")
        if self.other:
            out.append(f"{self.other} frame{'s' if self.other != 1 else ''} of another message "
                       f"({', '.join(self.other_ids) or 'more than ' + str(MAX_MESSAGES)})")
        return out

    def message(self) -> bytes:
        """The message, once complete; else the error saying how many more frames are needed."""
        if self._lead is None:
            seen = f" in {self.pictures} picture{'s' if self.pictures != 1 else ''}" if self.pictures else ""
            extra = f" ({'; '.join(self.skipped())})" if self.skipped() else ""
            raise Malformed(f"no ct QR frames found{seen}{extra}",
                            "point the camera at the frames 'ct qr encode' shows, or photograph them again: "
                            "closer, in focus, without glare")
        try:
            return self._lead.message()
        except Malformed as e:
            if self.other and not self.complete:
                raise Malformed(e.message, *e.hints, f"{self.other} frames of other messages were seen too "
                                f"({', '.join(self.other_ids)}): show one message at a time") from None
            raise


def source_kind(path: str) -> str:
    """How the TUI reads a typed source: ``camera`` (/dev/videoN or N), ``video`` (by extension) or ``images``."""
    p = path.strip()
    if p.isdigit() or CAMERA.match(p) or p.startswith("/dev/v4l/"):
        return "camera"
    if p.lower().endswith(VIDEO_EXTS):
        return "video"
    return "images"
