"""One sync cycle: pull, reconcile, push (score and reports join as they land), as one recorded run.

An edge like the CLI: it wires the stages to the store and the two adapters. `connector sync --once`,
`connector plan` (a dry run: nothing is written to either system or saved as people) and the demo
all go through `run_cycle`.
"""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, func, select

from .config import ConnectorConfig, DeletionsConfig
from .errors import ConfigError, ConfigProblem, ConnectorError
from .pull.engine import Puller, PullSettings
from .pull.history import history_wanted, save_field_times
from .pull.streams import streams_for
from .push.deletions import DeletionPolicy, plan_deletions, without_deleted_people
from .push.engine import Pusher
from .push.removals import apply_deletions
from .push.deals import sync_deals
from .push.lookup import look_before_create, people_finders, people_id_fields
from .push.writes import OPT_OUT, RecordWrite, WritePlan, is_true, plan_writes
from .setup import require_live_fit
from .reconcile.engine import ReconcileResult
from .reconcile.mapping import ContactMapping, Mappings, OpportunityMapping
from .reconcile.records import NewRecordId, RecordKey
from .store.erasure import deleted_records, erased_filter, erasure_salt, mark_deleted, mark_erased, purge_erased
from .store.models import ParkedRecord, SourceRecord, SyncCursor
from .store.people import reconcile_store
from .store.pushes import held_fields, resolve_unplanned
from .store.runs import abandon_run, call_recorder, calls_since, finish_run, start_run
from .systems.hubspot import HubSpotSink, HubSpotSource, hubspot_calls, hubspot_lookup_calls
from .systems.ledger import CallLedger
from .systems.pacing import BudgetExhausted
from .systems.salesforce import SalesforceSink, SalesforceSource, salesforce_calls, salesforce_lookup_calls
from .wording import count

__all__ = ["Systems", "open_systems", "run_cycle", "forecast", "check_setup", "mark_setup_done", "log_pull"]

log = logging.getLogger(__name__)


@dataclass
class Systems:
    """Both adapters of one run and the ledger that counts their calls."""

    hubspot: HubSpotSource
    salesforce: SalesforceSource
    ledger: CallLedger

    def close(self) -> None:
        self.hubspot.close()
        self.salesforce.close()

    def authenticate(self) -> None:
        """Sign in to both systems before the first read: refused credentials stop the run with exit 2 before
        anything was read or written (a token grant is not an API call)."""
        self.hubspot.authenticate()
        self.salesforce.authenticate()


def open_systems(cfg: ConnectorConfig, engine: Engine, now_ms: int) -> Systems:
    """Adapters for the configured systems, signed in to both, their daily budgets charged with the last 24
    hours' runs. Raises ConfigError when either system refuses the credentials (or a certificate does not
    verify), TransientApiError when a token request keeps failing."""
    if cfg.sandbox.enabled or cfg.hubspot is None or cfg.salesforce is None:
        raise ConfigError("the embedded sandbox lives for one command only, so it cannot be synced incrementally: "
                          "start `connector sandbox --config-out sandbox.toml` and pass --config sandbox.toml "
                          "(or set [sandbox] enabled = false and configure both systems); `connector demo` runs a "
                          "whole sync against a sandbox of its own")
    ledger = CallLedger()
    day_ago = now_ms - 86_400_000
    hubspot = HubSpotSource(cfg.hubspot, ledger, prior_calls_today=calls_since(engine, "hubspot", day_ago))
    try:
        salesforce = SalesforceSource(cfg.salesforce, ledger,
                                      prior_calls_today=calls_since(engine, "salesforce", day_ago))
    except BaseException:
        hubspot.close()
        raise
    systems = Systems(hubspot, salesforce, ledger)
    try:
        systems.authenticate()
    except BaseException:
        systems.close()
        raise
    return systems


def _totals(ledger: CallLedger, since: Mapping[tuple[str, str], int] | None = None) -> dict[str, int]:
    return {s: int(v["total"]) for s, v in ledger.snapshot(since).items()}  # type: ignore[call-overload]


def run_cycle(engine: Engine, systems: Systems | Callable[[], Systems], mapping: ContactMapping, *,
              command: str = "sync",
              clock: Callable[[], int] = lambda: int(time.time() * 1000), objects: list[str] | None = None,
              pull: bool = True, dry_run: bool = False, lookback_ms: int = 120_000, safety_lag_ms: int = 60_000,
              deletion_scan_ms: int = 86_400_000, bulk_threshold: int | None = None, sample: int = 10,
              full_plan: bool = False, field_history: bool = True, deal_mapping: OpportunityMapping | None = None,
              closed_opportunities_days: int = 365, deletions: DeletionsConfig | None = None) -> dict[str, Any]:
    """Pull (unless `pull` is False), reconcile and push once; with `dry_run`, plan instead of pushing.

    `systems` may be a function that opens them (`open_systems`): it is called once the store's run lock
    is held, so a run refused because the store is busy has signed in to neither system; systems opened
    that way are closed here. Returns the run's summary (what `--json` prints); the run is recorded with
    its API calls either way.
    """
    started = time.perf_counter()
    now_ms = clock()
    run_id = start_run(engine, command, now_ms)  # holds the store's run lock until finish_run, below
    opener, systems = _opened_after_lock(engine, run_id, systems)
    base = systems.ledger.mark()  # the adapters may serve several runs: this run's calls are those after it
    systems.ledger.on_record = call_recorder(engine, run_id, base)  # on the run's record as each is made
    summary: dict[str, Any] = {"ok": True, "run_id": run_id, "dry_run": dry_run}

    status, error = "failed", None
    try:
        if bulk_threshold is None:
            bulk_threshold = systems.salesforce.bulk_threshold
        deletions = deletions or DeletionsConfig()
        salt = erasure_salt(engine, deletions.salt.get_secret_value() if deletions.salt else None)
        log.info("%s run %d started", command, run_id)
        if pull:
            log.info("pull: reading what changed in both systems")
            t = time.perf_counter()
            settings = PullSettings(run_started_ms=now_ms, lookback_ms=lookback_ms, safety_lag_ms=safety_lag_ms,
                                    run_id=run_id, deletion_scan_ms=deletion_scan_ms)
            pulled = Puller(engine, hubspot=systems.hubspot, salesforce=systems.salesforce, settings=settings).pull(
                streams_for(objects or ["people", "engagement", "opportunities"], mapping))
            summary["pull"] = {"seconds": round(time.perf_counter() - t, 3), "streams": pulled.to_json(),
                               "api_calls": _totals(systems.ledger, base)}
            log_pull(summary["pull"])
            purge_erased(engine, salt, run_id)
            if not dry_run:
                summary["pull"]["presence_check"] = check_presence(
                    engine, systems.hubspot, clock(), int(deletions.presence_check_hours * 3_600_000))
        check_setup(engine, systems.hubspot, mapping, clock())  # before anything is written or planned
        require_live_fit(systems.hubspot, systems.salesforce, Mappings(mapping, deal_mapping))  # metadata: per run
        log.info("reconcile: unifying the people in the store")
        t = time.perf_counter()
        refine = _history_reader(engine, systems.hubspot, mapping, summary) if field_history else None
        done = reconcile_store(engine, mapping, skip=erased_filter(engine, salt), refine=refine,
                               save_at=None if dry_run else (clock(), run_id))
        result = done.result
        summary["reconcile"] = {"seconds": round(time.perf_counter() - t, 3), **done.summary}
        _log_reconcile(summary["reconcile"])
        actions = plan_deletions(result.people, deleted_records(engine), DeletionPolicy(
            hubspot_archive=deletions.hubspot_archive, salesforce_delete=deletions.salesforce_delete))
        planned = without_deleted_people(result.changes, actions)
        plan = plan_writes(planned, held_fields(engine, now_ms=clock()))
        # no create on the store's word alone: records changed within the safety lag are not pulled yet. A
        # plan looks up too (storing nothing), so that it shows what the sync will send
        looked = look_before_create(engine, plan, people_finders(systems.hubspot, systems.salesforce, mapping),
                                    id_fields=people_id_fields(mapping), by_email=mapping.identity.match_on_email,
                                    now_ms=clock(), run_id=run_id, dry_run=dry_run)
        if dry_run:
            summary["plan"] = describe_plan(looked.plan, sample=sample, full=full_plan, adopted=looked.adopted)
            summary["plan"]["lookup"] = looked.to_json()
            summary["plan"]["deletions"] = dict(Counter(a.action for a in actions))
            summary["forecast"] = forecast(looked.plan, systems, bulk_threshold, looked_up=plan)
            log.info("plan: %s (nothing written)", _objects_line(summary["plan"]["objects"], "create", "update"))
        else:
            resolve_unplanned(engine, planned, now_ms=clock())  # parked writes no longer planned: not needed
            log.info("push: writing %s", _objects_line(looked.plan.counts(), "create", "update") or "nothing")
            before = _totals(systems.ledger)
            t = time.perf_counter()
            sinks = {"hubspot": HubSpotSink(systems.hubspot), "salesforce": SalesforceSink(systems.salesforce, bulk_threshold)}
            pusher = Pusher(engine, sinks=sinks, mapping=mapping, now_ms=clock, run_id=run_id,
                            bulk_threshold=bulk_threshold)
            pusher.created.update(looked.adopted)
            pushed = pusher.push(looked.plan)
            summary["deletions"] = apply_deletions(
                engine, actions, sinks={**sinks, "salesforce": SalesforceSink(systems.salesforce, 10**9)},  # one by one
                mapping=mapping,
                erase_action=deletions.erase_action, salt=salt, now_ms=clock(), run_id=run_id)
            after = _totals(systems.ledger)
            summary["push"] = {"seconds": round(time.perf_counter() - t, 3), **pushed.to_json(),
                               "lookup": looked.to_json(),
                               "write_calls": {s: after.get(s, 0) - before.get(s, 0) for s in ("hubspot", "salesforce")}}
            _log_push(summary["push"])
        if deal_mapping is not None and "opportunities" in (objects or ["opportunities"]):
            before = _totals(systems.ledger)
            summary["deals"] = sync_deals(
                engine, sinks={"hubspot": HubSpotSink(systems.hubspot),
                               "salesforce": SalesforceSink(systems.salesforce, bulk_threshold)},
                contacts=mapping, mapping=deal_mapping, now_ms=clock, run_id=run_id, bulk_threshold=bulk_threshold,
                closed_within_days=closed_opportunities_days, dry_run=dry_run)
            if dry_run:
                _add_deal_forecast(summary["forecast"], summary["deals"], bulk_threshold)
            else:
                after = _totals(systems.ledger)
                calls = {s: after.get(s, 0) - before.get(s, 0) for s in ("hubspot", "salesforce")}
                summary["deals"]["write_calls"] = calls
                for s_ in calls:
                    summary["push"]["write_calls"][s_] += calls[s_]
        rejected = (summary.get("push", {}).get("rejected") or summary.get("push", {}).get("lookup", {}).get("held")
                    or summary.get("deals", {}).get("push", {}).get("rejected"))
        status = "partial" if rejected else "ok"
    except ConnectorError as exc:
        error = str(exc)
        summary.update(ok=False, error=type(exc).__name__, message=error)
        if isinstance(exc, BudgetExhausted):
            log.warning("%s run %d stopped: the daily API budget is spent (%s)", command, run_id, exc)
        raise
    finally:
        systems.ledger.on_record = None  # calls after this run (another run's, setup's) are not this run's
        summary["api_calls"] = systems.ledger.snapshot(base)
        summary["parked"] = parked_count(engine)
        summary["seconds"] = round(time.perf_counter() - started, 3)
        finish_run(engine, run_id, now_ms=clock(), status=status, api_calls=summary["api_calls"],
                   counts={k: v for k, v in summary.items() if k in ("pull", "reconcile", "push", "plan", "deals",
                                                                   "deletions", "field_history")}, error=error)
        if opener:
            systems.close()
        log.info("%s run %d %s in %.1f s", command, run_id, status, summary["seconds"])
    return summary


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
                    summary: dict[str, Any]) -> Callable[[ReconcileResult], dict[str, dict[str, int]]]:
    """For each chunk of people: where most_recent settled a disagreement on HubSpot's record time, the
    real change times of those properties (property history, 50 contacts a call), kept in the store."""
    def read(part: ReconcileResult) -> dict[str, dict[str, int]]:
        wanted = history_wanted(part, mapping)
        if not wanted:
            return {}
        times = hubspot.property_times("contacts", wanted)
        save_field_times(engine, times)
        seen = summary.setdefault("field_history", {"records": 0, "with_times": 0})
        seen["records"] += len(wanted)
        seen["with_times"] += len(times)
        return times
    return read


_SETUP = "setup:hubspot-properties"


def _cross_reference_properties(mapping: ContactMapping) -> list[str]:
    ident = mapping.identity
    return sorted({ident.hubspot_lead_id_property, ident.hubspot_contact_id_property})


def mark_setup_done(engine: Engine, mapping: ContactMapping, now_ms: int) -> None:
    """Remember that HubSpot has the connector's cross-reference properties (after `connector setup`)."""
    with Session(engine) as session, session.begin():
        row = session.get(SyncCursor, _SETUP) or SyncCursor(stream=_SETUP, value={}, updated_at=now_ms)
        row.value, row.updated_at = {"present": _cross_reference_properties(mapping)}, now_ms
        session.add(row)


def check_setup(engine: Engine, hubspot: HubSpotSource, mapping: ContactMapping, now_ms: int) -> None:
    """Stop before any write when HubSpot lacks the properties creates are upserted on (setup never ran):
    otherwise every create would be refused and parked. Checked once per store (one properties call)."""
    needed = _cross_reference_properties(mapping)
    with Session(engine) as session:
        row = session.get(SyncCursor, _SETUP)
        if row is not None and row.value.get("present") == needed:
            return
    names = {str(p.get("name")) for p in hubspot.properties("contacts")}
    missing = [n for n in needed if n not in names]
    if missing:
        raise ConfigError([ConfigProblem(
            "hubspot", "contacts properties", f"HubSpot has no {', '.join(missing)}: the connector records the "
            "Salesforce ids there and creates contacts by them, so nothing can be written yet",
            "run `connector setup --apply` once (it creates the connector's properties), then sync again")])
    mark_setup_done(engine, mapping, now_ms)


_PRESENCE = "hubspot:contacts:presence"


def check_presence(engine: Engine, hubspot: HubSpotSource, now_ms: int, every_ms: int) -> dict[str, int]:
    """Find HubSpot contacts deleted for good (GDPR delete), which no listing or search reports.

    Every `every_ms`, the stored live contacts are batch-read (100 per call); one missing both live and
    archived was erased at the source. The first run only starts the clock (it has just listed them all).
    """
    with Session(engine) as session:
        row = session.get(SyncCursor, _PRESENCE)
        last = int(row.value.get("at", 0)) if row is not None else None
    if last is not None and now_ms - last < every_ms:
        return {}
    counts = {"checked": 0, "erased": 0, "archived": 0}
    if last is not None:
        with Session(engine) as session:
            ids = list(session.exec(select(SourceRecord.record_id).where(
                SourceRecord.system == "hubspot", SourceRecord.object_type == "contacts", ~SourceRecord.deleted
            )).all())  # the contacts the connector created too: one archived before any pull saw it is found here
        missing = sorted(set(ids) - hubspot.present("contacts", ids))
        archived = hubspot.present("contacts", missing, archived=True) if missing else set()
        counts = {"checked": len(ids), "erased": mark_erased(engine, "hubspot", "contacts",
                                                              [i for i in missing if i not in archived], now_ms),
                  "archived": len(archived)}
        if archived:
            mark_deleted(engine, [RecordKey("hubspot", "contacts", i) for i in archived], now_ms)
    with Session(engine) as session, session.begin():
        row = session.get(SyncCursor, _PRESENCE) or SyncCursor(stream=_PRESENCE, value={}, updated_at=now_ms)
        row.value, row.updated_at = {"at": now_ms}, now_ms
        session.add(row)
    return counts


def _add_deal_forecast(out: dict[str, Any], deals: dict[str, Any], bulk_threshold: int) -> None:
    """Deal writes and deal-contact links, added to a plan's forecast."""
    for key, n in deals["planned"].items():
        system = key.split(":", 1)[0]
        for op in ("create", "update"):
            if n[op]:
                out[system]["write_calls"] += (hubspot_calls(n[op]) if system == "hubspot"
                                               else salesforce_calls(n[op], bulk_threshold))
    links = deals["links_to_add"]
    out["hubspot"]["write_calls"] += hubspot_calls(links.get("hubspot", 0))
    out["salesforce"]["write_calls"] += salesforce_calls(links.get("salesforce", 0), 10**9)
    for system in ("hubspot", "salesforce"):
        remaining = out[system]["remaining_today"]
        out[system]["fits"] = remaining is None or out[system]["write_calls"] <= remaining


def parked_count(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(ParkedRecord).where(
            ParkedRecord.resolved_at.is_(None))).one())  # type: ignore[union-attr]


def describe_plan(plan: WritePlan, *, sample: int = 10, full: bool = False,
                  adopted: Mapping[tuple[str, str, str], str] | None = None) -> dict[str, Any]:
    """Creates and updates per system and object, the values planned per field, up to `sample` per-field
    diffs per system (old -> new, and why: updates first, they show what changes), and with `full` every
    planned field value. A cross-reference to a create the look-up found already done shows the found id."""
    updates = [_with_ids(w, adopted or {}) for w in plan.updates]
    out: dict[str, Any] = {"objects": plan.counts(), "held_back": len(plan.held), "sample": [],
                           "fields": _field_counts(plan)}
    for system in ("hubspot", "salesforce"):
        rows: list[dict[str, Any]] = []
        for write in (*updates, *plan.creates):
            if write.system == system:
                rows.extend(_diff_rows(write))
                if len(rows) >= sample:
                    break
        out["sample"].extend(rows[:sample])
    if full:
        out["diffs"] = [row for write in (*plan.creates, *updates) for row in _diff_rows(write)]
    return out


def _field_counts(plan: WritePlan) -> dict[str, dict[str, int]]:
    """Planned values per "system:object" and field, most first: a rule change shows here without --json."""
    counts: dict[str, Counter[str]] = {}
    for write in (*plan.creates, *plan.updates):
        counts.setdefault(f"{write.system}:{write.object_type}", Counter()).update(write.values.keys())
    return {key: dict(c.most_common()) for key, c in sorted(counts.items())}


def _with_ids(write: RecordWrite, adopted: Mapping[tuple[str, str, str], str]) -> RecordWrite:
    """The write with each NewRecordId the look-up resolved (a record found, adopted as the create) filled in."""
    if not adopted or not write.waits_for_ids:
        return write
    values = {k: adopted.get((write.person_id, v.system, v.object_type), v) if isinstance(v, NewRecordId) else v
              for k, v in write.values.items()}
    return replace(write, values=values)


def _diff_rows(write: RecordWrite) -> list[dict[str, Any]]:
    return [{"system": write.system, "object_type": write.object_type, "record": write.parked_id, "field": name,
             "old": write.old.get(name), "new": str(value) if not isinstance(value, (str, int, float, bool, type(None)))
             else value, "reason": write.reasons.get(name, "")} for name, value in sorted(write.values.items())]


def forecast(plan: WritePlan, systems: Systems, bulk_threshold: int, looked_up: WritePlan | None = None
             ) -> dict[str, Any]:
    """API calls the plan would cost per system, against what remains of the connector's daily share
    (`DailyBudget.remaining`: the same figure before and after a pull, never above share x configured limit).
    `looked_up`: the plan whose creates are looked up first (default: `plan`)."""
    groups: dict[tuple[str, str, str], int] = {}
    for write in (*plan.creates, *plan.updates):
        # creates travel per external id they are upserted on (a HubSpot contact from a Lead or a Contact)
        op = "update" if write.record_id is not None else "create:" + ",".join(
            k for k in write.values if k.startswith("salesforce_") or k.startswith("HubSpot_"))
        groups[(write.system, write.object_type, op)] = groups.get((write.system, write.object_type, op), 0) + 1
    calls = {"hubspot": 0, "salesforce": 0}
    for (system, _obj, _op), n in groups.items():
        calls[system] += hubspot_calls(n) if system == "hubspot" else salesforce_calls(n, bulk_threshold)
    # every create is looked up in its target system first (connector/push/lookup.py)
    creates = (looked_up or plan).creates
    calls["salesforce"] += salesforce_lookup_calls(sum(1 for w in creates if w.system == "salesforce"))
    calls["hubspot"] += hubspot_lookup_calls(len({str(w.values["email"]).strip().casefold() for w in creates
                                                   if w.system == "hubspot" and w.values.get("email")}))
    # an opt-out reaches HubSpot through the subscription API, one call per person
    calls["hubspot"] += sum(1 for w in (*plan.creates, *plan.updates) if w.system == "hubspot"
                            and is_true(w.values.get(OPT_OUT)))
    out: dict[str, Any] = {}
    systems.salesforce.learn_limits()  # the org's limit, if no response of this run has reported it yet
    for system, source in (("hubspot", systems.hubspot), ("salesforce", systems.salesforce)):
        budget = source.http.budget
        remaining = budget.remaining() if budget is not None else None  # DailyBudget's one definition
        out[system] = {"write_calls": calls[system], "remaining_today": remaining,
                       "fits": remaining is None or calls[system] <= remaining}
    return out
