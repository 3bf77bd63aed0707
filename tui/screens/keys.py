"""Keys (F2): identity keys and FROST shares of this home; generate, export (file or QR), import, default."""

from __future__ import annotations

import os
import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ..messages import KeyGenerated, KeysLoaded, PublicExported, StepDone
from .base import CTScreen
from .dialogs import Field, FormDialog, path_dialog

SUITES = [("CT-SIG-02  hybrid: Ed25519 + ML-DSA-87 (default)", "CT-SIG-02"),
          ("CT-SIG-01  Ed25519", "CT-SIG-01"),
          ("CT-SIG-03  ML-DSA-87 only", "CT-SIG-03")]


class KeysScreen(CTScreen):
    MODE = "keys"
    BINDINGS = [
        Binding("g", "generate", "Generate"),
        Binding("e", "export", "Export .pub"),
        Binding("x", "export_qr", "Show QR"),
        Binding("i", "import_key", "Import"),
        Binding("d", "make_default", "Default"),
        Binding("r", "refresh", "Refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.entries: list[Any] = []
        self.shares: list[Any] = []     # keys.shares.ShareEntry

    def body(self) -> ComposeResult:
        yield Static("", id="keys-title", classes="title")
        yield Static("Identity keys", classes="section")
        table: DataTable = DataTable(id="keys-table", cursor_type="row", zebra_stripes=False)
        for label, width in ((" ", 1), ("ID", 16), ("SUITE", 9), ("TRUST", 8), ("FINGERPRINT", 19)):
            table.add_column(label, width=width)
        yield table
        yield Static("", id="key-detail", classes="detail")
        yield Static("FROST shares", classes="section")
        shares: DataTable = DataTable(id="shares-table", cursor_type="row", zebra_stripes=False)
        shares.add_column("GROUP KEY ID", width=32)
        shares.add_column("KEYHOLDER SET", width=32)
        shares.add_column("STATUS", width=8)
        yield shares
        yield Static("", id="share-detail", classes="detail")

    def on_mount(self) -> None:
        self.query_one("#keys-title", Static).update(Text(f"Keys in {self.shown(self.ct.home)}", no_wrap=True))
        self.query_one("#key-detail", Static).update("reading keys…")
        self.query_one("#keys-table").focus()
        self.action_refresh()

    def on_screen_resume(self) -> None:
        if self.entries or self.shares:
            self._fill_shares()

    # ------------------------------------------------------------ listing
    def action_refresh(self) -> None:
        self._load()

    @work(thread=True, group="keys-list", exclusive=True)
    def _load(self) -> None:
        try:
            from cerro_torre.governance.trust import TrustStore
            from cerro_torre.keys.shares import ShareStore

            home = self.ct.make_home()
            entries = home.list_keys()
            shares = ShareStore(self.ct.home).list()
            store = TrustStore(self.ct.home)
            for e in shares:       # the records of the shares' sets, which this home keeps
                rec = store.get(e.fingerprint) if e.fingerprint else None
                if rec is not None:
                    self.ct.remember_records([rec], store.record_path(rec.name, rec.epoch, e.fingerprint))
            default = home.default() if entries else None
        except Exception as e:  # noqa: BLE001
            self.post_failure("list", e)
            return
        self.post_message(KeysLoaded(entries, shares, default))

    def on_keys_loaded(self, m: KeysLoaded) -> None:
        self.entries = m.entries
        self.shares = m.shares
        table = self.query_one("#keys-table", DataTable)
        table.clear()
        for e in m.entries:
            table.add_row("*" if e.default else " ", e.id, e.suite, e.trust, e.fingerprint.hex, key=e.id)
        if not m.entries:
            self.query_one("#key-detail", Static).update(
                f"no keys in {self.shown(os.path.join(self.ct.home, 'keys'))}\n"
                "press g to generate your identity keys (as 'ct keygen'), or i to import someone's .pub")
        else:
            self._detail(0)
        self._fill_shares()

    def _set_of(self, e: Any) -> Any:
        """The record of a share's set: known to the share store, or among the records the TUI has read."""
        return next((r for r in self.ct.records.values() if r.group_keyid == e.keyid
                     and (e.fingerprint is None or r.fingerprint.full_hex == e.fingerprint)), None)

    def _fill_shares(self) -> None:
        table = self.query_one("#shares-table", DataTable)
        table.clear()
        for e in self.shares:
            r = self._set_of(e)
            label = e.set_label if e.set_name is not None else \
                f"{r.name} epoch {r.epoch}" if r else "(set not yet seen)"
            if r is not None:
                label += f", {r.threshold} of {len(r.members)}"
            table.add_row(e.keyid, label, Text(e.status, style="bold" if e.status == "retired" else ""), key=e.keyid)
        detail = self.query_one("#share-detail", Static)
        if not self.shares:
            detail.update("no shares yet: a share is stored here when you answer a keygen or rotation")
        else:
            self._share_detail(0)

    def _detail(self, row: int) -> None:
        if not (0 <= row < len(self.entries)):
            return
        e = self.entries[row]
        flags = [e.trust, "default" if e.default else "", "private key here" if e.has_private else "public only"]
        t = Text(no_wrap=False)
        t.append(f"{e.id}", style="bold")
        t.append(f"  {e.suite}  {', '.join(f for f in flags if f)}\n")
        t.append("words ")
        t.append(e.fingerprint.words, style="bold")
        t.append(f"\npublic key {self.shown(e.public_path)}")
        self.query_one("#key-detail", Static).update(t)

    def _share_detail(self, row: int) -> None:
        if not (0 <= row < len(self.shares)):
            return
        e = self.shares[row]
        r = self._set_of(e)
        t = Text()
        if r is None:
            t.append(f"share of the group key with keyid {e.keyid} (sealed; the record tells which set)")
        else:
            t.append(f"{r.describe()}, suite {r.suite}, expires {r.expires}\nwords ")
            t.append(r.fingerprint.words, style="bold")
        if e.status == "retired":
            t.append(f"\nretired {e.retired_at}: {e.reason}; this home no longer signs with it", style="bold")
        self.query_one("#share-detail", Static).update(t)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        if event.data_table.id == "keys-table":
            self._detail(event.cursor_row)
        else:
            self._share_detail(event.cursor_row)

    def _current(self) -> Any:
        table = self.query_one("#keys-table", DataTable)
        if not self.entries:
            self.show_error(["error: no keys in this home", "hint: press g to generate one"])
            return None
        return self.entries[max(0, min(table.cursor_row, len(self.entries) - 1))]

    # ------------------------------------------------------------ generate
    def action_generate(self) -> None:
        if self.refuse_while_busy():
            return

        from cerro_torre.keys.passphrase import check_new, estimate
        from cerro_torre.suites.errors import WrongPassphrase

        def check(v: dict[str, str]) -> str | None:
            if not v["id"].strip():
                return "a key id is needed: [a-z0-9][a-z0-9._-]{0,63}"
            if not v["passphrase"]:
                return "the passphrase cannot be empty"
            if v["passphrase"] != v["again"]:
                return "the two passphrases differ; try again"
            try:  # the rule of 'ct keygen' (keys.passphrase): a very weak one is refused
                check_new(v["passphrase"])
            except WrongPassphrase as e:
                return f"{e.message}: {estimate(v['passphrase'])[2]}"
            return None

        dlg = FormDialog(
            "Generate identity keys",
            [Field("id", "key id", "", placeholder="your name, e.g. alice"),
             Field("suite", "suite", "CT-SIG-02", "select", SUITES),
             Field("passphrase", "passphrase", "", "password"),
             Field("again", "again", "", "password")],
            help=f"The keys are sealed in {self.shown(os.path.join(self.ct.home, 'keys'))} with your passphrase "
                 f"({self.ct.kdf_text()}).  Nobody can recover a lost passphrase.",
            validate=check, strength_for="passphrase", dialog_id="generate-dialog")
        self.app.push_screen(dlg, self._generate_answered)

    def _generate_answered(self, v: dict[str, str] | None) -> None:
        if v is None:
            return
        self.busy(f"generating {v['suite']} keys for '{v['id'].strip()}' and sealing them ({self.ct.kdf_text()})")
        self._generate(v["id"].strip(), v["suite"], v["passphrase"].encode("utf-8"))

    @work(thread=True, group="keys-gen", exclusive=True)
    def _generate(self, key_id: str, suite: str, passphrase: bytes) -> None:
        try:
            from cerro_torre.keys.identity import validate_id
            from cerro_torre.suites.errors import AlreadyExists
            from cerro_torre.suites.suite import get_suite

            key_id = validate_id(key_id)
            suite = get_suite(suite, usage=True).name
            home = self.ct.make_home()
            if home.exists(key_id) or home.has_private(key_id):
                raise AlreadyExists(f"key {key_id!r} already exists in {home.keys_dir}",
                                    "choose another --id; existing keys are never overwritten")
            t0 = time.monotonic()
            pub = home.generate_key(key_id, suite, passphrase)
            dt = time.monotonic() - t0
            self.post_message(KeyGenerated(pub, home.pub_path(key_id), home.default() == key_id, dt))
        except Exception as e:  # noqa: BLE001
            self.post_failure("keygen", e)

    def on_key_generated(self, m: KeyGenerated) -> None:
        self.idle()
        fp = m.public.fingerprint
        lines = [f"generated key '{m.public.id}' ({m.public.suite})", f"  fingerprint  {fp.hex}",
                 f"  words        {fp.words}", f"  public key   {self.shown(m.path)}"]
        if m.is_default:
            lines.append("  this is now the default key")
        self.notify("\n".join(lines), timeout=10, markup=False)
        self.action_refresh()

    # ------------------------------------------------------------ export
    def action_export(self) -> None:
        e = self._current()
        if e is None or self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog(f"Export the public key '{e.id}'", f"{e.id}.pub", cwd=self.ct.cwd,
                        help="Private keys are never exported.  Carry the .pub file to the coordinator.",
                        dialog_id="export-dialog"),
            lambda v: v and self._export(e.id, v["path"].strip()))

    @work(thread=True, group="keys-export", exclusive=True)
    def _export(self, key_id: str, path: str) -> None:
        try:
            from cerro_torre.suites.atomic import atomic_write

            pub = self.ct.make_home().public(key_id)
            atomic_write(self.ct.resolve(path), pub.to_file_bytes(), mode=0o644)
            self.post_message(PublicExported(key_id, path, pub.fingerprint))
        except Exception as e:  # noqa: BLE001
            self.post_failure("export", e)

    def on_public_exported(self, m: PublicExported) -> None:
        self.notify(f"wrote public key '{m.key_id}' to {m.path}\n  fingerprint  {m.fingerprint.hex}",
                    timeout=8, markup=False)

    def action_export_qr(self) -> None:
        e = self._current()
        if e is None or self.refuse_while_busy():
            return
        try:
            with open(e.public_path, "rb") as f:
                data = f.read()
        except OSError as exc:
            self.show_error(exc)
            return
        self.play_qr(f"public key {e.id}", data)

    def on_step_done(self, m: StepDone) -> None:
        self.notify("\n".join(m.lines), timeout=8, markup=False)
        self.action_refresh()

    # ------------------------------------------------------------ import / default
    def action_import_key(self) -> None:
        if self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Import someone's public key", "", cwd=self.ct.cwd, label="file.pub",
                        help="Imported keys start at trust 'none'; compare the fingerprint with its owner.",
                        dialog_id="import-dialog"),
            lambda v: v and self._import(v["path"].strip()))

    @work(thread=True, group="keys-import", exclusive=True)
    def _import(self, path: str) -> None:
        try:
            data = self.read_file(path, "file", 1 << 20)
            home = self.ct.make_home()
            pub, changed = home.import_public_report(data, source=f"public key file {path}")
            fp = pub.fingerprint
            lines = [f"{'imported' if changed else 'already present:'} key '{pub.id}' ({pub.suite})",
                     f"  fingerprint  {fp.hex}", f"  words        {fp.words}", f"  trust        {home.trust(pub.id)}"]
            self.post_message(StepDone("import", lines))
        except Exception as e:  # noqa: BLE001
            self.post_failure("import", e)

    def action_make_default(self) -> None:
        e = self._current()
        if e is None:
            return
        self._default(e.id)

    @work(thread=True, group="keys-default", exclusive=True)
    def _default(self, key_id: str) -> None:
        try:
            self.ct.make_home().set_default(key_id)
            self.post_message(StepDone("default", [f"default key: {key_id}"]))
        except Exception as e:  # noqa: BLE001
            self.post_failure("default", e)
