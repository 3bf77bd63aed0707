"""Release statements: in-toto Statement v1 in a DSSE envelope (``spec/statement.md``).

What a release signature covers is ``PAE(payloadType, statement)`` — the
DSSE Pre-Authentication Encoding of the canonical JSON statement — never the
statement alone.  Every signature in the envelope (the FROST group signature
and each ML-DSA-87 signature) is an algorithm-agile
:class:`~cerro_torre.suites.suite.Signature` object ``{"alg","keyid","sig"}``:
DSSE's ``keyid`` and ``sig`` plus an ``alg`` field.
"""

from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from cerro_torre.suites.encoding import Record, b64e, canonical_json, pae, parse_json
from cerro_torre.suites.errors import Malformed
from cerro_torre.suites.suite import Signature

PAYLOAD_TYPE = "application/vnd.in-toto+json"
STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://cerro-torre.org/attestation/release/v1"

_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
MAX_ENVELOPE = 16 << 20


# ---------------------------------------------------------------- statement

def shown(value: Any) -> str:
    """A value as one printable line: strings as they are (control and other unprintable characters
    escaped), lists joined with ", ", anything else as canonical JSON."""
    if isinstance(value, list) and all(isinstance(v, str) for v in value):
        return ", ".join(shown(v) for v in value)
    if not isinstance(value, str):
        value = canonical_json(value).decode("utf-8")
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in value)


class Subject(Record):
    __slots__ = ("name", "sha256")

    def __init__(self, name: str, sha256: str) -> None:
        self.name = name
        self.sha256 = sha256

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "digest": {"sha256": self.sha256}}


class Statement(Record):
    """A parsed in-toto Statement v1 with the Cerro Torre release predicate."""

    __slots__ = ("subjects", "predicate", "predicate_type", "raw")

    def __init__(self, subjects: tuple[Subject, ...], predicate: dict[str, Any],
                 predicate_type: str = PREDICATE_TYPE, raw: bytes = b"") -> None:
        self.subjects = subjects
        self.predicate = predicate
        self.predicate_type = predicate_type
        self.raw = raw

    def digests(self) -> dict[str, str]:
        return {s.name: s.sha256 for s in self.subjects}

    @property
    def package(self) -> tuple[str, str]:
        """(name, version) of the release, from ``predicate.package``: the only place they come from."""
        pkg = self.predicate.get("package")
        if not isinstance(pkg, dict) or not isinstance(pkg.get("name"), str) or \
                not isinstance(pkg.get("version"), str):
            raise Malformed("release statement has no package name and version (predicate.package)",
                            "statements are written by 'ct pack'")
        return pkg["name"], pkg["version"]

    def describe(self) -> list[str]:
        """Every field a signer approves, one per line: package, manifest, bundle format, source,
        any other predicate field, and every subject (names made printable)."""
        name, version = self.package
        pred = dict(self.predicate)
        lines = [f"package   {shown(name)} {shown(version)}"]
        pred.pop("package")
        man = pred.pop("manifest", None)
        if isinstance(man, dict) and set(man) == {"name", "sha256"}:
            lines.append(f"manifest  {shown(man['name'])} sha256 {shown(man['sha256'])}")
        elif man is not None:
            pred["manifest"] = man
        fmt = pred.pop("bundle", None)
        if isinstance(fmt, dict) and set(fmt) == {"format", "format_version"}:
            lines.append(f"bundle    {shown(fmt['format'])} format {shown(fmt['format_version'])}")
        elif fmt is not None:
            pred["bundle"] = fmt
        src = pred.pop("source", None)
        if isinstance(src, dict):
            rest = sorted(k for k in src if k != "kind")
            lines.append(f"source    kind {shown(src.get('kind'))}")
            lines += [f"          {shown(k)} {shown(src[k])}" for k in rest]
        elif src is not None:
            pred["source"] = src
        atts = pred.pop("attestations", None)
        if isinstance(atts, list) and all(isinstance(a, dict) and isinstance(a.get("digest"), dict) for a in atts):
            lines += [f"attests   {shown(a.get('predicateType'))} sha256 {shown(a['digest'].get('sha256'))}"
                      for a in atts]
        elif atts is not None:
            pred["attestations"] = atts
        for k in sorted(pred):
            lines.append(f"{shown(k):<9} {shown(pred[k])}")
        lines.append(f"{len(self.subjects)} file(s):")
        lines += [f"  {s.sha256}  {shown(s.name)}" for s in self.subjects]
        return lines

    def to_json(self) -> dict[str, Any]:
        return {"_type": STATEMENT_TYPE, "subject": [s.to_json() for s in self.subjects],
                "predicateType": self.predicate_type, "predicate": self.predicate}


def make_statement(subjects: list[tuple[str, str]], predicate: dict[str, Any],
                   predicate_type: str = PREDICATE_TYPE) -> bytes:
    """The canonical JSON bytes of a statement; subjects are sorted by name (UTF-8 bytes)."""
    subs = sorted(subjects, key=lambda s: s[0].encode("utf-8"))
    names = [n for n, _ in subs]
    if len(set(names)) != len(names):
        raise Malformed("duplicate subject name in statement")
    for name, digest in subs:
        if not _HEX64.match(digest):
            raise Malformed(f"subject {name!r}: sha256 must be 64 lowercase hex digits")
    doc = {"_type": STATEMENT_TYPE,
           "subject": [{"name": n, "digest": {"sha256": d}} for n, d in subs],
           "predicateType": predicate_type, "predicate": predicate}
    return canonical_json(doc)


def parse_statement(data: bytes, what: str = "release statement",
                    predicate_type: str | None = PREDICATE_TYPE) -> Statement:
    """Strictly parse a statement: canonical JSON, Statement v1, sha256 subjects, unique names;
    ``predicate_type`` None accepts any (attestations)."""
    d = parse_json(data, what)
    if not isinstance(d, dict):
        raise Malformed(f"{what} must be a JSON object")
    if d.get("_type") != STATEMENT_TYPE:
        raise Malformed(f"{what} is not an in-toto Statement v1 (_type {d.get('_type')!r})",
                        f"expected _type {STATEMENT_TYPE}")
    expected = {"_type", "subject", "predicateType", "predicate"}
    if set(d) != expected:
        raise Malformed(f"{what} has unexpected fields: {', '.join(sorted(set(d) ^ expected))}")
    if predicate_type is None and not isinstance(d["predicateType"], str):
        raise Malformed(f"{what}: predicateType must be a string")
    if predicate_type is not None and d["predicateType"] != predicate_type:
        raise Malformed(f"{what} has predicate type {d['predicateType']!r}",
                        f"ct release statements use {PREDICATE_TYPE}")
    if not isinstance(d["predicate"], dict):
        raise Malformed(f"{what}: predicate must be an object")
    subs = d["subject"]
    if not isinstance(subs, list):
        raise Malformed(f"{what}: subject must be a list")
    out: list[Subject] = []
    seen: set[str] = set()
    for i, s in enumerate(subs):
        if not isinstance(s, dict) or set(s) != {"name", "digest"} or not isinstance(s["name"], str) \
                or not isinstance(s["digest"], dict) or set(s["digest"]) != {"sha256"} \
                or not isinstance(s["digest"]["sha256"], str) or not _HEX64.match(s["digest"]["sha256"]):
            raise Malformed(f"{what}: subject {i} must be {{name, digest: {{sha256: 64 hex}}}}")
        if s["name"] in seen:
            raise Malformed(f"{what}: duplicate subject {s['name']!r}")
        seen.add(s["name"])
        out.append(Subject(s["name"], s["digest"]["sha256"]))
    if canonical_json(d) != bytes(data):
        raise Malformed(f"{what} is not canonical JSON", "statements are written by ct; was it edited?")
    if [s.name.encode() for s in out] != sorted(s.name.encode() for s in out):
        raise Malformed(f"{what}: subjects are not sorted by name")
    return Statement(tuple(out), d["predicate"], d["predicateType"], bytes(data))


# ---------------------------------------------------------------- DSSE envelope

def _b64_either(text: Any, what: str) -> bytes:
    """DSSE: verifiers accept standard or URL-safe base64 for the payload."""
    if not isinstance(text, str):
        raise Malformed(f"{what} must be a base64 string")
    try:
        raw = text.encode("ascii")
        if b"-" in raw or b"_" in raw:
            return base64.urlsafe_b64decode(raw + b"=" * (-len(raw) % 4))
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise Malformed(f"{what} is not valid base64") from None


class Envelope(Record):
    __slots__ = ("payload", "payload_type", "signatures")

    def __init__(self, payload: bytes, payload_type: str = PAYLOAD_TYPE,
                 signatures: list[Signature] | None = None) -> None:
        self.payload = payload
        self.payload_type = payload_type
        self.signatures: list[Signature] = list(signatures or [])

    def pae(self) -> bytes:
        """The bytes every signature in this envelope signs."""
        return pae(self.payload_type, self.payload)

    def to_json(self) -> dict[str, Any]:
        return {"payload": b64e(self.payload), "payloadType": self.payload_type,
                "signatures": [s.to_json() for s in self.signatures]}

    def to_bytes(self) -> bytes:
        """Canonical JSON + LF."""
        return b"".join(self.iter_bytes())

    def byte_size(self) -> int:
        """``len(self.to_bytes())`` without encoding the payload."""
        head, tail = self.around_payload()
        return len(head) + 4 * ((len(self.payload) + 2) // 3) + len(tail)

    def iter_bytes(self, chunk: int = 3 << 18) -> Any:
        """:meth:`to_bytes` in pieces: the payload's base64 is made a slice at a time (a statement can be
        megabytes).  Canonical JSON: the keys payload < payloadType < signatures, no white space."""
        head, tail = self.around_payload()
        yield head
        body = memoryview(self.payload)
        for i in range(0, len(body), chunk):
            yield base64.b64encode(body[i:i + chunk])
        yield tail

    def around_payload(self) -> tuple[bytes, bytes]:
        rest = canonical_json({"payloadType": self.payload_type, "signatures": [s.to_json() for s in self.signatures]})
        return b'{"payload":"', b'",' + rest[1:] + b"\n"

    def with_signatures(self, sigs: list[Signature]) -> Envelope:
        """A copy with ``sigs`` added; a signature already present (same alg, keyid, bytes) is not repeated."""
        merged = list(self.signatures)
        for s in sigs:
            if s not in merged:
                merged.append(s)
        merged.sort(key=lambda s: (s.alg, s.keyid, s.sig))
        return Envelope(self.payload, self.payload_type, merged)

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "DSSE envelope") -> Envelope:
        if len(data) > MAX_ENVELOPE:
            raise Malformed(f"{what} is larger than {MAX_ENVELOPE} bytes")
        d = parse_json(data, what)
        if not isinstance(d, dict):
            raise Malformed(f"{what} must be a JSON object")
        if set(d) != {"payload", "payloadType", "signatures"}:
            raise Malformed(f"{what} must have exactly payload, payloadType and signatures")
        return cls.from_fields(d, lambda: _b64_either(d["payload"], f"{what} payload"), what)

    @classmethod
    def from_fields(cls, d: dict[str, Any], payload: Any, what: str = "DSSE envelope") -> Envelope:
        """The checks of :meth:`from_bytes` past the field names; ``payload()`` gives the payload
        (decoded there, or already decoded by a streaming reader)."""
        if not isinstance(d["payloadType"], str):
            raise Malformed(f"{what}: payloadType must be a string")
        if d["payloadType"] != PAYLOAD_TYPE:
            raise Malformed(f"{what} has payload type {d['payloadType']!r}", f"ct signs {PAYLOAD_TYPE}")
        if not isinstance(d["signatures"], list):
            raise Malformed(f"{what}: signatures must be a list")
        body = payload()
        return cls(body, d["payloadType"], Signature.list_from_json(d["signatures"], what))
