"""The funnel report: how many people reached each stage, how many went on, how long they stayed, and
the revenue they won; overall and by lead source, owner and month.

Definitions (one each, so both teams read the same figure):

- The cohort is the people whose first funnel stage (MQL or later) was reached in the period; their month
  is the month of that first stage (their first MQL, for everyone who became one).
- A person *reached* a stage when a transition took them to it or to a later one: a Lead that sales
  qualified straight away (Lead -> SQL) passed MQL and SAL too. Recycled and Disqualified are not stages.
- Conversion is the share of the people who reached a stage who reached the next one.
- Time in stage is from the first entry into the stage to the first entry into a later one, for the
  people who moved on (median, in days).
- Won revenue is the sum of the amounts of the won Opportunities and deals of the cohort, each counted
  once (a deal synced as an Opportunity counts as the Opportunity).

`funnel()` is pure (plain rows in, a JSON-ready dict out); `funnel_report()` reads them from the store.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from .render import iso
from ..store.reports import Deal, Move

__all__ = ["STAGES", "funnel", "funnel_report", "tables"]

STAGES = ("MQL", "SAL", "SQL", "Opportunity", "Customer")
_RANK = {s: i for i, s in enumerate(STAGES)}
GROUPS = ("lead_source", "owner", "month")
_DAY_MS = 86_400_000


def _month(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m")


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _entries(moves: Iterable[Move]) -> dict[str, dict[int, int]]:
    """person -> stage rank -> when they first entered it."""
    out: dict[str, dict[int, int]] = {}
    for m in moves:
        rank = _RANK.get(m.to_status)
        if rank is None:
            continue
        first = out.setdefault(m.person_id, {})
        if rank not in first or m.at < first[rank]:
            first[rank] = m.at
    return out


def _stage_rows(people: Sequence[str], entries: Mapping[str, Mapping[int, int]]) -> list[dict[str, Any]]:
    reached = [0] * len(STAGES)
    durations: list[list[float]] = [[] for _ in STAGES]
    for pid in people:
        first = entries[pid]
        for rank in range(max(first) + 1):
            reached[rank] += 1
        for rank, at in first.items():
            later = [t for r, t in first.items() if r > rank and t >= at]
            if later:
                durations[rank].append((min(later) - at) / _DAY_MS)
    return [{"stage": s, "people": reached[i],
             "conversion_from_previous": _rate(reached[i], reached[i - 1]) if i else None,
             "median_days_in_stage": round(statistics.median(durations[i]), 1) if durations[i] else None}
            for i, s in enumerate(STAGES)]


def _revenue(people: Iterable[str], deals: Sequence[Deal], deals_of: Mapping[str, Sequence[int]]
             ) -> tuple[float, int]:
    """The won amount and deals of `people`, each deal once (`deals_of`: person -> indexes into `deals`)."""
    won = {i for p in people for i in deals_of.get(p, ())}
    return round(sum(deals[i].amount for i in won), 2), len(won)


def funnel(moves: Iterable[Move], fields: Mapping[str, Mapping[str, Any]], deals: Sequence[Deal],
           since_ms: int) -> dict[str, Any]:
    """The funnel of the people whose first funnel stage is at or after `since_ms` (see the module's
    definitions). `fields` holds each person's lead_source and owner; `deals` their won deals."""
    entries = {p: e for p, e in _entries(moves).items() if e and min(e.values()) >= since_ms}
    cohort = sorted(entries)
    deals_of: dict[str, list[int]] = {}
    for index, deal in enumerate(deals):
        for pid in deal.people:
            deals_of.setdefault(pid, []).append(index)
    revenue, won = _revenue(cohort, deals, deals_of)
    groups: dict[str, dict[str, list[str]]] = {g: {} for g in GROUPS}
    for pid in cohort:
        first = entries[pid]
        values = {"lead_source": (fields.get(pid) or {}).get("lead_source"),
                  "owner": (fields.get(pid) or {}).get("owner"),
                  "month": _month(first.get(0, min(first.values())))}
        for g in GROUPS:
            groups[g].setdefault(str(values[g]) if values[g] not in (None, "") else "(none)", []).append(pid)
    by: dict[str, list[dict[str, Any]]] = {}
    for g in GROUPS:
        rows = []
        for value, members in sorted(groups[g].items()):
            stages = _stage_rows(members, entries)
            group_revenue, group_won = _revenue(members, deals, deals_of)
            rows.append({"group": value, "stages": {r["stage"]: r["people"] for r in stages},
                         "mql_to_customer": _rate(stages[-1]["people"], stages[0]["people"]),
                         "won_revenue": group_revenue, "won_deals": group_won})
        by[g] = rows
    return {"people": len(cohort), "stages": _stage_rows(cohort, entries), "won_revenue": revenue, "won_deals": won,
            "by": by}


def funnel_report(engine: Any, since_ms: int, now_ms: int | None = None) -> dict[str, Any]:
    """The funnel from the store: the report with its period, model versions and data freshness."""
    from ..store.reports import data_as_of, model_versions_of, moves_since, person_fields, won_deals

    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    moves = moves_since(engine, since_ms, whole_history=True)
    people = sorted({m.person_id for m in moves if m.to_status in _RANK})
    body = funnel(moves, person_fields(engine, people, ("lead_source", "owner")), won_deals(engine, people),
                  since_ms)
    return {"kind": "funnel", "period": {"since": iso(since_ms), "until": iso(now_ms)},
            "models": model_versions_of(engine, {m.model_hash for m in moves if m.at >= since_ms}),
            "data_as_of": iso(data_as_of(engine)), **body}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def tables(report: Mapping[str, Any]) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """The report as (name, title, headers, rows) tables: for the terminal, CSV and HTML alike."""
    out: list[tuple[str, str, list[str], list[list[Any]]]] = [(
        "stages", "Stages", ["stage", "people", "conversion", "median days in stage"],
        [[r["stage"], r["people"], _pct(r["conversion_from_previous"]),
          "-" if r["median_days_in_stage"] is None else r["median_days_in_stage"]] for r in report["stages"]])]
    for g in GROUPS:
        out.append((f"by_{g}", f"By {g.replace('_', ' ')}", [g, *STAGES, "MQL to Customer", "won revenue"],
                    [[r["group"], *(r["stages"][s] for s in STAGES), _pct(r["mql_to_customer"]),
                      float(r["won_revenue"])] for r in report["by"][g]]))
    return out
