"""A reconciliation result in numbers: what the CLI, the demo and the run log report."""

from __future__ import annotations

from collections import Counter
from typing import Any

from .engine import ReconcileResult
from .records import Provenance

__all__ = ["conflict_rows", "count_conflicts", "is_conflict", "summarize"]


def is_conflict(prov: Provenance) -> bool:
    """Both systems held a value and the rule chose between them. Filling a blank side is no conflict:
    the one value there is wins whatever the rule."""
    return prov.rule != "agreement" and any(lost is not None for _, lost, _ in prov.losing)


def count_conflicts(result: ReconcileResult, decided: Counter[tuple[str, str]],
                    standing: Counter[tuple[str, str]]) -> None:
    """Adds each conflict of `result`'s people, by (field, rule), to `decided` when this run writes the
    winning value over the losing side, or to `standing` when the rule leaves both values where they are
    (fill_blank_only, a one-way field): a standing disagreement is no news in every run's summary."""
    written = {(c.person_id, c.system, c.reason.split(":", 1)[0]) for c in result.changes if " chose " in c.reason}
    for person in result.people:
        for name, prov in person.fields.items():
            if is_conflict(prov):
                loser = prov.losing[0][0]
                (decided if (person.person_id, loser, name) in written else standing)[(name, prov.rule)] += 1


def conflict_rows(counts: Counter[tuple[str, str]]) -> list[dict[str, Any]]:
    return [{"field": f, "rule": r, "people": n} for (f, r), n in counts.most_common()]


def summarize(result: ReconcileResult) -> dict[str, Any]:
    """People, links, duplicates, the conflicts this run decided (and the standing ones it left alone) by
    field and rule, planned writes per system, issues."""
    conflicts: Counter[tuple[str, str]] = Counter()
    standing: Counter[tuple[str, str]] = Counter()
    count_conflicts(result, conflicts, standing)
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
        "conflicts": conflict_rows(conflicts),
        "standing_conflicts": conflict_rows(standing),
        "planned_writes": writes,
        "issues": len(result.issues),
        "issue_kinds": dict(Counter(i.message.split(":")[0] for i in result.issues).most_common(5)),
    }
