"""Helpers for the TUI tests (deterministic keys and records, driving screens through Pilot),
and small tests of the TUI's own pieces: passphrase strength, QR frame sizing, error text, exit codes."""

from __future__ import annotations

import hashlib
import io
import os

import pytest

from cerro_torre.governance.keyholders import KeyholderSet, Member
from cerro_torre.cli.main import main
from cerro_torre.suites import ed25519
from cerro_torre.keys.identity import KEY_SLOTS, IdentityKey
from cerro_torre.suites.suite import Signature, keyid_of

PW = "correct horse battery staple"
T0 = "2026-01-01T00:00:00Z"
FAR = "2099-01-01T00:00:00Z"


def ct(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


# ------------------------------------------------------------------ deterministic material

def seed(*parts: str) -> bytes:
    return hashlib.sha256(":".join(("ct-tui-test",) + parts).encode()).digest()


def det_key(key_id: str, suite: str = "CT-SIG-02") -> IdentityKey:
    return IdentityKey(key_id, suite, {slot: seed(key_id, slot) for slot in KEY_SLOTS[suite]})


def deterministic_keys(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make ``IdentityKey.generate`` (and so ``Home.generate_key`` and the TUI) deterministic."""
    monkeypatch.setattr(IdentityKey, "generate", classmethod(lambda cls, key_id, suite="CT-SIG-02":
                                                             det_key(key_id, suite)))


def group_seed(name: str, epoch: int) -> bytes:
    return seed("group", name, str(epoch))


def det_record(names: list[str], k: int, *, name: str = "coop", epoch: int = 1,
               previous: KeyholderSet | None = None, signed: bool = True) -> KeyholderSet:
    """A keyholder-set record of deterministic keys, signed by its own threshold (and by ``previous``'s).

    The FROST group key is a plain Ed25519 key here (a FROST group signature is
    a standard Ed25519 signature), so the record verifies like a DKG-made one.
    ML-DSA signing is hedged (random), so only an unsigned record (``signed=False``)
    has the same bytes every run; its body and fingerprint always do.
    """
    members = tuple(Member(n, i + 1, det_key(n).public(), ed25519.public_from_seed(seed("vshare", name, n)))
                    for i, n in enumerate(sorted(names)))
    rec = KeyholderSet(name, epoch, "CT-SIG-02", k, T0, FAR, ed25519.public_from_seed(group_seed(name, epoch)),
                       members, (previous.epoch, previous.fingerprint.full_hex) if previous else None)
    if not signed:
        return rec
    return sign_record(rec, rec) if previous is None else sign_record(sign_record(rec, previous), rec)


def sign_record(rec: KeyholderSet, by: KeyholderSet) -> KeyholderSet:
    msg = rec.message()
    gs = group_seed(by.name, by.epoch)
    sigs = [Signature("ed25519", keyid_of(ed25519.public_from_seed(gs)), ed25519.sign(gs, msg))]
    for m in list(by.members)[:by.threshold]:
        sigs += [s for s in det_key(m.id).sign(msg) if s.alg == "ml-dsa-87"]
    return rec.with_signatures(sigs)


def write(path: str, data: bytes) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)
    return path


# ------------------------------------------------------------------ driving the app

async def settle(pilot, app, rounds: int = 200) -> None:
    """Wait until no worker runs and every posted message is handled (bounded)."""
    for _ in range(rounds):
        await app.workers.wait_for_complete()
        await pilot.pause()
        if not any(w.is_running for w in app.workers) and not _busy(app):
            await pilot.pause()
            return
    raise AssertionError("the app did not settle")


def _busy(app) -> bool:
    from cerro_torre.tui.widgets.busy import Busy

    try:
        return any(b.active for b in app.screen.query(Busy))
    except Exception:  # noqa: BLE001 - a screen without one
        return False


async def fill(pilot, app, values: dict[str, str], submit: bool = True) -> None:
    """Set the fields of the open form dialog and submit it with Ctrl+S."""
    from textual.widgets import Input, Select

    from cerro_torre.tui.screens.dialogs import FormDialog

    dlg = app.screen
    assert isinstance(dlg, FormDialog), f"expected a form dialog, got {dlg!r}"
    for name, value in values.items():
        w = dlg.query_one(f"#field-{name}")
        if isinstance(w, Select):
            w.value = value
        else:
            assert isinstance(w, Input)
            w.value = value
    await pilot.pause()
    if submit:
        await pilot.press("ctrl+s")
        await pilot.pause()


def screen_text(app) -> str:
    """The screen as plain text, line by line (what a terminal would show)."""
    strips = app.screen._compositor.render_strips()  # noqa: SLF001
    return "\n".join("".join(seg.text for seg in s) for s in strips)


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]  # noqa: SLF001


# ------------------------------------------------------------------ tests of the TUI's own pieces

def test_strength_ranks_passphrases():
    from cerro_torre.tui.widgets.strength import estimate

    assert estimate("")[1] == "empty"
    assert estimate("aaaaaaaa")[1] == "very weak"
    assert estimate("12345678")[1] == "very weak"
    six_words = PW + " again please"
    weak, fair, strong = estimate("hunter2")[0], estimate("Kx9#mQ2p")[0], estimate(six_words)[0]
    assert weak < fair < strong
    assert estimate("hunter2")[1] == "very weak"
    assert estimate("Kx9#mQ2p")[1] == "fair"
    assert estimate(six_words)[1] in ("good", "strong")


def test_qr_frames_fit_an_80x24_terminal():
    """At 80x24 the player uses version 5 (21 lines + status + footer); any message plays, however large."""
    from cerro_torre.offline import qr
    from cerro_torre.tui.widgets.qrframes import Frames, player_version

    assert player_version(80, 24) == 5 and qr.code_size(5) == 41
    assert player_version(100, 30) == 8 and player_version(200, 66) == 25 and player_version(200, 62) == 24
    assert player_version(29, 17) == 2 and player_version(28, 17) == 0 and player_version(29, 16) == 0
    data = os.urandom(95000)  # the signing package2 of issue 10's table: 747 frames of the old format at v5
    f = Frames(data, 5, no_color=False)
    assert f.count == 1440 and f.seq(0) == 1
    texts = []
    for i in range(f.count + 40):
        if i < 3 or i >= f.count - 2:
            d = f.drawing(i)
            lines = d.split("\n")
            assert len(lines) == 21 and max(len(x) for x in lines) == 41 and "\x1b" not in d
        texts.append(f.text(i))
    assert qr.join(texts) == data


def test_drawn_frames_decode_with_zbar(tmp_path):
    """What the player draws, read back from the half-block glyphs as an image, decodes with zbar."""
    from PIL import Image

    from cerro_torre.offline import scan
    from cerro_torre.tui.widgets.qrframes import Frames

    data = b"ct tui frame test " * 20
    for no_color in (False, True):
        frames = Frames(data, 5, no_color=no_color)
        paths = []
        for i in range(frames.encoder.default_frames):
            rows = []
            for line in frames.drawing(i).split("\n"):
                top = [c in ("\u2580", "\u2588") for c in line]
                bottom = [c in ("\u2584", "\u2588") for c in line]
                rows += [top, bottom]
            if no_color:  # the glyphs are the light modules
                rows = [[not x for x in r] for r in rows]
            scale = 8
            img = Image.new("L", (len(rows[0]) * scale + 80, len(rows) * scale + 80), 255)
            for y, r in enumerate(rows):
                for x, dark in enumerate(r):
                    if dark:
                        img.paste(0, (40 + x * scale, 40 + y * scale, 40 + (x + 1) * scale, 40 + (y + 1) * scale))
            p = tmp_path / f"{no_color}-{i}.png"
            img.save(p)
            paths.append(str(p))
        s = scan.Scan(strict=True)
        s.images(paths)
        assert s.message() == data


def test_error_lines_match_the_cli():
    from cerro_torre.suites.errors import AlreadyExists
    from cerro_torre.tui.messages import error_lines, exit_code_of

    e = AlreadyExists("x.ctm exists", "choose another -o, or move the old file away")
    assert error_lines(e) == ["error: x.ctm exists", "hint: choose another -o, or move the old file away"]
    assert exit_code_of(e) == 22
    fnf = FileNotFoundError(2, "No such file or directory", "nope")
    assert error_lines(fnf) == ["error: no such file or directory: nope", "hint: check the path and its permissions"]
    assert exit_code_of(fnf) == 21


def test_exit_code_table_matches_ct_help():
    from cerro_torre.tui.screens.verify import EXIT_CODES

    code, out, _ = ct("help", "exit-codes")
    assert code == 0
    rows = {}
    for line in out.splitlines()[1:]:
        num, _, text = line.strip().partition("  ")
        rows[int(num)] = text.strip()
    assert rows == EXIT_CODES


def test_det_record_chain_verifies():
    from cerro_torre.governance.keyholders import walk_chain

    r1 = det_record(["alice", "bob", "carol"], 2)
    r2 = det_record(["alice", "bob", "dave"], 2, epoch=2, previous=r1)
    res = walk_chain([r1, r2], {r1.fingerprint.full_hex})
    assert res.ok, res.error
    assert r1.fingerprint == det_record(["alice", "bob", "carol"], 2).fingerprint  # the body is deterministic


def test_ct_tui_command():
    """`ct tui` is registered, needs a terminal, and `ct --help` does not import Textual."""
    import subprocess
    import sys

    code, _, err = ct("tui")  # pytest's stdin is not a terminal
    assert code == 64
    assert err == ("error: ct tui needs a terminal\n"
                   "hint: run it in a terminal, or use the ct commands in scripts\n")
    from cerro_torre.cli.main import build_parser

    assert " tui " in build_parser().format_help()
    probe = ("import sys; from cerro_torre.cli.main import build_parser; build_parser(); "
             "print(sorted(m for m in sys.modules if m.split('.')[0] in ('textual', 'rich')))")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                          check=True).stdout.strip() == "[]"
