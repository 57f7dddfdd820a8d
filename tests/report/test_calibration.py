"""The scoring calibration report against the hand-worked store of test_funnel (SQLite and PostgreSQL).

The MQLs of the period: ann 55 (accepted, SQL, won), bob 62 (accepted, then disqualified), cy 51 (recycled
before anything), cy 58 (accepted, SQL), fay 45 (nothing yet); eve's MQL was before the period.
"""

from __future__ import annotations

from connector.report.calibration import calibration, calibration_report, tables
from connector.store.reports import Move
from tests.report.test_funnel import NOW, SINCE, seed


def test_calibration_rates_by_band_grade_and_rule_as_worked_out_by_hand(store_url: str) -> None:
    engine = seed(store_url)
    report = calibration_report(engine, SINCE, NOW, min_mqls=1)
    engine.dispose()
    assert report["kind"] == "scoring" and report["models"] == [{"version": 3, "hash": "m1"}]
    assert report["data_as_of"] == "2026-12-01T00:00:00+00:00"
    assert report["mqls"] == 5
    assert report["overall"] == {"mqls": 5, "accepted": 3, "sql": 2, "won": 1, "accepted_rate": 0.6,
                                 "sql_rate": 0.4, "won_rate": 0.2}
    assert [(b["band"], b["mqls"], b["accepted"], b["sql"], b["won"]) for b in report["by_band"]] == [
        ("40-49", 1, 0, 0, 0), ("50-59", 3, 2, 2, 1), ("60-69", 1, 1, 0, 0)]
    assert report["by_band"][1]["accepted_rate"] == 0.6667
    assert [(g["grade"], g["mqls"], g["accepted"]) for g in report["by_grade"]] == [
        ("A", 1, 1), ("B", 3, 2), ("C", 1, 0)]
    rules = {r["rule"]: (r["with"]["mqls"], r["with"]["accepted"], r["without"]["mqls"], r["without"]["accepted"],
                         r["lift"]) for r in report["by_rule"]}
    assert rules == {"Pricing page": (3, 2, 2, 1, 1.33),  # 66.7% with, 50% without
                     "Senior title": (2, 2, 3, 1, 3.0)}  # 100% with, 33.3% without
    assert report["disqualified"] == [{"reason": "Lead status Closed - Not Converted", "people": 1}]
    assert report["recycled"] == [{"reason": "No touch for 90 days", "people": 1}]
    suggestion = report["suggested_threshold"]
    assert suggestion["applied"] is False
    # 40-49 accepted 0%, below the overall 60%; 50-59 accepted 66.7%: from 50 on, 3 of 4 MQLs were accepted
    assert (suggestion["score"], suggestion["band"], suggestion["mqls_at_or_above"],
            suggestion["accepted_rate_at_or_above"]) == (50, "50-59", 4, 0.75)
    assert "never applied" in suggestion["evidence"]
    assert [t[0] for t in tables(report)] == ["overall", "by_band", "by_grade", "by_rule", "disqualified",
                                              "recycled", "suggested_threshold"]


def test_no_suggestion_without_enough_mqls_in_a_band() -> None:
    moves = [Move("a", "MQL", SINCE, 55, "m", ""), Move("a", "SAL", SINCE + 1, 55, "m", ""),
             Move("b", "MQL", SINCE, 75, "m", "")]
    report = calibration(moves, {}, SINCE, min_mqls=2)
    assert report["overall"]["accepted_rate"] == 0.5
    assert report["suggested_threshold"]["score"] is None and report["suggested_threshold"]["applied"] is False
    assert report["by_grade"] == [{"grade": "(none)", "mqls": 2, "accepted": 1, "sql": 0, "won": 0,
                                   "accepted_rate": 0.5, "sql_rate": 0.0, "won_rate": 0.0}]
    # with one MQL a band is enough: the 50s accepted all theirs
    assert calibration(moves, {}, SINCE, min_mqls=1)["suggested_threshold"]["score"] == 50
