"""Millisecond and date helpers; dates are cached because the same few hundred days recur millions of times."""

from __future__ import annotations

from datetime import date

__all__ = ["MINUTE", "HOUR", "DAY", "day_str"]

MINUTE = 60_000
HOUR = 3_600_000
DAY = 86_400_000
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_DAYS: dict[int, str] = {}


def day_str(ms: int) -> str:
    """The UTC date of an epoch-millisecond time as YYYY-MM-DD."""
    day = ms // DAY
    text = _DAYS.get(day)
    if text is None:
        text = _DAYS[day] = date.fromordinal(_EPOCH_ORDINAL + day).isoformat()
    return text
