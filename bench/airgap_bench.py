"""Benchmark `ct export` / `ct import --verify` against tar + openssl, measured in the same run.

    .venv/bin/python bench/airgap_bench.py [--size-mib 1024] [--bundles 4] [--runs 5] [--keep]

Targets (issues 5 and 13), against references that make what they write durable, as ct does:
  * `ct export` of 1 GiB of bundles <= 1.0 x (`tar -cf` of the same files, `sync` of that tar, then
    `openssl dgst -sha256` of it);
  * `ct import --verify` of that tarball <= 1.0 x (`openssl dgst -sha256` of the tarball, `tar -xf`,
    then `sync` of every file and folder tar wrote);
  * peak RSS of both <= 64 MiB.
The same references without the `sync` (what tar and openssl do by default: the data may still be
in the page cache when they exit) are printed on a second line each, for information; so are the
ratios of the best runs and the CPU seconds (user + system) of ct and of the durable references.

Method: `--bundles` bundles of random payload, `--size-mib` in all, are packed and signed
(CT-SIG-02: Ed25519 + ML-DSA-87, stock-tool signatures) in a scratch folder under /tmp, with a
policy pinning the signer's key.  Everything is read once so that every tool starts from a warm
page cache.  Then, `--runs` times, in turn: the export references (durable: `tar -cf ref.tar
BUNDLES && sync ref.tar && openssl dgst -sha256 ref.tar`; plain: the same without `sync`) and
`ct export BUNDLES -o airgap.tar --include-keys --policy P`; the import references (durable:
`openssl dgst -sha256 airgap.tar && tar -xf airgap.tar -C DIR && find DIR | xargs sync`; plain:
without the `sync`) and `ct --home FRESH import airgap.tar --verify --policy P`.  Each is one child process (the
references one `sh -c`); wall time is the median; peak RSS is the child's ru_maxrss (os.wait4).
Outputs are removed between runs (ref.tar, the extracted folder, the last run's airgap.tar and
host home), untimed, and `sync` runs before each timed command, outside the timing.

What ct does beyond the durable references: it verifies every bundle (signatures, chain/key trust,
policy, and a second sha256 of every payload file, computed from the same buffers as the index's
sha256 of the bundle, at the same time) and checks every member against the index.  The load average
at the start and the end is printed: on a shared machine the CPU seconds say more than wall times.
Everything is removed at the end unless --keep.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
from benchlib import CT, median_ms, own_peak_mib, scratch_env, signer_and_policy, timed, warm, write_random  # noqa: E402


def load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size-mib", type=int, default=1024, help="payload of all bundles together")
    ap.add_argument("--bundles", type=int, default=4)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = ap.parse_args()
    for tool in ("openssl", "tar"):
        if shutil.which(tool) is None:
            print(f"{tool} is not installed", file=sys.stderr)
            return 30
    load_at_start = load()
    with scratch_env("ct-airgap-bench-", args.keep) as (scratch, env):
        ct = signer_and_policy(scratch, env)
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
        tar_cf = "tar -cf ref.tar " + " ".join(names)
        ref_export = ["sh", "-c", f"{tar_cf} && sync ref.tar && openssl dgst -sha256 ref.tar"]
        ref_export_plain = ["sh", "-c", f"{tar_cf} && openssl dgst -sha256 ref.tar"]
        tar_xf = "openssl dgst -sha256 airgap.tar && mkdir -p x && tar -xf airgap.tar -C x"
        ref_import = ["sh", "-c", f"{tar_xf} && find x -print0 | xargs -0 sync"]
        ref_import_plain = ["sh", "-c", tar_xf]

        # unmeasured first runs: bytecode cache, and the tarball the import runs read
        timed(export_argv, env, scratch, [])
        timed([CT, "--home", os.path.join(scratch, "host0"), "import", tarball, "--verify", "--policy", "policy.json"],
              env, scratch, [])
        shutil.rmtree(os.path.join(scratch, "host0"))

        rx, rxp, cx, ri, rip, ci, rss_x, rss_i = [], [], [], [], [], [], [], []
        cpu: dict[str, list[float]] = {k: [] for k in ("rx", "cx", "ri", "ci")}
        for i in range(args.runs):
            for argv, times, c in ((ref_export, rx, cpu["rx"]), (ref_export_plain, rxp, None)):
                timed(argv, env, scratch, times, cpu=c)
                os.unlink(os.path.join(scratch, "ref.tar"))
            os.unlink(tarball)   # as ref.tar is: no run pays for freeing the blocks of the last one's output
            timed(export_argv, env, scratch, cx, rss_x, cpu["cx"])
            for argv, times, c in ((ref_import, ri, cpu["ri"]), (ref_import_plain, rip, None)):
                timed(argv, env, scratch, times, cpu=c)
                shutil.rmtree(os.path.join(scratch, "x"))
            host = os.path.join(scratch, f"host{i + 1}")
            timed([CT, "--home", host, "import", tarball, "--verify", "--policy", "policy.json"], env, scratch,
                  ci, rss_i, cpu["ci"])
            shutil.rmtree(host)

        ex = statistics.median(cx) / statistics.median(rx)
        im = statistics.median(ci) / statistics.median(ri)
        ex_plain = statistics.median(cx) / statistics.median(rxp)
        im_plain = statistics.median(ci) / statistics.median(rip)
        px, pi = max(rss_x) / 1024, max(rss_i) / 1024

        print(f"bundles: {args.bundles}, {total / (1 << 20):.1f} MiB in all (packed and signed in {pack_s:.1f} s); "
              f"{args.runs} runs each, warm page cache, {os.cpu_count()} CPUs; load average {load_at_start} at "
              f"the start, {load()} at the end")
        print(f"tar -cf + sync + openssl dgst   {median_ms(rx)}")
        print(f"tar -cf + openssl dgst (no sync) {median_ms(rxp)}")
        print(f"ct export --include-keys        {median_ms(cx)}")
        print(f"openssl dgst + tar -xf + sync   {median_ms(ri)}")
        print(f"openssl dgst + tar -xf (no sync) {median_ms(rip)}")
        print(f"ct import --verify              {median_ms(ci)}")
        ok = ex <= 1.0 and im <= 1.0 and px <= 64 and pi <= 64
        print(f"ratio export / durable reference  {ex:.3f}   (target <= 1.0)  {'PASS' if ex <= 1.0 else 'FAIL'}")
        print(f"ratio export / plain reference    {ex_plain:.3f}   (information: the reference does not fsync)")
        print(f"ratio import / durable reference  {im:.3f}   (target <= 1.0)  {'PASS' if im <= 1.0 else 'FAIL'}")
        print(f"ratio import / plain reference    {im_plain:.3f}   (information: the reference does not fsync)")
        print(f"best runs, for information (a shared machine's load only adds time): export {min(cx) / min(rx):.3f}, "
              f"import {min(ci) / min(ri):.3f} x the durable references")
        med = {k: statistics.median(v) for k, v in cpu.items()}
        print(f"CPU seconds (user + system), medians, for information: export {med['cx']:.2f} vs durable reference "
              f"{med['rx']:.2f} ({med['cx'] / med['rx']:.2f} x); import {med['ci']:.2f} vs {med['ri']:.2f} "
              f"({med['ci'] / med['ri']:.2f} x)")
        print(f"peak RSS ct export              {px:.1f} MiB   (target <= 64 MiB)  {'PASS' if px <= 64 else 'FAIL'}")
        print(f"peak RSS ct import              {pi:.1f} MiB   (target <= 64 MiB)  {'PASS' if pi <= 64 else 'FAIL'}")
        print(f"(this bench's own peak RSS, a floor of every child's: {own_peak_mib():.1f} MiB)")
        return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
