"""Sync runs: each command's start, end, outcome and exact API cost, kept for status and budgets."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from .models import SyncRun

__all__ = ["start_run", "finish_run", "calls_since"]


def start_run(engine: Engine, command: str, now_ms: int) -> int:
    with Session(engine) as session, session.begin():
        run = SyncRun(command=command, started_at=now_ms, api_calls={}, counts={})
        session.add(run)
        session.flush()
        assert run.id is not None
        return run.id


def finish_run(engine: Engine, run_id: int, *, now_ms: int, status: str, api_calls: dict[str, Any],
               counts: dict[str, Any], error: str | None = None) -> None:
    with Session(engine) as session, session.begin():
        run = session.get(SyncRun, run_id)
        if run is None:
            raise LookupError(f"sync run {run_id} does not exist")
        run.finished_at, run.status, run.api_calls, run.counts, run.error = now_ms, status, api_calls, counts, error
        session.add(run)


def calls_since(engine: Engine, system: str, since_ms: int) -> int:
    """API calls this connector made to `system` in runs started since `since_ms` (for the daily budget)."""
    with Session(engine) as session:
        runs = session.exec(select(SyncRun.api_calls).where(SyncRun.started_at >= since_ms)).all()
    return sum(int((calls or {}).get(system, {}).get("total", 0)) for calls in runs)
