"""Deletions parked for a person to decide (or to retry): their rows, written and resolved here.

A repository for the push's removals (`push.removals`): it takes record keys and plain values, never
a stage's types.
"""

from __future__ import annotations

from collections.abc import Set
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.records import RecordKey
from .models import ParkedRecord

__all__ = ["park_deletion", "resolve_stale_deletions"]


def park_deletion(engine: Engine, trigger: RecordKey, *, code: str, reason: str, hint: str, payload: dict[str, Any],
                  now_ms: int, run_id: int | None) -> None:
    """Park the deletion `trigger` set off (one row per record, counted on each new attempt)."""
    with Session(engine) as session, session.begin():
        row = session.execute(select(ParkedRecord).where(
            col(ParkedRecord.system) == trigger.system, col(ParkedRecord.object_type) == trigger.object_type,
            col(ParkedRecord.record_id) == trigger.id, col(ParkedRecord.stage) == "delete")).scalars().first()
        if row is None:
            row = ParkedRecord(system=trigger.system, object_type=trigger.object_type, record_id=trigger.id,
                               stage="delete", attempts=0, first_seen=now_ms, code=code, message=reason)
        row.attempts += 1
        row.code, row.message, row.hint, row.last_seen, row.resolved_at = code, reason, hint, now_ms, None
        row.next_retry_at, row.run_id = None, run_id
        row.payload = payload
        session.add(row)


def resolve_stale_deletions(engine: Engine, current: Set[tuple[str, str, str]], now_ms: int) -> None:
    """A deletion no longer in question (restored, deleted on both sides, or done) is no longer parked."""
    with Session(engine) as session, session.begin():
        rows = session.execute(select(ParkedRecord).where(
            col(ParkedRecord.stage) == "delete", col(ParkedRecord.resolved_at).is_(None))).scalars().all()
        for row in rows:
            if (row.system, row.object_type, row.record_id) not in current:
                row.resolved_at = now_ms
                session.add(row)
