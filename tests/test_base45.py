"""Base45 (RFC 9285): the RFC's examples, round trips and strict rejection."""

from __future__ import annotations

import os

import pytest

from cerro_torre.offline import base45
from cerro_torre.suites.errors import Malformed

# RFC 9285 §4.3 (encoding examples) and §4.4 (decoding example)
RFC_VECTORS = [
    (b"AB", "BB8"),
    (b"Hello!!", "%69 VD92EX0"),
    (b"base-45", "UJCLQE7W581"),
    (b"ietf!", "QED8WEX0"),
]


@pytest.mark.parametrize(("raw", "text"), RFC_VECTORS)
def test_rfc9285_examples(raw: bytes, text: str) -> None:
    assert base45.encode(raw) == text
    assert base45.decode(text) == raw


def test_rfc9285_decoding_example() -> None:
    assert base45.decode("QED8WEX0") == b"ietf!"


def test_alphabet_is_the_qr_alphanumeric_set() -> None:
    assert base45.ALPHABET == "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
    assert len(set(base45.ALPHABET)) == 45


def test_edges() -> None:
    assert base45.encode(b"") == ""
    assert base45.decode("") == b""
    assert base45.encode(b"\x00") == "00"
    assert base45.encode(b"\x00\x00") == "000"
    assert base45.encode(b"\xff") == "U5"  # 255 = 30 + 5*45
    assert base45.encode(b"\xff\xff") == "FGW"  # 65535 = 15 + 15*45 + 32*2025
    assert base45.decode("U5") == b"\xff"
    assert base45.decode("FGW") == b"\xff\xff"


def test_round_trip_random_and_all_byte_values() -> None:
    for n in (1, 2, 3, 17, 256, 1001):
        data = os.urandom(n)
        text = base45.encode(data)
        assert len(text) == base45.encoded_length(n)
        assert base45.decode(text) == data
    every = bytes(range(256)) + bytes(range(255, -1, -1))
    assert base45.decode(base45.encode(every)) == every


def test_max_bytes_is_the_inverse_of_encoded_length() -> None:
    for chars in range(0, 200):
        n = base45.max_bytes(chars)
        assert base45.encoded_length(n) <= chars
        assert base45.encoded_length(n + 1) > chars


@pytest.mark.parametrize(("text", "message"), [
    ("GGW", "base45 text has an out-of-range group 'GGW' at offset 0 (value 65536 > 65535)"),
    (":::", "base45 text has an out-of-range group ':::' at offset 0 (value 91124 > 65535)"),
    ("BB8V5", "base45 text has an out-of-range final group 'V5' (value 256 > 255)"),
    ("::", "base45 text has an out-of-range final group '::' (value 2024 > 255)"),
    ("A", "base45 text has an invalid length 1 (one character left over)"),
    ("BB8B", "base45 text has an invalid length 4 (one character left over)"),
    ("bb8", "base45 text has a character outside the base45 alphabet: 'b' at offset 0"),
    ("BB8=", "base45 text has an invalid length 4 (one character left over)"),
    ("BB8=A", "base45 text has a character outside the base45 alphabet: '=' at offset 3"),
    ("BB\u00c9", "base45 text has a character outside the base45 alphabet: '\u00c9' at offset 2"),
    ("BB\n", "base45 text has a character outside the base45 alphabet: '\\n' at offset 2"),
])
def test_strict_rejection(text: str, message: str) -> None:
    with pytest.raises(Malformed) as e:
        base45.decode(text)
    assert e.value.message == message
    assert e.value.exit_code == 10


def test_every_accepted_string_is_canonical() -> None:
    # all 2-character strings: accepted ones are exactly the encodings of one byte
    accepted = 0
    for a in base45.ALPHABET:
        for b in base45.ALPHABET:
            try:
                raw = base45.decode(a + b)
            except Malformed:
                continue
            accepted += 1
            assert base45.encode(raw) == a + b
    assert accepted == 256


def test_decode_refuses_bytes() -> None:
    with pytest.raises(Malformed):
        base45.decode(b"BB8")  # type: ignore[arg-type]
