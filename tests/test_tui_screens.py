"""Behaviour of the TUI screens through Pilot: errors with the CLI's text, refusal, wrong passphrase,
QR input and playback, the coordinator naming culprits, governance starting a rotation, airgap
tarballs on the Verify screen, and the explain tree against `ct explain`."""

from __future__ import annotations

import asyncio
import os
import re

import pytest

from test_tui_support import PW, ct, det_record, fill, notifications, screen_text, settle, write

from cerro_torre.tui.app import CTApp


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "256")
    monkeypatch.setenv("CT_PASSPHRASE", PW)
    monkeypatch.delenv("CT_HOME", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)


def run(coro):
    return asyncio.run(coro)


def make(tmp_path, who: str, mode: str, size=(80, 24)) -> CTApp:
    return CTApp(str(tmp_path / "homes" / who), mode=mode, cwd=str(tmp_path), qr_autoplay=False)


@pytest.fixture
def three(tmp_path):
    """Three keyholders with keys and a keygen request for them."""
    for n in ("alice", "bob", "carol"):
        assert ct("--home", f"homes/{n}", "keygen", "--id", n)[0] == 0
        assert ct("--home", f"homes/{n}", "key", "export", n, "--public", "-o", f"{n}.pub")[0] == 0
    assert ct("ceremony", "keygen", "-k", "2", "--name", "coop", "--member", "alice.pub", "--member", "bob.pub",
              "--member", "carol.pub", "-o", "r0.ctm")[0] == 0
    return tmp_path


async def open_message(pilot, app, path: str, key: str = "o") -> None:
    await pilot.press(key)
    await pilot.pause()
    await fill(pilot, app, {"path": path})
    await settle(pilot, app)


# ------------------------------------------------------------------ keyholder

def test_wrong_passphrase_then_retry(three):
    async def go():
        app = make(three, "alice", "keyholder")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await open_message(pilot, app, "r0.ctm")
            await pilot.press("a")
            await pilot.pause()
            await fill(pilot, app, {"reply": "r0-alice.ctm", "passphrase": "not it"})
            await settle(pilot, app)
            last = notifications(app)[-1]
            assert last.startswith("error: wrong passphrase"), last
            assert "\nhint: " in last
            assert not os.path.exists("r0-alice.ctm")
            assert "press a to try again" in screen_text(app)
            await pilot.press("a")
            await pilot.pause()
            await fill(pilot, app, {"reply": "r0-alice.ctm", "passphrase": PW})
            await settle(pilot, app)
            assert os.path.exists("r0-alice.ctm"), notifications(app)
            # the same message again: refused, naming the reply kept in the home
            await open_message(pilot, app, "r0.ctm")
            assert notifications(app)[-1].startswith("error: 'alice' already answered this request message")
    run(go())


def test_refuse_writes_nothing(three):
    async def go():
        app = make(three, "bob", "keyholder")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await open_message(pilot, app, "r0.ctm")
            assert app.screen.pending is not None
            await pilot.press("r")
            await settle(pilot, app)
            assert notifications(app)[-1] == "error: refused by the keyholder\nhint: nothing was signed or stored"
            assert app.screen.pending is None
            await pilot.press("a")
            await pilot.pause()
            assert notifications(app)[-1].startswith("error: no message to approve")
    run(go())
    assert not os.path.exists(three / "homes" / "bob" / "ceremonies")
    from cerro_torre.ceremony.message import Message

    cid = Message.parse((three / "r0.ctm").read_bytes()).ceremony
    assert sorted(os.listdir(three)) == sorted(["alice.pub", "bob.pub", "carol.pub", "homes", "r0.ctm",
                                                f"{cid}.journal"])   # the coordinator's journal, as before


def test_message_from_qr_frames_and_overwrite_refused(three):
    from cerro_torre.offline import qr

    with open(three / "r0.ctm", "rb") as f:
        qr.encode_png(f.read(), str(three / "frames"), max_version=10)
    write(str(three / "taken.ctm"), b"x")

    async def go():
        app = make(three, "carol", "keyholder")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await open_message(pilot, app, "frames", key="i")
            assert app.screen.pending is not None, notifications(app)
            assert app.screen.pending.member == "carol"
            await pilot.press("a")
            await pilot.pause()
            await fill(pilot, app, {"reply": "taken.ctm", "passphrase": PW})
            assert "error: taken.ctm exists" in str(app.screen.query_one("#form-error").render())
            await fill(pilot, app, {"reply": "r0-carol.ctm"})
            await settle(pilot, app)
            assert os.path.exists("r0-carol.ctm")
            # the reply as frames in the terminal: pause, step, rate
            await pilot.press("x")
            await settle(pilot, app)
            player = app.screen
            assert type(player).__name__ == "QRScreen" and player.version == 5 and not player.playing
            reply = open("r0-carol.ctm", "rb").read()
            count = player.frames.count
            assert count == qr.Encoder(reply, 5, "M").count
            assert qr.join(player.frames.text(i) for i in range(count + 10)) == reply
            await pilot.press("left")
            assert player.index == 0  # the stream has a start, no end
            await pilot.press("right", "right")
            assert player.index == 2
            await pilot.press("plus", "plus")
            assert player.rate == 4.0
            await pilot.press("minus")
            assert player.rate == 3.0
            await pilot.press("space")
            assert player.playing
            await pilot.pause(0.8)
            assert player.index > 2
            await pilot.press("space")
            assert not player.playing
            i = player.index
            assert (f"frame {i + 1}, part {player.frames.seq(i)}/{count}  3/s paused  QR v5/M {len(reply)} B"
                    in screen_text(app))
            await pilot.press("escape")
            await pilot.pause()
            assert type(app.screen).__name__ == "KeyholderScreen"
    run(go())


def test_player_never_pops_up_over_another_screen(three):
    """Issue 13: a player asked for on one screen appeared over another screen's dialog later.

    The frames are encoded in a worker; when its result arrives the user has
    moved on (another mode, a dialog open): the player must not be pushed."""
    from cerro_torre.tui.messages import FramesReady
    from cerro_torre.tui.widgets.qrframes import Frames

    async def go():
        app = make(three, "alice", "keys")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            keys = app.screen
            keys.busy("encoding QR frames (version 5) for a large message")  # as play_qr leaves it
            await pilot.press("f4", "k")  # Coordinator, then its keygen form
            await settle(pilot, app)
            assert type(app.screen).__name__ == "FormDialog"
            keys.post_message(FramesReady("a large message", Frames(os.urandom(60000), 5, no_color=False)))  # late
            await pilot.pause(0.2)
            assert type(app.screen).__name__ == "FormDialog"
            for mode in ("keys", "coordinator"):
                stack = app._screen_stacks[mode]  # noqa: SLF001
                assert all(type(sc).__name__ != "QRScreen" for sc in stack), mode
            await pilot.press("escape", "f2")
            await pilot.pause()
            assert app.screen is keys and not keys.is_busy
    run(go())


def toasts_shown(app) -> list[str]:
    """Messages of the notifications drawn on the current screen (none if its toast rack is hidden)."""
    from textual.widgets._toast import Toast, ToastRack

    if not app.screen.query_one(ToastRack).display:
        return []
    return [t._notification.message for t in app.screen.query(Toast)]  # noqa: SLF001


def test_notifications_never_cover_the_player(three):
    async def go():
        app = make(three, "alice", "keys")
        async with app.run_test(size=(80, 24), notifications=True) as pilot:
            await settle(pilot, app)
            app.notify("shown before the player opens", timeout=30)
            await pilot.pause(0.2)
            assert toasts_shown(app) == ["shown before the player opens"]
            app.screen.play_qr("bytes", b"x" * 3000)
            await settle(pilot, app)
            player = app.screen
            assert type(player).__name__ == "QRScreen"
            app.notify("raised while the player is up", timeout=30)
            await pilot.pause(0.2)
            assert toasts_shown(app) == []
            assert "raised while the player is up" not in notifications(app)  # held until the player closes
            await pilot.press("escape")
            await settle(pilot, app)
            await pilot.pause(0.2)
            assert toasts_shown(app) == ["shown before the player opens", "raised while the player is up"]
    run(go())


def test_player_encodes_again_when_the_terminal_shrinks(three):
    async def go():
        app = make(three, "alice", "keys")
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot, app)
            data = os.urandom(4000)
            app.screen.play_qr("bytes", data)
            await settle(pilot, app)
            player = app.screen
            assert player.version == 13  # 38 lines for the code: 75 modules
            await pilot.resize_terminal(80, 24)
            await pilot.pause()
            assert player.version == 5 and player.index == 0
            lines = screen_text(app).split("\n")
            assert len(lines) == 24
            await pilot.resize_terminal(120, 40)  # larger again: the frames shown stay as they are
            await pilot.pause()
            assert player.version == 5
            await pilot.resize_terminal(28, 20)
            await pilot.pause()
            assert screen_text(app).split("\n")[0].strip() == "enlarge to 29x17 or more"
            await pilot.pause(0.6)  # the timer does not bring the code back
            assert "\u2588" not in screen_text(app)
            await pilot.resize_terminal(80, 24)
            await pilot.pause()
            assert "\u2588" in screen_text(app) and player.version == 5
    run(go())


def test_scan_a_video_on_the_keyholder_screen(three):
    """i on the Keyholder screen: a video of the coordinator's screen, read through OpenCV, with progress."""
    import sys

    from cerro_torre.offline import qr
    from cerro_torre.tui.messages import QRProgress

    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "demo"))
    from qr_video import make_video

    with open(three / "r0.ctm", "rb") as f:
        pngs = qr.encode_png(f.read(), str(three / "frames"), max_version=15)
    make_video(pngs, str(three / "screen.avi"), repeat=2, shuffle=True, scale=(0.6, 0.8), blur=1.0, noise=8,
               drop=0.2, blank=2, seed=3)
    seen: list[str] = []

    async def go():
        app = make(three, "carol", "keyholder")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            kh = app.screen
            post = kh.post_message

            def spy(m):  # what the scan worker posts
                if isinstance(m, QRProgress):
                    seen.append(m.text)
                return post(m)
            kh.post_message = spy
            await open_message(pilot, app, "screen.avi", key="i")
            assert kh.pending is not None, notifications(app)
            assert kh.pending.member == "carol"
            assert "from screen.avi" in screen_text(app)
            # a camera that is not there: the CLI's error, nothing else happens
            await open_message(pilot, app, "/dev/video9", key="i")
            assert notifications(app)[-1] == ("error: camera /dev/video9 does not exist\nhint: list the cameras "
                                              "with 'ls /dev/video*' and pass one with --camera /dev/videoN")
    run(go())
    assert seen[:2] == ["no ct frame yet (1 picture)", "no ct frame yet (2 pictures)"]  # two blank pictures
    assert seen[-1].startswith("100 % \u2014 ") and seen[-1].endswith(" parts, 0 more expected")


# ------------------------------------------------------------------ coordinator

def test_coordinator_names_the_culprit(three, tmp_path):
    # a reply to another ceremony, and a reply to this one
    assert ct("ceremony", "keygen", "-k", "2", "--name", "coop", "--member", "alice.pub", "--member", "bob.pub",
              "--member", "carol.pub", "-o", "other.ctm")[0] == 0
    assert ct("--home", "homes/alice", "ceremony", "step", "other.ctm", "--yes", "-o", "alice-other.ctm")[0] == 0
    assert ct("--home", "homes/bob", "ceremony", "step", "r0.ctm", "--yes", "-o", "bob-r0.ctm")[0] == 0

    async def go():
        app = make(tmp_path, "coordinator", "coordinator")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await open_message(pilot, app, "r0.ctm")
            await open_message(pilot, app, "alice-other.ctm", key="f")
            last = notifications(app)[-1]
            assert last.startswith("error: reply from 'alice' belongs to another ceremony"), last
            assert "hint: this ceremony is" in last
            await open_message(pilot, app, "bob-r0.ctm", key="f")
            screen = app.screen
            assert list(screen.replies) == ["bob"]
            text = screen_text(app)
            assert "1 of 3 needed replies (3 asked); missing: alice, carol" in text
            assert re.search(r"bob\s+answered\s+bob-r0.ctm", text)
            await open_message(pilot, app, "bob-r0.ctm", key="f")
            assert notifications(app)[-1] == "error: reply from 'bob' is given twice\nhint: pass each reply file once"
            await pilot.press("c")
            await settle(pilot, app)
            last = notifications(app)[-1]
            assert last.startswith("error: 1 of 3 needed") and "missing: alice, carol" in last, last
            assert "! error: 1 of 3 needed" in text + screen_text(app)
            # opening a reply as if it were the coordinator's message
            await open_message(pilot, app, "bob-r0.ctm")
            assert notifications(app)[-1] == ("error: this is the reply of 'bob', not the coordinator's message\n"
                                              "hint: the first file is the message the replies answer")
    run(go())


def test_governance_chain_and_rotation(tmp_path):
    r1 = det_record(["alice", "bob", "carol"], 2)
    r2 = det_record(["alice", "bob", "dave"], 2, epoch=2, previous=r1)
    write("governance/keyholders/epoch-1.json", r1.to_bytes())
    write("governance/keyholders/epoch-2.json", r2.to_bytes())
    forged = det_record(["alice", "bob", "eve"], 2, epoch=3, previous=r2, signed=False)
    write("elsewhere/epoch-3.json", forged.to_bytes())

    async def go():
        app = make(tmp_path, "officer", "governance")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            text = screen_text(app)
            assert "2 record(s) from governance/keyholders; no policy: epoch 1 taken as the root" in text
            assert "chain ok: keyholder set 'coop' epoch 2" in text
            assert "3. dave" in text
            # the shares on the Keys screen now name their set
            assert set(app.records) == {r1.fingerprint.full_hex, r2.fingerprint.full_hex}
            await pilot.press("t")
            await settle(pilot, app)
            dlg = app.screen
            assert dlg.id == "rotate-dialog"
            assert dlg.query_one("#field-group").value == "governance/keyholders/epoch-2.json"
            await pilot.press("escape")
            await pilot.press("f6")
            await pilot.pause()
            # a record the set never signed breaks the chain, named with the CLI's wording
            await open_message(pilot, app, "governance/keyholders elsewhere")
            text = screen_text(app)
            flat = norm(text)
            assert "error: keyholder set 'coop' epoch 3" in flat and "not signed by the threshold of epoch 2" in flat
            assert re.search(r"3\s+coop\s+CT-SIG-02\s+2/3\s+2099-01-01\s+[0-9a-f ]{19}\s+not sign", text)
    run(go())


def test_governance_shows_a_set_name_whole(tmp_path):
    """The NAME column is as wide as the name ('cooperative' was cut to 'cooperat')."""
    write("governance/keyholders/epoch-1.json", det_record(["alice", "bob"], 2, name="cooperative").to_bytes())

    async def go():
        app = make(tmp_path, "officer", "governance")
        async with app.run_test(size=(100, 24)) as pilot:
            await settle(pilot, app)
            assert re.search(r"1\s+cooperative\s+CT-SIG-02\s+2/2\s+2099-01-01", screen_text(app))
    run(go())


# ------------------------------------------------------------------ verify

@pytest.fixture
def released(tmp_path):
    assert ct("--home", "homes/alice", "keygen", "--id", "alice")[0] == 0
    assert ct("--home", "homes/alice", "key", "export", "alice", "--public", "-o", "alice.pub")[0] == 0
    write("payload/README", b"read me\n")
    write("payload/bin/tool", b"#!/bin/sh\necho hi\n")
    assert ct("--home", "homes/alice", "pack", "payload", "-o", "app.ctp", "--name", "app", "--version", "2.0",
              "--key", "alice")[0] == 0
    assert ct("policy", "init", "--key", "alice.pub", "--policy", "policy.json")[0] == 0
    return tmp_path


def flatten(node) -> list[str]:
    label, kids = node
    out = [label]
    for k in kids:
        out += flatten(k)
    return out


def norm(line: str) -> str:
    return re.sub(r"\s+", " ", line.strip())


def test_explain_tree_says_what_ct_explain_says(released):
    from cerro_torre.governance.policy import Policy
    from cerro_torre.ceremony.verifier import trust_from, verify_bundle
    from cerro_torre.tui.screens.verify import explain_tree

    for bundle in ("app.ctp",):
        code, out, _ = ct("--home", "homes/alice", "explain", bundle, "--signers", "--layers", "--policy",
                          "policy.json")
        assert code == 0
        pol = Policy.load("policy.json")
        res = verify_bundle(bundle, trust_from(str(released / "homes" / "alice"), pol), pol)
        labels = {norm(x) for x in flatten(explain_tree(res))}
        for line in out.splitlines():
            line = norm(line)
            if re.match(r"^[0-9a-f]{64} ", line):  # a file: status and name first, the digest below
                digest, size, mark, path = line.split(" ", 3)
                assert norm(f"{mark} {path}") in {x.split(" (")[0] for x in labels}, line
                assert f"sha256 {digest}" in labels, line
                continue
            if line in ("signers", "trust chain"):
                assert line in labels
                continue
            assert line in labels, (line, sorted(labels))


def test_verify_screen_bundle_and_tamper(released):
    data = bytearray(open("app.ctp", "rb").read())
    i = data.index(b"read me")
    data[i] ^= 0x20
    write("tampered.ctp", bytes(data))

    async def go():
        app = make(released, "alice", "verify")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await open_message(pilot, app, "app.ctp")
            verdict = str(app.screen.query_one("#verdict").render())
            assert verdict.startswith("VALID: ct verify exits 0 (success; for verify: the bundle is valid)")
            code, _, err = ct("--home", "homes/alice", "verify", "tampered.ctp")
            await open_message(pilot, app, "tampered.ctp")
            verdict = str(app.screen.query_one("#verdict").render())
            assert verdict.startswith(f"INVALID: ct verify exits {code} (")
            assert verdict.split("\n", 1)[1] == err.rstrip("\n"), (verdict, err)
            await open_message(pilot, app, "nothing.ctp")
            assert notifications(app)[-1] == "error: bundle not found: nothing.ctp\nhint: check the path of the .ctp file"
            assert str(app.screen.query_one("#verdict").render()).startswith("INVALID: ct verify exits 21 (not found")
    run(go())


def test_verify_screen_imports_an_airgap_tarball(released):
    assert ct("export", "app.ctp", "-o", "airgap.tar", "--include-keys", "--policy", "policy.json",
              "--key", "alice.pub")[0] == 0
    data = bytearray(open("airgap.tar", "rb").read())
    data[data.index(b"read me")] ^= 0x20
    write("bad.tar", bytes(data))

    async def go():
        app = make(released, "operator", "verify")
        async with app.run_test(size=(80, 24)) as pilot:
            await settle(pilot, app)
            await open_message(pilot, app, "bad.tar")
            assert app.screen.id == "import-dialog"
            await fill(pilot, app, {"policy": "policy.json"})
            await settle(pilot, app)
            verdict = str(app.screen.query_one("#verdict").render())
            code, _, err = ct("--home", "homes/other", "import", "bad.tar", "--verify", "--policy", "policy.json")
            assert code != 0
            assert verdict.startswith(f"INVALID: ct import exits {code} ("), verdict
            assert verdict.split("\n", 1)[1] == err.rstrip("\n"), (verdict, err)
            assert not os.path.exists(released / "homes" / "operator" / "store" / "index.json")
            await open_message(pilot, app, "airgap.tar")
            await fill(pilot, app, {"policy": "policy.json"})
            await settle(pilot, app)
            verdict = str(app.screen.query_one("#verdict").render())
            assert verdict.startswith("VALID: ct import exits 0 (success; for verify: the bundle is valid); "
                                      "imported into the store"), verdict
            text = screen_text(app)
            assert "tarball     airgap.tar (1 bundle(s))" in text
            assert "bundle      app.ctp" in text
    run(go())


# ------------------------------------------------------------------ the newcomer's journey (issue 13)
# Enter on the suite field moves on (the passphrase typed next never changes the suite), a very weak
# passphrase is refused as by `ct keygen`, a failed open leaves nothing of the previous message.

async def _generate_dialog(pilot, app):
    await settle(pilot, app)
    await pilot.press("g")
    await pilot.pause()
    assert app.screen.id == "generate-dialog"
    return app.screen


def test_enter_on_the_suite_moves_to_the_passphrase(tmp_path):
    from textual.widgets import Input, Select

    async def go():
        app = make(tmp_path, "alice", "keys")
        async with app.run_test(size=(80, 24)) as pilot:
            dlg = await _generate_dialog(pilot, app)
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
    run(go())


def test_the_tui_refuses_a_very_weak_passphrase(tmp_path):
    from textual.widgets import Static

    async def go():
        app = make(tmp_path, "alice", "keys")
        async with app.run_test(size=(80, 24)) as pilot:
            dlg = await _generate_dialog(pilot, app)
            await fill(pilot, app, {"id": "dave", "passphrase": "abc", "again": "abc"})
            assert app.screen is dlg                          # still open: refused
            assert str(dlg.query_one("#form-error", Static).render()) == (
                "the passphrase is too weak (very weak, ~4 bits): too easy to guess: use four or more random words")
            await fill(pilot, app, {"passphrase": PW, "again": PW})
            await settle(pilot, app)
            assert os.path.exists(tmp_path / "homes" / "alice" / "keys" / "dave.pub")
    run(go())


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
    run(go())


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
