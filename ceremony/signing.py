"""Release signing ceremony, as pure functions (``spec/ceremony.md`` §sign).

Rounds::

    request --commit--> package --share--> package2 --share2--> signatures

* ``request``: the release statement (in-toto, from the bundle), the fingerprints of the keyholder-set
  chain from its root (the last one signs; each keyholder's home keeps it), the signing set (>= k, fixed
  from now on), and whether the stock-tool forms are signed too.  Keyholders recompute every message
  they sign from the statement: nothing to sign is taken on trust.
* ``commit``: FROST commitments, one nonce pair per message: the DSSE PAE, and with stock forms the
  signify, minisign and SSHSIG messages plus one pair for minisign's second signature.
* ``package``: the commit replies of every signer, relayed (each signed by its sender).
* ``share``: FROST shares for the first-pass messages and the signer's ML-DSA-87 signature of the DSSE
  PAE.  The nonce pair for the second pass is stored again under its own slot before the reply is written.
* ``package2`` (stock forms only): the first-pass signatures, so signers can check the minisign
  signature before co-signing it with its trusted comment; the share replies by digest only.
* ``share2``: the FROST shares of minisign's global signature.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from typing import Callable

from cerro_torre.governance.keyholders import KeyholderSet, walk_chain
from cerro_torre.governance.trust import TrustStore, fork_error
from cerro_torre.keys.identity import IdentityKey
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e, typed
from cerro_torre.suites.errors import (
    CeremonyError,
    Malformed,
    NotFound,
    SignatureInvalid,
    UsageError,
)
from cerro_torre.suites.suite import Signature, keyid_of, verify_signature

from . import attest, frostround, stockformats
from .message import COORDINATOR, Message, reads_payload
from .protocol import View, gather, make_bulletin, make_reply, new_ceremony_id
from .signedlog import SignedRelease
from .statement import PAYLOAD_TYPE, pae, parse_statement, shown

KIND = "sign"
NEVER_RESTORE = "never restore this home from a backup, or copy it, while this ceremony is open"
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")


def open_sign(statement: bytes, records: list[KeyholderSet], signers: list[str] | None = None, *,
              stock: bool = True, ceremony: str | None = None, attestations: list[bytes] = ()) -> Message:
    """The coordinator's request to sign ``statement`` with the last of ``records`` (the chain from its
    root, by fingerprint: the coordinator's journal keeps the records, each keyholder's home its own).

    ``signers`` (default: every member) is the signing set, fixed from now on: the package must carry
    every one of them and no one else (``spec/ceremony.md`` §5).  ``attestations``: the statements the release
    statement lists, signed with the group key in the same first pass (``spec/attestations.md``)."""
    name, version = parse_statement(statement).package
    if not records:
        raise UsageError("no keyholder set given", "pass the set's record with --group KEYHOLDERS.json")
    records = sorted(records, key=lambda r: r.epoch)
    group = records[-1]
    if group.group_public_key is None:
        raise UsageError(f"{group.describe()} has no FROST group key ({group.suite})")
    if [r.epoch for r in records] != list(range(1, group.epoch + 1)):
        raise UsageError(f"a signing request names the chain of {group.describe()} from its root: "
                         f"{group.epoch} record(s), not {len(records)}",
                         "pass every record from the root (ct ceremony sign completes them from this home)")
    ids = [m.id for m in group.members]
    chosen = sorted(set(signers)) if signers else ids
    unknown = [s for s in chosen if s not in ids]
    if unknown:
        raise UsageError(f"not members of {group.describe()}: {', '.join(unknown)}",
                         "members: " + ", ".join(ids))
    if len(chosen) < group.threshold:
        raise UsageError(f"{len(chosen)} signers chosen; the threshold is {group.threshold}",
                         f"choose at least {group.threshold} of: " + ", ".join(ids))
    _check_attestations(statement, list(attestations))
    payload = {
        "records": [r.fingerprint.full_hex for r in records],
        "release": {"name": name, "version": version, "statement": b64e(statement)},
        "signers": chosen,
        "stock": bool(stock),
    }
    if attestations:
        payload["release"]["attestations"] = [b64e(a) for a in attestations]  # type: ignore[index]
    return Message(ceremony or new_ceremony_id(), KIND, "request", COORDINATOR, payload)


def chain_from_root(records: list[KeyholderSet], store: TrustStore | None = None) -> list[KeyholderSet]:
    """The whole chain from the root (epoch 1) to the newest of ``records``, missing epochs taken from
    ``store`` (a home's TrustStore); links and signatures checked.  A verifier pinned to the root needs
    every record, so a chain that cannot be completed is refused (exit 21), never silently cut."""
    if not records:
        raise UsageError("no keyholder set given", "pass the set's record with --group KEYHOLDERS.json")
    last = max(records, key=lambda r: r.epoch)
    by_epoch: dict[int, KeyholderSet] = {}
    for r in records:
        if r.name != last.name:
            raise UsageError(f"the records given are of two keyholder sets, {r.name!r} and {last.name!r}",
                             "pass the records of one set only")
        have = by_epoch.setdefault(r.epoch, r)
        if have.fingerprint.full_hex != r.fingerprint.full_hex:
            raise fork_error(r.name, r.epoch, have.fingerprint.full_hex, "--group", r.fingerprint.full_hex, "--group")
    for e in range(last.epoch - 1, 0, -1):
        if e not in by_epoch:
            r = store.record_at(last.name, e) if store is not None else None
            if r is None:
                raise NotFound(f"the chain of {last.describe()} from its root is incomplete: no record of epoch {e}",
                               "verifiers pinned to the root need every record: pass each one with --group, or keep "
                               "them in this home (a verified bundle that carries them, or 'ct ceremony step RECORD')")
            by_epoch[e] = r
    chain = [by_epoch[e] for e in sorted(by_epoch)]
    res = walk_chain(chain, {chain[0].fingerprint.full_hex})
    if res.error is not None:
        raise res.error
    return chain


@dataclass(frozen=True)
class SignPlan:
    request: Message
    chain: list[str]            # fingerprints of the records from the root; the last signs
    group: KeyholderSet         # the record that signs
    statement: bytes
    name: str
    version: str
    signers: list[str]
    stock: bool
    attestations: tuple[bytes, ...] = ()

    @property
    def index(self) -> dict[str, int]:
        return {m.id: m.index for m in self.group.members}

    @property
    def people(self) -> dict[str, object]:
        return {m.id: m.identity for m in self.group.members}

    @property
    def comment(self) -> str:
        return stockformats.trusted_comment(self.statement)

    def first_messages(self) -> list[tuple[str, bytes]]:
        out = [("dsse", pae(PAYLOAD_TYPE, self.statement))]
        if self.stock:
            out += sorted(stockformats.first_pass_messages(self.statement).items())
        return out + attest.signing_messages(list(self.attestations))

    @property
    def nonce_count(self) -> int:
        return len(self.first_messages()) + (1 if self.stock else 0)

    def pkp(self) -> frost.PublicKeyPackage:
        g = self.group
        return frost.PublicKeyPackage(g.group_public_key, {m.index: m.verification_share for m in g.members},
                                      g.threshold)

    def summary(self) -> list[str]:
        """What a signer approves, every line from the statement that is signed (never from other fields)."""
        st = parse_statement(self.statement)
        g = self.group
        name, version = (shown(x) for x in st.package)
        lines = [f"sign release {name} {version} with {g.describe()}, {g.threshold} of {len(g.members)}",
                 f"  the release statement, sha256 {hashlib.sha256(self.statement).hexdigest()}:"]
        lines += ["    " + x for x in st.describe()]
        if self.stock:
            lines += ["  the group key also signs the stock-tool forms of this statement:",
                      f"    signify, and ssh-keygen -Y (namespace {stockformats.NAMESPACE}): the statement itself",
                      f"    minisign, with the trusted comment: {self.comment}",
                      "    SHA256SUMS (signify -C): the sha256 of every file listed above"]
        else:
            lines.append("  the DSSE statement only (no stock-tool forms)")
        if self.attestations:
            lines.append(f"  {len(self.attestations)} attestation(s), bound by the statement's digests and "
                         "signed with the group key:")
            lines += attest.summary(list(self.attestations))
        lines.append(f"  signers: {', '.join(self.signers)} (every one must answer; the set is fixed when you commit)")
        return lines


@reads_payload
def plan_of(view: View) -> SignPlan:
    req = view.request
    if req.kind != KIND:
        raise Malformed(f"not a signing ceremony ({req.kind})")
    p = req.payload
    try:
        chain = list(p["records"])
        rel = p["release"]
        statement = b64d(rel["statement"], "statement")
        name, version, signers, stock = rel["name"], rel["version"], list(p["signers"]), p["stock"]
        atts = tuple(b64d(a, "attestation") for a in rel.get("attestations", []))
    except (KeyError, TypeError, AttributeError):
        raise Malformed("signing request is missing fields", "it was not made by 'ct ceremony sign'") from None
    if set(rel) - {"name", "version", "statement", "attestations"} or set(p) != {"records", "release", "signers", "stock"} or not chain or \
            not all(isinstance(f, str) and _HEX64.match(f) for f in chain) or not isinstance(stock, bool):
        raise Malformed("signing request has unexpected or malformed fields", "it was not made by 'ct ceremony sign'")
    typed(signers, "list of strings", "signing request: signers")
    typed(name, "string", "signing request: release name")
    typed(version, "string", "signing request: release version")
    group = view.history.record(chain[-1], req)
    if group.epoch != len(chain):
        raise Malformed(f"signing request names {len(chain)} record(s) for a chain ending at epoch {group.epoch}",
                        "a signing request names the chain from its root")
    st_name, st_version = parse_statement(statement).package
    if (name, version) != (st_name, st_version):
        raise CeremonyError(f"the request names release {shown(name)} {shown(version)}, but the "
                            f"statement it signs is {shown(st_name)} {shown(st_version)}",
                            "the coordinator's request contradicts what would be signed; refuse it and tell "
                            "the other keyholders")
    _check_attestations(statement, list(atts))
    plan = SignPlan(req, chain, group, statement, name, version, signers, stock, atts)
    if group.group_public_key is None:
        raise Malformed(f"{group.describe()} has no FROST group key")
    outside = [x for x in signers if x not in plan.index]
    if outside:
        raise CeremonyError(f"the request invites {', '.join(map(shown, outside))}, not members of {group.describe()}",
                            "the coordinator's request is inconsistent; refuse it and tell the other keyholders")
    if signers != sorted(set(signers)) or len(signers) < group.threshold:
        raise Malformed("signing request names too few signers, or signers twice")
    return plan


def _check_attestations(statement: bytes, attestations: list[bytes]) -> None:
    """The attestations to sign must be exactly those the release statement lists, with its subjects."""
    release = parse_statement(statement)
    want = attest.listed(release)
    if [(e["predicateType"], e["digest"]["sha256"]) for e in attest.listing(attestations)] != want:
        raise Malformed("the attestations to sign are not the ones the release statement lists",
                        "the request was altered or badly made; refuse it")
    for a in attestations:
        if parse_statement(a, "attestation", predicate_type=None).subjects != release.subjects:
            raise Malformed("an attestation to sign has other subjects than the release statement")


def describe(view: View, me: str) -> list[str]:
    plan = plan_of(view)
    lines = plan.summary()
    msg = view.msg
    if msg.round in ("package", "package2"):
        _package_signers(plan, view, me)
    what = {"request": "commit to sign (no signature yet)",
            "package": "sign now: FROST shares and an ML-DSA-87 signature",
            "package2": "co-sign minisign's trusted comment (second pass)"}.get(msg.round, msg.round)
    lines.append(f"  you are {me!r}; this step: {what}")
    lines.append(f"  {NEVER_RESTORE}")
    lines.append(f"  message fingerprint: {msg.fingerprint.hex}  {msg.fingerprint.words}")
    return lines


def _commitments(plan: SignPlan, replies: dict[str, Message]) -> list[list[frost.SigningCommitments]]:
    """Per nonce slot, the sorted commitment list of the signers in ``replies``."""
    per_signer = {mid: frostround.decode_commitments(r.payload.get("commitments"), plan.nonce_count,
                                                     plan.index[mid], mid)
                  for mid, r in replies.items()}
    seen: dict[bytes, str] = {}
    for mid, cs in sorted(per_signer.items()):
        for c in cs:
            other = seen.setdefault(c.hiding, mid)
            if other != mid:
                raise CeremonyError(f"{mid!r} sent the same commitments as {other!r}",
                                    "a reply copied from another member; leave it out")
    return [sorted((cs[k] for cs in per_signer.values()), key=lambda c: c.identifier)
            for k in range(plan.nonce_count)]


def _package_signers(plan: SignPlan, view: View, me: str = "") -> dict[str, Message]:
    """The commit replies the package relays: exactly the invited set (checked), each once."""
    reps = {}
    for r in view.replies(view.of("package")):
        if r.sender in reps:
            raise CeremonyError(f"package message relays two replies from {r.sender!r}",
                                "the coordinator's message is malformed or forged; refuse it")
        reps[r.sender] = r
    if len(reps) < plan.group.threshold:
        raise CeremonyError(f"package has {len(reps)} signers; the threshold is {plan.group.threshold}")
    if sorted(reps) != plan.signers:
        who = f"{me!r}" if me else "the signers"
        raise CeremonyError(f"this package's signers ({', '.join(sorted(reps))}) are not the set invited when "
                            f"{who} committed ({', '.join(plan.signers)})",
                            "a copy of a home answering another set could leak its key share; the coordinator "
                            "must open a new signing ceremony to sign with other members")
    return reps


# ============================================================== coordinator

@dataclass(repr=False)
class Signed:
    """The outcome: what goes into the bundle."""

    signatures: list[Signature]
    records: list[KeyholderSet]
    stock: stockformats.StockRecord | None
    attestations: dict[str, list[Signature]] = field(default_factory=dict)   # statement sha256 -> signatures


def collect(view: View, replies: list[Message]) -> Message | Signed:
    plan = plan_of(view)
    msg = view.msg
    people = plan.people
    if msg.round == "request":
        got = gather(msg, replies, "commit", people, set(plan.signers))
        _commitments(plan, got)
        return make_bulletin(msg, "package", list(got.values()), {})
    if msg.round == "package":
        signers = _package_signers(plan, view)
        got = gather(msg, replies, "share", people, set(signers))
        comms = _commitments(plan, signers)
        names = {plan.index[m]: m for m in signers}
        msgs = plan.first_messages()
        shares = {plan.index[mid]: frostround.decode_shares(r.payload.get("shares"), len(msgs), plan.index[mid], mid)
                  for mid, r in got.items()}
        sigs = frostround.aggregate_batch([m for _, m in msgs], comms[:len(msgs)], shares, plan.pkp(), names,
                                          f"release {plan.name} {plan.version}")
        for mid, r in sorted(got.items()):
            _check_member_signatures(plan, mid, r, msgs[0][1])
        first = {n: b64e(s) for (n, _), s in zip(msgs, sigs)}
        if plan.stock:
            return make_bulletin(msg, "package2", list(got.values()), {"first": first}, relay=False)
        return _result(view, plan, list(got.values()), first, None)
    if msg.round == "package2":
        signers = _package_signers(plan, view)
        got = gather(msg, replies, "share2", people, set(signers))
        comms = _commitments(plan, signers)
        first = typed(msg.payload.get("first"), "object", "package2: first")
        second = stockformats.second_pass_messages(b64d(first.get("minisign"), "minisign signature"), plan.comment)
        (name, m2), = second.items()
        shares = {plan.index[mid]: frostround.decode_shares([r.payload.get("share")], 1, plan.index[mid], mid)
                  for mid, r in got.items()}
        (sig2,) = frostround.aggregate_batch([m2], [comms[-1]], shares, plan.pkp(),
                                             {plan.index[m]: m for m in signers}, "minisign trusted comment")
        return _result(view, plan, view.replies(msg), first, {name: sig2})
    raise CeremonyError(f"nothing to collect after a {msg.round!r} message",
                        "collect takes the coordinator's last message and the replies to it")


@reads_payload
def _check_member_signatures(plan: SignPlan, mid: str, reply: Message, dsse: bytes) -> None:
    """A signer's per-member signatures (ML-DSA-87) of the DSSE PAE: one per algorithm, valid, by its own key."""
    member = next(m for m in plan.group.members if m.id == mid)
    want = [a for a in plan.group.requirements() if a != "ed25519"]
    raw = reply.payload.get("signatures")
    if not isinstance(raw, list):
        raise Malformed(f"share reply from {mid!r} has no signatures list")
    sigs = [Signature.from_json(x) for x in raw]
    for alg in want:
        mine = [x for x in sigs if x.alg == alg]
        pk = member.identity.keys[alg]
        if len(mine) != 1 or mine[0].keyid != keyid_of(pk) or not verify_signature(alg, pk, dsse, mine[0].sig):
            raise SignatureInvalid(f"invalid {alg} signature from {mid} (release {plan.name} {plan.version})",
                                   "that keyholder's machine or reply is faulty or malicious; "
                                   "leave them out and run the signing round again")


@reads_payload
def _result(view: View, plan: SignPlan, share_replies: list[Message], first: dict[str, str],
            second: dict[str, bytes] | None) -> Signed:
    gpk = plan.group.group_public_key
    dsse = b64d(first.get("dsse"), "dsse signature")
    sigs = [Signature("ed25519", keyid_of(gpk), dsse)]
    for r in share_replies:
        for s in typed(r.payload.get("signatures", []), "list", f"signatures from {r.sender}"):
            sigs.append(Signature.from_json(s))
    msg = pae(PAYLOAD_TYPE, plan.statement)
    res = plan.group.evaluate(msg, sigs)
    if not res.ok:
        names = plan.group.member_by_keyid()
        lines = "; ".join(res.explain())
        for keyid, name in names.items():
            lines = lines.replace(keyid, name)
        raise CeremonyError("the release is not signed by the threshold: " + lines,
                            "a signer's ML-DSA-87 signature is missing or invalid")
    stock = None
    if second is not None:
        sigmap = {n: b64d(v, n) for n, v in first.items() if n in stockformats.FIRST_PASS}
        sigmap.update(second)
        stock = stockformats.StockRecord(gpk, plan.comment, sigmap)
        bad = stock.check(plan.statement)
        if bad:
            raise CeremonyError("stock-tool signatures do not verify: " + ", ".join(bad))
    records = [view.history.record(fp, plan.request) for fp in plan.chain]
    atts = {n[len(attest.MESSAGE_PREFIX):]: [Signature("ed25519", keyid_of(gpk), b64d(v, n))]
            for n, v in first.items() if n.startswith(attest.MESSAGE_PREFIX)}
    return Signed(sigs, records, stock, atts)


# ============================================================== keyholder (pure)

@dataclass
class Answer:
    reply: Message
    nonces: bytes | None = None
    nonce_slot_suffix: str = ""
    keep: dict[str, bytes] | None = None
    signed: SignedRelease | None = None     # the release this answer signed (logged before the reply leaves)


def answer(view: View, me: IdentityKey, load_share: Callable[[KeyholderSet], frost.KeyPackage],
           take_nonces: Callable[..., bytes]) -> Answer:
    plan = plan_of(view)
    msg = view.msg
    if me.id not in plan.index:
        raise CeremonyError(f"{me.id!r} is not a member of {plan.group.describe()}")
    if me.id not in plan.signers:
        raise CeremonyError(f"{me.id!r} is not among the invited signers: {', '.join(plan.signers)}")
    kp = load_share(plan.group)
    if kp.identifier != plan.index[me.id] or kp.verifying_share != \
            next(m.verification_share for m in plan.group.members if m.id == me.id):
        raise CeremonyError("this home's share does not match its place in the keyholder set")
    if msg.round == "request":
        blob, comms = frostround.commit_batch(kp, plan.nonce_count)
        reply = make_reply(msg, "commit", me.id, {"commitments": frostround.encode_commitments(comms)})
        return Answer(reply.signed_by(me), nonces=blob)
    if msg.round == "package":
        signers = _package_signers(plan, view, me.id)
        comms = _commitments(plan, signers)
        msgs = plan.first_messages()
        blob = take_nonces()
        nonces = frostround.split_nonces(blob, plan.nonce_count)
        rest = nonces[-1].to_bytes() if plan.stock else None
        shares = frostround.sign_batch([m for _, m in msgs], comms[:len(msgs)], nonces[:len(msgs)], kp)
        for n in nonces:
            n.wipe()
        dsse = msgs[0][1]
        payload = {"shares": frostround.encode_shares(shares),
                   "signatures": [s.to_json() for s in me.sign(dsse) if s.alg != "ed25519"]}
        reply = make_reply(msg, "share", me.id, payload)
        g = plan.group
        signed = SignedRelease(msg.ceremony, g.name, g.epoch, g.fingerprint.full_hex, f"{plan.name} {plan.version}",
                               hashlib.sha256(plan.statement).hexdigest())
        return Answer(reply.signed_by(me), nonces=rest, nonce_slot_suffix=".2", signed=signed)
    if msg.round == "package2":
        signers = _package_signers(plan, view, me.id)
        first = msg.payload.get("first")
        if not isinstance(first, dict):
            raise Malformed("package2 has no first-pass signatures")
        for name, m in plan.first_messages():
            if not verify_signature("ed25519", plan.group.group_public_key, m, b64d(first.get(name), name)):
                raise CeremonyError(f"the first-pass {name} signature in package2 does not verify",
                                    "the coordinator's message is wrong; refuse it")
        ((_, m2),) = stockformats.second_pass_messages(b64d(first["minisign"], "minisign"), plan.comment).items()
        comms = _commitments(plan, signers)
        (nonce,) = frostround.split_nonces(take_nonces(".2"), 1)
        (share,) = frostround.sign_batch([m2], [comms[-1]], [nonce], kp)
        reply = make_reply(msg, "share2", me.id, {"share": frostround.encode_shares([share])[0]})
        return Answer(reply.signed_by(me))
    raise CeremonyError(f"a keyholder has nothing to answer to a {msg.round!r} message",
                        "pass the coordinator's latest message")
