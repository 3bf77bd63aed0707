"""A release of several artifacts (``spec/bundle.md`` §Several artifacts).

``ct pack A B C`` loads each source as usual and combines them: artifact
``i``'s files go under ``payload/<name>/`` (``<name>`` its file, folder or
image name), its facts into one ``[[artifacts]]`` table of the manifest, its
layers keep an ``artifact`` key.  The release statement names every file of
every artifact, so one ceremony signs the whole set.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from cerro_torre.suites.errors import UsageError

from .bundle import PayloadFile, check_path
from .sources import Source


@dataclass
class MultiSource(Source):
    artifacts: list[dict[str, Any]] = field(default_factory=list)   # the manifest's [[artifacts]]
    parts: list[tuple[str, Source]] = field(default_factory=list)   # (name, source) of each artifact


def artifact_name(source: Source) -> str:
    info = source.info
    if source.kind in ("file", "directory", "docker-archive"):
        return str(info.get("name") or source.default_name)
    return source.default_name + (f"-{source.default_version}" if source.default_version != "unversioned" else "")


def combine(sources: list[Source]) -> Source:
    names = [artifact_name(s) for s in sources]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise UsageError(f"two artifacts would both be named {dup[0]!r} in the release",
                         "rename one of them (a file or folder), or pack them as separate releases")
    files: list[PayloadFile] = []
    layers: list[dict[str, Any]] = []
    artifacts: list[dict[str, Any]] = []
    for name, s in zip(names, sources):
        check_path(name, "artifact name")
        for pf in s.files:
            files.append(PayloadFile(f"{name}/{pf.path}", pf.size, pf.mode, pf.opener, pf.sha256))
        for layer in s.layers:
            entry = dict(layer, artifact=name)
            if "path" in entry:
                entry["path"] = f"{name}/{entry['path']}"
            layers.append(entry)
        artifacts.append({"path": name, **s.info})
    return MultiSource("multi", {"kind": "multi", "artifacts": names}, files, layers,
                       names[0].split(".", 1)[0] or "release", "unversioned", artifacts, list(zip(names, sources)))
