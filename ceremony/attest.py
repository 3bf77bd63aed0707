"""Attestations in a bundle (``spec/attestations.md``).

Each attestation is an in-toto Statement v1 over the same subjects as the
release statement, in its own DSSE envelope, stored as
``signatures/attestations/<sha256 of the statement>.dsse.json``.  The
release statement binds every one of them: its predicate lists
``attestations: [{"predicateType": T, "digest": {"sha256": H}}]``, so the
hybrid release signatures (FROST group signature + k ML-DSA-87) cover them.
Each attestation envelope carries the Ed25519 signature of the release key
(the FROST group key of a keyholder set, made in the same first signing pass;
a single holder's identity key signs with every algorithm of its suite), so
a stock DSSE verifier can check one attestation alone.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import Malformed, NotFound, UsageError

from .statement import Envelope, Statement, make_statement, parse_statement

ATT_DIR = "signatures/attestations/"
SLSA_TYPE = "https://slsa.dev/provenance/v1"
BUILD_TYPE = "https://cerro-torre.org/pack/v1"
BUILDER_ID = "https://cerro-torre.org/ct/pack"
MESSAGE_PREFIX = "att:"
MAX_PREDICATE = 8 << 20
_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s\x00-\x1f\x7f]{1,500}\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def member_name(statement: bytes) -> str:
    return f"{ATT_DIR}{hashlib.sha256(statement).hexdigest()}.dsse.json"


def digest_of_member(name: str) -> str | None:
    """The sha256 a member name under ``signatures/attestations/`` announces, or None."""
    if not name.startswith(ATT_DIR) or not name.endswith(".dsse.json"):
        return None
    hexd = name[len(ATT_DIR):-len(".dsse.json")]
    return hexd if _HEX64.match(hexd) else None


def check_type(predicate_type: str) -> str:
    if not isinstance(predicate_type, str) or not _TYPE.match(predicate_type):
        raise UsageError(f"predicate type {predicate_type!r} is not a URI",
                         "use a URI such as https://example.org/my-predicate/v1")
    return predicate_type


def make(subjects: list[tuple[str, str]], predicate_type: str, predicate: dict[str, Any]) -> bytes:
    return make_statement(subjects, predicate, check_type(predicate_type))


def listing(statements: list[bytes]) -> list[dict[str, Any]]:
    """The release predicate's ``attestations`` entries, in the order given."""
    out = []
    for s in statements:
        st = parse_statement(s, "attestation", predicate_type=None)
        out.append({"predicateType": st.predicate_type, "digest": {"sha256": hashlib.sha256(s).hexdigest()}})
    return out


def listed(release: Statement) -> list[tuple[str, str]]:
    """(predicate type, sha256) the release statement binds; Malformed when the list is bad."""
    raw = release.predicate.get("attestations", [])
    if not isinstance(raw, list):
        raise Malformed("release statement: predicate.attestations must be a list")
    out = []
    for i, e in enumerate(raw):
        if not isinstance(e, dict) or set(e) != {"predicateType", "digest"} or not isinstance(e["digest"], dict) \
                or set(e["digest"]) != {"sha256"} or not isinstance(e["predicateType"], str) \
                or not isinstance(e["digest"]["sha256"], str) or not _HEX64.match(e["digest"]["sha256"]):
            raise Malformed(f"release statement: attestations[{i}] must be {{predicateType, digest: {{sha256}}}}")
        out.append((e["predicateType"], e["digest"]["sha256"]))
    if len({d for _, d in out}) != len(out):
        raise Malformed("release statement lists an attestation twice")
    return out


def signing_messages(statements: list[bytes]) -> list[tuple[str, bytes]]:
    """First-pass messages of a signing ceremony: ``att:<sha256>`` -> the envelope's PAE."""
    return [(MESSAGE_PREFIX + hashlib.sha256(s).hexdigest(), Envelope(s).pae()) for s in statements]


def summary(statements: list[bytes]) -> list[str]:
    """What a keyholder is shown: one line per attestation, derived from the bytes signed."""
    return [f"    {hashlib.sha256(s).hexdigest()}  {parse_statement(s, 'attestation', predicate_type=None).predicate_type}"
            for s in statements]


# ====================================================================== predicates

def provenance(sources: list[dict[str, Any]], name: str, version: str, user_types: list[str],
               tool_version: str) -> dict[str, Any]:
    """SLSA provenance v1 of ``ct pack``: what was packed (each source's reference and digests),
    the invocation's parameters, and the tool."""
    deps = []
    refs = []
    for s in sources:
        refs.append(s["reference"])
        deps += s["dependencies"]
    return {
        "buildDefinition": {
            "buildType": BUILD_TYPE,
            "externalParameters": {"command": "ct pack", "sources": refs, "name": name, "version": version,
                                   "attest": list(user_types)},
            "internalParameters": {"bundleFormat": "ct-bundle", "formatVersion": 1},
            "resolvedDependencies": deps,
        },
        "runDetails": {"builder": {"id": BUILDER_ID, "version": {"cerro-torre": tool_version}},
                       "metadata": {"invocationId": "ct pack " + " ".join(refs)}},
    }


def source_reference(source: Any, files: Any) -> dict[str, Any]:
    """A source's reference as the provenance records it (no absolute paths) and its digests;
    ``files`` iterates (path in the source, sha256) of its files, as packed (read once, not held)."""
    info = source.info
    kind = source.kind
    if kind == "registry":
        ref = "docker://" + info.get("image", "")
    elif kind == "oci":
        ref = "oci:" + (info.get("image") or source.default_name)
    elif kind == "docker-archive":
        ref = f"docker-archive:{info.get('name', '')}"
    else:
        ref = info.get("name", "")
    deps: list[dict[str, Any]] = []
    for m in info.get("manifests") or []:
        alg, _, hexd = m.partition(":")
        deps.append({"uri": ref, "digest": {alg: hexd}})
    if kind == "file":
        deps.append({"uri": ref, "digest": {"sha256": next(iter(files))[1]}})
    elif kind == "directory":
        h = hashlib.sha256()
        for path, sha256 in files:
            h.update(f"{sha256}  {path}\n".encode())
        deps.append({"uri": ref + "/", "digest": {"sha256": h.hexdigest()},
                     "annotations": {"digestOf": "sha256sum listing of the files, sorted by path"}})
    return {"reference": ref, "dependencies": deps}


def load_user_predicate(spec: str) -> tuple[str, dict[str, Any]]:
    """``TYPE=FILE`` of ``ct pack --attest``: the predicate type and the JSON object in FILE."""
    if "=" not in spec:
        raise UsageError(f"--attest {spec!r} is not TYPE=FILE",
                         "e.g. --attest https://example.org/test-results/v1=results.json")
    ptype, path = spec.rsplit("=", 1)
    check_type(ptype)
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_PREDICATE + 1)
    except FileNotFoundError:
        raise NotFound(f"predicate file not found: {path}", "--attest TYPE=FILE names a JSON file") from None
    if len(data) > MAX_PREDICATE:
        raise Malformed(f"predicate file {path} is larger than {MAX_PREDICATE} bytes")
    pred = parse_json(data, f"predicate file {path}", limit=MAX_PREDICATE)
    if not isinstance(pred, dict):
        raise Malformed(f"predicate file {path} must hold a JSON object")
    canonical_json(pred)
    return ptype, pred
