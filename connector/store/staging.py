"""Staging pulled records and moving cursors, in one transaction (a repository: takes port values, runs SQL).

A cursor moves only together with the records it covers: callers stage a page and save the cursor in
the same session/transaction, so a crash leaves either both or neither. Re-read records with the same
(id, modified time) are recognised and not written again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, func, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.writes import same_instant
from ..systems.ports import Engagement as EngagementRow
from ..systems.ports import StagedRecord
from .cursors import Cursor, save_cursor
from .db import upsert_insert
from .models import Engagement, SourceRecord

__all__ = [
    "CREATED_MARK",
    "VOLATILE_FIELDS",
    "StageCounts",
    "known_versions",
    "records_modified_between",
    "same_content",
    "stage_engagements",
    "stage_events",
    "stage_page",
    "stage_records",
]

#: set in the snapshot of a record the connector created, until the first pull brings the real one
CREATED_MARK = "_created_by_connector"
#: fields every write touches: their change says nothing about who changed the content
VOLATILE_FIELDS = frozenset({
    "SystemModstamp", "LastModifiedDate", "LastModifiedById", "LastActivityDate", "LastViewedDate",
    "LastReferencedDate", "lastmodifieddate", "hs_lastmodifieddate", "hs_updated_by_user_id",
})


def same_content(new: dict[str, Any], old: dict[str, Any]) -> bool:
    """Whether a re-pulled record holds what the store already knew, ignoring volatile fields.

    The push stage patches the stored snapshot with what it wrote, so the connector's own write comes
    back as "same content": an echo, not a change. A record the connector created was stored with only
    the fields it wrote; fields the system filled in itself (defaults) are not a change either.
    """
    created = bool(old.get(CREATED_MARK))
    for name, value in new.items():
        if name in VOLATILE_FIELDS:
            continue
        if name not in old:
            if created or value in (None, ""):
                continue
            return False
        held = old[name]
        if held != value and not (held in (None, "") and value in (None, "")) and not _same_instant(held, value):
            return False
    return True


def _same_instant(held: Any, value: Any) -> bool:
    """Whether one value is epoch ms and the other an ISO-8601 date or time of the same instant: HubSpot
    takes date and datetime properties as epoch ms (what the push writes, and so what the stored snapshot
    holds) but answers reads in ISO-8601 ("2027-01-19T00:00:00.000Z"; a date property at midnight UTC):
    without this, every deal the connector wrote a close date to came back as someone's change."""
    return isinstance(held, str) and isinstance(value, str) and (held.isdigit() != value.isdigit()) \
        and same_instant(held, value)


@dataclass
class StageCounts:
    """What staging one page did."""

    new: int = 0
    changed: int = 0
    unchanged: int = 0
    #: re-pulled records whose content had not changed (typically the connector's own writes coming back)
    echoes: int = 0
    ids_written: list[str] = field(default_factory=list)

    def add(self, other: StageCounts) -> None:
        self.new += other.new
        self.changed += other.changed
        self.unchanged += other.unchanged
        self.echoes += other.echoes


def stage_records(session: Session, records: Sequence[StagedRecord], *, fetched_at: int,
                  run_id: int | None = None) -> StageCounts:
    """Upsert one page of records of one system/object; older or identical snapshots are skipped."""
    counts = StageCounts()
    if not records:
        return counts
    system, object_type = records[0].system, records[0].object_type
    if any(r.system != system or r.object_type != object_type for r in records):
        raise ValueError("stage_records takes one system and object type per call")
    latest: dict[str, StagedRecord] = {}
    for record in records:  # a page may hold the same id twice (overlapping reads): keep the newest
        seen = latest.get(record.record_id)
        if seen is None or record.modified_at >= seen.modified_at:
            latest[record.record_id] = record
    stored = {rid: (modified, deleted, changed, data) for rid, modified, deleted, changed, data in session.execute(
        select(col(SourceRecord.record_id), col(SourceRecord.modified_at), col(SourceRecord.deleted),
               col(SourceRecord.changed_at), col(SourceRecord.data)).where(
            col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
            col(SourceRecord.record_id).in_(list(latest)),
        )
    ).all()}
    rows: list[dict[str, Any]] = []
    for record in latest.values():
        before = stored.get(record.record_id)
        changed_at = record.modified_at
        if before is not None:
            modified, deleted, changed, data = before
            if record.modified_at < modified or (record.modified_at == modified and record.deleted == deleted):
                counts.unchanged += 1
                continue
            if record.deleted == deleted and same_content(record.data, data or {}):
                changed_at = changed if changed is not None else modified
                counts.echoes += 1
            counts.changed += 1
        else:
            counts.new += 1
        counts.ids_written.append(record.record_id)
        rows.append({
            "system": system, "object_type": object_type, "record_id": record.record_id,
            "modified_at": record.modified_at, "changed_at": changed_at, "fetched_at": fetched_at,
            "deleted": record.deleted, "merged_into": record.merged_into, "email_norm": record.email_norm,
            "data": record.data, "field_times": record.field_times, "run_id": run_id,
        })
    if rows:
        _upsert(session, rows)
    counts.unchanged += len(records) - len(latest)
    return counts


_ROWS_PER_STATEMENT = 500  # 12 columns each: well under SQLite's bound-parameter limit


def _upsert(session: Session, rows: list[dict[str, Any]]) -> None:
    """One statement shape for any page size (executemany): a multi-row VALUES per page size would fill
    SQLAlchemy's compiled-statement cache with large entries and grow memory with the data."""
    table = SourceRecord.__table__  # type: ignore[attr-defined]
    insert = upsert_insert(session)
    statement = insert(table)
    excluded = statement.excluded
    updates = {c: excluded[c] for c in ("modified_at", "changed_at", "fetched_at", "deleted", "merged_into",
                                        "email_norm", "data", "field_times", "run_id")}
    newer = or_(excluded.modified_at > table.c.modified_at,
                and_(excluded.modified_at == table.c.modified_at, excluded.deleted != table.c.deleted))
    upsert = statement.on_conflict_do_update(
        index_elements=["system", "object_type", "record_id"], set_=updates, where=newer)
    for start in range(0, len(rows), _ROWS_PER_STATEMENT):
        session.execute(upsert, rows[start:start + _ROWS_PER_STATEMENT])


def stage_engagements(session: Session, rows: Sequence[EngagementRow], fetched_at: int | None = None) -> StageCounts:
    """Insert immutable engagement events; an event already stored (same system and id) is skipped. New ones
    are stamped `fetched_at`, so scoring finds the people whose touches arrived since its last pass."""
    counts = StageCounts()
    if not rows:
        return counts
    table = Engagement.__table__  # type: ignore[attr-defined]
    unique = {(r["system"], r["engagement_id"]): r for r in rows}
    existing = {(sys_, eid) for sys_, eid in session.execute(
        select(col(Engagement.system), col(Engagement.engagement_id)).where(
            col(Engagement.engagement_id).in_([k[1] for k in unique]))).all()}
    fresh = [r for k, r in unique.items() if k not in existing]
    counts.new, counts.unchanged = len(fresh), len(rows) - len(fresh)
    if fetched_at is not None:
        fresh = [{**r, "fetched_at": fetched_at} for r in fresh]
    insert = upsert_insert(session)
    statement = insert(table).on_conflict_do_nothing()
    for start in range(0, len(fresh), _ROWS_PER_STATEMENT):
        session.execute(statement, fresh[start:start + _ROWS_PER_STATEMENT])
    return counts


def stage_page(engine: Engine, stream: str, records: Sequence[StagedRecord], cursor: Cursor | None, *,
               now_ms: int, run_id: int | None = None) -> StageCounts:
    """Stage one page and move `stream`'s cursor to what it proves, in one transaction (either may be empty)."""
    with Session(engine) as session, session.begin():
        counts = stage_records(session, records, fetched_at=now_ms, run_id=run_id) if records else StageCounts()
        if cursor is not None:
            save_cursor(session, stream, cursor, now_ms=now_ms, run_id=run_id)
    return counts


def stage_events(engine: Engine, rows: Sequence[EngagementRow], fetched_at: int | None = None) -> StageCounts:
    """Stage one page of immutable engagement events in its own transaction."""
    with Session(engine) as session, session.begin():
        return stage_engagements(session, rows, fetched_at)


def known_versions(engine: Engine, system: str, object_type: str, versions: Sequence[tuple[str, int]]
                   ) -> set[tuple[str, int]]:
    """Which (id, modified) pairs the store already holds: re-reading them changes nothing."""
    if not versions:
        return set()
    with Session(engine) as session:
        rows = session.execute(select(col(SourceRecord.record_id), col(SourceRecord.modified_at)).where(
            col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
            col(SourceRecord.record_id).in_([i for i, _ in versions]),
        )).all()
    return {(rid, modified) for rid, modified in rows}


def records_modified_between(engine: Engine, system: str, object_type: str, start: int, end: int) -> int:
    """How many stored records of `object_type` were last modified in [start, end) (by the index on
    (system, object_type, modified_at)): what a re-read of that range would bring back, as far as known."""
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(SourceRecord).where(
            col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
            col(SourceRecord.modified_at) >= start, col(SourceRecord.modified_at) < end)).scalar_one())
