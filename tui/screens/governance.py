"""Governance (F6): the keyholder-set chain (epochs, members, thresholds, expiry) and starting a rotation.

Records are read from files or a folder (default ``governance/keyholders``
when it exists, else the records this home verified, ``HOME/governance/<set>``)
and walked with ``keyholders.walk_chain`` from the roots this home's
``policy.json`` pins, with the epochs this home knows — as a verifier would.
Without a policy the oldest record shown is taken as the root, and the
screen says so.  The detail of an epoch shows what its rotation changed.
"""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ..messages import ChainLoaded
from .base import CTScreen
from .dialogs import Field, FormDialog, path_dialog

DEFAULT_DIR = os.path.join("governance", "keyholders")


class GovernanceScreen(CTScreen):
    MODE = "governance"
    BINDINGS = [
        Binding("o", "open", "Open records"),
        Binding("p", "policy", "Pinned roots"),
        Binding("t", "rotate", "Start rotation"),
        Binding("r", "reload", "Reload"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.source = ""
        self.policy_path: str | None = None
        self.records: list[Any] = []
        self.paths: dict[str, str] = {}
        self.chain: Any = None

    def body(self) -> ComposeResult:
        yield Static("Keyholder-set chain", id="gov-title", classes="title")
        yield Static("", id="gov-status", classes="status")
        table: DataTable = DataTable(id="gov-epochs", cursor_type="row", zebra_stripes=False)
        for label, width in (("EPOCH", 5), ("NAME", None), ("SUITE", 9), ("K/N", 5), ("EXPIRES", 10),
                             ("FINGERPRINT", 19), ("STATUS", 8)):
            table.add_column(label, width=width)   # NAME as wide as the longest set name (up to 64)
        yield table
        yield Static("", id="gov-members", classes="detail")

    def on_mount(self) -> None:
        default = os.path.join(self.ct.home, "policy.json")
        self.policy_path = default if os.path.isfile(default) else None
        self.query_one("#gov-epochs").focus()
        from cerro_torre.governance.trust import TrustStore

        names = TrustStore(self.ct.home).names()
        if os.path.isdir(self.ct.resolve(DEFAULT_DIR)):
            self.load(DEFAULT_DIR)
        elif names:     # the epochs this home verified
            self.load(os.path.join(self.ct.home, "governance", names[0]))
        else:
            self.query_one("#gov-status", Static).update(Text(
                "o opens keyholder-set records (keyholders.json files, or a folder of them); "
                "t starts a rotation of the newest epoch", no_wrap=False))

    # ------------------------------------------------------------ load
    def action_open(self) -> None:
        if self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Open the keyholder-set chain", self.source, cwd=self.ct.cwd, label="records",
                        help="keyholders.json files (every epoch you have), a folder of them, or a glob.",
                        dialog_id="gov-open-dialog"),
            lambda v: v and self.load(v["path"].strip()))

    def action_reload(self) -> None:
        if self.source:
            self.load(self.source)

    def action_policy(self) -> None:
        def chosen(v: dict[str, str] | None) -> None:
            if v is None:
                return
            p = v["path"].strip()
            self.policy_path = self.ct.resolve(p) if p else None
            self.action_reload()

        self.app.push_screen(FormDialog(
            "Pinned roots", [Field("path", "policy.json", self.shown(self.policy_path) if self.policy_path else "",
                                   "path", placeholder="empty: take the oldest record as the root")],
            help="The chain is walked from the roots this policy pins, as a verifier does.",
            cwd=self.ct.cwd, dialog_id="gov-policy-dialog"), chosen)

    def load(self, source: str) -> None:
        self.source = source
        self.busy(f"reading and checking records {source}")
        self._load(source, self.policy_path)

    @work(thread=True, group="gov-load", exclusive=True)
    def _load(self, source: str, policy_path: str | None) -> None:
        try:
            from cerro_torre.governance.keyholders import KeyholderSet, walk_chain
            from cerro_torre.suites.errors import NotFound

            paths = self.expand_paths(source, (".json",))
            if not paths:
                raise NotFound(f"no keyholder-set records in {source}", "give keyholders.json files or their folder")
            records, sources = [], []
            for p in paths:
                records.append(KeyholderSet.from_bytes(self.read_file(p, "keyholder-set record", 1 << 20), p))
                sources.append(p)
            order = sorted(range(len(records)), key=lambda i: records[i].epoch)
            records = [records[i] for i in order]
            sources = [sources[i] for i in order]
            from cerro_torre.ceremony.verifier import trust_from

            pol = None
            if policy_path:
                from cerro_torre.governance.policy import Policy

                pol = Policy.load(policy_path)
                pol.path = self.shown(policy_path)
            trust = trust_from(self.ct.home, pol)     # with what this home knows: forks show
            if pol is not None:
                pinned, pinned_from = trust.roots, pol.label
            else:
                pinned = {records[0].fingerprint.full_hex}
                pinned_from = f"no policy: epoch {records[0].epoch} taken as the root"
            chain = walk_chain(records, pinned, known=trust.knowledge, what="the records shown")
            self.post_message(ChainLoaded(records, chain, pinned_from, sources))
        except Exception as e:  # noqa: BLE001
            self.post_failure("load", e)

    def on_chain_loaded(self, m: ChainLoaded) -> None:
        self.idle()
        self.records = m.records
        self.chain = m.chain
        self.paths = {r.fingerprint.full_hex: self.ct.resolve(p) for r, p in zip(m.records, m.sources)}
        for r, p in zip(m.records, m.sources):
            self.ct.remember_records([r], self.ct.resolve(p))
        steps = {s.record.fingerprint.full_hex: s for s in m.chain.steps}
        table = self.query_one("#gov-epochs", DataTable)
        table.clear()
        for r in m.records:
            s = steps.get(r.fingerprint.full_hex)
            status = ("ok" if s.ok else s.note or "failed") if s else "not on the chain"
            table.add_row(str(r.epoch), r.name, r.suite, f"{r.threshold}/{len(r.members)}", r.expires[:10],
                          r.fingerprint.hex, status, key=r.fingerprint.full_hex)
        t = Text()
        t.append(f"{len(m.records)} record(s) from {self.shown(self.source)}; {m.pinned_from}\n")
        if m.chain.error is None:
            cur = m.chain.current
            t.append(f"chain ok: {cur.describe()} signs releases, {cur.threshold} of {len(cur.members)}",
                     style="bold")
        else:
            t.append(f"error: {m.chain.error.message}", style="bold reverse")
            for h in m.chain.error.hints:
                t.append(f"\nhint: {h}")
        self.query_one("#gov-status", Static).update(t)
        if m.records:
            table.move_cursor(row=len(m.records) - 1)
            self._members(len(m.records) - 1)

    def _members(self, row: int) -> None:
        if not (0 <= row < len(self.records)):
            return
        r = self.records[row]
        t = Text()
        t.append(f"epoch {r.epoch}: {r.threshold} of {len(r.members)}, created {r.created}, expires {r.expires}",
                 style="bold")
        if r.previous:
            t.append(f", follows epoch {r.previous[0]} ({r.previous[1][:16]})")
        t.append(f"\nset words {r.fingerprint.words}")
        for mem in sorted(r.members, key=lambda x: x.index):
            fp = mem.identity.fingerprint
            t.append(f"\n  {mem.index}. {mem.id:<14} {fp.hex}  {fp.words}")
        prev = self.records[row - 1] if row > 0 else None
        if prev is not None and prev.epoch == r.epoch - 1:
            from cerro_torre.governance.keyholders import epoch_changes

            t.append(f"\nchanges from epoch {prev.epoch}:", style="bold")
            for line in epoch_changes(prev, r) or ["(none but the epoch)"]:
                t.append(f"\n  {line}", style="green" if line[0] == "+" else "red" if line[0] == "-" else "")
        self.query_one("#gov-members", Static).update(t)

    def on_data_table_row_highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._members(event.cursor_row)

    # ------------------------------------------------------------ rotation
    def action_rotate(self) -> None:
        if not self.records:
            self.show_error(["error: no keyholder-set record loaded",
                             "hint: press o to open the chain (keyholders.json files)"])
            return
        latest = self.records[-1]
        path = self.paths.get(latest.fingerprint.full_hex, "")
        self.ct.start_rotation(self.shown(path) if path else "")
