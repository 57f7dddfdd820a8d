"""On a Marketing Hub Enterprise account the push opts people out 100 addresses a call (the batch
unsubscribe-all of communication preferences v4), counted exactly by the connector and by the sandbox;
a batch that keeps failing parks each of its opt-outs, names no address, and the run goes on."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from connector.sandbox.faults import FaultRule
from connector.store.models import ParkedRecord, SyncRun

from .conftest import World, make_world, sf_type
from .test_sync_e2e import hubspot_contacts

BATCH = "/communication-preferences/v4/statuses/batch/unsubscribe-all"


def opted_out(world: World) -> set[str]:
    return {h for h, p in hubspot_contacts(world).items() if p.get("hs_email_optout") == "true"}


def subscription_calls(world: World) -> dict[str, int]:
    return {k: n for k, n in world.sandbox.hubspot.counter.snapshot().items() if "communication-preferences" in k}


@pytest.fixture(scope="module")
def enterprise(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in make_world(tmp_path_factory.mktemp("optout-batches"), people=400, seed=29):
        world.sandbox.hubspot.state.account.tier = "enterprise"
        yield world


def test_a_first_sync_opts_people_out_in_batches_of_100(enterprise: World) -> None:
    sf = enterprise.salesforce_sdk()  # opted out in Salesforce: more than one batch's worth for HubSpot
    lead = sf_type(sf, "Lead")
    for row in sf.query_all("SELECT Id FROM Lead WHERE IsConverted = false AND HasOptedOutOfEmail = false AND "
                            "Email != null ORDER BY Id LIMIT 160")["records"]:
        lead.update(row["Id"], {"HasOptedOutOfEmail": True})
    before = opted_out(enterprise)
    enterprise.sandbox.hubspot.counter.reset()
    result = enterprise.sync()
    newly = opted_out(enterprise) - before  # hs_email_optout is read-only: only the subscription API sets it
    assert result["ok"] and len(newly) > 100
    batches = -(-len(newly) // 100)
    assert subscription_calls(enterprise) == {f"POST {BATCH}": batches}
    assert result["api_calls"]["hubspot"]["by_object"]["subscriptions"] == batches


def test_a_batch_that_keeps_failing_parks_each_of_its_opt_outs_and_the_run_goes_on(enterprise: World) -> None:
    sf = enterprise.salesforce_sdk()
    hs = hubspot_contacts(enterprise)
    rows = sf.query_all("SELECT Id, Email, HubSpot_Contact_Id__c FROM Lead WHERE IsConverted = false AND "
                        "HasOptedOutOfEmail = false AND HubSpot_Contact_Id__c != null LIMIT 3")["records"]
    targets = {r["HubSpot_Contact_Id__c"]: r["Email"].lower() for r in rows
               if hs.get(r["HubSpot_Contact_Id__c"], {}).get("email")}
    assert len(targets) == 3
    lead = sf_type(sf, "Lead")
    for row in rows:
        lead.update(row["Id"], {"HasOptedOutOfEmail": True})
    enterprise.sandbox.hubspot.faults.add(FaultRule("503", path=BATCH, count=1_000))
    try:
        result = enterprise.sync()
    finally:
        enterprise.sandbox.hubspot.faults.clear()
    assert result["ok"] and result["push"]["rejected"] >= 3
    assert not targets.keys() & opted_out(enterprise)
    with Session(enterprise.engine) as session:
        parked = session.exec(select(ParkedRecord).where(ParkedRecord.field == "hs_email_optout")).all()
        run = session.get(SyncRun, result["run_id"])
    assert run is not None and run.status == "partial" and run.error is None
    assert {p.record_id: p.code for p in parked if p.resolved_at is None} == dict.fromkeys(targets, "UNAVAILABLE")
    for text in (json.dumps(result), json.dumps(run.counts), *(p.message for p in parked)):
        assert not any(email in text or email.split("@")[0] in text for email in targets.values())
