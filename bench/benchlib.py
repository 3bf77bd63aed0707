"""Helpers shared by the benchmarks (run as `python bench/NAME.py`, so this imports as `benchlib`)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time

CT = os.path.join(os.path.dirname(sys.executable), "ct")


def run(argv: list[str], env: dict[str, str], cwd: str | None = None, *,
        sync_first: bool = False, cpu: list[float] | None = None) -> tuple[float, int, int, str]:
    """(wall seconds, peak RSS KiB, exit code, stderr) of one child process; its CPU seconds (user +
    system, its children included) are appended to ``cpu``.

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
    if cpu is not None:
        cpu.append(ru.ru_utime + ru.ru_stime)
    return wall, ru.ru_maxrss, p.returncode, err


def write_random(path: str, size: int) -> None:
    chunk = 1 << 20     # small: this process's peak RSS is a floor of every child's ru_maxrss (own_peak_mib)
    with open(path, "wb") as f:
        left = size
        while left:
            n = min(chunk, left)
            f.write(os.urandom(n))
            left -= n


def warm(path: str) -> None:
    """Read a file once so that it is in the page cache for every contender alike."""
    with open(path, "rb", buffering=0) as f:
        buf = bytearray(1 << 20)
        while f.readinto(buf):
            pass


@contextlib.contextmanager
def scratch_env(prefix: str, keep: bool = False):
    """(scratch folder under /tmp, the environment every ct of a benchmark runs in: its home there, cheap
    Argon2id for the bench key, Python's bytecode cache allowed as on an installed system).  The folder
    is removed at the end unless ``keep``."""
    import shutil
    import tempfile

    scratch = tempfile.mkdtemp(prefix=prefix, dir="/tmp")
    env = dict(os.environ, CT_HOME=os.path.join(scratch, "home"), CT_PASSPHRASE="a bench passphrase, not a secret",
               CT_TESTING="1", CT_TEST_ARGON2_MEMORY_KIB="64")
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    try:
        yield scratch, env
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)


def signer_and_policy(scratch: str, env: dict[str, str]):
    """Key 'bench' (CT-SIG-02) in the scratch home, and policy.json pinning it; returns ``ct(*args)``."""
    def ct(*a: str) -> None:
        subprocess.run([CT, *a], env=env, check=True, stdout=subprocess.DEVNULL, cwd=scratch)

    ct("keygen", "--id", "bench", "--suite", "CT-SIG-02")
    ct("key", "export", "bench", "--public", "-o", "bench.pub")
    ct("policy", "init", "--policy", "policy.json", "--key", "bench.pub")
    return ct


def timed(argv: list[str], env: dict[str, str], cwd: str, times: list[float], rss: list[int] | None = None,
          cpu: list[float] | None = None) -> None:
    """One measured run, after an untimed ``sync`` (no run pays for the writeback of another): its wall
    time appended to ``times``, its peak RSS (KiB) to ``rss``, its CPU seconds to ``cpu``; it must exit 0."""
    wall, peak, code, err = run(argv, env, cwd, sync_first=True, cpu=cpu)
    assert code == 0, err
    times.append(wall)
    if rss is not None:
        rss.append(peak)


def own_peak_mib() -> float:
    """This process's peak RSS (VmHWM): Linux keeps it in the ru_maxrss of every child started after
    (vfork + exec), so a child's figure is never below it."""
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024


def median_ms(xs: list[float]) -> str:
    """``median   123.4 ms   runs 120 123 130``"""
    import statistics

    return f"median {statistics.median(xs) * 1000:8.1f} ms   runs " + " ".join(f"{x * 1000:.0f}" for x in xs)
