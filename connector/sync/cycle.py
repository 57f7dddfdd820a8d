"""One sync cycle: pull, reconcile, push (score and reports join as they land), as one recorded run.

An edge like the CLI: it wires the stages to the store and the two adapters. `connector sync --once`,
`connector plan` (a dry run: nothing is written to either system or saved as people) and the demo
all go through `run_once` (`run_cycle` gives its JSON summary); `connector pull` runs its pull stage
alone (`stage_runs.run_pull`), so both read the same streams.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.engine import Engine

from ..config import ConnectorConfig, DeletionsConfig
from ..errors import ConnectorError, RetryLater
from ..objects import registry
from ..objects.spec import ObjectRun, ObjectSpec, Outcome, object_summary
from ..objects.streams import ENGAGEMENT_STREAMS, Stream, with_company_fields, with_mapped_fields
from ..pull.engine import Puller, PullSettings
from ..push.engine import Pusher
from ..reconcile.mapping import CompanyMapping, ContactMapping, Mappings, OpportunityMapping
from ..score.model import ScoringModel
from ..store.erasure import purge_erased
from ..store.explain import left_out
from ..store.journal import prune_journal
from ..store.pushes import parked_count
from ..store.state import erasure_salt
from ..systems.hubspot import HubSpotSink
from ..systems.ledger import CallLedger
from ..systems.pacing import BudgetExhausted
from ..systems.ports import Sink
from ..systems.salesforce import SalesforceSink
from .checks import check_live_fit, check_presence, check_setup, forget_live_fit
from .planning import add_deal_forecast, check_calls
from .mapping_history import record_synced_mappings, since_last_sync
from .recording import Recording, recorded_run
from ..stopping import Stopped, check_stop
from .results import DealsResult, PullResult, RunResult
from .systems import Systems

__all__ = ["ALL_OBJECTS", "CycleOptions", "log_pull", "pull_stage", "pulled_streams", "run_cycle", "run_objects",
           "run_once", "sync_object"]

#: the stages' INFO lines are the package's (`progress.py` listens to "connector.sync")
log = logging.getLogger("connector.sync")

#: every object a cycle syncs unless told otherwise
ALL_OBJECTS = ("people", "engagement", "opportunities", "companies")


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
    company_mapping: CompanyMapping | None = None
    scoring: ScoringModel | None = None
    closed_opportunities_days: int = 365
    deletions: DeletionsConfig | None = None
    journal_days: int = 90
    #: how long mapped fields that passed the live check against both systems' metadata stay trusted
    metadata_check_ms: int = 3_600_000

    @classmethod
    def from_config(cls, cfg: ConnectorConfig, mappings: Mappings, **overrides: Any) -> CycleOptions:
        """The options `connector sync` runs with: the config's timing, objects and policies (`overrides`
        for the command's own: command, pull, dry_run, sample, full_plan, clock; or any of the config's, as
        the daemon's sweep overrides the lookback and the deletion checks' timing)."""
        settings: dict[str, Any] = dict(
            mapping=mappings.contacts, objects=list(cfg.sync.objects), lookback_ms=cfg.sync.lookback_seconds * 1000,
            safety_lag_ms=cfg.sync.safety_lag_seconds * 1000,
            deletion_scan_ms=int(cfg.sync.deletion_scan_hours * 3_600_000), deletions=cfg.deletions,
            field_history=cfg.sync.field_history, deal_mapping=mappings.opportunities, scoring=mappings.scoring,
            company_mapping=mappings.companies,
            closed_opportunities_days=cfg.sync.closed_opportunities_days, journal_days=cfg.sync.journal_days,
            metadata_check_ms=int(cfg.sync.metadata_check_minutes * 60_000))
        return cls(**{**settings, **overrides})


def pulled_streams(specs: Sequence[ObjectSpec], groups: Sequence[str], mapping: ContactMapping,
                   scoring: ScoringModel | None = None, companies: CompanyMapping | None = None) -> list[Stream]:
    """The streams of the configured groups: each object's (in run order), then engagement (the activity
    scoring reads); the people streams also read every field the contact mapping writes, and the
    scorer's outputs when there is a scoring model; the company streams read companies.toml's fields (and
    are pulled only when it is there)."""
    chosen = [s for spec in specs if spec.group in groups and (spec.mapping != "companies" or companies is not None)
              for s in spec.streams]
    chosen += [s for s in ENGAGEMENT_STREAMS if "engagement" in groups]
    reason = scoring.status.reason_field if scoring else None
    return [with_company_fields(with_mapped_fields(s, mapping, scoring is not None, reason), companies)
            for s in chosen]


def _totals(ledger: CallLedger, since: Mapping[tuple[str, str], int] | None = None) -> dict[str, int]:
    return {s: int(v["total"]) for s, v in ledger.snapshot(since).items()}  # type: ignore[call-overload]


def run_cycle(engine: Engine, systems: Systems | Callable[[], Systems], mapping: ContactMapping,
              **options: Any) -> dict[str, Any]:
    """`run_once` with the options given by name (see `CycleOptions`); returns the run's JSON summary."""
    return run_once(engine, systems, CycleOptions(mapping, **options)).to_json()


def run_once(engine: Engine, systems: Systems | Callable[[], Systems], options: CycleOptions) -> RunResult:
    """Pull (unless `options.pull` is False), then run every registered object (`objects.registry`: people,
    then deals) through the same stages (`sync_object`); with `options.dry_run`, plan instead of pushing.

    `systems` may be a function that opens them (`open_systems`): it is called once the store's run lock
    is held, so a run refused because the store is busy has signed in to neither system (see
    `recorded_run`). Returns the run's result (its `to_json` is what `--json` prints); the run is
    recorded with its API calls either way.
    """
    started = time.perf_counter()
    clock, command, mapping = options.clock, options.command, options.mapping
    with recorded_run(engine, command, clock, systems) as recording:
        opened = recording.systems
        assert opened is not None
        run_id = recording.run_id
        run = RunResult(run_id=run_id, dry_run=options.dry_run)
        specs = registry.registered()
        try:
            bulk_threshold = (opened.salesforce.bulk_threshold if options.bulk_threshold is None
                              else options.bulk_threshold)
            deletions = options.deletions or DeletionsConfig()
            salt = erasure_salt(engine, deletions.salt.get_secret_value() if deletions.salt else None)
            mappings = Mappings(mapping, options.deal_mapping, options.scoring, options.company_mapping)
            # before the pull: a mapped field the system lacks stops the run with the fix (exit 2), not the pull
            # with the system's own refusal; checked again once `metadata_check_ms` passed or anything changed
            check_live_fit(engine, opened.hubspot, opened.salesforce, mappings, clock(), options.metadata_check_ms)
            if options.pull:
                run.pull = pull_stage(engine, recording, options)
                purge_erased(engine, salt, run_id)
                if not options.dry_run:
                    run.pull.presence_check = check_presence(
                        engine, opened.hubspot, clock(), int(deletions.presence_check_hours * 3_600_000))
            check_setup(engine, opened.hubspot, mapping, clock())  # before anything is written or planned
            sinks: dict[str, Sink] = {"hubspot": HubSpotSink(opened.hubspot),
                                      "salesforce": SalesforceSink(opened.salesforce, bulk_threshold)}
            context = ObjectRun(engine, opened, sinks, mappings, options, run, run_id, clock, bulk_threshold, salt)
            run_objects(specs, context)
            if options.dry_run and run.plan is not None:
                changed = since_last_sync(engine, mappings, run.plan.described)
                if changed is not None:
                    run.plan.described["since_last_sync"] = changed
                run.plan.described["left_out"] = left_out(engine, mapping)
            elif not options.dry_run:
                record_synced_mappings(engine, mappings, run_id, clock())
                prune_journal(engine, clock() - options.journal_days * 86_400_000)
            run.completed = True
        except ConnectorError as exc:
            run.error, run.message = type(exc).__name__, str(exc)
            if not isinstance(exc, (Stopped, BudgetExhausted, RetryLater)):
                forget_live_fit(engine)  # a system refused something: its metadata may have changed
            if isinstance(exc, Stopped):
                log.info("%s run %d stopped on request: what it pulled and wrote is committed", command, run_id)
            if isinstance(exc, BudgetExhausted):
                log.warning("%s run %d stopped: the daily API budget is spent (%s)", command, run_id, exc)
            raise
        finally:
            run.api_calls = recording.api_calls()
            run.parked = parked_count(engine)
            run.seconds = round(time.perf_counter() - started, 3)
            recording.status, recording.counts = run.status, run.stage_counts()
    return run


def pull_stage(engine: Engine, recording: Recording, options: CycleOptions) -> PullResult:
    """The pull stage of a recorded run: the streams of the configured groups (`pulled_streams`), read from
    both systems into the store, with the run's calls so far."""
    systems = recording.systems
    assert systems is not None
    log.info("pull: reading what changed in both systems")
    t = time.perf_counter()
    settings = PullSettings(run_started_ms=recording.started_ms, lookback_ms=options.lookback_ms,
                            safety_lag_ms=options.safety_lag_ms, run_id=recording.run_id,
                            deletion_scan_ms=options.deletion_scan_ms)
    # the store is stamped with the run's clock, the one scoring's passes compare against
    run_clock = options.clock
    pulled = Puller(engine, hubspot=systems.hubspot, salesforce=systems.salesforce, settings=settings,
                    clock=lambda: run_clock() / 1000).pull(
        pulled_streams(registry.registered(), options.objects or list(ALL_OBJECTS), options.mapping, options.scoring,
                       options.company_mapping))
    result = PullResult(seconds=round(time.perf_counter() - t, 3), streams=pulled.to_json(),
                        api_calls=_totals(systems.ledger, recording.since))
    log_pull(result.to_json())
    return result


def log_pull(part: Mapping[str, Any]) -> None:
    """The pull stage's INFO line: time, streams, records new and changed, API calls (counts only)."""
    streams = part["streams"].values()
    calls = part["api_calls"]
    log.info("pull: done in %.1f s: %d streams, %d new, %d changed (%d of them the connector's own writes); API "
             "calls so far HubSpot %d, Salesforce %d", part["seconds"], len(part["streams"]),
             sum(s["new"] for s in streams), sum(s["changed"] for s in streams),
             sum(s.get("echoes", 0) for s in streams), calls.get("hubspot", 0), calls.get("salesforce", 0))


def run_objects(specs: Sequence[ObjectSpec], run: ObjectRun) -> None:
    """Every spec this run syncs, in order, through the same stages, each filed in the run's result."""
    for spec in specs:
        if spec.runs(run.mappings, run.options.objects):
            check_stop()
            _report(spec, run, sync_object(spec, run))


def sync_object(spec: ObjectSpec, run: ObjectRun) -> Outcome:
    """One object through the stages: reconcile, plan, look up; unless a dry run, push and what follows it
    (the spec's hooks), with the push's time and write calls."""
    reconciled = spec.reconcile(run)
    plan = spec.plan(run, reconciled)
    before = _totals(run.systems.ledger)  # the push's calls include the look-up before creates (as forecast)
    outcome = Outcome(reconciled, plan, spec.look_up(run, plan))
    if run.dry_run:
        return outcome
    spec.before_push(run, outcome)
    t = time.perf_counter()
    pusher = Pusher(run.engine, sinks=run.sinks, mapping=run.contacts, now_ms=run.clock, run_id=run.run_id,
                    bulk_threshold=run.bulk_threshold, id_fields=spec.id_fields(run.mappings),
                    checked=spec.edited_fields(run.mappings), fields_file=spec.fields_file(run.mappings))
    pusher.created.update(outcome.looked.adopted)
    outcome.pushed = pusher.push(outcome.looked.plan)
    outcome.after = spec.after_push(run, reconciled, pusher.created)
    outcome.seconds = round(time.perf_counter() - t, 3)
    after = _totals(run.systems.ledger)
    outcome.write_calls = {s: after.get(s, 0) - before.get(s, 0) for s in ("hubspot", "salesforce")}
    return outcome


def _report(spec: ObjectSpec, run: ObjectRun, outcome: Outcome) -> None:
    """The object's part of the run's result: the spec's own `report` (people's parts are the summary's
    stages), or its summary filed under its name, its writes added to the run's forecast or write calls."""
    if spec.report is not None:
        spec.report(run, outcome)
        return
    part = DealsResult(object_summary(outcome), outcome.write_calls)
    result = run.result
    result.add_object(spec.name, part)
    if result.forecast is not None:
        checks = check_calls(outcome.plan.updates, spec.edited_fields(run.mappings))
        add_deal_forecast(result.forecast, part.report, run.bulk_threshold, checks=checks)
    if result.push is not None and outcome.write_calls is not None:
        for system, n in outcome.write_calls.items():
            result.push.write_calls[system] += n
