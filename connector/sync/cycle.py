"""One sync cycle: pull, reconcile, push (score and reports join as they land), as one recorded run.

An edge like the CLI: it wires the stages to the store and the two adapters. `connector sync --once`,
`connector plan` (a dry run: nothing is written to either system or saved as people) and the demo
all go through `run_once` (`run_cycle` gives its JSON summary).
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ..config import ConnectorConfig, DeletionsConfig
from ..errors import ConnectorError
from ..pull.engine import Puller, PullSettings
from ..pull.history import history_wanted, save_field_times
from ..objects.streams import streams_for
from ..push.deals import sync_deals
from ..push.engine import Pusher
from ..push.lookup import look_before_create, people_finders, people_id_fields
from ..push.removals import apply_deletions
from ..reconcile.deletions import DeletionPolicy, plan_deletions, without_deleted_people
from ..reconcile.engine import ReconcileResult
from ..reconcile.mapping import ContactMapping, Mappings, OpportunityMapping
from ..reconcile.writes import plan_writes
from ..setup import require_live_fit
from ..store.erasure import deleted_records, erased_filter, purge_erased
from ..store.pushes import held_fields, parked_count, resolve_unplanned
from ..store.runs import abandon_run, call_recorder, finish_run, start_run
from ..store.state import erasure_salt
from ..systems.hubspot import HubSpotSink, HubSpotSource
from ..systems.ledger import CallLedger
from ..systems.pacing import BudgetExhausted
from ..systems.ports import Sink
from ..systems.salesforce import SalesforceSink
from ..wording import count
from .checks import check_presence, check_setup
from .planning import add_deal_forecast, describe_plan, forecast
from .reconciling import reconcile_store
from .results import DealsResult, FieldHistory, PlanResult, PullResult, PushResult, ReconcileStage, RunResult
from .systems import Systems

__all__ = ["CycleOptions", "log_pull", "run_cycle", "run_once"]

#: the stages' INFO lines are the package's (`progress.py` listens to "connector.sync")
log = logging.getLogger("connector.sync")

#: every object a cycle syncs unless told otherwise
ALL_OBJECTS = ("people", "engagement", "opportunities")


@dataclass(frozen=True)
class CycleOptions:
    """What one cycle does and with which timing: built from the config (`from_config`) or given in full."""

    mapping: ContactMapping
    command: str = "sync"
    clock: Callable[[], int] = field(default=lambda: int(time.time() * 1000))
    objects: list[str] | None = None
    pull: bool = True
    dry_run: bool = False
    lookback_ms: int = 120_000
    safety_lag_ms: int = 60_000
    deletion_scan_ms: int = 86_400_000
    bulk_threshold: int | None = None
    sample: int = 10
    full_plan: bool = False
    field_history: bool = True
    deal_mapping: OpportunityMapping | None = None
    closed_opportunities_days: int = 365
    deletions: DeletionsConfig | None = None

    @classmethod
    def from_config(cls, cfg: ConnectorConfig, mappings: Mappings, **overrides: Any) -> CycleOptions:
        """The options `connector sync` runs with: the config's timing, objects and policies (`overrides`
        for the command's own: command, pull, dry_run, sample, full_plan, clock)."""
        return cls(mapping=mappings.contacts, objects=list(cfg.sync.objects),
                   lookback_ms=cfg.sync.lookback_seconds * 1000, safety_lag_ms=cfg.sync.safety_lag_seconds * 1000,
                   deletion_scan_ms=int(cfg.sync.deletion_scan_hours * 3_600_000), deletions=cfg.deletions,
                   field_history=cfg.sync.field_history, deal_mapping=mappings.opportunities,
                   closed_opportunities_days=cfg.sync.closed_opportunities_days, **overrides)


def _totals(ledger: CallLedger, since: Mapping[tuple[str, str], int] | None = None) -> dict[str, int]:
    return {s: int(v["total"]) for s, v in ledger.snapshot(since).items()}  # type: ignore[call-overload]


def run_cycle(engine: Engine, systems: Systems | Callable[[], Systems], mapping: ContactMapping,
              **options: Any) -> dict[str, Any]:
    """`run_once` with the options given by name (see `CycleOptions`); returns the run's JSON summary."""
    return run_once(engine, systems, CycleOptions(mapping, **options)).to_json()


def run_once(engine: Engine, systems: Systems | Callable[[], Systems], options: CycleOptions) -> RunResult:
    """Pull (unless `options.pull` is False), reconcile and push once; with `options.dry_run`, plan instead of
    pushing.

    `systems` may be a function that opens them (`open_systems`): it is called once the store's run lock
    is held, so a run refused because the store is busy has signed in to neither system; systems opened
    that way are closed here. Returns the run's result (its `to_json` is what `--json` prints); the run is
    recorded with its API calls either way.
    """
    started = time.perf_counter()
    clock, command, mapping = options.clock, options.command, options.mapping
    now_ms = clock()
    run_id = start_run(engine, command, now_ms)  # holds the store's run lock until finish_run, below
    opener, systems = _opened_after_lock(engine, run_id, systems)
    base = systems.ledger.mark()  # the adapters may serve several runs: this run's calls are those after it
    systems.ledger.on_record = call_recorder(engine, run_id, base)  # on the run's record as each is made
    run = RunResult(run_id=run_id, dry_run=options.dry_run)
    try:
        bulk_threshold = (systems.salesforce.bulk_threshold if options.bulk_threshold is None
                          else options.bulk_threshold)
        deletions = options.deletions or DeletionsConfig()
        salt = erasure_salt(engine, deletions.salt.get_secret_value() if deletions.salt else None)
        log.info("%s run %d started", command, run_id)
        if options.pull:
            log.info("pull: reading what changed in both systems")
            t = time.perf_counter()
            settings = PullSettings(run_started_ms=now_ms, lookback_ms=options.lookback_ms,
                                    safety_lag_ms=options.safety_lag_ms, run_id=run_id,
                                    deletion_scan_ms=options.deletion_scan_ms)
            pulled = Puller(engine, hubspot=systems.hubspot, salesforce=systems.salesforce, settings=settings).pull(
                streams_for(options.objects or list(ALL_OBJECTS), mapping))
            run.pull = PullResult(seconds=round(time.perf_counter() - t, 3), streams=pulled.to_json(),
                                  api_calls=_totals(systems.ledger, base))
            log_pull(run.pull.to_json())
            purge_erased(engine, salt, run_id)
            if not options.dry_run:
                run.pull.presence_check = check_presence(
                    engine, systems.hubspot, clock(), int(deletions.presence_check_hours * 3_600_000))
        check_setup(engine, systems.hubspot, mapping, clock())  # before anything is written or planned
        require_live_fit(systems.hubspot, systems.salesforce, Mappings(mapping, options.deal_mapping))  # per run
        log.info("reconcile: unifying the people in the store")
        t = time.perf_counter()
        refine = _history_reader(engine, systems.hubspot, mapping, run) if options.field_history else None
        done = reconcile_store(engine, mapping, skip=erased_filter(engine, salt), refine=refine,
                               save_at=None if options.dry_run else (clock(), run_id))
        result = done.result
        run.reconcile = ReconcileStage(seconds=round(time.perf_counter() - t, 3), summary=done.summary)
        _log_reconcile(run.reconcile.to_json())
        actions = plan_deletions(result.people, deleted_records(engine), DeletionPolicy(
            hubspot_archive=deletions.hubspot_archive, salesforce_delete=deletions.salesforce_delete))
        planned = without_deleted_people(result.changes, actions)
        plan = plan_writes(planned, held_fields(engine, now_ms=clock()))
        # no create on the store's word alone: records changed within the safety lag are not pulled yet. A
        # plan looks up too (storing nothing), so that it shows what the sync will send
        looked = look_before_create(engine, plan, people_finders(systems.hubspot, systems.salesforce, mapping),
                                    id_fields=people_id_fields(mapping), by_email=mapping.identity.match_on_email,
                                    now_ms=clock(), run_id=run_id, dry_run=options.dry_run)
        if options.dry_run:
            run.plan = PlanResult(
                described=describe_plan(looked.plan, sample=options.sample, full=options.full_plan,
                                        adopted=looked.adopted),
                lookup=looked.to_json(), deletions=dict(Counter(a.action for a in actions)))
            run.forecast = forecast(looked.plan, systems, bulk_threshold, looked_up=plan)
            log.info("plan: %s (nothing written)", _objects_line(run.plan.objects, "create", "update"))
        else:
            resolve_unplanned(engine, planned, now_ms=clock())  # parked writes no longer planned: not needed
            log.info("push: writing %s", _objects_line(looked.plan.counts(), "create", "update") or "nothing")
            before = _totals(systems.ledger)
            t = time.perf_counter()
            sinks: dict[str, Sink] = {"hubspot": HubSpotSink(systems.hubspot),
                                      "salesforce": SalesforceSink(systems.salesforce, bulk_threshold)}
            pusher = Pusher(engine, sinks=sinks, mapping=mapping, now_ms=clock, run_id=run_id,
                            bulk_threshold=bulk_threshold)
            pusher.created.update(looked.adopted)
            pushed = pusher.push(looked.plan)
            run.deletions = apply_deletions(
                engine, actions, mapping=mapping,  # deletions go one by one: never through Bulk
                sinks={**sinks, "salesforce": SalesforceSink(systems.salesforce, 10**9)},
                erase_action=deletions.erase_action, salt=salt, now_ms=clock(), run_id=run_id)
            after = _totals(systems.ledger)
            run.push = PushResult(seconds=round(time.perf_counter() - t, 3), pushed=pushed.to_json(),
                                  lookup=looked.to_json(),
                                  write_calls={s: after.get(s, 0) - before.get(s, 0) for s in ("hubspot", "salesforce")})
            _log_push(run.push.to_json())
        if options.deal_mapping is not None and "opportunities" in (options.objects or ["opportunities"]):
            before = _totals(systems.ledger)
            run.deals = DealsResult(sync_deals(
                engine, sinks={"hubspot": HubSpotSink(systems.hubspot),
                               "salesforce": SalesforceSink(systems.salesforce, bulk_threshold)},
                contacts=mapping, mapping=options.deal_mapping, now_ms=clock, run_id=run_id,
                bulk_threshold=bulk_threshold, closed_within_days=options.closed_opportunities_days,
                dry_run=options.dry_run))
            if run.forecast is not None:
                add_deal_forecast(run.forecast, run.deals.report, bulk_threshold)
            if run.push is not None:
                after = _totals(systems.ledger)
                run.deals.write_calls = {s: after.get(s, 0) - before.get(s, 0) for s in ("hubspot", "salesforce")}
                for s_, n in run.deals.write_calls.items():
                    run.push.write_calls[s_] += n
        run.completed = True
    except ConnectorError as exc:
        run.error, run.message = type(exc).__name__, str(exc)
        if isinstance(exc, BudgetExhausted):
            log.warning("%s run %d stopped: the daily API budget is spent (%s)", command, run_id, exc)
        raise
    finally:
        systems.ledger.on_record = None  # calls after this run (another run's, setup's) are not this run's
        run.api_calls = systems.ledger.snapshot(base)
        run.parked = parked_count(engine)
        run.seconds = round(time.perf_counter() - started, 3)
        finish_run(engine, run_id, now_ms=clock(), status=run.status, api_calls=run.api_calls,
                   counts=run.stage_counts(), error=run.message)
        if opener:
            systems.close()
        log.info("%s run %d %s in %.1f s", command, run_id, run.status, run.seconds)
    return run


def _objects_line(objects: Mapping[str, Mapping[str, int]], create: str, update: str) -> str:
    """"hubspot contacts 3 creates, 5 updates; ..." from per-object counts (names only, no record values)."""
    return "; ".join(f"{key.replace(':', ' ')} {count(n.get(create, 0), 'create')}, {count(n.get(update, 0), 'update')}"
                     for key, n in sorted(objects.items()))


def log_pull(part: Mapping[str, Any]) -> None:
    """The pull stage's INFO line: time, streams, records new and changed, API calls (counts only)."""
    streams = part["streams"].values()
    calls = part["api_calls"]
    log.info("pull: done in %.1f s: %d streams, %d new, %d changed (%d of them the connector's own writes); API "
             "calls so far HubSpot %d, Salesforce %d", part["seconds"], len(part["streams"]),
             sum(s["new"] for s in streams), sum(s["changed"] for s in streams),
             sum(s.get("echoes", 0) for s in streams), calls.get("hubspot", 0), calls.get("salesforce", 0))


def _log_reconcile(part: Mapping[str, Any]) -> None:
    writes = part["planned_writes"]
    log.info("reconcile: done in %.1f s: %d people (%d unchanged), %d linked in both systems, %d duplicates, "
             "%d conflicts decided; HubSpot needs %d creates and %d updates, Salesforce %d and %d", part["seconds"],
             part["people"], part["unchanged"], part["linked_in_both"], part["duplicates"],
             sum(c["people"] for c in part["conflicts"]), writes["hubspot"]["creates"], writes["hubspot"]["updates"],
             writes["salesforce"]["creates"], writes["salesforce"]["updates"])


def _log_push(part: Mapping[str, Any]) -> None:
    objects = {f"{system}:{obj}": {"create": n["created"], "update": n["updated"]}
               for system, per in part["written"].items() for obj, n in per.items()}
    log.info("push: done in %.1f s: wrote %s; %d rejected and parked; write calls HubSpot %d, Salesforce %d",
             part["seconds"], _objects_line(objects, "create", "update") or "nothing", part["rejected"],
             part["write_calls"]["hubspot"], part["write_calls"]["salesforce"])


def _opened_after_lock(engine: Engine, run_id: int, systems: Systems | Callable[[], Systems]
                       ) -> tuple[bool, Systems]:
    """(whether this run opened them, the systems): opened now, under the run lock; when a system refuses
    the sign-in (bad credentials, an unreachable token endpoint) the run never started: it is forgotten."""
    if isinstance(systems, Systems):
        return False, systems
    try:
        return True, systems()
    except BaseException:
        abandon_run(engine, run_id)
        raise


def _history_reader(engine: Engine, hubspot: HubSpotSource, mapping: ContactMapping,
                    run: RunResult) -> Callable[[ReconcileResult], dict[str, dict[str, int]]]:
    """For each chunk of people: where most_recent settled a disagreement on HubSpot's record time, the
    real change times of those properties (property history, 50 contacts a call), kept in the store."""
    def read(part: ReconcileResult) -> dict[str, dict[str, int]]:
        wanted = history_wanted(part, mapping)
        if not wanted:
            return {}
        times = hubspot.property_times("contacts", wanted)
        save_field_times(engine, times)
        if run.field_history is None:
            run.field_history = FieldHistory()
        run.field_history.records += len(wanted)
        run.field_history.with_times += len(times)
        return times
    return read
