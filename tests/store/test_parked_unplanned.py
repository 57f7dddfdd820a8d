"""A parked write the plan no longer contains is resolved as "no longer needed" (both backends)."""

from __future__ import annotations

from connector.reconcile.writes import RecordWrite
from connector.reconcile.records import FieldChange
from connector.store import open_engine
from connector.store.pushes import (
    NO_LONGER_NEEDED,
    Rejected,
    parked_rows,
    record_batch,
    resolve_unplanned,
)


def _park(engine: object, write: RecordWrite, fields: tuple[str, ...], code: str = "STRING_TOO_LONG") -> None:
    record_batch(engine, [], [Rejected(write, fields, code, "refused", "a hint")], now_ms=1_000, run_id=None)  # type: ignore[arg-type]


def change(system: str, obj: str, record_id: str | None, field: str, person: str = "p1") -> FieldChange:
    return FieldChange(system, obj, record_id, field, None, "v", "why", person)  # type: ignore[arg-type]


def test_parked_writes_that_are_no_longer_planned_are_resolved(store_url: str) -> None:
    engine = open_engine(store_url)
    _park(engine, RecordWrite("salesforce", "Lead", "00Q1", "p1", {"City": "x" * 50}), ("City",))
    _park(engine, RecordWrite("salesforce", "Lead", "00Q2", "p2", {"Title": "t", "City": "c"}), ("Title", "City"))
    _park(engine, RecordWrite("hubspot", "contacts", "7", "p3", {"hs_analytics_source": "WEB"}),
          ("hs_analytics_source",))
    _park(engine, RecordWrite("salesforce", "Lead", None, "p4", {"LastName": "L"}), (), "REQUIRED_FIELD_MISSING")
    _park(engine, RecordWrite("salesforce", "Lead", None, "p5", {"LastName": "L"}), (), "REQUIRED_FIELD_MISSING")
    # deals: planned elsewhere
    _park(engine, RecordWrite("hubspot", "deals", "9", "", {"dealname": "d"}), ("dealname",))
    assert len(parked_rows(engine)) == 6
    still = [
        change("salesforce", "Lead", "00Q1", "City"),  # still planned: stays parked
        change("salesforce", "Lead", "00Q2", "City", "p2"),  # one of its two parked fields still planned: stays
        change("hubspot", "contacts", "7", "firstname", "p3"),  # the record, but not its parked field: resolved
        change("salesforce", "Lead", None, "LastName", "p4"),  # the create is still planned: stays
    ]  # p5's create is no longer planned (e.g. the person lost their lawful basis): resolved
    assert resolve_unplanned(engine, still, now_ms=5_000) == 2
    open_ids = {r["record_id"] for r in parked_rows(engine)}
    assert open_ids == {"00Q1", "00Q2", "new:p4", "9"}
    done = {r["record_id"]: r for r in parked_rows(engine, include_resolved=True) if r["resolved_at"] is not None}
    assert set(done) == {"7", "new:p5"}
    assert all(r["resolution"] == NO_LONGER_NEEDED and r["resolved_at"] == 5_000 for r in done.values())
    assert resolve_unplanned(engine, still, now_ms=6_000) == 0  # idempotent
    assert resolve_unplanned(engine, [], now_ms=7_000) == 3  # nothing planned: every person write is resolved
    assert {r["record_id"] for r in parked_rows(engine)} == {"9"}


def test_a_parked_write_resolved_by_writing_says_so(store_url: str) -> None:
    from connector.store.pushes import Written

    engine = open_engine(store_url)
    write = RecordWrite("salesforce", "Lead", "00Q1", "p1", {"Title": "CEO"})
    _park(engine, write, ("Title",))
    assert parked_rows(engine)[0]["resolution"] is None
    record_batch(engine, [Written(write, "00Q1")], [], now_ms=2_000, run_id=None)
    assert parked_rows(engine, include_resolved=True)[0]["resolution"] == "written"
