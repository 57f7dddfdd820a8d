"""The propagation benchmark's own arithmetic (bench/bench_propagation.py): percentiles, the summary that
counts missed edits against the p95, and reading the daemon's run lines. The benchmark itself is run by
hand (it takes minutes of wall time by design)."""

from __future__ import annotations

import random

import pytest

from bench.bench_propagation import cycles_of, edit_moments, percentile, summarise


def test_percentile_interpolates_between_closest_ranks() -> None:
    values = [float(v) for v in range(1, 21)]  # 1..20, shuffled order must not matter
    random.Random(3).shuffle(values)
    assert percentile(values, 50) == pytest.approx(10.5)
    assert percentile(values, 95) == pytest.approx(19.05)  # between the 19th and 20th, not the maximum
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 20.0
    assert percentile([7.0], 95) == 7.0


def test_percentile_refuses_nothing_and_out_of_range() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)
    with pytest.raises(ValueError):
        percentile([1.0], 101)


def test_summary_counts_missed_edits_as_slower_than_any_that_arrived() -> None:
    arrived = [float(v) for v in range(60, 79)]  # 19 delays
    assert summarise(arrived)["p95_s"] == pytest.approx(77.1)
    one_missed = summarise(arrived, missed=1)
    assert (one_missed["edits"], one_missed["arrived"], one_missed["missed"]) == (20, 19, 1)
    assert one_missed["p95_s"] is None  # the p95 reaches into the missed edit: unbounded
    assert one_missed["max_s"] is None
    assert one_missed["p50_s"] == pytest.approx(69.5)
    assert one_missed["mean_s"] == pytest.approx(69.0)  # of those that arrived
    assert summarise([], missed=2)["p95_s"] is None


def test_edit_moments_are_seeded_sorted_and_inside_the_window() -> None:
    moments = edit_moments(random.Random(18), 24, 480.0)
    assert moments == sorted(moments) and len(moments) == 24
    assert all(0 <= m <= 480 for m in moments)
    assert moments == edit_moments(random.Random(18), 24, 480.0)


def test_cycles_are_read_from_the_daemons_run_lines() -> None:
    records = [
        {"ts": "2026-12-07T06:59:39.375+00:00", "logger": "connector.daemon",
         "message": "sync run 7: ok; pulled 12, wrote 3, parked 0; calls hubspot 14, salesforce 2; 4.5 s"},
        {"ts": "2026-12-07T07:00:39.000+00:00", "logger": "connector.daemon",
         "message": "sync run 8: partial; pulled 0, wrote 0, parked 1; calls none; 0.2 s"},
        {"ts": "2026-12-07T07:00:40.000+00:00", "logger": "connector.sync", "message": "sync run 9 started"},
    ]
    first, second = cycles_of(records)
    assert (first.run, first.status, first.calls) == (7, "ok", {"hubspot": 14, "salesforce": 2})
    assert first.end_ms - first.start_ms == 4500
    assert (second.run, second.status, second.calls) == (8, "partial", {})
