"""`ct ceremony ...` end to end through main(), in process: a 2-of-3 DKG and a release signing
with one home per keyholder, every message carried as a file, the signing-share round carried
ONLY as QR PNG frames (ct qr encode / ct qr decode with real zbar), ending in
`ct verify --policy` exit 0; `ct ceremony status` (text, --json, --transcript); a rotation and
the trusted dealer from the command line."""

from __future__ import annotations

import glob
import hashlib
import io
import json
import os
import shutil

import pytest

from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.ceremony.message import Message
from cerro_torre.ceremony.protocol import Journal, replies_in
from cerro_torre.ceremony.transcript import GENESIS
from cerro_torre.cli.main import main
from cerro_torre.suites.encoding import canonical_json

NAMES = ["alice", "bob", "carol"]
ENV = {"CT_TESTING": "1", "CT_TEST_ARGON2_MEMORY_KIB": "256", "CT_PASSPHRASE": "a test passphrase, not a secret"}


def ct(*argv: str) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main([str(a) for a in argv], stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def ok(*argv: str) -> str:
    code, out, err = ct(*argv)
    assert code == 0, (argv, code, err)
    return out


def msg_of(path) -> Message:
    with open(path, "rb") as f:
        return Message.parse(f.read())


def sha(path) -> str:
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


@pytest.fixture(autouse=True)
def env(monkeypatch):
    for k, v in ENV.items():
        monkeypatch.setenv(k, v)
    monkeypatch.delenv("CT_HOME", raising=False)
    monkeypatch.delenv("CT_CRASH_AT", raising=False)


@pytest.fixture(scope="module")
def cer(tmp_path_factory):
    """The whole 2-of-3 ceremony, run once; tests look at what it left."""
    mp = pytest.MonkeyPatch()
    for k, v in ENV.items():
        mp.setenv(k, v)
    mp.delenv("CT_HOME", raising=False)
    d = tmp_path_factory.mktemp("cli")
    old_cwd = os.getcwd()
    os.chdir(d)
    try:
        yield _run(d)
    finally:
        os.chdir(old_cwd)
        mp.undo()


def _step_round(r: dict, rnd: str, names: list[str], prefix: str, json_out: bool = False) -> None:
    for n in names:
        argv = ["--home", f"h/{n}"] + (["--json"] if json_out else []) + \
            ["ceremony", "step", f"{prefix}.ctm", "-o", f"{prefix}-{n}.ctm", "--yes"]
        code, out, err = ct(*argv)
        assert code == 0, (argv, err)
        r["step"][(prefix, n)] = (out, err)


def _run(d) -> dict:
    r: dict = {"dir": d, "step": {}, "collect": {}}
    os.makedirs("pub")
    for n in NAMES:
        ok("--home", f"h/{n}", "keygen", "--id", n)
        shutil.copy(f"h/{n}/keys/{n}.pub", f"pub/{n}.pub")
    code, out, err = ct("--json", "ceremony", "keygen", "--threshold", "2", "--member", "pub/alice.pub",
                        "--member", "pub/bob.pub", "--member", "pub/carol.pub", "--name", "coop", "-o", "r0.ctm")
    assert (code, err) == (0, "")
    r["open_keygen"] = json.loads(out)
    # DKG: request -> round1 -> round2 -> package -> record, every reply a file
    for i in range(4):
        _step_round(r, "", NAMES, f"r{i}", json_out=(i == 1))
        replies = sorted(glob.glob(f"r{i}-*.ctm"))
        assert replies == [f"r{i}-{n}.ctm" for n in NAMES]
        target = f"r{i + 1}.ctm" if i < 3 else "keyholders.json"
        extra = ["--transcript", "kg.ctm"] if i == 3 else []
        r["collect"][f"r{i}"] = ok("ceremony", "collect", f"r{i}.ctm", *replies, "-o", target, *extra)
    # the record reaches every home (signing requests name it by fingerprint)
    for n in NAMES:
        r["keep"] = ok("--home", f"h/{n}", "ceremony", "step", "keyholders.json")
    # the release
    with open("app.txt", "wb") as f:
        f.write(b"hello world\n")
    ok("pack", "app.txt", "-o", "app.ctp", "--name", "app", "--version", "1.0")
    r["open_sign"] = ok("ceremony", "sign", "app.ctp", "--group", "keyholders.json", "--signer", "alice",
                        "--signer", "carol", "-o", "s0.ctm")
    # commitments: files
    _step_round(r, "", ["alice", "carol"], "s0")
    r["collect"]["s0"] = ok("--json", "ceremony", "collect", "s0.ctm", "s0-alice.ctm", "s0-carol.ctm",
                            "-o", "s1.ctm")
    # signature shares (+ ML-DSA-87): carried ONLY as QR frames
    _step_round(r, "", ["alice", "carol"], "s1")
    r["qr"] = {}
    os.makedirs("qr")
    for n in ["alice", "carol"]:
        src = f"s1-{n}.ctm"
        digest, size = sha(src), os.path.getsize(src)
        enc = json.loads(ok("--json", "qr", "encode", src, "-o", f"qr/{n}"))
        os.rename(src, f"sent-{src}")           # the file itself never reaches the coordinator
        frames = sorted(glob.glob(f"qr/{n}/*.png"))
        code, out, err = ct("qr", "decode", *reversed(frames), "-o", f"s1-{n}.qr.ctm")   # any order
        assert code == 0, err
        r["qr"][n] = {"sha": digest, "size": size, "encode": enc, "frames": frames, "decode": out}
    r["collect"]["s1"] = ok("ceremony", "collect", "s1.ctm", "s1-alice.qr.ctm", "s1-carol.qr.ctm", "-o", "s2.ctm")
    # minisign's second pass: files again
    _step_round(r, "", ["alice", "carol"], "s2")
    r["collect"]["s2"] = ok("--json", "ceremony", "collect", "s2.ctm", "s2-alice.ctm", "s2-carol.ctm",
                            "-o", "app-signed.ctp", "--bundle", "app.ctp", "--transcript", "sign.ctm")
    ok("policy", "init", "--root", "keyholders.json", "--policy", "policy.json")
    r["verify"] = ct("verify", "app-signed.ctp", "--policy", "policy.json")
    return r


# ---------------------------------------------------------------- the DKG

def test_open_keygen_json(cer):
    j = cer["open_keygen"]
    req = msg_of(cer["dir"] / "r0.ctm")
    assert j == {"ceremony": req.ceremony, "kind": "keygen", "round": "request", "file": "r0.ctm",
                 "journal": str(cer["dir"] / f"{req.ceremony}.journal"),
                 "fingerprint": req.fingerprint.to_json(), "next": "step", "who": NAMES, "need": 3, "optional": []}


def test_keygen_rounds_and_record(cer):
    d = cer["dir"]
    assert [msg_of(d / f"r{i}.ctm").round for i in range(4)] == ["request", "round1", "round2", "package"]
    assert [msg_of(d / f"r0-{n}.ctm").round for n in NAMES] == ["commit"] * 3
    assert [msg_of(d / f"r3-{n}.ctm").round for n in NAMES] == ["sign"] * 3
    with open(d / "keyholders.json", "rb") as f:
        rec = KeyholderSet.from_bytes(f.read())
    assert (rec.name, rec.epoch, rec.threshold, [m.id for m in rec.members]) == ("coop", 1, 2, NAMES)
    lines = cer["collect"]["r3"].splitlines()
    assert lines[0] == f"wrote keyholders.json: {rec.describe()}, 2 of 3"
    assert lines[1:] == [
        f"  fingerprint {rec.fingerprint.hex}  {rec.fingerprint.words}",
        "  keyholders: each runs 'ct ceremony step keyholders.json': the home checks it is the record it confirmed "
        "and keeps it",
        "  verifiers: pin it with 'ct policy init --root keyholders.json' after comparing the words",
        "  transcript: kg.ctm ('ct ceremony status --transcript kg.ctm')"]
    # every home holds its own share, nobody else's
    for m in rec.members:
        shares = sorted(os.listdir(d / "h" / m.id / "shares"))
        fp = rec.fingerprint.full_hex
        assert shares == [fp + ".json", fp + ".share"]   # the share of this record and its status


def test_step_json_output(cer):
    d = cer["dir"]
    for n in NAMES:
        out, err = cer["step"][("r1", n)]
        j = json.loads(out)
        reply = msg_of(d / f"r1-{n}.ctm")
        assert j == {"ceremony": reply.ceremony, "kind": "keygen", "answered": "round1", "round": "shares",
                     "member": n, "file": f"r1-{n}.ctm", "fingerprint": reply.fingerprint.to_json()}
        # what is approved goes to stderr under --json
        assert err.splitlines()[0] == f"ceremony {reply.ceremony} (keygen), round round1"
        assert f"  you are {n!r} (new member); this step: check everyone's proofs and send each member its " \
               "sealed share (round 2)" in err.splitlines()


def test_step_text_output(cer):
    d = cer["dir"]
    out, err = cer["step"][("s0", "alice")]
    assert err == ""
    req = msg_of(d / "s0.ctm")
    reply = msg_of(d / "s0-alice.ctm")
    lines = out.splitlines()
    assert lines[0] == f"ceremony {req.ceremony} (sign), round request"
    assert lines[1].startswith("sign release app 1.0 with keyholder set 'coop' epoch 1 (")
    assert lines[1].endswith("), 2 of 3")
    assert "  signers: alice, carol (every one must answer; the set is fixed when you commit)" in lines
    assert "  the group key also signs the stock-tool forms of this statement:" in lines
    assert "    SHA256SUMS (signify -C): the sha256 of every file listed above" in lines
    # what the keyholder approves includes each attestation, derived from the bytes signed
    i = lines.index("  2 attestation(s), bound by the statement's digests and signed with the group key:")
    atts = [json.loads(canonical_json(json.loads(__import__("base64").b64decode(a))))
            for a in req.payload["release"]["attestations"]]
    assert [x["predicateType"] for x in atts] == ["https://spdx.dev/Document/v2.3", "https://slsa.dev/provenance/v1"]
    assert lines[i + 1].endswith("  https://spdx.dev/Document/v2.3")
    assert lines[i + 2].endswith("  https://slsa.dev/provenance/v1")
    assert "  you are 'alice'; this step: commit to sign (no signature yet)" in lines
    assert f"  message fingerprint: {req.fingerprint.hex}  {req.fingerprint.words}" in lines
    assert lines[-3:] == [f"wrote s0-alice.ctm: sign ceremony {req.ceremony}, round commit",
                          f"  fingerprint {reply.fingerprint.hex}  {reply.fingerprint.words}",
                          "next: carry it to the coordinator, who runs 'ct ceremony collect'"]


# ---------------------------------------------------------------- signing, QR, verify

def test_signing_round_carried_only_as_qr(cer):
    d = cer["dir"]
    for n in ["alice", "carol"]:
        q = cer["qr"][n]
        assert not os.path.exists(d / f"s1-{n}.ctm")
        assert q["encode"]["parts"] == 6 and q["encode"]["frames"] == len(q["frames"]) == 9  # 1.5 x the parts
        assert q["encode"]["bytes"] == q["size"] and q["encode"]["sha256"] == q["sha"]
        assert sha(d / f"s1-{n}.qr.ctm") == q["sha"]
        assert msg_of(d / f"s1-{n}.qr.ctm").round == "share"
    # the package2 bulletin merged exactly the decoded replies
    s2 = msg_of(d / "s2.ctm")
    with open(d / "s1-alice.qr.ctm", "rb") as f:
        alice = f.read()
    # package2 names the share replies by digest only (keyholders do not need each other's); the
    # coordinator's journal holds them
    assert "replies" not in s2.payload
    assert s2.payload["merged"][0] == hashlib.sha256(alice).hexdigest()
    journal = Journal.load(str(d / f"{s2.ceremony}.journal"), s2.ceremony)
    assert [r.to_bytes() for r in replies_in(s2, journal.history())][0] == alice


def test_collect_json_outputs(cer):
    d = cer["dir"]
    j = json.loads(cer["collect"]["s0"])
    pkg = msg_of(d / "s1.ctm")
    assert j == {"ceremony": pkg.ceremony, "kind": "sign", "round": "package", "file": "s1.ctm",
                 "journal": str(d / f"{pkg.ceremony}.journal"),
                 "fingerprint": pkg.fingerprint.to_json(), "next": "step", "who": ["alice", "carol"], "need": 2,
                 "optional": []}
    j = json.loads(cer["collect"]["s2"])
    assert j == {"ceremony": pkg.ceremony, "kind": "sign", "round": "done", "bundle": "app-signed.ctp",
                 "signatures": 3, "stock": True, "transcript": "sign.ctm"}


def test_verify_signed_bundle(cer):
    code, out, err = cer["verify"]
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "ok: app-signed.ctp is valid"
    assert "  signatures  ed25519 1 of 1 required, 1 valid; ml-dsa-87 2 of 3 required, 2 valid" in lines
    assert "  stock       signify, minisign, ssh and SHA256SUMS signatures verified" in lines
    assert "  attests     https://spdx.dev/Document/v2.3, https://slsa.dev/provenance/v1" in lines
    assert any(line.startswith("  chain       epoch 1 (pinned) -> epoch 1, 1 record(s)") for line in lines)


def test_verify_json(cer, monkeypatch):
    monkeypatch.chdir(cer["dir"])
    code, out, err = ct("--json", "verify", "app-signed.ctp", "--policy", "policy.json")
    assert (code, err) == (0, "")
    assert isinstance(json.loads(out), dict)


# ---------------------------------------------------------------- status

def test_status_of_request_text(cer):
    d = cer["dir"]
    req = msg_of(d / "s0.ctm")
    code, out, err = ct("ceremony", "status", d / "s0.ctm")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"sign ceremony {req.ceremony}",
        f"  message: request from coordinator, fingerprint {req.fingerprint.hex}  {req.fingerprint.words}",
        "  next: step, by alice, carol (2 needed), then collect"]


def test_status_of_bulletin_json(cer):
    d = cer["dir"]
    m = msg_of(d / "r2.ctm")
    code, out, err = ct("--json", "ceremony", "status", d / "r2.ctm")
    assert (code, err) == (0, "")
    assert json.loads(out) == {
        "ceremony": m.ceremony, "kind": "keygen", "round": "round2", "sender": "coordinator",
        "fingerprint": m.fingerprint.to_json(), "answered_previous_round": NAMES,
        "next": "step", "who": NAMES, "need": 3, "optional": [], "participants": NAMES}


def test_status_of_package2_who_is_missing(cer):
    """Carol (invited) holds the package2 step: who is still to answer is named."""
    d = cer["dir"]
    m = msg_of(d / "s2.ctm")
    code, out, err = ct("ceremony", "status", d / "s2.ctm")
    assert (code, err) == (0, "")
    assert out.splitlines()[2:] == ["  answered the previous round: alice, carol",
                                    "  next: step, by alice, carol (2 needed), then collect"]
    j = json.loads(ct("--json", "ceremony", "status", d / "s2.ctm")[1])
    assert (j["round"], j["next"], j["who"], j["need"], j["participants"]) == \
        ("package2", "step", ["alice", "carol"], 2, NAMES)
    assert j["fingerprint"]["sha256"] == hashlib.sha256(m.to_bytes()).hexdigest()


def test_status_names_who_is_missing(cer, monkeypatch, tmp_path):
    """Three signers invited, bob never committed: the request's status says all three must answer,
    and collect refuses without bob (the set is fixed at the request).  A request for alice and carol:
    the package's status says who answered (alice, carol), who is still missing for this round (alice,
    carol: nobody has answered it yet) and how many are needed."""
    d = cer["dir"]
    monkeypatch.chdir(tmp_path)
    ok("ceremony", "sign", d / "app.ctp", "--group", d / "keyholders.json", "--no-stock", "-o", "m0.ctm")
    j = json.loads(ct("--json", "ceremony", "status", "m0.ctm")[1])
    assert (j["round"], j["answered_previous_round"], j["who"], j["need"]) == ("request", [], NAMES, 3)
    for n in ["alice", "carol"]:
        ok("--home", d / "h" / n, "ceremony", "step", "m0.ctm", "-o", f"m0-{n}.ctm", "--yes")
    code, out, err = ct("ceremony", "collect", "m0.ctm", "m0-alice.ctm", "m0-carol.ctm", "-o", "m1.ctm")
    assert (code, out) == (11, "")
    assert err.splitlines() == ["error: 2 of 3 needed commit replies; missing: bob",
                                "hint: collect again when the missing keyholders have answered"]
    ok("ceremony", "sign", d / "app.ctp", "--group", d / "keyholders.json", "--no-stock", "--signer", "alice",
       "--signer", "carol", "-o", "n0.ctm")
    for n in ["alice", "carol"]:
        ok("--home", d / "h" / n, "ceremony", "step", "n0.ctm", "-o", f"n0-{n}.ctm", "--yes")
    ok("ceremony", "collect", "n0.ctm", "n0-alice.ctm", "n0-carol.ctm", "-o", "n1.ctm")
    code, out, err = ct("--json", "ceremony", "status", "n1.ctm")
    assert (code, err) == (0, "")
    j = json.loads(out)
    assert (j["round"], j["answered_previous_round"], j["next"], j["who"], j["need"], j["participants"]) == \
        ("package", ["alice", "carol"], "step", ["alice", "carol"], 2, NAMES)
    code, out, err = ct("ceremony", "status", "n1.ctm")
    assert out.splitlines()[2:] == ["  answered the previous round: alice, carol",
                                    "  next: step, by alice, carol (2 needed), then collect"]


def test_status_of_reply(cer):
    d = cer["dir"]
    m = msg_of(d / "s0-carol.ctm")
    code, out, err = ct("ceremony", "status", d / "s0-carol.ctm")
    assert (code, err) == (0, "")
    assert out.splitlines() == [
        f"sign ceremony {m.ceremony}",
        f"  message: commit from carol, fingerprint {m.fingerprint.hex}  {m.fingerprint.words}",
        "  next: collect (the coordinator merges this reply)"]
    j = json.loads(ct("--json", "ceremony", "status", d / "s0-carol.ctm")[1])
    assert (j["round"], j["sender"], j["next"], j["who"]) == ("commit", "carol", "collect", ["coordinator"])


def test_status_transcript_of_signing(cer):
    d = cer["dir"]
    code, out, err = ct("ceremony", "status", "--transcript", d / "sign.ctm")
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[2:4] == ["  answered the previous round: alice, carol", "  next: done"]
    assert lines[4] == "transcript (10 messages, every signature and link verified):"
    rounds = [(ln.split()[1], ln.split()[2]) for ln in lines[5:15]]
    assert rounds == [("request", "coordinator"), ("commit", "alice"), ("commit", "carol"),
                      ("package", "coordinator"), ("share", "alice"), ("share", "carol"),
                      ("package2", "coordinator"), ("share2", "alice"), ("share2", "carol"),
                      ("done", "coordinator")]
    # the json form: a hash chain we can recompute
    j = json.loads(ct("--json", "ceremony", "status", "--transcript", d / "sign.ctm")[1])
    prev = GENESIS
    for i, e in enumerate(j["transcript"]):
        assert (e["seq"], e["prev"]) == (i, prev)
        body = {k: e[k] for k in ("seq", "prev", "digest", "round", "sender", "words")}
        assert e["hash"] == hashlib.sha256(canonical_json(body)).hexdigest()
        prev = e["hash"]
    assert lines[15:] == [f"  head {prev}"]
    assert j["transcript_head"] == prev
    # the messages the coordinator recorded are the files the keyholders sent
    digests = [e["digest"] for e in j["transcript"]]
    for f in ["s0.ctm", "s0-alice.ctm", "s0-carol.ctm", "s1.ctm", "s1-alice.qr.ctm", "s2-carol.ctm"]:
        assert sha(d / f) in digests, f
    # and alice's home logged the same messages, in the same order
    from cerro_torre.ceremony.keyholder import Keyholder

    mine = Keyholder(str(d / "h" / "alice")).transcript(j["ceremony"])
    assert [e.digest for e in mine] == [digests[i] for i in (0, 1, 3, 4, 6, 7)]


def test_status_transcript_of_keygen(cer):
    d = cer["dir"]
    j = json.loads(ct("--json", "ceremony", "status", "--transcript", d / "kg.ctm")[1])
    assert [e["round"] for e in j["transcript"]] == (
        ["request"] + ["commit"] * 3 + ["round1"] + ["shares"] * 3 + ["round2"] + ["confirm"] * 3
        + ["package"] + ["sign"] * 3 + ["done"])
    assert j["next"] == "done"


def test_status_transcript_of_reply_is_usage_error(cer):
    d = cer["dir"]
    code, out, err = ct("ceremony", "status", "--transcript", d / "s0-alice.ctm")
    assert (code, out) == (64, "")
    assert err.splitlines() == [
        "error: a transcript is kept in the coordinator's journal, not in replies",
        "hint: use the coordinator's latest message (beside its journal) or the --transcript file of the last collect"]


# ---------------------------------------------------------------- rotation and dealer on the command line

def test_rotation_from_the_command_line(cer, monkeypatch, tmp_path):
    """carol removed, dave added: the release epoch 1 signed is kept (--release), alice refuses a rotation that
    drops it; carol (outside the old signing set) may confirm; the record reaches every home, which retires
    its epoch-1 share; a signing request needs the whole chain from the root."""
    d = cer["dir"]
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("CT_HOME", str(tmp_path / "coordinator"))
    for n in NAMES:
        shutil.copytree(d / "h" / n, f"h/{n}")
    ok("--home", "h/dave", "keygen", "--id", "dave")
    rotate = ["ceremony", "rotate", "--group", d / "keyholders.json", "--remove", "carol",
              "--add", "h/dave/keys/dave.pub", "--threshold", "3"]
    # alice signed app 1.0 with epoch 1: a rotation that leaves it out is refused by her home
    opened = ok(*rotate, "-o", "dropped.ctm").splitlines()
    assert "      carol only keeps it: 'ct ceremony step dropped.ctm' (nothing to answer in this round; a later message " \
        "names it)" in opened
    code, out, err = ct("--home", "h/alice", "ceremony", "step", "dropped.ctm", "-o", "x.ctm", "--yes")
    statement = hashlib.sha256(_statement(d / "app-signed.ctp")).hexdigest()
    assert (code, out) == (11, "")
    assert err.splitlines() == [
        f"error: 'alice' signed release app 1.0 (statement sha256 {statement}) with epoch 1, which this rotation's "
        "closed_releases leaves out",
        "hint: verifiers that know epoch 2 would refuse it: the coordinator must open the rotation again with it "
        "('ct ceremony rotate ... --release BUNDLE' or --releases FILE); this home's list is "
        f"{os.path.abspath('h/alice')}/signed.log"]
    code, out, err = ct("--json", *rotate, "--release", d / "app-signed.ctp", "-o", "t0.ctm")
    assert (code, err) == (0, "")
    j = json.loads(out)
    assert (j["kind"], j["round"], j["who"], j["need"]) == ("rotate", "request", ["alice", "bob", "dave"], 3)
    req = msg_of("t0.ctm")
    assert req.payload["template"]["closed_releases"] == [statement]
    assert req.payload["old_signers"] == ["alice", "bob"]
    code, out, err = ct("--home", "h/alice", "ceremony", "step", "t0.ctm", "-o", "t0-alice.ctm", "--yes")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[1] == "rotation of keyholder set 'coop': epoch 1 -> epoch 2: removes carol, adds dave, threshold 2 -> 3"
    rec1 = KeyholderSet.from_bytes((d / "keyholders.json").read_bytes())
    for want in [f"  previous: epoch 1, fingerprint {rec1.fingerprint.full_hex}",
                 "  closed_releases: 1 release(s) of epoch 1 stay valid; verifiers that know epoch 2 refuse any other "
                 "release of epoch 1",
                 f"    {statement}",
                 "  epoch 1 members signing this record with its group key: alice, bob; may confirm: carol",
                 "  this home signed 1 release(s) with epoch 1: every one is in closed_releases"]:
        assert want in lines, (want, lines)
    new, both = ["alice", "bob", "dave"], ["alice", "bob", "carol", "dave"]
    for i, who in enumerate([new, new, both, new]):
        for n in who:
            if (i, n) != (0, "alice"):
                ok("--home", f"h/{n}", "ceremony", "step", f"t{i}.ctm", "-o", f"t{i}-{n}.ctm", "--yes")
        if i < 2:   # carol (outgoing, optional) keeps the first two messages: the confirm round names them
            kept = ok("--home", "h/carol", "ceremony", "step", f"t{i}.ctm").splitlines()
            assert kept[-1] == (f"kept the {msg_of(f't{i}.ctm').round} message: nothing for 'carol' to answer in "
                                "this round; step the next message when it comes")
        if i == 2:
            j = json.loads(ok("--json", "ceremony", "status", "t2.ctm"))
            assert (j["who"], j["need"], j["optional"]) == (new, 3, ["carol"])
            assert ok("ceremony", "status", "t2.ctm").splitlines()[-1] == (
                "  optional: carol (outgoing members who do not sign; their confirmation checks the closed releases)")
        if i < 3:
            ok("--json", "ceremony", "collect", f"t{i}.ctm", *[f"t{i}-{n}.ctm" for n in who], "-o", f"t{i + 1}.ctm")
    out = ok("ceremony", "collect", "t3.ctm", *[f"t3-{n}.ctm" for n in new], "-o", "epoch2.json")
    rec2 = KeyholderSet.from_bytes(open("epoch2.json", "rb").read())
    assert (rec2.epoch, rec2.threshold, [m.id for m in rec2.members], rec2.closed_releases) == \
        (2, 3, new, (statement,))
    assert out.splitlines() == [
        f"wrote epoch2.json: {rec2.describe()}, 3 of 3: removes carol, adds dave, threshold 2 -> 3",
        f"  fingerprint {rec2.fingerprint.hex}  {rec2.fingerprint.words}",
        "  closes epoch 1: the 1 release(s) in closed_releases stay valid; verifiers that know epoch 2 refuse every "
        "other release signed by epoch 1",
        "  keyholders: each runs 'ct ceremony step epoch2.json': the home checks it is the record it confirmed and "
        "keeps it, retiring its epoch-1 shares",
        "  verifiers: move trust forward now, after comparing the words: 'ct policy add-checkpoint epoch2.json "
        "--policy POLICY.json' (a verifier also learns it from the chain of any bundle epoch 2 signs)",
        "  new releases: 'ct ceremony sign BUNDLE --group epoch2.json' with the older records (or this home's stored "
        "ones): bundles carry the chain from the root"]
    # the record reaches the homes: each keeps it and retires its share of epoch 1
    for n in both:
        out = ok("--home", f"h/{n}", "ceremony", "step", "epoch2.json")
        lines = out.splitlines()
        if n == "dave":
            assert lines[0] == f"kept {rec2.describe()} in this home (records new here: epoch 2)"
            assert len(lines) == 2
        else:
            assert lines == [f"kept {rec2.describe()} in this home (records new here: epoch 2)",
                             f"  fingerprint {rec2.fingerprint.hex}  {rec2.fingerprint.words}",
                             f"  retired a share: keyholder set 'coop' epoch 1 was superseded by epoch 2 "
                             f"(fingerprint {rec2.fingerprint.hex})"]
    assert ok("--home", "h/bob", "ceremony", "step", "epoch2.json").splitlines()[0] == \
        f"this home already keeps {rec2.describe()}"
    # a record nobody here confirmed and that follows nothing this home keeps is refused
    code, out, err = ct("--home", "h/nobody", "ceremony", "step", "epoch2.json")
    assert (code, out) == (11, "")
    assert err.splitlines()[0] == (f"error: epoch2.json is {rec2.describe()}, which this home did not confirm in a "
                                   "ceremony and which does not follow a record it keeps")
    # signing needs the chain from the root: the newest record alone is refused ...
    code, out, err = ct("ceremony", "sign", d / "app.ctp", "--group", "epoch2.json", "--no-stock", "-o", "u0.ctm")
    assert (code, out) == (21, "")
    assert err.splitlines() == [
        f"error: the chain of {rec2.describe()} from its root is incomplete: no record of epoch 1",
        "hint: verifiers pinned to the root need every record: pass each one with --group, or keep them in this "
        "home (a verified bundle that carries them, or 'ct ceremony step RECORD')"]
    # ... and completed from a home that keeps the older records
    ok("--home", "h/alice", "ceremony", "sign", d / "app.ctp", "--group", "epoch2.json", "--no-stock", "-o", "u0.ctm")
    # the request names the chain from the root by fingerprint; the coordinator's journal holds the records
    assert msg_of("u0.ctm").payload["records"] == [rec1.fingerprint.full_hex, rec2.fingerprint.full_hex]
    for i in range(2):
        for n in new:
            ok("--home", f"h/{n}", "ceremony", "step", f"u{i}.ctm", "-o", f"u{i}-{n}.ctm", "--yes")
        extra = ["--bundle", d / "app.ctp"] if i == 1 else []
        ok("ceremony", "collect", f"u{i}.ctm", *[f"u{i}-{n}.ctm" for n in new],
           "-o", "u1.ctm" if i == 0 else "signed2.ctp", *extra)
    code, out, err = ct("verify", "signed2.ctp", "--policy", d / "policy.json")
    assert (code, err) == (0, "")
    assert any(line.startswith("  chain       epoch 1 (pinned) -> epoch 2, 2 record(s)") for line in out.splitlines())
    # carol, removed, cannot answer epoch 2's signing request
    code, out, err = ct("--home", "h/carol", "ceremony", "step", "u0.ctm", "-o", "u0-carol.ctm", "--yes")
    assert (code, out) == (11, "")
    assert err.splitlines() == ["error: none of this home's keys takes part in this ceremony",
                                "hint: participants: alice, bob, dave; use the right --home"]
    assert not os.path.exists("u0-carol.ctm")
    # nor sign with epoch 1 any more: her home knows epoch 2
    ok("ceremony", "sign", d / "app.ctp", "--group", d / "keyholders.json", "--no-stock", "-o", "v0.ctm")
    code, out, err = ct("--home", "h/carol", "ceremony", "step", "v0.ctm", "-o", "v0-carol.ctm", "--yes")
    assert (code, out) == (11, "")
    assert err.splitlines() == [
        "error: this home knows epoch 2 of 'coop': epoch 1 is closed and signs no more releases",
        "hint: sign with the current keyholder set (epoch 2); a release epoch 1 signed now would be refused by "
        "every verifier that knows the rotation"]


def _statement(bundle_path) -> bytes:
    from cerro_torre.ceremony import bundle
    from cerro_torre.ceremony.statement import Envelope

    return Envelope.from_bytes(bundle.read_parts(str(bundle_path)).signature_members[bundle.ENVELOPE]).payload


def test_dealer_from_the_command_line(cer, monkeypatch, tmp_path):
    d = cer["dir"]
    monkeypatch.chdir(tmp_path)
    code, out, err = ct("ceremony", "keygen", "--dealer", "--threshold", "2", "--member", d / "pub/alice.pub",
                        "--member", d / "pub/bob.pub", "-o", "x0.ctm")
    assert code == 0
    assert err == ("warning: trusted-dealer mode: this machine generates every share and sees the group's "
                   "secret key; use it for tests and small groups only\n")
    assert "next: each of alice, bob runs 'ct ceremony step x0.ctm -o REPLY'" in out.splitlines()
    for i in range(2):
        for n in ["alice", "bob"]:
            code, so, se = ct("--home", d / "h" / n, "ceremony", "step", f"x{i}.ctm", "-o", f"x{i}-{n}.ctm", "--yes")
            assert code == 0, se
            if i == 0:
                assert "  WARNING: trusted-dealer mode: the coordinator generated every share and saw the key" \
                    in so.splitlines()
        ok("ceremony", "collect", f"x{i}.ctm", f"x{i}-alice.ctm", f"x{i}-bob.ctm",
           "-o", "x1.ctm" if i == 0 else "dealt.json")
    assert msg_of("x1.ctm").round == "package"
    with open("dealt.json", "rb") as f:
        rec = KeyholderSet.from_bytes(f.read())
    assert (rec.epoch, rec.threshold, [m.id for m in rec.members]) == (1, 2, ["alice", "bob"])


def test_json_errors_of_ceremony_commands(cer, tmp_path):
    """Every --json error is the JSON error object on stdout (issue 13), ceremonies included."""
    d = cer["dir"]
    code, out, err = ct("--json", "--home", d / "h" / "alice", "ceremony", "step", d / "s0.ctm",
                        "-o", tmp_path / "again.ctm", "--yes")
    assert code == 11
    doc = json.loads(out)
    assert (doc["ok"], doc["exit_code"]) == (False, 11)
    assert doc["error"] == f"'alice' already answered this request message of ceremony {msg_of(d / 's0.ctm').ceremony}"
    assert err.splitlines()[-2:] == [f"error: {doc['error']}", f"hint: {doc['hints'][0]}"]
    code, out, _ = ct("--json", "ceremony", "collect", d / "s2.ctm", d / "s2-alice.ctm", d / "s2-carol.ctm",
                      "-o", tmp_path / "signed.ctp")
    assert code == 64 and json.loads(out) == {
        "ok": False, "exit_code": 64, "error": "the last signing collect needs the bundle",
        "hints": ["add --bundle BUNDLE.ctp (the one 'ct ceremony sign' opened)"]}
