"""A HubSpot GDPR delete, end to end, on both store backends: after the erasure the store's bytes (the
SQLite file and its write-ahead log, or a pg_dump of the PostgreSQL database) hold nothing of the
person: not their e-mail, names or phone, not in their snapshots, not in the Task, CampaignMember,
OpportunityContactRole and HubSpot call about them, not in a failed opt-out's parked record or the
run records; and a record about them that turns up in a later pull is dropped again."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from hubspot.crm.contacts import PublicGdprDeleteInput
from hubspot.crm.objects.calls import SimplePublicObjectInputForCreate as CallInput
from sqlmodel import Session, func, select

from connector.config import DeletionsConfig
from connector.sandbox.faults import FaultRule
from connector.store import open_engine
from connector.store.models import (
    ErasedSubject,
    Link,
    ParkedRecord,
    SourceRecord,
    SyncRun,
)

from ..store.test_erasure import FIRST, LAST, PHONE, traces
from .conftest import World, make_world, sf_type
from .test_optout_privacy import unsubscribe_path
from .test_sync_e2e import hubspot_contacts, salesforce_people


@pytest.fixture
def world(tmp_path: Path, store_url: str) -> Iterator[World]:
    """A seeded, set-up sandbox synced into a store on `store_url` (SQLite or PostgreSQL)."""
    for base in make_world(tmp_path, people=120, seed=17):
        yield dataclasses.replace(base, engine=open_engine(store_url))


def sync(world: World) -> dict[str, object]:
    return world.sync(deletions=DeletionsConfig(presence_check_hours=0))


def test_a_gdpr_erasure_leaves_no_trace_of_the_person_in_the_stores_bytes(world: World) -> None:
    sync(world)
    hs, sf_people = hubspot_contacts(world), salesforce_people(world)
    h, s, email = next((h, s, hs[h]["email"].lower()) for s, r in sf_people.items()
                       if s.startswith("003") and (h := r.get("HubSpot_Contact_Id__c")) in hs and hs[h].get("email")
                       and hs[h].get("salesforce_contact_id") == s and not r["HasOptedOutOfEmail"])
    assert sum((p.get("email") or "").lower() == email for p in hs.values()) == 1
    sf = world.salesforce_sdk()
    # the person gets names and a phone no one else has, and records about them that carry their name
    sf_type(sf, "Contact").update(s, {"FirstName": FIRST, "LastName": LAST, "Phone": PHONE, "HasOptedOutOfEmail": True})
    task = sf_type(sf, "Task").create({"WhoId": s, "Subject": f"Call with {FIRST} {LAST}", "Status": "Completed"})["id"]
    campaign = sf.query("SELECT Id FROM Campaign LIMIT 1")["records"][0]["Id"]
    member = sf_type(sf, "CampaignMember").create({"CampaignId": campaign, "ContactId": s, "Status": "Responded"})["id"]
    opportunity = sf.query("SELECT Id FROM Opportunity LIMIT 1")["records"][0]["Id"]
    role = sf_type(sf, "OpportunityContactRole").create({"OpportunityId": opportunity, "ContactId": s,
                                                         "Role": "Evaluator"})["id"]
    call = world.hubspot_sdk().crm.objects.calls.basic_api.create(CallInput(
        properties={"hs_timestamp": "2024-05-01T10:00:00Z", "hs_call_title": f"Call with {FIRST} {LAST}"},
        associations=[{"to": {"id": h}, "types": [{"associationCategory": "HUBSPOT_DEFINED",
                                                   "associationTypeId": 194}]}])).id
    # and their opt-out fails in HubSpot: parked on their contact id, in the run record's sample
    world.sandbox.hubspot.faults.add(FaultRule("503", path=unsubscribe_path(email), count=1_000))
    world.sandbox.clock.advance(181_000)  # probes answer in whole minutes, two at least (getDeleted refuses less)
    result = sync(world)
    world.sandbox.hubspot.faults.clear()
    assert any(r["record"] == h for r in result["push"]["rejections_sample"])  # type: ignore[index]
    related = {("salesforce", "Task", task), ("salesforce", "CampaignMember", member),
               ("salesforce", "OpportunityContactRole", role), ("hubspot", "calls", call)}
    with Session(world.engine) as session:
        stored = set(session.exec(select(SourceRecord.system, SourceRecord.object_type, SourceRecord.record_id)).all())
    assert related <= stored
    assert traces(world.engine, email, FIRST, LAST) == [email, FIRST, LAST, "phone"]  # the search finds them

    world.hubspot_sdk().crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id=h))  # HubSpot's GDPR delete
    erased = sync(world)
    assert erased["deletions"] == {"erased": 1} and s not in salesforce_people(world)
    assert traces(world.engine, email, FIRST, LAST) == []
    with Session(world.engine) as session:
        stored = set(session.exec(select(SourceRecord.system, SourceRecord.object_type, SourceRecord.record_id)).all())
        assert not related & stored
        assert session.exec(select(func.count()).select_from(Link).where(Link.record_id.in_([h, s]))).one() == 0  # type: ignore[attr-defined]
        assert session.exec(select(ParkedRecord).where(ParkedRecord.record_id.in_([h, s]))).all() == []  # type: ignore[attr-defined]
        samples = [e for r in session.exec(select(SyncRun)).all() for part in ("push", "deals")
                   for e in ((r.counts or {}).get(part) or {}).get("rejections_sample") or []]
        assert not [e for e in samples if e["record"] in (h, s)]
        assert session.exec(select(func.count()).select_from(ErasedSubject)).one() >= 3

    # Salesforce reports the deleted Contact, and an activity about them changes (real Salesforce deletes
    # a Contact's activities with it and reports them as deleted): the next pull drops both again
    sf_type(sf, "Task").update(task, {"Status": "Deferred"})
    world.sandbox.clock.advance(61_000)
    again = sync(world)
    streams = again["pull"]["streams"]  # type: ignore[index]
    assert streams["salesforce:Task"]["new"] >= 1 and streams["salesforce:Contact"]["new"] >= 1  # pulled ...
    assert again["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}  # type: ignore[index]
    assert traces(world.engine, email, FIRST, LAST) == []
    with Session(world.engine) as session:  # ... and dropped
        assert session.get(SourceRecord, ("salesforce", "Task", task)) is None
        assert session.get(SourceRecord, ("salesforce", "Contact", s)) is None
