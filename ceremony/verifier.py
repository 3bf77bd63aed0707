"""The streaming bundle verifier (``spec/bundle.md`` §Verification).

One sequential pass over the bundle: ``manifest.toml`` is read first, every
payload member is hashed as it streams by (large ones through a sliding
mmap window; memory stays flat), and the small ``signatures/`` members are
read at the end.  Then the checks run in this order, and the first failure
is *the* result (the others are still recorded for ``ct explain``):

=============  =====================================================  =====
step           what                                                    exit
=============  =====================================================  =====
structure      tar, names, manifest, envelope, records parse           10
trust          keyholder chain from a pinned root / trusted key        2, 3
signatures     the release threshold per algorithm; stock signatures   2, 3
policy         suites, signers, registries, min epoch, min threshold   4
integrity      manifest digest, every subject digest, no extra files   1
=============  =====================================================  =====

Attestations (``spec/attestations.md``): each must be listed by digest in the
signed release statement and carry a valid signature of the release's
Ed25519 key (signatures, exit 2); a listed one missing, an unlisted one, or
one over other subjects is an integrity failure (exit 1).
"""

from __future__ import annotations

import datetime as _dt
import hashlib
import os
import threading
from typing import Any

from cerro_torre.suites.errors import (
    CTError,
    HashMismatch,
    KeyNotTrusted,
    Malformed,
    SignatureInvalid,
)
from cerro_torre.suites.progress import NULL, Counted, Progress

from .bundle import (
    ENVELOPE,
    KEYHOLDERS_DIR,
    KEYS_DIR,
    MANIFEST,
    MAX_META,
    PAYLOAD_DIR,
    SIGNATURES_DIR,
    STOCK,
    Manifest,
    TarReader,
)
from .attest import ATT_DIR, digest_of_member, listed
from .statement import Record
from .streaming import (
    MAX_ENVELOPE,
    MAX_MANIFEST,
    FileList,
    ListDigest,
    file_chunks,
    read_envelope,
    read_manifest,
    slices,
    whole_member,
)

STEPS = ("structure", "trust", "signatures", "policy", "integrity")
PREWARM_BYTES = 64 << 20
MAX_PROBLEMS = 1000         # integrity problems listed one by one (then one line says how many more)


def _prewarm() -> None:
    """Import the signature backends in the background while the payload is hashed."""
    def run() -> None:
        try:
            import nacl.signing  # noqa: F401
            from cryptography.hazmat.primitives.asymmetric import mldsa  # noqa: F401
        except Exception:  # noqa: BLE001 - only a warm-up
            pass
    threading.Thread(target=run, name="ct-prewarm", daemon=True).start()


# ====================================================================== trust

class Trust:
    """What the verifier starts from: pinned keyholder sets (roots and checkpoints), trusted single keys,
    and what it knows of each lineage (``governance.trust.Knowledge``: the policy's checkpoints and the
    home's stored records), which only narrows trust.

    ``home_path``: the home whose *trusted keys* count (None under policy-only trust); its keys are
    read only when a single-holder bundle needs them."""

    def __init__(self, roots: set[str] | None = None, key_fingerprints: set[str] | None = None,
                 home_path: str | None = None, sources: list[str] | None = None, knowledge: Any = None) -> None:
        self.roots: set[str] = set(roots or ())                        # keyholder-set fingerprints (hex)
        self.key_fingerprints: set[str] = set(key_fingerprints or ())  # pinned identity fingerprints
        self.home_path = home_path
        self.sources: list[str] = list(sources or [])
        self.knowledge = knowledge
        self._home_keys: dict[str, Any] | None = None

    @property
    def home_keys(self) -> dict[str, Any]:
        """id -> (IdentityPublic, trust level) of the keys in the home."""
        if self._home_keys is None:
            self._home_keys = {}
            if self.home_path and os.path.isdir(os.path.join(self.home_path, "keys")):
                from cerro_torre.keys.home import Home

                home = Home(self.home_path)
                for e in home.list_keys():
                    self._home_keys[e.id] = (home.public(e.id), e.trust)
        return self._home_keys

    def trusted_key(self, pub: Any) -> bool:
        if pub.fingerprint.full_hex in self.key_fingerprints:
            return True
        entry = self.home_keys.get(pub.id)
        return bool(entry and entry[0] == pub and entry[1] in ("trusted", "ultimate"))

    def trusted_home_keys(self) -> list[Any]:
        return [pub for pub, level in self.home_keys.values() if level in ("trusted", "ultimate")]


def trust_from(home_path: str | None, policy: Any, *, policy_only: bool = False) -> Trust:
    """The trust of a verifier: the policy's roots, checkpoints and keys; the keys ``home_path`` trusts
    unless ``policy_only`` (a policy given explicitly is all the trust there is); and, to narrow it,
    the epochs the home has verified (``HOME/governance``)."""
    from cerro_torre.governance.trust import Knowledge, TrustStore

    pinned = []
    t = Trust(home_path=None if policy_only else home_path)
    if policy is not None:
        t.roots |= set(policy.roots) | {r.fingerprint.full_hex for r in policy.checkpoints}
        t.key_fingerprints |= set(policy.keys)
        t.sources.append(policy.label)
        pinned = [(r, policy.label) for r in policy.checkpoints]
    if home_path and not policy_only:
        t.sources.append(f"keys in {home_path}")
    t.knowledge = Knowledge(pinned, TrustStore(home_path) if home_path else None)
    return t


def record_verified(res: VerifyResult, home: str | None) -> list[Any]:
    """After a successful verify: the home stores the chain's verified records and advances its
    checkpoints (``governance.trust.TrustStore``), so its trust only moves forward.  Returns the new ones."""
    if not home or not res.ok or res.chain is None or not res.chain.steps:
        return []
    from cerro_torre.governance.trust import TrustStore

    return TrustStore(home).add([s.record for s in res.chain.steps], f"the chain of {os.path.basename(res.path)}")


# ====================================================================== result

class Problem(Record):
    __slots__ = ("step", "error")

    def __init__(self, step: str, error: CTError) -> None:
        self.step = step
        self.error = error

    def to_json(self) -> dict[str, Any]:
        return {"step": self.step, "exit_code": self.error.exit_code, "error": self.error.message,
                "hints": list(self.error.hints)}


class Attestation(Record):
    """An attestation of the bundle: its predicate type, the sha256 of its statement (its member's name),
    the :class:`~cerro_torre.ceremony.streaming.ListDigest` of its subjects, its signatures, and whether
    they verified.  The statement itself is not kept (it names every file, like the release statement):
    :meth:`read` reads the member again."""

    __slots__ = ("predicate_type", "sha256", "length", "subjects", "signatures", "signed", "member", "data")

    def __init__(self, predicate_type: str, sha256: str, length: int, subjects: bytes, signatures: list[Any],
                 member: tuple[str, str, int, int], data: bytes | None = None) -> None:
        self.predicate_type = predicate_type
        self.sha256 = sha256
        self.length = length                 # of the statement
        self.subjects = subjects
        self.signatures = signatures
        self.signed: bool | None = None      # None: not checked (or a set without an Ed25519 group key)
        self.member = member                 # (label, bundle path, offset, size) of the envelope member
        self.data = data                     # the member, when the bundle cannot be read twice

    def read(self) -> tuple[Any, Any]:
        """(Envelope, its PAE) read again from the bundle; Malformed when the statement is not the one
        verified (the bundle changed meanwhile)."""
        label, path, offset, size = self.member
        data = self.data
        what = f"{label}: {ATT_DIR}{self.sha256}.dsse.json"
        chunks = slices(data) if data is not None else file_chunks(path, offset, size)
        env, pae = read_envelope(chunks, size, what, (lambda: data) if data is not None else
                                 (lambda: whole_member(path, offset, size)))
        if hashlib.sha256(env.payload).hexdigest() != self.sha256:
            raise Malformed(f"{label} changed while it was being verified",
                            "something is writing to the bundle; verify a copy that nothing changes")
        return env, pae

    def message(self) -> Any:
        """The PAE its signatures are over, as a StreamedMessage: the member decoded again on each reading,
        never held; Malformed at the end of a reading when the statement is not the one verified."""
        from .streaming import pae_message, statement_pieces

        label, path, offset, size = self.member
        return pae_message(statement_pieces(*_again(path, offset, size, self.data), self.sha256,
                                            f"{label}: {ATT_DIR}{self.sha256}.dsse.json",
                                            f"{label} changed while it was being verified"), self.length)

    def to_json(self) -> dict[str, Any]:
        return {"predicate_type": self.predicate_type, "sha256": self.sha256, "signed": self.signed,
                "signatures": len(self.signatures)}


class VerifyResult:
    """Everything the verifier learnt about a bundle, and what failed (``problems``)."""

    def __init__(self, path: str) -> None:
        self.path = path
        self.size = 0
        self.manifest: Manifest | None = None
        self.manifest_sha256 = ""
        self.manifest_lists = (b"", b"")     # ListDigests of the manifest's (path, sha256) and (…, size, mode)
        self.statement: Any = None
        self.statement_sha256 = ""
        self.envelope: Any = None
        self.payload_list = b""              # ListDigest of the payload members (name, sha256, size, mode)
        self.payload_read = False            # every payload member was hashed
        self.oci_suspects: list[tuple[str, str]] = []   # OCI blobs whose content is not their name
        self.marks: dict[str, str] | None = None        # manifest path -> MISMATCH / MISSING (others ok)
        self.regular = True                  # the bundle is a regular file (it can be read again)
        self.label = os.path.basename(path)  # what messages call the bundle
        self.records: list[Any] = []
        self.key: Any = None                 # IdentityPublic of a single-holder signer
        self.stock: Any = None
        self.attestations: list[Attestation] = []
        self.chain: Any = None               # ChainResult
        self.release: Any = None             # SuiteResult of the release signatures
        self.signer: dict[str, Any] = {}
        self.names: dict[str, str] = {}      # keyid -> who
        self.problems: list[Problem] = []
        self.policy_label = ""
        self.ran: set[str] = set()           # steps that were carried out

    @property
    def error(self) -> CTError | None:
        for step in STEPS:
            for p in self.problems:
                if p.step == step:
                    return p.error
        return None

    @property
    def failed_step(self) -> str | None:
        for step in STEPS:
            if any(p.step == step for p in self.problems):
                return step
        return None

    @property
    def ok(self) -> bool:
        return not self.problems

    def fail(self, step: str, error: CTError) -> None:
        self.problems.append(Problem(step, error))

    def file_rows(self) -> Any:
        """(FileEntry, "ok" | "MISMATCH" | "MISSING") for every file of the manifest, as ``ct explain``
        lists them: the payload member's sha256 against the manifest's.  Read again from the bundle."""
        if self.manifest is None:
            return
        if self.marks is None:
            if self.payload_read and self.payload_list == self.manifest_lists[1]:
                self.marks = {}
            else:
                self.marks = {}
                _merge(self, None, self.marks)
        for f in self.manifest.files:
            yield f, self.marks.get(f.path, "ok")

    def detach(self) -> None:
        """The bundle file is about to go (a spooled standard input): hold its file list and their
        marks in memory from now on."""
        if self.manifest is not None:
            rows = list(self.file_rows())
            self.manifest.files = [f for f, _mark in rows]

    def step_status(self, step: str) -> str:
        if any(p.step == step for p in self.problems):
            return "failed"
        if step in self.ran:
            return "ok"
        if step == "policy" and not self.policy_label and "signatures" in self.ran:
            return "none"
        return "not checked"

    def to_json(self, files: bool = True) -> dict[str, Any]:
        """The ``ct verify --json`` document (``spec/verify-json.schema.json``); its ``files`` are an
        iterator over the bundle's manifest, read again on demand."""
        m = self.manifest
        err = self.error
        out: dict[str, Any] = {
            "bundle": self.path, "size": self.size, "valid": self.ok,
            "exit_code": err.exit_code if err else 0,
            "error": err.message if err else None,
            "hints": list(err.hints) if err else [],
            "failed_step": self.failed_step,
            "steps": {s: self.step_status(s) for s in STEPS},
            "problems": [p.to_json() for p in self.problems],
            "policy": self.policy_label or None,
        }
        if m is not None:
            out["package"] = {"name": m.name, "version": m.version}
            out["source"] = m.source
            out["manifest_sha256"] = self.manifest_sha256
            if files:   # an iterator: the CLI writes it one file at a time (cli.main.write_json)
                out["files"] = ({"path": f.path, "sha256": f.sha256, "size": f.size, "mode": "%04o" % f.mode,
                                 "verified": mark == "ok"} for f, mark in self.file_rows())
            out["layers"] = m.layers
        if self.statement is not None:
            out["statement_sha256"] = self.statement_sha256
        if self.envelope is not None:
            out["signatures"] = [{"alg": s.alg, "keyid": s.keyid, "signer": self.names.get(s.keyid),
                                  "bytes": len(s.sig)} for s in self.envelope.signatures]
        signer = dict(self.signer)
        if "fingerprint" in signer:
            signer["fingerprint"] = signer["fingerprint"].to_json()
        out["signer"] = signer or None
        out["release_threshold"] = self.release.to_json() if self.release is not None else None
        out["chain"] = [s.to_json() for s in self.chain.steps] if self.chain is not None else []
        fwd = self.chain.forward if self.chain is not None else None
        out["epochs"] = fwd.to_json() if fwd is not None else None
        if self.stock is not None:
            out["stock"] = {"keyid": self.stock.keyid, "trusted_comment": self.stock.trusted_comment,
                            "formats": ["signify", "minisign", "ssh", "sha256sums"]}
        out["attestations"] = [a.to_json() for a in self.attestations]
        return out


# ====================================================================== verification

def verify_bundle(path: str, trust: Trust | None, policy: Any = None, *, now: _dt.datetime | None = None,
                  progress: Progress = NULL, label: str | None = None, stream: Any = None, payload: bool = True,
                  knowledge: Any = None) -> VerifyResult:
    """Verify ``path`` (named ``label`` in messages, default its file name); never raises for a bad
    bundle (the result holds the error).

    ``stream``: the bundle as a file object read once, front to back, that leaves every byte it gives
    at ``path`` (and puts there whatever was given once its ``flush()`` returns): ``ct import`` stages
    the bundle it reads from the tarball as the verifier reads it.  ``path`` is read again for what a
    bundle file is read again for (a file listing, the differences, each attestation's signature).

    ``payload`` False: every check but the payload digests (the payload members are skipped, not
    read): what ``ct export`` runs before it carries a bundle.  ``trust`` None: the bundle's own signer
    is the trust (its first keyholder-set record, or its key) -- a check that it is signed, completely
    and consistently -- narrowed by ``knowledge``."""
    res = VerifyResult(path=path)
    res.policy_label = policy.label if policy is not None else ""
    label = res.label = label or os.path.basename(path)
    try:
        sig_members = _read(path, label, res, progress, stream, payload)
        _parse_signature_members(label, sig_members, res)
    except Malformed as e:
        if not e.hints:
            e = Malformed(e.message, "the bundle is damaged or was not made by ct; get a clean copy")
        res.fail("structure", e)
        return res
    except FileNotFoundError:
        from cerro_torre.suites.errors import NotFound

        raise NotFound(f"bundle not found: {path}", "check the path of the .ctp file") from None
    res.ran.add("structure")
    if trust is None:
        trust = Trust(roots={res.records[0].fingerprint.full_hex} if res.records else set(),
                      key_fingerprints={res.key.fingerprint.full_hex} if res.key is not None else set(),
                      sources=["the bundle's own signer"], knowledge=knowledge)
    _check_signatures(label, res, trust, now)
    if "signatures" in res.ran:
        _check_policy(res, policy)
    if payload:
        _check_integrity(label, res)
    else:
        _check_manifest(label, res)
    return res


def _read(path: str, label: str, res: VerifyResult, progress: Progress = NULL, stream: Any = None,
          payload_too: bool = True) -> dict[str, Any]:
    """The one pass: manifest streamed and folded, payload hashed and folded (skipped unless
    ``payload_too``), signature members kept (the envelope decoded straight into the buffer the
    signatures are over; each attestation checked and let go)."""
    import contextlib

    sig_members: dict[str, Any] = {}
    if stream is None and os.path.isdir(path):
        raise Malformed(f"{label} is a directory, not a bundle", "give the path of a .ctp file")
    with contextlib.nullcontext(stream) if stream is not None else open(path, "rb") as f:
        res.size = stream.size if stream is not None else os.fstat(f.fileno()).st_size
        progress.start(f"verifying {label}", res.size)
        r = TarReader(f, label)
        res.regular = r.fileno is not None or stream is not None
        payload = ListDigest()
        oci = False
        for m in r:
            if res.manifest is None:
                if m.name != MANIFEST:
                    raise Malformed(f"{label}: first member is {m.name!r}, not {MANIFEST}",
                                    "is this a .ctp bundle? (ct bundles start with manifest.toml)")
                _read_manifest(path, label, r, m, res, stream)
                oci = res.manifest.source.get("kind") in ("oci", "registry")
                if res.manifest.files.total_size >= PREWARM_BYTES:
                    _prewarm()  # overlap the crypto imports with hashing a large payload
                continue
            if m.name.startswith(PAYLOAD_DIR) and not payload_too:
                continue        # the reader skips it
            if m.name.startswith(PAYLOAD_DIR):
                rel = m.name[len(PAYLOAD_DIR):]
                h = Counted(hashlib.sha256(), progress)
                n = r.hash_member(h)
                digest = h.hexdigest()
                payload.add(rel.encode("utf-8"), digest.encode(), n, m.mode)
                if oci and _blob_mismatch(rel, digest):
                    res.oci_suspects.append((rel, digest))
            elif m.name == ENVELOPE:
                sig_members[m.name] = _read_envelope(path, label, r, m, stream)
            elif m.name.startswith(ATT_DIR):
                sig_members[m.name] = _read_attestation(path, label, r, m, stream)
            elif m.name.startswith(SIGNATURES_DIR):
                sig_members[m.name] = r.read_all(MAX_META, m.name)
            else:
                raise Malformed(f"{label}: unexpected member {m.name!r}",
                                "a bundle holds manifest.toml, payload/ and signatures/ only")
        if res.manifest is None:
            raise Malformed(f"{label} holds no {MANIFEST}", "is this a .ctp bundle?")
        res.payload_list = payload.digest()
        res.payload_read = payload_too
        if stream is not None:
            stream.flush()      # what is read again from path is there
    progress.done()
    return sig_members


def _member_source(path: str, r: TarReader, m: Any, stream: Any = None) -> tuple[Any, Any, bytes | None]:
    """(chunks now, the whole member again (None over MAX_META), the data when held) of the reader's
    current member: read again from ``path`` when it is a regular file or a ``stream`` leaves it there
    (the rest of the member is first read through), else held (at most MAX_META, as always)."""
    if stream is not None:
        def whole() -> bytes | None:
            for _ in r.chunks():
                pass
            stream.flush()
            return whole_member(path, m.offset, m.size)
        return r.chunks(256 << 10), whole, None
    if r.fileno is not None:
        return r.chunks(256 << 10), lambda: whole_member(path, m.offset, m.size), None
    data = r.read_all(MAX_META, m.name)
    return slices(data), lambda: data, data


def _read_manifest(path: str, label: str, r: TarReader, m: Any, res: VerifyResult, stream: Any) -> None:
    if m.size > MAX_MANIFEST:
        raise Malformed(f"{label}: {MANIFEST} is larger than {MAX_MANIFEST} bytes")
    chunks, whole, data = _member_source(path, r, m, stream)
    what = f"{label}: {MANIFEST}"
    rd = read_manifest(chunks, what, whole)
    name, version, source, layers = rd.head
    res.manifest_sha256 = rd.sha.hexdigest()
    res.manifest_lists = (rd.pairs.digest(), rd.entries.digest())
    files = FileList(rd.count, rd.total, res.manifest_sha256, what, path, m.offset, m.size, data)
    res.manifest = Manifest(name, version, source, files, layers, artifacts=rd.artifacts)  # type: ignore[arg-type]


def _read_envelope(path: str, label: str, r: TarReader, m: Any, stream: Any) -> Any:
    """(Envelope without its payload, StreamedStatement), or the Malformed to raise when the members are
    parsed (in name order)."""
    from .streaming import read_envelope_streamed

    if m.size > MAX_ENVELOPE:
        raise Malformed(f"{label}: {m.name} is larger than {MAX_ENVELOPE} bytes")
    chunks, whole, data = _member_source(path, r, m, stream)
    try:
        return read_envelope_streamed(chunks, f"{label}: {ENVELOPE}", whole, _again(path, m.offset, m.size, data),
                                      f"{label}: release statement", f"{label} changed while it was being verified")
    except Malformed as e:
        return e        # the reader skips what was not read


def _again(path: str, offset: int, size: int, data: bytes | None) -> tuple[Any, Any]:
    """(chunks, whole) of a member read again: from the bundle file, or ``data`` when it was held."""
    if data is not None:
        return (lambda: slices(data)), (lambda: data)
    return (lambda: file_chunks(path, offset, size)), (lambda: whole_member(path, offset, size))


def _read_attestation(path: str, label: str, r: TarReader, m: Any, stream: Any) -> Any:
    """The :class:`Attestation` of an attestation member (its statement decoded as it streams by, checked,
    folded into a digest, never held), or the Malformed to raise when the members are parsed (in name order)."""
    from .streaming import read_envelope_streamed

    what = f"{label}: {m.name}"
    if m.size > MAX_ENVELOPE:
        raise Malformed(f"{label}: {m.name} is larger than {MAX_ENVELOPE} bytes")
    chunks, whole, data = _member_source(path, r, m, stream)
    try:
        digest = digest_of_member(m.name)
        if digest is None:
            raise Malformed(f"{what}: an attestation is named {ATT_DIR}<sha256 of its statement>.dsse.json")
        env, st = read_envelope_streamed(chunks, what, whole, _again(path, m.offset, m.size, data), f"{what}: statement",
                                         f"{label} changed while it was being verified", release=False)
        if st.sha256 != digest:
            raise Malformed(f"{what} holds a statement whose sha256 is not the one in its name")
    except Malformed as e:
        return e        # the reader skips what was not read
    return Attestation(st.predicate_type, digest, st.length, st.subjects.digest, list(env.signatures),
                       (label, path, m.offset, m.size), data)


def _blob_mismatch(rel: str, digest: str) -> bool:
    import re

    mm = re.fullmatch(r"blobs/sha256/([0-9a-f]{64})", rel)
    return bool(mm) and mm.group(1) != digest


def _parse_signature_members(label: str, members: dict[str, bytes], res: VerifyResult) -> None:
    from cerro_torre.keys.identity import IdentityPublic

    if ENVELOPE not in members:
        raise Malformed(f"{label} has no {ENVELOPE}", "the bundle is incomplete; pack it again with 'ct pack'")
    for name, data in sorted(members.items()):
        what = f"{label}: {name}"
        if name == ENVELOPE:
            if isinstance(data, Malformed):
                raise data
            res.envelope, res.statement = data
            res.statement_sha256 = res.statement.sha256
        elif name.startswith(ATT_DIR):
            if isinstance(data, Malformed):
                raise data
            res.attestations.append(data)
        elif name == STOCK:
            from .stockformats import StockRecord

            res.stock = StockRecord.from_bytes(data, what)
        elif name.startswith(KEYHOLDERS_DIR):
            from cerro_torre.governance.keyholders import (
                KeyholderSet,
                record_member_name,
            )

            rec = KeyholderSet.from_bytes(data, what)
            if record_member_name(rec.epoch) != name:
                raise Malformed(f"{what} holds epoch {rec.epoch}", f"it belongs at {record_member_name(rec.epoch)}")
            res.records.append(rec)
        elif name.startswith(KEYS_DIR) and name.endswith(".pub") and name.count("/") == 2:
            if res.key is not None:
                raise Malformed(f"{label} carries more than one signer key", "a bundle has one single-holder signer")
            pub = IdentityPublic.from_bytes(data, what)
            if f"{KEYS_DIR}{pub.id}.pub" != name:
                raise Malformed(f"{what} holds key {pub.id!r}")
            res.key = pub
        else:
            raise Malformed(f"{label}: unknown member {name!r}", "this ct does not know it; upgrade ct?")
    if res.records and res.key is not None:
        raise Malformed(f"{label} carries both a keyholder chain and a single signer key")
    res.records.sort(key=lambda r: r.epoch)
    order = {d: i for i, (_t, d) in enumerate(listed(res.statement))}
    res.attestations.sort(key=lambda a: (order.get(a.sha256, len(order)), a.sha256))


def _check_signatures(label: str, res: VerifyResult, trust: Trust, now: _dt.datetime | None) -> None:
    env = res.envelope
    msg = res.statement.message()     # read again, as it goes by, for each signature
    if res.records:
        from cerro_torre.governance.keyholders import walk_chain

        chain = walk_chain(res.records, trust.roots, now, known=trust.knowledge,
                           release=res.statement_sha256, what=f"{label}'s chain")
        res.chain = chain
        cur = chain.current
        if cur is not None:
            for r in res.records:
                res.names.update(r.member_by_keyid())
            res.signer = {"kind": "keyholder-set", "name": cur.name, "suite": cur.suite, "epoch": cur.epoch,
                          "threshold": cur.threshold, "members": len(cur.members),
                          "fingerprint": cur.fingerprint, "expires": cur.expires,
                          "group_keyid": cur.group_keyid}
        if chain.error is not None:
            res.fail("structure" if isinstance(chain.error, Malformed) else "trust", chain.error)
            return
        res.ran.add("trust")
        res.release = cur.evaluate(msg, list(env.signatures))
        ed_key = cur.group_public_key
        who = f"{label}: release signatures by {cur.describe()}"
    else:
        pub = res.key
        if pub is None:
            pub = _find_home_key(env.signatures, trust)
            res.key = pub
        if pub is None:
            if not env.signatures:
                res.fail("signatures", SignatureInvalid(
                    f"{label} is not signed",
                    "sign it when packing ('ct pack ... --key ID') or in a ceremony ('ct ceremony sign')"))
                return
            kids = ", ".join(sorted({s.keyid for s in env.signatures}))
            res.fail("trust", KeyNotTrusted(
                f"{label}: no trusted key made its signatures (keyids {kids})",
                "import the signer's public key and trust it after checking its fingerprint: "
                "'ct key import KEY.pub' then 'ct key trust ID trusted'"))
            return
        for alg in pub.signing_algorithms():
            res.names[pub.keyid(alg)] = pub.id
        res.signer = {"kind": "key", "name": pub.id, "suite": pub.suite, "epoch": None, "threshold": 1,
                      "fingerprint": pub.fingerprint,
                      "trusted": trust.trusted_key(pub)}
        if not trust.trusted_key(pub):
            known = trust.home_keys.get(pub.id)
            if known is not None and known[0] != pub:
                res.fail("trust", KeyNotTrusted(
                    f"{label}: signer key {pub.id!r} ({pub.fingerprint.hex}) is not the key {pub.id!r} you have "
                    f"({known[0].fingerprint.hex})",
                    "someone else's key carries the same name; do not trust this bundle unless its owner "
                    "confirms the fingerprint"))
            else:
                level = f" (trust level {known[1]})" if known is not None else ""
                res.fail("trust", KeyNotTrusted(
                    f"{label}: signer key {pub.id!r} ({pub.fingerprint.hex}) is not trusted{level}",
                    f"check the fingerprint with its owner, then 'ct key import KEY.pub' and "
                    f"'ct key trust {pub.id} trusted' (or pin it in a policy's \"keys\")" if trust.home_path else
                    "the policy given is all the trust there is (the keys a home trusts do not count): "
                    "check the fingerprint with its owner, then pin the key in its \"keys\" "
                    "('ct policy init --key KEY.pub')"))
            return
        res.ran.add("trust")
        if not env.signatures:
            res.fail("signatures", SignatureInvalid(
                f"{label} is not signed", "sign it when packing ('ct pack ... --key ID')"))
            return
        res.release = pub.verify(msg, list(env.signatures))
        ed_key = pub.keys.get("ed25519")
        who = f"{label}: release signatures by key {pub.id!r}"
    res.ran.add("signatures")
    if not res.release.ok:
        from cerro_torre.governance.keyholders import classify

        res.fail("signatures", classify(
            res.release, who, res.names,
            "a signature does not match the statement: the bundle was altered after signing, "
            "or it was signed incompletely",
            "the signatures are by keys the signer does not hold; the bundle was re-signed by someone else"))
        return
    _check_attestation_signatures(label, res, ed_key)
    if res.stock is not None:
        if ed_key is None or res.stock.keyid != _keyid(ed_key):
            res.fail("trust", KeyNotTrusted(
                f"{label}: {STOCK} is signed by key {res.stock.keyid}, not by the release's Ed25519 key",
                "the stock-tool signatures were replaced; get a clean copy of the bundle"))
            return
        bad = res.stock.check(res.statement)
        if bad:
            res.fail("signatures", SignatureInvalid(
                f"{label}: stock-tool signature(s) {', '.join(bad)} in {STOCK} do not verify "
                f"(key {res.stock.keyid})",
                "the stock-tool signatures were altered; get a clean copy of the bundle"))
            return
        from .stockformats import trusted_comment

        want = trusted_comment(res.statement)
        if res.stock.trusted_comment != want:
            res.fail("signatures", SignatureInvalid(
                f"{label}: the minisign trusted comment in {STOCK} is not the one its statement gives "
                f"({res.stock.trusted_comment!r}, expected {want!r})",
                "stock tools would show a release the statement does not name; do not use these stock signatures"))


def _check_attestation_signatures(label: str, res: VerifyResult, ed_key: bytes | None) -> None:
    """Each attestation envelope: the release's Ed25519 key must have signed its PAE (a single
    holder's key: every algorithm of its suite).  A set without a group key has nothing to check
    here: its attestations are covered by the release statement's digests only."""
    from cerro_torre.suites.suite import verify_signature

    if res.key is None and ed_key is None:
        return
    for att in res.attestations:   # each statement read again, as it goes by, per signature (never held)
        msg = att.message()
        try:
            if res.key is not None:
                att.signed = res.key.verify(msg, att.signatures).ok
            else:
                kid = _keyid(ed_key)
                att.signed = any(s.alg == "ed25519" and s.keyid == kid
                                 and verify_signature("ed25519", ed_key, msg, s.sig) for s in att.signatures)
        except Malformed as e:
            res.fail("structure", e)
            return
        if not att.signed:
            res.fail("signatures", SignatureInvalid(
                f"{label}: attestation {att.predicate_type} ({att.sha256[:16]}…) has no valid signature by the "
                f"release key" + (f" {_keyid(ed_key)}" if ed_key is not None and res.key is None else ""),
                "the attestation's envelope was altered or not signed in the ceremony; get a clean copy"))


def _keyid(pk: bytes) -> str:
    from cerro_torre.suites.suite import keyid_of

    return keyid_of(pk)


def _find_home_key(signatures: list[Any], trust: Trust) -> Any:
    kids = {s.keyid for s in signatures}
    for pub in trust.trusted_home_keys():
        if any(pub.keyid(a) in kids for a in pub.signing_algorithms()):
            return pub
    return None


def _check_policy(res: VerifyResult, policy: Any) -> None:
    fwd = res.chain.forward if res.chain is not None else None
    if fwd is not None and fwd.error is not None:
        res.ran.add("policy")
        e = fwd.error
        res.fail("policy", type(e)(f"{os.path.basename(res.path)}: {e.message}", *e.hints))
    if policy is None or not res.signer or res.manifest is None:
        return
    res.ran.add("policy")
    kinds = [str(a.get("kind")) for a in res.manifest.artifacts] or [str(res.manifest.source.get("kind"))]
    seen = set()
    for registry, kind in zip(res.manifest.registries, kinds):   # every artifact of a multi-artifact release
        for e in policy.check(suite=res.signer["suite"], signer=res.signer["name"], registry=registry,
                              epoch=res.signer.get("epoch"), threshold=res.signer["threshold"], source_kind=kind,
                              attestations=[a.predicate_type for a in res.attestations]):
            if e.message not in seen:
                seen.add(e.message)
                res.fail("policy", e)


def _check_manifest(label: str, res: VerifyResult) -> None:
    pred = res.statement.predicate
    want = (pred.get("manifest") or {}).get("sha256") if isinstance(pred.get("manifest"), dict) else None
    if want != res.manifest_sha256:
        res.fail("integrity", HashMismatch(
            f"{label}: {MANIFEST} sha256 {res.manifest_sha256[:16]}… differs from the signed {str(want)[:16]}…",
            "the manifest was changed after signing; get a clean copy of the bundle"))


def _check_integrity(label: str, res: VerifyResult) -> None:
    st = res.statement
    res.ran.add("integrity")
    _check_manifest(label, res)
    pairs, entries = res.manifest_lists
    if st.subjects.digest == pairs and res.payload_list == entries:
        # the three lists are equal: every subject has its manifest entry and payload member, alike
        res.marks = {}
        problems: list[CTError] = []
        blobs = [HashMismatch(f"{label}: OCI blob payload/{name} does not match its own name",
                              "the image layout inside the bundle is corrupt") for name, _d in res.oci_suspects]
    elif not res.regular:
        problems = [HashMismatch(
            f"{label}: the payload does not match the signed statement",
            "do not use the bundle, get a clean copy; 'ct verify' of the copy as a file names every difference")]
        blobs = []
    else:
        res.marks = {}
        problems, blobs = _merge(res, st, res.marks)
    for p in problems[:MAX_PROBLEMS]:
        res.fail("integrity", p)
    if len(problems) > MAX_PROBLEMS:
        res.fail("integrity", HashMismatch(f"{label}: {len(problems) - MAX_PROBLEMS} more differences not listed"))
    _check_attestation_binding(label, res)
    for p in blobs[:MAX_PROBLEMS]:
        res.fail("integrity", p)


def _payload_again(res: VerifyResult) -> Any:
    """(name bytes, name, sha256, size, mode) of every payload member, read and hashed again; stops
    quietly where the bundle is malformed (the structure step reported it)."""
    label = res.label
    again = ListDigest()
    try:
        with open(res.path, "rb") as f:
            r = TarReader(f, label)
            for m in r:
                if m.name.startswith(PAYLOAD_DIR):
                    rel = m.name[len(PAYLOAD_DIR):]
                    h = hashlib.sha256()
                    n = r.hash_member(h)
                    raw, digest = rel.encode("utf-8"), h.hexdigest()
                    again.add(raw, digest.encode(), n, m.mode)
                    yield raw, rel, digest, n, m.mode
                elif m.name.startswith(SIGNATURES_DIR):
                    break
    except Malformed:
        return
    if res.payload_read and again.digest() != res.payload_list:
        raise Malformed(f"{label} changed while it was being verified",
                        "something is writing to the bundle; verify a copy that nothing changes")


def _merge(res: VerifyResult, st: Any, marks: dict[str, str]) -> tuple[list[CTError], list[CTError]]:
    """Walk the statement's subjects (none when ``st`` is None), the manifest's files and the payload
    members side by side -- all three sorted by name -- and return every difference as the error to
    report, in the order ``ct verify`` has always reported them: by subject, then payload members
    nobody signed, then manifest entries nobody signed, then OCI blobs that are not their name.
    ``marks`` gets the manifest paths whose payload member differs or is missing."""
    label = res.label
    oci = res.manifest.source.get("kind") in ("oci", "registry")
    subjects = st.subjects.iter_raw() if st is not None else iter(())
    streams = [subjects, res.manifest.files.iter_raw(), _payload_again(res)]
    heads = [next(x, None) for x in streams]
    signed: list[CTError] = []
    unsigned: list[CTError] = []
    unlisted: list[CTError] = []
    blobs: list[CTError] = []
    while any(h is not None for h in heads):
        key = min(h[0] for h in heads if h is not None)
        s, e, c = (h if h is not None and h[0] == key else None for h in heads)
        for i, h in enumerate((s, e, c)):
            if h is not None:
                heads[i] = next(streams[i], None)
        if e is not None and (c is None or c[2] != e[2]):
            marks[e[1]] = "MISMATCH" if c is not None else "MISSING"
        if st is None:
            continue
        if s is not None:
            name, digest = s[1], s[2]
            if c is None:
                signed.append(HashMismatch(f"{label}: payload/{name} is signed but missing from the bundle",
                                           "the bundle is incomplete; get a clean copy"))
            elif c[2] != digest:
                signed.append(HashMismatch(
                    f"{label}: payload/{name} sha256 {c[2][:16]}… differs from the signed {digest[:16]}…",
                    "the file was changed after signing; do not use it, get a clean copy of the bundle"))
            elif e is None or e[2] != digest:
                signed.append(HashMismatch(
                    f"{label}: payload/{name} is signed with sha256 {digest[:16]}… but {MANIFEST} says "
                    f"{e[2][:16] + '…' if e else 'nothing'}",
                    "the bundle is inconsistent; it was not made by ct pack"))
            elif c[3] != e[3] or c[4] != e[4]:
                signed.append(HashMismatch(
                    f"{label}: payload/{name} size/mode {c[3]}/{c[4]:04o} differ from the signed "
                    f"{e[3]}/{e[4]:04o}",
                    "the file's metadata was changed after signing; get a clean copy"))
        else:
            if c is not None:
                unsigned.append(HashMismatch(
                    f"{label}: payload/{c[1]} is in the bundle but not in the signed statement",
                    "a file was added after signing; do not use the bundle, get a clean copy"))
            if e is not None:
                unlisted.append(HashMismatch(
                    f"{label}: {MANIFEST} lists payload/{e[1]}, which the signed statement does not",
                    "the bundle is inconsistent; it was not made by ct pack"))
        if oci and c is not None and s is not None and s[2] == c[2] and _blob_mismatch(c[1], c[2]):
            blobs.append(HashMismatch(f"{label}: OCI blob payload/{c[1]} does not match its own name",
                                      "the image layout inside the bundle is corrupt"))
    return signed + unsigned + unlisted, blobs


def epochs_text(res: Any) -> str | None:
    """What the forward-only rules found (``ct explain``'s and the TUI's "epochs" line), or None."""
    fwd = res.chain.forward if res.chain is not None else None
    if fwd is None or fwd.newest is None:
        return None
    from cerro_torre.governance.trust import short

    n = fwd.newest
    text = f"newest known: epoch {n.epoch} ({short(n.fingerprint)}, {n.source})"
    if fwd.status == "kept":
        text += f"; epoch {fwd.closed_by.epoch} closed epoch {fwd.closed_by.epoch - 1} and kept this release"
    elif fwd.status == "refused":
        text += "; this chain ends at a closed epoch"
    return text


def _check_attestation_binding(label: str, res: VerifyResult) -> None:
    """The signed release statement lists exactly the attestations the bundle carries."""
    want = dict((d, t) for t, d in listed(res.statement))
    have = {a.sha256: a for a in res.attestations}
    for d, t in want.items():
        if d not in have:
            res.fail("integrity", HashMismatch(
                f"{label}: attestation {t} ({d[:16]}…) is signed but missing from the bundle",
                "an attestation was removed; get a clean copy of the bundle"))
        elif have[d].predicate_type != t:
            res.fail("integrity", HashMismatch(f"{label}: attestation {d[:16]}… is not of the signed type {t}"))
        elif have[d].subjects != res.statement.subjects.digest:
            res.fail("integrity", HashMismatch(
                f"{label}: attestation {t} ({d[:16]}…) names other subjects than the release statement",
                "the bundle is inconsistent; it was not made by ct pack"))
    for d in sorted(set(have) - set(want)):
        res.fail("integrity", HashMismatch(
            f"{label}: attestation {have[d].predicate_type} ({d[:16]}…) is not bound by the signed release "
            "statement", "an attestation was added after signing; do not trust it, get a clean copy"))


def attestation_lines(res: Any) -> tuple[str, list[str]]:
    """The attestations section of ``ct explain`` (and the TUI's tree): a heading and one line each."""
    states = {True: "signed", False: "NOT signed", None: "covered by the release signatures"}
    return (f"attestations {len(res.attestations)}, bound by the release statement's digests",
            [f"{a.predicate_type}  sha256 {a.sha256}  ({states[a.signed]})" for a in res.attestations])


def chain_step_lines(role: str, step: Any) -> list[str]:
    """How one record of the chain was checked, for ``ct explain`` and the TUI: its role and verdict,
    then the signatures of the epoch before (a rotation) and its own members'."""
    from cerro_torre.suites.suite import counts_text

    lines = [f"{role}: {'ok' if step.ok else step.note or 'failed'}"]
    if step.by_previous is not None:
        lines.append(f"signed by epoch {step.record.epoch - 1}: {counts_text(step.by_previous)}")
    lines.append(f"signed by its members: {counts_text(step.own)}")
    return lines


def signer_rows(res: Any) -> list[dict]:
    """Who could sign this release and who did: the rows of ``ct explain --signers`` (and the TUI's
    Verify screen).  Only the keys the release requirement counts are listed (a keyholder set's group
    key and its members' ML-DSA keys, never their identity Ed25519 keys); ``signed`` is whether any
    of a row's keys signed."""
    signed_ids = set()
    if res.release is not None:
        for r in res.release.per_alg.values():
            signed_ids |= set(r.signed)

    def keys_of(pairs: list[tuple[str, str]]) -> dict[str, dict]:
        return {alg: {"keyid": kid, "signed": kid in signed_ids} for alg, kid in pairs}

    out = []
    cur = res.chain.current if res.chain is not None else None
    if cur is not None:
        counted = {alg: set(req.keys) for alg, req in cur.requirements().items()}
        if cur.group_public_key and "ed25519" in counted:
            out.append({"id": f"{cur.name}@{cur.epoch}", "role": "group", "fingerprint": cur.fingerprint.hex,
                        "words": cur.fingerprint.words, "keys": keys_of([("ed25519", cur.group_keyid)])})
        for mem in cur.members:
            pairs = [(alg, mem.identity.keyid(alg)) for alg in mem.identity.keys
                     if mem.identity.keyid(alg) in counted.get(alg, ())]
            out.append({"id": mem.id, "role": f"member {mem.index}", "fingerprint": mem.identity.fingerprint.hex,
                        "words": mem.identity.fingerprint.words, "keys": keys_of(pairs)})
    elif res.key is not None:
        pub = res.key
        out.append({"id": pub.id, "role": "key", "fingerprint": pub.fingerprint.hex,
                    "words": pub.fingerprint.words,
                    "keys": keys_of([(alg, pub.keyid(alg)) for alg in pub.signing_algorithms()])})
    for row in out:
        row["signed"] = any(k["signed"] for k in row["keys"].values())
    return out


def signer_sections(rows: list[dict]) -> list[tuple[str, list[dict]]]:
    """The rows of :func:`signer_rows` under "signed" and "did not sign" (empty sections left out);
    members of a CT-SIG-01 set have no release key of their own: they sign through the group key."""
    sections = (("signed", [r for r in rows if r["signed"]]),
                ("did not sign", [r for r in rows if not r["signed"] and r["keys"]]),
                ("sign through the group key only", [r for r in rows if not r["keys"]]))
    return [(title, rs) for title, rs in sections if rs]
