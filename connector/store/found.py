"""Records a look-up before a create found in the target system: staged as pulled, and linked to their person.

A found record enters the store exactly as the pull would have put it there (same fields, its real
modification time), plus a link to the person it was looked up for; the next reconciliation pairs them
through that link like any other. A record adopted as the connector's own earlier create is stored the
way a successful create is (content time 0, marked as created), so that the person's original record,
not the copy, wins a ``most_recent`` conflict; its real fields are kept, so nothing is assumed written.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import groupby

from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from .db import upsert_insert
from .models import Link, SourceRecord
from .staging import CREATED_MARK, StagedRecord, stage_records

__all__ = ["linked_people", "record_found"]

_CHUNK = 500


def linked_people(engine: Engine, ids: Iterable[tuple[str, str]]) -> dict[tuple[str, str], str]:
    """The person each of these records is linked to, keyed as given: (system, id), Salesforce ids by their
    15-character form (a cross-reference may hold either form)."""
    wanted = sorted(set(ids))
    out: dict[tuple[str, str], str] = {}
    table = Link.__table__  # type: ignore[attr-defined]  # Core columns: typed for SQL expressions
    with Session(engine) as session:
        for system, group in groupby(wanted, key=lambda k: k[0]):
            keys = [i for _, i in group]
            column = func.substr(table.c.record_id, 1, 15) if system == "salesforce" else table.c.record_id
            for start in range(0, len(keys), _CHUNK):
                part = keys[start:start + _CHUNK]
                rows = session.execute(select(column, table.c.person_id).where(
                    table.c.system == system, column.in_(part))).all()
                out.update(((system, str(rid)), str(person)) for rid, person in rows)
    return out


def record_found(engine: Engine, *, linked: Sequence[tuple[str, Sequence[StagedRecord]]],
                 adopted: Sequence[tuple[str, Sequence[StagedRecord]]], now_ms: int, run_id: int | None) -> None:
    """Stage found records and link each to its person, in one transaction.

    `linked` and `adopted` hold (person id, the record followed by any merged-away markers HubSpot
    reported with it). Linked records are staged as pulled; adopted ones as created by the connector.
    A link that already exists is left alone (look-ups never move a record to another person)."""
    with Session(engine) as session, session.begin():
        pulled = sorted((r for _, records in linked for r in records),
                        key=lambda r: (r.system, r.object_type, r.record_id))
        for _, group in groupby(pulled, key=lambda r: (r.system, r.object_type)):
            stage_records(session, list(group), fetched_at=now_ms, run_id=run_id)
        for _, records in adopted:
            record = records[0]
            if session.get(SourceRecord, (record.system, record.object_type, record.record_id)) is None:
                session.add(SourceRecord(system=record.system, object_type=record.object_type,
                                         record_id=record.record_id, modified_at=record.modified_at, changed_at=0,
                                         fetched_at=now_ms, deleted=False, email_norm=record.email_norm,
                                         data={**record.data, CREATED_MARK: True}, run_id=run_id))
        rows = [{"person_id": person, "system": records[0].system, "object_type": records[0].object_type,
                 "record_id": records[0].record_id, "role": "primary", "reason": reason, "linked_at": now_ms}
                for reason, pairs in (("found before create", linked), ("created", adopted))
                for person, records in pairs]
        if rows:
            insert = upsert_insert(session)
            table = Link.__table__  # type: ignore[attr-defined]
            session.execute(insert(table).on_conflict_do_nothing(index_elements=["system", "object_type", "record_id"]),
                            rows)
