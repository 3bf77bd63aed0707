"""Trust policy, ``policy.json`` (``spec/policy.md``).

Canonical JSON::

    {"type": "ct-policy", "version": 1,
     "roots":      [FINGERPRINT, ...],   pinned keyholder sets (sha256 hex of the record body)
     "checkpoints": [BODY, ...],         pinned later epochs: keyholder-set record bodies, by (name, epoch)
     "keys":       [FINGERPRINT, ...],   pinned single-holder identity keys (sha256 hex of the .pub JSON)
     "suites":     [SUITE, ...],         allowed suites; [] = any
     "signers":    [GLOB, ...],          allowed signer names (set name or key id); [] = any
     "registries": [GLOB, ...],          allowed image registries/repositories; [] = any
     "min_epoch":  N,                    lowest keyholder-set epoch accepted (0 = any)
     "min_threshold": K,                 lowest threshold k accepted (1 = any)
     "attestations": [TYPE, ...]}        predicate types a bundle must carry (absent = none)

Globs are ``fnmatch`` patterns matched case-sensitively against the whole
name (``*`` also matches ``/``).
"""

from __future__ import annotations

import fnmatch
import re
from typing import Any

from cerro_torre.suites.encoding import Record, canonical_json, parse_json, type_of
from cerro_torre.suites.errors import Malformed, PolicyRejected
from cerro_torre.suites.suite import SUITES

from .keyholders import RECORD_TYPE, KeyholderSet

POLICY_TYPE = "ct-policy"
POLICY_VERSION = 1
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
MAX_POLICY = 4 << 20
_FIELDS = ("roots", "checkpoints", "keys", "suites", "signers", "registries", "min_epoch", "min_threshold",
           "attestations")


class Policy(Record):
    __slots__ = ("roots", "checkpoints", "keys", "suites", "signers", "registries", "min_epoch", "min_threshold",
                 "path", "attestations")
    _eq = ("roots", "checkpoints", "keys", "suites", "signers", "registries", "min_epoch", "min_threshold",
           "attestations")

    def __init__(self, roots: list[str] | None = None, keys: list[str] | None = None,
                 suites: list[str] | None = None, signers: list[str] | None = None,
                 registries: list[str] | None = None, min_epoch: int = 0, min_threshold: int = 1,
                 path: str = "", attestations: list[str] | None = None,
                 checkpoints: list[KeyholderSet] | None = None) -> None:
        self.roots: list[str] = list(roots or [])
        # later epochs pinned (spec/keyholder-set.md §Checkpoints): a chain must agree with them, and the
        # closing list of each tells which releases of the epoch before it stay valid
        self.checkpoints: list[KeyholderSet] = list(checkpoints or [])
        self.keys: list[str] = list(keys or [])
        self.suites: list[str] = list(suites or [])
        self.signers: list[str] = list(signers or [])
        self.registries: list[str] = list(registries or [])
        self.min_epoch = min_epoch
        self.min_threshold = min_threshold
        self.path = path
        self.attestations: list[str] = list(attestations or [])

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"type": POLICY_TYPE, "version": POLICY_VERSION,
                               "roots": sorted(set(self.roots)), "keys": sorted(set(self.keys)),
                               "suites": sorted(set(self.suites)), "signers": sorted(set(self.signers)),
                               "registries": sorted(set(self.registries)),
                               "min_epoch": self.min_epoch, "min_threshold": self.min_threshold}
        if self.attestations:
            out["attestations"] = sorted(set(self.attestations))
        if self.checkpoints:      # absent when empty: policies without checkpoints read as before
            cps = {(r.name, r.epoch): r for r in self.checkpoints}
            out["checkpoints"] = [cps[k].body() for k in sorted(cps)]
        return out

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json()) + b"\n"

    @property
    def label(self) -> str:
        return f"policy {self.path}" if self.path else "the policy"

    @classmethod
    def from_bytes(cls, data: bytes, path: str = "") -> Policy:
        what = f"policy {path}" if path else "policy"
        d = parse_json(data, what, limit=MAX_POLICY)
        if not isinstance(d, dict) or d.get("type") != POLICY_TYPE:
            record = isinstance(d, dict) and isinstance(d.get("body"), dict) and d["body"].get("type") == RECORD_TYPE
            raise Malformed(f"{what} is not a ct policy ({type_of(d)})",
                            "this is a keyholder-set record: pin it in a policy with 'ct policy init --root FILE', "
                            "then give that policy" if record else "create one with 'ct policy init'")
        if d.get("version") != POLICY_VERSION:
            raise Malformed(f"{what} has unsupported version {d.get('version')!r}", "upgrade ct to read it")
        extra = set(d) - {"type", "version", *_FIELDS}
        if extra:
            raise Malformed(f"{what} has unknown fields: {', '.join(sorted(extra))}",
                            "known fields: " + ", ".join(_FIELDS))
        p = cls(path=path)
        for name in ("roots", "keys", "suites", "signers", "registries", "attestations"):
            v = d.get(name, [])
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                raise Malformed(f"{what}: {name} must be a list of non-empty strings")
            setattr(p, name, list(v))
        for fp in p.roots + p.keys:
            if not _HEX64.match(fp):
                raise Malformed(f"{what}: pinned fingerprint {fp!r} must be 64 lowercase hex digits",
                                "pin with 'ct policy add-root KEYHOLDERS.json'")
        cps = d.get("checkpoints", [])
        if not isinstance(cps, list):
            raise Malformed(f"{what}: checkpoints must be a list of keyholder-set record bodies")
        p.checkpoints = [KeyholderSet.from_body(b, f"{what}: checkpoint {i}") for i, b in enumerate(cps)]
        keys = [(r.name, r.epoch) for r in p.checkpoints]
        if keys != sorted(set(keys)):
            raise Malformed(f"{what}: checkpoints must be sorted by set name and epoch, one per epoch")
        for a, b in zip(p.checkpoints, p.checkpoints[1:]):
            if (a.name, a.epoch + 1) == (b.name, b.epoch) and b.previous != (a.epoch, a.fingerprint.full_hex):
                raise Malformed(f"{what}: checkpoint epoch {b.epoch} of {b.name!r} does not follow its checkpoint "
                                f"epoch {a.epoch} ({a.fingerprint.hex}): the policy pins a fork",
                                "keep the checkpoint the cooperative confirms and remove the other")
        for s in p.suites:
            if s not in SUITES:
                raise Malformed(f"{what}: unknown suite {s!r}", "valid suites: " + ", ".join(SUITES))
        for name, low in (("min_epoch", 0), ("min_threshold", 1)):
            v = d.get(name, low)
            if isinstance(v, bool) or not isinstance(v, int) or v < low:
                raise Malformed(f"{what}: {name} must be an integer >= {low}")
            setattr(p, name, v)
        return p

    def add_checkpoint(self, rec: KeyholderSet, what: str) -> bool:
        """Pin a later epoch's record (``what``: where it came from); False when it is pinned already.

        Refused: a root (UsageError), a record that does not meet its own threshold (exit 2/3), a fork of
        the policy's other checkpoints (exit 3)."""
        from cerro_torre.suites.errors import UsageError

        from .keyholders import classify
        from .trust import Known, Lineage

        if rec.previous is None:
            raise UsageError(f"{rec.describe()} is a root", f"pin it with 'ct policy add-root {what}'")
        own = rec.evaluate(rec.message(), list(rec.signatures))
        if not own.ok:
            raise classify(own, f"{rec.describe()} is not signed by its own threshold", rec.member_by_keyid(),
                           "the record was altered or is incomplete; get it from the cooperative",
                           "the signatures are by keys outside the set")
        lin = Lineage(rec.name)
        for r in self.checkpoints:
            if r.name == rec.name:
                lin.add(Known(r.name, r.epoch, r.fingerprint.full_hex, self.label, r))
        err = lin.conflict(rec, what)
        if err is not None:
            raise err
        if rec.epoch in lin.by_epoch:
            return False
        self.checkpoints.append(rec)
        return True

    @classmethod
    def load(cls, path: str) -> Policy:
        from cerro_torre.suites.errors import NotFound

        try:
            with open(path, "rb") as f:
                data = f.read(MAX_POLICY + 1)  # one byte more: a larger file is refused, not cut
        except FileNotFoundError:
            raise NotFound(f"policy not found: {path}", "create one with 'ct policy init'") from None
        except IsADirectoryError:
            raise NotFound(f"policy is a directory: {path}", "give the path of a policy.json file") from None
        return cls.from_bytes(data, path)

    # ------------------------------------------------------------------ evaluation
    def check(self, *, suite: str, signer: str, registry: str, epoch: int | None, threshold: int,
              source_kind: str, attestations: list[str] | None = None) -> list[PolicyRejected]:
        """Every rule the release breaks, in the order rules are listed; empty = accepted."""
        out: list[PolicyRejected] = []
        fix = f"if this is acceptable, change {self.path or 'the policy'}"
        if self.suites and suite not in self.suites:
            out.append(PolicyRejected(
                f"suite {suite} is not allowed by {self.label} (allowed: {', '.join(sorted(self.suites))})",
                f"get a release signed with an allowed suite, or {fix} (\"suites\")"))
        if self.signers and not any(fnmatch.fnmatchcase(signer, g) for g in self.signers):
            out.append(PolicyRejected(
                f"signer {signer!r} is not allowed by {self.label} (allowed: {', '.join(sorted(self.signers))})",
                f"if you trust this signer, run 'ct policy add-signer {signer}'"
                + (f" --policy {self.path}" if self.path else "")))
        if self.registries:
            if not registry:
                out.append(PolicyRejected(
                    f"the bundle names no registry (source kind {source_kind}) and {self.label} "
                    f"allows only: {', '.join(sorted(self.registries))}",
                    "pack the image from its registry (or an archive that records its name), or "
                    f"{fix} (\"registries\")"))
            elif not any(fnmatch.fnmatchcase(registry, g) for g in self.registries):
                out.append(PolicyRejected(
                    f"registry {registry!r} is not allowed by {self.label} "
                    f"(allowed: {', '.join(sorted(self.registries))})",
                    f"if you trust it, run 'ct policy add-registry {registry}'"
                    + (f" --policy {self.path}" if self.path else "")))
        if self.min_epoch > 0:
            if epoch is None:
                out.append(PolicyRejected(
                    f"the bundle is signed by a single key, which has no epoch; {self.label} requires "
                    f"a keyholder set of epoch >= {self.min_epoch}",
                    "get the release signed by the cooperative's keyholder set"))
            elif epoch < self.min_epoch:
                out.append(PolicyRejected(
                    f"keyholder set epoch {epoch} is below the minimum epoch {self.min_epoch} of {self.label}",
                    "this release was signed before a rotation you require; get one signed by the current set"))
        if threshold < self.min_threshold:
            out.append(PolicyRejected(
                f"threshold {threshold} is below the minimum threshold {self.min_threshold} of {self.label}",
                "get a release signed by a keyholder set with a higher threshold, or "
                f"{fix} (\"min_threshold\")"))
        for t in sorted(set(self.attestations) - set(attestations or [])):
            out.append(PolicyRejected(
                f"{self.label} requires an attestation of type {t}, and the bundle carries none",
                "ask the publisher for a release packed with it (ct pack --attest TYPE=FILE), or "
                f"{fix} (\"attestations\")"))
        return out
