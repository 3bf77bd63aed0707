"""Benchmark `ct pack`, `ct verify`, `ct verify --json`, `ct export` and `ct import --verify` of bundles of
many small files.

    .venv/bin/python bench/manyfiles_bench.py [--counts 10000,100000] [--runs 3] [--keep]

Targets (issue 13), for every file count:
  * `ct verify` <= 1.5 x (`tar -xf` of the bundle, then `sha256sum` of the files it extracted),
    measured in the same run;
  * peak RSS <= 64 MiB for `ct pack`, `ct verify` (also with --json), `ct export` and
    `ct import --verify`, and flat: with several counts, each command's peak RSS at the largest
    count at most 4 MiB above its figure at the smallest (`--counts 10000,100000,300000 --runs 1`
    shows it at 300,000 files).

Method: for each count, a folder of that many small source-like files (text lines of Python
keywords, 20 B to ~10 KB, about 770 B on average; 100 files a folder, paths like
`src/pkg03/mod41/file_034117.py`; made from a fixed seed, so every run packs the same bytes) is
written under /tmp and packed and signed (CT-SIG-02: Ed25519 + ML-DSA-87, stock-tool signatures)
by `ct pack` with its defaults -- an SPDX SBOM and SLSA provenance attestation, each an in-toto
statement naming every file, as the release statement does (the SBOM lists the files up to 10,000) --
once (its wall time and peak RSS are printed).  The bundle is read once so every tool starts from a
warm page cache.  Then, `--runs` times, in turn: the reference (`tar -xf BUNDLE -C DIR`, then
`find DIR -type f -print0 | xargs -0 sha256sum`, two child processes whose times are added),
`ct verify BUNDLE`, `ct --json verify BUNDLE` (its output to /dev/null), `ct export BUNDLE -o
airgap.tar --include-keys --policy P` and `ct --home FRESH import airgap.tar --verify --policy P`
(P pins the signer's key).  Wall time is the median; peak RSS is the child's ru_maxrss (os.wait4).
Linux carries the high-water mark of the process image before exec into a child's ru_maxrss, so a
child's figure is never below this bench's own peak RSS, which is printed too (it stays far below).
`sync` runs before each timed command, outside the timing, so no run pays for the writeback of
another.  Everything is removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import random
import shutil
import statistics
import sys
import time

from benchlib import CT, median_ms, own_peak_mib, run, scratch_env, signer_and_policy, timed, warm  # noqa: E402
WORDS = ("def class return import from self None True False if else for in while with as try except raise "
         "yield lambda value result data index name path size count items config parse write read").split()


def make_tree(root: str, count: int, seed: int = 1) -> int:
    """``count`` source-like files under ``root``; returns their total size."""
    rnd = random.Random(seed)
    words = [w.encode() for w in WORDS]
    total = 0
    for i in range(count):
        folder = os.path.join(root, "src", f"pkg{i // 10000:02d}", f"mod{(i // 100) % 100:02d}")
        if i % 100 == 0:
            os.makedirs(folder, exist_ok=True)
        n = int(rnd.lognormvariate(6.3, 0.8)) + 20
        lines, size = [], 0
        while size < n:
            line = b" ".join(rnd.choice(words) for _ in range(rnd.randint(2, 9))) + b"\n"
            lines.append(line)
            size += len(line)
        data = b"".join(lines)[:n]
        with open(os.path.join(folder, f"file_{i:06d}.py"), "wb") as f:
            f.write(data)
        total += len(data)
    return total


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--counts", default="10000,100000", help="file counts, comma-separated")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    for tool in ("tar", "sha256sum", "find", "xargs"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 30
    counts = [int(c) for c in args.counts.split(",")]
    ok = True
    peaks: dict[int, dict[str, float]] = {}
    with scratch_env("ct-manyfiles-bench-", args.keep) as (scratch, env):
        signer_and_policy(scratch, env)
        print(f"{os.cpu_count()} CPUs, load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the start; "
              f"{args.runs} runs each, warm page cache; medians")
        for count in counts:
            good, peaks[count] = bench_count(scratch, env, count, args.runs)
            ok &= good
        if len(counts) > 1:
            ok &= print_flat(peaks)
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} at the end; this bench's own peak "
              f"RSS {own_peak_mib():.1f} MiB (a floor of every child's figure)")
    return 0 if ok else 1


def print_flat(peaks: dict[int, dict[str, float]]) -> bool:
    """Peak RSS of each command at every count, and how much it grew from the smallest count to the
    largest (target: at most FLAT_MIB -- memory does not follow the number of files)."""
    lo, hi = min(peaks), max(peaks)
    print(f"\npeak RSS (MiB) by file count; growth from {lo} to {hi} files (target <= {FLAT_MIB} MiB)")
    print("  " + " " * 16 + "".join(f"{c:>10}" for c in sorted(peaks)) + "    growth")
    good = True
    for what in peaks[lo]:
        grew = peaks[hi][what] - peaks[lo][what]
        good &= grew <= FLAT_MIB
        print(f"  ct {what:<13}" + "".join(f"{peaks[c][what]:10.1f}" for c in sorted(peaks))
              + f"  {grew:+7.1f}  {'PASS' if grew <= FLAT_MIB else 'FAIL'}")
    return good


FLAT_MIB = 4


def bench_count(scratch: str, env: dict[str, str], count: int, runs: int) -> tuple[bool, dict[str, float]]:
    tree = os.path.join(scratch, f"tree-{count}")
    t0 = time.perf_counter()
    total = make_tree(tree, count)
    made = time.perf_counter() - t0
    bundle = os.path.join(scratch, f"many-{count}.ctp")
    pack_s, pack_rss = [], []
    timed([CT, "pack", tree, "-o", bundle, "--key", "bench", "--name", "many", "--version", "1"], env, scratch,
          pack_s, pack_rss)
    shutil.rmtree(tree)
    warm(bundle)
    tarball = os.path.join(scratch, "airgap.tar")
    x = os.path.join(scratch, "x")
    run([CT, "verify", bundle], env, scratch)   # bytecode cache; not measured
    ref_tar, ref_sha, cv, cj, cx, ci = [], [], [], [], [], []
    rss_v, rss_j, rss_x, rss_i = [], [], [], []
    for i in range(runs):
        os.mkdir(x)
        timed(["tar", "-xf", bundle, "-C", x], env, scratch, ref_tar)
        timed(["sh", "-c", "find payload -type f -print0 | xargs -0 sha256sum > /dev/null"], env, x, ref_sha)
        shutil.rmtree(x)
        timed([CT, "verify", bundle], env, scratch, cv, rss_v)
        timed([CT, "--json", "verify", bundle], env, scratch, cj, rss_j)
        timed([CT, "export", bundle, "-o", tarball, "--include-keys", "--policy", "policy.json"], env, scratch,
              cx, rss_x)
        host = os.path.join(scratch, f"host{i}")
        timed([CT, "--home", host, "import", tarball, "--verify", "--policy", "policy.json"], env, scratch, ci, rss_i)
        shutil.rmtree(host)
        os.unlink(tarball)
    ref = statistics.median([a + b for a, b in zip(ref_tar, ref_sha)])
    ratio = statistics.median(cv) / ref
    mib = {"pack": pack_rss[0] / 1024, "verify": max(rss_v) / 1024, "verify --json": max(rss_j) / 1024,
           "export": max(rss_x) / 1024, "import": max(rss_i) / 1024}

    print(f"\n{count} files, {total / (1 << 20):.1f} MiB ({made:.1f} s to write); bundle "
          f"{os.path.getsize(bundle) / (1 << 20):.1f} MiB")
    print(f"  ct pack, SBOM + provenance (once) {pack_s[0] * 1000:8.0f} ms   peak RSS {mib['pack']:.1f} MiB")
    print(f"  tar -xf                        {median_ms(ref_tar)}")
    print(f"  sha256sum of the files         {median_ms(ref_sha)}")
    print(f"  ct verify                      {median_ms(cv)}")
    print(f"  ct --json verify               {median_ms(cj)}")
    print(f"  ct export --include-keys       {median_ms(cx)}")
    print(f"  ct import --verify             {median_ms(ci)}")
    good = ratio <= 1.5
    print(f"  ratio verify / (tar -xf + sha256sum)  {ratio:.3f}   (target <= 1.5)  {'PASS' if good else 'FAIL'}")
    for what, v in mib.items():
        print(f"  peak RSS ct {what:<13}      {v:5.1f} MiB   (target <= 64 MiB)  {'PASS' if v <= 64 else 'FAIL'}")
        good &= v <= 64
    os.unlink(bundle)
    return good, mib


if __name__ == "__main__":
    sys.exit(main())
