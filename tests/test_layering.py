"""The dependency direction of the design card: suites <- keys <- governance <- ceremony <- offline <- {tui, cli}.

Every import of every module (top level or inside a function) is read from the source with ``ast``;
a module may import only from its own layer or one below it, and nothing imports the CLI.
"""

from __future__ import annotations

import ast
import pathlib

ROOT = pathlib.Path(__file__).resolve().parent.parent
# tui and cli both sit on offline; the cli starts the tui, so it ranks above it
RANK = {"suites": 0, "keys": 1, "governance": 2, "ceremony": 3, "offline": 4, "tui": 5, "cli": 6}


def _imports(path: pathlib.Path, package: str) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    out = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = parts[: len(parts) - node.level + (1 if path.name == "__init__.py" else 0)]
                mod = ".".join(["cerro_torre", *base] + ([node.module] if node.module else []))
            else:
                mod = node.module or ""
            out.append((node.lineno, mod))
    return out


def test_dependencies_point_one_way():
    bad = []
    for layer, rank in RANK.items():
        for path in sorted((ROOT / layer).rglob("*.py")):
            for line, mod in _imports(path, layer):
                if not mod.startswith("cerro_torre."):
                    continue
                target = mod.split(".")[1]
                if target not in RANK:
                    continue
                allowed = RANK[target] <= rank      # cli is the top: nothing imports it
                if not allowed:
                    bad.append(f"{path.relative_to(ROOT)}:{line} imports {mod}")
    assert bad == []


def test_layers_exist_as_packages():
    for layer in RANK:
        assert (ROOT / layer / "__init__.py").is_file(), layer
