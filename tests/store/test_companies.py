"""Companies in the store, on both backends: what company reconciliation reads, the associations the
connector adds recorded in the company's snapshot, and each person's company."""

from __future__ import annotations

from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.store import open_engine
from connector.store.companies import add_company_links, company_inputs, person_companies
from connector.store.models import Link, Person, SourceRecord
from connector.store.scores import _changed_company_people
from connector.store.staging import stage_records
from connector.systems.ports import StagedRecord

ACCOUNT = "001000000000001AAA"
OTHER = "001000000000002AAA"
CONTACT = "003000000000001AAA"


def world(engine: Engine) -> None:
    records = [
        StagedRecord("hubspot", "companies", "70", 1_000, {"name": "Acme", "salesforce_account_id": ACCOUNT,
                                                           "_associations": {"contacts": ["7"]}}),
        StagedRecord("hubspot", "companies", "71", 1_000, {"name": "Acme EU", "_associations": {"contacts": ["7"]}}),
        StagedRecord("salesforce", "Account", ACCOUNT, 1_000, {"Name": "Acme"}),
        StagedRecord("salesforce", "Account", OTHER, 1_000, {"Name": "Other"}),
        StagedRecord("salesforce", "Contact", CONTACT, 1_000, {"AccountId": ACCOUNT, "Email": "a@acme.example"}),
        StagedRecord("hubspot", "contacts", "7", 1_000, {"email": "a@acme.example"}),
        StagedRecord("hubspot", "contacts", "8", 1_000, {"email": "b@other.example"}),
    ]
    with Session(engine) as s, s.begin():
        for kind in dict.fromkeys((r.system, r.object_type) for r in records):
            stage_records(s, [r for r in records if (r.system, r.object_type) == kind], fetched_at=2_000)
    with Session(engine) as s, s.begin():
        s.add_all(Person(id=i, created_at=1, updated_at=1) for i in ("p1", "p2"))
    with Session(engine) as s, s.begin():
        s.add_all([Link(person_id="p1", system="salesforce", object_type="Contact", record_id=CONTACT, role="primary",
                        reason="email", linked_at=1),
                   Link(person_id="p1", system="hubspot", object_type="contacts", record_id="7", role="primary",
                        reason="email", linked_at=1),
                   Link(person_id="p2", system="hubspot", object_type="contacts", record_id="8", role="primary",
                        reason="email", linked_at=1)])


def test_inputs_links_and_each_persons_company(store_url: str) -> None:
    engine = open_engine(store_url)
    world(engine)
    inputs = company_inputs(engine)
    assert sorted(c.id for c in inputs.companies) == ["70", "71"] and len(inputs.accounts) == 2
    assert {(k.system, k.id, p) for k, p in inputs.people.items()} == {
        ("salesforce", CONTACT, "p1"), ("hubspot", "7", "p1"), ("hubspot", "8", "p2")}
    # p1's Contact is on the Account; of their contact's two companies, the one linked to it is theirs
    held = person_companies(engine, ["p1", "p2"])
    assert set(held) == {"p1"}
    company, account = held["p1"]
    assert company is not None and account is not None and (company.id, account.id) == ("70", ACCOUNT)
    # an association the connector adds is kept in the company's snapshot until the next pull brings it
    add_company_links(engine, [("contacts", "8", "71"), ("deals", "500", "71"), ("contacts", "8", "404")])
    with Session(engine) as s:
        row = s.get(SourceRecord, ("hubspot", "companies", "71"))
        assert row is not None and row.data["_associations"] == {"contacts": ["7", "8"], "deals": ["500"]}
        assert s.get(SourceRecord, ("hubspot", "companies", "404")) is None  # an unknown company is not made up
    held = person_companies(engine, ["p2"])
    assert held["p2"][0] is not None and held["p2"][0].id == "71" and held["p2"][1] is None


def test_people_whose_company_changed_are_scored_again(store_url: str) -> None:
    """With fit rules on the company, a changed Account or HubSpot company brings its people to the next pass."""
    engine = open_engine(store_url)
    world(engine)
    assert _changed_company_people(engine, since=2_000) == set()  # nothing arrived after the pass
    with Session(engine) as s, s.begin():
        stage_records(s, [StagedRecord("salesforce", "Account", ACCOUNT, 5_000, {"Name": "Acme Group"})],
                      fetched_at=6_000)
    assert _changed_company_people(engine, since=2_000) == {"p1"}  # through their Contact's AccountId
    with Session(engine) as s, s.begin():
        stage_records(s, [StagedRecord("hubspot", "companies", "72", 5_000,
                                       {"name": "New", "_associations": {"contacts": ["8"]}})], fetched_at=7_000)
    assert _changed_company_people(engine, since=6_500) == {"p2"}  # through the company's contacts
