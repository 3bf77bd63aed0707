"""What a keyholder sees is what it signs (issue 9).

Everything `ct ceremony step` (and the TUI, which shows the same summary) tells a keyholder about a signing
comes from the statement that is signed: package name and version, every subject, the source (kind,
registry, tag, digests), the manifest digest, and the stock-tool texts, the minisign trusted comment
included, which is built from the statement alone.  A request whose release name or version disagrees with
its statement is refused (exit 11).  Reproduced first: a coordinator showing "app 2.0.0" while the statement
said 1.0 made keyholders sign, and the group key signed a minisign trusted comment saying 2.0.0."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
import sys

import pytest
from ceremony_sim import PASS, Sim, cli_env

sys.path.insert(0, os.path.dirname(__file__))
import test_bundle_support as support  # noqa: E402

from cerro_torre.ceremony import bundle, stockformats  # noqa: E402
from cerro_torre.ceremony.message import Message  # noqa: E402
from cerro_torre.ceremony.statement import Envelope  # noqa: E402
from cerro_torre.cli.main import main  # noqa: E402

NAMES = ["alice", "bob", "carol"]


def ct(*argv) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


pytestmark = pytest.mark.usefixtures("cli_env")


@pytest.fixture(scope="module")
def w(tmp_path_factory):
    d = tmp_path_factory.mktemp("approval")
    sim = Sim(str(d / "homes"), NAMES)
    rec = sim.keygen(NAMES, 2)
    (d / "keyholders.json").write_bytes(rec.to_bytes())
    support.make_oci(str(d / "img"))
    out, err = io.StringIO(), io.StringIO()
    assert main(["pack", f"oci:{d / 'img'}:1.0", "-o", str(d / "app.ctp")], stdout=out, stderr=err) == 0, \
        err.getvalue()
    parts = bundle.read_parts(str(d / "app.ctp"))
    statement = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload
    return {"dir": d, "sim": sim, "rec": rec, "statement": statement}


def home(w, name):
    return w["sim"].holders[name].path


def open_request(w, tmp_path, *extra) -> tuple[Message, str]:
    path = tmp_path / "s0.ctm"
    code, _, err = ct("ceremony", "sign", w["dir"] / "app.ctp", "--group", w["dir"] / "keyholders.json",
                      "--signer", "alice", "--signer", "bob", *extra, "-o", path)
    assert code == 0, err
    return Message.parse(path.read_bytes()), str(path)


def forged(req: Message, tmp_path, **release) -> str:
    """The request with its release fields changed (a lying coordinator: no signature to break)."""
    payload = {**req.payload, "release": {**req.payload["release"], **release}}
    msg = Message(req.ceremony, req.kind, req.round, req.sender, payload)
    path = tmp_path / "forged.ctm"
    path.write_bytes(msg.to_bytes())
    return str(path)


# ---------------------------------------------------------------- a request that lies is refused

@pytest.mark.parametrize("field,value,shown", [("version", "2.0.0", "hello 2.0.0"), ("name", "openssl", "openssl 1.0")])
def test_request_naming_another_release_is_refused(w, tmp_path, field, value, shown):
    req, _ = open_request(w, tmp_path)
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", forged(req, tmp_path, **{field: value}),
                        "-o", tmp_path / "a.ctm", "--yes")
    assert (code, out) == (11, "")
    assert err.splitlines() == [
        f"error: the request names release {shown}, but the statement it signs is hello 1.0",
        "hint: the coordinator's request contradicts what would be signed; refuse it and tell the other keyholders"]
    assert not (tmp_path / "a.ctm").exists()
    assert not os.path.exists(os.path.join(home(w, "alice"), "ceremonies", req.ceremony, "request.reply"))


def test_spoofed_version_never_reaches_minisign(w, tmp_path):
    """The reproduction: with the version spoofed, the stock forms used to be signed with a trusted comment
    saying 2.0.0.  Now the first keyholder refuses; and the comment the group key signs is built from
    the statement alone (checked with stock minisign on an honest run)."""
    req, _ = open_request(w, tmp_path)
    bad = forged(req, tmp_path, version="2.0.0")
    for n in ("alice", "bob"):
        code, _, err = ct("--home", home(w, n), "ceremony", "step", bad, "-o", tmp_path / f"{n}.ctm", "--yes")
        assert code == 11 and err.startswith("error: the request names release hello 2.0.0"), err
    # an honest ceremony: minisign -V prints the statement's own package, version and digest
    (tmp_path / "x").mkdir()
    req, path = open_request(w, tmp_path / "x")
    msg, prefix = path, tmp_path / "x" / "s"
    for r in range(3):
        replies = []
        for n in ("alice", "bob"):
            out = f"{prefix}{r}-{n}.ctm"
            code, _, err = ct("--home", home(w, n), "ceremony", "step", msg, "-o", out, "--yes")
            assert code == 0, err
            replies.append(out)
        nxt = f"{prefix}{r + 1}.ctm" if r < 2 else str(tmp_path / "signed.ctp")
        extra = ["--bundle", w["dir"] / "app.ctp"] if r == 2 else []
        code, _, err = ct("ceremony", "collect", msg, *replies, "-o", nxt, *extra)
        assert code == 0, err
        msg = nxt
    # (signature export verifies first: the verifier pins the cooperative's root)
    code, _, err = ct("policy", "init", "--policy", tmp_path / "p.json", "--root", w["dir"] / "keyholders.json")
    assert code == 0, err
    code, _, err = ct("signature", "export", tmp_path / "signed.ctp", "--format", "minisign",
                      "-o", tmp_path / "stock", "--policy", tmp_path / "p.json")
    assert code == 0, err
    os.chdir(tmp_path / "stock")
    p = subprocess.run(["minisign", "-V", "-p", "signed.minisign.pub", "-x", "signed.statement.json.minisig",
                        "-m", "signed.statement.json"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    sha = hashlib.sha256(w["statement"]).hexdigest()
    assert f"Trusted comment: cerro-torre release hello 1.0 statement-sha256:{sha}" in p.stdout.splitlines()


def test_trusted_comment_is_built_from_the_statement_alone(w):
    sha = hashlib.sha256(w["statement"]).hexdigest()
    assert stockformats.trusted_comment(w["statement"]) == f"cerro-torre release hello 1.0 statement-sha256:{sha}"


def test_verifier_refuses_a_trusted_comment_the_statement_does_not_give(tmp_path):
    """A bundle whose stock record carries a comment not derived from its statement (what the old ceremony
    produced) is refused by ct verify, even though the group key did sign that comment."""
    from cerro_torre.keys.home import Home

    h = str(tmp_path / "h")
    assert ct("--home", h, "keygen", "--id", "rel")[0] == 0
    (tmp_path / "app.txt").write_bytes(b"hello\n")
    code, _, err = ct("--home", h, "pack", tmp_path / "app.txt", "--name", "app", "--version", "1.0",
                      "--key", "rel", "-o", tmp_path / "good.ctp")
    assert code == 0, err
    assert ct("--home", h, "key", "trust", "rel", "trusted")[0] == 0
    assert ct("--home", h, "verify", tmp_path / "good.ctp")[0] == 0
    parts = bundle.read_parts(str(tmp_path / "good.ctp"))
    statement = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload
    key = Home(h, allow_weak=True).load_private("rel", PASS)
    pk = key.public().keys["ed25519"]
    lying = stockformats.sign_record(statement, "cerro-torre release app 2.0.0 statement-sha256:"
                                     + hashlib.sha256(statement).hexdigest(), pk,
                                     lambda m: next(x.sig for x in key.sign(m) if x.alg == "ed25519"))
    bundle.add_signatures(str(tmp_path / "good.ctp"), str(tmp_path / "bad.ctp"), stock=lying)
    code, out, err = ct("--home", h, "verify", tmp_path / "bad.ctp")
    assert code == 2
    sha = hashlib.sha256(statement).hexdigest()
    assert err.splitlines()[:2] == [
        f"error: bad.ctp: the minisign trusted comment in signatures/stock.json is not the one its statement "
        f"gives ('cerro-torre release app 2.0.0 statement-sha256:{sha}', expected "
        f"'cerro-torre release app 1.0 statement-sha256:{sha}')",
        "hint: stock tools would show a release the statement does not name; do not use these stock signatures"]


# ---------------------------------------------------------------- what the keyholder is shown

def test_step_shows_the_whole_statement(w, tmp_path):
    req, path = open_request(w, tmp_path)
    code, out, err = ct("--home", home(w, "alice"), "ceremony", "step", path, "-o", tmp_path / "a.ctm", "--yes")
    assert code == 0, err
    lines = out.splitlines()
    st = w["statement"]
    sha = hashlib.sha256(st).hexdigest()
    from cerro_torre.ceremony.statement import parse_statement

    parsed = parse_statement(st)
    man = parsed.predicate["manifest"]["sha256"]
    (mdigest,) = parsed.predicate["source"]["manifests"]
    rec = w["rec"]
    i = lines.index(f"sign release hello 1.0 with {rec.describe()}, 2 of 3")
    expected = [
        f"sign release hello 1.0 with {rec.describe()}, 2 of 3",
        f"  the release statement, sha256 {sha}:",
        "    package   hello 1.0",
        f"    manifest  manifest.toml sha256 {man}",
        "    bundle    ct-bundle format 1",
        "    source    kind oci",
        "              image docker.io/library/hello:1.0",
        f"              manifests {mdigest}",
        "              registry docker.io/library/hello",
        "              tag 1.0",
    ] + [f"    attests   {a['predicateType']} sha256 {a['digest']['sha256']}" for a in parsed.predicate["attestations"]] + [
        f"    {len(parsed.subjects)} file(s):",
    ] + [f"      {s.sha256}  {s.name}" for s in parsed.subjects] + [
        "  the group key also signs the stock-tool forms of this statement:",
        "    signify, and ssh-keygen -Y (namespace cerro-torre-release): the statement itself",
        f"    minisign, with the trusted comment: cerro-torre release hello 1.0 statement-sha256:{sha}",
        "    SHA256SUMS (signify -C): the sha256 of every file listed above",
        "  2 attestation(s), bound by the statement's digests and signed with the group key:",
    ] + [f"    {a['digest']['sha256']}  {a['predicateType']}" for a in parsed.predicate["attestations"]] + [
        "  signers: alice, bob (every one must answer; the set is fixed when you commit)",
    ]
    assert [a["predicateType"] for a in parsed.predicate["attestations"]] == [
        "https://spdx.dev/Document/v2.3", "https://slsa.dev/provenance/v1"]
    assert lines[i:i + len(expected)] == expected
    assert "  never restore this home from a backup, or copy it, while this ceremony is open" in lines
