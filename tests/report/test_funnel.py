"""The funnel report against a small store whose figures were worked out by hand (SQLite and PostgreSQL).

The people (the calibration tests read the same store):

- ann (WEB, o1): MQL 1 Feb at 55, SAL +2 d, SQL +6 d, Opportunity +10 d, Customer +20 d; a won Opportunity
  of 1,000, and the HubSpot deal synced from it (also 1,000: one deal, counted once).
- bob (WEB, o2): MQL 10 Feb at 62, SAL +4 d, Disqualified +5 d.
- cy (EVENT, o1): MQL 5 Mar at 51, Recycled +30 d, MQL again 1 May at 58, SAL +1 d, SQL +3 d; a won
  HubSpot deal of 500.
- dan (no lead source, o2): Lead -> SQL on 1 Apr (sales qualified him straight away).
- eve (WEB, o3): MQL in June 2025, before the period: not in the cohort.
- fay (EVENT, o3): MQL 1 Jun at 45, nothing since.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session

from connector.report.funnel import funnel, funnel_report, tables
from connector.store import open_engine
from connector.store.models import Link, Person, PersonField, PersonScore, StatusTransition
from connector.store.reports import Deal, Move

from .stores import add_model_and_run, add_records

DAY = 86_400_000
SINCE = int(datetime(2026, 1, 1, tzinfo=UTC).timestamp() * 1000)
NOW = int(datetime(2026, 12, 1, tzinfo=UTC).timestamp() * 1000)
OPP = "006A00000000001AAA"


def day(y: int, m: int, d: int) -> int:
    return int(datetime(y, m, d, tzinfo=UTC).timestamp() * 1000)


#: person -> (lead source, owner, grade, rules, [(to status, at, score, reason)])
PEOPLE: dict[str, tuple[str | None, str, str, list[str], list[tuple[str, int, int | None, str]]]] = {
    "ann": ("WEB", "o1", "A", ["Senior title", "Pricing page"], [
        ("Lead", day(2025, 10, 1), 10, "new"), ("MQL", day(2026, 2, 1), 55, "Score 55 reached 50"),
        ("SAL", day(2026, 2, 3), 60, "call"), ("SQL", day(2026, 2, 7), 60, "qualified"),
        ("Opportunity", day(2026, 2, 11), 60, "open"), ("Customer", day(2026, 2, 21), 60, "won")]),
    "bob": ("WEB", "o2", "B", ["Senior title"], [
        ("MQL", day(2026, 2, 10), 62, "Score 62 reached 50"), ("SAL", day(2026, 2, 14), 62, "call"),
        ("Disqualified", day(2026, 2, 15), 62, "Lead status Closed - Not Converted")]),
    "cy": ("EVENT", "o1", "B", ["Pricing page"], [
        ("MQL", day(2026, 3, 5), 51, "Score 51 reached 50"), ("Recycled", day(2026, 4, 4), 20, "No touch for 90 days"),
        ("MQL", day(2026, 5, 1), 58, "Score 58 reached 50"), ("SAL", day(2026, 5, 2), 58, "call"),
        ("SQL", day(2026, 5, 4), 58, "qualified")]),
    "dan": (None, "o2", "C", [], [("SQL", day(2026, 4, 1), 30, "Lead converted")]),
    "eve": ("WEB", "o3", "B", ["Senior title"], [
        ("MQL", day(2025, 6, 1), 70, "Score 70 reached 50"), ("SAL", day(2026, 2, 1), 70, "call")]),
    "fay": ("EVENT", "o3", "C", [], [("MQL", day(2026, 6, 1), 45, "Score 45 reached 40")]),
}


def seed(store_url: str) -> Engine:
    """The store above: people, fields, scores, transitions, deals, the model and a finished run."""
    engine = open_engine(store_url)
    with Session(engine) as s, s.begin():
        add_model_and_run(s, SINCE, NOW)
        for pid, (source, owner, grade, rules, moves) in PEOPLE.items():
            s.add(Person(id=pid, created_at=SINCE, updated_at=SINCE))
            s.flush()
            for name, value in (("lead_source", source), ("owner", owner)):
                if value is not None:
                    s.add(PersonField(person_id=pid, field=name, value=value, source_system="hubspot",
                                      source_id="1", rule="x", updated_at=SINCE))
            last = moves[-1]
            s.add(PersonScore(person_id=pid, score=last[2] or 0, grade=grade, status=last[0], status_since=last[1],
                              breakdown=[[r, 10, 0, "fit"] for r in rules], model_hash="m1", inputs_digest="",
                              scored_at=NOW))
            previous = None
            for to, at, score, reason in moves:
                s.add(StatusTransition(person_id=pid, from_status=previous, to_status=to, at=at, reason=reason,
                                       system="connector", score=score, model_hash="m1", recorded_at=at))
                previous = to
        for system, object_type, rid, pid in (("salesforce", "Contact", "003A", "ann"),
                                              ("hubspot", "contacts", "1", "ann"), ("hubspot", "contacts", "3", "cy")):
            s.add(Link(person_id=pid, system=system, object_type=object_type, record_id=rid, reason="reconciled",
                       linked_at=SINCE))
        records: list[tuple[str, str, str, dict[str, Any]]] = [
            ("salesforce", "OpportunityContactRole", "00K1", {"ContactId": "003A", "OpportunityId": OPP}),
            ("salesforce", "Opportunity", OPP, {"IsClosed": True, "IsWon": True, "Amount": 1000.0}),
            ("hubspot", "deals", "9", {"dealstage": "closedwon", "amount": "1000",
                                      "_associations": {"contacts": ["1"]}, "salesforce_opportunity_id": OPP[:15]}),
            ("hubspot", "deals", "7", {"dealstage": "closedwon", "amount": "500",
                                      "_associations": {"contacts": ["3"]}}),
            ("hubspot", "deals", "8", {"dealstage": "closedlost", "amount": "900",
                                      "_associations": {"contacts": ["3"]}}),
        ]
        add_records(s, records, SINCE)
    return engine


def test_the_funnel_counts_converts_times_and_sums_as_worked_out_by_hand(store_url: str) -> None:
    engine = seed(store_url)
    report = funnel_report(engine, SINCE, NOW)
    engine.dispose()
    assert report["kind"] == "funnel" and report["people"] == 5  # eve entered before the period
    assert report["period"] == {"since": "2026-01-01T00:00:00+00:00", "until": "2026-12-01T00:00:00+00:00"}
    assert report["models"] == [{"version": 3, "hash": "m1"}]
    assert report["data_as_of"] == "2026-12-01T00:00:00+00:00"
    assert [(r["stage"], r["people"], r["conversion_from_previous"], r["median_days_in_stage"])
            for r in report["stages"]] == [
        ("MQL", 5, None, 4.0),  # ann 2 d, bob 4 d, cy 58 d (recycled between)
        ("SAL", 4, 0.8, 3.0),  # ann 4 d, cy 2 d; dan skipped to SQL and counts as having passed
        ("SQL", 3, 0.75, 4.0),
        ("Opportunity", 1, 0.3333, 10.0),
        ("Customer", 1, 1.0, None)]
    # the deal synced from ann's Opportunity is the Opportunity: 1,000 once, and cy's deal; not the lost one
    assert (report["won_revenue"], report["won_deals"]) == (1500.0, 2)
    by = report["by"]
    assert [(r["group"], list(r["stages"].values()), r["mql_to_customer"], r["won_revenue"])
            for r in by["lead_source"]] == [
        ("(none)", [1, 1, 1, 0, 0], 0.0, 0.0),
        ("EVENT", [2, 1, 1, 0, 0], 0.0, 500.0),
        ("WEB", [2, 2, 1, 1, 1], 0.5, 1000.0)]
    assert [(r["group"], r["stages"]["MQL"], r["won_revenue"]) for r in by["owner"]] == [
        ("o1", 2, 1500.0), ("o2", 2, 0.0), ("o3", 1, 0.0)]
    assert [(r["group"], r["stages"]["MQL"]) for r in by["month"]] == [
        ("2026-02", 2), ("2026-03", 1), ("2026-04", 1), ("2026-06", 1)]
    names = [t[0] for t in tables(report)]
    assert names == ["stages", "by_lead_source", "by_owner", "by_month"]


def test_a_deal_of_two_people_counts_once_overall_and_once_in_each_of_their_groups() -> None:
    moves = [Move("a", "MQL", SINCE + DAY, 60, "m", ""), Move("b", "MQL", SINCE + DAY, 60, "m", "")]
    fields = {"a": {"owner": "o1"}, "b": {"owner": "o2"}}
    report = funnel(moves, fields, [Deal("salesforce:006X", 700.0, ("a", "b"))], SINCE)
    assert report["won_revenue"] == 700.0 and report["won_deals"] == 1
    assert [(r["group"], r["won_revenue"]) for r in report["by"]["owner"]] == [("o1", 700.0), ("o2", 700.0)]
    assert funnel(moves, fields, [], SINCE + 2 * DAY)["people"] == 0  # entered before the period


def test_the_page_escapes_every_text_and_draws_without_scripts() -> None:
    from connector.report.render import html_page, svg_bars, text_table

    moves = [Move("a", "MQL", SINCE + DAY, 60, "m", "")]
    report = {"period": {"since": "s", "until": "u"}, "models": [], "data_as_of": None,
              **funnel(moves, {"a": {"lead_source": "<script>x</script>", "owner": "o&p"}}, [], SINCE)}
    page = html_page("Funnel", report, [svg_bars("<People>", [("<MQL>", 1.0)])], tables(report))
    assert "<script>" not in page and "&lt;script&gt;x&lt;/script&gt;" in page and "o&amp;p" in page
    assert "&lt;MQL&gt;" in page and "<rect " in page
    assert text_table(["a", "n"], [["x", 1_000], ["yy", 2]]).splitlines() == ["a       n", "--  -----", "x   1,000",
                                                                                "yy      2"]
