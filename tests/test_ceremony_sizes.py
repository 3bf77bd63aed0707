"""Messages carry only what the receiver does not have (issue 10): the size targets for a 3-of-5 CT-SIG-02
set (keygen, signing, rotation, and the keep-key rotation, refresh and repair of issue 12), every message as it
crosses (tests/ceremony_sim.wire_sizes; bench/qr_bench.py prints the same figures
for 2-of-3, 3-of-5 and 7-of-10).  Version 1 messages repeated the whole ceremony: a keyholder's signing
session was about 247,000 bytes."""

from __future__ import annotations

import json
import os

import pytest
from ceremony_sim import packed_release, wire_sizes

MESSAGE = 8_000
SESSION = 20_000
REQUEST = 24_000

@pytest.fixture(scope="module")
def sizes(tmp_path_factory):
    # what a default `ct pack` of one file asks the keyholders to sign: the release statement, its SBOM
    # and its provenance
    root = str(tmp_path_factory.mktemp("sizes"))
    statement, attestations = packed_release(os.path.join(root, "pack"))
    assert [json.loads(a)["predicateType"] for a in attestations] == [
        "https://spdx.dev/Document/v2.3", "https://slsa.dev/provenance/v1"]
    return wire_sizes(root, 5, 3, statement, attestations)


def test_every_signing_message_is_small_and_a_session_too(sizes):
    s = sizes["sign"]
    assert sorted(s["rounds"]) == [("commit", "to coordinator"), ("package", "to keyholders"),
                                   ("package2", "to keyholders"), ("request", "to keyholders"),
                                   ("share", "to coordinator"), ("share2", "to coordinator")]
    big = {r: len(w) for r, w in s["rounds"].items() if len(w) > MESSAGE}
    assert big == {}, big
    assert len(s["sessions"]) == 3
    assert max(s["sessions"].values()) <= SESSION, s["sessions"]


@pytest.mark.parametrize("kind", ["keygen", "rotate", "keepkey", "refresh", "repair"])
def test_every_keygen_message_is_small_but_the_request(sizes, kind):
    s = sizes[kind]
    assert len(s["rounds"][("request", "to keyholders")]) <= REQUEST
    big = {r: len(w) for r, w in s["rounds"].items() if r != ("request", "to keyholders") and len(w) > MESSAGE}
    assert big == {}, big
    assert {r for r, _ in s["rounds"]} == ROUNDS[kind]


ROUNDS = {"keygen": {"request", "commit", "round1", "shares", "round2", "confirm", "package", "sign"},
          "keepkey": {"request", "deal", "round1", "confirm", "package", "sign"},
          "repair": {"request", "part1", "round1", "part2", "round2", "restored"}}
ROUNDS["rotate"] = ROUNDS["keygen"]
ROUNDS["refresh"] = ROUNDS["keepkey"]


def test_a_refresh_or_repair_request_names_the_record(sizes):
    """Every member keeps the record a refresh or a repair works on: their requests carry no identity."""
    for kind in ("refresh", "repair"):
        assert len(sizes[kind]["rounds"][("request", "to keyholders")]) <= 1_000
