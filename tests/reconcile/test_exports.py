"""The public surface of connector.reconcile stays deliberate, and the core stays pure."""

from __future__ import annotations

import ast
import pathlib

import connector.reconcile as reconcile

HEAVY = {"httpx", "requests", "simple_salesforce", "hubspot", "sqlalchemy", "sqlmodel", "sqlite3", "socket"}


def test_all_names_exist() -> None:
    missing = [name for name in reconcile.__all__ if not hasattr(reconcile, name)]
    assert missing == []
    assert {"reconcile", "load_mappings", "SourceRecord", "Provenance", "FieldChange",
            "MappingError"} <= set(reconcile.__all__)


def test_core_imports_no_sdk_http_or_database() -> None:
    root = pathlib.Path(reconcile.__file__).parent
    for path in root.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Import | ast.ImportFrom):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
                assert not {n.split(".")[0] for n in names} & HEAVY, (path.name, names)
