"""Working-time arithmetic for the handoff SLA: how much working time lies between two instants, and when a
given amount of it has elapsed.

A `BusinessCalendar` says when people work: a time zone, working weekdays, one or more working intervals a
day (local wall-clock times) and holidays. Working time is real elapsed time inside those intervals, so a
09:00-17:00 day is 8 hours on the DST days too, while a 00:00-24:00 day is 23 or 25 hours then (as many as
the clock really ran). Both functions walk the calendar a day at a time, with each day's periods (as UTC
epoch milliseconds) computed once per calendar, so a span of months costs a few hundred dictionary look-ups.

Local times that the clock skips (the hour lost in spring) mean the moment the clock resumes (work set to
start at 02:30 on that day starts at 03:00); local times it shows twice (autumn) mean their first occurrence.
Both choices keep local-to-UTC conversion non-decreasing, so a calendar's periods never overlap, even in
zones that skipped a whole day (Pacific/Apia, 2011).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import NamedTuple
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["DAY_MS", "HOUR_MS", "MON_FRI", "BusinessCalendar", "add_working_ms", "format_interval",
           "parse_interval", "working_ms_between"]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
#: Monday to Friday, as `date.weekday()` numbers them (Monday = 0)
MON_FRI: frozenset[int] = frozenset({0, 1, 2, 3, 4})

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_NAIVE_EPOCH = datetime(1970, 1, 1)
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_MS = timedelta(milliseconds=1)
_INTERVAL = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
#: a calendar forgets its computed days beyond this many (a bound on memory, far above any report's span)
_MAX_CACHED_DAYS = 200_000


def _time_ms(t: time, end: bool) -> int:
    """Milliseconds since local midnight; an interval's end at 00:00 is the end of the day (24:00)."""
    ms = ((t.hour * 60 + t.minute) * 60 + t.second) * 1000 + t.microsecond // 1000
    return DAY_MS if end and ms == 0 else ms


def format_interval(start: time, end: time) -> str:
    """`HH:MM-HH:MM` (seconds when set), the end at midnight as 24:00: how messages name an interval."""
    def fmt(t: time, is_end: bool) -> str:
        if is_end and t == time(0):
            return "24:00"
        return t.strftime("%H:%M:%S" if t.second or t.microsecond else "%H:%M")
    return f"{fmt(start, False)}-{fmt(end, True)}"


def parse_interval(text: str) -> tuple[time, time]:
    """`"09:00-17:00"` as (start, end) local times; `24:00` as an end is midnight (returned as time(0), which
    `BusinessCalendar` reads as the end of the day). Raises ValueError saying what is wrong."""
    m = _INTERVAL.match(text)
    if not m:
        raise ValueError(f"working hours {text!r} are not HH:MM-HH:MM (e.g. '09:00-17:00')")
    h1, m1, h2, m2 = (int(g) for g in m.groups())
    if h1 > 23 or m1 > 59 or h2 > 24 or m2 > 59 or (h2 == 24 and m2):
        raise ValueError(f"working hours {text!r} name a time that does not exist (00:00 to 24:00)")
    start, end = time(h1, m1), time(0 if h2 == 24 else h2, m2)
    if _time_ms(end, True) <= _time_ms(start, False):
        raise ValueError(f"working hours {text!r} end before they start: the end must be later the same day "
                         "(24:00 for midnight; split a night shift into two intervals)")
    return start, end


class _Day(NamedTuple):
    start: int  # the instant local midnight begins this day (epoch ms)
    periods: tuple[tuple[int, int], ...]  # working periods [start, end) as epoch ms, sorted, non-empty
    total: int  # their summed length in ms


@dataclass(frozen=True)
class BusinessCalendar:
    """When people work. `working_days` are `date.weekday()` numbers (Monday = 0); `working_hours` are
    (start, end) local times, an end of 00:00 meaning midnight at the end of the day; `holidays` are local
    dates with no working time. Invalid values raise ValueError on construction. Equal calendars compare and
    hash equal; each instance remembers the days it has computed."""

    time_zone: str = "UTC"
    working_days: frozenset[int] = MON_FRI
    working_hours: tuple[tuple[time, time], ...] = ((time(9), time(17)),)
    holidays: frozenset[date] = frozenset()
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _spans: tuple[tuple[int, int], ...] = field(init=False, repr=False, compare=False)
    _days: dict[int, _Day] = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.time_zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {self.time_zone!r}: use an IANA name such as 'Europe/Berlin' "
                             "or 'America/New_York'") from None
        days = frozenset(self.working_days)
        if not days:
            raise ValueError("no working days: name at least one")
        if not days <= set(range(7)):
            raise ValueError(f"working days must be weekday numbers 0 (Monday) to 6, got {sorted(days)}")
        if not self.working_hours:
            raise ValueError("no working hours: give at least one interval such as 09:00-17:00")
        for start, end in self.working_hours:
            if start.tzinfo is not None or end.tzinfo is not None:
                raise ValueError("working hours are local wall-clock times: give them without a tzinfo")
            if start.microsecond % 1000 or end.microsecond % 1000:
                raise ValueError("working hours are exact to the millisecond: no finer")
            if _time_ms(end, True) <= _time_ms(start, False):
                raise ValueError(f"working hours {format_interval(start, end)} end before they start")
        hours = tuple(sorted(self.working_hours, key=lambda iv: _time_ms(iv[0], False)))
        for (s1, e1), (s2, e2) in zip(hours, hours[1:], strict=False):
            if _time_ms(s2, False) < _time_ms(e1, True):
                raise ValueError(f"working hours {format_interval(s1, e1)} and {format_interval(s2, e2)} overlap")
        for d in self.holidays:
            if isinstance(d, datetime) or not isinstance(d, date):
                raise ValueError(f"holidays are dates, got {d!r}")
        object.__setattr__(self, "working_days", days)
        object.__setattr__(self, "working_hours", hours)
        object.__setattr__(self, "holidays", frozenset(self.holidays))
        object.__setattr__(self, "_zone", zone)
        object.__setattr__(self, "_spans", tuple((_time_ms(s, False), _time_ms(e, True)) for s, e in hours))

    # -- conversions (exact: integer milliseconds throughout)

    def _offset_at(self, instant: int) -> int:
        off = (_EPOCH + instant * _MS).astimezone(self._zone).utcoffset()
        assert off is not None
        return off // _MS

    def _ordinal_at(self, instant: int) -> int:
        """The local date (as an ordinal) the instant falls on."""
        return (_EPOCH + instant * _MS).astimezone(self._zone).toordinal()

    def _instant(self, ordinal: int, ms_of_day: int) -> int:
        """The instant the local clock shows `ms_of_day` on that day: its first occurrence when it shows it
        twice, the moment the clock resumes when it skips it."""
        local = (ordinal - _EPOCH_ORDINAL) * DAY_MS + ms_of_day
        wall = (_NAIVE_EPOCH + local * _MS).replace(tzinfo=self._zone)
        off0 = wall.utcoffset()
        assert off0 is not None
        instant = local - off0 // _MS
        after = self._offset_at(instant)
        if after == off0 // _MS:
            return instant
        # a skipped local time: `instant` lies after the transition, the other reading before it
        off1 = wall.replace(fold=1).utcoffset()
        assert off1 is not None
        lo = local - off1 // _MS
        if lo >= instant or self._offset_at(lo) == after:
            return instant
        while instant - lo > 1:  # the first instant with the new offset
            mid = (lo + instant) // 2
            if self._offset_at(mid) == after:
                instant = mid
            else:
                lo = mid
        return instant

    def _day(self, ordinal: int) -> _Day:
        day = self._days.get(ordinal)
        if day is not None:
            return day
        local = date.fromordinal(ordinal)
        periods: list[tuple[int, int]] = []
        if local.weekday() in self.working_days and local not in self.holidays:
            for a, b in self._spans:
                start, end = self._instant(ordinal, a), self._instant(ordinal, b)
                if end > start:
                    periods.append((start, end))
        day = _Day(self._instant(ordinal, 0), tuple(periods), sum(e - s for s, e in periods))
        if len(self._days) >= _MAX_CACHED_DAYS:
            self._days.clear()
        self._days[ordinal] = day
        return day


def working_ms_between(cal: BusinessCalendar, start_ms: int, end_ms: int) -> int:
    """The working time in [start_ms, end_ms), in milliseconds (0 when end_ms <= start_ms)."""
    if end_ms <= start_ms:
        return 0
    total = 0
    ordinal = cal._ordinal_at(start_ms)
    while True:
        day = cal._day(ordinal)
        if day.start >= end_ms:  # this day and every later one begin after the span
            return total
        if day.total:
            if day.periods[0][0] >= start_ms and day.periods[-1][1] <= end_ms:
                total += day.total
            else:
                for s, e in day.periods:
                    lo, hi = max(s, start_ms), min(e, end_ms)
                    if hi > lo:
                        total += hi - lo
        ordinal += 1


def add_working_ms(cal: BusinessCalendar, start_ms: int, working_ms: int) -> int:
    """The earliest instant by which `working_ms` of working time has elapsed since `start_ms`: an SLA's due
    time. Counting starts at the next working period when `start_ms` is outside one; a sum that fills a
    period exactly ends at that period's end (17:00, not the next morning); 0 gives `start_ms` itself."""
    if working_ms < 0:
        raise ValueError("working time to add must not be negative")
    if working_ms == 0:
        return start_ms
    left = working_ms
    ordinal = cal._ordinal_at(start_ms)
    while True:
        day = cal._day(ordinal)
        if day.total:
            if day.periods[0][0] >= start_ms and left > day.total:
                left -= day.total
            else:
                for s, e in day.periods:
                    if e <= start_ms:
                        continue
                    lo = max(s, start_ms)
                    if left <= e - lo:
                        return lo + left
                    left -= e - lo
        ordinal += 1
