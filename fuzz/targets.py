"""Fuzz targets: one function per parser of untrusted input (``fuzz/README.md``).

Each target takes the fuzzer's bytes and runs them through a parser the way ``ct`` does, then through
what ``ct`` does next with the result (re-serializing it, printing it, checking it).  Every input must
end in a :class:`~cerro_torre.suites.errors.CTError` other than an internal one, or in success: any
other exception, an exit code 70, or an error that is not one safe line is a finding.

:func:`run` is what both the fuzzer (``fuzz/run.py``, atheris) and the regression test
(``tests/test_fuzz_regressions.py``, over ``fuzz/corpus/<target>/``) call.  Targets whose input holds
several documents (a chain of records, a message and its replies, QR frames, the members of a bundle)
split it on :data:`SEP`.

Pointing a target at a new parser (e.g. the fountain-coded QR frames): change the one function here
that calls it (``qr_join`` for frames) and re-seed its corpus with ``fuzz/make_seeds.py``.
"""

from __future__ import annotations

import atexit
import functools
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Callable
from typing import Any

from cerro_torre.ceremony import bundle as B
from cerro_torre.ceremony import coordinator, keygen, signing
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import Journal
from cerro_torre.ceremony.statement import Envelope, make_statement, parse_statement
from cerro_torre.ceremony.stockformats import StockRecord
from cerro_torre.cli import airgap as _cli_airgap  # noqa: F401 - imported here so atheris instruments them
from cerro_torre.cli import ceremony as _cli_ceremony  # noqa: F401
from cerro_torre.cli import keys as _cli_keys  # noqa: F401
from cerro_torre.cli import policy as _cli_policy  # noqa: F401
from cerro_torre.cli import verify as _cli_verify  # noqa: F401
from cerro_torre.cli import main as _cli_main
from cerro_torre.governance.keyholders import KeyholderSet, walk_chain
from cerro_torre.governance.policy import Policy
from cerro_torre.keys import keyfile
from cerro_torre.keys.identity import IdentityKey, IdentityPublic
from cerro_torre.offline import airgap, base45, qr
from cerro_torre.suites.errors import CTError

SEP = b"\n\x00--ct-fuzz--\x00\n"

# `ct`'s argument parser is built once per process here, not once per input (it costs ~30 ms)
_cli_main.build_parser = functools.lru_cache(maxsize=1)(_cli_main.build_parser)
main = _cli_main.main


class Finding(AssertionError):
    """An input that did not end in one clear error."""


# ---------------------------------------------------------------------- scratch space and the CLI

_TMP: str | None = None


def _tmp() -> str:
    global _TMP
    if _TMP is None:
        _TMP = tempfile.mkdtemp(prefix="ct-fuzz-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
        atexit.register(shutil.rmtree, _TMP, True)
    return _TMP


def _file(name: str, data: bytes) -> str:
    path = os.path.join(_tmp(), name)
    with open(path, "wb") as f:
        f.write(data)
    return path


def cli(*argv: str, home: str | None = None, error_line: bool = True) -> int:
    """Run ``ct argv`` in-process; a Finding unless it ends in success or one safe ``error:`` line
    (``error_line=False``: or none, for ``ct explain``, which says why in its status line)."""
    out, err = io.StringIO(), io.StringIO()
    home = home or os.path.join(_tmp(), "home")
    rc = main(["--home", home, *argv], stdout=out, stderr=err)
    text = err.getvalue()
    if rc == 70:
        tb = io.StringIO()
        main(["--home", home, "-v", *argv], stdout=io.StringIO(), stderr=tb)
        raise Finding(f"ct {' '.join(argv)} exited 70:\n{tb.getvalue()}")
    lines = text.splitlines()
    errors = [x for x in lines if x.startswith("error: ")]
    if len(errors) > 1 or (rc != 0 and error_line and not errors):
        raise Finding(f"ct {' '.join(argv)} exited {rc} with {len(errors)} error lines:\n{text}")
    for line in lines + out.getvalue().splitlines():
        if not line.isprintable():
            raise Finding(f"ct {' '.join(argv)} printed a line with non-printable characters: {line!r}")
    return rc


# ---------------------------------------------------------------------- targets

def tar(data: bytes) -> None:
    """The .ctp tar reader, alone (every member read or hashed)."""
    r = B.TarReader(io.BytesIO(data), "fuzz.ctp")
    for m in r:
        if m.name.startswith(B.PAYLOAD_DIR):
            r.hash_member(hashlib.sha256())
        else:
            r.read_all(B.MAX_META, m.name)


def manifest(data: bytes) -> None:
    """manifest.toml, then what pack and verify do with it: re-serialize, build the statement."""
    m = B.parse_manifest(data)
    assert m.to_bytes() == data
    pred = B.release_predicate(m.name, m.version, m.source, hashlib.sha256(data).hexdigest())
    make_statement([(f.path, f.sha256) for f in m.files], pred)


def dsse(data: bytes) -> None:
    """A DSSE envelope and the in-toto statement inside; the bytes also as a bare statement."""
    try:
        parse_statement(data)
    except CTError:
        pass
    env = Envelope.from_bytes(data)
    env.to_bytes()
    env.pae()
    parse_statement(env.payload)


def statement_stream(data: bytes) -> None:
    """The verifier's streaming reader of a statement (``StatementReader``, fed in pieces of the size the
    first byte chooses) against the in-place reader (``read_statement``) and the strict whole-document
    parser (``parse_statement``): all three accept the same statements with the same subjects, or the
    input is a finding.  Also as an attestation (any predicate type)."""
    from cerro_torre.ceremony import streaming
    from cerro_torre.ceremony.streaming import ListDigest, StatementReader
    from cerro_torre.ceremony.statement import PREDICATE_TYPE
    from cerro_torre.suites.jsonstream import NotCanonical

    if not data:
        return
    step, stmt = 1 + data[0] % 64 * (1 + data[0] // 64 * 16), data[1:]
    for release in (True, False):
        try:
            strict = parse_statement(stmt, predicate_type=PREDICATE_TYPE if release else None)
        except CTError:
            strict = None
        try:
            inplace = streaming.read_statement(stmt, "statement", release)
        except CTError:
            inplace = None
        rd = StatementReader(release)
        try:
            for i in range(0, len(stmt), step):
                rd.feed(stmt[i:i + step])
            rd.close()
            streamed = rd
        except NotCanonical:
            streamed = None
        verdicts = (strict is not None, inplace is not None, streamed is not None)
        if len(set(verdicts)) != 1:
            raise Finding(f"statement readers disagree (strict, in place, streamed: {verdicts}, "
                          f"release={release}, pieces of {step})")
        if strict is None:
            continue
        d = ListDigest()
        for sub in strict.subjects:
            d.add(sub.name.encode(), sub.sha256.encode())
        got = {(streamed.subjects.count, streamed.subjects.digest()), (len(inplace.subjects), inplace.subjects.digest),
               (d.count, d.digest())}
        if [(x.name, x.sha256) for x in inplace.subjects] != [(x.name, x.sha256) for x in strict.subjects]:
            raise Finding(f"the in-place reader walks other subjects than the strict parser (release={release})")
        if len(got) != 1 or streamed.head[1] != strict.predicate_type or streamed.length != len(stmt):
            raise Finding(f"statement readers read different subjects or types (release={release})")


def stock(data: bytes) -> None:
    """signatures/stock.json."""
    StockRecord.from_bytes(data).to_bytes()


def keyholders(data: bytes) -> None:
    """Keyholder-set records; several (split on SEP) form a chain walked from the first one's fingerprint."""
    recs = [KeyholderSet.from_bytes(p) for p in data.split(SEP)]
    for r in recs:
        r.to_bytes()
        r.describe()
    recs.sort(key=lambda r: r.epoch)
    res = walk_chain(recs, {recs[0].fingerprint.full_hex})
    for st in res.steps:
        st.to_json()


def message(data: bytes) -> None:
    """Ceremony messages and replies: the first part is a coordinator's journal (every message and reply of
    a ceremony, what ``ct ceremony status`` and ``collect`` read) or one message; the other parts are replies
    to its last message.  Resolved, checked and described as a keyholder's ``ct ceremony step`` does, the
    transcript verified, then the replies merged as ``ct ceremony collect`` does."""
    parts = data.split(SEP)
    replies = [Message.parse(p) for p in parts[1:]]
    try:
        Message.parse(parts[0])
        return
    except CTError:
        pass
    j = Journal.from_bytes(parts[0], "fuzz.journal")
    view = j.view()
    coordinator.expected(view)
    people = coordinator.people(view)
    mod = signing if view.msg.kind == "sign" else keygen
    for me in sorted(people)[:2]:
        try:
            mod.describe(view, me)
        except CTError:
            pass
    coordinator.verified_transcript(j)
    if replies:
        coordinator.collect(j, replies)


def status(data: bytes) -> None:
    """``ct ceremony status --transcript`` of a hostile message or coordinator's journal."""
    cli("ceremony", "status", "--transcript", _file("message.ctm", data))


def qr_join(frames: list[bytes]) -> bytes:
    """The QR frame parser under test: frames in, message out.  (Point this at the new frame format.)"""
    a = qr.Assembler()
    for f in frames:
        a.feed(f)
    return a.message()


def qr_frames(data: bytes) -> None:
    """QR frames (split on SEP): base45, the frame header, reassembly; each part also as base45 text."""
    frames = data.split(SEP)
    for f in frames:
        try:
            base45.decode(f.decode("latin-1"))
        except CTError:
            pass
    qr_join(frames)


def sealed(data: bytes) -> None:
    """A sealed key file's header (what is read before any passphrase), and an identity key's plaintext."""
    try:
        IdentityKey.from_private_bytes(data).wipe()
    except CTError:
        pass
    keyfile.parse_header(data, name="fuzz.sec", allow_weak=True)


def public_key(data: bytes) -> None:
    """A public key file, as the library reads it and as ``ct key import`` takes it."""
    try:
        IdentityPublic.from_bytes(data).to_file_bytes()
    except CTError:
        pass
    home = os.path.join(_tmp(), "keyhome")
    cli("key", "import", _file("key.pub", data), home=home)
    shutil.rmtree(home, ignore_errors=True)


def policy(data: bytes) -> None:
    """policy.json: parsed and re-serialized, ``ct policy show`` and ``ct policy init --root`` of it."""
    try:
        Policy.from_bytes(data, "fuzz.json").to_bytes()
    except CTError:
        pass
    path = _file("policy.json", data)
    cli("policy", "show", "--policy", path)
    cli("--json", "policy", "show", "--policy", path)
    cli("policy", "init", "--root", path, "--policy", os.path.join(_tmp(), "new-policy.json"), "--force")


def airgap_index(data: bytes) -> None:
    """The airgap tarball's index.json."""
    airgap.make_index(airgap.parse_index(data, "fuzz.tar"))


def airgap_tar(data: bytes) -> None:
    """The airgap tarball's strict reader (names, kinds, sizes), index.json parsed when present."""
    r = airgap.AirgapReader(io.BytesIO(data), "fuzz.tar")
    for m in r:
        body = r.read_all(airgap.MAX_INDEX, m.name) if m.size <= airgap.MAX_INDEX else None
        if m.name == airgap.INDEX_NAME and body is not None:
            airgap.parse_index(body, "fuzz.tar")


def bundle_members(data: bytes) -> dict[str, bytes]:
    """A bundle's members from fuzz input: parts split on SEP, each ``name\\n`` + content."""
    members: dict[str, bytes] = {}
    for p in data.split(SEP):
        name, _, body = p.partition(b"\n")
        try:
            members[B.check_path(name.decode("utf-8"))] = body
        except (CTError, UnicodeDecodeError):
            continue
    return members


def bundle_bytes(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    w = B.TarWriter(out)
    for name in sorted(members, key=B.sort_key):
        try:
            w.add_bytes(name, members[name])
        except (ValueError, CTError):  # a name that is a prefix-path of another, etc.
            continue
    w.close()
    return out.getvalue()


def verify(data: bytes) -> None:
    """``ct verify`` and ``ct explain`` of a well-formed tar whose members (manifest, payload, envelope,
    statement, records, keys, stock record) come from the input."""
    path = _file("fuzz.ctp", bundle_bytes(bundle_members(data)))
    cli("verify", path)
    cli("explain", "--signers", "--layers", path, error_line=False)


TARGETS: dict[str, Callable[[bytes], Any]] = {
    "tar": tar,
    "manifest": manifest,
    "dsse": dsse,
    "statement_stream": statement_stream,
    "stock": stock,
    "keyholders": keyholders,
    "message": message,
    "status": status,
    "qr": qr_frames,
    "sealed": sealed,
    "public_key": public_key,
    "policy": policy,
    "airgap_index": airgap_index,
    "airgap_tar": airgap_tar,
    "verify": verify,
}


def run(target: str, data: bytes) -> None:
    """Run one input; raise for a finding (anything but success or a CTError with exit code != 70)."""
    try:
        TARGETS[target](data)
    except CTError as e:
        if e.exit_code == 70:
            raise Finding(f"{target}: {type(e).__name__} exit 70: {e.message}") from e
