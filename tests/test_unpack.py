"""`ct unpack` (verify, then write the payload; a refused bundle leaves nothing), `--oci` loaded by skopeo,
and releases of several artifacts (`ct pack A B C`)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from test_bundle_support import cheap, coop  # noqa: F401 - fixtures
from test_bundle_support import pin_policy, ct, make_docker_archive, make_oci, make_payload_dir, members, write_members
pytestmark = pytest.mark.usefixtures("cheap")


def pin(tmp_path, coop) -> str:
    return pin_policy(str(tmp_path / "policy.json"), coop)


def signed(tmp_path, coop, *sources, name="rel"):
    unsigned = str(tmp_path / f"{name}-u.ctp")
    code, _, err = ct("pack", *sources, "-o", unsigned, "--name", name, "--version", "1.0")
    assert (code, err) == (0, "")
    out = str(tmp_path / f"{name}.ctp")
    coop.sign_bundle(unsigned, out, [coop.record])
    return out


def test_unpack_writes_the_verified_payload(tmp_path, coop):
    bundle = signed(tmp_path, coop, make_payload_dir(str(tmp_path / "p")))
    out = tmp_path / "out"
    code, stdout, err = ct("unpack", bundle, "-o", str(out), "--policy", pin(tmp_path, coop))
    assert (code, err) == (0, "")
    assert stdout.splitlines()[0] == f"verified rel.ctp and unpacked 2 file(s), 32 B to {out}"
    assert (out / "README").read_bytes() == b"hello release\n"
    assert (out / "sub" / "tool.sh").read_bytes() == b"#!/bin/sh\necho hi\n"
    assert os.stat(out / "sub" / "tool.sh").st_mode & 0o777 == 0o755
    assert os.stat(out / "README").st_mode & 0o777 == 0o644
    # the folder must be new
    code, _, err = ct("unpack", bundle, "-o", str(out), "--policy", pin(tmp_path, coop))
    assert code == 22
    assert err.splitlines()[0] == f"error: {out} exists"


def test_tampered_bundle_leaves_nothing(tmp_path, coop):
    bundle = signed(tmp_path, coop, make_payload_dir(str(tmp_path / "p")))
    items = [(n, d.replace(b"hello release", b"hello RELEASE") if n == "payload/README" else d)
             for n, d in members(bundle).items()]
    bad = str(tmp_path / "bad.ctp")
    write_members(bad, items, mode_of={"payload/sub/tool.sh": 0o755})
    out = tmp_path / "out"
    code, stdout, err = ct("unpack", bad, "-o", str(out), "--policy", pin(tmp_path, coop))
    assert (code, stdout) == (1, "")
    assert err.splitlines()[0].startswith("error: bad.ctp: payload/README sha256 ")
    assert not out.exists()
    assert not [x for x in os.listdir(tmp_path) if x.startswith(".ct-unpack")]
    # an untrusted signer: exit 3, nothing written either
    code, _, err = ct("--home", str(tmp_path / "h"), "unpack", bundle, "-o", str(out))
    assert code == 3
    assert not out.exists()
    assert not [x for x in os.listdir(tmp_path) if x.startswith(".ct-unpack")]


def test_unpack_refuses_a_bundle_changed_between_verify_and_write(tmp_path, coop, monkeypatch):
    bundle = signed(tmp_path, coop, make_payload_dir(str(tmp_path / "p")))
    from cerro_torre.offline import unpack as U

    real = U.verify_bundle
    evil = str(tmp_path / "evil.ctp")
    write_members(evil, [(n, d.replace(b"hello release", b"hello RELEASE") if n == "payload/README" else d)
                         for n, d in members(bundle).items()], mode_of={"payload/sub/tool.sh": 0o755})

    def verify_then_swap(path, trust, policy):
        res = real(path, trust, policy)
        os.replace(evil, path)     # the file changes after it was verified
        return res

    monkeypatch.setattr(U, "verify_bundle", verify_then_swap)
    out = tmp_path / "out"
    code, _, err = ct("unpack", bundle, "-o", str(out), "--policy", pin(tmp_path, coop))
    assert code == 1
    assert err.splitlines()[0] == "error: rel.ctp: payload/README changed since it was verified"
    assert not out.exists()
    assert not [x for x in os.listdir(tmp_path) if x.startswith(".ct-unpack")]


def test_unpack_oci_is_loaded_by_skopeo(tmp_path, coop):
    info = make_oci(str(tmp_path / "img"))
    bundle = signed(tmp_path, coop, f"oci:{tmp_path / 'img'}:1.0")
    out = tmp_path / "layout"
    code, stdout, err = ct("unpack", bundle, "-o", str(out), "--oci", "--policy", pin(tmp_path, coop))
    assert (code, err) == (0, "")
    assert f"  load it with 'skopeo copy oci:{out} DEST' (an OCI image layout)" in stdout.splitlines()
    dest = tmp_path / "copy"
    subprocess.run(["skopeo", "copy", "--quiet", "--preserve-digests", f"oci:{out}:1.0", f"oci:{dest}:x"],
                   check=True, capture_output=True, timeout=120)
    index = json.loads((dest / "index.json").read_text())
    assert [d["digest"] for d in index["manifests"]] == [info["manifest"]["digest"]]
    p = subprocess.run(["skopeo", "inspect", f"oci:{out}:1.0"], check=True, capture_output=True, text=True)
    assert json.loads(p.stdout)["Layers"] == [d["digest"] for d in info["layers"]]


def test_unpack_oci_refuses_what_is_not_an_image(tmp_path, coop):
    bundle = signed(tmp_path, coop, make_payload_dir(str(tmp_path / "p")))
    code, _, err = ct("unpack", bundle, "-o", str(tmp_path / "o"), "--oci", "--policy", pin(tmp_path, coop))
    assert code == 64
    assert err.splitlines() == ["error: rel.ctp holds a directory, not an OCI image layout",
                                "hint: unpack without --oci"]
    assert not (tmp_path / "o").exists()


# ------------------------------------------------------------------ several artifacts

def test_three_artifact_release_verifies(tmp_path, coop):
    (tmp_path / "tool-1.0.tar.gz").write_bytes(b"\x1f\x8b fake tarball bytes")
    make_payload_dir(str(tmp_path / "docs"))
    make_oci(str(tmp_path / "img"))
    bundle = signed(tmp_path, coop, str(tmp_path / "tool-1.0.tar.gz"), str(tmp_path / "docs"),
                    f"oci:{tmp_path / 'img'}:1.0")
    import tomllib

    m = tomllib.loads(members(bundle)["manifest.toml"].decode())
    assert m["source"] == {"kind": "multi", "artifacts": ["tool-1.0.tar.gz", "docs", "hello-1.0"]}
    assert [(a["path"], a["kind"]) for a in m["artifacts"]] == \
        [("tool-1.0.tar.gz", "file"), ("docs", "directory"), ("hello-1.0", "oci")]
    paths = [f["path"] for f in m["files"]]
    assert "tool-1.0.tar.gz/tool-1.0.tar.gz" in paths and "docs/README" in paths and "hello-1.0/index.json" in paths
    pol = pin(tmp_path, coop)
    code, out, err = ct("verify", bundle, "--policy", pol)
    assert (code, err) == (0, "")
    assert any(line.startswith(f"  payload     {len(paths)} file(s), ") for line in out.splitlines())
    # the statement names every file of every artifact, and the provenance each source
    import base64

    st = json.loads(base64.b64decode(json.loads(members(bundle)["signatures/release.dsse.json"])["payload"]))
    assert sorted(s["name"] for s in st["subject"]) == sorted(paths)
    out_dir = tmp_path / "u"
    assert ct("unpack", bundle, "-o", str(out_dir), "--policy", pol)[0] == 0
    assert (out_dir / "docs" / "README").read_bytes() == b"hello release\n"
    # the image artifact unpacks as a layout skopeo reads
    p = subprocess.run(["skopeo", "inspect", f"oci:{out_dir / 'hello-1.0'}:1.0"], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr


def test_multi_artifact_policy_checks_every_image_registry(tmp_path, coop):
    make_oci(str(tmp_path / "img"))
    make_docker_archive(str(tmp_path / "app.tar"))
    bundle = signed(tmp_path, coop, f"oci:{tmp_path / 'img'}:1.0", f"docker-archive:{tmp_path / 'app.tar'}")
    pol = pin(tmp_path, coop)
    assert ct("policy", "add-registry", "docker.io/library/*", "--policy", pol)[0] == 0
    code, _, err = ct("verify", bundle, "--policy", pol)
    assert code == 4
    assert err.splitlines()[0] == (f"error: registry 'example.org/team/app' is not allowed by policy {pol} "
                                   "(allowed: docker.io/library/*)")
    assert ct("policy", "add-registry", "example.org/team/*", "--policy", pol)[0] == 0
    assert ct("verify", bundle, "--policy", pol)[0] == 0


def test_two_artifacts_with_one_name_are_refused(tmp_path):
    for d in ("a", "b"):
        make_payload_dir(str(tmp_path / d / "same"))
    code, _, err = ct("pack", str(tmp_path / "a" / "same"), str(tmp_path / "b" / "same"), "-o", str(tmp_path / "o.ctp"))
    assert code == 64
    assert err.splitlines()[0] == "error: two artifacts would both be named 'same' in the release"
