"""`ct --help` start-up time against the bare interpreter's, measured in the same run.

Target (issue 2): `ct --help` starts in under 150 ms (heavy modules are imported lazily).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CT = os.path.join(os.path.dirname(sys.executable), "ct")
RUNS = 15


def median_ms(argv: list[str]) -> float:
    times = []
    for _ in range(RUNS):
        t0 = time.perf_counter()
        subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
        times.append((time.perf_counter() - t0) * 1000)
    return statistics.median(times)


def main() -> None:
    if not os.path.exists(CT):
        sys.exit(f"no ct next to {sys.executable}; run 'make setup' and use .venv/bin/python")
    bare = median_ms([sys.executable, "-c", "pass"])
    helpt = median_ms([CT, "--help"])
    version = median_ms([CT, "version"])
    print(f"{'command':<28}{'median ms':>10}{'x python -c pass':>18}")
    print(f"{'python -c pass (reference)':<28}{bare:>10.1f}{1.0:>18.2f}")
    print(f"{'ct --help':<28}{helpt:>10.1f}{helpt / bare:>18.2f}")
    print(f"{'ct version':<28}{version:>10.1f}{version / bare:>18.2f}")
    print(f"target: ct --help < 150 ms: {'met' if helpt < 150 else 'NOT met'} ({helpt:.1f} ms)")


if __name__ == "__main__":
    main()
