"""The top line: which screen is shown and the keys that switch screens."""

from __future__ import annotations

from rich.text import Text
from textual.widgets import Static

# (key, mode, label) in display order; the app binds the same keys
SCREENS: tuple[tuple[str, str, str], ...] = (
    ("f2", "keys", "Keys"),
    ("f3", "keyholder", "Keyholder"),
    ("f4", "coordinator", "Coordinator"),
    ("f5", "verify", "Verify"),
    ("f6", "governance", "Governance"),
)


class NavBar(Static):
    """`` ct  F2 Keys  F3 Keyholder ...`` with the current screen in reverse video (readable under NO_COLOR)."""

    DEFAULT_CSS = """
    NavBar { height: 1; width: 100%; }
    """

    def __init__(self, current: str) -> None:
        super().__init__(id="navbar")
        self.current = current

    def render(self) -> Text:
        t = Text(no_wrap=True, overflow="ellipsis")
        t.append(" ct ", style="bold reverse")
        for key, mode, label in SCREENS:
            t.append(" ")
            chunk = f" {key.upper()} {label} "
            if mode == self.current:
                t.append(chunk, style="bold reverse")
            else:
                t.append(f" {key.upper()}", style="bold")
                t.append(f" {label} ")
        return t
