"""Backtest (pure): replay the stored timeline under the current and a new model, side by side.

Before a change to `scoring.toml` goes live, both teams see what it would have done: MQLs per month, how
many of those MQLs sales accepted, qualified and won, and the people whose status would be different. The
replay walks time forward for each person with the same functions the live path uses (`score_person`,
`signals_of`, `advance`, and `decide`'s rule that a recycle scores again from the reset), evaluating at:
the start of the period (everything before it, with no prior: where the person stands when the period
opens), each touch in the period, each sales signal in it (lead status set, conversion, opportunity
opened, won, lost), when an idle MQL falls due for recycling (as the live path's `next_check_at` would
look again), and the end. No I/O here: the store reader builds the `PersonHistory`s, the CLI prints.

`BacktestReport.to_json()` is one JSON object:

    period        {"start_ms", "end_ms", "start", "end"}: the replayed period (ISO-8601 UTC for reading)
    people        how many people were replayed
    models        {"current": {"version", "hash"}, "new": {"version", "hash"}}
    months        [{"month": "YYYY-MM", "current": FUNNEL, "new": FUNNEL}], every calendar month (UTC) of
                  the period, oldest first, months without an MQL included
    totals        {"current": FUNNEL, "new": FUNNEL}: the whole period
    changed       {"total": n, "people": [{"person_id", "current_status", "new_status", "current_score",
                  "new_score"}]}: people whose status at the end differs, by person id, the first 100
    notes         [text]: what the replay cannot know (read them before trusting the figures)

    FUNNEL        {"mqls", "accepted", "sql", "won", "accepted_rate", "sql_rate", "won_rate"}: MQL
                  transitions in the month (re-MQLs counted), how many of those MQLs then reached SAL or
                  beyond / SQL or beyond (SQL, Opportunity, Customer) / Customer by the end of the period,
                  and each count / mqls rounded to 4 places (null when there was no MQL)
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from .model import RANK, ScoringModel
from .scorer import ScoreResult, score_person
from .signals import LinkedRecord, signals_of
from .status import Opportunities, Signals, StatusState, Transition, advance
from .timeline import Touch

__all__ = ["BacktestReport", "Changed", "Funnel", "PersonHistory", "Replay", "Side", "backtest", "render_html",
           "render_text", "replay"]

#: changed people kept in the report (the total is counted beyond it)
CHANGED_KEPT = 100
#: changed people shown by `render_text`
_TEXT_ROWS = 20

NOTES: tuple[str, ...] = (
    "Fit uses today's field values: no history of fields is kept, so a title or company size that changed "
    "during the period counts as it is now.",
    "Sales feedback is the lead status as it stands today, counted from when it was set; earlier statuses "
    "of the same Lead are not kept. Opportunities are read as they stand today: an open one counts from "
    "its creation, a closed one from its close only (it is not seen as open before that).",
    "Each person is first scored at the start of the period from everything before it; MQLs before the "
    "period are not counted.",
    "An MQL counts as accepted, SQL or won when the person reached that status after it and before their "
    "next MQL, by the end of the period.",
)


@dataclass(frozen=True)
class PersonHistory:
    """What the store holds of one person: today's unified fields, records, every touch, opportunities."""

    person_id: str
    fields: Mapping[str, Any]
    records: tuple[LinkedRecord, ...]
    touches: tuple[Touch, ...]
    opportunities: tuple[LinkedRecord, ...]


@dataclass(frozen=True, slots=True)
class Replay:
    """One person replayed under one model: every transition (oldest first) and where they end."""

    person_id: str
    transitions: tuple[Transition, ...]
    state: StatusState
    result: ScoreResult  # the score at the end of the period
    evaluations: int  # how many times the person was scored

    @property
    def score(self) -> int:
        return self.result.score


def _signals_at(final: Signals, t: int) -> Signals:
    """Sales feedback as known at `t`: what today's signals say had happened by then."""
    status = final.lead_status if final.lead_status is not None and final.lead_status[2] <= t else None
    converted = final.converted_at if final.converted_at is not None and final.converted_at <= t else None
    o = final.opportunities
    opp = Opportunities(
        open_since=o.open_since if o.open_since is not None and o.open_since <= t else None,
        won_at=o.won_at if o.won_at is not None and o.won_at <= t else None,
        lost_at=o.lost_at if o.lost_at is not None and o.lost_at <= t else None,
        system=o.system, source_id=o.source_id)
    if status == final.lead_status and converted == final.converted_at and opp == o:
        return final
    return replace(final, lead_status=status, reason=final.reason if status is not None else None,
                   converted_at=converted, opportunities=opp)


def _signal_times(signals: Signals) -> list[int]:
    o = signals.opportunities
    times = [signals.lead_status[2]] if signals.lead_status is not None else []
    times += [t for t in (signals.converted_at, o.open_since, o.won_at, o.lost_at) if t is not None]
    return times


def _recycle_due(model: ScoringModel, state: StatusState, result: ScoreResult) -> int | None:
    """When an unaccepted MQL has been idle long enough to recycle (what `decide` schedules a look for)."""
    if state.status != "MQL" or model.recycle_inactive_ms is None or state.mql_at is None:
        return None
    return max(state.mql_at, result.last_touch_at or 0) + model.recycle_inactive_ms + 1


def replay(model: ScoringModel, person: PersonHistory, start_ms: int, end_ms: int) -> Replay:
    """Walk time forward for one person over [start_ms, end_ms] under `model`, as the live path would
    have scored them: first at the start with no prior, then at each touch and sales signal, at the end."""
    if start_ms > end_ms:
        raise ValueError("the period starts after it ends")
    fields, touches = person.fields, person.touches
    final = signals_of(model, person.records, person.opportunities)
    times = sorted({start_ms, end_ms, *(t.at for t in touches if start_ms < t.at < end_ms),
                    *(t for t in _signal_times(final) if start_ms < t < end_ms)})
    state: StatusState | None = None
    result: ScoreResult | None = None
    transitions: list[Transition] = []
    due: int | None = None
    evaluations = i = 0
    while i < len(times):
        now = times[i]
        if due is not None and due < now:
            now = due
        else:
            i += 1
        since = state.reset_at if state is not None else None
        result = score_person(model, fields, touches, now, since)
        signals = _signals_at(final, now)
        new_state, moves = advance(model, state, result, signals, touches, now)
        if new_state.reset_at != since:  # recycled just now: engagement restarts from the recycle
            result = score_person(model, fields, touches, now, new_state.reset_at)
            new_state, more = advance(model, new_state, result, signals, touches, now)
            moves += more
        state = new_state
        transitions += moves
        evaluations += 1
        due = _recycle_due(model, state, result)
        if due is not None and not now < due <= end_ms:
            due = None
    assert state is not None and result is not None  # `times` holds start_ms at least
    return Replay(person.person_id, tuple(transitions), state, result, evaluations)


# ---------------------------------------------------------------- the report


@dataclass(frozen=True, slots=True)
class Funnel:
    """MQLs in a month (or the period) and how many of them went on to SAL+, SQL+ and Customer."""

    mqls: int = 0
    accepted: int = 0
    sql: int = 0
    won: int = 0

    def rate(self, count: int) -> float | None:
        return round(count / self.mqls, 4) if self.mqls else None

    def to_json(self) -> dict[str, Any]:
        return {"mqls": self.mqls, "accepted": self.accepted, "sql": self.sql, "won": self.won,
                "accepted_rate": self.rate(self.accepted), "sql_rate": self.rate(self.sql),
                "won_rate": self.rate(self.won)}


@dataclass(frozen=True, slots=True)
class Side:
    """One model's figures: which model, each month's funnel (in `BacktestReport.months` order), the total."""

    version: int
    model_hash: str
    months: tuple[Funnel, ...]
    total: Funnel


@dataclass(frozen=True, slots=True)
class Changed:
    person_id: str
    current_status: str
    new_status: str
    current_score: int
    new_score: int

    def to_json(self) -> dict[str, Any]:
        return {"person_id": self.person_id, "current_status": self.current_status, "new_status": self.new_status,
                "current_score": self.current_score, "new_score": self.new_score}


@dataclass(frozen=True, slots=True)
class BacktestReport:
    start_ms: int
    end_ms: int
    people: int
    months: tuple[str, ...]  # "YYYY-MM", every calendar month (UTC) of the period
    current: Side
    new: Side
    changed: tuple[Changed, ...]  # by person id, the first CHANGED_KEPT
    changed_total: int
    notes: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """The report as one JSON object (the keys are in the module docstring)."""
        return {
            "period": {"start_ms": self.start_ms, "end_ms": self.end_ms, "start": _iso(self.start_ms),
                       "end": _iso(self.end_ms)},
            "people": self.people,
            "models": {"current": {"version": self.current.version, "hash": self.current.model_hash},
                       "new": {"version": self.new.version, "hash": self.new.model_hash}},
            "months": [{"month": m, "current": c.to_json(), "new": n.to_json()}
                       for m, c, n in zip(self.months, self.current.months, self.new.months, strict=True)],
            "totals": {"current": self.current.total.to_json(), "new": self.new.total.to_json()},
            "changed": {"total": self.changed_total, "people": [c.to_json() for c in self.changed]},
            "notes": list(self.notes),
        }


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def _iso(ms: int) -> str:
    return _utc(ms).strftime("%Y-%m-%dT%H:%M:%SZ")


def _month(ms: int) -> str:
    return _utc(ms).strftime("%Y-%m")


def _months(start_ms: int, end_ms: int) -> tuple[str, ...]:
    first, last = _utc(start_ms), _utc(end_ms)
    out: list[str] = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(out)


class _Tally:
    """Counts [mqls, accepted, sql, won] per month for one model."""

    def __init__(self, months: tuple[str, ...]) -> None:
        self.counts: dict[str, list[int]] = {m: [0, 0, 0, 0] for m in months}

    def add(self, r: Replay, start_ms: int, end_ms: int) -> None:
        moves = r.transitions
        for i, t in enumerate(moves):
            if t.to_status != "MQL" or not start_ms <= t.at <= end_ms:
                continue
            best, won = 0, False
            for later in moves[i + 1:]:
                if later.to_status == "MQL":
                    break  # what follows belongs to the next MQL
                best = max(best, RANK[later.to_status])
                won = won or later.to_status == "Customer"
            row = self.counts[_month(t.at)]
            row[0] += 1
            row[1] += best >= RANK["SAL"]
            row[2] += best >= RANK["SQL"]
            row[3] += won

    def side(self, model: ScoringModel) -> Side:
        months = tuple(Funnel(*c) for c in self.counts.values())
        total = Funnel(*(sum(f[k] for f in self.counts.values()) for k in range(4)))
        return Side(model.version, model.model_hash, months, total)


def backtest(current: ScoringModel, new: ScoringModel, people: Iterable[PersonHistory], *, start_ms: int,
             end_ms: int) -> BacktestReport:
    """Replay every person under both models over [start_ms, end_ms] and compare what each would have done."""
    if start_ms > end_ms:
        raise ValueError("the period starts after it ends")
    months = _months(start_ms, end_ms)
    cur_tally, new_tally = _Tally(months), _Tally(months)
    changed: list[Changed] = []
    count = 0
    for person in people:
        count += 1
        a = replay(current, person, start_ms, end_ms)
        b = replay(new, person, start_ms, end_ms)
        cur_tally.add(a, start_ms, end_ms)
        new_tally.add(b, start_ms, end_ms)
        if a.state.status != b.state.status:
            changed.append(Changed(person.person_id, a.state.status, b.state.status, a.score, b.score))
    changed.sort(key=lambda c: c.person_id)
    return BacktestReport(start_ms, end_ms, count, months, cur_tally.side(current), new_tally.side(new),
                          tuple(changed[:CHANGED_KEPT]), len(changed), NOTES)


# ---------------------------------------------------------------- rendering


def _pct(f: Funnel, count: int) -> str:
    rate = f.rate(count)
    return "—" if rate is None else f"{rate * 100:.0f}%"


def _cells(f: Funnel) -> list[str]:
    return [str(f.mqls), _pct(f, f.accepted), _pct(f, f.sql), _pct(f, f.won)]


def _model_name(side: Side) -> str:
    return f"v{side.version} ({side.model_hash})"


def render_text(report: BacktestReport) -> str:
    """The report as a terminal table: each month and the total under both models, then who changed."""
    head = ["Month", "MQLs", "Acc", "SQL", "Won", "MQLs", "Acc", "SQL", "Won"]
    rows = [[m, *_cells(c), *_cells(n)] for m, c, n in zip(report.months, report.current.months,
                                                            report.new.months, strict=True)]
    total = ["Total", *_cells(report.current.total), *_cells(report.new.total)]
    widths = [max(len(r[k]) for r in [head, *rows, total]) for k in range(len(head))]

    def line(cells: list[str]) -> str:
        left = cells[0].ljust(widths[0])
        cur = " ".join(c.rjust(w) for c, w in zip(cells[1:5], widths[1:5], strict=True))
        new = " ".join(c.rjust(w) for c, w in zip(cells[5:], widths[5:], strict=True))
        return f"{left}  {cur}  |  {new}"

    cur_w = sum(widths[1:5]) + 3
    out = [f"Backtest {_iso(report.start_ms)[:10]} to {_iso(report.end_ms)[:10]}: {report.people} people replayed",
           f"current model {_model_name(report.current)}, new model {_model_name(report.new)}",
           "MQLs per month; of those, the share accepted by sales, qualified (SQL) and won", "",
           f"{'':{widths[0]}}  {'current':<{cur_w}}  |  new", line(head), *[line(r) for r in rows], line(total), ""]
    out.append(f"Status would change for {report.changed_total} "
               f"{'person' if report.changed_total == 1 else 'people'}")
    shown = report.changed[:_TEXT_ROWS]
    if shown:
        pid_w = max(len("Person"), *(len(c.person_id) for c in shown))
        out.append(f"  {'Person':<{pid_w}}  {'Current':<22}  New")
        for c in shown:
            out.append(f"  {c.person_id:<{pid_w}}  {f'{c.current_status} ({c.current_score})':<22}  "
                       f"{c.new_status} ({c.new_score})")
        if report.changed_total > len(shown):
            out.append(f"  … and {report.changed_total - len(shown)} more")
    out += ["", "Notes:", *[f"- {n}" for n in report.notes]]
    return "\n".join(out) + "\n"


_CUR_COLOR, _NEW_COLOR = "#4e79a7", "#f28e2b"
_STYLE = """body{font-family:system-ui,sans-serif;margin:2em;color:#222}
table{border-collapse:collapse;margin:1em 0}th,td{border:1px solid #ccc;padding:.3em .6em;text-align:right}
th:first-child,td:first-child{text-align:left}caption{text-align:left;font-weight:bold;margin-bottom:.3em}
.cur{color:#4e79a7}.new{color:#c96a10}.notes{color:#555;font-size:.9em}"""


def _chart(report: BacktestReport) -> str:
    """A grouped bar chart of MQLs per month (current and new side by side), as inline SVG."""
    e = html.escape
    n = len(report.months)
    group, bar, pad, top, height = 64, 24, 40, 30, 200
    width = max(pad + n * group + 20, 480)  # room for the legend
    peak = max([1, *(f.mqls for f in report.current.months), *(f.mqls for f in report.new.months)])
    base = top + height
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{base + 40}" role="img" '
             f'aria-label="{e("MQLs per month, current and new model")}">',
             f'<line x1="{pad}" y1="{base}" x2="{width - 10}" y2="{base}" stroke="#888"/>',
             f'<text x="{pad}" y="16" font-size="12" fill="{_CUR_COLOR}">'
             f'{e("■ current " + _model_name(report.current))}</text>',
             f'<text x="{pad + 220}" y="16" font-size="12" fill="{_NEW_COLOR}">'
             f'{e("■ new " + _model_name(report.new))}</text>']
    for k, (month, c, nw) in enumerate(zip(report.months, report.current.months, report.new.months, strict=True)):
        x0 = pad + k * group + (group - 2 * bar) // 2
        for j, (f, color, name) in enumerate(((c, _CUR_COLOR, "current"), (nw, _NEW_COLOR, "new"))):
            x = x0 + j * bar
            if f.mqls:
                h = max(1, round(f.mqls / peak * height))
                parts.append(f'<rect x="{x}" y="{base - h}" width="{bar - 2}" height="{h}" fill="{color}">'
                             f'<title>{e(f"{month} {name}: {f.mqls} MQLs")}</title></rect>')
                parts.append(f'<text x="{x + (bar - 2) / 2}" y="{base - h - 3}" font-size="11" '
                             f'text-anchor="middle">{f.mqls}</text>')
        parts.append(f'<text x="{pad + k * group + group / 2}" y="{base + 16}" font-size="11" '
                     f'text-anchor="middle">{e(month)}</text>')
    parts.append("</svg>")
    return "\n".join(parts)


def _rate_row(label: str, c: Funnel, n: Funnel, tag: str = "td") -> str:
    cells = [f"<{tag}>{html.escape(label)}</{tag}>"]
    cells += [f'<td class="cur">{html.escape(v)}</td>' for v in _cells(c)]
    cells += [f'<td class="new">{html.escape(v)}</td>' for v in _cells(n)]
    return "<tr>" + "".join(cells) + "</tr>"


def render_html(report: BacktestReport) -> str:
    """The report as one self-contained HTML page (inline CSS and SVG, nothing fetched)."""
    e = html.escape
    cur, new = _model_name(report.current), _model_name(report.new)
    title = f"Scoring backtest {_iso(report.start_ms)[:10]} to {_iso(report.end_ms)[:10]}"
    rates = [f"<table><caption>{e('MQLs and what became of them')}</caption>",
             f'<tr><th></th><th colspan="4" class="cur">{e("current " + cur)}</th>'
             f'<th colspan="4" class="new">{e("new " + new)}</th></tr>',
             "<tr><th>Month</th>" + "<th>MQLs</th><th>Accepted</th><th>SQL</th><th>Won</th>" * 2 + "</tr>"]
    rates += [_rate_row(m, c, n) for m, c, n in zip(report.months, report.current.months, report.new.months,
                                                   strict=True)]
    rates.append(_rate_row("Total", report.current.total, report.new.total, "th"))
    rates.append("</table>")
    who = "person" if report.changed_total == 1 else "people"
    changed = [f"<table><caption>{e(f'Status would change for {report.changed_total} {who}')}"
               + (e(f" (the first {len(report.changed)} shown)") if report.changed_total > len(report.changed)
                  else "") + "</caption>",
               "<tr><th>Person</th><th>Current status</th><th>Current score</th><th>New status</th>"
               "<th>New score</th></tr>"]
    changed += [f"<tr><td>{e(c.person_id)}</td><td>{e(c.current_status)}</td><td>{c.current_score}</td>"
                f"<td>{e(c.new_status)}</td><td>{c.new_score}</td></tr>" for c in report.changed]
    changed.append("</table>")
    notes = "".join(f"<li>{e(n)}</li>" for n in report.notes)
    return "\n".join([
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">', f"<title>{e(title)}</title>",
        f"<style>{_STYLE}</style></head><body>", f"<h1>{e(title)}</h1>",
        f"<p>{e(f'{report.people} people replayed under the current model {cur} and the new model {new}.')}</p>",
        "<h2>MQLs per month</h2>", _chart(report), *rates, *changed,
        f'<h2>Notes</h2><ul class="notes">{notes}</ul>', "</body></html>", ""])
