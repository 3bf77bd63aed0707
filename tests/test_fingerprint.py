"""Fingerprints (spec/fingerprint.md): expected values worked out by hand from SHA-256 and the BIP39 list."""

from __future__ import annotations

import hashlib
import os

import mnemonic

from cerro_torre.suites.fingerprint import Fingerprint, english_words
from cerro_torre.keys.identity import IdentityKey

WORDLIST = os.path.join(os.path.dirname(mnemonic.__file__), "wordlist", "english.txt")


def bip39_lines() -> list[str]:
    with open(WORDLIST, encoding="ascii") as f:
        return f.read().split()


def test_sha256_of_abc_rendered_by_hand():
    # SHA-256("abc") = ba7816bf 8f01cfea 414140de 5dae2223 ... (FIPS 180-2 example)
    fp = Fingerprint.of(b"abc")
    assert fp.full_hex.startswith("ba7816bf8f01cfea414140de5dae2223")
    assert fp.hex == "ba78 16bf 8f01 cfea"
    # first 66 bits, written out from the hex digits b a 7 8 1 6 b f 8 f 0 1 c f e a 4 1:
    bits = ("1011" "1010" "0111" "1000" "0001" "0110" "1011" "1111" "1000"
            "1111" "0000" "0001" "1100" "1111" "1110" "1010" "0100" "0001")[:66]
    chunks = [bits[i:i + 11] for i in range(0, 66, 11)]
    assert chunks == ["10111010011", "11000000101", "10101111111", "00011110000",
                      "00011100111", "11110101001"]
    indices = [int(c, 2) for c in chunks]
    assert indices == [1491, 1541, 1407, 240, 231, 1961]
    lines = bip39_lines()
    expected = [lines[i] for i in indices]
    assert expected == ["risk", "scheme", "quiz", "bulk", "brother", "vivid"]
    assert fp.word_list == tuple(expected)
    assert fp.words == "risk scheme quiz bulk brother vivid"


def test_empty_input():
    # SHA-256("") = e3b0c442 98fc1c14 9afbf4c8 ...
    fp = Fingerprint.of(b"")
    assert fp.hex == "e3b0 c442 98fc 1c14"
    # the first 66 bits of e3b0c44298fc1c149a, 11 at a time, index the word list
    bits = bin(int("e3b0c44298fc1c149a", 16))[2:].zfill(72)[:66]
    lines = bip39_lines()
    assert fp.word_list == tuple(lines[int(bits[i:i + 11], 2)] for i in range(0, 66, 11))
    assert bits[:11] == "11100011101"  # 1821
    assert fp.word_list[0] == lines[1821] == "together"


def test_word_list_is_bip39_english():
    words = english_words()
    assert len(words) == 2048
    assert words[0] == "abandon" and words[-1] == "zoo"
    assert list(words) == bip39_lines()


def test_stable_shape_and_json():
    for data in (b"x", b"y" * 1000, bytes(range(256))):
        fp = Fingerprint.of(data)
        assert fp.digest == hashlib.sha256(data).digest()
        groups = fp.hex.split(" ")
        assert len(groups) == 4 and all(len(g) == 4 for g in groups)
        assert "".join(groups) == fp.full_hex[:16]
        assert len(fp.word_list) == 6
        assert fp.to_json() == {"sha256": fp.full_hex, "hex": fp.hex, "words": fp.words}
        assert str(fp) == fp.hex
        assert Fingerprint.of(data) == fp


def test_key_fingerprint_is_over_canonical_public_json():
    pub = IdentityKey.generate("alice", "CT-SIG-01").public()
    assert pub.fingerprint == Fingerprint.of(pub.to_bytes())
    assert pub.fingerprint.digest == hashlib.sha256(pub.to_bytes()).digest()
