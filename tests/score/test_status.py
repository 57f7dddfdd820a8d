"""The qualification state machine: each transition and its edges, with when, why and from which system."""

from __future__ import annotations

from dataclasses import replace

from connector.score.model import ScoringModel
from connector.score.scorer import ScoreResult, score_person
from connector.score.status import Opportunities, Signals, StatusState, Transition, advance
from connector.score.timeline import Touch

from .conftest import DAY, NOW

HOT = {"job_title": "VP", "employees": 500, "industry": "Finance", "phone": "1"}  # fit 45


def scored(model: ScoringModel, forms: int = 1, days_ago: float = 1,
           fields: dict[str, object] | None = None) -> ScoreResult:
    ts = [Touch("form_submission", NOW - int(days_ago * DAY), "hubspot", f"f{i}") for i in range(forms)]
    return score_person(model, fields or HOT, ts, NOW)


def lead_status(value: str, at: int = NOW - DAY, system: str = "salesforce") -> Signals:
    return Signals(lead_status=(system, value, at), source_id="00Q1")


def test_first_scoring_records_where_the_person_starts(model: ScoringModel) -> None:
    state, moves = advance(model, None, scored(model, 0), Signals(), [], NOW)
    assert state.status == "Lead" and moves == [Transition(None, "Lead", NOW, "First scored", "connector")]


def test_crossing_the_threshold_makes_an_mql_dated_by_the_touch_that_did_it(model: ScoringModel) -> None:
    prior = StatusState("Lead", NOW - 30 * DAY)
    state, moves = advance(model, prior, scored(model, 1, days_ago=2), Signals(), [], NOW)
    assert state.status == "MQL" and state.mql_at == NOW - 2 * DAY and state.mql_count == 1
    assert moves == [Transition("Lead", "MQL", NOW - 2 * DAY, "Score 55 reached 50", "connector")]


def test_a_minimum_grade_holds_back_an_mql(model: ScoringModel) -> None:
    strict = replace(model, mql_min_grade="A")
    result = scored(strict, 3, fields={"phone": "1", "job_title": "VP", "employees": 500})  # fit 35: B
    assert result.score >= 50 and result.grade == "B"
    assert advance(strict, StatusState("Lead", 0), result, Signals(), [], NOW)[0].status == "Lead"


def test_a_score_dip_never_undoes_an_mql(model: ScoringModel) -> None:
    prior = StatusState("MQL", NOW - 10 * DAY, mql_at=NOW - 10 * DAY, mql_count=1)
    state, moves = advance(model, prior, scored(model, 0), Signals(), [], NOW)
    assert state == prior and moves == []


def test_first_sales_touch_after_the_mql_accepts_it(model: ScoringModel) -> None:
    prior = StatusState("MQL", NOW - 10 * DAY, mql_at=NOW - 10 * DAY, mql_count=1)
    before = Touch("call", NOW - 20 * DAY, "salesforce", "00T0")
    call = Touch("call", NOW - 3 * DAY, "salesforce", "00T1")
    state, moves = advance(model, prior, scored(model), Signals(), [before, call], NOW)
    assert state.status == "SAL" and moves[0] == Transition("MQL", "SAL", NOW - 3 * DAY, "First sales touch: call",
                                                            "salesforce", "00T1")


def test_an_idle_mql_is_recycled_after_the_configured_days_and_can_mql_again(model: ScoringModel) -> None:
    prior = StatusState("MQL", NOW - 100 * DAY, mql_at=NOW - 100 * DAY, mql_count=1)
    idle = score_person(model, {"phone": "1"}, [], NOW)
    state, moves = advance(model, prior, idle, Signals(), [], NOW)
    assert state.status == "Recycled" and moves[0].at == NOW - 40 * DAY
    assert state.reset_at == NOW - 40 * DAY and moves[0].reason == "No engagement for 60 days after MQL"
    again, moves = advance(model, state, scored(model, 1), Signals(), [], NOW)
    assert again.status == "MQL" and again.mql_count == 2 and moves[0].from_status == "Recycled"


def test_sales_feedback_moves_the_status_once_per_change(model: ScoringModel) -> None:
    prior = StatusState("MQL", NOW - 10 * DAY, mql_at=NOW - 10 * DAY, mql_count=1)
    state, moves = advance(model, prior, scored(model), lead_status("Working - Contacted"), [], NOW)
    assert state.status == "SAL" and moves[0].system == "salesforce" and moves[0].at == NOW - DAY
    assert moves[0].reason == "Lead status Working - Contacted" and moves[0].source_id == "00Q1"
    state, moves = advance(model, state, scored(model), lead_status("Closed - Not Converted"), [], NOW)
    assert state.status == "Disqualified" and moves[0].from_status == "SAL"
    # the same status again is not news: the person is not moved back by it
    again, moves = advance(model, replace(state, status="Lead"), scored(model, 0),
                           lead_status("Closed - Not Converted"), [], NOW)
    assert again.status == "Lead" and moves == []


def test_a_reason_field_becomes_the_status_reason(model: ScoringModel) -> None:
    signals = replace(lead_status("Closed - Not Converted"), reason="Went with a competitor")
    state, _ = advance(model, StatusState("MQL", 0, mql_at=0), scored(model), signals, [], NOW)
    assert (state.status, state.reason) == ("Disqualified", "Went with a competitor")


def test_recycled_by_sales_resets_engagement_and_is_counted_on_re_mql(model: ScoringModel) -> None:
    recycling = replace(model, status=replace(model.status, salesforce={"Nurture": "Recycled"}))
    prior = StatusState("SAL", NOW - 10 * DAY, mql_at=NOW - 20 * DAY, mql_count=1)
    state, moves = advance(recycling, prior, scored(recycling, 1, days_ago=8),
                           lead_status("Nurture", at=NOW - 5 * DAY), [], NOW)
    assert state.status == "Recycled" and state.reset_at == NOW - 5 * DAY
    # the scorer counts only touches since the reset: the old form no longer lifts the person
    assert score_person(recycling, HOT, [Touch("form_submission", NOW - 8 * DAY, "hubspot", "f")], NOW,
                        since=state.reset_at).score == 45
    fresh = score_person(recycling, HOT, [Touch("form_submission", NOW - DAY, "hubspot", "g")], NOW,
                         since=state.reset_at)
    again, moves = advance(recycling, state, fresh, lead_status("Nurture", at=NOW - 5 * DAY), [], NOW)
    assert again.status == "MQL" and again.mql_count == 2


def test_conversion_mid_status_makes_an_sql(model: ScoringModel) -> None:
    signals = Signals(converted_at=NOW - 2 * DAY, source_id="00Q1")
    state, moves = advance(model, StatusState("MQL", 0, mql_at=0), scored(model), signals, [], NOW)
    assert state.status == "SQL" and moves[-1].reason == "Lead converted"


def test_opportunity_open_won_and_lost(model: ScoringModel) -> None:
    open_ = Signals(opportunities=Opportunities(open_since=NOW - 3 * DAY, source_id="006A"))
    state, moves = advance(model, StatusState("SAL", 0), scored(model), open_, [], NOW)
    assert state.status == "Opportunity" and moves[0].source_id == "006A"
    lost = Signals(opportunities=Opportunities(lost_at=NOW - DAY, source_id="006A"))
    state2, moves = advance(model, state, scored(model, 0), lost, [], NOW)
    assert state2.status == "Recycled" and moves[0].reason == "Opportunity lost" and state2.reset_at == NOW - DAY
    won = Signals(opportunities=Opportunities(won_at=NOW - DAY, lost_at=NOW - 9 * DAY, source_id="006B"))
    state3, moves = advance(model, state, scored(model), won, [], NOW)
    assert state3.status == "Customer" and moves[0].at == NOW - DAY


def test_a_new_person_who_already_won_goes_straight_to_customer(model: ScoringModel) -> None:
    won = Signals(opportunities=Opportunities(won_at=NOW - DAY, source_id="006B"))
    state, moves = advance(model, None, scored(model, 0), won, [], NOW)
    assert state.status == "Customer" and moves == [Transition(None, "Customer", NOW - DAY, "Opportunity won",
                                                               "salesforce", "006B")]


def test_a_disqualifying_fit_rule_disqualifies_until_it_no_longer_matches(model: ScoringModel) -> None:
    rival = {**HOT, "email": "x@rival.example"}
    state, moves = advance(model, StatusState("Lead", 0), scored(model, 3, fields=rival), Signals(), [], NOW)
    assert (state.status, state.reason, state.by) == ("Disqualified", "Competitor", "connector")
    state, moves = advance(model, state, scored(model, 1), Signals(), [], NOW)
    assert [m.to_status for m in moves] == ["Lead", "MQL"]


def test_sales_disqualification_outlasts_a_high_score(model: ScoringModel) -> None:
    prior = StatusState("Disqualified", NOW - DAY, "Lead status Closed - Not Converted", "salesforce",
                        feedback="salesforce:Closed - Not Converted")
    state, moves = advance(model, prior, scored(model, 5), lead_status("Closed - Not Converted"), [], NOW)
    assert state == prior and moves == []
