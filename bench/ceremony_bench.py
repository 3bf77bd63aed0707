"""Ceremony benchmark: a 3-of-5 DKG plus one release signing, all of it, in memory.

What is timed is everything the coordinator and the five keyholder homes do
(tests/ceremony_sim.py drives it): building, serializing and parsing every
message as it crosses, every check, FROST DKG and signing, ML-DSA-87
signatures and their verification, sealing/opening the secrets between
rounds, the homes' files.  Identity keys exist before a ceremony and are made
outside the timing.

Argon2id is NOT part of the 1 s target: it is timed separately (every call is
wrapped), at the cheapest parameters the tests allow (t=1, m=256 KiB), and
the same number of calls is then priced at the production parameters from a
measured call.  The directory fsyncs are reported apart too (they are I/O,
not computation).  Printed:

  * per phase: total, Argon2id, fsync, and the rest (computation) against
    the 1 s target, as a ratio;
  * a same-run reference: one ML-DSA-87 sign + verify and one FROST
    sign, so the figures can be placed on other machines;
  * QR frames (the fewest: offline.qr.Encoder's parts, max version 25, error correction M) for each
    reply type of a signing ceremony, with and without the stock-tool forms,
    and for the DKG replies and coordinator messages.

Usage: .venv/bin/python bench/ceremony_bench.py [--quick] [--disk]
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
try:
    from cerro_torre.keys import keyfile
except ImportError:  # not installed here: rerun with the checkout's venv
    _venv_python = ROOT / ".venv" / "bin" / "python"
    if _venv_python.exists() and Path(sys.prefix).resolve() != _venv_python.parents[1].resolve():
        os.execv(str(_venv_python), [str(_venv_python), *sys.argv])
    sys.exit("cerro_torre is not installed: run `make setup`")

sys.path.insert(0, str(ROOT / "tests"))
from ceremony_sim import PASS, WEAK, Sim, collect, cross  # noqa: E402

from cerro_torre.ceremony import keygen, signing  # noqa: E402
from cerro_torre.ceremony.message import Message  # noqa: E402
from cerro_torre.ceremony.protocol import replies_in  # noqa: E402
from cerro_torre.ceremony.statement import make_statement  # noqa: E402
from cerro_torre.offline import qr  # noqa: E402

TARGET_S = 1.0
NAMES = ["alice", "bob", "carol", "dave", "erin"]
SIGNERS = ["alice", "carol", "erin"]
K = 3
QR_VERSION, QR_EC = 25, "M"


class Meter:
    """Wraps Argon2id and fsync, accumulating their time and calls."""

    def __init__(self) -> None:
        self.argon2_ns = self.fsync_ns = 0
        self.argon2_calls = self.fsync_calls = 0
        self._argon2 = keyfile.argon2id_raw
        self._fsync = os.fsync

    def __enter__(self) -> Meter:
        def argon2(*a, **kw):
            t = time.perf_counter_ns()
            try:
                return self._argon2(*a, **kw)
            finally:
                self.argon2_ns += time.perf_counter_ns() - t
                self.argon2_calls += 1

        def fsync(fd):
            t = time.perf_counter_ns()
            try:
                return self._fsync(fd)
            finally:
                self.fsync_ns += time.perf_counter_ns() - t
                self.fsync_calls += 1

        keyfile.argon2id_raw = argon2
        os.fsync = fsync
        return self

    def __exit__(self, *exc) -> None:
        keyfile.argon2id_raw = self._argon2
        os.fsync = self._fsync


class Recorder:
    """Drives the ceremonies through the simulator and keeps every message that crossed."""

    def __init__(self, sim: Sim) -> None:
        self.sim = sim
        self.replies: dict[tuple[str, str], list[bytes]] = {}    # (kind, round) -> wire forms
        self.bulletins: dict[tuple[str, str], bytes] = {}

    def step(self, name: str, msg: Message) -> Message:
        kh = self.sim.holders[name]
        reply = cross(kh.answer(kh.prepare(cross(msg)), PASS))
        self.replies.setdefault((reply.kind, reply.round), []).append(reply.to_bytes())
        return reply

    def collect(self, msg: Message, replies: list[Message]):
        self.bulletins[(msg.kind, msg.round)] = msg.to_bytes()
        return collect(cross(msg), replies)

    def dkg(self, name: str):
        msg = keygen.open_keygen(name, [self.sim.publics[n] for n in NAMES], K)
        while isinstance(msg, Message):
            if msg.round == "package":
                s = msg.payload["signers"]
                who = sorted(set(s["new"]) | set(s["old"]))
            else:
                who = NAMES
            msg = self.collect(msg, [self.step(n, msg) for n in who])
        self.sim.keep_record(msg, NAMES)       # the record reaches the homes: signing requests name it
        return msg

    def sign(self, record, statement: bytes, stock: bool):
        msg = signing.open_sign(statement, [record], SIGNERS, stock=stock)
        who = SIGNERS
        while isinstance(msg, Message):
            replies = [self.step(n, msg) for n in who]
            out = self.collect(msg, replies)
            if isinstance(out, Message) and out.round == "package":
                who = sorted(r.sender for r in replies_in(out))
            msg = out
        return msg


def statement() -> bytes:
    subjects = [(f"payload/file-{i:02d}.bin", os.urandom(32).hex()) for i in range(8)]
    return make_statement(subjects, {"package": {"name": "app", "version": "1.0"}})


def one_run(tmp: str, run: int, stock: bool) -> tuple[dict[str, dict[str, float]], Recorder]:
    sim = Sim(os.path.join(tmp, f"run{run}-{int(stock)}"), NAMES)       # identity keys: not timed
    rec = Recorder(sim)
    st = statement()
    out: dict[str, dict[str, float]] = {}
    record = None
    for phase in ("dkg", "sign"):
        with Meter() as m:
            t = time.perf_counter_ns()
            if phase == "dkg":
                record = rec.dkg(f"bench{run}")
            else:
                res = rec.sign(record, st, stock)
            total = time.perf_counter_ns() - t
        out[phase] = {"total": total / 1e9, "argon2": m.argon2_ns / 1e9, "fsync": m.fsync_ns / 1e9,
                      "argon2_calls": m.argon2_calls, "fsync_calls": m.fsync_calls}
    assert isinstance(res, signing.Signed) and (res.stock is not None) == stock
    return out, rec


def argon2_production_call() -> float:
    p = keyfile.DEFAULT_PARAMS
    t = time.perf_counter()
    keyfile.argon2id_raw(b"passphrase", b"\x00" * 16, time_cost=p.time_cost, memory_kib=p.memory_kib,
                         parallelism=p.parallelism)
    return time.perf_counter() - t


def argon2_weak_call() -> float:
    samples = []
    for _ in range(20):
        t = time.perf_counter()
        keyfile.argon2id_raw(b"passphrase", b"\x00" * 16, time_cost=WEAK.time_cost, memory_kib=WEAK.memory_kib,
                             parallelism=WEAK.parallelism)
        samples.append(time.perf_counter() - t)
    return statistics.median(samples)


def reference() -> dict[str, float]:
    from cerro_torre.suites import frost
    from cerro_torre.keys.identity import IdentityKey
    from cerro_torre.suites.suite import verify_signature

    key = IdentityKey.generate("ref", "CT-SIG-03")
    pub = key.public()
    msg = b"x" * 200
    mldsa, fr = [], []
    for _ in range(10):
        t = time.perf_counter()
        (sig,) = [s for s in key.sign(msg) if s.alg == "ml-dsa-87"]
        assert verify_signature("ml-dsa-87", pub.keys["ml-dsa-87"], msg, sig.sig)
        mldsa.append(time.perf_counter() - t)
    dealer = frost.trusted_dealer_keygen(5, 3)
    kps = [s.key_package() for s in dealer.shares[:3]]
    for _ in range(10):
        pairs = [frost.commit(kp) for kp in kps]
        comms = sorted((c for _, c in pairs), key=lambda c: c.identifier)
        t = time.perf_counter()
        frost.sign(msg, comms, pairs[0][0], kps[0])
        fr.append(time.perf_counter() - t)
        for n, _ in pairs[1:]:
            n.wipe()
    return {"mldsa": statistics.median(mldsa), "frost": statistics.median(fr)}


def main() -> int:
    quick = "--quick" in sys.argv
    runs = 1 if quick else 5
    print(f"ceremony benchmark: {K}-of-{len(NAMES)} DKG + one signing by {len(SIGNERS)} "
          f"({runs} run{'s' if runs > 1 else ''} each, medians)")
    # homes on tmpfs by default (fsync ~free: the computation is what is measured); --disk: real fsyncs
    on_disk = "--disk" in sys.argv or not os.path.isdir("/dev/shm")
    print(f"homes on {'disk (' + tempfile.gettempdir() + ')' if on_disk else 'tmpfs (/dev/shm)'}")
    with tempfile.TemporaryDirectory(prefix="ct-ceremony-bench-", dir=None if on_disk else "/dev/shm") as tmp:
        results: dict[bool, list[dict[str, dict[str, float]]]] = {True: [], False: []}
        recorders: dict[bool, Recorder] = {}
        one_run(tmp, 99, False)                                 # warm-up: imports, caches
        for run in range(runs):
            for stock in (True, False):
                r, rec = one_run(tmp, run, stock)
                results[stock].append(r)
                recorders[stock] = rec
    prod = argon2_production_call()
    weak = argon2_weak_call()
    ref = reference()

    def med(stock: bool, phase: str, key: str) -> float:
        vals = [r[phase][key] if phase != "all" else r["dkg"][key] + r["sign"][key] for r in results[stock]]
        return statistics.median(vals)

    print()
    print(f"{'phase':<34} {'total':>9} {'argon2id':>9} {'fsync':>9} {'compute':>9} {'/ 1 s':>7}"
          f" {'argon2 calls':>12}")
    rows = [("DKG 3 of 5", True, "dkg"),
            ("signing, with stock forms", True, "sign"),
            ("signing, DSSE only (--no-stock)", False, "sign"),
            ("DKG + signing (stock forms)", True, "all"),
            ("DKG + signing (--no-stock)", False, "all")]
    for label, stock, phase in rows:
        total, a2, fs = med(stock, phase, "total"), med(stock, phase, "argon2"), med(stock, phase, "fsync")
        compute = total - a2 - fs
        calls = int(med(stock, phase, "argon2_calls"))
        print(f"{label:<34} {total * 1e3:>7.0f}ms {a2 * 1e3:>7.0f}ms {fs * 1e3:>7.0f}ms {compute * 1e3:>7.0f}ms"
              f" {compute / TARGET_S:>6.2f}x {calls:>12}")
    full = med(True, "all", "total") - med(True, "all", "argon2") - med(True, "all", "fsync")
    calls = int(med(True, "all", "argon2_calls"))
    verdict = "meets" if full <= TARGET_S else "MISSES"
    print()
    print(f"computation of DKG + signing (stock forms), without Argon2id and fsync: {full * 1e3:.0f} ms "
          f"= {full / TARGET_S:.2f} of the {TARGET_S:.0f} s target: {verdict} it")
    print(f"Argon2id: {calls} calls across the 5 homes; at the test parameters (t={WEAK.time_cost}, "
          f"m={WEAK.memory_kib} KiB) {weak * 1e3:.2f} ms/call = {calls * weak * 1e3:.0f} ms")
    p = keyfile.DEFAULT_PARAMS
    print(f"          at the production parameters (t={p.time_cost}, m={p.memory_kib} KiB, p={p.parallelism}) "
          f"{prod * 1e3:.0f} ms/call measured: {calls * prod:.1f} s in all, {calls * prod / len(NAMES):.1f} s "
          "per keyholder machine")
    print(f"reference (same run): ML-DSA-87 sign+verify {ref['mldsa'] * 1e3:.2f} ms, FROST sign "
          f"{ref['frost'] * 1e3:.2f} ms; the computation above = {full / ref['mldsa']:.0f} ML-DSA-87 "
          "sign+verify")

    print()
    print(f"QR frames per message (the fewest: its parts, max version {QR_VERSION}, error correction {QR_EC}), "
          f"{K} of {len(NAMES)}, {len(SIGNERS)} signers:")
    print(f"{'ceremony':<10} {'message':<24} {'bytes':>7} {'frames':>7}")

    def frames(data: bytes) -> int:
        return qr.Encoder(data, QR_VERSION, QR_EC).count

    for stock, label in ((True, "sign"), (False, "sign -ns")):
        rec = recorders[stock]
        for (kind, rnd), items in sorted(rec.replies.items(), key=lambda kv: _order(kv[0][1])):
            if kind != "sign":
                continue
            sizes = sorted({len(b) for b in items})
            n = sorted({frames(b) for b in items})
            print(f"{label:<10} {rnd + ' reply':<24} {_span(sizes):>7} {_span(n):>7}")
    rec = recorders[True]
    for (kind, rnd), items in sorted(rec.replies.items(), key=lambda kv: _order(kv[0][1])):
        if kind == "keygen":
            print(f"{'keygen':<10} {rnd + ' reply':<24} {_span(sorted({len(b) for b in items})):>7} "
                  f"{_span(sorted({frames(b) for b in items})):>7}")
    for (kind, rnd), data in sorted(rec.bulletins.items(), key=lambda kv: (kv[0][0], _order(kv[0][1]))):
        print(f"{kind:<10} {rnd + ' (coordinator)':<24} {len(data):>7} {frames(data):>7}")
    return 0


_ROUNDS = ["request", "commit", "round1", "shares", "round2", "confirm", "package", "share", "sign",
           "package2", "share2"]


def _order(rnd: str) -> int:
    return _ROUNDS.index(rnd) if rnd in _ROUNDS else len(_ROUNDS)


def _span(values: list[int]) -> str:
    return str(values[0]) if len(values) == 1 else f"{values[0]}-{values[-1]}"


if __name__ == "__main__":
    sys.exit(main())
