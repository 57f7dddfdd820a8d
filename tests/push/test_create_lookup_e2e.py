"""Syncs started seconds after people were edited or created in either system, with the defaults a user
runs (safety lag 60 s, lookback 120 s, the shipped mappings): no duplicate by e-mail in either system,
over several syncs and after the lag has passed, and a replay after a lost answer duplicates nothing.

Issue #12 item 1: the pull reads up to start - safety lag, so a Salesforce record edited in the last
minute was not in the store, its HubSpot twin looked new, and a second Lead was created beside it."""

from __future__ import annotations

import ssl
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import connector.sync.cycle as sync_module
from connector.systems.hubspot import HubSpotSink
from connector.systems.salesforce import SalesforceSink
from connector.reconcile.plan import should_create_in_salesforce
from connector.reconcile.records import SourceRecord
from connector.sync import run_cycle

from .conftest import World, hubspot_contacts, make_world
from .test_idempotence import LostAnswer, losing, refusing

PEOPLE, SEED = 300, 13
HS_PROPS = ["email", "lifecyclestage", "hs_legal_basis", "salesforce_lead_id", "salesforce_contact_id"]
LAG_PASSED_MS = 65_000
LAWFUL = "Legitimate interest – prospect/lead"


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    yield from make_world(tmp_path, people=PEOPLE, seed=SEED)


def user_sync(world: World) -> dict[str, Any]:
    """`connector sync --once` as the shipped config runs it (the sandbox's clock stands in for the wall clock,
    so that "after the lag" needs no sleeping)."""
    cfg = world.config
    systems = world.systems()
    try:
        return run_cycle(world.engine, systems, world.mappings.contacts, clock=world.sandbox.clock.now_ms,
                         objects=list(cfg.sync.objects), lookback_ms=cfg.sync.lookback_seconds * 1000,
                         safety_lag_ms=cfg.sync.safety_lag_seconds * 1000, deletions=cfg.deletions,
                         field_history=cfg.sync.field_history, deal_mapping=world.mappings.opportunities,
                         closed_opportunities_days=cfg.sync.closed_opportunities_days)
    finally:
        systems.close()


def control(world: World, system: str) -> httpx.Client:
    """The sandbox's control API of one system: what a person does in its UI."""
    info = world.sandbox.info()
    return httpx.Client(base_url=info.hubspot_base_url if system == "hubspot" else info.salesforce_instance_url,
                        trust_env=False, verify=ssl.create_default_context(cafile=info.ca_file))


def hubspot_people(world: World) -> dict[str, dict[str, Any]]:
    return hubspot_contacts(world.sandbox, HS_PROPS)


def salesforce_people(world: World) -> dict[str, dict[str, Any]]:
    sf = world.salesforce_sdk()
    rows = sf.query_all("SELECT Id, Email, HubSpot_Contact_Id__c FROM Lead WHERE IsConverted = false")["records"]
    rows += sf.query_all("SELECT Id, Email, HubSpot_Contact_Id__c FROM Contact")["records"]
    return {r["Id"]: r for r in rows}


def emails(records: dict[str, dict[str, Any]], field: str) -> Counter[str]:
    return Counter(str(r.get(field) or "").strip().casefold() for r in records.values() if r.get(field))


def duplicates(world: World) -> tuple[dict[str, int], dict[str, int]]:
    """E-mail addresses on more than one live person record, per system (HubSpot, Salesforce)."""
    hs = emails(hubspot_people(world), "email")
    sf = emails(salesforce_people(world), "Email")
    return {e: n for e, n in hs.items() if n > 1}, {e: n for e, n in sf.items() if n > 1}


def eligible(world: World, contact_id: str, props: dict[str, Any]) -> bool:
    """Whether the shipped mappings create this HubSpot contact in Salesforce when it has no twin there."""
    record = SourceRecord("hubspot", "contacts", contact_id, 0, {k: v for k, v in props.items() if v is not None})
    return should_create_in_salesforce(record, world.mappings.contacts)[0]


def assert_paired(world: World, addresses: list[str]) -> None:
    """Each address is one HubSpot contact and one Salesforce record, cross-referencing each other."""
    hs = {str(p["email"]).casefold(): (i, p) for i, p in hubspot_people(world).items() if p.get("email")}
    sf: dict[str, list[dict[str, Any]]] = {}
    for r in salesforce_people(world).values():
        sf.setdefault(str(r.get("Email") or "").casefold(), []).append(r)
    for address in addresses:
        contact_id, props = hs[address]
        [record] = sf[address]
        assert record["HubSpot_Contact_Id__c"] == contact_id
        assert record["Id"] in (props.get("salesforce_lead_id"), props.get("salesforce_contact_id"))


def test_a_first_sync_seconds_after_edits_on_both_sides_duplicates_no_one(world: World) -> None:
    assert (world.config.sync.safety_lag_seconds, world.config.sync.lookback_seconds) == (60, 120)  # the defaults
    hs, sf = hubspot_people(world), salesforce_people(world)
    sf_by_email: dict[str, list[str]] = {}
    for rid, r in sf.items():
        sf_by_email.setdefault(str(r.get("Email") or "").casefold(), []).append(rid)
    hs_by_email = {str(p["email"]).casefold(): i for i, p in hs.items() if p.get("email")}
    wanted = sorted((e, i) for e, i in hs_by_email.items() if eligible(world, i, hs[i]))
    paired = [(e, sf_by_email[e][0]) for e, _ in wanted if len(sf_by_email.get(e, ())) == 1][:6]
    hubspot_only = [e for e, _ in wanted if e not in sf_by_email][:4]
    salesforce_only = sorted(e for e in sf_by_email if e and e not in hs_by_email)[:4]
    assert len(paired) == 6 and len(hubspot_only) == 4 and len(salesforce_only) == 4
    with control(world, "salesforce") as salesforce_ui, control(world, "hubspot") as hubspot_ui:
        for _, rid in paired:  # a salesperson edits the Salesforce twin seconds before the sync
            answer = salesforce_ui.patch(f"/_sandbox/salesforce/records/{rid}",
                                         json={"fields": {"Title": "Edited just now"}})
            assert answer.status_code == 200, answer.text
        for e in salesforce_only:  # a marketer adds the Salesforce-only person to HubSpot by hand
            answer = hubspot_ui.post("/_sandbox/hubspot/objects/contacts",
                                     json={"properties": {"email": e, "lastname": "Added"}})
            assert answer.status_code == 201, answer.text
    leads: Any = world.salesforce_sdk().Lead
    for e in hubspot_only:  # and a salesperson adds a HubSpot-only person to Salesforce as a Lead
        leads.create({"Email": e, "LastName": "Added", "Company": "Added by hand"})
    before = duplicates(world)

    first = user_sync(world)
    assert first["ok"] and first["push"]["rejected"] == 0
    assert duplicates(world) == before  # on the old code: a second Lead beside each edited twin
    looked = first["push"]["lookup"]
    assert looked["linked"] >= len(paired) + len(hubspot_only) and looked["held"] == 0
    for _ in range(2):  # seconds later, still within the lag
        again = user_sync(world)
        assert again["ok"] and again["push"]["rejected"] == 0 and duplicates(world) == before
    world.sandbox.clock.advance(LAG_PASSED_MS)
    for _ in range(2):
        later = user_sync(world)
        assert later["ok"] and later["push"]["rejected"] == 0 and duplicates(world) == before
    assert user_sync(world)["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}  # converged
    assert_paired(world, [e for e, _ in paired] + hubspot_only + salesforce_only)


def test_a_later_sync_seconds_after_people_were_added_on_the_other_side_links_them(world: World) -> None:
    user_sync(world)
    world.sandbox.clock.advance(LAG_PASSED_MS)
    user_sync(world)
    with control(world, "hubspot") as ui:
        ui.post("/_sandbox/hubspot/objects/contacts", json={"properties": {
            "email": "new.marketing@lookup.test", "lastname": "Marketing", "lifecyclestage": "marketingqualifiedlead",
            "hs_legal_basis": LAWFUL}}).raise_for_status()
        leads: Any = world.salesforce_sdk().Lead
        leads.create({"Email": "new.sales@lookup.test", "LastName": "Sales", "Company": "Lookup"})
        world.sandbox.clock.advance(LAG_PASSED_MS)  # both are pulled by the next sync; each would be created
        # ... but seconds before it, someone adds each to the other system by hand
        ui.post("/_sandbox/hubspot/objects/contacts", json={"properties": {
            "email": "new.sales@lookup.test", "lastname": "Sales"}}).raise_for_status()
        leads.create({"Email": "New.Marketing@lookup.test", "LastName": "Marketing", "Company": "Lookup"})
    before = duplicates(world)

    result = user_sync(world)
    # on the old code: a second Lead in Salesforce, and HubSpot's refusal of the second contact parked
    assert result["ok"] and result["push"]["rejected"] == 0 and duplicates(world) == before
    assert result["push"]["lookup"]["linked"] >= 2
    user_sync(world)
    world.sandbox.clock.advance(LAG_PASSED_MS)
    for _ in range(2):
        later = user_sync(world)
        assert later["ok"] and later["push"]["rejected"] == 0 and duplicates(world) == before
    assert user_sync(world)["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
    assert_paired(world, ["new.marketing@lookup.test", "new.sales@lookup.test"])


@pytest.mark.parametrize("system", ["hubspot", "salesforce"])
def test_a_rerun_after_a_lost_create_answer_adopts_the_record(world: World, system: str,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    if system == "hubspot":
        monkeypatch.setattr(sync_module, "HubSpotSink", losing(HubSpotSink))
    else:  # HubSpot's creates go first: refuse them, so that Salesforce's get their turn and lose the answer
        monkeypatch.setattr(sync_module, "HubSpotSink", refusing(HubSpotSink))
        monkeypatch.setattr(sync_module, "SalesforceSink", losing(SalesforceSink))
    before = duplicates(world)
    with pytest.raises(LostAnswer):
        user_sync(world)
    monkeypatch.setattr(sync_module, "HubSpotSink", HubSpotSink)
    monkeypatch.setattr(sync_module, "SalesforceSink", SalesforceSink)
    # the accepted records were made within the lag: the rerun's pull does not see them, the look-up does
    rerun = user_sync(world)
    assert rerun["ok"] and rerun["push"]["lookup"]["adopted"] > 0 and duplicates(world) == before
    world.sandbox.clock.advance(LAG_PASSED_MS)
    from connector.cli import main

    assert main(["retry", "--config", str(world.config_path)]) == 0  # the refused creates go again
    for _ in range(2):
        later = user_sync(world)
        assert later["ok"] and later["push"]["rejected"] == 0 and duplicates(world) == before
    assert user_sync(world)["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}
