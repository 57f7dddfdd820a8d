"""What the hand-computed report stores share: the model version m1 (version 3), a finished run at `now`,
and source records stored at `since`."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlmodel import Session

from connector.store.models import ScoringModelVersion, SourceRecord, SyncRun


def add_model_and_run(s: Session, since: int, now: int) -> None:
    s.add(ScoringModelVersion(model_hash="m1", version=3, owners={}, text="", first_used=since, last_used=now))
    s.add(SyncRun(command="sync", started_at=now - 60_000, finished_at=now, status="ok", api_calls={}, counts={}))


def add_records(s: Session, records: Iterable[tuple[str, str, str, dict[str, Any]]], at: int) -> None:
    """(system, object type, record id, data) as source records fetched and modified at `at`."""
    for system, object_type, rid, data in records:
        s.add(SourceRecord(system=system, object_type=object_type, record_id=rid, modified_at=at, fetched_at=at,
                           data=data))
