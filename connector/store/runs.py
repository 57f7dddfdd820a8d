"""Sync runs: each command's start, end, outcome and exact API cost, kept for status and budgets."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC
from typing import Any, Protocol

from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session, col, select

from ..logs import redact
from ..wording import at
from .lock import RunLock, StoreBusy, acquire_run_lock
from .models import SyncRun

__all__ = ["RunHandle", "StoreBusy", "abandon_run", "call_recorder", "calls_since", "checkpoint_calls", "finish_run",
           "recent_runs", "start_run"]

log = logging.getLogger(__name__)

INTERRUPTED = "the process ended before the run finished (killed, or the machine stopped)"


@dataclass(frozen=True)
class RunHandle:
    """A started run: its record's id, and the store's run lock (see lock.py) it holds until `finish_run` or
    `abandon_run` releases it. The caller holds it, so no registry of open runs is kept anywhere."""

    id: int
    lock: RunLock


def start_run(engine: Engine, command: str, now_ms: int) -> RunHandle:
    """Records a new run and takes the store's run lock for it until `finish_run`; raises `StoreBusy` while
    another run holds it. Runs still marked "running" are marked "interrupted": the lock proves that
    their processes are gone."""
    try:
        lock = acquire_run_lock(engine)
    except StoreBusy:
        raise StoreBusy(_busy_message(engine, command)) from None
    try:
        with Session(engine) as session, session.begin():
            session.execute(update(SyncRun).where(col(SyncRun.status) == "running").values(
                status="interrupted", error=INTERRUPTED))
            run = SyncRun(command=command, started_at=now_ms, api_calls={}, counts={})
            session.add(run)
            session.flush()
            assert run.id is not None
            run_id = run.id
    except BaseException:
        lock.release()
        raise
    return RunHandle(run_id, lock)


def finish_run(engine: Engine, run: RunHandle, *, now_ms: int, status: str, api_calls: dict[str, Any],
               counts: dict[str, Any], error: str | None = None) -> None:
    """Records how a run ended and releases its run lock (whether or not the record could be written).

    The error is kept with e-mail addresses and phone numbers masked: run records hold no personal data."""
    error = redact(error) if error else error
    try:
        with Session(engine) as session, session.begin():
            row = session.get(SyncRun, run.id)
            if row is None:
                raise LookupError(f"sync run {run.id} does not exist")
            row.finished_at, row.status, row.api_calls, row.counts, row.error = now_ms, status, api_calls, counts, error
            session.add(row)
    finally:
        run.lock.release()


def abandon_run(engine: Engine, run: RunHandle) -> None:
    """Forget a run that did nothing (it could not sign in to a system) and release its run lock: it was
    never started, as far as `connector status` and the daily budgets are concerned."""
    try:
        with Session(engine) as session, session.begin():
            row = session.get(SyncRun, run.id)
            if row is not None:
                session.delete(row)
    finally:
        run.lock.release()


def _busy_message(engine: Engine, command: str) -> str:
    """Why `command` cannot start: the run that holds the lock (the newest one still marked running)."""
    with Session(engine) as session:
        holder = session.exec(select(SyncRun).where(col(SyncRun.status) == "running").order_by(
            col(SyncRun.id).desc()).limit(1)).first()
    who = (f"run {holder.id} ({holder.command}, started {at(holder.started_at)})" if holder is not None
           else "another run")
    return (f"{command} did not start: {who} is using this store, and two runs at once would write the same "
            "changes twice; wait for it to finish (`connector status` lists runs) or stop it, then run again")


def checkpoint_calls(engine: Engine, run_id: int, api_calls: dict[str, Any]) -> None:
    """Record the calls a running run has made so far: a run killed mid-way still counts against the
    daily budget of the next one."""
    with engine.begin() as connection:
        if connection.dialect.name == "postgresql":  # a count, not data: no need to wait for the disk on every call
            connection.execute(text("SET LOCAL synchronous_commit = off"))
        connection.execute(update(SyncRun).where(col(SyncRun.id) == run_id).values(
            api_calls=api_calls))


class _Counted(Protocol):
    def snapshot(self, since: Mapping[tuple[str, str], int] | None = None) -> dict[str, dict[str, object]]: ...


def call_recorder(engine: Engine, run_id: int, since: Mapping[tuple[str, str], int] | None = None
                  ) -> Callable[[_Counted], None]:
    """A call ledger's listener that commits the run's count after every API call, before the next is sent.

    A run killed at any moment has then recorded all its calls but at most one (the call in flight, or the
    one whose count was being committed), and `calls_since` charges them to the next run's daily budget.
    A commit that fails (the store unreachable for a moment) is logged once and made good by the next
    call's, or by `finish_run`: the sync's own work is not stopped for its bookkeeping.
    """
    failed = False

    def record(ledger: _Counted) -> None:
        nonlocal failed
        try:
            checkpoint_calls(engine, run_id, ledger.snapshot(since))
        except SQLAlchemyError as exc:
            if not failed:
                log.warning("run %d: could not record its API calls so far (%s); the next call tries again",
                            run_id, type(exc).__name__)
            failed = True

    return record


def calls_since(engine: Engine, system: str, since_ms: int) -> int:
    """API calls this connector made to `system` in runs started since `since_ms` (for the daily budget)."""
    with Session(engine) as session:
        runs = session.exec(select(col(SyncRun.api_calls)).where(col(SyncRun.started_at) >= since_ms)).all()
    return sum(int((calls or {}).get(system, {}).get("total", 0)) for calls in runs)


def recent_runs(engine: Engine, *, limit: int = 10) -> list[dict[str, Any]]:
    """The newest runs, for `connector status` (a run left "running" by a killed process shows as such
    until the next run starts and marks it "interrupted")."""
    from datetime import datetime

    with Session(engine) as session:
        rows = session.exec(select(SyncRun).order_by(col(SyncRun.id).desc()).limit(limit)).all()
    return [{"id": r.id, "command": r.command, "status": r.status, "started_at": r.started_at,
             "started": datetime.fromtimestamp(r.started_at / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M:%S UTC"),
             "finished_at": r.finished_at, "api_calls": r.api_calls or {}, "error": r.error} for r in rows]
