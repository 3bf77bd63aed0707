"""Airgap tarballs: ``ct export`` and ``ct import --verify`` (``spec/airgap.md``).

An airgap tarball is a deterministic tar in the bundle's tar dialect
(``spec/bundle.md`` §Tar: ustar, regular files only, mtime 0, sorted
names), holding::

    airgap/bundles/<file>                      the .ctp bundles, byte for byte
    airgap/keyholders/<set>/<epoch:016>.json   keyholder-set chain      (--include-keys)
    airgap/keys/<id>.pub                       identity public keys     (--include-keys)
    airgap/policy.json                         a policy                 (--policy, or --include-keys)
    index.json                                 every member above: name, kind, size, sha256 (last)

Export streams every member once, hashing while it writes (the index comes
last, so one pass suffices).  Import reads the tarball once through a
strict reader: each bundle member is read by the verifier of ``ct verify``,
and every byte it reads is staged in a folder inside the store and hashed
for the index by a worker thread from the same buffer (:class:`StagedStream`).
Memory stays flat: 1 MiB buffers, small members bounded.  Nothing lands in the store until the index, every bundle, the
keyholder chain and the policy have been checked; then staged files are
renamed into place and the store's ``index.json`` is replaced atomically.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, BinaryIO

from cerro_torre.ceremony import bundle as B
from cerro_torre.ceremony.bundle import BLOCK, CHUNK, TarReader, member_header, sort_key
from cerro_torre.suites.atomic import fsync_dir
from cerro_torre.suites.encoding import canonical_json, human_size, parse_json
from cerro_torre.suites.progress import NULL, Progress
from cerro_torre.suites.errors import (
    CTError,
    HashMismatch,
    KeyNotTrusted,
    Malformed,
    NotFound,
    UsageError,
)

from .store import Store, bundle_relpath, policy_relpath, record_relpath

INDEX_TYPE = "ct-airgap-index"
INDEX_VERSION = 1
INDEX_NAME = "index.json"
TOP = "airgap/"
BUNDLES = "airgap/bundles/"
KEYHOLDERS = "airgap/keyholders/"
KEYS = "airgap/keys/"
POLICY = "airgap/policy.json"

MAX_MEMBERS = 10_000                 # members of one tarball (more: a tar bomb)
MAX_NAME_BYTES = 255                 # a member name
MAX_DEPTH = 4                        # path segments (airgap/keyholders/<set>/<epoch>.json)
MAX_FILE_NAME = 200                  # a bundle's file name, in UTF-8 bytes
MAX_KEY_MEMBER = 64 << 10            # airgap/keys/<id>.pub
MAX_RECORD_MEMBER = 4 << 20          # airgap/keyholders/... (ceremony.keyholders.MAX_RECORD)
MAX_POLICY_MEMBER = 4 << 20          # airgap/policy.json (governance.policy reads at most 4 MiB)
MAX_META_TOTAL = 8 << 20             # keys + records + policy together (they are kept in memory)
MAX_INDEX = 4 << 20                  # index.json (10 000 members need about 2.5 MiB)
DEFAULT_MAX_MEMBER_SIZE = 64 << 30   # a bundle, unless --max-member-size says otherwise
WRITEBACK_STEP = 32 << 20            # start writeback of dirty pages every 32 MiB (fsync at the end is short)

KIND_BUNDLE, KIND_RECORD, KIND_KEY, KIND_POLICY, KIND_INDEX = "bundle", "keyholder-set", "key", "policy", "index"

HINT_REFUSED = "nothing was imported; an airgap tarball written by 'ct export' holds only plain files " \
               "under airgap/ and index.json"
HINT_TRANSFER = "the tarball was damaged or altered after export; nothing was imported; copy it again from the " \
                "export media (and check the media)"

_CTRL = re.compile(r"[\x00-\x1f\x7f]")
_SET = r"[a-z0-9][a-z0-9._-]{0,63}"
_RECORD_NAME = re.compile(rf"airgap/keyholders/({_SET})/(\d{{16}})\.json\Z")
_KEY_NAME = re.compile(rf"airgap/keys/({_SET})\.pub\Z")
_HEX64 = re.compile(r"[0-9a-f]{64}\Z")

_TYPEFLAGS = {b"1": "hard link", b"2": "symbolic link", b"3": "character device", b"4": "block device",
              b"5": "directory", b"6": "FIFO", b"7": "contiguous file", b"g": "pax global header",
              b"L": "GNU long name", b"K": "GNU long link name", b"S": "GNU sparse file",
              b"D": "GNU dump directory", b"M": "GNU multi-volume continuation", b"V": "volume label"}


# ====================================================================== test hooks

CRASH_POINTS = ("staged", "verified", "published-one", "published", "committed")


def crash(point: str) -> None:
    """Die like ``kill -9`` at ``point`` when ``CT_TESTING=1`` and ``CT_AIRGAP_CRASH_AT=point``."""
    if os.environ.get("CT_TESTING") == "1" and os.environ.get("CT_AIRGAP_CRASH_AT") == point:
        os._exit(137)


def _test_corrupt_after_write(fd: int, offset: int) -> None:
    """Flip one byte of what was written (``CT_TESTING=1`` and ``CT_AIRGAP_CORRUPT_WRITE=1``): a failing stick."""
    if os.environ.get("CT_TESTING") == "1" and os.environ.get("CT_AIRGAP_CORRUPT_WRITE") == "1":
        b = os.pread(fd, 1, offset)
        os.pwrite(fd, bytes([b[0] ^ 0x01]), offset)
        os.fsync(fd)


# ====================================================================== names

def classify(name: str) -> tuple[str, Any] | None:
    """What a member of an airgap tarball is, from its name alone; None when it has no place in one."""
    if name == INDEX_NAME:
        return KIND_INDEX, None
    if name == POLICY:
        return KIND_POLICY, None
    if name.startswith(BUNDLES):
        fn = name[len(BUNDLES):]
        return (KIND_BUNDLE, fn) if bundle_file_ok(fn) else None
    m = _RECORD_NAME.match(name)
    if m and int(m.group(2)) >= 1:
        return KIND_RECORD, (m.group(1), int(m.group(2)))
    m = _KEY_NAME.match(name)
    if m:
        return KIND_KEY, m.group(1)
    return None


def bundle_file_ok(fn: str) -> bool:
    return (bool(fn) and "/" not in fn and not fn.startswith(".") and not _CTRL.search(fn)
            and len(fn.encode("utf-8", "surrogatepass")) <= MAX_FILE_NAME and fn == fn.strip())


def fold(name: str) -> str:
    """The key under which two names collide on a case-insensitive or normalizing file system."""
    return unicodedata.normalize("NFC", unicodedata.normalize("NFC", name).casefold())


def record_name(set_name: str, epoch: int) -> str:
    return f"{KEYHOLDERS}{set_name}/{epoch:016d}.json"


# ====================================================================== small helpers

human = human_size


def parse_size(text: str) -> int:
    """``1048576``, ``512K``, ``64M``, ``10G``, ``1T`` (binary units) -> bytes."""
    m = re.fullmatch(r"\s*(\d+)\s*([KMGT]?)(?:i?B)?\s*", text or "", re.IGNORECASE)
    if not m:
        raise UsageError(f"bad size {text!r}", "give bytes, or a number with K, M, G or T (binary units)")
    return int(m.group(1)) << {"": 0, "K": 10, "M": 20, "G": 30, "T": 40}[m.group(2).upper()]


class _Writeback:
    """Start writeback of a file's dirty pages every WRITEBACK_STEP bytes (Linux ``sync_file_range``),
    so that the fsync that makes the file durable has little left to wait for."""

    _fn: Any = None
    _loaded = False

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.done = 0
        self.pos = 0
        if not _Writeback._loaded:
            _Writeback._loaded = True
            try:
                import ctypes

                libc = ctypes.CDLL(None, use_errno=True)
                fn = libc.sync_file_range
                fn.argtypes = (ctypes.c_int, ctypes.c_longlong, ctypes.c_longlong, ctypes.c_uint)
                fn.restype = ctypes.c_int
                _Writeback._fn = fn
            except (OSError, AttributeError):
                _Writeback._fn = None

    def advance(self, n: int) -> None:
        self.pos += n
        if self._fn is not None and self.pos - self.done >= WRITEBACK_STEP:
            self._fn(self.fd, self.done, self.pos - self.done, 2)   # SYNC_FILE_RANGE_WRITE
            self.done = self.pos


def sniff(path: str) -> str | None:
    """What kind of ct file ``path`` looks like from its first tar member: "bundle" (manifest.toml),
    "airgap" (airgap/... or index.json), or None (not a tar ct writes, or unreadable).  Only for hints."""
    try:
        with open(path, "rb") as f:
            first = next(iter(TarReader(f, os.path.basename(path))), None)
    except (CTError, OSError, ValueError):
        return None
    if first is None:
        return None
    if first.name == B.MANIFEST:
        return "bundle"
    if first.name.startswith("airgap/") or first.name == INDEX_NAME:
        return "airgap"
    return None


def _pool() -> Any:
    from concurrent.futures import ThreadPoolExecutor

    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="ct-airgap")


def _write_all(fd: int, mv: memoryview) -> None:
    while mv:
        n = os.write(fd, mv)
        mv = mv[n:]


# ====================================================================== removable media

def is_removable(path: str, sysfs: str = "/sys") -> bool:
    """True when the file system holding ``path`` lives on a removable block device (a USB stick, an
    SD card): ``/sys/block/<disk>/removable`` is 1, or the device hangs off a USB bus."""
    try:
        st = os.stat(path)
    except OSError:
        return False
    return device_is_removable(os.major(st.st_dev), os.minor(st.st_dev), sysfs)


def device_is_removable(major: int, minor: int, sysfs: str = "/sys") -> bool:
    link = os.path.join(sysfs, "dev", "block", f"{major}:{minor}")
    if not os.path.exists(link):
        return False          # not a block device (tmpfs, overlay, network file systems)
    real = os.path.realpath(link)
    disk = os.path.dirname(real) if os.path.exists(os.path.join(real, "partition")) else real
    try:
        with open(os.path.join(disk, "removable")) as f:
            if f.read().strip() == "1":
                return True
    except OSError:
        pass
    return "/usb" in real


# ====================================================================== private material

def refuse_private(path: str, where: str = "") -> None:
    """Refuse (exit 64) to carry a sealed secret (identity key, FROST share, nonce) or a .sec/.share file."""
    from cerro_torre.keys.keyfile import HEAD_SIZE, private_material

    try:
        with open(path, "rb") as f:
            head = f.read(HEAD_SIZE)
    except (FileNotFoundError, IsADirectoryError):
        return
    kind = private_material(os.path.abspath(path).replace(os.sep, "/"), head)
    if kind is not None:
        raise UsageError(f"refusing to export {where or path}: it is {kind}", HINT_PRIVATE)


HINT_PRIVATE = ("private keys, FROST shares and nonces never leave the keyholder's machine; "
                "--include-keys carries public keys only")


def refuse_private_payload(path: str, where: str = "") -> None:
    """Refuse (exit 64) a bundle whose payload carries a keyholder's secrets (``ct pack`` of a folder that
    held a home): every payload member's name and first bytes are looked at."""
    from cerro_torre.keys.keyfile import HEAD_SIZE, home_of, private_material

    label = os.path.basename(path)
    with open(path, "rb") as f:
        r = TarReader(f, label)
        for m in r:
            if not m.name.startswith(B.PAYLOAD_DIR):
                continue
            rel = m.name[len(B.PAYLOAD_DIR):]
            head = bytes(next(r.chunks(HEAD_SIZE), b""))
            kind = private_material(rel, head)
            if kind is not None:
                home = home_of(rel)
                raise UsageError(
                    f"refusing to export {where or path}: its payload/{rel} is {kind}"
                    + (f" of the keyholder home payload/{home}" if home else ""),
                    "the bundle was packed from a folder holding a keyholder's secrets; do not ship it: "
                    "pack the release again from a folder without them (ct pack now refuses such folders)")


# ====================================================================== the index

@dataclass
class Entry:
    name: str
    kind: str
    size: int
    sha256: str
    package: tuple[str, str] | None = None

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"name": self.name, "kind": self.kind, "size": self.size, "sha256": self.sha256}
        if self.package is not None:
            d["package"] = {"name": self.package[0], "version": self.package[1]}
        return d


def make_index(entries: list[Entry]) -> bytes:
    return canonical_json({"type": INDEX_TYPE, "version": INDEX_VERSION,
                           "members": [e.to_json() for e in entries]}) + b"\n"


def parse_index(data: bytes, label: str) -> list[Entry]:
    what = f"{label}: {INDEX_NAME}"
    d = parse_json(data, what)
    if not isinstance(d, dict) or d.get("type") != INDEX_TYPE:
        raise Malformed(f"{what} is not an airgap index", "was the tarball written by 'ct export'?")
    if d.get("version") != INDEX_VERSION:
        raise Malformed(f"{what} has unsupported version {d.get('version')!r}",
                        f"this ct reads airgap index version {INDEX_VERSION}; upgrade ct to import newer tarballs")
    if set(d) != {"type", "version", "members"} or not isinstance(d["members"], list):
        raise Malformed(f"{what} must have exactly type, version and members")
    out = []
    for i, e in enumerate(d["members"]):
        ew = f"{what}: members[{i}]"
        if not isinstance(e, dict) or not {"name", "kind", "size", "sha256"} <= set(e) \
                or not set(e) <= {"name", "kind", "size", "sha256", "package"}:
            raise Malformed(f"{ew} must have name, kind, size, sha256 (and package for a bundle)")
        if not isinstance(e["name"], str) or not isinstance(e["kind"], str) \
                or isinstance(e["size"], bool) or not isinstance(e["size"], int) or e["size"] < 0 \
                or not isinstance(e["sha256"], str) or not _HEX64.match(e["sha256"]):
            raise Malformed(f"{ew} has a bad name, kind, size or sha256")
        pkg = None
        if "package" in e:
            p = e["package"]
            if not isinstance(p, dict) or set(p) != {"name", "version"} \
                    or not all(isinstance(p[k], str) for k in ("name", "version")):
                raise Malformed(f"{ew}: package must have a name and a version")
            pkg = (p["name"], p["version"])
        out.append(Entry(e["name"], e["kind"], e["size"], e["sha256"], pkg))
    if make_index(out) != bytes(data):
        raise Malformed(f"{what} is not in canonical form", "the index is written by 'ct export'; was it edited?")
    return out


# ====================================================================== writer

class _Writer:
    """Members in strictly increasing name order, each hashed while it is written."""

    def __init__(self, f: BinaryIO, progress: Progress) -> None:
        self.f = f
        self.progress = progress
        self.last: bytes | None = None
        self.wb = _Writeback(f.fileno())
        self.pool = _pool()

    def _begin(self, name: str, size: int) -> None:
        k = sort_key(name)
        if self.last is not None and k <= self.last:
            raise ValueError(f"member {name!r} out of order or duplicate")
        self.last = k
        hdr = member_header(name, size)
        self.f.write(hdr)
        self.wb.advance(len(hdr))

    def _end(self, size: int) -> None:
        pad = -size % BLOCK
        if pad:
            self.f.write(b"\0" * pad)
        self.wb.advance(pad)
        if self.wb._fn is not None and self.wb.pos - self.wb.done >= WRITEBACK_STEP:
            self.f.flush()

    def add_bytes(self, name: str, data: bytes) -> str:
        self._begin(name, len(data))
        self.f.write(data)
        self.wb.advance(len(data))
        self._end(len(data))
        self.progress.advance(len(data))
        return hashlib.sha256(data).hexdigest()

    def add_file(self, name: str, path: str, size: int) -> str:
        """Copy ``path`` (exactly ``size`` bytes); sha256 on the worker thread while the main thread writes."""
        self._begin(name, size)
        h = hashlib.sha256()
        bufs = (bytearray(CHUNK), bytearray(CHUNK))
        futs: list[Any] = [None, None]
        left = size
        i = 0
        changed = HashMismatch(f"{path} changed while it was being exported",
                               "make sure nothing writes to the bundle, then export again")
        with open(path, "rb", buffering=0) as src:
            with contextlib.suppress(OSError, AttributeError):
                os.posix_fadvise(src.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            if os.fstat(src.fileno()).st_size != size:
                raise changed
            try:
                while left:
                    if futs[i] is not None:
                        futs[i].result()
                    mv = memoryview(bufs[i])[:min(CHUNK, left)]
                    n = src.readinto(mv)
                    if not n:
                        raise changed
                    chunk = mv[:n]
                    futs[i] = self.pool.submit(h.update, chunk)
                    self.f.write(chunk)
                    left -= n
                    self.wb.advance(n)
                    if self.wb.pos - self.wb.done >= WRITEBACK_STEP:
                        self.f.flush()
                        self.wb.advance(0)
                    self.progress.advance(n)
                    i ^= 1
            finally:
                for fu in futs:
                    if fu is not None:
                        fu.result()
            if src.read(1):
                raise changed
        self._end(size)
        return h.hexdigest()

    def close(self) -> None:
        self.f.write(b"\0" * (2 * BLOCK))
        self.pool.shutdown(wait=True)


# ====================================================================== export

@dataclass
class Item:
    name: str
    kind: str
    size: int
    path: str | None = None
    data: bytes | None = None
    package: tuple[str, str] | None = None
    source: str = ""
    detail: str = ""


@dataclass
class ExportPlan:
    items: list[Item]
    notes: list[str] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(i.size for i in self.items)


def read_manifest(path: str) -> list[tuple[str, str]]:
    """``--manifest FILE``: one bundle per line; blank lines and ``#`` comments (whole line, or after
    white space) are ignored; relative paths are relative to FILE's folder.  -> [(path, 'FILE:LINE')]"""
    try:
        with open(path, "rb") as f:
            raw = f.read(4 << 20)
    except FileNotFoundError:
        raise NotFound(f"manifest not found: {path}", "give a text file listing one bundle per line") from None
    except IsADirectoryError:
        raise NotFound(f"manifest is a directory: {path}", "give a text file listing one bundle per line") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Malformed(f"manifest {path} is not UTF-8 text", "list one bundle path per line") from None
    base = os.path.dirname(os.path.abspath(path))
    out = []
    for n, line in enumerate(text.splitlines(), start=1):
        s = re.split(r"(?:^|\s)#", line, maxsplit=1)[0].strip()
        if not s:
            continue
        out.append((s if os.path.isabs(s) else os.path.join(base, s), f"{path}:{n}"))
    return out


def plan_export(bundles: list[tuple[str, str]], *, include_keys: bool, policy_path: str | None,
                home: str | None, keyholder_files: Iterable[str] = (), key_args: Iterable[str] = (),
                allow_unverified: bool = False, now: Any = None) -> ExportPlan:
    """What goes into the tarball.  ``bundles``: [(path, where it was named)].

    Every bundle is checked first as the host will check it (all but the payload digests, which the
    import verifies): against the policy carried, else against its own signer, narrowed by the epochs
    this home knows.  An unsigned or unverifiable bundle is refused unless ``allow_unverified``."""
    from cerro_torre.governance.keyholders import MAX_RECORD, KeyholderSet, walk_chain
    from cerro_torre.governance.policy import Policy
    from cerro_torre.keys.identity import IdentityPublic

    plan = ExportPlan([])
    if not bundles:
        raise UsageError("nothing to export", "name bundles (BUNDLE.ctp ...) or a --manifest list")
    seen_paths: dict[str, str] = {}
    names: dict[str, str] = {}
    folded: dict[str, str] = {}
    records: dict[tuple[str, int], tuple[Any, str]] = {}
    keys: dict[str, tuple[Any, str]] = {}
    checks: list[str] = []

    def add_record(rec: Any, src: str) -> None:
        k = (rec.name, rec.epoch)
        old = records.get(k)
        if old is not None and old[0].fingerprint.full_hex != rec.fingerprint.full_hex:
            raise Malformed(f"two different records of keyholder set {rec.name!r} epoch {rec.epoch}: "
                            f"{old[0].fingerprint.hex} (from {old[1]}) and {rec.fingerprint.hex} (from {src})",
                            "the cooperative has one record per epoch; find out which one is genuine")
        if old is None:
            records[k] = (rec, src)
        elif len(rec.signatures) > len(old[0].signatures):
            records[k] = (old[0].with_signatures(list(rec.signatures)), old[1])

    def add_key(pub: Any, src: str) -> None:
        old = keys.get(pub.id)
        if old is not None and old[0] != pub:
            raise Malformed(f"two different keys named {pub.id!r}: {old[0].fingerprint.hex} (from {old[1]}) and "
                            f"{pub.fingerprint.hex} (from {src})", "carry only the genuine one")
        keys.setdefault(pub.id, (pub, src))

    for path, where in bundles:
        real = os.path.realpath(path)
        if real in seen_paths:
            continue
        if not os.path.exists(path):
            raise NotFound(f"{where + ': ' if where != path else ''}bundle not found: {path}",
                           "check the path of the .ctp file")
        if os.path.isdir(path):
            raise UsageError(f"{path} is a directory, not a bundle", "give the path of a .ctp file")
        refuse_private(path, where if where != path else "")
        fn = os.path.basename(path)
        if not bundle_file_ok(fn):
            raise UsageError(f"bundle file name {fn!r} cannot be carried",
                             f"rename it: 1-{MAX_FILE_NAME} bytes, no control characters, not starting with '.'")
        name = BUNDLES + fn
        if name in names:
            raise UsageError(f"two bundles are named {fn}: {names[name]} and {path}",
                             "members are named by file name; rename one of them")
        f_ = fold(name)
        if f_ in folded:
            raise UsageError(f"bundle names {os.path.basename(folded[f_])!r} and {fn!r} differ only by case or "
                             "Unicode normalization", "the disconnected host refuses such names; rename one of them")
        parts = B.read_parts(path, statements=False)   # each bundle is checked, one at a time, below
        refuse_private_payload(path, where if where != path else "")
        checks.append(path)
        size = os.stat(path).st_size
        seen_paths[real] = path
        names[name] = path
        folded[f_] = name
        plan.items.append(Item(name, KIND_BUNDLE, size, path=path, package=(parts.manifest.name, parts.manifest.version),
                               source=path))
        if include_keys:
            for mname, data in sorted(parts.signature_members.items()):
                if mname.startswith(B.KEYHOLDERS_DIR):
                    add_record(KeyholderSet.from_bytes(data, f"{fn}: {mname}"), fn)
                elif mname.startswith(B.KEYS_DIR) and mname.endswith(".pub"):
                    add_key(IdentityPublic.from_bytes(data, f"{fn}: {mname}"), fn)
    if include_keys:
        for p in keyholder_files:
            refuse_private(p)
            try:
                with open(p, "rb") as f:
                    add_record(KeyholderSet.from_bytes(f.read(MAX_RECORD + 1), p), p)
            except FileNotFoundError:
                raise NotFound(f"keyholder-set record not found: {p}", "give a keyholders.json record") from None
        for k in key_args:
            if os.path.exists(k):
                refuse_private(k)
                with open(k, "rb") as f:
                    add_key(IdentityPublic.from_bytes(f.read(MAX_KEY_MEMBER + 1), k), k)
            else:
                from cerro_torre.keys.home import Home

                if not home:
                    raise NotFound(f"no key file {k}", "give a .pub file or a key id of this home")
                h = Home(home)
                if h.has_private(k) and not h.exists(k):
                    raise NotFound(f"key {k!r} has no public key in {h.keys_dir}")
                add_key(h.public(k), f"{h.keys_dir}")
        by_set: dict[str, list[Any]] = {}
        for (sname, _e), (rec, _src) in records.items():
            by_set.setdefault(sname, []).append(rec)
        for sname, recs in sorted(by_set.items()):
            recs.sort(key=lambda r: r.epoch)
            res = walk_chain(recs, {recs[0].fingerprint.full_hex})
            if res.error is not None:
                msg = res.error.message
                if "expired" in msg or "not valid before" in msg:
                    plan.notes.append(f"warning: {msg}")
                else:
                    raise type(res.error)(f"keyholder chain of {sname!r} would not verify: {msg}",
                                          *res.error.hints, "refusing to export a chain the host would refuse")
            for rec in recs:
                data = rec.to_bytes()
                plan.items.append(Item(record_name(rec.name, rec.epoch), KIND_RECORD, len(data), data=data,
                                       source=records[(rec.name, rec.epoch)][1],
                                       detail=f"{rec.name} epoch {rec.epoch}"))
                for mem in rec.members:
                    add_key(mem.identity, f"{rec.name} epoch {rec.epoch}")
        for kid, (pub, src) in sorted(keys.items()):
            data = pub.to_file_bytes()
            plan.items.append(Item(f"{KEYS}{kid}.pub", KIND_KEY, len(data), data=data, source=src, detail=kid))
    pol_path = policy_path
    if pol_path is None and include_keys and home and os.path.isfile(os.path.join(home, "policy.json")):
        pol_path = os.path.join(home, "policy.json")
    if pol_path is not None:
        refuse_private(pol_path)
        pol = Policy.load(pol_path)
        data = pol.to_bytes()
        plan.items.append(Item(POLICY, KIND_POLICY, len(data), data=data, source=pol_path, detail=pol_path))
    _check_before_export(checks, Policy.load(pol_path) if pol_path is not None else None, home, allow_unverified,
                         plan, now)
    plan.items.sort(key=lambda it: sort_key(it.name))
    meta = sum(i.size for i in plan.items if i.kind != KIND_BUNDLE)
    if meta > MAX_META_TOTAL or len(plan.items) + 1 > MAX_MEMBERS:
        raise UsageError("too much to carry in one airgap tarball",
                         f"at most {MAX_MEMBERS - 1} members and {human(MAX_META_TOTAL)} of keys and records")
    return plan


def _check_before_export(checks: list[str], policy: Any, home: str | None, allow_unverified: bool,
                         plan: ExportPlan, now: Any) -> None:
    """Every check of ``ct verify`` but the payload digests, on each bundle in turn (its statements
    streamed as ``ct verify`` streams them, the payload skipped)."""
    from cerro_torre.ceremony.verifier import trust_from, verify_bundle
    from cerro_torre.governance.trust import Knowledge, TrustStore

    trust = trust_from(home, policy, policy_only=True) if policy is not None else None
    knowledge = Knowledge(store=TrustStore(home)) if home and trust is None else None
    against = policy.label if policy is not None else "its own signer (no policy carried)"
    for path in checks:
        res = verify_bundle(path, trust, policy, now=now, payload=False, knowledge=knowledge)
        err = res.error
        if err is None:
            continue
        if allow_unverified:
            plan.notes.append(f"warning: carrying {os.path.basename(path)} although it does not verify against "
                              f"{against}: {err.message}")
            continue
        raise type(err)(err.message, *err.hints,
                        f"checked against {against}: the host would refuse it; carry it anyway with "
                        "--allow-unverified")


@dataclass
class ExportResult:
    path: str
    entries: list[Entry]
    size: int
    index_sha256: str
    removable: bool
    verified_after_write: bool
    notes: list[str]

    def to_json(self) -> dict[str, Any]:
        return {"tarball": self.path, "size": self.size, "index_sha256": self.index_sha256,
                "members": [e.to_json() for e in self.entries], "removable_media": self.removable,
                "verified_after_write": self.verified_after_write, "notes": self.notes}


def write_export(plan: ExportPlan, out_path: str, *, verify_after_write: bool | None = None,
                 progress: Progress | None = None) -> ExportResult:
    """Write the tarball atomically; with verify-after-write (default: on removable media) flush it,
    drop it from the page cache, read it back and check it against the index before it replaces ``out_path``."""
    from cerro_torre.suites.atomic import atomic_writer

    folder = os.path.dirname(os.path.abspath(out_path))
    real_out = os.path.realpath(out_path)
    for it in plan.items:
        if it.path is not None and os.path.realpath(it.path) == real_out:
            raise UsageError(f"{out_path} is one of the bundles to export", "write the tarball somewhere else")
    if not os.path.isdir(folder):
        raise NotFound(f"folder not found: {folder}", "create it, or mount the media, first")
    if os.path.isdir(out_path):
        raise UsageError(f"{out_path} is a directory", "give the path of the tarball to write, e.g. -o airgap.tar")
    removable = is_removable(folder)
    check = removable if verify_after_write is None else verify_after_write
    progress = progress or NULL
    progress.start(f"writing {os.path.basename(out_path)}", plan.total)
    entries: list[Entry] = []
    with atomic_writer(out_path) as f:
        w = _Writer(f, progress)
        try:
            for it in plan.items:
                if it.data is not None:
                    sha = w.add_bytes(it.name, it.data)
                else:
                    assert it.path is not None
                    sha = w.add_file(it.name, it.path, it.size)
                entries.append(Entry(it.name, it.kind, it.size, sha, it.package))
            index = make_index(entries)
            w.add_bytes(INDEX_NAME, index)
            w.close()
        finally:
            w.pool.shutdown(wait=True)
        f.flush()
        os.fsync(f.fileno())
        size = f.tell()
        if check:
            _test_corrupt_after_write(f.fileno(), BLOCK)
            with contextlib.suppress(OSError, AttributeError):
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            check_written(f"/proc/self/fd/{f.fileno()}", os.path.basename(out_path), entries, index)
    progress.done()
    return ExportResult(out_path, entries, size, hashlib.sha256(index).hexdigest(), removable, check, plan.notes)


def check_written(path: str, label: str, entries: list[Entry], index: bytes) -> None:
    """Read a just-written tarball back and check every member against what was written (exit 1 / 10)."""
    with open(path, "rb") as f:
        with contextlib.suppress(OSError, AttributeError):
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_DONTNEED)
            os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
        r = AirgapReader(f, f"{label} as written")
        i = 0
        want = [*entries, Entry(INDEX_NAME, KIND_INDEX, len(index), hashlib.sha256(index).hexdigest())]
        bad = HashMismatch
        for m in r:
            if i >= len(want) or m.name != want[i].name or m.size != want[i].size:
                raise bad(f"{label} as written does not read back: member {m.name!r} where "
                          f"{want[i].name if i < len(want) else 'the end'!r} was written",
                          "the media is failing or was removed; the tarball was not kept; try another")
            h = hashlib.sha256()
            for c in r.chunks():
                h.update(c)
            if h.hexdigest() != want[i].sha256:
                raise bad(f"{label} as written does not read back: member {m.name!r} sha256 "
                          f"{h.hexdigest()[:16]}… differs from the {want[i].sha256[:16]}… written",
                          "the media is failing or was removed; the tarball was not kept; try another")
            i += 1
        if i != len(want):
            raise bad(f"{label} as written does not read back: {len(want) - i} member(s) missing",
                      "the media is failing or was removed; the tarball was not kept; try another")


# ====================================================================== strict reader

def _raw_name(block: bytes) -> str:
    raw = block[0:100].split(b"\0", 1)[0]
    prefix = block[345:500].split(b"\0", 1)[0] if block[257:262] == b"ustar" else b""
    if prefix:
        raw = prefix + b"/" + raw
    return raw.decode("utf-8", "replace")


def _octal_or(field_: bytes, default: int = -1) -> int:
    if field_ and field_[0] & 0x80:                     # GNU base-256
        return int.from_bytes(field_[1:], "big")
    s = field_.rstrip(b"\0 ").lstrip(b" ")
    if not s:
        return 0
    if not re.fullmatch(rb"[0-7]+", s):
        return default
    return int(s, 8)


class AirgapReader(TarReader):
    """The bundle's strict streaming tar reader, with the airgap tarball's rules and messages:
    every refusal names the member (exit 10)."""

    def __init__(self, f: BinaryIO, label: str, max_member_size: int = DEFAULT_MAX_MEMBER_SIZE) -> None:
        super().__init__(f, label)
        self.max_member_size = max_member_size
        self.folded: dict[str, str] = {}
        self.names: set[str] = set()
        self.header_name = ""
        self.meta_total = 0

    # -- headers: checksum, magic, type and size fields, before the reader looks at anything else
    def _check_sum(self, block: bytes) -> None:
        L = self.label
        at = self.pos - BLOCK
        name = _raw_name(block)
        self.header_name = name
        magic = block[257:262] == b"ustar"
        want = _octal_or(block[148:156]) if not block[148] & 0x80 else -1
        got = sum(block[:148]) + 8 * 0x20 + sum(block[156:])
        if not magic and at == 0:
            raise Malformed(f"{L} is not a tar archive", "is this an airgap tarball written by 'ct export'?")
        if not magic:
            raise Malformed(f"{L}: corrupt tar header at byte {at} (no ustar magic; member {name!r}?)", HINT_TRANSFER)
        if want != got:
            raise Malformed(f"{L}: corrupt tar header at byte {at} for member {name!r}: bad checksum",
                            HINT_TRANSFER)
        tf = block[156:157]
        if tf not in (b"0", b"\0", b"x"):
            kind = _TYPEFLAGS.get(tf, f"tar entry of type {tf.decode('latin-1')!r}")
            extra = ""
            if tf in (b"1", b"2"):
                target = block[157:257].split(b"\0", 1)[0].decode("utf-8", "replace")
                extra = f" (to {target!r})"
            elif tf == b"S":
                real = _octal_or(block[483:495], 0)
                extra = f" (claims {real} bytes)" if real else ""
            raise Malformed(f"{L}: member {name!r} is a {kind}{extra}", HINT_REFUSED)
        if block[124] & 0x80:
            claim = _octal_or(block[124:136])
            raise Malformed(f"{L}: member {name!r} has a base-256 size field (claims {claim} bytes)",
                            HINT_REFUSED)

    def _accept_name(self, name: str) -> None:
        L = self.label
        nbytes = len(name.encode("utf-8", "surrogatepass"))
        if nbytes > MAX_NAME_BYTES:
            raise Malformed(f"{L}: member {name[:64]!r}… has a {nbytes}-byte name (limit {MAX_NAME_BYTES})",
                            HINT_REFUSED)
        if not name or _CTRL.search(name):
            raise Malformed(f"{L}: member {name!r} has an empty name or control characters", HINT_REFUSED)
        if name.startswith("/"):
            raise Malformed(f"{L}: member {name!r} is an absolute path", HINT_REFUSED)
        parts = name.split("/")
        if ".." in parts:
            raise Malformed(f"{L}: member {name!r} leaves the archive ('..')", HINT_REFUSED)
        if any(p in ("", ".") for p in parts):
            raise Malformed(f"{L}: member {name!r} is not a normalized path", HINT_REFUSED)
        if len(parts) > MAX_DEPTH:
            raise Malformed(f"{L}: member {name!r} is nested {len(parts)} levels deep "
                            f"(an airgap tarball has at most {MAX_DEPTH})", HINT_REFUSED)
        if classify(name) is None:
            raise Malformed(f"{L}: member {name!r} is not part of an airgap tarball", HINT_REFUSED)
        if name in self.names:
            raise Malformed(f"{L}: duplicate member {name!r}", HINT_REFUSED)
        key = fold(name)
        if key in self.folded:
            raise Malformed(f"{L}: member {name!r} differs only by case or Unicode normalization from "
                            f"{self.folded[key]!r}", HINT_REFUSED)
        k = sort_key(name)
        if self.last is not None and k < self.last:
            raise Malformed(f"{L}: member {name!r} is out of order", "members are sorted by name, index.json last; "
                            "this tarball was not written by 'ct export'; nothing was imported")
        if self.count + 1 > MAX_MEMBERS:
            raise Malformed(f"{L}: member {name!r} is past the {MAX_MEMBERS} members an airgap tarball may hold "
                            "(a tar bomb?)", HINT_REFUSED)
        self.names.add(name)
        self.folded[key] = name
        self.last = k

    def __next__(self) -> B.Member:
        try:
            m = super().__next__()
        except Malformed as e:
            raise self._reword(e) from None
        kind = classify(m.name)
        assert kind is not None
        limit = {KIND_BUNDLE: self.max_member_size, KIND_KEY: MAX_KEY_MEMBER, KIND_RECORD: MAX_RECORD_MEMBER,
                 KIND_POLICY: MAX_POLICY_MEMBER, KIND_INDEX: MAX_INDEX}[kind[0]]
        if m.size > limit:
            raise Malformed(f"{self.label}: member {m.name!r} is {m.size} bytes, more than the {human(limit)} "
                            f"allowed for a{'n' if kind[0][0] in 'aeiou' else ''} {kind[0]}",
                            HINT_REFUSED if kind[0] != KIND_BUNDLE else
                            "nothing was imported; raise the limit with --max-member-size if this bundle is genuine")
        if kind[0] in (KIND_KEY, KIND_RECORD, KIND_POLICY):
            self.meta_total += m.size
            if self.meta_total > MAX_META_TOTAL:
                raise Malformed(f"{self.label}: member {m.name!r} brings keys, records and policy past "
                                f"{human(MAX_META_TOTAL)}", HINT_REFUSED)
        return m

    def _reword(self, e: Malformed) -> Malformed:
        msg = e.message
        if any("nothing was imported" in h for h in e.hints):
            return e
        if "truncated" in msg or "cut short" in msg:
            return Malformed(msg, "the tarball was cut short in transfer; nothing was imported; copy it again "
                                  "from the export media")
        if "after the end of the archive" in msg:
            return Malformed(msg, "something was appended to the tarball; nothing was imported; get a clean copy")
        if "pax" in msg and "member" not in msg:
            return Malformed(f"{msg} (member {self.header_name!r})", HINT_REFUSED)
        if "more than" in msg and "members" in msg:
            return Malformed(msg, HINT_REFUSED)
        if msg.startswith(f"{self.label} is empty"):
            return Malformed(msg, "is this an airgap tarball written by 'ct export'?")
        return Malformed(msg, *(h.replace("bundle", "tarball") for h in e.hints), HINT_REFUSED)


# ====================================================================== staging

class _Cut(Exception):
    """The tarball itself failed while a bundle streamed through the verifier (it is the import's error,
    not the bundle's)."""

    def __init__(self, error: Malformed) -> None:
        super().__init__(error.message)
        self.error = error


class StagedStream:
    """The reader's current member as a file the verifier reads once, front to back: every byte it reads
    is also written to a new file ``spath`` and hashed for the index, on ``pool``'s worker thread while
    the verifier hashes the same bytes for the statement -- each byte is read once, and its two digests
    are computed at the same time.  :meth:`finish` stages what the verifier did not read (it stops at
    the first structure error) and returns the member's sha256.

    Large reads use buffers of its own (:meth:`read_view`, which the tar reader asks for): three of
    1 MiB in turn, so that the read of the next one, the verifier's hash of this one and the worker's
    write and hash of the previous ones overlap; a buffer is reused once the worker is done with it.
    Small reads (tar headers, small files) are gathered and handed over 1 MiB at a time."""

    def __init__(self, r: AirgapReader, spath: str, pool: Any, progress: Progress) -> None:
        self.r = r
        self.fd = os.open(spath, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        self.pool = pool
        self.progress = progress
        self.size = r._left
        self.h = hashlib.sha256()
        self.wb = _Writeback(self.fd)
        self.small = bytearray()
        self.bufs = [bytearray(CHUNK) for _ in range(3)]
        self.futs: list[Any] = [None] * len(self.bufs)
        self.i = 0
        self.error: BaseException | None = None    # what a write raised on the worker (a full disk)

    def _take(self, mv: memoryview) -> int:
        r = self.r
        n = min(len(mv), r._left)
        if n <= 0:
            return 0
        got = r.f.readinto(mv[:n])  # type: ignore[attr-defined]
        if not got:
            raise _Cut(Malformed(f"{r.label} is truncated (member data cut short)",
                                 "the tarball was cut short in transfer; nothing was imported; copy it again"))
        r.pos += got
        r._left -= got
        self.progress.advance(got)
        return got

    def _put(self, data: Any) -> None:
        if self.error is not None:
            return
        try:
            self.h.update(data)
            _write_all(self.fd, memoryview(data))
            self.wb.advance(len(data))
        except BaseException as e:  # noqa: BLE001 - raised by flush() on the verifier's thread
            self.error = e

    def _gathered(self) -> None:
        """Hand the gathered small reads to the worker (in order: it runs one job at a time)."""
        if self.small:
            data, self.small = bytes(self.small), bytearray()
            self.pool.submit(self._put, data)

    def flush(self) -> None:
        """Everything read so far is in the staged file (and hashed); raises what a write raised."""
        self._gathered()
        self.pool.submit(lambda: None).result()    # the worker runs its jobs in order
        if self.error is not None:
            raise self.error

    def read_view(self, n: int) -> memoryview:
        """At most ``n`` bytes (at most 1 MiB) in a buffer of its own, valid until the next call."""
        self._gathered()
        i, self.i = self.i, (self.i + 1) % len(self.bufs)
        if self.futs[i] is not None:
            self.futs[i].result()
        mv = memoryview(self.bufs[i])[:min(n, CHUNK)]
        view = mv[:self._take(mv)]
        self.futs[i] = self.pool.submit(self._put, view)
        return view

    def read(self, n: int = -1) -> bytes:
        buf = bytearray(self.r._left if n < 0 else min(n, self.r._left))
        got = self._take(memoryview(buf))
        data = bytes(memoryview(buf)[:got])
        self.small += data
        if len(self.small) >= CHUNK:
            self._gathered()
        return data

    def finish(self) -> str:
        """Stage the rest of the member and wait for the worker; -> the member's sha256."""
        while self.r._left:
            self.read_view(CHUNK)
        self.flush()
        return self.h.hexdigest()

    def close(self) -> None:
        """Let the worker finish with the buffers (after an error too), close the file."""
        with contextlib.suppress(Exception):
            self.flush()
        os.close(self.fd)


def verify_member(r: AirgapReader, spath: str, pool: Any, trust: Any, policy: Any, now: Any,
                  progress: Progress) -> tuple[str, Any]:
    """(sha256 of the member, VerifyResult): the bundle the reader is at, staged to ``spath`` while the
    verifier of ``ct verify`` reads it (named like the bundle, so its messages are the same); then the
    staged file is made durable, once."""
    from cerro_torre.ceremony.verifier import verify_bundle

    stream = StagedStream(r, spath, pool, progress)
    try:
        vr = verify_bundle(spath, trust, policy, now=now, stream=stream)
        sha = stream.finish()
    except _Cut as e:
        raise e.error from None
    finally:
        stream.close()
    fd = os.open(spath, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return sha, vr


# ====================================================================== import

@dataclass
class Staged:
    name: str
    kind: str
    extra: Any
    size: int
    sha256: str
    path: str
    data: bytes | None = None      # small members (keys, records, policy)
    result: Any = None             # VerifyResult of a bundle


@dataclass
class ImportResult:
    tarball: str
    store: str
    changed: bool = False
    index_sha256: str = ""
    bundles: list[dict[str, Any]] = field(default_factory=list)
    sets: list[dict[str, Any]] = field(default_factory=list)
    keys_new: list[str] = field(default_factory=list)
    keys_known: list[str] = field(default_factory=list)
    policy_carried: str | None = None
    policy_used: str = ""
    pinned_now: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    results: list[Any] = field(default_factory=list)
    error: CTError | None = None

    def to_json(self) -> dict[str, Any]:
        err = self.error
        return {"tarball": self.tarball, "store": self.store, "ok": err is None, "changed": self.changed,
                "exit_code": err.exit_code if err else 0, "error": err.message if err else None,
                "hints": list(err.hints) if err else [], "index_sha256": self.index_sha256 or None,
                "bundles": self.bundles, "keyholder_sets": self.sets, "keys_imported": self.keys_new,
                "keys_already_here": self.keys_known, "policy_carried": self.policy_carried,
                "policy": self.policy_used or None, "pinned_now": self.pinned_now, "notes": self.notes,
                "verification": [r.to_json() for r in self.results]}


def _nothing(e: CTError, label: str) -> CTError:
    """``e`` with a closing hint that nothing was imported (same class, so the same exit code)."""
    hint = f"nothing was imported from {label}"
    if any("nothing was imported" in h for h in e.hints):
        return e
    return type(e)(e.message, *e.hints, hint)


def resolve_trust(state: dict[str, Any], home: str, policy_path: str | None) -> tuple[Any, Any, bool]:
    """(policy, Trust, pin?) for an import, and for ``ct verify`` (and the TUI) on this home.

    No pin yet: ``--policy P`` (else ``HOME/policy.json``), pinned by an import when it succeeds.
    Pinned: the pinned policy; a ``--policy P`` may narrow the rules but may not name a root, checkpoint
    or key the host has not pinned (exit 3).  A policy given explicitly is all the trust there is
    (the keys this home trusts do not count); the home's checkpoints always narrow it."""
    from cerro_torre.ceremony.verifier import trust_from
    from cerro_torre.governance.policy import Policy

    given = None
    if policy_path:
        given = Policy.load(policy_path)
    pinned = state.get("pinned")
    if pinned is None:
        if given is not None:
            return given, trust_from(home, given, policy_only=True), True
        if os.path.isfile(os.path.join(home, "policy.json")):
            given = Policy.load(os.path.join(home, "policy.json"))
        return given, trust_from(home, given), given is not None
    pp = Policy.from_bytes(canonical_json(pinned["policy"]) + b"\n", "")
    if given is None:
        return pp, trust_from(home, pp), False
    extra = sorted(set(given.roots) - set(pp.roots)) + sorted(set(given.keys) - set(pp.keys)) \
        + sorted({r.fingerprint.full_hex for r in given.checkpoints} - {r.fingerprint.full_hex for r in pp.checkpoints})
    if extra:
        fps = ", ".join(f"{x[:4]} {x[4:8]} {x[8:12]} {x[12:16]}" for x in extra)
        raise KeyNotTrusted(f"{given.label} names {len(extra)} root(s)/key(s) this host has not pinned ({fps})",
                            "this host's trust was pinned by its first import ('ct store list' shows it); "
                            f"to change it, check the fingerprints with the cooperative, then "
                            f"'ct store pin --policy {given.path}' (logged)")
    return given, trust_from(home, given, policy_only=True), False


def import_tarball(path: str, home: str, *, policy_path: str | None = None,
                   max_member_size: int = DEFAULT_MAX_MEMBER_SIZE, progress: Progress | None = None,
                   now: Any = None) -> ImportResult:
    """Verify everything in ``path``, then publish it into ``HOME/store`` atomically.

    Raises the first problem (a CTError with the verifier's exit code); the store is then exactly as
    it was.  Returns what was (or, on a repeat, already was) imported."""
    from cerro_torre.governance.keyholders import format_time, now_utc

    label = os.path.basename(path)
    if not os.path.exists(path):
        raise NotFound(f"tarball not found: {path}", "check the path of the airgap tarball")
    if os.path.isdir(path):
        raise UsageError(f"{path} is a directory", "give the path of an airgap tarball (ct export -o FILE)")
    now = now or now_utc()
    store = Store(home)
    home_existed = os.path.isdir(home)
    store_existed = os.path.isdir(store.path)
    res = ImportResult(path, store.path)
    progress = progress or NULL
    try:
        with store.locked():
            state = store.load()
            store.recover(state)
            policy, trust, pin = resolve_trust(state, home, policy_path)
            res.policy_used = policy.label if policy is not None else ""
            staging = store.new_staging()
            try:
                staged, index_bytes = _scan(path, label, staging, trust, policy, max_member_size, progress, now, res)
                crash("staged")
                res.index_sha256 = hashlib.sha256(index_bytes).hexdigest()
                _check_index(label, index_bytes, staged)
                meta = _check_meta(label, staged, trust, now)
                _check_bundles(label, staged, trust, meta)
                crash("verified")
                new_state, objects = _merge(state, staged, meta, policy, pin, policy_path, label, res, now)
                from cerro_torre.governance.trust import TrustStore

                # the epochs this host verified: its trust only moves forward (before the commit point,
                # so a crash in between leaves it knowing more, never less)
                TrustStore(home).add(verified_records(staged, meta), f"the chains in {label}")
                if new_state != state:
                    new_state["log"].append({"at": format_time(now), "event": "import", "tarball": label,
                                             "index_sha256": res.index_sha256,
                                             "bundles": [b["sha256"] for b in res.bundles if b["new"]]})
                    if pin:
                        new_state["log"].append({"at": format_time(now), "event": "pin", "by": "first import",
                                                 "source": os.path.abspath(policy.path) if policy.path else "",
                                                 "policy_sha256": new_state["pinned"]["sha256"]})
                    first = True
                    for src, rel in objects:
                        store.publish(src, rel)
                        if first:
                            crash("published-one")
                            first = False
                    crash("published")
                    store.commit(new_state)
                    res.changed = True
                    crash("committed")
            except BaseException:
                with contextlib.suppress(OSError):
                    store.recover(state)
                raise
            finally:
                import shutil

                shutil.rmtree(staging, ignore_errors=True)
    except BaseException as e:
        progress.done()
        if not store_existed:
            with contextlib.suppress(OSError):
                os.rmdir(store.path)
            if not home_existed:
                with contextlib.suppress(OSError):
                    os.rmdir(home)
        if isinstance(e, CTError):
            err = _nothing(e, label)
            res.error = err
            raise err from None
        raise
    progress.done()
    for s in staged:    # the staged copies are gone: what explains a result reads the store's copy
        if s.kind == KIND_BUNDLE and s.result.manifest is not None:
            s.result.manifest.files.path = store.abspath(bundle_relpath(s.sha256))
    _import_keys(home, staged, res)
    return res


def _scan(path: str, label: str, staging: str, trust: Any, policy: Any, max_member_size: int,
          progress: Progress, now: Any, res: ImportResult) -> tuple[list[Staged], bytes]:
    """One pass over the tarball: every member hashed and staged; each bundle verified as it is staged
    (the verifier reads the member, :class:`StagedStream` stages what it reads)."""
    staged: list[Staged] = []
    index_bytes: bytes | None = None
    hasher = _pool()
    try:
        with open(path, "rb") as f:
            progress.start(f"importing {label}", os.fstat(f.fileno()).st_size)
            with contextlib.suppress(OSError, AttributeError):
                os.posix_fadvise(f.fileno(), 0, 0, os.POSIX_FADV_SEQUENTIAL)
            r = AirgapReader(f, label, max_member_size)
            for m in r:
                kind, extra = classify(m.name)  # type: ignore[misc]
                if kind == KIND_INDEX:
                    index_bytes = r.read_all(MAX_INDEX, INDEX_NAME)
                    continue
                if kind == KIND_BUNDLE:
                    bdir = os.path.join(staging, f"{len(staged):05d}")
                    os.mkdir(bdir, 0o700)
                    spath = os.path.join(bdir, extra)
                    sha, vr = verify_member(r, spath, hasher, trust, policy, now, progress)
                    staged.append(Staged(m.name, kind, extra, m.size, sha, spath, result=vr))
                    res.results.append(vr)
                    continue
                spath = os.path.join(staging, f"{len(staged):05d}")
                data = r.read_all(MAX_INDEX, m.name)
                fd = os.open(spath, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                try:
                    _write_all(fd, memoryview(data))
                    os.fsync(fd)
                finally:
                    os.close(fd)
                progress.advance(len(data))
                staged.append(Staged(m.name, kind, extra, m.size, hashlib.sha256(data).hexdigest(), spath, data=data))
    finally:
        hasher.shutdown(wait=True)
    for st in staged:
        if st.kind == KIND_BUNDLE:
            fsync_dir(os.path.dirname(st.path))
    fsync_dir(staging)
    if index_bytes is None:
        raise Malformed(f"{label} has no {INDEX_NAME}", "was it written by 'ct export'? nothing was imported")
    return staged, index_bytes


def _check_index(label: str, index_bytes: bytes, staged: list[Staged]) -> None:
    entries = parse_index(index_bytes, label)
    listed = {e.name: e for e in entries}
    held = {s.name: s for s in staged}
    for e in entries:
        if e.name not in held:
            raise Malformed(f"{label}: {INDEX_NAME} lists {e.name!r}, which the tarball does not hold",
                            "the tarball is incomplete; copy it again from the export media")
    for s in staged:
        e = listed.get(s.name)
        if e is None:
            raise Malformed(f"{label}: member {s.name!r} is not listed in {INDEX_NAME}",
                            "a member was added after export; nothing was imported")
        if e.kind != s.kind:
            raise Malformed(f"{label}: {INDEX_NAME} calls {s.name!r} a {e.kind}, not a {s.kind}")
        if e.size != s.size:
            raise Malformed(f"{label}: member {s.name!r} is {s.size} bytes; {INDEX_NAME} says {e.size}",
                            HINT_TRANSFER)
        if e.sha256 != s.sha256:
            raise HashMismatch(f"{label}: member {s.name!r} sha256 {s.sha256[:16]}… differs from the index "
                               f"({e.sha256[:16]}…)", HINT_TRANSFER)
        if s.kind == KIND_BUNDLE and s.result is not None and s.result.manifest is not None:
            m = s.result.manifest
            if e.package is not None and e.package != (m.name, m.version):
                raise Malformed(f"{label}: {INDEX_NAME} says {s.name!r} is {e.package[0]} {e.package[1]}; "
                                f"its manifest says {m.name} {m.version}", HINT_TRANSFER)


@dataclass
class Meta:
    policy: Any = None
    keys: list[tuple[Any, bytes]] = field(default_factory=list)
    records: list[Any] = field(default_factory=list)       # verified: carried chains and bundle chains


def _check_meta(label: str, staged: list[Staged], trust: Any, now: Any) -> Meta:
    from cerro_torre.governance.keyholders import KeyholderSet, walk_chain
    from cerro_torre.governance.policy import Policy
    from cerro_torre.keys.identity import IdentityPublic

    meta = Meta()
    chains: dict[str, list[Any]] = {}
    for s in staged:
        what = f"{label}: {s.name}"
        if s.kind == KIND_POLICY:
            meta.policy = Policy.from_bytes(s.data or b"", what)
        elif s.kind == KIND_KEY:
            pub = IdentityPublic.from_bytes(s.data or b"", what)
            if pub.id != s.extra:
                raise Malformed(f"{what} holds key {pub.id!r}", f"it belongs at {KEYS}{pub.id}.pub")
            meta.keys.append((pub, s.data or b""))
        elif s.kind == KIND_RECORD:
            rec = KeyholderSet.from_bytes(s.data or b"", what)
            if (rec.name, rec.epoch) != s.extra:
                raise Malformed(f"{what} holds keyholder set {rec.name!r} epoch {rec.epoch}",
                                f"it belongs at {record_name(rec.name, rec.epoch)}")
            chains.setdefault(rec.name, []).append(rec)
    for name, recs in sorted(chains.items()):
        recs.sort(key=lambda r: r.epoch)
        ch = walk_chain(recs, trust.roots, now, known=trust.knowledge, what=f"{label}'s carried chain")
        if ch.error is not None:
            e = ch.error
            raise type(e)(f"{label}: carried keyholder chain: {e.message}", *e.hints)
        meta.records += [st.record for st in ch.steps]
    return meta


def _check_bundles(label: str, staged: list[Staged], trust: Any, meta: Meta) -> None:
    """Every bundle verified; then the forward-only rules once more, knowing every record this tarball
    brings: a bundle of an epoch that another chain in the tarball shows closed must be on its list."""
    for s in staged:
        if s.kind != KIND_BUNDLE:
            continue
        err = s.result.error
        if err is not None:
            raise type(err)(err.message, *err.hints)
    chained = [s for s in staged if s.kind == KIND_BUNDLE and s.result.chain is not None and s.result.chain.steps]
    recs = list(meta.records) + [st.record for s in chained for st in s.result.chain.steps]
    known = trust.knowledge.with_records(recs, f"a chain in {label}")
    for s in chained:
        res = s.result
        fork, fwd = known.judge([st.record for st in res.chain.steps],
                                res.statement_sha256, f"{s.extra}'s chain")
        err = fork or fwd.error
        if err is not None:
            raise type(err)(f"{label}: {s.extra}: {err.message}", *err.hints)


def verified_records(staged: list[Staged], meta: Meta) -> list[Any]:
    return list(meta.records) + [st.record for s in staged if s.kind == KIND_BUNDLE and s.result.chain is not None
                                 for st in s.result.chain.steps]


def _merge(state: dict[str, Any], staged: list[Staged], meta: Meta, policy: Any, pin: bool,
           policy_path: str | None, label: str, res: ImportResult, now: Any) -> tuple[dict[str, Any], list]:
    import copy

    new = copy.deepcopy(state)
    objects: list[tuple[str, str]] = []
    have = {b["sha256"] for b in new["bundles"]}
    if pin:
        pj = policy.to_json()
        new["pinned"] = {"policy": pj, "sha256": hashlib.sha256(policy.to_bytes()).hexdigest(),
                         "source": os.path.abspath(policy.path) if policy.path else ""}
        res.pinned_now = new["pinned"]
    staging = os.path.dirname(staged[0].path) if staged else ""
    for s in staged:
        if s.kind != KIND_BUNDLE:
            continue
        vr = s.result
        m = vr.manifest
        signer = dict(vr.signer)
        sig = {"kind": signer.get("kind"), "name": signer.get("name"), "suite": signer.get("suite"),
               "epoch": signer.get("epoch"), "fingerprint": _full_hex(signer.get("fingerprint"))}
        entry = {"sha256": s.sha256, "size": s.size, "file": s.extra, "package": {"name": m.name, "version": m.version},
                 "signer": sig, "path": bundle_relpath(s.sha256)}
        is_new = s.sha256 not in have
        res.bundles.append({**entry, "new": is_new})
        if is_new:
            new["bundles"].append(entry)
            have.add(s.sha256)
            objects.append((s.path, bundle_relpath(s.sha256)))
    recs: dict[tuple[str, int], Any] = {}
    for r in meta.records:
        recs[(r.name, r.epoch)] = r
    for s in staged:
        if s.kind == KIND_BUNDLE and s.result.chain is not None:
            for st in s.result.chain.steps:
                recs.setdefault((st.record.name, st.record.epoch), st.record)
    known_recs = {(r["name"], r["epoch"]) for r in new["keyholders"]}
    for (name, epoch), rec in sorted(recs.items()):
        if (name, epoch) not in known_recs:
            p = os.path.join(staging, f"record-{name}-{epoch}")
            with open(p, "wb") as f:
                f.write(rec.to_bytes())
                f.flush()
                os.fsync(f.fileno())
            objects.append((p, record_relpath(name, epoch)))
            new["keyholders"].append({"name": name, "epoch": epoch, "fingerprint": rec.fingerprint.full_hex,
                                      "path": record_relpath(name, epoch)})
        cur = new["sets"].get(name)
        if cur is None or epoch > cur["epoch"]:
            new["sets"][name] = {"epoch": epoch, "fingerprint": rec.fingerprint.full_hex}
    res.sets = [{"name": n, **v} for n, v in sorted(new["sets"].items()) if any(k[0] == n for k in recs)]
    new["keyholders"].sort(key=lambda r: (r["name"], r["epoch"]))
    for s in staged:
        if s.kind == KIND_POLICY:
            sha = s.sha256
            res.policy_carried = sha
            if not any(p["sha256"] == sha for p in new["policies"]):
                new["policies"].append({"sha256": sha, "path": policy_relpath(sha), "from": label})
                objects.append((s.path, policy_relpath(sha)))
            pinned = new.get("pinned")
            if pinned is not None and pinned["sha256"] != hashlib.sha256(meta.policy.to_bytes()).hexdigest():
                res.notes.append(f"note: {label} carries a policy that differs from the pinned one; it was stored "
                                 f"({policy_relpath(sha)}), not applied")
    for pub, _data in meta.keys:
        e = {"id": pub.id, "fingerprint": pub.fingerprint.full_hex}
        if e not in new["keys"]:
            new["keys"].append(e)
    new["keys"].sort(key=lambda k: (k["id"], k["fingerprint"]))
    return new, objects


def _full_hex(fp: Any) -> str | None:
    if fp is None:
        return None
    if isinstance(fp, dict):
        return fp.get("sha256")
    return fp.full_hex


def _import_keys(home: str, staged: list[Staged], res: ImportResult) -> None:
    """Carried public keys join the home at trust 'none' (never more); a key here under the same id
    that differs is kept, with a warning."""
    from cerro_torre.keys.home import Home
    from cerro_torre.suites.errors import AlreadyExists

    h = Home(home)
    for s in staged:
        if s.kind != KIND_KEY:
            continue
        try:
            pub, changed = h.import_public_report(s.data or b"", source=f"{res.tarball}: {s.name}")
        except AlreadyExists as e:
            res.notes.append(f"warning: {s.extra}: {e.message}; kept this home's key")
            continue
        (res.keys_new if changed else res.keys_known).append(pub.id)


# ====================================================================== pinning

def pin_policy(home: str, policy_path: str, now: Any = None) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """``ct store pin --policy P``: replace the pinned trust (logged in the store).  -> (new pin, old pin)."""
    from cerro_torre.governance.keyholders import format_time, now_utc
    from cerro_torre.governance.policy import Policy

    pol = Policy.load(policy_path)
    now = now or now_utc()
    store = Store(home)
    with store.locked():
        state = store.load()
        store.recover(state)
        old = state["pinned"]
        sha = hashlib.sha256(pol.to_bytes()).hexdigest()
        new_pin = {"policy": pol.to_json(), "sha256": sha, "source": os.path.abspath(policy_path)}
        if old is not None and old["sha256"] == sha:
            return old, old
        state["pinned"] = new_pin
        state["log"].append({"at": format_time(now), "event": "pin", "by": "ct store pin",
                             "source": new_pin["source"], "policy_sha256": sha,
                             "previous_sha256": old["sha256"] if old else None})
        store.commit(state)
    return new_pin, old


def list_store(home: str) -> dict[str, Any]:
    store = Store(home)
    if not os.path.isdir(store.path):
        from .store import empty_state

        return {"store": store.path, **empty_state()}
    with store.locked():
        state = store.load()
        store.recover(state)
    return {"store": store.path, **state}


def bundle_path(home: str, sha256: str) -> str:
    return Store(home).abspath(bundle_relpath(sha256))
