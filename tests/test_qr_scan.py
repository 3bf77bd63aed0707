"""`ct qr scan`: real videos made with OpenCV from the encoder's own PNG frames, folders of images, cameras.

The videos are what a camera filming the screen would record: the frames in
a shuffled order, each shown twice, scaled and placed anywhere, blurred, with
noise, a fifth of the video frames lost, and pictures of the empty screen
(``demo/qr_video.py``, Motion JPEG and MPEG-4).  They are read back through
OpenCV (FFmpeg) and zbar; nothing is mocked.  Test machines have no camera:
the camera path is tested up to opening the device.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random
import re
import shutil
import sys

import pytest
from PIL import Image

from cerro_torre.cli.main import main
from cerro_torre.offline import qr

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "demo"))
from qr_video import make_video  # noqa: E402


def run(*argv: str, stderr=None) -> tuple[int, str, str]:
    out, err = io.StringIO(), stderr or io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


@pytest.fixture(scope="module")
def frames(tmp_path_factory) -> tuple[bytes, list[str]]:
    """4,800 random bytes: 6 parts, the default 9 PNG frames at QR version 23."""
    msg = rand(4800, 21)
    return msg, qr.encode_png(msg, tmp_path_factory.mktemp("scan") / "frames")


@pytest.fixture(scope="module")
def other(tmp_path_factory) -> tuple[bytes, list[str]]:
    msg = rand(3000, 22)
    return msg, qr.encode_png(msg, tmp_path_factory.mktemp("other") / "frames")


DAMAGE = dict(repeat=2, shuffle=True, scale=(0.5, 0.8), blur=1.2, noise=10.0, drop=0.2, blank=3)


@pytest.mark.parametrize("ext", ["avi", "mp4"])
def test_scan_a_video_of_the_frames(tmp_path, frames, ext: str) -> None:
    msg, pngs = frames
    video = str(tmp_path / f"screen.{ext}")
    total = make_video(pngs, video, seed=5, **DAMAGE)
    code, out, err = run("qr", "scan", "--video", video, "-o", str(tmp_path / "msg.bin"))
    assert (code, err) == (0, "")
    assert (tmp_path / "msg.bin").read_bytes() == msg
    mid = hashlib.sha256(msg).hexdigest()[:8]
    lines = out.splitlines()
    m = re.fullmatch(rf"wrote {re.escape(str(tmp_path / 'msg.bin'))}: 4800 bytes from (\d+) frames of message {mid} "
                     r"\(6 parts\)", lines[0])
    assert m and 6 <= int(m[1]) <= 9, lines[0]
    m = re.fullmatch(r"read (\d+) video frames: (\d+) repeated, (\d+ not needed, )?[1-3] without a QR code", lines[1])
    assert m and int(m[1]) <= total, lines[1]
    assert lines[2] == f"sha256 {hashlib.sha256(msg).hexdigest()}"


def test_scan_stops_as_soon_as_the_message_is_complete(tmp_path, frames) -> None:
    msg, pngs = frames
    video = str(tmp_path / "long.avi")
    total = make_video(pngs, video, repeat=3, blank=2, seed=6)  # 29 video frames, plain parts first
    code, out, err = run("--json", "qr", "scan", "--video", video, "-o", str(tmp_path / "msg.bin"))
    assert (code, err) == (0, "")
    doc = json.loads(out)
    assert total == 29
    assert doc["pictures"] == 2 + 3 * 5 + 1  # two blank pictures, parts 1-5 three times each, then part 6
    assert (doc["parts"], doc["frames"], doc["duplicates"], doc["without_code"]) == (6, 6, 10, 2)


def test_scan_a_video_with_frames_of_another_message(tmp_path, frames, other) -> None:
    msg, pngs = frames
    other_msg, other_pngs = other
    video = str(tmp_path / "two.avi")
    make_video(other_pngs[:3] + pngs, video, repeat=2, seed=7)  # three frames of another message come first
    code, out, err = run("qr", "scan", "--video", video, "-o", str(tmp_path / "msg.bin"))
    assert (code, err) == (0, "")
    assert (tmp_path / "msg.bin").read_bytes() == msg
    assert out.splitlines()[1] == ("read 17 video frames: 5 repeated, 6 frames of another message "
                                   f"({hashlib.sha256(other_msg).hexdigest()[:8]})")


def test_video_with_too_few_frames(tmp_path, frames) -> None:
    msg, pngs = frames
    video = str(tmp_path / "short.avi")
    make_video(pngs[:4], video, repeat=3, blank=1, seed=8)  # four plain parts of six
    out_file = tmp_path / "msg.bin"
    code, out, err = run("qr", "scan", "--video", video, "-o", str(out_file))
    assert code == 10 and out == ""
    assert err == (f"error: not enough frames for message {hashlib.sha256(msg).hexdigest()[:8]}: 4 of 6 parts "
                   "recovered from 4 frames; at least 2 more frames are needed\n"
                   "hint: add more frames of this message, any, in any order ('ct qr encode --frames N' writes "
                   "more; the player shows new ones without end), and decode them together\n")
    assert not out_file.exists()


def test_a_folder_with_a_quarter_of_the_frames_missing_and_a_blank_image(tmp_path) -> None:
    """The default redundancy (1.5 x the parts) survives the loss of a quarter of the frames.

    A 5,000-byte message at QR version 10 (what fits a small window) has 27
    parts and 41 frames; 10 are deleted at random.  About 19 in 20 such
    losses decode (tests/test_fountain.py counts them); no binary code
    survives them all, and one more frame mends most of the rest."""
    msg = rand(5000, 23)
    folder = tmp_path / "frames"
    pngs = qr.encode_png(msg, folder, max_version=10)
    enc = qr.Encoder(msg, 10, "M")
    assert (enc.count, len(pngs)) == (27, 41)
    for p in random.Random(24).sample(pngs, 10):
        os.remove(p)
    Image.new("L", (400, 300), 230).save(folder / "blank.png")
    for command in ("scan", "decode"):
        out_file = tmp_path / f"{command}.bin"
        code, out, err = run("qr", command, str(folder), "-o", str(out_file))
        assert (code, err) == (0, ""), err
        assert out_file.read_bytes() == msg
        assert out.splitlines()[1].endswith("1 without a QR code")


def test_a_folder_with_too_few_frames(tmp_path, frames) -> None:
    msg, pngs = frames
    folder = tmp_path / "some"
    folder.mkdir()
    for p in pngs[:3] + pngs[-1:]:
        shutil.copy(p, folder)
    code, out, err = run("qr", "scan", str(folder), "-o", str(tmp_path / "x"))
    assert code == 10
    assert err.startswith(f"error: not enough frames for message {hashlib.sha256(msg).hexdigest()[:8]}: 4 of 6 parts "
                          "recovered from 4 frames; at least 2 more frames are needed\n")
    assert not (tmp_path / "x").exists()


def test_camera_that_does_not_exist(tmp_path) -> None:
    code, out, err = run("qr", "scan", "--camera", "/dev/video9", "-o", str(tmp_path / "x"))
    assert (code, out) == (21, "")
    assert err == ("error: camera /dev/video9 does not exist\n"
                   "hint: list the cameras with 'ls /dev/video*' and pass one with --camera /dev/videoN\n")
    code, _out, err = run("qr", "scan", "--camera", "9", "-o", str(tmp_path / "x"))
    assert code == 21 and err.startswith("error: camera /dev/video9 does not exist\n")
    assert not (tmp_path / "x").exists()


def test_device_that_is_not_a_camera(tmp_path) -> None:
    code, out, err = run("qr", "scan", "--camera", "/dev/null", "-o", str(tmp_path / "x"))
    assert (code, out) == (30, "")
    assert err == ("error: camera /dev/null cannot be opened\n"
                   "hint: check that it is a camera, that no other program is using it, and that you may read it "
                   "(the 'video' group)\n")


def test_video_errors(tmp_path) -> None:
    code, _out, err = run("qr", "scan", "--video", str(tmp_path / "none.mp4"), "-o", str(tmp_path / "x"))
    assert code == 21
    assert err == f"error: video {tmp_path / 'none.mp4'} does not exist\nhint: check the path\n"
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video at all")
    code, _out, err = run("qr", "scan", "--video", str(junk), "-o", str(tmp_path / "x"))
    assert code == 10
    assert err == (f"error: {junk} is not a video OpenCV can read\n"
                   "hint: pass a video file (MP4, AVI, MKV, WebM)\n")
    code, _out, err = run("qr", "scan", "--video", str(junk), str(junk), "-o", str(tmp_path / "x"))
    assert code == 64


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_progress_line_on_a_terminal_only(tmp_path, frames) -> None:
    msg, pngs = frames
    video = str(tmp_path / "v.avi")
    make_video(pngs, video, repeat=1, blank=1, seed=9)
    err = FakeTTY()
    code, _out, _ = run("qr", "scan", "--video", video, "-o", str(tmp_path / "a"), stderr=err)
    assert code == 0
    text = err.getvalue()
    assert text.startswith("\r\x1b[Kscanning ")
    shown = [x for x in text.split("\r\x1b[K") if x]
    assert shown[0] == f"scanning {video}: no ct frame yet (1 picture)"
    assert all(re.fullmatch(r"\d+ % \u2014 [1-6] of 6 parts, [0-5] more expected", x) for x in shown[1:])
    assert shown[-1] == "100 % \u2014 6 of 6 parts, 0 more expected"  # the last state is always shown
    assert text.endswith("\r\x1b[K")  # the line is cleared before the result is printed
    code, _out, err_text = run("qr", "scan", "--video", video, "-o", str(tmp_path / "b"))
    assert (code, err_text) == (0, "")  # not a terminal: no progress at all
