"""An in-memory ceremony simulator for tests: n keyholder homes and a coordinator,
every message serialized and parsed again as it crosses the air gap."""

from __future__ import annotations

import os

from cerro_torre.ceremony import keygen
from cerro_torre.ceremony.keyholder import Keyholder
from cerro_torre.ceremony.message import Message
from cerro_torre.keys.keyfile import KDFParams

PASS = b"correct horse battery staple"
WEAK = KDFParams(time_cost=1, memory_kib=256, parallelism=1)


def cross(msg: Message) -> Message:
    """What the other side of the air gap reads."""
    return Message.parse(msg.to_bytes())


class Sim:
    def __init__(self, root: str, names: list[str], suite: str = "CT-SIG-02") -> None:
        self.holders: dict[str, Keyholder] = {}
        self.publics = {}
        for n in names:
            path = os.path.join(root, n)
            kh = Keyholder(path, params=WEAK, allow_weak=True)
            kh.home.generate_key(n, suite, PASS)
            self.holders[n] = kh
            self.publics[n] = kh.home.public(n)

    def step(self, name: str, msg: Message) -> Message:
        kh = self.holders[name]
        pending = kh.prepare(cross(msg))
        return cross(kh.answer(pending, PASS))

    def round(self, msg: Message, names: list[str], module=keygen):
        replies = [self.step(n, msg) for n in names]
        return module.collect(cross(msg), replies)

    def keygen(self, names: list[str], k: int, *, dealer: bool = False, name: str = "coop", previous=None,
               old: list[str] = ()):
        msg = keygen.open_keygen(name, [self.publics[n] for n in names], k, dealer=dealer, previous=previous)
        while True:
            if msg.round in ("round2",) or (msg.round == "request" and dealer):
                answering = sorted(set(names) | set(old))
            elif msg.round == "package":
                s = msg.payload["signers"]
                answering = sorted(set(s["new"]) | set(s["old"]))
            elif msg.round == "request" or msg.round == "round1":
                answering = names
            out = self.round(msg, answering)
            if not isinstance(out, Message):
                return out
            msg = out
