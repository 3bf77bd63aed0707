"""`ct doctor`: which backends are here, and known-answer self-tests.

The report is a plain value::

    {"ok": bool,
     "backends": {name: {"available": bool, "version": str|None, "detail": str}},
     "selftests": [{"name": str, "passed": bool, "error"?: str}]}

``ok`` is true only when every self-test passed and every required backend
is available.  liboqs is optional: its absence is reported, never a failure.
"""

from __future__ import annotations

import hashlib
import json
from importlib import resources
from typing import Any

from .errors import SelfTestFailed

VECTOR = "rfc9591-frost-ed25519-sha512.json"
VECTOR_SHA256 = "1aa27908efa7f9388c4145059021fe71db971613bfd1f27467b1bb2da5d95c9c"
REQUIRED = ("libsodium", "frost", "openssl", "zbar", "argon2")


def _fail(msg: str) -> SelfTestFailed:
    return SelfTestFailed(msg, "reinstall ct ('make setup'); if it persists, report it")


def frost_kat() -> None:
    """RFC 9591 Appendix E.1 through frost-py: the dealer's shares, round 1 from the
    given randomness, round 2, and the aggregate signature, byte for byte; then the
    signature as a plain RFC 8032 signature under the group key."""
    from nacl.exceptions import BadSignatureError
    from nacl.signing import VerifyKey

    from . import frost

    raw = resources.files("cerro_torre.suites").joinpath("data", VECTOR).read_bytes()
    if hashlib.sha256(raw).hexdigest() != VECTOR_SHA256:
        raise _fail("the shipped RFC 9591 vector file has the wrong checksum")
    v = json.loads(raw)
    h = bytes.fromhex
    inp = v["inputs"]
    k = int(v["config"]["MIN_PARTICIPANTS"])
    n = int(v["config"]["MAX_PARTICIPANTS"])
    msg = h(inp["message"])
    dealer = frost.trusted_dealer_keygen(
        n, k, secret=h(inp["group_secret_key"]),
        coefficients=[h(c) for c in inp["share_polynomial_coefficients"]])
    if dealer.group_public_key != h(inp["group_public_key"]):
        raise _fail("frost: group public key differs from RFC 9591 E.1")
    shares = {s.identifier: s for s in dealer.shares}
    for ps in inp["participant_shares"]:
        if shares[ps["identifier"]].signing_share != h(ps["participant_share"]):
            raise _fail(f"frost: share {ps['identifier']} differs from RFC 9591 E.1")
    pkp = dealer.public_key_package()
    nonces, commitments = {}, []
    for o in v["round_one_outputs"]["outputs"]:
        i = o["identifier"]
        nn, cc = frost.commit(shares[i].key_package(k), h(o["hiding_nonce_randomness"]),
                              h(o["binding_nonce_randomness"]))
        if cc.hiding != h(o["hiding_nonce_commitment"]) or cc.binding != h(o["binding_nonce_commitment"]):
            raise _fail(f"frost: commitment of participant {i} differs from RFC 9591 E.1")
        nonces[i] = nn
        commitments.append(cc)
    sig_shares = []
    for o in v["round_two_outputs"]["outputs"]:
        i = o["identifier"]
        ss = frost.sign(msg, commitments, nonces[i], shares[i].key_package(k))
        if ss.share != h(o["sig_share"]):
            raise _fail(f"frost: signature share of participant {i} differs from RFC 9591 E.1")
        sig_shares.append(ss)
    sig = frost.aggregate(msg, commitments, sig_shares, pkp)
    if sig != h(v["final_output"]["sig"]):
        raise _fail("frost: aggregate signature differs from RFC 9591 E.1")
    try:
        VerifyKey(dealer.group_public_key).verify(msg, sig)
    except BadSignatureError:
        raise _fail("frost: libsodium rejects the aggregate as an Ed25519 signature") from None


def _backends() -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    out["libsodium"] = _system_libsodium()
    try:
        from . import frost

        out["frost"] = {"available": True, "version": None,
                        "detail": f"frost-py (C library over libsodium, {frost.MAX_PARTICIPANTS} participants max)"}
    except Exception as e:  # noqa: BLE001
        out["frost"] = {"available": False, "version": None, "detail": f"frost-py did not load: {e}"}
    from . import mldsa

    b = mldsa.backends()
    out["openssl"] = {"available": b["openssl"]["available"], "version": b["openssl"]["version"],
                      "detail": b["openssl"]["detail"]}
    out["liboqs"] = {"available": b["liboqs"]["available"], "version": b["liboqs"].get("version"),
                     "detail": b["liboqs"]["detail"], "optional": True}
    try:
        import importlib.metadata

        import argon2.low_level  # noqa: F401

        out["argon2"] = {"available": True, "version": importlib.metadata.version("argon2-cffi"),
                         "detail": "argon2-cffi"}
    except Exception as e:  # noqa: BLE001
        out["argon2"] = {"available": False, "version": None, "detail": str(e)}
    out["zbar"] = _zbar()
    return out


def _system_libsodium() -> dict[str, Any]:
    """The system libsodium that frost-py links (Debian's libsodium23), not PyNaCl's bundled copy."""
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("sodium")
    if not name:
        return {"available": False, "version": None, "detail": "libsodium not found; install Debian's libsodium-dev"}
    try:
        lib = ctypes.CDLL(name)
        lib.sodium_version_string.restype = ctypes.c_char_p
        return {"available": True, "version": lib.sodium_version_string().decode(),
                "detail": f"{name} (Debian package {_deb_version('libsodium23')})"}
    except OSError as e:
        return {"available": False, "version": None, "detail": f"{name}: {e}"}


def _deb_version(pkg: str) -> str:
    import subprocess

    try:
        r = subprocess.run(["dpkg-query", "-W", "-f=${Version}", pkg], capture_output=True, text=True, timeout=5)
        return r.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def _zbar() -> dict[str, Any]:
    try:
        from pyzbar import zbar_library

        zbar_library.load()
        import ctypes.util

        return {"available": True, "version": None, "detail": ctypes.util.find_library("zbar") or "libzbar"}
    except Exception as e:  # noqa: BLE001
        return {"available": False, "version": None,
                "detail": f"libzbar not found ({e}); install Debian's libzbar0"}


def run_doctor(extra: tuple = ()) -> dict[str, Any]:
    """Backends and self-tests; ``extra``: more ``(name, check)`` pairs from higher layers."""
    from .selftest_parts import ALL

    tests = (("frost rfc 9591 e.1", frost_kat),) + tuple(ALL) + tuple(extra)
    results: list[dict[str, Any]] = []
    for name, fn in tests:
        try:
            fn()
            results.append({"name": name, "passed": True})
        except Exception as e:  # noqa: BLE001 - every failure is reported, none is fatal
            results.append({"name": name, "passed": False,
                            "error": getattr(e, "message", None) or f"{type(e).__name__}: {e}"})
    backends = _backends()
    ok = all(r["passed"] for r in results) and all(backends[b]["available"] for b in REQUIRED)
    return {"ok": ok, "backends": backends, "selftests": results}
