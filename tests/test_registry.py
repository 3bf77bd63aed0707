"""`ct push`, `ct fetch`, `ct verify docker://` against a real registry (docker-registry on 127.0.0.1)."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
from registry_support import skopeo_copy
from test_bundle_support import cheap, coop  # noqa: F401 - fixtures
from test_bundle_support import pin_policy, ct, make_oci, pack_unsigned
from cerro_torre.offline import registry as R


pytestmark = pytest.mark.usefixtures("cheap")


@pytest.fixture
def reg(registry_server):
    return registry_server.host


def policy(tmp_path, coop) -> str:
    return pin_policy(str(tmp_path / "policy.json"), coop)


def image(tmp_path, reg, repo, tag="1.0", layers=2, name="img"):
    """An OCI layout pushed to the registry: (layout dir, manifest digest)."""
    root = str(tmp_path / name)
    info = make_oci(root, tag=tag, image_name=f"{reg}/{repo}:{tag}", layers=layers)
    skopeo_copy(f"oci:{root}:{tag}", f"docker://{reg}/{repo}:{tag}")
    return root, info["manifest"]["digest"]


def signed_bundle(tmp_path, coop, src, out="release.ctp"):
    unsigned = str(tmp_path / ("u-" + out))
    pack_unsigned(src, unsigned, name="app", version="1.0")
    path = str(tmp_path / out)
    coop.sign_bundle(unsigned, path, [coop.record])
    return path


def raw_manifest(reg, ref):
    out = subprocess.run(["skopeo", "inspect", "--raw", "--tls-verify=false", f"docker://{reg}/{ref}"],
                         check=True, capture_output=True, timeout=60)
    return json.loads(out.stdout)


def test_push_and_fetch_round_trip(tmp_path, coop, reg):
    from test_bundle_support import make_payload_dir

    bundle = signed_bundle(tmp_path, coop, make_payload_dir(str(tmp_path / "p")))  # a directory release
    code, out, err = ct("push", bundle, f"{reg}/rel/app:1.0")
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"pushed {bundle} to {reg}/rel/app:1.0"
    man = raw_manifest(reg, "rel/app:1.0")            # skopeo reads what ct pushed
    assert man["artifactType"] == "application/vnd.cerro-torre.bundle.v1"
    assert man["config"]["mediaType"] == "application/vnd.oci.empty.v1+json"
    [layer] = man["layers"]
    assert layer["mediaType"] == "application/vnd.cerro-torre.bundle.v1.tar"
    assert layer["size"] == os.path.getsize(bundle)
    assert layer["annotations"] == {"org.opencontainers.image.title": "release.ctp"}
    assert man["annotations"]["org.cerro-torre.package"] == "app 1.0"
    back = str(tmp_path / "back.ctp")
    code, out, err = ct("fetch", f"{reg}/rel/app:1.0", "-o", back)
    assert (code, err) == (0, "")
    with open(bundle, "rb") as a, open(back, "rb") as b:
        assert a.read() == b.read()
    code, out, err = ct("verify", f"docker://{reg}/rel/app:1.0", "--policy", policy(tmp_path, coop))
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"ok: {reg}/rel/app:1.0 is valid"


def test_attach_and_verify_by_reference(tmp_path, coop, reg):
    layout, digest = image(tmp_path, reg, "team/app")
    bundle = signed_bundle(tmp_path, coop, f"oci:{layout}:1.0")
    code, out, err = ct("push", bundle, f"{reg}/team/app:1.0", "--attach")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == f"attached {bundle} to {reg}/team/app@{digest}"
    # docker-registry 2.8 has no referrers API: the OCI referrers tag schema is used
    assert lines[2] == f"  found by   the referrers tag sha256-{digest[7:]} (the registry has no referrers API)"
    index = raw_manifest(reg, f"team/app:sha256-{digest[7:]}")
    assert [d["artifactType"] for d in index["manifests"]] == ["application/vnd.cerro-torre.bundle.v1"]
    art = raw_manifest(reg, f"team/app@{index['manifests'][0]['digest']}")
    assert art["subject"]["digest"] == digest
    pol = policy(tmp_path, coop)
    code, out, err = ct("verify", f"docker://{reg}/team/app:1.0", "--policy", pol)
    assert (code, err) == (0, "")
    assert out.splitlines()[0] == f"ok: {reg}/team/app:1.0 is valid (image {digest})"
    # attaching again is idempotent (one entry in the index)
    assert ct("push", bundle, f"{reg}/team/app:1.0", "--attach")[0] == 0
    assert len(raw_manifest(reg, f"team/app:sha256-{digest[7:]}")["manifests"]) == 1
    # fetch through the image reference gets the attached bundle
    back = str(tmp_path / "back.ctp")
    code, out, err = ct("fetch", f"{reg}/team/app:1.0", "-o", back)
    assert (code, err) == (0, "")
    assert out.splitlines()[0].startswith(f"fetched {back} (")
    assert open(back, "rb").read() == open(bundle, "rb").read()


def test_retagged_image_is_refused_naming_its_digest(tmp_path, coop, reg):
    layout, digest = image(tmp_path, reg, "moved/app")
    bundle = signed_bundle(tmp_path, coop, f"oci:{layout}:1.0")
    assert ct("push", bundle, f"{reg}/moved/app:1.0", "--attach")[0] == 0
    pol = policy(tmp_path, coop)
    assert ct("verify", f"docker://{reg}/moved/app:1.0", "--policy", pol)[0] == 0
    # someone moves the tag to another image
    _, other = image(tmp_path, reg, "moved/app", layers=3, name="other")
    assert other != digest
    code, out, err = ct("verify", f"docker://{reg}/moved/app:1.0", "--policy", pol)
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == (f"error: {reg}/moved/app:1.0 is image {other}, "
                                   "and no ct bundle is attached to it")
    # ... and attaches the genuine bundle to it (bypassing ct push's own check): still refused
    assert ct("push", bundle, f"{reg}/moved/app:1.0", "--attach")[0] == 1
    R.push(bundle, R.parse_ref(f"{reg}/moved/app:1.0"), attach_to=other)
    code, out, err = ct("verify", f"docker://{reg}/moved/app:1.0", "--policy", pol)
    assert (code, out) == (1, "")
    assert err.splitlines() == [
        f"error: {reg}/moved/app:1.0 is image {other}, which release.ctp does not sign (it signs {digest})",
        "hint: the tag was moved to another image, or the image was changed after signing; do not run it"]


def test_push_attach_refuses_an_image_the_bundle_does_not_sign(tmp_path, coop, reg):
    layout, digest = image(tmp_path, reg, "wrong/app")
    _, other = image(tmp_path, reg, "wrong/app", tag="2.0", layers=1, name="other")
    bundle = signed_bundle(tmp_path, coop, f"oci:{layout}:1.0")
    code, out, err = ct("push", bundle, f"{reg}/wrong/app:2.0", "--attach")
    assert (code, out) == (1, "")
    assert err.splitlines()[0] == f"error: {reg}/wrong/app:2.0 is image {other}, which release.ctp does not sign"


def test_tampered_attached_bundle_fails_verification(tmp_path, coop, reg):
    layout, digest = image(tmp_path, reg, "tamper/app")
    bundle = signed_bundle(tmp_path, coop, f"oci:{layout}:1.0")
    data = bytearray(open(bundle, "rb").read())
    i = data.index(b"x=0\n") if b"x=0\n" in data else None
    # flip one byte of the signed index.json inside the payload
    j = data.index(b'"schemaVersion"')
    data[j + 1] ^= 0x20
    bad = str(tmp_path / "bad.ctp")
    open(bad, "wb").write(bytes(data))
    del i
    R.push(bad, R.parse_ref(f"{reg}/tamper/app:1.0"), attach_to=digest)
    code, out, err = ct("verify", f"docker://{reg}/tamper/app:1.0", "--policy", policy(tmp_path, coop))
    assert code == 1
    assert err.splitlines()[0].startswith("error: bad.ctp: payload/")


def test_missing_tag_and_unreachable_registry(tmp_path, reg):
    code, out, err = ct("fetch", f"{reg}/nothing/here:1.0", "-o", str(tmp_path / "x.ctp"))
    assert code == 21
    assert err.splitlines()[0] == (f"error: manifest {reg}/nothing/here:1.0: not found in registry {reg}: "
                                   "manifest unknown")
    from registry_support import free_port

    dead = f"127.0.0.1:{free_port()}"
    code, out, err = ct("fetch", f"{dead}/a/b:1", "-o", str(tmp_path / "x.ctp"))
    assert code == 30
    assert err.splitlines() == [
        f"error: registry {dead} is unreachable (manifest {dead}/a/b:1): connection refused",
        "hint: check the address and that the registry is running"]
    assert not os.path.exists(tmp_path / "x.ctp")


def test_plain_http_only_for_localhost():
    assert R.client_for(R.parse_ref("127.0.0.1:5000/a:1")).plain
    assert R.client_for(R.parse_ref("localhost:5000/a:1")).plain
    assert not R.client_for(R.parse_ref("registry.example.org/a:1")).plain
    assert R.client_for(R.parse_ref("registry.example.org/a:1"), insecure=True).plain


def test_bad_reference_is_usage_error(tmp_path):
    code, out, err = ct("fetch", "UPPER/Case:1", "-o", str(tmp_path / "x.ctp"))
    assert code == 64
    assert err.splitlines() == ["error: bad registry reference 'UPPER/Case:1'",
                                "hint: write it as REGISTRY/REPOSITORY:TAG, e.g. 127.0.0.1:5000/team/app:1.0"]


def test_registry_serving_other_bytes_is_caught(tmp_path, coop, registry_server):
    """The registry's storage is altered behind its back: the blob no longer matches its digest."""
    reg = registry_server.host
    bundle = signed_bundle(tmp_path, coop, make_payload_dir_(tmp_path))
    assert ct("push", bundle, f"{reg}/corrupt/app:1.0")[0] == 0
    layer = raw_manifest(reg, "corrupt/app:1.0")["layers"][0]["digest"][7:]
    data = os.path.join(registry_server.dir, "storage", "docker", "registry", "v2", "blobs", "sha256",
                        layer[:2], layer, "data")
    raw = bytearray(open(data, "rb").read())
    raw[600] ^= 1
    open(data, "wb").write(bytes(raw))
    out = tmp_path / "x.ctp"
    code, stdout, err = ct("fetch", f"{reg}/corrupt/app:1.0", "-o", str(out))
    assert (code, stdout) == (1, "")
    assert err.splitlines()[0] == (f"error: registry {reg} sent blob sha256:{layer} with other bytes than its "
                                   "digest names")
    assert not out.exists()


def make_payload_dir_(tmp_path):
    from test_bundle_support import make_payload_dir

    return make_payload_dir(str(tmp_path / "p"))
