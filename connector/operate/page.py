"""The daemon's read-only status page: its role and readiness, the last runs, the parking lot with reasons
and hints, the API budgets and the funnel's headline, as one server-rendered page.

No script, no download (inline CSS only), so it renders with no network and a strict Content-Security-Policy.
Markup is built with `el()`, which escapes every value that is not itself markup: no value reaches the page
unescaped. People appear by person id only; the systems' rejection messages pass through `redact` first
(they may quote the values refused).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..logs import redact
from ..report import funnel
from ..report.render import header_lines
from ..store.operations import (RunRow, last_success_started, pulled_per_object, recent_run_rows,
                                sla_breached_people, written_per_object)
from ..store.pushes import parked_count, parked_rows
from .metrics import SYNC_COMMANDS, BudgetFigures, BudgetLimit, budget_figures
from .state import DaemonState

__all__ = ["Markup", "el", "StatusView", "ParkedGroup", "gather", "render", "unauthorized_page"]

_YEAR_MS = 365 * 86_400_000


class Markup(str):
    """Text that is already HTML (made by `el`): inserted as it is; any other value is escaped."""


Child = Markup | str | int | float | None | Sequence[Any]


def _escaped(value: Child) -> str:
    if value is None:
        return ""
    if isinstance(value, Markup):
        return value
    if isinstance(value, list | tuple):
        return "".join(_escaped(v) for v in value)
    return html.escape(str(value), quote=True)


def el(tag: str, *children: Child, **attrs: str | None) -> Markup:
    """`<tag attrs>children</tag>`, every child and attribute value escaped unless it is `Markup` (`tag` and
    the attribute names come from this module's code only; `class_` stands for `class`)."""
    attributes = "".join(f' {name.rstrip("_")}="{html.escape(value, quote=True)}"'
                         for name, value in attrs.items() if value is not None)
    return Markup(f"<{tag}{attributes}>{_escaped(list(children))}</{tag}>")


@dataclass(frozen=True)
class ParkedGroup:
    """The parked records that share a system, object, stage, reason and hint."""

    system: str
    object_type: str
    stage: str
    code: str
    fields: str
    message: str
    hint: str
    records: tuple[str, ...]
    people: tuple[str, ...]


@dataclass
class StatusView:
    """Everything the page shows, read once per request (`store_problem` set: the store did not answer)."""

    now: float
    state: DaemonState
    ready: tuple[bool, str]
    store_problem: str | None = None
    runs: list[RunRow] = field(default_factory=list)
    parked: list[ParkedGroup] = field(default_factory=list)
    parked_total: int = 0
    budgets: list[BudgetFigures] = field(default_factory=list)
    funnel: dict[str, Any] | None = None
    #: when the last successful sync run started (epoch ms), as `connector_sync_lag_seconds` counts from it
    last_sync_ms: int | None = None
    sla_breached: int = 0


def _group_parked(rows: Iterable[Mapping[str, Any]]) -> list[ParkedGroup]:
    groups: dict[tuple[str, str, str, str, str, str, str], tuple[list[str], list[str]]] = {}
    for r in rows:
        key = (str(r["system"]), str(r["object_type"]), str(r["stage"]), str(r["code"]), str(r.get("field") or ""),
               redact(str(r.get("message") or "")), redact(str(r.get("hint") or "")))
        records, people = groups.setdefault(key, ([], []))
        records.append(str(r["record_id"]))
        if r.get("person_id"):
            people.append(str(r["person_id"]))
    return [ParkedGroup(*key, records=tuple(records), people=tuple(dict.fromkeys(people)))
            for key, (records, people) in sorted(groups.items(), key=lambda kv: (-len(kv[1][0]), kv[0]))]


def gather(engine: Engine, state: DaemonState, limits: Mapping[str, BudgetLimit], now: float) -> StatusView:
    """Read what the page shows; a store that does not answer leaves the daemon's own part."""
    view = StatusView(now, state, state.ready(now))
    now_ms = int(now * 1000)
    try:
        view.runs = recent_run_rows(engine, limit=20)
        parked = parked_rows(engine)  # the newest of them (its own limit): grouped and listed by id
        view.parked, view.parked_total = _group_parked(parked), parked_count(engine)
        view.budgets = budget_figures(engine, limits, now_ms)
        view.last_sync_ms = last_success_started(engine, SYNC_COMMANDS)
        view.sla_breached = sla_breached_people(engine)
        # the daemon refreshes it (every 15 min: a large store's funnel takes seconds); computed here until then
        view.funnel = (state.funnel if state.funnel is not None
                       else funnel.funnel_report(engine, now_ms - _YEAR_MS, now_ms))  # as `connector report funnel`
    except SQLAlchemyError as exc:
        view.store_problem = f"the state store did not answer ({type(exc).__name__})"
    return view


def _when(epoch_s: float | None) -> str:
    if epoch_s is None:
        return "-"
    return datetime.fromtimestamp(epoch_s, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def _ms(ms: int | None) -> str:
    return _when(None if ms is None else ms / 1000)


def _n(value: int | None) -> str:
    return "unknown" if value is None else f"{value:,}"


def _table(headers: Sequence[str], rows: Iterable[Sequence[Child]], *, empty: str) -> Markup:
    body = [el("tr", *(el("td", cell) for cell in row)) for row in rows]
    if not body:
        return el("p", empty, class_="empty")
    return el("table", el("thead", el("tr", *(el("th", h) for h in headers))), el("tbody", *body))


def _daemon(view: StatusView) -> Markup:
    s, (ready, reason) = view.state, view.ready
    rows: list[tuple[str, Child]] = [
        ("role", s.role),
        ("ready", el("span", "ready" if ready else "not ready", class_="ok" if ready else "bad")),
        ("why", reason),
        ("interval", f"{s.interval_s:g} s"),
        ("started", _when(s.started_at)),
        ("run in progress", f"{s.running} since {_when(s.running_since)}" if s.running else "none"),
        ("last run", f"{s.last_run_status or '-'} at {_when(s.last_run_at)}" if s.last_run_at else "none yet"),
        ("last successful run", _when(s.last_success_at)),
    ]
    if s.paused_until is not None and s.paused_until > view.now:
        rows.append(("paused until", f"{_when(s.paused_until)} (the daily API budget is spent)"))
    if s.mappings_problem:
        rows.append(("mappings", el("span", f"reload refused, the previous mappings keep running: "
                                            f"{redact(s.mappings_problem)}", class_="bad")))
    return el("section", el("h2", "Daemon"),
              el("table", el("tbody", *(el("tr", el("th", k), el("td", v)) for k, v in rows)), class_="kv"))


def _calls(api_calls: Mapping[str, Any]) -> str:
    parts = [f"{system} {int(c.get('total') or 0):,}" for system, c in sorted(api_calls.items())
             if isinstance(c, Mapping)]
    return ", ".join(parts) or "0"


def _figures(per_object: Mapping[tuple[str, str], int]) -> str:
    return f"{sum(per_object.values()):,}"


def _sync(view: StatusView) -> Markup:
    if view.last_sync_ms is None:
        lag = "no successful sync run yet"
    else:
        lag = f"{_ms(view.last_sync_ms)} ({max(0, int(view.now - view.last_sync_ms / 1000)):,} s ago)"
    rows = [("last successful sync started", lag),
            ("people with a breached handoff SLA", f"{view.sla_breached:,} (as published to the systems)")]
    return el("section", el("h2", "Sync"),
              el("table", el("tbody", *(el("tr", el("th", k), el("td", v)) for k, v in rows)), class_="kv"))


def _runs(view: StatusView) -> Markup:
    rows: list[list[Child]] = []
    for r in view.runs:
        duration = f"{(r.finished_at - r.started_at) / 1000:.1f} s" if r.finished_at is not None else "running"
        written = written_per_object(r.counts)
        rows.append([r.id, r.command, _ms(r.started_at), el("span", r.status, class_=_status_class(r.status)),
                     duration, _figures(pulled_per_object(r.counts)),
                     _figures({k: w for k, (w, _) in written.items()}),
                     _figures({k: n for k, (_, n) in written.items()}), _calls(r.api_calls),
                     redact(r.error) if r.error else ""])
    return el("section", el("h2", "Last runs"),
              _table(["run", "command", "started", "status", "duration", "pulled", "written", "rejected",
                      "API calls", "error"], rows, empty="No run yet."))


def _status_class(status: str) -> str:
    return {"ok": "ok", "partial": "warn", "running": "warn"}.get(status, "bad")


def _parked(view: StatusView) -> Markup:
    rows: list[list[Child]] = []
    for g in view.parked:
        shown = ", ".join(g.records[:10]) + (f" and {len(g.records) - 10:,} more" if len(g.records) > 10 else "")
        people = ", ".join(g.people[:10]) + (f" and {len(g.people) - 10:,} more" if len(g.people) > 10 else "")
        rows.append([f"{g.system} {g.object_type}", g.stage, len(g.records), g.code, g.fields, g.message, g.hint,
                     shown, people])
    grouped = sum(len(g.records) for g in view.parked)
    title = f"Parked records ({view.parked_total:,}" + (
        f"; the newest {grouped:,} grouped below)" if grouped < view.parked_total else ")")
    return el("section", el("h2", title),
              _table(["where", "stage", "records", "code", "fields", "reason", "hint", "record ids", "person ids"],
                     rows, empty="Nothing is parked."))


def _budgets(view: StatusView) -> Markup:
    rows = [[b.system, _n(b.used_24h), _n(b.allowance), _n(b.remaining)] for b in view.budgets]
    return el("section", el("h2", "API budgets"),
              _table(["system", "calls in the last 24 h", "connector's daily share", "remaining"], rows,
                     empty="No budget known."),
              el("p", "Remaining counts the connector's own calls; a run also heeds the account's reported usage.",
                 class_="note"))


def _funnel(view: StatusView) -> Markup:
    report = view.funnel
    if report is None:
        return Markup("")
    _, title, headers, rows = funnel.tables(report)[0]
    lines = [el("p", line) for line in header_lines(report)]
    headline = (f"{report['people']:,} people reached the funnel; won revenue {float(report['won_revenue']):,.2f} "
                f"from {report['won_deals']:,} deals")
    return el("section", el("h2", "Funnel (last 12 months)"), el("p", headline, class_="headline"), *lines,
              _table(headers, rows, empty="No stages."))


_STYLE = ("body{font-family:sans-serif;margin:1.5em 2em;color:#222;background:#fff}"
          "h1{font-size:1.5em;margin:0 0 .2em}h2{font-size:1.15em;margin:1.4em 0 .4em}"
          "table{border-collapse:collapse;margin-bottom:.8em}td,th{border:1px solid #ccc;padding:3px 8px;"
          "text-align:left;vertical-align:top}th{background:#eef}table.kv th{width:16em}"
          ".ok{color:#176b2c;font-weight:bold}.warn{color:#8a5a00;font-weight:bold}.bad{color:#a31515;"
          "font-weight:bold}.note,.empty,.meta{color:#555}.problem{background:#fde8e8;padding:.6em;"
          "border:1px solid #a31515}")


def _page(title: str, *body: Child) -> str:
    head = el("head", Markup('<meta charset="utf-8">'), el("title", title), el("style", Markup(_STYLE)))
    return "<!DOCTYPE html>\n" + el("html", head, el("body", *body), lang="en") + "\n"


def render(view: StatusView) -> str:
    """The whole page."""
    sections: list[Child] = [el("h1", "HubSpot ⇄ Salesforce connector"),
                             el("p", f"as of {_when(view.now)}", class_="meta"), _daemon(view)]
    if view.store_problem:
        sections.append(el("p", view.store_problem, class_="problem"))
    else:
        sections += [_sync(view), _runs(view), _parked(view), _budgets(view), _funnel(view)]
    return _page("Connector status", *sections)


def unauthorized_page() -> str:
    """What a request without the right token gets (401)."""
    return _page("Sign-in required", el("h1", "Sign-in required"),
                 el("p", "This status page needs the daemon's token ([daemon] token, CONNECTOR_DAEMON_TOKEN): send "
                         "it as 'Authorization: Bearer <token>', or give it as the password when the browser "
                         "asks (any user name)."))
