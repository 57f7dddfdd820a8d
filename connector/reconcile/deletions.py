"""Deletion planning (pure): what a record deleted in one system means for the person's other records.

Reconciliation keeps deleted records as a person's history, so on its own it would "repair" a
deletion by creating the person again where they were deleted. This stage decides instead, per the
configured policy:

- ``erase``: a HubSpot GDPR delete (always), or a Salesforce delete when the policy says so. The person
  is erased in the other system (deleted or anonymised) and from the store, keeping only salted hashes.
- ``delete``: an ordinary deletion propagated (policy ``propagate``).
- ``quarantine``: the person is held for review; nothing is written for them until the deletion is
  undone or repeated by hand in the other system.
- ``ignore``: the other system keeps the person, but the deleted record is never re-created.

Every person a deletion touches gets no creates in the system where they were deleted; all their
other changes are held back unless the policy is ``ignore``.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from .identity import PERSON_OBJECTS
from .records import FieldChange, RecordKey, UnifiedPerson

__all__ = ["DeletionKind", "DeletionAction", "DeletionPolicy", "plan_deletions", "without_deleted_people"]

#: how a record left its system: archived/deleted by a user, or erased on a data-protection request
DeletionKind = Literal["deleted", "erased"]


@dataclass(frozen=True)
class DeletionPolicy:
    """The `[deletions]` settings the planner needs."""

    hubspot_archive: str = "quarantine"
    salesforce_delete: str = "quarantine"


@dataclass(frozen=True)
class DeletionAction:
    """What to do about one person: `targets` are their live records in the other system."""

    action: Literal["erase", "delete", "quarantine", "ignore"]
    person_id: str
    trigger: RecordKey
    targets: tuple[RecordKey, ...]
    reason: str


def plan_deletions(people: Iterable[UnifiedPerson], deleted: Mapping[RecordKey, DeletionKind],
                   policy: DeletionPolicy, history: Collection[RecordKey] = ()) -> list[DeletionAction]:
    """One action per person whose only record in a system is gone while the other system still has them.
    `history`: records that no longer stand for the person (a Lead converted to the Contact, a HubSpot contact
    merged into another): they neither keep a person alive in their system nor are deleted in the other."""
    out: list[DeletionAction] = []
    for person in people:
        keys = [k for k in person.links if (k.system, k.object_type) in PERSON_OBJECTS and k not in history]
        if not any(k in deleted for k in keys):
            continue
        for system in ("hubspot", "salesforce"):
            mine = [k for k in keys if k.system == system]
            if not mine or any(k not in deleted for k in mine):
                continue  # not in this system, or still alive there (only a duplicate was deleted)
            trigger = min(mine, key=lambda k: (deleted[k] != "erased", k))
            targets = tuple(k for k in keys if k.system != system and k not in deleted)
            kind = deleted[trigger]
            action = _action(system, kind, policy)
            if not targets and action != "erase":
                continue  # deleted in both: nothing left to decide
            reason = (f"{'erased (GDPR delete)' if kind == 'erased' else 'deleted'} in "
                      f"{'HubSpot' if system == 'hubspot' else 'Salesforce'}: {trigger.object_type} {trigger.id}")
            out.append(DeletionAction(action, person.person_id, trigger, targets, reason))
            break
    return out


def _action(system: str, kind: DeletionKind,
            policy: DeletionPolicy) -> Literal["erase", "delete", "quarantine", "ignore"]:
    if kind == "erased":
        return "erase"
    setting = policy.hubspot_archive if system == "hubspot" else policy.salesforce_delete
    return {"propagate": "delete", "erase": "erase", "quarantine": "quarantine"}.get(setting, "ignore")  # type: ignore[return-value]


def without_deleted_people(changes: Iterable[FieldChange], actions: Iterable[DeletionAction]) -> list[FieldChange]:
    """The changes a sync may still make: none for people being erased, deleted or held for review, and no
    creates where a person was deleted (``ignore`` leaves their other updates alone)."""
    hold_all: set[str] = set()
    no_create: set[tuple[str, str]] = set()
    for a in actions:
        if a.action == "ignore":
            no_create.add((a.person_id, a.trigger.system))
        else:
            hold_all.add(a.person_id)
    return [c for c in changes if c.person_id not in hold_all
            and not (c.record_id is None and (c.person_id, c.system) in no_create)]
