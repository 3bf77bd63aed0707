"""Issue 12, the ceremonies that keep the group key, end to end through `ct` in process (one home per keyholder,
every message a file, and one round of each ceremony carried only as QR PNG frames read back by zbar):

* a 2-of-3 set reshared with `ct ceremony rotate --keep-key` (bob removed, dave and erin added, k = 3) keeps its
  group key; a release of the new set verifies with `ct verify` against the policy pinning the old root, and with
  stock signify-openbsd using the public key exported from a release signed before the reshare;
* `ct ceremony repair`: a lost share restored by three helpers signs again;
* `ct ceremony refresh`: new shares of the same key, old shares useless (an old share mixed with new ones makes
  no signature) and gone from every home;
* the approval screens show every field and what changes ("removes bob, adds dave, erin, threshold 2 -> 3,
  group key kept"); status, transcripts."""

from __future__ import annotations

import glob
import hashlib
import json
import os
import shutil
import subprocess

import pytest
from test_ceremony_cli import ENV, ct, msg_of, ok

from cerro_torre.ceremony.keyholder import Keyholder
from cerro_torre.governance.keyholders import KeyholderSet
from cerro_torre.keys.keyfile import KDFParams
from cerro_torre.suites import frost

PASS = ENV["CT_PASSPHRASE"].encode()
PEOPLE = ["alice", "bob", "carol", "dave", "erin"]


def record(path) -> KeyholderSet:
    with open(path, "rb") as f:
        return KeyholderSet.from_bytes(f.read())


def holder(d, name: str) -> Keyholder:
    return Keyholder(str(d / "h" / name), params=KDFParams(1, 256, 1), allow_weak=True)


def by_qr(path: str) -> str:
    """Carry a file across as QR PNG frames only (real zbar): encode, drop the file, decode the frames in
    reverse order; returns the decoded file's name."""
    frames = f"qr-{os.path.basename(path)}"
    ok("qr", "encode", path, "-o", frames)
    pngs = sorted(glob.glob(f"{frames}/*.png"))
    assert len(pngs) >= 1
    out = path.replace(".ctm", ".qr.ctm")
    ok("qr", "decode", *reversed(pngs), "-o", out)
    return out


def run(prefix: str, rounds: list[tuple[list[str], list[str]]], end: str, extra=(), qr=()) -> dict:
    """Step and collect a ceremony opened as ``{prefix}0.ctm``: per round, who answers and who only keeps it;
    the last collect writes ``end``.  The messages and replies of the rounds in ``qr`` cross as QR frames only.
    Returns what each step printed."""
    shown = {}
    for i, (answer, keep) in enumerate(rounds):
        m = f"{prefix}{i}.ctm"
        seen = by_qr(m) if i in qr else m
        for n in keep:
            shown[(i, n)] = ok("--home", f"h/{n}", "ceremony", "step", seen)
        replies = []
        for n in answer:
            shown[(i, n)] = ok("--home", f"h/{n}", "ceremony", "step", seen, "-o", f"{prefix}{i}-{n}.ctm", "--yes")
            replies.append(by_qr(f"{prefix}{i}-{n}.ctm") if i in qr else f"{prefix}{i}-{n}.ctm")
        last = i == len(rounds) - 1
        shown[("collect", i)] = ok("ceremony", "collect", m, *replies,
                                   "-o", end if last else f"{prefix}{i + 1}.ctm", *(extra if last else ()))
    return shown


def sign(bundle: str, chain: list[str], signers: list[str], out: str, prefix: str) -> None:
    ok("ceremony", "sign", bundle, *sum((["--group", g] for g in chain), []),
       *sum((["--signer", s] for s in signers), []), "-o", f"{prefix}0.ctm")
    run(prefix, [(signers, [])] * 3, out, ("--bundle", bundle))


@pytest.fixture(scope="module")
def kk(tmp_path_factory):
    mp = pytest.MonkeyPatch()
    for k, v in ENV.items():
        mp.setenv(k, v)
    mp.delenv("CT_HOME", raising=False)
    d = tmp_path_factory.mktemp("keepkey")
    mp.chdir(d)
    mp.setenv("CT_HOME", str(d / "coordinator"))
    try:
        yield _story(d)
    finally:
        mp.undo()


def _story(d) -> dict:
    w: dict = {"dir": d}
    os.makedirs("pub")
    for n in PEOPLE:
        ok("--home", f"h/{n}", "keygen", "--id", n)
        shutil.copy(f"h/{n}/keys/{n}.pub", f"pub/{n}.pub")
    # epoch 1: alice, bob, carol, 2 of 3 (DKG)
    ok("ceremony", "keygen", "--threshold", "2", "--name", "coop", *sum((["--member", f"pub/{n}.pub"]
                                                                          for n in ["alice", "bob", "carol"]), []),
       "-o", "k0.ctm")
    run("k", [(["alice", "bob", "carol"], [])] * 4, "epoch1.json")
    for n in ["alice", "bob", "carol"]:
        ok("--home", f"h/{n}", "ceremony", "step", "epoch1.json")
    ok("policy", "init", "--root", "epoch1.json", "--policy", "policy.json")
    # a release of epoch 1, and the signify public key exported from it (what users pinned)
    with open("app.txt", "wb") as f:
        f.write(b"release one\n")
    ok("pack", "app.txt", "-o", "app1.ctp", "--name", "app", "--version", "1.0")
    sign("app1.ctp", ["epoch1.json"], ["alice", "carol"], "app1-signed.ctp", "s")
    ok("signature", "export", "app1-signed.ctp", "--format", "signify", "-o", "before", "--policy", "policy.json")
    # epoch 2: keep-key rotation: bob out, dave and erin in, k 2 -> 3
    w["open_rotate"] = ok("ceremony", "rotate", "--group", "epoch1.json", "--remove", "bob", "--add", "pub/dave.pub",
                          "--add", "pub/erin.pub", "--threshold", "3", "--keep-key", "--release", "app1-signed.ctp",
                          "-o", "t0.ctm")
    new = ["alice", "carol", "dave", "erin"]
    w["rotate"] = run("t", [(["alice", "carol"], ["bob", "dave", "erin"]), (new + ["bob"], []), (new, [])],
                      "epoch2.json", ("--transcript", "rotate.ctm"), qr={0})
    w["epoch1_shares"] = {n: holder(d, n).load_share(record("epoch1.json"), n, PASS) for n in ["alice", "bob"]}
    w["keep2"] = {n: ok("--home", f"h/{n}", "ceremony", "step", "epoch2.json") for n in PEOPLE}
    # a release of epoch 2 (dave, erin and alice sign)
    with open("app.txt", "wb") as f:
        f.write(b"release two\n")
    ok("pack", "app.txt", "-o", "app2.ctp", "--name", "app", "--version", "2.0")
    sign("app2.ctp", ["epoch1.json", "epoch2.json"], ["alice", "dave", "erin"], "app2-signed.ctp", "u")
    ok("signature", "export", "app2-signed.ctp", "--format", "signify", "-o", "after", "--policy", "policy.json")
    # dave loses his share (the file is gone; his identity key is not): three helpers restore it
    rec2 = record("epoch2.json")
    lost = glob.glob(f"h/dave/shares/{rec2.fingerprint.full_hex}.*")
    assert len(lost) == 2
    for p in lost:
        os.unlink(p)
    w["open_repair"] = ok("ceremony", "repair", "--group", "epoch2.json", "--member", "dave", "--helper", "alice",
                          "--helper", "carol", "--helper", "erin", "-o", "p0.ctm")
    helpers = ["alice", "carol", "erin"]
    w["repair"] = run("p", [(helpers, ["dave"]), (helpers, ["dave"]), (["dave"], [])], "repaired.ctm",
                      ("--transcript", "repair.ctm"), qr={1})
    with open("app.txt", "wb") as f:
        f.write(b"release two point one\n")
    ok("pack", "app.txt", "-o", "app21.ctp", "--name", "app", "--version", "2.1")
    sign("app21.ctp", ["epoch1.json", "epoch2.json"], ["carol", "dave", "erin"], "app21-signed.ctp", "v")
    # epoch 3: refresh (every member deals; same members, threshold and key)
    w["open_refresh"] = ok("ceremony", "refresh", "--group", "epoch2.json", "--release", "app2-signed.ctp",
                           "--release", "app21-signed.ctp", "-o", "f0.ctm")
    w["refresh"] = run("f", [(new, [])] * 3, "epoch3.json", qr={0})
    w["epoch2_shares"] = {n: holder(d, n).load_share(rec2, n, PASS) for n in new}
    w["keep3"] = {n: ok("--home", f"h/{n}", "ceremony", "step", "epoch3.json") for n in new}
    with open("app.txt", "wb") as f:
        f.write(b"release three\n")
    ok("pack", "app.txt", "-o", "app3.ctp", "--name", "app", "--version", "3.0")
    sign("app3.ctp", ["epoch1.json", "epoch2.json", "epoch3.json"], ["alice", "dave", "erin"], "app3-signed.ctp",
         "x")
    return w


# ---------------------------------------------------------------- keep-key rotation

def test_keep_key_rotation_keeps_the_group_key(kk):
    rec1, rec2 = record("epoch1.json"), record("epoch2.json")
    assert rec2.group_public_key == rec1.group_public_key
    assert (rec2.epoch, rec2.threshold, [m.id for m in rec2.members], rec2.previous) == \
        (2, 3, ["alice", "carol", "dave", "erin"], (1, rec1.fingerprint.full_hex))
    # new verification shares, signed by epoch 1 (k = 2) and by itself (k = 3)
    assert {m.verification_share for m in rec2.members}.isdisjoint({m.verification_share for m in rec1.members})
    code, out, err = ct("verify", "app2-signed.ctp", "--policy", "policy.json")
    assert (code, err) == (0, "")
    assert any(x.startswith("  chain       epoch 1 (pinned) -> epoch 2, 2 record(s)") for x in out.splitlines())


def test_stock_signify_verifies_the_new_set_with_the_key_exported_before(kk):
    assert open("before/app1-signed.signify.pub").read() == open("after/app2-signed.signify.pub").read()
    p = subprocess.run(["signify-openbsd", "-V", "-p", "before/app1-signed.signify.pub",
                        "-x", "after/app2-signed.statement.json.sig", "-m", "after/app2-signed.statement.json"],
                       capture_output=True, text=True)
    assert (p.returncode, p.stdout.strip()) == (0, "Signature Verified"), p.stderr
    # one byte of the statement changed: refused
    with open("after/app2-signed.statement.json", "rb") as f:
        st = bytearray(f.read())
    st[-2] ^= 1
    with open("tampered.json", "wb") as f:
        f.write(bytes(st))
    p = subprocess.run(["signify-openbsd", "-V", "-p", "before/app1-signed.signify.pub",
                        "-x", "after/app2-signed.statement.json.sig", "-m", "tampered.json"],
                       capture_output=True, text=True)
    assert p.returncode == 1 and "signature verification failed" in p.stderr


def test_opening_a_keep_key_rotation(kk):
    lines = kk["open_rotate"].splitlines()
    t0 = msg_of("t0.ctm")
    assert lines[0] == f"wrote t0.ctm: rotate ceremony {t0.ceremony}, round request"
    assert lines[2:] == [
        "next: each of alice, carol runs 'ct ceremony step t0.ctm -o REPLY'",
        "      and compares the fingerprint words above with yours",
        "      bob, dave, erin only keep it: 'ct ceremony step t0.ctm' (nothing to answer in this round; a later "
        "message names it)",
        f"      the coordinator's journal: {kk['dir']}/{t0.ceremony}.journal"]
    rec1 = record("epoch1.json")
    vs = {m.id: m.verification_share for m in rec1.members}
    import base64

    assert t0.payload["kept_key"] == {
        "group_public_key": base64.b64encode(rec1.group_public_key).decode(), "threshold": 2,
        "verifying_shares": {n: base64.b64encode(vs[n]).decode() for n in ["alice", "carol"]}}
    assert [msg_of(f"t{i}.ctm").round for i in range(3)] == ["request", "round1", "package"]
    assert [msg_of(f"t0-{n}.ctm").round for n in ["alice", "carol"]] == ["deal", "deal"]
    # status: who confirms round1 (bob, removed, may), and the transcript of the whole ceremony
    import json

    j = json.loads(ok("--json", "ceremony", "status", "t1.ctm"))
    assert (j["round"], j["who"], j["need"], j["optional"], j["answered_previous_round"]) == \
        ("round1", ["alice", "carol", "dave", "erin"], 4, ["bob"], ["alice", "carol"])
    out = ok("ceremony", "status", "--transcript", "rotate.ctm").splitlines()
    assert "transcript (15 messages, every signature and link verified):" in out
    rounds = [x.split()[1] for x in out if x[:5].strip().isdigit()]
    assert rounds == ["request", "deal", "deal", "round1", *["confirm"] * 5, "package", *["sign"] * 4, "done"]


def test_approval_shows_every_field_and_what_changes(kk):
    rec1 = record("epoch1.json")
    t = msg_of("t0.ctm").payload["template"]
    gpk = __import__("base64").b64encode(rec1.group_public_key).decode()
    statement = hashlib.sha256(_statement("app1-signed.ctp")).hexdigest()
    alice = kk["rotate"][(0, "alice")].splitlines()
    assert alice[:2] == [f"ceremony {msg_of('t0.ctm').ceremony} (rotate), round request",
                         "rotation of keyholder set 'coop': epoch 1 -> epoch 2: removes bob, adds dave, erin, "
                         "threshold 2 -> 3, group key kept"]
    body = alice[2:]
    assert body[:3] == ["  suite CT-SIG-02, threshold 3 of 4", f"  created {t['created']}, expires {t['expires']}",
                        "  members (index, id, identity key fingerprint):"]
    assert [x.split()[1] for x in body[3:7]] == ["alice", "carol", "dave", "erin"]
    assert body[7:16] == [
        f"  previous: epoch 1, fingerprint {rec1.fingerprint.full_hex}",
        f"            {rec1.fingerprint.words}; 2 of 3: alice, bob, carol",
        "  closed_releases: 1 release(s) of epoch 1 stay valid; verifiers that know epoch 2 refuse any other release "
        "of epoch 1",
        f"    {statement}",
        "  epoch 1 members signing this record with its group key: alice, carol; may confirm: bob",
        f"  group key kept: {gpk} (keyid {rec1.group_keyid}), dealt anew by alice, carol: stock-tool pins survive",
        "  honest limit: 2 shares of epoch 1 still make this key; their homes delete them when they keep the new "
        "record (use a new key when anyone may be compromised)",
        "  this home signed 1 release(s) with epoch 1: every one is in closed_releases",
        "  you are 'alice' (new member and member of epoch 1); this step: deal your share of epoch 1 anew, sealed "
        "to each member of the new set"]
    # dave, who joins, does not keep epoch 1's record: he sees what the request says of it
    dave = kk["rotate"][(0, "dave")].splitlines()
    assert "            (this home does not keep it: you join the set with this rotation); members: alice, bob, " \
           "carol" in dave
    assert dave[-1] == ("kept the request message: nothing for 'dave' to answer in this round; step the next "
                        "message when it comes")
    # at round 1 everyone sees the record to sign, with the group key kept from epoch 1
    rec2 = record("epoch2.json")
    erin = kk["rotate"][(1, "erin")].splitlines()
    assert f"  group key {gpk} (keyid {rec1.group_keyid}, kept from epoch 1)" in erin
    assert f"  the record to sign: fingerprint {rec2.fingerprint.full_hex}" in erin
    assert ("  you are 'erin' (new member); this step: check every dealing, derive your new share, check the group "
            "key is kept and commit to signing the record") in erin
    bob = kk["rotate"][(1, "bob")].splitlines()
    assert "  you are 'bob' (member of epoch 1); this step: confirm the record and its closed releases (you do not " \
           "sign it)" in bob


def test_the_record_reaches_the_homes_which_delete_the_old_shares(kk):
    rec1, rec2 = record("epoch1.json"), record("epoch2.json")
    lines = kk["rotate"][("collect", 2)].splitlines()
    assert lines[0] == (f"wrote epoch2.json: {rec2.describe()}, 3 of 4: removes bob, adds dave, erin, threshold "
                        "2 -> 3, group key kept")
    assert ("  keyholders: each runs 'ct ceremony step epoch2.json': the home checks it is the record it confirmed "
            "and keeps it, deleting its epoch-1 shares (the group key is kept: they would still make it)") in lines
    assert (f"  group key kept (keyid {rec2.group_keyid}): stock-tool public keys exported before stay valid; every "
            "member of epoch 1, removed ones too, must keep this record so that their homes delete the old shares") \
        in lines
    why = (f"keyholder set 'coop' epoch 1 was superseded by epoch 2 (fingerprint {rec2.fingerprint.hex}), which "
           "kept the group key")
    for n in ["alice", "bob", "carol"]:
        assert kk["keep2"][n].splitlines()[2:] == [f"  deleted a share: {why}"]
        assert not os.path.exists(f"h/{n}/shares/{rec1.fingerprint.full_hex}.share")
    # bob, removed, holds no share of the key any more; his home says why
    assert [(e.epoch, e.status, e.reason) for e in holder(kk["dir"], "bob").shares.list()] == [(1, "deleted", why)]


def test_an_old_share_no_longer_signs_through_ct(kk):
    """alice's home deleted her epoch-1 share; a signing request of epoch 1 is refused (epoch 1 is closed)."""
    ok("ceremony", "sign", "app2.ctp", "--group", "epoch1.json", "--signer", "alice", "--signer", "carol",
       "--no-stock", "-o", "old0.ctm")
    code, out, err = ct("--home", "h/alice", "ceremony", "step", "old0.ctm", "-o", "old0-alice.ctm", "--yes")
    assert (code, out) == (11, "")
    assert err.splitlines()[0] == "error: this home knows epoch 3 of 'coop': epoch 1 is closed and signs no more releases"


def frost_sign(kps: list, pkp: frost.PublicKeyPackage, message: bytes) -> bytes:
    nonces, comms = [], []
    for kp in kps:
        n, c = frost.commit(kp)
        nonces.append((n, kp))
        comms.append(c)
    comms.sort(key=lambda c: c.identifier)
    return frost.aggregate(message, comms, [frost.sign(message, comms, n, kp) for n, kp in nonces], pkp)


def test_the_honest_limit_old_shares_still_make_the_key(kk):
    """What --keep-key cannot do: k shares of epoch 1 kept by someone (bob, removed, with a stolen backup of
    alice's home from before the rotation) still make the group key.  Stock signify, which knows only the key,
    cannot tell their signature from the set's; `ct verify` of a CT-SIG-02 bundle still refuses it, because
    epoch 2's ML-DSA-87 threshold counts only its own members (bob is not one)."""
    from cerro_torre.ceremony import bundle, stockformats
    from cerro_torre.ceremony.statement import PAYLOAD_TYPE, pae
    from cerro_torre.suites.suite import Signature, keyid_of

    rec1, rec2 = record("epoch1.json"), record("epoch2.json")
    with open("app.txt", "wb") as f:
        f.write(b"not a release of the cooperative\n")
    ok("pack", "app.txt", "-o", "evil.ctp", "--name", "app", "--version", "6.6.6")
    statement = _statement("evil.ctp")
    old = [kk["epoch1_shares"]["alice"], kk["epoch1_shares"]["bob"]]
    pkp1 = frost.PublicKeyPackage(rec1.group_public_key, {m.index: m.verification_share for m in rec1.members},
                                  rec1.threshold)
    # stock signify, pinned to the key exported before the rotation: accepts it (the honest limit)
    sig = frost_sign(old, pkp1, statement)
    os.makedirs("evil", exist_ok=True)
    with open("evil/evil.statement.json", "wb") as f:
        f.write(statement)
    with open("evil/evil.statement.json.sig", "w") as f:
        f.write(stockformats.signify_signature_file(rec2.group_public_key, sig))
    p = subprocess.run(["signify-openbsd", "-V", "-p", "before/app1-signed.signify.pub",
                        "-x", "evil/evil.statement.json.sig", "-m", "evil/evil.statement.json"],
                       capture_output=True, text=True)
    assert (p.returncode, p.stdout.strip()) == (0, "Signature Verified")
    # ct verify (CT-SIG-02): the group signature is valid under epoch 2's key, but bob's ML-DSA-87 signature does
    # not count for epoch 2 and alice's alone is 1 of 3
    msg = pae(PAYLOAD_TYPE, statement)
    sigs = [Signature("ed25519", keyid_of(rec2.group_public_key), frost_sign(old, pkp1, msg))]
    for n in ["alice", "bob"]:
        key = holder(kk["dir"], n).home.load_private(n, PASS)
        sigs += [s for s in key.sign(msg) if s.alg == "ml-dsa-87"]
    bundle.add_signatures("evil.ctp", "evil-signed.ctp", sigs, records=[rec1, rec2])
    code, out, err = ct("verify", "evil-signed.ctp", "--policy", "policy.json")
    assert (code, out) == (2, "")
    bob_mldsa = next(m for m in rec1.members if m.id == "bob").identity.keyid("ml-dsa-87")
    assert err.splitlines()[0] == (f"error: evil-signed.ctp: release signatures by {rec2.describe()}: ml-dsa-87 1 of 3 "
                                   f"(keys not in the set: {bob_mldsa})")


# ---------------------------------------------------------------- repair

def test_a_repaired_share_signs(kk):
    rec2 = record("epoch2.json")
    lines = kk["repair"][("collect", 2)].splitlines()
    assert lines[:3] == ["wrote repaired.ctm: the repair ceremony is done",
                         f"  'dave' has its share of {rec2.describe()} back: it matches its verification share in the "
                         "record (no new record)",
                         "  dave signs again from the home that answered; the helpers' shares did not change"]
    assert msg_of("repaired.ctm").round == "done"
    code, out, err = ct("verify", "app21-signed.ctp", "--policy", "policy.json")
    assert (code, err) == (0, "")


def test_a_home_restored_from_an_old_backup_keeps_a_record_it_signed(kk, tmp_path):
    """The lost-share case repair is for: a home restored from a backup made before the keygen has the identity
    key but neither the record nor the ceremony; it keeps a record carrying its own identity key's signature
    (it signed it), and still refuses one it did not sign."""
    restored = tmp_path / "dave-restored"
    shutil.copytree("h/dave", restored)
    for sub in ("governance", "ceremonies", "shares"):
        shutil.rmtree(restored / sub)
    out = ok("--home", restored, "ceremony", "step", "epoch3.json")
    assert out.splitlines()[0] == f"kept {record('epoch3.json').describe()} in this home (records new here: epoch 3)"
    shutil.copytree("h/bob", tmp_path / "bob-restored")
    shutil.rmtree(tmp_path / "bob-restored" / "governance")
    shutil.rmtree(tmp_path / "bob-restored" / "ceremonies")
    code, out, err = ct("--home", tmp_path / "bob-restored", "ceremony", "step", "epoch3.json")
    assert (code, err.splitlines()[0]) == (11, f"error: epoch3.json is {record('epoch3.json').describe()}, which this "
                                               "home did not confirm in a ceremony and which does not follow a record "
                                               "it keeps")


def test_repair_approval_and_status(kk):
    rec2 = record("epoch2.json")
    dave_vs = next(m.verification_share for m in rec2.members if m.id == "dave")
    import base64

    alice = kk["repair"][(0, "alice")].splitlines()
    assert alice[1:8] == [
        f"repair: restore the share of 'dave' (index 3) in {rec2.describe()}",
        f"  the record: fingerprint {rec2.fingerprint.full_hex}",
        f"              {rec2.fingerprint.words}; 3 of 4: alice, carol, dave, erin",
        "  helpers: alice, carol, erin (3; the threshold is 3); no one learns the share, the helpers' shares do not "
        "change",
        f"  dave's verification share in the record: {base64.b64encode(dave_vs).decode()}",
        "  no new record: the restored share must match that verification share, or it is refused",
        "  you are 'alice' (helper); this step: split your share into deltas, one sealed to each other helper "
        "(round 1)"]
    assert ("  you are 'dave' (the member whose share is restored); this step: check every helper's part, restore "
            "your share and check it against the record") in kk["repair"][(2, "dave")].splitlines()
    lines = kk["open_repair"].splitlines()
    assert lines[2:5] == ["next: each of alice, carol, erin runs 'ct ceremony step p0.ctm -o REPLY'",
                          "      and compares the fingerprint words above with yours",
                          "      dave only keeps it: 'ct ceremony step p0.ctm' (nothing to answer in this round; a later "
                          "message names it)"]
    j = json.loads(ok("--json", "ceremony", "status", "p2.ctm"))
    assert (j["kind"], j["round"], j["who"], j["need"], j["answered_previous_round"]) == \
        ("repair", "round2", ["dave"], 1, ["alice", "carol", "erin"])
    out = ok("ceremony", "status", "--transcript", "repair.ctm").splitlines()
    assert out[-1].startswith("  head ") and "transcript (11 messages, every signature and link verified):" in out


# ---------------------------------------------------------------- refresh

def test_refresh_keeps_members_threshold_and_key(kk):
    rec2, rec3 = record("epoch2.json"), record("epoch3.json")
    assert (rec3.epoch, rec3.threshold, rec3.group_public_key, [(m.id, m.index) for m in rec3.members]) == \
        (3, 3, rec2.group_public_key, [(m.id, m.index) for m in rec2.members])
    assert all(a.verification_share != b.verification_share for a, b in zip(rec2.members, rec3.members))
    assert kk["refresh"][(0, "dave")].splitlines()[1] == (
        "refresh of keyholder set 'coop': epoch 2 -> epoch 3: members and threshold unchanged, group key kept, new "
        "shares for every member")
    code, out, err = ct("verify", "app3-signed.ctp", "--policy", "policy.json")
    assert (code, err) == (0, "")


def test_refresh_leaves_old_shares_useless(kk):
    """An old (epoch-2) share mixed with new (epoch-3) ones makes no signature: the aggregate names it."""
    rec3 = record("epoch3.json")
    new = {n: holder(kk["dir"], n).load_share(rec3, n, PASS) for n in ["dave", "erin"]}
    old = kk["epoch2_shares"]["alice"]
    assert old.identifier == 1 and old.group_public_key == rec3.group_public_key
    msg = b"mixing shares of two epochs"
    nonces, comms = {}, []
    for kp in [old, new["dave"], new["erin"]]:
        n, c = frost.commit(kp)
        nonces[kp.identifier] = (n, kp)
        comms.append(c)
    shares = [frost.sign(msg, comms, n, kp) for n, kp in nonces.values()]
    pkp3 = frost.PublicKeyPackage(rec3.group_public_key, {m.index: m.verification_share for m in rec3.members},
                                  rec3.threshold)
    with pytest.raises(frost.InvalidSignatureShare) as e:
        frost.aggregate(msg, comms, shares, pkp3)
    assert e.value.identifiers == (1,)
    # with the same three new shares it signs
    nonces = {}
    comms = []
    fresh = {**new, "alice": holder(kk["dir"], "alice").load_share(rec3, "alice", PASS)}
    for kp in fresh.values():
        n, c = frost.commit(kp)
        nonces[kp.identifier] = (n, kp)
        comms.append(c)
    comms.sort(key=lambda c: c.identifier)
    shares = [frost.sign(msg, comms, n, kp) for n, kp in nonces.values()]
    assert frost.verify(rec3.group_public_key, msg, frost.aggregate(msg, comms, shares, pkp3))


def test_refresh_deletes_the_old_shares_in_every_home(kk):
    rec2, rec3 = record("epoch2.json"), record("epoch3.json")
    why = (f"keyholder set 'coop' epoch 2 was superseded by epoch 3 (fingerprint {rec3.fingerprint.hex}), which "
           "kept the group key")
    for n in ["alice", "carol", "dave", "erin"]:
        assert kk["keep3"][n].splitlines()[2:] == [f"  deleted a share: {why}"]
        shares = sorted(os.listdir(f"h/{n}/shares"))
        assert rec2.fingerprint.full_hex + ".share" not in shares
        assert rec3.fingerprint.full_hex + ".share" in shares
        assert [p for p in shares if p.endswith(".share")] == [rec3.fingerprint.full_hex + ".share"]


def _statement(bundle_path) -> bytes:
    from cerro_torre.ceremony import bundle
    from cerro_torre.ceremony.statement import Envelope

    return Envelope.from_bytes(bundle.read_parts(str(bundle_path)).signature_members[bundle.ENVELOPE]).payload


def test_scripts_of_a_refresh_and_a_repair(kk):
    """`ct ceremony script` of the refresh and the repair requests (their journals hold every later message, so
    every round's words are filled in)."""
    ok("ceremony", "script", "f0.ctm", "-o", "refresh.md")
    md = open("refresh.md").read().splitlines()
    rec2 = record("epoch2.json")
    assert md[0] == ("# Ceremony script: refresh of keyholder set 'coop', epoch 2 -> 3: members and threshold "
                     "unchanged, group key kept, new shares for every member")
    assert "- [ ] dave: `ct ceremony step f0.ctm -o f0-deal-dave.ctm`; the words shown match the coordinator's; " \
           "approve; carry `f0-deal-dave.ctm` back. Reply words: ______________________________" in md
    assert ("Coordinator: carry `f0-round1.ctm` to each keyholder below (file or `ct qr encode f0-round1.ctm -o DIR`); "
            f"its words: **{msg_of('f1.ctm').fingerprint.words}**") in md
    assert ("- [ ] Each of alice, carol, dave, erin: `ct ceremony step coop-epoch3.json`: the home checks it is the "
            "record it confirmed and keeps it, deleting its superseded share (the group key is kept); the words "
            "match") in md
    ok("ceremony", "script", "p0.ctm", "-o", "repair.md")
    md = open("repair.md").read().splitlines()
    assert md[0] == f"# Ceremony script: repair of dave's share in {rec2.describe()}"
    assert ("- [ ] dave: `ct ceremony step p0.ctm` (keeps it: nothing to answer in this round; the next ones name "
            "it); the words match") in md
    assert ("- [ ] Coordinator: `ct ceremony collect p2.ctm p2-restored-dave.ctm -o p-done.ctm --transcript "
            "p-transcript.ctm`: dave's share matches its verification share in the record (no new record)") \
        not in md      # file names follow the message given (p0.ctm), not the ones this test chose
    assert ("- [ ] Coordinator: `ct ceremony collect p0-round2.ctm p0-restored-dave.ctm -o p0-done.ctm --transcript "
            "p0-transcript.ctm`: dave's share matches its verification share in the record (no new record)") in md
