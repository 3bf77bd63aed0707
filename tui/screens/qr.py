"""The QR player: new fountain-coded frames one after another, without end (rate adjustable, pause, step).

The receiver scans any frames, in any order, until its message is complete
(``ct qr scan``, or the Keyholder and Coordinator screens' scan).  The player
always fits the terminal: it chooses the QR version, and encodes the message
again for a smaller one if the terminal shrinks below the code.  No
notification is drawn over the code: the app holds them while the player is
up and shows them when it closes.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Center, Middle
from textual.events import Resize
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from ..widgets.qrframes import EC, Frames, QRFrames, player_version

RATES = (0.5, 1.0, 2.0, 3.0, 4.0, 6.0, 8.0, 10.0)
DEFAULT_RATE = 2.0  # = offline.qr.DEFAULT_FPS, the CLI's `ct qr encode --terminal`
AHEAD = 6  # frames drawn ahead of the one shown, in a worker
TOO_SMALL = "enlarge to 29x17 or more"  # shown in a terminal too small for any QR code


class QRScreen(Screen[None]):
    """Plays frames at a steady rate; the receiver scans them in any order (duplicates are ignored)."""

    HOLDS_NOTIFICATIONS = True  # the app holds new notifications; app.tcss hides the ones already up
    BINDINGS = [
        Binding("space", "play_pause", "Pause/play"),
        Binding("left", "step(-1)", "Prev"),
        Binding("right", "step(1)", "Next"),
        Binding("plus,equals_sign", "rate(1)", "Faster", key_display="+"),
        Binding("minus", "rate(-1)", "Slower", key_display="-"),
        Binding("home", "first", "First", show=False),
        Binding("escape,q", "close", "Close"),
    ]

    def __init__(self, title: str, frames: Frames, *, rate: float = DEFAULT_RATE, playing: bool = True) -> None:
        super().__init__()
        self.title_text = title
        self.frames = frames
        self.rate = rate
        self.playing = playing
        self.index = 0
        self.too_small = False
        self._timer: Timer | None = None

    @property
    def version(self) -> int:
        return self.frames.version

    def compose(self) -> ComposeResult:
        yield Static("", id="qr-status")
        with Middle(id="qr-middle"):
            with Center():
                yield QRFrames(self.frames.drawing(0), no_color=self.frames.no_color, id="qr-frames")
        yield Footer()

    def on_mount(self) -> None:
        self._restart_timer()
        self._status()
        self._draw_ahead(self.frames, self.index)

    def _status(self) -> None:
        f = self.frames
        state = "playing" if self.playing else "paused"
        self.query_one("#qr-status", Static).update(
            f"{self.title_text}  frame {self.index + 1}, part {f.seq(self.index)}/{f.count}  "
            f"{self.rate:g}/s {state}  QR v{f.version}/{EC} {len(f.data)} B")

    def _restart_timer(self) -> None:
        if self._timer is not None:
            self._timer.stop()
            self._timer = None
        if self.playing:
            self._timer = self.set_interval(1.0 / self.rate, self._advance)

    def _show(self, index: int) -> None:
        if self.too_small:
            return
        self.index = max(0, index)
        self.query_one(QRFrames).show(self.frames.drawing(self.index))
        self._status()
        if not self.frames.ready(self.index + AHEAD // 2):
            self._draw_ahead(self.frames, self.index)

    @work(thread=True, group="qr-ahead", exclusive=True)
    def _draw_ahead(self, frames: Frames, index: int) -> None:
        for i in range(index + 1, index + 1 + AHEAD):
            frames.drawing(i)

    def _advance(self) -> None:
        self._show(self.index + 1)

    def on_resize(self, event: Resize) -> None:
        """Encode again for a smaller code if the terminal shrank below this one (the receiver starts over)."""
        from cerro_torre.offline import qr

        side = qr.code_size(self.frames.version)
        if side <= event.size.width and (side + 1) // 2 <= event.size.height - 2:
            if self.too_small:
                self.too_small = False
                self._show(self.index)
            return
        version = player_version(event.size.width, event.size.height)
        if version == 0:
            self.too_small = True
            self.query_one(QRFrames).show("")
            self.query_one("#qr-status", Static).update(TOO_SMALL)
            return
        self.too_small = False
        self.frames = Frames(self.frames.data, version, no_color=self.frames.no_color)
        self._show(0)

    def action_play_pause(self) -> None:
        self.playing = not self.playing
        self._restart_timer()
        if not self.too_small:
            self._status()

    def action_step(self, delta: int) -> None:
        self.playing = False
        self._restart_timer()
        self._show(self.index + delta)

    def action_first(self) -> None:
        self._show(0)

    def action_rate(self, delta: int) -> None:
        i = min(range(len(RATES)), key=lambda j: abs(RATES[j] - self.rate))
        self.rate = RATES[max(0, min(len(RATES) - 1, i + delta))]
        self._restart_timer()
        if not self.too_small:
            self._status()

    def on_screen_suspend(self) -> None:
        """Another screen came up (a mode switch): the notifications held for the player show there."""
        self.app.call_later(self.app.release_notifications)  # type: ignore[attr-defined]

    def action_close(self) -> None:
        if self._timer is not None:
            self._timer.stop()
        self.dismiss(None)
