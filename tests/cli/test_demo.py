"""`connector demo`, the README's first command: real sandbox, real pull, one JSON object with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main


def test_demo_pulls_both_systems_at_the_lower_bound(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path}/demo.db"
    assert main(["demo", "--people", "250", "--seed", "4", "--store", store, "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["people_seeded"] == 250
    world = out["world"]
    people = world["people_by_email"]
    assert people["both"] > people["hubspot_only"] > 0 and people["salesforce_only"] > 0
    assert world["records"]["contacts"] == people["both"] + people["hubspot_only"]
    assert out["api_calls"]["hubspot"]["total"] == out["api_calls_lower_bound"]["hubspot"]
    assert out["api_calls"]["salesforce"]["total"] <= out["api_calls_lower_bound"]["salesforce"]
    # a second demo starts from an empty store again (the store belongs to the sandbox it pulled)
    assert main(["demo", "--people", "250", "--seed", "4", "--store", store, "--json"]) == 0
    again = json.loads(capsys.readouterr().out)
    assert again["world"] == world


def test_demo_text_output_tells_the_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--people", "100", "--store", f"sqlite:///{tmp_path}/d.db", "--rate-limits", "off"]) == 0
    text = capsys.readouterr().out
    assert "people are in both systems" in text and "API calls: HubSpot" in text


def test_demo_reconcile_preview_links_people_and_plans_writes(tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--people", "300", "--seed", "8", "--store", f"sqlite:///{tmp_path}/d.db",
                 "--rate-limits", "off", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    plan, people = out["reconcile_preview"], out["world"]["people_by_email"]
    assert plan["people"] >= people["both"] + people["hubspot_only"]
    assert plan["linked_in_both"] >= people["both"] - people["salesforce_duplicates"]
    assert plan["conflicts"] and all(c["people"] > 0 for c in plan["conflicts"])
    # people only in Salesforce are created in HubSpot; HubSpot-only people go to Salesforce only past the
    # inclusion and lawful-basis rules, so fewer of them
    assert plan["planned_writes"]["hubspot"]["creates"] > 0
    assert 0 < plan["planned_writes"]["salesforce"]["creates"] < people["hubspot_only"]


def test_demo_refuses_broken_mappings_before_starting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "contacts.toml").write_text("[fields.email]\nhubspot = 'email'\nrule = 'whoever_shouts'\n")
    assert main(["demo", "--people", "10", "--mappings", str(tmp_path), "--store", f"sqlite:///{tmp_path}/d.db"]) == 2
    assert "whoever_shouts" in capsys.readouterr().err
