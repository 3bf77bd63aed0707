"""The local store of a disconnected host (``spec/airgap.md`` §Store).

Layout (under ``HOME/store``; folders 0700)::

    index.json                       THE state: canonical JSON, replaced atomically (the commit point)
    bundles/<sha256>.ctp             verified bundles, named by the sha256 of their bytes
    keyholders/<set>/<epoch:016>.json  verified keyholder-set records
    policies/<sha256>.json           policies carried by imported tarballs (kept, never applied)
    .staging-XXXXXXXX/               an import in progress (removed when it ends, or by the next command)

Nothing from a tarball is ever used as a path: staged files are numbered,
published files are named by digest, set name (``[a-z0-9][a-z0-9._-]*``)
and epoch.  A file under ``bundles/``, ``keyholders/`` or ``policies/``
that ``index.json`` does not reference is the leftover of an interrupted
import and is removed by :meth:`Store.recover`, which every store command
runs first under the lock; so an import killed at any point leaves the
store's state (``index.json``) exactly as it was, and the next command
leaves its files exactly as they were too.
"""

from __future__ import annotations

import contextlib
import copy
import fcntl
import os
import re
import shutil
import stat
from collections.abc import Iterator
from typing import Any

from cerro_torre.suites.atomic import atomic_write, fsync_dir
from cerro_torre.suites.encoding import canonical_json, parse_json
from cerro_torre.suites.errors import Malformed

STORE_TYPE = "ct-store"
STORE_VERSION = 1
INDEX = "index.json"
OBJECT_DIRS = ("bundles", "keyholders", "policies")
STAGING_PREFIX = ".staging-"
DIR_MODE = 0o700
FILE_MODE = 0o644
MAX_INDEX = 64 << 20
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")
_SET = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}\Z")


def empty_state() -> dict[str, Any]:
    return {"type": STORE_TYPE, "version": STORE_VERSION, "generation": 0, "pinned": None,
            "sets": {}, "bundles": [], "keyholders": [], "policies": [], "keys": [], "log": []}


def bundle_relpath(sha256: str) -> str:
    return f"bundles/{sha256}.ctp"


def record_relpath(name: str, epoch: int) -> str:
    return f"keyholders/{name}/{epoch:016d}.json"


def policy_relpath(sha256: str) -> str:
    return f"policies/{sha256}.json"


class Store:
    """``HOME/store``.  Every method that changes anything expects :meth:`locked`."""

    def __init__(self, home: str) -> None:
        self.home = os.path.abspath(home)
        self.path = os.path.join(self.home, "store")
        self.index_path = os.path.join(self.path, INDEX)

    # ------------------------------------------------------------ locking, recovery
    def _ensure(self) -> None:
        for d in (self.home, self.path):
            if not os.path.isdir(d):
                os.makedirs(d, mode=DIR_MODE, exist_ok=True)
                os.chmod(d, DIR_MODE)

    @contextlib.contextmanager
    def locked(self) -> Iterator[Store]:
        """One store command at a time: ``flock`` on the store folder itself (no lock file)."""
        self._ensure()
        fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            yield self
        finally:
            os.close(fd)

    def recover(self, state: dict[str, Any] | None = None) -> list[str]:
        """Remove what an interrupted import left: staging folders, temp files, unreferenced objects.

        Returns the removed paths (relative to the store)."""
        if not os.path.isdir(self.path):
            return []
        state = state if state is not None else self.load()
        keep = self.referenced(state)
        removed: list[str] = []
        for name in sorted(os.listdir(self.path)):
            full = os.path.join(self.path, name)
            if name.startswith((STAGING_PREFIX, ".ct-tmp-")):
                _remove(full)
                removed.append(name)
        for top in OBJECT_DIRS:
            root = os.path.join(self.path, top)
            if not os.path.lexists(root):
                continue
            if not stat.S_ISDIR(os.lstat(root).st_mode):
                _remove(root)
                removed.append(top)
                continue
            for dirpath, dirnames, filenames in os.walk(root, topdown=False):
                for fn in filenames:
                    full = os.path.join(dirpath, fn)
                    rel = os.path.relpath(full, self.path)
                    if rel not in keep or not stat.S_ISREG(os.lstat(full).st_mode):
                        os.unlink(full)
                        removed.append(rel)
                for dn in dirnames:
                    full = os.path.join(dirpath, dn)
                    if os.path.islink(full):
                        os.unlink(full)
                        removed.append(os.path.relpath(full, self.path))
                    elif not os.listdir(full):
                        os.rmdir(full)
                        removed.append(os.path.relpath(full, self.path) + "/")
            if not os.listdir(root):
                os.rmdir(root)
                removed.append(top + "/")
        if removed:
            fsync_dir(self.path)
        return removed

    # ------------------------------------------------------------ state
    def load(self) -> dict[str, Any]:
        try:
            with open(self.index_path, "rb") as f:
                raw = f.read(MAX_INDEX + 1)
        except FileNotFoundError:
            return empty_state()
        what = f"store index {self.index_path}"
        if len(raw) > MAX_INDEX:
            raise Malformed(f"{what} is larger than {MAX_INDEX} bytes")
        d = parse_json(raw, what)
        want = set(empty_state())
        if not isinstance(d, dict) or d.get("type") != STORE_TYPE or set(d) != want:
            raise Malformed(f"{what} is not a ct store index",
                            "restore it from a backup, or move the store away and import again")
        if d.get("version") != STORE_VERSION:
            raise Malformed(f"{what} has unsupported version {d.get('version')!r}", "upgrade ct to read it")
        ok = (isinstance(d["generation"], int) and isinstance(d["sets"], dict)
              and all(isinstance(d[k], list) for k in ("bundles", "keyholders", "policies", "keys", "log"))
              and (d["pinned"] is None or isinstance(d["pinned"], dict)))
        if ok:
            for b in d["bundles"]:
                ok = ok and isinstance(b, dict) and isinstance(b.get("sha256"), str) and bool(_HEX64.match(b["sha256"]))
            for r in d["keyholders"]:
                ok = ok and isinstance(r, dict) and isinstance(r.get("name"), str) and bool(_SET.match(r["name"])) \
                    and isinstance(r.get("epoch"), int) and not isinstance(r["epoch"], bool)
            for p in d["policies"]:
                ok = ok and isinstance(p, dict) and isinstance(p.get("sha256"), str) and bool(_HEX64.match(p["sha256"]))
        if not ok:
            raise Malformed(f"{what} is damaged", "restore it from a backup, or move the store away and import again")
        return d

    def referenced(self, state: dict[str, Any]) -> set[str]:
        out = {bundle_relpath(b["sha256"]) for b in state["bundles"]}
        out |= {record_relpath(r["name"], r["epoch"]) for r in state["keyholders"]}
        out |= {policy_relpath(p["sha256"]) for p in state["policies"]}
        return out

    def commit(self, state: dict[str, Any]) -> dict[str, Any]:
        """Write ``state`` as the new index (atomic: temp + fsync + rename + fsync dir)."""
        new = copy.deepcopy(state)
        new["generation"] = int(state["generation"]) + 1
        atomic_write(self.index_path, canonical_json(new) + b"\n", mode=FILE_MODE)
        return new

    # ------------------------------------------------------------ objects
    def new_staging(self) -> str:
        import tempfile

        self._ensure()
        return tempfile.mkdtemp(prefix=STAGING_PREFIX, dir=self.path)

    def abspath(self, rel: str) -> str:
        return os.path.join(self.path, *rel.split("/"))

    def has(self, rel: str) -> bool:
        return os.path.isfile(self.abspath(rel))

    def publish(self, staged: str, rel: str) -> bool:
        """Move a staged, fsynced file to ``rel``; False (and the staged file removed) when it is there."""
        dst = self.abspath(rel)
        if os.path.isfile(dst):
            os.unlink(staged)
            return False
        parent = os.path.dirname(dst)
        made = []
        d = parent
        while not os.path.isdir(d):
            made.append(d)
            d = os.path.dirname(d)
        for d in reversed(made):
            os.mkdir(d, DIR_MODE)
        os.chmod(staged, FILE_MODE)
        os.rename(staged, dst)
        fsync_dir(parent)
        for d in made:
            fsync_dir(os.path.dirname(d))
        return True


def _remove(path: str) -> None:
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)


def snapshot(path: str) -> dict[str, str]:
    """relative path -> sha256 (files) / 'dir' / 'link' of everything under ``path`` (for tests and checks)."""
    import hashlib

    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(path):
        for dn in dirnames:
            full = os.path.join(dirpath, dn)
            out[os.path.relpath(full, path) + "/"] = "link" if os.path.islink(full) else "dir"
        for fn in filenames:
            full = os.path.join(dirpath, fn)
            rel = os.path.relpath(full, path)
            if os.path.islink(full):
                out[rel] = "link"
                continue
            with open(full, "rb") as f:
                out[rel] = hashlib.file_digest(f, "sha256").hexdigest()
    return out
