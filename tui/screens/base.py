"""What every mode's screen shares: the navigation line, the busy line, the footer, errors, QR playback."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from textual import work
from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Footer

from ..messages import FramesReady, WorkFailed, error_lines
from ..widgets.busy import Busy
from ..widgets.navbar import NavBar

if TYPE_CHECKING:
    from ..app import CTApp


class CTScreen(Screen[None]):
    MODE = ""

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
        """Cut ``data`` into frames that fit this terminal (in a worker), then play them."""
        from ..widgets.qrframes import fit_version

        cols, rows = self.app.size
        version = fit_version(cols, max(1, rows - 2))
        self.busy(f"drawing QR frames (version {version}) for {title}")
        self._frames(title, data, version, self.ct.no_color)

    @work(thread=True, group="qr", exclusive=True)
    def _frames(self, title: str, data: bytes, version: int, no_color: bool) -> None:
        from ..widgets.qrframes import prepare

        try:
            frames, drawings = prepare(data, version, no_color=no_color)
        except Exception as e:  # noqa: BLE001 - reported to the user
            self.post_message(WorkFailed("qr", e))
            return
        self.post_message(FramesReady(title, frames, drawings, version, len(data)))

    def on_frames_ready(self, message: FramesReady) -> None:
        from .qr import QRScreen

        self.idle()
        self.app.push_screen(QRScreen(message.title, message.frames, message.drawings, message.max_version,
                                      message.size, no_color=self.ct.no_color, rate=self.ct.qr_rate,
                                      playing=self.ct.qr_autoplay))

    # ------------------------------------------------------------ helpers
    def post_failure(self, what: str, e: BaseException) -> None:
        self.post_message(WorkFailed(what, e))

    def shown(self, path: str) -> str:
        return self.ct.display_path(path)

    def read_file(self, path: str, what: str, limit: int = 64 * 1024 * 1024) -> bytes:
        """Read ``path`` as ``ct`` does (same errors: not found, is a directory)."""
        from cerro_torre.suites.errors import Malformed, NotFound

        full = self.ct.resolve(path)
        try:
            with open(full, "rb") as f:
                data = f.read(limit + 1)
        except FileNotFoundError:
            raise NotFound(f"{what} not found: {path}", "check the path") from None
        except IsADirectoryError:
            raise Malformed(f"{what} is a directory: {path}") from None
        if len(data) > limit:
            raise Malformed(f"{what} {path} is larger than {limit} bytes")
        return data

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

    def qr_images(self, path: str) -> list[str]:
        """The image files a QR source names: one image, or every image in a folder (sorted)."""
        import os

        from cerro_torre.suites.errors import NotFound

        full = self.ct.resolve(path)
        if os.path.isdir(full):
            imgs = self.expand_paths(path, IMAGE_EXTS)
            if not imgs:
                raise NotFound(f"no images in {path}",
                               "put the photos or frame PNGs of the message in that folder")
            return imgs
        if not os.path.exists(full):
            raise NotFound(f"not found: {path}", "check the path")
        return [path]

    def decode_qr(self, path: str, on_progress: Any) -> bytes:
        """Reassemble a message from the QR images ``path`` names (blocking: call it from a worker)."""
        from cerro_torre.offline import qr

        imgs = self.qr_images(path)
        a = qr.Assembler()
        for p in imgs:
            qr.read_images([self.ct.path_arg(p)], a)
            on_progress(p, a.received, a.count, a.missing)
        return a.message()


IMAGE_EXTS = (".png", ".jpg", ".jpeg", ".gif", ".bmp", ".tif", ".tiff", ".webp", ".ppm", ".pgm")


def is_qr_source(path: str, resolve: Any) -> bool:
    import os

    full = resolve(path)
    return os.path.isdir(full) or full.lower().endswith(IMAGE_EXTS)
