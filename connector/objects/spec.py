"""`ObjectSpec`: one synced object described once, so that the same stages run every object.

A spec says what is pulled (its streams), which mapping file it reads, the cross-reference fields its
creates are upserted on, and how it reconciles (a function of the run: the store, its mapping and the
clock, to the changes to write). What only some objects need is a hook whose default does nothing, as
singer-sdk's streams have: people look records up before creating them and carry out deletions, deals
add their contact links once the creates are done. The cycle (`sync/cycle.py`) runs, for each spec in
`registry.registered()` order (`sync_object`):

    reconcile -> plan -> look_up -> (dry run: report) | (before_push -> push -> after_push -> report)

This module imports no stage that imports it back: the run's own types (`Systems`, `CycleOptions`,
`RunResult`) are named for the type checker only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal, Protocol

from sqlalchemy.engine import Engine

from ..push.engine import PushResult
from ..push.lookup import Looked
from ..reconcile.deletions import DeletionAction
from ..reconcile.mapping import CompanyMapping, ContactMapping, Mappings, OpportunityMapping
from ..reconcile.records import FieldChange, Issue
from ..reconcile.writes import WritePlan, edited_fields, plan_writes
from ..systems.ports import Sink
from .streams import Stream

if TYPE_CHECKING:
    from ..sync.cycle import CycleOptions
    from ..sync.results import RunResult
    from ..sync.systems import Systems

__all__ = ["IdFields", "LinkToAdd", "ObjectRun", "ObjectSpec", "Outcome", "Reconciled", "object_summary"]

#: the external-id fields a create is upserted on, per (system, object type): a replayed create finds its record
IdFields = dict[tuple[str, str], tuple[str, ...]]


class LinkToAdd(Protocol):
    """A link between records an object adds once its records exist (its own type: a deal's
    `AssociationChange`, a company's `CompanyLink`); only the object's `after_push` reads it, the summary
    counts them by system."""

    @property
    def system(self) -> str: ...

    @property
    def batch(self) -> str:
        """The calls it travels in ("hubspot:deals>companies"): links of one batch share calls, 100 to one."""
        ...


@dataclass
class ObjectRun:
    """What a spec's steps are given in one run: the store, both systems and their sinks, the mappings, the
    run's options, clock and id, and the run's result (where `report` puts the object's part)."""

    engine: Engine
    systems: Systems
    sinks: Mapping[str, Sink]
    mappings: Mappings
    options: CycleOptions
    result: RunResult
    run_id: int
    clock: Callable[[], int]
    bulk_threshold: int
    #: the store's salt for erased people's traces (deletions and the erased-records filter use it)
    salt: str

    @property
    def dry_run(self) -> bool:
        return self.options.dry_run

    @property
    def contacts(self) -> ContactMapping:
        return self.mappings.contacts

    @property
    def opportunities(self) -> OpportunityMapping:
        """The opportunities mapping (only specs that read it run, so it is there)."""
        if self.mappings.opportunities is None:
            raise ValueError("no opportunities mapping: deals are not synced")
        return self.mappings.opportunities

    @property
    def companies(self) -> CompanyMapping:
        """The companies mapping (only specs that read it run, so it is there)."""
        if self.mappings.companies is None:
            raise ValueError("no companies mapping: companies are not synced")
        return self.mappings.companies


@dataclass(frozen=True)
class Reconciled:
    """What one object's reconcile step decided: the field changes to write, the links to add once the
    records exist, the records to delete, what an operator should look at, and the object's own counts
    (the first keys of its part of the run summary)."""

    changes: tuple[FieldChange, ...]
    links: tuple[LinkToAdd, ...] = ()
    deletions: tuple[DeletionAction, ...] = ()
    issues: tuple[Issue, ...] = ()
    counts: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    """One object's pass through the stages: its reconciliation, plan, look-up, and (unless a dry run)
    what the push wrote, what `after_push` did, the write calls per system and the push's seconds."""

    reconciled: Reconciled
    plan: WritePlan
    looked: Looked
    pushed: PushResult | None = None
    after: dict[str, Any] | None = None
    write_calls: dict[str, int] | None = None
    seconds: float = 0.0


def _plan(run: ObjectRun, reconciled: Reconciled) -> WritePlan:
    return plan_writes(reconciled.changes)


def _no_look_up(run: ObjectRun, plan: WritePlan) -> Looked:
    return Looked(plan)


def _nothing_before(run: ObjectRun, outcome: Outcome) -> None:
    return None


def _nothing_after(run: ObjectRun, reconciled: Reconciled, created: Mapping[tuple[str, str, str], str]
                   ) -> dict[str, Any] | None:
    return None


@dataclass(frozen=True)
class ObjectSpec:
    """One synced object, described once: the stages read everything they do for it from here."""

    #: the object's key in the run summary (the primary object's parts are the summary's own stages)
    name: str
    #: the `[sync] objects` group whose streams it reads (people's are always reconciled: others link to them)
    group: str
    streams: tuple[Stream, ...]
    #: which mapping file it reads; a spec whose mapping is not configured does not run
    mapping: Literal["contacts", "opportunities", "companies"]
    #: its cross-reference fields (what creates are upserted on), from the mappings
    id_fields: Callable[[Mappings], IdFields]
    #: the store and mapping in, the changes to write (and links, deletions, issues, counts) out
    reconcile: Callable[[ObjectRun], Reconciled]
    #: the write plan from the changes (default: every change, nothing held back)
    plan: Callable[[ObjectRun, Reconciled], WritePlan] = _plan
    #: planned creates checked against the target systems (default: none: the cross-reference ids suffice)
    look_up: Callable[[ObjectRun, WritePlan], Looked] = _no_look_up
    #: the store told what is no longer planned, before anything is sent (default: nothing)
    before_push: Callable[[ObjectRun, Outcome], None] = _nothing_before
    #: what follows the writes, given the ids of the records created (default: nothing)
    after_push: Callable[[ObjectRun, Reconciled, Mapping[tuple[str, str, str], str]],
                         dict[str, Any] | None] = _nothing_after
    #: puts the object's part in the run's result (None: the cycle files `object_summary` under `name`, and
    #: adds its writes to the run's forecast or push write calls)
    report: Callable[[ObjectRun, Outcome], None] | None = None
    #: the run's own object (people): reconciled whatever `[sync] objects` says, since every other object
    #: links to its records
    primary: bool = False

    def edited_fields(self, mappings: Mappings) -> dict[tuple[str, str], frozenset[str]]:
        """The fields people edit on the object's records (its mapped fields): read again before an update."""
        if self.mapping == "opportunities":
            return edited_fields(mappings.opportunities.fields, "deals") if mappings.opportunities else {}
        if self.mapping == "companies":
            if mappings.companies is None:
                return {}
            # a Contact's or Opportunity's Account, and an Account's parent, are set only while blank: read
            # again, so a value set since the read is never overwritten
            fields = edited_fields(mappings.companies.fields, "companies")
            account = fields.get(("salesforce", "Account"), frozenset()) | {"ParentId"}
            return {**fields, ("salesforce", "Account"): account,
                    ("salesforce", "Contact"): frozenset({"AccountId"}),
                    ("salesforce", "Opportunity"): frozenset({"AccountId"})}
        return edited_fields(mappings.contacts.fields, "contacts")

    def fields_file(self, mappings: Mappings) -> ContactMapping | OpportunityMapping | CompanyMapping:
        """The mapping file the object's fields come from (what its rejected writes' hints name)."""
        if self.mapping == "opportunities" and mappings.opportunities is not None:
            return mappings.opportunities
        if self.mapping == "companies" and mappings.companies is not None:
            return mappings.companies
        return mappings.contacts

    def runs(self, mappings: Mappings, groups: Sequence[str] | None) -> bool:
        """Whether a run syncs the object: its mapping is configured, and so is its group (`[sync] objects`;
        None: every group), unless it is the primary object."""
        if self.mapping == "opportunities" and mappings.opportunities is None:
            return False
        if self.mapping == "companies" and mappings.companies is None:
            return False
        return self.primary or groups is None or self.group in groups


def object_summary(outcome: Outcome) -> dict[str, Any]:
    """An object's part of the run summary (deals' shape): its own counts, the writes planned, links to add,
    issues and their commonest kinds; once pushed, what was written and what links were added."""
    reconciled = outcome.reconciled
    out: dict[str, Any] = {
        **reconciled.counts, "planned": outcome.plan.counts(),
        "links_to_add": dict(Counter(a.system for a in reconciled.links)),
        "link_batches": dict(Counter(a.batch for a in reconciled.links)), "issues": len(reconciled.issues),
        "issue_kinds": dict(Counter(i.message.split(":")[0][:80] for i in reconciled.issues).most_common(5))}
    if outcome.pushed is not None:
        out["push"] = outcome.pushed.to_json()
        out["links_added"] = outcome.after or {}
    return out
