"""The scheduled daemon, `connector run`: one leader per store syncs every interval, sweeps nightly, refreshes
the status page's funnel, and reloads the mapping files when they change; it stops cleanly on SIGTERM.

- **One leader per store.** A daemon leads while it holds the store's leadership lock (`try_leadership`:
  a PostgreSQL advisory lock on a connection of its own, or a ``flock`` beside a SQLite file). On PostgreSQL
  a second daemon stands by and takes over within `standby_poll_s` of the leader's death (its connection
  closes, its lock goes with it). On SQLite a second daemon refuses to start: the file lives on one machine,
  and a standby there protects against nothing a restart policy does not. Migrations run once leading.
- **Runs never overlap.** APScheduler runs every job that calls a system on one worker thread, misfires
  coalesce into one run, and each run still takes the store's run lock (a `connector sync --once` beside
  the daemon makes that cycle skip, not collide).
- **Stopping.** SIGTERM asks the run in progress to stop at its next batch boundary (`connector.stopping`):
  what it pulled and wrote is committed and the next start resumes from there. The process exits 0 once
  it has; a run stuck past `stop_grace_seconds` in a stage with no boundary (reconciling a large store) is
  abandoned with exit code 1, which is as safe as a SIGKILL (the next run marks it interrupted).
- **The daily API budget** pauses the daemon: a run that finds it spent ends before its first call, and
  the daemon tries again each interval, at no API cost, until the rolling 24 hours allow.
- **The nightly sweep** re-reads the last 24 hours of changes in both systems (what an incremental read
  missed: drift), lists archived HubSpot records and checks linked contacts for GDPR deletion.
- **Mappings** are reloaded on SIGHUP or when a file in the mappings directory changes, after validating
  them: a bad file keeps the previous mappings running and says why (log, status page, /readyz detail).
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError

from ..config import ConnectorConfig, SandboxConfig, load_config
from ..errors import ConfigError, ConnectorError
from ..reconcile.mapping import Mappings
from ..stopping import Stopped, clear_stop, request_stop
from ..store import open_engine
from ..store.db import migrate
from ..store.lock import RunLock, StoreBusy, try_leadership
from ..sync import CycleOptions, run_once
from ..sync.admin import configured_mappings
from ..systems.pacing import BudgetExhausted
from .state import DaemonState

__all__ = ["Daemon", "DaemonTiming", "SecondDaemon", "sandboxed"]

log = logging.getLogger("connector.daemon")

#: how far back the nightly sweep re-reads both systems' changes
SWEEP_LOOKBACK_MS = 86_400_000


class SecondDaemon(ConnectorError):
    """Another daemon leads this SQLite store: two on one file would only wait on each other."""


@dataclass(frozen=True)
class DaemonTiming:
    """How often the daemon looks at things (the config's interval and stop grace, plus what tests shorten)."""

    interval_s: float
    stop_grace_s: float = 30.0
    sweep_at: str = "03:00"
    #: a standby's look at the leadership lock, and a leader's check that it still holds it
    standby_poll_s: float = 5.0
    #: the look at the mapping files' modification times
    reload_poll_s: float = 5.0
    #: the status page's funnel is computed this often
    report_refresh_s: float = 900.0

    @classmethod
    def from_config(cls, cfg: ConnectorConfig) -> DaemonTiming:
        return cls(interval_s=cfg.sync.interval_minutes * 60.0, stop_grace_s=float(cfg.daemon.stop_grace_seconds),
                   sweep_at=cfg.daemon.sweep_at)


def _stamp(directory: Path) -> tuple[tuple[str, int, int], ...]:
    """What identifies the mapping files' contents cheaply: names, sizes and modification times."""
    try:
        entries = sorted(p for p in directory.iterdir() if p.suffix == ".toml")
    except OSError:
        return ()
    out = []
    for p in entries:
        try:
            st = p.stat()
        except OSError:
            continue
        out.append((p.name, st.st_size, st.st_mtime_ns))
    return tuple(out)


class Daemon:
    """One daemon process's scheduler, leadership and state (`serve` runs it until `stop`)."""

    def __init__(self, cfg: ConnectorConfig, mappings: Mappings, *, timing: DaemonTiming | None = None,
                 opener: Callable[[Engine], Any] | None = None, engine: Engine | None = None) -> None:
        self.cfg = cfg
        self.timing = timing or DaemonTiming.from_config(cfg)
        self.engine = engine or open_engine(cfg.store.url, migrate_now=False)
        self.state = DaemonState(interval_s=self.timing.interval_s)
        self.mappings = mappings
        self.state.mappings_loaded_at = time.time()
        self._opener = opener
        self._stamp = _stamp(cfg.mappings.directory)
        self._stop = threading.Event()
        self._lost = threading.Event()
        self._reload = threading.Event()
        self._idle = threading.Event()
        self._idle.set()
        self._lead: RunLock | None = None
        self._scheduler: Any = None
        self.exit_code = 0

    # ---------------------------------------------------------------- control (signal handlers call these)

    def stop(self) -> None:
        """Stop: the run in progress ends at its next batch boundary, no other starts."""
        if not self._stop.is_set():
            log.info("stop requested: the run in progress ends at its next batch boundary")
        self._stop.set()
        request_stop()
        self.state.role = "stopping"

    def reload(self) -> None:
        """Reload the mapping files (validated first) before the next run."""
        self._reload.set()

    # ---------------------------------------------------------------- the loop

    def serve(self) -> int:
        """Lead (or stand by) until stopped; returns the exit code."""
        clear_stop()
        sqlite = self.engine.dialect.name == "sqlite"
        announced = False
        while not self._stop.is_set():
            try:
                lead = try_leadership(self.engine)
            except OperationalError as exc:  # the store is down (a PostgreSQL restart): wait for it
                log.warning("the store is unreachable (%s): trying again in %s", str(exc.orig).strip()[:200],
                            _duration(self.timing.standby_poll_s))
                self.state.role = "starting"
                self._stop.wait(self.timing.standby_poll_s)
                continue
            if lead is None:
                if sqlite:
                    raise SecondDaemon(
                        f"another `connector run` leads the store {self.engine.url.database}: one daemon per "
                        "SQLite store (stop the other, or use PostgreSQL for a standby replica)")
                if not announced:
                    log.info("standing by: another daemon leads this store; taking over when it stops")
                    announced = True
                self.state.role = "standby"
                self._stop.wait(self.timing.standby_poll_s)
                continue
            announced = False
            self._lead = lead
            try:
                migrate(self.engine)  # under the leadership: two replicas never migrate at once
                log.info("leading: syncing every %s", _duration(self.timing.interval_s))
                self.state.role = "leader"
                self._lost.clear()
                self._lead_until_stopped()
            finally:
                self._lead = None
                lead.release()
        log.info("stopped (exit code %d)", self.exit_code)
        return self.exit_code

    def _lead_until_stopped(self) -> None:
        from apscheduler.executors.pool import ThreadPoolExecutor
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger
        from apscheduler.triggers.interval import IntervalTrigger

        hour, minute = (int(x) for x in self.timing.sweep_at.split(":"))
        scheduler = BackgroundScheduler(
            executors={"runs": ThreadPoolExecutor(1), "light": ThreadPoolExecutor(1)},
            job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": None}, timezone="UTC")
        scheduler.add_job(self._sync, IntervalTrigger(seconds=self.timing.interval_s), executor="runs",
                          id="sync", next_run_time=_now_utc())
        scheduler.add_job(self._sweep, CronTrigger(hour=hour, minute=minute, timezone="UTC"), executor="runs",
                          id="sweep")
        scheduler.add_job(self._watch, IntervalTrigger(seconds=min(self.timing.reload_poll_s,
                                                                   self.timing.standby_poll_s)),
                          executor="light", id="watch")
        scheduler.add_job(self._refresh_reports, IntervalTrigger(seconds=self.timing.report_refresh_s),
                          executor="light", id="reports", next_run_time=_now_utc())
        scheduler.start()
        self._scheduler = scheduler
        try:
            while not self._stop.is_set() and not self._lost.is_set():
                self._stop.wait(0.5)
        finally:
            self._scheduler = None
            scheduler.shutdown(wait=False)  # no new run starts
            request_stop()  # the one in progress stops at its next batch boundary (stopping, or leadership lost)
            if not self._idle.wait(self.timing.stop_grace_s):
                log.error("the run in progress did not reach a batch boundary within %s: leaving it (the next "
                          "start marks it interrupted and resumes)", _duration(self.timing.stop_grace_s))
                # leadership lost: wait for the run (the store's run lock keeps the next leader's runs off the
                # store meanwhile) unless a stop comes
                while not self._stop.is_set() and not self._idle.wait(1.0):
                    pass
                if not self._idle.is_set():
                    self.exit_code = 1
                    _flush_logs()
                    os._exit(1)  # the worker thread cannot be stopped from outside; the process can
            if not self._stop.is_set():
                clear_stop()  # standing by again: a later leadership's runs may run
        if self._lost.is_set() and not self._stop.is_set():
            log.error("lost the store's leadership (its connection closed): standing by")

    # ---------------------------------------------------------------- jobs

    def _sync(self) -> None:
        started = time.time()
        self._cycle("sync")
        # a cycle longer than the interval made the scheduler skip the runs it overlapped: start the next at
        # once instead of waiting out another interval (an edit would wait up to two)
        scheduler = self._scheduler
        if scheduler is not None and not self._stop.is_set() and time.time() - started >= self.timing.interval_s:
            try:
                scheduler.modify_job("sync", next_run_time=_now_utc())
            except Exception:  # the scheduler is shutting down: nothing to hurry
                log.debug("the next sync could not be brought forward", exc_info=True)

    def _sweep(self) -> None:
        """The nightly sweep: a cycle that re-reads the last day's changes in both systems (drift: an edit an
        incremental read missed, such as one HubSpot's search indexed later than the safety lag, is caught
        here; the versions the store has cost nothing more), lists archived HubSpot records and checks linked
        contacts for GDPR deletion, whenever those were last done. (Decaying scores are rescored in every
        cycle they are due.)"""
        lookback_ms = max(SWEEP_LOOKBACK_MS, self.cfg.sync.lookback_seconds * 1000)
        self._cycle("sweep", deletion_scan_ms=0, lookback_ms=lookback_ms,
                    deletions=self.cfg.deletions.model_copy(update={"presence_check_hours": 0}))

    def _cycle(self, command: str, **overrides: Any) -> None:
        state = self.state
        if self._stop.is_set() or self._lost.is_set():
            return
        now = time.time()
        if self._lead is None or not self._lead.alive():
            self._lost.set()
            return
        self._idle.clear()
        state.running, state.running_since = command, now
        status = "failed"
        try:
            options = CycleOptions.from_config(self.cfg, self.mappings, command=command, pull=True, dry_run=False,
                                               **overrides)
            run = run_once(self.engine, self._systems(), options)
            status = run.status
            state.paused_until = None
            log.info("%s run %d: %s", command, run.run_id, _summary(status, run.to_json()))
        except Stopped:
            status = "stopped"
        except BudgetExhausted as exc:
            status = "paused"
            state.paused_until = now + 2 * self.timing.interval_s  # readiness says paused until a run succeeds
            log.warning("paused: %s; trying again in %s (no call is made while it is spent)", exc,
                        _duration(self.timing.interval_s))
        except StoreBusy:
            status = "skipped"
            log.info("%s skipped: another run (a `connector sync --once`?) holds the store's run lock", command)
        except ConnectorError as exc:
            log.error("%s failed: %s", command, exc)
        except Exception:  # the daemon outlives a bug in one run; the run's record says it failed
            log.exception("%s failed unexpectedly", command)
        finally:
            state.last_run_at, state.last_run_status = now, status
            if status in ("ok", "partial"):
                state.last_success_at = now
            state.running = state.running_since = None
            self._idle.set()

    def _systems(self) -> Callable[[], Any]:
        if self._opener is not None:
            opener = self._opener
            return lambda: opener(self.engine)
        from ..sync import open_systems

        return lambda: open_systems(self.cfg, self.engine, int(time.time() * 1000), action="synced by the daemon")

    def _watch(self) -> None:
        """The leadership still held, and the mapping files: reloaded on SIGHUP or a change."""
        if self._lead is not None and not self._lead.alive():
            self._lost.set()
            return
        stamp = _stamp(self.cfg.mappings.directory)
        if not self._reload.is_set() and stamp == self._stamp:
            return
        self._reload.clear()
        self._stamp = stamp
        try:
            mappings = configured_mappings(self.cfg)
        except ConfigError as exc:
            self.state.mappings_problem = str(exc)
            log.error("the changed mapping files were not loaded, the previous ones keep running: %s", exc)
            return
        self.mappings = mappings
        self.state.mappings_problem = None
        self.state.mappings_loaded_at = time.time()
        log.info("mapping files reloaded from %s", self.cfg.mappings.directory)

    def _refresh_reports(self) -> None:
        """The funnel the status page shows (the last 365 days), computed here so a page view costs no query."""
        from ..report.funnel import funnel_report

        try:
            since = int((time.time() - 365 * 86_400) * 1000)
            self.state.funnel = funnel_report(self.engine, since)
            self.state.funnel_at = time.time()
        except Exception:  # a report is not worth a daemon
            log.exception("the funnel for the status page could not be computed")


def _now_utc() -> Any:
    from datetime import UTC, datetime

    return datetime.now(UTC)


def _duration(seconds: float) -> str:
    return f"{seconds / 60:g} min" if seconds >= 60 else f"{seconds:g} s"


def _summary(status: str, summary: dict[str, Any]) -> str:
    """A run in one line: its status, what it pulled and wrote, what it parked, its calls."""
    pulled = sum(s.get("new", 0) + s.get("changed", 0) for s in summary.get("pull", {}).get("streams", {}).values())
    written = summary.get("push", {}).get("written", {})
    writes = sum(n.get("created", 0) + n.get("updated", 0) for objects in written.values() for n in objects.values())
    calls = {s: c.get("total", 0) for s, c in summary.get("api_calls", {}).items()}
    return (f"{status}; pulled {pulled}, wrote {writes}, parked {summary.get('parked', 0)}; "
            f"calls {', '.join(f'{s} {n}' for s, n in sorted(calls.items())) or 'none'}; "
            f"{summary.get('seconds', 0):.1f} s")


def _flush_logs() -> None:
    for handler in logging.getLogger().handlers:
        try:
            handler.flush()
        except Exception:  # noqa: S110 - exiting anyway
            pass


@contextmanager
def sandboxed(cfg: ConnectorConfig, work_dir: Path) -> Iterator[ConnectorConfig]:
    """With `[sandbox] enabled`: the emulators for the daemon's lifetime, set up once (the connector's own
    properties and fields), and the config pointing at them; otherwise `cfg` as it is."""
    if not cfg.sandbox.enabled:
        yield cfg
        return
    from ..sandbox.runner import Sandbox
    from ..sync.admin import set_up

    with Sandbox(people=cfg.sandbox.people, seed=cfg.sandbox.seed,
                 rate_limits=cfg.sandbox.rate_limits == "real") as sb:
        path = work_dir / "sandbox-connector.toml"
        path.write_text(sb.connector_config(cfg.store.url))
        systems = load_config(path, environ={})
        live = cfg.model_copy(update={"sandbox": SandboxConfig(enabled=False), "hubspot": systems.hubspot,
                                      "salesforce": systems.salesforce})
        log.info("sandbox: %d people seeded (seed %d); HubSpot at %s, Salesforce at %s", cfg.sandbox.people,
                 cfg.sandbox.seed, sb.hubspot_url, sb.salesforce_url)
        set_up(live, configured_mappings(live), apply=True)
        yield live

