"""Unified people in the store, on SQLite and PostgreSQL: saved with provenance and links, unchanged
values not rewritten, settled conflicts audited, stored links fed back to identity."""

from __future__ import annotations

from sqlmodel import Session, col, func, select

from connector.reconcile import RecordKey, reconcile
from connector.store import open_engine
from connector.store.models import FieldAudit, FieldHistory, Link, PersonField
from connector.store.people import save_reconciliation, stored_links

from ..reconcile.factories import OWNERS, contacts_mapping, hs, lead_id, sf


def world(phone_hs: str, phone_sf: str, t_sf: int = 2_000) -> list:  # type: ignore[type-arg]
    return [
        hs("1", t=1_000, email="ann@acme.io", firstname="Ann", lastname="Lee", phone=phone_hs),
        sf(lead_id(1), t=t_sf, Email="Ann@Acme.io", FirstName="Ann", LastName="Lee", Company="Acme",
           Status="Open - Not Contacted", Phone=phone_sf),
        hs("2", t=1_000, email="bo@acme.io", lastname="Bo"),
    ]


def test_people_links_provenance_and_audit(store_url: str) -> None:
    engine = open_engine(store_url)
    first = reconcile(world("+1 415 555 0100", "+1 415 555 0199"), contacts_mapping(), owners=OWNERS)
    counts = save_reconciliation(engine, first.people, now_ms=10)
    assert counts.people == 2 and counts.links == 3 and counts.fields_changed > 0
    assert counts.conflicts_recorded >= 1  # the two phones disagreed; the rule settled it
    ann = next(p for p in first.people if len(p.links) == 2)
    with Session(engine) as s:
        phone = s.get(PersonField, (ann.person_id, "phone"))
        assert phone is not None and phone.source_system == ann.fields["phone"].system
        assert phone.rule == ann.fields["phone"].rule != "agreement"
        audit = s.exec(select(FieldAudit).where(FieldAudit.field == "phone")).one()
        assert {audit.winner_system, audit.loser_system} == {"hubspot", "salesforce"}

    again = save_reconciliation(engine, reconcile(world("+1 415 555 0100", "+1 415 555 0199"), contacts_mapping(),
                                                  links=stored_links(engine), owners=OWNERS).people, now_ms=20)
    assert again.fields_changed == 0 and again.conflicts_recorded == 0  # nothing new: nothing written

    links = stored_links(engine)
    lead, contact = RecordKey("salesforce", "Lead", lead_id(1)), RecordKey("hubspot", "contacts", "1")
    assert links[lead] == links[contact] == ann.person_id
    with Session(engine) as s:
        assert s.exec(select(func.count()).select_from(Link)).one() == 3


def test_each_new_owner_is_kept_with_the_time_of_the_record_that_set_it(store_url: str) -> None:
    """The owner history the SLA report reads: the first owner, then each change, never an unchanged one."""
    engine = open_engine(store_url)

    def sync(owner: str, t: int, now: int) -> None:
        people = [hs("7", t=t, email="cy@acme.io", lastname="Cy", hubspot_owner_id=owner)]
        save_reconciliation(engine, reconcile(people, contacts_mapping(), links=stored_links(engine),
                                              owners=OWNERS).people, now_ms=now)

    sync("101", 1_000, 10)
    sync("101", 1_500, 20)  # the record changed, its owner did not
    sync("102", 2_000, 30)
    with Session(engine) as s:
        rows = s.exec(select(FieldHistory).order_by(col(FieldHistory.id))).all()
    assert [(r.field, r.value, r.since) for r in rows] == [("owner", "ann@corp.example", 1_000),
                                                          ("owner", "bo@corp.example", 2_000)]
