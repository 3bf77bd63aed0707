"""Run the fuzz targets of ``fuzz/targets.py`` under atheris (coverage-guided, libFuzzer).

    python fuzz/run.py [--seconds N] [TARGET ...]      every target (or those named), N seconds each,
                                                        one after the other; exit 1 on any finding
    python fuzz/run.py --runs N [TARGET ...]           the same, N executions each (no time limit)
    python fuzz/run.py --one TARGET [libFuzzer args]   one target in this process (what the above runs)

Each target starts from its committed corpus ``fuzz/corpus/<target>/`` (seeds and regression inputs)
and grows a working corpus in ``fuzz/.work/<target>/`` (not committed).  A finding is written to
``fuzz/findings/<target>-crash-<sha1>``: move it to ``fuzz/corpus/<target>/regress-<what>`` once fixed,
and ``make test`` runs it from then on (``tests/test_fuzz_regressions.py``).
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
# libFuzzer dictionaries: tokens that let mutations change a value's type or a field's name
DICTS = {"manifest": "toml.dict", "tar": None, "airgap_tar": None, "qr": None}


def one(target: str, libfuzzer_args: list[str]) -> None:
    import atheris

    sys.path.insert(0, HERE)
    with atheris.instrument_imports(include=["cerro_torre", "tomllib"]):
        import tomllib  # noqa: F401 - pure Python: instrumented too
        import targets
    if target not in targets.TARGETS:
        raise SystemExit(f"unknown target {target!r}; targets: {', '.join(targets.TARGETS)}")

    def test_one(data: bytes) -> None:
        targets.run(target, data)

    work = os.path.join(HERE, ".work", target)
    os.makedirs(work, exist_ok=True)
    os.makedirs(os.path.join(HERE, "findings"), exist_ok=True)
    argv = [sys.argv[0], f"-artifact_prefix={os.path.join(HERE, 'findings', target)}-",
            "-print_final_stats=1", "-rss_limit_mb=4096", "-timeout=60", "-max_len=262144",
            *([f"-dict={os.path.join(HERE, DICTS.get(target, 'json.dict'))}"] if DICTS.get(target, 1) else []),
            *libfuzzer_args, work, os.path.join(HERE, "corpus", target)]
    atheris.Setup(argv, test_one)
    atheris.Fuzz()


def run_all(names: list[str], seconds: int, runs: int = 0) -> int:
    sys.path.insert(0, HERE)
    import targets

    names = names or list(targets.TARGETS)
    rows = []
    failed = []
    for t in names:
        t0 = time.monotonic()
        limit = f"-runs={runs}" if runs else f"-max_total_time={seconds}"
        p = subprocess.run([sys.executable, __file__, "--one", t, limit],
                           capture_output=True, text=True, errors="replace")
        log = p.stdout + p.stderr
        with open(os.path.join(HERE, ".work", f"{t}.log"), "w") as f:
            f.write(log)
        m = re.search(r"stat::number_of_executed_units: (\d+)", log)
        execs = int(m.group(1)) if m else 0
        took = time.monotonic() - t0
        ok = p.returncode == 0
        rows.append((t, execs, execs / max(took, 1e-9), "ok" if ok else f"FINDING (exit {p.returncode})"))
        print(f"{t:<13} {execs:>10} execs  {execs / max(took, 1e-9):>8.0f}/s  {rows[-1][3]}", flush=True)
        if not ok:
            failed.append(t)
            tail = [x for x in log.splitlines() if "Finding" in x or "Error" in x or "artifact" in x][-8:]
            print("    " + "\n    ".join(tail), flush=True)
    if failed:
        print(f"findings in: {', '.join(failed)} (inputs in fuzz/findings/, logs in fuzz/.work/<target>.log)")
        return 1
    print(f"no findings: {len(rows)} targets, {sum(r[1] for r in rows)} executions")
    return 0


def main() -> int:
    if len(sys.argv) > 2 and sys.argv[1] == "--one":
        one(sys.argv[2], sys.argv[3:])
        return 0
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--seconds", type=int, default=60)
    ap.add_argument("--runs", type=int, default=0, help="executions per target instead of a time limit")
    ap.add_argument("targets", nargs="*")
    a = ap.parse_args()
    os.makedirs(os.path.join(HERE, ".work"), exist_ok=True)
    return run_all(a.targets, a.seconds, a.runs)


if __name__ == "__main__":
    sys.exit(main())
