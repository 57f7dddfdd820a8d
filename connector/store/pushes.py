"""What the push stage records: written values, links to created records, and the parking lot.

Everything a batch's answers imply is committed in one transaction per batch, right after the answer:
a crash loses at most the bookkeeping of one batch, and a replay re-plans from the systems' data (a
create is an upsert on its external id, so replaying it finds the record instead of duplicating it).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.identity import PERSON_OBJECTS
from ..reconcile.records import FieldChange
from ..reconcile.writes import ParkedKey, RecordWrite
from .db import upsert_insert
from .models import Link, ParkedRecord, SourceRecord, WriteJournal, WrittenValue
from .staging import CREATED_MARK

__all__ = ["Written", "Rejected", "FieldReason", "record_batch", "value_hash", "held_fields", "requeue", "parked_rows",
           "retry_delay_ms", "stored_emails", "resolve_unplanned", "NO_LONGER_NEEDED",
           "parked_count", "parked_causes"]

#: retry delays after the 1st, 2nd, ... rejection; the last one repeats (a parked record stays visible)
RETRY_DELAYS_MS = (15 * 60_000, 60 * 60_000, 4 * 3_600_000, 24 * 3_600_000)


def value_hash(value: Any) -> str:
    """A short, stable digest of a native value: the store keeps what the connector wrote as hashes,
    not as personal data."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]


def retry_delay_ms(attempts: int) -> int:
    return RETRY_DELAYS_MS[min(max(attempts, 1), len(RETRY_DELAYS_MS)) - 1]


@dataclass(frozen=True)
class Written:
    """A write the system accepted; `record_id` is the new id for a create."""

    write: RecordWrite
    record_id: str
    source_time: int | None = None  # for a create: when the person's data last changed at the source


@dataclass(frozen=True)
class FieldReason:
    """One reason a record was refused: the fields it named (none: the record), the system's code, its
    message (without personal data) and our hint."""

    fields: tuple[str, ...]
    code: str
    message: str
    hint: str


@dataclass(frozen=True)
class Rejected:
    """A write the system refused, with its own words and ours: `fields` are held back (empty: the
    whole record), `code`/`message`/`hint` give the deciding reason, `reasons` every reason (each field
    with the first code it got)."""

    write: RecordWrite
    fields: tuple[str, ...]
    code: str
    message: str
    hint: str
    reasons: tuple[FieldReason, ...] = ()


def record_batch(engine: Engine, written: Sequence[Written], rejected: Sequence[Rejected], *, now_ms: int,
                 run_id: int | None) -> None:
    """Commit one batch's outcome: snapshots patched with what was written (so its echo is no change),
    written-value hashes, the write journal (each value written and the one it replaced, for `connector
    revert`), links to created records, and the parking lot (parked, or resolved).

    A Bulk API job's answers (tens of thousands of records) are committed in slices of `_CHUNK`, each
    with a bounded number of bound parameters."""
    for start in range(0, max(len(written), len(rejected)), _CHUNK):
        _record_chunk(engine, written[start:start + _CHUNK], rejected[start:start + _CHUNK], now_ms, run_id)


_CHUNK = 500


def _record_chunk(engine: Engine, written: Sequence[Written], rejected: Sequence[Rejected], now_ms: int,
                  run_id: int | None) -> None:
    with Session(engine) as session, session.begin():
        insert = upsert_insert(session)
        hashes: list[dict[str, Any]] = []
        journal: list[dict[str, Any]] = []
        updates: list[Written] = []
        for w in written:
            write = w.write
            created = write.record_id is None
            for name, value in write.values.items():
                hashes.append({"system": write.system, "object_type": write.object_type, "record_id": w.record_id,
                               "field": name, "value_hash": value_hash(value), "written_at": now_ms, "run_id": run_id})
                journal.append({"run_id": run_id, "system": write.system, "object_type": write.object_type,
                                "record_id": w.record_id, "person_id": write.person_id, "field": name,
                                # a created record's values are not kept twice: a revert leaves it alone
                                "old_value": None if created else write.old.get(name),
                                "new_value": None if created else value, "created": created, "written_at": now_ms})
            if write.record_id is None:
                _created(session, insert, w, now_ms, run_id)
            else:
                updates.append(w)
        _patch_snapshots(session, updates)
        if hashes:
            table = WrittenValue.__table__  # type: ignore[attr-defined]
            stmt = insert(table)
            upsert = stmt.on_conflict_do_update(
                index_elements=["system", "object_type", "record_id", "field"],
                set_={"value_hash": stmt.excluded.value_hash, "written_at": stmt.excluded.written_at,
                      "run_id": stmt.excluded.run_id})
            for start in range(0, len(hashes), _CHUNK):
                session.execute(upsert, hashes[start:start + _CHUNK])
        if journal:
            table = WriteJournal.__table__  # type: ignore[attr-defined]
            for start in range(0, len(journal), _CHUNK):
                session.execute(table.insert(), journal[start:start + _CHUNK])
        _resolve(session, [w.write for w in written], now_ms)
        for r in rejected:
            _park(session, r, now_ms, run_id)


def _patch_snapshots(session: Session, written: Sequence[Written]) -> None:
    """Merge what was written into the stored snapshots: one query per system and object type."""
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for w in written:
        groups.setdefault((w.write.system, w.write.object_type), {}).setdefault(w.record_id, {}).update(w.write.values)
    for (system, object_type), by_id in groups.items():
        rows = session.execute(select(SourceRecord).where(
            col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
            col(SourceRecord.record_id).in_(list(by_id)))).scalars().all()
        for row in rows:
            row.data = {**row.data, **by_id[row.record_id]}
            session.add(row)


def _created(session: Session, insert: Any, w: Written, now_ms: int, run_id: int | None) -> None:
    write = w.write
    existing = session.get(SourceRecord, (write.system, write.object_type, w.record_id))
    if existing is None:  # a replayed create may find the record already pulled: keep the pulled snapshot
        session.add(SourceRecord(system=write.system, object_type=write.object_type, record_id=w.record_id,
                                 modified_at=0, changed_at=w.source_time or 0, fetched_at=now_ms, deleted=False,
                                 email_norm=_email(write.values), data={**write.values, CREATED_MARK: True},
                                 run_id=run_id))
    if (write.system, write.object_type) not in PERSON_OBJECTS:
        return  # a deal: the cross-reference ids are its link
    table = Link.__table__  # type: ignore[attr-defined]
    stmt = insert(table).values(person_id=write.person_id, system=write.system, object_type=write.object_type,
                                record_id=w.record_id, role="primary", reason="created", linked_at=now_ms)
    session.execute(stmt.on_conflict_do_nothing(index_elements=["system", "object_type", "record_id"]))


def _email(values: dict[str, Any]) -> str | None:
    email = values.get("email") or values.get("Email")
    return email.strip().casefold() if isinstance(email, str) and email.strip() else None


def _resolve(session: Session, writes: Sequence[RecordWrite], now_ms: int) -> None:
    """A record written successfully is no longer parked (for the fields it wrote, or whole)."""
    if not writes:
        return
    ids = {w.parked_id for w in writes}
    rows = session.execute(select(ParkedRecord).where(
        col(ParkedRecord.stage) == "push", col(ParkedRecord.resolved_at).is_(None),
        col(ParkedRecord.record_id).in_(ids))).scalars().all()
    by_key = {(w.system, w.object_type, w.parked_id): w for w in writes}
    for row in rows:
        write = by_key.get((row.system, row.object_type, row.record_id))
        if write is None:
            continue
        fields = set((row.field or "").split(",")) - {""}
        # a create that went through settles its parked create (fields it was refused again are parked
        # on the new record); an update settles the fields it wrote
        if not fields or fields <= set(write.values) or write.record_id is None:
            row.resolved_at = now_ms
            session.add(row)


#: how a parked write is resolved when reconciliation no longer plans it (the mapping or the data changed)
NO_LONGER_NEEDED = "no longer needed"


def resolve_unplanned(engine: Engine, changes: Iterable[FieldChange], *, now_ms: int) -> int:
    """Resolve the parked writes of people that this run's plan no longer contains, as "no longer needed".

    A parked write was only ever cleared by a later successful write of the same fields; one the mapping
    stopped planning (a read-only target fixed to direction "to_salesforce") stayed parked for good,
    through `retry` and every sync. `changes` are every person change the run plans (parked fields
    held back included); a parked record is resolved when none of its fields (or, parked whole, none of
    the record) is among them. Deals are planned elsewhere and left alone. Returns how many were resolved.
    """
    planned: dict[tuple[str, str, str], set[str]] = {}
    for c in changes:
        planned.setdefault((c.system, c.object_type, c.record_id or f"new:{c.person_id}"), set()).add(c.field)
    resolved = 0
    with Session(engine) as session, session.begin():
        rows = session.execute(select(ParkedRecord).where(
            col(ParkedRecord.stage) == "push", col(ParkedRecord.resolved_at).is_(None))).scalars().all()
        for row in rows:
            if (row.system, row.object_type) not in PERSON_OBJECTS:
                continue
            fields = set((row.field or "").split(",")) - {""}
            wanted = planned.get((row.system, row.object_type, row.record_id))
            if wanted is not None and (not fields or fields & wanted):
                continue
            row.resolved_at = now_ms
            row.payload = {**(row.payload or {}), "resolution": NO_LONGER_NEEDED}
            session.add(row)
            resolved += 1
    return resolved


def _park(session: Session, r: Rejected, now_ms: int, run_id: int | None) -> None:
    write = r.write
    row = session.execute(select(ParkedRecord).where(
        col(ParkedRecord.system) == write.system, col(ParkedRecord.object_type) == write.object_type,
        col(ParkedRecord.record_id) == write.parked_id, col(ParkedRecord.stage) == "push")).scalars().first()
    payload: dict[str, Any] = {"person_id": write.person_id,
                               "values": {k: _plain(v) for k, v in write.values.items()}, "reasons": write.reasons}
    if r.reasons:
        payload["rejections"] = [{"fields": list(x.fields), "code": x.code, "message": x.message, "hint": x.hint}
                                 for x in r.reasons]
    field = ",".join(r.fields) or None
    if row is None:
        row = ParkedRecord(system=write.system, object_type=write.object_type, record_id=write.parked_id,
                           stage="push", attempts=0, first_seen=now_ms, code=r.code, message=r.message)
    elif row.resolved_at is not None:  # parked again after a fix: a fresh episode
        row.attempts, row.first_seen, row.resolved_at = 0, now_ms, None
    row.attempts += 1
    row.field, row.code, row.message, row.hint = field, r.code, r.message, r.hint
    row.last_seen, row.next_retry_at = now_ms, now_ms + retry_delay_ms(row.attempts)
    row.payload, row.run_id = payload, run_id
    session.add(row)


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, (str, int, float, bool)) else str(value)


def held_fields(engine: Engine, *, now_ms: int) -> dict[ParkedKey, frozenset[str]]:
    """Parked push records whose retry is not yet due, with the fields to hold back (empty: all of it)."""
    with Session(engine) as session:
        rows = session.execute(select(col(ParkedRecord.system), col(ParkedRecord.object_type),
                                      col(ParkedRecord.record_id), col(ParkedRecord.field)).where(
            col(ParkedRecord.stage) == "push", col(ParkedRecord.resolved_at).is_(None),
            col(ParkedRecord.next_retry_at) > now_ms)).all()
    return {(s, o, r): frozenset((f or "").split(",")) - {""} for s, o, r, f in rows}


def requeue(engine: Engine, *, now_ms: int, ids: Sequence[int] = ()) -> int:
    """Make parked records due now (all unresolved ones, or the given parked-record ids); returns how many."""
    with Session(engine) as session, session.begin():
        stmt = update(ParkedRecord).where(col(ParkedRecord.resolved_at).is_(None))
        if ids:
            stmt = stmt.where(col(ParkedRecord.id).in_(list(ids)))
        result = session.execute(stmt.values(next_retry_at=now_ms))
        return int(result.rowcount or 0)  # type: ignore[attr-defined]


def parked_rows(engine: Engine, *, include_resolved: bool = False, limit: int = 200) -> list[dict[str, Any]]:
    """Parked records for `connector status`, newest first (personal values are not included)."""
    with Session(engine) as session:
        stmt = select(ParkedRecord)
        if not include_resolved:
            stmt = stmt.where(col(ParkedRecord.resolved_at).is_(None))
        rows = session.execute(stmt.order_by(col(ParkedRecord.last_seen).desc(), col(ParkedRecord.id))
                               .limit(limit)).scalars().all()
    return [{"id": r.id, "system": r.system, "object_type": r.object_type, "record_id": r.record_id,
             "stage": r.stage, "field": r.field, "code": r.code, "message": r.message, "hint": r.hint,
             "attempts": r.attempts, "first_seen": r.first_seen, "last_seen": r.last_seen,
             "next_retry_at": r.next_retry_at, "resolved_at": r.resolved_at,
             "resolution": _resolution(r), "person_id": (r.payload or {}).get("person_id"),
             "rejections": _reasons(r)} for r in rows]


def parked_causes(engine: Engine) -> list[dict[str, Any]]:
    """The records parked now, grouped by cause (system, object, stage, code, field), most first, each with
    its count and one example (the newest: its record id, message and hint), as a sync-health page shows
    them. Counted over every parked record, not a page of them."""
    p = ParkedRecord
    key = (col(p.system), col(p.object_type), col(p.stage), col(p.code), col(p.field))
    with Session(engine) as session:
        groups = session.execute(select(*key, func.count(), func.max(col(p.id))).where(
            col(p.resolved_at).is_(None)).group_by(*key)).all()
        examples = {r.id: r for r in session.execute(select(ParkedRecord).where(
            col(p.id).in_([g[-1] for g in groups]))).scalars()} if groups else {}
    out = []
    for system, object_type, stage, code, field, n, example_id in groups:
        e = examples[example_id]
        out.append({"system": system, "object_type": object_type, "stage": stage, "code": code, "field": field,
                    "records": int(n), "example": {"id": e.id, "record_id": e.record_id, "message": e.message,
                                                    "hint": e.hint}})
    return sorted(out, key=lambda g: (-g["records"], g["system"], g["object_type"], g["code"], g["field"] or ""))


def _reasons(row: ParkedRecord) -> list[dict[str, Any]]:
    """Every reason a parked record was refused, each field with its own first code."""
    stored = (row.payload or {}).get("rejections")
    if isinstance(stored, list) and stored:
        return stored
    return [{"fields": (row.field or "").split(",") if row.field else [], "code": row.code, "message": row.message,
             "hint": row.hint}]


def _resolution(row: ParkedRecord) -> str | None:
    """Why a parked record is resolved: written, or no longer needed (None while it is parked)."""
    if row.resolved_at is None:
        return None
    return str((row.payload or {}).get("resolution") or "written")


def stored_emails(engine: Engine, system: str, object_type: str, ids: Sequence[str]) -> dict[str, str]:
    """The normalised e-mail the store holds for each of `ids` (the subscription API is keyed by address)."""
    out: dict[str, str] = {}
    with Session(engine) as session:
        for start in range(0, len(ids), _CHUNK):
            out.update((r, e) for r, e in session.execute(
                select(col(SourceRecord.record_id), col(SourceRecord.email_norm)).where(
                    col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
                    col(SourceRecord.record_id).in_(list(ids[start:start + _CHUNK])))).all() if e)
    return out


def parked_count(engine: Engine) -> int:
    """How many records wait in the parking lot (not resolved)."""
    with Session(engine) as session:
        return int(session.execute(select(func.count()).select_from(ParkedRecord).where(
            col(ParkedRecord.resolved_at).is_(None))).scalar_one())
