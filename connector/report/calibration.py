"""The scoring calibration report: did the MQLs the model made turn out well, by score band, grade and rule,
why were people disqualified or recycled, and what threshold the figures suggest.

Definitions:

- Each transition to MQL in the period is one MQL (a re-MQL after a recycle is another), with the score
  the transition stored (the score at MQL time).
- Its outcome is what followed it before the person's next MQL: *accepted* when sales took it (SAL or
  any later stage), *SQL* at SQL or later, *won* at Customer.
- Grade and rules are the person's current ones (the store keeps the breakdown of the latest score).
  A rule's lift is the acceptance rate of the MQLs with the rule over that of the MQLs without it.
- The suggested MQL threshold is the lower bound of the lowest score band with at least `min_mqls` MQLs
  whose acceptance rate is at least the overall rate. It is a suggestion: nothing applies it.

`calibration()` is pure (plain rows in, a JSON-ready dict out); `calibration_report()` reads the store.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from .render import iso
from ..store.reports import Move

__all__ = ["calibration", "calibration_report", "tables", "BAND"]

BAND = 10
_ACCEPTED = frozenset({"SAL", "SQL", "Opportunity", "Customer"})
_SQL = frozenset({"SQL", "Opportunity", "Customer"})


def _rate(n: int, d: int) -> float | None:
    return round(n / d, 4) if d else None


def _rates(outcomes: list[tuple[bool, bool, bool]]) -> dict[str, Any]:
    n = len(outcomes)
    accepted, sql, won = (sum(1 for o in outcomes if o[i]) for i in range(3))
    return {"mqls": n, "accepted": accepted, "sql": sql, "won": won, "accepted_rate": _rate(accepted, n),
            "sql_rate": _rate(sql, n), "won_rate": _rate(won, n)}


def _band(score: int | None) -> tuple[int, str]:
    if score is None:
        return (10**9, "unknown")
    low = (score // BAND) * BAND
    return (low, f"{low}-{low + BAND - 1}")


def calibration(moves: Iterable[Move], scores: Mapping[str, tuple[str | None, tuple[str, ...]]], since_ms: int,
                min_mqls: int = 10) -> dict[str, Any]:
    """The calibration of the MQLs at or after `since_ms` (see the module's definitions). `moves` holds
    every transition from `since_ms` on, in time order per person; `scores` each person's current grade
    and rules."""
    by_person: dict[str, list[Move]] = {}
    for m in moves:
        by_person.setdefault(m.person_id, []).append(m)
    mqls: list[tuple[Move, tuple[bool, bool, bool]]] = []
    reasons: dict[str, Counter[str]] = {"Disqualified": Counter(), "Recycled": Counter()}
    for person_moves in by_person.values():
        person_moves.sort(key=lambda m: m.at)
        for i, m in enumerate(person_moves):
            if m.at < since_ms:
                continue
            if m.to_status in reasons:
                reasons[m.to_status][m.reason or "(none)"] += 1
            if m.to_status != "MQL":
                continue
            after: set[str] = set()
            for later in person_moves[i + 1:]:
                if later.to_status == "MQL":
                    break
                after.add(later.to_status)
            mqls.append((m, (bool(after & _ACCEPTED), bool(after & _SQL), "Customer" in after)))
    overall = _rates([o for _, o in mqls])
    bands: dict[tuple[int, str], list[tuple[bool, bool, bool]]] = {}
    grades: dict[str, list[tuple[bool, bool, bool]]] = {}
    rules: dict[str, list[int]] = {}
    for index, (m, outcome) in enumerate(mqls):
        bands.setdefault(_band(m.score), []).append(outcome)
        grade, person_rules = scores.get(m.person_id, (None, ()))
        grades.setdefault(grade or "(none)", []).append(outcome)
        for rule in person_rules:
            rules.setdefault(rule, []).append(index)
    by_band = [{"band": label, "from": low if label != "unknown" else None, **_rates(outcomes)}
               for (low, label), outcomes in sorted(bands.items())]
    by_rule = []
    for rule, indexes in sorted(rules.items()):
        having = set(indexes)
        with_rule = _rates([o for i, (_, o) in enumerate(mqls) if i in having])
        without = _rates([o for i, (_, o) in enumerate(mqls) if i not in having])
        lift = (round(with_rule["accepted_rate"] / without["accepted_rate"], 2)
                if with_rule["accepted_rate"] is not None and without["accepted_rate"] else None)
        by_rule.append({"rule": rule, "with": with_rule, "without": without, "lift": lift})
    return {
        "mqls": len(mqls), "overall": overall, "by_band": by_band,
        "by_grade": [{"grade": g, **_rates(o)} for g, o in sorted(grades.items())],
        "by_rule": by_rule,
        "disqualified": [{"reason": r, "people": n} for r, n in reasons["Disqualified"].most_common()],
        "recycled": [{"reason": r, "people": n} for r, n in reasons["Recycled"].most_common()],
        "suggested_threshold": _suggest(by_band, overall, min_mqls),
    }


def _suggest(by_band: list[dict[str, Any]], overall: dict[str, Any], min_mqls: int) -> dict[str, Any]:
    base = overall["accepted_rate"]
    out: dict[str, Any] = {"applied": False, "min_mqls_per_band": min_mqls, "overall_accepted_rate": base}
    for band in by_band:
        if band["from"] is None or band["mqls"] < min_mqls or base is None:
            continue
        if band["accepted_rate"] >= base:
            kept = [b for b in by_band if b["from"] is not None and b["from"] >= band["from"]]
            mqls, accepted = sum(b["mqls"] for b in kept), sum(b["accepted"] for b in kept)
            return {**out, "score": band["from"], "band": band["band"], "mqls_at_or_above": mqls,
                    "accepted_rate_at_or_above": _rate(accepted, mqls),
                    "evidence": f"band {band['band']}: {band['accepted']} of {band['mqls']} MQLs accepted "
                                f"({band['accepted_rate'] * 100:.1f}%), at least the overall "
                                f"{base * 100:.1f}% of {overall['mqls']} MQLs; a suggestion, never applied"}
    return {**out, "score": None, "band": None, "mqls_at_or_above": None, "accepted_rate_at_or_above": None,
            "evidence": f"no score band has {min_mqls} or more MQLs with an acceptance rate at least the overall "
                        "rate: not enough evidence for a suggestion"}


def calibration_report(engine: Any, since_ms: int, now_ms: int | None = None, min_mqls: int = 10
                       ) -> dict[str, Any]:
    """The calibration from the store: the report with its period, model versions and data freshness."""
    from ..store.reports import current_scores, data_as_of, model_versions_of, moves_since

    now_ms = int(time.time() * 1000) if now_ms is None else now_ms
    moves = moves_since(engine, since_ms, whole_history=False)
    mql_people = sorted({m.person_id for m in moves if m.to_status == "MQL"})
    body = calibration(moves, current_scores(engine, mql_people), since_ms, min_mqls)
    return {"kind": "scoring", "period": {"since": iso(since_ms), "until": iso(now_ms)},
            "models": model_versions_of(engine, {m.model_hash for m in moves}),
            "data_as_of": iso(data_as_of(engine)), **body}


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value * 100:.1f}%"


def _rate_cells(r: Mapping[str, Any]) -> list[Any]:
    return [r["mqls"], _pct(r["accepted_rate"]), _pct(r["sql_rate"]), _pct(r["won_rate"])]


def tables(report: Mapping[str, Any]) -> list[tuple[str, str, list[str], list[list[Any]]]]:
    """The report as (name, title, headers, rows) tables: for the terminal, CSV and HTML alike."""
    rates = ["MQLs", "accepted", "SQL", "won"]
    s = report["suggested_threshold"]
    return [
        ("overall", "All MQLs", rates, [_rate_cells(report["overall"])]),
        ("by_band", "By score band at MQL time", ["band", *rates], [[r["band"], *_rate_cells(r)]
                                                                    for r in report["by_band"]]),
        ("by_grade", "By grade (current)", ["grade", *rates], [[r["grade"], *_rate_cells(r)]
                                                               for r in report["by_grade"]]),
        ("by_rule", "By rule (current breakdown)", ["rule", "MQLs with", "accepted with", "MQLs without",
                                                    "accepted without", "lift"],
         [[r["rule"], r["with"]["mqls"], _pct(r["with"]["accepted_rate"]), r["without"]["mqls"],
           _pct(r["without"]["accepted_rate"]), "-" if r["lift"] is None else r["lift"]] for r in report["by_rule"]]),
        ("disqualified", "Disqualification reasons", ["reason", "people"],
         [[r["reason"], r["people"]] for r in report["disqualified"]]),
        ("recycled", "Recycle reasons", ["reason", "people"], [[r["reason"], r["people"]] for r in report["recycled"]]),
        ("suggested_threshold", "Suggested MQL threshold (a suggestion: never applied)",
         ["score", "evidence"], [["-" if s["score"] is None else s["score"], s["evidence"]]]),
    ]
