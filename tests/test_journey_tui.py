"""The newcomer's journey in the TUI (issue 13), through Pilot and in a real 80x24 terminal (tmux):
Enter on the suite field moves on (the passphrase typed next never changes the suite), a very weak
passphrase is refused as by `ct keygen`, a failed open leaves nothing of the previous message."""

from __future__ import annotations

import asyncio
import os

import pytest
from test_tui_support import PW, ct, fill, screen_text, settle

from cerro_torre.tui.app import CTApp


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "256")
    monkeypatch.setenv("CT_PASSPHRASE", PW)
    monkeypatch.delenv("CT_HOME", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    monkeypatch.chdir(tmp_path)


def make(tmp_path, who: str, mode: str) -> CTApp:
    return CTApp(str(tmp_path / "homes" / who), mode=mode, cwd=str(tmp_path), qr_autoplay=False)


def test_enter_on_the_suite_moves_to_the_passphrase(tmp_path):
    from textual.widgets import Input, Select

    async def go():
        app = make(tmp_path, "alice", "keys")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await pilot.press("g")
            await pilot.pause()
            dlg = app.screen
            assert dlg.id == "generate-dialog"
            await pilot.press(*"dave", "enter")
            suite = dlg.query_one("#field-suite", Select)
            assert app.focused is suite
            await pilot.press("enter")                      # next field, not the list
            await pilot.pause()
            assert not suite.expanded
            assert app.focused is dlg.query_one("#field-passphrase", Input)
            await pilot.press(*"C3 ember quarry", "enter")   # letters that would pick CT-SIG-03 in the list
            await pilot.pause()
            assert suite.value == "CT-SIG-02"
            assert dlg.query_one("#field-passphrase", Input).value == "C3 ember quarry"
            assert app.focused is dlg.query_one("#field-again", Input)
            # space (or an arrow) still opens the list
            suite.focus()
            await pilot.press("space")
            await pilot.pause()
            assert suite.expanded
    asyncio.run(go())


def test_the_tui_refuses_a_very_weak_passphrase(tmp_path):
    from textual.widgets import Static

    async def go():
        app = make(tmp_path, "alice", "keys")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await pilot.press("g")
            await pilot.pause()
            await fill(pilot, app, {"id": "dave", "passphrase": "abc", "again": "abc"})
            dlg = app.screen
            assert dlg.id == "generate-dialog"                # still open: refused
            assert str(dlg.query_one("#form-error", Static).render()) == (
                "the passphrase is too weak (very weak, ~4 bits): too easy to guess: use four or more random words")
            await fill(pilot, app, {"passphrase": PW, "again": PW})
            await settle(pilot, app)
            assert os.path.exists(tmp_path / "homes" / "alice" / "keys" / "dave.pub")
    asyncio.run(go())


def test_a_failed_open_clears_the_previous_message(tmp_path):
    for n in ("alice", "bob"):
        assert ct("--home", f"homes/{n}", "keygen", "--id", n)[0] == 0
        assert ct("--home", f"homes/{n}", "key", "export", n, "--public", "-o", f"{n}.pub")[0] == 0
    assert ct("ceremony", "keygen", "-k", "2", "--name", "coop", "--member", "alice.pub", "--member", "bob.pub",
              "-o", "r0.ctm")[0] == 0

    async def go():
        app = make(tmp_path, "alice", "keyholder")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            for path in ("r0.ctm", "nope.ctm"):
                await pilot.press("o")
                await pilot.pause()
                await fill(pilot, app, {"path": path})
                await settle(pilot, app)
                text = screen_text(app)
                if path == "r0.ctm":
                    assert "keygen ceremony" in text and "compare with the coordinator" in text
            assert "keygen ceremony" not in text and "compare with the coordinator" not in text
            assert "could not open nope.ctm: error: message not found: nope.ctm" in " ".join(text.split())
            assert app.screen.pending is None
    asyncio.run(go())


def test_enter_on_the_suite_in_a_real_terminal(tmp_path):
    """tmux, 80x24: the keys a person types, Enter after the suite, then the passphrase."""
    from test_tui_tmux import Term

    t = Term(tmp_path, "journey-suite", {"CT_TESTING": "1", "CT_TEST_ARGON2_MEMORY_KIB": "256",
                                         "XDG_CONFIG_HOME": str(tmp_path / "config"), "TERM": "xterm-256color"})
    try:
        t.wait("F2 Keys")
        t.keys("g")
        t.wait("Generate identity keys")
        t.keys("dave", "Enter", "Enter", "C3 ember quarry tidal oboe lantern", "Enter",
               "C3 ember quarry tidal oboe lantern")
        screen = t.wait("strength ")
        assert "CT-SIG-02" in screen and "CT-SIG-03" not in screen, screen
        t.keys("Enter")                                     # submit from the last field
        t.wait("generated key 'dave' (CT-SIG-02)", timeout=60)
    finally:
        t.close()
