"""Date literals (TODAY, LAST_N_DAYS:n, ...) as half-open UTC day ranges, and value rendering.

Simplification: the org and user time zone is UTC and weeks start on Sunday (the en_US locale).
Ranges follow Salesforce's "Date Formats and Date Literals" table: LAST_N_DAYS:n covers today and
the n days before it; NEXT_N_DAYS:n starts tomorrow; LAST_N_MONTHS:n ends before this month.
"""

from __future__ import annotations

__all__ = ["literal_range", "day_start_ms", "format_datetime_ms"]

from datetime import UTC, date, datetime, timedelta

_EPOCH = date(1970, 1, 1)


def day_start_ms(d: date) -> int:
    """Epoch ms of 00:00:00 UTC on day `d`."""
    return (d - _EPOCH).days * 86_400_000


def format_datetime_ms(ms: int) -> str:
    """Salesforce's JSON datetime form: 2024-01-02T03:04:05.000+0000."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}+0000"


def _add_months(d: date, months: int) -> date:
    index = d.year * 12 + (d.month - 1) + months
    return date(index // 12, index % 12 + 1, 1)


def literal_range(name: str, n: int | None, now_ms: int) -> tuple[date, date]:
    """[start, end) days of date literal `name` (with `n` for the ``:n`` forms) at `now_ms` in UTC."""
    today = (datetime.fromtimestamp(now_ms / 1000, tz=UTC)).date()
    week = today - timedelta(days=(today.weekday() + 1) % 7)
    month = today.replace(day=1)
    quarter = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    year = date(today.year, 1, 1)
    k = n if n is not None else 0
    day = timedelta(days=1)
    ranges: dict[str, tuple[date, date]] = {
        "TODAY": (today, today + day),
        "YESTERDAY": (today - day, today),
        "TOMORROW": (today + day, today + 2 * day),
        "THIS_WEEK": (week, week + 7 * day),
        "LAST_WEEK": (week - 7 * day, week),
        "NEXT_WEEK": (week + 7 * day, week + 14 * day),
        "THIS_MONTH": (month, _add_months(month, 1)),
        "LAST_MONTH": (_add_months(month, -1), month),
        "NEXT_MONTH": (_add_months(month, 1), _add_months(month, 2)),
        "THIS_QUARTER": (quarter, _add_months(quarter, 3)),
        "LAST_QUARTER": (_add_months(quarter, -3), quarter),
        "NEXT_QUARTER": (_add_months(quarter, 3), _add_months(quarter, 6)),
        "THIS_YEAR": (year, _add_months(year, 12)),
        "LAST_YEAR": (_add_months(year, -12), year),
        "NEXT_YEAR": (_add_months(year, 12), _add_months(year, 24)),
        "LAST_90_DAYS": (today - 90 * day, today + day),
        "NEXT_90_DAYS": (today + day, today + 91 * day),
        "LAST_N_DAYS": (today - k * day, today + day),
        "NEXT_N_DAYS": (today + day, today + (k + 1) * day),
        "N_DAYS_AGO": (today - k * day, today - (k - 1) * day),
        "LAST_N_WEEKS": (week - 7 * k * day, week),
        "NEXT_N_WEEKS": (week + 7 * day, week + 7 * (k + 1) * day),
        "N_WEEKS_AGO": (week - 7 * k * day, week - 7 * (k - 1) * day),
        "LAST_N_MONTHS": (_add_months(month, -k), month),
        "NEXT_N_MONTHS": (_add_months(month, 1), _add_months(month, k + 1)),
        "N_MONTHS_AGO": (_add_months(month, -k), _add_months(month, -k + 1)),
        "LAST_N_QUARTERS": (_add_months(quarter, -3 * k), quarter),
        "NEXT_N_QUARTERS": (_add_months(quarter, 3), _add_months(quarter, 3 * (k + 1))),
        "N_QUARTERS_AGO": (_add_months(quarter, -3 * k), _add_months(quarter, -3 * k + 3)),
        "LAST_N_YEARS": (_add_months(year, -12 * k), year),
        "NEXT_N_YEARS": (_add_months(year, 12), _add_months(year, 12 * (k + 1))),
        "N_YEARS_AGO": (_add_months(year, -12 * k), _add_months(year, -12 * k + 12)),
    }
    try:
        return ranges[name]
    except KeyError:
        raise ValueError(f"unknown date literal {name!r}") from None
