"""Atomic file writes: temp file in the same folder, fsync, rename, fsync the folder.

A reader never sees a half-written file, and a crash leaves either the old
file or the new one.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from typing import BinaryIO


@contextlib.contextmanager
def locked_dir(path: str) -> Iterator[None]:
    """An exclusive ``flock`` on ``path/.lock`` (the folder made 0700 if missing) for the block: one
    writer of the state in that folder at a time, across processes."""
    import fcntl

    os.makedirs(path, mode=0o700, exist_ok=True)
    fd = os.open(os.path.join(path, ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def read_limited(path: str, what: str, limit: int, shown: str | None = None) -> bytes:
    """The bytes of the file ``path``, at most ``limit`` of them; the errors name ``what`` and ``shown``
    (default: the path): not found (exit 21), a folder or larger than ``limit`` (exit 10)."""
    from .errors import Malformed, NotFound

    shown = path if shown is None else shown
    try:
        with open(path, "rb") as f:
            data = f.read(limit + 1)
    except FileNotFoundError:
        raise NotFound(f"{what} not found: {shown}", "check the path") from None
    except IsADirectoryError:
        raise Malformed(f"{what} is a directory: {shown}") from None
    if len(data) > limit:
        raise Malformed(f"{what} {shown} is larger than {limit} bytes")
    return data


def fsync_dir(path: str) -> None:
    """fsync a folder, so that a rename or unlink in it is durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


@contextlib.contextmanager
def atomic_writer(path: str | os.PathLike[str], mode: int = 0o644) -> Iterator[BinaryIO]:
    """Yield a binary file; on clean exit it replaces ``path`` atomically.

    On an exception the temp file is removed and ``path`` is untouched.
    """
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    try:
        fd, tmp = tempfile.mkstemp(prefix=".ct-tmp-", dir=folder)
    except OSError as e:
        named = _naming(e, None, path)
        if named is e:
            raise
        raise named from e
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            yield f
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
        fsync_dir(folder)
    except BaseException as e:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        named = _naming(e, tmp, path) if isinstance(e, OSError) else e
        if named is e:
            raise
        raise named from e


def _naming(e: OSError, tmp: str | None, path: str) -> OSError:
    """An error of writing the temp file (no file name: a full disk; or the temp file's name: a folder
    that refuses new files) reported as an error of writing ``path``, the file the user named."""
    if e.filename is not None and e.filename != tmp and not (tmp is None and os.path.basename(
            os.fspath(e.filename)).startswith(".ct-tmp-")):
        return e
    return type(e)(e.errno, e.strerror, path)


def atomic_write(path: str | os.PathLike[str], data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to ``path`` atomically with file mode ``mode``."""
    with atomic_writer(path, mode) as f:
        f.write(data)
