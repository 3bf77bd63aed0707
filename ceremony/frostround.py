"""One FROST signing pass over several messages at once (``spec/ceremony.md`` §signing).

Each message gets its own nonce pair: a signer commits to ``count`` pairs in
round 1 and, given the signing package (the messages and everyone's
commitments), makes one share per message in round 2.  The coordinator
aggregates per message; a bad share names its sender.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e
from cerro_torre.suites.errors import Malformed, SignatureInvalid

from .message import reads_payload

_NONCE_SIZE = frost.SigningNonces._SIZE  # noqa: SLF001 - the documented fixed encoding size


def commit_batch(kp: frost.KeyPackage, count: int) -> tuple[bytes, list[frost.SigningCommitments]]:
    """Round 1 for ``count`` messages: (all nonces as one secret blob, commitments)."""
    blobs, comms = [], []
    for _ in range(count):
        n, c = frost.commit(kp)
        blobs.append(n.to_bytes())
        n.wipe()
        comms.append(c)
    return b"".join(blobs), comms


def split_nonces(blob: bytes, count: int) -> list[frost.SigningNonces]:
    size = len(blob) // count if count else 0
    if count < 1 or size * count != len(blob):
        raise Malformed("stored nonces do not match the number of messages")
    return [frost.SigningNonces.from_bytes(blob[i * size:(i + 1) * size]) for i in range(count)]


def encode_commitments(comms: Sequence[frost.SigningCommitments]) -> list[str]:
    """Compact: base64 of hiding || binding (64 bytes); the identifier is the sender's place in the set."""
    return [b64e(c.hiding + c.binding) for c in comms]


@reads_payload
def decode_commitments(items: object, count: int, identifier: int, who: str) -> list[frost.SigningCommitments]:
    if not isinstance(items, list) or len(items) != count:
        raise Malformed(f"{who}: expected {count} commitments")
    prefix = frost.SigningCommitments(identifier, bytes(32), bytes(32)).to_bytes()[:-64]
    return [frost.SigningCommitments.from_bytes(prefix + b64d(x, f"{who} commitment", size=64)) for x in items]


def encode_shares(shares: Sequence[frost.SignatureShare]) -> list[str]:
    """Compact: base64 of the 32-byte share; the identifier is the sender's place in the set."""
    return [b64e(s.share) for s in shares]


@reads_payload
def decode_shares(items: object, count: int, identifier: int, who: str) -> list[frost.SignatureShare]:
    if not isinstance(items, list) or len(items) != count:
        raise Malformed(f"share reply from {who!r} has the wrong number of shares")
    return [frost.SignatureShare(identifier, b64d(x, f"{who} share", size=32)) for x in items]


def sign_batch(messages: Sequence[bytes], commitments: Sequence[Sequence[frost.SigningCommitments]],
               nonces: Sequence[frost.SigningNonces], kp: frost.KeyPackage) -> list[frost.SignatureShare]:
    """Round 2: one share per message; ``commitments[m]`` is message m's sorted list."""
    if not (len(messages) == len(commitments) == len(nonces)):
        raise Malformed("signing package: messages, commitments and nonces differ in number")
    return [frost.sign(m, cs, n, kp) for m, cs, n in zip(messages, commitments, nonces)]


def culprits(identifiers: Sequence[int], names: Mapping[str, int] | Mapping[int, str]) -> str:
    """The members a FROST error names ("alice, carol"), from their identifiers; ``names`` maps member id to
    identifier (or identifier to member id)."""
    by_index = {v: k for k, v in names.items()} if names and isinstance(next(iter(names)), str) else dict(names)
    return ", ".join(str(by_index.get(i, i)) for i in identifiers)


def aggregate_batch(messages: Sequence[bytes], commitments: Sequence[Sequence[frost.SigningCommitments]],
                    shares: Mapping[int, Sequence[frost.SignatureShare]], pkp: frost.PublicKeyPackage,
                    names: Mapping[int, str], what: str) -> list[bytes]:
    """Aggregate every message; any bad share raises SignatureInvalid naming its senders."""
    sigs = []
    for k, (m, cs) in enumerate(zip(messages, commitments)):
        ss = [shares[c.identifier][k] for c in cs]
        try:
            sigs.append(frost.aggregate(m, cs, ss, pkp))
        except frost.InvalidSignatureShare as e:
            raise SignatureInvalid(f"invalid signature share from {culprits(e.identifiers, names)} ({what})",
                                   "that keyholder's machine or reply is faulty or malicious; "
                                   "leave them out and run the signing round again") from None
    return sigs
