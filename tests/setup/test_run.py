"""`run_setup` as a whole, against the sandbox: idempotent, a dry run changes nothing, and the API calls it
makes (the reads it needs anyway; the truncate suggestions cost none)."""

from __future__ import annotations

from connector.reconcile import Mappings
from connector.sandbox.runner import Sandbox
from connector.setup import CONNECTOR_GROUP, run_setup
from connector.systems.hubspot import HubSpotSource
from connector.systems.salesforce import SalesforceSource

from .conftest import HS_NAMES, SF_NAMES, MakeSources, Sources, names, set_up


def test_second_run_creates_nothing(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    first = run_setup(*_pair(sources_for(bare)), mappings, apply=True, create_salesforce_fields=True)
    assert first.hubspot.created and first.salesforce.created
    second = run_setup(*_pair(sources_for(bare)), mappings, apply=True, create_salesforce_fields=True)
    out = second.to_json()
    assert out["hubspot"]["created"] == [] and out["salesforce"]["created"] == []
    assert names(out["hubspot"]["present"]) == HS_NAMES
    assert names(out["salesforce"]["present"], "api_name") == SF_NAMES
    assert out["hubspot"]["problems"] == out["salesforce"]["problems"] == []
    assert second.ok
    # one properties call per HubSpot object, one describe per Salesforce object, nothing else
    assert out["api_calls"] == {"hubspot": 3, "salesforce": 4}


def test_dry_run_lists_and_changes_nothing(bare: Sandbox, mappings: Mappings, sources_for: MakeSources) -> None:
    src = sources_for(bare)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=False, create_salesforce_fields=True)
    out = report.to_json()
    assert out["applied"] is False and out["hubspot"]["created"] == [] and out["salesforce"]["created"] == []
    assert names(out["hubspot"]["missing"]) == HS_NAMES
    assert {e["name"] for e in out["hubspot"]["missing"] if e.get("kind") == "group"} == {CONNECTOR_GROUP}
    assert names(out["salesforce"]["missing"], "api_name") == SF_NAMES
    after = sources_for(bare)
    assert "connector_score" not in {p["name"] for p in after.hubspot.properties("contacts")}
    assert "Connector_Score__c" not in {f["name"] for f in after.salesforce.describe("Lead")["fields"]}


def test_setup_lists_the_suggestions_without_extra_calls(shipped: Sandbox, mappings: Mappings,
                                                        sources_for: MakeSources) -> None:
    set_up(shipped, mappings, sources_for)
    src = sources_for(shipped)
    report = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=True)
    assert report.ok and report.api_calls == {"hubspot": 3, "salesforce": 4}  # the reads setup makes anyway
    out = report.to_json()
    assert any(s["key"] == "fields.city.salesforce.lead" and "max_length = 40" in s["hint"] for s in out["suggestions"])
    assert any(line.startswith("suggestion: ") and "fields.city" in line for line in report.lines())


def _pair(src: Sources) -> tuple[HubSpotSource, SalesforceSource]:
    return src.hubspot, src.salesforce
