"""The SLA report against a small store whose clocks were worked out by hand (SQLite and PostgreSQL).

The clock: 8 working hours, due soon with 2 left, UTC, Monday to Friday 09:00-17:00. Now is Wednesday
9 December 2026, 15:30 UTC; the period starts 1 November 2026.

- ann (o1): MQL Mon 2 Nov 09:00 under o9, reassigned to o1 at 11:00 (the clock runs on); a call logged in
  Salesforce at 13:00: met in 4 h, under o1.
- bob (o1): MQL Fri 6 Nov 15:00; a HubSpot note Mon 10:00 (not a touch), a HubSpot call Mon 9 Nov 12:00:
  2 h on Friday and 3 h on Monday, met in 5 h.
- cy (o2): MQL Tue 10 Nov 09:00; a HubSpot meeting Thu 12 Nov 10:00: 8 + 8 + 1 = 17 h, breached (late).
- dan (o2 now): MQL Mon 16 Nov 09:00, never touched: breached at 17:00, while o4 held him; reassigned to o2
  on Tue 17 Nov 12:00, so the breach stays o4's.
- eve (o1): MQL Mon 2 Nov 10:00, a Salesforce meeting at 11:00 (met in 1 h); recycled, MQL again Wed 9 Dec
  10:00 with no touch since: 5.5 h used, 2.5 h left, on time.
- fay (o3): MQL Wed 9 Dec 09:00, no touch: 6.5 h used, 1.5 h left, due soon (due 17:00).
- gus (o3): MQL 1 Oct, before the period: not counted.

Median working time to the first touch over ann 4, bob 5, cy 17, eve 1: 4.5 h.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.score.timeline import Touch
from connector.report.render import header_lines
from connector.report.sla import SlaSpec
from connector.report.sla_report import owner_at, sla, sla_report, tables
from connector.store import open_engine
from connector.store.models import FieldHistory, Link, Person, PersonField, StatusTransition
from connector.store.reports import Move

from .stores import add_model_and_run, add_records


def at(m: int, d: int, h: int, minute: int = 0) -> int:
    return int(datetime(2026, m, d, h, minute, tzinfo=UTC).timestamp() * 1000)


SINCE = at(11, 1, 0)
NOW = at(12, 9, 15, 30)
SPEC = SlaSpec(hours=8, due_soon_hours=2, time_zone="UTC", working_days=["mon", "tue", "wed", "thu", "fri"],
               working_hours=["09:00-17:00"], holidays=[])
ANN_LEAD, EVE_CONTACT = "00Q000000000001AAA", "003000000000005AAA"

#: person -> (owner, [(to status, at)])
PEOPLE: dict[str, tuple[str, list[tuple[str, int]]]] = {
    "ann": ("o1", [("MQL", at(11, 2, 9))]),
    "bob": ("o1", [("MQL", at(11, 6, 15))]),
    "cy": ("o2", [("MQL", at(11, 10, 9))]),
    "dan": ("o2", [("MQL", at(11, 16, 9))]),
    "eve": ("o1", [("MQL", at(11, 2, 10)), ("SAL", at(11, 2, 11)), ("Recycled", at(11, 20, 9)),
                   ("MQL", at(12, 9, 10))]),
    "fay": ("o3", [("MQL", at(12, 9, 9))]),
    "gus": ("o3", [("MQL", at(10, 1, 9))]),
}


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def seed(store_url: str) -> Engine:
    """The store above: people, owners, transitions, their linked records and activities, the model, a run."""
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        add_model_and_run(s, SINCE, NOW)
        for pid, (owner, moves) in PEOPLE.items():
            s.add(Person(id=pid, created_at=SINCE, updated_at=SINCE))
            s.flush()
            s.add(PersonField(person_id=pid, field="owner", value=owner, source_system="salesforce", source_id="1",
                              rule="x", updated_at=SINCE))
            previous = None
            for to, when in moves:
                s.add(StatusTransition(person_id=pid, from_status=previous, to_status=to, at=when, reason="r",
                                       system="connector", score=60, model_hash="m1", recorded_at=when))
                previous = to
        for pid, owner, since in (("ann", "o9", SINCE), ("ann", "o1", at(11, 2, 11)), ("dan", "o4", SINCE),
                                  ("dan", "o2", at(11, 17, 12))):
            s.add(FieldHistory(person_id=pid, field="owner", value=owner, since=since))
        for system, object_type, rid, pid in (("salesforce", "Lead", ANN_LEAD, "ann"),
                                              ("hubspot", "contacts", "2", "bob"), ("hubspot", "contacts", "3", "cy"),
                                              ("salesforce", "Contact", EVE_CONTACT, "eve")):
            s.add(Link(person_id=pid, system=system, object_type=object_type, record_id=rid, reason="reconciled",
                       linked_at=SINCE))
        records: list[tuple[str, str, str, dict[str, Any]]] = [
            ("salesforce", "Task", "00T1", {"WhoId": ANN_LEAD, "TaskSubtype": "Call", "OwnerId": "o1",
                                           "CompletedDateTime": iso(at(11, 2, 13)), "Subject": "Call"}),
            ("hubspot", "notes", "51", {"hs_timestamp": iso(at(11, 9, 10)), "_associations": {"contacts": ["2"]}}),
            ("hubspot", "calls", "52", {"hs_timestamp": iso(at(11, 9, 12)), "hs_call_title": "Intro",
                                        "_associations": {"contacts": ["2"]}}),
            ("hubspot", "meetings", "53", {"hs_timestamp": iso(at(11, 12, 10)), "hs_meeting_title": "Demo",
                                           "_associations": {"contacts": ["3"]}}),
            ("salesforce", "Event", "00U1", {"WhoId": EVE_CONTACT, "StartDateTime": iso(at(11, 2, 11)),
                                            "Subject": "Meeting"}),
        ]
        add_records(s, records, SINCE)
    return engine


def test_the_sla_clocks_breaches_and_due_soon_list_as_worked_out_by_hand(store_url: str) -> None:
    engine = seed(store_url)
    report = sla_report(engine, SPEC, SINCE, NOW)
    engine.dispose()
    assert report["kind"] == "sla"
    assert report["period"] == {"since": "2026-11-01T00:00:00+00:00", "until": "2026-12-09T15:30:00+00:00"}
    assert report["models"] == [{"version": 3, "hash": "m1"}]
    assert report["data_as_of"] == "2026-12-09T15:30:00+00:00"
    assert report["sla"] == {"hours": 8, "due_soon_hours": 2, "time_zone": "UTC",
                             "working_days": ["mon", "tue", "wed", "thu", "fri"], "working_hours": ["09:00-17:00"],
                             "holidays": [], "teams": []}
    assert {k: report[k] for k in ("clocks", "met", "breached", "on_time", "due_soon", "ended", "breach_rate",
                                   "median_hours_to_first_touch")} == {
        "clocks": 7, "met": 3, "breached": 2, "on_time": 1, "due_soon": 1, "ended": 0, "breach_rate": 0.4,
        "median_hours_to_first_touch": 4.5}
    assert [(r["owner"], r["clocks"], r["met"], r["breached"], r["on_time"], r["due_soon"],
             r["median_hours_to_first_touch"]) for r in report["by_owner"]] == [
        ("o1", 4, 3, 0, 1, 0, 4.0),  # ann 4, bob 5, eve 1; eve's second clock runs on
        ("o2", 1, 0, 1, 0, 0, 17.0),  # cy touched late
        ("o3", 1, 0, 0, 0, 1, None),  # gus's MQL was before the period
        ("o4", 1, 0, 1, 0, 0, None)]  # dan breached while o4 held him
    assert report["breach_list"] == [
        {"person_id": "cy", "breached_at": "2026-11-10T17:00:00+00:00", "held_by": "o2", "owner_now": "o2"},
        {"person_id": "dan", "breached_at": "2026-11-16T17:00:00+00:00", "held_by": "o4", "owner_now": "o2"}]
    assert [(r["week"], r["clocks"], r["met"], r["breached"]) for r in report["by_week"]] == [
        ("2026-W45", 3, 3, 0), ("2026-W46", 1, 0, 1), ("2026-W47", 1, 0, 1), ("2026-W50", 2, 0, 0)]
    assert report["due_soon_list"] == [{"person_id": "fay", "owner": "o3", "due_at": "2026-12-09T17:00:00+00:00",
                                        "working_hours_left": 1.5}]
    assert [t[0] for t in tables(report)] == ["clocks", "by_owner", "by_week", "breaches", "due_soon"]
    assert "SLA: first sales touch within 8 working hours (due soon with 2 left), time zone UTC" in header_lines(report)


def test_a_re_mql_starts_a_new_clock_and_the_old_one_ends_there() -> None:
    """MQL Mon 09:00, MQL again at 11:00 (no touch between), a call at 12:00: the first clock ended untouched
    and unbreached, the second was met in 1 h; a call before a clock's MQL does not count for it."""
    moves = [Move("a", "MQL", at(11, 2, 9), 60, "m", ""), Move("a", "MQL", at(11, 2, 11), 60, "m", "")]
    touches = {"a": [Touch("call", at(11, 2, 12), "salesforce", "00T9")]}
    report = sla(moves, {"a": "o1"}, touches, SPEC, SINCE, NOW)
    assert (report["clocks"], report["ended"], report["met"], report["median_hours_to_first_touch"]) == (2, 1, 1, 1.0)
    assert report["by_owner"][0]["breach_rate"] == 0.0
    late = sla([Move("a", "MQL", at(11, 2, 9), 60, "m", ""), Move("a", "MQL", at(11, 5, 9), 60, "m", "")],
               {}, {"a": [Touch("note", at(11, 2, 10), "hubspot", "1")]}, SPEC, SINCE, NOW)
    # the first clock breached before the re-MQL; the second is long breached too; a note is no touch
    assert (late["breached"], late["ended"], late["by_owner"][0]["owner"]) == (2, 0, "(none)")


def test_a_teams_calendar_runs_its_owners_clocks_and_the_report_names_the_team_only() -> None:
    spec = SlaSpec.model_validate({**SPEC.model_dump(exclude={"teams"}),
                                   "teams": {"emea": {"owners": ["rep@example.com"], "time_zone": "Europe/Berlin"}}})
    moves = [Move("a", "MQL", at(12, 9, 9), 60, "m", "")]  # 10:00 in Berlin: 6.5 of 8 h used by 16:30 there
    report = sla(moves, {"a": "rep@example.com"}, {}, spec, SINCE, NOW)
    # 7 h on Wednesday to 17:00 Berlin, the 8th on Thursday from 09:00 Berlin (08:00 UTC)
    assert [(r["due_at"], r["working_hours_left"]) for r in report["due_soon_list"]] == [
        ("2026-12-10T09:00:00+00:00", 1.5)]
    assert report["sla"]["teams"] == [{"team": "emea", "time_zone": "Europe/Berlin", "owners": 1}]
    assert "rep@example.com" not in str(report["sla"])


def test_the_owner_at_a_moment_comes_from_the_history() -> None:
    history = [(100, "a"), (200, "b"), (200, "c"), (300, None)]
    assert [owner_at(history, t, "now") for t in (50, 100, 199, 200, 299, 300)] == ["a", "a", "a", "c", "c", None]
    assert owner_at([], 150, "now") == "now"


@pytest.mark.parametrize("since, clocks", [(at(12, 9, 9), 2), (at(12, 9, 10) + 1, 0)])
def test_the_period_counts_the_mqls_at_or_after_its_start(since: int, clocks: int) -> None:
    moves = [Move("a", "MQL", at(12, 9, 9), 60, "m", ""), Move("b", "MQL", at(12, 9, 10), 60, "m", "")]
    assert sla(moves, {}, {}, SPEC, since, NOW)["clocks"] == clocks
