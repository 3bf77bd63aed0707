"""The fountain code under the QR frames: BC-UR's published answers, the GF(2) solver, the frames ct picks.

``tests/vectors/bc-ur-fountain.json`` holds the expected values of Blockchain
Commons' reference implementation test suite (bc-ur ``test/test.cpp``); its
checksum is checked before use.  Nothing here is compared with our own output.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import random
import zlib

import pytest

from cerro_torre.offline import fountain as f

VECTORS = os.path.join(os.path.dirname(__file__), "vectors", "bc-ur-fountain.json")
VECTORS_SHA256 = "c67adb3f461f43d7701dae4a9a6e08ba1875487f0f353a674e24c9ab740973f0"


@pytest.fixture(scope="module")
def bcur() -> dict:
    with open(VECTORS, "rb") as fh:
        raw = fh.read()
    assert hashlib.sha256(raw).hexdigest() == VECTORS_SHA256
    return json.loads(raw)


def make_message(n: int, seed: str = "Wolf") -> bytes:
    """bc-ur's test helper: ``Xoshiro256(seed).next_data(n)``."""
    return f.Xoshiro256(seed).next_data(n)


def test_crc32_is_the_one_bcur_uses(bcur):
    # the reference seeds part selection with a CRC-32; zlib's is the same function
    for case in bcur["crc32"]["cases"]:
        assert f"{zlib.crc32(case['input'].encode()):08x}" == case["crc32_hex"]


def test_xoshiro256_from_a_string(bcur):
    rng = f.Xoshiro256(bcur["rng_1"]["seed"])
    assert [rng.next() % 100 for _ in range(100)] == bcur["rng_1"]["expected"]


def test_xoshiro256_from_a_checksum(bcur):
    rng = f.Xoshiro256(zlib.crc32(bcur["rng_2"]["seed_crc32_of"].encode()).to_bytes(4, "big"))
    assert [rng.next() % 100 for _ in range(100)] == bcur["rng_2"]["expected"]


def test_xoshiro256_next_int(bcur):
    rng = f.Xoshiro256(bcur["rng_3"]["seed"])
    assert [rng.next_int(1, 10) for _ in range(100)] == bcur["rng_3"]["expected"]


def test_fragment_length(bcur):
    for c in bcur["find_fragment_length"]["cases"]:
        assert f.fragment_length(c["message_len"], c["max"], c["min"]) == c["expected"]


def test_random_sampler(bcur):
    v = bcur["random_sampler"]
    sampler = f.RandomSampler([float(p) for p in v["probs"]])
    rng = f.Xoshiro256(v["seed"])
    assert [sampler.next(rng) for _ in range(len(v["expected"]))] == v["expected"]


def test_shuffle(bcur):
    v = bcur["shuffle"]
    rng = f.Xoshiro256(v["seed"])
    assert [f.shuffled(v["values"], rng) for _ in range(len(v["expected"]))] == v["expected"]


def test_partition(bcur):
    v = bcur["partition"]
    msg = make_message(v["message"]["length"], v["message"]["seed"])
    frags = f.partition(msg, f.fragment_length(len(msg), v["max"], v["min"]))
    assert [x.hex() for x in frags] == v["expected_fragments"]
    assert b"".join(frags)[:len(msg)] == msg


def test_choose_degree(bcur):
    v = bcur["choose_degree"]
    msg = make_message(v["message"]["length"], v["message"]["seed"])
    count = len(f.partition(msg, f.fragment_length(len(msg), v["max"], v["min"])))
    got = [f.choose_degree(count, f.Xoshiro256(f"Wolf-{nonce}")) for nonce in range(1, len(v["expected"]) + 1)]
    assert got == v["expected"]


def test_choose_fragments(bcur):
    v = bcur["choose_fragments"]
    msg = make_message(v["message"]["length"], v["message"]["seed"])
    count = len(f.partition(msg, f.fragment_length(len(msg), v["max"], v["min"])))
    checksum = zlib.crc32(msg)
    got = [sorted(f.choose_fragments(seq, count, checksum)) for seq in range(1, 31)]
    assert got == v["expected_sorted_indexes"]


def test_xor(bcur):
    a, b, both = (bytes.fromhex(x) for x in bcur["xor"]["data"])
    rng = f.Xoshiro256(bcur["xor"]["seed"])
    assert rng.next_data(10) == a and rng.next_data(10) == b
    assert f.mix([a, b], [0, 1]) == both


def test_fountain_encoder_parts(bcur):
    """The data of each of the first 20 parts bc-ur's encoder emits for a 256-byte message."""
    v = bcur["fountain_encoder"]
    msg = make_message(v["message"]["length"], v["message"]["seed"])
    frags = f.partition(msg, f.fragment_length(len(msg), v["max_fragment_len"], v["min_fragment_len"]))
    checksum = zlib.crc32(msg)
    for part in v["parts"]:
        assert (part["seq_len"], part["message_len"], part["checksum"]) == (len(frags), len(msg), checksum)
        data = f.mix(frags, f.choose_fragments(part["seq_num"], len(frags), checksum))
        assert data.hex() == part["data"], part["seq_num"]


# ----------------------------------------------------------------------------- solver

def test_solver_decodes_bcur_parts_from_part_100_on():
    """As bc-ur's test_fountain_decoder: a 32,767-byte message, parts from number 101 on (all mixed)."""
    msg = make_message(32767)
    frags = f.partition(msg, f.fragment_length(len(msg), 1000, 10))
    checksum = zlib.crc32(msg)
    s = f.Solver(len(frags), len(frags[0]))
    seq = 100
    while not s.complete:
        seq += 1
        s.add(f.choose_fragments(seq, len(frags), checksum), f.mix(frags, f.choose_fragments(seq, len(frags), checksum)))
    assert b"".join(s.fragments())[:len(msg)] == msg
    assert seq - 100 < len(frags) + 8  # elimination needs barely more parts than fragments


def test_solver_redundant_and_contradicting_parts():
    frags = [bytes([i]) * 4 for i in range(1, 4)]
    s = f.Solver(3, 4)
    assert s.add([0, 1], f.mix(frags, [0, 1])) is True
    assert s.add([1, 2], f.mix(frags, [1, 2])) is True
    assert s.add([0, 2], f.mix(frags, [0, 2])) is False  # the sum of the two before
    assert s.add([0, 2], b"\xff" * 4) is None  # the same combination with other data
    assert not s.complete and s.rank == 2
    with pytest.raises(ValueError):
        s.fragments()
    assert s.add([2], frags[2]) is True
    assert s.complete and s.fragments() == frags


def test_solver_any_order():
    msg = random.Random(5).randbytes(3000)
    frags = f.partition(msg, 100)
    parts = [(f.choose_fragments(q, 30, 77), q) for q in range(1, 80)]
    random.Random(6).shuffle(parts)
    s = f.Solver(30, 100)
    for ix, _ in parts:
        s.add(ix, f.mix(frags, ix))
        if s.complete:
            break
    assert s.fragments() == frags


# ----------------------------------------------------------------------------- the frames ct picks

def _mask(ix):
    return sum(1 << i for i in ix)


def _decodes(masks, count) -> bool:
    s = f.Solver(count, 1)
    for m in masks:
        s.add([i for i in range(count) if m >> i & 1], b"\0")
    return s.complete


def _set(count: int, checksum: int, n: int) -> list[int]:
    seqs = f.sequence(count, checksum, n)
    return [next(seqs) for _ in range(n)]


def test_sequence_starts_with_the_plain_fragments_then_dense_mixes():
    for count in (1, 2, 5, 33, 200):
        seqs = _set(count, 0x1234ABCD, count * 2 + 5)
        assert seqs[:count] == list(range(1, count + 1))
        assert len(set(seqs)) == len(seqs)
        for q in seqs[count:]:
            assert len(f.choose_fragments(q, count, 0x1234ABCD)) >= f.dense_degree(count)


@pytest.mark.parametrize("count", list(range(1, 41)))
def test_any_one_lost_frame_of_the_default_set_is_recoverable(count):
    checksum = int.from_bytes(hashlib.sha256(b"%d" % count).digest()[:4], "big")
    planned = -(-count * 3 // 2)
    masks = [_mask(f.choose_fragments(q, count, checksum)) for q in _set(count, checksum, planned)]
    for i in range(len(masks)):
        assert _decodes(masks[:i] + masks[i + 1:], count), (count, i)


@pytest.mark.parametrize(("count", "at_least"), [(5, 0.92), (6, 0.91), (8, 0.88), (10, 0.83), (12, 0.79), (14, 0.9)])
def test_losing_a_quarter_of_the_default_set(count, at_least):
    """Every loss of a quarter of the frames (rounded up from 0.25 x 1.5 count), counted exhaustively.

    A binary code of 1.5 x count frames cannot survive every such loss; the
    frames ct picks survive these shares (spec/qr.md), where the first
    1.5 x count parts of BC-UR's own order survive about half as often."""
    checksum = int.from_bytes(hashlib.sha256(b"quarter %d" % count).digest()[:4], "big")
    planned = -(-count * 3 // 2)
    lost = (planned + 2) // 4

    def share(seqs):
        masks = [_mask(f.choose_fragments(q, count, checksum)) for q in seqs]
        drops = list(itertools.combinations(range(planned), lost))
        return sum(_decodes([m for i, m in enumerate(masks) if i not in d], count) for d in drops) / len(drops)

    ours = share(_set(count, checksum, planned))
    bcur_order = share(range(1, planned + 1))
    assert ours >= at_least
    assert ours > bcur_order + 0.15


@pytest.mark.parametrize(("count", "at_least"), [(20, 0.8), (27, 0.93), (40, 0.95), (64, 0.98)])
def test_losing_a_quarter_of_larger_sets(count, at_least):
    """As above for more parts, over 1,000 random losses (too many to count them all)."""
    checksum = int.from_bytes(hashlib.sha256(b"larger %d" % count).digest()[:4], "big")
    planned = -(-count * 3 // 2)
    lost = (planned + 2) // 4
    masks = [_mask(f.choose_fragments(q, count, checksum)) for q in _set(count, checksum, planned)]
    rng = random.Random(count)
    ok = 0
    for _ in range(1000):
        drop = set(rng.sample(range(planned), lost))
        ok += _decodes([m for i, m in enumerate(masks) if i not in drop], count)
    assert ok / 1000 >= at_least


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5, 9, 40])
def test_the_endless_stream_alone_completes(count):
    """A receiver that starts watching after the plain parts (and the chosen mixes) went by still completes."""
    checksum = int.from_bytes(hashlib.sha256(b"late %d" % count).digest()[:4], "big")
    planned = -(-count * 3 // 2)
    seqs = f.sequence(count, checksum, planned)
    for _ in range(planned):
        next(seqs)
    s = f.Solver(count, 1)
    for n in range(1, count + 40):
        ix = f.choose_fragments(next(seqs), count, checksum)
        s.add(ix, b"\0")
        if s.complete:
            break
    assert s.complete and n <= count + 12, n
