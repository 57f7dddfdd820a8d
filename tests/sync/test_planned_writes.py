"""The run summary's planned writes: what the push is handed, the held-back records apart (issue #20)."""

from __future__ import annotations

from connector.reconcile.writes import RecordWrite, WritePlan
from connector.sync.planning import planned_writes


def write(system: str, record: str | None, **values: str) -> RecordWrite:
    obj = "contacts" if system == "hubspot" else "Lead"
    return RecordWrite(system, obj, record, f"p-{record}", dict(values))  # type: ignore[arg-type]


def test_planned_writes_count_what_the_push_gets_and_hold_the_parked_apart() -> None:
    plan = WritePlan(creates=(write("salesforce", None, LastName="A", Company="B"),),
                     updates=(write("hubspot", "1", jobtitle="CTO"), write("hubspot", "2", phone="1", city="X")),
                     held=(write("hubspot", "3", jobtitle="CEO"), write("hubspot", "4", jobtitle="CFO")))
    assert planned_writes(plan) == {
        "hubspot": {"creates": 0, "updates": 2, "field_changes": 3, "held": 2},
        "salesforce": {"creates": 1, "updates": 0, "field_changes": 2, "held": 0}}
    # an idle cycle whose only writes are parked ones plans nothing: before, those were "planned" every cycle
    assert planned_writes(WritePlan((), (), plan.held))["hubspot"] == {
        "creates": 0, "updates": 0, "field_changes": 0, "held": 2}
