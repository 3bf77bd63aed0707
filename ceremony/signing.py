"""Release signing ceremony, as pure functions (``spec/ceremony.md`` §sign).

Rounds::

    request --commit--> package --share--> package2 --share2--> signatures

* ``request``: the release statement (in-toto, from the bundle), the
  keyholder-set record (and its chain), the invited signers (>= k), and
  whether the stock-tool forms are signed too.  Keyholders recompute every
  message they sign from the statement: nothing to sign is taken on trust.
* ``commit``: FROST commitments, one nonce pair per message: the DSSE PAE,
  and with stock forms the signify, minisign and SSHSIG messages plus one
  pair for minisign's second signature.
* ``package``: the request and the commitments of the signers who answered.
* ``share``: FROST shares for the first-pass messages and the signer's
  ML-DSA-87 signature of the DSSE PAE.  The nonce pair for the second pass is
  stored again under its own slot before the reply is written.
* ``package2`` (stock forms only): the first-pass signatures, so signers can
  check the minisign signature before co-signing it with its trusted comment.
* ``share2``: the FROST shares of minisign's global signature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.keys.identity import IdentityKey
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e, canonical_json, field, parse_json, typed
from cerro_torre.suites.errors import (
    CeremonyError,
    Malformed,
    SignatureInvalid,
    UsageError,
)
from cerro_torre.suites.suite import Signature, keyid_of, verify_signature

from . import frostround, stockformats
from .message import Message
from .protocol import (
    chain_of,
    gather,
    make_bulletin,
    make_reply,
    new_ceremony_id,
    replies_in,
    request_of,
)
from .statement import PAYLOAD_TYPE, pae, parse_statement

KIND = "sign"


def open_sign(statement: bytes, name: str, version: str, records: list[KeyholderSet],
              signers: list[str] | None = None, *, stock: bool = True, ceremony: str | None = None) -> Message:
    """The coordinator's request to sign ``statement`` with the last of ``records``."""
    parse_statement(statement)
    if not records:
        raise UsageError("no keyholder set given", "pass the set's record with --group KEYHOLDERS.json")
    records = sorted(records, key=lambda r: r.epoch)
    group = records[-1]
    if group.group_public_key is None:
        raise UsageError(f"{group.describe()} has no FROST group key ({group.suite})")
    ids = [m.id for m in group.members]
    chosen = sorted(set(signers)) if signers else ids
    unknown = [s for s in chosen if s not in ids]
    if unknown:
        raise UsageError(f"not members of {group.describe()}: {', '.join(unknown)}",
                         "members: " + ", ".join(ids))
    if len(chosen) < group.threshold:
        raise UsageError(f"{len(chosen)} signers chosen; the threshold is {group.threshold}",
                         f"choose at least {group.threshold} of: " + ", ".join(ids))
    payload = {
        "participants": [m.identity.to_json() for m in group.members],
        "records": [parse_json(r.to_bytes()) for r in records],
        "release": {"name": name, "version": version, "statement": b64e(statement)},
        "signers": chosen,
        "stock": bool(stock),
    }
    return Message(ceremony or new_ceremony_id(), KIND, "request", "coordinator", payload)


@dataclass(frozen=True)
class SignPlan:
    request: Message
    records: list[KeyholderSet]
    statement: bytes
    name: str
    version: str
    signers: list[str]
    stock: bool

    @property
    def group(self) -> KeyholderSet:
        return self.records[-1]

    @property
    def index(self) -> dict[str, int]:
        return {m.id: m.index for m in self.group.members}

    @property
    def comment(self) -> str:
        return stockformats.trusted_comment(self.statement, self.name, self.version)

    def first_messages(self) -> list[tuple[str, bytes]]:
        out = [("dsse", pae(PAYLOAD_TYPE, self.statement))]
        if self.stock:
            out += sorted(stockformats.first_pass_messages(self.statement).items())
        return out

    @property
    def nonce_count(self) -> int:
        return len(self.first_messages()) + (1 if self.stock else 0)

    def pkp(self) -> frost.PublicKeyPackage:
        g = self.group
        return frost.PublicKeyPackage(g.group_public_key, {m.index: m.verification_share for m in g.members},
                                      g.threshold)

    def summary(self) -> list[str]:
        st = parse_statement(self.statement)
        g = self.group
        lines = [f"sign release {self.name} {self.version} with {g.describe()}, {g.threshold} of {len(g.members)}",
                 f"  signers invited: {', '.join(self.signers)}",
                 f"  {len(st.subjects)} file(s):"]
        for s in st.subjects:
            lines.append(f"    {s.sha256}  {s.name}")
        lines.append("  also signs the signify, minisign and ssh forms of the statement" if self.stock
                     else "  signs the DSSE statement only (no stock-tool forms)")
        return lines


def plan_of(msg: Message) -> SignPlan:
    req = request_of(msg)
    if req.kind != KIND:
        raise Malformed(f"not a signing ceremony ({req.kind})")
    p, what = req.payload, "signing request"
    recs = [KeyholderSet.from_bytes(canonical_json(r) + b"\n", "keyholder-set record")
            for r in field(p, "records", "list of objects", what)]
    if not recs:
        raise Malformed(f"{what} carries no keyholder-set record", "it was not made by 'ct ceremony sign'")
    rel = field(p, "release", "object", what)
    statement = b64d(rel.get("statement"), "statement")
    plan = SignPlan(req, sorted(recs, key=lambda r: r.epoch), statement,
                    field(rel, "name", "string", f"{what}: release"), field(rel, "version", "string", f"{what}: release"),
                    list(field(p, "signers", "list of strings", what)), field(p, "stock", "boolean", what))
    parse_statement(plan.statement)
    members = {m.id: m.identity.to_bytes() for m in plan.group.members}
    from .protocol import participants

    people = participants(req)
    if {k: v.to_bytes() for k, v in people.items()} != members:
        raise Malformed("signing request's participants are not the keyholder set's members")
    if not set(plan.signers) <= set(members) or len(plan.signers) < plan.group.threshold:
        raise Malformed("signing request names too few signers, or signers outside the set")
    return plan


def describe(msg: Message, me: str) -> list[str]:
    plan = plan_of(msg)
    lines = plan.summary()
    what = {"request": "commit to sign (no signature yet)",
            "package": "sign now: FROST shares and an ML-DSA-87 signature",
            "package2": "co-sign minisign's trusted comment (second pass)"}.get(msg.round, msg.round)
    lines.append(f"  you are {me!r}; this step: {what}")
    lines.append(f"  message fingerprint: {msg.fingerprint.hex}  {msg.fingerprint.words}")
    return lines


def _commitments(plan: SignPlan, replies: dict[str, Message]) -> list[list[frost.SigningCommitments]]:
    """Per nonce slot, the sorted commitment list of the signers in ``replies``."""
    per_signer = {}
    for mid, r in replies.items():
        cs = frostround.decode_commitments(r.payload.get("commitments"), plan.nonce_count, mid)
        if any(c.identifier != plan.index[mid] for c in cs):
            raise CeremonyError(f"{mid!r} committed under another identifier")
        per_signer[mid] = cs
    return [sorted((cs[k] for cs in per_signer.values()), key=lambda c: c.identifier)
            for k in range(plan.nonce_count)]


def _package_signers(plan: SignPlan, package: Message) -> dict[str, Message]:
    reps = {r.sender: r for r in replies_in(package)}
    if sorted(reps) != sorted(package.payload.get("signers", [])):
        raise Malformed("package's signer list does not match its commitments")
    if len(reps) < plan.group.threshold:
        raise CeremonyError(f"package has {len(reps)} signers; the threshold is {plan.group.threshold}")
    return reps


# ============================================================== coordinator

@dataclass(repr=False)
class Signed:
    """The outcome: what goes into the bundle."""

    signatures: list[Signature]
    records: list[KeyholderSet]
    stock: stockformats.StockRecord | None


def collect(msg: Message, replies: list[Message]) -> Message | Signed:
    plan = plan_of(msg)
    people = {m.id: m.identity for m in plan.group.members}
    if msg.round == "request":
        got = gather(msg, replies, "commit", people, set(plan.signers), need=plan.group.threshold)
        _commitments(plan, got)
        return make_bulletin(msg, "package", list(got.values()), {"signers": sorted(got)})
    if msg.round == "package":
        signers = _package_signers(plan, msg)
        got = gather(msg, replies, "share", people, set(signers))
        comms = _commitments(plan, signers)
        names = {plan.index[m]: m for m in signers}
        msgs = plan.first_messages()
        shares = {}
        for mid, r in got.items():
            raw = r.payload.get("shares")
            if not isinstance(raw, list) or len(raw) != len(msgs):
                raise Malformed(f"share reply from {mid!r} has the wrong number of shares")
            shares[plan.index[mid]] = [frost.SignatureShare.from_bytes(b64d(x, f"{mid} share")) for x in raw]
        sigs = frostround.aggregate_batch([m for _, m in msgs], comms[:len(msgs)], shares, plan.pkp(), names,
                                          f"release {plan.name} {plan.version}")
        for mid, r in sorted(got.items()):
            _check_member_signatures(plan, mid, r, msgs[0][1])
        first = {n: b64e(s) for (n, _), s in zip(msgs, sigs)}
        bulletin = make_bulletin(msg, "package2" if plan.stock else "done", list(got.values()), {"first": first})
        if plan.stock:
            return bulletin
        return _result(plan, bulletin, first, None)
    if msg.round == "package2":
        signers = _package_signers(plan, _of(msg, "package"))
        got = gather(msg, replies, "share2", people, set(signers))
        comms = _commitments(plan, signers)
        first = typed(msg.payload.get("first"), "object", "package2: first")
        second = stockformats.second_pass_messages(b64d(first.get("minisign"), "minisign signature"), plan.comment)
        (name, m2), = second.items()
        shares = {plan.index[mid]: [frost.SignatureShare.from_bytes(b64d(r.payload.get("share"), f"{mid} share"))]
                  for mid, r in got.items()}
        (sig2,) = frostround.aggregate_batch([m2], [comms[-1]], shares, plan.pkp(),
                                             {plan.index[m]: m for m in signers}, "minisign trusted comment")
        done = make_bulletin(msg, "done", list(got.values()), {})
        return _result(plan, done, first, {name: sig2})
    raise CeremonyError(f"nothing to collect after a {msg.round!r} message",
                        "collect takes the coordinator's last message and the replies to it")


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


def _of(msg: Message, rnd: str) -> Message:
    for m in chain_of(msg):
        if m.round == rnd:
            return m
    raise Malformed(f"message has no {rnd} in its chain")


def _result(plan: SignPlan, done: Message, first: dict[str, str], second: dict[str, bytes] | None) -> Signed:
    gpk = plan.group.group_public_key
    dsse = b64d(first.get("dsse"), "dsse signature")
    sigs = [Signature("ed25519", keyid_of(gpk), dsse)]
    for r in replies_in(_of(done, "package2") if plan.stock else done):
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
        sigmap = {n: b64d(v, n) for n, v in first.items() if n != "dsse"}
        sigmap.update(second)
        stock = stockformats.StockRecord(gpk, plan.comment, sigmap)
        bad = stock.check(plan.statement)
        if bad:
            raise CeremonyError("stock-tool signatures do not verify: " + ", ".join(bad))
    return Signed(sigs, plan.records, stock)


# ============================================================== keyholder (pure)

@dataclass
class Answer:
    reply: Message
    nonces: bytes | None = None
    nonce_slot_suffix: str = ""
    keep: dict[str, bytes] | None = None


def answer(msg: Message, me: IdentityKey, load_share: Callable[[bytes], frost.KeyPackage],
           take_nonces: Callable[..., bytes]) -> Answer:
    plan = plan_of(msg)
    if me.id not in plan.index:
        raise CeremonyError(f"{me.id!r} is not a member of {plan.group.describe()}")
    if me.id not in plan.signers:
        raise CeremonyError(f"{me.id!r} is not among the invited signers: {', '.join(plan.signers)}")
    kp = load_share(plan.group.group_public_key)
    if kp.identifier != plan.index[me.id] or kp.verifying_share != \
            next(m.verification_share for m in plan.group.members if m.id == me.id):
        raise CeremonyError("this home's share does not match its place in the keyholder set")
    if msg.round == "request":
        blob, comms = frostround.commit_batch(kp, plan.nonce_count)
        reply = make_reply(msg, "commit", me.id, {"commitments": frostround.encode_commitments(comms)})
        return Answer(reply.signed_by(me), nonces=blob)
    if msg.round == "package":
        signers = _package_signers(plan, msg)
        if me.id not in signers:
            raise CeremonyError(f"{me.id!r} is not among this package's signers",
                                "the coordinator chose others; nothing to do")
        comms = _commitments(plan, signers)
        msgs = plan.first_messages()
        blob = take_nonces()
        nonces = frostround.split_nonces(blob, plan.nonce_count)
        rest = nonces[-1].to_bytes() if plan.stock else None
        shares = frostround.sign_batch([m for _, m in msgs], comms[:len(msgs)], nonces[:len(msgs)], kp)
        for n in nonces:
            n.wipe()
        dsse = msgs[0][1]
        payload = {"shares": [b64e(s.to_bytes()) for s in shares],
                   "signatures": [s.to_json() for s in me.sign(dsse) if s.alg != "ed25519"]}
        reply = make_reply(msg, "share", me.id, payload)
        return Answer(reply.signed_by(me), nonces=rest, nonce_slot_suffix=".2")
    if msg.round == "package2":
        package = _of(msg, "package")
        signers = _package_signers(plan, package)
        if me.id not in signers:
            raise CeremonyError(f"{me.id!r} is not among this package's signers")
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
        reply = make_reply(msg, "share2", me.id, {"share": b64e(share.to_bytes())})
        return Answer(reply.signed_by(me))
    raise CeremonyError(f"a keyholder has nothing to answer to a {msg.round!r} message",
                        "pass the coordinator's latest message")
