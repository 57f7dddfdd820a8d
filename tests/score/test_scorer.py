"""Scoring one person: every rule type, decay, caps, negatives, grade, publishing steps; order-free and monotone."""

from __future__ import annotations

import math

from hypothesis import given, settings
from hypothesis import strategies as st

from connector.score.model import ScoringModel
from connector.score.scorer import next_change, score_person, should_publish
from connector.score.timeline import Touch, dedupe

from .conftest import DAY, NOW, with_lines

GOOD = {"job_title": "VP Sales", "employees": "100-500", "industry": "Finance", "email": "a@b.example",
        "phone": "+1 555"}


def touch(kind: str, days_ago: float, detail: str = "", system: str = "hubspot", n: int = 0, **kw: object) -> Touch:
    return Touch(kind, NOW - int(days_ago * DAY), system, f"{kind}-{days_ago}-{n}", detail=detail, **kw)  # type: ignore[arg-type]


def test_fit_rule_types(model: ScoringModel) -> None:
    r = score_person(model, GOOD, [], NOW)
    assert (r.score, r.fit, r.grade) == (45, 45, "A")  # regex 20 + range 15 + in 10
    assert [p.rule for p in r.breakdown] == ["Senior title", "Big company", "Target industry"]
    r = score_person(model, {**GOOD, "phone": " ", "email": "x@GMAIL.com", "employees": "25-50"}, [], NOW)
    assert r.fit == 20 + 10 - 15 - 5  # contains is case-free; blank matches whitespace; "25-50" is below 100
    assert r.grade == "C"
    assert score_person(model, {"employees": 99.0}, [], NOW).fit == -5
    assert score_person(model, {"employees": "1000+"}, [], NOW).fit == 15 - 5
    assert score_person(model, {"employees": "n/a"}, [], NOW).fit == -5  # not a number: the range does not match


def test_equals_compares_text_case_free_and_numbers_as_written() -> None:
    m = with_lines('\n[[fit]]\nname = "US"\nfield = "country"\nequals = "United States"\npoints = 3\n')
    assert score_person(m, {"country": " united states", "phone": "1"}, [], NOW).fit == 3
    assert score_person(m, {"country": "United Kingdom", "phone": "1"}, [], NOW).fit == 0


def test_disqualifying_rule_is_named(model: ScoringModel) -> None:
    r = score_person(model, {**GOOD, "email": "boss@rival.example"}, [], NOW)
    assert r.disqualified_by == "Competitor" and r.reason.startswith("Competitor")


def test_decay_halves_points_every_half_life(model: ScoringModel) -> None:
    fresh = score_person(model, {"phone": "1"}, [touch("form_submission", 0)], NOW)
    old = score_person(model, {"phone": "1"}, [touch("form_submission", 30)], NOW)
    older = score_person(model, {"phone": "1"}, [touch("form_submission", 60)], NOW)
    assert (fresh.score, old.score, older.score) == (10, 5, 2)  # 10, 5, 2.5 rounds to 2 (banker's)
    assert math.isclose(old.decaying, 5.0)


def test_caps_per_kind_and_period_count_in_time_order(model: ScoringModel) -> None:
    views = [touch("page_view", 0.01 * i, n=i) for i in range(9)]
    r = score_person(model, {"phone": "1"}, views, NOW)
    (line,) = [p for p in r.breakdown if p.rule == "page_view"]
    assert line.count == 9 and round(line.points) == 5  # capped at 5 in the period
    pricing = [touch("page_view", 0.01 * i, "https://x.example/pricing", n=i) for i in range(3)]
    r = score_person(model, {"phone": "1"}, pricing, NOW)
    assert round(r.decaying) == 3 + 8  # three views, the pricing rule's cap of 8
    assert "Pricing page" in r.reason and "3 page views" in r.reason


def test_negatives_unsubscribe_hard_bounce_and_inactivity(model: ScoringModel) -> None:
    ts = [touch("meeting", 100), touch("unsubscribe", 99), touch("email_bounce", 98, hard=True),
          touch("email_bounce", 97, n=1)]
    r = score_person(model, {"phone": "1"}, ts, NOW)
    rules = {p.rule: p.points for p in r.breakdown}
    assert rules["Unsubscribed"] == -10 and rules["Hard bounce"] == -20 and rules["No touch for 90 days"] == -10
    assert r.score == round(10 * 2 ** (-100 / 30)) - 40


def test_touches_before_a_recycle_and_after_now_do_not_count(model: ScoringModel) -> None:
    ts = [touch("form_submission", 10), touch("form_submission", -1, n=1)]
    assert score_person(model, {"phone": "1"}, ts, NOW).last_touch_at == NOW - 10 * DAY
    assert score_person(model, {"phone": "1"}, ts, NOW, since=NOW - 5 * DAY).score == 0


def test_publishing_needs_the_write_step_or_a_threshold_crossing(model: ScoringModel) -> None:
    assert should_publish(model, 44, None)
    assert not should_publish(model, 44, 41) and should_publish(model, 46, 41)
    assert should_publish(model, 50, 49) and should_publish(model, 49, 50)


def test_next_change_is_when_decay_moves_the_published_score(model: ScoringModel) -> None:
    r = score_person(model, {"phone": "1", "job_title": "VP", "employees": 500},
                     [touch("form_submission", 0, n=i) for i in range(3)], NOW)
    assert r.score == 65 and r.steady == 35
    at = next_change(model, r, published=65)
    assert at is not None
    assert score_person(model, {"phone": "1", "job_title": "VP", "employees": 500},
                        [touch("form_submission", 0, n=i) for i in range(3)], at).score == 60
    before = score_person(model, {"phone": "1", "job_title": "VP", "employees": 500},
                          [touch("form_submission", 0, n=i) for i in range(3)], at - 60_000)
    assert not should_publish(model, before.score, 65)
    assert next_change(model, score_person(model, GOOD, [], NOW), published=45) is None  # nothing decays


def test_dedupe_counts_an_activity_logged_in_both_systems_once() -> None:
    a = Touch("call", NOW, "hubspot", "1", detail="Discovery call")
    b = Touch("call", NOW + 30_000, "salesforce", "00T1", detail="discovery  CALL")
    c = Touch("call", NOW + 10 * 60_000, "salesforce", "00T2", detail="Discovery call")
    assert dedupe([b, a, c]) == [a, c]
    assert dedupe([a, a]) == [a]


kinds = st.sampled_from(["page_view", "form_submission", "meeting", "call", "unsubscribe", "email_open"])
touches = st.lists(st.builds(lambda k, d, i: touch(k, d, "/pricing" if i % 2 else "", n=i), kinds,
                             st.floats(min_value=0, max_value=400, allow_nan=False), st.integers(0, 10**6)),
                   max_size=30, unique_by=lambda t: t.source_id)


@settings(max_examples=200, deadline=None)
@given(touches, st.randoms(use_true_random=False))
def test_the_score_does_not_depend_on_the_order_of_the_touches(ts: list[Touch], rnd: object) -> None:
    model = with_lines("")
    shuffled = list(ts)
    rnd.shuffle(shuffled)  # type: ignore[attr-defined]
    assert score_person(model, GOOD, ts, NOW) == score_person(model, GOOD, shuffled, NOW)


@settings(max_examples=200, deadline=None)
@given(touches, st.floats(min_value=0, max_value=200, allow_nan=False))
def test_decay_never_raises_the_score_as_time_passes(ts: list[Touch], later_days: float) -> None:
    model = with_lines("")
    kept = [t for t in ts if t.kind != "unsubscribe"]
    a = score_person(model, {"phone": "1"}, kept, NOW)
    b = score_person(model, {"phone": "1"}, kept, NOW + int(later_days * DAY))
    assert b.decaying <= a.decaying + 1e-9
