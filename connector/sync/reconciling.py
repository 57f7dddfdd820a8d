"""The reconcile stage: the store's person records through identity and the reconciliation core, saved as
people, in bounded memory.

The store only reads and writes (`store/people.py`); the core only decides (`reconcile/`); this module
runs one through the other, a chunk at a time.
"""

from __future__ import annotations

import gc
import hashlib
from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine

from .. import __version__
from ..reconcile.engine import ReconcileResult, group_reconciler
from ..reconcile.identity import PersonGroup, resolve_identities
from ..reconcile.mapping import ContactMapping
from ..reconcile.records import FieldChange, Issue, OwnerDirectory, RecordKey, SourceRecord, UnifiedPerson
from ..reconcile.summary import conflict_rows, count_conflicts, summarize
from ..reconcile.transforms import CallContext
from ..store.issues import replace_value_issues
from ..store.people import (
    LinkRoles,
    Stamp,
    full_records,
    owner_directory,
    park_held_merges,
    save_reconciliation,
    short_reason,
    slim_person_records,
    stored_inputs,
    stored_links,
)
from .results import ReconcileSummary

__all__ = ["Reconciled", "Refine", "inputs_basis", "inputs_digest", "link_roles", "reconcile_store"]


def link_roles(result: ReconcileResult, history: Mapping[RecordKey, str]) -> dict[RecordKey, tuple[str, str]]:
    """(role, reason) of every non-primary link: history (deleted, merged, converted) or a listed duplicate.

    `history` maps a record key to why it is history, as read from the records reconciled."""
    roles = {k: ("history", why) for k, why in history.items()}
    for dup in result.duplicates:
        for k in dup.others:
            roles.setdefault(k, ("duplicate", short_reason(dup.reason)))
    return roles


def _history_reason(r: SourceRecord) -> str | None:
    if r.merged_into or r.fields.get("MasterRecordId"):
        return "merged"
    if r.deleted:
        return "deleted"
    if r.object_type == "Lead" and r.fields.get("IsConverted") is True:
        return "converted"
    return None


@dataclass
class Reconciled:
    """One reconciliation of the store: its result and summary. The result's people carry only their
    links (their fields were saved chunk by chunk, or, for a dry run, shown and let go); its changes
    are what push writes."""

    result: ReconcileResult
    summary: ReconcileSummary
    roles: dict[RecordKey, tuple[str, str]]


#: times of field changes for HubSpot contacts, asked for by a chunk's result (property history)
Refine = Callable[[ReconcileResult], Mapping[str, Mapping[str, int]]]


def _identity_fields(mapping: ContactMapping) -> frozenset[str]:
    """The only fields identity resolution reads; the rest of a record waits for its chunk."""
    ident = mapping.identity
    return frozenset({"email", "Email", "hs_merged_object_ids", "IsConverted", "ConvertedContactId", "MasterRecordId",
                      ident.hubspot_lead_id_property, ident.hubspot_contact_id_property,
                      ident.salesforce_hubspot_id_field})


def reconcile_store(engine: Engine, mapping: ContactMapping, *, skip: Callable[[SourceRecord], bool] | None = None,
                    save_at: tuple[int, int | None] | None = None, refine: Refine | None = None,
                    chunk: int = 5_000, keep: Callable[[Sequence[UnifiedPerson]], None] | None = None,
                    only: Collection[str] | None = None,
                    adjust: Callable[[PersonGroup], PersonGroup] | None = None) -> Reconciled:
    """Reconcile every stored person record (no API calls of its own), in bounded memory.

    Identity resolution sees every record, but only its identifying fields; people are then resolved
    and planned `chunk` at a time with their full records, and saved as they go when `save_at` gives
    (now_ms, run_id). Only the changes (what push writes) and each person's links are kept, so memory
    follows the number of changes, not the number of people. `refine` may return field change times
    for a chunk (HubSpot property history); the chunk is then resolved again with them. Records `skip`
    picks (those of erased people) are left out entirely. `keep` is given each chunk's people whole (fields
    and all) before their fields are let go: what a later stage needs of them, a dry run included.
    `only` resolves just those people, whatever their digest says, with `adjust` applied to their records
    first (scoring plans a person's handoff this way: their HubSpot lifecycle stage as the scorer is about
    to write it); no input digest is kept for them, so the next cycle looks at them afresh.

    A person whose last reconciliation left nothing to write and nothing to report is not resolved
    again while its inputs stay the same (see `inputs_digest`): a steady-state cycle costs what changed.
    """
    history: dict[RecordKey, str] = {}
    stamps: dict[RecordKey, Stamp] = {}
    slim: list[SourceRecord] = []
    for r, stamp in slim_person_records(engine, sorted(_identity_fields(mapping))):
        if skip is not None and skip(r):
            continue
        why = _history_reason(r)
        if why:
            history[r.key] = why
        stamps[r.key] = stamp
        slim.append(r)
    ident = resolve_identities(slim, stored_links(engine), mapping.identity)
    del slim
    duplicates = ident.duplicates
    held = ident.held
    if save_at is not None:
        park_held_merges(engine, held, mapping.identity, now_ms=save_at[0], run_id=save_at[1])
    roles = link_roles(ReconcileResult((), (), duplicates, ()), history)
    owners = owner_directory(engine)
    ctx = CallContext(owners)
    basis = inputs_basis(mapping, owners, refine is not None)
    people: list[UnifiedPerson] = []
    changes: list[FieldChange] = []
    issues: list[Issue] = []
    totals: dict[str, Any] = {"people": 0, "linked_in_both": 0, "conflicts": Counter(), "standing": Counter(),
                              "issue_kinds": Counter(),
                              "fields_changed": 0, "conflicts_recorded": 0, "unchanged": 0}
    pending = list(ident.people) if only is None else [g for g in ident.people if g.person_id in only]
    del ident
    for start in range(0, len(pending), chunk):
        part_groups = pending[start:start + chunk]
        pending[start:start + chunk] = [None] * len(part_groups)  # type: ignore[list-item]  # done: let them go
        digests = {g.person_id: inputs_digest(g, stamps, roles, basis) for g in part_groups}
        settled_before = stored_inputs(engine, list(digests))
        unchanged: list[PersonGroup] = []
        todo: list[PersonGroup] = []
        for g in part_groups:
            same = only is None and settled_before.get(g.person_id) == digests[g.person_id]
            (unchanged if same else todo).append(g)
        totals["unchanged"] += len(unchanged)
        totals["people"] += len(unchanged)
        totals["linked_in_both"] += sum(1 for g in unchanged if g.hubspot is not None and g.salesforce is not None)
        people += [UnifiedPerson(g.person_id, {}, g.links) for g in unchanged]
        if not todo:
            continue
        groups = _with_full_records(engine, todo)
        if adjust is not None:
            groups = [adjust(g) for g in groups]
        part, settled, issue_people = _reconcile_groups(groups, mapping, ctx)
        if refine is not None:
            times = refine(part)
            if times:
                groups = [_with_times(g, times) for g in groups]
                part, settled, issue_people = _reconcile_groups(groups, mapping, ctx)
        if only is not None:
            settled = []
        if save_at is not None:
            saved = save_reconciliation(engine, part.people, now_ms=save_at[0], run_id=save_at[1], roles=roles,
                                        inputs={pid: digests[pid] for pid in settled})
            totals["fields_changed"] += saved.fields_changed
            totals["conflicts_recorded"] += saved.conflicts_recorded
            replace_value_issues(engine, [g.person_id for g in groups], list(zip(issue_people, part.issues,
                                                                                   strict=True)),
                                 now_ms=save_at[0], run_id=save_at[1])
        _tally(totals, part)
        if keep is not None:
            keep(part.people)
        changes += part.changes
        issues += part.issues
        # a person's links are all later stages need of them (deletions); the fields are saved or shown
        people += [UnifiedPerson(p.person_id, {}, p.links) for p in part.people]
    result = ReconcileResult(tuple(people), tuple(changes), duplicates, tuple(issues))
    core = summarize(ReconcileResult((), result.changes, duplicates, result.issues))
    summary = ReconcileSummary(
        people=totals["people"], linked_in_both=totals["linked_in_both"], duplicates=core["duplicates"],
        conflicts=conflict_rows(totals["conflicts"]), standing_conflicts=conflict_rows(totals["standing"]),
        planned_writes=core["planned_writes"], issues=core["issues"], issue_kinds=core["issue_kinds"],
        unchanged=totals["unchanged"], held_merges=len(held))
    if save_at is not None:
        summary.fields_changed, summary.conflicts_recorded = totals["fields_changed"], totals["conflicts_recorded"]
    return Reconciled(result, summary, roles)


def inputs_basis(mapping: ContactMapping, owners: OwnerDirectory, history: bool) -> str:
    """What every person's reconciliation depends on besides their own records: the connector's version,
    the mapping file, the owners of both systems and whether property history is read. A change to any
    of them makes every person's inputs new."""
    try:
        mapping_text = Path(mapping.file).read_bytes()
    except OSError:  # a mapping built in memory: its compiled form's field names, rules and directions
        mapping_text = repr([(f.name, f.hubspot, sorted(f.salesforce.items()), f.direction, f.rule, f.chain.names,
                              f.allow_blanking) for f in mapping.fields]).encode()
    parts = (__version__, hashlib.blake2b(mapping_text).hexdigest(), sorted(owners.hubspot.items()),
             sorted(owners.salesforce.items()), history)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def inputs_digest(group: PersonGroup, stamps: Mapping[RecordKey, Stamp], roles: LinkRoles, basis: str) -> str:
    """A digest of what one person is reconciled from: their records (as stamped by the store), each
    link's role, whether a merge holds them, and the shared basis. Equal digests mean the same inputs,
    hence the same outcome."""
    records = [(k, stamps.get(k), roles.get(k)) for k in group.links]
    parts = (basis, group.person_id, records) if not group.held else (basis, group.person_id, records, group.held)
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _reconcile_groups(groups: Sequence[PersonGroup], mapping: ContactMapping,
                      ctx: CallContext) -> tuple[ReconcileResult, list[str], list[str]]:
    """The groups reconciled, the ids of the settled people among them (nothing to write or report), and
    whose each issue is (the person id of `result.issues[i]`)."""
    people: list[UnifiedPerson] = []
    changes: list[FieldChange] = []
    issues: list[Issue] = []
    issue_people: list[str] = []
    settled: list[str] = []
    was_enabled = gc.isenabled()
    gc.disable()  # many small acyclic objects: the cyclic collector would only rescan them
    try:
        reconcile_one = group_reconciler(mapping, ctx)
        for group in groups:
            person, ch, iss = reconcile_one(group)
            people.append(person)
            if ch or iss:
                changes += ch
                issues += iss
                issue_people += [person.person_id] * len(iss)
            else:
                settled.append(person.person_id)
    finally:
        if was_enabled:
            gc.enable()
    return ReconcileResult(tuple(people), tuple(changes), (), tuple(issues)), settled, issue_people


def _tally(totals: dict[str, Any], part: ReconcileResult) -> None:
    totals["people"] += len(part.people)
    totals["linked_in_both"] += sum(1 for p in part.people if {k.system for k in p.links} == {"hubspot", "salesforce"})
    count_conflicts(part, totals["conflicts"], totals["standing"])


def _with_full_records(engine: Engine, groups: Sequence[PersonGroup]) -> list[PersonGroup]:
    """The chunk's groups with their primary records whole again (identity worked on slim copies)."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for g in groups:
        for r in (g.hubspot, g.salesforce):
            if r is not None:
                wanted.setdefault((r.system, r.object_type), []).append(r.id)
    full = full_records(engine, wanted)
    return [replace(g, hubspot=full.get(g.hubspot.key, g.hubspot) if g.hubspot else None,
                    salesforce=full.get(g.salesforce.key, g.salesforce) if g.salesforce else None) for g in groups]


def _with_times(group: PersonGroup, times: Mapping[str, Mapping[str, int]]) -> PersonGroup:
    hs = group.hubspot
    if hs is None or hs.id not in times:
        return group
    return replace(group, hubspot=replace(hs, field_modified_at={**hs.field_modified_at, **times[hs.id]}))


