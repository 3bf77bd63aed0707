"""Smoke test of `ct tui` in a real terminal: tmux, 80x24, driven with send-keys, read with capture-pane.

Runs the installed `ct` (the venv's console script) in its own tmux server
(`-L`), so nothing else's tmux is touched.  Every wait polls capture-pane
with a bounded deadline.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time


TMUX = shutil.which("tmux")
CT = os.path.join(os.path.dirname(sys.executable), "ct")

# `make test` installs tmux: its absence is a broken set-up, never a reason to skip
assert TMUX is not None, "tmux is not installed; run the tests through 'make test', which installs it"


class Term:
    def __init__(self, tmp_path, name: str, env: dict[str, str], home: str = "home", *,
                 args: str = "tui", size: tuple[int, int] = (80, 24)) -> None:
        self.socket = f"ct-tui-test-{os.getpid()}-{name}"
        self.tmp = tmp_path
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        cmd = f"cd {tmp_path} && exec env {exports} {CT} --home {home} {args}"
        self.started = time.monotonic()
        self.tmux("new-session", "-d", "-x", str(size[0]), "-y", str(size[1]), "-s", "ct", cmd)

    def tmux(self, *args: str) -> str:
        return subprocess.run([TMUX, "-L", self.socket, "-f", "/dev/null", *args], check=True,
                              capture_output=True, text=True, timeout=20).stdout

    def keys(self, *keys: str) -> None:
        """One send-keys per key or word, with a pause after keys that move focus or switch screens
        (Textual routes a key to the widget focused when it arrives: text typed within a few ms of a
        Tab can land in the field being left)."""
        for k in keys:
            self.tmux("send-keys", "-t", "ct", k)
            time.sleep(0.25 if k in ("Tab", "Enter", "Escape") or k.startswith(("F", "C-")) else 0.05)

    def text(self, *extra: str) -> str:
        return self.tmux("capture-pane", "-p", "-t", "ct", *extra)

    def wait(self, *needles: str, timeout: float = 15.0) -> str:
        deadline = time.monotonic() + timeout
        screen = ""
        while time.monotonic() < deadline:
            try:
                screen = self.text()
            except subprocess.CalledProcessError:
                screen = ""
            if all(n in screen for n in needles):
                return screen
            time.sleep(0.05)
        raise AssertionError(f"waited {timeout} s for {needles!r}; the screen shows:\n{screen}")

    def alive(self) -> bool:
        return subprocess.run([TMUX, "-L", self.socket, "-f", "/dev/null", "has-session", "-t", "ct"],
                              capture_output=True).returncode == 0

    def close(self) -> None:
        subprocess.run([TMUX, "-L", self.socket, "-f", "/dev/null", "kill-server"], capture_output=True)


ENV = {"CT_TESTING": "1", "CT_TEST_ARGON2_MEMORY_KIB": "256", "TERM": "xterm-256color"}


def test_tui_in_tmux(tmp_path):
    t = Term(tmp_path, "main", ENV)
    try:
        screen = t.wait("F2 Keys", "Keys in home")
        first = time.monotonic() - t.started
        screen = t.wait("no keys in home/keys")
        listed = time.monotonic() - t.started
        print(f"\nfirst screen after {first:.2f} s, key list after {listed:.2f} s (80x24 tmux)")
        assert "g Generate" in screen and "^q Quit" in screen
        # generate a key: g, id, Tab Tab (past the suite), passphrase twice
        t.keys("g")
        t.wait("Generate identity keys", "strength")
        t.keys("alice", "Tab", "Tab", "correct horse battery staple")
        t.wait("fair (~48 bits)")  # the strength line follows the typing
        t.keys("Enter", "correct horse battery staple", "Enter")
        screen = t.wait("ultimate", "words ")
        assert re.search(r"\*\s+alice\s+CT-SIG-02\s+ultimate\s+[0-9a-f]{4} [0-9a-f]{4}", screen), screen
        # every screen, by its function key
        for key, needle in (("F3", "Answer a ceremony"), ("F4", "Coordinator: no ceremony open"),
                            ("F5", "Verify a bundle"), ("F6", "Keyholder-set chain"), ("F2", "Keys in home")):
            t.keys(key)
            t.wait(needle)
        # the public key as QR frames, stepped by hand
        t.keys("x")
        screen = t.wait("frame 1, part 1/", "QR v5/M")
        assert "\u2588" in screen or "\u2580" in screen
        t.keys("Space")
        t.wait("paused")
        t.keys("Right")
        t.wait("frame 2, part 2/")
        t.keys("Escape")
        t.wait("Keys in home")
        # an error is a notification with the CLI's wording
        t.keys("F3", "o")
        t.wait("Open the coordinator's message")
        t.keys("missing.ctm", "Enter")
        t.wait("error: message not found: missing.ctm", "hint: check the path")
        t.keys("C-q")
        deadline = time.monotonic() + 10
        while t.alive() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not t.alive(), "ct tui did not quit on Ctrl+Q"
    finally:
        t.close()


def grey(params: list[str]) -> bool:
    """Whether an SGR colour (38/48;5;N or 38/48;2;R;G;B) has no hue."""
    if params[1] == "5":
        n = int(params[2])
        return n in (0, 7, 8, 15, 16, 231) or 232 <= n <= 255
    r, g, b = (int(x) for x in params[2:5])
    return r == g == b


def test_tui_in_tmux_no_color(tmp_path):
    """Under NO_COLOR Textual draws in greys only (its Monochrome filter), with bold and reverse for emphasis."""
    t = Term(tmp_path, "nocolor", {**ENV, "NO_COLOR": "1"})
    try:
        t.wait("F2 Keys", "no keys in home/keys")
        raw = t.text("-e")
        hues = []
        for seq in re.findall(r"\x1b\[([0-9;]*)m", raw):
            ps = seq.split(";")
            i = 0
            while i < len(ps):
                if ps[i] in ("38", "48"):
                    n = 3 if ps[i + 1] == "5" else 5
                    if not grey(ps[i:i + n]):
                        hues.append(seq)
                    i += n
                    continue
                if ps[i].isdigit() and (30 <= int(ps[i]) <= 37 or 40 <= int(ps[i]) <= 47 or 90 <= int(ps[i]) <= 107):
                    if int(ps[i]) not in (30, 37, 40, 47, 90, 97, 100, 107):
                        hues.append(seq)
                i += 1
        assert not hues, f"coloured (not grey) escapes under NO_COLOR: {sorted(set(hues))}"
        assert re.search(r"\x1b\[(?:[0-9]*;)*7(?:;[0-9]*)*m", raw), "the current screen is marked in reverse video"
        t.keys("C-q")
    finally:
        t.close()


def test_cli_player_fits_the_terminal(tmp_path):
    """Issue 13: `ct qr encode --terminal` drew codes taller than the terminal, and its warning scrolled away.

    In tmux the code must fit whole (quiet zone on the first line, the caption on the last), at the
    version that fits; in a terminal too small for any code the warning is on screen on every frame."""
    (tmp_path / "msg.bin").write_bytes(os.urandom(3000))
    for size, version, side in (((80, 24), 6, 45), ((60, 20), 4, 37)):
        t = Term(tmp_path, f"player{size[0]}", ENV, args="qr encode msg.bin --terminal", size=size)
        try:
            screen = t.wait(f"QR v{version}/M: message ")
            lines = screen.rstrip("\n").split("\n")
            assert len(lines) == size[1], screen
            # the quiet zone (white spaces), then the top of the finder patterns: the whole code is on screen
            assert lines[0].strip() == "" and lines[1].startswith("  \u2588\u2580\u2580\u2580\u2580\u2580\u2588 ")
            assert len(lines[1].rstrip()) == side - 2, screen
            assert lines[-1].startswith("frame ") and len(lines[-1]) < size[0], screen
            t.wait("frame 2 (part 2)")
            t.keys("C-c")
        finally:
            t.close()
    t = Term(tmp_path, "tiny", ENV, args="qr encode msg.bin --terminal", size=(20, 10))
    try:
        screen = t.wait("warning: the termina")
        assert "warning: the terminal is 20x10; these frames need 29x16: enlarge the window or shrink the font" \
            in screen.replace("\n", "")
        time.sleep(1.2)  # frames later the warning is still there
        assert "enlarge the window" in t.text().replace("\n", "")
    finally:
        t.close()
