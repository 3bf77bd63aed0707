"""One small form dialog for every question the TUI asks: paths, passphrases, ceremony parameters.

Fields are one line each (compact inputs) so the largest form fits 80x24.
Enter moves to the next field and submits from the last one (on a choice
too: space or the arrows open its list); Ctrl+S submits
from anywhere; Esc cancels.  The focused field's label is shown in reverse
video, which stays visible under ``NO_COLOR``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Footer, Input, Label, Select, Static

from ..widgets.paths import PathSuggester
from ..widgets.strength import Strength


@dataclass
class Field:
    name: str
    label: str
    value: str = ""
    kind: str = "text"            # text | password | path | select
    options: list[tuple[str, str]] = field(default_factory=list)   # (shown, value) for select
    placeholder: str = ""


class FormSelect(Select):
    """A choice in a form: Enter moves to the next field like every other field (the footer says so);
    space or the arrow keys open the list."""

    BINDINGS = [
        Binding("enter", "next_field", "Next", show=False),
        Binding("down,space,up", "show_overlay", "Show menu", show=False),
    ]

    def action_next_field(self) -> None:
        self.screen.next_field(self.id or "")  # type: ignore[attr-defined]


class FormDialog(ModalScreen[dict[str, str] | None]):
    BINDINGS = [
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "submit", "Submit", priority=True),
    ]

    def __init__(self, title: str, fields: list[Field], *, help: str = "",
                 validate: Callable[[dict[str, str]], str | None] | None = None,
                 strength_for: str | None = None, cwd: str | None = None, dialog_id: str = "") -> None:
        super().__init__(id=dialog_id or None)
        self.title_text = title
        self.fields = fields
        self.help = help
        self.validate = validate
        self.strength_for = strength_for
        self.cwd = cwd

    def compose(self) -> ComposeResult:
        with Vertical(id="dialog"):
            yield Static(self.title_text, id="dialog-title")
            if self.help:
                yield Static(self.help, id="dialog-help", markup=False)
            for f in self.fields:
                with Horizontal(classes="form-row"):
                    yield Label(f.label, classes="form-label")
                    yield self._widget(f)
            if self.strength_for:
                yield Strength("", id="strength")
            yield Static("", id="form-error", markup=False)
            yield Static("Enter: next / submit   Tab: move   Ctrl+S: submit   Esc: cancel", id="dialog-keys")
        yield Footer()

    def _widget(self, f: Field) -> Any:
        wid = f"field-{f.name}"
        if f.kind == "select":
            return FormSelect(f.options, value=f.value or f.options[0][1], allow_blank=False, compact=True, id=wid)
        return Input(f.value, placeholder=f.placeholder, password=f.kind == "password", compact=True, id=wid,
                     suggester=PathSuggester(self.cwd) if f.kind == "path" else None)

    def on_mount(self) -> None:
        if self.strength_for:
            self.query_one(Strength).update_for("")
        for f in self.fields:
            if not f.value or f.kind == "password":
                self.query_one(f"#field-{f.name}").focus()
                return
        self.query_one(f"#field-{self.fields[-1].name}").focus()

    def on_input_changed(self, event: Input.Changed) -> None:
        if self.strength_for and event.input.id == f"field-{self.strength_for}":
            self.query_one(Strength).update_for(event.value)
        self.query_one("#form-error", Static).update("")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.next_field(event.input.id or "")

    def next_field(self, widget_id: str) -> None:
        """Enter on a field: focus the next one, or submit from the last."""
        ids = [f"field-{f.name}" for f in self.fields]
        i = ids.index(widget_id) if widget_id in ids else len(ids) - 1
        if i == len(ids) - 1:
            self.action_submit()
        else:
            self.query_one(f"#{ids[i + 1]}").focus()

    def values(self) -> dict[str, str]:
        out = {}
        for f in self.fields:
            w = self.query_one(f"#field-{f.name}")
            out[f.name] = str(w.value) if isinstance(w, Select) else w.value
        return out

    def action_submit(self) -> None:
        vals = self.values()
        if self.validate is not None:
            problem = self.validate(vals)
            if problem:
                self.query_one("#form-error", Static).update(problem)
                return
        self.dismiss(vals)

    def action_cancel(self) -> None:
        self.dismiss(None)


def path_dialog(title: str, value: str = "", *, help: str = "", label: str = "path", cwd: str | None = None,
                dialog_id: str = "") -> FormDialog:
    """Ask for one path (→ completes file names)."""
    def need(v: dict[str, str]) -> str | None:
        return None if v["path"].strip() else "a path is needed"
    return FormDialog(title, [Field("path", label, value, "path")], help=help, validate=need, cwd=cwd,
                      dialog_id=dialog_id)
