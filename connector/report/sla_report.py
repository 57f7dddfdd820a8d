"""The SLA report: which MQLs got their first sales touch in time, who breached and when, how long the first
touch took, and which clocks are about to breach.

Definitions (the same clock both systems show, `connector.report.sla`):

- Each transition to MQL in the period is one clock (a re-MQL after a recycle starts another). A clock ends
  at the person's next MQL: the touches from then on belong to the new clock, and a clock that had neither
  been touched nor breached by then is counted as *ended* (not met, not breached, not due).
- The first sales touch is the first call, meeting, e-mail or task in either system at or after the MQL,
  as the scorer reads it. The clock runs on the calendar of the person's owner (their team's, if any).
- Each clock is counted under the owner who held it: for a breach, the owner at the moment it breached
  (a lead reassigned mid-clock keeps its clock, and the breach stays with whoever let it lapse); for a met
  clock, the owner at the first touch; for an ended one, at its end; for a running one, the current owner.
  Owners come from the store's owner history (`field_history`: each value of the unified `owner` from the
  time of the record that set it); before the first recorded value, the first one counts, and a person with
  no history counts under the current owner.
- The week is the ISO week of the MQL in the `[sla]` time zone.
- The median working time to the first touch is over the clocks that got one (met, and breached with a
  late touch), in working hours; a breach rate is breached over met plus breached.
- The due-soon list names people by person id only (no names, no e-mail addresses).

`sla()` is pure (plain rows in, a JSON-ready dict out); `sla_report()` reads them from the store.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from ..score.timeline import Touch
from .render import iso
from ..store.reports import Move
from .sla import SLA_KINDS, SlaSpec, first_sales_touch, sla_state
from .workhours import HOUR_MS

__all__ = ["STATES", "owner_at", "sla", "sla_report", "settings", "tables"]

#: the states a clock is counted in, in the order the report lists them
STATES = ("met", "breached", "on_time", "due_soon", "ended")


@dataclass(frozen=True, slots=True)
class _Clock:
    person_id: str
    #: who held the clock (see the module's definitions)
    owner: str
    current_owner: str
    week: str
    state: str
    due_at: int
    taken_ms: int | None
    left_ms: int


def _week(ms: int, zone: str) -> str:
    year, week, _ = datetime.fromtimestamp(ms / 1000, ZoneInfo(zone)).isocalendar()
    return f"{year}-W{week:02d}"


def _hours(ms: float) -> float:
    return round(ms / HOUR_MS, 2)


def _median_hours(clocks: Sequence[_Clock]) -> float | None:
    taken = [c.taken_ms for c in clocks if c.taken_ms is not None]
    return _hours(statistics.median(taken)) if taken else None


def _counts(clocks: Sequence[_Clock]) -> dict[str, Any]:
    counts = {s: sum(1 for c in clocks if c.state == s) for s in STATES}
    decided = counts["met"] + counts["breached"]
    return {"clocks": len(clocks), **counts,
            "breach_rate": round(counts["breached"] / decided, 4) if decided else None,
            "median_hours_to_first_touch": _median_hours(clocks)}


def owner_at(history: Sequence[tuple[int, str | None]], at: int, current: str | None) -> str | None:
    """The owner at `at` from a person's owner history (`(since, owner)` in time order): the last value set at
    or before it; the first value before any; `current` without a history."""
    if not history:
        return current
    held = history[0][1]
    for since, owner in history:
        if since > at:
            break
        held = owner
    return held


def _clocks(mqls: Iterable[Move], owners: Mapping[str, str | None], touches: Mapping[str, Sequence[Touch]],
            spec: SlaSpec, since_ms: int, now_ms: int,
            history: Mapping[str, Sequence[tuple[int, str | None]]]) -> list[_Clock]:
    starts: dict[str, list[int]] = {}
    for m in mqls:
        if m.to_status == "MQL" and since_ms <= m.at <= now_ms:
            starts.setdefault(m.person_id, []).append(m.at)
    out = []
    for pid, ats in sorted(starts.items()):
        owner = owners.get(pid)
        ats = sorted(set(ats))
        for i, mql_at in enumerate(ats):
            end = ats[i + 1] if i + 1 < len(ats) else None
            mine = [t for t in touches.get(pid, ()) if end is None or t.at < end]
            touch = first_sales_touch(mine, mql_at)
            clock = sla_state(spec, mql_at, touch.at if touch else None, now_ms if end is None else end, owner)
            state = "ended" if end is not None and clock.state in ("on_time", "due_soon") else clock.state
            held_at = {"breached": clock.due_at, "met": touch.at if touch else now_ms, "ended": end}.get(state)
            holder = owner if held_at is None else owner_at(history.get(pid, ()), held_at, owner)
            out.append(_Clock(pid, holder or "(none)", owner or "(none)", _week(mql_at, spec.time_zone), state,
                              clock.due_at, clock.working_ms_taken, clock.working_ms_left))
    return out


def settings(spec: SlaSpec) -> dict[str, Any]:
    """The `[sla]` settings the report used (teams by name and time zone; their owners are not listed)."""
    return {"hours": spec.hours, "due_soon_hours": spec.due_soon_hours, "time_zone": spec.time_zone,
            "working_days": list(spec.working_days), "working_hours": list(spec.working_hours),
            "holidays": [d.isoformat() for d in spec.holidays],
            "teams": [{"team": name, "time_zone": team.time_zone or spec.time_zone, "owners": len(team.owners)}
                      for name, team in sorted(spec.teams.items())]}


def sla(mqls: Iterable[Move], owners: Mapping[str, str | None], touches: Mapping[str, Sequence[Touch]],
        spec: SlaSpec, since_ms: int, now_ms: int,
        history: Mapping[str, Sequence[tuple[int, str | None]]] | None = None) -> dict[str, Any]:
    """The SLA clocks of the MQLs at or after `since_ms`, as of `now_ms` (see the module's definitions).
    `owners` holds each person's current owner, `touches` their timeline, `history` their owner history."""
    clocks = _clocks(mqls, owners, touches, spec, since_ms, now_ms, history or {})
    by_owner: dict[str, list[_Clock]] = {}
    by_week: dict[str, list[_Clock]] = {}
    for c in clocks:
        by_owner.setdefault(c.owner, []).append(c)
        by_week.setdefault(c.week, []).append(c)
    due = sorted((c for c in clocks if c.state == "due_soon"), key=lambda c: (c.due_at, c.person_id))
    breaches = sorted((c for c in clocks if c.state == "breached"), key=lambda c: (c.due_at, c.person_id))
    return {"sla": settings(spec), **_counts(clocks),
            "by_owner": [{"owner": o, **_counts(cs)} for o, cs in sorted(by_owner.items())],
            "breach_list": [{"person_id": c.person_id, "breached_at": iso(c.due_at), "held_by": c.owner,
                             "owner_now": c.current_owner} for c in breaches],
            "by_week": [{"week": w, **_counts(cs)} for w, cs in sorted(by_week.items())],
            "due_soon_list": [{"person_id": c.person_id, "owner": c.owner, "due_at": iso(c.due_at),
                               "working_hours_left": _hours(c.left_ms)} for c in due]}


def sla_report(engine: Any, spec: SlaSpec, since_ms: int, now_ms: int | None = None) -> dict[str, Any]:
    """The SLA report from the store: with its period, SLA settings, model versions and data freshness."""
    from ..store.reports import data_as_of, field_history, model_versions_of, mqls_since, person_fields, touches_of

    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    mqls = mqls_since(engine, since_ms)
    people = sorted({m.person_id for m in mqls})
    owners = {pid: (None if f.get("owner") in (None, "") else str(f["owner"]))
              for pid, f in person_fields(engine, people, ("owner",)).items()}
    history = {pid: [(since, None if v in (None, "") else str(v)) for since, v in values]
               for pid, values in field_history(engine, people, "owner").items()}
    body = sla(mqls, owners, touches_of(engine, people, SLA_KINDS), spec, since_ms, now_ms, history)
    return {"kind": "sla", "period": {"since": iso(since_ms), "until": iso(now_ms)},
            "models": model_versions_of(engine, {m.model_hash for m in mqls}),
            "data_as_of": iso(data_as_of(engine)), **body}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _dash(value: Any) -> Any:
    return "-" if value is None else value


def _count_cells(r: Mapping[str, Any]) -> list[Any]:
    return [r["clocks"], *(r[s] for s in STATES), _pct(r["breach_rate"]), _dash(r["median_hours_to_first_touch"])]


def tables(report: Mapping[str, Any]) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """The report as (name, title, headers, rows) tables: for the terminal, CSV and HTML alike."""
    counts = ["clocks", "met", "breached", "on time", "due soon", "ended", "breach rate",
              "median working hours to first touch"]
    return [
        ("clocks", "All clocks", counts, [_count_cells(report)]),
        ("by_owner", "By owner (who held each clock)", ["owner", *counts], [[r["owner"], *_count_cells(r)]
                                                                          for r in report["by_owner"]]),
        ("by_week", "By ISO week of the MQL", ["week", *counts], [[r["week"], *_count_cells(r)]
                                                                  for r in report["by_week"]]),
        ("breaches", "Breaches: who held the clock", ["person id", "breached at", "held by", "owner now"],
         [[r["person_id"], r["breached_at"], r["held_by"], r["owner_now"]] for r in report["breach_list"]]),
        ("due_soon", "Due soon", ["person id", "owner", "due at", "working hours left"],
         [[r["person_id"], r["owner"], r["due_at"], float(r["working_hours_left"])] for r in report["due_soon_list"]]),
    ]
