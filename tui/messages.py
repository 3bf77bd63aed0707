"""Typed messages the TUI's thread workers post back to the screens.

Every blocking piece of work (Argon2id, key generation, answering a round,
collecting, QR encode/decode, verification) runs in a thread worker
(``@work(thread=True)``) that ends by posting exactly one of these: the
result, or :class:`WorkFailed`.  Handlers run on the UI thread.

:func:`error_lines` renders an exception the way the ``ct`` command prints
it (``error: ...`` then ``hint: ...`` lines), so a notification in the TUI
carries the same text as the CLI's stderr.
"""

from __future__ import annotations

from typing import Any

from textual.message import Message


def error_lines(exc: BaseException) -> list[str]:
    """``error:``/``hint:`` lines for ``exc``, as ``cli/main.py`` writes them (untrusted text escaped)."""
    from cerro_torre.suites.encoding import printable
    from cerro_torre.suites.errors import CTError

    if isinstance(exc, CTError):
        lines = [f"error: {exc.message}"] + [f"hint: {h}" for h in exc.hints]
    elif isinstance(exc, OSError) and exc.filename:
        lines = [f"error: {exc.strerror.lower() if exc.strerror else 'i/o error'}: {exc.filename}",
                 "hint: check the path and its permissions"]
    else:
        lines = [f"error: internal error: {type(exc).__name__}: {exc}",
                 "hint: run again with -v for a traceback, and report it"]
    return [printable(x) for x in lines]


def exit_code_of(exc: BaseException) -> int:
    """The exit code ``ct`` would end with for ``exc``."""
    from cerro_torre.suites.errors import CTError

    if isinstance(exc, CTError):
        return exc.exit_code
    if isinstance(exc, OSError) and exc.filename:
        return 21 if isinstance(exc, FileNotFoundError) else 74
    return 70


class WorkFailed(Message):
    """A worker's job ended with an error (shown as a notification)."""

    def __init__(self, what: str, error: BaseException) -> None:
        super().__init__()
        self.what = what
        self.error = error

    @property
    def lines(self) -> list[str]:
        return error_lines(self.error)


class StepDone(Message):
    """A small job finished: lines for a notification (as the CLI would print them)."""

    def __init__(self, what: str, lines: list[str]) -> None:
        super().__init__()
        self.what = what
        self.lines = lines


# ------------------------------------------------------------------ keys

class KeysLoaded(Message):
    """The home's keys (``Home.list_keys()``) and the share files present."""

    def __init__(self, entries: list[Any], shares: list[str], default: str | None) -> None:
        super().__init__()
        self.entries = entries
        self.shares = shares      # keys.shares.ShareEntry of HOME/shares/*.share, with their status
        self.default = default


class KeyGenerated(Message):
    def __init__(self, public: Any, path: str, is_default: bool, seconds: float) -> None:
        super().__init__()
        self.public = public
        self.path = path
        self.is_default = is_default
        self.seconds = seconds


class PublicExported(Message):
    def __init__(self, key_id: str, path: str, fingerprint: Any) -> None:
        super().__init__()
        self.key_id = key_id
        self.path = path
        self.fingerprint = fingerprint


# ------------------------------------------------------------------ QR

class FramesReady(Message):
    """A message encoded as QR frames that fit this terminal, the first ones drawn (``widgets/qrframes.Frames``)."""

    def __init__(self, title: str, frames: Any) -> None:
        super().__init__()
        self.title = title
        self.frames = frames


class QRProgress(Message):
    """A scan of QR frames (camera, video, images) moved on: the progress line to show."""

    def __init__(self, source: str, text: str) -> None:
        super().__init__()
        self.source = source
        self.text = text


# ------------------------------------------------------------------ keyholder

class IncomingLoaded(Message):
    """A coordinator message, read and checked by ``Keyholder.prepare``: what answering approves."""

    def __init__(self, source: str, pending: Any, checked_against: list[str]) -> None:
        super().__init__()
        self.source = source
        self.pending = pending
        self.checked_against = checked_against


class RecordKept(Message):
    """A keyholder-set record this home took part in, checked and kept (``Keyholder.store_record``)."""

    def __init__(self, source: str, lines: list[str]) -> None:
        super().__init__()
        self.source = source
        self.lines = lines


class ReplyWritten(Message):
    """The keyholder's signed reply, written to ``path``."""

    def __init__(self, reply: Any, path: str, member: str, seconds: float) -> None:
        super().__init__()
        self.reply = reply
        self.path = path
        self.member = member
        self.seconds = seconds


# ------------------------------------------------------------------ coordinator

class CeremonyOpened(Message):
    """A coordinator message to work from: just opened (and written), or loaded from a file."""

    def __init__(self, journal: Any, path: str, expected: dict[str, Any], participants: list[str],
                 bundle: str | None = None, opened: bool = False) -> None:
        super().__init__()
        self.journal = journal          # the coordinator's journal of the ceremony (protocol.Journal)
        self.message = journal.last
        self.path = path
        self.expected = expected
        self.participants = participants
        self.bundle = bundle
        self.opened = opened


class RepliesAdded(Message):
    """Replies read from files or QR images and checked against the current message."""

    def __init__(self, replies: list[tuple[Any, str]]) -> None:
        super().__init__()
        self.replies = replies  # (Message, source)


class Collected(Message):
    """``coordinator.collect`` merged the replies: the next message, a keyholder-set record or a signature."""

    def __init__(self, result: Any, kind: str, journal: Any = None) -> None:
        super().__init__()
        self.result = result
        self.kind = kind  # "message" | "record" | "signed"
        self.journal = journal   # the journal with the replies (and the next message) added


class ResultWritten(Message):
    """The collected result is on disk."""

    def __init__(self, kind: str, lines: list[str], message: Any = None, path: str = "",
                 record: Any = None) -> None:
        super().__init__()
        self.kind = kind
        self.lines = lines
        self.message = message
        self.path = path
        self.record = record


# ------------------------------------------------------------------ verify / governance

class Verified(Message):
    """``verify_bundle`` ran (its result holds the error, if any)."""

    def __init__(self, path: str, result: Any, kind: str = "bundle", extra: list[str] | None = None) -> None:
        super().__init__()
        self.path = path
        self.result = result
        self.kind = kind
        self.extra = extra or []


class ChainLoaded(Message):
    """Keyholder-set records read and walked from the pinned root."""

    def __init__(self, records: list[Any], chain: Any, pinned_from: str, sources: list[str]) -> None:
        super().__init__()
        self.records = records
        self.chain = chain
        self.pinned_from = pinned_from
        self.sources = sources
