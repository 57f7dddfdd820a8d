"""Merges in the store, on SQLite and PostgreSQL: a merge on one side of two linked people is parked for
review (and released when someone decides), nothing is planned for them meanwhile, deal links wait too,
and a person is found by any of their e-mails and ids, merged-away ones included."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.reconcile import SourceRecord
from connector.store import open_engine
from connector.store.deals import deal_inputs
from connector.store.models import ParkedRecord
from connector.store.people import duplicate_links, explain_person
from connector.sync.reconciling import reconcile_store
from connector.store.staging import stage_records
from connector.systems.ports import StagedRecord

from ..reconcile.factories import contact_id, contacts_mapping, hs, sf


def stage(engine: Engine, records: list[SourceRecord], now: int) -> None:
    with Session(engine) as session, session.begin():
        for kind in sorted({(r.system, r.object_type) for r in records}):
            stage_records(session, [
                StagedRecord(r.system, r.object_type, r.id, r.modified_at, dict(r.fields), deleted=r.deleted,
                             merged_into=r.merged_into,
                             email_norm=str(r.fields.get("email") or r.fields.get("Email") or "").casefold() or None)
                for r in records if (r.system, r.object_type) == kind], fetched_at=now)


def cycle(engine: Engine, now: int) -> Any:
    return reconcile_store(engine, contacts_mapping(), save_at=(now, None))


def held_rows(engine: Engine, *, resolved: bool = False) -> list[ParkedRecord]:
    with Session(engine) as session:
        rows = session.exec(select(ParkedRecord).where(ParkedRecord.stage == "identity")).all()
    return [r for r in rows if (r.resolved_at is not None) == resolved]


def two_linked_people() -> list[SourceRecord]:
    return [hs("1348", t=10, email="heather@x.com", firstname="Heather", lastname="Hale",
               salesforce_contact_id=contact_id(1)),
            sf(contact_id(1), "Contact", t=10, Email="heather@x.com", FirstName="Heather", LastName="Hale",
               HubSpot_Contact_Id__c="1348"),
            hs("2", t=10, email="matthew@x.com", firstname="Matthew", lastname="Moss", jobtitle="CTO",
               salesforce_contact_id=contact_id(2)),
            sf(contact_id(2), "Contact", t=10, Email="matthew@x.com", FirstName="Matthew", LastName="Moss",
               Title="CTO", HubSpot_Contact_Id__c="2")]


def test_a_hubspot_merge_of_two_linked_people_is_held_then_released(store_url: str) -> None:
    engine = open_engine(store_url)
    stage(engine, two_linked_people(), now=1)
    first = cycle(engine, 20)
    assert first.result.changes == () and not held_rows(engine)
    # HubSpot merges contact 2 into 1348: the survivor gets 2's title (its own was blank) and 2's address
    stage(engine, [hs("1348", t=30, email="heather@x.com", firstname="Heather", lastname="Hale", jobtitle="CTO",
                      salesforce_contact_id=contact_id(1), hs_merged_object_ids="2",
                      hs_additional_emails="matthew@x.com"),
                   SourceRecord("hubspot", "contacts", "2", 30, {}, deleted=True, merged_into="1348")], now=31)
    held = cycle(engine, 40)
    assert held.result.changes == () and held.summary.held_merges == 1
    [row] = held_rows(engine)
    assert (row.system, row.record_id, row.code) == ("hubspot", "1348", "MERGED_ON_ONE_SIDE")
    assert contact_id(2) in (row.hint or "") and "salesforce_contact_id" in (row.hint or "")
    assert "@" not in f"{row.message} {row.hint}"
    # reviewable: listed as a duplicate of the survivor's record, and deal links wait
    [dup] = duplicate_links(engine)
    assert dup["record_id"] == contact_id(2) and dup["kept"] == f"Contact {contact_id(1)}"
    assert {k.id for k in deal_inputs(engine).people} == set()
    # everyone is found by every address and id, the merged-away contact with its own person
    heather, matthew = explain_person(engine, "1348"), explain_person(engine, contact_id(2))
    assert heather and matthew and heather["person_id"] != matthew["person_id"]
    assert heather["held"] and heather["held"][0]["record_id"] == "1348"
    for who, person in (("heather@x.com", heather), (contact_id(1), heather), (contact_id(1)[:15], heather),
                        ("MATTHEW@x.com", matthew), ("2", matthew), (matthew["person_id"], matthew)):
        found = explain_person(engine, who)
        assert found and found["person_id"] == person["person_id"], who
    # settled while held (nothing to write): the next cycle skips them, still held
    again = cycle(engine, 50)
    assert again.summary.unchanged == 2 and again.result.changes == () and len(held_rows(engine)) == 1
    # decided: two people. Matthew gets a HubSpot contact of his own, named by its cross-reference
    stage(engine, [hs("77", t=60, firstname="Matthew", lastname="Moss", salesforce_contact_id=contact_id(2))], now=61)
    released = cycle(engine, 70)
    assert not held_rows(engine) and len(held_rows(engine, resolved=True)) == 1
    changes = {(c.system, c.record_id, c.field, c.new) for c in released.result.changes}
    # the survivor's person is reconciled again although its own records did not change
    assert ("salesforce", contact_id(1), "Title", "CTO") in changes
    assert ("salesforce", contact_id(2), "HubSpot_Contact_Id__c", "77") in changes
    assert not any(c[1] == contact_id(1) and c[2] == "HubSpot_Contact_Id__c" for c in changes)
    assert explain_person(engine, "77")["person_id"] == matthew["person_id"]  # type: ignore[index]
    assert {k.id for k in deal_inputs(engine).people} == {"1348", contact_id(1), "77", contact_id(2)}


def test_a_followed_merge_moves_the_links_and_the_old_person_points_at_the_survivor(store_url: str) -> None:
    engine = open_engine(store_url)
    stage(engine, two_linked_people()[:2] + [hs("9", t=10, email="h.work@x.com", lastname="Hale")], now=1)
    cycle(engine, 20)
    old = explain_person(engine, "9")
    assert old and old["person_id"] == "hs-9"
    stage(engine, [hs("1348", t=30, email="heather@x.com", firstname="Heather", lastname="Hale",
                      salesforce_contact_id=contact_id(1), hs_merged_object_ids="9",
                      hs_additional_emails="h.work@x.com"),
                   SourceRecord("hubspot", "contacts", "9", 30, {}, deleted=True, merged_into="1348")], now=31)
    done = cycle(engine, 40)
    assert not held_rows(engine) and done.summary.duplicates == 0
    for who in ("9", "hs-9", "h.work@x.com", "heather@x.com", contact_id(1)):
        found = explain_person(engine, who)
        assert found and found["person_id"] == "hs-1348", who
    found = explain_person(engine, "9")
    assert found is not None and {link["record_id"]: link["role"] for link in found["links"]}["9"] == "history"
