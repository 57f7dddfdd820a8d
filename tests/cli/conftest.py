"""What the store-only command tests share: a store a demo synced and scored, and a `--json` runner."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main


@pytest.fixture(scope="session")
def demo_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store a demo synced (and scored), and the store-only config the demo writes beside it (read only by
    the tests that use it)."""
    tmp = tmp_path_factory.mktemp("demo-store")
    assert main(["demo", "--people", "200", "--seed", "4", "--store", f"sqlite:///{tmp}/d.db", "--rate-limits",
                 "off", "--json"]) == 0
    return tmp / "d.toml"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    """`connector ARGS --json`: its exit code and its one JSON object."""
    capsys.readouterr()
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)
