"""Child of bench/frost_bench.py, run by the interpreter of bench/.zfvenv (which
has the Zcash Foundation's frost-core through the `frost_rs` binding, never a
project dependency).  Times round 2 (sign, per signer) and aggregate for one
configuration and prints JSON: {"round 2": [seconds...], "aggregate": [...],
"signature": hex, "group_public_key": hex} (the last signature, for the
parent to verify with frost-py).

Usage: python frost_zf_child.py MIN_SIGNERS MAX_SIGNERS RUNS
"""

from __future__ import annotations

import base64
import json
import sys
import time

from frost_rs import utility_ed25519 as zf

MSG = b"benchmark release statement" * 4


def dec(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def enc(b: bytes) -> str:
    return base64.urlsafe_b64encode(b).decode()


def varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def main(t: int, n: int, runs: int) -> None:
    shares = zf.get_key(t, n)  # trusted dealer
    kps, entries = {}, []
    for i, s in shares.items():
        kps[i] = zf.gen_key_package(s)
        b = dec(kps[i])  # header(5) | id(32) | share(32) | verifying share(32) | group key(32) | t
        entries.append(b[5:37] + b[69:101])
        header, pk = b[:5], b[101:133]
    # the binding offers no public key package for a dealer split: build it in
    # frost-core's serialization, header | n | n x (id | verifying share) | group key
    pub = enc(header + varint(n) + b"".join(entries) + pk)
    signers = list(kps)[:t]
    r2, agg = [], []
    sig = ""
    for _ in range(runs):
        nonces, comms = {}, {}
        for i in signers:
            nonces[i], comms[i] = zf.preprocess(kps[i])
        sig_shares = {}
        for i in signers:
            start = time.perf_counter()
            sig_shares[i] = zf.sign(MSG, comms, nonces[i], kps[i])
            r2.append(time.perf_counter() - start)
        start = time.perf_counter()
        sig = zf.aggregate(MSG, comms, sig_shares, pub)
        agg.append(time.perf_counter() - start)
        assert zf.verify(MSG, pub, sig)
    print(json.dumps({"round 2": r2, "aggregate": agg, "signature": dec(sig)[-64:].hex(),
                      "group_public_key": pk.hex()}))


if __name__ == "__main__":
    main(int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]))
