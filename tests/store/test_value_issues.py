"""The values the connector cannot carry, kept as of each person's last reconciliation (SQLite and
PostgreSQL): a person's issues are replaced when they are reconciled again, others' are left alone."""

from __future__ import annotations

from sqlmodel import Session

from connector.reconcile.errors import TransformError
from connector.reconcile.records import Issue
from connector.store import open_engine
from connector.store.issues import replace_value_issues, value_issue_count, value_issues
from connector.store.models import Person


def _phone(record: str, value: str) -> Issue:
    return Issue("hubspot", record, "phone", value, f"phone: {TransformError('phone', value, 'not a possible number')}")


def test_a_persons_issues_are_replaced_when_they_are_reconciled_again(store_url: str) -> None:
    engine = open_engine(store_url)
    with Session(engine) as s:
        s.add_all([Person(id=p, created_at=1, updated_at=1) for p in ("p1", "p2")])
        s.commit()
    lead = Issue("salesforce", "00Q1", "Status", "Nurture",
                 f"lead_status: {TransformError('map', 'Nurture', 'not in the to_hubspot value map')}")
    replace_value_issues(engine, ["p1", "p2"], [("p1", _phone("1", "12")), ("p1", lead), ("p2", _phone("2", "x"))],
                         now_ms=10, run_id=None)
    assert value_issue_count(engine) == 3
    assert [(i.person_id, i.kind, i.value) for i in value_issues(engine, field="PHONE")] == [
        ("p1", "phone", "12"), ("p2", "phone", "x")]
    assert [(i.unified_field, i.field, i.reason) for i in value_issues(engine, kind="map")] == [
        ("lead_status", "Status", "not in the to_hubspot value map")]
    replace_value_issues(engine, ["p1"], [], now_ms=20, run_id=None)  # p1 fixed; p2 not reconciled this time
    assert [(i.person_id, i.value) for i in value_issues(engine)] == [("p2", "x")]
    assert [i.person_id for i in value_issues(engine, person_id="p2")] == ["p2"]
