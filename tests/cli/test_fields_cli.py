"""`connector fields` lists the live properties and fields of both systems (issue #19), with what the mapping
files do with each, from the store's copy of the metadata while it is younger than a day."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from connector.cli import main
from connector.sandbox.runner import Sandbox
from connector.store import open_engine
from connector.store.metadata_cache import forget_metadata, read_metadata, write_metadata
from connector.store.state import read_state, write_state
from connector.sync.admin import FIELDS_CACHE_MS


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(people=20, seed=7, rate_limits=False) as sb:
        yield sb


@pytest.fixture
def config(sandbox: Sandbox, tmp_path: Path) -> Path:
    """A config for the sandbox with a store of its own (so no test sees another's cached metadata)."""
    path = tmp_path / "connector.toml"
    path.write_text(sandbox.connector_config(f"sqlite:///{tmp_path}/state.db"))
    return path


def fields_json(capsys: pytest.CaptureFixture[str], config: Path, *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["fields", *args, "--json", "--config", str(config)])
    return code, json.loads(capsys.readouterr().out)


def reads(sb: Sandbox) -> dict[str, int]:
    """The metadata reads the sandbox answered: HubSpot property lists and Salesforce describes."""
    calls = {**sb.hubspot.counter.snapshot(), **sb.salesforce.counter.snapshot()}
    return {k: v for k, v in calls.items() if "/properties/" in k or k.endswith("/describe")}


def test_json_lists_every_object_with_types_flags_values_and_mappings(
        sandbox: Sandbox, config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = fields_json(capsys, config)
    assert code == 0 and out["ok"] is True and out["mappings_problems"] == 0
    listed = {(o["system"], o["object"]): o for o in out["objects"]}
    assert list(listed) == [("hubspot", "contacts"), ("hubspot", "deals"), ("hubspot", "companies"),
                            ("salesforce", "Lead"), ("salesforce", "Contact"), ("salesforce", "Opportunity"),
                            ("salesforce", "Account")]
    assert out["api_calls"] == {"hubspot": 3, "salesforce": 4}
    contacts = {r["name"]: r for r in listed[("hubspot", "contacts")]["fields"]}
    status = contacts["hs_lead_status"]
    assert status["type"] == "enumeration" and status["mapped_as"] == ["fields.lead_status"]
    assert status["values"] == ["NEW", "OPEN", "IN_PROGRESS", "OPEN_DEAL", "UNQUALIFIED", "ATTEMPTED_TO_CONTACT",
                                "CONNECTED", "BAD_TIMING"]  # whole in --json
    assert contacts["hs_analytics_source"]["read_only"] is True
    assert contacts["email"]["mapped_as"] == ["fields.email"] and not contacts["email"]["custom"]
    lead = {r["name"]: r for r in listed[("salesforce", "Lead")]["fields"]}
    assert (lead["Title"]["type"], lead["Title"]["length"], lead["Title"]["mapped_as"]) == ("string", 128,
                                                                                           ["fields.job_title"])
    hs_id = lead["HubSpot_Contact_Id__c"]
    assert hs_id["unique"] and hs_id["external_id"] and hs_id["custom"] and hs_id["setup_creates"]
    assert hs_id["mapped_as"] == ["identity.salesforce_hubspot_id_field"]
    assert lead["Status"]["mapped_as"] == ["fields.lead_status", "fields.lifecycle_stage"]
    assert lead["Status"]["restricted"] is True and lead["Name"]["read_only"] is True
    assert lead["PostalCode" if "PostalCode" in lead else "City"]["read_only"] is False
    # the portal has not been set up: what the mappings use that it lacks, and that setup makes it
    missing = {m["name"]: m for m in listed[("hubspot", "contacts")]["missing"]}
    assert missing["salesforce_lead_id"] == {"name": "salesforce_lead_id", "setup_creates": True,
                                             "mapped_as": ["identity.hubspot_lead_id_property"]}
    assert missing["connector_score"]["mapped_as"] == ["outputs.score"]


def test_text_shows_a_table_per_object_with_values_cut_short(
        config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["fields", "hubspot", "contacts", "--search", "lead_status", "--config", str(config)]) == 0
    text = capsys.readouterr().out
    assert "HubSpot contacts: 1 of " in text and "match 'lead_status' (read just now)" in text
    row = next(line for line in text.splitlines() if "hs_lead_status" in line)
    assert "NEW, OPEN, IN_PROGRESS, OPEN_DEAL, … (+4)" in row and "lead_status" in row
    assert "BAD_TIMING" not in text


def test_search_and_object_filter(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = fields_json(capsys, config, "salesforce", "lead", "--search", "PHONE")  # any case, both
    assert code == 0 and [o["object"] for o in out["objects"]] == ["Lead"]
    assert [r["name"] for r in out["objects"][0]["fields"]] == ["MobilePhone", "Phone"]
    assert out["search"] == "PHONE" and out["objects"][0]["total"] > 2
    code, out = fields_json(capsys, config, "Opportunity", "--search", "stage")  # an object name picks its system
    assert code == 0 and [(o["system"], o["object"]) for o in out["objects"]] == [("salesforce", "Opportunity")]
    names = [r["name"] for r in out["objects"][0]["fields"]]
    assert "StageName" in names and all("stage" in n.lower() or "stage" in r["label"].lower()
                                        for n, r in zip(names, out["objects"][0]["fields"], strict=True))
    code, out = fields_json(capsys, config, "hubspot", "--search", "label of nothing")
    assert code == 0 and [len(o["fields"]) for o in out["objects"]] == [0, 0, 0]


def test_the_store_keeps_the_metadata_for_a_day_and_says_how_old(
        sandbox: Sandbox, config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sandbox.hubspot.counter.reset()
    sandbox.salesforce.counter.reset()
    code, first = fields_json(capsys, config, "salesforce", "Lead")
    assert code == 0 and first["objects"][0]["cached"] is False and first["api_calls"]["salesforce"] == 1
    assert sum(reads(sandbox).values()) == 1
    code, again = fields_json(capsys, config, "salesforce", "Lead")
    assert code == 0 and again["objects"][0]["cached"] is True and again["api_calls"] == {"hubspot": 0,
                                                                                         "salesforce": 0}
    assert sum(reads(sandbox).values()) == 1  # nothing asked
    assert again["objects"][0]["fields"] == first["objects"][0]["fields"]
    # three hours old: still used, and the text says how old
    engine = open_engine(f"sqlite:///{tmp_path}/state.db")
    cached = read_metadata(engine, "salesforce", "Lead")
    assert cached is not None and len(cached.fields) == first["objects"][0]["total"]
    now = int(time.time() * 1000)
    write_metadata(engine, "salesforce", "Lead", cached.fields, now - 3 * 3_600_000)
    capsys.readouterr()
    assert main(["fields", "salesforce", "Lead", "--search", "Status", "--config", str(config)]) == 0
    assert "read 3 h ago, kept in the store (--refresh reads it again)" in capsys.readouterr().out
    code, aged = fields_json(capsys, config, "salesforce", "Lead")
    assert aged["objects"][0]["cached"] is True and 3 * 3600 <= aged["objects"][0]["age_seconds"] < 4 * 3600
    assert sum(reads(sandbox).values()) == 1
    # older than a day: read again; --refresh: read again at once
    write_metadata(engine, "salesforce", "Lead", cached.fields, now - FIELDS_CACHE_MS - 1)
    code, stale = fields_json(capsys, config, "salesforce", "Lead")
    assert stale["objects"][0]["cached"] is False and stale["objects"][0]["age_seconds"] == 0
    code, refreshed = fields_json(capsys, config, "salesforce", "Lead", "--refresh")
    assert code == 0 and refreshed["objects"][0]["cached"] is False and refreshed["api_calls"]["salesforce"] == 1
    assert sum(reads(sandbox).values()) == 3


def test_setup_apply_makes_the_listing_read_again(sandbox: Sandbox, config: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    code, before = fields_json(capsys, config, "hubspot", "contacts", "--search", "salesforce_lead_id")
    assert before["objects"][0]["fields"] == [] and before["objects"][0]["missing"][0]["setup_creates"] is True
    assert main(["setup", "--apply", "--json", "--config", str(config)]) == 0
    code, after = fields_json(capsys, config, "hubspot", "contacts", "--search", "salesforce_lead_id")
    (row,) = after["objects"][0]["fields"]
    assert after["objects"][0]["cached"] is False and row["unique"] and row["setup_creates"]
    assert after["objects"][0]["missing"] == []


@pytest.mark.parametrize(("args", "said"), [
    (["hubspt"], "unknown system 'hubspt': did you mean 'hubspot'? use hubspot or salesforce, then optionally an "
                 "object (hubspot contacts, deals, companies; salesforce Lead, Contact, Opportunity, Account)"),
    (["hubspot", "leads"], "unknown hubspot object 'leads': use one of contacts, deals, companies (Lead is a "
                           "salesforce object: `connector fields salesforce Lead`)"),
    (["hubspot", "tickets"], "unknown hubspot object 'tickets': use one of contacts, deals, companies"),
    (["salesforce", "Contacts"], "unknown salesforce object 'Contacts': use one of Lead, Contact, Opportunity, Account "
                                 "(contacts is a hubspot object: `connector fields hubspot contacts`)"),
    (["salesforce", "Oportunity"], "unknown salesforce object 'Oportunity': did you mean 'Opportunity'? use one of "
                                   "Lead, Contact, Opportunity, Account"),
])
def test_an_unknown_system_or_object_is_a_usage_error_naming_the_valid_ones(
        sandbox: Sandbox, config: Path, capsys: pytest.CaptureFixture[str], args: list[str], said: str) -> None:
    sandbox.hubspot.counter.reset()
    sandbox.salesforce.counter.reset()
    code, out = fields_json(capsys, config, *args)
    assert code == 2 and out == {"ok": False, "error": "UsageError", "message": said}
    assert main(["fields", *args, "--config", str(config)]) == 2
    assert said in capsys.readouterr().err.replace("\n", " ")
    assert reads(sandbox) == {}


def test_mapping_files_that_do_not_load_leave_the_listing(config: Path, tmp_path: Path,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The names a fix needs are listed even when the files are broken; the mapping column is left out."""
    (tmp_path / "maps").mkdir()
    (tmp_path / "maps" / "contacts.toml").write_text('[fields.email]\nhubspot = "email"\nrule = "newest"\n')
    config.write_text(config.read_text().split("[mappings]")[0] + f'\n[mappings]\ndirectory = "{tmp_path}/maps"\n')
    code, out = fields_json(capsys, config, "hubspot", "contacts", "--search", "email")
    assert code == 0 and out["mappings_problems"] == 1
    assert {r["name"] for r in out["objects"][0]["fields"]} >= {"email"}
    assert all(r["mapped_as"] == [] for r in out["objects"][0]["fields"])
    capsys.readouterr()
    assert main(["fields", "hubspot", "contacts", "--search", "email", "--config", str(config)]) == 0
    assert "the mapping files did not load (`connector validate` lists the problems)" in capsys.readouterr().out


def test_the_cache_keeps_one_row_per_object_and_ignores_another_format(tmp_path: Path) -> None:
    engine = open_engine(f"sqlite:///{tmp_path}/cache.db")
    assert read_metadata(engine, "hubspot", "contacts") is None
    write_metadata(engine, "hubspot", "contacts", [{"name": "email"}], 1_000)
    write_metadata(engine, "hubspot", "contacts", [{"name": "email"}, {"name": "zip"}], 2_000)
    write_metadata(engine, "salesforce", "Lead", [{"name": "Email"}], 3_000)
    kept = read_metadata(engine, "hubspot", "contacts")
    assert kept is not None and kept.fetched_at == 2_000 and [f["name"] for f in kept.fields] == ["email", "zip"]
    write_state(engine, "metadata:salesforce:Lead", {"format": 0, "fetched_at": 3_000, "fields": []}, 3_000)
    assert read_metadata(engine, "salesforce", "Lead") is None  # written by another version: read again
    assert forget_metadata(engine) == 2 and read_metadata(engine, "hubspot", "contacts") is None
    write_state(engine, "setup:hubspot-properties", {"present": ["salesforce_lead_id"]}, 4_000)
    assert forget_metadata(engine) == 0 and read_state(engine, "setup:hubspot-properties") is not None
