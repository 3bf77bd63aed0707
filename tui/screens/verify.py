"""Verify (F5): a bundle's ``ct explain`` story as a tree, with the verdict and what its exit code means.

The tree holds what ``ct explain --signers --layers`` prints, in the same
words, nested: files under "subjects" (status and name first, the digest one
level down, so they read in 80 columns), epochs under "trust chain", members
under "signers", hints under "status".  The verdict line says what
``ct verify`` would exit with and what that code means (``spec/exit-codes.md``).
"""

from __future__ import annotations

import os
from typing import Any

from cerro_torre.ceremony.verifier import chain_step_lines, signer_rows, signer_sections
from cerro_torre.suites.encoding import human_size, printable
from cerro_torre.suites.errors import EXIT_CODES as _EXIT_CODES
from cerro_torre.suites.suite import counts_text as alg_counts
from rich.text import Text
from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.widgets import Static, Tree

from ..messages import Verified
from .base import CTScreen
from .dialogs import path_dialog

EXIT_CODES = _EXIT_CODES  # the table of spec/exit-codes.md (suites/errors.py)
human = human_size


def _fp_hex(fp: Any) -> str:
    """The 4x4 hex form of a fingerprint given as a Fingerprint, its JSON, or 64 hex digits."""
    if isinstance(fp, dict):
        return fp["hex"]
    if isinstance(fp, str):
        return " ".join(fp[i:i + 4] for i in range(0, 16, 4))
    return fp.hex


def signer_line(s: dict) -> str:
    if not s:
        return "unknown"
    if s["kind"] == "keyholder-set":
        return (f"keyholder set '{s['name']}' epoch {s['epoch']} ({s['suite']}, {s['threshold']} of "
                f"{s['members']}), fingerprint {_fp_hex(s['fingerprint'])}")
    return f"key '{s['name']}' ({s['suite']}), fingerprint {_fp_hex(s['fingerprint'])}"


signers = signer_rows


Node = tuple[str, list["Node"]]


def explain_tree(res: Any, *, layers: bool = True) -> Node:
    """``(label, children)``: the lines of ``ct explain --signers [--layers]``, nested."""
    from cerro_torre.ceremony.verifier import STEPS

    err = res.error
    kids: list[Node] = []
    root = (f"bundle      {os.path.basename(res.path)} ({human(res.size)})", kids)
    m = res.manifest
    if m is None:
        kids.append((f"status      MALFORMED (exit {err.exit_code}): {err.message}",
                     [(f"hint: {h}", []) for h in err.hints]))
        return root
    kids.append((f"package     {m.name} {m.version}", []))
    src = m.source
    kids.append((f"source      {src.get('kind')}" + "".join(
        f"  {k} {', '.join(v) if isinstance(v, list) else v}" for k, v in sorted(src.items()) if k != "kind"), []))
    if res.statement is not None:
        kids.append((f"statement   in-toto Statement v1, sha256 {res.statement_sha256}",
                     [(f"predicate {res.statement.predicate_type}", [])]))
    kids.append((f"manifest    sha256 {res.manifest_sha256}", []))
    total = m.total_size
    files: list[Node] = []
    for f, mark in res.file_rows():
        files.append((f"{mark:<8}  {f.path}  ({human(f.size)})", [(f"sha256 {f.sha256}", [])]))
    kids.append((f"subjects    {len(m.files)} file(s), {human(total)}", files))
    if layers:
        kids.append((f"layers      {len(m.layers)}", [
            (f"{layer.get('digest')}  {layer.get('size'):>12}  {layer.get('platform') or '-':<14}"
             f"  {layer.get('media_type')}", []) for layer in m.layers]))
    env = res.envelope
    if env is not None:
        kids.append((f"signatures  {len(env.signatures)} over the DSSE envelope ({env.payload_type})",
                     [(f"{s.alg:<10} keyid {s.keyid}  {res.names.get(s.keyid, 'unknown key')}", [])
                      for s in env.signatures]))
    kids.append((f"signer      {signer_line(res.signer)}", []))
    if res.release is not None:
        kids.append((f"threshold   {alg_counts(res.release)}  ({'met' if res.release.ok else 'NOT met'})", []))
    if res.chain is not None:
        epochs: list[Node] = []
        if not res.chain.steps:
            epochs.append(("(no record of the chain starts at a pinned root)", []))
        for i, step in enumerate(res.chain.steps):
            r = step.record
            role = "pinned root" if i == 0 else f"rotated from epoch {res.chain.steps[i - 1].record.epoch}"
            epochs.append((f"epoch {r.epoch:<4} {r.name}  {r.suite}  {r.threshold} of {len(r.members)}  "
                           f"fingerprint {r.fingerprint.hex}  expires {r.expires}",
                           [(line, []) for line in chain_step_lines(role, step)]))
        kids.append(("trust chain", epochs))
        from cerro_torre.ceremony.verifier import epochs_text

        text = epochs_text(res)
        if text:
            kids.append((f"epochs      {text}", []))
    if res.stock is not None:
        kids.append((f"stock       signify, minisign, ssh, SHA256SUMS signatures by keyid {res.stock.keyid}",
                     [(f"trusted comment: {res.stock.trusted_comment}", [])]))
    if res.attestations:
        from cerro_torre.ceremony.verifier import attestation_lines

        head, rows = attestation_lines(res)
        kids.append((head, [(row, []) for row in rows]))
    people: list[Node] = []
    for title, rows in signer_sections(signers(res)):
        people.append((title, [(f"{s['id']:<16} {s['role']:<9} fingerprint {s['fingerprint']}  words {s['words']}",
                                [(f"{alg:<10} keyid {info['keyid']}", []) for alg, info in s["keys"].items()])
                               for s in rows]))
    kids.append(("signers", people))
    kids.append((f"trust from  {res.policy_label or 'this home only (no policy)'}", []))
    kids.append(("checks      " + ", ".join(f"{s} {res.step_status(s)}" for s in STEPS), []))
    if err is None:
        kids.append(("status      valid (ct verify exits 0)", []))
    else:
        kids.append((f"status      {'MALFORMED' if err.exit_code == 10 else 'INVALID'} (ct verify exits {err.exit_code}): "
            f"{err.message}",
                     [(f"hint: {h}", []) for h in err.hints]))
    return root


def verdict_lines(res: Any) -> list[str]:
    err = res.error
    if err is None:
        return [f"VALID: ct verify exits 0 ({EXIT_CODES[0]})"]
    return error_verdict(err, "ct verify")


def error_verdict(err: Any, command: str) -> list[str]:
    from ..messages import error_lines, exit_code_of

    code = exit_code_of(err)
    return [f"INVALID: {command} exits {code} ({EXIT_CODES.get(code, 'error')})"] + error_lines(err)


def is_tarball(path: str) -> bool:
    """An airgap tarball (``ct export``) rather than a bundle: its members live under ``airgap/``."""
    if path.lower().endswith(".ctp"):
        return False
    if path.lower().endswith(".tar"):
        return True
    try:
        with open(path, "rb") as f:
            name = f.read(100).split(b"\0", 1)[0]
    except OSError:
        return False
    return name.startswith(b"airgap/") or name == b"index.json"


def import_tree(path: str, res: Any) -> Node:
    """What ``ct import --verify`` checked: every bundle's explain tree, the chain and keys carried."""
    kids: list[Node] = []
    for r in res.results:
        kids.append(explain_tree(r, layers=False))
    for st in res.sets:
        fp = st["fingerprint"]
        kids.append((f"chain       keyholder set '{st['name']}' at epoch {st['epoch']}, fingerprint "
                     f"{_fp_hex(fp)}", []))
    if res.keys_new or res.keys_known:
        kids.append((f"keys        {', '.join(res.keys_new) or 'none'} imported with trust none"
                     + (f"; {', '.join(res.keys_known)} already here" if res.keys_known else ""), []))
    kids.append((f"policy      {res.policy_used or 'pinned policy'}", []))
    kids.append((f"store       {res.store} ({'imported' if res.changed else 'already there, nothing changed'})",
                 []))
    return (f"tarball     {os.path.basename(path)} ({len(res.results)} bundle(s))", kids)


class VerifyScreen(CTScreen):
    MODE = "verify"
    BINDINGS = [
        Binding("o", "open", "Open"),
        Binding("p", "policy", "Policy"),
        Binding("r", "rerun", "Re-run"),
        Binding("e", "expand", "Expand all"),
        Binding("c", "collapse", "Collapse"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.path = ""
        self.policy_path: str | None = None

    def body(self) -> ComposeResult:
        yield Static("Verify a bundle or an airgap tarball", id="ve-title", classes="title")
        yield Static("", id="ve-policy", classes="status")
        yield Static("", id="verdict")
        yield Tree("no bundle open", id="explain")

    def on_mount(self) -> None:
        default = os.path.join(self.ct.home, "policy.json")
        self.policy_path = default if os.path.isfile(default) else None
        self._policy_line()
        self.query_one("#verdict", Static).update(
            "press o to open a bundle (.ctp) or an airgap tarball (.tar); p chooses the policy")
        tree = self.query_one(Tree)
        tree.show_root = True
        tree.focus()

    def _policy_line(self) -> None:
        text = (f"policy {self.shown(self.policy_path)}" if self.policy_path
                else "no policy: trust comes from this home's keys only (p chooses a policy.json)")
        self.query_one("#ve-policy", Static).update(Text(text, no_wrap=True, overflow="ellipsis"))

    def action_open(self) -> None:
        if self.refuse_while_busy():
            return
        self.app.push_screen(
            path_dialog("Verify a bundle or an airgap tarball", self.path, cwd=self.ct.cwd,
                        label="bundle or .tar",
                        help="A bundle (.ctp) as 'ct verify' and 'ct explain' check it: every digest, signature, "
                             "the keyholder chain from the pinned root and the policy.  An airgap tarball "
                             "(.tar) as 'ct import --verify' does.", dialog_id="verify-dialog"),
            lambda v: v and self.verify(v["path"].strip()))

    def action_policy(self) -> None:
        if self.refuse_while_busy():
            return

        def chosen(v: dict[str, str] | None) -> None:
            if v is None:
                return
            p = v["path"].strip()
            self.policy_path = self.ct.resolve(p) if p and p != "none" else None
            self._policy_line()
            if self.path:
                self.verify(self.path)

        from .dialogs import Field, FormDialog

        self.app.push_screen(FormDialog(
            "Policy to verify against",
            [Field("path", "policy.json", self.shown(self.policy_path) if self.policy_path else "", "path",
                   placeholder="empty: none (trust from this home's keys)")],
            help="The verifier's policy: pinned roots, suites, signers, registries, min epoch/threshold.",
            cwd=self.ct.cwd, dialog_id="policy-dialog"), chosen)

    def action_rerun(self) -> None:
        if self.path:
            self.verify(self.path)

    def verify(self, path: str) -> None:
        self.path = path
        if is_tarball(self.ct.resolve(path)):
            self._confirm_import(path)
            return
        self.busy(f"verifying {path}")
        self._verify(path, self.policy_path)

    def _confirm_import(self, path: str) -> None:
        from .dialogs import Field, FormDialog

        def go(v: dict[str, str] | None) -> None:
            if v is None:
                return
            pol = v["policy"].strip()
            self.busy(f"verifying and importing {path}")
            self._import(path, self.ct.resolve(pol) if pol else None)

        self.app.push_screen(FormDialog(
            f"Import {os.path.basename(path)} into this home's store?",
            [Field("policy", "policy.json", self.shown(self.policy_path) if self.policy_path else "", "path",
                   placeholder="empty: the pinned policy, else HOME/policy.json")],
            help="An airgap tarball is checked as 'ct import TARBALL --verify' does: every bundle, the chain "
                 "and the policy are verified before anything lands in the store, and a failure leaves the "
                 "store as it was.  Ctrl+S imports; Esc cancels.",
            cwd=self.ct.cwd, dialog_id="import-dialog"), go)

    def _progress(self) -> Any:
        """Hashing progress on the busy line (called in the worker thread)."""
        from ..widgets.busy import BusyProgress

        return BusyProgress(lambda text: self.app.call_from_thread(self.busy, text))

    @work(thread=True, group="verify", exclusive=True)
    def _import(self, path: str, policy_path: str | None) -> None:
        try:
            from cerro_torre.offline import airgap

            res = airgap.import_tarball(self.ct.path_arg(path), self.ct.home, policy_path=policy_path,
                                        progress=self._progress())
            self.post_message(Verified(path, res, kind="tarball", extra=list(res.notes)))
        except Exception as e:  # noqa: BLE001
            self.post_failure("import", e)

    def failed(self, message: Any) -> None:
        command = "ct import" if message.what == "import" else "ct verify"
        v = self.query_one("#verdict", Static)
        v.set_class(True, "-invalid")
        v.update(Text("\n".join(error_verdict(message.error, command))))
        tree: Tree = self.query_one(Tree)
        tree.clear()
        tree.root.set_label(Text(f"{self.path}: nothing to show"))

    @work(thread=True, group="verify", exclusive=True)
    def _verify(self, path: str, policy_path: str | None) -> None:
        try:
            from cerro_torre.ceremony.verifier import record_verified, verify_bundle
            from cerro_torre.offline.airgap import resolve_trust
            from cerro_torre.offline.store import Store
            from cerro_torre.suites.errors import NotFound

            full = self.ct.resolve(path)
            if not os.path.exists(full):
                raise NotFound(f"bundle not found: {path}", "check the path of the .ctp file")
            # as 'ct verify': a policy chosen here is all the trust; HOME/policy.json (or a host's pinned
            # store) is the default, with the keys this home trusts
            default = os.path.join(self.ct.home, "policy.json")
            explicit = policy_path if policy_path and os.path.abspath(policy_path) != default else None
            policy, trust, _pin = resolve_trust(Store(self.ct.home).load(), self.ct.home, explicit)
            if policy is not None and policy.path:
                policy.path = self.shown(policy.path)  # the label names the file as this screen shows it
            res = verify_bundle(self.ct.path_arg(path), trust, policy, progress=self._progress())
            record_verified(res, self.ct.home)    # the epochs this home verified: trust only moves forward
            self.post_message(Verified(path, res))
        except Exception as e:  # noqa: BLE001
            self.post_failure("verify", e)

    def on_verified(self, m: Verified) -> None:
        self.idle()
        res = m.result
        v = self.query_one("#verdict", Static)
        if m.kind == "tarball":
            lines = [f"VALID: ct import exits 0 ({EXIT_CODES[0]}); "
                     + ("imported into the store" if res.changed else "already in the store, nothing changed")]
            lines += m.extra
            v.set_class(False, "-invalid")
            label, kids = import_tree(m.path, res)
        else:
            lines = verdict_lines(res)
            v.set_class(res.error is not None, "-invalid")
            label, kids = explain_tree(res, layers=bool(res.manifest is not None and res.manifest.layers))
        v.update(Text("\n".join(lines)))
        tree: Tree = self.query_one(Tree)
        tree.clear()
        tree.root.set_label(Text(printable(label)))
        self._add(tree.root, kids)
        tree.root.expand()
        self.query_one("#ve-title", Static).update(Text(f"Verify {m.path}", no_wrap=True, overflow="ellipsis"))
        tree.focus()

    def _add(self, node: Any, kids: list[Node]) -> None:
        for label, sub in kids:
            if sub:
                child = node.add(Text(printable(label)),
                                 expand=label.startswith(("status", "trust chain", "subjects", "bundle")))
                self._add(child, sub)
            else:
                node.add_leaf(Text(printable(label)))

    def action_expand(self) -> None:
        self.query_one(Tree).root.expand_all()

    def action_collapse(self) -> None:
        root = self.query_one(Tree).root
        root.collapse_all()
        root.expand()
