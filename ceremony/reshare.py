"""Dealings that keep the group key: a keep-key rotation (reshare) and a refresh (``spec/ceremony.md`` §3).

Both replace the DKG's first two rounds by one *deal* round::

    request --deal--> round1 --confirm--> package --sign--> record

* **reshare** (``ct ceremony rotate --keep-key``): each member of the outgoing epoch's signing set
  (``old_signers``, at least its threshold, fixed in the request) deals a VSS sharing of its
  Lagrange-weighted share to the members of the new set with the new threshold
  (``frost.reshare_deal``); each new member checks every dealing against the outgoing verifying
  shares and sums its shares (``frost.reshare_finish``), anyone derives the new verifying shares
  (``frost.reshare_public_key_package``), and the group key is the old one.
* **refresh** (``ct ceremony refresh``): every member deals a sharing of zero to every member
  (``frost.refresh_deal``) and adds what it received (``frost.refresh_finish``): same members, same
  threshold, same group key, new shares; old and new shares do not combine.

A deal reply carries the public dealing (``package``: the commitment to the dealer's polynomial) and
the dealer's share for each other recipient sealed to its X25519 key (``shares``, by the recipient's
identifier in the new set); a dealer that is also a recipient keeps its own share sealed in its home
until the confirm round.  The round-1 bulletin relays the deal replies verbatim.  What the outgoing
group's public key package is (``kept_key`` of a keep-key request: the group key, the old threshold and
the dealers' verifying shares; for a refresh, the previous record) is checked by every home that keeps
the previous record, and the confirm round compares the record every member derived.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from cerro_torre.keys.identity import IdentityKey, seal_to
from cerro_torre.suites import frost
from cerro_torre.suites.encoding import b64d, b64e
from cerro_torre.suites.errors import CeremonyError, Malformed

from . import frostround
from .message import Message, reads_payload
from .protocol import View

if TYPE_CHECKING:
    from .keygen import Plan

OWN_SHARE = "deal-self"        # the name under which a dealer keeps the share it dealt itself


def _cls(plan: Plan) -> type:
    return frost.ResharePackage if plan.method == "reshare" else frost.RefreshPackage


def old_package(plan: Plan) -> frost.PublicKeyPackage:
    """The outgoing group's public key package the dealings are checked against."""
    k = plan.kept
    if k is None:
        raise Malformed("this ceremony keeps no group key")
    return frost.PublicKeyPackage(k.group_public_key, {plan.old[mid]: y for mid, y in k.verifying_shares.items()},
                                  k.threshold)


def recipients(plan: Plan) -> dict[str, int]:
    """Who receives a share of each dealing: the new set's members, by their identifier in it."""
    return dict(plan.new)


def deal(plan: Plan, me: IdentityKey, old_share: frost.KeyPackage) -> tuple[dict[str, Any], dict[str, bytes]]:
    """A dealer's deal payload and what it keeps (its own share, when it is also a recipient)."""
    mine = plan.old[me.id]
    if old_share.identifier != mine or old_share.verifying_share != plan.kept.verifying_shares[me.id]:
        raise CeremonyError(f"this home's share of epoch {plan.previous_epoch} is not the share of {me.id!r} in it")
    if plan.method == "reshare":
        pkg, shares = frost.reshare_deal(old_share, [plan.old[s] for s in plan.old_signers],
                                         sorted(plan.new.values()), plan.threshold)
    else:
        pkg, shares = frost.refresh_deal(old_share, old_package(plan))
    by_index = {i: mid for mid, i in recipients(plan).items()}
    keep = {}
    sealed = {}
    for i, share in shares.items():
        if by_index[i] == me.id:
            keep[OWN_SHARE] = share
        else:
            sealed[str(i)] = b64e(seal_to(plan.people[by_index[i]], share))
    return {"package": b64e(pkg.to_bytes()), "shares": sealed}, keep


@reads_payload
def _package(plan: Plan, reply: Message) -> Any:
    cls = _cls(plan)
    try:
        pkg = cls.from_bytes(b64d(reply.payload.get("package"), f"{reply.sender} {plan.method} dealing"))
    except Malformed as e:
        raise CeremonyError(f"invalid {plan.method} dealing from {reply.sender}: {e.message}",
                            "that keyholder's deal reply is faulty or malicious; open the ceremony again without "
                            "it") from None
    if pkg.identifier != plan.old[reply.sender]:
        raise CeremonyError(f"the {plan.method} dealing from {reply.sender!r} claims identifier {pkg.identifier}, "
                            f"expected {plan.old[reply.sender]}")
    want = plan.threshold
    if len(pkg.commitment) != want:
        raise CeremonyError(f"the {plan.method} dealing from {reply.sender!r} commits to {len(pkg.commitment)} "
                            f"coefficients; threshold {want} needs {want}")
    return pkg


def check_deal(plan: Plan, reply: Message) -> None:
    """What the coordinator checks of one deal reply before relaying it (the dealing parses, is the sender's
    and addresses a sealed share to every other recipient)."""
    _package(plan, reply)
    sh = reply.payload.get("shares")
    want = {str(i) for mid, i in recipients(plan).items() if mid != reply.sender}
    if not isinstance(sh, dict) or set(sh) != want or not all(isinstance(v, str) for v in sh.values()):
        raise CeremonyError(f"the deal reply from {reply.sender!r} does not address a share to every member of the "
                            "new set", "that keyholder's reply is faulty or malicious; leave it out")


def dealings(plan: Plan, view: View) -> dict[str, Any]:
    """The dealings the round-1 bulletin relays, by dealer: exactly the request's dealers."""
    reps = {r.sender: r for r in view.replies(view.of("round1"))}
    if sorted(reps) != sorted(plan.old_signers):
        raise CeremonyError(f"the round-1 message relays dealings from {', '.join(sorted(reps)) or 'nobody'}, not "
                            f"from the dealers the request fixed ({', '.join(plan.old_signers)})",
                            "the coordinator's message is inconsistent; refuse this ceremony")
    return {mid: _package(plan, r) for mid, r in reps.items()}


def _blame(plan: Plan, e: frost.InvalidSecretShare) -> CeremonyError:
    return CeremonyError(f"invalid {plan.method} dealing from {frostround.culprits(e.identifiers, plan.old)}",
                         "that keyholder's deal reply is faulty or malicious; open the ceremony again without it "
                         "(a keep-key rotation: other --old-signer members in its place)")


def public_package(plan: Plan, view: View) -> frost.PublicKeyPackage:
    """The new group's public key package from the relayed dealings (anyone: the coordinator, an outgoing
    member); a dealing that does not match the outgoing verifying shares names its dealer."""
    pkgs = list(dealings(plan, view).values())
    try:
        if plan.method == "reshare":
            return frost.reshare_public_key_package(old_package(plan), [plan.old[s] for s in plan.old_signers],
                                                    sorted(plan.new.values()), plan.threshold, pkgs)
        return frost.refresh_public_key_package(old_package(plan), pkgs)
    except frost.InvalidSecretShare as e:
        raise _blame(plan, e) from None


def derive(plan: Plan, view: View, me: IdentityKey, own: bytes | None,
           old_share: frost.KeyPackage | None) -> frost.KeyPackage:
    """A new member's key package: every dealing checked, the shares sent to it opened and summed."""
    pkgs = dealings(plan, view)
    received: dict[int, bytes] = {}
    mine = str(plan.new[me.id])
    for r in view.replies(view.of("round1")):
        if r.sender == me.id:
            if own is None:
                raise CeremonyError(f"this home does not keep the share {me.id!r} dealt itself",
                                    "answer the ceremony's rounds from the home that answered the request")
            received[plan.old[r.sender]] = own
            continue
        sealed = r.payload["shares"].get(mine) if isinstance(r.payload.get("shares"), dict) else None
        try:
            received[plan.old[r.sender]] = me.open_sealed(b64d(sealed, f"share from {r.sender}"))
        except Malformed:
            raise CeremonyError(f"the {plan.method} share from {r.sender!r} does not open",
                                "that keyholder's deal reply is faulty or was altered; open the ceremony again "
                                "without it") from None
    try:
        if plan.method == "reshare":
            kp, _ = frost.reshare_finish(plan.new[me.id], old_package(plan), [plan.old[s] for s in plan.old_signers],
                                         sorted(plan.new.values()), plan.threshold, list(pkgs.values()), received)
        else:
            if old_share is None:
                raise CeremonyError(f"no share of epoch {plan.previous_epoch} in this home",
                                    "a refresh adds to the share each member holds; answer from that home")
            kp, _ = frost.refresh_finish(old_share, old_package(plan), list(pkgs.values()), received)
    except frost.InvalidSecretShare as e:
        raise _blame(plan, e) from None
    return kp
