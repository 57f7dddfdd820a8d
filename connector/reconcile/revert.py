"""Planning a revert (pure): the values one run wrote, put back where nobody changed them since.

`connector revert RUN_ID` reads the run's write journal (each value it wrote and the value the store's
snapshot held before) and the records as the store holds them now, and plans writing each replaced value
back only where the record still holds what the run wrote: a value someone (or a later run) changed since
is that person's decision, and is left alone and counted. Left alone too: records deleted or erased since,
values on records the run created (there was no value before; a revert deletes nothing), and the fields
the connector keeps for itself (cross-reference ids, which link the records, and e-mail opt-outs, which
the connector never takes back). The plan's changes go through `plan_writes` and the push like any sync's.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from .records import FieldChange, System
from .writes import WritePlan, plan_writes

__all__ = ["JournalEntry", "RecordNow", "FieldKey", "FieldTally", "RevertPlan", "SkipReason", "plan_revert",
           "same_value", "SAMPLE"]

#: why a written value is not put back
SkipReason = Literal["changed_since", "gone", "created", "kept", "already"]

#: person ids kept per field and outcome, for the plan's sample
SAMPLE = 10

FieldKey = tuple[str, str, str]  # system, object type, native field name


@dataclass(frozen=True)
class JournalEntry:
    """One value a run wrote into one record (`old`: what the store's snapshot held before it)."""

    system: System
    object_type: str
    record_id: str
    person_id: str
    field: str
    old: Any
    new: Any
    created: bool = False


@dataclass(frozen=True)
class RecordNow:
    """A record as the store holds it now: its snapshot's values, and whether it was deleted since."""

    values: Mapping[str, Any]
    deleted: bool = False


@dataclass
class FieldTally:
    """One field's outcome: values to restore, and those left alone by reason, with a sample of people."""

    restore: int = 0
    skipped: dict[str, int] = field(default_factory=dict)
    sample: dict[str, list[str]] = field(default_factory=dict)

    def add(self, outcome: str, person_id: str) -> None:
        if outcome == "restore":
            self.restore += 1
        else:
            self.skipped[outcome] = self.skipped.get(outcome, 0) + 1
        people = self.sample.setdefault(outcome, [])
        if len(people) < SAMPLE and person_id not in people:
            people.append(person_id)


@dataclass(frozen=True)
class RevertPlan:
    """What reverting a run writes (`changes`, `writes`) and, per field, what it restores and leaves alone."""

    changes: tuple[FieldChange, ...]
    fields: dict[FieldKey, FieldTally]

    @property
    def writes(self) -> WritePlan:
        """The changes as the push sends them: one write per record (nothing held: the operator asked)."""
        return plan_writes(self.changes)

    @property
    def restore(self) -> int:
        return len(self.changes)

    def skipped(self, reason: SkipReason) -> int:
        return sum(t.skipped.get(reason, 0) for t in self.fields.values())

    @property
    def people(self) -> list[str]:
        """The people whose values are put back, once each, in order."""
        return sorted({c.person_id for c in self.changes})


def same_value(a: Any, b: Any) -> bool:
    """Whether two native values are the same as the store compares snapshots (`same_content`): equal, or
    both blank."""
    return a == b or (a in (None, "") and b in (None, ""))


def plan_revert(run_id: int, entries: Iterable[JournalEntry], now: Mapping[tuple[str, str, str], RecordNow], *,
                kept_fields: Iterable[str] = (), created: Mapping[FieldKey, int] | None = None) -> RevertPlan:
    """The writes that put back what run `run_id` replaced (`entries`: its journal), given each record as the
    store holds it now (`now`, by system, object type and record id; a record missing was erased).

    A value is put back only where the record still holds what the run wrote; `kept_fields` (native
    names) are never put back. A field the run wrote twice in one record counts once: the value before
    its first write is put back if the record holds the value of its last. `created` counts, per field,
    values the run wrote into records it created, when `entries` leave them out (they are never read
    back: there is nothing to put back)."""
    kept = frozenset(kept_fields)
    firsts: dict[tuple[str, str, str, str], JournalEntry] = {}
    lasts: dict[tuple[str, str, str, str], JournalEntry] = {}
    for e in entries:
        key: tuple[str, str, str, str] = (e.system, e.object_type, e.record_id, e.field)
        firsts.setdefault(key, e)
        lasts[key] = e
    changes: list[FieldChange] = []
    tallies: dict[FieldKey, FieldTally] = {}
    reason = f"revert of run {run_id}"
    for written in sorted(firsts):
        first, last = firsts[written], lasts[written]
        tally = tallies.setdefault((first.system, first.object_type, first.field), FieldTally())
        record = now.get(written[:3])
        outcome: str
        if first.created:
            outcome = "created"
        elif first.field in kept:
            outcome = "kept"
        elif record is None or record.deleted:
            outcome = "gone"
        else:
            current = record.values.get(first.field)
            if not same_value(current, last.new):
                outcome = "changed_since"
            elif same_value(current, first.old):
                outcome = "already"
            else:
                outcome = "restore"
                changes.append(FieldChange(first.system, first.object_type, first.record_id, first.field, current,
                                           first.old, reason, first.person_id))
        tally.add(outcome, first.person_id)
    for kind, n in (created or {}).items():
        tally = tallies.setdefault(kind, FieldTally())
        tally.skipped["created"] = tally.skipped.get("created", 0) + n
    return RevertPlan(tuple(changes), tallies)
