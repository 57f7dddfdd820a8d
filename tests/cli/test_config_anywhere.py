"""Commands need only what they use, and configs work from any directory (issue #13).

- Store-only commands (`status`, `explain`, `duplicates`, `retry`, `reconcile`) run on a config with only
  `[store]`: no API credential is asked for.
- `connector sandbox --config-out` writes absolute paths: the file works from any directory.
- The default mappings ship inside the package, so an installed connector finds them anywhere.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.config import load_config, shipped_mappings
from connector.sandbox.runner import Sandbox

ROOT = Path(__file__).resolve().parents[2]


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, dict[str, Any]]:
    code = main([*args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def test_store_only_commands_need_no_credentials(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)  # no ./mappings here: the shipped ones are used
    config = tmp_path / "store.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/state.db"\n')
    for command in (["status"], ["duplicates"], ["retry"], ["reconcile"]):
        code, out = run([*command, "--config", str(config)], capsys)
        assert code == 0 and out["ok"], (command, out)
    code, out = run(["explain", "nobody-here", "--config", str(config)], capsys)
    assert code == 1 and out["error"] != "ConfigError", out  # nobody matches: not a configuration problem
    # a command that calls the systems still names every credential it lacks
    code, out = run(["sync", "--once", "--config", str(config)], capsys)
    assert code == 2 and out["error"] == "ConfigError"
    keys = {p["key"] for p in out["problems"]}
    assert {"[hubspot].access_token", "[salesforce].client_id", "[salesforce].client_secret"} <= keys


def test_a_sandbox_config_works_from_any_directory(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    started_in, elsewhere = tmp_path / "a", tmp_path / "b"
    started_in.mkdir()
    elsewhere.mkdir()
    monkeypatch.chdir(started_in)  # like `connector sandbox --config-out` run outside the repository
    with Sandbox(people=0, rate_limits=False) as sb:
        config = started_in / "sandbox.toml"
        config.write_text(sb.connector_config())
        monkeypatch.chdir(elsewhere)
        cfg = load_config(config)
        assert cfg.store.url == f"sqlite:///{started_in.resolve() / 'connector.db'}"
        assert cfg.mappings.directory == shipped_mappings()
        code, out = run(["validate", "--config", str(config)], capsys)
        assert code == 0 and out["mappings"] == str(shipped_mappings()), out
        code, out = run(["status", "--config", str(config)], capsys)
        assert code == 0
    assert (started_in / "connector.db").exists() and not (elsewhere / "connector.db").exists()


def test_an_explicit_mappings_directory_that_is_missing_is_still_an_error(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "c.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/s.db"\n[mappings]\ndirectory = "nowhere"\n')
    code, out = run(["reconcile", "--config", str(config)], capsys)
    assert code == 2 and "nowhere" in json.dumps(out)


def test_the_built_package_ships_the_mappings(tmp_path: Path) -> None:
    """What a wheel installs (setuptools' build_py, which copies the package data), built from what the
    image's build stage copies (a fresh tree: no egg-info left by an earlier build), used from a directory
    with no mappings: the shipped defaults load."""
    src, lib = tmp_path / "src", tmp_path / "lib"
    shutil.copytree(ROOT / "connector", src / "connector", ignore=shutil.ignore_patterns("__pycache__", "*.so", "*.c"))
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    subprocess.run([sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(lib)], cwd=src, check=True,
                   capture_output=True)
    shipped = lib / "connector" / "mappings"
    assert sorted(p.name for p in shipped.glob("*.toml")) == ["companies.toml", "contacts.toml", "opportunities.toml",
                                                              "scoring.toml"]
    code = ("from connector.config import shipped_mappings; from connector.reconcile import load_mappings; "
            "import connector; d = shipped_mappings(); m = load_mappings(d); "
            "print(connector.__file__, d, len(m.contacts.fields))")
    env = {**os.environ, "PYTHONPATH": str(lib)}
    out = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, check=True, capture_output=True,
                         text=True).stdout.split()
    assert out[0].startswith(str(lib)) and out[1] == str(shipped) and int(out[2]) > 10


def test_an_empty_objects_list_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`[sync] objects = []` once meant "every group" to the sync and "nothing" to `connector pull`: it is
    refused, naming the key, before anything starts."""
    config = tmp_path / "empty.toml"
    config.write_text(f'[store]\nurl = "sqlite:///{tmp_path}/state.db"\n[sync]\nobjects = []\n')
    code, out = run(["status", "--config", str(config)], capsys)
    assert code == 2 and out["error"] == "ConfigError"
    assert [p["key"] for p in out["problems"]] == ["[sync].objects"]
