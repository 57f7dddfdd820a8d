"""Deleted and erased people in the store: what deletion planning reads, and erasure itself.

An erased person's personal data leaves the store entirely (snapshots, engagement, unified fields,
audit, links, parked records, written-value hashes). What remains are salted SHA-256 hashes of their
e-mail addresses and record ids in ``erased_subject``, so a record of theirs that turns up again is
recognised and never synced, without the store holding who they were.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select
from sqlalchemy.engine import Engine
from sqlmodel import Session

from ..reconcile.identity import PERSON_OBJECTS
from ..reconcile.records import RecordKey
from ..reconcile.records import SourceRecord as DomainRecord
from .models import (ErasedSubject, Engagement, FieldAudit, Link, ParkedRecord, Person, PersonField, SourceRecord,
                     SyncCursor, WrittenValue)

if TYPE_CHECKING:  # the push stage builds on the store, not the other way round
    from ..push.deletions import DeletionKind

__all__ = ["ERASED_MARK", "erasure_salt", "subject_hash", "deleted_records", "mark_erased", "erase_person",
           "erased_filter", "purge_erased", "mark_deleted"]

#: set in the snapshot of a HubSpot contact found permanently deleted (HubSpot's GDPR delete)
ERASED_MARK = "_erased"
_SALT_ROW = "connector:erasure-salt"


def erasure_salt(engine: Engine, configured: str | None = None) -> str:
    """The configured salt, or one generated on first use and kept in the store."""
    if configured:
        return configured
    with Session(engine) as session, session.begin():
        row = session.get(SyncCursor, _SALT_ROW)
        if row is None:
            row = SyncCursor(stream=_SALT_ROW, value={"salt": secrets.token_hex(16)}, updated_at=0)
            session.add(row)
        return str(row.value["salt"])


def subject_hash(salt: str, kind: str, value: str) -> str:
    """`kind` is "email" (normalised address) or "system:id" (a record)."""
    return hashlib.sha256(f"{salt}|{kind}|{value.strip().casefold()}".encode()).hexdigest()


def deleted_records(engine: Engine) -> dict[RecordKey, DeletionKind]:
    """Person records deleted in their system (merge losers are not deletions), and whether erased."""
    with Session(engine) as session:
        rows = session.execute(select(SourceRecord.system, SourceRecord.object_type, SourceRecord.record_id,
                                      SourceRecord.data).where(
            SourceRecord.deleted, SourceRecord.merged_into.is_(None),  # type: ignore[union-attr]
            or_(*[(SourceRecord.system == s) & (SourceRecord.object_type == o) for s, o in sorted(PERSON_OBJECTS)]))).all()
    return {RecordKey(s, o, r): ("erased" if (d or {}).get(ERASED_MARK) else "deleted") for s, o, r, d in rows}


def mark_erased(engine: Engine, system: str, object_type: str, ids: Iterable[str], now_ms: int) -> int:
    """Record that these records were erased at their source (found permanently gone)."""
    n = 0
    with Session(engine) as session, session.begin():
        for rid in ids:
            row = session.get(SourceRecord, (system, object_type, rid))
            if row is None or row.deleted:
                continue
            row.deleted, row.data, row.fetched_at = True, {**row.data, ERASED_MARK: True}, now_ms
            session.add(row)
            n += 1
    return n


def mark_deleted(engine: Engine, keys: Iterable[RecordKey], now_ms: int) -> None:
    """Records the connector deleted itself: known deleted before the next pull says so."""
    with Session(engine) as session, session.begin():
        for k in keys:
            row = session.get(SourceRecord, (k.system, k.object_type, k.id))
            if row is not None and not row.deleted:
                row.deleted, row.fetched_at = True, now_ms
                session.add(row)


def erase_person(engine: Engine, person_id: str, *, salt: str, source_system: str, now_ms: int,
                 extra_keys: Iterable[RecordKey] = ()) -> int:
    """Remove everything the store knows about one person; keep salted hashes of their e-mails and ids.

    Returns how many hashes were kept."""
    with Session(engine) as session, session.begin():
        links = session.execute(select(Link).where(Link.person_id == person_id)).scalars().all()
        keys = {RecordKey(l.system, l.object_type, l.record_id) for l in links} | set(extra_keys)
        ids = sorted({k.id for k in keys})
        emails: set[str] = set()
        for k in keys:
            row = session.get(SourceRecord, (k.system, k.object_type, k.id))
            if row is not None and row.email_norm:
                emails.add(row.email_norm)
        person = session.get(Person, person_id)
        if person is not None and person.email_norm:
            emails.add(person.email_norm)
        hashes = {subject_hash(salt, "email", e) for e in emails}
        hashes |= {subject_hash(salt, "record", f"{k.system}:{k.id}") for k in keys}
        known = set(session.execute(select(ErasedSubject.subject_hash).where(
            ErasedSubject.subject_hash.in_(hashes))).scalars())  # type: ignore[attr-defined]
        session.add_all(ErasedSubject(subject_hash=h, erased_at=now_ms, source_system=source_system)
                        for h in sorted(hashes - known))
        subjects = ids + sorted(emails)
        if subjects:
            session.execute(delete(Engagement).where(Engagement.subject_id.in_(subjects)))  # type: ignore[attr-defined]
        for k in keys:
            session.execute(delete(SourceRecord).where(SourceRecord.system == k.system,
                                                       SourceRecord.object_type == k.object_type,
                                                       SourceRecord.record_id == k.id))
        if ids:
            session.execute(delete(WrittenValue).where(WrittenValue.record_id.in_(ids)))  # type: ignore[attr-defined]
            session.execute(delete(ParkedRecord).where(ParkedRecord.record_id.in_(  # type: ignore[attr-defined]
                ids + [f"new:{person_id}"])))
        session.execute(delete(FieldAudit).where(FieldAudit.person_id == person_id))
        session.execute(delete(PersonField).where(PersonField.person_id == person_id))
        session.execute(delete(Link).where(Link.person_id == person_id))
        session.execute(delete(Person).where(Person.id == person_id))
        return len(hashes - known)


def erased_filter(engine: Engine, salt: str) -> Callable[[DomainRecord], bool]:
    """A predicate: does this record belong to an erased person (by its id or e-mail)?"""
    with Session(engine) as session:
        hashes = set(session.execute(select(ErasedSubject.subject_hash)).scalars())
    if not hashes:
        return lambda _record: False

    def erased(record: DomainRecord) -> bool:
        if subject_hash(salt, "record", f"{record.system}:{record.id}") in hashes:
            return True
        email = record.fields.get("email" if record.system == "hubspot" else "Email")
        return isinstance(email, str) and bool(email.strip()) and subject_hash(salt, "email", email) in hashes

    return erased


def purge_erased(engine: Engine, salt: str, run_id: int) -> int:
    """Drop snapshots staged by run `run_id` that belong to erased people (they must not live in the store)."""
    with Session(engine) as session:
        hashes = set(session.execute(select(ErasedSubject.subject_hash)).scalars())
        if not hashes:
            return 0
        rows = session.execute(select(SourceRecord.system, SourceRecord.object_type, SourceRecord.record_id,
                                      SourceRecord.email_norm).where(SourceRecord.run_id == run_id)).all()
    doomed = [(s, o, r) for s, o, r, e in rows if subject_hash(salt, "record", f"{s}:{r}") in hashes
              or (e and subject_hash(salt, "email", e) in hashes)]
    if doomed:
        with Session(engine) as session, session.begin():
            for s, o, r in doomed:
                session.execute(delete(SourceRecord).where(SourceRecord.system == s, SourceRecord.object_type == o,
                                                           SourceRecord.record_id == r))
    return len(doomed)
