"""Coordinator (F4): open a keygen, signing, rotation, refresh or repair ceremony, gather replies, collect, finish.

The same steps as ``ct ceremony keygen|sign|rotate|refresh|repair|collect|status``, through
the same library calls (``ceremony/coordinator.py``, ``keygen.open_keygen``, ``keygen.open_refresh``,
``repair.open_repair``, ``signing.open_sign``).  The coordinator holds no secret.  Each reply added
is checked at once (``protocol.check_reply``: ceremony, sender, signature,
that it answers this very message) so a bad one is refused naming its
sender; ``collect`` names the culprit of a bad proof, share or signature.
"""

from __future__ import annotations

import os
from typing import Any

from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import DataTable, Static

from ..messages import (
    CeremonyOpened,
    Collected,
    RepliesAdded,
    ResultWritten,
    WorkFailed,
)
from .base import CTScreen, is_qr_source
from .dialogs import Field, FormDialog, path_dialog

YES_NO = [("yes", "yes"), ("no", "no")]


def _int(v: str, name: str, low: int = 1) -> str | None:
    try:
        if int(v) < low:
            raise ValueError
    except ValueError:
        return f"{name} must be a whole number >= {low}"
    return None


class CoordinatorScreen(CTScreen):
    MODE = "coordinator"
    BINDINGS = [
        Binding("k", "keygen", "Keygen"),
        Binding("s", "sign", "Sign"),
        Binding("t", "rotate", "Rotate"),
        Binding("o", "open", "Open"),
        Binding("f", "add_files", "Add file"),
        Binding("i", "add_qr", "Scan QR"),
        Binding("c", "collect", "Collect"),
        Binding("x", "show_qr", "Show QR"),
        Binding("e", "refresh", "Refresh"),
        Binding("p", "repair", "Repair"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.msg: Any = None
        self.journal: Any = None
        self.msg_path = ""
        self.bundle: str | None = None
        self.expected: dict[str, Any] = {}
        self.people: list[str] = []
        self.replies: dict[str, tuple[Any, str]] = {}
        self.result: Any = None
        self.collected: Any = None
        self.result_kind = ""
        self.history: list[str] = []

    def body(self) -> ComposeResult:
        yield Static("Coordinator: no ceremony open", id="co-title", classes="title")
        yield Static("", id="co-message", classes="status")
        table: DataTable = DataTable(id="co-who", cursor_type="row", zebra_stripes=False)
        for label, width in (("MEMBER", 16), ("STATUS", 9), ("REPLY", 45)):
            table.add_column(label, width=width)
        yield table
        yield Static("", id="co-progress", classes="status")
        yield Static("", id="co-log", classes="log")

    def on_mount(self) -> None:
        self.query_one("#co-message", Static).update(Text(
            "k keygen, s signing, t rotation, e refresh, p repair of a lost share; o continues from a coordinator "
            "message (.ctm).  "
            "The coordinator holds no secret.", no_wrap=False))
        self.query_one("#co-who").focus()

    # ------------------------------------------------------------ open
    def action_keygen(self) -> None:
        if self.refuse_while_busy():
            return

        def check(v: dict[str, str]) -> str | None:
            return (_int(v["threshold"], "threshold", 2) or _int(v["days"], "days")
                    or (None if v["members"].strip() else "list the members' .pub files")
                    or (None if v["output"].strip() else "an output file is needed"))

        self.app.push_screen(FormDialog(
            "Open a keygen (DKG) for a keyholder set",
            [Field("name", "set name", "cooperative"),
             Field("threshold", "threshold k", "2"),
             Field("members", "members (.pub)", "", "path", placeholder="alice.pub bob.pub carol.pub, a folder, *.pub"),
             Field("suite", "suite", "CT-SIG-02", "select",
                   [("CT-SIG-02 hybrid (default)", "CT-SIG-02"), ("CT-SIG-01 Ed25519", "CT-SIG-01")]),
             Field("days", "expires in days", "365"),
             Field("dealer", "trusted dealer", "no", "select", YES_NO),
             Field("output", "request file", "keygen-request.ctm", "path")],
            help="As 'ct ceremony keygen'.  Each member answers four rounds.",
            validate=check, cwd=self.ct.cwd, dialog_id="keygen-dialog"), self._keygen)

    def _keygen(self, v: dict[str, str] | None) -> None:
        if v:
            if v["dealer"] == "yes":
                self.show_error(["warning: trusted-dealer mode: this machine generates every share and sees the "
                                 "group's secret key; use it for tests and small groups only"], severity="warning")
            self.busy("opening the keygen")
            self._open("keygen", v)

    def action_sign(self) -> None:
        if self.refuse_while_busy():
            return
        group = self._latest_record_path()

        def check(v: dict[str, str]) -> str | None:
            for k, what in (("bundle", "the bundle to sign"), ("group", "the keyholder-set record"),
                            ("output", "an output file")):
                if not v[k].strip():
                    return f"{what} is needed"
            return None

        self.app.push_screen(FormDialog(
            "Open a signing ceremony for a bundle",
            [Field("bundle", "bundle (.ctp)", "", "path"),
             Field("group", "keyholder set(s)", group, "path", placeholder="keyholders.json (and older epochs)"),
             Field("signers", "signers", "", placeholder="member ids; empty: invite every member"),
             Field("stock", "stock forms", "yes", "select", YES_NO),
             Field("output", "request file", "sign-request.ctm", "path")],
            help="As 'ct ceremony sign'.  Stock forms add signify/minisign/ssh signatures (one round more).",
            validate=check, cwd=self.ct.cwd, dialog_id="sign-dialog"), self._sign)

    def _sign(self, v: dict[str, str] | None) -> None:
        if v:
            self.busy("opening the signing ceremony")
            self._open("sign", v)

    def open_rotate(self, group: str = "") -> None:
        if self.refuse_while_busy():
            return

        def check(v: dict[str, str]) -> str | None:
            if not v["group"].strip():
                return "the current keyholder-set record is needed"
            if v["threshold"].strip() and _int(v["threshold"], "threshold", 2):
                return _int(v["threshold"], "threshold", 2)
            return _int(v["days"], "days") or (None if v["output"].strip() else "an output file is needed")

        self.app.push_screen(FormDialog(
            "Open a rotation to a new keyholder set",
            [Field("group", "current set", group or self._latest_record_path(), "path"),
             Field("add", "add (.pub)", "", "path", placeholder="new members' .pub files"),
             Field("remove", "remove", "", placeholder="member ids to retire"),
             Field("threshold", "new threshold", "", placeholder="empty: unchanged"),
             Field("keep_key", "keep group key", "no", "select", YES_NO),
             Field("releases", "kept releases", "", "path",
                   placeholder="bundles (.ctp) the old set signed, or files of digests / a signed.log"),
             Field("days", "expires in days", "365"),
             Field("output", "request file", "rotate-request.ctm", "path")],
            help="As 'ct ceremony rotate'.  The new epoch must be signed by k of the old set and by its own k.  "
                 "Keeping the group key (reshare) keeps stock-tool pins, but k old shares still make the key: "
                 "keep it when members leave for benign reasons, not when one may be compromised.",
            validate=check, cwd=self.ct.cwd, dialog_id="rotate-dialog"), self._rotate)

    def action_rotate(self) -> None:
        self.open_rotate()

    def _rotate(self, v: dict[str, str] | None) -> None:
        if v:
            self.busy("opening the rotation")
            self._open("rotate", v)

    def action_refresh(self) -> None:
        if self.refuse_while_busy():
            return

        def check(v: dict[str, str]) -> str | None:
            if not v["group"].strip():
                return "the current keyholder-set record is needed"
            return _int(v["days"], "days") or (None if v["output"].strip() else "an output file is needed")

        self.app.push_screen(FormDialog(
            "Open a refresh: new shares of the same group key",
            [Field("group", "current set", self._latest_record_path(), "path"),
             Field("releases", "kept releases", "", "path",
                   placeholder="bundles (.ctp) the set signed, or files of digests / a signed.log"),
             Field("days", "expires in days", "365"),
             Field("output", "request file", "refresh-request.ctm", "path")],
            help="As 'ct ceremony refresh'.  Every member takes part; the next epoch has the same members, "
                 "threshold and group key, and each home deletes its old share when it keeps the new record.",
            validate=check, cwd=self.ct.cwd, dialog_id="refresh-dialog"), self._refresh)

    def _refresh(self, v: dict[str, str] | None) -> None:
        if v:
            self.busy("opening the refresh")
            self._open("refresh", v)

    def action_repair(self) -> None:
        if self.refuse_while_busy():
            return

        def check(v: dict[str, str]) -> str | None:
            for k, what in (("group", "the keyholder-set record"), ("member", "the member whose share is lost"),
                            ("helpers", "the helpers (at least k members)"), ("output", "an output file")):
                if not v[k].strip():
                    return f"{what} is needed"
            return None

        self.app.push_screen(FormDialog(
            "Open the repair of a lost share",
            [Field("group", "current set", self._latest_record_path(), "path"),
             Field("member", "lost member", "", placeholder="the member id whose share is lost"),
             Field("helpers", "helpers", "", placeholder="member ids (at least k)"),
             Field("output", "request file", "repair-request.ctm", "path")],
            help="As 'ct ceremony repair'.  The helpers restore the member's share without learning it; it must "
                 "match the member's verification share in the record (no new record).  The member needs its "
                 "identity key.",
            validate=check, cwd=self.ct.cwd, dialog_id="repair-dialog"), self._repair)

    def _repair(self, v: dict[str, str] | None) -> None:
        if v:
            self.busy("opening the repair")
            self._open("repair", v)

    def _releases(self, text: str) -> list[str]:
        from cerro_torre.ceremony.signedlog import closed_releases

        paths = [self.ct.path_arg(p) for p in self.expand_paths(text)] if text.strip() else []
        return closed_releases([p for p in paths if p.endswith(".ctp")], [p for p in paths if not p.endswith(".ctp")])

    def _latest_record_path(self) -> str:
        if not self.ct.records:
            return ""
        latest = max(self.ct.records.values(), key=lambda r: r.epoch)
        path = self.ct.record_paths.get(latest.fingerprint.full_hex, "")
        return self.shown(path) if path else ""

    def _publics(self, text: str) -> list[Any]:
        from cerro_torre.keys.identity import IdentityPublic

        return [IdentityPublic.from_bytes(self.read_file(p, "public key", 1 << 20), p)
                for p in self.expand_paths(text, (".pub",))]

    def _record(self, path: str) -> Any:
        from cerro_torre.governance.keyholders import KeyholderSet

        return KeyholderSet.from_bytes(self.read_file(path, "keyholder-set record", 1 << 20), path)

    @work(thread=True, group="co-open", exclusive=True)
    def _open(self, kind: str, v: dict[str, str]) -> None:
        try:
            from cerro_torre.ceremony import keygen

            out = v["output"].strip()
            self.refuse_overwrite(out)
            bundle = None
            records: list[Any] = []
            if kind == "keygen":
                msg = keygen.open_keygen(v["name"].strip() or "cooperative", self._publics(v["members"]),
                                         int(v["threshold"]), suite=v["suite"], days=int(v["days"]),
                                         dealer=v["dealer"] == "yes")
            elif kind == "sign":
                from cerro_torre.ceremony import bundle as bmod
                from cerro_torre.ceremony import signing
                from cerro_torre.ceremony.statement import Envelope
                from cerro_torre.suites.errors import Malformed, NotFound

                bundle = v["bundle"].strip()
                if not os.path.exists(self.ct.resolve(bundle)):
                    raise NotFound(f"bundle not found: {bundle}", "check the path of the .ctp file")
                parts = bmod.read_parts(self.ct.path_arg(bundle))
                if bmod.ENVELOPE not in parts.signature_members:
                    raise Malformed(f"{bundle} has no release statement", "pack it with 'ct pack' first")
                env = Envelope.from_bytes(parts.signature_members[bmod.ENVELOPE])
                from cerro_torre.governance.trust import TrustStore

                records = signing.chain_from_root([self._record(p) for p in self.expand_paths(v["group"], (".json",))],
                                                  TrustStore(self.ct.home))
                signers = v["signers"].replace(",", " ").split() or None
                msg = signing.open_sign(env.payload, records, signers,
                                        stock=v["stock"] == "yes", attestations=bmod.attestation_statements(parts))
                self.ct.remember_records(records)
            elif kind == "repair":
                from cerro_torre.ceremony import repair

                rec = self._record(v["group"].strip())
                msg = repair.open_repair(rec, v["member"].strip(), v["helpers"].replace(",", " ").split())
                records = [rec]
            elif kind == "refresh":
                old = self._record(v["group"].strip())
                msg = keygen.open_refresh(old, days=int(v["days"]), closed_releases=self._releases(v["releases"]))
                records = [old]
            else:
                old = self._record(v["group"].strip())
                members = keygen.rotation_members(old, self._publics(v["add"]) if v["add"].strip() else [],
                                                  v["remove"].replace(",", " ").split())
                k = int(v["threshold"]) if v["threshold"].strip() else old.threshold
                msg = keygen.open_keygen(old.name, members, k, suite=old.suite, days=int(v["days"]), previous=old,
                                         closed_releases=self._releases(v["releases"]),
                                         keep_key=v["keep_key"] == "yes")
                records = [old]
            from cerro_torre.ceremony import coordinator
            from cerro_torre.ceremony.protocol import Journal

            journal = coordinator.start(msg, records)
            jpath = Journal.path_for(self.ct.resolve(out), msg.ceremony)
            self.refuse_overwrite(jpath)
            self.write_new(out, msg.to_bytes())
            journal.save(jpath)
            self.post_message(self._opened(journal, out, bundle, opened=True))
        except Exception as e:  # noqa: BLE001
            self.post_failure("open", e)

    def _opened(self, journal: Any, path: str, bundle: str | None, opened: bool) -> CeremonyOpened:
        from cerro_torre.ceremony.coordinator import expected, people

        view = journal.view()
        return CeremonyOpened(journal, path, expected(view), sorted(people(view)), bundle, opened)

    def action_open(self) -> None:
        if self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Continue from a coordinator message", self.msg_path, cwd=self.ct.cwd,
                        label="message file", help="The coordinator's latest message (.ctm): "
                                                   "the request, or what the last collect wrote.",
                        dialog_id="co-open-dialog"),
            lambda v: v and self._load_message(v["path"].strip()))

    def _load_message(self, path: str) -> None:
        self.busy(f"reading {path}")
        self._load(path)

    @work(thread=True, group="co-open", exclusive=True)
    def _load(self, path: str) -> None:
        try:
            from cerro_torre.ceremony.message import COORDINATOR, Message
            from cerro_torre.suites.errors import CeremonyError

            from cerro_torre.ceremony.protocol import Journal

            msg = Message.parse(self.read_file(path, "message"), f"message {path}")
            if msg.sender != COORDINATOR:
                raise CeremonyError(f"this is the reply of {msg.sender!r}, not the coordinator's message",
                                    "the first file is the message the replies answer")
            jpath = Journal.path_for(self.ct.resolve(path), msg.ceremony)
            journal = Journal.load(jpath, msg.ceremony)
            if journal.last.digest != msg.digest:
                raise CeremonyError(f"{path} is not the last message of the journal {jpath} (that is its "
                                    f"{journal.last.round} message)", "continue from the coordinator's latest message")
            self.post_message(self._opened(journal, path, None, opened=False))
        except Exception as e:  # noqa: BLE001
            self.post_failure("open", e)

    def on_ceremony_opened(self, m: CeremonyOpened) -> None:
        self.idle()
        previous = self.msg.ceremony if self.msg is not None else None
        if m.opened or m.message.ceremony != previous:
            self.bundle = m.bundle  # a new ceremony: its bundle, if it was opened here
        self.msg = m.message
        self.journal = m.journal
        self.msg_path = m.path
        self.expected = m.expected
        self.people = m.participants
        self.replies = {}
        self.result = None
        if m.opened:
            self.history = []
        self._log(f"{'wrote' if m.opened else 'opened'} {m.path}: {m.message.kind} ceremony, round {m.message.round}")
        self._refresh_view()

    # ------------------------------------------------------------ view
    def _refresh_view(self) -> None:
        msg = self.msg
        title = self.query_one("#co-title", Static)
        if msg is None:
            title.update("Coordinator: no ceremony open")
            return
        fp = msg.fingerprint
        title.update(Text(f"{msg.kind} ceremony {msg.ceremony}, round {msg.round}", no_wrap=True,
                          overflow="ellipsis"))
        t = Text()
        t.append(f"{self.shown(self.msg_path)}  fingerprint {fp.hex}\n")
        t.append("words for the keyholders to compare: ")
        t.append(fp.words, style="bold reverse")
        self.query_one("#co-message", Static).update(t)
        table = self.query_one("#co-who", DataTable)
        table.clear()
        who = self.expected.get("who", [])
        for person in self.people:
            if person in self.replies:
                r, src = self.replies[person]
                status, reply = "answered", f"{self.shown(src)}  {r.fingerprint.hex}"
            elif person in who:
                status, reply = "MISSING", ""
            elif person in self.expected.get("optional", []):
                status, reply = "optional", "outgoing member: may confirm, does not sign"
            else:
                status, reply = "not asked", ""
            table.add_row(person, status, reply, key=person)
        self._progress()

    def _progress(self) -> None:
        p = self.query_one("#co-progress", Static)
        if self.msg is None:
            p.update("")
            return
        if self.expected.get("next") == "done":
            p.update("this ceremony is done")
            return
        who = self.expected.get("who", [])
        need = self.expected.get("need", 0)
        got = [w for w in who if w in self.replies]
        missing = [w for w in who if w not in self.replies]
        t = Text()
        t.append(f"{len(got)} of {need} needed replies ({len(who)} asked)", style="bold")
        if missing:
            t.append(f"; missing: {', '.join(missing)}")
        if len(got) >= need:
            t.append("  press c to collect", style="bold")
        else:
            t.append("  f adds reply files, i scans QR frames")
        p.update(t)

    def _log(self, line: str, problem: bool = False) -> None:
        self.history.append(("! " if problem else "") + line)
        self.history = self.history[-4:]
        t = Text()
        for h in self.history:
            t.append(h + "\n", style="bold" if h.startswith("! ") else "")
        self.query_one("#co-log", Static).update(t)

    def failed(self, message: WorkFailed) -> None:
        from ..messages import error_lines

        self._log(error_lines(message.error)[0], problem=True)

    # ------------------------------------------------------------ replies
    def _need_msg(self) -> bool:
        if self.msg is None:
            self.show_error(["error: no ceremony open",
                             "hint: press k, s or t to open one, or o to continue from a message"])
            return False
        return True

    def action_add_files(self) -> None:
        if not self._need_msg() or self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Add keyholders' replies", "", cwd=self.ct.cwd, label="reply files",
                        help="Reply files (.ctm), a folder of them, or a glob such as reply-*.ctm; "
                             "a folder of images or an image is read as QR frames.",
                        dialog_id="replies-dialog"),
            lambda v: v and self._add(v["path"].strip()))

    def action_add_qr(self) -> None:
        if not self._need_msg() or self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Scan a reply's QR frames", "", cwd=self.ct.cwd, label="camera, video or images",
                        help="One reply: a camera (/dev/video0) filming the keyholder's screen, a video file of "
                             "it, or a folder of photos or frame PNGs.",
                        dialog_id="replies-qr-dialog"),
            lambda v: v and self._add(v["path"].strip(), qr_only=True))

    def _add(self, text: str, qr_only: bool = False) -> None:
        self.busy(f"reading replies {text}")
        self.start_scan()
        self._add_replies(text, qr_only, self.journal)

    @work(thread=True, group="co-add", exclusive=True)
    def _add_replies(self, text: str, qr_only: bool, journal: Any) -> None:
        try:
            from cerro_torre.ceremony.coordinator import expected, people as people_of
            from cerro_torre.ceremony.message import Message
            from cerro_torre.ceremony.protocol import check_reply

            view = journal.view()
            msg = view.msg

            full = self.ct.resolve(text)
            holds_replies = os.path.isdir(full) and any(n.endswith(".ctm") for n in os.listdir(full))
            if qr_only or is_qr_source(text, self.ct.resolve) and not holds_replies:
                sources = [(text, True)]  # one reply, from QR frames
            else:
                sources = [(p, False) for p in self.expand_paths(text)]
            people = people_of(view)
            nxt = expected(view)
            asked = set(nxt["who"]) | set(nxt["optional"])
            out = []
            for src, is_qr in sources:
                if is_qr:
                    r = Message.parse(self.scan_qr(src), f"reply from QR frames {src}")
                else:
                    r = Message.parse(self.read_file(src, "reply"), f"reply {src}")
                check_reply(r, msg, r.round, people, asked)
                out.append((r, src))
            self.post_message(RepliesAdded(out))
        except Exception as e:  # noqa: BLE001
            self.post_failure("add", e)

    def on_replies_added(self, m: RepliesAdded) -> None:
        from cerro_torre.suites.errors import CeremonyError

        self.idle()
        for r, src in m.replies:
            have = self.replies.get(r.sender)
            if have is not None:
                if have[0].to_bytes() == r.to_bytes():
                    self.show_error(CeremonyError(f"reply from {r.sender!r} is given twice",
                                                  "pass each reply file once"), severity="warning")
                    continue
                err = CeremonyError(f"{r.sender!r} sent two different {r.round} replies",
                                    "a keyholder answered twice; investigate before going on")
                self.show_error(err)
                self._log(f"error: {err.message}", problem=True)
                continue
            self.replies[r.sender] = (r, src)
            self._log(f"reply from {r.sender}: {self.shown(src)} ({r.fingerprint.hex})")
        self._refresh_view()

    # ------------------------------------------------------------ collect
    def action_collect(self) -> None:
        if not self._need_msg() or self.refuse_while_busy():
            return
        self.busy(f"collecting {len(self.replies)} replies")
        self._collect(self.journal, [r for r, _ in self.replies.values()])

    @work(thread=True, group="co-collect", exclusive=True)
    def _collect(self, journal: Any, replies: list[Any]) -> None:
        try:
            from cerro_torre.ceremony import coordinator
            from cerro_torre.ceremony.message import Message
            from cerro_torre.ceremony.protocol import Journal
            from cerro_torre.governance.keyholders import KeyholderSet

            from cerro_torre.ceremony.repair import Repaired

            nxt = Journal(list(journal.messages), list(journal.records), journal.path)  # saved with the result
            out = coordinator.collect(nxt, replies)
            kind = "message" if isinstance(out, Message) else "record" if isinstance(out, KeyholderSet) else \
                "repaired" if isinstance(out, Repaired) else "signed"
            self.post_message(Collected(out, kind, nxt))
        except Exception as e:  # noqa: BLE001
            self.post_failure("collect", e)

    def on_collected(self, m: Collected) -> None:
        self.idle()
        self.result = m.result
        self.result_kind = m.kind
        self.collected = m.journal
        folder = os.path.dirname(self.msg_path)
        stem = os.path.splitext(os.path.basename(self.msg_path))[0]

        def at(name: str) -> str:
            return os.path.join(folder, name) if folder else name

        if m.kind == "message":
            fields = [Field("output", "next message", at(f"{m.result.kind}-{m.result.round}.ctm"), "path")]
            title = f"Collected: the {m.result.round} message is ready"
            help = f"fingerprint {m.result.fingerprint.hex}  {m.result.fingerprint.words}"
        elif m.kind == "repaired":
            fields = [Field("output", "done message", at(f"{stem}-done.ctm"), "path"),
                      Field("transcript", "transcript", at(f"{stem}-transcript.ctm"), "path")]
            title = f"Collected: {m.result.member}'s share is restored"
            help = f"It matches the verification share in {m.result.record.describe()}: no new record."
        elif m.kind == "record":
            fields = [Field("output", "record", at("keyholders.json"), "path"),
                      Field("transcript", "transcript", at(f"{stem}-transcript.ctm"), "path")]
            title = f"Collected: {m.result.describe()}"
            help = (f"{m.result.threshold} of {len(m.result.members)}; words {m.result.fingerprint.words}\n"
                    "Verifiers pin it ('ct policy init --root') after comparing the words.")
        else:
            b = self.bundle or ""
            fields = [Field("bundle", "bundle signed", self.shown(b) if b else "", "path"),
                      Field("output", "signed bundle", at(os.path.splitext(os.path.basename(b))[0] + "-signed.ctp")
                            if b else at("signed.ctp"), "path"),
                      Field("transcript", "transcript", at(f"{stem}-transcript.ctm"), "path")]
            title = f"Collected: {len(m.result.signatures)} signatures"
            help = "The bundle given to the signing ceremony gets the signatures, the chain and the stock forms."

        def check(v: dict[str, str]) -> str | None:
            for k, val in v.items():
                if k != "transcript" and not val.strip():
                    return f"{k} is needed"
            for k in ("output", "transcript"):
                if v.get(k, "").strip() and os.path.exists(self.ct.resolve(v[k].strip())):
                    return f"error: {v[k].strip()} exists\nhint: choose another -o, or move the old file away"
            return None

        self.app.push_screen(FormDialog(title, fields, help=help, validate=check, cwd=self.ct.cwd,
                                        dialog_id="save-dialog"), self._save)

    def _save(self, v: dict[str, str] | None) -> None:
        if v is None:
            self._log("collected result not saved: press c to collect again")
            return
        self.busy("writing")
        self._write_result(self.journal, self.collected, self.result, self.result_kind, v)

    @work(thread=True, group="co-write", exclusive=True)
    def _write_result(self, before: Any, journal: Any, result: Any, kind: str, v: dict[str, str]) -> None:
        try:
            from cerro_torre.ceremony import coordinator

            out = v["output"].strip()
            transcript = v.get("transcript", "").strip()
            self.refuse_overwrite(out)
            if transcript:
                self.refuse_overwrite(transcript)
            view = before.view()
            if kind == "message":
                self.write_new(out, result.to_bytes())
                journal.save()
                self.post_message(ResultWritten(kind, [], message=result, path=out))
                self.post_message(self._opened(journal, out, None, opened=False))  # it becomes the current one
                return
            if kind == "record":
                self.write_new(out, result.to_bytes())
                lines = coordinator.record_written(view, result, out)
            elif kind == "repaired":
                self.write_new(out, journal.last.to_bytes())
                lines = coordinator.repaired(result, out)
            else:
                bundle = v["bundle"].strip()
                coordinator.write_signed_bundle(view, result, self.ct.path_arg(bundle), self.ct.path_arg(out))
                lines = [f"wrote {out}: signed by {result.records[-1].describe()}",
                         f"  {len(result.signatures)} signatures (1 FROST group, "
                         f"{len(result.signatures) - 1} ML-DSA-87)"
                         + (", stock-tool forms included" if result.stock else ""),
                         f"  check it with 'ct verify {out} --policy POLICY.json'"]
            journal.save()
            if transcript:
                self.write_new(transcript, journal.to_bytes())
                lines.append(f"  transcript: {transcript} ('ct ceremony status --transcript {transcript}')")
            self.post_message(ResultWritten(kind, lines, path=out, record=result if kind == "record" else None))
        except Exception as e:  # noqa: BLE001
            self.post_failure("write", e)

    def on_result_written(self, m: ResultWritten) -> None:
        self.idle()
        if m.kind == "message":
            self.notify(f"wrote {m.path}: {m.message.kind} ceremony {m.message.ceremony}, round {m.message.round}\n"
                        f"  fingerprint {m.message.fingerprint.hex}  {m.message.fingerprint.words}",
                        timeout=8, markup=False)
            return
        if m.record is not None:
            self.ct.remember_records([m.record], self.ct.resolve(m.path))
        for line in m.lines:
            self._log(line)
        self.expected = {"next": "done", "who": [], "need": 0}
        self.query_one("#co-title", Static).update(Text(f"{self.msg.kind} ceremony {self.msg.ceremony}: done",
                                                        no_wrap=True))
        self._progress()
        self.notify("\n".join(m.lines), timeout=12, markup=False)

    def action_show_qr(self) -> None:
        if not self._need_msg():
            return
        self.play_qr(f"{self.msg.kind} {self.msg.round} {os.path.basename(self.msg_path)}", self.msg.to_bytes())
