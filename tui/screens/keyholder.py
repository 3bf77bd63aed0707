"""Keyholder (F3): answer whatever ceremony message arrived, from a file or from QR images.

The same step as ``ct ceremony step MESSAGE -o REPLY``: ``Keyholder.prepare``
checks the message against everything this home has seen and says what
answering approves; the keyholder reads it, compares the fingerprint words
with the coordinator's, approves (unlocking the key) or refuses; the reply
is written to a file and can be shown as QR frames.
"""

from __future__ import annotations

import os
import time
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.widgets import Static

from cerro_torre.suites.encoding import printable

from ..messages import IncomingLoaded, RecordKept, ReplyWritten, WorkFailed
from .base import CTScreen, is_qr_source
from .dialogs import Field, FormDialog, path_dialog


def checked_against(pending: Any, home_path: str) -> list[str]:
    """What the result of this ceremony will be checked against (read from the message and this home)."""
    lines: list[str] = []
    msg = pending.message
    if msg.kind == "sign":
        from cerro_torre.ceremony import signing

        plan = signing.plan_of(pending.view)
        g = plan.group
        parts = []
        for alg, req in g.requirements().items():
            if alg == "ed25519":
                parts.append(f"1 FROST group signature (ed25519, group keyid {g.group_keyid})")
            else:
                parts.append(f"{req.threshold} of {len(req.keys)} members' {alg} signatures")
        lines.append(f"{g.suite}: " + " AND ".join(parts))
        lines.append(f"{g.describe()}, expires {g.expires}")
        lines.append(f"  set fingerprint words: {g.fingerprint.words}")
        if len(plan.chain) > 1:
            lines.append("  chain: epochs " + " -> ".join(str(e) for e in range(1, len(plan.chain) + 1)))
        chain = plan.chain
    elif msg.kind == "repair":
        from cerro_torre.ceremony import repair

        rp = repair.plan_of(pending.view)
        r = rp.record
        lines.append(f"no new record: the restored share of '{rp.lost}' must match its verification share in "
                     f"{r.describe()}, {r.threshold} of {len(r.members)}, expires {r.expires}")
        lines.append(f"  set fingerprint words: {r.fingerprint.words}")
        chain = [r.fingerprint.full_hex]
    else:
        from cerro_torre.ceremony import keygen

        plan = keygen.plan_of(pending.view)
        t = plan.template
        lines.append(f"the new record needs its own threshold: {t['threshold']} of {len(t['members'])} "
                     f"({t['suite']}), signed by the members in the last round")
        if plan.previous is not None:
            p = plan.previous
            lines.append(f"and {p.threshold} of {len(p.members)} signatures of epoch {p.epoch} "
                         f"({p.fingerprint.hex}): verifiers walk the chain from their pinned root")
        if plan.keeps_key:
            lines.append(f"the group key stays {plan.kept.group_public_key.hex()[:16]}…: stock-tool public keys "
                         "exported before keep verifying")
        chain = [plan.previous.fingerprint.full_hex] if plan.previous is not None else []
    policy_path = os.path.join(home_path, "policy.json")
    if os.path.isfile(policy_path):
        from cerro_torre.governance.policy import Policy

        try:
            pol = Policy.load(policy_path)
            pol.path = "policy.json"
        except Exception as e:  # noqa: BLE001 - shown, not fatal here
            lines.append(f"this home's policy.json cannot be read: {e}")
        else:
            pinned = any(fp in pol.roots for fp in chain)
            lines.append(f"this home's {pol.label}: {len(pol.roots)} pinned root(s)"
                         + (", suites " + ", ".join(pol.suites) if pol.suites else "")
                         + (", signers " + ", ".join(pol.signers) if pol.signers else "")
                         + (f", min epoch {pol.min_epoch}" if pol.min_epoch else "")
                         + (f", min threshold {pol.min_threshold}" if pol.min_threshold > 1 else ""))
            if chain:
                lines.append("  the set's chain starts at a root it pins" if pinned
                             else "  NOTE: it pins none of this set's records")
    else:
        lines.append("no policy.json in this home (verifiers apply their own)")
    return lines


class KeyholderScreen(CTScreen):
    MODE = "keyholder"
    BINDINGS = [
        Binding("o", "open", "Open file"),
        Binding("i", "open_qr", "Scan QR"),
        Binding("a", "approve", "Approve"),
        Binding("r", "refuse", "Refuse"),
        Binding("x", "show_qr", "Reply as QR"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.pending: Any = None
        self.source = ""
        self.reply: Any = None
        self.reply_path = ""
        self.opening = ""

    def body(self) -> ComposeResult:
        yield Static("Answer a ceremony", id="kh-title", classes="title")
        yield Static("", id="kh-status", classes="status")
        yield Static("", id="kh-compare", classes="compare")
        with VerticalScroll(id="summary", can_focus=True):
            yield Static("", id="kh-summary")
        yield Static("", id="kh-outcome", classes="log")

    def on_mount(self) -> None:
        self.query_one("#summary").border_title = "what answering approves"
        self.query_one("#kh-compare").display = False
        self.query_one("#kh-status", Static).update(Text(
            f"home {self.shown(self.ct.home)}: press o to open the coordinator's message (a .ctm file), "
            "or i to scan its QR frames (camera, video or images)", no_wrap=False))
        self.query_one("#summary").focus()

    # ------------------------------------------------------------ load
    def action_open(self) -> None:
        if self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Open the coordinator's message", "", cwd=self.ct.cwd, label="message file",
                        help="A .ctm file from the coordinator (a folder, an image, a video or a camera such as "
                             "/dev/video0 is scanned as QR frames); at the "
                             "end of a keygen or rotation, the keyholders.json it wrote (kept in this home).",
                        dialog_id="open-dialog"),
            lambda v: v and self.load(v["path"].strip()))

    def action_open_qr(self) -> None:
        if self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Scan the message's QR frames", "", cwd=self.ct.cwd, label="camera, video or images",
                        help="A camera (/dev/video0) filming the coordinator's screen, a video file of it, or a "
                             "folder of photos or frame PNGs: any frames, in any order; the digest is checked.",
                        dialog_id="open-qr-dialog"),
            lambda v: v and self.load(v["path"].strip()))

    def load(self, path: str) -> None:
        self.pending = None
        self.reply = None
        self.opening = path
        self.query_one("#kh-outcome", Static).update("")
        qr_source = is_qr_source(path, self.ct.resolve)
        self.busy(f"scanning QR frames from {path}" if qr_source else f"reading and checking {path}")
        self.start_scan()
        self._load(path, qr_source)

    @work(thread=True, group="kh-load", exclusive=True)
    def _load(self, path: str, qr_source: bool) -> None:
        try:
            from cerro_torre.ceremony.message import Message

            if qr_source:
                data = self.scan_qr(path)
                what = f"message from QR frames {path}"
            else:
                data = self.read_file(path, "message")
                what = f"message {path}"
            from cerro_torre.ceremony.keyholder import is_record

            if is_record(data):
                from cerro_torre.governance.keyholders import KeyholderSet

                kept = self.ct.make_keyholder().store_record(KeyholderSet.from_bytes(data, path), path)
                self.post_message(RecordKept(path, kept.lines()))
                return
            msg = Message.parse(data, what)
            pending = self.ct.make_keyholder().prepare(msg)
            checked = checked_against(pending, self.ct.home)
            self.post_message(IncomingLoaded(path, pending, checked))
        except Exception as e:  # noqa: BLE001
            self.post_failure("load", e)

    def on_record_kept(self, m: RecordKept) -> None:
        self.idle()
        self.query_one("#kh-outcome", Static).update(Text("\n".join(m.lines)))
        self.query_one("#kh-status", Static).update(Text(
            f"kept the keyholder-set record {self.shown(m.source)}; o opens the next message", no_wrap=False))
        self.notify("\n".join(m.lines), timeout=8, markup=False)

    def on_incoming_loaded(self, m: IncomingLoaded) -> None:
        self.idle()
        self.pending = m.pending
        self.source = m.source
        msg = m.pending.message
        fp = msg.fingerprint
        self.query_one("#kh-title", Static).update(
            Text(f"{msg.kind} ceremony {msg.ceremony}, round {msg.round}", no_wrap=True, overflow="ellipsis"))
        self.query_one("#kh-status", Static).update(Text(
            f"from {self.shown(m.source)}; you answer as '{m.pending.member}'", no_wrap=True, overflow="ellipsis"))
        cmp = self.query_one("#kh-compare", Static)
        cmp.display = True
        t = Text()
        t.append("compare with the coordinator: ")
        t.append(f" {fp.words} ", style="bold reverse")
        t.append(f"\n{'fingerprint':>29}  {fp.hex}")
        cmp.update(t)
        body = Text()
        for line in m.pending.summary:  # names, versions, paths from the message: shown escaped
            body.append(printable(line) + "\n")
        body.append("checked against\n", style="bold underline")
        for line in m.checked_against:
            body.append("  " + line + "\n")
        self.query_one("#kh-summary", Static).update(body)
        self.query_one("#summary").scroll_home(animate=False)
        self.query_one("#summary").focus()

    # ------------------------------------------------------------ approve / refuse
    def _suggest_reply(self) -> str:
        p = self.pending
        folder = os.path.dirname(self.source.rstrip("/"))  # next to the message file or QR folder
        name = f"reply-{p.member}-{p.message.round}.ctm"
        return os.path.join(folder, name) if folder else name

    def action_approve(self) -> None:
        if self.pending is None:
            self.show_error(["error: no message to approve", "hint: press o to open the coordinator's message"])
            return
        if self.refuse_while_busy():
            return
        if not self.pending.answers:     # an outgoing member keeps the first rotation messages: no key needed
            p = self.pending
            try:
                self.ct.make_keyholder().keep(p)
            except Exception as e:  # noqa: BLE001
                self.show_error(e)
                return
            self.pending = None
            self.query_one("#kh-outcome", Static).update(
                f"kept the {p.message.round} message: nothing for '{p.member}' to answer in this round; "
                "o opens the next message")
            return
        self._ask_passphrase(self._suggest_reply())

    def _ask_passphrase(self, reply_path: str) -> None:
        p = self.pending

        def check(v: dict[str, str]) -> str | None:
            if not v["reply"].strip():
                return "a reply file is needed"
            if os.path.exists(self.ct.resolve(v["reply"].strip())):
                return f"error: {v['reply'].strip()} exists\nhint: choose another -o, or move the old file away"
            if not v["passphrase"]:
                return "the passphrase cannot be empty"
            return None

        dlg = FormDialog(
            f"Approve: answer as '{p.member}'",
            [Field("reply", "reply file", reply_path, "path"),
             Field("passphrase", "passphrase", "", "password")],
            help=f"{p.message.kind} round {p.message.round}; words {p.message.fingerprint.words}\n"
                 f"Your key '{p.member}' is unlocked ({self.ct.kdf_text()}) and the reply signed.\n"
                 "Never restore this home from a backup, or copy it, while this ceremony is open: "
                 "a copy answering again could reveal your key share.",
            validate=check, cwd=self.ct.cwd, dialog_id="approve-dialog")
        self.app.push_screen(dlg, self._approved)

    def _approved(self, v: dict[str, str] | None) -> None:
        if v is None or self.pending is None:
            return
        self.busy(f"unlocking key '{self.pending.member}' ({self.ct.kdf_text()}) and answering "
                  f"{self.pending.message.round}")
        self._answer(self.pending, v["reply"].strip(), v["passphrase"].encode("utf-8"))

    @work(thread=True, group="kh-answer", exclusive=True)
    def _answer(self, pending: Any, path: str, passphrase: bytes) -> None:
        try:
            self.refuse_overwrite(path)
            t0 = time.monotonic()
            reply = self.ct.make_keyholder().answer(pending, passphrase)
            self.write_new(path, reply.to_bytes())
            self.post_message(ReplyWritten(reply, path, pending.member, time.monotonic() - t0))
        except Exception as e:  # noqa: BLE001
            self.post_message(WorkFailed("answer", e))

    def failed(self, message: WorkFailed) -> None:
        from cerro_torre.suites.errors import WrongPassphrase

        if message.what == "answer" and isinstance(message.error, WrongPassphrase):
            self.query_one("#kh-outcome", Static).update("wrong passphrase: press a to try again")
        if message.what == "load":  # nothing of the previous message stays on screen: it is not loaded
            from ..messages import error_lines

            self.query_one("#kh-title", Static).update("Answer a ceremony")
            self.query_one("#kh-status", Static).update(Text(
                f"could not open {self.shown(self.opening)}: {error_lines(message.error)[0]}; "
                "press o to open another message", no_wrap=False))
            self.query_one("#kh-compare").display = False
            self.query_one("#kh-summary", Static).update("")

    def on_reply_written(self, m: ReplyWritten) -> None:
        self.idle()
        self.reply = m.reply
        self.reply_path = m.path
        self.pending = None
        fp = m.reply.fingerprint
        t = Text()
        t.append(f"wrote {m.path}: {m.reply.kind} ceremony {m.reply.ceremony}, round {m.reply.round}\n", style="bold")
        t.append(f"  fingerprint {fp.hex}  {fp.words}\n")
        t.append("next: carry it to the coordinator (x shows it as QR frames), who runs 'ct ceremony collect'")
        self.query_one("#kh-outcome", Static).update(t)
        self.query_one("#kh-status", Static).update(Text(
            f"answered as '{m.member}' in {m.seconds:.1f} s; o opens the next message", no_wrap=False))
        self.notify(f"wrote {m.path}\n  fingerprint {fp.hex}  {fp.words}", timeout=6, markup=False)

    def action_refuse(self) -> None:
        if self.pending is None:
            self.show_error(["error: no message to refuse", "hint: press o to open the coordinator's message"])
            return
        self.pending = None
        self.query_one("#kh-compare").display = False
        self.query_one("#kh-summary", Static).update("")
        self.query_one("#kh-outcome", Static).update("refused: nothing was signed or stored")
        self.show_error(["error: refused by the keyholder", "hint: nothing was signed or stored"], severity="warning")

    def action_show_qr(self) -> None:
        if self.reply is None:
            self.show_error(["error: no reply to show yet", "hint: open a message and approve it first"])
            return
        self.play_qr(os.path.basename(self.reply_path), self.reply.to_bytes())
