"""What a worker is doing: a line of text, a moving bar and the seconds elapsed.

Argon2id gives no progress of its own; the bar shows that work goes on and
the seconds how long it has taken (64 MiB, t=3 takes about a second per
unlock on a laptop; a keyholder step unlocks several sealed files).  The
timer runs only while something is busy, so an idle screen does no work.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from cerro_torre.suites.progress import Progress
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.timer import Timer
from textual.widgets import Label

WIDTH = 12


def bar(step: int) -> str:
    """A block bouncing along a track of ``WIDTH`` cells."""
    span = WIDTH - 3
    pos = step % (2 * span)
    pos = pos if pos < span else 2 * span - pos
    return "[" + " " * pos + "\u2588\u2588\u2588" + " " * (span - pos) + "]"


class Busy(Horizontal):
    DEFAULT_CSS = """
    Busy { height: 1; display: none; padding: 0 1; }
    Busy.-active { display: block; }
    Busy > #busy-text { width: 1fr; text-style: bold; }
    Busy > #busy-bar { width: 15; }
    Busy > #busy-time { width: 8; text-align: right; }
    """

    def __init__(self, **kw) -> None:
        super().__init__(**kw)
        self._start = 0.0
        self._step = 0
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        yield Label("", id="busy-text")
        yield Label("", id="busy-bar")
        yield Label("", id="busy-time")

    @property
    def active(self) -> bool:
        return self.has_class("-active")

    def start(self, text: str) -> None:
        self.query_one("#busy-text", Label).update(text)
        if not self.active:
            self._start = time.monotonic()
            self._step = 0
        self._tick()
        self.add_class("-active")
        if self._timer is None:
            self._timer = self.set_interval(0.2, self._tick)
        else:
            self._timer.resume()

    def _tick(self) -> None:
        self._step += 1
        self.query_one("#busy-bar", Label).update(bar(self._step))
        self.query_one("#busy-time", Label).update(f"{time.monotonic() - self._start:.1f} s")

    def stop(self) -> float:
        self.remove_class("-active")
        if self._timer is not None:
            self._timer.pause()
        return time.monotonic() - self._start if self._start else 0.0


class BusyProgress(Progress):
    """The work's :class:`suites.progress.Progress` (the API ``ct`` draws on stderr) shown on the
    busy line: ``show(text)`` is called with the label and the percentage, at most five times a
    second (a worker passes ``lambda t: app.call_from_thread(screen.busy, t)``)."""

    def __init__(self, show: Callable[[str], None]) -> None:
        self.show = show
        self.label, self.total, self.count, self.last = "", 0, 0, 0.0

    def start(self, label: str, total: int = 0) -> None:
        self.label, self.total, self.count, self.last = label, total, 0, 0.0
        self.show(label)

    def advance(self, n: int) -> None:
        self.count += n
        now = time.monotonic()
        if self.total and now - self.last >= 0.2:
            self.last = now
            self.show(f"{self.label}: {min(100, self.count * 100 // self.total)}%")
