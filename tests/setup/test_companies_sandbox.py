"""companies.toml in `connector setup` and `validate --live` against the sandbox: the company cross-references are
created once, the shipped company fields fit HubSpot companies and the Account, and companies cost one metadata
call more per system.

Needs the sandbox's HubSpot companies and the Account's Phone (the #21 sandbox work): skipped until the emulator
serves them, so these run as soon as it does.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from connector.reconcile import Mappings, load_mappings
from connector.sandbox.hubspot.schema import OBJECT_TYPES
from connector.sandbox.runner import Sandbox
from connector.setup import CONNECTOR_GROUP, live_check, run_setup

from .conftest import MAPPINGS_DIR, MakeSources, names, sdk, set_up

pytestmark = pytest.mark.skipif("companies" not in OBJECT_TYPES,
                                reason="needs the sandbox's HubSpot companies (issue #21 sandbox work)")


def test_setup_creates_the_company_cross_references_once(bare: Sandbox, mappings: Mappings,
                                                         sources_for: MakeSources) -> None:
    src = sources_for(bare)
    out = run_setup(src.hubspot, src.salesforce, mappings, apply=True, create_salesforce_fields=True).to_json()
    assert ("companies", "salesforce_account_id") in names(out["hubspot"]["created"])
    assert ("companies", CONNECTOR_GROUP) in {(e["object"], e["name"]) for e in out["hubspot"]["created"]
                                              if e.get("kind") == "group"}
    assert ("Account", "HubSpot_Company_Id__c") in names(out["salesforce"]["created"], "api_name")
    assert out["hubspot"]["problems"] == out["salesforce"]["problems"] == []
    ref = sdk(bare).crm.properties.core_api.get_by_name("companies", "salesforce_account_id")
    assert (ref.type, ref.field_type, ref.has_unique_value, ref.group_name) == ("string", "text", True,
                                                                                CONNECTOR_GROUP)
    account = {f["name"]: f for f in sources_for(bare).salesforce.describe("Account")["fields"]}
    field = account["HubSpot_Company_Id__c"]
    assert (field["type"], field["length"], field["externalId"], field["unique"]) == ("string", 30, True, True)
    fresh = sources_for(bare)
    again = run_setup(fresh.hubspot, fresh.salesforce, mappings, apply=True, create_salesforce_fields=True)
    assert again.ok and again.hubspot.created == [] and again.salesforce.created == []


def test_the_shipped_company_fields_fit_and_cost_one_call_per_system(shipped: Sandbox, mappings: Mappings,
                                                                    sources_for: MakeSources, tmp_path: Path) -> None:
    set_up(shipped, mappings, sources_for)
    with_companies = sources_for(shipped)
    found = live_check(with_companies.hubspot, with_companies.salesforce, mappings)
    assert found.problems == []
    for name in ("contacts.toml", "opportunities.toml", "scoring.toml"):
        shutil.copy(MAPPINGS_DIR / name, tmp_path / name)
    without = sources_for(shipped)
    assert live_check(without.hubspot, without.salesforce, load_mappings(tmp_path)).problems == []
    # one properties read of HubSpot companies, one describe of the Account
    assert with_companies.hubspot.calls_made() - without.hubspot.calls_made() == 1
    assert with_companies.salesforce.calls_made() - without.salesforce.calls_made() == 1
