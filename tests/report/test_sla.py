"""The handoff SLA: the `[sla]` table's validation, each clock state, team calendars, the first sales touch."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, time

import pytest
from pydantic import ValidationError

from connector.report.sla import SlaSpec, calendar_for, first_sales_touch, sla_state, team_of
from connector.report.workhours import HOUR_MS, BusinessCalendar
from connector.score.timeline import Touch

H = HOUR_MS


def z(text: str) -> int:
    """'2026-01-05T09:00' (UTC) as epoch milliseconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


SPEC_TOML = """
[sla]
hours = 8
due_soon_hours = 2
time_zone = "Europe/Berlin"
working_days = ["mon", "tue", "wed", "thu", "fri"]
working_hours = ["09:00-17:00"]
holidays = [2026-01-06, "2026-12-25"]

[sla.teams.apac]
owners = ["OWNER-7", "Rep@Example.com"]
time_zone = "Asia/Kolkata"
holidays = []

[sla.teams.weekend]
owners = ["owner-9"]
working_days = ["Saturday", "sun"]
working_hours = ["10:00-12:00", "13:00-14:00"]
"""


@pytest.fixture()
def spec() -> SlaSpec:
    return SlaSpec.model_validate(tomllib.loads(SPEC_TOML)["sla"])


# -- clock states (Berlin, CET = UTC+1 in January; Tue 6 Jan is a holiday)

MQL = z("2026-01-05T09:00")  # Mon 5 Jan 10:00 CET; 8 working hours: 7 on Monday, Tue a holiday, 1 on Wed
DUE = z("2026-01-07T09:00")  # Wed 7 Jan 10:00 CET


def test_on_time_with_the_working_time_left(spec: SlaSpec) -> None:
    r = sla_state(spec, MQL, None, z("2026-01-05T11:00"), "someone")
    assert (r.state, r.due_at, r.working_ms_left, r.touched_at, r.working_ms_taken) == ("on_time", DUE, 6 * H,
                                                                                       None, None)
    assert r.next_change_at == z("2026-01-05T15:00")  # 16:00 CET: 2 working hours left
    assert r.team is None


def test_due_soon_over_the_holiday(spec: SlaSpec) -> None:
    r = sla_state(spec, MQL, None, z("2026-01-06T12:00"), None)  # the holiday: 7h used, 1h left
    assert (r.state, r.working_ms_left, r.next_change_at) == ("due_soon", 1 * H, DUE + 1)
    assert sla_state(spec, MQL, None, z("2026-01-05T15:00"), None).state == "due_soon"  # exactly 2h left


def test_breached_after_the_allowance(spec: SlaSpec) -> None:
    at_due = sla_state(spec, MQL, None, DUE, None)
    assert (at_due.state, at_due.working_ms_left) == ("due_soon", 0)  # a touch now would still be on time
    r = sla_state(spec, MQL, None, DUE + 1, None)
    assert (r.state, r.working_ms_left, r.next_change_at, r.due_at) == ("breached", 0, None, DUE)


def test_met_with_the_working_time_it_took(spec: SlaSpec) -> None:
    r = sla_state(spec, MQL, z("2026-01-07T08:30"), z("2026-03-01T00:00"), None)  # Wed 09:30 CET
    assert (r.state, r.touched_at, r.working_ms_taken, r.working_ms_left) == (
        "met", z("2026-01-07T08:30"), 7 * H + 30 * 60_000, 30 * 60_000)
    assert r.next_change_at is None
    assert sla_state(spec, MQL, DUE, DUE, None).state == "met"  # at the due time itself
    assert sla_state(spec, MQL, MQL, MQL, None).working_ms_taken == 0


def test_a_late_touch_leaves_the_clock_breached_with_the_time_it_took(spec: SlaSpec) -> None:
    r = sla_state(spec, MQL, z("2026-01-07T12:00"), z("2026-01-08T00:00"), None)  # Wed 13:00 CET
    assert (r.state, r.working_ms_taken, r.working_ms_left) == ("breached", 11 * H, 0)


def test_a_touch_after_hours_past_the_due_time_took_no_more_working_time(spec: SlaSpec) -> None:
    # MQL Mon 09:00 CET is due Mon 17:00 CET; a call at 17:30 CET took 8 working hours: met
    mql = z("2026-01-05T08:00")
    r = sla_state(spec, mql, z("2026-01-05T16:30"), z("2026-01-05T17:00"), None)
    assert (r.due_at, r.state, r.working_ms_taken) == (z("2026-01-05T16:00"), "met", 8 * H)


def test_a_touch_after_now_has_not_happened_yet(spec: SlaSpec) -> None:
    r = sla_state(spec, MQL, z("2026-01-07T08:30"), z("2026-01-05T11:00"), None)
    assert (r.state, r.touched_at) == ("on_time", None)


def test_a_touch_before_the_mql_is_refused(spec: SlaSpec) -> None:
    with pytest.raises(ValueError, match="at or after the MQL"):
        sla_state(spec, MQL, MQL - 1, MQL, None)


def test_without_a_due_soon_window_the_clock_goes_from_on_time_to_breached() -> None:
    spec = SlaSpec(hours=1, time_zone="UTC")
    mql = z("2026-01-05T09:00")
    assert sla_state(spec, mql, None, z("2026-01-05T09:59"), None).state == "on_time"
    r = sla_state(spec, mql, None, z("2026-01-05T09:30"), None)
    assert r.next_change_at == z("2026-01-05T10:00")
    assert sla_state(spec, mql, None, z("2026-01-05T10:00") + 1, None).state == "breached"


# -- team calendars

def test_team_members_work_to_their_team_calendar(spec: SlaSpec) -> None:
    assert team_of(spec, " rep@example.COM ") == "apac" and team_of(spec, "owner-7") == "apac"
    assert team_of(spec, "someone") is None and team_of(spec, None) is None
    apac = calendar_for(spec, "rep@example.com")
    # the time zone and the (empty) holiday list are the team's; the days and hours are inherited
    assert apac == BusinessCalendar("Asia/Kolkata", frozenset(range(5)), ((time(9), time(17)),), frozenset())
    assert calendar_for(spec, "someone") == BusinessCalendar(
        "Europe/Berlin", holidays=frozenset({date(2026, 1, 6), date(2026, 12, 25)}))
    weekend = calendar_for(spec, "OWNER-9")
    assert weekend.working_days == frozenset({5, 6}) and weekend.time_zone == "Europe/Berlin"
    assert weekend.holidays == frozenset({date(2026, 1, 6), date(2026, 12, 25)})  # inherited
    assert calendar_for(spec, "OWNER-7") is apac  # built once: the days it computed are kept


def test_the_same_mql_runs_a_different_clock_for_a_team(spec: SlaSpec) -> None:
    mql = z("2026-01-05T11:00")  # Mon 12:00 CET; 16:30 IST (UTC+5:30)
    berlin = sla_state(spec, mql, None, z("2026-01-05T12:00"), "someone")
    # Berlin: 5h Monday (to 17:00 CET), Tuesday a holiday, 3h Wednesday: 12:00 CET (11:00Z)
    assert berlin.due_at == z("2026-01-07T11:00")
    apac = sla_state(spec, mql, None, z("2026-01-05T12:00"), "owner-7")
    # Kolkata: 30 min Monday (to 17:00 IST, 11:30Z), 7.5h Tuesday (no holiday): 16:30 IST (11:00Z)
    assert (apac.due_at, apac.team, apac.working_ms_left) == (z("2026-01-06T11:00"), "apac", 8 * H - 30 * 60_000)
    weekend = sla_state(spec, mql, None, z("2026-01-05T12:00"), "owner-9")
    # Sat 10 and Sun 11 Jan, 3h each (10-12, 13-14 CET); then Sat 17: 10:00-12:00 CET (09:00-11:00Z)
    assert (weekend.state, weekend.due_at) == ("on_time", z("2026-01-17T11:00"))


# -- the first sales touch

def _touch(kind: str, at: int, owner: str | None = "owner-1", system: str = "hubspot", sid: str = "") -> Touch:
    return Touch(kind=kind, at=at, system=system, source_id=sid or f"{kind}-{at}", owner=owner)


def test_the_first_call_meeting_email_or_task_at_or_after_the_mql() -> None:
    touches = [
        _touch("task", MQL + 50), _touch("note", MQL + 1), _touch("page_view", MQL + 2),
        _touch("form_submission", MQL + 3), _touch("call", MQL - 1), _touch("email", MQL + 40),
    ]
    first = first_sales_touch(touches, MQL)
    assert first is not None and (first.kind, first.at) == ("email", MQL + 40)
    assert first_sales_touch([_touch("meeting", MQL)], MQL) is not None  # at the MQL itself
    assert first_sales_touch([_touch("note", MQL + 1), _touch("call", MQL - 1)], MQL) is None
    assert first_sales_touch([], MQL) is None


def test_only_the_team_owners_touches_count_when_given() -> None:
    touches = [_touch("call", MQL + 1, owner="someone-else"), _touch("call", MQL + 2, owner=None),
               _touch("task", MQL + 3, owner="Rep@Example.com", system="salesforce")]
    first = first_sales_touch(touches, MQL, ["rep@example.com", "owner-7"])
    assert first is not None and first.at == MQL + 3
    assert first_sales_touch(touches, MQL, []) is None
    unfiltered = first_sales_touch(touches, MQL)
    assert unfiltered is not None and unfiltered.at == MQL + 1


def test_ties_are_broken_the_same_way_whatever_the_order() -> None:
    a = _touch("call", MQL + 5, system="salesforce", sid="00T1")
    b = _touch("call", MQL + 5, system="hubspot", sid="9")
    assert first_sales_touch([a, b], MQL) == first_sales_touch([b, a], MQL) == b


# -- validation of the [sla] table

def _errors(raw: dict[str, object]) -> list[tuple[str, str]]:
    with pytest.raises(ValidationError) as info:
        SlaSpec.model_validate(raw)
    return [(".".join(str(p) for p in e["loc"]), e["msg"]) for e in info.value.errors()]


@pytest.mark.parametrize(("raw", "where", "message"), [
    ({"hours": 8, "time_zone": "Europe/Berln"}, "time_zone", "unknown time zone 'Europe/Berln': use an IANA name"),
    ({"hours": 8, "working_hours": ["17:00-09:00"]}, "working_hours", "'17:00-09:00' end before they start"),
    ({"hours": 8, "working_hours": ["09:00-12:00", "11:30-17:00"]}, "working_hours",
     "09:00-12:00 and 11:30-17:00 overlap"),
    ({"hours": 8, "working_hours": ["9am-5pm"]}, "working_hours", "not HH:MM-HH:MM"),
    ({"hours": 8, "working_hours": []}, "working_hours", "no working hours"),
    ({"hours": 8, "working_days": ["mon", "thurs"]}, "working_days", "unknown weekday 'thurs': use mon, tue"),
    ({"hours": 8, "working_days": []}, "working_days", "no working days"),
    ({"hours": 8, "due_soon_hours": 9}, "due_soon_hours", "due_soon_hours (9.0) must not exceed hours (8.0)"),
    ({"hours": 0}, "hours", "greater than 0"),
    ({"hours": float("inf")}, "hours", "finite number"),
    ({"hours": 8, "houres": 3}, "houres", "Extra inputs are not permitted"),
    ({"hours": 8, "teams": {"us": {"time_zone": "America/New_York"}}}, "teams.us.owners", "Field required"),
    ({"hours": 8, "teams": {"us": {"owners": ["a"], "time_zone": "EST5"}}}, "teams.us.time_zone",
     "unknown time zone 'EST5'"),
    ({"hours": 8, "teams": {"us": {"owners": ["a"], "working_days": ["fri", "caturday"]}}},
     "teams.us.working_days", "unknown weekday 'caturday'"),
    ({"hours": 8, "teams": {"us": {"owners": [" "]}}}, "teams.us.owners", "an owner is blank"),
])
def test_a_bad_table_says_where_and_what(raw: dict[str, object], where: str, message: str) -> None:
    errors = _errors(raw)
    assert any(loc == where and message in msg for loc, msg in errors), errors


def test_an_owner_in_two_teams_is_refused_without_naming_them() -> None:
    errors = _errors({"hours": 8, "teams": {"emea": {"owners": ["rep@example.com"]},
                                            "us": {"owners": ["x", "REP@example.com"]}}})
    assert errors == [("teams", "teams.us.owners[1] is already in team 'emea': an owner works to one calendar")]
    assert "example" not in repr(errors)


def test_defaults_are_a_monday_to_friday_nine_to_five_in_utc() -> None:
    spec = SlaSpec(hours=4)
    assert calendar_for(spec, None) == BusinessCalendar("UTC")
    assert spec.allowed_ms == 4 * H and spec.due_soon_ms == 0
