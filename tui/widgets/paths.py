"""File-name completion for path inputs (→ accepts the suggestion)."""

from __future__ import annotations

import os

from textual.suggester import Suggester


class PathSuggester(Suggester):
    """Suggest the first file or folder (sorted) that completes the typed path; folders end in '/'."""

    def __init__(self, cwd: str | None = None) -> None:
        super().__init__(use_cache=False, case_sensitive=True)
        self.cwd = cwd

    async def get_suggestion(self, value: str) -> str | None:
        if not value or value.endswith(os.sep + os.sep):
            return None
        expanded = os.path.expanduser(value)
        head, tail = os.path.split(expanded)
        base = head or "."
        if self.cwd and not os.path.isabs(base):
            base = os.path.join(self.cwd, base)
        try:
            names = sorted(n for n in os.listdir(base) if n.startswith(tail) and (tail.startswith(".") or
                                                                                   not n.startswith(".")))
        except OSError:
            return None
        for name in names:
            if name == tail:
                continue
            rest = name[len(tail):]
            if os.path.isdir(os.path.join(base, name)):
                rest += os.sep
            return value + rest
        return None
