"""Converting field values between the wire (JSON or CSV) and their stored form, as Salesforce does.

Stored forms (shared with the SOQL module): datetime = epoch ms int, date = "YYYY-MM-DD", boolean =
bool, int/double numbers, everything else str, null = None.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime
from typing import Any

from ._errors import RecordError
from ._schema import FieldDef
from .ids import KEY_PREFIXES, to_18

__all__ = ["coerce", "render", "render_csv", "format_datetime", "parse_datetime", "format_date", "normalize_id",
           "EMAIL_RE", "KEEP"]

EMAIL_RE = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?"
                      r"(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)+$")
_ID_RE = re.compile(r"^[A-Za-z0-9]{15}(?:[A-Za-z0-9]{3})?$")
_DT_RE = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?"
                    r"(Z|[+-]\d{2}:?\d{2})?)?$")
_NUMERIC = ("int", "double", "currency", "percent")


class _Keep:
    """Marker: an empty CSV cell leaves the field unchanged (Bulk API semantics)."""


KEEP: Any = _Keep()
_KEEP = KEEP


def format_datetime(ms: int) -> str:
    """Salesforce's REST datetime form: ``2024-05-01T12:00:00.000+0000``."""
    dt = datetime.fromtimestamp(ms // 1000, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}+0000"


def format_date(ms: int) -> str:
    return datetime.fromtimestamp(ms // 1000, tz=UTC).strftime("%Y-%m-%d")


def parse_datetime(text: str) -> int | None:
    """Epoch ms of an ISO-8601 datetime (``Z``, ``+0000`` or ``+00:00``; a bare date is midnight UTC)."""
    m = _DT_RE.match(text.strip())
    if not m:
        return None
    y, mo, d, h, mi, s, frac, tz = m.groups()
    try:
        dt = datetime(int(y), int(mo), int(d), int(h or 0), int(mi or 0), int(s or 0), tzinfo=UTC)
    except ValueError:
        return None
    ms = int(dt.timestamp()) * 1000 + (int((frac or "0")[:3].ljust(3, "0")))
    if tz and tz != "Z":
        sign = 1 if tz[0] == "+" else -1
        digits = tz[1:].replace(":", "")
        ms -= sign * (int(digits[:2]) * 60 + int(digits[2:])) * 60_000
    return ms


def normalize_id(value: str) -> str | None:
    """The 18-character form of a 15- or 18-character id, or None if it is not id-shaped."""
    if not _ID_RE.match(value):
        return None
    return to_18(value) if len(value) == 15 else value[:15] + to_18(value[:15])[15:]


def _label(f: FieldDef) -> str:
    return f.label or f.name


def coerce(f: FieldDef, value: Any, *, csv: bool = False) -> Any:
    """The stored form of `value` for field `f`; raises RecordError with Salesforce's code and message."""
    if csv and isinstance(value, str):
        if value == "":
            return _KEEP
        if value == "#N/A":
            return None
    if value is None:
        return None
    t = f.type
    if t == "boolean":
        if isinstance(value, bool):
            return value
        if csv and isinstance(value, str) and value.lower() in ("true", "false", "1", "0", "yes", "no"):
            return value.lower() in ("true", "1", "yes")
        raise _type_error(f, value, "boolean")
    if t in _NUMERIC:
        return _number(f, value, csv)
    if t == "date":
        if isinstance(value, str):
            ms = parse_datetime(value)
            if ms is not None:
                return format_date(ms)
        raise _type_error(f, value, "date")
    if t == "datetime":
        if isinstance(value, str):
            ms = parse_datetime(value)
            if ms is not None:
                return ms
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return int(value)
        raise _type_error(f, value, "datetime")
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise _type_error(f, value, "string")
    text = str(value)
    if t in ("string", "email", "phone", "url", "picklist"):
        text = text.strip()  # Salesforce trims leading/trailing blanks of text values on save
    if t in ("reference", "id"):
        if text == "":
            return None
        rid = normalize_id(text)
        if rid is None or (f.reference_to
                           and not any(rid.startswith(KEY_PREFIXES.get(o, "~")) for o in f.reference_to)):
            raise RecordError("MALFORMED_ID", f"{_label(f)}: id value of incorrect type: {text}", [f.name])
        return rid
    if text == "" and t != "textarea":
        return None
    if t == "email" and not EMAIL_RE.match(text):
        raise RecordError("INVALID_EMAIL_ADDRESS", f"{_label(f)}: invalid email address: {text}", [f.name])
    if f.length and len(text) > f.length:
        raise RecordError("STRING_TOO_LONG",
                          f"{_label(f)}: data value too large: {text[:100]} (max length={f.length})", [f.name])
    if t == "picklist" and f.restricted and text not in f.picklist:
        raise RecordError("INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST",
                          f"{_label(f)}: bad value for restricted picklist field: {text}", [f.name])
    return text




def _number(f: FieldDef, value: Any, csv: bool) -> Any:
    if isinstance(value, bool):
        raise _type_error(f, value, "number")
    if isinstance(value, str):
        try:
            value = float(value)  # Salesforce's JSON parser accepts numeric strings, as CSV cells are
        except ValueError:
            raise _type_error(f, value, "number") from None
    if not isinstance(value, (int, float)) or (isinstance(value, float) and not math.isfinite(value)):
        raise _type_error(f, value, "number")
    if f.type == "int":
        if isinstance(value, float) and not value.is_integer():
            raise _type_error(f, value, "int")
        return int(value)
    if f.precision:
        limit = 10 ** (f.precision - f.scale)
        if abs(value) >= limit:
            raise RecordError("NUMBER_OUTSIDE_VALID_RANGE",
                              f"{_label(f)}: value outside of valid range on numeric field: {value}", [f.name])
        return round(float(value), f.scale)
    return float(value)  # Salesforce answers double, currency and percent values as JSON doubles


def _type_error(f: FieldDef, value: Any, kind: str) -> RecordError:
    return RecordError("JSON_PARSER_ERROR",
                       f"Cannot deserialize instance of {kind} from VALUE_STRING value {value} or request may be "
                       f"missing a required field", [f.name])


def render(f: FieldDef, value: Any) -> Any:
    """The REST JSON form of a stored value."""
    if value is None:
        return None
    if f.type == "datetime" and isinstance(value, int):
        return format_datetime(value)
    return value


def render_csv(f: FieldDef | None, value: Any) -> str:
    """The Bulk API 2.0 CSV form of a stored value (datetimes end in ``Z``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if f is not None and f.type == "datetime" and isinstance(value, int):
        return format_datetime(value)[:-5] + "Z"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)
