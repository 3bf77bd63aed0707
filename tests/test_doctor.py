"""`ct doctor` and `ct version`: backends and known-answer self-tests, in-process."""

import io
import json

from cerro_torre.cli.main import main
from cerro_torre.suites import selftest

NAMES = ["frost rfc 9591 e.1", "ml-dsa-87 keygen/sign/verify", "argon2id rfc 9106", "ed25519 rfc 8032",
         "sealed file round trip"]


def run(*argv):
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_doctor_json_all_pass():
    code, out, err = run("doctor", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["ok"] is True
    assert [t["name"] for t in report["selftests"]] == NAMES
    assert all(t["passed"] for t in report["selftests"])
    b = report["backends"]
    assert b["libsodium"]["available"] and b["libsodium"]["version"] == "1.0.18"
    assert "1.0.18-1+deb12u1" in b["libsodium"]["detail"]
    assert b["openssl"]["available"] and b["openssl"]["version"].startswith("OpenSSL ")
    assert b["zbar"]["available"] and b["frost"]["available"] and b["argon2"]["available"]
    # liboqs is optional: reported either way, never a failure
    assert b["liboqs"]["optional"] is True and isinstance(b["liboqs"]["available"], bool)


def test_doctor_text():
    code, out, err = run("doctor")
    assert code == 0 and err == ""
    for name in NAMES:
        assert f"  pass  {name}\n" in out


def test_doctor_fails_when_the_vector_is_not_the_published_one(monkeypatch):
    monkeypatch.setattr(selftest, "VECTOR_SHA256", "00" * 32)
    code, out, err = run("doctor")
    assert code == 70
    assert "  FAIL  frost rfc 9591 e.1: the shipped RFC 9591 vector file has the wrong checksum\n" in out
    assert err == "error: a self-test failed\nhint: reinstall with 'make setup'; if it persists, report it\n"


def test_version():
    code, out, err = run("version", "--json")
    assert code == 0
    assert json.loads(out)["version"] == "0.1.0"
    code, out, err = run("--version")
    assert code == 0 and out.startswith("ct 0.1.0 (Python 3.")


def test_usage_error_is_exit_64_with_hint():
    code, out, err = run("frobnicate")
    assert code == 64
    assert err.splitlines()[-1] == "hint: run 'ct --help' for usage"
    assert err.startswith("error: argument COMMAND: invalid choice: 'frobnicate'")


def test_help_topics():
    code, out, err = run("help", "exit-codes")
    assert code == 0 and "  11  ceremony error" in out
    code, out, err = run("help", "nope")
    assert code == 64 and err.startswith("error: no help for 'nope'\nhint: topics: ")
