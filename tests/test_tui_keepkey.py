"""Issue 12 in the TUI: the Coordinator screen opens a keep-key rotation (t, "keep group key: yes"), a refresh (e)
and the repair of a lost share (p), and collects the repair to its end; the Keyholder screen approves them on the
same screen as every ceremony, showing what changes ("removes bob, adds dave, erin, threshold 2 -> 3, group key
kept") and what the result is checked against.  Homes and the other rounds go through the CLI, to keep it short."""

from __future__ import annotations

import asyncio
import glob
import os
import shutil

from test_ceremony_cli import msg_of
from test_tui_ceremony import app_for, coordinator_round, env, keyholder_step  # noqa: F401 (env: autouse fixture)
from test_tui_support import PW, ct, fill, notifications, settle

from cerro_torre.governance.keyholders import KeyholderSet

PEOPLE = ("alice", "bob", "carol", "dave", "erin")


def cli(*argv) -> str:
    os.environ["CT_PASSPHRASE"] = PW
    try:
        code, out, err = ct(*[str(a) for a in argv])
    finally:
        del os.environ["CT_PASSPHRASE"]
    assert code == 0, (argv, err)
    return out


def home(n: str) -> str:
    return f"homes/{n}"


def step(n: str, m: str, reply: str | None = None) -> None:
    cli("--home", home(n), "ceremony", "step", m, *(["-o", reply, "--yes"] if reply else []))


async def coordinator_opens(tmp_path, key: str, values: dict[str, str]):
    app = app_for(tmp_path, "coordinator", "coordinator")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot, app)
        await pilot.press(key)
        await pilot.pause()
        await fill(pilot, app, values)
        await settle(pilot, app)
        return dict(app.screen.expected), notifications(app)


def test_keep_key_refresh_and_repair_through_the_tui(tmp_path):
    asyncio.run(story(tmp_path))


async def story(tmp_path):
    for n in PEOPLE:
        cli("--home", home(n), "keygen", "--id", n)
        shutil.copy(f"{home(n)}/keys/{n}.pub", f"{n}.pub")
    cli("ceremony", "keygen", "--threshold", "2", "--name", "coop", "--member", "alice.pub", "--member", "bob.pub",
        "--member", "carol.pub", "-o", "k0.ctm")
    three = ["alice", "bob", "carol"]
    for i in range(4):
        for n in three:
            step(n, f"k{i}.ctm", f"k{i}-{n}.ctm")
        cli("ceremony", "collect", f"k{i}.ctm", *[f"k{i}-{n}.ctm" for n in three],
            "-o", f"k{i + 1}.ctm" if i < 3 else "epoch1.json")
    for n in three:
        step(n, "epoch1.json")

    # ---- the Coordinator screen opens a keep-key rotation
    expected, said = await coordinator_opens(tmp_path, "t", {
        "group": "epoch1.json", "add": "dave.pub erin.pub", "remove": "bob", "threshold": "3", "keep_key": "yes",
        "output": "t0.ctm"})
    assert (expected.get("who"), expected.get("need")) == (["alice", "carol"], 2), said
    t0 = msg_of("t0.ctm")
    rec1 = KeyholderSet.from_bytes(open("epoch1.json", "rb").read())
    assert (t0.kind, t0.payload["kept_key"]["threshold"], t0.payload["old_signers"]) == ("rotate", 2,
                                                                                         ["alice", "carol"])
    # ---- the Keyholder screen approves the deal round, saying what changes
    await keyholder_step(tmp_path, "alice", "t0.ctm", "t0-alice.ctm", expect=(
        "rotation of keyholder set 'coop': epoch 1 -> epoch 2: removes bob, adds dave, erin, threshold 2 -> 3, "
        "group key kept",
        "dealt anew by alice, carol: stock-tool pins survive",
        "honest limit: 2 shares of epoch 1 still make this key",
        "this step: deal your share of epoch 1 anew, sealed to each member of the new set",
        f"the group key stays {rec1.group_public_key.hex()[:16]}",
        "and 2 of 3 signatures of epoch 1"))
    assert msg_of("t0-alice.ctm").round == "deal"
    # the rest of the rotation with the CLI
    step("carol", "t0.ctm", "t0-carol.ctm")
    for n in ("bob", "dave", "erin"):
        step(n, "t0.ctm")
    cli("ceremony", "collect", "t0.ctm", "t0-alice.ctm", "t0-carol.ctm", "-o", "t1.ctm")
    new = ["alice", "carol", "dave", "erin"]
    for i, who in ((1, new), (2, new)):
        for n in who:
            step(n, f"t{i}.ctm", f"t{i}-{n}.ctm")
        cli("ceremony", "collect", f"t{i}.ctm", *[f"t{i}-{n}.ctm" for n in who],
            "-o", f"t{i + 1}.ctm" if i < 2 else "epoch2.json")
    for n in PEOPLE:
        step(n, "epoch2.json")
    rec2 = KeyholderSet.from_bytes(open("epoch2.json", "rb").read())
    assert rec2.group_public_key == rec1.group_public_key

    # ---- the repair of erin's lost share, opened and finished on the Coordinator screen
    for p in glob.glob(f"{home('erin')}/shares/{rec2.fingerprint.full_hex}.*"):
        os.unlink(p)
    expected, said = await coordinator_opens(tmp_path, "p", {
        "group": "epoch2.json", "member": "erin", "helpers": "alice carol dave", "output": "p0.ctm"})
    assert (expected.get("who"), expected.get("need")) == (["alice", "carol", "dave"], 3), said
    helpers = ["alice", "carol", "dave"]
    await keyholder_step(tmp_path, "dave", "p0.ctm", "p0-dave.ctm", expect=(
        f"repair: restore the share of 'erin' (index 4) in {rec2.describe()}",
        "no new record: the restored share of 'erin' must match its verification share",
        "you are 'dave' (helper); this step: split your share into deltas"))
    for n in ("alice", "carol"):
        step(n, "p0.ctm", f"p0-{n}.ctm")
    step("erin", "p0.ctm")
    cli("ceremony", "collect", "p0.ctm", *[f"p0-{n}.ctm" for n in helpers], "-o", "p1.ctm")
    for n in helpers:
        step(n, "p1.ctm", f"p1-{n}.ctm")
    step("erin", "p1.ctm")
    cli("ceremony", "collect", "p1.ctm", *[f"p1-{n}.ctm" for n in helpers], "-o", "p2.ctm")
    await keyholder_step(tmp_path, "erin", "p2.ctm", "p2-erin.ctm", expect=(
        "you are 'erin' (the member whose share is restored); this step: check every helper's part, restore your "
        "share and check it against the record",))
    app = await coordinator_round(tmp_path, "p2.ctm", ["p2-erin.ctm"],
                                  {"output": "repair-done.ctm", "transcript": "repair-transcript.ctm"})
    assert msg_of("repair-done.ctm").round == "done"
    assert any("'erin' has its share of " in n for n in notifications(app)), notifications(app)
    assert os.path.exists(f"{home('erin')}/shares/{rec2.fingerprint.full_hex}.share")

    # ---- a refresh, opened on the Coordinator screen: every member deals
    expected, said = await coordinator_opens(tmp_path, "e", {"group": "epoch2.json", "output": "f0.ctm"})
    assert (expected.get("who"), expected.get("need")) == (new, 4), said
    f0 = msg_of("f0.ctm")
    assert (f0.kind, f0.payload["template"]["epoch"], f0.payload["template"]["closed_releases"]) == ("refresh", 3, [])
