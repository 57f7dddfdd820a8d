"""The write journal, read back for `connector revert` (a repository: SQL in, the core's types out).

`record_batch` (pushes.py) writes it, in the transaction of each batch's outcome: every value a run wrote
into a record, the value the store's snapshot held before, and whether the write created the record.
The values are personal data: they are erased with their person (erasure.py) and never logged.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.revert import FieldKey, JournalEntry, RecordNow
from .db import in_chunks
from .models import Person, SourceRecord, SyncRun, WriteJournal

__all__ = ["JournaledRun", "journaled_run", "run_entries", "records_now", "forget_settled", "prune_journal"]


@dataclass(frozen=True)
class JournaledRun:
    """A run as the journal knows it: its command, when it started, and how many values it wrote per field
    (created records' values apart)."""

    run_id: int
    command: str
    started_at: int
    status: str
    fields: dict[FieldKey, int]
    created: dict[FieldKey, int]


def journaled_run(engine: Engine, run_id: int) -> JournaledRun | None:
    """The run and what it wrote, field by field; None when the store has no run of that id."""
    with Session(engine) as session:
        run = session.get(SyncRun, run_id)
        if run is None:
            return None
        rows = session.execute(select(
            col(WriteJournal.system), col(WriteJournal.object_type), col(WriteJournal.field),
            col(WriteJournal.created), func.count()).where(col(WriteJournal.run_id) == run_id).group_by(
            col(WriteJournal.system), col(WriteJournal.object_type), col(WriteJournal.field),
            col(WriteJournal.created))).all()
    fields: dict[FieldKey, int] = {}
    created: dict[FieldKey, int] = {}
    for system, object_type, name, was_created, n in rows:
        bucket = created if was_created else fields
        bucket[(system, object_type, name)] = bucket.get((system, object_type, name), 0) + int(n)
    return JournaledRun(run_id, run.command, run.started_at, run.status, fields, created)


def run_entries(engine: Engine, run_id: int, fields: Iterable[FieldKey] | None = None) -> list[JournalEntry]:
    """The values run `run_id` wrote into records that existed (in the order written), all or only `fields`'."""
    wanted = None if fields is None else set(fields)
    out: list[JournalEntry] = []
    query = select(WriteJournal).where(col(WriteJournal.run_id) == run_id, ~col(WriteJournal.created)).order_by(
        col(WriteJournal.id))
    with Session(engine) as session:
        for row in session.execute(query.execution_options(yield_per=2_000)).scalars():
            if wanted is not None and (row.system, row.object_type, row.field) not in wanted:
                continue
            out.append(JournalEntry(row.system, row.object_type, row.record_id, row.person_id,
                                    row.field, row.old_value, row.new_value, row.created))
    return out


def records_now(engine: Engine, keys: Iterable[tuple[str, str, str]]) -> dict[tuple[str, str, str], RecordNow]:
    """The stored snapshots of these records (system, object type, id); a record the store no longer holds
    (erased) is absent."""
    by_kind: dict[tuple[str, str], set[str]] = {}
    for system, object_type, rid in keys:
        by_kind.setdefault((system, object_type), set()).add(rid)
    out: dict[tuple[str, str, str], RecordNow] = {}
    with Session(engine) as session:
        for (system, object_type), ids in sorted(by_kind.items()):
            for chunk in in_chunks(sorted(ids)):
                for rid, data, deleted in session.execute(select(
                        col(SourceRecord.record_id), col(SourceRecord.data), col(SourceRecord.deleted)).where(
                        col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
                        col(SourceRecord.record_id).in_(list(chunk)))).all():
                    out[(system, object_type, rid)] = RecordNow(data or {}, bool(deleted))
    return out


def forget_settled(engine: Engine, person_ids: Sequence[str]) -> None:
    """Have the next reconciliation look at these people afresh (their records were written behind its back:
    the unified values it saved are the ones a revert replaced)."""
    with Session(engine) as session, session.begin():
        for chunk in in_chunks(list(person_ids)):
            session.execute(update(Person).where(col(Person.id).in_(list(chunk))).values(inputs_digest=None))


def prune_journal(engine: Engine, before_ms: int) -> int:
    """Forget what the runs started before `before_ms` wrote and replaced (`[sync] journal_days`): they can no
    longer be reverted, and the journal holds personal data no longer than it serves. Returns the rows gone."""
    old_runs = select(col(SyncRun.id)).where(col(SyncRun.started_at) < before_ms).scalar_subquery()
    with Session(engine) as session, session.begin():
        result = session.execute(delete(WriteJournal).where(col(WriteJournal.run_id).in_(old_runs)))
        return int(getattr(result, "rowcount", 0) or 0)
