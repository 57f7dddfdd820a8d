"""`connector demo`, the README's first command: real sandbox, a whole sync, one JSON object with --json."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from connector.cli import main


def test_demo_syncs_both_systems_and_a_second_sync_writes_nothing(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    store = f"sqlite:///{tmp_path}/demo.db"
    assert main(["demo", "--people", "300", "--seed", "8", "--store", store, "--rate-limits", "off", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["people_seeded"] == 300
    world, sync = out["world"], out["sync"]
    people = world["people_by_email"]
    assert people["both"] > people["hubspot_only"] > 0 and people["salesforce_only"] > 0
    rec = sync["reconcile"]
    assert rec["people"] >= people["both"] + people["hubspot_only"]
    assert rec["conflicts"] and all(c["people"] > 0 for c in rec["conflicts"])
    written = sync["push"]["written"]
    # people only in Salesforce are created in HubSpot; HubSpot-only people go to Salesforce only past the
    # inclusion and lawful-basis rules, so fewer of them
    assert written["hubspot"]["contacts"]["created"] >= people["salesforce_only"] - people["salesforce_duplicates"]
    assert 0 < written["salesforce"]["Lead"]["created"] < people["hubspot_only"]
    # reading costs the lower bound on HubSpot (plus setup's metadata calls, and the sync's live check of the
    # mappings: one properties read per HubSpot object, read again since setup created properties in them),
    # at most it on Salesforce
    calls, bound = sync["api_calls"], out["api_calls_lower_bound"]
    hs_reads = calls["hubspot"]["total"] - sync["push"]["write_calls"]["hubspot"]
    history = calls["hubspot"]["by_object"].get("contacts:history", 0)  # property history, 50 records a call
    assert history == -(-sync["field_history"]["records"] // 50)
    live_check = 2  # GET /crm/v3/properties/contacts and /deals
    assert hs_reads - history <= bound["pull"]["hubspot"] + out["setup"]["api_calls"]["hubspot"] + live_check
    for system in ("hubspot", "salesforce"):
        assert sync["push"]["write_calls"][system] <= bound["push"][system] + 1
    assert out["second_sync"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
    assert out["seconds"] < 120


def test_demo_text_output_tells_the_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--people", "100", "--store", f"sqlite:///{tmp_path}/d.db", "--rate-limits", "off"]) == 0
    text = capsys.readouterr().out
    assert "linked across both systems" in text and "API calls for the sync" in text
    assert "The second sync made 0 write calls" in text


def test_demo_refuses_broken_mappings_before_starting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "contacts.toml").write_text("[fields.email]\nhubspot = 'email'\nrule = 'whoever_shouts'\n")
    assert main(["demo", "--people", "10", "--mappings", str(tmp_path), "--store", f"sqlite:///{tmp_path}/d.db"]) == 2
    assert "whoever_shouts" in capsys.readouterr().err
