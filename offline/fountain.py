"""The fountain code of the QR transport: BC-UR's part selection, and a decoder (``spec/qr.md``).

A stream is cut into ``count`` fragments of equal length (the last one padded
with zeros).  Part ``seq`` (1, 2, 3, ... without end) carries the XOR of the
fragments :func:`choose_fragments` names: parts ``1..count`` are the plain
fragments, later parts mix a pseudo-random set of them.  Which set is a pure
function of ``(seq, count, checksum)``, computed exactly as Blockchain
Commons' Uniform Resources do (BCR-2020-005, reference implementation
``bc-ur``): a Xoshiro256** generator seeded with SHA-256 of ``seq || checksum``
(4 bytes each, big-endian) draws a degree from the ideal-soliton weights
``1/1, 1/2, ... 1/count`` (Vose's alias sampler) and then the first ``degree``
entries of a shuffle of ``0..count-1``.  ``tests/vectors/bc-ur-fountain.json``
holds the reference implementation's published test answers for every step.

:class:`Solver` reassembles the fragments from any parts, in any order, by
Gaussian elimination over GF(2): it finishes as soon as the parts received
span all fragments, which is never later than BC-UR's peeling decoder.

Pure standard library; no I/O.
"""

from __future__ import annotations

import hashlib
import itertools
import math
from collections.abc import Iterable, Iterator
from functools import lru_cache

MASK64 = (1 << 64) - 1
TWO64 = 18446744073709551616.0  # (double)UINT64_MAX + 1, exactly 2**64


def _rotl(x: int, k: int) -> int:
    return ((x << k) | (x >> (64 - k))) & MASK64


class Xoshiro256:
    """xoshiro256** 1.0 (Blackman and Vigna), seeded as BC-UR seeds it.

    The state is SHA-256 of the seed bytes, read as four big-endian 64-bit words.
    """

    __slots__ = ("s",)

    def __init__(self, seed: bytes | str) -> None:
        if isinstance(seed, str):
            seed = seed.encode("utf-8")
        d = hashlib.sha256(seed).digest()
        self.s = [int.from_bytes(d[i:i + 8], "big") for i in range(0, 32, 8)]

    def next(self) -> int:
        s = self.s
        result = (_rotl((s[1] * 5) & MASK64, 7) * 9) & MASK64
        t = (s[1] << 17) & MASK64
        s[2] ^= s[0]
        s[3] ^= s[1]
        s[1] ^= s[2]
        s[0] ^= s[3]
        s[2] ^= t
        s[3] = _rotl(s[3], 45)
        return result

    def next_double(self) -> float:
        """``next() / 2**64`` as a double, in ``[0, 1]`` (the uint64 is rounded to a double first, as in C)."""
        return float(self.next()) / TWO64

    def next_int(self, low: int, high: int) -> int:
        """An integer in ``low..high`` (both included)."""
        return int(self.next_double() * float(high - low + 1)) + low

    def next_data(self, n: int) -> bytes:
        return bytes(self.next_int(0, 255) for _ in range(n))


class RandomSampler:
    """Vose's alias method over the weights ``probs``, built exactly as BC-UR builds it.

    (Index lists filled from the highest index down; sums accumulated left to
    right, so the tables -- and the samples -- match the reference bit for bit.)
    """

    def __init__(self, probs: list[float]) -> None:
        if not probs or any(p < 0 for p in probs):
            raise ValueError("weights must be non-negative and not empty")
        total = 0.0
        for p in probs:  # left to right, as std::accumulate (no compensated sum)
            total += p
        if total <= 0:
            raise ValueError("weights must not all be zero")
        n = len(probs)
        scaled = [p * float(n) / total for p in probs]
        small: list[int] = []
        large: list[int] = []
        for i in range(n - 1, -1, -1):
            (small if scaled[i] < 1 else large).append(i)
        self.probs = [0.0] * n
        self.aliases = [0] * n
        while small and large:
            a = small.pop()
            g = large.pop()
            self.probs[a] = scaled[a]
            self.aliases[a] = g
            scaled[g] += scaled[a] - 1
            (small if scaled[g] < 1 else large).append(g)
        for i in large:
            self.probs[i] = 1.0
        for i in small:  # only through rounding
            self.probs[i] = 1.0

    def next(self, rng: Xoshiro256) -> int:
        r1 = rng.next_double()
        r2 = rng.next_double()
        i = int(float(len(self.probs)) * r1)
        return i if r2 < self.probs[i] else self.aliases[i]


@lru_cache(maxsize=8)
def _degree_sampler(count: int) -> RandomSampler:
    return RandomSampler([1.0 / i for i in range(1, count + 1)])


def choose_degree(count: int, rng: Xoshiro256) -> int:
    """How many fragments a mixed part combines: ideal-soliton weights ``1/d`` for ``d`` in ``1..count``."""
    return _degree_sampler(count).next(rng) + 1


def shuffled(items: list, rng: Xoshiro256, take: int | None = None) -> list:
    """BC-UR's shuffle: repeatedly remove the item at ``next_int(0, len - 1)``.

    ``take`` stops after that many items: the first items of a shuffle do not
    depend on the draws made for the later ones.
    """
    remaining = list(items)
    out = []
    n = len(remaining) if take is None else take
    while remaining and len(out) < n:
        out.append(remaining.pop(rng.next_int(0, len(remaining) - 1)))
    return out


def choose_fragments(seq: int, count: int, checksum: int) -> frozenset[int]:
    """Indexes (0-based) of the fragments part ``seq`` (1-based) combines.

    ``checksum`` is a 32-bit number fixed for the message (ours: the message id).
    """
    if not 1 <= seq <= 0xFFFFFFFF or count < 1 or not 0 <= checksum <= 0xFFFFFFFF:
        raise ValueError("part number, count or checksum out of range")
    if seq <= count:
        return frozenset((seq - 1,))
    rng = Xoshiro256(seq.to_bytes(4, "big") + checksum.to_bytes(4, "big"))
    degree = choose_degree(count, rng)
    return frozenset(shuffled(list(range(count)), rng, degree))


def fragment_length(length: int, max_fragment: int, min_fragment: int = 1) -> int:
    """BC-UR's nominal fragment length: ``ceil(length / c)`` for the fewest fragments ``c`` that fit ``max_fragment``."""
    if length < 1 or min_fragment < 1 or max_fragment < min_fragment:
        raise ValueError("lengths out of range")
    frag = length
    for c in range(1, length // min_fragment + 1):
        frag = -(-length // c)
        if frag <= max_fragment:
            break
    return frag


def partition(data: bytes, frag: int) -> list[bytes]:
    """``data`` cut into fragments of ``frag`` bytes, the last one padded with zeros."""
    out = [data[i:i + frag] for i in range(0, len(data), frag)]
    if out and len(out[-1]) < frag:
        out[-1] = out[-1] + bytes(frag - len(out[-1]))
    return out


def mix(fragments: list[bytes], indexes: frozenset[int] | list[int]) -> bytes:
    """XOR of the fragments named by ``indexes``."""
    frag = len(fragments[0])
    acc = 0
    for i in indexes:
        acc ^= int.from_bytes(fragments[i], "big")
    return acc.to_bytes(frag, "big")


def _mask(indexes: Iterable[int]) -> int:
    m = 0
    for i in indexes:
        m |= 1 << i
    return m


def dense_degree(count: int) -> int:
    """The fewest fragments a mixed part ct shows combines: a third of them, at least two.

    Up to three fragments there is no floor: with two, the only mix of two is
    their XOR, and a receiver that missed the plain parts needs the copies.
    """
    return 1 if count <= 3 else max(2, count // 3)


GREEDY_MAX = 32  # up to this many fragments the first mixed parts are chosen by :func:`_select`
POOL = 32  # candidates considered for each of them
WORK = 300_000  # bound on the codeword checks of one selection (about 0.2 s)


def sequence(count: int, checksum: int, planned: int) -> Iterator[int]:
    """Part numbers in the order ct shows and writes them, without end.

    First the plain fragments ``1..count``; then mixed parts, skipping the
    ones that combine fewer than :func:`dense_degree` fragments (with a
    decoder that solves by elimination, dense mixes are the useful ones).
    For up to :data:`GREEDY_MAX` fragments the mixed parts of a set of
    ``planned`` frames are picked by :func:`_select` so that the set survives
    the loss of any few of its frames as often as possible.  Which fragments
    a part combines is always BC-UR's choice; ct only chooses which part
    numbers to show.
    """
    yield from range(1, count + 1)
    used: set[int] = set()
    if 2 <= count <= GREEDY_MAX and planned > count:
        for seq in _select(count, checksum, planned):
            used.add(seq)
            yield seq
    need = dense_degree(count)
    for seq in range(count + 1, 0x100000000):
        if seq not in used and len(choose_fragments(seq, count, checksum)) >= need:
            yield seq


def _select(count: int, checksum: int, planned: int) -> list[int]:
    """Pick ``planned - count`` dense mixed parts that keep low-weight codewords rare.

    The frames written form a systematic binary code: plain fragments and
    mixes.  Losing a set E of frames is fatal exactly when some nonzero
    combination u of fragments touches only frames in E (u's own fragments
    plus every mix that combines an odd number of them).  The score of a
    choice is, over the combinations u of up to a few fragments, the number
    of losses of a quarter of the frames that would be fatal (a union bound).
    The mixes are picked greedily from the first dense candidates, then each
    pick is swapped for a better candidate while that lowers the score.
    """
    mixes = planned - count
    lost = max(1, (planned + 2) // 4)
    budget = WORK // (POOL * mixes)
    combos: list[int] = []
    for w in range(1, min(lost, count) + 1):
        if w > 2 and len(combos) + math.comb(count, w) > budget:
            break
        combos += [sum(1 << i for i in c) for c in itertools.combinations(range(count), w)]
    fatal = [math.comb(planned - w, lost - w) if w <= lost else 0 for w in range(planned + 1)]
    need = dense_degree(count)
    cands: list[tuple[int, int]] = []
    seq = count
    while len(cands) < POOL + mixes:
        seq += 1
        ix = choose_fragments(seq, count, checksum)
        if len(ix) >= need:
            cands.append((seq, _mask(ix)))

    def plus(weight: list[int], m: int) -> list[int]:
        return [w + ((c & m).bit_count() & 1) for c, w in zip(combos, weight)]

    def score(weight: list[int], m: int) -> int:
        return sum(fatal[w + ((c & m).bit_count() & 1)] for c, w in zip(combos, weight))

    weight = [c.bit_count() for c in combos]
    chosen: list[int] = []  # indexes into cands
    for _ in range(mixes):
        best = min((j for j in range(len(cands)) if j not in chosen), key=lambda j: score(weight, cands[j][1]))
        chosen.append(best)
        weight = plus(weight, cands[best][1])
    for _ in range(2):
        swapped = False
        for k, j in enumerate(chosen):
            m = cands[j][1]
            rest = [w - ((c & m).bit_count() & 1) for c, w in zip(combos, weight)]
            now = score(rest, m)
            best = min((i for i in range(len(cands)) if i not in chosen), key=lambda i: score(rest, cands[i][1]))
            if score(rest, cands[best][1]) < now:
                chosen[k] = best
                weight = plus(rest, cands[best][1])
                swapped = True
        if not swapped:
            break
    return [cands[j][0] for j in chosen]


class Solver:
    """Recovers ``count`` fragments of ``frag`` bytes from parts ``(indexes, data)``, in any order.

    Keeps the parts received in echelon form over GF(2): each stored row has a
    distinct pivot, the lowest fragment index it still combines.  A part that
    adds nothing (its combination reduces to zero) is *redundant*; one whose
    combination reduces to zero while its data does not contradicts the parts
    before it, which only an altered or misread part can do.
    """

    def __init__(self, count: int, frag: int) -> None:
        self.count = count
        self.frag = frag
        self._rows: dict[int, tuple[int, int]] = {}  # pivot -> (mask, data)

    @property
    def rank(self) -> int:
        """How many fragments' worth of information the parts so far carry (``count`` when done)."""
        return len(self._rows)

    @property
    def complete(self) -> bool:
        return len(self._rows) == self.count

    def add(self, indexes: frozenset[int] | list[int], data: bytes) -> bool | None:
        """Add a part; True if it added information, False if redundant, None if it contradicts earlier parts."""
        mask = _mask(indexes)
        value = int.from_bytes(data, "big")
        rows = self._rows
        while mask:
            pivot = (mask & -mask).bit_length() - 1
            row = rows.get(pivot)
            if row is None:
                rows[pivot] = (mask, value)
                return True
            mask ^= row[0]
            value ^= row[1]
        return False if value == 0 else None

    def fragments(self) -> list[bytes]:
        """The fragments, once :attr:`complete` (back substitution from the highest pivot down)."""
        if not self.complete:
            raise ValueError("not enough parts yet")
        solved: list[int] = [0] * self.count
        for pivot in range(self.count - 1, -1, -1):
            mask, value = self._rows[pivot]
            rest = mask & ~(1 << pivot)
            while rest:
                j = (rest & -rest).bit_length() - 1
                value ^= solved[j]
                rest &= rest - 1
            solved[pivot] = value
        return [v.to_bytes(self.frag, "big") for v in solved]
