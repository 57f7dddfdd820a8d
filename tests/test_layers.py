"""The layers hold: no import runs back up the data flow (issue #15).

Every module of the package is parsed (imports inside functions and `TYPE_CHECKING` blocks count too) and
each import is checked against the rules below, which docs/architecture.md draws as a picture.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import connector

ROOT = Path(connector.__file__).parent
VENDORS = ("connector.systems.hubspot", "connector.systems.salesforce")
EDGES = ("connector.cli", "connector.demo", "connector.sandbox", "connector.operate")

# package -> the packages it must never import (prefix match on the absolute module name)
FORBIDDEN: dict[str, tuple[str, ...]] = {
    # the pure core: nothing of the connector but itself
    "connector.reconcile": ("connector.store", "connector.systems", "connector.pull", "connector.push",
                            "connector.sync", "connector.setup", *EDGES),
    # the scoring core: pure like reconcile (it reads the reconcile core's errors, loader helpers and schema)
    "connector.score": ("connector.store", "connector.systems", "connector.pull", "connector.push",
                        "connector.sync", "connector.setup", "connector.objects", *EDGES),
    # the reports (issue 17): computed from the store, never from a system or a run
    "connector.report": ("connector.systems", "connector.pull", "connector.push", "connector.sync",
                         "connector.setup", *EDGES),
    # SQL only: no stage, no system (the ports' value types are allowed: see ALLOWED)
    "connector.store": ("connector.systems", "connector.pull", "connector.push", "connector.sync",
                        "connector.setup", *EDGES),
    # the adapters: no stage and no store
    "connector.systems": ("connector.store", "connector.pull", "connector.push", "connector.sync",
                          "connector.setup", *EDGES),
    # the stages see the ports, never a vendor's package, and never the run that wires them (nor the object
    # specs it runs: of `connector.objects` they read only the stream descriptions: see ALLOWED)
    "connector.pull": (*VENDORS, "connector.push", "connector.sync", "connector.setup", "connector.objects", *EDGES),
    "connector.push": (*VENDORS, "connector.pull", "connector.sync", "connector.setup", "connector.objects", *EDGES),
    # what is pulled: descriptions over the core's mapping types, read by every stage
    "connector.objects.streams": ("connector.store", "connector.systems", "connector.pull", "connector.push",
                                  "connector.sync", "connector.setup", *EDGES),
    # the object specs: run by the cycle, they call the stages, the store and the core
    "connector.objects": ("connector.setup", *EDGES),
    "connector.setup": ("connector.sync", *EDGES),
    "connector.sync": EDGES,
}

# exceptions to FORBIDDEN: the ports module is a leaf of value types and Protocols, below the store; the
# stream descriptions (what is pulled) import only the core's mapping types, and the stages read them
ALLOWED: tuple[str, ...] = ("connector.systems.ports", "connector.objects.streams")


def _modules() -> list[tuple[str, Path]]:
    out = []
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        if "migrations" in parts:
            continue
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        out.append((name, path))
    return out


def _imports(name: str, path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(node.lineno, a.name) for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            found.append((node.lineno, target))
            found += [(node.lineno, f"{target}.{a.name}") for a in node.names if not node.module]
    return found


def _layer(name: str) -> str | None:
    return next((p for p in sorted(FORBIDDEN, key=len, reverse=True) if name == p or name.startswith(p + ".")), None)


def _under(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


def violations() -> list[str]:
    out = []
    for name, path in _modules():
        layer = _layer(name)
        if layer is None:
            continue
        for line, target in _imports(name, path):
            for banned in FORBIDDEN[layer]:
                allowed = any(_under(target, a) for a in ALLOWED)
                if _under(target, banned) and not _under(name, banned) and not allowed:
                    out.append(f"{path.relative_to(ROOT.parent)}:{line} imports {target} ({layer} must not)")
    return sorted(set(out))


def test_no_import_runs_back_up_a_layer() -> None:
    assert violations() == []


@pytest.mark.parametrize("source, expected", [
    ("from ..store.models import X", "connector.store.models"),
    ("from . import models", "connector.reconcile.models"),
])
def test_relative_imports_are_resolved(tmp_path: Path, source: str, expected: str) -> None:
    file = tmp_path / "mod.py"
    file.write_text(source + "\n", encoding="utf-8")
    assert expected in {t for _, t in _imports("connector.reconcile.mod", file)}


def test_the_ports_are_a_leaf() -> None:
    """The store and the stages may import the ports, so the ports import nothing of the connector."""
    path = ROOT / "systems" / "ports.py"
    assert [t for _, t in _imports("connector.systems.ports", path) if _under(t, "connector")] == []
