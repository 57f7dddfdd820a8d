"""The handoff SLA (issue 17): an MQL must get a first sales touch within `hours` working hours.

`SlaSpec` is the `[sla]` table of `mappings/scoring.toml`:

```toml
[sla]
hours = 8                      # working hours from the MQL to the first sales touch
due_soon_hours = 2             # "due soon" once this much working time is left
time_zone = "Europe/Berlin"
working_days = ["mon", "tue", "wed", "thu", "fri"]   # or full names: "monday"
working_hours = ["09:00-12:00", "13:00-17:00"]
holidays = [2026-12-25, 2026-12-26]

[sla.teams.us]                 # owners in a team work to its calendar; keys left out are inherited
owners = ["005000000000001", "rep@example.com"]
time_zone = "America/New_York"
holidays = [2026-11-26]        # a team's list replaces the top-level one
```

The clock is judged by working time alone, so a state never contradicts the time it reports:

- **met**: the first touch came after at most `hours` of working time (`working_ms_taken` says how much);
  a call at 17:30 on a clock due at 17:00 took no more working time than allowed, so it is met.
- **breached**: more than `hours` of working time passed without a touch; a late touch leaves the clock
  breached and records the working time it took (there is no separate "met late").
- **due_soon**: no touch yet and at most `due_soon_hours` of working time left (0 left included).
- **on_time**: no touch yet and more than that left.

`due_at` is the earliest instant the allowance runs out (what a rep is shown); the clock breaches at the
first working millisecond after it.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import date, time
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:  # a type only: the scoring model imports this module, so it imports nothing of scoring
    from ..score.timeline import Touch
from .workhours import HOUR_MS, BusinessCalendar, add_working_ms, format_interval, parse_interval, working_ms_between

__all__ = ["SLA_KINDS", "WEEKDAYS", "SlaResult", "SlaSpec", "SlaState", "TeamSpec", "calendar_for",
           "first_sales_touch", "sla_state", "team_of"]

#: what counts as a sales touch for the SLA: a logged call, meeting, e-mail or task (a note is not contact)
SLA_KINDS: frozenset[str] = frozenset({"call", "meeting", "email", "task"})
#: weekday names as the file spells them, in `date.weekday()` order
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_FULL_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

SlaState = Literal["on_time", "due_soon", "breached", "met"]


def _check_zone(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise PydanticCustomError(
            "time_zone", "unknown time zone '{name}': use an IANA name such as 'Europe/Berlin' or "
            "'America/New_York'", {"name": value}) from None
    return value


def _check_days(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if not value:
        raise PydanticCustomError("working_days", "no working days: name at least one, e.g. ['mon', 'tue']")
    out: list[str] = []
    for raw in value:
        key = raw.strip().lower()
        if key in _FULL_DAYS:
            key = key[:3]
        if key not in WEEKDAYS:
            raise PydanticCustomError("working_days", "unknown weekday '{day}': use {names}",
                                      {"day": raw, "names": ", ".join(WEEKDAYS)})
        if key not in out:
            out.append(key)
    return out


def _check_hours(value: list[str] | None) -> list[str] | None:
    if value is None:
        return None
    if not value:
        raise PydanticCustomError("working_hours", "no working hours: give at least one, e.g. ['09:00-17:00']")
    intervals: list[tuple[time, time]] = []
    for text in value:
        try:
            intervals.append(parse_interval(text))
        except ValueError as exc:
            raise PydanticCustomError("working_hours", "{why}", {"why": str(exc)}) from None
    ordered = sorted(intervals, key=lambda iv: iv[0])
    for (s1, e1), (s2, e2) in zip(ordered, ordered[1:], strict=False):
        if e1 == time(0) or s2 < e1:
            raise PydanticCustomError("working_hours", "working hours {a} and {b} overlap: make them separate",
                                      {"a": format_interval(s1, e1), "b": format_interval(s2, e2)})
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TeamSpec(_Strict):
    """One owner team's calendar: each key given replaces the top-level one, keys left out are inherited."""

    owners: list[str] = Field(min_length=1)
    time_zone: str | None = None
    working_days: list[str] | None = None
    working_hours: list[str] | None = None
    holidays: list[date] | None = None

    _zone = field_validator("time_zone")(_check_zone)
    _days = field_validator("working_days")(_check_days)
    _hours = field_validator("working_hours")(_check_hours)

    @field_validator("owners")
    @classmethod
    def _owners(cls, value: list[str]) -> list[str]:
        if any(not o.strip() for o in value):
            raise PydanticCustomError("owners", "an owner is blank: give owner ids or e-mail addresses")
        return value


class SlaSpec(_Strict):
    """The `[sla]` table (see the module docstring)."""

    hours: float = Field(gt=0, allow_inf_nan=False)
    due_soon_hours: float = Field(default=0, ge=0, allow_inf_nan=False)
    time_zone: str = "UTC"
    working_days: list[str] = Field(default_factory=lambda: list(WEEKDAYS[:5]))
    working_hours: list[str] = Field(default_factory=lambda: ["09:00-17:00"])
    holidays: list[date] = Field(default_factory=list)
    teams: dict[str, TeamSpec] = Field(default_factory=dict)

    _team_by_owner: dict[str, str] = PrivateAttr(default_factory=dict)
    #: each team's calendar ("" the top-level one), built once: a report asks for one per clock
    _calendars: dict[str, BusinessCalendar] = PrivateAttr(default_factory=dict)

    _zone = field_validator("time_zone")(_check_zone)
    _days = field_validator("working_days")(_check_days)
    _hours = field_validator("working_hours")(_check_hours)

    @field_validator("due_soon_hours")
    @classmethod
    def _soon(cls, value: float, info: ValidationInfo) -> float:
        hours = info.data.get("hours")
        if hours is not None and value > hours:
            raise PydanticCustomError("due_soon_hours", "due_soon_hours ({soon}) must not exceed hours ({hours})",
                                      {"soon": value, "hours": hours})
        return value

    @field_validator("teams")
    @classmethod
    def _teams(cls, value: dict[str, TeamSpec]) -> dict[str, TeamSpec]:
        seen: dict[str, str] = {}
        for name, team in value.items():
            if not name.strip():
                raise PydanticCustomError("teams", "a team name is blank")
            for i, owner in enumerate(team.owners):
                other = seen.setdefault(_owner_key(owner), name)
                if other != name:  # the owner is not named: it may be an e-mail address
                    raise PydanticCustomError(
                        "teams", "teams.{team}.owners[{i}] is already in team '{other}': an owner works to one "
                        "calendar", {"team": name, "i": i, "other": other})
        return value

    def model_post_init(self, context: Any, /) -> None:
        self._team_by_owner = {_owner_key(o): name for name, team in self.teams.items() for o in team.owners}

    @property
    def allowed_ms(self) -> int:
        """The working time an MQL has before its first sales touch, in milliseconds."""
        return round(self.hours * HOUR_MS)

    @property
    def due_soon_ms(self) -> int:
        return round(self.due_soon_hours * HOUR_MS)


def _owner_key(owner: str) -> str:
    """Owner ids and e-mail addresses match ignoring case and surrounding space."""
    return owner.strip().casefold()


@lru_cache(maxsize=256)
def _calendar(zone: str, days: frozenset[int], hours: tuple[tuple[time, time], ...],
              holidays: frozenset[date]) -> BusinessCalendar:
    """One instance per distinct calendar, so the days it computed are reused from person to person."""
    return BusinessCalendar(zone, days, hours, holidays)


def team_of(spec: SlaSpec, owner: str | None) -> str | None:
    """The team `owner` (an owner id or e-mail address) belongs to, or None."""
    return None if owner is None else spec._team_by_owner.get(_owner_key(owner))


def calendar_for(spec: SlaSpec, owner: str | None = None) -> BusinessCalendar:
    """The calendar `owner`'s clock runs on: their team's, or the top-level one."""
    name = team_of(spec, owner) or ""
    known = spec._calendars.get(name)
    if known is None:
        known = spec._calendars[name] = _team_calendar(spec, name)
    return known


def _team_calendar(spec: SlaSpec, name: str) -> BusinessCalendar:
    team = spec.teams.get(name)
    zone = (team.time_zone if team else None) or spec.time_zone
    days = (team.working_days if team else None) or spec.working_days
    hours = (team.working_hours if team else None) or spec.working_hours
    holidays = team.holidays if team and team.holidays is not None else spec.holidays
    return _calendar(zone, frozenset(WEEKDAYS.index(d) for d in days),
                     tuple(parse_interval(h) for h in hours), frozenset(holidays))


@dataclass(frozen=True, slots=True)
class SlaResult:
    """One MQL's clock at one moment. Times are epoch milliseconds UTC; durations are working time."""

    state: SlaState
    due_at: int  # the earliest instant the allowance runs out
    touched_at: int | None  # the first sales touch, when there was one by `now`
    working_ms_taken: int | None  # MQL to that touch (met, or breached with a late touch)
    working_ms_left: int  # allowance left at the touch, or now; 0 once used up
    next_change_at: int | None  # when the state changes if no touch comes (on_time, due_soon); else None
    team: str | None  # the owner's team whose calendar ran the clock


def sla_state(spec: SlaSpec, mql_at: int, first_touch_at: int | None, now: int,
              owner: str | None = None) -> SlaResult:
    """The SLA clock of an MQL at `mql_at` as of `now`, run on `owner`'s calendar. A touch after `now` has
    not happened yet (the state as it stood at `now`); a touch before the MQL is a caller's mistake."""
    if first_touch_at is not None and first_touch_at < mql_at:
        raise ValueError("the first sales touch must be at or after the MQL")
    cal = calendar_for(spec, owner)
    allowed, soon = spec.allowed_ms, spec.due_soon_ms
    due_at = add_working_ms(cal, mql_at, allowed)
    team = team_of(spec, owner)
    if first_touch_at is not None and first_touch_at <= now:
        taken = working_ms_between(cal, mql_at, first_touch_at)
        return SlaResult("met" if taken <= allowed else "breached", due_at, first_touch_at, taken,
                         max(0, allowed - taken), None, team)
    elapsed = working_ms_between(cal, mql_at, now)
    left = max(0, allowed - elapsed)
    if elapsed > allowed:
        return SlaResult("breached", due_at, None, None, 0, None, team)
    breach_at = add_working_ms(cal, mql_at, allowed + 1)
    if left <= soon:
        return SlaResult("due_soon", due_at, None, None, left, breach_at, team)
    return SlaResult("on_time", due_at, None, None, left, add_working_ms(cal, mql_at, allowed - soon), team)


def first_sales_touch(touches: Iterable[Touch], mql_at: int,
                      owners_of_team: Collection[str] | None = None) -> Touch | None:
    """The first call, meeting, e-mail or task (`SLA_KINDS`; notes do not count) at or after `mql_at`, by one
    of `owners_of_team` when given (matched ignoring case; a touch with no owner then does not count)."""
    owners = None if owners_of_team is None else {_owner_key(o) for o in owners_of_team}
    best: Touch | None = None
    for t in touches:
        if t.kind not in SLA_KINDS or t.at < mql_at:
            continue
        if owners is not None and (t.owner is None or _owner_key(t.owner) not in owners):
            continue
        if best is None or (t.at, t.system, t.source_id) < (best.at, best.system, best.source_id):
            best = t
    return best
