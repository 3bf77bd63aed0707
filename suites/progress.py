"""The progress callback of long work: hashing a payload, copying a tarball, Argon2id.

Work code takes a :class:`Progress` and reports to it; how progress is shown
is the caller's: the CLI draws a bar on stderr when it is a terminal
(``cli/progress.py``), the TUI its busy line.  This base reports nothing, so
``progress=NULL`` is the silent default.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any


class Progress:
    """``start(label, total)`` once (total in bytes; 0 when unknown, e.g. Argon2id), ``advance(n)``
    as bytes are done, ``done()`` at the end (also after an error)."""

    def start(self, label: str, total: int = 0) -> None:
        pass

    def advance(self, n: int) -> None:
        pass

    def done(self) -> None:
        pass

    @contextlib.contextmanager
    def task(self, label: str, total: int = 0) -> Iterator[Progress]:
        """``with progress.task("hashing", n):`` start, then done() however the block ends."""
        self.start(label, total)
        try:
            yield self
        finally:
            self.done()


NULL = Progress()


class Counted:
    """A hash object that reports every byte it is fed to ``progress``."""

    __slots__ = ("_h", "_progress")

    def __init__(self, h: Any, progress: Progress) -> None:
        self._h, self._progress = h, progress

    def update(self, data: Any) -> None:
        self._h.update(data)
        self._progress.advance(len(data) if not isinstance(data, memoryview) else data.nbytes)

    def hexdigest(self) -> str:
        return self._h.hexdigest()

    def digest(self) -> bytes:
        return self._h.digest()
