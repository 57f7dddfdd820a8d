"""The Dockerfile cannot be built here (no Docker engine), so test what it runs: its environment and
config make a valid configuration, and its entrypoint/command exist."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from connector.cli import cli, main

ROOT = Path(__file__).resolve().parents[1]


def _dockerfile() -> str:
    return (ROOT / "Dockerfile").read_text()


def _env() -> dict[str, str]:
    text = _dockerfile().replace("\\\n", " ")
    env: dict[str, str] = {}
    for line in text.splitlines():
        if line.startswith("ENV "):
            for item in shlex.split(line[4:]):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def test_entrypoint_and_command_exist() -> None:
    text = _dockerfile()
    entry = json.loads(re.search(r"^ENTRYPOINT (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    cmd = json.loads(re.search(r"^CMD (.+)$", text, re.M).group(1))  # type: ignore[union-attr]
    assert entry == ["connector"]
    assert cmd[0] in cli.commands


def test_image_environment_and_config_validate(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                capsys: pytest.CaptureFixture[str]) -> None:
    env = _env()
    assert env["CONNECTOR_CONFIG"] == "/etc/connector/connector.toml"
    assert "COPY config.example.toml /etc/connector/connector.toml" in _dockerfile()
    for name, value in env.items():
        if name.startswith("CONNECTOR_"):
            monkeypatch.setenv(name, value)
    # the image's paths, relocated into tmp_path
    monkeypatch.setenv("CONNECTOR_CONFIG", str(ROOT / "config.example.toml"))
    monkeypatch.setenv("CONNECTOR_STORE_URL", env["CONNECTOR_STORE_URL"].replace("/data", str(tmp_path)))
    assert env["CONNECTOR_MAPPINGS_DIRECTORY"] == "/etc/connector/mappings"
    assert "COPY connector/mappings /etc/connector/mappings" in _dockerfile()  # not the root's symlink to them
    monkeypatch.setenv("CONNECTOR_MAPPINGS_DIRECTORY", str(ROOT / "mappings"))
    assert main(["validate", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["mapped_fields"]["contacts"] > 10
