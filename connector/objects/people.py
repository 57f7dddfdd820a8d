"""People: HubSpot contacts, Salesforce Leads and Contacts, unified by identity resolution, described once.

The run's primary object: reconciled every cycle (deals link to people's records), and its parts are
the run summary's own stages (`reconcile`, `plan`, `forecast`, `push`, `deletions`). Only people need
the hooks below: property history while reconciling, held fields and deletions when planning, a look-up
before each create (the store may not know a record made in the last minute), the store told what is no
longer planned, and the deletions carried out after the writes.
"""

from __future__ import annotations

import logging
import time
from dataclasses import replace
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from ..config import DeletionsConfig
from ..pull.history import history_wanted, save_field_times, unasked
from ..push.lookup import Looked, look_before_create, people_finders, people_id_fields
from ..push.removals import apply_deletions
from ..reconcile.deletions import DeletionPolicy, plan_deletions, without_deleted_people
from ..reconcile.engine import ReconcileResult
from ..reconcile.mapping import Mappings
from ..reconcile.identity import PersonGroup
from ..reconcile.records import FieldChange, UnifiedPerson
from ..reconcile.schema import LIFECYCLE_ORDER
from ..score.model import ScoringModel
from ..reconcile.writes import WritePlan, plan_writes
from ..store.erasure import deleted_records, erased_filter
from ..store.pushes import held_fields, resolve_unplanned
from ..sync.planning import describe_plan, forecast, planned_writes
from ..sync.reconciling import reconcile_store
from ..sync.results import DealsResult, FieldHistory, PlanResult, PushResult, ReconcileStage
from ..systems.salesforce import SalesforceSink
from ..wording import count
from .scores import Resolved, finish_pass, run_pass, score_people
from .spec import IdFields, ObjectRun, ObjectSpec, Outcome, Reconciled
from .streams import PEOPLE_STREAMS

__all__ = ["PEOPLE"]

#: when the scoring pass began (kept with the object's counts until the writes are done)
_PASS_STARTED = "scoring_pass_started"

#: the stages' INFO lines are the sync package's (`progress.py` listens to "connector.sync")
log = logging.getLogger("connector.sync")


def _id_fields(mappings: Mappings) -> IdFields:
    return people_id_fields(mappings.contacts)


def _deletions(run: ObjectRun) -> DeletionsConfig:
    return run.options.deletions or DeletionsConfig()


def reconcile(run: ObjectRun) -> Reconciled:
    """Every stored person record through identity and the core (saved as people unless a dry run), and the
    deletions that follow from records deleted at the source; the changes left are those of live people."""
    log.info("reconcile: unifying the people in the store")
    t = time.perf_counter()
    engine, mapping, model = run.engine, run.contacts, run.mappings.scoring
    refine = _history_reader(run) if run.options.field_history else None
    resolved = Resolved()
    kept: list[Sequence[UnifiedPerson]] = []
    done = reconcile_store(engine, mapping, skip=erased_filter(engine, run.salt), refine=refine,
                           save_at=None if run.dry_run else (run.clock(), run.run_id),
                           keep=kept.append if model is not None else None)
    for people in kept:
        resolved.keep(people, done.roles)
    run.result.reconcile = ReconcileStage(seconds=round(time.perf_counter() - t, 3), summary=done.summary)
    _log_reconcile(run.result.reconcile.to_json())
    policy = _deletions(run)
    # converted Leads and merged-away contacts no longer stand for the person (deleted ones are the trigger)
    history = {k for k, (role, why) in done.roles.items() if role == "history" and why in ("converted", "merged")}
    actions = plan_deletions(done.result.people, deleted_records(engine), DeletionPolicy(
        hubspot_archive=policy.hubspot_archive, salesforce_delete=policy.salesforce_delete), history)
    changes = without_deleted_people(done.result.changes, actions)
    counts: dict[str, Any] = {}
    if model is not None:
        scored = run_pass(engine, model, run.clock(), dry_run=run.dry_run, run_id=run.run_id, resolved=resolved,
                          planned=changes, companies=run.mappings.companies)
        deleted = {a.person_id for a in actions}
        changes, scored.changes = _hand_off(run, model, changes, scored.changes, deleted, scored.started)
        changes = [*changes, *(c for c in scored.changes if c.person_id not in deleted)]
        run.result.add_object("scores", DealsResult(scored.summary(model)))
        counts[_PASS_STARTED] = scored.started
    return Reconciled(tuple(changes), deletions=tuple(actions), issues=done.result.issues, counts=counts)


def _hand_off(run: ObjectRun, model: ScoringModel, changes: list[FieldChange], scored: list[FieldChange],
              deleted: set[str], now: int) -> tuple[list[FieldChange], list[FieldChange]]:
    """People the scorer makes MQL (their HubSpot lifecycle stage reaches the stage Leads are created from)
    are handed to Salesforce in the same run: their people plan is made again with the lifecycle stage as
    the scorer is about to write it, so their Lead is created now, with its score, not one cycle later."""
    mapping = run.contacts
    inc = mapping.inclusion
    if not inc.create_in_salesforce:
        return changes, scored
    floor = LIFECYCLE_ORDER.index(inc.min_lifecyclestage)
    creating = {c.person_id for c in changes if c.system == "salesforce" and c.record_id is None}
    stages = {c.person_id: str(c.new) for c in scored if c.system == "hubspot" and c.field == "lifecyclestage"
              and c.record_id is not None and LIFECYCLE_ORDER.index(str(c.new)) >= floor
              and (c.old not in LIFECYCLE_ORDER or LIFECYCLE_ORDER.index(str(c.old)) < floor)
              and c.person_id not in creating and c.person_id not in deleted}
    if not stages:
        return changes, scored

    def staged(g: PersonGroup) -> PersonGroup:
        hs = g.hubspot
        if hs is None or g.person_id not in stages:
            return g
        return replace(g, hubspot=replace(hs, fields={**hs.fields, "lifecyclestage": stages[g.person_id]}))

    kept: list[Sequence[UnifiedPerson]] = []
    again = reconcile_store(run.engine, mapping, skip=erased_filter(run.engine, run.salt),
                            save_at=None if run.dry_run else (run.clock(), run.run_id), keep=kept.append,
                            only=set(stages), adjust=staged)
    replanned = [c for c in again.result.changes if c.person_id in stages]
    handed = {c.person_id for c in replanned if c.system == "salesforce" and c.record_id is None}
    if not handed:
        return changes, scored
    resolved = Resolved()
    for people in kept:
        resolved.keep([p for p in people if p.person_id in handed], again.roles)
    rescored = score_people(run.engine, model, now, save=not run.dry_run, run_id=run.run_id, resolved=resolved,
                            planned=replanned, only=handed, companies=run.mappings.companies)
    log.info("score: %s handed to Salesforce in this run (new MQLs with no Salesforce record)",
             count(len(handed), "person"))
    return ([*(c for c in changes if c.person_id not in handed), *(c for c in replanned if c.person_id in handed)],
            [*(c for c in scored if c.person_id not in handed), *rescored.changes])


def plan(run: ObjectRun, reconciled: Reconciled) -> WritePlan:
    """The writes, less the fields parked and waiting for their retry."""
    return plan_writes(reconciled.changes, held_fields(run.engine, now_ms=run.clock()))


def look_up(run: ObjectRun, plan: WritePlan) -> Looked:
    """No create on the store's word alone: records changed within the safety lag are not pulled yet. A dry
    run looks up too (storing nothing), so that it shows what the sync will send."""
    mapping = run.contacts
    return look_before_create(run.engine, plan, people_finders(run.systems.hubspot, run.systems.salesforce, mapping),
                              id_fields=people_id_fields(mapping), by_email=mapping.identity.match_on_email,
                              now_ms=run.clock(), run_id=run.run_id, dry_run=run.dry_run)


def before_push(run: ObjectRun, outcome: Outcome) -> None:
    """Parked writes no longer planned are not needed any more."""
    resolve_unplanned(run.engine, outcome.reconciled.changes, now_ms=run.clock())
    log.info("push: writing %s", _objects_line(outcome.looked.plan.counts()) or "nothing")


def delete(run: ObjectRun, reconciled: Reconciled, created: Mapping[tuple[str, str, str], str]) -> dict[str, Any]:
    """Carry out the deletions, one by one: never through Bulk; then the scoring pass is done."""
    policy = _deletions(run)
    sinks = {**run.sinks, "salesforce": SalesforceSink(run.systems.salesforce, 10**9)}
    out = apply_deletions(run.engine, list(reconciled.deletions), mapping=run.contacts, sinks=sinks,
                          erase_action=policy.erase_action, salt=run.salt, now_ms=run.clock(), run_id=run.run_id)
    if run.mappings.scoring is not None and _PASS_STARTED in reconciled.counts:
        finish_pass(run.engine, run.mappings.scoring, int(reconciled.counts[_PASS_STARTED]), run.clock())
    return out


def report(run: ObjectRun, outcome: Outcome) -> None:
    """People's parts of the run summary: the plan and its forecast, or what the push wrote and deleted."""
    result, looked = run.result, outcome.looked
    if result.reconcile is not None:  # what the push was handed (reconciliation's own count held more)
        result.reconcile.summary.planned_writes = planned_writes(looked.plan)
    if outcome.pushed is None:
        result.plan = PlanResult(
            described=describe_plan(looked.plan, sample=run.options.sample, full=run.options.full_plan,
                                    adopted=looked.adopted),
            lookup=looked.to_json(), deletions=dict(Counter(a.action for a in outcome.reconciled.deletions)))
        result.forecast = forecast(looked.plan, run.systems, run.bulk_threshold, looked_up=outcome.plan,
                                   checked=PEOPLE.edited_fields(run.mappings))
        log.info("plan: %s (nothing written)", _objects_line(result.plan.objects))
        return
    result.deletions = outcome.after
    result.push = PushResult(seconds=outcome.seconds, pushed=outcome.pushed.to_json(), lookup=looked.to_json(),
                             write_calls=dict(outcome.write_calls or {}))
    _log_push(result.push.to_json())


PEOPLE = ObjectSpec(name="people", group="people", streams=PEOPLE_STREAMS, mapping="contacts", id_fields=_id_fields,
                    reconcile=reconcile, plan=plan, look_up=look_up, before_push=before_push, after_push=delete,
                    report=report, primary=True)


def _history_reader(run: ObjectRun) -> Callable[[ReconcileResult], dict[str, dict[str, int]]]:
    """For each chunk of people: where most_recent settled a disagreement on HubSpot's record time, the
    real change times of those properties (property history, 50 contacts a call), kept in the store."""
    def read(part: ReconcileResult) -> dict[str, dict[str, int]]:
        wanted = unasked(run.engine, history_wanted(part, run.contacts))  # an idle cycle asks nothing again
        if not wanted:
            return {}
        times = run.systems.hubspot.property_times("contacts", wanted)
        save_field_times(run.engine, times, asked=wanted)
        if run.result.field_history is None:
            run.result.field_history = FieldHistory()
        run.result.field_history.records += len(wanted)
        run.result.field_history.with_times += len(times)
        return times
    return read


def _objects_line(objects: Mapping[str, Mapping[str, int]]) -> str:
    """"hubspot contacts 3 creates, 5 updates; ..." from per-object counts (names only, no record values)."""
    return "; ".join(f"{key.replace(':', ' ')} {count(n.get('create', 0), 'create')}, "
                     f"{count(n.get('update', 0), 'update')}" for key, n in sorted(objects.items()))


def _log_reconcile(part: Mapping[str, Any]) -> None:
    # (what is written is the push's line: the plan drops parked records and adds scores, so reconciliation's
    # own count of changes is no count of writes)
    log.info("reconcile: done in %.1f s: %d people (%d unchanged), %d linked in both systems, %d duplicates, "
             "%d conflicts decided", part["seconds"], part["people"], part["unchanged"], part["linked_in_both"],
             part["duplicates"], sum(c["people"] for c in part["conflicts"]))


def _log_push(part: Mapping[str, Any]) -> None:
    objects = {f"{system}:{obj}": {"create": n["created"], "update": n["updated"]}
               for system, per in part["written"].items() for obj, n in per.items()}
    log.info("push: done in %.1f s: wrote %s; %d rejected and parked; write calls HubSpot %d, Salesforce %d",
             part["seconds"], _objects_line(objects) or "nothing", part["rejected"],
             part["write_calls"]["hubspot"], part["write_calls"]["salesforce"])
