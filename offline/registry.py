"""Bundles in an OCI registry (``spec/registry.md``).

A bundle is stored as an OCI artifact: an OCI image manifest whose
``artifactType`` is :data:`ARTIFACT_TYPE`, whose config is the OCI empty
descriptor and whose one layer is the ``.ctp`` file.  ``push --attach``
sets the manifest's ``subject`` to the image the bundle was packed from; the
registry then lists it as a referrer of that image (OCI 1.1 referrers API),
or, on a registry without that API, ct maintains the referrers tag schema of
the OCI distribution spec (an image index tagged ``sha256-<hex>`` listing the
referrers), as ORAS does.

The HTTP work (sessions, token and basic auth from ``~/.docker/config.json``,
blob uploads and downloads) is done by the ``oras`` library; plain HTTP is
used only for ``localhost``/``127.0.0.1``/``[::1]`` unless ``insecure``.
Every downloaded manifest and blob is checked against its digest.
"""

from __future__ import annotations

import functools
import hashlib
import os
import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from cerro_torre.suites.encoding import canonical_json, parse_json, typed
from cerro_torre.suites.errors import CTError, HashMismatch, Malformed, NotFound, Unavailable, UsageError

ARTIFACT_TYPE = "application/vnd.cerro-torre.bundle.v1"
LAYER_TYPE = "application/vnd.cerro-torre.bundle.v1.tar"
EMPTY_TYPE = "application/vnd.oci.empty.v1+json"
EMPTY = b"{}"
OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
OCI_INDEX = "application/vnd.oci.image.index.v1+json"
DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json"
DOCKER_LIST = "application/vnd.docker.distribution.manifest.list.v2+json"
MANIFEST_TYPES = (OCI_MANIFEST, OCI_INDEX, DOCKER_MANIFEST, DOCKER_LIST)
TITLE = "org.opencontainers.image.title"
ANN_PACKAGE = "org.cerro-torre.package"
ANN_STATEMENT = "org.cerro-torre.statement.sha256"
MAX_MANIFEST = 4 << 20
MAX_BUNDLE = 64 << 30
TIMEOUT = 60
LOCAL_HOSTS = ("localhost", "127.0.0.1", "[::1]")

_TAG = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}\Z")
_DIGEST = re.compile(r"sha256:[0-9a-f]{64}\Z")
_REPO = re.compile(r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*\Z")
_HOST = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9a-fA-F:]+\])(?::[0-9]+)?\Z")


# ====================================================================== references

@dataclass(frozen=True)
class Ref:
    """``host/repository`` with a tag or a digest (or both: the digest wins)."""

    host: str
    repository: str
    tag: str = ""
    digest: str = ""

    @property
    def reference(self) -> str:
        return self.digest or self.tag

    @property
    def name(self) -> str:
        return f"{self.host}/{self.repository}"

    def with_digest(self, digest: str) -> Ref:
        return Ref(self.host, self.repository, self.tag, digest)

    def __str__(self) -> str:
        return self.name + (f":{self.tag}" if self.tag else "") + (f"@{self.digest}" if self.digest else "")


def parse_ref(text: str, *, need_tag: bool = False) -> Ref:
    """``[docker://]HOST[:PORT]/REPO[:TAG][@sha256:HEX]``; Docker Hub names are expanded."""
    from cerro_torre.ceremony.sources import normalize_reference

    raw = text[len("docker://"):] if text.startswith("docker://") else text
    hint = "write it as REGISTRY/REPOSITORY:TAG, e.g. 127.0.0.1:5000/team/app:1.0"
    if not raw or any(c.isspace() for c in raw):
        raise UsageError(f"bad registry reference {text!r}", hint)
    digest = raw.split("@", 1)[1] if "@" in raw else ""
    name, ref = normalize_reference(raw)
    tag = "" if ref == digest else ref
    host, _, repo = name.partition("/")
    if digest and not _DIGEST.match(digest):
        raise UsageError(f"bad digest in {text!r}", "a digest is sha256: and 64 lowercase hex digits")
    if not _HOST.match(host) or not _REPO.match(repo) or (tag and not _TAG.match(tag)):
        raise UsageError(f"bad registry reference {text!r}", hint)
    if need_tag and not tag and not digest:
        raise UsageError(f"{text!r} has no tag", hint)
    return Ref(host, repo, tag, digest)


def plain_http_allowed(host: str) -> bool:
    return host.rsplit(":", 1)[0] in LOCAL_HOSTS or host in LOCAL_HOSTS


# ====================================================================== client

class Client:
    """One registry host, through oras (no retries with long sleeps: one attempt, a timeout)."""

    def __init__(self, host: str, *, insecure: bool = False) -> None:
        self.host = host
        self.plain = insecure or plain_http_allowed(host)
        reg = _registry_class()(hostname=host, insecure=self.plain, tls_verify=not insecure)
        reg.session.request = functools.partial(reg.session.request, timeout=TIMEOUT)  # type: ignore[method-assign]
        self.reg = reg
        self.base = f"{'http' if self.plain else 'https'}://{host}/v2"

    # -- plumbing
    def _request(self, method: str, url: str, what: str, **kw: Any) -> Any:
        import requests

        try:
            return self.reg.do_request(url, method, **kw)
        except requests.exceptions.SSLError as e:
            raise Unavailable(f"TLS with registry {self.host} failed: {_short(e)}",
                              "check the registry's certificate; for a registry you trust without TLS "
                              "pass --insecure") from None
        except requests.exceptions.ConnectionError as e:
            raise Unavailable(f"registry {self.host} is unreachable ({what}): {_short(e)}",
                              "check the address and that the registry is running") from None
        except requests.exceptions.Timeout:
            raise Unavailable(f"registry {self.host} did not answer within {TIMEOUT} s ({what})",
                              "try again later") from None
        except ValueError as e:  # oras: cannot authenticate
            raise Unavailable(f"registry {self.host} refused {what}: {e}",
                              "log in first (ct reads ~/.docker/config.json, as docker and skopeo write it)") from None

    def _check(self, resp: Any, what: str, ok: tuple[int, ...] = (200, 201, 202)) -> Any:
        if resp.status_code in ok:
            return resp
        detail = _registry_error(resp)
        if resp.status_code == 404:
            raise NotFound(f"{what}: not found in registry {self.host}{detail}",
                           "check the repository, tag or digest ('skopeo list-tags docker://REPO')")
        if resp.status_code in (401, 403):
            raise Unavailable(f"registry {self.host} refused {what} (HTTP {resp.status_code}){detail}",
                              "log in first (ct reads ~/.docker/config.json, as docker and skopeo write it)")
        if resp.status_code in (400, 405):
            raise Unavailable(f"registry {self.host} rejected {what} (HTTP {resp.status_code}){detail}",
                              "the registry may not accept OCI artifacts; check its version and configuration")
        raise Unavailable(f"registry {self.host} failed {what} (HTTP {resp.status_code}){detail}",
                          "try again later, or ask the registry's operator")

    def _url(self, ref: Ref, kind: str, what: str) -> str:
        return f"{self.base}/{ref.repository}/{kind}/{what}"

    # -- manifests
    def get_manifest(self, ref: Ref, reference: str = "") -> tuple[bytes, str, str]:
        """(bytes, media type, digest) of a manifest; the bytes are checked against the digest."""
        reference = reference or ref.reference
        what = f"manifest {ref.name}{'@' if reference.startswith('sha256:') else ':'}{reference}"
        resp = self._check(self._request("GET", self._url(ref, "manifests", reference), what,
                                         headers={"Accept": ", ".join(MANIFEST_TYPES)}, stream=True), what)
        data = _read_limited(resp, MAX_MANIFEST, what)
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        if reference.startswith("sha256:") and digest != reference:
            raise HashMismatch(f"registry {self.host} sent a {what} whose digest is {digest}",
                               "the registry is corrupt or was tampered with")
        header = resp.headers.get("Docker-Content-Digest")
        if header and header != digest:
            raise HashMismatch(f"registry {self.host} says {what} is {header}, but its bytes are {digest}",
                               "the registry is corrupt or was tampered with")
        mt = resp.headers.get("Content-Type", "").split(";")[0].strip()
        doc = parse_json(data, what)
        if isinstance(doc, dict) and isinstance(doc.get("mediaType"), str):
            mt = doc["mediaType"]
        return data, mt, digest

    def put_manifest(self, ref: Ref, reference: str, data: bytes, media_type: str) -> str:
        what = f"manifest {ref.name}:{reference}"
        resp = self._check(self._request("PUT", self._url(ref, "manifests", reference), f"upload of {what}",
                                         data=data, headers={"Content-Type": media_type}), f"upload of {what}")
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        got = resp.headers.get("Docker-Content-Digest")
        if got and got != digest:
            raise HashMismatch(f"registry {self.host} stored {what} as {got}, not {digest}")
        return digest

    # -- blobs
    def push_blob(self, ref: Ref, path: str, desc: dict[str, Any]) -> None:
        container = self.reg.get_container(f"{ref.name}:{ref.tag or 'latest'}")
        try:
            resp = self.reg.upload_blob(path, container, dict(desc))
        except CTError:
            raise
        except Exception as e:  # noqa: BLE001 - requests' errors, through oras
            self._request_error(e, f"upload of blob {desc['digest']}")
        self._check(resp, f"upload of blob {desc['digest']}")

    def _request_error(self, e: Exception, what: str) -> None:
        import requests

        if isinstance(e, requests.exceptions.RequestException):
            raise Unavailable(f"registry {self.host} is unreachable ({what}): {_short(e)}",
                              "check the address and that the registry is running") from None
        raise e

    def fetch_blob(self, ref: Ref, desc: dict[str, Any], out: Any, limit: int = MAX_BUNDLE) -> None:
        """Stream blob ``desc`` into ``out``, checking its size and sha256."""
        digest, size = desc.get("digest"), desc.get("size")
        if not isinstance(digest, str) or not _DIGEST.match(digest) or not isinstance(size, int) \
                or isinstance(size, bool) or not 0 <= size <= limit:
            raise Malformed(f"bad blob descriptor in a manifest of {ref.name}")
        what = f"blob {digest}"
        resp = self._check(self._request("GET", self._url(ref, "blobs", digest), what, stream=True), what)
        h = hashlib.sha256()
        n = 0
        try:
            for chunk in resp.iter_content(1 << 20):
                n += len(chunk)
                if n > size:
                    break
                h.update(chunk)
                out.write(chunk)
        except Exception as e:  # noqa: BLE001
            self._request_error(e, what)
        if n != size or "sha256:" + h.hexdigest() != digest:
            raise HashMismatch(f"registry {self.host} sent {what} with other bytes than its digest names",
                               "the registry is corrupt or was tampered with")

    # -- referrers
    def referrers(self, ref: Ref, digest: str) -> list[dict[str, Any]] | None:
        """Descriptors of the manifests whose subject is ``digest``: from the referrers API when the
        registry has it, else from the referrers tag schema.  ``None``: the API is not there and no
        ``sha256-<hex>`` tag exists either."""
        what = f"referrers of {digest}"
        resp = self._request("GET", self._url(ref, "referrers", digest), what,
                             headers={"Accept": OCI_INDEX}, stream=True)
        if resp.status_code == 200 and resp.headers.get("Content-Type", "").startswith(OCI_INDEX):
            return _descriptors(_read_limited(resp, MAX_MANIFEST, what), what)
        resp.close()
        if resp.status_code not in (404, 405, 400):
            self._check(resp, what)
        try:
            data, _mt, _d = self.get_manifest(ref, fallback_tag(digest))
        except NotFound:
            return None
        return _descriptors(data, f"referrers index {fallback_tag(digest)}")

    def has_referrers_api(self, ref: Ref, digest: str) -> bool:
        resp = self._request("GET", self._url(ref, "referrers", digest), "referrers API check",
                             headers={"Accept": OCI_INDEX}, stream=True)
        resp.close()
        return resp.status_code == 200 and resp.headers.get("Content-Type", "").startswith(OCI_INDEX)


@functools.cache
def _registry_class() -> Any:
    """oras' Registry without its retry decorator (which sleeps minutes on a refused connection)."""
    import oras.provider

    class NoRetry(oras.provider.Registry):  # type: ignore[misc]
        def do_request(self, *args: Any, **kw: Any) -> Any:
            return oras.provider.Registry.do_request.__wrapped__(self, *args, **kw)

    return NoRetry


def _short(e: Exception) -> str:
    text = str(e)
    m = re.search(r"\[Errno -?\d+\] ([^'\")\]]+)", text)
    if m:
        return m.group(1).strip().lower()
    if "Connection refused" in text:
        return "connection refused"
    return text.splitlines()[0][:160] if text else type(e).__name__


def _registry_error(resp: Any) -> str:
    try:
        doc = resp.json()
        errs = [e.get("message") or e.get("code") for e in doc.get("errors", []) if isinstance(e, dict)]
        return ": " + "; ".join(str(e) for e in errs if e) if errs else ""
    except Exception:  # noqa: BLE001
        return ""


def _read_limited(resp: Any, limit: int, what: str) -> bytes:
    buf = bytearray()
    for chunk in resp.iter_content(1 << 16):
        buf += chunk
        if len(buf) > limit:
            resp.close()
            raise Malformed(f"{what} is larger than {limit} bytes")
    return bytes(buf)


def _descriptors(data: bytes, what: str) -> list[dict[str, Any]]:
    doc = parse_json(data, what)
    mans = doc.get("manifests") if isinstance(doc, dict) else None
    if not isinstance(mans, list) or not all(isinstance(d, dict) for d in mans):
        raise Malformed(f"{what} has no manifests list")
    return mans


def fallback_tag(digest: str) -> str:
    """The referrers tag schema's tag for ``digest`` (OCI distribution spec 1.1)."""
    alg, _, hexd = digest.partition(":")
    return f"{alg}-{hexd}"[:128]


def client_for(ref: Ref, insecure: bool = False) -> Client:
    return Client(ref.host, insecure=insecure)


# ====================================================================== push

@dataclass
class Pushed:
    ref: Ref
    digest: str               # of the artifact manifest
    size: int                 # of the bundle
    subject: str = ""         # image digest the bundle is attached to
    referrers: str = ""       # "api" or "tag-schema"


def _bundle_facts(path: str) -> tuple[str, str, str]:
    """(package name, version, statement sha256) of a bundle, for annotations."""
    from cerro_torre.ceremony.bundle import ENVELOPE, read_parts
    from cerro_torre.ceremony.statement import Envelope

    parts = read_parts(path)
    if ENVELOPE not in parts.signature_members:
        raise Malformed(f"{os.path.basename(path)} has no {ENVELOPE}", "is this a .ctp bundle?")
    env = Envelope.from_bytes(parts.signature_members[ENVELOPE])
    return parts.manifest.name, parts.manifest.version, hashlib.sha256(env.payload).hexdigest()


def artifact_manifest(bundle_desc: dict[str, Any], annotations: dict[str, str],
                      subject: dict[str, Any] | None) -> bytes:
    empty = {"mediaType": EMPTY_TYPE, "digest": "sha256:" + hashlib.sha256(EMPTY).hexdigest(),
             "size": len(EMPTY), "data": "e30="}
    doc: dict[str, Any] = {"schemaVersion": 2, "mediaType": OCI_MANIFEST, "artifactType": ARTIFACT_TYPE,
                           "config": empty, "layers": [bundle_desc], "annotations": annotations}
    if subject is not None:
        doc["subject"] = subject
    return canonical_json(doc)


def push(bundle: str, ref: Ref, *, attach_to: str | None = None, insecure: bool = False) -> Pushed:
    """Push ``bundle`` as an artifact: tagged ``ref`` (no attach), or with subject ``attach_to``
    (an image digest in ``ref``'s repository)."""
    name, version, stmt = _bundle_facts(bundle)
    client = client_for(ref, insecure)
    h = hashlib.sha256()
    size = 0
    with open(bundle, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
            size += len(chunk)
    desc = {"mediaType": LAYER_TYPE, "digest": "sha256:" + h.hexdigest(), "size": size,
            "annotations": {TITLE: os.path.basename(bundle)}}
    subject = None
    if attach_to is not None:
        data, mt, digest = client.get_manifest(ref, attach_to)
        subject = {"mediaType": mt, "digest": digest, "size": len(data)}
    client.push_blob(ref, bundle, {k: desc[k] for k in ("mediaType", "digest", "size")})
    with tempfile.NamedTemporaryFile(prefix="ct-empty-") as tmp:
        tmp.write(EMPTY)
        tmp.flush()
        client.push_blob(ref, tmp.name, {"mediaType": EMPTY_TYPE,
                                         "digest": "sha256:" + hashlib.sha256(EMPTY).hexdigest(),
                                         "size": len(EMPTY)})
    annotations = {ANN_PACKAGE: f"{name} {version}", ANN_STATEMENT: stmt}
    data = artifact_manifest(desc, annotations, subject)
    digest = "sha256:" + hashlib.sha256(data).hexdigest()
    if subject is None:
        client.put_manifest(ref, ref.tag or digest, data, OCI_MANIFEST)
        return Pushed(ref, digest, size)
    client.put_manifest(ref, digest, data, OCI_MANIFEST)
    how = "api"
    if not client.has_referrers_api(ref, subject["digest"]):
        how = "tag-schema"
        _add_to_fallback_index(client, ref, subject["digest"],
                               {"mediaType": OCI_MANIFEST, "digest": digest, "size": len(data),
                                "artifactType": ARTIFACT_TYPE, "annotations": annotations})
    return Pushed(ref, digest, size, subject["digest"], how)


def _add_to_fallback_index(client: Client, ref: Ref, subject: str, desc: dict[str, Any]) -> None:
    tag = fallback_tag(subject)
    try:
        data, _mt, _d = client.get_manifest(ref, tag)
        current = _descriptors(data, f"referrers index {tag}")
    except NotFound:
        current = []
    if any(d.get("digest") == desc["digest"] for d in current):
        return
    index = {"schemaVersion": 2, "mediaType": OCI_INDEX, "manifests": current + [desc]}
    client.put_manifest(ref, tag, canonical_json(index), OCI_INDEX)


# ====================================================================== find and fetch

@dataclass
class Found:
    """What a reference names: an image with its attached bundles, or a pushed bundle itself."""

    ref: Ref
    digest: str
    media_type: str
    manifest: bytes
    bundles: list[dict[str, Any]]      # layer descriptors of bundles, with "manifest" = artifact digest
    attached: bool                     # the bundles are referrers of an image (else: the artifact itself)


def _bundle_layer(client: Client, ref: Ref, manifest: bytes, digest: str) -> dict[str, Any]:
    doc = typed(parse_json(manifest, f"manifest {digest}"), "object", f"manifest {digest}")
    layers = doc.get("layers")
    if doc.get("artifactType") != ARTIFACT_TYPE or not isinstance(layers, list) or len(layers) != 1 \
            or not isinstance(layers[0], dict) or layers[0].get("mediaType") != LAYER_TYPE:
        raise Malformed(f"{ref.name}@{digest} is not a ct bundle artifact",
                        f"ct bundles have artifactType {ARTIFACT_TYPE} and one {LAYER_TYPE} layer")
    return {**layers[0], "manifest": digest}


def find(ref: Ref, *, insecure: bool = False) -> Found:
    client = client_for(ref, insecure)
    data, mt, digest = client.get_manifest(ref)
    doc = parse_json(data, f"manifest {ref}")
    if isinstance(doc, dict) and doc.get("artifactType") == ARTIFACT_TYPE:
        return Found(ref, digest, mt, data, [_bundle_layer(client, ref, data, digest)], False)
    refs = client.referrers(ref, digest) or []
    bundles = []
    for d in refs:
        if not isinstance(d, dict) or d.get("artifactType") != ARTIFACT_TYPE or not isinstance(d.get("digest"), str):
            continue
        mdata, _mt, mdig = client.get_manifest(ref, d["digest"])
        mdoc = parse_json(mdata, f"manifest {d['digest']}")
        subject = mdoc.get("subject") if isinstance(mdoc, dict) else None
        if not isinstance(subject, dict) or subject.get("digest") != digest:
            continue   # a tag-schema index entry that does not point back at this image
        bundles.append(_bundle_layer(client, ref, mdata, mdig))
    return Found(ref, digest, mt, data, bundles, True)


def download(found: Found, layer: dict[str, Any], out_path: str, *, insecure: bool = False) -> None:
    from cerro_torre.suites.atomic import atomic_writer

    client = client_for(found.ref, insecure)
    with atomic_writer(out_path) as out:
        client.fetch_blob(found.ref, layer, out)


@dataclass
class Fetched:
    found: Found
    layer: dict[str, Any]
    path: str


def fetch(ref: Ref, out_path: str, *, insecure: bool = False) -> Fetched:
    found = find(ref, insecure=insecure)
    if not found.bundles:
        raise NotFound(f"no ct bundle is attached to {ref} ({found.digest})",
                       "push one with 'ct push BUNDLE.ctp REF --attach', or name the bundle's own tag")
    layer = found.bundles[-1]
    download(found, layer, out_path, insecure=insecure)
    return Fetched(found, layer, out_path)


def iter_bundles(found: Found, workdir: str, *, insecure: bool = False) -> Iterator[tuple[dict[str, Any], str]]:
    for i, layer in enumerate(found.bundles):
        title = str((layer.get("annotations") or {}).get(TITLE) or "bundle.ctp")
        title = re.sub(r"[^A-Za-z0-9._+-]", "_", os.path.basename(title))[:100].lstrip(".") or "bundle.ctp"
        os.mkdir(os.path.join(workdir, str(i)))
        path = os.path.join(workdir, str(i), title)
        download(found, layer, path, insecure=insecure)
        yield layer, path


def image_digests(manifest: bytes) -> list[str]:
    """The digests an image manifest or index refers to (config, layers, child manifests)."""
    doc = parse_json(manifest, "image manifest")
    out = []
    if isinstance(doc, dict):
        for key in ("manifests", "layers"):
            for d in doc.get(key) or []:
                if isinstance(d, dict) and isinstance(d.get("digest"), str):
                    out.append(d["digest"])
        if isinstance(doc.get("config"), dict) and isinstance(doc["config"].get("digest"), str):
            out.append(doc["config"]["digest"])
    return out


# ====================================================================== verify by reference

def signed_blob(statement: Any, digest: str) -> bool:
    """Whether ``statement`` signs OCI blob ``digest`` (a subject ``[PREFIX/]blobs/sha256/HEX`` with that hash)."""
    alg, _, hexd = digest.partition(":")
    tail = f"blobs/{alg}/{hexd}"
    return any((s.name == tail or s.name.endswith("/" + tail)) and s.sha256 == hexd for s in statement.subjects)


def image_problem(found: Found, result: Any) -> CTError | None:
    """The image ``found`` names must be exactly one the verified bundle signs: its manifest
    (or index) digest and every digest that manifest lists."""
    label = os.path.basename(result.path)
    signs = ", ".join(result.manifest.source.get("manifests") or []) if result.manifest else ""
    if not signed_blob(result.statement, found.digest):
        return HashMismatch(
            f"{found.ref} is image {found.digest}, which {label} does not sign"
            + (f" (it signs {signs})" if signs else ""),
            "the tag was moved to another image, or the image was changed after signing; do not run it")
    for d in image_digests(found.manifest):
        if not signed_blob(result.statement, d):
            return HashMismatch(f"{found.ref}: image {found.digest} refers to {d}, which {label} does not sign",
                                "the image was changed after signing; do not run it")
    return None


@dataclass
class RefVerdict:
    found: Found
    result: Any = None                 # VerifyResult of the bundle that decided
    error: CTError | None = None
    bundle_digest: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"reference": str(self.found.ref), "digest": self.found.digest,
                "media_type": self.found.media_type, "attached": self.found.attached,
                "bundles": len(self.found.bundles), "bundle_manifest": self.bundle_digest}


def verify_reference(ref: Ref, trust: Any, policy: Any, *, insecure: bool = False) -> RefVerdict:
    """Find the bundle(s) attached to the image ``ref`` names (or the bundle ``ref`` is), verify
    them; the first that verifies and signs exactly that image decides, else the first failure."""
    from cerro_torre.ceremony.verifier import verify_bundle

    found = find(ref, insecure=insecure)
    verdict = RefVerdict(found)
    if not found.bundles:
        verdict.error = HashMismatch(
            f"{ref} is image {found.digest}, and no ct bundle is attached to it",
            "the tag may have been moved to another image; ask the publisher for the signed digest",
            f"a publisher attaches a bundle with 'ct push BUNDLE.ctp {ref.name}:TAG --attach'")
        return verdict
    first: RefVerdict | None = None
    with tempfile.TemporaryDirectory(prefix="ct-ref-") as tmp:
        for layer, path in iter_bundles(found, tmp, insecure=insecure):
            res = verify_bundle(path, trust, policy)
            res.detach()    # the fetched copy goes with this folder: the file list is held from now on
            err = res.error
            if err is None and found.attached:
                err = image_problem(found, res)
            candidate = RefVerdict(found, res, err, layer["manifest"])
            if err is None:
                return candidate
            first = first or candidate
    assert first is not None
    return first
