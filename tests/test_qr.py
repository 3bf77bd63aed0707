"""Multi-frame QR transport: frames, capacity, real PNGs decoded by zbar, photo-like damage, the CLI.

Nothing is mocked: frames are drawn by ``qrcode``, saved as PNG/JPEG by
Pillow and read back by zbar (``pyzbar`` over Debian's ``libzbar0``).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import random

import pytest
from PIL import Image, ImageFilter

from cerro_torre.cli.main import main
from cerro_torre.offline import base45, qr
from cerro_torre.suites.errors import AlreadyExists, HashMismatch, Malformed, UsageError


def rand(n: int, seed: int) -> bytes:
    return random.Random(seed).randbytes(n)


def ceremony_like(sig_len: int = 4627, seed: int = 7) -> bytes:
    """A JSON ceremony reply carrying an ML-DSA-87-sized signature as base64."""
    import base64

    r = random.Random(seed)
    doc = {
        "ceremony": r.randbytes(16).hex(),
        "kind": "sign",
        "round": 3,
        "sender": "alice",
        "payload": {
            "frost_share": base64.b64encode(r.randbytes(32)).decode(),
            "mldsa87_signature": base64.b64encode(r.randbytes(sig_len)).decode(),
        },
        "signature": {"alg": "ed25519", "value": base64.b64encode(r.randbytes(64)).decode()},
    }
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()


def raw_frame(text: str) -> bytes:
    return base45.decode(text)


def run(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def photo(src: str, dst: str, *, scale: float = 1.0, angle: float = 0.0, blur: float = 0.0,
          noise: float = 0.0, quality: int = 0, seed: int = 1) -> str:
    """A phone-photo-of-a-screen version of the frame PNG ``src``: lower contrast, grey
    surround, scaled, rotated, blurred, noisy, JPEG-recompressed."""
    im = Image.open(src).convert("L")
    im = im.point(lambda p: 40 + p * 170 // 255)  # a screen photographed: black is grey, white is dim
    if scale != 1.0:
        im = im.resize((round(im.width * scale), round(im.height * scale)), Image.Resampling.BILINEAR)
    pad = max(40, im.width // 5)
    ground = Image.new("L", (im.width + 2 * pad, im.height + 2 * pad), 120)
    ground.paste(im, (pad, pad))
    im = ground
    if angle:
        im = im.rotate(angle, resample=Image.Resampling.BICUBIC, expand=True, fillcolor=120)
    if blur:
        im = im.filter(ImageFilter.GaussianBlur(blur))
    if noise:
        grain = Image.frombytes("L", im.size, random.Random(seed).randbytes(im.width * im.height))
        im = Image.blend(im, grain, noise)
    if quality:
        im.convert("RGB").save(dst, "JPEG", quality=quality)
    else:
        im.save(dst, "PNG")
    return dst


# ----------------------------------------------------------------------------- shared frame sets

@pytest.fixture(scope="module")
def set4800(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str]]:
    """4,800 random bytes (the ML-DSA-87 round message stand-in) as PNG frames."""
    msg = rand(4800, 1)
    out = tmp_path_factory.mktemp("set4800") / "frames"
    return msg, qr.encode_png(msg, out)


@pytest.fixture(scope="module")
def other_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str]]:
    msg = rand(3000, 2)
    out = tmp_path_factory.mktemp("other") / "frames"
    return msg, qr.encode_png(msg, out)


# ----------------------------------------------------------------------------- capacity

@pytest.mark.parametrize(("version", "ec"), [(1, "M"), (9, "L"), (10, "Q"), (20, "M"), (25, "M"),
                                             (25, "L"), (26, "H"), (27, "M"), (33, "Q"), (39, "M")])
def test_alphanumeric_capacity_verified_by_encoding(version: int, ec: str) -> None:
    cap = qr.alphanumeric_capacity(version, ec)
    assert qr.make_code("Z" * cap, 40, ec).version == version
    assert qr.make_code("Z" * (cap + 1), 40, ec).version == version + 1


def test_capacity_v25_m() -> None:
    assert qr.data_codewords(25, "M") == 1000
    assert qr.alphanumeric_capacity(25, "M") == 1451
    assert qr.frame_capacity(25, "M") == 967  # base45: 1451 characters carry 967 bytes
    assert qr.frame_capacity(25, "M") - qr.HEADER_LEN == 960


def test_issue_budget_of_four_v25_m_frames_cannot_hold_4800_bytes() -> None:
    """The issue asked for 4,800 incompressible bytes in <= 4 frames at version <= 25, level M.

    A version-25 code at level M has 1000 data codewords, so four of them carry
    at most 4,000 bytes in any mode (byte mode included) -- fewer than 4,800
    before any header.  The target cannot be met; what is met is recorded in
    the tests below (6 frames at V23/M, or 4 frames at V25/L or V29/M).
    """
    assert 4 * qr.data_codewords(25, "M") < 4800
    assert 4 * qr.frame_capacity(25, "M") < 4800
    # five frames would need headers + digest <= 35 bytes in all; ours need 5*7 + 32
    assert 5 * qr.frame_capacity(25, "M") - 4800 < 5 * qr.HEADER_LEN + qr.DIGEST_LEN


def test_4800_random_bytes_frames_and_versions_used() -> None:
    msg = rand(4800, 1)
    texts = qr.split(msg, 25, "M")
    versions = [qr.make_code(t, 25, "M").version for t in texts]
    assert len(texts) == 6
    assert max(versions) <= 25
    assert versions == [23] * 6  # even chunks: every frame fits a smaller code than the limit
    # and the alternatives that do give four frames
    for max_version, ec in ((25, "L"), (29, "M")):
        texts = qr.split(msg, max_version, ec)
        assert len(texts) == 4
        assert max(qr.make_code(t, max_version, ec).version for t in texts) <= max_version


def test_ceremony_message_with_mldsa_signature_compresses() -> None:
    msg = ceremony_like()
    texts = qr.split(msg)
    first = qr.parse_frame(texts[0])
    assert first.flags & qr.FLAG_DEFLATE
    assert len(texts) <= 6
    assert len(texts) < len(qr.split(rand(len(msg), 3)))
    assert qr.join(texts) == msg


# ----------------------------------------------------------------------------- frame layout

def test_frame_layout() -> None:
    msg = rand(4000, 4)
    digest = hashlib.sha256(msg).digest()
    texts = qr.split(msg)
    assert len(texts) == 5
    raws = [raw_frame(t) for t in texts]
    for i, raw in enumerate(raws, 1):
        assert raw[0] == 0x10  # format version 1, no flags (random data does not compress)
        assert raw[1] == i and raw[2] == 5
        assert raw[3:7] == digest[:4]
    assert all(set(t) <= set(base45.ALPHABET) for t in texts)
    chunks = [r[qr.HEADER_LEN:] for r in raws]
    assert max(map(len, chunks)) - min(map(len, chunks)) <= 1
    stream = b"".join(chunks)
    assert stream == msg + digest


def test_spec_vector() -> None:
    """The example in spec/qr.md."""
    text = "212U60JSUKPN: C*VDVU58$9G4CRRKF-4QL7$:O9TS4J3W$3304PH8EOEEM6GTINAJ"
    assert qr.split(b"hello") == [text]
    assert raw_frame(text).hex() == "1001012cf24dba68656c6c6f" + hashlib.sha256(b"hello").hexdigest()
    assert qr.make_code(text).version == 4
    assert qr.join([text]) == b"hello"


def test_frame_layout_deflate() -> None:
    msg = b'{"blob":"' + b"QUJD" * 2000 + b'"}'
    texts = qr.split(msg)
    raw = raw_frame(texts[0])
    assert raw[0] == 0x11
    import zlib

    stream = b"".join(raw_frame(t)[qr.HEADER_LEN:] for t in texts)
    assert zlib.decompress(stream[:-32], -15) == msg
    assert stream[-32:] == hashlib.sha256(msg).digest()


@pytest.mark.parametrize("size", [0, 1, 2, 31, 32, 33, 959, 960, 961, 1024])
def test_split_join_sizes(size: int) -> None:
    msg = rand(size, size)
    texts = qr.split(msg)
    assert qr.join(texts) == msg
    assert all(len(t) <= qr.alphanumeric_capacity(25, "M") for t in texts)


def test_too_many_frames_is_refused() -> None:
    with pytest.raises(UsageError) as e:
        qr.split(rand(20000, 5), max_version=5)
    assert "the limit is 255" in e.value.message


def test_bad_parameters() -> None:
    with pytest.raises(UsageError):
        qr.split(b"x", max_version=41)
    with pytest.raises(UsageError):
        qr.split(b"x", ec="X")


# ----------------------------------------------------------------------------- assembler

def test_any_order_and_duplicates() -> None:
    msg = rand(4800, 6)
    texts = qr.split(msg)
    feed = texts + texts[1:3] + texts[::-1]
    random.Random(1).shuffle(feed)
    a = qr.Assembler()
    news = [a.feed(t).new for t in feed]
    assert news.count(True) == len(texts)
    assert a.duplicates == len(feed) - len(texts)
    assert a.complete and a.missing == []
    assert a.message() == msg


def test_progress_and_missing() -> None:
    texts = qr.split(rand(4000, 7))
    a = qr.Assembler()
    assert a.missing == [] and not a.complete
    p = a.feed(texts[2])
    assert p == qr.Progress(3, 5, True, 1, (1, 2, 4, 5))
    a.feed(texts[0])
    a.feed(texts[4])
    assert a.missing == [2, 4]
    with pytest.raises(Malformed) as e:
        a.message()
    assert e.value.message == "missing frames 2, 4 of 5"
    assert e.value.hints == ("rescan frames 2, 4 and decode them together with the frames you have",)
    a.feed(texts[1])
    with pytest.raises(Malformed) as e:
        a.message()
    assert e.value.message == "missing frame 4 of 5"
    assert e.value.hints == ("rescan frame 4 and decode them together with the frames you have",)


def test_frames_of_two_messages_are_refused() -> None:
    a_texts, b_texts = qr.split(rand(3000, 8)), qr.split(rand(3000, 9))
    a_id = hashlib.sha256(rand(3000, 8)).hexdigest()[:8]
    b_id = hashlib.sha256(rand(3000, 9)).hexdigest()[:8]
    asm = qr.Assembler()
    asm.feed(a_texts[0])
    with pytest.raises(Malformed) as e:
        asm.feed(b_texts[1])
    assert e.value.message == f"frame 2 of 4 belongs to message {b_id}, not to message {a_id} being decoded"
    assert e.value.hints == ("decode the frames of one message at a time",)


def _reframe(text: str, chunk_edit=None, **header) -> str:
    raw = bytearray(raw_frame(text))
    for k, v in header.items():
        raw[{"vf": 0, "number": 1, "count": 2}[k]] = v
    if chunk_edit:
        raw = raw[:qr.HEADER_LEN] + chunk_edit(bytes(raw[qr.HEADER_LEN:]))
    return base45.encode(bytes(raw))


def _flip(chunk: bytes) -> bytes:
    return chunk[:10] + bytes([chunk[10] ^ 0x01]) + chunk[11:]


def test_tampered_chunk_is_a_digest_mismatch() -> None:
    msg = rand(4800, 10)
    texts = qr.split(msg)
    texts[2] = _reframe(texts[2], _flip)
    with pytest.raises(HashMismatch) as e:
        qr.join(texts)
    d = hashlib.sha256(msg).hexdigest()
    assert e.value.message.startswith(f"reassembled message does not match its digest: expected sha256 {d}, got ")
    assert e.value.exit_code == 1


def test_tampered_compressed_message_is_a_digest_mismatch() -> None:
    msg = ceremony_like()
    texts = qr.split(msg)
    texts[1] = _reframe(texts[1], _flip)
    with pytest.raises(HashMismatch):
        qr.join(texts)


def test_tampered_digest_trailer() -> None:
    texts = qr.split(rand(1000, 11))
    last = _reframe(texts[-1], lambda c: c[:-1] + bytes([c[-1] ^ 0x80]))
    with pytest.raises(HashMismatch) as e:
        qr.join(texts[:-1] + [last])
    assert e.value.message.startswith("reassembled message does not match its digest")


def test_conflicting_duplicate() -> None:
    texts = qr.split(rand(3000, 12))
    asm = qr.Assembler()
    asm.feed(texts[1])
    with pytest.raises(Malformed) as e:
        asm.feed(_reframe(texts[1], _flip))
    assert e.value.message.endswith("was read twice with different content")


def test_inconsistent_count() -> None:
    texts = qr.split(rand(3000, 12))
    asm = qr.Assembler()
    asm.feed(texts[0])
    with pytest.raises(Malformed) as e:
        asm.feed(_reframe(texts[1], count=5))
    assert "count or flags differ" in e.value.message


@pytest.mark.parametrize(("text", "fragment"), [
    ("HTTPS://EXAMPLE.ORG/", "QR code is not a ct frame (frame has an out-of-range group 'PS:' at offset 3"),
    ("HTTPS://EXAMPLE.ORG", "QR code is not a ct frame (frame has an invalid length 19"),
    ("hello", "outside the base45 alphabet"),
    (base45.encode(b"\x10\x01\x01abc"), "only 6 bytes"),
    (base45.encode(b"\x20\x01\x01abcdZZ"), "format version 2"),
    (base45.encode(b"\x12\x01\x01abcdZZ"), "unknown flags 0x2"),
    (base45.encode(b"\x10\x00\x01abcdZZ"), "invalid number 0 of 1"),
    (base45.encode(b"\x10\x03\x02abcdZZ"), "invalid number 3 of 2"),
])
def test_not_a_frame(text: str, fragment: str) -> None:
    with pytest.raises(Malformed) as e:
        qr.parse_frame(text)
    assert fragment in e.value.message


def test_decompression_bomb_is_bounded() -> None:
    import zlib

    bomb = b"\0" * (qr.MAX_MESSAGE + 1)
    co = zlib.compressobj(9, zlib.DEFLATED, -15)
    body = co.compress(bomb) + co.flush()
    stream = body + hashlib.sha256(bomb).digest()
    msg_id = hashlib.sha256(bomb).digest()[:4]
    n = -(-len(stream) // 900)
    texts = [base45.encode(bytes((0x11, i + 1, n)) + msg_id + stream[i * 900:(i + 1) * 900]) for i in range(n)]
    with pytest.raises(Malformed) as e:
        qr.join(texts)
    assert "larger than" in e.value.message


# ----------------------------------------------------------------------------- PNGs through zbar

@pytest.mark.parametrize("size", [1, 1024, 4800, 20 * 1024])
def test_png_round_trip(tmp_path, size: int) -> None:
    msg = rand(size, 100 + size)
    paths = qr.encode_png(msg, tmp_path / "f")
    n = len(paths)
    assert [os.path.basename(p) for p in paths] == [f"frame-{i:02d}-of-{n:02d}.png" for i in range(1, n + 1)]
    shuffled = list(reversed(paths))
    assert qr.decode_images(shuffled) == msg
    assert sorted(os.listdir(tmp_path)) == ["f"]  # no temporary folders left behind


def test_png_shuffled_with_duplicates(set4800) -> None:
    msg, paths = set4800
    images = paths + paths[:2]
    random.Random(3).shuffle(images)
    asm = qr.read_images(images)
    assert asm.duplicates == 2
    assert asm.message() == msg


def test_png_version_read_back(set4800) -> None:
    _msg, paths = set4800
    assert len(paths) == 6
    for p in paths:
        # a version-v code is 4v+17 modules plus a 4-module quiet zone each side, 6 pixels a module
        side = Image.open(p).size[0]
        assert (side // 6 - 8 - 17) // 4 == 23


PHOTO_CASES = {
    "scaled-0.5": dict(scale=0.5, quality=80),
    "scaled-2": dict(scale=2.0, quality=80),
    "rotated-7": dict(angle=7, quality=85),
    "rotated-90": dict(angle=90, quality=85),
    "blurred-1": dict(blur=1.0, quality=85),
    "noisy-jpeg": dict(noise=0.15, quality=60),
    "all-at-once": dict(scale=0.8, angle=7, blur=1.0, noise=0.12, quality=70),
}


@pytest.mark.parametrize("case", sorted(PHOTO_CASES))
def test_photo_like_frames_decode(set4800, tmp_path, case: str) -> None:
    msg, paths = set4800
    ext = "jpg" if PHOTO_CASES[case].get("quality") else "png"
    shots = [photo(p, str(tmp_path / f"shot{i}.{ext}"), seed=i, **PHOTO_CASES[case]) for i, p in enumerate(paths)]
    random.Random(case).shuffle(shots)
    assert qr.decode_images(shots) == msg


def test_image_without_qr(tmp_path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 200).save(blank)
    with pytest.raises(Malformed) as e:
        qr.decode_images([str(blank)])
    assert e.value.message == f"no QR code found in {blank}"


def test_not_an_image(tmp_path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(Malformed) as e:
        qr.decode_images([str(junk)])
    assert e.value.message == f"{junk} is not an image Pillow can read"


def test_foreign_qr_code_in_image(tmp_path) -> None:
    import qrcode

    path = tmp_path / "url.png"
    qrcode.make("https://example.org/").save(path)
    with pytest.raises(Malformed) as e:
        qr.decode_images([str(path)])
    assert e.value.message.startswith(f"{path}: QR code is not a ct frame")


def test_tampered_frame_png(tmp_path) -> None:
    msg = rand(3000, 13)
    texts = qr.split(msg)
    texts[1] = _reframe(texts[1], _flip)
    paths = []
    for i, t in enumerate(texts, 1):
        p = tmp_path / f"f{i}.png"
        p.write_bytes(qr.png_bytes(qr.make_code(t)))
        paths.append(str(p))
    with pytest.raises(HashMismatch):
        qr.decode_images(paths)


def test_out_dir_rules(tmp_path) -> None:
    msg = rand(100, 14)
    out = tmp_path / "frames"
    out.mkdir()  # empty: fine
    first = qr.encode_png(msg, out)
    with pytest.raises(AlreadyExists) as e:
        qr.encode_png(msg, out)
    assert e.value.message == f"folder {out} is not empty"
    second = qr.encode_png(rand(3000, 15), out, force=True)  # an earlier frame set is replaced
    assert len(first) == 1 and len(second) == 4
    assert sorted(os.listdir(out)) == [os.path.basename(p) for p in second]
    (out / "keep.txt").write_text("mine")
    with pytest.raises(AlreadyExists) as e:
        qr.encode_png(msg, out, force=True)
    assert "holds files other than QR frames (e.g. keep.txt)" in e.value.message
    assert sorted(os.listdir(tmp_path)) == ["frames"]


# ----------------------------------------------------------------------------- terminal renderer

def rasterize(picture: str, *, ink: int, ground: int, px: int = 4) -> Image.Image:
    """Draw a half-block terminal picture as pixels: glyphs in ``ink``, the rest ``ground``."""
    import re

    lines = [re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", line) for line in picture.split("\n")]
    w, h = max(map(len, lines)), 2 * len(lines)
    img = Image.new("L", (w, h), ground)
    top = {"\u2580", "\u2588"}
    bottom = {"\u2584", "\u2588"}
    for y, line in enumerate(lines):
        for x, ch in enumerate(line):
            if ch in top:
                img.putpixel((x, 2 * y), ink)
            if ch in bottom:
                img.putpixel((x, 2 * y + 1), ink)
    # a ground-coloured margin, as the terminal around the picture
    framed = Image.new("L", (w + 8, h + 8), ground)
    framed.paste(img, (4, 4))
    return framed.resize((framed.width * px, framed.height * px), Image.Resampling.NEAREST)


@pytest.mark.parametrize(("color", "light_on_dark", "ink", "ground"), [
    (True, True, 0, 255),      # SGR black on white
    (False, True, 230, 30),    # NO_COLOR on a light-on-dark terminal: light modules are drawn
    (False, False, 20, 250),   # NO_COLOR on a dark-on-light terminal
])
def test_terminal_picture_scans(color: bool, light_on_dark: bool, ink: int, ground: int) -> None:
    from pyzbar.pyzbar import decode

    text = qr.split(rand(500, 16))[0]
    pic = qr.render_terminal(text, color=color, light_on_dark=light_on_dark)
    assert ("\x1b[" in pic) == color
    found = decode(rasterize(pic, ink=ink, ground=ground))
    assert [r.data.decode() for r in found] == [text]


def test_terminal_picture_shape() -> None:
    text = qr.split(rand(40, 17))[0]
    code = qr.make_code(text)
    side = 4 * code.version + 17 + 8
    lines = qr.render_terminal(text, color=False).split("\n")
    assert len(lines) == (side + 1) // 2
    assert {len(line) for line in lines} == {side}
    assert lines[0] == "\u2588" * side  # quiet zone, drawn light


# ----------------------------------------------------------------------------- CLI

def test_cli_encode_decode(tmp_path) -> None:
    msg = ceremony_like()
    src = tmp_path / "reply.json"
    src.write_bytes(msg)
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "frames"))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    n = len(os.listdir(tmp_path / "frames"))
    assert lines[0].startswith(f"wrote {n} frames (QR version ")
    assert lines[-1] == "sha256 " + hashlib.sha256(msg).hexdigest()
    images = sorted(str(p) for p in (tmp_path / "frames").iterdir())
    images = images[::-1] + images[:1]
    code, out, err = run("qr", "decode", *images, "-o", str(tmp_path / "back.json"))
    assert (code, err) == (0, "")
    assert out == (f"wrote {tmp_path / 'back.json'}: {len(msg)} bytes from {n} frames, 1 duplicate ignored\n"
                   f"sha256 {hashlib.sha256(msg).hexdigest()}\n")
    assert (tmp_path / "back.json").read_bytes() == msg


def test_cli_json(tmp_path, set4800) -> None:
    msg, paths = set4800
    src = tmp_path / "m.bin"
    src.write_bytes(msg[:1000])
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "fr"), "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc["frames"] == len(doc["paths"]) == 2
    assert doc["sha256"] == hashlib.sha256(msg[:1000]).hexdigest()
    assert doc["versions"] and max(doc["versions"]) <= 25 and doc["ec"] == "M"
    code, out, err = run("--json", "qr", "decode", *paths, "-o", str(tmp_path / "back"))
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc == {"output": str(tmp_path / "back"), "bytes": 4800, "sha256": hashlib.sha256(msg).hexdigest(),
                   "id": hashlib.sha256(msg).hexdigest()[:8], "frames": 6, "images": 6, "duplicates": 0}


def test_cli_missing_frames(tmp_path, set4800) -> None:
    _msg, paths = set4800
    keep = [p for i, p in enumerate(paths, 1) if i not in (2, 4)]
    code, out, err = run("qr", "decode", *keep, "-o", str(tmp_path / "x"))
    assert code == 10
    assert out == ""
    assert err == ("error: missing frames 2, 4 of 6\n"
                   "hint: rescan frames 2, 4 and decode them together with the frames you have\n")
    assert not (tmp_path / "x").exists()


def test_cli_mixed_messages(tmp_path, set4800, other_set) -> None:
    msg, paths = set4800
    other, other_paths = other_set
    a, b = hashlib.sha256(msg).hexdigest()[:8], hashlib.sha256(other).hexdigest()[:8]
    code, _out, err = run("qr", "decode", paths[0], other_paths[2], "-o", str(tmp_path / "x"))
    assert code == 10
    assert err == (f"error: {other_paths[2]}: frame 3 of 4 belongs to message {b}, "
                   f"not to message {a} being decoded\n"
                   "hint: decode the frames of one message at a time\n")


def test_cli_tampered(tmp_path) -> None:
    msg = rand(3000, 18)
    texts = qr.split(msg)
    texts[0] = _reframe(texts[0], _flip)
    paths = []
    for i, t in enumerate(texts, 1):
        p = tmp_path / f"f{i}.png"
        p.write_bytes(qr.png_bytes(qr.make_code(t)))
        paths.append(str(p))
    code, _out, err = run("qr", "decode", *paths, "-o", str(tmp_path / "x"))
    assert code == 1
    lines = err.splitlines()
    assert lines[0].startswith("error: reassembled message does not match its digest: expected sha256 "
                               + hashlib.sha256(msg).hexdigest())
    assert lines[1:] == ["hint: a frame was altered or misread; rescan all frames"]
    assert not (tmp_path / "x").exists()


def test_cli_refuses_overwrite(tmp_path, set4800) -> None:
    msg, paths = set4800
    dst = tmp_path / "out.bin"
    dst.write_bytes(b"precious")
    code, _out, err = run("qr", "decode", *paths, "-o", str(dst))
    assert code == 22
    assert err == f"error: {dst} already exists\nhint: pass --force to overwrite it, or choose another -o\n"
    assert dst.read_bytes() == b"precious"
    code, _out, err = run("qr", "decode", *paths, "-o", str(dst), "--force")
    assert (code, err) == (0, "")
    assert dst.read_bytes() == msg


def test_cli_errors(tmp_path) -> None:
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    code, _out, err = run("qr", "decode", str(blank), "-o", str(tmp_path / "x"))
    assert code == 10
    assert err == (f"error: no QR code found in {blank}\n"
                   "hint: photograph the screen again: closer, in focus, without glare\n")
    code, _out, err = run("qr", "encode", str(tmp_path / "nope"), "-o", str(tmp_path / "d"))
    assert code == 21
    assert err == f"error: file {tmp_path / 'nope'} does not exist\nhint: check the path\n"
    code, _out, err = run("qr", "encode", str(blank))
    assert code == 64
    assert err.splitlines()[0] == "error: one of the arguments -o/--output --terminal is required"
    code, _out, err = run("qr", "encode", str(blank), "-o", str(tmp_path / "d"), "--max-version", "41")
    assert code == 64
    assert err == "error: QR version must be 1 to 40, not 41\nhint: 25 is a good size for a camera\n"
    code, _out, err = run("qr", "encode", str(blank), "-o", str(tmp_path / "d"), "--fps", "2")
    assert code == 64
    assert err.splitlines()[0] == "error: --fps and --loops apply to --terminal only"
    code, _out, err = run("qr", "decode", str(tmp_path / "missing.png"), "-o", str(tmp_path / "x"))
    assert code == 21
    assert err == f"error: image {tmp_path / 'missing.png'} does not exist\nhint: check the path\n"


def test_cli_terminal_not_a_tty(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    msg = rand(2000, 19)
    src = tmp_path / "m.bin"
    src.write_bytes(msg)
    code, out, err = run("qr", "encode", str(src), "--terminal")
    assert (code, err) == (0, "")
    assert "\x1b" not in out  # not a terminal: no escape codes at all
    blocks = out.split("\n\n")
    assert len(blocks) == 3
    texts = []
    for i, block in enumerate(blocks, 1):
        *picture, caption = block.rstrip("\n").split("\n")
        assert caption.startswith(f"frame {i} of 3  (message {hashlib.sha256(msg).hexdigest()[:8]}, 2000 bytes")
        from pyzbar.pyzbar import decode

        texts += [r.data for r in decode(rasterize("\n".join(picture), ink=230, ground=30))]
    assert qr.join(texts) == msg


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color", [False, True])
def test_cli_terminal_on_a_tty(tmp_path, monkeypatch, no_color: bool) -> None:
    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    src = tmp_path / "m.bin"
    src.write_bytes(rand(2000, 20))
    out, err = FakeTTY(), io.StringIO()
    code = main(["qr", "encode", str(src), "--terminal", "--fps", "60", "--loops", "2"], stdout=out, stderr=err)
    assert code == 0
    screen = out.getvalue()
    assert screen.count("\x1b[H\x1b[2J") == 6  # 3 frames, shown twice
    assert screen.count("frame 2 of 3") == 2
    assert ("\x1b[30;107m" in screen) is not no_color
    assert screen.startswith("\x1b[?25l") and screen.endswith("\x1b[?25h")
