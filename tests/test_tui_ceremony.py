"""A full 2-of-3 keygen and signing ceremony in which every keyholder step goes through the TUI.

Three homes (three offline machines).  Each keyholder generates and exports
their keys on the Keys screen and answers every round on the Keyholder
screen (open the message, read what it approves, approve, passphrase, reply
file).  The coordinator works on the Coordinator screen: it opens the
keygen and the signing, and continues from each message it wrote (it is
stateless), adding the replies and collecting (the middle keygen collects go
through the library, to keep the test short).  One signing reply crosses
only as QR frames: the keyholder's screen draws them, the frames are saved
as PNGs (the camera's part) and the coordinator reads the folder.  The
release then passes `ct verify --policy` (exit 0) and the Verify screen says
VALID.
"""

from __future__ import annotations

import asyncio
import os

import pytest

from test_tui_support import PW, ct, fill, notifications, screen_text, settle

from cerro_torre.ceremony import bundle
from cerro_torre.ceremony.statement import Envelope
from cerro_torre.tui.app import CTApp

MEMBERS = ("alice", "bob", "carol")


@pytest.fixture(autouse=True)
def env(monkeypatch, tmp_path):
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "256")
    monkeypatch.delenv("CT_PASSPHRASE", raising=False)
    monkeypatch.delenv("CT_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)


def app_for(tmp_path, who: str, mode: str) -> CTApp:
    return CTApp(str(tmp_path / "homes" / who), mode=mode, cwd=str(tmp_path), qr_autoplay=False)


async def make_keys(tmp_path, who: str) -> None:
    """Keys screen: g (id, suite, passphrase twice), then e (export the .pub)."""
    app = app_for(tmp_path, who, "keys")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*who)                      # key id, typed
        await pilot.press("tab", "tab")              # past the suite (CT-SIG-02), to the passphrase
        await fill(pilot, app, {"passphrase": PW, "again": PW}, submit=False)
        await pilot.press("enter", "enter")          # passphrase -> again -> submit
        await settle(pilot, app)
        assert "fingerprint" in screen_text(app) or app.screen.entries, notifications(app)
        assert [e.id for e in app.screen.entries] == [who]
        await pilot.press("e")
        await pilot.pause()
        await fill(pilot, app, {"path": f"{who}.pub"})
        await settle(pilot, app)
    assert os.path.exists(tmp_path / f"{who}.pub"), notifications(app)


async def press_and_fill(pilot, app, key: str, values: dict[str, str]) -> None:
    await pilot.press(key)
    await pilot.pause()
    await fill(pilot, app, values)
    await settle(pilot, app)


async def keyholder_opens(tmp_path, who: str, path: str) -> tuple[str, list[str]]:
    """Keyholder screen: o and a file; returns the outcome line and the notifications (nothing pending)."""
    app = app_for(tmp_path, who, "keyholder")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await press_and_fill(pilot, app, "o", {"path": path})
        assert app.screen.pending is None
        return str(app.screen.query_one("#kh-outcome").render()), notifications(app)


async def keyholder_step(tmp_path, who: str, message: str, reply: str, *, expect: tuple[str, ...] = (),
                         qr_out: str | None = None) -> None:
    """Keyholder screen: o (message file), read the summary, a (reply file + passphrase).

    With ``qr_out`` the terminal is larger (160x50: QR version 18 instead of 5, so a signing
    reply takes a few frames rather than seventy; the 80x24 frames are checked in test_tui_support).
    """
    app = app_for(tmp_path, who, "keyholder")
    async with app.run_test(size=(160, 50) if qr_out else (80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("o")
        await pilot.pause()
        await fill(pilot, app, {"path": message})
        await settle(pilot, app)
        screen = app.screen
        assert screen.pending is not None, notifications(app)
        msg = screen.pending.message
        summary = str(screen.query_one("#kh-summary").render())
        for text in expect:
            assert text in summary, (text, summary)
        assert msg.fingerprint.words in str(screen.query_one("#kh-compare").render())
        await pilot.press("a")
        await pilot.pause()
        dlg = app.screen
        assert "Never restore this home from a backup, or copy it, while this ceremony is open" in \
            str(dlg.query_one("#dialog-help").render())
        assert dlg.query_one("#field-reply").value == os.path.join(os.path.dirname(message),
                                                                   f"reply-{who}-{msg.round}.ctm")
        await fill(pilot, app, {"reply": reply, "passphrase": PW}, submit=False)
        await pilot.press("enter")                   # Enter in the passphrase field answers
        await settle(pilot, app)
        assert os.path.exists(tmp_path / reply), notifications(app)
        assert "wrote " + reply in str(screen.query_one("#kh-outcome").render())
        if qr_out:
            await pilot.press("x")
            await settle(pilot, app)
            player = app.screen
            assert type(player).__name__ == "QRScreen"
            assert player.version == 18 and player.frames.count < 12
            save_frames(player.frames, tmp_path / qr_out)
            await pilot.press("right")
            assert player.index == 1
            await pilot.press("escape")
            await pilot.pause()


def save_frames(frames, folder) -> None:
    """The camera's part: the first frames the screen shows, as PNGs (last first, one duplicate, the
    third one missed)."""
    from cerro_torre.offline import qr

    os.makedirs(folder)
    shown = [frames.text(i) for i in range(frames.encoder.default_frames)]
    order = [i for i in reversed(range(len(shown))) if i != 2] + [0]
    for n, i in enumerate(order):
        with open(folder / f"photo-{n:03d}.png", "wb") as f:
            f.write(qr.png_bytes(qr.make_code(shown[i], 25, "M")))


async def coordinator_round(tmp_path, message: str, replies: list[str], save: dict[str, str],
                            *, qr_folders: tuple[str, ...] = ()) -> CTApp:
    """Coordinator screen: o (continue from message), f (reply files), i (QR folder), c (collect), save."""
    app = app_for(tmp_path, "coordinator", "coordinator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await press_and_fill(pilot, app, "o", {"path": message})
        screen = app.screen
        assert screen.msg is not None, notifications(app)
        if replies:
            await pilot.press("f")
            await pilot.pause()
            await fill(pilot, app, {"path": " ".join(replies)})
            await settle(pilot, app)
        for folder in qr_folders:
            await pilot.press("i")
            await pilot.pause()
            await fill(pilot, app, {"path": folder})
            await settle(pilot, app)
        assert len(screen.replies) == len(replies) + len(qr_folders), notifications(app)
        assert "press c to collect" in str(screen.query_one("#co-progress").render())
        await pilot.press("c")
        await settle(pilot, app)
        await fill(pilot, app, save)
        await settle(pilot, app)
        for path in save.values():
            assert os.path.exists(tmp_path / path), (path, notifications(app))
        return app


def test_full_keygen_and_signing_through_the_tui(tmp_path):
    asyncio.run(full_ceremony(tmp_path))


async def full_ceremony(tmp_path):
    for d in ("kg", "sg"):
        os.makedirs(tmp_path / d)
    for who in MEMBERS:
        await make_keys(tmp_path, who)

    # ---- the coordinator opens a 2-of-3 DKG
    app = app_for(tmp_path, "coordinator", "coordinator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("k")
        await pilot.pause()
        await fill(pilot, app, {"name": "coop", "threshold": "2", "members": "alice.pub bob.pub carol.pub",
                                "output": "kg/r0.ctm"})
        await settle(pilot, app)
        assert app.screen.expected.get("who") == list(MEMBERS), notifications(app)
        text = screen_text(app)
        assert "0 of 3 needed replies" in text and "missing: alice, bob, carol" in text

    # ---- four rounds: every keyholder answers through the Keyholder screen
    msg = "kg/r0.ctm"
    for r in range(4):
        for who in MEMBERS:
            await keyholder_step(tmp_path, who, msg, f"kg/r{r}-{who}.ctm",
                                 expect=("new keyholder set 'coop' epoch 1 (a root", "threshold 2 of 3",
                                         f"you are '{who}'"))
        replies = [f"kg/r{r}-{who}.ctm" for who in MEMBERS]
        if r < 3:  # the middle collects through the library (the screen does them in the signing below)
            assert ct("ceremony", "collect", msg, *replies, "-o", f"kg/r{r + 1}.ctm")[0] == 0
            msg = f"kg/r{r + 1}.ctm"
        else:
            await coordinator_round(tmp_path, msg, replies,
                                    {"output": "keyholders.json", "transcript": "kg/transcript.ctm"})
    assert ct("ceremony", "status", "--transcript", "kg/transcript.ctm")[0] == 0
    # the record reaches every home: o on the Keyholder screen checks it is the one confirmed and keeps it
    for who in MEMBERS:
        outcome, said = await keyholder_opens(tmp_path, who, "keyholders.json")
        assert outcome.startswith("kept keyholder set 'coop' epoch 1 ("), (outcome, said)
        assert "(records new here: epoch 1)" in outcome

    # ---- a release, packed and pinned with the CLI (not a keyholder's job)
    (tmp_path / "app.txt").write_text("hello from the tui test\n")
    assert ct("pack", "app.txt", "-o", "app.ctp", "--name", "app", "--version", "1.0")[0] == 0
    assert ct("policy", "init", "--root", "keyholders.json", "--policy", "policy.json")[0] == 0

    # ---- signing: alice and bob
    app = app_for(tmp_path, "coordinator", "coordinator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("s")
        await pilot.pause()
        await fill(pilot, app, {"bundle": "app.ctp", "group": "keyholders.json", "signers": "alice bob",
                                "output": "sg/s0.ctm"})
        await settle(pilot, app)
        assert app.screen.expected.get("who") == ["alice", "bob"], notifications(app)
    import hashlib

    digest = hashlib.sha256(b"hello from the tui test\n").hexdigest()
    signers = ("alice", "bob")
    statement = hashlib.sha256(Envelope.from_bytes(
        bundle.read_parts(str(tmp_path / "app.ctp")).signature_members[bundle.ENVELOPE]).payload).hexdigest()
    expect = ("sign release app 1.0", digest, "signers: alice, bob (every one must answer",
              f"minisign, with the trusted comment: cerro-torre release app 1.0 statement-sha256:{statement}",
              "never restore this home from a backup, or copy it, while this ceremony is open",
              "CT-SIG-02: 1 FROST group signature", "2 of 3 members' ml-dsa-87 signatures")
    # round 1 (commitments) as files
    for who in signers:
        await keyholder_step(tmp_path, who, "sg/s0.ctm", f"sg/s0-{who}.ctm", expect=expect)
    await coordinator_round(tmp_path, "sg/s0.ctm", [f"sg/s0-{w}.ctm" for w in signers], {"output": "sg/s1.ctm"})
    # round 2 (shares): bob's reply crosses only as QR frames shown by his screen
    await keyholder_step(tmp_path, "alice", "sg/s1.ctm", "sg/s1-alice.ctm", expect=expect)
    await keyholder_step(tmp_path, "bob", "sg/s1.ctm", "sg/s1-bob.ctm", expect=expect, qr_out="sg/qr-bob")
    os.unlink(tmp_path / "sg/s1-bob.ctm")
    await coordinator_round(tmp_path, "sg/s1.ctm", ["sg/s1-alice.ctm"], {"output": "sg/s2.ctm"},
                            qr_folders=("sg/qr-bob",))
    # round 3 (second pass for minisign's trusted comment), then the signed bundle
    for who in signers:
        await keyholder_step(tmp_path, who, "sg/s2.ctm", f"sg/s2-{who}.ctm", expect=expect)
    await coordinator_round(tmp_path, "sg/s2.ctm", [f"sg/s2-{w}.ctm" for w in signers],
                            {"bundle": "app.ctp", "output": "app-signed.ctp", "transcript": "sg/transcript.ctm"})

    code, out, err = ct("verify", "app-signed.ctp", "--policy", "policy.json")
    assert code == 0, err
    assert "ok: app-signed.ctp is valid" in out

    # ---- the Verify screen agrees
    app = app_for(tmp_path, "alice", "verify")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press("p")
        await pilot.pause()
        await fill(pilot, app, {"path": "policy.json"})
        await pilot.press("o")
        await pilot.pause()
        await fill(pilot, app, {"path": "app-signed.ctp"})
        await settle(pilot, app)
        assert "VALID: ct verify exits 0" in str(app.screen.query_one("#verdict").render())

    # ---- a home that took no part is refused with the CLI's error and hint
    _, said = await keyholder_opens(tmp_path, "dave", "sg/s0.ctm")
    from cerro_torre.governance.keyholders import KeyholderSet

    rec = KeyholderSet.from_bytes((tmp_path / "keyholders.json").read_bytes())
    assert said[-1] == (
        f"error: this home does not keep the keyholder-set record (fingerprint {rec.fingerprint.hex}), which "
        "the ceremony names\n"
        f"hint: bring it once: 'ct ceremony step RECORD.json' keeps it in {tmp_path / 'homes' / 'dave'} (the "
        "record the coordinator wrote at the end of that set's keygen or rotation)")
