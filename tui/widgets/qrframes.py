"""A message as fountain-coded QR frames drawn in the terminal, one after another, without end.

The frame size follows the terminal: ``offline.qr.fit_version`` picks the
largest QR version (at most 25, level M, a 2-module quiet zone) whose code
fits the space the player has, and the message is encoded for it
(``offline.qr.Encoder``).  Any message fits any terminal of at least 29x17
cells: a small code only means more parts.  In an 80x24 terminal the player
has 80x22 cells, one cell per 1x2 modules: version 5 (41x41 modules with the
quiet zone, 21 lines).

Colours: black modules on a white ground (so the code reads the same on any
terminal theme).  Under ``NO_COLOR`` no colour is set; the *light* modules
are drawn as blocks in the terminal's text colour, which gives a dark-on-light
code on the usual light-text-on-dark terminal (``offline.qr.render_matrix``).
"""

from __future__ import annotations

from typing import Any

from rich.text import Text
from textual.widgets import Static

EC = "M"
MAX_VERSION = 25
CHROME = 2  # lines the player's status and footer take


def player_version(cols: int, rows: int) -> int:
    """The QR version the player uses in a ``cols`` x ``rows`` terminal; 0 if no frame fits."""
    from cerro_torre.offline import qr

    v = qr.fit_version(cols, rows - CHROME, limit=MAX_VERSION)
    return v if v >= qr.min_version(EC) else 0


class Frames:
    """The frames one player shows: part numbers in ct's order, and their drawings (made on demand).

    ``drawing`` may be called from a worker thread to draw ahead; the dict
    holds finished strings only.
    """

    def __init__(self, data: bytes, version: int, *, no_color: bool) -> None:
        from cerro_torre.offline import qr

        self.data = data
        self.version = version
        self.no_color = no_color
        self.encoder = qr.Encoder(data, version, EC)
        self._order = self.encoder.sequence()
        self.seqs: list[int] = []
        self._drawn: dict[int, str] = {}

    @property
    def count(self) -> int:
        """Parts of the message: the fewest frames a receiver needs."""
        return self.encoder.count

    def seq(self, index: int) -> int:
        """Part number of the ``index``-th frame shown (0-based)."""
        while len(self.seqs) <= index:
            self.seqs.append(next(self._order))
        return self.seqs[index]

    def text(self, index: int) -> str:
        return self.encoder.text(self.seq(index))

    def ready(self, index: int) -> bool:
        return index < len(self.seqs) and self.seqs[index] in self._drawn

    def drawing(self, index: int) -> str:
        from cerro_torre.offline import qr

        seq = self.seq(index)
        pic = self._drawn.get(seq)
        if pic is None:
            pic = qr.terminal_frame(self.encoder.text(seq), self.version, EC, color=False,
                                    light_on_dark=self.no_color)
            self._drawn[seq] = pic
            if len(self._drawn) > 512:  # a long session: forget the oldest drawings
                del self._drawn[next(iter(self._drawn))]
        return pic


class QRFrames(Static):
    """Shows one drawing; the player screen says which."""

    DEFAULT_CSS = """
    QRFrames { width: auto; height: auto; }
    """

    def __init__(self, picture: str, *, no_color: bool, **kw: Any) -> None:
        super().__init__(**kw)
        self.picture = picture
        self.no_color = no_color

    def render(self) -> Text:
        style = "" if self.no_color else "black on white"
        return Text(self.picture, style=style, no_wrap=True, end="")

    def show(self, picture: str) -> None:
        self.picture = picture
        self.refresh(layout=True)
