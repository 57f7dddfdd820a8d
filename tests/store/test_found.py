"""Records a look-up before a create found, on both backends: staged as pulled or as created, linked once,
and the people records are linked to, found by either form of a Salesforce id."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from connector.store import open_engine
from connector.store.found import linked_people, record_found
from connector.store.models import Link, Person, SourceRecord
from connector.store.staging import CREATED_MARK, stage_records
from connector.systems.ports import StagedRecord

LEAD = "00Q000000000001AAA"
CONTACT = "003000000000001AAA"


def people(engine: Engine, *ids: str) -> None:
    with Session(engine) as s, s.begin():
        s.add_all(Person(id=i, created_at=1, updated_at=1) for i in ids)


def test_found_records_are_staged_as_pulled_or_as_created_and_linked(store_url: str) -> None:
    engine = open_engine(store_url)
    people(engine, "p1", "p2")
    lead = StagedRecord("salesforce", "Lead", LEAD, 9_000, {"Id": LEAD, "Email": "Ann@X.io", "Title": "CEO"},
                        email_norm="ann@x.io")
    merged = StagedRecord("hubspot", "contacts", "8", 9_500, {}, deleted=True, merged_into="7")
    contact = StagedRecord("hubspot", "contacts", "7", 9_500, {"email": "bob@x.io", "salesforce_lead_id": "00Q2"},
                           email_norm="bob@x.io")
    record_found(engine, linked=[("p1", [lead])], adopted=[("p2", [contact, merged])], now_ms=10_000, run_id=None)
    record_found(engine, linked=[("p2", [lead])], adopted=[], now_ms=11_000, run_id=None)  # never moves a link
    with Session(engine) as s:
        links = {(link.record_id, link.person_id, link.reason) for link in s.exec(select(Link)).all()}
        assert links == {(LEAD, "p1", "found before create"), ("7", "p2", "created")}
        pulled = s.get(SourceRecord, ("salesforce", "Lead", LEAD))
        assert pulled is not None and pulled.modified_at == 9_000 and pulled.changed_at == 9_000
        assert pulled.data["Title"] == "CEO" and CREATED_MARK not in pulled.data
        adopted = s.get(SourceRecord, ("hubspot", "contacts", "7"))
        # its real fields, but content time 0: the person's original wins most_recent, as after a create
        assert adopted is not None and adopted.changed_at == 0 and adopted.modified_at == 9_500
        assert adopted.data["salesforce_lead_id"] == "00Q2" and adopted.data[CREATED_MARK]
    # the pull later brings the same snapshot: nothing changes
    with Session(engine) as s, s.begin():
        assert stage_records(s, [lead], fetched_at=12_000).unchanged == 1


def test_linked_people_by_either_form_of_a_salesforce_id(store_url: str) -> None:
    engine = open_engine(store_url)
    people(engine, "p1", "p2")
    with Session(engine) as s, s.begin():
        s.add(Link(person_id="p1", system="salesforce", object_type="Lead", record_id=LEAD, reason="reconciled",
                   linked_at=1))
        s.add(Link(person_id="p2", system="hubspot", object_type="contacts", record_id="42", reason="reconciled",
                   linked_at=1))
    found = linked_people(engine, [("salesforce", LEAD[:15]), ("hubspot", "42"), ("hubspot", "43"),
                                   ("salesforce", CONTACT[:15])])
    assert found == {("salesforce", LEAD[:15]): "p1", ("hubspot", "42"): "p2"}
    assert linked_people(engine, []) == {}
