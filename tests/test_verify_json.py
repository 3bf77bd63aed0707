"""The gateway contract: every `ct verify --json` output validates against spec/verify-json.schema.json
(real outputs: valid, each failing step, a malformed bundle, docker:// references)."""

from __future__ import annotations

import json
import os

import jsonschema
import pytest
from registry_support import skopeo_copy
from test_bundle_support import cheap  # noqa: F401 - fixture
from test_bundle_support import REPO, Coop, ct, make_oci, make_payload_dir, members, write_members

with open(os.path.join(REPO, "spec", "verify-json.schema.json")) as _f:
    SCHEMA = json.load(_f)


pytestmark = pytest.mark.usefixtures("cheap")


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vj")
    coop = Coop(name="coop", n=3, k=2)
    coop.self_signed()
    unsigned = str(tmp / "u.ctp")
    assert ct("pack", make_payload_dir(str(tmp / "p")), "-o", unsigned, "--name", "app", "--version", "1")[0] == 0
    good = str(tmp / "good.ctp")
    coop.sign_bundle(unsigned, good, [coop.record])
    pol = str(tmp / "policy.json")
    assert ct("policy", "init", "--policy", pol, "--root", coop.record.fingerprint.full_hex)[0] == 0
    strict = str(tmp / "strict.json")
    assert ct("policy", "init", "--policy", strict, "--root", coop.record.fingerprint.full_hex,
              "--signer", "other")[0] == 0
    hashbad = str(tmp / "hash.ctp")
    write_members(hashbad, [(n, d.replace(b"hello", b"HELLO") if n == "payload/README" else d)
                            for n, d in members(good).items()], mode_of={"payload/sub/tool.sh": 0o755})
    garbage = str(tmp / "garbage.ctp")
    with open(garbage, "wb") as f:
        f.write(b"not a bundle" * 100)
    return {"tmp": tmp, "coop": coop, "good": good, "unsigned": unsigned, "pol": pol, "strict": strict,
            "hash": hashbad, "garbage": garbage}


def check(*argv: str) -> dict:
    code, out, err = ct("--json", "verify", *argv)
    doc = json.loads(out)
    jsonschema.validate(doc, SCHEMA)
    assert doc["exit_code"] == code
    assert doc["valid"] == (code == 0)
    if code:
        assert err.splitlines()[0] == f"error: {doc['error']}"
    return doc


@pytest.mark.parametrize("case,exit_code,step", [
    ("good", 0, None), ("hash", 1, "integrity"), ("unsigned", 2, "signatures"), ("untrusted", 3, "trust"),
    ("strict", 4, "policy"), ("garbage", 10, "structure")])
def test_outputs_follow_the_schema(world, tmp_path, case, exit_code, step):
    bundle = {"untrusted": world["good"], "strict": world["good"]}.get(case, world.get(case))
    pol = {"untrusted": None, "strict": world["strict"], "unsigned": None}.get(case, world["pol"])
    args = [bundle] + (["--policy", pol] if pol else []) + ["--home", str(tmp_path / "h")]
    doc = check(*args)
    assert (doc["exit_code"], doc["failed_step"]) == (exit_code, step)
    if step:
        assert doc["problems"][0]["step"] == step


def test_schema_rejects_a_renamed_field(world):
    code, out, _ = ct("--json", "verify", world["good"], "--policy", world["pol"])
    doc = json.loads(out)
    doc["exitCode"] = doc.pop("exit_code")
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(doc, SCHEMA)


def test_reference_outputs_follow_the_schema(world, registry_server, tmp_path):
    reg = registry_server.host
    root = str(tmp_path / "img")
    info = make_oci(root, image_name=f"{reg}/vj/app:1.0")
    skopeo_copy(f"oci:{root}:1.0", f"docker://{reg}/vj/app:1.0")
    unsigned = str(tmp_path / "i.ctp")
    assert ct("pack", f"oci:{root}:1.0", "-o", unsigned)[0] == 0
    signed = str(tmp_path / "i-signed.ctp")
    world["coop"].sign_bundle(unsigned, signed, [world["coop"].record])
    assert ct("push", signed, f"{reg}/vj/app:1.0", "--attach")[0] == 0
    doc = check(f"docker://{reg}/vj/app:1.0", "--policy", world["pol"])
    assert doc["image"]["digest"] == info["manifest"]["digest"]
    assert doc["steps"]["image"] == "ok"
    # moved tag: no bundle attached to the new image
    other = str(tmp_path / "other")
    make_oci(other, layers=1)
    skopeo_copy(f"oci:{other}:1.0", f"docker://{reg}/vj/app:1.0")
    doc = check(f"docker://{reg}/vj/app:1.0", "--policy", world["pol"])
    assert (doc["exit_code"], doc["failed_step"], doc["bundle"]) == (1, "image", None)


def test_files_are_written_one_at_a_time_in_the_same_document(world):
    """`ct verify --json` of 100,000 files used to build the whole files list (221 MB peak); the list is
    now an iterator written element by element, and the document is byte for byte what json.dumps
    makes of it (bench/manyfiles_bench.py measures the memory)."""
    import io
    from collections.abc import Iterator

    from cerro_torre.ceremony.verifier import trust_from, verify_bundle
    from cerro_torre.cli.main import write_json

    res = verify_bundle(world["good"], trust_from(None, None))
    doc = res.to_json()
    assert isinstance(doc["files"], Iterator)
    out = io.StringIO()
    write_json(doc, out.write)
    whole = res.to_json()
    whole["files"] = list(whole["files"])
    assert [(f["path"], f["mode"]) for f in whole["files"]] == [("README", "0644"), ("sub/tool.sh", "0755")]
    assert out.getvalue() == json.dumps(whole, indent=2, sort_keys=True)
    nested = {"b": [iter([]), {"files": iter([{"x": [1, {}]}, []])}], "a": iter(()), "c": {}}
    out = io.StringIO()
    write_json(nested, out.write)
    assert out.getvalue() == json.dumps({"b": [[], {"files": [{"x": [1, {}]}, []]}], "a": [], "c": {}},
                                        indent=2, sort_keys=True)
    code, text, _ = ct("--json", "verify", world["good"], "--policy", world["pol"])
    assert code == 0 and text == json.dumps(json.loads(text), indent=2, sort_keys=True) + "\n"
