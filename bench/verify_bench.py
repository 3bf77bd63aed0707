"""Benchmark `ct verify` against `openssl dgst -sha256`, measured in the same run.

    .venv/bin/python bench/verify_bench.py [--size-mib 1024] [--runs 5] [--keep]

Targets (issue 3):
  * `ct verify` of a 1 GiB bundle: wall time <= 1.10 x `openssl dgst -sha256` of the same file;
    peak RSS <= 64 MiB;
  * `ct verify` of a small bundle: <= 250 ms wall.

Method: a payload of random bytes is packed and signed (CT-SIG-02: Ed25519 + ML-DSA-87, with
stock-tool signatures) in a scratch folder under /tmp; the bundle is read once so both tools
start from a warm page cache; then `openssl dgst -sha256 BUNDLE` and `ct verify BUNDLE` run
alternately, each as a child process, `--runs` times.  Wall time is the median; peak RSS is the
child's ru_maxrss (os.wait4).  Python's bytecode cache is allowed (as on an installed
system) and warmed by one unmeasured run.  Everything is removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
from benchlib import CT, run, warm, write_random  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    if shutil.which("openssl") is None:
        print("openssl is not installed", file=sys.stderr)
        return 30
    scratch = tempfile.mkdtemp(prefix="ct-verify-bench-", dir="/tmp")
    env = dict(os.environ, CT_HOME=os.path.join(scratch, "home"), CT_PASSPHRASE="a bench passphrase, not a secret",
               CT_TESTING="1", CT_TEST_ARGON2_MEMORY_KIB="64")
    # as installed: Python may cache bytecode (some sandboxes set PYTHONDONTWRITEBYTECODE)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        def ct(*a: str) -> None:
            subprocess.run([CT, *a], env=env, check=True, stdout=subprocess.DEVNULL)

        ct("keygen", "--id", "bench", "--suite", "CT-SIG-02")
        size = args.size_mib << 20
        payload = os.path.join(scratch, "payload.bin")
        print(f"writing {args.size_mib} MiB of random payload ...", flush=True)
        write_random(payload, size)
        big = os.path.join(scratch, "big.ctp")
        t0 = time.perf_counter()
        ct("pack", payload, "-o", big, "--key", "bench", "--name", "bench", "--version", "1")
        pack_s = time.perf_counter() - t0
        os.unlink(payload)
        small_src = os.path.join(scratch, "small.txt")
        with open(small_src, "wb") as f:
            f.write(b"small release\n" * 64)
        small = os.path.join(scratch, "small.ctp")
        ct("pack", small_src, "-o", small, "--key", "bench")
        warm(big)
        run([CT, "verify", small], env)   # first run writes the bytecode cache; not measured

        ossl, ctv = [], []
        rss = []
        for _ in range(args.runs):
            w, _r, code, err = run(["openssl", "dgst", "-sha256", big], env)
            assert code == 0, err
            ossl.append(w)
            w, r, code, err = run([CT, "verify", big], env)
            assert code == 0, err
            ctv.append(w)
            rss.append(r)
        small_runs = []
        for _ in range(max(args.runs, 5)):
            w, _r, code, err = run([CT, "verify", small], env)
            assert code == 0, err
            small_runs.append(w)

        o, c = statistics.median(ossl), statistics.median(ctv)
        ratio = c / o
        peak_mib = max(rss) / 1024
        sm = statistics.median(small_runs)
        bundle_mib = os.path.getsize(big) / (1 << 20)
        print(f"bundle: {bundle_mib:.1f} MiB (packed and signed in {pack_s:.1f} s), {args.runs} runs each, "
              f"warm page cache, {os.cpu_count()} CPUs")
        print(f"openssl dgst -sha256   median {o * 1000:8.1f} ms   runs " + " ".join(f"{x * 1000:.0f}" for x in ossl))
        print(f"ct verify (1 GiB)      median {c * 1000:8.1f} ms   runs " + " ".join(f"{x * 1000:.0f}" for x in ctv))
        print(f"ratio ct/openssl       {ratio:.3f}   (target <= 1.10)  {'PASS' if ratio <= 1.10 else 'FAIL'}")
        print(f"peak RSS of ct verify  {peak_mib:.1f} MiB   (target <= 64 MiB)  {'PASS' if peak_mib <= 64 else 'FAIL'}")
        print(f"ct verify (small)      median {sm * 1000:8.1f} ms   (target <= 250 ms)  "
              f"{'PASS' if sm <= 0.250 else 'FAIL'}   runs " + " ".join(f"{x * 1000:.0f}" for x in small_runs))
        return 0 if ratio <= 1.10 and peak_mib <= 64 and sm <= 0.250 else 1
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
