"""QR transport: frame format 2 and its vectors, capacity, the assembler, real PNGs read by zbar,
photo-like damage, the terminal player, `ct qr encode` and `ct qr decode`.

Nothing is mocked: frames are drawn and saved as PNG by ``segno`` (photo-like
copies by Pillow) and read back by zbar (``pyzbar`` over Debian's ``libzbar0``).
Videos and cameras (`ct qr scan`) are in ``tests/test_qr_scan.py``.
"""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import os
import random

import pytest
from PIL import Image, ImageFilter

from cerro_torre.cli.main import main
from cerro_torre.offline import base45, fountain, qr, scan
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
    """4,800 random bytes (an ML-DSA-87 round message stand-in) as the default PNG set: 6 parts, 9 frames."""
    msg = rand(4800, 1)
    out = tmp_path_factory.mktemp("set4800") / "frames"
    return msg, qr.encode_png(msg, out)


@pytest.fixture(scope="module")
def other_set(tmp_path_factory: pytest.TempPathFactory) -> tuple[bytes, list[str]]:
    msg = rand(3000, 2)
    out = tmp_path_factory.mktemp("other") / "frames"
    return msg, qr.encode_png(msg, out)


def frames_of(texts: list[str]) -> list[qr.Frame]:
    return [qr.parse_frame(t) for t in texts]


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
    assert qr.frame_capacity(25, "M") - qr.HEADER_LEN == 952


def test_four_v25_m_codes_cannot_hold_4800_bytes() -> None:
    """Four version-25 codes at level M have 4,000 data codewords: fewer than 4,800 bytes in any mode."""
    assert 4 * qr.data_codewords(25, "M") < 4800
    assert 5 * qr.frame_capacity(25, "M") - 4800 < 5 * qr.HEADER_LEN + qr.DIGEST_LEN


def test_4800_random_bytes_parts_and_versions_used() -> None:
    msg = rand(4800, 1)
    enc = qr.Encoder(msg, 25, "M")
    assert (enc.count, enc.fragment, enc.default_frames, enc.length) == (6, 806, 9, 4832)
    versions = {qr.make_code(t, 25, "M").version for t in enc.texts()}
    assert versions == {23}  # equal parts: every frame fits a smaller code than the limit
    for max_version, ec in ((25, "L"), (29, "M")):
        e = qr.Encoder(msg, max_version, ec)
        assert e.count == 4
        assert qr.make_code(e.text(1), max_version, ec).version == max_version


def test_ceremony_message_with_mldsa_signature_compresses() -> None:
    msg = ceremony_like()
    enc = qr.Encoder(msg)
    assert enc.flags & qr.FLAG_DEFLATE
    assert enc.count <= 6 and enc.count < qr.Encoder(rand(len(msg), 3)).count
    assert qr.join(enc.texts()) == msg


def test_fit_version() -> None:
    assert qr.fit_version(80, 23) == 6 and qr.code_size(6) == 45  # ct qr encode --terminal at 80x24
    assert qr.fit_version(80, 22) == 5 and qr.code_size(5) == 41  # the TUI player at 80x24
    assert qr.fit_version(80, 20) == 4
    assert qr.fit_version(200, 64) == 25 and qr.fit_version(200, 60) == 24
    assert qr.fit_version(200, 64, limit=10) == 10
    assert qr.fit_version(20, 10) == 0
    assert qr.min_version("M") == 2 and qr.min_version("L") == 1 and qr.min_version("H") == 3


# ----------------------------------------------------------------------------- frame layout

def test_frame_layout() -> None:
    msg = rand(4000, 4)
    digest = hashlib.sha256(msg).digest()
    enc = qr.Encoder(msg)
    assert enc.count == 5
    texts = [enc.text(q) for q in range(1, 6)]
    for q, t in enumerate(texts, 1):
        raw = base45.decode(t)
        assert raw[0] == 0x20  # format version 2, no flags (random data does not compress)
        assert raw[1:5] == q.to_bytes(4, "big")
        assert raw[5:7] == (5).to_bytes(2, "big")
        assert raw[7:11] == (4032).to_bytes(4, "big")
        assert raw[11:15] == digest[:4]
        assert len(raw) == 15 + 807  # ceil(4032 / 5)
    assert all(set(t) <= set(base45.ALPHABET) for t in texts)
    stream = b"".join(base45.decode(t)[qr.HEADER_LEN:] for t in texts)
    assert stream == msg + digest + bytes(5 * 807 - 4032)  # the last part padded with zeros
    # a mixed part is the XOR of the plain parts BC-UR's selection names
    f = qr.parse_frame(enc.text(77))
    assert f.indexes() == fountain.choose_fragments(77, 5, int.from_bytes(digest[:4], "big"))
    plain = [base45.decode(t)[qr.HEADER_LEN:] for t in texts]
    assert f.part == fountain.mix(plain, f.indexes())


def test_frame_layout_deflate() -> None:
    import zlib

    msg = b'{"blob":"' + b"QUJD" * 2000 + b'"}'
    enc = qr.Encoder(msg)
    raw = base45.decode(enc.text(1))
    assert raw[0] == 0x21
    stream = b"".join(base45.decode(enc.text(q))[qr.HEADER_LEN:] for q in range(1, enc.count + 1))[:enc.length]
    assert zlib.decompress(stream[:-32], -15) == msg
    assert stream[-32:] == hashlib.sha256(msg).digest()


def test_spec_example() -> None:
    """The example in spec/qr.md."""
    enc = qr.Encoder(b"hello")
    assert enc.texts() == ["224000V50V50000LV4JSUKPN: C*VDVU58$9G4CRRKF-4QL7$:O9TS4J3W$3304PH8EOEEM6GTINAJ",
                           "224000HB0V50000LV4JSUKPN: C*VDVU58$9G4CRRKF-4QL7$:O9TS4J3W$3304PH8EOEEM6GTINAJ"]
    raw = base45.decode(enc.text(1))
    assert raw.hex() == ("20" "00000001" "0001" "00000025" "2cf24dba" + b"hello".hex()
                         + hashlib.sha256(b"hello").hexdigest())
    assert qr.make_code(enc.text(1)).version == 4
    assert qr.join([enc.text(2)]) == b"hello"


def test_spec_vectors() -> None:
    """spec/vectors/qr-frames.json: the frames a conforming encoder writes, and texts a decoder refuses."""
    path = os.path.join(os.path.dirname(__file__), "..", "spec", "vectors", "qr-frames.json")
    with open(path, encoding="utf-8") as fh:
        doc = json.load(fh)
    for case in doc["valid"]:
        msg = bytes.fromhex(case["message_hex"])
        enc = qr.Encoder(msg, case["max_version"], case["ec"])
        assert (enc.count, enc.default_frames, enc.length, enc.fragment) == (
            case["parts"], case["default_frames"], case["stream_length"], case["fragment_length"])
        assert bool(enc.flags & qr.FLAG_DEFLATE) == case["deflated"]
        seqs = enc.sequence()
        for fr in case["frames"]:
            seq = next(seqs)
            assert seq == fr["seq"]
            assert enc.text(seq) == fr["text"]
            assert sorted(qr.parse_frame(fr["text"]).indexes()) == fr["fragments"]
        # the decoder: the vector's frames, last first, give the message back
        assert qr.join([fr["text"] for fr in reversed(case["frames"])]) == msg
    for bad in doc["invalid"]:
        with pytest.raises(Malformed):
            qr.parse_frame(bad["text"])


@pytest.mark.parametrize("size", [0, 1, 2, 31, 32, 33, 951, 952, 953, 1024, 20000])
def test_split_join_sizes(size: int) -> None:
    msg = rand(size, size)
    texts = qr.split(msg)
    assert len(texts) == qr.Encoder(msg).default_frames
    assert qr.join(texts) == msg
    assert all(len(t) <= qr.alphanumeric_capacity(25, "M") for t in texts)


def test_too_many_parts_is_refused() -> None:
    with pytest.raises(UsageError) as e:
        qr.Encoder(rand(90000, 5), max_version=2)
    assert e.value.message == f"message of 90000 bytes needs 9004 parts at QR version 2/M; the limit is {qr.MAX_PARTS}"


def test_bad_parameters() -> None:
    with pytest.raises(UsageError):
        qr.Encoder(b"x", max_version=41)
    with pytest.raises(UsageError):
        qr.Encoder(b"x", ec="X")
    with pytest.raises(UsageError) as e:
        qr.Encoder(b"x", max_version=1, ec="M")
    assert (e.value.message, e.value.hints) == ("a QR code of version 1 at level M is too small for a frame",
                                                ("use version 2 or larger",))


# ----------------------------------------------------------------------------- assembler

def test_any_order_and_duplicates() -> None:
    msg = rand(4800, 6)
    texts = qr.split(msg)
    feed = texts + texts[1:3] + texts[::-1]
    random.Random(1).shuffle(feed)
    a = qr.Assembler()
    for t in feed:
        a.feed(t)
    assert a.complete and a.frames == len(texts) and a.count == 6
    assert a.duplicates == len(feed) - len(texts)
    assert a.redundant == len(texts) - 6
    assert a.message() == msg


def test_any_count_frames_of_mixes_only() -> None:
    """Frames far along the endless stream, none of them a plain part, decode too."""
    msg = rand(4800, 6)
    enc = qr.Encoder(msg)
    a = qr.Assembler()
    seq = 5000
    while not a.complete:
        seq += 1
        a.feed(enc.text(seq))
    assert a.message() == msg
    assert seq - 5000 <= enc.count + 6


def test_progress_and_too_few_frames() -> None:
    enc = qr.Encoder(rand(4000, 7))
    a = qr.Assembler()
    assert a.recovered == 0 and not a.complete
    p = a.feed(enc.text(3))
    assert p == qr.Progress(3, True, True, 1, 5, 1)
    assert (p.needed, p.percent) == (4, 20)
    assert a.feed(enc.text(3)) == qr.Progress(3, False, False, 1, 5, 1)
    a.feed(enc.text(1))
    a.feed(enc.text(5))
    with pytest.raises(Malformed) as e:
        a.message()
    mid = enc.id_hex
    assert e.value.message == f"not enough frames for message {mid}: 3 of 5 parts recovered from 3 frames; " \
                              "at least 2 more frames are needed"
    assert e.value.hints == ("add more frames of this message, any, in any order ('ct qr encode --frames N' "
                             "writes more; the player shows new ones without end), and decode them together",)
    a.feed(enc.text(2))
    with pytest.raises(Malformed) as e:
        a.message()
    assert e.value.message.endswith("4 of 5 parts recovered from 4 frames; at least 1 more frame is needed")


def test_frames_of_two_messages_are_refused() -> None:
    a_texts, b_texts = qr.split(rand(3000, 8)), qr.split(rand(3000, 9))
    a_id = hashlib.sha256(rand(3000, 8)).hexdigest()[:8]
    b_id = hashlib.sha256(rand(3000, 9)).hexdigest()[:8]
    asm = qr.Assembler()
    asm.feed(a_texts[0])
    with pytest.raises(qr.OtherMessage) as e:
        asm.feed(b_texts[1])
    assert e.value.message == f"frame 2 belongs to message {b_id}, not to message {a_id} being decoded"
    assert e.value.hints == ("decode the frames of one message at a time",)
    assert e.value.exit_code == 10
    assert asm.frames == 1  # nothing of the other message was kept


def test_frames_of_another_encoding_are_refused() -> None:
    msg = rand(3000, 8)
    asm = qr.Assembler()
    asm.feed(qr.Encoder(msg, 25, "M").text(1))
    with pytest.raises(qr.OtherMessage) as e:
        asm.feed(qr.Encoder(msg, 20, "M").text(2))
    assert e.value.message == (f"frame 2 of message {asm.msg_id} comes from another encoding of it than frame 1 "
                               "(QR size or error correction differ)")


def _reframe(text: str, part_edit=None, **header) -> str:
    raw = bytearray(base45.decode(text))
    spans = {"vf": (0, 1), "seq": (1, 5), "count": (5, 7), "length": (7, 11)}
    for k, v in header.items():
        a, b = spans[k]
        raw[a:b] = v.to_bytes(b - a, "big")
    if part_edit:
        raw = raw[:qr.HEADER_LEN] + part_edit(bytes(raw[qr.HEADER_LEN:]))
    return base45.encode(bytes(raw))


def _flip(part: bytes) -> bytes:
    return part[:10] + bytes([part[10] ^ 0x01]) + part[11:]


def test_tampered_part_is_a_digest_mismatch() -> None:
    msg = rand(4800, 10)
    enc = qr.Encoder(msg)
    texts = [enc.text(q) for q in range(1, 7)]
    texts[2] = _reframe(texts[2], _flip)
    with pytest.raises(HashMismatch) as e:
        qr.join(texts)
    d = hashlib.sha256(msg).hexdigest()
    assert e.value.message.startswith(f"reassembled message does not match its digest: expected sha256 {d}, got ")
    assert e.value.exit_code == 1


def test_tampered_compressed_message_is_a_digest_mismatch() -> None:
    enc = qr.Encoder(ceremony_like())
    texts = [enc.text(q) for q in range(1, enc.count + 1)]
    texts[1] = _reframe(texts[1], _flip)
    with pytest.raises(HashMismatch):
        qr.join(texts)


def test_tampered_digest_trailer() -> None:
    msg = rand(1000, 11)
    enc = qr.Encoder(msg)
    assert enc.count == 2
    last = _reframe(enc.text(2), lambda c: c[:-100] + bytes([c[-100] ^ 0x80]) + c[-99:])
    with pytest.raises(HashMismatch) as e:
        qr.join([enc.text(1), last])
    assert e.value.message.startswith("frames carry message id") or \
        e.value.message.startswith("reassembled message does not match its digest")


def test_part_read_twice_with_other_content() -> None:
    enc = qr.Encoder(rand(3000, 12))
    asm = qr.Assembler()
    asm.feed(enc.text(2))
    with pytest.raises(HashMismatch) as e:
        asm.feed(_reframe(enc.text(2), _flip))
    assert e.value.message == f"frame 2 of message {enc.id_hex} was read twice with different content"


def test_mix_contradicting_the_plain_parts() -> None:
    """A mixed part whose fragments are all known must equal their XOR: an altered one is caught at once."""
    enc = qr.Encoder(rand(3000, 12))
    asm = qr.Assembler()
    for q in range(1, enc.count + 1):
        asm.feed(enc.text(q))
    assert asm.message()
    with pytest.raises(HashMismatch) as e:
        asm.feed(_reframe(enc.text(enc.count + 7), _flip))
    assert e.value.message == f"frame {enc.count + 7} of message {enc.id_hex} contradicts the frames read before it"


@pytest.mark.parametrize(("text", "fragment"), [
    ("HTTPS://EXAMPLE.ORG/", "QR code is not a ct frame (frame has an out-of-range group 'PS:' at offset 3"),
    ("HTTPS://EXAMPLE.ORG", "QR code is not a ct frame (frame has an invalid length 19"),
    ("hello", "outside the base45 alphabet"),
    (base45.encode(b"\x20" + b"\0" * 14), "only 15 bytes"),
    (base45.encode(bytes.fromhex("1001012cf24dba") + b"hello" + b"x" * 32), "format version 1"),
    (base45.encode(bytes.fromhex("22000000010001000000252cf24dba") + b"x" * 37), "unknown flags 0x2"),
    (base45.encode(bytes.fromhex("20000000000001000000252cf24dba") + b"x" * 37), "part number 0"),
    (base45.encode(bytes.fromhex("20000000010000000000252cf24dba") + b"x" * 37), "claims 0 parts"),
    (base45.encode(bytes.fromhex("20000000012001000000252cf24dba") + b"x" * 37), "claims 8193 parts"),
    (base45.encode(bytes.fromhex("20000000010001000000102cf24dba") + b"x" * 16), "claims a stream of 16 bytes"),
    (base45.encode(bytes.fromhex("20000000010001010000212cf24dba") + b"x" * 37), "claims a stream of 16777249"),
    (base45.encode(bytes.fromhex("20000000010002000000252cf24dba") + b"x" * 37),
     "inconsistent: 2 parts of 37 bytes cannot hold exactly 37 bytes"),
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
    digest = hashlib.sha256(bomb).digest()
    stream = body + digest
    frag = -(-len(stream) // 20)
    parts = fountain.partition(stream, frag)
    texts = [base45.encode(bytes([0x21]) + q.to_bytes(4, "big") + len(parts).to_bytes(2, "big")
                           + len(stream).to_bytes(4, "big") + digest[:4] + parts[q - 1])
             for q in range(1, len(parts) + 1)]
    with pytest.raises(Malformed) as e:
        qr.join(texts)
    assert e.value.message == f"reassembled message is larger than {qr.MAX_MESSAGE} bytes once decompressed"


# ----------------------------------------------------------------------------- PNGs through zbar

@pytest.mark.parametrize("size", [1, 1024, 4800, 20 * 1024])
def test_png_round_trip(tmp_path, size: int) -> None:
    msg = rand(size, 100 + size)
    paths = qr.encode_png(msg, tmp_path / "f")
    n = len(paths)
    assert n == qr.Encoder(msg).default_frames
    assert [os.path.basename(p) for p in paths] == [f"frame-{i:02d}-of-{n:02d}.png" for i in range(1, n + 1)]
    s = scan.Scan(strict=True)
    s.images(list(reversed(paths)))
    assert s.message() == msg
    assert sorted(os.listdir(tmp_path)) == ["f"]  # no temporary folders left behind


def test_png_shuffled_with_duplicates(set4800) -> None:
    msg, paths = set4800
    images = paths[:2] + paths
    s = scan.Scan(strict=True)
    s.images(images)
    assert s.assembler.duplicates == 2
    assert s.message() == msg
    assert s.pictures < len(images)  # stops reading once the message is complete


def test_png_version_read_back(set4800) -> None:
    _msg, paths = set4800
    assert len(paths) == 9
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
    for s in shots:  # every photo reads on its own
        assert len(scan.read_image(s)) == 1, s
    sc = scan.Scan(strict=True)
    sc.images(shots)
    assert sc.message() == msg


def test_image_without_qr_is_skipped(tmp_path, set4800) -> None:
    msg, paths = set4800
    blank = tmp_path / "blank.png"
    Image.new("L", (300, 300), 200).save(blank)
    s = scan.Scan(strict=True)
    s.images([str(blank)])
    with pytest.raises(Malformed) as e:
        s.message()
    assert e.value.message == "no ct QR frames found in 1 picture (1 without a QR code)"
    s.images(paths)
    assert s.message() == msg and s.without_code == 1


def test_not_an_image(tmp_path) -> None:
    junk = tmp_path / "notes.txt"
    junk.write_text("hello")
    with pytest.raises(Malformed) as e:
        scan.read_image(junk)
    assert e.value.message == f"{junk} is not an image Pillow can read"


def test_foreign_qr_code_in_image(tmp_path, set4800) -> None:
    import segno

    msg, paths = set4800
    path = tmp_path / "url.png"
    segno.make("https://example.org/").save(path, scale=6)
    strict = scan.Scan(strict=True)
    with pytest.raises(Malformed) as e:
        strict.images([str(path)])
    assert e.value.message.startswith(f"{path}: QR code is not a ct frame")
    lenient = scan.Scan()
    lenient.images([str(path)] + paths)
    assert lenient.message() == msg and lenient.not_ct == 1


def test_tampered_frame_png(tmp_path) -> None:
    msg = rand(3000, 13)
    enc = qr.Encoder(msg)
    texts = [enc.text(q) for q in range(1, enc.count + 1)]
    texts[1] = _reframe(texts[1], _flip)
    paths = []
    for i, t in enumerate(texts, 1):
        p = tmp_path / f"f{i}.png"
        p.write_bytes(qr.png_bytes(qr.make_code(t)))
        paths.append(str(p))
    s = scan.Scan(strict=True)
    s.images(paths)
    with pytest.raises(HashMismatch):
        s.message()


def test_out_dir_rules(tmp_path) -> None:
    msg = rand(100, 14)
    out = tmp_path / "frames"
    out.mkdir()  # empty: fine
    first = qr.encode_png(msg, out)
    with pytest.raises(AlreadyExists) as e:
        qr.encode_png(msg, out)
    assert e.value.message == f"folder {out} is not empty"
    second = qr.encode_png(rand(3000, 15), out, force=True)  # an earlier frame set is replaced
    assert len(first) == 2 and len(second) == 6
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
    pic = qr.terminal_frame(text, 25, color=color, light_on_dark=light_on_dark)
    assert ("\x1b[" in pic) == color
    found = decode(rasterize(pic, ink=ink, ground=ground))
    assert [r.data.decode() for r in found] == [text]


def test_terminal_picture_shape() -> None:
    text = qr.split(rand(40, 17))[0]
    code = qr.make_code(text)
    side = qr.code_size(code.version)
    lines = qr.terminal_frame(text, 25, color=False).split("\n")
    assert len(lines) == (side + 1) // 2
    assert {len(line) for line in lines} == {side}
    assert lines[0] == "\u2588" * side  # quiet zone, drawn light


# ----------------------------------------------------------------------------- CLI

def test_cli_encode_decode(tmp_path) -> None:
    msg = ceremony_like()
    enc = qr.Encoder(msg)
    src = tmp_path / "reply.json"
    src.write_bytes(msg)
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "frames"))
    assert (code, err) == (0, "")
    n = enc.default_frames
    version = qr.make_code(enc.text(1)).version
    assert out == (f"wrote {n} frames to {tmp_path / 'frames'}: message {enc.id_hex}, {len(msg)} bytes in "
                   f"{enc.count} parts (any {enc.count} or a few more frames decode), QR version {version}, "
                   "error correction M\n"
                   f"sha256 {hashlib.sha256(msg).hexdigest()}\n")
    assert len(os.listdir(tmp_path / "frames")) == n
    images = sorted(str(p) for p in (tmp_path / "frames").iterdir())
    images = images[:1] + images  # the plain parts come first; frame 1 is given twice
    code, out, err = run("qr", "decode", *images, "-o", str(tmp_path / "back.json"))
    assert (code, err) == (0, "")
    assert out == (f"wrote {tmp_path / 'back.json'}: {len(msg)} bytes from {enc.count} frames of message "
                   f"{enc.id_hex} ({enc.count} parts)\n"
                   f"read {enc.count + 1} images: 1 repeated\n"
                   f"sha256 {hashlib.sha256(msg).hexdigest()}\n")
    assert (tmp_path / "back.json").read_bytes() == msg


def test_cli_encode_frames_option(tmp_path) -> None:
    src = tmp_path / "m.bin"
    src.write_bytes(rand(4800, 1))
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "a"), "--frames", "14")
    assert (code, err) == (0, "") and len(os.listdir(tmp_path / "a")) == 14
    assert out.startswith(f"wrote 14 frames to {tmp_path / 'a'}: ")
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "b"), "--frames", "5")
    assert code == 64
    assert err == ("error: --frames 5 is fewer than the 6 frames this message needs at least\n"
                   "hint: leave --frames out (the default writes 9), or pass 6 or more\n")
    assert not (tmp_path / "b").exists()


def test_cli_json(tmp_path, set4800) -> None:
    msg, paths = set4800
    src = tmp_path / "m.bin"
    src.write_bytes(msg[:1000])
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "fr"), "--json")
    assert code == 0 and err == ""
    doc = json.loads(out)
    enc = qr.Encoder(msg[:1000])
    assert doc["parts"] == enc.count == 2 and doc["frames"] == len(doc["paths"]) == 3
    assert doc["seq"] == list(itertools.islice(enc.sequence(), 3))
    assert doc["sha256"] == hashlib.sha256(msg[:1000]).hexdigest()
    assert doc["version"] <= 25 and doc["ec"] == "M"
    code, out, err = run("--json", "qr", "decode", *paths, "-o", str(tmp_path / "back"))
    assert code == 0 and err == ""
    doc = json.loads(out)
    assert doc == {"output": str(tmp_path / "back"), "bytes": 4800, "sha256": hashlib.sha256(msg).hexdigest(),
                   "id": hashlib.sha256(msg).hexdigest()[:8], "parts": 6, "frames": 6, "pictures": 6,
                   "duplicates": 0, "redundant": 0, "without_code": 0, "not_ct": 0, "other_message": 0}


def test_cli_too_few_frames(tmp_path, set4800) -> None:
    msg, paths = set4800
    keep = paths[:5]  # five plain parts of six
    code, out, err = run("qr", "decode", *keep, "-o", str(tmp_path / "x"))
    assert code == 10
    assert out == ""
    assert err == (f"error: not enough frames for message {hashlib.sha256(msg).hexdigest()[:8]}: 5 of 6 parts "
                   "recovered from 5 frames; at least 1 more frame is needed\n"
                   "hint: add more frames of this message, any, in any order ('ct qr encode --frames N' writes "
                   "more; the player shows new ones without end), and decode them together\n")
    assert not (tmp_path / "x").exists()


def test_cli_decode_refuses_a_frame_of_another_message(tmp_path, set4800, other_set) -> None:
    msg, paths = set4800
    other, other_paths = other_set
    a, b = hashlib.sha256(msg).hexdigest()[:8], hashlib.sha256(other).hexdigest()[:8]
    code, _out, err = run("qr", "decode", paths[0], other_paths[2], "-o", str(tmp_path / "x"))
    assert code == 10
    assert err == (f"error: {other_paths[2]}: frame 3 belongs to message {b}, not to message {a} being decoded\n"
                   "hint: decode the frames of one message at a time\n")
    assert not (tmp_path / "x").exists()


def test_cli_scan_ignores_and_counts_frames_of_another_message(tmp_path, set4800, other_set) -> None:
    msg, paths = set4800
    _other, other_paths = other_set
    b = hashlib.sha256(_other).hexdigest()[:8]
    code, out, err = run("qr", "scan", paths[0], *other_paths[:2], *paths[1:], "-o", str(tmp_path / "x"))
    assert (code, err) == (0, "")
    assert out.splitlines()[1] == f"read 8 images: 2 frames of another message ({b})"  # 6 of ours, then done
    assert (tmp_path / "x").read_bytes() == msg


def test_cli_tampered(tmp_path) -> None:
    msg = rand(3000, 18)
    enc = qr.Encoder(msg)
    texts = [enc.text(q) for q in range(1, enc.count + 1)]
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
    assert lines[1:] == ["hint: a frame was altered or misread; rescan the frames"]
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
    assert err == ("error: no ct QR frames found in 1 picture (1 without a QR code)\n"
                   "hint: point the camera at the frames 'ct qr encode' shows, or photograph them again: "
                   "closer, in focus, without glare\n")
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
    assert err.splitlines()[0] == "error: --fps applies to --terminal only"
    code, _out, err = run("qr", "decode", str(tmp_path / "missing.png"), "-o", str(tmp_path / "x"))
    assert code == 21
    assert err == f"error: image {tmp_path / 'missing.png'} does not exist\nhint: check the path\n"
    code, _out, err = run("qr", "scan", "-o", str(tmp_path / "x"))
    assert code == 64
    assert err == ("error: give one source: --camera DEVICE, --video FILE, or images and folders\n"
                   "hint: e.g. 'ct qr scan --camera /dev/video0 -o message.ctm'\n")
    assert not (tmp_path / "x").exists()


def test_cli_terminal_not_a_tty(tmp_path, monkeypatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    msg = rand(2000, 19)
    enc = qr.Encoder(msg)
    src = tmp_path / "m.bin"
    src.write_bytes(msg)
    code, out, err = run("qr", "encode", str(src), "--terminal")
    assert (code, err) == (0, "")
    assert "\x1b" not in out  # not a terminal: no escape codes at all
    blocks = out.split("\n\n")
    assert len(blocks) == enc.default_frames == 5
    texts = []
    from pyzbar.pyzbar import decode

    for i, block in enumerate(blocks, 1):
        *picture, caption = block.rstrip("\n").split("\n")
        assert caption.startswith(f"frame {i} of 5: part ")
        assert caption.endswith(f" of message {enc.id_hex} (2000 bytes, 3 parts, sha256 "
                                f"{hashlib.sha256(msg).hexdigest()[:16]}...)")
        texts += [r.data for r in decode(rasterize("\n".join(picture), ink=230, ground=30))]
    assert len(texts) == 5
    assert qr.join(texts) == msg


class FakeTTY(io.StringIO):
    def isatty(self) -> bool:
        return True


@pytest.mark.parametrize("no_color", [False, True])
def test_cli_terminal_on_a_tty_fits_the_terminal(tmp_path, monkeypatch, no_color: bool) -> None:
    """ct qr encode --terminal in an 80x24 terminal: version-6 codes that fit, new parts frame after frame."""
    import re

    if no_color:
        monkeypatch.setenv("NO_COLOR", "1")
    else:
        monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.delenv("TERM", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    monkeypatch.setenv("LINES", "24")
    msg = rand(2000, 20)
    src = tmp_path / "m.bin"
    src.write_bytes(msg)
    out, err = FakeTTY(), io.StringIO()
    code = main(["qr", "encode", str(src), "--terminal", "--fps", "60", "--frames", "40"], stdout=out, stderr=err)
    assert (code, err.getvalue()) == (0, "")
    screen = out.getvalue()
    assert screen.startswith("\x1b[?25l") and screen.endswith("\x1b[?25h")
    shots = screen[len("\x1b[?25l"):].split("\x1b[H\x1b[2J")[1:]
    assert len(shots) == 40
    enc = qr.Encoder(msg, 6, "M")
    texts = []
    for i, shot in enumerate(shots, 1):
        lines = shot.split("\n")
        caption = lines[-1] if i < 40 else lines[-2]
        assert caption.startswith(f"frame {i} (part ")
        assert caption.endswith(f") QR v6/M: message {enc.id_hex}, 2000 B, {enc.count} parts; ctrl-c stops")
        assert len(caption) < 80
        picture = [re.sub(r"\x1b\[[0-9;]*m", "", x) for x in lines[:lines.index(caption)]]
        assert len(picture) == 23 and {len(x) for x in picture} == {45}  # 23 lines + the caption: 24
        assert ("\x1b[30;107m" in shot) is not no_color
        if i <= 25:
            ink, ground = (0, 255) if not no_color else (230, 30)
            from pyzbar.pyzbar import decode

            texts += [r.data for r in decode(rasterize("\n".join(picture), ink=ink, ground=ground))]
    assert qr.join(texts) == msg  # the frames shown are frames of an encoding that fits


def test_cli_terminal_too_small_warns_on_every_frame(tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("COLUMNS", "20")
    monkeypatch.setenv("LINES", "10")
    src = tmp_path / "m.bin"
    src.write_bytes(b"hello")
    out, err = FakeTTY(), io.StringIO()
    assert main(["qr", "encode", str(src), "--terminal", "--fps", "60", "--frames", "3"],
                stdout=out, stderr=err) == 0
    shots = out.getvalue().split("\x1b[H\x1b[2J")[1:]
    assert len(shots) == 3
    for shot in shots:
        assert "\nwarning: the terminal is 20x10; these frames need 29x16: enlarge the window or shrink the font" \
            in shot


def test_default_frame_rate_is_the_tuis() -> None:
    from cerro_torre.cli import qr as cli_qr
    from cerro_torre.tui.screens import qr as tui_qr

    assert cli_qr.DEFAULT_FPS == qr.DEFAULT_FPS == tui_qr.DEFAULT_RATE == 2.0


# ----------------------------------------------------------------------------- large messages

@pytest.mark.parametrize(("version", "ec"), [(2, "L"), (5, "M"), (25, "M"), (40, "H")])
def test_frame_of_zero_bytes_draws_and_reads_back(version: int, ec: str) -> None:
    # A run of zero bytes (the last fragment's padding, or zeros in a message that does not deflate)
    # makes a whole Reed-Solomon block of zero codewords: the QR library must draw it like any other.
    frame = bytes([0x20]) + (1).to_bytes(4, "big") + bytes(qr.frame_capacity(version, ec) - 5)
    text = base45.encode(frame)
    code = qr.make_code(text, version, ec)
    assert code.version == version
    from pyzbar.pyzbar import decode

    assert [r.data for r in decode(Image.open(io.BytesIO(qr.png_bytes(code))))] == [text.encode()]


@pytest.mark.parametrize("size", [200_000, 300_000])
def test_cli_large_message_round_trip(tmp_path, size: int) -> None:
    msg = rand(size, size)
    enc = qr.Encoder(msg)
    assert enc.count * enc.fragment - enc.length >= 100  # the last part ends in a long run of zero padding
    src = tmp_path / "m.bin"
    src.write_bytes(msg)
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "frames"))
    assert (code, err) == (0, "")
    n = enc.default_frames
    assert out == (f"wrote {n} frames to {tmp_path / 'frames'}: message {enc.id_hex}, {size} bytes in "
                   f"{enc.count} parts (any {enc.count} or a few more frames decode), QR version 25, "
                   "error correction M\n"
                   f"sha256 {hashlib.sha256(msg).hexdigest()}\n")
    assert len(os.listdir(tmp_path / "frames")) == n
    code, out, err = run("qr", "decode", str(tmp_path / "frames"), "-o", str(tmp_path / "back.bin"))
    assert (code, err) == (0, "")
    assert (tmp_path / "back.bin").read_bytes() == msg


def test_largest_message_the_format_allows_round_trips(tmp_path) -> None:
    # 8192 parts (MAX_PARTS) of 16 bytes at version 2/L: the largest message at that size, end to end
    part = qr.frame_capacity(2, "L") - qr.HEADER_LEN
    msg = rand(qr.MAX_PARTS * part - qr.DIGEST_LEN - 7, 23)
    enc = qr.Encoder(msg, 2, "L")
    assert (enc.count, enc.fragment, enc.flags) == (qr.MAX_PARTS, part, 0)
    texts = [enc.text(s) for s in range(qr.MAX_PARTS, 0, -1)]  # the padded last part first
    assert qr.join(texts) == msg
    from pyzbar.pyzbar import decode

    last = qr.make_code(texts[0], 2, "L")
    assert [r.data for r in decode(Image.open(io.BytesIO(qr.png_bytes(last))))] == [texts[0].encode()]
    src = tmp_path / "m.bin"
    src.write_bytes(rand(qr.MAX_PARTS * part - qr.DIGEST_LEN + 1, 23))
    code, out, err = run("qr", "encode", str(src), "-o", str(tmp_path / "frames"), "--max-version", "2",
                         "--ec", "L")
    assert (code, out) == (64, "")
    assert err == (f"error: message of {qr.MAX_PARTS * part - qr.DIGEST_LEN + 1} bytes needs 8193 parts at QR "
                   "version 2/L; the limit is 8192\n"
                   "hint: carry it as a file on removable media, or use larger QR codes\n")
    assert os.listdir(tmp_path) == ["m.bin"]


def test_cli_fps_out_of_range(tmp_path) -> None:
    src = tmp_path / "m.bin"
    src.write_bytes(b"x")
    for fps in ("0", "-1", "61"):
        code, out, err = run("qr", "encode", str(src), "--terminal", "--fps", fps)
        assert (code, out) == (64, "")
        assert err == (f"error: --fps must be above 0 and at most 60, not {float(fps):g}\n"
                       "hint: leave --fps out for the default of 2 frames a second, or pass a number "
                       "such as 0.5 or 10\n")
