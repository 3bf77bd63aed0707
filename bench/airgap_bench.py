"""Benchmark `ct export` / `ct import --verify` against tar + openssl, measured in the same run.

    .venv/bin/python bench/airgap_bench.py [--size-mib 1024] [--bundles 4] [--runs 3] [--keep]

Targets (issue 5):
  * `ct export` of 1 GiB of bundles <= 1.0 x (`tar -cf` of the same files, then `openssl dgst -sha256`
    of that tar);
  * `ct import --verify` of that tarball <= 1.0 x (`openssl dgst -sha256` of the tarball, then
    `tar -xf`);
  * peak RSS of both <= 64 MiB.

Method: `--bundles` bundles of random payload, `--size-mib` in all, are packed and signed
(CT-SIG-02: Ed25519 + ML-DSA-87, stock-tool signatures) in a scratch folder under /tmp, with a
policy pinning the signer's key.  Everything is read once so that every tool starts from a warm
page cache.  Then, `--runs` times, alternately: the export reference (`tar -cf ref.tar BUNDLES &&
openssl dgst -sha256 ref.tar`) and `ct export BUNDLES -o airgap.tar --include-keys --policy P`; the
import reference (`openssl dgst -sha256 airgap.tar && tar -xf airgap.tar -C DIR`) and
`ct --home FRESH import airgap.tar --verify --policy P`.  Each is one child process (the
references one `sh -c`); wall time is the median; peak RSS is the child's ru_maxrss (os.wait4).
Outputs are removed between runs, and `sync` runs before each timed command, outside the timing.

What ct does beyond the references: it fsyncs what it writes (the tarball; every staged file and
the store index), verifies every bundle (signatures, chain/key trust, policy, and a second sha256 of
every payload file) and checks every member against the index -- the references do neither.
Everything is removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import functools
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
from benchlib import CT, warm, write_random  # noqa: E402
from benchlib import run as _run  # noqa: E402

run = functools.partial(_run, sync_first=True)  # no run pays for the writeback of another


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024, help="payload of all bundles together")
    ap.add_argument("--bundles", type=int, default=4)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    for tool in ("openssl", "tar"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 30
    scratch = tempfile.mkdtemp(prefix="ct-airgap-bench-", dir="/tmp")
    env = dict(os.environ, CT_HOME=os.path.join(scratch, "home"), CT_PASSPHRASE="a bench passphrase, not a secret",
               CT_TESTING="1", CT_TEST_ARGON2_MEMORY_KIB="64")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        def ct(*a: str) -> None:
            subprocess.run([CT, *a], env=env, check=True, stdout=subprocess.DEVNULL, cwd=scratch)

        ct("keygen", "--id", "bench", "--suite", "CT-SIG-02")
        ct("key", "export", "bench", "--public", "-o", "bench.pub")
        ct("policy", "init", "--policy", "policy.json", "--key", "bench.pub")
        per = (args.size_mib << 20) // args.bundles
        names = []
        t0 = time.perf_counter()
        print(f"packing {args.bundles} bundles of {per >> 20} MiB of random payload ...", flush=True)
        for i in range(args.bundles):
            payload = os.path.join(scratch, f"payload-{i}.bin")
            write_random(payload, per)
            name = f"release-{i}.ctp"
            ct("pack", payload, "-o", name, "--key", "bench", "--name", f"bench-{i}", "--version", "1")
            os.unlink(payload)
            names.append(name)
        pack_s = time.perf_counter() - t0
        total = sum(os.path.getsize(os.path.join(scratch, n)) for n in names)
        for n in names:
            warm(os.path.join(scratch, n))
        tarball = os.path.join(scratch, "airgap.tar")
        export_argv = [CT, "export", *names, "-o", tarball, "--include-keys", "--policy", "policy.json"]
        ref_export = ["sh", "-c", "tar -cf ref.tar " + " ".join(names) + " && openssl dgst -sha256 ref.tar"]
        ref_import = ["sh", "-c", "openssl dgst -sha256 airgap.tar && mkdir -p x && tar -xf airgap.tar -C x"]

        # unmeasured first runs: bytecode cache, and the tarball the import runs read
        w, _, code, err = run(export_argv, env, scratch)
        assert code == 0, err
        w, _, code, err = run([CT, "--home", os.path.join(scratch, "host0"), "import", tarball, "--verify",
                               "--policy", "policy.json"], env, scratch)
        assert code == 0, err
        shutil.rmtree(os.path.join(scratch, "host0"))

        rx, cx, ri, ci, rss_x, rss_i = [], [], [], [], [], []
        for i in range(args.runs):
            w, _r, code, err = run(ref_export, env, scratch)
            assert code == 0, err
            rx.append(w)
            os.unlink(os.path.join(scratch, "ref.tar"))
            w, r, code, err = run(export_argv, env, scratch)
            assert code == 0, err
            cx.append(w)
            rss_x.append(r)
            w, _r, code, err = run(ref_import, env, scratch)
            assert code == 0, err
            ri.append(w)
            shutil.rmtree(os.path.join(scratch, "x"))
            host = os.path.join(scratch, f"host{i + 1}")
            w, r, code, err = run([CT, "--home", host, "import", tarball, "--verify", "--policy", "policy.json"],
                                  env, scratch)
            assert code == 0, err
            ci.append(w)
            rss_i.append(r)
            shutil.rmtree(host)

        ex = statistics.median(cx) / statistics.median(rx)
        im = statistics.median(ci) / statistics.median(ri)
        px, pi = max(rss_x) / 1024, max(rss_i) / 1024

        def ms(xs: list[float]) -> str:
            return f"median {statistics.median(xs) * 1000:8.1f} ms   runs " + " ".join(f"{x * 1000:.0f}" for x in xs)

        print(f"bundles: {args.bundles}, {total / (1 << 20):.1f} MiB in all (packed and signed in {pack_s:.1f} s); "
              f"{args.runs} runs each, warm page cache, {os.cpu_count()} CPUs")
        print(f"tar -cf + openssl dgst          {ms(rx)}")
        print(f"ct export --include-keys        {ms(cx)}")
        print(f"openssl dgst + tar -xf          {ms(ri)}")
        print(f"ct import --verify              {ms(ci)}")
        ok = ex <= 1.0 and im <= 1.0 and px <= 64 and pi <= 64
        print(f"ratio export / reference        {ex:.3f}   (target <= 1.0)  {'PASS' if ex <= 1.0 else 'FAIL'}")
        print(f"ratio import / reference        {im:.3f}   (target <= 1.0)  {'PASS' if im <= 1.0 else 'FAIL'}")
        print(f"peak RSS ct export              {px:.1f} MiB   (target <= 64 MiB)  {'PASS' if px <= 64 else 'FAIL'}")
        print(f"peak RSS ct import              {pi:.1f} MiB   (target <= 64 MiB)  {'PASS' if pi <= 64 else 'FAIL'}")
        return 0 if ok else 1
    finally:
        if args.keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
