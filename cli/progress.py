"""The CLI's drawing of :class:`suites.progress.Progress`: one line on stderr, only on a terminal.

Known totals get a bar, a percentage and the bytes done; unknown ones (Argon2id)
a moving block and the seconds elapsed, redrawn by a small thread (Argon2id
runs in C without the GIL).  The line is cleared when the work is done, so
nothing of it stays in the scrollback.  Never drawn under --json or when
stderr is not a terminal (ctx.progress() decides).
"""

from __future__ import annotations

import shutil
import threading
import time
from typing import TextIO

from cerro_torre.suites.encoding import human_size
from cerro_torre.suites.progress import Progress

BAR = 24
INTERVAL = 0.1


class TerminalProgress(Progress):
    def __init__(self, stream: TextIO, *, enabled: bool) -> None:
        self.stream, self.enabled = stream, enabled
        self.label, self.total, self.count = "", 0, 0
        self.t0 = self.last = 0.0
        self.shown = False
        self._stop: threading.Event | None = None
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self, label: str, total: int = 0) -> None:
        self.done()
        self.label, self.total, self.count = label, max(int(total), 0), 0
        self.t0 = time.monotonic()
        self.last = 0.0
        if self.enabled and not self.total:
            self._stop = threading.Event()
            self._thread = threading.Thread(target=self._spin, name="ct-progress", daemon=True)
            self._thread.start()

    def advance(self, n: int) -> None:
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self.last >= INTERVAL or (self.total and self.count >= self.total):
            self.last = now
            self._draw(self.line(now))

    def done(self) -> None:
        if self._thread is not None and self._stop is not None:
            self._stop.set()
            self._thread.join()
            self._thread = self._stop = None
        if self.enabled and self.shown:
            with self._lock:
                self.stream.write("\r\x1b[K")
                self.stream.flush()
                self.shown = False

    def line(self, now: float) -> str:
        """The text of the line (without the carriage return)."""
        secs = f"{now - self.t0:.1f} s"
        if self.total:
            frac = min(self.count / self.total, 1.0)
            fill = int(frac * BAR)
            return (f"{self.label} [{'#' * fill}{'.' * (BAR - fill)}] {frac * 100:3.0f}%  "
                    f"{human_size(self.count)} of {human_size(self.total)}  {secs}")
        span = BAR - 3
        step = int((now - self.t0) / INTERVAL) % (2 * span)
        pos = step if step < span else 2 * span - step
        return f"{self.label} [{' ' * pos}###{' ' * (span - pos)}]  {secs}"

    def _spin(self) -> None:
        assert self._stop is not None
        while not self._stop.wait(INTERVAL):
            self._draw(self.line(time.monotonic()))

    def _draw(self, text: str) -> None:
        width = shutil.get_terminal_size((80, 24)).columns - 1
        with self._lock:
            self.stream.write("\r" + text[:width] + "\x1b[K")
            self.stream.flush()
            self.shown = True
