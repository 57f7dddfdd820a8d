"""Cursors and windows: never lose a record, never pass the safety lag."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from connector.pull.cursor import (
    Cursor,
    CursorTracker,
    Window,
    next_window,
    whole_minute,
)


def test_window_is_half_open_and_splits_into_adjacent_halves() -> None:
    left, right = Window(100, 201).halves()
    assert (left.start, left.end, right.start, right.end) == (100, 150, 150, 201)
    with pytest.raises(ValueError):
        Window(5, 6).halves()
    with pytest.raises(ValueError):
        Window(5, 5)


def test_next_window_applies_lookback_and_never_passes_start_minus_lag() -> None:
    cursor = Cursor(position=10_000)
    window = next_window(cursor, run_started_ms=20_000, lookback_ms=1_000, safety_lag_ms=500)
    assert window == Window(9_000, 19_500)
    assert next_window(Cursor(position=19_900), run_started_ms=20_000, lookback_ms=0, safety_lag_ms=500) is None
    assert next_window(Cursor(), run_started_ms=20_000, lookback_ms=0, safety_lag_ms=0) is None  # initial load first


def test_cursor_round_trips_through_json() -> None:
    cursor = Cursor(position=1_700_000_000_123, boundary_ids=frozenset({"b", "a"}))
    assert cursor.to_json() == {"position": 1_700_000_000_123, "boundary_ids": ["a", "b"]}
    assert Cursor.from_json(cursor.to_json()) == cursor
    assert Cursor.from_json(None) == Cursor() and not Cursor().initial_done
    settled = Cursor(position=1_700_000_040_000, settled=True)  # older stores hold no "settled": False
    assert settled.to_json() == {"position": 1_700_000_040_000, "boundary_ids": [], "settled": True}
    assert Cursor.from_json(settled.to_json()) == settled


def test_a_settled_window_ends_in_a_settled_cursor_only_when_read_to_its_end() -> None:
    tracker = CursorTracker(Window(0, 120_000), Cursor(position=0), settled=True)
    tracker.observe([("1", 30_000)])
    assert tracker.cursor() == Cursor(position=30_000, boundary_ids=frozenset({"1"}))  # mid-window: a lookback next
    assert tracker.finish() == Cursor(position=120_000, settled=True)
    assert whole_minute(119_999) == 60_000 and whole_minute(120_000) == 120_000


def test_tracker_keeps_every_id_at_the_last_millisecond() -> None:
    tracker = CursorTracker(Window(0, 1_000), Cursor(position=0))
    tracker.observe([("1", 10), ("2", 20), ("3", 20)])
    assert tracker.cursor() == Cursor(position=20, boundary_ids=frozenset({"2", "3"}))
    tracker.observe([("4", 20), ("5", 30)])
    assert tracker.cursor() == Cursor(position=30, boundary_ids=frozenset({"5"}))
    assert tracker.finish() == Cursor(position=1_000)


def test_tracker_rejects_an_unsorted_system() -> None:
    tracker = CursorTracker(Window(0, 1_000), Cursor(position=0))
    tracker.observe([("1", 50)])
    with pytest.raises(ValueError, match="out of order"):
        tracker.observe([("2", 40)])


@settings(deadline=None, suppress_health_check=[HealthCheck.too_slow])  # the same examples on a busy machine
@given(st.lists(st.tuples(st.integers(0, 50), st.integers(0, 999)), min_size=1, max_size=200),
       st.integers(1, 40))
def test_resuming_from_any_page_boundary_loses_nothing(records: list[tuple[int, int]], page: int) -> None:
    """Crash after any page: re-reading from the cursor (records at position minus boundary ids) gets the rest."""
    rows = sorted({(m, f"id{i}") for i, m in records})
    pages = [rows[i:i + page] for i in range(0, len(rows), page)]
    for crash_after in range(len(pages) + 1):
        tracker = CursorTracker(Window(0, 1_000), Cursor(position=0))
        stored: set[str] = set()
        for p in pages[:crash_after]:
            stored.update(i for _, i in p)
            tracker.observe((i, m) for m, i in p)
        cursor = tracker.cursor()
        assert cursor.position is not None
        reread = {i for m, i in rows if m > cursor.position or (m == cursor.position and i not in cursor.boundary_ids)}
        assert stored | reread == {i for _, i in rows}


def _reads(starts: list[int], lookback: int, lag: int, *, recheck_once: bool) -> dict[int, list[int]]:
    """For each instant (ms, from 0), the runs (their index) whose window covered it, when runs start at
    `starts` and each reads its window to the end (the cursor moves to the window's end)."""
    cursor = Cursor(position=0)
    covered: dict[int, list[int]] = {}
    for run, started in enumerate(starts):
        window = next_window(cursor, run_started_ms=started, lookback_ms=lookback, safety_lag_ms=lag,
                             recheck_once=recheck_once)
        if window is None:
            continue
        for start, end in window.ranges():
            for t in range(max(start, 0), end):
                covered.setdefault(t, []).append(run)
        tracker = CursorTracker(window, cursor, rechecked=started - lag - lookback if recheck_once else None)
        cursor = tracker.finish()
    return covered


@settings(max_examples=200, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(gaps=st.lists(st.integers(min_value=1, max_value=40), min_size=2, max_size=12),
       lookback=st.integers(min_value=0, max_value=30), lag=st.integers(min_value=0, max_value=10))
def test_recheck_once_reads_each_instant_at_most_twice_and_last_at_the_same_run(
        gaps: list[int], lookback: int, lag: int) -> None:
    """The look-back exists for records that show up late: what matters is the LAST run that reads an
    instant (a record indexed by then is found). Skipping the re-reads in between must not move it."""
    starts = [sum(gaps[:i + 1]) + lag + 1 for i in range(len(gaps))]
    before = _reads(starts, lookback, lag, recheck_once=False)
    after = _reads(starts, lookback, lag, recheck_once=True)
    assert set(after) == set(before)  # every instant is still read
    ceilings = [started - lag for started in starts]
    for t, runs in after.items():
        assert runs[0] == before[t][0]  # first read: as soon as the ceiling passes it
        assert len(runs) <= 2
        # last read: the first run whose ceiling passes t by the look-back, in both (runs before it that
        # re-read t only found sooner what it finds); an instant no run has passed so far still has it owed
        final = next((k for k in before[t] if ceilings[k] - lookback > t), None)
        if final is not None:
            assert before[t][-1] == final and runs[-1] == final


def test_recheck_once_skips_what_was_read_once_and_is_not_yet_due() -> None:
    # cursor at 10,000, last look-back read done up to 9,000; ceiling 10,500, look-back 1,000: the instants
    # in [9,500, 10,000) were read once and are due when a ceiling passes them by the look-back
    cursor = Cursor(position=10_000, rechecked=9_000)
    window = next_window(cursor, run_started_ms=11_000, lookback_ms=1_000, safety_lag_ms=500, recheck_once=True)
    assert window == Window(9_000, 10_500, skip=(9_500, 10_000))
    assert window.ranges() == ((9_000, 9_500), (10_000, 10_500))
    # cycles further apart than the look-back read one window, as before
    far = next_window(cursor, run_started_ms=12_000, lookback_ms=1_000, safety_lag_ms=500, recheck_once=True)
    assert far == Window(9_000, 11_500)
    # a cursor that never kept `rechecked` (a first load, an older store) reads a look-back before itself
    assert next_window(Cursor(position=10_000), run_started_ms=11_000, lookback_ms=1_000, safety_lag_ms=500,
                       recheck_once=True) == Window(9_000, 10_500)
    # a run that reaches further back (the nightly sweep's day) reads its whole window, and its end moves
    # `rechecked` no further than the normal runs' last read has gone
    sweep = next_window(cursor, run_started_ms=11_000, lookback_ms=86_400_000, safety_lag_ms=500,
                        recheck_once=True)
    assert sweep == Window(10_000 - 86_400_000, 10_500)
    assert CursorTracker(sweep, cursor, rechecked=10_500 - 86_400_000).finish().rechecked == 9_000
    tracker = CursorTracker(window, cursor, rechecked=10_500 - 1_000)
    assert tracker.cursor().rechecked == 9_000  # a crash mid-window keeps the last read still owed
    assert tracker.finish() == Cursor(position=10_500, rechecked=9_500)
