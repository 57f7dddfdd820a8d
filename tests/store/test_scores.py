"""Scoring's reads of the store: each person's opportunities and deals, and the people a pass must look at
again because their opportunities changed (SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

from sqlmodel import Session

from connector.store import open_engine
from connector.store.models import Link, Person, SourceRecord
from connector.store.scores import candidates, opportunities_by_person, save_scores

T0 = 1_780_000_000_000


def _record(s: Session, system: str, object_type: str, rid: str, data: dict[str, Any], fetched: int = T0) -> None:
    s.add(SourceRecord(system=system, object_type=object_type, record_id=rid, modified_at=T0, fetched_at=fetched,
                       data=data))


def _person(s: Session, pid: str, *links: tuple[str, str, str]) -> None:
    s.add(Person(id=pid, created_at=T0, updated_at=T0))
    s.flush()  # the person before the links that name it
    for system, object_type, rid in links:
        s.add(Link(person_id=pid, system=system, object_type=object_type, record_id=rid, reason="reconciled",
                   linked_at=T0))


def test_opportunities_are_found_through_roles_conversions_and_deal_contacts(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        _person(s, "ann", ("salesforce", "Contact", "003A"), ("hubspot", "contacts", "1"),
                ("salesforce", "Lead", "00QA"))
        _person(s, "bob", ("salesforce", "Contact", "003B"))
        _record(s, "salesforce", "Lead", "00QA", {"IsConverted": True, "ConvertedOpportunityId": "006C"})
        _record(s, "salesforce", "OpportunityContactRole", "00K1", {"ContactId": "003A", "OpportunityId": "006A"})
        _record(s, "salesforce", "OpportunityContactRole", "00K2", {"ContactId": "003B", "OpportunityId": "006B"})
        for opp in ("006A", "006B", "006C"):
            _record(s, "salesforce", "Opportunity", opp, {"IsClosed": False, "CreatedDate": "2026-05-01"})
        _record(s, "hubspot", "deals", "9", {"dealstage": "closedwon", "_associations": {"contacts": ["1"]}})
    found = opportunities_by_person(engine, ["ann"])
    assert set(found) == {"ann"}
    assert sorted(f"{r.system}:{r.record_id}" for r in found["ann"]) == [
        "hubspot:9", "salesforce:006A", "salesforce:006C"]
    assert {p: sorted(r.record_id for r in rs) for p, rs in opportunities_by_person(engine).items()} == {
        "ann": ["006A", "006C", "9"], "bob": ["006B"]}
    # a person a dry run reconciled (not in the store yet) is found through the links it was given
    extra = opportunities_by_person(engine, ["cy"], {("salesforce", "Contact", "003B"): "cy"})
    assert [r.record_id for r in extra["cy"]] == ["006B"]
    engine.dispose()


def test_a_changed_contact_role_opportunity_or_deal_makes_its_people_candidates(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        _person(s, "ann", ("salesforce", "Contact", "003A"))
        _person(s, "bob", ("salesforce", "Contact", "003B"))
        _person(s, "cy", ("hubspot", "contacts", "3"))
        _record(s, "salesforce", "OpportunityContactRole", "00K1", {"ContactId": "003A", "OpportunityId": "006A"})
        _record(s, "salesforce", "Opportunity", "006A", {"IsClosed": True, "IsWon": True}, fetched=T0 + 5)
        _record(s, "salesforce", "OpportunityContactRole", "00K2", {"ContactId": "003B", "OpportunityId": "006B"},
                fetched=T0 + 5)
        _record(s, "hubspot", "deals", "7", {"_associations": {"contacts": ["3"]}}, fetched=T0 + 5)
    # never scored: everyone; then only those whose opportunities arrived after the pass
    assert candidates(engine, None, T0) == ["ann", "bob", "cy"]
    save_scores(engine, [{"person_id": p, "score": 0, "fit": 0, "engagement": 0, "grade": None, "status": "Lead",
                          "status_since": T0, "status_reason": None, "status_by": "connector", "feedback": None,
                          "reset_at": None, "mql_at": None, "mql_count": 0, "reason": "", "breakdown": [],
                          "model_hash": "m", "inputs_digest": "", "next_check_at": None, "last_touch_at": None,
                          "scored_at": T0, "run_id": None} for p in ("ann", "bob", "cy")], [])
    assert candidates(engine, T0 + 1, T0 + 10) == ["ann", "bob", "cy"]  # the won Opportunity, the role, the deal
    assert candidates(engine, T0 + 5, T0 + 10) == []
    engine.dispose()
