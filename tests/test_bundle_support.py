"""Shared helpers for the bundle / verify / tamper / stock-signature tests (no tests here).

Everything is real: FROST through the C library, ML-DSA-87 through OpenSSL,
bundles through the real writer, OCI layouts and docker archives built as
the real formats (gzip layers, sha256 blob names, diff_ids).
"""

from __future__ import annotations

import gzip
import hashlib
import io
import json
import os
import tarfile

from cerro_torre.ceremony import bundle as B
from cerro_torre.ceremony import stockformats as S
from cerro_torre.governance.keyholders import KeyholderSet, Member
from cerro_torre.cli.main import main
from cerro_torre.suites import frost
from cerro_torre.keys.identity import IdentityKey
from cerro_torre.suites.suite import SUITES, Signature, keyid_of

PW = "correct horse battery staple"
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VECTORS = os.path.join(REPO, "spec", "vectors")


def ct(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def cheap_env(monkeypatch) -> None:
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "64")
    monkeypatch.setenv("CT_PASSPHRASE", PW)
    monkeypatch.delenv("CT_HOME", raising=False)


def error_lines(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.startswith("error: ")]


# ====================================================================== image fixtures

def _det_tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name, data in sorted(files.items()):
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            ti.mtime = 0
            ti.mode = 0o755 if name.startswith("bin/") else 0o644
            t.addfile(ti, io.BytesIO(data))
    return buf.getvalue()


def _gz(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)


def _blob(root: str, data: bytes) -> dict:
    d = hashlib.sha256(data).hexdigest()
    os.makedirs(os.path.join(root, "blobs", "sha256"), exist_ok=True)
    with open(os.path.join(root, "blobs", "sha256", d), "wb") as f:
        f.write(data)
    return {"digest": "sha256:" + d, "size": len(data)}


def make_oci(root: str, tag: str = "1.0", image_name: str | None = "docker.io/library/hello:1.0",
             layers: int = 2, extra_tags: tuple[str, ...] = ()) -> dict:
    """A real OCI image layout (gzip layers, config with diff_ids, manifest, index)."""
    os.makedirs(root, exist_ok=True)
    layer_descs, diff_ids = [], []
    for i in range(layers):
        raw = _det_tar({f"bin/tool{i}": b"#!/bin/sh\necho layer %d\n" % i, f"etc/conf{i}": b"x=%d\n" % i})
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        d = _blob(root, _gz(raw))
        d["mediaType"] = "application/vnd.oci.image.layer.v1.tar+gzip"
        layer_descs.append(d)
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids},
                         "config": {"Entrypoint": ["/bin/tool0"]}}, sort_keys=True).encode()
    cd = _blob(root, config)
    cd["mediaType"] = "application/vnd.oci.image.config.v1+json"
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": cd, "layers": layer_descs}, sort_keys=True).encode()
    md = _blob(root, manifest)
    md["mediaType"] = "application/vnd.oci.image.manifest.v1+json"
    descs = []
    for t in (tag, *extra_tags):
        ann = {"org.opencontainers.image.ref.name": t}
        if image_name and t == tag:
            ann["io.containerd.image.name"] = image_name
        descs.append({**md, "annotations": ann, "platform": {"architecture": "amd64", "os": "linux"}})
    with open(os.path.join(root, "oci-layout"), "w") as f:
        json.dump({"imageLayoutVersion": "1.0.0"}, f)
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                   "manifests": descs}, f, sort_keys=True)
    return {"manifest": md, "layers": layer_descs, "config": cd}


def make_docker_archive(path: str, repo_tag: str = "example.org/team/app:2.1", corrupt_layer: bool = False) -> None:
    """A 'docker save' style archive: <id>/layer.tar, <config>.json, manifest.json, repositories."""
    files: dict[str, bytes] = {}
    layers, diff_ids = [], []
    for i in range(2):
        raw = _det_tar({f"usr/share/doc{i}.txt": b"doc %d\n" % i})
        lid = hashlib.sha256(b"layer%d" % i).hexdigest()
        diff_ids.append("sha256:" + hashlib.sha256(raw).hexdigest())
        files[f"{lid}/layer.tar"] = raw + (b"\0" * 512 if corrupt_layer and i == 1 else b"")
        files[f"{lid}/VERSION"] = b"1.0"
        layers.append(f"{lid}/layer.tar")
    config = json.dumps({"architecture": "arm64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    cfg_name = hashlib.sha256(config).hexdigest() + ".json"
    files[cfg_name] = config
    files["manifest.json"] = json.dumps([{"Config": cfg_name, "RepoTags": [repo_tag], "Layers": layers}]).encode()
    with open(path, "wb") as f:
        f.write(_det_tar(files))


# ====================================================================== keyholder sets

def frost_sign(dealer: frost.DealerOutput, ids: list[int], message: bytes) -> bytes:
    kps = {s.identifier: s.key_package() for s in dealer.shares}
    rounds = {i: frost.commit(kps[i]) for i in ids}
    commitments = sorted((c for _, c in rounds.values()), key=lambda c: c.identifier)
    shares = [frost.sign(message, commitments, rounds[i][0], kps[i]) for i in ids]
    return frost.aggregate(message, commitments, shares, dealer.public_key_package())


IDENTITY_SUITE = {"CT-SIG-01": "CT-SIG-01", "CT-SIG-02": "CT-SIG-02", "CT-SIG-03": "CT-SIG-03"}


class Coop:
    """A keyholder set built in-process: identity keys + trusted-dealer FROST shares."""

    def __init__(self, name: str = "coop", n: int = 3, k: int = 2, suite: str = "CT-SIG-02", epoch: int = 1,
                 previous: KeyholderSet | None = None, created: str = "2024-01-01T00:00:00Z",
                 expires: str = "2099-01-01T00:00:00Z", prefix: str = "m",
                 closed_releases: tuple[str, ...] | None = None) -> None:
        self.suite = suite
        self.k = k
        self.algs = SUITES[suite].algorithms
        self.keys = [IdentityKey.generate(f"{prefix}{i}", IDENTITY_SUITE[suite]) for i in range(1, n + 1)]
        self.dealer = frost.trusted_dealer_keygen(n, k) if "ed25519" in self.algs else None
        shares = self.dealer.public_key_package().verifying_shares if self.dealer else {}
        members = tuple(Member(key.id, i, key.public(), shares.get(i))
                        for i, key in enumerate(self.keys, start=1))
        prev = (previous.epoch, previous.fingerprint.full_hex) if previous is not None else None
        self.unsigned = KeyholderSet(name, epoch, suite, k, created, expires,
                                     self.dealer.group_public_key if self.dealer else None, members, prev,
                                     closed_releases)
        self.record = self.unsigned

    @property
    def group_public_key(self) -> bytes | None:
        return self.dealer.group_public_key if self.dealer else None

    def group_sign(self, message: bytes, ids: list[int] | None = None) -> Signature:
        ids = ids or list(range(1, self.k + 1))
        sig = frost_sign(self.dealer, ids, message)
        return Signature("ed25519", keyid_of(self.dealer.group_public_key), sig)

    def mldsa_sign(self, message: bytes, ids: list[int]) -> list[Signature]:
        out = []
        for i in ids:
            out += [s for s in self.keys[i - 1].sign(message) if s.alg == "ml-dsa-87"]
        return out

    def sign(self, message: bytes, ids: list[int] | None = None, *, group: bool = True,
             mldsa: bool = True) -> list[Signature]:
        ids = ids or list(range(1, self.k + 1))
        sigs: list[Signature] = []
        if group and "ed25519" in self.algs:
            sigs.append(self.group_sign(message, ids))
        if mldsa and "ml-dsa-87" in self.algs:
            sigs += self.mldsa_sign(message, ids)
        return sigs

    def self_signed(self) -> KeyholderSet:
        self.record = self.unsigned.with_signatures(self.sign(self.unsigned.message()))
        return self.record

    def rotate_to(self, nxt: Coop, *, old_sign: bool = True, new_sign: bool = True) -> KeyholderSet:
        """``nxt``'s record, signed by this set (outgoing) and by itself."""
        msg = nxt.unsigned.message()
        sigs = (self.sign(msg) if old_sign else []) + (nxt.sign(msg) if new_sign else [])
        nxt.record = nxt.unsigned.with_signatures(sigs)
        return nxt.record

    def sign_bundle(self, src: str, dst: str, chain: list[KeyholderSet], *, ids: list[int] | None = None,
                    stock: bool = True, group: bool = True, mldsa: bool = True) -> None:
        """The two signing passes a ceremony makes, in-process."""
        msgs = B.release_messages(src)
        sigs = self.sign(msgs["dsse"], ids, group=group, mldsa=mldsa)
        rec = None
        if stock and "ed25519" in self.algs:
            first = {n: self.group_sign(msgs[n], ids).sig for n in S.FIRST_PASS}
            comment = B.release_trusted_comment(src)
            second = S.second_pass_messages(first["minisign"], comment)
            first["minisign-global"] = self.group_sign(second["minisign-global"], ids).sig
            rec = S.StockRecord(self.dealer.group_public_key, comment, first)
        atts = {n[4:]: [self.group_sign(m, ids)] for n, m in msgs.items() if n.startswith("att:")} \
            if group and "ed25519" in self.algs else {}
        B.add_signatures(src, dst, sigs, records=chain, stock=rec, attestations=atts)


def make_payload_dir(root: str) -> str:
    os.makedirs(os.path.join(root, "sub"), exist_ok=True)
    with open(os.path.join(root, "README"), "wb") as f:
        f.write(b"hello release\n")
    with open(os.path.join(root, "sub", "tool.sh"), "wb") as f:
        f.write(b"#!/bin/sh\necho hi\n")
    os.chmod(os.path.join(root, "sub", "tool.sh"), 0o755)
    return root


def pack_unsigned(src: str, out: str, name: str = "demo", version: str = "1.0") -> None:
    from cerro_torre.ceremony.sources import open_source

    with open_source(src) as s:
        B.pack(s, out, name=name, version=version)


def members(path: str) -> dict[str, bytes]:
    """name -> data of every member of a bundle (through the strict reader)."""
    out = {}
    with open(path, "rb") as f:
        r = B.TarReader(f)
        for m in r:
            out[m.name] = r.read_all(1 << 30)
    return out


def modes(path: str) -> dict[str, int]:
    out = {}
    with open(path, "rb") as f:
        r = B.TarReader(f)
        for m in r:
            out[m.name] = m.mode
    return out


def write_members(path: str, items: list[tuple[str, bytes]], *, sort: bool = True,
                  mode_of: dict[str, int] | None = None) -> None:
    """A tar with exactly these members (used to build altered and malformed bundles)."""
    mode_of = mode_of or {}
    with open(path, "wb") as f:
        for name, data in (sorted(items, key=lambda x: x[0].encode()) if sort else items):
            f.write(B.member_header(name, len(data), mode_of.get(name, B.MODE_FILE)))
            f.write(data + b"\0" * (-len(data) % 512))
        f.write(b"\0" * 1024)


def statement_sha256(bundle_path: str) -> str:
    """The sha256 of a bundle's release statement (the DSSE payload): what a rotation's closed_releases lists."""
    from cerro_torre.ceremony.statement import Envelope

    parts = B.read_parts(bundle_path)
    return hashlib.sha256(Envelope.from_bytes(parts.signature_members[B.ENVELOPE]).payload).hexdigest()


# ====================================================================== fixtures shared by test modules (import them)

import pytest  # noqa: E402


@pytest.fixture
def cheap(monkeypatch):
    """Cheap Argon2 and a passphrase in the environment (use with pytest.mark.usefixtures)."""
    cheap_env(monkeypatch)


@pytest.fixture(scope="module")
def coop():
    """A self-signed 2-of-3 CT-SIG-02 keyholder set."""
    c = Coop(name="coop", n=3, k=2)
    c.self_signed()
    return c


def pin_policy(path: str, coop: Coop, *attestation_types: str) -> str:
    """A policy pinning ``coop``'s record (and requiring these attestation types)."""
    assert ct("policy", "init", "--policy", path, "--force", "--root", coop.record.fingerprint.full_hex)[0] == 0
    for t in attestation_types:
        assert ct("policy", "require-attestation", t, "--policy", path)[0] == 0
    return path
