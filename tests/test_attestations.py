"""Attestations (spec/attestations.md): the SPDX 2.3 SBOM (validated by spdx-tools), SLSA provenance v1,
user attestations, their binding to the release statement and their signatures, policy, `ct attestations`."""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import os
import subprocess
import tarfile

import pytest
from test_bundle_support import cheap, coop  # noqa: F401 - fixtures
from test_bundle_support import pin_policy, ct, make_oci, members, write_members
from cerro_torre.ceremony import bundle as B

SPDX = "https://spdx.dev/Document/v2.3"
SLSA = "https://slsa.dev/provenance/v1"

DPKG_STATUS = b"""Package: libc6
Status: install ok installed
Architecture: amd64
Maintainer: GNU Libc Maintainers <debian-glibc@lists.debian.org>
Version: 2.36-9+deb12u4

Package: removed-one
Status: deinstall ok config-files
Version: 1.0

Package: bash
Status: install ok installed
Architecture: amd64
Version: 5.2.15-2+b2
"""
APK_INSTALLED = b"""C:Q1abc=
P:musl
V:1.2.4-r2
A:x86_64
m:Timo Teras <timo.teras@iki.fi>

P:busybox
V:1.36.1-r5
A:x86_64
"""
METADATA = b"Metadata-Version: 2.1\nName: requests\nVersion: 2.31.0\nSummary: HTTP\n\n"


pytestmark = pytest.mark.usefixtures("cheap")


def rootfs(root: str) -> str:
    for rel, data in (("var/lib/dpkg/status", DPKG_STATUS), ("etc/os-release", b'ID=debian\nVERSION_ID="12"\n'),
                      ("usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA", METADATA),
                      ("bin/tool", b"#!/bin/sh\n")):
        os.makedirs(os.path.dirname(os.path.join(root, rel)), exist_ok=True)
        with open(os.path.join(root, rel), "wb") as f:
            f.write(data)
    return root


def atts_of(path: str) -> dict[str, dict]:
    """predicateType -> statement of each attestation in the bundle."""
    out = {}
    for name, data in members(path).items():
        if name.startswith("signatures/attestations/"):
            st = json.loads(base64.b64decode(json.loads(data)["payload"]))
            out[st["predicateType"]] = st
    return out


def validate_spdx(doc: dict, tmp_path) -> list[str]:
    from spdx_tools.spdx.parser.parse_anything import parse_file
    from spdx_tools.spdx.validation.document_validator import validate_full_spdx_document

    path = tmp_path / "sbom.spdx.json"
    path.write_text(json.dumps(doc))
    return [m.validation_message for m in validate_full_spdx_document(parse_file(str(path)))]


def sign(coop, src, dst):
    coop.sign_bundle(src, dst, [coop.record])


def pin(tmp_path, coop, *extra) -> str:
    return pin_policy(str(tmp_path / "policy.json"), coop, *extra)


# ------------------------------------------------------------------ SBOM

def test_sbom_of_a_directory_validates_with_spdx_tools(tmp_path):
    src = rootfs(str(tmp_path / "rootfs"))
    out = str(tmp_path / "r.ctp")
    code, stdout, err = ct("pack", src, "-o", out, "--name", "rootfs", "--version", "1.0")
    assert (code, err) == (0, "")
    assert "  attests    https://spdx.dev/Document/v2.3" in stdout.splitlines()
    st = atts_of(out)[SPDX]
    doc = st["predicate"]
    assert validate_spdx(doc, tmp_path) == []
    assert doc["spdxVersion"] == "SPDX-2.3"
    assert doc["creationInfo"] == {"created": "1970-01-01T00:00:00Z", "creators": ["Tool: cerro-torre-0.1.0"]}
    pkgs = {(p["name"], p.get("versionInfo")): p for p in doc["packages"]}
    assert set(pkgs) == {("rootfs", "1.0"), ("libc6", "2.36-9+deb12u4"), ("bash", "5.2.15-2+b2"),
                         ("requests", "2.31.0")}   # the deinstalled package is not listed
    assert pkgs["libc6", "2.36-9+deb12u4"]["externalRefs"][0]["referenceLocator"] == \
        "pkg:deb/debian/libc6@2.36-9%2Bdeb12u4?arch=amd64"
    assert pkgs["requests", "2.31.0"]["externalRefs"][0]["referenceLocator"] == "pkg:pypi/requests@2.31.0"
    files = {f["fileName"]: f["checksums"] for f in doc["files"]}
    data = b"#!/bin/sh\n"
    assert files["./bin/tool"] == [{"algorithm": "SHA1", "checksumValue": hashlib.sha1(data).hexdigest()},
                                   {"algorithm": "SHA256", "checksumValue": hashlib.sha256(data).hexdigest()}]
    # same subjects as the release statement
    release = json.loads(base64.b64decode(json.loads(members(out)["signatures/release.dsse.json"])["payload"]))
    assert st["subject"] == release["subject"]
    assert release["predicate"]["attestations"] == [
        {"predicateType": t, "digest": {"sha256": hashlib.sha256(
            base64.b64decode(json.loads(members(out)[n])["payload"])).hexdigest()}}
        for t in (SPDX, SLSA)
        for n in members(out) if n.startswith("signatures/attestations/")
        and json.loads(base64.b64decode(json.loads(members(out)[n])["payload"]))["predicateType"] == t]


def _layer(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as t:
        for name, data in files.items():
            ti = tarfile.TarInfo(name)
            ti.size = len(data)
            t.addfile(ti, io.BytesIO(data))
    return gzip.compress(buf.getvalue(), mtime=0)


def test_sbom_of_an_image_reads_the_package_databases_in_its_layers(tmp_path):
    root = str(tmp_path / "img")
    info = make_oci(root)
    # replace the image's layers by: apk db, then dpkg db, then a layer whiting out the apk db
    layers = [_layer({"lib/apk/db/installed": APK_INSTALLED, "etc/os-release": b"ID=alpine\n"}),
              _layer({"var/lib/dpkg/status": DPKG_STATUS}),
              _layer({"lib/apk/db/.wh.installed": b""})]
    _rewrite_layers(root, info, layers)
    out = str(tmp_path / "i.ctp")
    assert ct("pack", f"oci:{root}:1.0", "-o", out)[0] == 0
    doc = atts_of(out)[SPDX]["predicate"]
    assert validate_spdx(doc, tmp_path) == []
    assert sorted(p["name"] for p in doc["packages"]) == ["bash", "hello", "libc6"]
    # without the whiteout the apk packages are there too
    _rewrite_layers(root, info, layers[:2])
    out2 = str(tmp_path / "i2.ctp")
    assert ct("pack", f"oci:{root}:1.0", "-o", out2)[0] == 0
    doc = atts_of(out2)[SPDX]["predicate"]
    names = {p["name"]: p for p in doc["packages"]}
    assert sorted(names) == ["bash", "busybox", "hello", "libc6", "musl"]
    assert names["musl"]["externalRefs"][0]["referenceLocator"] == "pkg:apk/alpine/musl@1.2.4-r2?arch=x86_64"


def _rewrite_layers(root, info, layers):
    blobs = os.path.join(root, "blobs", "sha256")
    descs, diff_ids = [], []
    for data in layers:
        d = hashlib.sha256(data).hexdigest()
        with open(os.path.join(blobs, d), "wb") as f:
            f.write(data)
        descs.append({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": "sha256:" + d,
                      "size": len(data)})
        diff_ids.append("sha256:" + hashlib.sha256(gzip.decompress(data)).hexdigest())
    config = json.dumps({"architecture": "amd64", "os": "linux",
                         "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
    cd = hashlib.sha256(config).hexdigest()
    with open(os.path.join(blobs, cd), "wb") as f:
        f.write(config)
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": "sha256:" + cd, "size": len(config)},
                           "layers": descs}).encode()
    md = hashlib.sha256(manifest).hexdigest()
    with open(os.path.join(blobs, md), "wb") as f:
        f.write(manifest)
    with open(os.path.join(root, "index.json")) as f:
        index = json.load(f)
    for d in index["manifests"]:
        d.update({"digest": "sha256:" + md, "size": len(manifest)})
    with open(os.path.join(root, "index.json"), "w") as f:
        json.dump(index, f)


def test_sbom_of_a_deb_comes_from_its_control_file(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "DEBIAN").mkdir(parents=True)
    (pkg / "usr" / "bin").mkdir(parents=True)
    (pkg / "usr" / "bin" / "hello").write_text("#!/bin/sh\necho hi\n")
    (pkg / "DEBIAN" / "control").write_text(
        "Package: hello-ct\nVersion: 1.2-3\nArchitecture: all\nMaintainer: Jane <jane@example.org>\n"
        "Description: test package\n")
    deb = str(tmp_path / "hello-ct_1.2-3_all.deb")
    subprocess.run(["dpkg-deb", "--root-owner-group", "--build", str(pkg), deb], check=True, capture_output=True)
    out = str(tmp_path / "d.ctp")
    assert ct("pack", deb, "-o", out)[0] == 0
    doc = atts_of(out)[SPDX]["predicate"]
    assert validate_spdx(doc, tmp_path) == []
    [p] = [p for p in doc["packages"] if p["name"] == "hello-ct" and p["SPDXID"] != "SPDXRef-Release"]
    assert p["versionInfo"] == "1.2-3"
    assert p["supplier"] == "Organization: Jane <jane@example.org>"
    assert p["externalRefs"][0]["referenceLocator"] == "pkg:deb/debian/hello-ct@1.2-3?arch=all"
    # a file named .deb that is not one: packed, and the SBOM says why it lists no package for it
    bad = tmp_path / "bad.deb"
    bad.write_bytes(b"not an ar archive")
    code, _, err = ct("pack", str(bad), "-o", str(tmp_path / "b.ctp"))
    assert (code, err) == (0, "")
    doc = atts_of(str(tmp_path / "b.ctp"))[SPDX]["predicate"]
    assert validate_spdx(doc, tmp_path) == []
    assert [p["name"] for p in doc["packages"]] == ["bad"]
    assert doc["comment"] == ("bad.deb is named like a Debian package, but its control file cannot be read "
                              "(Unable to find global header): no package is listed for it")


# ------------------------------------------------------------------ provenance

def test_slsa_provenance_fields(tmp_path, monkeypatch):
    root = str(tmp_path / "img")
    info = make_oci(root)
    out = str(tmp_path / "p.ctp")
    pred = tmp_path / "tests.json"
    pred.write_text(json.dumps({"passed": 12, "failed": 0}))
    assert ct("pack", f"oci:{root}:1.0", "-o", out, "--attest", f"https://example.org/tests/v1={pred}")[0] == 0
    st = atts_of(out)[SLSA]
    assert st["_type"] == "https://in-toto.io/Statement/v1"
    p = st["predicate"]
    bd = p["buildDefinition"]
    assert bd["buildType"] == "https://cerro-torre.org/pack/v1"
    assert bd["externalParameters"] == {"command": "ct pack", "sources": ["oci:docker.io/library/hello:1.0"],
                                        "name": "hello", "version": "1.0",
                                        "attest": ["https://example.org/tests/v1"]}
    assert bd["resolvedDependencies"] == [{"uri": "oci:docker.io/library/hello:1.0",
                                           "digest": {"sha256": info["manifest"]["digest"][7:]}}]
    assert p["runDetails"]["builder"] == {"id": "https://cerro-torre.org/ct/pack", "version": {"cerro-torre": "0.1.0"}}
    assert atts_of(out)["https://example.org/tests/v1"]["predicate"] == {"passed": 12, "failed": 0}
    # no absolute path of the packing machine is recorded
    assert str(tmp_path).encode() not in b"".join(members(out).values())


def test_attest_errors(tmp_path):
    (tmp_path / "f").write_text("x")
    code, _, err = ct("pack", str(tmp_path / "f"), "-o", str(tmp_path / "o.ctp"), "--attest", "notype")
    assert code == 64
    assert err.splitlines()[0] == "error: --attest 'notype' is not TYPE=FILE"
    code, _, err = ct("pack", str(tmp_path / "f"), "-o", str(tmp_path / "o.ctp"),
                      "--attest", f"https://x.org/a={tmp_path / 'missing.json'}")
    assert code == 21
    (tmp_path / "arr.json").write_text("[1]")
    code, _, err = ct("pack", str(tmp_path / "f"), "-o", str(tmp_path / "o.ctp"),
                      "--attest", f"https://x.org/a={tmp_path / 'arr.json'}")
    assert code == 10
    assert err.splitlines()[0] == f"error: predicate file {tmp_path / 'arr.json'} must hold a JSON object"
    assert not os.path.exists(tmp_path / "o.ctp")


# ------------------------------------------------------------------ verification of attestations

@pytest.fixture
def signed(tmp_path, coop):
    src = rootfs(str(tmp_path / "rootfs"))
    unsigned = str(tmp_path / "u.ctp")
    assert ct("pack", src, "-o", unsigned, "--name", "rootfs", "--version", "1.0")[0] == 0
    out = str(tmp_path / "s.ctp")
    sign(coop, unsigned, out)
    return out


def test_group_signed_attestations_verify_and_are_listed(tmp_path, coop, signed):
    pol = pin(tmp_path, coop, SPDX, SLSA)
    code, out, err = ct("verify", signed, "--policy", pol)
    assert (code, err) == (0, "")
    assert f"  attests     {SPDX}, {SLSA}" in out.splitlines()
    code, out, err = ct("explain", signed, "--policy", pol)
    lines = out.splitlines()
    i = lines.index("attestations 2, bound by the release statement's digests")
    assert lines[i + 1].startswith(f"  {SPDX}  sha256 ") and lines[i + 1].endswith("  (signed)")
    assert lines[i + 2].startswith(f"  {SLSA}  sha256 ") and lines[i + 2].endswith("  (signed)")
    # each envelope alone verifies with the group key as plain Ed25519 over the DSSE PAE
    from cerro_torre.suites import ed25519
    from cerro_torre.suites.encoding import pae

    for name, data in members(signed).items():
        if name.startswith("signatures/attestations/"):
            env = json.loads(data)
            [s] = env["signatures"]
            assert s["alg"] == "ed25519"
            msg = pae(env["payloadType"], base64.b64decode(env["payload"]))
            assert ed25519.verify(coop.group_public_key, msg, base64.b64decode(s["sig"]))


def test_ct_attestations_writes_statements_and_envelopes(tmp_path, coop, signed):
    pol = pin(tmp_path, coop)
    outdir = tmp_path / "atts"
    code, out, err = ct("attestations", signed, "-o", str(outdir), "--policy", pol)
    assert (code, err) == (0, "")
    names = sorted(os.listdir(outdir))
    assert len(names) == 4
    assert [n.split(".")[0] for n in names[::2]] == ["slsa", "spdx"]
    sbom = [n for n in names if n.startswith("spdx.dev-Document-v2.3.") and n.endswith(".json")
            and not n.endswith(".dsse.json")][0]
    st = json.loads((outdir / sbom).read_text())
    assert st["predicateType"] == SPDX
    assert validate_spdx(st["predicate"], tmp_path) == []


def test_policy_requires_an_attestation_type(tmp_path, coop, signed):
    pol = pin(tmp_path, coop, "https://example.org/vuln-scan/v1")
    code, out, err = ct("verify", signed, "--policy", pol)
    assert (code, out) == (4, "")
    assert err.splitlines() == [
        f"error: policy {pol} requires an attestation of type https://example.org/vuln-scan/v1, "
        "and the bundle carries none",
        "hint: ask the publisher for a release packed with it (ct pack --attest TYPE=FILE), or if this is "
        f"acceptable, change {pol} (\"attestations\")"]
    code, out, _ = ct("policy", "show", "--policy", pol)
    assert "  attestations   https://example.org/vuln-scan/v1" in out.splitlines()


def _replace_member(src, dst, name, data):
    items = [(n, d) for n, d in members(src).items() if n != name]
    if data is not None:
        items.append((name, data))
    write_members(dst, items)


def test_unsigned_attestation_envelope_is_exit_2(tmp_path, coop, signed):
    name = next(n for n in members(signed) if n.startswith("signatures/attestations/"))
    env = json.loads(members(signed)[name])
    env["signatures"] = []
    bad = str(tmp_path / "bad.ctp")
    _replace_member(signed, bad, name, (json.dumps(env, sort_keys=True, separators=(",", ":")) + "\n").encode())
    code, out, err = ct("verify", bad, "--policy", pin(tmp_path, coop))
    assert code == 2
    assert "has no valid signature by the release key" in err.splitlines()[0]


def test_removed_or_added_attestation_is_exit_1(tmp_path, coop, signed):
    pol = pin(tmp_path, coop)
    name = next(n for n in members(signed) if n.startswith("signatures/attestations/"))
    gone = str(tmp_path / "gone.ctp")
    _replace_member(signed, gone, name, None)
    code, _, err = ct("verify", gone, "--policy", pol)
    assert code == 1
    assert "is signed but missing from the bundle" in err.splitlines()[0]
    # an extra attestation, even one signed by the group key, is not bound by the release statement
    from cerro_torre.ceremony import attest
    from cerro_torre.ceremony.statement import Envelope

    release = json.loads(base64.b64decode(json.loads(members(signed)["signatures/release.dsse.json"])["payload"]))
    st = attest.make([(s["name"], s["digest"]["sha256"]) for s in release["subject"]],
                     "https://evil.example/ok/v1", {"all": "fine"})
    env = Envelope(st).with_signatures([coop.group_sign(Envelope(st).pae())])
    added = str(tmp_path / "added.ctp")
    _replace_member(signed, added, attest.member_name(st), env.to_bytes())
    code, _, err = ct("verify", added, "--policy", pol)
    assert code == 1
    assert err.splitlines()[0].endswith("attestation https://evil.example/ok/v1 "
                                        f"({hashlib.sha256(st).hexdigest()[:16]}…) is not bound by the signed "
                                        "release statement")


def test_single_holder_signs_attestations_with_every_algorithm(tmp_path):
    home = str(tmp_path / "h")
    assert ct("--home", home, "keygen", "--id", "alice")[0] == 0
    src = rootfs(str(tmp_path / "rootfs"))
    out = str(tmp_path / "a.ctp")
    assert ct("--home", home, "pack", src, "-o", out, "--key", "alice")[0] == 0
    assert ct("--home", home, "key", "trust", "alice", "ultimate")[0] in (0,)
    code, stdout, err = ct("--home", home, "verify", out)
    assert (code, err) == (0, "")
    for name, data in members(out).items():
        if name.startswith("signatures/attestations/"):
            assert sorted(s["alg"] for s in json.loads(data)["signatures"]) == ["ed25519", "ml-dsa-87"]


def test_keyholders_refuse_a_request_with_other_attestations(tmp_path, coop, signed):
    """What a keyholder signs is derived from the bytes: attestations not listed by the release statement
    (or a listed one left out) make the request unacceptable."""
    from cerro_torre.ceremony import attest, signing
    from cerro_torre.ceremony.message import Message
    from cerro_torre.suites.errors import Malformed

    parts = B.read_parts(signed)
    env = json.loads(parts.signature_members["signatures/release.dsse.json"])
    statement = base64.b64decode(env["payload"])
    atts = B.attestation_statements(parts)
    req = signing.open_sign(statement, [coop.record], attestations=atts)
    from cerro_torre.ceremony.protocol import History, View

    def plan_of(m):
        return signing.plan_of(View(Message.parse(m.to_bytes()), History([], [coop.record])))

    plan = plan_of(req)
    assert [n for n, _ in plan.first_messages()] == ["dsse", "minisign", "sha256sums", "signify", "ssh"] + \
        ["att:" + hashlib.sha256(a).hexdigest() for a in atts]
    assert plan.nonce_count == 8
    summary = plan.summary()
    assert f"    {hashlib.sha256(atts[0]).hexdigest()}  {SPDX}" in summary
    subjects = [(s["name"], s["digest"]["sha256"]) for s in json.loads(statement)["subject"]]
    forged = attest.make(subjects, SPDX, {"spdxVersion": "SPDX-2.3", "forged": 1})
    for bad in ([atts[0]], [forged, atts[1]], [atts[1], atts[0]]):
        with pytest.raises(Malformed) as e:
            signing.open_sign(statement, [coop.record], attestations=bad)
        assert e.value.message == "the attestations to sign are not the ones the release statement lists"
        # a request altered on the way (the coordinator's message is data, not trusted)
        payload = json.loads(json.dumps(req.payload))
        payload["release"]["attestations"] = [base64.b64encode(a).decode() for a in bad]
        altered = Message(req.ceremony, req.kind, req.round, req.sender, payload)
        with pytest.raises(Malformed):
            plan_of(altered)


# ------------------------------------------------------------------ streamed: each statement names every file

def _statement(env_bytes: bytes) -> bytes:
    return base64.b64decode(json.loads(env_bytes)["payload"])


def _rebind(tmp_path, coop, unsigned: str, old_name: str, new_statement: bytes) -> str:
    """``unsigned`` with the attestation ``old_name`` replaced by ``new_statement``, its release statement
    binding the new one instead, then signed by ``coop`` (a release the keyholders did sign)."""
    from cerro_torre.ceremony import attest
    from cerro_torre.ceremony.statement import Envelope, make_statement

    items = members(unsigned)
    release = json.loads(_statement(items["signatures/release.dsse.json"]))
    old = hashlib.sha256(_statement(items[old_name])).hexdigest()
    for e in release["predicate"]["attestations"]:
        if e["digest"]["sha256"] == old:
            e["digest"]["sha256"] = hashlib.sha256(new_statement).hexdigest()
    stmt = make_statement([(s["name"], s["digest"]["sha256"]) for s in release["subject"]], release["predicate"])
    del items[old_name]
    items[attest.member_name(new_statement)] = Envelope(new_statement).to_bytes()
    items["signatures/release.dsse.json"] = Envelope(stmt).to_bytes()
    rebound = str(tmp_path / "rebound-unsigned.ctp")
    write_members(rebound, list(items.items()))
    out = str(tmp_path / "rebound.ctp")
    sign(coop, rebound, out)
    return out


def test_an_attestation_over_other_subjects_is_exit_1(tmp_path, coop):
    """Each attestation's subjects are folded into a digest as its envelope streams by and compared with
    the release statement's: one naming a file fewer, signed in the ceremony, is still refused."""
    from cerro_torre.ceremony import attest

    unsigned = str(tmp_path / "u.ctp")
    assert ct("pack", rootfs(str(tmp_path / "rootfs")), "-o", unsigned, "--name", "rootfs", "--version", "1.0")[0] == 0
    name = next(n for n, d in members(unsigned).items() if n.startswith("signatures/attestations/")
                and json.loads(_statement(d))["predicateType"] == SLSA)
    st = json.loads(_statement(members(unsigned)[name]))
    fewer = attest.make([(s["name"], s["digest"]["sha256"]) for s in st["subject"][:-1]], SLSA, st["predicate"])
    bad = _rebind(tmp_path, coop, unsigned, name, fewer)
    code, out, err = ct("verify", bad, "--policy", pin(tmp_path, coop))
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"error: rebound.ctp: attestation {SLSA} ({hashlib.sha256(fewer).hexdigest()[:16]}…) names other subjects "
        "than the release statement",
        "hint: the bundle is inconsistent; it was not made by ct pack"]


def test_a_predicate_out_of_canonical_form_deep_inside_is_exit_10(tmp_path, coop, signed):
    """The SBOM's predicate is checked a file at a time, not built whole; what is not canonical is refused
    with the whole-document parser's message, however deep it is."""
    name = next(n for n, d in members(signed).items() if n.startswith("signatures/attestations/")
                and json.loads(_statement(d))["predicateType"] == SPDX)
    text = _statement(members(signed)[name])
    i = text.index(b'{"algorithm":"SHA1","checksumValue":')
    swapped = text[:i] + text[i:].replace(b'{"algorithm":"SHA1","checksumValue":"', b'{"checksumValue":"', 1)
    j = swapped.index(b'"}', i)
    swapped = swapped[:j + 1] + b',"algorithm":"SHA1"' + swapped[j + 1:]
    assert len(swapped) == len(text) and json.loads(swapped) == json.loads(text)   # same value, keys out of order
    bad_name = f"signatures/attestations/{hashlib.sha256(swapped).hexdigest()}.dsse.json"
    env = json.loads(members(signed)[name])
    env["payload"] = base64.b64encode(swapped).decode()
    bad = str(tmp_path / "bad.ctp")
    items = [(n, d) for n, d in members(signed).items() if n != name]
    write_members(bad, items + [(bad_name, (json.dumps(env, sort_keys=True, separators=(",", ":")) + "\n").encode())])
    code, out, err = ct("verify", bad, "--policy", pin(tmp_path, coop))
    assert (code, out) == (10, "")
    assert err.splitlines()[0] == f"error: bad.ctp: {bad_name}: statement is not canonical JSON"


def _write_before(monkeypatch, step: str, path: str, old: bytes, new: bytes) -> None:
    """The bytes ``old`` of the bundle at ``path`` become ``new`` (same size) just before the verifier's
    ``step`` runs: after its one pass, before what it reads again."""
    from cerro_torre.ceremony import verifier as V

    at = open(path, "rb").read().index(old)
    real = getattr(V, step)

    def write_then_run(*a, **k):
        with open(path, "r+b") as f:
            f.seek(at)
            f.write(new)
        return real(*a, **k)

    monkeypatch.setattr(V, step, write_then_run)


def test_an_attestation_read_again_must_be_the_one_verified(tmp_path, coop, signed, monkeypatch):
    """Its statement is read once to check it, and again to check its signature: an envelope swapped in
    between (same size, a valid group signature over another statement) is refused, not accepted."""
    from cerro_torre.ceremony.statement import Envelope

    name = next(n for n, d in members(signed).items() if n.startswith("signatures/attestations/")
                and json.loads(_statement(d))["predicateType"] == SLSA)
    text = _statement(members(signed)[name])
    other = text.replace(b'"command":"ct pack"', b'"command":"ct pick"')
    assert other != text and len(other) == len(text)
    swapped = Envelope(other).with_signatures([coop.group_sign(Envelope(other).pae())]).to_bytes()
    assert len(swapped) == len(members(signed)[name])
    _write_before(monkeypatch, "_check_attestation_signatures", signed, members(signed)[name], swapped)
    code, out, err = ct("verify", signed, "--policy", pin(tmp_path, coop))
    assert (code, out) == (10, "")
    assert err.splitlines() == ["error: s.ctp changed while it was being verified",
                                "hint: something is writing to the bundle; verify a copy that nothing changes"]


@pytest.mark.parametrize("stock", [True, False])
def test_the_release_statement_read_again_must_be_the_one_verified(tmp_path, coop, monkeypatch, stock):
    """The release statement is never held: read once to check it and fold its subjects, then again for
    each signature.  A bundle whose envelope holds a statement nobody signed (with the signatures of the
    real one), the real one written back in between, is refused: the signatures would verify over what
    is read the second time while the subjects checked are the first reading's."""
    from cerro_torre.ceremony.statement import Envelope

    unsigned = str(tmp_path / "u.ctp")
    assert ct("pack", rootfs(str(tmp_path / "rootfs")), "-o", unsigned, "--name", "rootfs", "--version", "1.0")[0] == 0
    signed = str(tmp_path / "s.ctp")
    coop.sign_bundle(unsigned, signed, [coop.record], stock=stock)
    assert ("signatures/stock.json" in members(signed)) is stock
    name = "signatures/release.dsse.json"
    real_env = members(signed)[name]
    env = Envelope.from_bytes(real_env)
    other = env.payload.replace(b'"version":"1.0"', b'"version":"1.1"')
    assert other != env.payload and len(other) == len(env.payload)
    forged = Envelope(other, env.payload_type, env.signatures).to_bytes()
    assert len(forged) == len(real_env)
    at = open(signed, "rb").read().index(real_env)
    with open(signed, "r+b") as f:
        f.seek(at)
        f.write(forged)
    _write_before(monkeypatch, "_check_signatures", signed, forged, real_env)
    code, out, err = ct("verify", signed, "--policy", pin(tmp_path, coop))
    assert (code, out) == (10, "")
    assert err.splitlines() == ["error: s.ctp changed while it was being verified",
                                "hint: something is writing to the bundle; verify a copy that nothing changes"]


def test_a_release_of_several_artifacts_attests_every_digest(tmp_path):
    """The SBOM's files and the provenance's dependencies come from the manifest as packed (on main a
    multi-artifact release listed every SHA-256 as "", an SBOM spdx-tools refuses)."""
    src = rootfs(str(tmp_path / "rootfs"))
    (tmp_path / "tool-1.0.bin").write_bytes(b"tool\n")
    out = str(tmp_path / "m.ctp")
    assert ct("pack", src, str(tmp_path / "tool-1.0.bin"), "-o", out, "--name", "suite", "--version", "2")[0] == 0
    atts = atts_of(out)
    doc = atts[SPDX]["predicate"]
    assert validate_spdx(doc, tmp_path) == []
    files = {f["fileName"]: f["checksums"][1]["checksumValue"] for f in doc["files"]}
    assert files["./tool-1.0.bin/tool-1.0.bin"] == hashlib.sha256(b"tool\n").hexdigest()
    assert files["./rootfs/bin/tool"] == hashlib.sha256(b"#!/bin/sh\n").hexdigest()
    listing = "".join(f"{hashlib.sha256(open(os.path.join(src, p), 'rb').read()).hexdigest()}  {p}\n"
                      for p in sorted(["bin/tool", "etc/os-release", "var/lib/dpkg/status",
                                       "usr/lib/python3/dist-packages/requests-2.31.0.dist-info/METADATA"]))
    deps = atts[SLSA]["predicate"]["buildDefinition"]["resolvedDependencies"]
    assert [(d["uri"], d["digest"]["sha256"]) for d in deps] == [
        ("rootfs/", hashlib.sha256(listing.encode()).hexdigest()),
        ("tool-1.0.bin", hashlib.sha256(b"tool\n").hexdigest())]


def test_an_sbom_above_max_files_lists_none_and_reads_no_file_again(tmp_path, monkeypatch):
    from cerro_torre.ceremony import sbom

    monkeypatch.setattr(sbom, "MAX_FILES", 3)
    monkeypatch.setattr(sbom, "_sha1", lambda opener: pytest.fail("a file was read again for its SHA-1"))
    src = rootfs(str(tmp_path / "rootfs"))
    out = str(tmp_path / "r.ctp")
    assert ct("pack", src, "-o", out, "--name", "rootfs", "--version", "1.0")[0] == 0
    st = atts_of(out)[SPDX]
    doc = st["predicate"]
    assert validate_spdx(doc, tmp_path) == []
    assert "files" not in doc and doc["packages"][0]["filesAnalyzed"] is False
    assert doc["comment"] == "4 files: more than 3, so they are not listed here; the release statement names each " \
                             "with its sha256"
    listing = "".join(f"{s['digest']['sha256']}  {s['name']}\n" for s in st["subject"])
    assert doc["documentNamespace"] == f"https://cerro-torre.org/spdx/rootfs/1.0/{hashlib.sha256(listing.encode()).hexdigest()}"
    assert [r["relatedSpdxElement"] for r in doc["relationships"]] == \
        ["SPDXRef-Release"] + [f"SPDXRef-Package-{i}" for i in (1, 2, 3)]
