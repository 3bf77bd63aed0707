"""Algorithm-agile signatures, the CT-SIG suites, and per-algorithm threshold evaluation.

See ``spec/suites.md``.  The rules that matter for safety:

* every algorithm of a suite has its own :class:`Requirement` and is counted
  on its own: a signature of one algorithm never counts for another;
* a keyid counts at most once however many signatures carry it;
* a keyid is derived from the public key (:func:`keyid_of`), and a
  requirement whose keyids do not match their keys is refused, so one key
  can never be listed twice under two names;
* a FROST group signature is an ``"ed25519"`` signature under the group key.

Evaluation returns values (who signed, who did not verify, who is unknown,
how many are missing), not a bare boolean, so callers can explain a refusal.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Any

from . import ed25519, mldsa
from .encoding import b64d, b64e
from .errors import Malformed, UsageError

# alg -> (public key size, signature size)
ALGORITHMS: dict[str, tuple[int, int]] = {
    "ed25519": (ed25519.PUBLIC_SIZE, ed25519.SIGNATURE_SIZE),
    **mldsa.SIZES,
}

KEYID_HEX_CHARS = 32
_KEYID_RE = re.compile(r"[0-9a-f]{32}\Z")


def keyid_of(public_key: bytes) -> str:
    """The keyid of a raw public key: lowercase hex of the first 16 bytes of SHA-256(public key)."""
    return hashlib.sha256(bytes(public_key)).hexdigest()[:KEYID_HEX_CHARS]


def _check_alg(alg: Any, exc: type = Malformed) -> str:
    if not isinstance(alg, str) or alg not in ALGORITHMS:
        raise exc(f"unknown signature algorithm {alg!r}", "known algorithms: " + ", ".join(ALGORITHMS))
    return alg


class StreamedMessage:
    """A message too large to hold (a statement naming 100,000 files): ``chunks()`` gives a fresh
    iterator over its bytes each time, read once per signature checked.  It may raise (the bytes changed
    since they were first read); the exception propagates out of :func:`verify_signature`."""

    __slots__ = ("chunks",)

    def __init__(self, chunks: Any) -> None:
        self.chunks = chunks


def verify_signature(alg: str, public_key: bytes, message: Any, sig: bytes) -> bool:
    """Dispatch to the algorithm; False for any bad signature, wrong size or unknown algorithm.
    ``message``: a buffer, or a :class:`StreamedMessage` read as it goes by."""
    if isinstance(message, StreamedMessage):
        if alg == "ed25519":
            return ed25519.verify_chunks(public_key, message.chunks(), sig)
        if alg in mldsa.SIZES:
            return mldsa.verify_chunks(alg, public_key, message.chunks(), sig)
        return False
    if alg == "ed25519":
        return ed25519.verify(public_key, message, sig)
    if alg in mldsa.SIZES:
        return mldsa.verify(alg, public_key, message, sig)
    return False


@dataclass(frozen=True)
class Signature:
    """One signature: which algorithm, which key (keyid), the raw signature bytes."""

    alg: str
    keyid: str
    sig: bytes

    def to_json(self) -> dict[str, str]:
        return {"alg": self.alg, "keyid": self.keyid, "sig": b64e(self.sig)}

    @classmethod
    def from_json(cls, d: Any) -> Signature:
        """Strict: exactly the keys alg, keyid, sig; known alg; 32 lowercase hex keyid;
        canonical base64 of exactly the algorithm's signature size."""
        if not isinstance(d, dict):
            raise Malformed("signature must be a JSON object")
        keys = set(d)
        if keys != {"alg", "keyid", "sig"}:
            extra = sorted(keys - {"alg", "keyid", "sig"})
            missing = sorted({"alg", "keyid", "sig"} - keys)
            detail = "; ".join(x for x in (
                "unknown field(s) " + ", ".join(extra) if extra else "",
                "missing field(s) " + ", ".join(missing) if missing else "") if x)
            raise Malformed(f"signature object: {detail}", "a signature has exactly alg, keyid and sig")
        alg = _check_alg(d["alg"])
        keyid = d["keyid"]
        if not isinstance(keyid, str) or not _KEYID_RE.match(keyid):
            raise Malformed("signature keyid must be 32 lowercase hex digits")
        sig = b64d(d["sig"], f"{alg} signature", size=ALGORITHMS[alg][1])
        return cls(alg, keyid, sig)

    @classmethod
    def list_from_json(cls, v: Any, what: str) -> list[Signature]:
        """A JSON list of signature objects, each as ``from_json``; errors name ``what`` and the index."""
        if not isinstance(v, list):
            raise Malformed(f"{what}: signatures must be a list")
        out = []
        for i, d in enumerate(v):
            try:
                out.append(cls.from_json(d))
            except Malformed as e:
                raise Malformed(f"{what}: signature {i}: {e.message}", *e.hints) from None
        return out


@dataclass(frozen=True)
class Suite:
    name: str
    algorithms: tuple[str, ...]


SUITES: dict[str, Suite] = {
    "CT-SIG-01": Suite("CT-SIG-01", ("ed25519",)),
    "CT-SIG-02": Suite("CT-SIG-02", ("ed25519", "ml-dsa-87")),
    "CT-SIG-03": Suite("CT-SIG-03", ("ml-dsa-87",)),
}
DEFAULT_SUITE = "CT-SIG-02"


def get_suite(name: Any, *, usage: bool = False) -> Suite:
    """The suite called ``name``; unknown → Malformed (or UsageError with ``usage=True``)."""
    suite = SUITES.get(name) if isinstance(name, str) else None
    if suite is None:
        exc = UsageError if usage else Malformed
        raise exc(f"unknown signature suite {name!r}", "valid suites: " + ", ".join(SUITES))
    return suite


@dataclass(frozen=True)
class Requirement:
    """``threshold`` distinct keys of ``keys`` (keyid -> raw public key) must sign."""

    threshold: int
    keys: dict[str, bytes] = field(default_factory=dict)

    def check(self, alg: str) -> None:
        """Refuse requirements that would make the count meaningless."""
        if isinstance(self.threshold, bool) or not isinstance(self.threshold, int) or self.threshold < 1:
            raise Malformed(f"{alg} threshold must be a positive integer, got {self.threshold!r}")
        if self.threshold > len(self.keys):
            raise Malformed(f"{alg} threshold {self.threshold} exceeds the {len(self.keys)} key(s) listed",
                            "the threshold can never be met; check the keyholder set")
        pk_size = ALGORITHMS[alg][0]
        for keyid, pk in self.keys.items():
            if not isinstance(pk, (bytes, bytearray)) or len(pk) != pk_size:
                raise Malformed(f"{alg} public key {keyid} must be {pk_size} bytes")
            if keyid != keyid_of(pk):
                raise Malformed(f"{alg} keyid {keyid} does not match its public key",
                                "keyids are sha256(public key)[:16] in hex")


@dataclass(frozen=True)
class AlgResult:
    threshold: int
    signed: tuple[str, ...]   # distinct keyids in the requirement whose signature verified
    invalid: tuple[str, ...]  # keyids in the requirement with signatures and none that verified
    unknown: tuple[str, ...]  # keyids not in the requirement (not verified, never counted)
    missing: int              # max(0, threshold - len(signed))
    listed: int = field(default=0, compare=False)  # keys in the requirement (the n of "k of n")

    @property
    def ok(self) -> bool:
        return len(self.signed) >= self.threshold

    def to_json(self) -> dict[str, Any]:
        return {"threshold": self.threshold, "signed": list(self.signed), "invalid": list(self.invalid),
                "unknown": list(self.unknown), "missing": self.missing, "ok": self.ok}


@dataclass(frozen=True)
class SuiteResult:
    suite: str
    per_alg: dict[str, AlgResult]
    ignored: tuple[str, ...] = ()  # algorithms of signatures presented that the suite does not use

    @property
    def ok(self) -> bool:
        return bool(self.per_alg) and all(r.ok for r in self.per_alg.values())

    def to_json(self) -> dict[str, Any]:
        return {"suite": self.suite, "ok": self.ok, "ignored": list(self.ignored),
                "per_alg": {a: r.to_json() for a, r in self.per_alg.items()}}

    def explain(self) -> list[str]:
        """One line per algorithm that falls short, for error messages."""
        lines = []
        for alg, r in self.per_alg.items():
            if not r.ok:
                line = f"{alg}: {len(r.signed)} of {r.threshold} required signatures verified"
                if r.invalid:
                    line += f"; invalid from {', '.join(r.invalid)}"
                if r.unknown:
                    line += f"; unknown keys {', '.join(r.unknown)}"
                lines.append(line)
        return lines


def evaluate(suite: Suite, message: bytes, signatures: list[Signature],
             requirements: dict[str, Requirement]) -> SuiteResult:
    """Count, per algorithm of ``suite``, the distinct required keys whose signature of ``message`` verifies.

    ``requirements`` must name every algorithm of the suite (Malformed otherwise).
    Signatures of algorithms outside the suite are ignored (their algorithms
    are listed in ``SuiteResult.ignored``) and never verified.
    """
    if not isinstance(suite, Suite):
        raise TypeError("suite must be a Suite")
    for alg in suite.algorithms:
        if alg not in requirements:
            raise Malformed(f"suite {suite.name} needs a requirement for {alg}")
        requirements[alg].check(alg)
    if not isinstance(message, (bytes, bytearray, memoryview, StreamedMessage)):
        message = bytes(message)      # any buffer is read in place: a release statement can be megabytes
    per_alg: dict[str, AlgResult] = {}
    for alg in suite.algorithms:
        req = requirements[alg]
        signed: list[str] = []
        tried_bad: list[str] = []
        unknown: list[str] = []
        seen: set[tuple[str, bytes]] = set()  # exact repeats are never verified twice
        for s in signatures:
            if not isinstance(s, Signature):
                raise TypeError("signatures must be Signature objects")
            if s.alg != alg:
                continue
            if s.keyid not in req.keys:
                if s.keyid not in unknown:
                    unknown.append(s.keyid)
                continue
            if s.keyid in signed:
                continue  # already counted once; duplicates never count again
            if (s.keyid, s.sig) in seen:
                continue
            seen.add((s.keyid, s.sig))
            if verify_signature(alg, req.keys[s.keyid], message, s.sig):
                signed.append(s.keyid)
            elif s.keyid not in tried_bad:
                tried_bad.append(s.keyid)
        invalid = tuple(k for k in tried_bad if k not in signed)
        per_alg[alg] = AlgResult(
            threshold=req.threshold,
            signed=tuple(signed),
            invalid=invalid,
            unknown=tuple(unknown),
            missing=max(0, req.threshold - len(signed)),
            listed=len(req.keys),
        )
    ignored = tuple(sorted({s.alg for s in signatures if s.alg not in suite.algorithms}))
    return SuiteResult(suite=suite.name, per_alg=per_alg, ignored=ignored)


def counts_text(result: SuiteResult | None) -> str:
    """``ed25519 1 of 1 required, 1 valid; ml-dsa-87 3 of 5 required, 5 valid`` (or ``not checked``):
    k of n required (n keys in the set), m valid signatures present."""
    if result is None:
        return "not checked"
    return "; ".join(f"{alg} {r.threshold} of {r.listed} required, {len(r.signed)} valid"
                     + (f", {len(r.invalid)} invalid" if r.invalid else "")
                     for alg, r in result.per_alg.items())
