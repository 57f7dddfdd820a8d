"""What changed in the mapping files since the last sync (pure): per field, which of its settings changed, so
`connector plan` can say "fields.job_title: rule prefer_salesforce_unless_blank -> most_recent: 41 values
would change" before anyone syncs it.

The files are compared as parsed TOML, not as text: a comment or a reordering is no change.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["FieldChangeOfMapping", "field_changes", "native_names"]

#: a setting shown old -> new in full; any other setting is named as changed (value maps can be long)
_SCALARS = ("rule", "direction", "hubspot", "allow_blanking", "max_length", "default_region")


@dataclass(frozen=True, slots=True)
class FieldChangeOfMapping:
    """One field of one file whose settings differ: `changes` in words ("rule: a -> b", "values changed"),
    `before`/`after` its tables (None: added or removed)."""

    file: str
    field: str
    changes: tuple[str, ...]
    before: Mapping[str, Any] | None
    after: Mapping[str, Any] | None


def _fields(text: str | None) -> dict[str, Any]:
    if not text:
        return {}
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return {}
    fields = data.get("fields")
    return dict(fields) if isinstance(fields, dict) else {}


def _shown(value: Any) -> str:
    return "(unset)" if value is None else str(value)


def field_changes(file: str, before: str | None, after: str | None) -> list[FieldChangeOfMapping]:
    """The fields of `file` whose tables differ between the two texts, in name order."""
    old, new = _fields(before), _fields(after)
    out = []
    for name in sorted(set(old) | set(new)):
        a, b = old.get(name), new.get(name)
        if a == b:
            continue
        if a is None:
            out.append(FieldChangeOfMapping(file, name, ("added",), None, b))
            continue
        if b is None:
            out.append(FieldChangeOfMapping(file, name, ("removed",), a, None))
            continue
        words = [f"{key}: {_shown(a.get(key))} -> {_shown(b.get(key))}" for key in _SCALARS if a.get(key) != b.get(key)]
        words += [f"{key} changed" for key in sorted(set(a) | set(b))
                  if key not in _SCALARS and a.get(key) != b.get(key)]
        out.append(FieldChangeOfMapping(file, name, tuple(words), a, b))
    return out


def native_names(table: Mapping[str, Any] | None) -> dict[str, set[str]]:
    """The names a field table writes under, per system ("hubspot": {"jobtitle"}, "salesforce": {"Title"})."""
    if not table:
        return {}
    out: dict[str, set[str]] = {}
    hubspot = table.get("hubspot")
    if isinstance(hubspot, str):
        out["hubspot"] = {hubspot}
    salesforce = table.get("salesforce")
    if isinstance(salesforce, str):
        out["salesforce"] = {salesforce}
    elif isinstance(salesforce, dict):
        out["salesforce"] = {str(v) for v in salesforce.values() if isinstance(v, str)}
    return out
