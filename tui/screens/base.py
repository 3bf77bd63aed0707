"""What every mode's screen shares: the navigation line, the busy line, the footer, errors, QR playback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import threading

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.screen import Screen
from textual.widgets import Footer

from ..messages import FramesReady, QRProgress, WorkFailed, error_lines
from ..widgets.busy import Busy
from ..widgets.navbar import NavBar

if TYPE_CHECKING:
    from ..app import CTApp


class CTScreen(Screen[None]):
    MODE = ""
    BINDINGS = [Binding("escape", "stop_scan", "Stop scan", show=False)]

    def __init__(self) -> None:
        super().__init__()
        self._scan_stop = threading.Event()

    def compose(self) -> ComposeResult:
        yield NavBar(self.MODE)
        yield from self.body()
        yield Busy(id="busy")
        yield Footer()

    def body(self) -> ComposeResult:  # pragma: no cover - every screen overrides it
        yield from ()

    @property
    def ct(self) -> CTApp:
        return self.app  # type: ignore[return-value]

    # ------------------------------------------------------------ busy / errors
    def busy(self, text: str) -> None:
        self.query_one(Busy).start(text)

    def idle(self) -> float:
        return self.query_one(Busy).stop()

    @property
    def is_busy(self) -> bool:
        return self.query_one(Busy).active

    def refuse_while_busy(self) -> bool:
        if self.is_busy:
            self.notify("busy: wait for the current step to finish", severity="warning", timeout=3)
            return True
        return False

    def show_error(self, exc: BaseException | list[str], *, severity: str = "error") -> None:
        lines = exc if isinstance(exc, list) else error_lines(exc)
        self.ct.notify("\n".join(lines), severity=severity, timeout=12, markup=False)  # type: ignore[arg-type]

    def on_work_failed(self, message: WorkFailed) -> None:
        self.idle()
        self.show_error(message.error)
        self.failed(message)

    def failed(self, message: WorkFailed) -> None:
        """Hook: a screen's worker failed (the notification is already shown)."""

    # ------------------------------------------------------------ QR playback
    def play_qr(self, title: str, data: bytes) -> None:
        """Encode ``data`` as frames that fit this terminal (in a worker), then play them."""
        from ..widgets.qrframes import player_version

        cols, rows = self.app.size
        version = player_version(cols, rows)
        if version == 0:
            self.show_error(["error: the terminal is too small for a QR code",
                             f"hint: enlarge it to at least 29x17 characters (it is {cols}x{rows})"])
            return
        self.busy(f"encoding QR frames (version {version}) for {title}")
        self._frames(title, data, version, self.ct.no_color)

    @work(thread=True, group="qr", exclusive=True)
    def _frames(self, title: str, data: bytes, version: int, no_color: bool) -> None:
        from ..widgets.qrframes import Frames

        try:
            frames = Frames(data, version, no_color=no_color)
            frames.drawing(0)
        except Exception as e:  # noqa: BLE001 - reported to the user
            self.post_message(WorkFailed("qr", e))
            return
        self.post_message(FramesReady(title, frames))

    def on_frames_ready(self, message: FramesReady) -> None:
        from .qr import QRScreen

        self.idle()
        if self.app.screen is not self:  # the user moved on (another screen, a dialog): never pop up over it
            return
        self.app.push_screen(QRScreen(message.title, message.frames, rate=self.ct.qr_rate,
                                      playing=self.ct.qr_autoplay))

    # ------------------------------------------------------------ QR scanning
    def start_scan(self) -> None:
        """Call on the UI thread before a worker scans: escape stops that scan."""
        self._scan_stop.clear()

    def action_stop_scan(self) -> None:
        if self.is_busy:
            self._scan_stop.set()

    def scan_qr(self, source: str) -> bytes:
        """Read a message from QR frames: a camera (/dev/videoN), a video file, or images and folders
        (blocking: call it from a worker; progress is posted as :class:`QRProgress`; escape stops it)."""
        from cerro_torre.offline import scan as qscan
        from cerro_torre.suites.errors import CTError, NotFound

        stop = self._scan_stop.is_set

        def progress(s: Any) -> None:
            text = (qscan.progress_text(s.last) if s.last is not None
                    else f"no ct frame yet ({s.pictures} picture{'s' if s.pictures != 1 else ''})")
            self.post_message(QRProgress(source, text))

        s = qscan.Scan(on_progress=progress)
        kind = qscan.source_kind(source)
        if kind == "camera":
            s.video(source, qscan.open_camera(source), stop)
        elif kind == "video":
            s.video(source, qscan.open_video(self.ct.path_arg(source)), stop)
        else:
            paths = [self.ct.path_arg(p) for p in self.expand_paths(source, qscan.IMAGE_EXTS)]
            if not paths:
                raise NotFound(f"no images in {source}", "put the photos or frame PNGs of the message there")
            for p in paths:
                if s.complete or stop():
                    break
                s.picture(p, qscan.load_image(p))
        if stop() and not s.complete:
            raise CTError("scan stopped", "nothing was read; scan again to read the message")
        return s.message()

    def on_qrprogress(self, m: QRProgress) -> None:
        self.busy(f"QR {m.source}: {m.text}  (escape stops)")

    # ------------------------------------------------------------ helpers
    def post_failure(self, what: str, e: BaseException) -> None:
        self.post_message(WorkFailed(what, e))

    def shown(self, path: str) -> str:
        return self.ct.display_path(path)

    def read_file(self, path: str, what: str, limit: int = 64 * 1024 * 1024) -> bytes:
        """Read ``path`` as ``ct`` does (same errors: not found, is a directory, too large)."""
        from cerro_torre.suites.atomic import read_limited

        return read_limited(self.ct.resolve(path), what, limit, shown=path)

    def refuse_overwrite(self, path: str) -> None:
        """As the CLI: never overwrite an output."""
        import os

        from cerro_torre.suites.errors import AlreadyExists

        if os.path.exists(self.ct.resolve(path)):
            raise AlreadyExists(f"{path} exists", "choose another -o, or move the old file away")

    def write_new(self, path: str, data: bytes, mode: int = 0o644) -> None:
        from cerro_torre.suites.atomic import atomic_write

        self.refuse_overwrite(path)
        atomic_write(self.ct.resolve(path), data, mode=mode)

    def expand_paths(self, text: str, exts: tuple[str, ...] = ()) -> list[str]:
        """Paths typed as words: files, folders (their files ending in ``exts``, sorted) and globs."""
        import glob
        import os
        import shlex

        try:
            words = shlex.split(text)
        except ValueError:
            words = text.split()
        out: list[str] = []
        for w in words:
            full = self.ct.resolve(w)
            if os.path.isdir(full):
                names = sorted(n for n in os.listdir(full) if not exts or n.lower().endswith(exts))
                out += [os.path.join(w, n) for n in names if os.path.isfile(os.path.join(full, n))]
            elif any(c in w for c in "*?[") and not os.path.exists(full):
                base = self.ct.cwd
                hits = sorted(glob.glob(w if os.path.isabs(w) else os.path.join(base, w)))
                out += [h if os.path.isabs(w) else os.path.relpath(h, base) for h in hits]
            else:
                out.append(w)
        return out


def is_qr_source(path: str, resolve: Any) -> bool:
    """Whether a typed path names QR frames: a camera, a video, a folder or an image."""
    import os

    from cerro_torre.offline.scan import IMAGE_EXTS, VIDEO_EXTS, source_kind

    full = resolve(path)
    return source_kind(path) == "camera" or os.path.isdir(full) or full.lower().endswith(IMAGE_EXTS + VIDEO_EXTS)
