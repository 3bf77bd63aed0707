"""What ``ct pack`` packs (``spec/bundle.md`` §Sources).

* ``oci:DIR[:TAG]`` — an OCI image layout.  Every blob reachable from the
  index (or from the tagged manifest) is checked against its digest and
  size; the payload is the layout itself (``oci-layout``, ``index.json``,
  ``blobs/…``), so it can be used again after extraction.  With a tag, the
  payload's ``index.json`` holds only that manifest.
* ``docker-archive:TAR`` — a ``docker save`` archive.  Layers are checked
  against the config's ``rootfs.diff_ids`` and the config against its
  name; OCI blobs inside are checked against their names.  The payload is
  the archive's files (links become the files they point to).
* a plain file, or a directory (regular files only; links are refused).
* a registry reference (``docker://REF`` or ``host/repo:tag``), copied
  with ``skopeo`` into a temporary OCI layout, then packed like ``oci:``.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import stat
import subprocess
import tarfile
import tempfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from cerro_torre.suites.encoding import parse_json
from cerro_torre.suites.errors import (
    HashMismatch,
    Malformed,
    NotFound,
    Unavailable,
    UsageError,
)

from .bundle import MODE_EXEC, MODE_FILE, PayloadFile, check_path, hash_stream, sort_key

OCI_INDEX = "application/vnd.oci.image.index.v1+json"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
INDEX_TYPES = (OCI_INDEX, DOCKER_LIST)
MANIFEST_TYPES = (OCI_MANIFEST, DOCKER_MANIFEST)
REF_NAME = "org.opencontainers.image.ref.name"
IMAGE_NAME = "io.containerd.image.name"
MAX_JSON = 16 << 20
MAX_DEPTH = 8

_HASHES = {"sha256": 64, "sha512": 128}
_REF_RE = re.compile(
    r"(?:[a-z0-9]+(?:[._-][a-z0-9]+)*(?::[0-9]+)?/)?"      # optional host[:port]/
    r"[a-z0-9]+(?:[._-]+[a-z0-9]+)*(?:/[a-z0-9]+(?:[._-]+[a-z0-9]+)*)*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[0-9a-f]{64})?\Z")


@dataclass
class Source:
    kind: str
    info: dict[str, Any]
    files: list[PayloadFile]
    layers: list[dict[str, Any]] = field(default_factory=list)
    default_name: str = ""
    default_version: str = "unversioned"


# ====================================================================== helpers

class _Slice:
    """``size`` bytes of ``path`` from ``offset``, as a readable binary file."""

    def __init__(self, path: str, offset: int, size: int) -> None:
        self.f = open(path, "rb")
        self.f.seek(offset)
        self.left = size

    def readinto(self, b: Any) -> int:
        n = min(len(b), self.left)
        if n <= 0:
            return 0
        got = self.f.readinto(memoryview(b)[:n])
        self.left -= got
        return got

    def read(self, n: int = -1) -> bytes:
        n = self.left if n < 0 else min(n, self.left)
        data = self.f.read(n)
        self.left -= len(data)
        return data

    def close(self) -> None:
        self.f.close()

    def __enter__(self) -> _Slice:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def _file_opener(path: str):
    return lambda: open(path, "rb")


def _bytes_opener(data: bytes):
    import io

    return lambda: io.BytesIO(data)


def _mode_of(st: os.stat_result) -> int:
    return MODE_EXEC if st.st_mode & 0o100 else MODE_FILE


def _load_json(data: bytes, what: str) -> Any:
    return parse_json(data, what)


def normalize_reference(ref: str) -> tuple[str, str]:
    """(registry/repository, tag-or-digest) of an image reference, Docker Hub names expanded.

    ``nginx:1.26`` -> (``docker.io/library/nginx``, ``1.26``).
    """
    if ref.startswith("docker://"):
        ref = ref[len("docker://"):]
    digest = ""
    if "@" in ref:
        ref, digest = ref.split("@", 1)
    tag = ""
    last = ref.rsplit("/", 1)[-1]
    if ":" in last:
        ref, tag = ref.rsplit(":", 1)
    parts = ref.split("/")
    if len(parts) > 1 and ("." in parts[0] or ":" in parts[0] or parts[0] == "localhost"):
        host, path = parts[0], "/".join(parts[1:])
    else:
        host, path = "docker.io", ref
    if host == "docker.io" and "/" not in path:
        path = "library/" + path
    return f"{host}/{path}", digest or tag


def looks_like_reference(spec: str) -> bool:
    return spec.startswith("docker://") or bool(_REF_RE.match(spec)) and (":" in spec or "/" in spec)


# ====================================================================== OCI image layout

def _blob_path(root: str, digest: Any, what: str) -> tuple[str, str, str]:
    if not isinstance(digest, str) or ":" not in digest:
        raise Malformed(f"{what}: bad digest {digest!r}")
    alg, hexd = digest.split(":", 1)
    if alg not in _HASHES or not re.fullmatch(f"[0-9a-f]{{{_HASHES[alg]}}}", hexd):
        raise Malformed(f"{what}: unsupported or malformed digest {digest!r}", "ct checks sha256 and sha512 blobs")
    return os.path.join(root, "blobs", alg, hexd), alg, hexd


def load_oci(root: str, tag: str | None, label: str) -> Source:
    if not os.path.isdir(root):
        raise NotFound(f"OCI layout not found: {root}", "oci:DIR names a directory holding oci-layout and index.json")
    layout_path = os.path.join(root, "oci-layout")
    index_path = os.path.join(root, "index.json")
    for p in (layout_path, index_path):
        if not os.path.isfile(p):
            raise Malformed(f"{label} is not an OCI image layout: {os.path.basename(p)} is missing",
                            "create one with 'skopeo copy docker://REF oci:DIR:TAG'")
    with open(layout_path, "rb") as f:
        layout = _load_json(f.read(MAX_JSON), f"{label}/oci-layout")
    if not isinstance(layout, dict) or layout.get("imageLayoutVersion") != "1.0.0":
        raise Malformed(f"{label}/oci-layout: unsupported imageLayoutVersion "
                        f"{layout.get('imageLayoutVersion') if isinstance(layout, dict) else layout!r}")
    with open(index_path, "rb") as f:
        index_bytes = f.read(MAX_JSON + 1)
    if len(index_bytes) > MAX_JSON:
        raise Malformed(f"{label}/index.json is too large")
    index = _load_json(index_bytes, f"{label}/index.json")
    if not isinstance(index, dict) or not isinstance(index.get("manifests"), list):
        raise Malformed(f"{label}/index.json has no manifests list")
    descs = index["manifests"]
    info: dict[str, Any] = {"kind": "oci"}
    image_name = ""
    if tag is not None:
        chosen = [d for d in descs if isinstance(d, dict)
                  and (d.get("annotations") or {}).get(REF_NAME) == tag]
        if not chosen:
            tags = sorted({(d.get("annotations") or {}).get(REF_NAME, "") for d in descs if isinstance(d, dict)} - {""})
            raise NotFound(f"tag {tag!r} is not in {label}/index.json",
                           "tags there: " + (", ".join(tags) if tags else "none (use oci:DIR without a tag)"))
        if len(chosen) > 1:
            raise Malformed(f"tag {tag!r} names {len(chosen)} manifests in {label}/index.json")
        descs = chosen
        new_index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": chosen}
        index_bytes = json.dumps(new_index, sort_keys=True, separators=(",", ":")).encode() + b"\n"
        info["tag"] = tag
    if not descs:
        raise Malformed(f"{label}/index.json lists no manifests")
    for d in descs:
        ann = (d.get("annotations") or {}) if isinstance(d, dict) else {}
        if isinstance(ann.get(IMAGE_NAME), str) and not image_name:
            image_name = ann[IMAGE_NAME]

    blobs: dict[str, tuple[str, int]] = {}     # relpath -> (abs path, size)
    layers: list[dict[str, Any]] = []
    manifests: list[str] = []
    digests: dict[str, str] = {}               # relpath -> sha256 hex (computed)

    def check_blob(desc: Any, what: str, body_wanted: bool = False) -> bytes | None:
        if not isinstance(desc, dict):
            raise Malformed(f"{what}: descriptor must be an object")
        size = desc.get("size")
        if isinstance(size, bool) or not isinstance(size, int) or size < 0:
            raise Malformed(f"{what}: descriptor size must be a non-negative integer")
        path, alg, hexd = _blob_path(root, desc.get("digest"), what)
        rel = f"blobs/{alg}/{hexd}"
        if not os.path.isfile(path) or os.path.islink(path):
            raise NotFound(f"blob {desc['digest']} is missing from {label}",
                           "the layout is incomplete; copy the image again (skopeo copy --all for every platform)")
        st = os.stat(path)
        if st.st_size != size:
            raise HashMismatch(f"blob {desc['digest']} in {label} is {st.st_size} bytes, its descriptor says {size}",
                               "the layout is damaged; copy the image again")
        mt = desc.get("mediaType")
        want_body = body_wanted or mt in INDEX_TYPES or mt in MANIFEST_TYPES
        if rel not in blobs:
            h = hashlib.new(alg)
            body = bytearray() if want_body and size <= MAX_JSON else None
            sha = hashlib.sha256() if alg != "sha256" else None
            with open(path, "rb") as f:
                while True:
                    chunk = f.read(1 << 20)
                    if not chunk:
                        break
                    h.update(chunk)
                    if sha is not None:
                        sha.update(chunk)
                    if body is not None:
                        body += chunk
            if h.hexdigest() != hexd:
                raise HashMismatch(f"blob {desc['digest']} in {label} does not match its digest",
                                   "the layout is damaged or was altered; copy the image again")
            blobs[rel] = (path, size)
            digests[rel] = hexd if sha is None else sha.hexdigest()
            return bytes(body) if body is not None else None
        if want_body:
            with open(path, "rb") as f:
                return f.read(MAX_JSON)
        return None

    def walk(desc: Any, depth: int, platform: str) -> None:
        if depth > MAX_DEPTH:
            raise Malformed(f"{label}: image indexes nested too deep")
        what = f"{label}: {desc.get('digest') if isinstance(desc, dict) else desc}"
        body = check_blob(desc, what, body_wanted=True)
        mt = desc.get("mediaType")
        if mt not in INDEX_TYPES and mt not in MANIFEST_TYPES and body:
            # a descriptor without (or with an unusual) mediaType: the document says what it is
            try:
                sniff = parse_json(body, what)
            except Malformed:
                sniff = None
            if isinstance(sniff, dict):
                if sniff.get("mediaType") in INDEX_TYPES + MANIFEST_TYPES:
                    mt = sniff["mediaType"]
                elif isinstance(sniff.get("manifests"), list):
                    mt = OCI_INDEX
                elif isinstance(sniff.get("layers"), list):
                    mt = OCI_MANIFEST
        if isinstance(desc.get("platform"), dict):
            p = desc["platform"]
            platform = "/".join(x for x in (p.get("os"), p.get("architecture"), p.get("variant")) if isinstance(x, str))
        if mt in INDEX_TYPES:
            doc = _load_json(body or b"", what)
            if not isinstance(doc, dict) or not isinstance(doc.get("manifests"), list):
                raise Malformed(f"{what}: index has no manifests list")
            for d in doc["manifests"]:
                walk(d, depth + 1, platform)
        elif mt in MANIFEST_TYPES:
            doc = _load_json(body or b"", what)
            if not isinstance(doc, dict) or not isinstance(doc.get("layers"), list):
                raise Malformed(f"{what}: image manifest has no layers list")
            manifests.append(desc["digest"])
            check_blob(doc.get("config"), f"{what} config")
            for i, layer in enumerate(doc["layers"]):
                check_blob(layer, f"{what} layer {i}")
                layers.append({"manifest": desc["digest"], "index": i, "digest": layer["digest"],
                               "size": layer["size"], "media_type": str(layer.get("mediaType", "")),
                               "platform": platform})
            if isinstance(doc.get("subject"), dict) and os.path.isfile(
                    _blob_path(root, doc["subject"].get("digest"), what)[0]):
                check_blob(doc["subject"], f"{what} subject")

    for d in descs:
        walk(d, 0, "")

    files = [
        PayloadFile("oci-layout", os.path.getsize(layout_path), MODE_FILE, _file_opener(layout_path)),
        PayloadFile("index.json", len(index_bytes), MODE_FILE,
                    _file_opener(index_path) if tag is None else _bytes_opener(index_bytes)),
    ]
    for rel, (path, size) in sorted(blobs.items()):
        files.append(PayloadFile(rel, size, MODE_FILE, _file_opener(path), digests[rel]))
    info["manifests"] = sorted(set(manifests))
    name, version = os.path.basename(os.path.normpath(root)) or "image", tag or "unversioned"
    if image_name:
        repo, ref = normalize_reference(image_name)
        info["image"] = image_name
        info["registry"] = repo
        name = repo.rsplit("/", 1)[-1]
        if ref and not ref.startswith("sha256:"):
            version = ref
    return Source("oci", info, files, layers, name, version)


# ====================================================================== docker-archive

def load_docker_archive(path: str, label: str) -> Source:
    if not os.path.isfile(path):
        raise NotFound(f"docker archive not found: {path}", "docker-archive:TAR names a 'docker save' tar file")
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic == b"\x1f\x8b":
        raise Malformed(f"{label} is gzip-compressed", "unpack it first: gunzip -k FILE, then pack the .tar")
    try:
        tf = tarfile.open(path, "r:")
    except tarfile.TarError as e:
        raise Malformed(f"{label} is not a tar archive: {e}") from None
    regular: dict[str, tuple[int, int, int]] = {}   # name -> (offset, size, mode)
    links: dict[str, str] = {}
    with tf:
        for m in tf:
            name = m.name
            while name.startswith("./"):
                name = name[2:]
            name = name.rstrip("/")
            if not name or m.isdir():
                continue
            check_path(name, f"{label} member")
            if name in regular or name in links:
                raise Malformed(f"{label}: duplicate member {name!r}")
            if m.isreg():
                regular[name] = (m.offset_data, m.size, MODE_EXEC if m.mode & 0o100 else MODE_FILE)
            elif m.issym():
                target = os.path.normpath(os.path.join(os.path.dirname(name), m.linkname))
                links[name] = target
            elif m.islnk():
                links[name] = m.linkname.lstrip("./") if m.linkname.startswith("./") else m.linkname
            else:
                raise Malformed(f"{label}: member {name!r} is not a regular file or link")
    for name, target in list(links.items()):
        seen = {name}
        while target in links:
            if target in seen:
                raise Malformed(f"{label}: link loop at {name!r}")
            seen.add(target)
            target = links[target]
        if target not in regular:
            raise Malformed(f"{label}: link {name!r} points outside the archive or to nothing")
        regular[name] = regular[target]
    if "manifest.json" not in regular:
        raise Malformed(f"{label} is not a docker archive: manifest.json is missing",
                        "make one with 'docker save IMAGE -o FILE.tar'")

    def read_member(name: str, limit: int = MAX_JSON) -> bytes:
        off, size, _ = regular[name]
        if size > limit:
            raise Malformed(f"{label}: {name} is too large")
        with _Slice(path, off, size) as s:
            return s.read()

    digests: dict[str, str] = {}
    for name, (off, size, _) in regular.items():
        with _Slice(path, off, size) as s:
            digests[name], _n = hash_stream(s, size)

    manifest = _load_json(read_member("manifest.json"), f"{label}/manifest.json")
    if not isinstance(manifest, list) or not manifest:
        raise Malformed(f"{label}/manifest.json must be a non-empty list")
    layers: list[dict[str, Any]] = []
    tags: list[str] = []
    for n, entry in enumerate(manifest):
        if not isinstance(entry, dict) or not isinstance(entry.get("Config"), str) \
                or not isinstance(entry.get("Layers"), list):
            raise Malformed(f"{label}/manifest.json entry {n} needs Config and Layers")
        cfg_name = entry["Config"]
        if cfg_name not in regular:
            raise NotFound(f"{label}: config {cfg_name} is missing")
        m = re.search(r"([0-9a-f]{64})(?:\.json)?\Z", cfg_name)
        if m and digests[cfg_name] != m.group(1):
            raise HashMismatch(f"{label}: config {cfg_name} does not match its digest",
                               "the archive is damaged or was altered")
        config = _load_json(read_member(cfg_name), f"{label}/{cfg_name}")
        diff_ids = ((config.get("rootfs") or {}).get("diff_ids")) if isinstance(config, dict) else None
        if not isinstance(diff_ids, list) or len(diff_ids) != len(entry["Layers"]):
            raise Malformed(f"{label}/{cfg_name}: rootfs.diff_ids does not match the {len(entry['Layers'])} layers")
        platform = "/".join(str(config.get(k)) for k in ("os", "architecture") if config.get(k))
        for i, (lname, diff_id) in enumerate(zip(entry["Layers"], diff_ids)):
            if lname not in regular:
                raise NotFound(f"{label}: layer {lname} is missing")
            if not isinstance(diff_id, str) or not diff_id.startswith("sha256:"):
                raise Malformed(f"{label}/{cfg_name}: diff_id {i} is not a sha256 digest")
            got = digests[lname]
            off, size, _ = regular[lname]
            with _Slice(path, off, size) as s:
                head = s.read(2)
            if head == b"\x1f\x8b":
                got = _gunzip_sha256(path, off, size)
            if "sha256:" + got != diff_id:
                raise HashMismatch(f"{label}: layer {lname} does not match diff_id {diff_id}",
                                   "the archive is damaged or was altered")
            layers.append({"manifest": cfg_name, "index": i, "digest": diff_id, "size": size,
                           "media_type": "application/vnd.docker.image.rootfs.diff.tar"
                           + (".gzip" if head == b"\x1f\x8b" else ""),
                           "platform": platform, "path": lname})
        for t in entry.get("RepoTags") or []:
            if isinstance(t, str) and t not in tags:
                tags.append(t)
    for name in regular:
        m = re.fullmatch(r"blobs/sha256/([0-9a-f]{64})", name)
        if m and digests[name] != m.group(1):
            raise HashMismatch(f"{label}: blob {name} does not match its digest",
                               "the archive is damaged or was altered")
    files = [PayloadFile(name, size, mode, (lambda o=off, s=size: _Slice(path, o, s)), digests[name])
             for name, (off, size, mode) in sorted(regular.items(), key=lambda kv: sort_key(kv[0]))]
    info: dict[str, Any] = {"kind": "docker-archive", "name": os.path.basename(path)}
    name, version = os.path.splitext(os.path.basename(path))[0], "unversioned"
    if tags:
        info["repo_tags"] = tags
        repo, ref = normalize_reference(tags[0])
        info["image"] = tags[0]
        info["registry"] = repo
        name = repo.rsplit("/", 1)[-1]
        if ref:
            version = ref
    return Source("docker-archive", info, files, layers, name, version)


def _gunzip_sha256(path: str, off: int, size: int) -> str:
    h = hashlib.sha256()
    d = zlib.decompressobj(16 + zlib.MAX_WBITS)
    with _Slice(path, off, size) as s:
        while True:
            chunk = s.read(1 << 20)
            if not chunk:
                break
            h.update(d.decompress(chunk))
    h.update(d.flush())
    return h.hexdigest()


# ====================================================================== files and directories

def load_path(path: str) -> Source:
    st = os.lstat(path)
    base = os.path.basename(os.path.normpath(path))
    if stat.S_ISLNK(st.st_mode):
        st = os.stat(path)
    if stat.S_ISREG(st.st_mode):
        check_path(base, "file name")
        files = [PayloadFile(base, st.st_size, _mode_of(st),
                             _checked_opener(path, os.path.abspath(path).replace(os.sep, "/"), path),
                             "")]  # ct pack hashes it
        return Source("file", {"kind": "file", "name": base}, files, [], *guess_name_version(base))
    if not stat.S_ISDIR(st.st_mode):
        raise Malformed(f"{path} is not a regular file or a directory", "pack a file, a directory or an image")
    return Source("directory", {"kind": "directory", "name": base}, DirFiles(path),  # type: ignore[arg-type]
                  [], *guess_name_version(base, True))


class DirFiles:
    """The regular files of a directory as PayloadFiles, walked anew on each iteration (a tree of
    100,000 files is never held) in the bundle's order: sorted by the bytes of their relative path.
    Links and special files are refused; so is a directory without files."""

    sorted_by_path = True

    def __init__(self, root: str) -> None:
        self.root = root

    def __len__(self) -> int:
        return sum(1 for _ in self)     # a walk: callers that need the count of a large tree pay for it

    def __iter__(self) -> Iterator[PayloadFile]:
        found = False
        for pf in self._walk(self.root, ""):
            found = True
            yield pf
        if not found:
            raise Malformed(f"{self.root} holds no files", "there is nothing to pack")

    def _walk(self, folder: str, prefix: str) -> Iterator[PayloadFile]:
        with os.scandir(folder) as it:   # a folder sorts as its name + "/": so do the paths inside it
            entries = sorted(((e.name + "/" if e.is_dir(follow_symlinks=False) else e.name)
                              .encode("utf-8", "surrogateescape"), e) for e in it)
        for _key, e in entries:
            full = os.path.join(folder, e.name)
            rel = prefix + e.name
            if e.is_dir(follow_symlinks=False):
                yield from self._walk(full, rel + "/")
                continue
            lst = e.stat(follow_symlinks=False)
            if stat.S_ISLNK(lst.st_mode):
                raise Malformed(f"{full} is a symbolic link",
                                "bundles carry regular files only; replace the link by its file or remove it")
            if not stat.S_ISREG(lst.st_mode):
                raise Malformed(f"{full} is not a regular file", "bundles carry regular files only")
            check_path(rel, "file name")
            yield PayloadFile(rel, lst.st_size, _mode_of(lst), _checked_opener(full, rel, self.root))


def _checked_opener(path: str, name: str, top: str):
    """Open ``path`` for packing, refusing (exit 64) a keyholder's secret (``name``: its path under the
    packed folder ``top``), which must never leave its home in a bundle.  The first bytes are looked at
    as the file is opened to be hashed (no extra read)."""
    from cerro_torre.keys.keyfile import HEAD_SIZE, home_of, private_material

    def open_() -> Any:
        f = open(path, "rb")
        kind = private_material(name, f.peek(HEAD_SIZE)[:HEAD_SIZE])
        if kind is not None:
            f.close()
            home = home_of(name)
            where = f" of the keyholder home {os.path.join(top, home) if home != '.' else top}" if home else ""
            raise UsageError(f"refusing to pack {path}: it is {kind}{where}",
                             "private keys, FROST shares and nonces never leave the keyholder's machine; "
                             "pack a folder that holds only the release (move the home out of it, or keep "
                             "CT_HOME elsewhere)")
        return f
    return open_


ARCHIVE_SUFFIXES = (".tar.gz", ".tgz", ".tar.xz", ".txz", ".tar.zst", ".tzst", ".tar.bz2", ".tbz2", ".tar",
                    ".zip", ".deb", ".rpm", ".gz", ".xz", ".zst", ".bz2")
_RPM_ARCH = re.compile(r"\.(noarch|src|x86_64|aarch64|i[3-6]86|armv7hl|ppc64le|s390x|riscv64)\Z")
_EXTENSION = re.compile(r"\.[A-Za-z][A-Za-z0-9]{0,7}\Z")
_NAME_VERSION = re.compile(r"(?P<name>.+?)[-_]v?(?P<version>[0-9][0-9A-Za-z.+~_-]*)\Z")


def guess_name_version(filename: str, is_dir: bool = False) -> tuple[str, str]:
    """``coop-tools-1.2.0.tar.gz`` -> ("coop-tools", "1.2.0"): the package name and version a file or
    folder name suggests ("unversioned" when it names none).  Archive suffixes are dropped; the version
    starts at the first '-' or '_' followed by a digit (a leading 'v' is dropped); Debian's
    ``name_version_arch.deb`` and RPM's ``name-version-release.arch.rpm`` drop the architecture."""
    stem = filename
    suffix = ""
    if not is_dir:
        low = filename.lower()
        suffix = next((x for x in ARCHIVE_SUFFIXES if low.endswith(x) and len(x) < len(filename)), "")
        if suffix:
            stem = filename[:-len(suffix)]
        elif _EXTENSION.search(filename.lstrip(".")):
            stem = _EXTENSION.sub("", filename)  # readme.txt -> readme (but hello-1.0 stays)
    if suffix == ".deb" and stem.count("_") == 2:
        name, version, _arch = stem.split("_")
        return (name, version) if name and version else (stem, "unversioned")
    if suffix == ".rpm":
        stem = _RPM_ARCH.sub("", stem)
        parts = stem.rsplit("-", 2)
        if len(parts) == 3 and all(parts) and parts[1][:1].isdigit():
            return parts[0], f"{parts[1]}-{parts[2]}"
    m = _NAME_VERSION.match(stem)
    if m:
        return m.group("name"), m.group("version")
    return stem or filename, "unversioned"


# ====================================================================== registry (skopeo)

@contextlib.contextmanager
def fetch_with_skopeo(ref: str) -> Iterator[Source]:
    exe = shutil.which("skopeo")
    if exe is None:
        raise Unavailable(f"skopeo is not installed, so registry image {ref!r} cannot be fetched",
                          "install skopeo (apt-get install skopeo), or copy the image elsewhere with "
                          "'skopeo copy docker://REF oci:DIR:TAG' and run 'ct pack oci:DIR:TAG'")
    src = ref if ref.startswith("docker://") else "docker://" + ref
    tmp = tempfile.mkdtemp(prefix="ct-skopeo-")
    try:
        layout = os.path.join(tmp, "image")
        try:
            proc = subprocess.run([exe, "copy", "--quiet", src, f"oci:{layout}:ct"],
                                  capture_output=True, text=True, timeout=3600, check=False)
        except (OSError, subprocess.TimeoutExpired) as e:
            raise Unavailable(f"skopeo could not run: {e}") from None
        if proc.returncode != 0:
            last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
            raise Unavailable(f"skopeo could not fetch {ref}: {last}",
                              "check the reference, your network and registry credentials")
        source = load_oci(layout, "ct", f"skopeo copy of {ref}")
        repo, tagref = normalize_reference(src)
        source.kind = "registry"
        source.info.update({"kind": "registry", "image": src[len("docker://"):], "registry": repo})
        source.info.pop("tag", None)
        source.default_name = repo.rsplit("/", 1)[-1]
        if tagref and not tagref.startswith("sha256:"):
            source.default_version = tagref
        yield source
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ====================================================================== dispatch

@contextlib.contextmanager
def open_source(spec: str) -> Iterator[Source]:
    """Load SOURCE (see the module doc); temporary files live until the block ends."""
    if not isinstance(spec, str) or not spec:
        raise UsageError("SOURCE is empty", "give oci:DIR[:TAG], docker-archive:TAR, a file, a directory or an image")
    if spec.startswith("oci:"):
        rest = spec[4:]
        tag = None
        if not os.path.isdir(rest) and ":" in rest:
            rest, tag = rest.rsplit(":", 1)
            if not tag:
                tag = None
        if not rest:
            raise UsageError("oci: needs a directory", "use oci:DIR or oci:DIR:TAG")
        yield load_oci(rest, tag, f"oci:{rest}")
        return
    if spec.startswith("docker-archive:"):
        rest = spec[len("docker-archive:"):]
        if not rest:
            raise UsageError("docker-archive: needs a tar file", "use docker-archive:FILE.tar")
        yield load_docker_archive(rest, f"docker-archive:{os.path.basename(rest)}")
        return
    if spec.startswith("docker://"):
        with fetch_with_skopeo(spec) as s:
            yield s
        return
    if os.path.lexists(spec):
        yield load_path(spec)
        return
    if looks_like_reference(spec):
        with fetch_with_skopeo(spec) as s:
            yield s
        return
    raise NotFound(f"no such file or directory: {spec}",
                   "give oci:DIR[:TAG], docker-archive:TAR, a file, a directory, or docker://REF for a registry image")


__all__ = ["Source", "open_source", "load_oci", "load_docker_archive", "load_path", "normalize_reference",
           "looks_like_reference", "fetch_with_skopeo"]
