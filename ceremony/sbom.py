"""The SPDX 2.3 JSON SBOM ``ct pack`` attests (``spec/attestations.md`` §SBOM).

Packages come from the package databases found in what is packed:

* Debian ``var/lib/dpkg/status`` and Alpine ``lib/apk/db/installed``,
* Python ``*.dist-info/METADATA``,
* a ``.deb`` file's own ``control``,

looked up in a directory's files, or inside an image's layers (in layer
order; a later layer's copy of a database replaces an earlier one's, a
whiteout removes it).  Every payload file is listed with its SHA-1 (SPDX
requires it) and SHA-256, up to :data:`MAX_FILES` files (more are named by
the release statement only, and the document says so).

The document is deterministic: ``created`` is ``SOURCE_DATE_EPOCH`` (the
reproducible-builds convention), else 1970-01-01T00:00:00Z.
"""

from __future__ import annotations

import datetime as _dt
import email.parser
import hashlib
import io
import itertools
import os
import re
import tarfile
import urllib.parse
from dataclasses import dataclass
from typing import Any, BinaryIO

from cerro_torre.suites.errors import Malformed

SPDX_VERSION = "SPDX-2.3"
PREDICATE_TYPE = "https://spdx.dev/Document/v2.3"
MAX_FILES = 10_000
MAX_DB = 64 << 20

DPKG_STATUS = "var/lib/dpkg/status"
APK_INSTALLED = "lib/apk/db/installed"
OS_RELEASE = ("etc/os-release", "usr/lib/os-release")
_DIST_INFO = re.compile(r"(?:^|.*/)([^/]+)\.dist-info/METADATA\Z")


@dataclass(frozen=True)
class Package:
    name: str
    version: str
    kind: str                 # deb, apk, pypi
    arch: str = ""
    supplier: str = ""
    distro: str = ""

    def purl(self) -> str:
        q = urllib.parse.quote
        if self.kind == "pypi":
            return f"pkg:pypi/{q(self.name.lower().replace('_', '-'), safe='')}@{q(self.version, safe='')}"
        ns = self.distro or ("debian" if self.kind == "deb" else "alpine")
        tail = f"?arch={q(self.arch, safe='')}" if self.arch else ""
        return f"pkg:{self.kind}/{q(ns, safe='')}/{q(self.name, safe='')}@{q(self.version, safe='')}{tail}"


# ====================================================================== package databases

def parse_dpkg_status(data: bytes, distro: str = "") -> list[Package]:
    from debian.deb822 import Deb822

    out = []
    for para in Deb822.iter_paragraphs(io.BytesIO(data), use_apt_pkg=False):
        status = para.get("Status", "")
        if status and not status.endswith(" installed"):
            continue
        if para.get("Package") and para.get("Version"):
            out.append(Package(para["Package"], para["Version"], "deb", para.get("Architecture", ""),
                               para.get("Maintainer", ""), distro))
    return out


def parse_apk_installed(data: bytes, distro: str = "") -> list[Package]:
    out = []
    for block in data.decode("utf-8", "replace").split("\n\n"):
        fields = dict(line.split(":", 1) for line in block.splitlines() if len(line) > 2 and line[1] == ":")
        if fields.get("P") and fields.get("V"):
            out.append(Package(fields["P"], fields["V"], "apk", fields.get("A", ""), fields.get("m", ""), distro))
    return out


def parse_dist_info(data: bytes) -> list[Package]:
    msg = email.parser.BytesHeaderParser().parsebytes(data)
    name, version = msg.get("Name"), msg.get("Version")
    return [Package(str(name), str(version), "pypi", supplier=str(msg.get("Author") or ""))] \
        if name and version else []


class NotAPackage(Exception):
    """A file named like a package whose metadata cannot be read (the SBOM says so in its comment)."""


def parse_deb_control(f: BinaryIO) -> list[Package]:
    from debian.arfile import ArError
    from debian.debfile import DebError, DebFile

    try:
        ctl = DebFile(fileobj=f).debcontrol()
    except (ArError, DebError, KeyError, OSError, EOFError, tarfile.TarError, ValueError) as e:
        raise NotAPackage(f"its control file cannot be read ({e})") from None
    if not ctl.get("Package") or not ctl.get("Version"):
        raise NotAPackage("its control file has no Package or Version")
    return [Package(ctl["Package"], ctl["Version"], "deb", ctl.get("Architecture", ""), ctl.get("Maintainer", ""))]


def _distro(os_release: bytes | None) -> str:
    if not os_release:
        return ""
    m = re.search(rb"^ID=\"?([A-Za-z0-9._-]+)\"?$", os_release, re.M)
    return m.group(1).decode() if m else ""


def _wanted(path: str) -> bool:
    return path.endswith((DPKG_STATUS, APK_INSTALLED) + OS_RELEASE) or bool(_DIST_INFO.match(path))


def packages_in(files: dict[str, bytes]) -> list[Package]:
    """Packages of the databases in ``files`` (root-relative path -> bytes)."""
    def root_of(path: str, suffix: str) -> str:
        return path[:-len(suffix)]

    out: list[Package] = []
    for path, data in sorted(files.items()):
        for db, parse in ((DPKG_STATUS, parse_dpkg_status), (APK_INSTALLED, parse_apk_installed)):
            if path == db or path.endswith("/" + db):
                root = root_of(path, db)
                rel = next((files[root + r] for r in OS_RELEASE if root + r in files), None)
                out += parse(data, _distro(rel))
        if _DIST_INFO.match(path):
            out += parse_dist_info(data)
    return out


def layer_files(layers: list[BinaryIO]) -> dict[str, bytes]:
    """The package databases of an image's filesystem, applying its layers in order."""
    files: dict[str, bytes] = {}
    for f in layers:
        try:
            with tarfile.open(fileobj=f, mode="r|*") as tf:
                for m in tf:
                    name = m.name
                    while name.startswith("./"):
                        name = name[2:]
                    base = name.rsplit("/", 1)[-1]
                    if base.startswith(".wh."):
                        gone = name[:len(name) - len(base)] + base[4:]
                        for k in [k for k in files if k == gone or k.startswith(gone + "/")]:
                            del files[k]
                        continue
                    if m.isreg() and _wanted(name) and m.size <= MAX_DB:
                        src = tf.extractfile(m)
                        if src is not None:
                            files[name] = src.read()
        except (tarfile.TarError, EOFError, OSError, ValueError):
            continue    # a layer that is not a tar (e.g. an artifact's blob) has no packages
    return files


# ====================================================================== the document

def _spdx_id(kind: str, n: int) -> str:
    return f"SPDXRef-{kind}-{n}"


def created() -> str:
    epoch = os.environ.get("SOURCE_DATE_EPOCH", "0")
    try:
        t = int(epoch)
    except ValueError:
        raise Malformed(f"SOURCE_DATE_EPOCH {epoch!r} is not an integer") from None
    return _dt.datetime.fromtimestamp(t, _dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def document(name: str, version: str, files: Any, count: int, packages: list[Package],
             tool_version: str, notes: list[str] = ()) -> bytearray:  # type: ignore[assignment]
    """The SPDX 2.3 document, as canonical JSON: ``files`` iterates (path, sha1 hex, sha256 hex) sorted by
    path, ``count`` of them.  Up to :data:`MAX_FILES` they are listed (and held: a list of 10,000 is
    small); above, they are read once for the namespace's digest of their listing and let go (their
    SHA-1 is not asked for: ``""``), and the document's comment says that the release statement names
    them.  Each file and relationship is encoded on its own: no document of 10,000 of them is built."""
    from cerro_torre.suites.encoding import canonical_json_chunks

    listed = count <= MAX_FILES
    held = list(files) if listed else None
    listing = hashlib.sha256()
    for path, _sha1, s256 in held if held is not None else files:
        listing.update(f"{s256}  {path}\n".encode())
    ns = f"https://cerro-torre.org/spdx/{urllib.parse.quote(name, safe='')}/" \
         f"{urllib.parse.quote(version, safe='')}/{listing.hexdigest()}"
    root = "SPDXRef-Release"
    doc: dict[str, Any] = {
        "spdxVersion": SPDX_VERSION, "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
        "name": f"{name} {version}", "documentNamespace": ns,
        "creationInfo": {"created": created(), "creators": [f"Tool: cerro-torre-{tool_version}"]},
        "documentDescribes": [root],
    }
    pkgs = [{"SPDXID": root, "name": name, "versionInfo": version, "downloadLocation": "NOASSERTION",
             "filesAnalyzed": False, "primaryPackagePurpose": "APPLICATION"}]
    rels: Any = [{"spdxElementId": "SPDXRef-DOCUMENT", "relationshipType": "DESCRIBES", "relatedSpdxElement": root}]
    seen = set()
    n = 0
    for p in packages:
        key = (p.kind, p.name, p.version, p.arch)
        if key in seen:
            continue
        seen.add(key)
        n += 1
        sid = _spdx_id("Package", n)
        entry: dict[str, Any] = {"SPDXID": sid, "name": p.name, "versionInfo": p.version,
                                 "downloadLocation": "NOASSERTION", "filesAnalyzed": False,
                                 "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                                                   "referenceType": "purl", "referenceLocator": p.purl()}]}
        if p.supplier and "\n" not in p.supplier:
            entry["supplier"] = ("Organization: " + p.supplier)[:200]
        pkgs.append(entry)
        rels.append({"spdxElementId": root, "relationshipType": "CONTAINS", "relatedSpdxElement": sid})
    doc["packages"] = pkgs
    if held is not None:
        # the release's files: SPDX's package verification code is SHA-1 of the sorted file SHA-1s
        pkgs[0]["filesAnalyzed"] = True
        pkgs[0]["packageVerificationCode"] = {"packageVerificationCodeValue": hashlib.sha1(  # noqa: S324
            "".join(sorted(s1 for _p, s1, _s2 in held)).encode()).hexdigest()}
        doc["files"] = ({"SPDXID": _spdx_id("File", i), "fileName": "./" + path,
                         "checksums": [{"algorithm": "SHA1", "checksumValue": sha1},
                                       {"algorithm": "SHA256", "checksumValue": sha256}]}
                        for i, (path, sha1, sha256) in enumerate(held, start=1))
        rels = itertools.chain(rels, ({"spdxElementId": root, "relationshipType": "CONTAINS",
                                       "relatedSpdxElement": _spdx_id("File", i)} for i in range(1, len(held) + 1)))
    else:
        notes = [f"{count} files: more than {MAX_FILES}, so they are not listed here; "
                 "the release statement names each with its sha256", *notes]
    if notes:
        doc["comment"] = "; ".join(notes)
    doc["relationships"] = rels
    out = bytearray()
    for chunk in canonical_json_chunks(doc):
        out += chunk
    return out


# ====================================================================== from a source

def _sha1(opener: Any) -> str:
    h = hashlib.sha1()  # noqa: S324 - SPDX 2.3 requires a SHA1 checksum for every file
    with opener() as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def source_packages(source: Any, notes: list[str] | None = None) -> list[Package]:
    """Packages found in a loaded :class:`~cerro_torre.ceremony.sources.Source` (what could not be
    read is appended to ``notes``)."""
    if source.kind == "file":
        (pf,) = source.files
        if pf.path.endswith(".deb"):
            try:
                with pf.opener() as f:
                    return parse_deb_control(f)
            except NotAPackage as e:
                if notes is not None:
                    notes.append(f"{pf.path} is named like a Debian package, but {e}: no package is listed for it")
        return []
    if source.kind == "directory":   # a walk: only the package databases are kept
        files = {}
        for pf in source.files:
            if _wanted(pf.path) and pf.size <= MAX_DB:
                with pf.opener() as f:
                    files[pf.path] = f.read()
        return packages_in(files)
    by_path = {pf.path: pf for pf in source.files}    # an image's files: its layout's blobs
    out: list[Package] = []
    per_manifest: dict[str, list[dict[str, Any]]] = {}
    for layer in source.layers:
        per_manifest.setdefault(str(layer.get("manifest")), []).append(layer)
    for _manifest, layers in sorted(per_manifest.items()):
        opened = []
        try:
            for layer in sorted(layers, key=lambda x: x.get("index", 0)):
                path = layer.get("path") or "blobs/" + str(layer.get("digest", "")).replace(":", "/")
                if path in by_path:
                    opened.append(by_path[path].opener())
            out += packages_in(layer_files(opened))
        finally:
            for f in opened:
                f.close()
    return out


def sbom_for(artifacts: list[tuple[str, Any]], manifest: Any, tool_version: str) -> bytearray:
    """The SBOM of the release, as canonical JSON: ``artifacts`` are (payload prefix, Source); the files
    and their sha256 are the manifest's (read again on demand, not held), their SHA-1 read from the
    source when they are listed (:data:`MAX_FILES` at most)."""
    packages: list[Package] = []
    notes: list[str] = []
    for _prefix, source in artifacts:
        packages += source_packages(source, notes)
    count = len(manifest.files)
    listed = count <= MAX_FILES
    sha1 = {prefix + pf.path: _sha1(pf.opener) for prefix, source in artifacts for pf in source.files} if listed else {}
    files = ((f.path, sha1[f.path] if listed else "", f.sha256) for f in manifest.files)
    return document(manifest.name, manifest.version, files, count, packages, tool_version, notes)
