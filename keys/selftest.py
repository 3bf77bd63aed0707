"""The sealed-file known-answer check of ``ct doctor`` (the suites' checks are in
``cerro_torre.suites.selftest``)."""

from __future__ import annotations


def seal_roundtrip() -> None:
    """A sealed blob opens with its passphrase, not with another (cheap parameters)."""
    from cerro_torre.suites.errors import SelfTestFailed, WrongPassphrase

    from . import keyfile

    params = keyfile.KDFParams(time_cost=1, memory_kib=64, parallelism=1)
    blob = keyfile.seal(b"self-test", b"correct horse", "self-test", params, allow_weak=True)
    if keyfile.open_sealed(blob, b"correct horse", "self-test", allow_weak=True) != b"self-test":
        raise SelfTestFailed("sealed file did not round-trip")
    try:
        keyfile.open_sealed(blob, b"wrong horse", "self-test", allow_weak=True)
    except WrongPassphrase:
        pass
    else:
        raise SelfTestFailed("sealed file opened with a wrong passphrase")


ALL = (("sealed file round trip", seal_roundtrip),)
