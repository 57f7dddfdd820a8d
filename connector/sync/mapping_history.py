"""The mapping files as the last sync ran them, kept in the store, so a dry run can say what a change to them
will do before anyone syncs it (`connector plan`'s "since the last sync")."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from ..reconcile.mapping import Mappings
from ..reconcile.mapping_diff import field_changes, native_names
from ..store.state import read_state, write_state

__all__ = ["mapping_texts", "record_synced_mappings", "since_last_sync"]

_STATE = "mappings:last-sync"
#: the plan's "system:object" keys each field file writes under
_OBJECTS = {"contacts": ("hubspot:contacts", "salesforce:Lead", "salesforce:Contact"),
            "opportunities": ("hubspot:deals", "salesforce:Opportunity"),
            "companies": ("hubspot:companies", "salesforce:Account")}


def mapping_texts(mappings: Mappings) -> dict[str, str]:
    """The field files' texts by kind ("contacts", "opportunities", "companies"), as loaded from disk."""
    out = {}
    for kind, mapping in (("contacts", mappings.contacts), ("opportunities", mappings.opportunities),
                          ("companies", mappings.companies)):
        if mapping is None:
            continue
        try:
            out[kind] = Path(mapping.file).read_text(encoding="utf-8")
        except OSError:  # a mapping built in memory (tests): nothing to compare later
            continue
    return out


def record_synced_mappings(engine: Engine, mappings: Mappings, run_id: int, now_ms: int) -> None:
    """Keep the field files a sync just ran with."""
    write_state(engine, _STATE, {"run_id": run_id, "files": mapping_texts(mappings)}, now_ms)


def since_last_sync(engine: Engine, mappings: Mappings, described: dict[str, Any]) -> dict[str, Any] | None:
    """The fields whose settings changed since the last sync, each with the values the plan would write under
    its names (`described`: the plan's `describe_plan`); None when nothing changed or no sync kept its files."""
    kept = read_state(engine, _STATE)
    if not kept:
        return None
    now = mapping_texts(mappings)
    rows = []
    for kind, text in sorted(now.items()):
        before = kept.get("files", {}).get(kind)
        if before is None or before == text:
            continue
        for change in field_changes(f"{kind}.toml", before, text):
            names = {**native_names(change.before), **native_names(change.after)}
            planned = 0
            for key in _OBJECTS[kind]:
                system = key.split(":", 1)[0]
                per = described.get("fields", {}).get(key, {})
                planned += sum(n for name, n in per.items() if name in names.get(system, set()))
            rows.append({"file": change.file, "field": change.field, "changes": list(change.changes),
                         "values_planned": planned})
    return {"last_sync_run": kept.get("run_id"), "fields": rows} if rows else None
