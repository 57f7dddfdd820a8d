"""A reconciliation result in numbers: what the CLI, the demo and the run log report."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .engine import ReconcileResult

__all__ = ["summarize"]


def summarize(result: ReconcileResult) -> dict[str, Any]:
    """People, links, duplicates, settled conflicts by field and rule, planned writes per system, issues."""
    conflicts: Counter[tuple[str, str]] = Counter()
    for person in result.people:
        for name, prov in person.fields.items():
            if prov.losing and prov.rule != "agreement":
                conflicts[(name, prov.rule)] += 1
    writes: dict[str, dict[str, int]] = {}
    for system in ("hubspot", "salesforce"):
        mine = [c for c in result.changes if c.system == system]
        writes[system] = {
            "creates": len({(c.person_id, c.object_type) for c in mine if c.record_id is None}),
            "updates": len({(c.object_type, c.record_id) for c in mine if c.record_id is not None}),
            "field_changes": len(mine),
        }
    return {
        "people": len(result.people),
        "linked_in_both": sum(1 for p in result.people if {k.system for k in p.links} == {"hubspot", "salesforce"}),
        "duplicates": len(result.duplicates),
        "conflicts": [{"field": f, "rule": r, "people": n} for (f, r), n in conflicts.most_common()],
        "planned_writes": writes,
        "issues": len(result.issues),
        "issue_kinds": dict(Counter(i.message.split(":")[0] for i in result.issues).most_common(5)),
    }
