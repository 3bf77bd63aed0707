"""A message as QR frames drawn in the terminal, one after another.

The frame size follows the terminal: :func:`fit_version` picks the largest
QR version (at most 25, level M, a 2-module quiet zone) whose code fits the
space the player has, and the message is cut with
``offline.qr.split(..., max_version=...)``.  In an 80x24 terminal the player
has 80x22 cells, one cell per 1x2 modules: version 5 (41x41 modules with the
quiet zone, 21 lines).

Colours: black modules on a white ground (so the code reads the same on any
terminal theme).  Under ``NO_COLOR`` no colour is set; the *light* modules
are drawn as blocks in the terminal's text colour, which gives a dark-on-light
code on the usual light-text-on-dark terminal (``offline.qr.render_matrix``).
"""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

EC = "M"
BORDER = 2
MAX_VERSION = 25


def code_size(version: int, border: int = BORDER) -> int:
    """Modules across a code of ``version`` with its quiet zone."""
    return 17 + 4 * version + 2 * border


def fit_version(cols: int, rows: int, border: int = BORDER, limit: int = MAX_VERSION) -> int:
    """The largest QR version whose code fits ``cols`` x ``rows`` cells (two modules per cell vertically)."""
    best = 1
    for v in range(1, limit + 1):
        n = code_size(v, border)
        if n <= cols and (n + 1) // 2 <= rows:
            best = v
    return best


def prepare(data: bytes, version: int, *, no_color: bool) -> tuple[list[str], list[str]]:
    """``(frame texts, drawings)`` of ``data`` at QR version <= ``version`` (blocking: run it in a worker)."""
    from cerro_torre.offline import qr

    frames = qr.split(data, max_version=version, ec=EC)
    drawings = [qr.render_matrix(qr.make_code(t, version, EC, border=BORDER).get_matrix(),
                                 color=False, light_on_dark=no_color) for t in frames]
    return frames, drawings


class QRFrames(Static):
    """Shows one drawing of a list; the player screen steps through them."""

    DEFAULT_CSS = """
    QRFrames { width: auto; height: auto; }
    """

    def __init__(self, drawings: list[str], *, no_color: bool, **kw) -> None:
        super().__init__(**kw)
        self.drawings = drawings
        self.no_color = no_color
        self.index = 0

    def render(self) -> Text:
        if not self.drawings:
            return Text("no frames")
        style = "" if self.no_color else "black on white"
        return Text(self.drawings[self.index], style=style, no_wrap=True, end="")

    def show(self, index: int) -> None:
        self.index = index % max(1, len(self.drawings))
        self.refresh(layout=True)
