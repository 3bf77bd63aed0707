"""Snapshot tests of every TUI screen at 80x24 (Textual pinned; pytest-textual-snapshot).

Everything on screen is deterministic: identity keys come from fixed seeds
(``IdentityKey.generate`` is patched), keyholder-set records and ceremony
requests carry fixed times and ids, paths are relative to the test's
directory, and no notification is open when the picture is taken.
Update after a deliberate change with ``pytest tests/test_tui_snapshots.py --snapshot-update``
and look at the SVGs in ``tests/__snapshots__/``.
"""

from __future__ import annotations

import datetime as dt

import pytest

from test_tui_support import PW, ct, det_key, det_record, deterministic_keys, fill, settle, write

from cerro_torre.tui.app import CTApp

CEREMONY_SIGN = "5e1f" * 8
CEREMONY_KEYGEN = "c0de" * 8


@pytest.fixture
def world(tmp_path, monkeypatch):
    monkeypatch.setenv("CT_TESTING", "1")
    monkeypatch.setenv("CT_TEST_ARGON2_MEMORY_KIB", "256")
    monkeypatch.setenv("CT_PASSPHRASE", PW)
    monkeypatch.delenv("CT_HOME", raising=False)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    deterministic_keys(monkeypatch)
    # the keyholder's clock, against which a keygen request's dates are checked: an hour after it was made
    monkeypatch.setattr("cerro_torre.ceremony.keyholder.now_utc",
                        lambda: dt.datetime(2026, 1, 1, 1, tzinfo=dt.timezone.utc))

    from cerro_torre.ceremony import bundle, keygen, signing
    from cerro_torre.ceremony.statement import Envelope

    home = "homes/alice"
    assert ct("--home", home, "keygen", "--id", "alice")[0] == 0
    write("bob.pub", det_key("bob").public().to_file_bytes())
    assert ct("--home", home, "key", "import", "bob.pub")[0] == 0
    r1 = det_record(["alice", "bob", "carol"], 2)
    r2 = det_record(["alice", "bob", "dave"], 2, epoch=2, previous=r1)
    write("governance/keyholders/epoch-1.json", r1.to_bytes())
    write("governance/keyholders/epoch-2.json", r2.to_bytes())
    assert ct("policy", "init", "--root", "governance/keyholders/epoch-1.json", "--policy",
              f"{home}/policy.json")[0] == 0
    write(f"{home}/shares/{r1.group_keyid}.share", b"")

    write("app.txt", b"hello from the snapshot test\n")
    plain = ("--no-sbom", "--no-provenance")
    assert ct("pack", "app.txt", "-o", "app.ctp", "--name", "app", "--version", "1.0", *plain)[0] == 0
    assert ct("--home", home, "pack", "app.txt", "-o", "app-alice.ctp", "--name", "app", "--version", "1.0",
              "--key", "alice", *plain)[0] == 0
    parts = bundle.read_parts("app.ctp")
    statement = Envelope.from_bytes(parts.signature_members[bundle.ENVELOPE]).payload
    # the request carries the record; an unsigned copy keeps its bytes (and fingerprint words) fixed
    unsigned = det_record(["alice", "bob", "carol"], 2, signed=False)
    req = signing.open_sign(statement, [unsigned], ["alice", "bob"], ceremony=CEREMONY_SIGN)
    write("sign-request.ctm", req.to_bytes())
    # the request names the record by fingerprint: alice's home keeps it, the coordinator's journal too
    from cerro_torre.ceremony import coordinator
    from cerro_torre.ceremony.protocol import Journal
    from cerro_torre.governance.trust import TrustStore

    TrustStore(home).add([unsigned])
    coordinator.start(req, [unsigned]).save(Journal.path_for("sign-request.ctm", req.ceremony))
    kg = keygen.open_keygen("newcoop", [det_key(n).public() for n in ("alice", "bob", "carol")], 2,
                            now=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc), ceremony=CEREMONY_KEYGEN)
    write("keygen-request.ctm", kg.to_bytes())
    return tmp_path


def make(world, mode: str, who: str = "alice") -> CTApp:
    return CTApp(str(world / "homes" / who), mode=mode, cwd=str(world), qr_autoplay=False)


def opened(*steps):
    """run_before: settle, then per step a key and optionally the values of the dialog it opens."""
    async def run(pilot):
        app = pilot.app
        await settle(pilot, app)
        for key, values in steps:
            await pilot.press(key)
            await pilot.pause()
            if values:
                await fill(pilot, app, values)
            await settle(pilot, app)
    return run


def test_keys(world, snap_compare):
    assert snap_compare(make(world, "keys"), run_before=opened())


def test_keys_generate_dialog(world, snap_compare):
    async def run(pilot):
        await settle(pilot, pilot.app)
        await pilot.press("g")
        await pilot.pause()
        await pilot.press(*"dave", "tab", "tab", *"hunter2")
    assert snap_compare(make(world, "keys"), run_before=run)


def test_keys_qr_player(world, snap_compare):
    assert snap_compare(make(world, "keys"), run_before=opened(("x", None)))


def test_keyholder_signing_request(world, snap_compare):
    assert snap_compare(make(world, "keyholder"), run_before=opened(("o", {"path": "sign-request.ctm"})))


def test_keyholder_approve_dialog(world, snap_compare):
    assert snap_compare(make(world, "keyholder"),
                        run_before=opened(("o", {"path": "sign-request.ctm"}), ("a", None)))


def test_keyholder_keygen_request(world, snap_compare):
    assert snap_compare(make(world, "keyholder"), run_before=opened(("o", {"path": "keygen-request.ctm"})))


def test_coordinator_signing(world, snap_compare):
    assert snap_compare(make(world, "coordinator"), run_before=opened(("o", {"path": "sign-request.ctm"})))


def test_coordinator_keygen_form(world, snap_compare):
    assert snap_compare(make(world, "coordinator"), run_before=opened(("k", None)))


def test_verify_valid(world, snap_compare):
    assert snap_compare(make(world, "verify"), run_before=opened(("o", {"path": "app-alice.ctp"})))


def test_verify_unsigned(world, snap_compare):
    assert snap_compare(make(world, "verify"), run_before=opened(("o", {"path": "app.ctp"})))


def test_governance(world, snap_compare):
    assert snap_compare(make(world, "governance"), run_before=opened())


def test_keys_no_color(world, snap_compare, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    assert snap_compare(make(world, "keys"), run_before=opened())
