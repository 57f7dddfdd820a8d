"""What an operator reviews between runs, read from the store alone (no credentials): `connector status`
and `connector duplicates`."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine

from ..reconcile.mapping import ContactMapping
from ..store.disagreements import standing_conflicts
from ..store.people import duplicate_links
from ..store.pushes import parked_rows
from ..store.runs import recent_runs

__all__ = ["duplicates", "status"]

#: how identity chooses the record a person keeps in one system (connector.reconcile.identity)
_KEPT_BY = ("Contact over Lead, then a record cross-referenced by the other system, then one with a stored link, "
            "the most recently modified, the lowest id")


def status(engine: Engine, mapping: ContactMapping | None, *, include_resolved: bool) -> dict[str, Any]:
    """`connector status --json`: the last runs, the disagreements the mapping rules keep standing (none
    without a `mapping`), and the parked records (the resolved ones too with `include_resolved`)."""
    return {"ok": True, "runs": recent_runs(engine, limit=10),
            "standing_conflicts": standing_conflicts(engine, mapping),
            "parked": parked_rows(engine, include_resolved=include_resolved)}


def duplicates(engine: Engine) -> list[dict[str, Any]]:
    """The records listed as duplicates by the last reconciliation, each with its whole reason."""
    return [{**r, "reason": _duplicate_reason(r)} for r in duplicate_links(engine)]


def _duplicate_reason(row: dict[str, Any]) -> str:
    """The stored reason (a link keeps 32 characters) with what it leaves out: which record was kept, and why."""
    reason = str(row.get("reason") or "")
    words = reason.split()
    if len(words) == 4 and words[0].isdigit() and words[1] == "active" and words[3] == "records":
        kept = row.get("kept") or "the person's primary record"
        return f"{reason} for one person; kept {kept} (chosen by: {_KEPT_BY})"
    return reason
