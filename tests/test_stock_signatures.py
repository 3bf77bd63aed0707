"""`ct signature export`: files that Debian's signify-openbsd, minisign and ssh-keygen -Y verify
accept (spec/stock-signatures.md).  The real binaries run; nothing is mocked."""

from __future__ import annotations

import json
import os
import shutil
import subprocess

import pytest
from test_bundle_support import VECTORS, Coop, ct, cheap_env, make_payload_dir, members, modes, \
    pack_unsigned, write_members

from cerro_torre.ceremony import stockformats as S
from cerro_torre.suites import ed25519

TOOLS = {"signify": "signify-openbsd", "minisign": "minisign", "ssh": "ssh-keygen"}
with open(os.path.join(VECTORS, "stock-signatures.json"), "rb") as _f:
    V = json.load(_f)


@pytest.fixture(autouse=True)
def env(monkeypatch):
    cheap_env(monkeypatch)


def test_the_stock_tools_are_installed():
    missing = [t for t in TOOLS.values() if shutil.which(t) is None]
    assert not missing, f"install {' '.join(missing)} (make setup installs signify-openbsd minisign openssh-client)"


def run_tool(fmt: str, folder: str, stem: str, principal: str = "release") -> subprocess.CompletedProcess:
    msg = f"{stem}.statement.json"
    if fmt == "signify":
        argv = ["signify-openbsd", "-V", "-p", f"{stem}.signify.pub", "-x", f"{msg}.sig", "-m", msg]
        return subprocess.run(argv, cwd=folder, capture_output=True, text=True)
    if fmt == "minisign":
        argv = ["minisign", "-V", "-p", f"{stem}.minisign.pub", "-x", f"{msg}.minisig", "-m", msg]
        return subprocess.run(argv, cwd=folder, capture_output=True, text=True)
    argv = ["ssh-keygen", "-Y", "verify", "-f", f"{stem}.allowed_signers", "-I", principal,
            "-n", S.NAMESPACE, "-s", f"{msg}.sshsig"]
    with open(os.path.join(folder, msg), "rb") as stdin:
        return subprocess.run(argv, cwd=folder, stdin=stdin, capture_output=True, text=True)


def expect_ok(fmt: str, p: subprocess.CompletedProcess, comment: str | None = None) -> None:
    assert p.returncode == 0, (fmt, p.stdout, p.stderr)
    if fmt == "signify":
        assert p.stdout.strip() == "Signature Verified"
    elif fmt == "minisign":
        assert p.stdout.splitlines()[0] == "Signature and comment signature verified"
        if comment is not None:
            assert p.stdout.splitlines()[1] == f"Trusted comment: {comment}"
    else:
        assert p.stdout.startswith(f'Good "{S.NAMESPACE}" signature for ')


# ------------------------------------------------------------------ the vector (RFC 8032 TEST 1 key)

def test_vector_files_are_what_we_write():
    sd = bytes.fromhex(V["ed25519_seed"])
    pk = ed25519.public_from_seed(sd)
    assert pk.hex() == V["public_key"]
    st = V["statement"].encode()
    rec = S.sign_record(st, V["trusted_comment"], pk, lambda m: ed25519.sign(sd, m))
    assert rec.to_bytes().decode() == V["record"]
    files = {}
    for fmt in S.FORMATS:
        files.update(S.export_files(rec, fmt, V["stem"], V["principal"]))
    assert files == V["files"]
    msgs = S.all_messages(st, V["trusted_comment"], rec.signatures["minisign"])
    import hashlib

    assert {k: hashlib.sha256(v).hexdigest() for k, v in msgs.items()} == V["messages_sha256"]


@pytest.mark.parametrize("fmt", S.FORMATS)
def test_stock_tools_accept_the_vector(tmp_path, fmt):
    (tmp_path / "demo.statement.json").write_text(V["statement"])
    for name, text in V["files"].items():
        (tmp_path / name).write_text(text)
    expect_ok(fmt, run_tool(fmt, str(tmp_path), "demo"), V["trusted_comment"])
    # one byte of the message changed: every tool refuses
    (tmp_path / "demo.statement.json").write_text(V["statement"].replace("[]", "[ ]"))
    p = run_tool(fmt, str(tmp_path), "demo")
    assert p.returncode != 0, (fmt, p.stdout)


# ------------------------------------------------------------------ bundles

@pytest.fixture(scope="module")
def bundles(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("stock")
    unsigned = str(tmp / "rel.ctp")
    pack_unsigned(make_payload_dir(str(tmp / "p")), unsigned, name="demo", version="2.0")
    coop = Coop(name="coop", n=3, k=2)
    coop.self_signed()
    group = str(tmp / "group.ctp")
    coop.sign_bundle(unsigned, group, [coop.record])
    policy = str(tmp / "policy.json")
    assert ct("policy", "init", "--policy", policy, "--root", coop.record.fingerprint.full_hex)[0] == 0
    return {"tmp": tmp, "unsigned": unsigned, "group": group, "coop": coop, "policy": policy}


def test_single_holder_bundle_exports_for_all_three_tools(tmp_path, bundles):
    home = str(tmp_path / "h")
    assert ct("--home", home, "keygen", "--id", "alice", "--suite", "CT-SIG-01")[0] == 0
    out = str(tmp_path / "single.ctp")
    make_payload_dir(str(tmp_path / "payload"))
    assert ct("--home", home, "pack", str(tmp_path / "payload"), "-o", out, "--key", "alice")[0] == 0
    exp = str(tmp_path / "exp")
    code, stdout, err = ct("--home", home, "signature", "export", out, "--format", "all", "-o", exp,
                           "--principal", "alice")
    assert (code, err) == (0, "")
    assert sorted(os.listdir(exp)) == ["SHA256SUMS", "SHA256SUMS.sig",
                                       "single.allowed_signers", "single.minisign.pub", "single.signify.pub",
                                       "single.ssh.pub", "single.statement.json", "single.statement.json.minisig",
                                       "single.statement.json.sig", "single.statement.json.sshsig"]
    assert "  minisign -V -p single.minisign.pub -x single.statement.json.minisig -m single.statement.json" \
        in stdout.splitlines()
    for fmt in S.FORMATS:
        expect_ok(fmt, run_tool(fmt, exp, "single", "alice"))
    # the key the tools checked is alice's Ed25519 identity key
    from cerro_torre.keys.home import Home

    pk = Home(home).public("alice").keys["ed25519"]
    assert open(os.path.join(exp, "single.ssh.pub")).read() == S.ssh_public_line(pk, "alice")


def test_export_refuses_to_replace_files_unless_forced(bundles, tmp_path):
    exp = tmp_path / "exp"
    exp.mkdir()
    (exp / "group.signify.pub").write_text("someone else's key\n")
    args = ("signature", "export", bundles["group"], "--format", "signify", "-o", str(exp),
            "--policy", bundles["policy"])
    code, out, err = ct(*args)
    assert (code, out, err.splitlines()) == (22, "", [
        f"error: {exp / 'group.signify.pub'} exists",
        "hint: choose another -o, or pass --force to replace them"])
    assert sorted(os.listdir(exp)) == ["group.signify.pub"]          # nothing written: all files or none
    (exp / "group.statement.json").write_text("old\n")
    code, _, err = ct(*args)
    assert (code, err.splitlines()[0]) == (22, f"error: {exp / 'group.signify.pub'} exists (and 1 more)")
    code, _, err = ct(*args, "--force")
    assert (code, err) == (0, "")
    assert open(exp / "group.signify.pub").read() == S.signify_public_file(bundles["coop"].group_public_key)


@pytest.mark.parametrize("fmt", S.FORMATS)
def test_frost_group_signature_verifies_with_stock_tools(bundles, tmp_path, fmt):
    exp = str(tmp_path / "exp")
    code, stdout, err = ct("signature", "export", bundles["group"], "--format", fmt, "-o", exp,
                           "--policy", bundles["policy"])
    assert (code, err) == (0, "")
    rec = bundles["coop"].record
    assert stdout.splitlines()[:3] == [
        f"verified group.ctp (policy {bundles['policy']})",
        f"  key         the group key of {rec.describe()}, fingerprint {rec.fingerprint.hex}",
        f"  words       {rec.fingerprint.words}"]
    comment = json.loads(members(bundles["group"])["signatures/stock.json"])["trusted_comment"]
    assert comment.startswith("cerro-torre release demo 2.0 statement-sha256:")
    expect_ok(fmt, run_tool(fmt, exp, "group", "demo"), comment)
    # the key in the exported files is the cooperative's group key
    gpk = bundles["coop"].group_public_key
    if fmt == "signify":
        assert open(os.path.join(exp, "group.signify.pub")).read() == S.signify_public_file(gpk)
    # the statement file is the exact DSSE payload
    import base64

    env = json.loads(members(bundles["group"])["signatures/release.dsse.json"])
    assert open(os.path.join(exp, "group.statement.json"), "rb").read() == base64.b64decode(env["payload"])


@pytest.mark.parametrize("fmt", S.FORMATS)
def test_stock_tools_refuse_a_changed_statement_or_another_key(bundles, tmp_path, fmt):
    exp = str(tmp_path / "exp")
    assert ct("signature", "export", bundles["group"], "--format", fmt, "-o", exp, "--policy", bundles["policy"])[0] == 0
    path = os.path.join(exp, "group.statement.json")
    original = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(original.replace(b'"2.0"', b'"2.1"'))
    assert run_tool(fmt, exp, "group", "demo").returncode != 0
    with open(path, "wb") as f:
        f.write(original)
    expect_ok(fmt, run_tool(fmt, exp, "group", "demo"))
    # another group's public key files with this signature
    other = Coop(name="other", prefix="o")
    pk = other.group_public_key
    key_files = {"signify": ("group.signify.pub", S.signify_public_file(pk)),
                 "minisign": ("group.minisign.pub", S.minisign_public_file(pk)),
                 "ssh": ("group.allowed_signers", S.ssh_allowed_signers(pk, "demo"))}
    name, text = key_files[fmt]
    with open(os.path.join(exp, name), "w") as f:
        f.write(text)
    assert run_tool(fmt, exp, "group", "demo").returncode != 0


def test_export_refuses_altered_stock_signatures(bundles, tmp_path):
    items = members(bundles["group"])
    stock = json.loads(items["signatures/stock.json"])
    import base64

    raw = bytearray(base64.b64decode(stock["signatures"]["ssh"]))
    raw[0] ^= 1
    stock["signatures"]["ssh"] = base64.b64encode(bytes(raw)).decode()
    items["signatures/stock.json"] = json.dumps(stock, sort_keys=True, separators=(",", ":")).encode() + b"\n"
    path = str(tmp_path / "bad.ctp")
    write_members(path, list(items.items()), mode_of=modes(bundles["group"]))
    code, _, err = ct("signature", "export", path, "--format", "ssh", "-o", str(tmp_path / "exp"))
    assert code == 2
    assert err.splitlines() == ["error: bad.ctp: stock-tool signature(s) ssh do not verify",
                                "hint: the bundle was altered; get a clean copy"]
    assert not os.path.exists(tmp_path / "exp" / "bad.statement.json.sshsig")


def test_export_verifies_first_and_never_takes_the_key_from_the_bundle(bundles, tmp_path):
    """A stranger's bundle (or one re-signed with the stranger's stock key) gets no stock files."""
    stranger = Coop(name="coop", prefix="s")
    stranger.self_signed()
    theirs = str(tmp_path / "theirs.ctp")
    stranger.sign_bundle(bundles["unsigned"], theirs, [stranger.record])
    exp = tmp_path / "exp"
    code, out, err = ct("signature", "export", theirs, "--format", "minisign", "-o", str(exp),
                        "--policy", bundles["policy"])
    fp = stranger.record.fingerprint.hex
    assert (code, out) == (3, "")
    assert err.splitlines() == [
        f"error: {stranger.record.describe()} does not chain to a pinned root (chain starts at epoch 1, "
        f"fingerprint {fp})",
        "hint: pin the cooperative's root set after checking its fingerprint: 'ct policy init --root "
        "KEYHOLDERS.json' (or add it with 'ct policy add-root')",
        "hint: ct signature export verifies the bundle first: stock tools would accept whatever key it names, "
        "so only a bundle this home trusts is exported"]
    assert not exp.exists()
    # the cooperative's bundle with the stranger's stock signatures (a valid stock record by another key)
    items = members(bundles["group"])
    items["signatures/stock.json"] = members(theirs)["signatures/stock.json"]
    mixed = str(tmp_path / "mixed.ctp")
    write_members(mixed, list(items.items()), mode_of=modes(bundles["group"]))
    code, out, err = ct("signature", "export", mixed, "--format", "minisign", "-o", str(exp),
                        "--policy", bundles["policy"])
    assert (code, out) == (3, "")
    assert err.splitlines()[0] == (f"error: mixed.ctp: signatures/stock.json is signed by key "
                                   f"{stranger.record.group_keyid}, not by the release's Ed25519 key")
    assert not exp.exists()


def test_export_of_an_unsigned_bundle(bundles, tmp_path):
    code, _, err = ct("signature", "export", bundles["unsigned"], "--format", "signify", "-o", str(tmp_path))
    assert code == 21
    assert err.splitlines() == [
        "error: rel.ctp carries no stock-tool signatures (signatures/stock.json)",
        "hint: the bundle is not signed; sign it ('ct pack ... --key ID' or 'ct ceremony sign') first"]


def test_export_json(bundles, tmp_path):
    code, stdout, _ = ct("--json", "signature", "export", bundles["group"], "--format", "ssh", "-o", str(tmp_path),
                         "--policy", bundles["policy"])
    assert code == 0
    j = json.loads(stdout)
    assert j["keyid"] == bundles["coop"].record.group_keyid
    assert j["commands"]["ssh"] == ("ssh-keygen -Y verify -f group.allowed_signers -I demo -n cerro-torre-release "
                                    "-s group.statement.json.sshsig < group.statement.json")


def test_two_pass_messages_for_a_ceremony(bundles):
    """What a ceremony signs: pass 1 from the bundle, pass 2 from the minisign signature."""
    from cerro_torre.ceremony import bundle as B

    msgs = B.release_messages(bundles["unsigned"])
    assert set(msgs) == {"dsse", "signify", "minisign", "ssh", "sha256sums"}
    env = json.loads(members(bundles["unsigned"])["signatures/release.dsse.json"])
    import base64

    st = base64.b64decode(env["payload"])
    assert msgs["signify"] == st
    assert msgs["dsse"].startswith(b"DSSEv1 28 application/vnd.in-toto+json ")
    assert msgs["ssh"].startswith(b"SSHSIG\x00\x00\x00\x13cerro-torre-release\x00\x00\x00\x00\x00\x00\x00\x06sha512")
    comment = B.release_trusted_comment(bundles["unsigned"])
    second = S.second_pass_messages(b"\x07" * 64, comment)
    assert second == {"minisign-global": b"\x07" * 64 + comment.encode()}


# ------------------------------------------------------------------ SHA256SUMS: signify -C checks the payload files

def test_sha256sums_vector_message():
    st = (b'{"_type":"https://in-toto.io/Statement/v1","predicate":{},"predicateType":"t:x","subject":'
          b'[{"digest":{"sha256":"' + b"ab" * 32 + b'"},"name":"a b/c.txt"},{"digest":{"sha256":"' + b"01" * 32
          + b'"},"name":"z"}]}')
    assert S.sha256sums(st) == (b"SHA256 (a b/c.txt) = " + b"ab" * 32 + b"\nSHA256 (z) = " + b"01" * 32 + b"\n")


def test_signify_checks_the_payload_files_with_sha256sums(tmp_path, bundles):
    exp = str(tmp_path / "files")
    # the payload files, as the release holds them
    code, _, err = ct("unpack", bundles["group"], "-o", exp, "--policy", _pin(tmp_path, bundles["coop"]))
    assert (code, err) == (0, "")
    code, stdout, err = ct("signature", "export", bundles["group"], "--format", "sha256sums", "-o", exp,
                           "--policy", bundles["policy"])
    assert (code, err) == (0, "")
    assert "  signify -C -p group.signify.pub -x SHA256SUMS.sig   (in the folder of the payload files)" \
        in stdout.splitlines()
    p = subprocess.run(["signify-openbsd", "-C", "-p", "group.signify.pub", "-x", "SHA256SUMS.sig"],
                       cwd=exp, capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines() == ["Signature Verified", "README: OK", "sub/tool.sh: OK"]
    # the key is the group key of the keyholder set
    with open(os.path.join(exp, "group.signify.pub")) as f:
        assert f.read() == S.signify_public_file(bundles["coop"].group_public_key)
    # a changed payload file: signify -C refuses it
    with open(os.path.join(exp, "README"), "ab") as f:
        f.write(b"x")
    p = subprocess.run(["signify-openbsd", "-C", "-p", "group.signify.pub", "-x", "SHA256SUMS.sig"],
                       cwd=exp, capture_output=True, text=True)
    assert p.returncode != 0
    assert "README: FAIL" in p.stdout + p.stderr
    # a changed SHA256SUMS: the signature does not verify
    sig = os.path.join(exp, "SHA256SUMS.sig")
    data = open(sig, "rb").read().replace(b"(README)", b"(READMF)")
    open(sig, "wb").write(data)
    p = subprocess.run(["signify-openbsd", "-C", "-p", "group.signify.pub", "-x", "SHA256SUMS.sig"],
                       cwd=exp, capture_output=True, text=True)
    assert p.returncode != 0
    assert "signature verification failed" in p.stderr


def _pin(tmp_path, coop) -> str:
    from test_bundle_support import pin_policy

    return pin_policy(str(tmp_path / "policy.json"), coop)


def test_the_sha256sums_signature_is_checked_over_the_text_made_as_it_is_read():
    """A verifier checks the stock signatures over a statement it does not hold (read again for each), the
    SHA256SUMS text made in 64 KiB pieces from its subjects: a statement of 3,000 subjects (several pieces)
    verifies, a signature over the text without its last line, or with one digest changed, does not."""
    import hashlib

    from cerro_torre.ceremony.statement import Envelope, make_statement
    from cerro_torre.ceremony.streaming import read_envelope_streamed, slices

    sd = bytes.fromhex(V["ed25519_seed"])
    pk = ed25519.public_from_seed(sd)
    subjects = [(f"src/m{i // 100:02d}/f{i:05d}.py", hashlib.sha256(b"%d" % i).hexdigest()) for i in range(3000)]
    raw = make_statement(subjects, {"bundle": {"format": "ct-bundle", "format_version": 1},
                                   "manifest": {"name": "manifest.toml", "sha256": "00" * 32},
                                   "package": {"name": "demo", "version": "1"}, "source": {"kind": "directory"}})
    text = S.sha256sums(raw)
    assert len(text) > 3 * (64 << 10) and text.count(b"\n") == 3000
    pieces = list(S.sha256sums_chunks(raw))
    assert len(pieces) > 4 and b"".join(pieces) == text
    rec = S.sign_record(raw, "c", pk, lambda m: ed25519.sign(sd, m))
    data = Envelope(raw).to_bytes()
    _env, streamed = read_envelope_streamed(slices(data, 1000), "e", lambda: data,
                                            (lambda: slices(data, 1000), lambda: data), "s", "changed")
    assert list(S.sha256sums_chunks(streamed)) == pieces
    assert rec.check(raw) == [] and rec.check(streamed) == []
    for other in (text[:text.rindex(b"SHA256 (")], text.replace(subjects[1500][1].encode(), b"ff" * 32)):
        assert other != text
        bad = S.StockRecord(pk, "c", {**rec.signatures, "sha256sums": ed25519.sign(sd, other)})
        assert bad.check(raw) == bad.check(streamed) == ["sha256sums"]
    bad = S.StockRecord(pk, "c", {**rec.signatures, "signify": ed25519.sign(sd, raw + b" ")})
    assert bad.check(streamed) == ["signify"]
