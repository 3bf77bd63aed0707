"""The QR player: a message as frames shown one after another (frame rate adjustable, pause, step)."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from ..widgets.qrframes import EC, QRFrames

RATES = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0)
DEFAULT_RATE = 2.0


class QRScreen(Screen[None]):
    """Plays frames at a steady rate; the receiver scans them in any order (duplicates are ignored)."""

    BINDINGS = [
        Binding("space", "play_pause", "Pause/play"),
        Binding("left", "step(-1)", "Prev"),
        Binding("right", "step(1)", "Next"),
        Binding("plus,equals_sign", "rate(1)", "Faster", key_display="+"),
        Binding("minus", "rate(-1)", "Slower", key_display="-"),
        Binding("home", "first", "First", show=False),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, title: str, frames: list[str], drawings: list[str], version: int, size: int, *,
                 no_color: bool, rate: float = DEFAULT_RATE, playing: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.frames = frames
        self.drawings = drawings
        self.version = version
        self.size_bytes = size
        self.no_color = no_color
        self.rate = rate
        self.playing = playing and len(frames) > 1
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Static("", id="qr-status")
        with Middle(id="qr-middle"):
            with Center():
                yield QRFrames(self.drawings, no_color=self.no_color, id="qr-frames")
        yield Footer()

    def on_mount(self) -> None:
        self._restart_timer()
        self._status()

    @property
    def index(self) -> int:
        return self.query_one(QRFrames).index

    def _status(self) -> None:
        n = len(self.frames)
        state = "playing" if self.playing else "paused"
        self.query_one("#qr-status", Static).update(
            f"{self.title_text}  frame {self.index + 1}/{n}  {self.rate:g}/s  {state}  "
            f"QR v{self.version}/{EC}, {self.size_bytes} B")

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.playing:
            self._timer = self.set_interval(1.0 / self.rate, self._advance)

    def _advance(self) -> None:
        self.query_one(QRFrames).show(self.index + 1)
        self._status()

    def action_play_pause(self) -> None:
        self.playing = not self.playing and len(self.frames) > 1
        self._restart_timer()
        self._status()

    def action_step(self, delta: int) -> None:
        self.playing = False
        self._restart_timer()
        self.query_one(QRFrames).show(self.index + delta)
        self._status()

    def action_first(self) -> None:
        self.query_one(QRFrames).show(0)
        self._status()

    def action_rate(self, delta: int) -> None:
        i = min(range(len(RATES)), key=lambda j: abs(RATES[j] - self.rate))
        self.rate = RATES[max(0, min(len(RATES) - 1, i + delta))]
        self._restart_timer()
        self._status()

    def action_close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.dismiss(None)
