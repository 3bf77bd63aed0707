"""ML-DSA (FIPS 204) signatures: ML-DSA-44, ML-DSA-65, ML-DSA-87.

Primary backend: pyca/cryptography over OpenSSL (>= 3.5 has FIPS 204).
Private keys are always the 32-byte seed xi of FIPS 204 Algorithm 1
(``from_seed_bytes``); the expanded secret key is never stored.  Signing is
"pure" ML-DSA with an empty context string, hedged (OpenSSL's default), so
two signatures of one message differ and both verify.

Optional second backend: liboqs-python, used only when a liboqs shared
library is already installed.  liboqs-python tries to *download and build*
liboqs when it is imported without one, so it is never imported unless a
library file was found first (see :func:`_probe_liboqs`).  It verifies only
(its keys are expanded secret keys, not seeds): it is used when OpenSSL has
no ML-DSA, and by the self-test to cross-check OpenSSL's signatures.

Nothing here raises for a bad signature: :func:`verify` returns False.
"""

from __future__ import annotations

import functools
import os
from typing import Any

from .errors import Malformed, Unavailable

SEED_SIZE = 32

# alg -> (public key bytes, signature bytes), FIPS 204 Table 2
SIZES: dict[str, tuple[int, int]] = {
    "ml-dsa-44": (1312, 2420),
    "ml-dsa-65": (1952, 3309),
    "ml-dsa-87": (2592, 4627),
}
ALGORITHMS = tuple(SIZES)

_CLASS_NAMES = {
    "ml-dsa-44": ("MLDSA44PrivateKey", "MLDSA44PublicKey"),
    "ml-dsa-65": ("MLDSA65PrivateKey", "MLDSA65PublicKey"),
    "ml-dsa-87": ("MLDSA87PrivateKey", "MLDSA87PublicKey"),
}
_OQS_NAMES = {"ml-dsa-44": "ML-DSA-44", "ml-dsa-65": "ML-DSA-65", "ml-dsa-87": "ML-DSA-87"}

_INSTALL_HINT = "install cryptography >= 46 built against OpenSSL >= 3.5 ('make setup')"


def _check_alg(alg: str) -> None:
    if alg not in SIZES:
        raise Malformed(f"unknown ML-DSA parameter set {alg!r}", "use one of: " + ", ".join(ALGORITHMS))


@functools.cache
def _openssl_classes(alg: str) -> tuple[Any, Any] | None:
    """(PrivateKey class, PublicKey class) when OpenSSL supports ``alg``, else None."""
    try:
        from cryptography.hazmat.primitives.asymmetric import mldsa
    except ImportError:
        return None
    priv_name, pub_name = _CLASS_NAMES[alg]
    priv = getattr(mldsa, priv_name, None)
    pub = getattr(mldsa, pub_name, None)
    if priv is None or pub is None:
        return None
    try:  # the classes exist even when the linked OpenSSL lacks the algorithm
        priv.from_seed_bytes(bytes(SEED_SIZE))
    except Exception:  # noqa: BLE001 - UnsupportedAlgorithm or similar
        return None
    return priv, pub


def _require_openssl(alg: str) -> tuple[Any, Any]:
    _check_alg(alg)
    classes = _openssl_classes(alg)
    if classes is None:
        raise Unavailable(f"{alg} signing is not available: this OpenSSL has no ML-DSA", _INSTALL_HINT)
    return classes


class MLDSAPrivateKey:
    """An ML-DSA private key held as its 32-byte seed."""

    __slots__ = ("alg", "_seed", "_key")

    def __init__(self, alg: str, seed: bytes | bytearray) -> None:
        _check_alg(alg)
        if len(seed) != SEED_SIZE:
            raise Malformed(f"{alg} seed must be {SEED_SIZE} bytes, got {len(seed)}")
        priv_cls, _ = _require_openssl(alg)
        self.alg = alg
        self._seed = bytearray(seed)
        self._key = priv_cls.from_seed_bytes(bytes(self._seed))

    @classmethod
    def generate(cls, alg: str = "ml-dsa-87") -> MLDSAPrivateKey:
        seed = bytearray(os.urandom(SEED_SIZE))
        try:
            return cls(alg, seed)
        finally:
            seed[:] = bytes(SEED_SIZE)

    @property
    def seed(self) -> bytes:
        return bytes(self._seed)

    def public_bytes(self) -> bytes:
        return self._key.public_key().public_bytes_raw()

    def sign(self, message: bytes) -> bytes:
        """Pure ML-DSA signature of ``message`` with an empty context (hedged)."""
        return self._key.sign(message)  # any buffer, read in place

    def sign_chunks(self, chunks: Any) -> bytes:
        """:meth:`sign` of a message given as an iterable of buffers, never held: its mu (FIPS 204, empty
        context) is hashed as they go by and signed (``sign_mu``, hedged as :meth:`sign`)."""
        from cryptography.hazmat.primitives.asymmetric import mldsa

        hasher = mldsa.MLDSAMuHasher(self._key.public_key())
        for chunk in chunks:
            hasher.update(chunk)
        return self._key.sign_mu(hasher.finalize())

    def wipe(self) -> None:
        """Zero the seed copy this object holds (OpenSSL keeps its own until freed)."""
        self._seed[:] = bytes(len(self._seed))
        self._key = None

    def __repr__(self) -> str:  # never show the seed
        return f"MLDSAPrivateKey({self.alg!r}, <secret>)"


def public_from_seed(alg: str, seed: bytes | bytearray) -> bytes:
    return MLDSAPrivateKey(alg, seed).public_bytes()


def sign(alg: str, seed: bytes | bytearray, message: bytes) -> bytes:
    return MLDSAPrivateKey(alg, seed).sign(message)


def verify(alg: str, public_key: bytes, message: bytes, signature: bytes, *, backend: str | None = None) -> bool:
    """True only when ``signature`` is a valid ``alg`` signature of ``message`` under ``public_key``.

    Wrong sizes, unknown algorithms and bad signatures all give False.
    ``backend`` forces "openssl" or "liboqs" (default: OpenSSL, else liboqs);
    a forced backend that is absent raises :class:`Unavailable`.
    """
    if alg not in SIZES:
        return False
    pk_size, sig_size = SIZES[alg]
    if not isinstance(public_key, (bytes, bytearray)) or not isinstance(signature, (bytes, bytearray)):
        return False
    if len(public_key) != pk_size or len(signature) != sig_size:
        return False
    if backend not in (None, "openssl", "liboqs"):
        raise Malformed(f"unknown ML-DSA backend {backend!r}", "use 'openssl' or 'liboqs'")
    classes = _openssl_classes(alg) if backend in (None, "openssl") else None
    if classes is not None:
        _, pub_cls = classes
        try:
            key = pub_cls.from_public_bytes(bytes(public_key))
            key.verify(bytes(signature), message)  # any buffer, read in place (no copy of a large statement)
            return True
        except Exception:  # noqa: BLE001 - InvalidSignature, ValueError: all mean "not valid"
            return False
    if backend == "openssl":
        raise Unavailable(f"{alg} is not available in this OpenSSL", _INSTALL_HINT)
    oqs = _oqs_module()
    if oqs is None:
        raise Unavailable(f"no backend can verify {alg}: OpenSSL lacks ML-DSA and liboqs is not installed",
                          _INSTALL_HINT)
    try:
        with oqs.Signature(_OQS_NAMES[alg]) as s:
            return bool(s.verify(bytes(message), bytes(signature), bytes(public_key)))
    except Exception:  # noqa: BLE001
        return False


def verify_chunks(alg: str, public_key: bytes, chunks: Any, signature: bytes) -> bool:
    """:func:`verify` of a message given as an iterable of buffers: with OpenSSL, the message
    representative mu (FIPS 204, empty context) is hashed as the chunks go by (``MLDSAMuHasher``) and the
    signature checked over it (``verify_mu``), so the message is never held; with the liboqs backend the
    chunks are joined and verified whole.  An exception raised by ``chunks`` propagates."""
    classes = _openssl_classes(alg) if alg in SIZES else None
    if classes is None:
        return verify(alg, public_key, b"".join(bytes(c) for c in chunks), signature)
    from cryptography.hazmat.primitives.asymmetric import mldsa

    pk_size, sig_size = SIZES[alg]
    if not isinstance(public_key, (bytes, bytearray)) or not isinstance(signature, (bytes, bytearray)):
        return False
    if len(public_key) != pk_size or len(signature) != sig_size:
        return False
    try:
        key = classes[1].from_public_bytes(bytes(public_key))
        hasher = mldsa.MLDSAMuHasher(key)
    except Exception:  # noqa: BLE001 - ValueError: not a public key
        return False
    for chunk in chunks:
        hasher.update(chunk)
    try:
        key.verify_mu(bytes(signature), hasher.finalize())
        return True
    except Exception:  # noqa: BLE001 - InvalidSignature: not valid
        return False


# ---------------------------------------------------------------- liboqs probe

_LIBOQS_NAMES = ("liboqs.so", "liboqs.dylib")


@functools.cache
def _probe_liboqs() -> tuple[str | None, str]:
    """(path or soname of a liboqs library that loads, reason) — never imports oqs."""
    import ctypes
    import ctypes.util
    import glob

    # Only the places liboqs-python itself searches, so that importing it
    # afterwards finds the same library instead of trying to build one.
    candidates: list[str] = []
    roots = []
    if os.environ.get("OQS_INSTALL_PATH"):
        roots.append(os.environ["OQS_INSTALL_PATH"])
    roots.append(os.path.join(os.path.expanduser("~"), "_oqs"))
    for root in roots:
        for sub in ("lib", "lib64"):
            for name in _LIBOQS_NAMES:
                candidates.extend(sorted(glob.glob(os.path.join(root, sub, name + "*"))))
    try:
        found = ctypes.util.find_library("oqs")
    except Exception:  # noqa: BLE001 - find_library shells out; never let it crash us
        found = None
    if found:
        candidates.append(found)
    if not candidates:
        return None, "no liboqs shared library found (find_library('oqs'), ~/_oqs/lib, $OQS_INSTALL_PATH)"
    last = ""
    for c in candidates:
        try:
            ctypes.CDLL(c)
            return c, "loaded"
        except OSError as e:
            last = f"{c}: {e}"
    return None, f"liboqs found but does not load ({last})"


@functools.cache
def _oqs_info() -> tuple[Any, str, str | None]:
    """(oqs module or None, reason, liboqs version or None)."""
    import importlib.metadata
    import importlib.util

    lib, reason = _probe_liboqs()
    if lib is None:
        return None, reason, None
    try:
        importlib.metadata.version("liboqs-python")
    except importlib.metadata.PackageNotFoundError:
        return None, f"liboqs library present ({lib}) but the liboqs-python package is not installed", None
    if importlib.util.find_spec("oqs") is None:
        return None, "liboqs-python is installed but its 'oqs' module is missing", None
    try:
        import oqs  # type: ignore[import-not-found]
    except BaseException as e:  # noqa: BLE001 - some versions sys.exit() when the library fails to load
        return None, f"importing oqs failed: {type(e).__name__}: {e}", None
    if not hasattr(oqs, "Signature"):
        return None, "the 'oqs' module is not liboqs-python", None
    try:
        enabled = set(oqs.get_enabled_sig_mechanisms())
    except Exception as e:  # noqa: BLE001
        return None, f"oqs does not answer: {e}", None
    if "ML-DSA-87" not in enabled:
        return None, "liboqs is present but was built without ML-DSA-87", None
    try:
        version = str(oqs.oqs_version())
    except Exception:  # noqa: BLE001
        version = None
    return oqs, "loaded", version


def _oqs_module() -> Any:
    return _oqs_info()[0]


def openssl_version() -> str | None:
    try:
        from cryptography.hazmat.backends.openssl.backend import backend

        return str(backend.openssl_version_text())
    except Exception:  # noqa: BLE001
        return None


def backends() -> dict[str, Any]:
    """What can do ML-DSA here, with versions; never raises.

    ``{"openssl": {"available", "version", "cryptography", "algorithms": {alg: bool}},
       "liboqs": {"available", "version", "python_version", "detail", "algorithms"}}``
    """
    try:
        import cryptography

        crypto_version = cryptography.__version__
    except Exception:  # noqa: BLE001
        crypto_version = None
    algs = {alg: _openssl_classes(alg) is not None for alg in ALGORITHMS}
    openssl = {
        "available": algs["ml-dsa-87"],
        "version": openssl_version(),
        "cryptography": crypto_version,
        "algorithms": algs,
        "detail": "pyca/cryptography " + str(crypto_version) + (
            "" if algs["ml-dsa-87"] else "; this OpenSSL has no ML-DSA-87"),
    }
    oqs, reason, oqs_version = _oqs_info()
    liboqs: dict[str, Any] = {"available": oqs is not None, "version": oqs_version, "detail": reason}
    if oqs is not None:
        try:
            liboqs["python_version"] = str(oqs.oqs_python_version())
        except Exception:  # noqa: BLE001
            liboqs["python_version"] = None
        enabled = set(oqs.get_enabled_sig_mechanisms())
        liboqs["algorithms"] = {alg: _OQS_NAMES[alg] in enabled for alg in ALGORITHMS}
    return {"openssl": openssl, "liboqs": liboqs}
