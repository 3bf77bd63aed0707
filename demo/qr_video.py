"""Make a video of QR frame PNGs, as a camera filming a screen would see them (OpenCV's VideoWriter).

    python demo/qr_video.py FRAMES-DIR -o video.avi [--repeat 2] [--shuffle] [--scale 0.5:0.8]
                            [--blur 1.2] [--noise 10] [--drop 0.2] [--blank 3] [--seed 1]

Each PNG is scaled to a share of the picture's height, placed on a grey
ground, blurred and given noise; ``--repeat`` shows each frame that many
times, ``--drop`` loses that share of the video frames at random, ``--blank``
starts with pictures of the empty screen.  ``.avi`` files are Motion JPEG
(OpenCV's own encoder), ``.mp4`` files MPEG-4 part 2 (FFmpeg).  Used by
``make demo``, ``tests/test_qr_scan.py`` and ``bench/qr_bench.py``.
"""

from __future__ import annotations

import argparse
import os
import random
import sys


def make_video(pngs: list[str], out: str, *, size: tuple[int, int] = (1280, 720), fps: float = 10.0,
               repeat: int = 1, shuffle: bool = False, scale: tuple[float, float] = (0.8, 0.8), blur: float = 0.0,
               noise: float = 0.0, drop: float = 0.0, blank: int = 0, seed: int = 1) -> int:
    """Write the video; return how many video frames it holds."""
    import cv2
    import numpy as np

    rng = random.Random(seed)
    grain = np.random.default_rng(seed)
    order = list(pngs)
    if shuffle:
        rng.shuffle(order)
    shown = [None] * blank + [p for p in order for _ in range(repeat)]
    kept = [p for p in shown if rng.random() >= drop]
    w, h = size
    fourcc = "mp4v" if out.lower().endswith(".mp4") else "MJPG"
    writer = cv2.VideoWriter(out, cv2.VideoWriter_fourcc(*fourcc), fps, size)
    if not writer.isOpened():
        raise SystemExit(f"error: OpenCV cannot write {out}")
    try:
        for p in kept:
            canvas = np.full((h, w), 150, np.uint8)
            if p is not None:
                img = cv2.imread(p, cv2.IMREAD_GRAYSCALE)
                side = int(h * rng.uniform(*scale))
                img = cv2.resize(img, (side, side), interpolation=cv2.INTER_AREA)
                y = rng.randrange(0, h - side + 1)
                x = rng.randrange(0, w - side + 1)
                canvas[y:y + side, x:x + side] = img
            if blur:
                canvas = cv2.GaussianBlur(canvas, (0, 0), blur)
            if noise:
                canvas = np.clip(canvas + grain.normal(0, noise, canvas.shape), 0, 255).astype(np.uint8)
            writer.write(cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR))
    finally:
        writer.release()
    return len(kept)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("frames", help="a folder of frame PNGs (ct qr encode -o)")
    p.add_argument("-o", "--output", required=True, help="the video to write (.avi or .mp4)")
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--shuffle", action="store_true")
    p.add_argument("--scale", default="0.8:0.8", help="share of the height a code takes, MIN:MAX")
    p.add_argument("--blur", type=float, default=0.0)
    p.add_argument("--noise", type=float, default=0.0)
    p.add_argument("--drop", type=float, default=0.0)
    p.add_argument("--blank", type=int, default=0)
    p.add_argument("--seed", type=int, default=1)
    a = p.parse_args(argv)
    pngs = sorted(os.path.join(a.frames, n) for n in os.listdir(a.frames) if n.endswith(".png"))
    lo, _, hi = a.scale.partition(":")
    n = make_video(pngs, a.output, repeat=a.repeat, shuffle=a.shuffle, scale=(float(lo), float(hi or lo)),
                   blur=a.blur, noise=a.noise, drop=a.drop, blank=a.blank, seed=a.seed)
    print(f"wrote {a.output}: {n} video frames of {len(pngs)} QR frames")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
