"""Sealed files (spec/keyfile.md): layout, parameters, tampering, passphrases, floors; identity key files in a Home."""

from __future__ import annotations

import hashlib
import os
import stat
import struct

import pytest
from argon2.low_level import Type, hash_secret_raw
from nacl.bindings import crypto_aead_xchacha20poly1305_ietf_decrypt

from cerro_torre.keys.home import Home
from cerro_torre.keys import keyfile
from cerro_torre.suites.errors import CTError, Malformed, UsageError, WrongPassphrase
from cerro_torre.keys.keyfile import KDFParams, open_sealed, parse_header, seal

CHEAP = KDFParams(time_cost=1, memory_kib=64, parallelism=1)
PW = b"correct horse battery staple"


def cheap_seal(plain=b"secret seeds", label="ct-identity:alice", params=CHEAP):
    return seal(plain, PW, label, params, allow_weak=True)


def cheap_open(blob, pw=PW, label="ct-identity:alice", **kw):
    return open_sealed(blob, pw, label, allow_weak=True, **kw)


# ------------------------------------------------------------------ layout

def test_round_trip_and_exact_layout():
    params = KDFParams(time_cost=2, memory_kib=256, parallelism=2)
    plain = b"\x00\x01 the seeds \xff"
    blob = cheap_seal(plain, "ct-identity:alice", params)
    assert cheap_open(blob) == plain
    # byte layout, read by hand
    assert blob[0:8] == b"CTSEAL01"
    assert blob[8] == 1 and blob[9] == 1
    assert struct.unpack(">III", blob[10:22]) == (2, 256, 2)
    salt, nonce = blob[22:38], blob[38:62]
    (lab_len,) = struct.unpack(">H", blob[62:64])
    label = blob[64:64 + lab_len]
    assert label == b"ct-identity:alice"
    check = blob[64 + lab_len: 80 + lab_len]
    header, ct = blob[: 80 + lab_len], blob[80 + lab_len:]
    assert len(ct) == len(plain) + 16
    # re-derive with argon2-cffi's high-level API and hashlib: the header parameters are the ones used
    k = hash_secret_raw(PW, salt, 2, 256, 2, 32, Type.ID)
    assert hashlib.blake2b(b"", digest_size=16, key=k, person=b"CTSEAL01-check").digest() == check
    enc = hashlib.blake2b(b"", digest_size=32, key=k, person=b"CTSEAL01-enc").digest()
    assert crypto_aead_xchacha20poly1305_ietf_decrypt(ct, header, nonce, enc) == plain


def test_default_params_are_rfc9106_second_recommendation():
    assert keyfile.DEFAULT_PARAMS == KDFParams(3, 65536, 4)
    blob = seal(b"x", PW, "default")
    assert struct.unpack(">III", blob[10:22]) == (3, 65536, 4)
    h = parse_header(blob)
    assert h.params == KDFParams(3, 65536, 4) and h.label == "default"
    assert open_sealed(blob, PW, "default") == b"x"


def test_salt_and_nonce_are_fresh():
    a, b = cheap_seal(), cheap_seal()
    assert a[22:38] != b[22:38] and a[38:62] != b[38:62] and a != b


def test_empty_plaintext_and_utf8_label():
    blob = cheap_seal(b"", "nonce:épique")
    assert cheap_open(blob, label="nonce:épique") == b""


# ------------------------------------------------------------------ passphrase

def test_wrong_passphrase():
    blob = cheap_seal()
    with pytest.raises(WrongPassphrase) as ei:
        cheap_open(blob, pw=b"wrong", what="key 'alice'")
    assert ei.value.exit_code == 20
    assert ei.value.message == "wrong passphrase for key 'alice'"
    assert ei.value.hints == ("try again; check --passphrase-file or CT_PASSPHRASE if you use them",)


def test_empty_passphrase_refused_on_seal():
    with pytest.raises(UsageError, match="the passphrase cannot be empty"):
        seal(b"x", b"", "l", CHEAP, allow_weak=True)


# ------------------------------------------------------------------ tampering

def _tamper(blob: bytes, offset: int) -> bytes:
    b = bytearray(blob)
    b[offset] ^= 0x01
    return bytes(b)


@pytest.mark.parametrize("field,offset,exc,msg", [
    ("salt", 22, WrongPassphrase, "wrong passphrase for 'ct-identity:alice'"),
    ("nonce", 40, Malformed, "key file K is corrupt: authentication failed"),
    ("check", 64 + 17 + 3, WrongPassphrase, "wrong passphrase for 'ct-identity:alice'"),
    ("label", 64 + 3, Malformed, "key file K is sealed for 'ct-hdentity:alice', not 'ct-identity:alice'"),
    ("ciphertext", 64 + 17 + 16 + 2, Malformed, "key file K is corrupt: authentication failed"),
    ("tag", -1, Malformed, "key file K is corrupt: authentication failed"),
])
def test_tampered_fields_never_open(field, offset, exc, msg):
    blob = cheap_seal()
    with pytest.raises(exc) as ei:
        cheap_open(_tamper(blob, offset), name="key file K")
    assert ei.value.message == msg


def test_tampered_params_never_open():
    blob = cheap_seal()
    # t: 1 -> 2 changes the derived key: reads as a wrong passphrase, never as plaintext
    b = bytearray(blob)
    b[10:14] = struct.pack(">I", 2)
    with pytest.raises(WrongPassphrase):
        cheap_open(bytes(b))
    # kdf / aead ids
    with pytest.raises(Malformed, match="uses unknown key derivation 2"):
        cheap_open(bytes(blob[:8]) + b"\x02" + bytes(blob[9:]))
    with pytest.raises(Malformed, match="uses unknown cipher 3"):
        cheap_open(bytes(blob[:9]) + b"\x03" + bytes(blob[10:]))


def test_header_is_associated_data():
    # relabel a file and open it under the new label: the key and check still match
    # (the label is not a KDF input), so only the header-as-AD makes the tag fail
    blob = cheap_seal(label="ct-identity:alice")
    relabelled = blob[:64] + b"ct-identity:alicf" + blob[81:]
    with pytest.raises(Malformed) as ei:
        cheap_open(relabelled, label="ct-identity:alicf", name="key file K")
    assert ei.value.message == "key file K is corrupt: authentication failed"


@pytest.mark.parametrize("cut", [0, 5, 8, 30, 63, 64, 80, 97, 100, -1])
def test_truncated(cut):
    blob = cheap_seal()
    short = blob[:cut] if cut >= 0 else blob[:-1]
    with pytest.raises(Malformed) as ei:
        cheap_open(short, name="key file K")
    assert ei.value.exit_code == 10
    assert ei.value.message in ("key file K is not a ct sealed file", "key file K is truncated",
                                "key file K is corrupt: authentication failed")


def test_unknown_magic_and_version():
    blob = cheap_seal()
    with pytest.raises(Malformed) as ei:
        cheap_open(b"PK\x03\x04" + blob[4:], name="key file K")
    assert (ei.value.message, ei.value.exit_code) == ("key file K is not a ct sealed file", 10)
    with pytest.raises(Malformed) as ei:
        cheap_open(b"CTSEAL02" + blob[8:], name="key file K")
    assert ei.value.message == "key file K has unsupported sealed-file version '02'"
    assert ei.value.hints == ("it was written by a newer ct; upgrade ct to read it",)


# ------------------------------------------------------------------ floors and limits

def test_weak_params_need_explicit_flag():
    with pytest.raises(Malformed, match="below the 8192 KiB floor"):
        seal(b"x", PW, "l", CHEAP)
    blob = cheap_seal()
    with pytest.raises(Malformed) as ei:
        open_sealed(blob, PW, "ct-identity:alice", name="key file K")
    assert ei.value.message == "key file K: argon2id memory 64 KiB is below the 8192 KiB floor"


@pytest.mark.parametrize("t,m,p,msg", [
    (65, 65536, 4, "exceed the limits"),
    (3, 4 * 1024 * 1024 + 1, 4, "exceed the limits"),
    (3, 65536, 65, "exceed the limits"),
    (0, 65536, 4, "time cost must be a positive integer"),
    (3, 16, 4, "at least 8 KiB per lane"),
])
def test_absurd_headers_refused_before_kdf(t, m, p, msg):
    blob = bytearray(cheap_seal())
    blob[10:22] = struct.pack(">III", t, m, p)
    with pytest.raises(Malformed, match=msg):
        open_sealed(bytes(blob), PW, "ct-identity:alice", allow_weak=True)


def test_params_from_env(monkeypatch):
    monkeypatch.delenv("CT_TESTING", raising=False)
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "64")
    assert keyfile.params_from_env() == (keyfile.DEFAULT_PARAMS, False)  # ignored without CT_TESTING=1
    monkeypatch.setenv("CT_TESTING", "yes")
    assert keyfile.params_from_env() == (keyfile.DEFAULT_PARAMS, False)
    monkeypatch.setenv("CT_TESTING", "1")
    assert keyfile.params_from_env() == (KDFParams(1, 64, 1), True)
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "lots")
    with pytest.raises(UsageError, match="CT_TEST_ARGON2_MEMORY_KIB must be an integer >= 8"):
        keyfile.params_from_env()


# ------------------------------------------------------------------ identity key files in a Home

@pytest.fixture
def home(tmp_path):
    return Home(tmp_path / "home", params=CHEAP, allow_weak=True)


def test_home_key_file_mode_and_round_trip(home):
    pub = home.generate_key("alice", "CT-SIG-02", PW)
    sec = home.sec_path("alice")
    assert stat.S_IMODE(os.stat(sec).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(home.path).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(home.keys_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(home.trust_path).st_mode) == 0o600
    with open(sec, "rb") as f:
        blob = f.read()
    assert blob.startswith(b"CTSEAL01")
    assert parse_header(blob, allow_weak=True).label == "ct-identity:alice"
    key = home.load_private("alice", PW)
    assert key.public() == pub
    sigs = key.sign(b"m")
    assert pub.verify(b"m", sigs).ok
    # no temp files left behind
    assert sorted(os.listdir(home.keys_dir)) == ["alice.pub", "alice.sec"]


def test_home_wrong_passphrase_message(home):
    home.generate_key("alice", "CT-SIG-01", PW)
    with pytest.raises(WrongPassphrase) as ei:
        home.load_private("alice", b"nope")
    assert (ei.value.exit_code, ei.value.message) == (20, "wrong passphrase for key 'alice'")


def test_home_swapped_key_files_refused(home):
    home.generate_key("alice", "CT-SIG-01", PW)
    home.generate_key("bob", "CT-SIG-01", PW)
    os.replace(home.sec_path("bob"), home.sec_path("alice"))
    with pytest.raises(Malformed) as ei:
        home.load_private("alice", PW)
    assert ei.value.message == (f"key file {home.sec_path('alice')} is sealed for 'ct-identity:bob', "
                                f"not 'ct-identity:alice'")


def test_home_weak_file_refused_outside_tests(home, tmp_path):
    home.generate_key("alice", "CT-SIG-01", PW)
    strict = Home(home.path)
    with pytest.raises(Malformed, match="below the 8192 KiB floor"):
        strict.load_private("alice", PW)


def test_home_tampered_key_file(home):
    home.generate_key("alice", "CT-SIG-03", PW)
    path = home.sec_path("alice")
    with open(path, "rb") as f:
        blob = f.read()
    with open(path, "wb") as f:
        f.write(_tamper(blob, len(blob) - 20))
    with pytest.raises(Malformed) as ei:
        home.load_private("alice", PW)
    assert ei.value.message == f"key file {path} is corrupt: authentication failed"
    assert isinstance(ei.value, CTError) and ei.value.exit_code == 10
