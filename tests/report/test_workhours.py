"""Working-hours arithmetic: hand-computed cases (expected instants written in UTC, worked out from each zone's
offsets by hand) across weekends, holidays, DST changes and far-apart zones, and hypothesis properties."""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from connector.report.workhours import (HOUR_MS, BusinessCalendar, add_working_ms, parse_interval,
                                        working_ms_between)

H = HOUR_MS
MIN = 60_000
ALL_WEEK = frozenset(range(7))
ALL_DAY = ((time(0), time(0)),)  # 00:00-24:00


def z(text: str) -> int:
    """'2026-03-29T07:00' (UTC) as epoch milliseconds."""
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


BERLIN = BusinessCalendar("Europe/Berlin")
BERLIN_7 = BusinessCalendar("Europe/Berlin", ALL_WEEK)
NEW_YORK = BusinessCalendar("America/New_York")
NEW_YORK_7 = BusinessCalendar("America/New_York", ALL_WEEK)
SPLIT = BusinessCalendar("Europe/Berlin", working_hours=((time(9), time(12)), (time(13), time(17))))


# -- plain weeks, weekends, holidays, outside hours

def test_a_working_week_and_a_weekend() -> None:
    # Mon 2026-01-05 to Mon 2026-01-12, Berlin in winter (UTC+1): five 8-hour days
    assert working_ms_between(BERLIN, z("2026-01-05T00:00"), z("2026-01-12T00:00")) == 40 * H
    # Friday 16:00 CET to Monday 10:00 CET: one hour each side of the weekend
    assert working_ms_between(BERLIN, z("2026-01-09T15:00"), z("2026-01-12T09:00")) == 2 * H
    assert add_working_ms(BERLIN, z("2026-01-09T15:00"), 2 * H) == z("2026-01-12T09:00")


def test_a_whole_year_in_one_call() -> None:
    # 2026 starts on a Thursday: 52 weeks and one weekday, 261 working days of 8 hours
    start, end = z("2025-12-31T23:00"), z("2026-12-31T23:00")  # Berlin's 2026, midnight to midnight
    assert working_ms_between(BERLIN, start, end) == 2088 * H
    assert add_working_ms(BERLIN, start, 2088 * H) == z("2026-12-31T16:00")  # Thu 31 Dec 17:00 CET


def test_holidays_have_no_working_time() -> None:
    xmas = BusinessCalendar("Europe/Berlin", holidays=frozenset({date(2026, 12, 24), date(2026, 12, 25)}))
    # Wed 23 Dec 16:00 CET + 8h: 1h on Wednesday, Thu/Fri holidays, the weekend, 7h on Mon 28 Dec (to 16:00)
    assert add_working_ms(xmas, z("2026-12-23T15:00"), 8 * H) == z("2026-12-28T15:00")
    assert working_ms_between(xmas, z("2026-12-23T15:00"), z("2026-12-28T15:00")) == 8 * H
    # without the holidays it is due on Thursday
    assert add_working_ms(BERLIN, z("2026-12-23T15:00"), 8 * H) == z("2026-12-24T15:00")


def test_starting_outside_hours_counts_from_the_next_period() -> None:
    # Tue 6 Jan 20:00 CET: counting starts Wed 09:00 CET
    assert add_working_ms(BERLIN, z("2026-01-06T19:00"), 2 * H) == z("2026-01-07T10:00")
    # 06:00 the same morning: counting starts at 09:00
    assert add_working_ms(BERLIN, z("2026-01-07T05:00"), 30 * MIN) == z("2026-01-07T08:30")
    # Saturday: counting starts Monday
    assert add_working_ms(BERLIN, z("2026-01-10T10:00"), 1) == z("2026-01-12T08:00") + 1
    assert working_ms_between(BERLIN, z("2026-01-06T19:00"), z("2026-01-07T07:59")) == 0


def test_zero_and_reversed_spans() -> None:
    assert add_working_ms(BERLIN, z("2026-01-10T10:00"), 0) == z("2026-01-10T10:00")  # no time to elapse
    assert working_ms_between(BERLIN, z("2026-01-07T12:00"), z("2026-01-07T10:00")) == 0
    assert working_ms_between(BERLIN, z("2026-01-07T12:00"), z("2026-01-07T12:00")) == 0
    with pytest.raises(ValueError, match="negative"):
        add_working_ms(BERLIN, 0, -1)


def test_exact_to_the_millisecond() -> None:
    assert working_ms_between(BERLIN, z("2026-01-07T07:59"), z("2026-01-07T08:00") + 1) == 1
    assert add_working_ms(BERLIN, z("2026-01-07T15:59"), 60_001) == z("2026-01-08T08:00") + 1


def test_a_period_filled_exactly_ends_at_its_end() -> None:
    # 8h from Monday 09:00 CET is Monday 17:00 CET, not Tuesday 09:00
    assert add_working_ms(BERLIN, z("2026-01-05T08:00"), 8 * H) == z("2026-01-05T16:00")
    assert add_working_ms(BERLIN, z("2026-01-05T08:00"), 8 * H + 1) == z("2026-01-06T08:00") + 1


# -- split working hours

def test_split_hours_skip_the_lunch_break() -> None:
    # Mon 5 Jan, Berlin: 09:00-12:00 and 13:00-17:00 CET (08:00-11:00Z, 12:00-16:00Z)
    assert working_ms_between(SPLIT, z("2026-01-05T00:00"), z("2026-01-06T00:00")) == 7 * H
    assert working_ms_between(SPLIT, z("2026-01-05T10:30"), z("2026-01-05T12:30")) == 1 * H  # 11:30-13:30 CET
    assert add_working_ms(SPLIT, z("2026-01-05T08:00"), 3 * H) == z("2026-01-05T11:00")  # 12:00, the break's start
    assert add_working_ms(SPLIT, z("2026-01-05T08:00"), 3 * H + 1) == z("2026-01-05T12:00") + 1
    assert add_working_ms(SPLIT, z("2026-01-05T11:30"), 1 * H) == z("2026-01-05T13:00")  # from 12:30 CET: 14:00
    assert add_working_ms(SPLIT, z("2026-01-05T15:00"), 2 * H) == z("2026-01-06T09:00")  # 1h Mon, 1h Tue: 10:00


# -- DST: Europe/Berlin 2026-03-29 (02:00 CET -> 03:00 CEST) and 2026-10-25 (03:00 CEST -> 02:00 CET)

def test_berlin_dst_days_keep_eight_working_hours() -> None:
    assert working_ms_between(BERLIN_7, z("2026-03-29T00:00"), z("2026-03-30T00:00")) == 8 * H  # 07:00-15:00Z
    assert working_ms_between(BERLIN_7, z("2026-03-29T07:00"), z("2026-03-29T15:00")) == 8 * H
    assert working_ms_between(BERLIN_7, z("2026-10-25T00:00"), z("2026-10-26T00:00")) == 8 * H  # 08:00-16:00Z
    assert working_ms_between(BERLIN_7, z("2026-10-25T08:00"), z("2026-10-25T16:00")) == 8 * H
    # Sat 28 Mar 16:00 CET (15:00Z) + 2h: 1h to 17:00 CET (16:00Z), then Sunday from 09:00 CEST (07:00Z)
    assert add_working_ms(BERLIN_7, z("2026-03-28T15:00"), 2 * H) == z("2026-03-29T08:00")
    # Sat 24 Oct 16:00 CEST (14:00Z) + 2h: Sunday starts 09:00 CET (08:00Z)
    assert add_working_ms(BERLIN_7, z("2026-10-24T14:00"), 2 * H) == z("2026-10-25T09:00")


def test_berlin_across_the_dst_weekends_on_a_weekday_calendar() -> None:
    # Fri 27 Mar 09:00 CET (08:00Z) to Mon 30 Mar 17:00 CEST (15:00Z): 79 wall hours, 16 working
    assert working_ms_between(BERLIN, z("2026-03-27T08:00"), z("2026-03-30T15:00")) == 16 * H
    assert add_working_ms(BERLIN, z("2026-03-27T08:00"), 16 * H) == z("2026-03-30T15:00")
    # Fri 23 Oct 09:00 CEST (07:00Z) + 9h: Fri to 15:00Z, then Mon 26 Oct 09:00 CET (08:00Z) + 1h
    assert add_working_ms(BERLIN, z("2026-10-23T07:00"), 9 * H) == z("2026-10-26T09:00")


def test_whole_day_calendars_count_the_hours_the_clock_really_ran() -> None:
    all_day = BusinessCalendar("Europe/Berlin", ALL_WEEK, ALL_DAY)
    # local midnights: 28 Mar 23:00Z -> 29 Mar 22:00Z (23h); 24 Oct 22:00Z -> 25 Oct 23:00Z (25h)
    assert working_ms_between(all_day, z("2026-03-28T00:00"), z("2026-03-31T00:00")) == 72 * H
    assert working_ms_between(all_day, z("2026-03-28T23:00"), z("2026-03-29T22:00")) == 23 * H
    assert working_ms_between(all_day, z("2026-10-24T22:00"), z("2026-10-25T23:00")) == 25 * H
    # the night shift 01:00-04:00 is 2 real hours in spring (00:00-02:00Z), 4 in autumn (23:00Z-03:00Z)
    night = BusinessCalendar("Europe/Berlin", ALL_WEEK, ((time(1), time(4)),))
    assert working_ms_between(night, z("2026-03-28T12:00"), z("2026-03-29T12:00")) == 2 * H
    assert working_ms_between(night, z("2026-10-24T12:00"), z("2026-10-25T12:00")) == 4 * H
    assert add_working_ms(night, z("2026-10-24T12:00"), 3 * H) == z("2026-10-25T02:00")


def test_a_local_time_the_clock_skips_means_the_moment_it_resumes() -> None:
    # work from 02:30 on 29 Mar: 02:30 never shows, so it starts at 03:00 CEST (01:00Z); until 04:00 CEST: 1h
    early = BusinessCalendar("Europe/Berlin", ALL_WEEK, ((time(2, 30), time(4)),))
    assert working_ms_between(early, z("2026-03-29T00:00"), z("2026-03-29T12:00")) == 1 * H
    assert add_working_ms(early, z("2026-03-29T00:00"), 30 * MIN) == z("2026-03-29T01:30")
    # on the autumn day 02:30 shows twice: the first one (00:30Z) starts it; 04:00 CET is 03:00Z
    assert working_ms_between(early, z("2026-10-25T00:00"), z("2026-10-25T12:00")) == 150 * MIN


# -- DST: America/New_York 2026-03-08 (02:00 EST -> 03:00 EDT) and 2026-11-01 (02:00 EDT -> 01:00 EST)

def test_new_york_dst_days_keep_eight_working_hours() -> None:
    assert working_ms_between(NEW_YORK_7, z("2026-03-08T00:00"), z("2026-03-09T04:00")) == 8 * H  # 13:00-21:00Z
    assert add_working_ms(NEW_YORK_7, z("2026-03-08T00:00"), 8 * H) == z("2026-03-08T21:00")
    assert working_ms_between(NEW_YORK_7, z("2026-11-01T05:00"), z("2026-11-02T05:00")) == 8 * H  # 14:00-22:00Z
    assert add_working_ms(NEW_YORK_7, z("2026-11-01T05:00"), 8 * H) == z("2026-11-01T22:00")
    all_day = BusinessCalendar("America/New_York", ALL_WEEK, ALL_DAY)
    assert working_ms_between(all_day, z("2026-03-08T05:00"), z("2026-03-09T04:00")) == 23 * H
    assert working_ms_between(all_day, z("2026-11-01T04:00"), z("2026-11-02T05:00")) == 25 * H


def test_new_york_across_the_dst_weekends() -> None:
    # Fri 6 Mar 16:00 EST (21:00Z) + 2h: 1h Friday, Mon 9 Mar 09:00 EDT (13:00Z) + 1h
    assert add_working_ms(NEW_YORK, z("2026-03-06T21:00"), 2 * H) == z("2026-03-09T14:00")
    assert working_ms_between(NEW_YORK, z("2026-03-06T14:00"), z("2026-03-09T21:00")) == 16 * H
    # Fri 30 Oct 16:00 EDT (20:00Z) + 3h: 1h Friday, Mon 2 Nov 09:00 EST (14:00Z) + 2h
    assert add_working_ms(NEW_YORK, z("2026-10-30T20:00"), 3 * H) == z("2026-11-02T16:00")
    assert working_ms_between(NEW_YORK, z("2026-10-30T13:00"), z("2026-11-02T22:00")) == 16 * H


# -- time zones far apart

def test_auckland_works_while_europe_sleeps() -> None:
    akl = BusinessCalendar("Pacific/Auckland")
    # NZDT (UTC+13) in January: Fri 9 Jan 09:00-17:00 NZDT is 8 Jan 20:00Z to 9 Jan 04:00Z
    assert working_ms_between(akl, z("2026-01-09T00:00"), z("2026-01-09T23:59")) == 4 * H
    assert working_ms_between(akl, z("2026-01-08T20:00"), z("2026-01-09T04:00")) == 8 * H
    # Fri 9 Jan 12:00Z is Sat 10 Jan 01:00 NZDT: the clock starts Mon 12 Jan 09:00 NZDT (11 Jan 20:00Z)
    assert add_working_ms(akl, z("2026-01-09T12:00"), 8 * H) == z("2026-01-12T04:00")
    # NZ's DST ends 5 Apr 2026 (03:00 NZDT -> 02:00 NZST) and starts 27 Sep 2026 (02:00 NZST -> 03:00 NZDT)
    all_day = BusinessCalendar("Pacific/Auckland", ALL_WEEK, ALL_DAY)
    assert working_ms_between(all_day, z("2026-04-04T11:00"), z("2026-04-05T12:00")) == 25 * H
    assert working_ms_between(all_day, z("2026-09-26T12:00"), z("2026-09-27T11:00")) == 23 * H
    # Fri 3 Apr 16:00 NZDT (03:00Z) + 2h: Mon 6 Apr 09:00 NZST (5 Apr 21:00Z) + 1h
    assert add_working_ms(akl, z("2026-04-03T03:00"), 2 * H) == z("2026-04-05T22:00")


def test_kolkata_half_hour_offset() -> None:
    ist = BusinessCalendar("Asia/Kolkata")
    # UTC+5:30: Mon 5 Jan 09:00-17:00 IST is 03:30-11:30Z
    assert working_ms_between(ist, z("2026-01-05T00:00"), z("2026-01-05T04:00")) == 30 * MIN
    assert add_working_ms(ist, z("2026-01-05T11:00"), 1 * H) == z("2026-01-06T04:00")
    assert add_working_ms(ist, z("2026-01-09T11:00"), 1 * H) == z("2026-01-12T04:00")  # over the weekend


def test_a_skipped_day_is_never_counted_twice() -> None:
    # Samoa skipped 30 Dec 2011 (UTC-10 to UTC+14): four real days from 28 Dec 10:00Z are four working days
    apia = BusinessCalendar("Pacific/Apia", ALL_WEEK, ALL_DAY)
    assert working_ms_between(apia, z("2011-12-28T10:00"), z("2012-01-01T10:00")) == 96 * H


# -- validation

@pytest.mark.parametrize(("kwargs", "message"), [
    ({"time_zone": "Mars/Olympus"}, "unknown time zone 'Mars/Olympus'"),
    ({"time_zone": "../etc/passwd"}, "unknown time zone"),
    ({"working_days": frozenset()}, "no working days"),
    ({"working_days": frozenset({7})}, "weekday numbers"),
    ({"working_hours": ()}, "no working hours"),
    ({"working_hours": ((time(17), time(9)),)}, "17:00-09:00 end before they start"),
    ({"working_hours": ((time(9), time(12)), (time(11), time(17)))}, "09:00-12:00 and 11:00-17:00 overlap"),
    ({"working_hours": ((time(13), time(0)), (time(9), time(14)))}, "09:00-14:00 and 13:00-24:00 overlap"),
    ({"holidays": frozenset({datetime(2026, 12, 25)})}, "holidays are dates"),
])
def test_invalid_calendars_say_what_is_wrong(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**kwargs)  # type: ignore[arg-type]


def test_intervals_are_ordered_and_equal_calendars_are_equal() -> None:
    a = BusinessCalendar("Europe/Berlin", working_hours=((time(13), time(17)), (time(9), time(12))))
    assert a.working_hours == ((time(9), time(12)), (time(13), time(17)))
    assert a == SPLIT and hash(a) == hash(SPLIT)


@pytest.mark.parametrize(("text", "expected"), [
    ("09:00-17:00", (time(9), time(17))),
    (" 9:30 - 12:00 ", (time(9, 30), time(12))),
    ("13:00-24:00", (time(13), time(0))),
])
def test_parse_interval(text: str, expected: tuple[time, time]) -> None:
    assert parse_interval(text) == expected


@pytest.mark.parametrize(("text", "message"), [
    ("17:00-09:00", "end before they start"),
    ("9-17", "not HH:MM-HH:MM"),
    ("09:00-25:00", "does not exist"),
    ("24:00-24:00", "does not exist"),
    ("10:00-10:00", "end before they start"),
])
def test_parse_interval_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_interval(text)


# -- properties

ZONES = ["UTC", "Europe/Berlin", "America/New_York", "Pacific/Auckland", "Asia/Kolkata", "Asia/Kathmandu",
         "Australia/Lord_Howe", "America/Santiago", "America/Havana", "Pacific/Apia", "America/St_Johns"]
LO, HI = z("2025-01-01T00:00"), z("2028-01-01T00:00")


@st.composite
def calendars(draw: st.DrawFn) -> BusinessCalendar:
    days = draw(st.frozensets(st.integers(0, 6), min_size=1))
    # 1-3 intervals from distinct sorted boundaries in 15-minute steps (00:00 to 24:00)
    cuts = sorted(draw(st.lists(st.integers(0, 96), min_size=2, max_size=6, unique=True)))
    if len(cuts) % 2:
        cuts = cuts[:-1]
    quarter = [time(c // 4, c % 4 * 15) if c < 96 else time(0) for c in cuts]
    hours = tuple((quarter[i], quarter[i + 1]) for i in range(0, len(quarter), 2))
    holidays = draw(st.frozensets(st.dates(date(2025, 1, 1), date(2027, 12, 31)), max_size=20))
    return BusinessCalendar(draw(st.sampled_from(ZONES)), days, hours, holidays)


instants = st.integers(LO, HI)
durations = st.integers(0, 1000 * H)


@settings(deadline=None)
@given(calendars(), instants, durations)
def test_add_then_between_is_the_identity(cal: BusinessCalendar, start: int, d: int) -> None:
    assert working_ms_between(cal, start, add_working_ms(cal, start, d)) == d


@settings(deadline=None)
@given(calendars(), instants, durations, durations)
def test_add_is_monotone_and_additive(cal: BusinessCalendar, start: int, a: int, b: int) -> None:
    lo, hi = sorted((a, b))
    assert add_working_ms(cal, start, lo) <= add_working_ms(cal, start, hi)
    if lo < hi:
        assert add_working_ms(cal, start, lo) < add_working_ms(cal, start, hi)
    assert add_working_ms(cal, add_working_ms(cal, start, a), b) == add_working_ms(cal, start, a + b)


@settings(deadline=None)
@given(calendars(), instants, instants, instants)
def test_between_is_bounded_additive_and_add_finds_its_earliest_end(cal: BusinessCalendar, x: int, y: int,
                                                                    w: int) -> None:
    s, m, e = sorted((x, y, w))
    total = working_ms_between(cal, s, e)
    assert 0 <= total <= e - s
    assert working_ms_between(cal, s, m) + working_ms_between(cal, m, e) == total
    end = add_working_ms(cal, s, total)
    assert end <= e and working_ms_between(cal, s, end) == total


@settings(deadline=None)
@given(st.sampled_from(ZONES), instants, instants)
def test_a_calendar_that_always_works_counts_wall_time(zone: str, x: int, y: int) -> None:
    """Every DST change of every zone: the clock's real hours, none lost or counted twice."""
    cal = BusinessCalendar(zone, ALL_WEEK, ALL_DAY)
    s, e = sorted((x, y))
    assert working_ms_between(cal, s, e) == e - s
    assert add_working_ms(cal, s, e - s) == e
