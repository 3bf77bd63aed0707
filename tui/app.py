"""``ct tui``: the keyholders' Textual app (keyholders, coordinators, governance officers).

One screen per mode — Keys (F2), Keyholder (F3), Coordinator (F4), Verify
(F5), Governance (F6).  The app adds no ceremony logic: every step calls the
same library functions as the CLI (``ceremony/``, ``offline/``), in thread
workers that post typed messages (``messages.py``), so no keypress waits on
Argon2id or any other crypto.  Start-up imports only Textual and the Keys
screen; the crypto stack loads in the first worker.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

from textual.app import App
from textual.binding import Binding
from textual.screen import Screen


def _lazy(module: str, cls: str) -> Callable[[], Screen]:
    def make() -> Screen:
        import importlib

        return getattr(importlib.import_module(f"cerro_torre.tui.screens.{module}"), cls)()
    make.__name__ = cls
    return make


class CTApp(App[None]):
    CSS_PATH = "app.tcss"
    TITLE = "Cerro Torre"
    ENABLE_COMMAND_PALETTE = False
    MODES = {
        "keys": _lazy("keys", "KeysScreen"),
        "keyholder": _lazy("keyholder", "KeyholderScreen"),
        "coordinator": _lazy("coordinator", "CoordinatorScreen"),
        "verify": _lazy("verify", "VerifyScreen"),
        "governance": _lazy("governance", "GovernanceScreen"),
    }
    BINDINGS = [
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f2", "switch_mode('keys')", "Keys", show=False),
        Binding("f3", "switch_mode('keyholder')", "Keyholder", show=False),
        Binding("f4", "switch_mode('coordinator')", "Coordinator", show=False),
        Binding("f5", "switch_mode('verify')", "Verify", show=False),
        Binding("f6", "switch_mode('governance')", "Governance", show=False),
    ]

    def __init__(self, home: str, *, mode: str = "keys", params: Any = None, allow_weak: bool | None = None,
                 cwd: str | None = None, qr_rate: float = 2.0, qr_autoplay: bool = True) -> None:
        super().__init__()
        self.home = os.path.abspath(home)
        self.cwd = os.path.abspath(cwd or os.getcwd())
        if params is None or allow_weak is None:
            from cerro_torre.keys.keyfile import params_from_env

            env_params, env_weak = params_from_env()
            params = env_params if params is None else params
            allow_weak = env_weak if allow_weak is None else allow_weak
        self.params = params
        self.allow_weak = bool(allow_weak)
        self.start_mode = mode
        self.qr_rate = qr_rate
        self.qr_autoplay = qr_autoplay
        self._held: list[tuple[str, dict[str, Any]]] = []  # notifications held while a QR player is up
        self.records: dict[str, Any] = {}      # keyholder-set records seen: full fingerprint hex -> KeyholderSet
        self.record_paths: dict[str, str] = {}  # full fingerprint hex -> file it came from

    def on_mount(self) -> None:
        self.switch_mode(self.start_mode)

    # ------------------------------------------------------------ notifications never cover a QR code
    def _player_up(self) -> bool:
        try:
            return bool(getattr(self.screen, "HOLDS_NOTIFICATIONS", False))
        except Exception:  # noqa: BLE001 - no screen yet
            return False

    def notify(self, message: str, **kw: Any) -> None:  # type: ignore[override]
        """As Textual's, but held while the screen shown is a QR player (its ``HOLDS_NOTIFICATIONS``)."""
        if self._player_up():
            self._held.append((message, kw))
            return
        super().notify(message, **kw)

    def _refresh_notifications(self) -> None:
        # Textual (pinned) draws the notifications on the screen shown: not on a QR player.  The
        # screen below shows them again when it resumes.
        if not self._player_up():
            super()._refresh_notifications()

    def release_notifications(self) -> None:
        """Show the notifications held while a QR player was up."""
        held, self._held = self._held, []
        for message, kw in held:
            self.notify(message, **kw)

    # ------------------------------------------------------------ shared helpers
    def resolve(self, path: str) -> str:
        """A path typed in the TUI, relative to the directory ``ct tui`` started in."""
        p = os.path.expanduser(path.strip())
        return p if os.path.isabs(p) else os.path.join(self.cwd, p)

    def path_arg(self, path: str) -> str:
        """``path`` as the CLI would be given it: as typed when ``ct tui`` runs where it started (so error
        messages name the file the same way), else resolved."""
        p = os.path.expanduser(path.strip())
        if not os.path.isabs(p) and os.path.abspath(os.getcwd()) == self.cwd:
            return p
        return self.resolve(p)

    def display_path(self, path: str) -> str:
        """Short form of a path: relative below the start directory, else ``~/...``, else absolute."""
        p = os.path.abspath(self.resolve(path))
        if p == self.cwd:
            return "."
        if p.startswith(self.cwd + os.sep):
            return os.path.relpath(p, self.cwd)
        home = os.path.expanduser("~")
        if home not in ("", "/") and (p == home or p.startswith(home + os.sep)):
            return "~" + p[len(home):]
        return p

    def make_home(self) -> Any:
        from cerro_torre.keys.home import Home

        return Home(self.home, params=self.params, allow_weak=self.allow_weak)

    def make_keyholder(self) -> Any:
        from cerro_torre.ceremony.keyholder import Keyholder

        return Keyholder(self.home, params=self.params, allow_weak=self.allow_weak)

    def kdf_text(self) -> str:
        p = self.params
        mem = f"{p.memory_kib // 1024} MiB" if p.memory_kib >= 1024 else f"{p.memory_kib} KiB"
        return f"Argon2id t={p.time_cost}, {mem}, p={p.parallelism}"

    def remember_records(self, records: list[Any], path: str | None = None) -> None:
        for r in records:
            self.records[r.fingerprint.full_hex] = r
            if path:
                self.record_paths[r.fingerprint.full_hex] = path

    def start_rotation(self, group_path: str) -> None:
        """Governance → Coordinator: open the rotation form for the set in ``group_path``."""
        self.switch_mode("coordinator")

        def open_form() -> None:
            self.screen.open_rotate(group_path)  # type: ignore[attr-defined]
        self.call_after_refresh(open_form)


def run(home: str) -> int:
    CTApp(home).run()
    return 0
