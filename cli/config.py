"""The user's config file: ``$XDG_CONFIG_HOME/cerro-torre/config.toml`` (default ``~/.config``).

Same folder name as the data (``$XDG_DATA_HOME/cerro-torre``).  Every key is
optional; an unknown key, a wrong type or a file that is not TOML is refused
(exit 10, naming the file), never skipped.  Command-line flags and ``CT_HOME``
win over the file.  The old ``cerro/config.toml`` is still read when the new
one does not exist, with a warning to move it.

    home           = "~/ct-home"        keyholder home (after --home and CT_HOME)
    default_key    = "alice"            the default key (instead of 'ct key default')
    default_policy = "~/policy.json"    policy for verify/explain/import/export (instead of HOME/policy.json)
    output         = "text"             "text" or "json" (as if --json were given)
    color          = "auto"             "auto" (terminal and NO_COLOR), "always" or "never"
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from cerro_torre.suites.errors import Malformed

MAX_BYTES = 64 * 1024
OUTPUTS = ("text", "json")
COLORS = ("auto", "always", "never")
KEYS = ("home", "default_key", "default_policy", "output", "color")
HINT = "fix or move the file; 'ct help environment' lists the keys"


@dataclass(frozen=True)
class Config:
    path: str | None = None          # the file read, None when there is none
    home: str | None = None
    default_key: str | None = None
    default_policy: str | None = None
    output: str = "text"
    color: str = "auto"
    warning: str | None = None       # e.g. the old path was read


def paths() -> tuple[str, str]:
    """(the config file, the old path still read when the first is absent)."""
    base = os.environ.get("XDG_CONFIG_HOME") or os.path.join(os.path.expanduser("~"), ".config")
    return os.path.join(base, "cerro-torre", "config.toml"), os.path.join(base, "cerro", "config.toml")


def load() -> Config:
    """Read the config file, or the defaults when there is none.  Malformed (exit 10) when it is broken."""
    new, old = paths()
    warning = None
    path = new
    if not os.path.exists(new):
        if not os.path.exists(old):
            return Config()
        path = old
        warning = (f"warning: reading {old}, the old place of the config; move it to {new} "
                   "(the old path will stop being read)")
    return parse_file(path, warning)


def parse_file(path: str, warning: str | None = None) -> Config:
    from cerro_torre.suites.encoding import parse_toml

    try:
        with open(path, "rb") as f:
            data = f.read(MAX_BYTES + 1)
    except IsADirectoryError:
        raise Malformed(f"config file {path} is a directory", HINT) from None
    except OSError as e:
        raise Malformed(f"config file {path} cannot be read: {(e.strerror or 'i/o error').lower()}", HINT) from None
    if len(data) > MAX_BYTES:
        raise Malformed(f"config file {path} is larger than {MAX_BYTES // 1024} KiB", HINT)
    try:
        doc = parse_toml(data, f"config file {path}")
    except Malformed as e:
        raise Malformed(e.message, HINT) from None
    unknown = sorted(k for k in doc if k not in KEYS)
    if unknown:
        raise Malformed(f"config file {path}: unknown key {quoted(unknown[0])}", "known keys: " + ", ".join(KEYS))
    values: dict[str, str] = {}
    for key, value in doc.items():
        if not isinstance(value, str) or not value:
            raise Malformed(f"config file {path}: {key} must be a non-empty string", HINT)
        values[key] = value
    for key in ("home", "default_policy"):
        if key in values:
            p = os.path.expanduser(values[key])
            if not os.path.isabs(p):
                raise Malformed(f"config file {path}: {key} must be an absolute path (or start with ~)",
                                f"got {quoted(values[key])}")
            values[key] = p
    if "default_key" in values:
        from cerro_torre.keys.identity import validate_id

        try:
            validate_id(values["default_key"], Malformed)
        except Malformed as e:
            raise Malformed(f"config file {path}: default_key: {e.message}", *e.hints) from None
    for key, allowed in (("output", OUTPUTS), ("color", COLORS)):
        if key in values and values[key] not in allowed:
            raise Malformed(f"config file {path}: {key} must be one of {', '.join(allowed)}",
                            f"got {quoted(values[key])}")
    return Config(path=path, warning=warning, **values)


def quoted(text: str) -> str:
    """``suites.encoding.quoted``, imported only when an error needs it (cli modules load the standard
    library alone at start-up)."""
    from cerro_torre.suites.encoding import quoted as q

    return q(text)
