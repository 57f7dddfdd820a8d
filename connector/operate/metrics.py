"""Prometheus metrics of a running daemon, computed from the store at scrape time.

Counters are sums over the runs the store keeps, not over this process's life: a restart neither resets nor
doubles them, two replicas report the same figures, and they agree with the status page and `connector
status`. Each app has its own `CollectorRegistry` (nothing in the process-wide one), holding:

- `connector_runs_total{command,status}`: ended runs by outcome (ok, partial, failed, interrupted; a run in
  progress counts once it has ended, and a run killed once the next one has marked it interrupted)
- `connector_records_pulled_total`, `_written_total` (created + updated), `_rejected_total` per system and
  object (from each run's stored counts), and the gauge `connector_records_parked` (the parking lot now)
- `connector_api_calls_total`, `connector_api_calls_last_24h` and `connector_api_calls_remaining` per
  system (`DailyBudget`'s own definition of what remains of the connector's share today)
- `connector_sync_lag_seconds`: since the last successful sync run started
- `connector_sla_breached_people`: people whose published handoff SLA clock reads breached
- `connector_daemon_role{role}`, `_ready`, `_paused`, `_mappings_ok`, `_run_in_progress` from `DaemonState`
- `connector_store_up`: 0 when the store did not answer (the store's figures are then left out)

The runs' counts are added up once each, by the database (the totals kept in memory grow with each run that
ends), so a scrape reads only the runs that ended since the previous one; the history is read when the app
is built, in the background (`_RunTotals`).
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, get_args

from prometheus_client import CollectorRegistry, ProcessCollector
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ..store.operations import (ObjectKey, ended_through, last_success_started, parked_by_object, run_totals,
                                sla_breached_people)
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
#: how long a scrape waits for the runs' history to be read (at start) before serving without its figures
HISTORY_WAIT_S = 5.0
#: runs added up per query while catching up (a query of a few seconds at most, on a slow disk)
_SLICE = 20_000
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
    from ..config import HubSpotConfig, SalesforceConfig

    def default(model: type[HubSpotConfig | SalesforceConfig], name: str) -> Any:
        return model.model_fields[name].default  # a section left out (the sandbox): its defaults

    hubspot, salesforce = cfg.hubspot, cfg.salesforce
    return {"hubspot": BudgetLimit(hubspot.daily_limit if hubspot else default(HubSpotConfig, "daily_limit"),
                                   hubspot.daily_budget_share if hubspot
                                   else default(HubSpotConfig, "daily_budget_share")),
            "salesforce": BudgetLimit(None, salesforce.daily_budget_share if salesforce
                                      else default(SalesforceConfig, "daily_budget_share"))}


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


@dataclass(frozen=True)
class _Totals:
    """What the ended runs pulled, wrote, were refused and called, added up."""

    pulled: Mapping[ObjectKey, int]
    written: Mapping[ObjectKey, int]
    rejected: Mapping[ObjectKey, int]
    calls: Mapping[str, int]
    outcomes: Mapping[tuple[str, str], int]


class _RunTotals:
    """The ended runs' figures, each run added once (two scrapes at once add it once).

    The database adds them up (`run_totals`). Catching up with a long history (half a million runs after a
    year of one-minute runs) is done by a thread started with the collector, not by a scrape; a scrape waits
    a few seconds for it, and until it is done the figures it would give are left out (not served low)."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.after_id = 0
        self.pulled: Counter[ObjectKey] = Counter()
        self.written: Counter[ObjectKey] = Counter()
        self.rejected: Counter[ObjectKey] = Counter()
        self.calls: Counter[str] = Counter()
        self.outcomes: Counter[tuple[str, str]] = Counter()
        self.caught_up = threading.Event()
        self._lock = threading.Lock()  # the totals: held while they are read and added to
        self._starting = threading.Lock()  # the history's reader: never held while reading
        self._catching_up: threading.Thread | None = None
        self.catch_up()

    def catch_up(self) -> None:
        """Start reading the history in the background, unless that is done or under way."""
        with self._starting:
            if self.caught_up.is_set() or (self._catching_up is not None and self._catching_up.is_alive()):
                return
            self._catching_up = threading.Thread(target=self._read_history, name="metrics-history", daemon=True)
            self._catching_up.start()

    def _read_history(self) -> None:
        try:
            self.refresh()
        except SQLAlchemyError as exc:  # the store is down: the next scrape starts again
            log.warning("metrics: could not read the runs' history (%s)", type(exc).__name__)
            return
        self.caught_up.set()

    def current(self, wait_s: float) -> _Totals | None:
        """The totals up to the last ended run, or None while the history is still being read after `wait_s`."""
        self.catch_up()
        if not self.caught_up.wait(wait_s):
            return None
        return self.refresh()

    def refresh(self) -> _Totals:
        """Add the runs that ended since the last refresh, a slice of ids at a time. The one run in progress
        (the store's lock lets one run at a time) ends the range: it is added once it has ended."""
        with self._lock:
            upto = ended_through(self.engine, self.after_id)
            while self.after_id < upto:
                end = min(upto, self.after_id + _SLICE)
                part = run_totals(self.engine, self.after_id, end)
                self.pulled.update(part.pulled)
                self.written.update(part.written)
                self.rejected.update(part.rejected)
                self.calls.update(part.calls)
                self.outcomes.update(part.outcomes)
                self.after_id = end
            return self._snapshot()

    def _snapshot(self) -> _Totals:
        return _Totals(dict(self.pulled), dict(self.written), dict(self.rejected), dict(self.calls),
                       dict(self.outcomes))


def _per_object(name: str, documentation: str, values: Mapping[ObjectKey, int]) -> CounterMetricFamily:
    family = CounterMetricFamily(name, documentation, labels=["system", "object"])
    for (system, obj), n in sorted(values.items()):
        family.add_metric([system, obj], n)
    return family


def _gauge(name: str, documentation: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, documentation, value=value)


class StoreCollector(Collector):
    """The connector's metrics, read from the store (and the daemon's own state) on every scrape."""

    def __init__(self, engine: Engine, state: DaemonState, limits: Mapping[str, BudgetLimit], clock: Clock,
                 history_wait_s: float = HISTORY_WAIT_S) -> None:
        self.engine, self.state, self.limits, self.clock = engine, state, limits, clock
        self.history_wait_s = history_wait_s
        self._totals = _RunTotals(engine)

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
        totals = self._totals.current(self.history_wait_s)
        if totals is not None:
            runs = CounterMetricFamily("connector_runs", "Runs that ended, by command and outcome (ok, partial: "
                                       "some records parked, failed, interrupted)", labels=["command", "status"])
            for (command, status), n in sorted(totals.outcomes.items()):
                runs.add_metric([command, status], n)
            yield runs
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
        calls = CounterMetricFamily("connector_api_calls", "API calls made by ended runs (absent while the "
                                    "runs' history is being read)", labels=["system"])
        used = GaugeMetricFamily("connector_api_calls_last_24h", "API calls of the runs started in the last 24 "
                                 "hours (what the daily budget counts)", labels=["system"])
        remaining = GaugeMetricFamily("connector_api_calls_remaining", "API calls left of the connector's share "
                                      "of the daily allowance (absent while the limit is unknown)", labels=["system"])
        for figures in budget_figures(engine, self.limits, now_ms):
            if totals is not None:
                calls.add_metric([figures.system], totals.calls.get(figures.system, 0))
            used.add_metric([figures.system], figures.used_24h)
            if figures.remaining is not None:
                remaining.add_metric([figures.system], figures.remaining)
        yield from (calls, used, remaining) if totals is not None else (used, remaining)
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
