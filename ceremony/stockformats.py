"""Signatures that stock tools verify (``spec/stock-signatures.md``).

The message every stock tool checks is the release statement: the exact
bytes of the DSSE payload (``statement.json`` when exported).  The one
Ed25519 key that signs (the FROST group key of a keyholder set, or a single
holder's Ed25519 identity key) signs four more messages besides the DSSE
PAE:

=================  ==============================================================
name               message signed (Ed25519, RFC 8032)
=================  ==============================================================
``signify``        the statement itself (OpenBSD ``signify -V``)
``minisign``       BLAKE2b-512(statement) (minisign's prehashed ``ED`` signature)
``ssh``            the SSHSIG signed-data blob: "SSHSIG" ‖ string(namespace) ‖
                   string("") ‖ string("sha512") ‖ string(SHA-512(statement))
``sha256sums``     the ``SHA256SUMS`` text of the statement's subjects (signify ``-C``)
``minisign-global`` the ``minisign`` signature (64 bytes) ‖ the trusted comment
=================  ==============================================================

``minisign-global`` signs the ``minisign`` signature, so it can only be
made after it: a ceremony signs :func:`first_pass_messages` (with the DSSE
PAE, in one signing round), then :func:`second_pass_messages` in a second
round.  A single holder does both passes at once at pack time.

The bundle carries the result as ``signatures/stock.json`` (a
:class:`StockRecord`); ``ct signature export`` turns it into the files each
tool reads.
"""

from __future__ import annotations

import base64
import hashlib
import re
import struct
from collections.abc import Callable, Iterator
from typing import Any

from cerro_torre.suites.encoding import b64d, b64e, canonical_json, parse_json
from cerro_torre.suites.errors import Malformed
from cerro_torre.suites.suite import keyid_of, verify_signature

from .statement import Record

RECORD_TYPE = "ct-stock-signatures"
RECORD_VERSION = 1
NAMESPACE = "cerro-torre-release"
SSH_HASH = "sha512"
FIRST_PASS = ("signify", "minisign", "ssh", "sha256sums")
SECOND_PASS = ("minisign-global",)
ALL_NAMES = FIRST_PASS + SECOND_PASS
FORMATS = ("signify", "minisign", "ssh")
_SAFE = re.compile(r"[^A-Za-z0-9._+:@/-]")


def keynum(public_key: bytes) -> bytes:
    """The 8-byte key number signify and minisign put in key and signature files:
    the first 8 bytes of SHA-256(public key), i.e. the first 16 hex digits of the ct keyid."""
    return bytes.fromhex(keyid_of(public_key))[:8]


def trusted_comment(statement: Any) -> str:
    """The minisign trusted comment: package, version and the statement's sha256 (ASCII, one line),
    built from the statement alone (its ``predicate.package``), never from anything else.

    ``statement``: its bytes, or a parsed :class:`~cerro_torre.ceremony.statement.Statement` (the
    verifier's, read as a stream: a statement of many files is not parsed a second time)."""
    from .statement import Statement, parse_statement
    from .streaming import StreamedStatement

    st = statement if isinstance(statement, (Statement, StreamedStatement)) else parse_statement(statement)
    name, version = st.package
    clean = lambda s: _SAFE.sub("_", s)[:100]  # noqa: E731
    sha = st.sha256 if isinstance(st, StreamedStatement) else hashlib.sha256(st.raw).hexdigest()
    return f"cerro-torre release {clean(name)} {clean(version)} statement-sha256:{sha}"


def _ssh_string(b: bytes) -> bytes:
    return struct.pack(">I", len(b)) + b


def sshsig_signed_data(message: bytes, namespace: str = NAMESPACE) -> bytes:
    """The blob an SSHSIG signature signs (PROTOCOL.sshsig), hash sha512."""
    return _sshsig(hashlib.sha512(message).digest(), namespace)


def _sshsig(sha512: bytes, namespace: str = NAMESPACE) -> bytes:
    return (b"SSHSIG" + _ssh_string(namespace.encode()) + _ssh_string(b"")
            + _ssh_string(SSH_HASH.encode()) + _ssh_string(sha512))


def sha256sums(statement: bytes) -> bytes:
    """``SHA256SUMS`` of the statement's subjects, in the BSD form ``signify -C`` checks:
    ``SHA256 (<name>) = <hex>`` LF, one line per subject in the statement's (sorted) order."""
    return b"".join(sha256sums_chunks(statement))


def sha256sums_chunks(statement: Any, size: int = 64 << 10) -> Iterator[bytes]:
    """:func:`sha256sums` in pieces of about ``size`` bytes, made as they are read (the text is as long as
    the statement: never held whole when its signature is checked).  ``statement``: its bytes, or a
    StreamedStatement (its subjects read again)."""
    from cerro_torre.suites.jsonstream import NotCanonical

    from .statement import parse_statement
    from .streaming import StreamedStatement, iter_subjects, read_statement_head

    given = False
    try:   # a release statement as ct writes it: its subjects walked as they are read (it can list 100,000)
        if isinstance(statement, StreamedStatement):
            subjects = statement.subjects.iter_raw()
        else:
            _predicate, _type, start = read_statement_head(statement)
            subjects = iter_subjects(statement, start)
        out = bytearray()
        for raw, _name, sha in subjects:
            out += b"SHA256 (%s) = %s\n" % (raw, sha.encode())
            if len(out) >= size:
                given = True
                yield bytes(out)
                out.clear()
        given = True
        yield bytes(out)
    except NotCanonical:
        if given:
            raise
        st = parse_statement(bytes(statement), "statement", predicate_type=None)
        yield "".join(f"SHA256 ({s.name}) = {s.sha256}\n" for s in st.subjects).encode("utf-8")


def first_pass_messages(statement: Any) -> dict[str, Any]:
    """``signify`` is the statement buffer itself (not copied: it can be megabytes).  A StreamedStatement
    (a verifier's, never held) gives StreamedMessages for ``signify`` and ``sha256sums`` and hashes the
    others as its bytes are read again."""
    from cerro_torre.suites.suite import StreamedMessage

    from .streaming import StreamedStatement

    if isinstance(statement, StreamedStatement):
        b2, s5 = hashlib.blake2b(digest_size=64), hashlib.sha512()
        for piece in statement.pieces():
            b2.update(piece)
            s5.update(piece)
        return {"signify": StreamedMessage(statement.pieces), "minisign": b2.digest(), "ssh": _sshsig(s5.digest()),
                "sha256sums": StreamedMessage(lambda: sha256sums_chunks(statement))}
    return {
        "signify": statement,
        "minisign": hashlib.blake2b(statement, digest_size=64).digest(),
        "ssh": sshsig_signed_data(statement),
        "sha256sums": sha256sums(statement),
    }


def second_pass_messages(minisign_sig: bytes, comment: str) -> dict[str, bytes]:
    if len(minisign_sig) != 64:
        raise Malformed("the minisign signature must be 64 bytes")
    return {"minisign-global": bytes(minisign_sig) + comment.encode("utf-8")}


def all_messages(statement: Any, comment: str, minisign_sig: bytes) -> dict[str, Any]:
    return {**first_pass_messages(statement), **second_pass_messages(minisign_sig, comment)}


# ====================================================================== the record in the bundle

class StockRecord(Record):
    """The Ed25519 public key (32 bytes), the trusted comment, and name -> 64-byte signature."""

    __slots__ = ("public_key", "trusted_comment", "signatures", "namespace")

    def __init__(self, public_key: bytes, trusted_comment: str, signatures: dict[str, bytes],
                 namespace: str = NAMESPACE) -> None:
        self.public_key = public_key
        self.trusted_comment = trusted_comment
        self.signatures = signatures
        self.namespace = namespace

    @property
    def keyid(self) -> str:
        return keyid_of(self.public_key)

    def to_json(self) -> dict[str, Any]:
        return {"type": RECORD_TYPE, "version": RECORD_VERSION, "alg": "ed25519",
                "public_key": b64e(self.public_key), "keyid": self.keyid, "namespace": self.namespace,
                "trusted_comment": self.trusted_comment,
                "signatures": {k: b64e(v) for k, v in sorted(self.signatures.items())}}

    def to_bytes(self) -> bytes:
        return canonical_json(self.to_json()) + b"\n"

    def check(self, statement: Any) -> list[str]:
        """Names of the signatures that do not verify over their messages (empty: all good); ``statement``:
        its bytes, or a verifier's StreamedStatement (read again for each message, never held)."""
        msgs = all_messages(statement, self.trusted_comment, self.signatures["minisign"])
        return [n for n in ALL_NAMES if not verify_signature("ed25519", self.public_key, msgs[n], self.signatures[n])]

    @classmethod
    def from_bytes(cls, data: bytes, what: str = "signatures/stock.json") -> StockRecord:
        d = parse_json(data, what)
        keys = {"type", "version", "alg", "public_key", "keyid", "namespace", "trusted_comment", "signatures"}
        if not isinstance(d, dict) or d.get("type") != RECORD_TYPE:
            raise Malformed(f"{what} is not a ct stock-signature record")
        if d.get("version") != RECORD_VERSION:
            raise Malformed(f"{what} has unsupported version {d.get('version')!r}", "upgrade ct")
        if set(d) != keys:
            raise Malformed(f"{what} has unexpected fields: {', '.join(sorted(set(d) ^ keys))}")
        if d["alg"] != "ed25519":
            raise Malformed(f"{what}: stock tools verify ed25519 only, not {d['alg']!r}")
        pk = b64d(d["public_key"], f"{what} public_key", size=32)
        if d["keyid"] != keyid_of(pk):
            raise Malformed(f"{what}: keyid does not match the public key")
        if d["namespace"] != NAMESPACE:
            raise Malformed(f"{what}: namespace must be {NAMESPACE!r}")
        tc = d["trusted_comment"]
        if not isinstance(tc, str) or "\n" in tc or "\r" in tc or len(tc.encode()) > 1000:
            raise Malformed(f"{what}: trusted_comment must be one line of at most 1000 bytes")
        sigs = d["signatures"]
        if not isinstance(sigs, dict) or set(sigs) != set(ALL_NAMES):
            raise Malformed(f"{what}: signatures must be exactly {', '.join(ALL_NAMES)}")
        raw = {k: b64d(v, f"{what} {k} signature", size=64) for k, v in sigs.items()}
        rec = cls(pk, tc, raw, d["namespace"])
        if rec.to_bytes() != bytes(data):
            raise Malformed(f"{what} is not canonical JSON")
        return rec


def sign_record(statement: bytes, comment: str, public_key: bytes,
                sign: Callable[[bytes], bytes]) -> StockRecord:
    """Both passes with one Ed25519 signing function (single holders; tests)."""
    sigs = {n: sign(m) for n, m in first_pass_messages(statement).items()}
    sigs.update({n: sign(m) for n, m in second_pass_messages(sigs["minisign"], comment).items()})
    return StockRecord(bytes(public_key), comment, sigs)


# ====================================================================== the files each tool reads

def _b64(b: bytes) -> str:
    return base64.b64encode(b).decode("ascii")


def signify_public_file(public_key: bytes, comment: str = "cerro-torre signify public key") -> str:
    return f"untrusted comment: {comment}\n{_b64(b'Ed' + keynum(public_key) + public_key)}\n"


def signify_signature_file(public_key: bytes, sig: bytes, comment: str = "verify with the cerro-torre signify key") -> str:
    return f"untrusted comment: {comment}\n{_b64(b'Ed' + keynum(public_key) + sig)}\n"


def minisign_public_file(public_key: bytes) -> str:
    kid = keynum(public_key)
    shown = "%016X" % struct.unpack("<Q", kid)[0]
    return f"untrusted comment: minisign public key {shown}\n{_b64(b'Ed' + kid + public_key)}\n"


def minisign_signature_file(rec: StockRecord, comment: str = "signature from cerro-torre") -> str:
    return (f"untrusted comment: {comment}\n"
            f"{_b64(b'ED' + keynum(rec.public_key) + rec.signatures['minisign'])}\n"
            f"trusted comment: {rec.trusted_comment}\n"
            f"{_b64(rec.signatures['minisign-global'])}\n")


def ssh_public_blob(public_key: bytes) -> bytes:
    return _ssh_string(b"ssh-ed25519") + _ssh_string(public_key)


def ssh_public_line(public_key: bytes, comment: str = "cerro-torre") -> str:
    return f"ssh-ed25519 {_b64(ssh_public_blob(public_key))} {comment}\n"


def ssh_allowed_signers(public_key: bytes, principal: str) -> str:
    return f'{principal} namespaces="{NAMESPACE}" ssh-ed25519 {_b64(ssh_public_blob(public_key))}\n'


def sshsig_file(public_key: bytes, sig: bytes, namespace: str = NAMESPACE) -> str:
    blob = (b"SSHSIG" + struct.pack(">I", 1) + _ssh_string(ssh_public_blob(public_key))
            + _ssh_string(namespace.encode()) + _ssh_string(b"") + _ssh_string(SSH_HASH.encode())
            + _ssh_string(_ssh_string(b"ssh-ed25519") + _ssh_string(sig)))
    text = _b64(blob)
    lines = [text[i:i + 70] for i in range(0, len(text), 70)]
    return "-----BEGIN SSH SIGNATURE-----\n" + "\n".join(lines) + "\n-----END SSH SIGNATURE-----\n"


def export_files(rec: StockRecord, fmt: str, stem: str, principal: str) -> dict[str, str]:
    """Relative file name -> text, for one stock format (the statement file is written separately)."""
    msg = f"{stem}.statement.json"
    if fmt == "signify":
        return {f"{stem}.signify.pub": signify_public_file(rec.public_key),
                f"{msg}.sig": signify_signature_file(rec.public_key, rec.signatures["signify"])}
    if fmt == "minisign":
        return {f"{stem}.minisign.pub": minisign_public_file(rec.public_key),
                f"{msg}.minisig": minisign_signature_file(rec)}
    if fmt == "ssh":
        return {f"{stem}.allowed_signers": ssh_allowed_signers(rec.public_key, principal),
                f"{stem}.ssh.pub": ssh_public_line(rec.public_key, principal),
                f"{msg}.sshsig": sshsig_file(rec.public_key, rec.signatures["ssh"])}
    raise Malformed(f"unknown stock format {fmt!r}", "use signify, minisign or ssh")


def sha256sums_files(rec: StockRecord, statement: bytes, stem: str) -> dict[str, bytes]:
    """``SHA256SUMS``, its embedded signify signature ``SHA256SUMS.sig`` and the key."""
    text = sha256sums(statement)
    for line in text.decode("utf-8").splitlines():
        name = line[len("SHA256 ("):line.rindex(") = ")]
        if ")" in name or len(name.encode()) > 1023:
            raise Malformed(f"payload file name {name!r} cannot be checked by signify -C",
                            "signify reads names up to 1023 bytes without ')'; check with 'ct verify' instead")
    sig = signify_signature_file(rec.public_key, rec.signatures["sha256sums"], "verify with signify -C")
    return {"SHA256SUMS": text, "SHA256SUMS.sig": sig.encode() + text,
            f"{stem}.signify.pub": signify_public_file(rec.public_key).encode()}


def verify_commands(fmt: str, stem: str, principal: str) -> str:
    """The stock command that checks the exported files (run in the export folder)."""
    msg = f"{stem}.statement.json"
    if fmt == "signify":
        return f"signify -V -p {stem}.signify.pub -x {msg}.sig -m {msg}"
    if fmt == "minisign":
        return f"minisign -V -p {stem}.minisign.pub -x {msg}.minisig -m {msg}"
    if fmt == "sha256sums":
        return f"signify -C -p {stem}.signify.pub -x SHA256SUMS.sig   (in the folder of the payload files)"
    return (f"ssh-keygen -Y verify -f {stem}.allowed_signers -I {principal} -n {NAMESPACE} "
            f"-s {msg}.sshsig < {msg}")
