"""Prometheus metrics of a running daemon, computed from the store at scrape time.

Counters are sums over the runs the store keeps, not over this process's life: a restart neither resets nor
doubles them, two replicas report the same figures, and they agree with the status page and `connector
status`. Each app has its own `CollectorRegistry` (nothing in the process-wide one), holding:

- `connector_runs_total{command,status}`: ended runs by outcome (ok, partial, failed, interrupted)
- `connector_records_pulled_total`, `_written_total` (created + updated), `_rejected_total` per system and
  object (from each run's stored counts), and the gauge `connector_records_parked` (the parking lot now)
- `connector_api_calls_total`, `connector_api_calls_last_24h` and `connector_api_calls_remaining` per
  system (`DailyBudget`'s own definition of what remains of the connector's share today)
- `connector_sync_lag_seconds`: since the last successful sync run started
- `connector_sla_breached_people`: people whose published handoff SLA clock reads breached
- `connector_daemon_role{role}`, `_ready`, `_paused`, `_mappings_ok`, `_run_in_progress` from `DaemonState`
- `connector_store_up`: 0 when the store did not answer (the store's figures are then left out)

The runs' counts are parsed once each (the totals kept in memory grow with each new finished run), so a
scrape reads only the runs that ended since the previous one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, get_args

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..store.operations import (ObjectKey, last_success_started, parked_by_object, pulled_per_object, runs_after,
                                runs_by_outcome, sla_breached_people, written_per_object)
from ..store.runs import calls_since
from ..systems.pacing import DailyBudget
from .state import DaemonState, Role

if TYPE_CHECKING:
    from ..config import ConnectorConfig

__all__ = ["BudgetLimit", "BudgetFigures", "SYNC_COMMANDS", "SYSTEMS", "budget_figures", "budget_limits",
           "build_registry", "StoreCollector"]

log = logging.getLogger(__name__)

SYSTEMS = ("hubspot", "salesforce")
#: the runs whose success the sync lag counts from: a cycle (the daemon's incremental sync or its nightly sweep)
SYNC_COMMANDS = frozenset({"sync", "sweep"})
_DAY_MS = 86_400_000
Clock = Callable[[], float]


@dataclass(frozen=True)
class BudgetLimit:
    """One system's configured daily allowance (None: the account's own, learnt only from its answers) and
    the connector's share of it."""

    daily_limit: int | None
    share: float


def budget_limits(cfg: ConnectorConfig) -> dict[str, BudgetLimit]:
    """The daily budgets the configuration sets, as the adapters build them (`connector.systems.*._client`):
    HubSpot's tier limit; Salesforce's org limit is unknown until the org reports it."""
    from ..config import HubSpotConfig

    hubspot = cfg.hubspot or HubSpotConfig()  # the sandbox's config: the defaults
    return {"hubspot": BudgetLimit(hubspot.daily_limit, hubspot.daily_budget_share),
            "salesforce": BudgetLimit(None, cfg.salesforce.daily_budget_share if cfg.salesforce else 0.5)}


@dataclass(frozen=True)
class BudgetFigures:
    """A system's API calls in the last 24 hours and, when its limit is known, its allowance and what remains."""

    system: str
    used_24h: int
    allowance: int | None
    remaining: int | None


def budget_figures(engine: Engine, limits: Mapping[str, BudgetLimit], now_ms: int) -> list[BudgetFigures]:
    """Each system's budget as `DailyBudget` reckons it before a run starts (its calls from the store's runs of
    the last 24 hours; the account's own reported usage is known only to a run in progress)."""
    out = []
    for system in SYSTEMS:
        used = calls_since(engine, system, now_ms - _DAY_MS)
        limit = limits.get(system)
        budget = DailyBudget(system, limit.daily_limit if limit else None, limit.share if limit else 1.0,
                             prior_calls=used)
        out.append(BudgetFigures(system, used, budget.allowance, budget.remaining()))
    return out


class _RunTotals:
    """What every ended run pulled, wrote, was refused and called, added up once per run (thread-safe: two
    scrapes at once add each run once)."""

    def __init__(self) -> None:
        self.after_id = 0
        self.pulled: Counter[ObjectKey] = Counter()
        self.written: Counter[ObjectKey] = Counter()
        self.rejected: Counter[ObjectKey] = Counter()
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def refresh(self, engine: Engine) -> None:
        """Add the runs that ended since the last refresh. The one run in progress (the store's lock lets one
        run at a time) stops the reading: it is added once it has ended."""
        with self._lock:
            while True:
                rows = runs_after(engine, self.after_id)
                for row in rows:
                    if row.status == "running":
                        return
                    self.pulled.update(pulled_per_object(row.counts))
                    for key, (written, rejected) in written_per_object(row.counts).items():
                        self.written[key] += written
                        self.rejected[key] += rejected
                    for system, calls in row.api_calls.items():
                        if isinstance(calls, Mapping):
                            self.calls[str(system)] += int(calls.get("total") or 0)
                    self.after_id = row.id
                if not rows:
                    return


def _per_object(name: str, documentation: str, values: Mapping[ObjectKey, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["system", "object"])
    for (system, obj), n in sorted(values.items()):
        family.add_metric([system, obj], n)
    return family


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class StoreCollector(Collector):
    """The connector's metrics, read from the store (and the daemon's own state) on every scrape."""

    def __init__(self, engine: Engine, state: DaemonState, limits: Mapping[str, BudgetLimit], clock: Clock) -> None:
        self.engine, self.state, self.limits, self.clock = engine, state, limits, clock
        self._totals = _RunTotals()

    def describe(self) -> list[Metric]:
        return []  # nothing is read at registration: the store is read when scraped

    def collect(self) -> Iterable[Metric]:
        now = self.clock()
        yield from self._daemon(now)
        try:
            store = list(self._store(now))
        except SQLAlchemyError as exc:
            log.warning("metrics: the store did not answer (%s); only the daemon's own figures are served",
                        type(exc).__name__)
            yield _gauge("connector_store_up", "1 when the state store answered this scrape, else 0", 0)
            return
        yield _gauge("connector_store_up", "1 when the state store answered this scrape, else 0", 1)
        yield from store

    def _daemon(self, now: float) -> Iterable[Metric]:
        state = self.state
        role = GaugeMetricFamily("connector_daemon_role", "1 for the daemon's current role (starting, leader, "
                                 "standby, stopping), 0 for the others", labels=["role"])
        for name in get_args(Role):
            role.add_metric([name], 1 if state.role == name else 0)
        yield role
        ready, _ = state.ready(now)
        yield _gauge("connector_daemon_ready", "1 when the daemon reports ready (as /readyz without the store check)",
                     1 if ready else 0)
        yield _gauge("connector_daemon_paused", "1 while the daily API budget pauses the daemon",
                     1 if state.paused_until is not None and state.paused_until > now else 0)
        yield _gauge("connector_daemon_mappings_ok", "0 when the last mapping reload was refused (the previous "
                     "mappings keep running)", 0 if state.mappings_problem else 1)
        yield _gauge("connector_daemon_run_in_progress", "1 while a run is in progress", 1 if state.running else 0)

    def _store(self, now: float) -> Iterable[Metric]:
        engine, now_ms = self.engine, int(now * 1000)
        runs = CounterMetricFamily("connector_runs", "Runs that ended, by command and outcome (ok, partial: some "
                                   "records parked, failed, interrupted)", labels=["command", "status"])
        for command, status, n in sorted(runs_by_outcome(engine)):
            runs.add_metric([command, status], n)
        yield runs
        totals = self._totals
        totals.refresh(engine)
        yield _per_object("connector_records_pulled", "Records read from a system by ended runs (new, changed "
                          "or unchanged)", totals.pulled)
        yield _per_object("connector_records_written", "Records created or updated in a system by ended runs",
                          totals.written)
        yield _per_object("connector_records_rejected", "Record writes a system refused in ended runs (each "
                          "was parked)", totals.rejected)
        parked = GaugeMetricFamily("connector_records_parked", "Records waiting in the parking lot now "
                                   "(`connector status` lists them)", labels=["system", "object"])
        for (system, obj), n in sorted(parked_by_object(engine).items()):
            parked.add_metric([system, obj], n)
        yield parked
        calls = CounterMetricFamily("connector_api_calls", "API calls made by ended runs", labels=["system"])
        used = GaugeMetricFamily("connector_api_calls_last_24h", "API calls of the runs started in the last 24 "
                                 "hours (what the daily budget counts)", labels=["system"])
        remaining = GaugeMetricFamily("connector_api_calls_remaining", "API calls left of the connector's share "
                                      "of the daily allowance (absent while the limit is unknown)", labels=["system"])
        for figures in budget_figures(engine, self.limits, now_ms):
            calls.add_metric([figures.system], totals.calls.get(figures.system, 0))
            used.add_metric([figures.system], figures.used_24h)
            if figures.remaining is not None:
                remaining.add_metric([figures.system], figures.remaining)
        yield from (calls, used, remaining)
        last = last_success_started(engine, SYNC_COMMANDS)
        if last is not None:
            yield _gauge("connector_sync_lag_seconds", "Seconds since the last successful sync run started "
                         "(changes older than that are in both systems)", max(0.0, now - last / 1000))
        yield _gauge("connector_sla_breached_people", "People whose handoff SLA clock, as last published to the "
                     "systems, reads breached", sla_breached_people(engine))


def build_registry(engine: Engine, state: DaemonState, *, limits: Mapping[str, BudgetLimit] | None = None,
                   clock: Clock = time.time, process: bool = True) -> CollectorRegistry:
    """A registry of its own holding the store's collector (and, with `process`, the process's CPU, memory and
    open files)."""
    registry = CollectorRegistry()
    registry.register(StoreCollector(engine, state, limits or {}, clock))
    if process:
        ProcessCollector(registry=registry)
    return registry
