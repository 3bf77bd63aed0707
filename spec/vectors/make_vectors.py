"""Regenerate the conformance vectors of spec/bundle.md, canonical.md, keyholder-set.md,
policy.md and stock-signatures.md.

    .venv/bin/python spec/vectors/make_vectors.py          # rewrite the files
    .venv/bin/python spec/vectors/make_vectors.py --check  # exit 1 if a deterministic vector changed

``dsse-pae.json`` is not generated: it is the DSSE protocol's published
example, copied by hand.  ``keyholder-chain.json`` holds FROST and ML-DSA
signatures, which are randomized: ``--check`` leaves it alone, and the tests
check it by verifying it, not by comparing bytes.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))

# RFC 8032 section 7.1, TEST 1: secret key and public key
RFC8032_TEST1_SEED = "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60"
RFC8032_TEST1_PUBLIC = "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a"


def seed(label: str) -> bytes:
    return hashlib.sha256(b"cerro-torre test vector seed:" + label.encode()).digest()


def canonical_json_vectors() -> dict:
    from cerro_torre.suites.encoding import canonical_json

    cases = [
        '{"b": 1, "a": [true, null, "x"]}',
        '{"é": "ü", "e": "\\u00e9", "z": {"y": {}, "x": []}}',
        '{"s": "line\\nbreak\\ttab \\" quote \\\\ back \\u0001 ctl \\u007f del"}',
        '{"n": [0, -1, 9007199254740993, 10]}',
        '{"": "", "A": 1, "a": 2, "\\u00e0": 3, "\\ud83d\\ude00": 4}',
    ]
    out = {"description": "canonical JSON (spec/canonical.md): input text -> canonical UTF-8 text", "valid": [],
           "invalid": [
               {"input": '{"a": 1.5}', "why": "float"},
               {"input": '{"a": 1, "a": 2}', "why": "duplicate key"},
               {"input": '{"a": NaN}', "why": "NaN"},
               {"input": '{"a": 1e3}', "why": "exponent is a float"},
           ]}
    for c in cases:
        from cerro_torre.suites.encoding import parse_json

        canon = canonical_json(parse_json(c))
        out["valid"].append({"input": c, "canonical": canon.decode("utf-8"),
                             "sha256": hashlib.sha256(canon).hexdigest()})
    return out


def canonical_toml_vectors() -> dict:
    from cerro_torre.ceremony.bundle import canonical_toml

    docs = [
        {"format": "ct-bundle", "format_version": 1, "package": {"name": "demo", "version": "1.0"},
         "source": {"kind": "file", "name": "a.txt"},
         "files": [{"path": "a.txt", "sha256": "0" * 64, "size": 0, "mode": "0644"}]},
        {"z": True, "a": -5, "list": ["x", "y \"q\"", "\u00e9\u0001"], "t": {"k-1": "v", "weird key": "w"},
         "arr": [{"b": 2, "a": 1}, {"a": 3}]},
    ]
    valid = [{"doc": d, "toml": canonical_toml(d).decode("utf-8")} for d in docs]
    base = valid[0]["toml"]
    not_canonical = [
        {"toml": base.replace("format_version = 1\n", "format_version = 1\n# comment\n"), "why": "comment"},
        {"toml": base.replace('name = "demo"', "name = 'demo'"), "why": "literal string"},
        {"toml": base.replace("format = \"ct-bundle\"\nformat_version = 1",
                              "format_version = 1\nformat = \"ct-bundle\""), "why": "keys out of order"},
        {"toml": base.replace("\n\n[package]", "\n[package]"), "why": "missing blank line"},
        {"toml": base.replace("size = 0", "size = 0_0"), "why": "underscore in integer"},
        {"toml": base.rstrip("\n"), "why": "no final newline"},
        {"toml": base.replace("format_version = 1", "format_version =  1"), "why": "extra space"},
    ]
    return {"description": "canonical TOML (spec/canonical.md): doc -> exact text; texts that parse "
                           "but are not canonical are refused",
            "valid": valid, "not_canonical": not_canonical}


def tar_header_vectors() -> dict:
    from cerro_torre.ceremony.bundle import member_header

    cases = [("manifest.toml", 123, 0o644), ("payload/bin/tool", 18, 0o755),
             ("payload/" + "d/" * 60 + "long-name.txt", 5, 0o644),
             ("payload/caf\u00e9.txt", 14, 0o644),
             ("payload/huge.img", 8 * 1024 ** 3 + 1, 0o644)]
    return {"description": "header blocks of one member (spec/bundle.md #Tar), hex; data and padding not included",
            "cases": [{"name": n, "size": s, "mode": "%04o" % m, "header_hex": member_header(n, s, m).hex()}
                      for n, s, m in cases]}


def bundle_vectors() -> dict:
    from cerro_torre.ceremony import bundle as B
    from cerro_torre.ceremony.sources import open_source
    from cerro_torre.keys.identity import IdentityKey

    src = os.path.join(HERE, "bundle", "input")
    out_dir = os.path.join(HERE, "bundle")
    res = {}
    with open_source(src) as s:
        buf_path = os.path.join(out_dir, ".tmp-unsigned.ctp")
        r = B.pack(s, buf_path, name="demo", version="1.0")
    with open(buf_path, "rb") as f:
        unsigned = f.read()
    manifest = r.manifest.to_bytes()    # read back from the bundle
    import tarfile

    with tarfile.open(buf_path) as t:
        statement = base64.b64decode(json.load(t.extractfile("signatures/release.dsse.json"))["payload"])
    assert hashlib.sha256(statement).hexdigest() == r.statement_sha256
    os.unlink(buf_path)
    key = IdentityKey("vector", "CT-SIG-01", {"ed25519": bytes.fromhex(RFC8032_TEST1_SEED),
                                             "x25519": seed("vector x25519")})
    with open_source(src) as s:
        buf_path = os.path.join(out_dir, ".tmp-signed.ctp")
        B.pack(s, buf_path, name="demo", version="1.0", key=key)
    with open(buf_path, "rb") as f:
        signed = f.read()
    os.unlink(buf_path)
    res["files"] = {"manifest.toml": manifest, "statement.json": statement}
    res["vector"] = {
        "description": "pack spec/vectors/bundle/input (a directory) as name 'demo' version '1.0'",
        "source": "input", "name": "demo", "version": "1.0",
        "manifest_sha256": hashlib.sha256(manifest).hexdigest(),
        "statement_sha256": r.statement_sha256,
        "unsigned_bundle_sha256": hashlib.sha256(unsigned).hexdigest(),
        "unsigned_bundle_size": len(unsigned),
        "signed_by": {"id": "vector", "suite": "CT-SIG-01", "ed25519_seed": RFC8032_TEST1_SEED,
                      "x25519_seed": seed("vector x25519").hex()},
        "signed_bundle_sha256": hashlib.sha256(signed).hexdigest(),
        "signed_bundle_size": len(signed),
    }
    return res


def keyholder_members():
    from cerro_torre.suites import frost
    from cerro_torre.keys.identity import IdentityKey

    keys = [IdentityKey(f"member{i}", "CT-SIG-02", {"ed25519": seed(f"m{i} ed"), "x25519": seed(f"m{i} x"),
                                                    "ml-dsa-87": seed(f"m{i} ml")}) for i in (1, 2, 3)]
    secret = (int.from_bytes(seed("group secret"), "little") % (2 ** 252)).to_bytes(32, "little")
    coeff = (int.from_bytes(seed("coefficient 1"), "little") % (2 ** 252)).to_bytes(32, "little")
    dealer = frost.trusted_dealer_keygen(3, 2, secret=secret, coefficients=[coeff])
    return keys, dealer


def keyholder_set_vector() -> dict:
    from cerro_torre.governance.keyholders import KeyholderSet, Member

    keys, dealer = keyholder_members()
    shares = dealer.public_key_package().verifying_shares
    members = tuple(Member(k.id, i, k.public(), shares[i]) for i, k in enumerate(keys, 1))
    rec = KeyholderSet("vector-coop", 1, "CT-SIG-02", 2, "2025-01-01T00:00:00Z", "2035-01-01T00:00:00Z",
                       dealer.group_public_key, members, None)
    body = rec.body_bytes()
    return {"description": "a keyholder-set body (spec/keyholder-set.md); members' keys from fixed seeds, "
                           "group key from a trusted dealer with a fixed secret",
            "body": json.loads(body), "canonical_body_sha256": hashlib.sha256(body).hexdigest(),
            "fingerprint_hex": rec.fingerprint.hex, "fingerprint_words": rec.fingerprint.words,
            "message_sha256": hashlib.sha256(rec.message()).hexdigest(),
            "message_prefix": rec.message()[:80].decode()}


def keyholder_chain_vector() -> dict:
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(HERE)), "tests"))
    from test_bundle_support import Coop  # noqa: E402

    c1 = Coop(name="vector-coop", n=3, k=2, created="2025-01-01T00:00:00Z", expires="2030-01-01T00:00:00Z",
              prefix="a")
    r1 = c1.self_signed()
    kept = hashlib.sha256(b"a release statement epoch 1 signed before the rotation").hexdigest()
    c2 = Coop(name="vector-coop", n=3, k=2, epoch=2, previous=r1, created="2026-01-01T00:00:00Z",
              expires="2036-01-01T00:00:00Z", prefix="b", closed_releases=(kept,))
    r2 = c1.rotate_to(c2)
    fp1, fp2 = r1.fingerprint.full_hex, r2.fingerprint.full_hex
    return {
        "description": "a signed two-epoch chain (CT-SIG-02, 2 of 3; epoch 2 closes epoch 1 keeping one "
                       "release); verdicts of the rotation rules for several pins and clocks "
                       "(spec/keyholder-set.md #Rotation rules)",
        "records": [r1.to_bytes().decode(), r2.to_bytes().decode()],
        "cases": [
            {"pinned": [fp1], "now": "2027-01-01T00:00:00Z", "expect": 0, "current_epoch": 2},
            {"pinned": [fp2], "now": "2027-01-01T00:00:00Z", "expect": 0, "current_epoch": 2},
            {"pinned": [], "now": "2027-01-01T00:00:00Z", "expect": 3, "error_contains": "does not chain to a pinned root"},
            {"pinned": [fp1], "now": "2037-01-01T00:00:00Z", "expect": 3, "error_contains": "expired at 2036-01-01T00:00:00Z"},
            {"pinned": [fp1], "now": "2025-06-01T00:00:00Z", "expect": 3, "error_contains": "is not valid before"},
            {"pinned": [fp1], "now": "2027-01-01T00:00:00Z", "records": [1], "expect": 3,
             "error_contains": "does not chain to a pinned root"},
            {"pinned": [fp1], "now": "2027-01-01T00:00:00Z", "records": [1, 0], "expect": 10,
             "error_contains": "epochs only increase"},
        ],
    }


def stock_vectors() -> dict:
    from cerro_torre.ceremony import stockformats as S
    from cerro_torre.suites import ed25519

    sd = bytes.fromhex(RFC8032_TEST1_SEED)
    pk = ed25519.public_from_seed(sd)
    assert pk.hex() == RFC8032_TEST1_PUBLIC
    statement = (b'{"_type":"https://in-toto.io/Statement/v1","predicate":{},"predicateType":'
                 b'"https://cerro-torre.org/attestation/release/v1","subject":[]}')
    comment = f"cerro-torre release demo 1.0 statement-sha256:{hashlib.sha256(statement).hexdigest()}"
    rec = S.sign_record(statement, comment, pk, lambda m: ed25519.sign(sd, m))
    files = {}
    for fmt in S.FORMATS:
        files.update(S.export_files(rec, fmt, "demo", "release"))
    msgs = S.all_messages(statement, comment, rec.signatures["minisign"])
    return {"description": "stock-tool files for the RFC 8032 TEST 1 key (spec/stock-signatures.md); "
                           "Ed25519 is deterministic, so every byte is fixed",
            "ed25519_seed": RFC8032_TEST1_SEED, "public_key": RFC8032_TEST1_PUBLIC,
            "statement": statement.decode(), "trusted_comment": comment, "principal": "release", "stem": "demo",
            "messages_sha256": {k: hashlib.sha256(v).hexdigest() for k, v in msgs.items()},
            "signatures": {k: base64.b64encode(v).decode() for k, v in sorted(rec.signatures.items())},
            "record": rec.to_bytes().decode(), "files": files}


def policy_vectors() -> dict:
    return {
        "description": "policy decisions (spec/policy.md): facts about a verified release -> broken rules",
        "cases": [
            {"policy": {}, "facts": {"suite": "CT-SIG-01", "signer": "x", "registry": "", "epoch": None,
                                     "threshold": 1, "source_kind": "file"}, "broken": []},
            {"policy": {"suites": ["CT-SIG-02"]}, "facts": {"suite": "CT-SIG-01", "signer": "x", "registry": "",
             "epoch": None, "threshold": 1, "source_kind": "file"},
             "broken": ["suite CT-SIG-01 is not allowed"]},
            {"policy": {"signers": ["coop-*"]}, "facts": {"suite": "CT-SIG-02", "signer": "coop-main",
             "registry": "", "epoch": 3, "threshold": 2, "source_kind": "oci"}, "broken": []},
            {"policy": {"signers": ["coop-*"]}, "facts": {"suite": "CT-SIG-02", "signer": "other",
             "registry": "", "epoch": 3, "threshold": 2, "source_kind": "oci"},
             "broken": ["signer 'other' is not allowed"]},
            {"policy": {"registries": ["docker.io/library/*"]}, "facts": {"suite": "CT-SIG-02", "signer": "c",
             "registry": "docker.io/library/nginx", "epoch": 1, "threshold": 2, "source_kind": "registry"},
             "broken": []},
            {"policy": {"registries": ["docker.io/library/*"]}, "facts": {"suite": "CT-SIG-02", "signer": "c",
             "registry": "quay.io/x/nginx", "epoch": 1, "threshold": 2, "source_kind": "registry"},
             "broken": ["registry 'quay.io/x/nginx' is not allowed"]},
            {"policy": {"registries": ["*"]}, "facts": {"suite": "CT-SIG-02", "signer": "c", "registry": "",
             "epoch": 1, "threshold": 2, "source_kind": "directory"},
             "broken": ["the bundle names no registry (source kind directory)"]},
            {"policy": {"min_epoch": 2}, "facts": {"suite": "CT-SIG-02", "signer": "c", "registry": "",
             "epoch": 1, "threshold": 2, "source_kind": "file"},
             "broken": ["keyholder set epoch 1 is below the minimum epoch 2"]},
            {"policy": {"min_epoch": 1}, "facts": {"suite": "CT-SIG-02", "signer": "c", "registry": "",
             "epoch": None, "threshold": 1, "source_kind": "file"},
             "broken": ["the bundle is signed by a single key, which has no epoch"]},
            {"policy": {"min_threshold": 3}, "facts": {"suite": "CT-SIG-02", "signer": "c", "registry": "",
             "epoch": 1, "threshold": 2, "source_kind": "file"},
             "broken": ["threshold 2 is below the minimum threshold 3"]},
            {"policy": {"suites": ["CT-SIG-03"], "signers": ["z"], "min_threshold": 5},
             "facts": {"suite": "CT-SIG-02", "signer": "c", "registry": "", "epoch": 1, "threshold": 2,
                       "source_kind": "file"},
             "broken": ["suite CT-SIG-02 is not allowed", "signer 'c' is not allowed",
                        "threshold 2 is below the minimum threshold 5"]},
        ],
        "invalid_documents": [
            {"doc": {"type": "ct-policy", "version": 2}, "why": "unknown version"},
            {"doc": {"type": "ct-policy", "version": 1, "roots": ["abc"]}, "why": "short fingerprint"},
            {"doc": {"type": "ct-policy", "version": 1, "suites": ["CT-SIG-09"]}, "why": "unknown suite"},
            {"doc": {"type": "ct-policy", "version": 1, "extra": 1}, "why": "unknown field"},
            {"doc": {"type": "ct-policy", "version": 1, "min_epoch": -1}, "why": "negative epoch"},
            {"doc": {"type": "other", "version": 1}, "why": "wrong type"},
        ],
    }


def qr_frame_vectors() -> dict:
    """Frames of spec/qr.md: messages -> parts count, the part numbers ct writes, and each frame's text."""
    from cerro_torre.offline import base45, qr

    def frame_case(label: str, message: bytes, max_version: int, ec: str) -> dict:
        enc = qr.Encoder(message, max_version, ec)
        seqs = enc.sequence()
        frames = []
        for _ in range(enc.default_frames + 2):
            seq = next(seqs)
            text = enc.text(seq)
            raw = base45.decode(text)
            frames.append({"seq": seq, "fragments": sorted(qr.parse_frame(text).indexes()),
                           "header": raw[:qr.HEADER_LEN].hex(), "text": text})
        return {"label": label, "message_hex": message.hex(), "max_version": max_version, "ec": ec,
                "sha256": hashlib.sha256(message).hexdigest(), "deflated": bool(enc.flags & qr.FLAG_DEFLATE),
                "stream_length": enc.length, "fragment_length": enc.fragment, "parts": enc.count,
                "default_frames": enc.default_frames, "frames": frames}

    noise = b"".join(hashlib.sha256(b"qr vector %d" % i).digest() for i in range(19))[:600]
    doc = b'{"kind":"sign","round":"share","sender":"alice","signature":"' + base64.b64encode(noise) + b'"}'
    bad = [
        {"text": base45.encode(bytes.fromhex("10010100") + b"x" * 40), "why": "format version 1 (numbered frames)"},
        {"text": base45.encode(bytes.fromhex("2200000001000100000021") + b"abcd" + b"x" * 33), "why": "unknown flag"},
        {"text": base45.encode(bytes.fromhex("2000000000000100000021") + b"abcd" + b"x" * 33), "why": "part number 0"},
        {"text": base45.encode(bytes.fromhex("2000000001000000000021") + b"abcd" + b"x" * 33), "why": "0 parts"},
        {"text": base45.encode(bytes.fromhex("2000000001000100000021") + b"abcd" + b"x" * 20),
         "why": "1 part of 20 bytes cannot hold a 33-byte stream"},
        {"text": base45.encode(bytes.fromhex("2000000001000300000021") + b"abcd" + b"x" * 33),
         "why": "3 parts of 33 bytes for a 33-byte stream"},
        {"text": base45.encode(bytes.fromhex("2000000001000100000010") + b"abcd" + b"x" * 16),
         "why": "stream shorter than the digest"},
        {"text": "HTTPS://EXAMPLE.ORG/", "why": "not base45"},
    ]
    return {"description": "QR frames (spec/qr.md): frame format 2, fountain parts chosen as BC-UR chooses them",
            "valid": [frame_case("hello", b"hello", 25, "M"),
                      frame_case("600 incompressible bytes at version 5", noise, 5, "M"),
                      frame_case("a JSON reply, deflated", doc, 10, "M")],
            "invalid": bad}


def dump(obj: object) -> bytes:
    return (json.dumps(obj, indent=1, sort_keys=True, ensure_ascii=False) + "\n").encode("utf-8")


def main(argv: list[str]) -> int:
    check = "--check" in argv
    outputs: dict[str, bytes] = {
        "canonical-json.json": dump(canonical_json_vectors()),
        "canonical-toml.json": dump(canonical_toml_vectors()),
        "tar-headers.json": dump(tar_header_vectors()),
        "keyholder-set.json": dump(keyholder_set_vector()),
        "stock-signatures.json": dump(stock_vectors()),
        "policy.json": dump(policy_vectors()),
        "qr-frames.json": dump(qr_frame_vectors()),
    }
    b = bundle_vectors()
    outputs["bundle/vector.json"] = dump(b["vector"])
    outputs["bundle/expected/manifest.toml"] = b["files"]["manifest.toml"]
    outputs["bundle/expected/statement.json"] = b["files"]["statement.json"]
    if not check:
        outputs["keyholder-chain.json"] = dump(keyholder_chain_vector())
    bad = []
    for rel, data in outputs.items():
        path = os.path.join(HERE, rel)
        if check:
            try:
                with open(path, "rb") as f:
                    if f.read() != data:
                        bad.append(rel)
            except FileNotFoundError:
                bad.append(rel)
            continue
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)
    if bad:
        print("changed: " + ", ".join(bad))
        return 1
    print("ok" if check else f"wrote {len(outputs)} files")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
