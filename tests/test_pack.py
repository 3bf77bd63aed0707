"""`ct pack` from every kind of source (spec/bundle.md #Sources), through main()."""

from __future__ import annotations

import gzip
import json
import os
import stat
import tarfile

import pytest
from test_bundle_support import PW, ct, cheap_env, error_lines, make_docker_archive, make_oci, members

from cerro_torre.ceremony.sources import normalize_reference


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


@pytest.fixture
def home(tmp_path):
    return str(tmp_path / "home")


def manifest_of(path: str) -> dict:
    import tomllib

    return tomllib.loads(members(path)["manifest.toml"].decode())


# ------------------------------------------------------------------ OCI layouts

def test_pack_oci_with_tag(tmp_path):
    info = make_oci(str(tmp_path / "img"), tag="1.0", extra_tags=("latest",))
    out = str(tmp_path / "o.ctp")
    code, stdout, err = ct("pack", f"oci:{tmp_path / 'img'}:1.0", "-o", out)
    assert (code, err) == (0, "")
    assert stdout.splitlines()[0] == f"packed hello 1.0 into {out}"
    m = manifest_of(out)
    assert m["source"] == {"kind": "oci", "tag": "1.0", "image": "docker.io/library/hello:1.0",
                           "registry": "docker.io/library/hello", "manifests": [info["manifest"]["digest"]]}
    paths = [f["path"] for f in m["files"]]
    blobs = sorted(d["digest"].replace("sha256:", "blobs/sha256/") for d in
                   [info["manifest"], info["config"], *info["layers"]])
    assert paths == sorted(blobs + ["index.json", "oci-layout"])
    assert [(x["index"], x["digest"], x["platform"]) for x in m["layers"]] == \
        [(i, d["digest"], "linux/amd64") for i, d in enumerate(info["layers"])]
    # the payload is itself an OCI layout holding only the tag that was packed
    index = json.loads(members(out)["payload/index.json"])
    assert [d["annotations"]["org.opencontainers.image.ref.name"] for d in index["manifests"]] == ["1.0"]


def test_pack_oci_without_tag_takes_the_whole_index(tmp_path):
    make_oci(str(tmp_path / "img"), tag="1.0", extra_tags=("latest",), image_name=None)
    out = str(tmp_path / "o.ctp")
    code, _, err = ct("pack", f"oci:{tmp_path / 'img'}", "-o", out, "--name", "hello", "--version", "9")
    assert (code, err) == (0, "")
    with open(tmp_path / "img" / "index.json", "rb") as f:
        assert members(out)["payload/index.json"] == f.read()
    m = manifest_of(out)
    assert m["package"] == {"name": "hello", "version": "9"}
    assert "registry" not in m["source"]


def test_pack_oci_unknown_tag(tmp_path):
    make_oci(str(tmp_path / "img"), tag="1.0", extra_tags=("latest",))
    code, _, err = ct("pack", f"oci:{tmp_path / 'img'}:2.0", "-o", str(tmp_path / "o.ctp"))
    assert code == 21
    assert err.splitlines() == [f"error: tag '2.0' is not in oci:{tmp_path / 'img'}/index.json",
                                "hint: tags there: 1.0, latest"]
    assert not os.path.exists(tmp_path / "o.ctp")


def test_pack_oci_checks_every_blob_digest(tmp_path):
    info = make_oci(str(tmp_path / "img"))
    layer = info["layers"][1]["digest"]
    path = tmp_path / "img" / "blobs" / "sha256" / layer.split(":")[1]
    data = bytearray(path.read_bytes())
    data[-5] ^= 1
    path.write_bytes(bytes(data))
    code, _, err = ct("pack", f"oci:{tmp_path / 'img'}:1.0", "-o", str(tmp_path / "o.ctp"))
    assert code == 1
    assert err.splitlines() == [f"error: blob {layer} in oci:{tmp_path / 'img'} does not match its digest",
                                "hint: the layout is damaged or was altered; copy the image again"]
    assert not os.path.exists(tmp_path / "o.ctp")


def test_pack_oci_checks_blob_size(tmp_path):
    info = make_oci(str(tmp_path / "img"))
    cfg = info["config"]["digest"]
    path = tmp_path / "img" / "blobs" / "sha256" / cfg.split(":")[1]
    path.write_bytes(path.read_bytes() + b" ")
    code, _, err = ct("pack", f"oci:{tmp_path / 'img'}:1.0", "-o", str(tmp_path / "o.ctp"))
    assert code == 1
    assert error_lines(err) == [f"error: blob {cfg} in oci:{tmp_path / 'img'} is "
                                f"{info['config']['size'] + 1} bytes, its descriptor says {info['config']['size']}"]


def test_pack_oci_missing_blob(tmp_path):
    info = make_oci(str(tmp_path / "img"))
    layer = info["layers"][0]["digest"]
    os.unlink(tmp_path / "img" / "blobs" / "sha256" / layer.split(":")[1])
    code, _, err = ct("pack", f"oci:{tmp_path / 'img'}:1.0", "-o", str(tmp_path / "o.ctp"))
    assert code == 21
    assert error_lines(err) == [f"error: blob {layer} is missing from oci:{tmp_path / 'img'}"]


def test_pack_not_an_oci_layout(tmp_path):
    (tmp_path / "d").mkdir()
    code, _, err = ct("pack", f"oci:{tmp_path / 'd'}", "-o", str(tmp_path / "o.ctp"))
    assert code == 10
    assert err.splitlines() == [f"error: oci:{tmp_path / 'd'} is not an OCI image layout: oci-layout is missing",
                                "hint: create one with 'skopeo copy docker://REF oci:DIR:TAG'"]


# ------------------------------------------------------------------ docker archives

def test_pack_docker_archive(tmp_path):
    make_docker_archive(str(tmp_path / "app.tar"))
    out = str(tmp_path / "o.ctp")
    code, stdout, err = ct("pack", f"docker-archive:{tmp_path / 'app.tar'}", "-o", out)
    assert (code, err) == (0, "")
    m = manifest_of(out)
    assert m["package"] == {"name": "app", "version": "2.1"}
    assert m["source"]["registry"] == "example.org/team/app"
    assert m["source"]["repo_tags"] == ["example.org/team/app:2.1"]
    assert len(m["layers"]) == 2 and all(x["platform"] == "linux/arm64" for x in m["layers"])
    assert "manifest.json" in [f["path"] for f in m["files"]]


def test_pack_docker_archive_checks_diff_ids(tmp_path):
    make_docker_archive(str(tmp_path / "app.tar"), corrupt_layer=True)
    code, _, err = ct("pack", f"docker-archive:{tmp_path / 'app.tar'}", "-o", str(tmp_path / "o.ctp"))
    assert code == 1
    (line,) = error_lines(err)
    assert line.startswith("error: docker-archive:app.tar: layer ") and "/layer.tar does not match diff_id sha256:" in line


def test_pack_docker_archive_gzip_is_refused_with_a_hint(tmp_path):
    make_docker_archive(str(tmp_path / "app.tar"))
    (tmp_path / "app.tar.gz").write_bytes(gzip.compress((tmp_path / "app.tar").read_bytes()))
    code, _, err = ct("pack", f"docker-archive:{tmp_path / 'app.tar.gz'}", "-o", str(tmp_path / "o.ctp"))
    assert code == 10
    assert err.splitlines() == ["error: docker-archive:app.tar.gz is gzip-compressed",
                                "hint: unpack it first: gunzip -k FILE, then pack the .tar"]


# ------------------------------------------------------------------ files and directories

def test_pack_file_and_directory(tmp_path):
    (tmp_path / "tool-1.2.bin").write_bytes(b"\x7fELF...")
    code, stdout, err = ct("--json", "pack", str(tmp_path / "tool-1.2.bin"), "-o", str(tmp_path / "f.ctp"))
    assert (code, err) == (0, "")
    j = json.loads(stdout)
    assert j["package"] == {"name": "tool", "version": "1.2"} and j["files"] == 1
    assert j["signed_by"] is None
    d = tmp_path / "dir"
    (d / "a").mkdir(parents=True)
    (d / "a" / "x").write_bytes(b"x")
    code, stdout, err = ct("pack", str(d), "-o", str(tmp_path / "d.ctp"), "--version", "3")
    assert (code, err) == (0, "")
    assert manifest_of(str(tmp_path / "d.ctp"))["package"] == {"name": "dir", "version": "3"}


def test_pack_directory_with_symlink_is_refused(tmp_path):
    d = tmp_path / "dir"
    d.mkdir()
    (d / "real").write_bytes(b"x")
    os.symlink("real", d / "link")
    code, _, err = ct("pack", str(d), "-o", str(tmp_path / "d.ctp"))
    assert code == 10
    assert err.splitlines() == [f"error: {d / 'link'} is a symbolic link",
                                "hint: bundles carry regular files only; replace the link by its file or remove it"]


def test_pack_missing_source(tmp_path):
    code, _, err = ct("pack", str(tmp_path / "nope.txt"), "-o", str(tmp_path / "o.ctp"))
    assert code == 21
    assert error_lines(err) == [f"error: no such file or directory: {tmp_path / 'nope.txt'}"]


# ------------------------------------------------------------------ registry references (skopeo)

def test_pack_registry_reference_without_skopeo(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-path"))
    code, _, err = ct("pack", "docker.io/library/nginx:1.26", "-o", str(tmp_path / "o.ctp"))
    assert code == 30
    assert err.splitlines() == [
        "error: skopeo is not installed, so registry image 'docker.io/library/nginx:1.26' cannot be fetched",
        "hint: install skopeo (apt-get install skopeo), or copy the image elsewhere with "
        "'skopeo copy docker://REF oci:DIR:TAG' and run 'ct pack oci:DIR:TAG'"]


def test_pack_registry_reference_through_skopeo(tmp_path, monkeypatch):
    """A stand-in `skopeo` (no network here) that copies a prepared layout: this checks the
    plumbing — arguments, the temporary layout, provenance — not skopeo itself."""
    make_oci(str(tmp_path / "prepared"), tag="ct", image_name=None)
    bindir = tmp_path / "bin"
    bindir.mkdir()
    script = bindir / "skopeo"
    script.write_text("#!/bin/sh\n"
                      f"echo \"$@\" > {tmp_path / 'args'}\n"
                      "dest=$(echo \"$4\" | sed -e 's/^oci://' -e 's/:ct$//')\n"
                      f"cp -r {tmp_path / 'prepared'} \"$dest\"\n")
    script.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    out = str(tmp_path / "o.ctp")
    code, _, err = ct("pack", "docker://quay.io/acme/web:5.0", "-o", out)
    assert (code, err) == (0, "")
    args = (tmp_path / "args").read_text().split()
    assert args[:3] == ["copy", "--quiet", "docker://quay.io/acme/web:5.0"] and args[3].endswith("/image:ct")
    assert not os.path.exists(args[3][4:-3])  # temporary layout removed
    m = manifest_of(out)
    assert m["source"]["kind"] == "registry" and m["source"]["registry"] == "quay.io/acme/web"
    assert m["package"] == {"name": "web", "version": "5.0"}


@pytest.mark.parametrize("ref,expected", [
    ("nginx", ("docker.io/library/nginx", "")),
    ("nginx:1.26", ("docker.io/library/nginx", "1.26")),
    ("docker://bitnami/redis:7", ("docker.io/bitnami/redis", "7")),
    ("localhost:5000/x/y:z", ("localhost:5000/x/y", "z")),
    ("ghcr.io/o/r@sha256:" + "a" * 64, ("ghcr.io/o/r", "sha256:" + "a" * 64)),
])
def test_normalize_reference(ref, expected):
    assert normalize_reference(ref) == expected


# ------------------------------------------------------------------ signing at pack time

def test_pack_with_unknown_key(tmp_path, home):
    (tmp_path / "f").write_bytes(b"x")
    code, _, err = ct("--home", home, "pack", str(tmp_path / "f"), "-o", str(tmp_path / "o.ctp"), "--key", "bob")
    assert code == 21
    assert error_lines(err) == [f"error: no key 'bob' in {home}/keys"]


def test_pack_with_wrong_passphrase(tmp_path, home, monkeypatch):
    assert ct("--home", home, "keygen", "--id", "alice")[0] == 0
    (tmp_path / "f").write_bytes(b"x")
    monkeypatch.setenv("CT_PASSPHRASE", "not it")
    code, _, err = ct("--home", home, "pack", str(tmp_path / "f"), "-o", str(tmp_path / "o.ctp"), "--key", "alice")
    assert code == 20
    assert not os.path.exists(tmp_path / "o.ctp")


def test_signed_packs_are_deterministic_except_hedged_ml_dsa(tmp_path, home):
    assert ct("--home", home, "keygen", "--id", "ed", "--suite", "CT-SIG-01")[0] == 0
    assert ct("--home", home, "keygen", "--id", "hy", "--suite", "CT-SIG-02")[0] == 0
    make_oci(str(tmp_path / "img"))
    src = f"oci:{tmp_path / 'img'}:1.0"
    outs = {}
    for key in ("ed", "hy"):
        for n in (1, 2):
            out = str(tmp_path / f"{key}{n}.ctp")
            assert ct("--home", home, "pack", src, "-o", out, "--key", key)[0] == 0
            with open(out, "rb") as f:
                outs[key, n] = f.read()
    assert outs["ed", 1] == outs["ed", 2]           # Ed25519 is deterministic: byte-identical
    a, b = members(str(tmp_path / "hy1.ctp")), members(str(tmp_path / "hy2.ctp"))
    assert a.keys() == b.keys()
    differ = sorted(k for k in a if a[k] != b[k])
    # only the hedged ML-DSA-87 signatures differ: of the release and of each attestation envelope
    atts = sorted(k for k in a if k.startswith("signatures/attestations/"))
    assert len(atts) == 2
    assert differ == atts + ["signatures/release.dsse.json"]
    for name in differ:
        ea, eb = json.loads(a[name]), json.loads(b[name])
        assert ea["payload"] == eb["payload"]
        assert [s for s in ea["signatures"] if s["alg"] == "ed25519"] == \
            [s for s in eb["signatures"] if s["alg"] == "ed25519"]


def test_pack_output_is_written_atomically_with_mode_0644(tmp_path):
    (tmp_path / "f").write_bytes(b"x")
    out = tmp_path / "o.ctp"
    assert ct("pack", str(tmp_path / "f"), "-o", str(out))[0] == 0
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o644
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".ct-tmp")] == []
    with tarfile.open(out) as t:
        assert t.getnames()[0] == "manifest.toml"


def test_passphrase_constant_is_used():  # keep the helper's passphrase in sync with the env fixture
    assert os.environ["CT_PASSPHRASE"] == PW


def test_pack_oci_descriptor_without_media_type_is_still_walked(tmp_path):
    """Layers are checked even when index.json omits mediaType (the manifest says what it is)."""
    info = make_oci(str(tmp_path / "img"))
    index_path = tmp_path / "img" / "index.json"
    index = json.loads(index_path.read_text())
    for d in index["manifests"]:
        del d["mediaType"]
    index_path.write_text(json.dumps(index))
    layer = info["layers"][0]["digest"]
    blob = tmp_path / "img" / "blobs" / "sha256" / layer.split(":")[1]
    blob.write_bytes(b"X" + blob.read_bytes()[1:])
    code, _, err = ct("pack", f"oci:{tmp_path / 'img'}:1.0", "-o", str(tmp_path / "o.ctp"))
    assert code == 1
    assert error_lines(err) == [f"error: blob {layer} in oci:{tmp_path / 'img'} does not match its digest"]


def test_pack_name_and_version_are_checked_as_arguments(tmp_path):
    """A bad --name/--version is a usage error (64) with a hint, before anything is read or written;
    a long one is not echoed whole."""
    (tmp_path / "p.txt").write_bytes(b"payload\n")
    for flag, value, shown in (("--name", "a\nb", "'a\\nb'"), ("--version", "", "''"),
                               ("--version", "v" * 10000, f"'{'v' * 40}…' (10000 characters)")):
        argv = ["pack", str(tmp_path / "p.txt"), "-o", str(tmp_path / "p2.ctp"), "--name", "app", "--version", "1"]
        argv[argv.index(flag) + 1] = value
        code, out, err = ct(*argv)
        example = "--name coop-tools" if flag == "--name" else "--version 1.2.0"
        assert (code, out) == (64, "")
        assert err.splitlines() == [f"error: {flag} {shown} must be 1-200 printable characters",
                                    f"hint: give {flag} on one line without control characters, e.g. {example}"]
        assert sorted(os.listdir(tmp_path)) == ["p.txt"]
