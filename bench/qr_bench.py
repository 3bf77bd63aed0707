"""QR transport benchmark: fountain frames needed against the minimum, and scanning speed.

Sections (each a self-contained function, so other sections can be added):

* ``fountain_frames``: for a few message sizes, at QR version 25/M (a screen
  and a camera) and 5/M (the TUI's player in an 80x24 terminal): the parts
  (the fewest frames that can carry the message), the default PNG set, how
  many frames a receiver needs when it starts watching the endless player at
  a random point, and how many of the default set, in a random order --
  against the minimum, and against BC-UR's own order of parts.
* ``scan_speed``: reading the encoder's own PNGs, and a video made of them
  (shuffled, each shown twice, scaled, blurred, noise, a fifth of the video
  frames lost), with ``ct qr scan``'s reader against plain zbar on the same
  pictures in the same run (``pyzbar.decode`` of each full picture, the
  reference), as a ratio.
* ``solver_speed``: encoding and solving a message of 1,440 parts (95 KB at
  version 5).

Run: .venv/bin/python bench/qr_bench.py
"""

from __future__ import annotations

import os
import random
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "demo"))

from cerro_torre.offline import fountain, qr, scan  # noqa: E402

TRIALS = int(os.environ.get("QR_BENCH_TRIALS", "200"))
VERSION_TARGET, EC_TARGET = 25, "M"  # a screen and a camera
SIZES = {25: (1000, 4800, 8000, 30000, 95000), 5: (1000, 4800, 8000)}


def _frames_to_complete(enc: qr.Encoder, seqs: list[int]) -> int | None:
    a = qr.Assembler()
    for i, s in enumerate(seqs, 1):
        a.feed(enc.text(s))
        if a.complete:
            return i
    return None


def fountain_frames() -> None:
    print("frames needed (minimum = parts); 'stream': start watching the player at a random frame; "
          f"'set': the default set in a random order; {TRIALS} trials each (mean / worst)")
    print(f"{'bytes':>7} {'QR':>5} {'parts':>6} {'set':>5} {'stream':>14} {'set, any order':>16} "
          f"{'BC-UR order, any order':>23}")
    rng = random.Random(10)
    for version, sizes in SIZES.items():
        for size in sizes:
            msg = rng.randbytes(size)
            enc = qr.Encoder(msg, version, "M")
            trials = TRIALS if enc.count <= 60 else max(1, TRIALS // 10)
            it = enc.sequence()
            order = [next(it) for _ in range(enc.default_frames + 3 * enc.count + 40)]
            default = order[:enc.default_frames]
            stream, subset, bcur = [], [], []
            for _ in range(trials):
                start = rng.randrange(enc.count, 2 * enc.count + 1)  # joins after the plain parts went by
                stream.append(_frames_to_complete(enc, order[start:]))
                shuffled = default[:]
                rng.shuffle(shuffled)
                got = _frames_to_complete(enc, shuffled)
                subset.append(got)
                plain = list(range(1, enc.default_frames + 1))
                rng.shuffle(plain)
                bcur.append(_frames_to_complete(enc, plain))

            def show(xs: list[int | None]) -> str:
                ok = [x for x in xs if x is not None]
                miss = len(xs) - len(ok)
                text = f"{statistics.mean(ok):.1f} / {max(ok)}" if ok else "-"
                return text + (f" ({miss} short)" if miss else "")

            print(f"{size:>7} {version:>3}/M {enc.count:>6} {enc.default_frames:>5} {show(stream):>14} "
                  f"{show(subset):>16} {show(bcur):>23}")
    print("  (a 'short' set decoded only with more frames; every set here holds all the parts)")


def scan_speed() -> None:
    from pyzbar.pyzbar import ZBarSymbol
    from pyzbar.pyzbar import decode as zbar_decode
    from qr_video import make_video

    cv2 = scan._cv2()  # noqa: SLF001
    msg = random.Random(4800).randbytes(4800)
    with tempfile.TemporaryDirectory(prefix="ct-qr-bench-") as work:
        t = time.perf_counter()
        pngs = qr.encode_png(msg, os.path.join(work, "frames"))
        t_png = time.perf_counter() - t
        grays = [scan.load_image(p) for p in pngs]

        def ours_images() -> None:
            for g in grays:
                scan.codes_in(g)

        def plain_images() -> None:
            for g in grays:
                zbar_decode(g, symbols=[ZBarSymbol.QRCODE])

        video = os.path.join(work, "screen.avi")
        n = make_video(pngs, video, repeat=6, shuffle=True, scale=(0.5, 0.8), blur=1.2, noise=10, drop=0.2,
                       seed=11)
        cap = cv2.VideoCapture(video)
        frames = []
        while True:
            ok, f = cap.read()
            if not ok:
                break
            frames.append(cv2.cvtColor(f, cv2.COLOR_BGR2GRAY))
        cap.release()

        def ours_video() -> None:  # as a scan reads a video: the version that read the last frame first
            prefer = None
            for g in frames:
                found, used = scan.find_codes(g, thorough=False, prefer=prefer)
                prefer = used or prefer

        def plain_video() -> None:
            for g in frames:
                zbar_decode(g, symbols=[ZBarSymbol.QRCODE])

        def best(fn, repeat: int = 3) -> float:
            ts = []
            for _ in range(repeat):
                t = time.perf_counter()
                fn()
                ts.append(time.perf_counter() - t)
            return min(ts)

        ti, pi = best(ours_images), best(plain_images)
        tv, pv = best(ours_video), best(plain_video)
        found_ours = sum(1 for g in frames if scan.codes_in(g, thorough=False))
        found_plain = sum(1 for g in frames if zbar_decode(g, symbols=[ZBarSymbol.QRCODE]))
        t = time.perf_counter()
        s = scan.Scan()
        s.video(video, scan.open_video(video))
        assert s.message() == msg
        t_scan = time.perf_counter() - t
        print(f"\nscanning the encoder's own frames (4,800 bytes, {len(pngs)} PNGs of "
              f"{grays[0].shape[1]} px, written in {t_png:.2f} s):")
        print(f"  images: {len(pngs) / ti:.0f} frames/s (ct's reader) vs plain zbar on the full PNG "
              f"{len(pngs) / pi:.0f} frames/s -> ratio {ti / pi:.2f} (time, lower is faster)")
        print(f"  video 1280x720 ({n} video frames, each QR frame about 5 times): {n / tv:.0f} frames/s vs plain "
              f"zbar {n / pv:.0f} frames/s -> ratio {tv / pv:.2f}; codes found in {found_ours} vs {found_plain} "
              "video frames")
        print(f"  'ct qr scan --video' end to end: complete after {s.pictures} of {n} video frames, {t_scan:.2f} s "
              f"(OpenCV decoding included)")


def solver_speed() -> None:
    msg = random.Random(95).randbytes(95000)
    t = time.perf_counter()
    enc = qr.Encoder(msg, 5, "M")
    t_plan = time.perf_counter() - t
    it = enc.sequence()
    for _ in range(enc.count):  # a receiver that joins after the plain parts went by
        next(it)
    t = time.perf_counter()
    texts = [enc.text(next(it)) for _ in range(enc.count + 20)]
    t_text = time.perf_counter() - t
    t = time.perf_counter()
    a = qr.Assembler()
    used = 0
    for x in texts:
        a.feed(x)
        used += 1
        if a.complete:
            break
    out = a.message() if a.complete else b""
    t_solve = time.perf_counter() - t
    assert out == msg
    print(f"\nsolver: 95,000 random bytes at version 5/M = {enc.count} parts of {enc.fragment} bytes "
          f"(encoder set-up {t_plan * 1000:.0f} ms); {len(texts)} mixed frames made in {t_text:.2f} s "
          f"({t_text / len(texts) * 1000:.1f} ms each); complete after {used} frames "
          f"({used - enc.count} more than the parts), solved in {t_solve:.2f} s "
          f"({t_solve / used * 1000:.1f} ms per frame)")
    print(f"  (the degree sampler for {enc.count} parts: {fountain.dense_degree(enc.count)} or more fragments "
          "per mix shown)")


def main() -> int:
    fountain_frames()
    scan_speed()
    solver_speed()
    return 0


# ====================================================================== ceremony message sizes (issue 10)
# Self-contained: every message of a keygen, a signing (stock forms) and a rotation as they cross, for
# 2-of-3, 3-of-5 and 7-of-10 CT-SIG-02 sets (tests/ceremony_sim.wire_sizes; tests/test_ceremony_sizes.py
# checks the 3-of-5 targets).

SIZE_SETS = ((2, 3), (3, 5), (7, 10))
SIZE_TARGETS = {"message": 8_000, "session": 20_000, "request": 24_000}
SESSION_V1 = 247_000      # one keyholder's 3-of-5 signing session with version 1 messages (issue 10)
KINDS = ("sign", "keygen", "rotate", "keepkey", "refresh", "repair")
KIND_NAMES = {"keygen": "keygen", "rotate": "rotation", "keepkey": "keep-key rotation", "refresh": "refresh",
              "repair": "repair"}


def message_sizes() -> bool:
    """Print the sizes table; True when the 3-of-5 targets hold."""
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from ceremony_sim import packed_release, wire_sizes

    print("\nceremony messages, bytes as they cross (largest of each round; frames at QR v25/M):")
    ok = True
    with tempfile.TemporaryDirectory(prefix="ct-sizes-") as work:
        # what a default `ct pack` of one file asks to sign: the release statement, its SBOM and provenance
        st, atts = packed_release(os.path.join(work, "pack"))
        print(f"  signing: the release statement ({len(st):,} B) and {len(atts)} attestations "
              f"({', '.join(f'{len(a):,} B' for a in atts)}) of a default 'ct pack' of one file")
        for k, n in SIZE_SETS:
            sizes = wire_sizes(os.path.join(work, f"{k}of{n}"), n, k, st, atts)
            print(f"  {k}-of-{n}:")
            for kind in KINDS:
                rounds = sizes[kind]["rounds"]
                for (rnd, way), wire in sorted(rounds.items(), key=lambda x: (x[0][1], -len(x[1]))):
                    frames = qr.Encoder(wire, VERSION_TARGET, EC_TARGET).count  # the fewest frames (parts)
                    print(f"    {kind:<7} {rnd:<9} {way:<15} {len(wire):>7,} B  {frames:>3} frames")
                sess = max(sizes[kind]["sessions"].values())
                print(f"    {kind:<7} one keyholder's session: {sess:,} B")
            if (k, n) == (3, 5):
                by = {x: {r: len(w) for r, w in sizes[x]["rounds"].items()} for x in KINDS}
                worst = max(by["sign"].values())
                session = max(sizes["sign"]["sessions"].values())
                targets = [("signing message", worst, SIZE_TARGETS["message"]),
                           ("signing session", session, SIZE_TARGETS["session"])]
                for x in KINDS[1:]:
                    targets += [(f"{KIND_NAMES[x]} message (not the request)",
                                 max(v for r, v in by[x].items() if r[0] != "request"), SIZE_TARGETS["message"]),
                                (f"{KIND_NAMES[x]} request", by[x][("request", "to keyholders")],
                                 SIZE_TARGETS["request"])]
    print("\nceremony size targets (3-of-5 CT-SIG-02):")
    for what, got, lim in targets:
        met = got <= lim
        ok = ok and met
        print(f"  {what}: {got:,} B (target <= {lim:,}): {'met' if met else 'NOT MET'}")
    print(f"  signing session against version 1 (~{SESSION_V1:,} B): ratio {session / SESSION_V1:.3f}")
    return ok


if __name__ == "__main__":
    code = main()
    message_sizes()
    sys.exit(code)
