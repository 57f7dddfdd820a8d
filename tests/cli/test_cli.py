"""The CLI contract: exit codes, --json, helpful errors; driven through main(argv) like installer does."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main
from connector.errors import ConfigError
from connector.config import load_config

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "config.example.toml"
COMMANDS = ["validate", "sandbox", "pull", "reconcile", "push", "sync", "plan", "run", "status", "report",
            "explain", "demo"]


def _production_config(tmp_path: Path, **replace: str) -> Path:
    text = EXAMPLE.read_text().replace("enabled = true", "enabled = false")
    for old, new in replace.items():
        assert old in text
        text = text.replace(old, new)
    path = tmp_path / "connector.toml"
    path.write_text(text)
    return path


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    import os

    for name in list(os.environ):
        if name.startswith("CONNECTOR_") and not name.startswith("CONNECTOR_TEST_"):
            monkeypatch.delenv(name)


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_has_help(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([command, "--help"]) == 0
    assert "Usage: connector " + command in capsys.readouterr().out


def test_validate_accepts_the_example_config(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(EXAMPLE), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] is True and out["sandbox"] is True and out["store"] == "sqlite"


def test_misspelled_key_fails_with_exit_2_and_names_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _production_config(tmp_path, **{"interval_minutes = 15": "intervall_minutes = 15"})
    assert main(["validate", "--config", str(cfg), "--json"]) == 2
    out = json.loads(capsys.readouterr().out)
    keys = {p["key"]: p for p in out["problems"]}
    assert keys["[sync].intervall_minutes"]["message"] == "unknown key"
    assert "interval_minutes" in keys["[sync].intervall_minutes"]["hint"]


def test_missing_secret_fails_with_exit_2_and_says_how_to_set_it(tmp_path: Path,
                                                                 capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _production_config(tmp_path)
    assert main(["validate", "--config", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "[hubspot].access_token" in err and "CONNECTOR_HUBSPOT_ACCESS_TOKEN" in err
    assert "[salesforce].client_secret" in err and "CONNECTOR_SALESFORCE_CLIENT_SECRET_FILE" in err


def test_secrets_from_env_and_files_satisfy_validation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _production_config(tmp_path)
    secret = tmp_path / "sf-secret"
    secret.write_text("s3cr3t-value\n")
    monkeypatch.setenv("CONNECTOR_HUBSPOT_ACCESS_TOKEN", "pat-na1-abcdefgh-1234")
    monkeypatch.setenv("CONNECTOR_SALESFORCE_CLIENT_ID", "3MVG9example")
    monkeypatch.setenv("CONNECTOR_SALESFORCE_CLIENT_SECRET_FILE", str(secret))
    assert main(["validate", "--config", str(cfg), "--json"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out)["salesforce"]["auth"] == "client_credentials"
    assert "s3cr3t-value" not in out and "pat-na1" not in out


def test_misspelled_environment_variable_is_caught(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("CONNECTOR_SYNC_INTERVALMINUTES", "5")
    assert main(["validate", "--config", str(EXAMPLE), "--json"]) == 2
    problem = json.loads(capsys.readouterr().out)["problems"][0]
    assert problem["source"] == "CONNECTOR_SYNC_INTERVALMINUTES"


def test_wrong_type_names_key_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    cfg = _production_config(tmp_path, **{"interval_minutes = 15": 'interval_minutes = "often"'})
    assert main(["validate", "--config", str(cfg), "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert any(p["key"] == "[sync].interval_minutes" and "number without quotes" in p["hint"] for p in problems)


def test_missing_config_file_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "file not found" in capsys.readouterr().err


def test_bad_toml_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("[sync\ninterval_minutes = 3\n")
    assert main(["validate", "--config", str(bad)]) == 2
    assert "not valid TOML" in capsys.readouterr().err


def test_unknown_command_is_a_usage_error() -> None:
    assert main(["frobnicate"]) == 2


def test_the_daemon_prints_no_summary_so_json_is_a_usage_error() -> None:
    assert main(["run", "--json", "--config", str(EXAMPLE)]) == 2


def test_pull_against_a_sandbox_config_reports_streams_and_api_calls(tmp_path: Path,
                                                                    capsys: pytest.CaptureFixture[str]) -> None:
    from connector.sandbox.runner import Sandbox

    with Sandbox(people=300, seed=9, rate_limits=False) as sb:
        config = tmp_path / "sandbox.toml"
        config.write_text(sb.connector_config(store_url=f"sqlite:///{tmp_path}/c.db"))
        assert main(["pull", "--config", str(config), "--json"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert main(["pull", "--config", str(config), "--json"]) == 0
        second = json.loads(capsys.readouterr().out)
    assert first["ok"] and first["streams"]["hubspot:contacts"]["new"] > 0
    hubspot = {k.split(":")[1]: v for k, v in first["streams"].items() if k.startswith("hubspot:")}
    per_call = {"web_events": 1000, "email_events": 1000}
    fewest = {o: max(1, -(-v["new"] // per_call.get(o, 100))) for o, v in hubspot.items()}
    assert first["api_calls"]["hubspot"]["by_object"] == fewest  # every HubSpot read at the batch lower bound
    polled = {o: 1 for o in hubspot if o != "owners"}  # the owner list is re-read daily, not every cycle
    assert second["api_calls"]["hubspot"] == {"total": len(polled), "by_object": polled}  # idle: one per object type
    assert "companies" in polled
    assert second["api_calls"]["salesforce"] == {"total": 1, "by_object": {"composite": 1}}
    assert second["run_id"] == first["run_id"] + 1


def test_pull_with_the_embedded_sandbox_explains_what_to_do(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["pull", "--config", str(EXAMPLE)]) == 2
    assert "connector sandbox --config-out" in capsys.readouterr().err


def test_broken_mapping_file_fails_validate_with_file_key_and_fix(tmp_path: Path,
                                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    mappings = tmp_path / "mappings"
    shutil.copytree(ROOT / "mappings", mappings)
    contacts = mappings / "contacts.toml"
    text = contacts.read_text()
    assert 'rule = "most_recent"' in text
    contacts.write_text(text.replace('rule = "most_recent"', 'rule = "most_recnt"', 1))
    config = tmp_path / "connector.toml"
    config.write_text(EXAMPLE.read_text())  # relative "mappings" resolves next to the config file
    assert main(["validate", "--config", str(config), "--json"]) == 2
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert len(problems) == 1
    problem = problems[0]
    assert problem["source"].endswith("contacts.toml") and problem["key"].endswith(".rule")
    assert "most_recent" in problem["hint"]


def test_missing_mappings_directory_is_a_config_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNECTOR_MAPPINGS_DIRECTORY", str(tmp_path / "nowhere"))
    assert main(["validate", "--config", str(EXAMPLE)]) == 2
    assert "[mappings].directory" in capsys.readouterr().err


def test_reconcile_then_explain_a_person_from_the_store(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from sqlmodel import Session, select

    from connector.sandbox.runner import Sandbox
    from connector.store import open_engine
    from connector.store.models import Person

    with Sandbox(people=200, seed=12, rate_limits=False) as sb:
        config = tmp_path / "sandbox.toml"
        config.write_text(sb.connector_config(store_url=f"sqlite:///{tmp_path}/c.db"))
        assert main(["pull", "--config", str(config), "--json"]) == 0
        capsys.readouterr()
        sb.hubspot.counter.reset()
        sb.salesforce.counter.reset()
        assert main(["reconcile", "--config", str(config), "--json"]) == 0
        first = json.loads(capsys.readouterr().out)
        assert main(["reconcile", "--config", str(config), "--json"]) == 0
        second = json.loads(capsys.readouterr().out)
        # reconcile works from the store alone: not one API call
        assert sb.hubspot.counter.total() == 0 and sb.salesforce.counter.total() == 0
        assert first["people"] > first["linked_in_both"] > 0 and first["fields_changed"] > 0
        assert first["planned_writes"]["hubspot"]["field_changes"] > 0
        assert second["people"] == first["people"]
        assert second["fields_changed"] == 0 and second["conflicts_recorded"] == 0  # same data: nothing rewritten

        with Session(open_engine(f"sqlite:///{tmp_path}/c.db")) as s:
            email = next(p.email_norm for p in s.exec(select(Person)) if p.email_norm)
        assert main(["explain", email.upper(), "--config", str(config), "--json"]) == 0
        person = json.loads(capsys.readouterr().out)
        assert person["email"] == email and person["links"]
        assert person["fields"]["email"]["rule"] and person["fields"]["email"]["system"] in ("hubspot", "salesforce")
        record_id = person["links"][0]["record_id"]
        assert main(["explain", record_id, "--config", str(config)]) == 0
        assert person["person_id"] in capsys.readouterr().out
        assert main(["explain", "nobody@nowhere.example", "--config", str(config)]) == 1


def test_a_config_file_that_cannot_be_read_is_a_config_error(tmp_path: Path) -> None:
    """CONNECTOR_CONFIG naming a file the container's user cannot read (here a directory, which fails alike
    for root): exit 2 with the fix, not a traceback in a crash loop."""
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path, environ={})
    assert "cannot be read" in str(caught.value) and "uid 10001" in str(caught.value)
