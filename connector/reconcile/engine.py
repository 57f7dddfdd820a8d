"""One call that reconciles staged person records: identity, field resolution, change planning."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial

from .identity import Duplicate, IdentityResult, PersonGroup, resolve_identities
from .mapping import ContactMapping, FieldMapping
from .plan import plan_person
from .records import FieldChange, Issue, OwnerDirectory, Provenance, RecordKey, SourceRecord, System, UnifiedPerson
from .resolve import ResolvedField, _resolve
from .transforms import CallContext, TransformContext

__all__ = ["ReconcileResult", "group_reconciler", "reconcile", "reconcile_group"]


@dataclass(frozen=True)
class ReconcileResult:
    """Unified people, the changes each system needs, and what an operator should review."""

    people: tuple[UnifiedPerson, ...]
    changes: tuple[FieldChange, ...]
    duplicates: tuple[Duplicate, ...]
    issues: tuple[Issue, ...]


def reconcile_group(
    group: PersonGroup, mapping: ContactMapping, ctx: TransformContext
) -> tuple[UnifiedPerson, list[FieldChange], list[Issue]]:
    """Resolves and plans one person whose records identity resolution already grouped."""
    return group_reconciler(mapping, ctx)(group)


def group_reconciler(
    mapping: ContactMapping, ctx: TransformContext
) -> Callable[[PersonGroup], tuple[UnifiedPerson, list[FieldChange], list[Issue]]]:
    """``reconcile_group`` for many groups under one mapping and context: the mapping's settings
    (pydantic models, slow to read attributes of) are read once here, not once per person."""
    tie: System = "hubspot" if mapping.settings.tie_breaker == "hubspot" else "salesforce"
    return partial(_reconcile_group, mapping, ctx, mapping.fields, tie, mapping.inclusion.placeholder)


def _reconcile_group(
    mapping: ContactMapping, ctx: TransformContext, fields_spec: tuple[FieldMapping, ...], tie: System,
    placeholder: str | None, group: PersonGroup,
) -> tuple[UnifiedPerson, list[FieldChange], list[Issue]]:
    issues: list[Issue] = []
    fields: dict[str, Provenance] = {}  # filled while resolving: name -> provenance, in resolution order
    contested: list[ResolvedField] = []  # the fields whose sides may need updates
    hs, sf = group.hubspot, group.salesforce
    resolved = _resolve(fields_spec, hs, sf, ctx, tie, placeholder, issues, fields, contested)
    person = UnifiedPerson(group.person_id, fields, group.links)
    if group.held:  # a merge on one side only, held for review: nothing is written for them
        return person, [], issues
    # with both records, plan_person only plans updates (and cascades on their changes), which the
    # uncontested fields never need; creates (one record) read every resolved field
    changes = plan_person(contested if hs is not None and sf is not None else resolved, hs, sf, mapping, ctx, issues,
                          group.person_id)
    return person, changes, issues


@contextmanager
def _gc_paused(pause: bool) -> Iterator[None]:
    """Pauses the cyclic GC: reconciliation allocates many small acyclic objects, and collections
    rescanning the growing result cost about half the run time. Restores the previous state."""
    was_enabled = gc.isenabled()
    if pause and was_enabled:
        gc.disable()
    try:
        yield
    finally:
        if pause and was_enabled:
            gc.enable()


def reconcile(
    records: Iterable[SourceRecord],
    mapping: ContactMapping,
    links: Mapping[RecordKey, str] | None = None,
    owners: OwnerDirectory | None = None,
    *,
    pause_gc: bool = True,
) -> ReconcileResult:
    """Reconciles person records of both systems; pure, deterministic, independent of input order.

    People a merge on one side only holds (``PersonGroup.held``) are resolved but get no changes.

    Feed it in chunks of people (all records of a person in the same chunk) for large volumes.
    ``pause_gc`` pauses Python's cyclic garbage collector for the call (it creates no cycles).
    """
    with _gc_paused(pause_gc):
        return _reconcile(records, mapping, links, owners)


def _reconcile(
    records: Iterable[SourceRecord],
    mapping: ContactMapping,
    links: Mapping[RecordKey, str] | None,
    owners: OwnerDirectory | None,
) -> ReconcileResult:
    ctx = CallContext(owners or OwnerDirectory())  # lives for this call only: transforms may memoise on it
    ident: IdentityResult = resolve_identities(records, links, mapping.identity)
    people: list[UnifiedPerson] = []
    changes: list[FieldChange] = []
    issues: list[Issue] = []
    reconcile_one = group_reconciler(mapping, ctx)
    for group in ident.people:
        person, ch, iss = reconcile_one(group)
        people.append(person)
        changes += ch
        issues += iss
    return ReconcileResult(tuple(people), tuple(changes), ident.duplicates, tuple(issues))
