"""Helpers shared by the benchmarks (run as `python bench/NAME.py`, so this imports as `benchlib`)."""

from __future__ import annotations

import os
import subprocess
import sys
import time

CT = os.path.join(os.path.dirname(sys.executable), "ct")


def run(argv: list[str], env: dict[str, str], cwd: str | None = None, *,
        sync_first: bool = False) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS KiB, exit code, stderr) of one child process.

    With ``sync_first`` dirty pages of earlier steps are written out first (untimed), so that
    no run pays for the writeback of another."""
    if sync_first:
        os.sync()
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env, cwd=cwd)
    err = p.stderr.read().decode(errors="replace") if p.stderr else ""
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    if p.stderr:
        p.stderr.close()
    p.returncode = os.waitstatus_to_exitcode(status)
    return wall, ru.ru_maxrss, p.returncode, err


def write_random(path: str, size: int) -> None:
    chunk = 16 << 20
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def warm(path: str) -> None:
    """Read a file once so that it is in the page cache for every contender alike."""
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(8 << 20)
        while f.readinto(buf):
            pass
