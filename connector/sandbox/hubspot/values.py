"""Property value validation and normalisation, as HubSpot applies it to every write.

Values are stored as HubSpot returns them: strings; datetimes as ISO-8601 UTC with milliseconds
(``2024-01-17T19:55:04.281Z``), dates as ``YYYY-MM-DD``, booleans as ``"true"``/``"false"``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from .errors import PropertyError
from .schema import PropertyDef

__all__ = ["iso", "parse_time_ms", "normalize_value", "NAME_RE"]

NAME_RE = re.compile(r"^[a-z][a-z0-9_]*$")
_EPOCH = datetime(1970, 1, 1)


def iso(ms: int) -> str:
    """Epoch milliseconds as HubSpot renders timestamps."""
    dt = _EPOCH + timedelta(milliseconds=ms)
    return (f"{dt.year:04d}-{dt.month:02d}-{dt.day:02d}T{dt.hour:02d}:{dt.minute:02d}:{dt.second:02d}."
            f"{ms % 1000:03d}Z")


def parse_time_ms(value: Any) -> int | None:
    """Epoch ms from ms (int or digit string) or an ISO-8601 string; None when neither."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value)
    text = str(value).strip()
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    try:
        dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def normalize_value(prop: PropertyDef, value: Any) -> str | None:
    """The stored form of `value` for `prop` (None clears); raises PropertyError when invalid."""
    if value is None or value == "":
        return None
    text = _text(value)
    kind = prop.type
    if kind == "number":
        try:
            number = Decimal(text.strip())
        except InvalidOperation:
            raise PropertyError(prop.name, "INVALID_INTEGER", f"{text} was not a valid number") from None
        if not number.is_finite():
            raise PropertyError(prop.name, "INVALID_INTEGER", f"{text} was not a valid number")
        return str(int(number)) if number == number.to_integral_value() else format(number.normalize(), "f")
    if kind == "bool":
        lowered = text.strip().lower()
        if lowered not in ("true", "false"):
            raise PropertyError(prop.name, "INVALID_BOOLEAN", f"{text} was not a valid boolean (true or false)")
        return lowered
    if kind == "datetime":
        ms = parse_time_ms(text)
        if ms is None:
            raise PropertyError(prop.name, "INVALID_DATE",
                                f"{text} was not a valid date-time (epoch milliseconds or ISO-8601)")
        return iso(ms)
    if kind == "date":
        if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
            return text
        ms = parse_time_ms(text)
        if ms is None or ms % 86_400_000 != 0:
            raise PropertyError(prop.name, "INVALID_DATE",
                                f"{text} is not a valid date: use YYYY-MM-DD or epoch milliseconds at midnight UTC")
        return iso(ms)[:10]
    if kind == "enumeration" and prop.name != "hubspot_owner_id":
        allowed = prop.option_set()
        parts = text.split(";") if prop.field_type == "checkbox" else [text]
        for part in parts:
            if part not in allowed:
                listed = ", ".join(sorted(allowed))
                raise PropertyError(prop.name, "INVALID_OPTION",
                                    f"{part} was not one of the allowed options: [{listed}]")
        return text
    return text
