"""The backtest: replaying hand-built histories under two models, the monthly funnel, who changes, rendering."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from html.parser import HTMLParser

import pytest

from connector.score.backtest import BacktestReport, PersonHistory, backtest, render_html, render_text, replay
from connector.score.decide import decide
from connector.score.model import ScoringModel, parse_scoring
from connector.score.signals import LinkedRecord
from connector.score.timeline import Touch

from .conftest import BASE, DAY, FIELDS

HOT = {"job_title": "VP", "employees": 500, "industry": "Finance", "phone": "1"}  # fit 45: one form makes 55


def ms(month: int, day: int, hour: int = 12) -> int:
    return int(datetime(2026, month, day, hour, tzinfo=UTC).timestamp() * 1000)


START, END = ms(1, 1, 0), ms(7, 1, 0) - 1  # January to June 2026


@pytest.fixture()
def stricter() -> ScoringModel:
    """The proposed model: the same rules, MQL at 60 instead of 50 (one form on a hot lead no longer does it)."""
    return parse_scoring(BASE.replace("mql = 50", "mql = 60").replace("version = 3", "version = 4"),
                         "scoring.toml.new", FIELDS)


def form(at: int, n: int = 0) -> Touch:
    return Touch("form_submission", at, "hubspot", f"form-{at}-{n}")


def call(at: int) -> Touch:
    return Touch("call", at, "salesforce", f"00T{at}", owner="005A")


def lead(status: str, at: int) -> LinkedRecord:
    return LinkedRecord("salesforce", "Lead", "00Q1", "primary", at, False, {"Status": status, "IsConverted": False})


def won_opportunity(created: str, closed: str) -> LinkedRecord:
    return LinkedRecord("salesforce", "Opportunity", "006A", "opportunity", 0, False,
                        {"IsClosed": True, "IsWon": True, "CreatedDate": created, "CloseDate": closed})


def person(pid: str, touches: list[Touch], records: tuple[LinkedRecord, ...] = (),
           opportunities: tuple[LinkedRecord, ...] = (), fields: dict[str, object] | None = None) -> PersonHistory:
    return PersonHistory(pid, HOT if fields is None else fields, records, tuple(touches), opportunities)


def people() -> list[PersonHistory]:
    return [
        # one form in February: an MQL under the current model only; a call in March accepts it
        person("p-a", [form(ms(2, 10)), call(ms(3, 1))]),
        # two forms in January: an MQL under both; sales set a qualified lead status in February
        person("p-b", [form(ms(1, 15)), form(ms(1, 15, 13))], (lead("Closed - Converted", ms(2, 20)),)),
        # two forms in April, an opportunity won in May
        person("p-c", [form(ms(4, 5)), form(ms(4, 6))], opportunities=(won_opportunity("2026-04-20", "2026-05-10"),)),
        # nothing at all
        person("p-d", [], fields={}),
        # MQL in January, idle for 60 days (recycled in March), engaged again in May: a re-MQL
        person("p-e", [form(ms(1, 5)), form(ms(1, 6)), form(ms(5, 1)), form(ms(5, 2))]),
    ]


def run(current: ScoringModel, new: ScoringModel) -> BacktestReport:
    return backtest(current, new, people(), start_ms=START, end_ms=END)


def test_mqls_per_month_under_each_model(model: ScoringModel, stricter: ScoringModel) -> None:
    report = run(model, stricter).to_json()
    assert report["people"] == 5 and [m["month"] for m in report["months"]] == [
        "2026-01", "2026-02", "2026-03", "2026-04", "2026-05", "2026-06"]
    assert [m["current"]["mqls"] for m in report["months"]] == [2, 1, 0, 1, 1, 0]
    assert [m["new"]["mqls"] for m in report["months"]] == [2, 0, 0, 1, 1, 0]  # p-a's February MQL is gone
    assert report["totals"]["current"]["mqls"] == 5 and report["totals"]["new"]["mqls"] == 4
    assert report["models"] == {"current": {"version": 3, "hash": model.model_hash},
                                "new": {"version": 4, "hash": stricter.model_hash}}
    assert report["period"] == {"start_ms": START, "end_ms": END, "start": "2026-01-01T00:00:00Z",
                                "end": "2026-06-30T23:59:59Z"}


def test_acceptance_sql_and_won_follow_each_mql(model: ScoringModel, stricter: ScoringModel) -> None:
    months = {m["month"]: m for m in run(model, stricter).to_json()["months"]}
    jan, feb, apr, may = (months[k]["current"] for k in ("2026-01", "2026-02", "2026-04", "2026-05"))
    # January: p-b (accepted and SQL by its lead status) and p-e (recycled unaccepted)
    assert (jan["mqls"], jan["accepted"], jan["sql"], jan["won"]) == (2, 1, 1, 0)
    assert (jan["accepted_rate"], jan["sql_rate"], jan["won_rate"]) == (0.5, 0.5, 0.0)
    # February: p-a, accepted by the call that followed
    assert (feb["mqls"], feb["accepted"], feb["sql"], feb["won"]) == (1, 1, 0, 0)
    # April: p-c, won in May (Customer is accepted, SQL and won)
    assert (apr["mqls"], apr["accepted"], apr["sql"], apr["won"], apr["won_rate"]) == (1, 1, 1, 1, 1.0)
    # May: p-e's re-MQL, nothing yet
    assert (may["mqls"], may["accepted"], may["accepted_rate"]) == (1, 0, 0.0)


def test_months_without_an_mql_have_no_rates(model: ScoringModel, stricter: ScoringModel) -> None:
    report = run(model, stricter).to_json()
    march, june = report["months"][2], report["months"][5]
    for side in (march["current"], march["new"], june["current"], june["new"], report["months"][1]["new"]):
        assert side == {"mqls": 0, "accepted": 0, "sql": 0, "won": 0, "accepted_rate": None, "sql_rate": None,
                        "won_rate": None}


def test_the_replay_dates_each_move_by_its_own_event(model: ScoringModel) -> None:
    by_id = {p.person_id: p for p in people()}
    a = replay(model, by_id["p-a"], START, END)
    assert [(t.from_status, t.to_status, t.at) for t in a.transitions] == [
        (None, "Lead", START), ("Lead", "MQL", ms(2, 10)), ("MQL", "SAL", ms(3, 1))]
    b = replay(model, by_id["p-b"], START, END)
    assert [(t.to_status, t.at, t.system) for t in b.transitions][1:] == [
        ("MQL", ms(1, 15), "connector"), ("SQL", ms(2, 20), "salesforce")]
    e = replay(model, by_id["p-e"], START, END)
    assert [t.to_status for t in e.transitions] == ["Lead", "MQL", "Recycled", "MQL"]
    assert e.transitions[2].at == ms(1, 6) + 60 * DAY and e.state.mql_count == 2


def test_an_idle_mql_is_recycled_before_a_late_sales_touch_can_accept_it(model: ScoringModel) -> None:
    """The live path looks again when an MQL falls due for recycling; so does the replay, so a call weeks
    after that moment does not count as accepting the MQL."""
    late = person("p-late", [form(ms(1, 5)), call(ms(4, 1))])
    r = replay(model, late, START, END)
    assert [t.to_status for t in r.transitions] == ["Lead", "MQL", "Recycled"]
    assert r.transitions[2].at == ms(1, 5) + 60 * DAY and r.state.status == "Recycled"
    jan = backtest(model, model, [late], start_ms=START, end_ms=END).to_json()["months"][0]["current"]
    assert (jan["mqls"], jan["accepted"]) == (1, 0)


def test_an_mql_before_the_period_is_not_counted_in_it(model: ScoringModel) -> None:
    early = person("p-early", [form(START - 10 * DAY), call(ms(1, 20))])
    r = replay(model, early, START, END)
    assert [(t.to_status, t.at) for t in r.transitions] == [("MQL", START - 10 * DAY), ("SAL", ms(1, 20))]
    report = backtest(model, model, [early], start_ms=START, end_ms=END).to_json()
    assert report["totals"]["current"]["mqls"] == 0


def test_people_whose_status_changes_are_listed(model: ScoringModel, stricter: ScoringModel) -> None:
    report = run(model, stricter)
    assert report.changed_total == 1
    (a,) = report.changed
    current_a = replay(model, people()[0], START, END)
    new_a = replay(stricter, people()[0], START, END)
    assert (a.person_id, a.current_status, a.new_status) == ("p-a", "SAL", "Lead")
    assert (a.current_score, a.new_score) == (current_a.score, new_a.score)


def test_the_changed_list_keeps_the_first_hundred_by_person_id(model: ScoringModel, stricter: ScoringModel) -> None:
    crowd = [person(f"p-{i:03d}", [form(ms(6, 1))]) for i in range(104, -1, -1)]  # given in reverse order
    report = backtest(model, stricter, crowd, start_ms=START, end_ms=END).to_json()
    assert report["changed"]["total"] == 105 and len(report["changed"]["people"]) == 100
    assert [c["person_id"] for c in report["changed"]["people"]] == [f"p-{i:03d}" for i in range(100)]
    assert {(c["current_status"], c["new_status"]) for c in report["changed"]["people"]} == {("MQL", "Lead")}


def test_render_text_shows_both_models_month_by_month(model: ScoringModel, stricter: ScoringModel) -> None:
    text = render_text(run(model, stricter))
    lines = text.splitlines()
    feb = next(line for line in lines if line.startswith("2026-02"))
    cur, new = feb.split("|")
    assert cur.split()[1:] == ["1", "100%", "0%", "0%"] and new.split() == ["0", "—", "—", "—"]
    jan = next(line for line in lines if line.startswith("2026-01"))
    assert jan.split("|")[0].split()[1:] == ["2", "50%", "50%", "0%"]
    total = next(line for line in lines if line.startswith("Total"))
    assert total.split("|")[0].split()[1] == "5" and total.split("|")[1].split()[0] == "4"
    assert f"v3 ({model.model_hash})" in text and f"v4 ({stricter.model_hash})" in text
    assert "Status would change for 1 person" in text
    assert any(line.split()[:1] == ["p-a"] and "SAL" in line and "Lead" in line for line in lines)
    assert "today's field values" in text


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.stack: list[str] = []
        self.rects_in_svg = 0
        self.svgs = 0
        self.external: list[str] = []
        self.cells: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "link", "img", "iframe") or any(k in ("src", "href") for k, _ in attrs):
            self.external.append(tag)
        self.svgs += tag == "svg"
        self.rects_in_svg += tag == "rect" and "svg" in self.stack
        if tag not in ("meta", "line", "br"):
            self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if tag in self.stack:
            while self.stack.pop() != tag:
                pass

    def handle_data(self, data: str) -> None:
        if self.stack and self.stack[-1] in ("td", "th"):
            self.cells.append(data)


def test_render_html_is_one_self_contained_page_with_the_chart_and_tables(model: ScoringModel,
                                                                         stricter: ScoringModel) -> None:
    report = run(model, stricter)
    page = _Page()
    page.feed(render_html(report))
    bars = sum(1 for side in (report.current, report.new) for f in side.months if f.mqls)
    assert bars == 7 and page.svgs == 1 and page.rects_in_svg == bars
    assert page.external == []
    assert "p-a" in page.cells and "SAL" in page.cells and "100%" in page.cells and "—" in page.cells


def test_render_html_escapes_every_text(model: ScoringModel, stricter: ScoringModel) -> None:
    odd = person("<b>x&y</b>", [form(ms(2, 1))])
    page = render_html(backtest(model, stricter, [odd], start_ms=START, end_ms=END))
    assert "<b>" not in page and "&lt;b&gt;x&amp;y&lt;/b&gt;" in page


def test_same_input_gives_the_same_report(model: ScoringModel, stricter: ScoringModel) -> None:
    first, second = run(model, stricter).to_json(), run(model, stricter).to_json()
    assert first == second and json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)
    assert render_html(run(model, stricter)) == render_html(run(model, stricter))


def test_a_period_that_ends_before_it_starts_is_refused(model: ScoringModel) -> None:
    with pytest.raises(ValueError, match="starts after it ends"):
        backtest(model, model, [], start_ms=END, end_ms=START)


SIMPLE = [
    person("s-mql", [form(END - 3 * DAY), form(END - 2 * DAY)]),
    person("s-sal", [form(END - 5 * DAY), call(END - DAY)]),
    person("s-sql", [form(END - 5 * DAY)], (lead("Closed - Converted", END - 2 * DAY),)),
    person("s-accepted-status", [form(END - 9 * DAY)], (lead("Working - Contacted", END - 4 * DAY),)),
    person("s-won", [], opportunities=(won_opportunity("2026-05-02", "2026-06-15"),)),
    person("s-rival", [form(END - DAY)], fields={**HOT, "email": "x@rival.example"}),
    person("s-cold", [Touch("page_view", END - 3 * DAY, "hubspot", "pv1")]),
    person("s-nobody", [], fields={}),
]


@pytest.mark.parametrize("history", SIMPLE, ids=[p.person_id for p in SIMPLE])
def test_the_replay_ends_where_one_decision_at_the_end_would(model: ScoringModel, history: PersonHistory) -> None:
    """For a person whose story is short and recent, walking time forward ends where the live path's single
    decision at the end does, from no prior."""
    once = decide(model, history.person_id, history.fields, history.records, history.touches,
                  history.opportunities, None, END)
    r = replay(model, history, START, END)
    assert (r.state.status, r.score) == (once.state.status, once.result.score)
