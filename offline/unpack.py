"""``ct unpack``: verify a bundle, then write its payload (``spec/bundle.md`` §Unpack).

Nothing is written unless the bundle verifies.  The payload is extracted into
a temporary folder next to the target, every file hashed again as it is
written and compared with the signed statement (the bundle file may change
between the two reads), fsynced, and the folder is renamed into place; on any
failure the temporary folder is removed and the target does not exist.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from typing import Any

from cerro_torre.ceremony.bundle import PAYLOAD_DIR, TarReader
from cerro_torre.ceremony.verifier import verify_bundle
from cerro_torre.suites.atomic import fsync_dir
from cerro_torre.suites.errors import AlreadyExists, HashMismatch, UsageError

IMAGE_KINDS = ("oci", "registry")


def unpack(bundle: str, out_dir: str, trust: Any, policy: Any, *, oci: bool = False) -> Any:
    """Verify ``bundle`` and write its payload to the new folder ``out_dir``; returns the VerifyResult."""
    if os.path.lexists(out_dir):
        raise AlreadyExists(f"{out_dir} exists", "unpack into a new folder (ct writes it whole, or not at all)")
    res = verify_bundle(bundle, trust, policy)
    if res.error is not None:
        raise res.error
    kind = str(res.manifest.source.get("kind"))
    if oci and kind not in IMAGE_KINDS:
        raise UsageError(f"{os.path.basename(bundle)} holds a {kind}, not an OCI image layout",
                         "--oci is for bundles packed from oci:DIR or a registry image; "
                         "a docker archive unpacks as is: 'skopeo copy docker-archive:FILE.tar ...'"
                         if kind == "docker-archive" else "unpack without --oci")
    parent = os.path.dirname(os.path.abspath(out_dir))
    os.makedirs(parent, exist_ok=True)
    signed = res.statement.digests()
    files = res.manifest.file_map()
    tmp = tempfile.mkdtemp(prefix=".ct-unpack-", dir=parent)
    try:
        _extract(bundle, tmp, signed, files)
        os.chmod(tmp, 0o755)
        os.rename(tmp, out_dir)
        fsync_dir(parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return res


def _extract(bundle: str, root: str, signed: dict[str, str], files: dict[str, Any]) -> None:
    label = os.path.basename(bundle)
    seen = set()
    dirs = {root}
    with open(bundle, "rb") as f:
        r = TarReader(f, label)
        for m in r:
            if not m.name.startswith(PAYLOAD_DIR):
                continue
            rel = m.name[len(PAYLOAD_DIR):]
            entry = files.get(rel)
            if rel not in signed or entry is None or entry.mode != m.mode:
                raise HashMismatch(f"{label}: payload/{rel} changed since it was verified",
                                   "something is writing to the bundle; get a clean copy and unpack again")
            path = os.path.join(root, *rel.split("/"))
            d = os.path.dirname(path)
            if d not in dirs:
                os.makedirs(d, exist_ok=True)
                dirs.add(d)
            h = hashlib.sha256()
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, entry.mode)
            with os.fdopen(fd, "wb") as out:
                for chunk in r.chunks():
                    h.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.chmod(path, entry.mode)
            if h.hexdigest() != signed[rel]:
                raise HashMismatch(f"{label}: payload/{rel} changed since it was verified",
                                   "something is writing to the bundle; get a clean copy and unpack again")
            seen.add(rel)
    if seen != set(signed):
        raise HashMismatch(f"{label}: the payload changed since it was verified",
                           "something is writing to the bundle; get a clean copy and unpack again")
    for d in sorted(dirs, key=len, reverse=True):
        fsync_dir(d)
