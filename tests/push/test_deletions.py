"""Deletions and erasure end to end: a HubSpot GDPR delete erases the person everywhere and in the store;
ordinary deletions are propagated or quarantined by policy, and never undone by re-creating the record."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hubspot.crm.contacts import PublicGdprDeleteInput
from sqlmodel import Session, func, select

from connector.config import DeletionsConfig
from connector.reconcile.deletions import DeletionPolicy, plan_deletions, without_deleted_people
from connector.reconcile import FieldChange, RecordKey, UnifiedPerson
from connector.store.models import ErasedSubject, Link, ParkedRecord, Person, SourceRecord
from connector.store.staging import CREATED_MARK
from connector.systems.hubspot import HubSpotSink

from .conftest import World, make_world, sf_type
from .test_sync_e2e import hubspot_contacts, salesforce_people

HS = RecordKey("hubspot", "contacts", "1")
LEAD = RecordKey("salesforce", "Lead", "00Q1")


def person(*links: RecordKey) -> UnifiedPerson:
    return UnifiedPerson("p1", {}, tuple(links))


def test_policy_decides_what_a_deletion_means() -> None:
    quarantine = DeletionPolicy()
    (a,) = plan_deletions([person(HS, LEAD)], {HS: "deleted"}, quarantine)
    assert (a.action, a.trigger, a.targets) == ("quarantine", HS, (LEAD,))
    (a,) = plan_deletions([person(HS, LEAD)], {HS: "erased"}, quarantine)
    assert a.action == "erase" and "GDPR" in a.reason
    (a,) = plan_deletions([person(HS, LEAD)], {LEAD: "deleted"}, DeletionPolicy(salesforce_delete="erase"))
    assert (a.action, a.targets) == ("erase", (HS,))
    (a,) = plan_deletions([person(HS, LEAD)], {HS: "deleted"}, DeletionPolicy(hubspot_archive="propagate"))
    assert a.action == "delete"
    # a deleted duplicate, while the system still has the person, is no deletion of the person
    other = RecordKey("salesforce", "Lead", "00Q2")
    assert plan_deletions([person(HS, LEAD, other)], {other: "deleted"}, quarantine) == []
    assert plan_deletions([person(HS, LEAD)], {HS: "deleted", LEAD: "deleted"}, quarantine) == []


def test_a_converted_lead_or_a_merged_away_contact_keeps_nobody_alive() -> None:
    """History (a Lead converted to the Contact, a contact merged into another) no longer stands for the
    person: the Contact or the survivor deleted is the person deleted in that system, and history is no
    target in the other (the soak found both: no deletion at all, and the person created again)."""
    contact = RecordKey("salesforce", "Contact", "0031")
    merged = RecordKey("hubspot", "contacts", "2")
    erase = DeletionPolicy(salesforce_delete="erase", hubspot_archive="propagate")
    assert plan_deletions([person(HS, LEAD, contact)], {contact: "deleted"}, erase) == []  # the old answer
    (a,) = plan_deletions([person(HS, LEAD, contact)], {contact: "deleted"}, erase, history={LEAD})
    assert (a.action, a.trigger, a.targets) == ("erase", contact, (HS,))
    (b,) = plan_deletions([person(HS, merged, contact)], {HS: "deleted"}, erase, history={merged})
    assert (b.action, b.trigger, b.targets) == ("delete", HS, (contact,))
    (c,) = plan_deletions([person(HS, LEAD, contact)], {HS: "deleted"}, erase, history={LEAD})
    assert c.targets == (contact,)  # the converted Lead is no target


def test_a_deleted_person_is_never_re_created_where_they_were_deleted() -> None:
    changes = [FieldChange("hubspot", "contacts", None, "email", None, "a@b.c", "create", "p1"),
               FieldChange("salesforce", "Lead", "00Q1", "City", None, "Oslo", "x", "p1"),
               FieldChange("salesforce", "Lead", "00Q9", "City", None, "Oslo", "x", "p2")]
    (ignore,) = plan_deletions([person(HS, LEAD)], {HS: "deleted"}, DeletionPolicy(hubspot_archive="ignore"))
    assert [c.person_id for c in without_deleted_people(changes, [ignore])] == ["p1", "p2"]
    assert without_deleted_people(changes, [ignore])[0].record_id == "00Q1"
    (held,) = plan_deletions([person(HS, LEAD)], {HS: "deleted"}, DeletionPolicy())
    assert [c.person_id for c in without_deleted_people(changes, [held])] == ["p2"]


@pytest.fixture(scope="module")
def synced(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    for world in make_world(tmp_path_factory.mktemp("deletions"), people=200, seed=21):
        world.sync()
        yield world


def linked_pair(world: World, prefix: str, skip: int = 0) -> tuple[str, str, str]:
    hs, sf = hubspot_contacts(world), salesforce_people(world)
    found = [(h, s, (hs[h].get("email") or "").lower()) for s, r in sf.items() if s.startswith(prefix)
             and (h := r.get("HubSpot_Contact_Id__c")) in hs
             and s in (hs[h].get("salesforce_lead_id"), hs[h].get("salesforce_contact_id"))]
    return found[skip]


def sync(world: World, **deletions: Any) -> dict[str, Any]:
    return world.sync(deletions=DeletionsConfig(presence_check_hours=0, **deletions))


def traces(world: World, email: str, *ids: str) -> int:
    with Session(world.engine) as s:
        n = s.exec(select(func.count()).select_from(SourceRecord).where(
            (SourceRecord.email_norm == email) | SourceRecord.record_id.in_(ids))).one()  # type: ignore[attr-defined]
        n += s.exec(select(func.count()).select_from(Person).where(Person.email_norm == email)).one()
        n += s.exec(select(func.count()).select_from(Link).where(Link.record_id.in_(ids))).one()  # type: ignore[attr-defined]
    return int(n)


def test_hubspot_gdpr_delete_erases_the_person_in_salesforce_and_in_the_store(synced: World) -> None:
    h, s, email = linked_pair(synced, "00Q")
    assert traces(synced, email, h, s) > 0
    sync(synced)  # starts the presence-check clock
    synced.hubspot_sdk().crm.contacts.basic_api.purge(PublicGdprDeleteInput(object_id=h))  # HubSpot's GDPR delete
    result = sync(synced)
    assert result["pull"]["presence_check"]["erased"] == 1
    assert result["deletions"] == {"erased": 1}
    assert s not in salesforce_people(synced)  # deleted in Salesforce too
    assert traces(synced, email, h, s) == 0  # and nothing personal left in the store
    with Session(synced.engine) as session:
        assert session.exec(select(func.count()).select_from(ErasedSubject)).one() >= 3  # email + both ids
    # Salesforce's own report of the deletion comes back with the next pull: purged, never re-created
    again = sync(synced)
    assert again["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0} and traces(synced, email, h, s) == 0


def test_an_ordinary_salesforce_delete_is_quarantined_for_review(synced: World) -> None:
    h, s, _ = linked_pair(synced, "00Q", skip=1)
    sf_type(synced.salesforce_sdk(), "Lead").delete(s)
    result = sync(synced)
    assert result["deletions"] == {"quarantined": 1}
    with Session(synced.engine) as session:
        parked = session.exec(select(ParkedRecord).where(ParkedRecord.record_id == s)).one()
    assert parked.stage == "delete" and "deleted in Salesforce" in (parked.hint or "")
    assert "salesforce_delete" in (parked.hint or "")
    assert h in hubspot_contacts(synced)  # HubSpot keeps the person ...
    sf_count = len(salesforce_people(synced))
    sync(synced)
    assert len(salesforce_people(synced)) == sf_count  # ... and Salesforce does not get them back
    # someone decides: the HubSpot contact goes too; the question is settled
    synced.hubspot_sdk().crm.contacts.basic_api.archive(h)
    done = sync(synced)
    assert done["deletions"] == {}
    with Session(synced.engine) as session:
        assert session.exec(select(ParkedRecord).where(ParkedRecord.record_id == s)).one().resolved_at is not None


def test_salesforce_delete_as_erasure_can_anonymise_hubspot(synced: World) -> None:
    h, s, email = linked_pair(synced, "00Q", skip=2)
    sf_type(synced.salesforce_sdk(), "Lead").delete(s)
    result = sync(synced, salesforce_delete="erase", erase_action="anonymise")
    with Session(synced.engine) as session:
        why = [p.hint for p in session.exec(select(ParkedRecord).where(ParkedRecord.record_id == s)).all()]
    assert result["deletions"] == {"erased": 1}, why
    kept = hubspot_contacts(synced)[h]
    assert not kept.get("email") and not kept.get("firstname") and not kept.get("salesforce_lead_id")
    assert traces(synced, email, h, s) == 0
    # the anonymised contact comes back with the next pull: recognised by its id's hash, dropped, never synced
    sf_count = len(salesforce_people(synced))
    again = sync(synced)
    assert traces(synced, email, h, s) == 0 and len(salesforce_people(synced)) == sf_count
    assert again["push"]["write_calls"] == {"hubspot": 0, "salesforce": 0}


def test_hubspot_archive_propagates_when_configured(synced: World) -> None:
    h, s, _ = linked_pair(synced, "003")
    synced.hubspot_sdk().crm.contacts.basic_api.archive(h)
    result = sync(synced, hubspot_archive="propagate")
    assert result["pull"]["presence_check"]["archived"] == 1
    assert result["deletions"] == {"deleted": 1}
    assert s not in salesforce_people(synced)


def test_a_contact_the_connector_created_and_archived_before_any_pull_is_noticed(tmp_path: Any) -> None:
    """A HubSpot contact the connector created, archived before a pull ever read it: the presence check
    finds it (it used to check pulled contacts only), and the deals it was associated with are not
    associated with it again (that batch used to fail whole with 404 and end the sync)."""
    for world in make_world(tmp_path, people=200, seed=21):
        world.sync()
        with Session(world.engine) as s:
            created = [r.record_id for r in s.exec(select(SourceRecord).where(
                SourceRecord.system == "hubspot", SourceRecord.object_type == "contacts")).all()
                if r.data.get(CREATED_MARK)]
            linked = {d.record_id: d.data.get("_associations", {}).get("contacts") or [] for d in s.exec(
                select(SourceRecord).where(SourceRecord.system == "hubspot", SourceRecord.object_type == "deals"))}
        with_deal = [c for c in created if any(c in contacts for contacts in linked.values())]
        assert with_deal, "the seed must give a created contact a deal for this test to mean something"
        world.hubspot_sdk().crm.contacts.basic_api.archive(with_deal[0])
        result = sync(world, hubspot_archive="quarantine")
        assert result["pull"]["presence_check"]["archived"] == 1
        assert result["ok"] is True


def test_one_gone_record_fails_its_association_alone(tmp_path: Any) -> None:
    """HubSpot refuses a batch associate whole when one record of it is gone: the other pairs still go."""
    for world in make_world(tmp_path, people=60, seed=3):
        sdk = world.hubspot_sdk()
        contacts = [c.id for c in sdk.crm.contacts.basic_api.get_page(limit=3).results]
        deal = sdk.crm.deals.basic_api.get_page(limit=1).results[0].id
        sdk.crm.contacts.basic_api.archive(contacts[0])
        systems = world.systems()
        try:
            outcomes = HubSpotSink(systems.hubspot).associate("deals", "contacts", [(deal, c) for c in contacts])
        finally:
            systems.close()
        assert not outcomes[(deal, contacts[0])].ok and outcomes[(deal, contacts[0])].code
        assert all(outcomes[(deal, c)].ok for c in contacts[1:])
