"""`connector demo`, the README's first command: real sandbox, a whole sync, one JSON object with --json."""

from __future__ import annotations

import json
import shlex
from pathlib import Path

import pytest

from connector.cli import main
from connector.demo import OBJECT_PARTS
from connector.systems.hubspot import hubspot_lookup_calls
from connector.systems.salesforce import salesforce_lookup_calls


def test_demo_syncs_both_systems_and_a_third_sync_writes_nothing(tmp_path: Path,
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
    # a lower bound never exceeds the calls made; HubSpot reads its records with list pages of 100, half the
    # bound's search pages (plus setup's metadata calls, and the sync's live check of the mappings: one
    # properties read per HubSpot object, read again since setup created properties in them)
    calls, bound = sync["api_calls"], out["api_calls_lower_bound"]
    hs_reads = calls["hubspot"]["total"] - sync["push"]["write_calls"]["hubspot"]
    sf_reads = calls["salesforce"]["total"] - sync["push"]["write_calls"]["salesforce"]
    history = calls["hubspot"]["by_object"].get("contacts:history", 0)  # property history, 50 records a call
    assert history == -(-sync["field_history"]["records"] // 50)
    live_check = 2  # GET /crm/v3/properties/contacts and /deals
    assert bound["pull"]["hubspot"] <= hs_reads - history
    assert hs_reads - history <= 2 * bound["pull"]["hubspot"] + out["setup"]["api_calls"]["hubspot"] + live_check
    assert 0 < bound["pull"]["salesforce"] <= sf_reads
    # opt-outs go through HubSpot's subscription API: 100 addresses a batch call on Enterprise accounts (the
    # bound counts them so), one a call below (the demo's sandbox): counted apart from the batched writes
    opt_outs = {"hubspot": calls["hubspot"]["by_object"].get("subscriptions", 0), "salesforce": 0}
    assert opt_outs["hubspot"] >= -(-sync["push"].get("opt_outs", 0) // 100)
    # the push sends each object and operation on its own (100 a HubSpot batch, 1,000 a Salesforce Composite
    # call); the bound would pack Salesforce's objects together, five Collections a call
    groups = {"hubspot": 0, "salesforce": 0}
    parts = [sync] + [sync[name] for name in OBJECT_PARTS if sync.get(name)]
    for part in parts:
        for system, objects in part.get("push", {}).get("written", {}).items():
            per = 100 if system == "hubspot" else 1000
            groups[system] += sum(-(-n["created"] // per) + -(-(n["updated"] + n["rejected"]) // per)
                                  for n in objects.values())
    # the updates setting a mapped field go first, together, and are read again: 100 (1,000) a call
    for part in parts:
        for key, checked in (part.get("push", {}).get("checked") or {}).items():
            system = key.split(":", 1)[0]
            groups[system] += -(-checked // (100 if system == "hubspot" else 1000))
    # links: one batch per pair of object types (a company's contacts, a deal's contacts, a deal's companies)
    for part in parts[1:]:
        for key, n in part.get("links_added", {}).items():
            system = key.split("_", 1)[0]
            if system in groups and not key.endswith("_failed"):
                groups[system] += -(-n // (100 if system == "hubspot" else 1000))
    looked = sync["push"]["lookup"]  # every create is looked up first
    groups["salesforce"] += salesforce_lookup_calls(looked["salesforce"]["looked_up"])
    groups["hubspot"] += hubspot_lookup_calls(looked["hubspot"]["addresses"])
    for system in ("hubspot", "salesforce"):
        written_calls = sync["push"]["write_calls"][system] - opt_outs[system]
        assert 0 < bound["push"][system] <= written_calls + opt_outs[system]
        assert written_calls <= groups[system] + 1
    # with the shipped timing (safety lag 60 s), the next run writes what the first left to it (records changed
    # within the lag, people linked by the look-up): a few records; the one after writes nothing
    assert out["safety_lag_seconds"] == 60
    second = out["second_sync"]["written"]
    assert sum(n["created"] + n["updated"] for objects in second.values() for n in objects.values()) \
        < 0.05 * out["people_seeded"], second
    assert out["third_sync"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
    # one ledger serves setup and the three syncs: each run's record holds its own calls, which add up
    for system in ("hubspot", "salesforce"):
        syncs = (sync, out["second_sync"], out["third_sync"])
        runs = sum(r["api_calls"].get(system, {}).get("total", 0) for r in syncs)
        assert runs + out["setup"]["api_calls"][system] == out["api_calls"][system]["total"], system


def test_demo_text_output_tells_the_story(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["demo", "--people", "100", "--store", f"sqlite:///{tmp_path}/d.db", "--rate-limits", "off"]) == 0
    text = capsys.readouterr().out
    assert "linked across both systems" in text and "API calls for the sync" in text
    assert "The third sync made 0 write calls (HubSpot 0, Salesforce 0): both systems agree." in text


def test_the_demo_tip_works_as_written_from_anywhere(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    """Outside the repository (no ./mappings), the demo finds the shipped mappings, and the commands its
    last lines suggest run as printed: a config with only the store and the mappings, no credentials."""
    monkeypatch.chdir(tmp_path)
    assert main(["demo", "--people", "60", "--rate-limits", "off"]) == 0
    text = capsys.readouterr().out
    tips = [line.strip() for line in text.splitlines() if line.startswith("  connector ")]
    assert len(tips) == 6 and "<" not in tips[0], text
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    monkeypatch.chdir(elsewhere)
    outs = {}
    for tip in tips:
        assert main([*shlex.split(tip)[1:], "--json"]) == 0, tip
        outs[tip] = out = json.loads(capsys.readouterr().out)
        assert out["ok"]
    explain, status, score, backtest, funnel, issues = outs.values()
    assert status["runs"][0]["command"] == "demo"
    assert explain["score"]["status"] in score["statuses"] and score["people"] > 0
    assert backtest["report"]["changed"]["total"] == 0  # the shipped model against itself: nobody moves
    assert funnel["report"]["kind"] == "funnel" and issues["count"] == len(issues["issues"])


def test_demo_refuses_broken_mappings_before_starting(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "contacts.toml").write_text("[fields.email]\nhubspot = 'email'\nrule = 'whoever_shouts'\n")
    assert main(["demo", "--people", "10", "--mappings", str(tmp_path), "--store", f"sqlite:///{tmp_path}/d.db"]) == 2
    assert "whoever_shouts" in capsys.readouterr().err
