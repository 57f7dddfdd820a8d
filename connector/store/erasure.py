"""Deleted and erased people in the store: what deletion planning reads, and erasure itself.

An erased person's personal data leaves the store entirely (snapshots, engagement, unified fields,
audit, links, parked records, written-value hashes, the write journal). What remains are salted SHA-256
hashes of their e-mail addresses and record ids in ``erased_subject``, so a record of theirs that turns
up again is recognised and never synced, without the store holding who they were.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterable
from typing import Any

from sqlalchemy import Text, cast, delete, or_, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import OperationalError
from sqlmodel import Session, col

from ..reconcile.identity import PERSON_OBJECTS
from ..reconcile.deletions import DeletionKind
from ..reconcile.records import RecordKey
from ..reconcile.records import SourceRecord as DomainRecord
from .models import (
    Engagement,
    ErasedSubject,
    FieldAudit,
    FieldHistory,
    Link,
    Opportunity,
    ParkedRecord,
    Person,
    PersonField,
    PersonScore,
    SourceRecord,
    StatusTransition,
    SyncRun,
    ValueIssue,
    WriteJournal,
    WrittenValue,
)


__all__ = ["ERASED_MARK", "live_record_ids", "unlinked_records", "subject_hash", "deleted_records", "mark_erased",
           "erase_person", "erased_filter", "purge_erased", "mark_deleted", "compact", "RELATED_FIELDS",
           "RELATED_ASSOCIATED"]

log = logging.getLogger(__name__)

#: set in the snapshot of a HubSpot contact found permanently deleted (HubSpot's GDPR delete)
ERASED_MARK = "_erased"


def subject_hash(salt: str, kind: str, value: str) -> str:
    """`kind` is "email" (normalised address) or "system:id" (a record)."""
    return hashlib.sha256(f"{salt}|{kind}|{value.strip().casefold()}".encode()).hexdigest()


def deleted_records(engine: Engine) -> dict[RecordKey, DeletionKind]:
    """Person records deleted in their system (merge losers are not deletions), and whether erased."""
    with Session(engine) as session:
        rows = session.execute(select(col(SourceRecord.system), col(SourceRecord.object_type),
                                      col(SourceRecord.record_id), col(SourceRecord.data)).where(
            col(SourceRecord.deleted), col(SourceRecord.merged_into).is_(None),
            _of_kinds(sorted(PERSON_OBJECTS)))).all()
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


def live_record_ids(engine: Engine, system: str, object_type: str) -> list[str]:
    """The ids of the stored records of this kind not known to be deleted (those the connector created too)."""
    with Session(engine) as session:
        return list(session.execute(select(col(SourceRecord.record_id)).where(
            col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type, ~col(SourceRecord.deleted)
        )).scalars().all())


def unlinked_records(engine: Engine, person_id: str, keys: Iterable[RecordKey] = ()) -> set[RecordKey]:
    """The person's records identity left unlinked: stored person records holding one of the addresses of
    their linked records (and of `keys`) that no other person is linked to, such as a HubSpot contact
    archived before the connector came. An erasure removes them too."""
    with Session(engine) as session:
        return _records_of(session, person_id, keys)[1]


def _records_of(session: Session, person_id: str, keys: Iterable[RecordKey]
                ) -> tuple[set[RecordKey], set[RecordKey], set[str]]:
    """(the person's linked records, with `keys` and the records merged into them; their unlinked older records,
    as `unlinked_records`; every address those linked records and the person hold)."""
    links = session.execute(select(Link).where(col(Link.person_id) == person_id)).scalars().all()
    known = {RecordKey(link.system, link.object_type, link.record_id) for link in links} | set(keys)
    known |= _merged_into(session, known)
    emails = _emails_of(session, known, person_id)
    return known, _holding_emails(session, emails, person_id) - known, emails


def _emails_of(session: Session, keys: Iterable[RecordKey], person_id: str) -> set[str]:
    emails: set[str] = set()
    for k in keys:
        row = session.get(SourceRecord, (k.system, k.object_type, k.id))
        if row is not None and row.email_norm:
            emails.add(row.email_norm)
    person = session.get(Person, person_id)
    if person is not None and person.email_norm:
        emails.add(person.email_norm)
    return emails


def erase_person(engine: Engine, person_id: str, *, salt: str, source_system: str, now_ms: int,
                 extra_keys: Iterable[RecordKey] = ()) -> int:
    """Remove everything the store knows about one person; keep salted hashes of their e-mails and ids.

    Besides the person's own snapshots, unified fields, audit, links, written-value hashes, the values
    the write journal kept of them (what each write replaced) and parked records, that is every snapshot
    of a record about them (their Tasks, Events, CampaignMembers, OpportunityContactRoles and HubSpot
    engagements), their engagement events, their id in deals' association lists and in the opportunity
    table, and their rejected writes in the run records.
    Returns how many hashes were kept. `compact` then clears the freed space of a SQLite file."""
    with Session(engine) as session, session.begin():
        keys, older, emails = _records_of(session, person_id, extra_keys)
        keys |= older  # their records identity left unlinked, and what was merged into those
        keys |= _merged_into(session, keys)
        ids = sorted({k.id for k in keys})
        hashes = {subject_hash(salt, "email", e) for e in emails}
        hashes |= {subject_hash(salt, "record", f"{k.system}:{k.id}") for k in keys}
        hashes |= {subject_hash(salt, "record", f"{k.system}:{k.id[:15]}") for k in keys if k.system == "salesforce"}
        known = set(session.execute(select(col(ErasedSubject.subject_hash)).where(
            col(ErasedSubject.subject_hash).in_(hashes))).scalars())
        session.add_all(ErasedSubject(subject_hash=h, erased_at=now_ms, source_system=source_system)
                        for h in sorted(hashes - known))
        subjects = ids + sorted(emails)
        if subjects:
            session.execute(delete(Engagement).where(col(Engagement.subject_id).in_(subjects)))
        for k in keys:
            session.execute(delete(SourceRecord).where(col(SourceRecord.system) == k.system,
                                                       col(SourceRecord.object_type) == k.object_type,
                                                       col(SourceRecord.record_id) == k.id))
        _forget_related(session, keys)
        if ids:
            session.execute(delete(WrittenValue).where(col(WrittenValue.record_id).in_(ids)))
            session.execute(delete(WriteJournal).where(col(WriteJournal.record_id).in_(ids)))
        session.execute(delete(WriteJournal).where(col(WriteJournal.person_id) == person_id))
        _forget_parked(session, person_id, set(ids))
        _forget_in_runs(session, {*ids, f"new:{person_id}", person_id}, emails)
        _forget_in_opportunities(session, person_id)
        session.execute(delete(FieldAudit).where(col(FieldAudit.person_id) == person_id))
        session.execute(delete(FieldHistory).where(col(FieldHistory.person_id) == person_id))
        session.execute(delete(ValueIssue).where(col(ValueIssue.person_id) == person_id))
        session.execute(delete(StatusTransition).where(col(StatusTransition.person_id) == person_id))
        session.execute(delete(PersonScore).where(col(PersonScore.person_id) == person_id))
        session.execute(delete(PersonField).where(col(PersonField.person_id) == person_id))
        session.execute(delete(Link).where(col(Link.person_id) == person_id))
        session.execute(delete(Person).where(col(Person.id) == person_id))
        return len(hashes - known)


#: records about a person, by the fields that name them (Salesforce) ...
RELATED_FIELDS: dict[tuple[str, str], tuple[str, ...]] = {
    ("salesforce", "Task"): ("WhoId",),
    ("salesforce", "Event"): ("WhoId",),
    ("salesforce", "CampaignMember"): ("LeadId", "ContactId"),
    ("salesforce", "OpportunityContactRole"): ("ContactId",),
}
#: ... or by their associated contacts (HubSpot engagements)
RELATED_ASSOCIATED: frozenset[tuple[str, str]] = frozenset(
    ("hubspot", o) for o in ("calls", "meetings", "emails", "notes", "tasks"))
#: records that list the person among others: only the person's id is taken out
_LISTING: frozenset[tuple[str, str]] = frozenset({("hubspot", "deals")})


def _referenced(system: str, object_type: str, data: dict[str, Any] | None) -> set[str]:
    """The person record ids a snapshot of a related record names (Salesforce ids on 15 characters)."""
    data = data or {}
    if (system, object_type) in RELATED_FIELDS:
        return {str(data[f])[:15] for f in RELATED_FIELDS[(system, object_type)] if data.get(f)}
    contacts = (data.get("_associations") or {}).get("contacts") or []
    return {str(c) for c in contacts}


def _id_forms(keys: Iterable[RecordKey]) -> set[str]:
    return {k.id[:15] if k.system == "salesforce" else k.id for k in keys}


def _of_kinds(kinds: Iterable[tuple[str, str]]) -> Any:
    return or_(*[(col(SourceRecord.system) == s) & (col(SourceRecord.object_type) == o) for s, o in kinds])


def _mentioning(ids: Iterable[str], column: Any) -> Any:
    """A cheap SQL prefilter: the JSON text of `column` holds one of `ids` as (the start of) a string."""
    return or_(*[cast(column, Text).like(f'%"{i}%') for i in sorted(ids)])


def _holding_emails(session: Session, emails: set[str], person_id: str) -> set[RecordKey]:
    """The person records the store holds with one of these e-mail addresses and no other person's link: a
    contact archived before the connector came is nobody's link, yet it is the person's."""
    if not emails:
        return set()
    rows = session.execute(select(col(SourceRecord.system), col(SourceRecord.object_type), col(SourceRecord.record_id))
                           .where(col(SourceRecord.email_norm).in_(sorted(emails)),
                                  _of_kinds(sorted(PERSON_OBJECTS)))).all()
    found = {RecordKey(s, o, r) for s, o, r in rows}
    if not found:
        return set()
    others = {(link.system, link.object_type, link.record_id) for link in session.execute(
        select(Link).where(col(Link.record_id).in_(sorted({k.id for k in found})),
                           col(Link.person_id) != person_id)).scalars()}
    return {k for k in found if (k.system, k.object_type, k.id) not in others}


def _merged_into(session: Session, keys: set[RecordKey]) -> set[RecordKey]:
    """Records merged away into the person's records (HubSpot keeps their ids as merge markers)."""
    if not keys:
        return set()
    rows = session.execute(select(col(SourceRecord.system), col(SourceRecord.object_type), col(SourceRecord.record_id))
                           .where(col(SourceRecord.merged_into).in_(sorted({k.id for k in keys})))).all()
    return {RecordKey(s, o, r) for s, o, r in rows}


def _forget_related(session: Session, keys: set[RecordKey]) -> None:
    """Delete the snapshots of records about the person; take their id out of deals' contact lists."""
    forms = _id_forms(keys)
    if not forms:
        return
    kinds = [*RELATED_FIELDS, *RELATED_ASSOCIATED, *_LISTING]
    rows = session.execute(select(SourceRecord).where(_of_kinds(kinds), _mentioning(forms, col(SourceRecord.data)))
                           ).scalars().all()
    for row in rows:
        if not _referenced(row.system, row.object_type, row.data) & forms:
            continue
        if (row.system, row.object_type) in _LISTING:
            assoc = dict(row.data.get("_associations") or {})
            assoc["contacts"] = [c for c in assoc.get("contacts") or [] if str(c) not in forms]
            row.data = {**row.data, "_associations": assoc}
            session.add(row)
        else:
            session.delete(row)


def _forget_parked(session: Session, person_id: str, ids: set[str]) -> None:
    """Parked records of the person's records, of their pending creates and of deletions about them."""
    names = {*ids, f"new:{person_id}"}
    rows = session.execute(select(ParkedRecord).where(or_(
        col(ParkedRecord.record_id).in_(sorted(names)),
        _mentioning({person_id}, col(ParkedRecord.payload))))).scalars().all()
    for row in rows:
        if row.record_id in names or (row.payload or {}).get("person_id") == person_id:
            session.delete(row)


def _forget_in_runs(session: Session, names: set[str], emails: set[str]) -> None:
    """Run records keep a sample of rejected writes (record ids, hints): the person's entries go, and an
    address of theirs in a run's error is masked."""
    rows = session.execute(select(SyncRun).where(or_(
        _mentioning(names, col(SyncRun.counts)),
        *[col(SyncRun.error).contains(e) for e in sorted(emails)]))).scalars().all()
    for run in rows:
        run.counts = _without_entries(run.counts, names)
        if run.error:
            for email in emails:
                run.error = run.error.replace(email, "[erased]")
        session.add(run)


def _without_entries(value: Any, names: set[str]) -> Any:
    """`value` (a run's counts) without the list entries that name one of `names`."""
    if isinstance(value, dict):
        return {k: _without_entries(v, names) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_entries(v, names) for v in value
                if not (isinstance(v, dict) and any(isinstance(x, str) and x in names for x in v.values()))]
    return value


def _forget_in_opportunities(session: Session, person_id: str) -> None:
    rows = session.execute(select(Opportunity).where(
        _mentioning({person_id}, col(Opportunity.person_ids)))).scalars().all()
    for row in rows:
        if person_id in (row.person_ids or []):
            row.person_ids = [p for p in row.person_ids or [] if p != person_id]
            session.add(row)


def compact(engine: Engine) -> None:
    """Clear what deleted rows leave behind in a SQLite file: their bytes stay in free pages and in the
    write-ahead log until overwritten, so an erasure rebuilds the file (VACUUM) and empties the log.

    A failure (no room for the copy VACUUM makes) or a log another process still reads is reported, not
    raised: the erasure itself is committed, and the next compaction finishes the job. PostgreSQL keeps
    dead row versions until (auto)vacuum reuses their space; no query or dump sees them."""
    if engine.dialect.name != "sqlite":
        return
    try:
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM")
            busy = conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)").first()
    except OperationalError as exc:
        log.warning("could not rebuild the SQLite store after an erasure (%s): deleted rows' bytes stay in its "
                    "free pages until the next erasure rebuilds it", exc.orig)
        return
    if busy is not None and busy[0]:
        log.warning("another process was reading the SQLite store, so its write-ahead log could not be emptied "
                    "after an erasure; the next erasure empties it")


def erased_filter(engine: Engine, salt: str) -> Callable[[DomainRecord], bool]:
    """A predicate: does this record belong to an erased person (by its id or e-mail)?"""
    with Session(engine) as session:
        hashes = set(session.execute(select(col(ErasedSubject.subject_hash))).scalars())
    if not hashes:
        return lambda _record: False

    def erased(record: DomainRecord) -> bool:
        if subject_hash(salt, "record", f"{record.system}:{record.id}") in hashes:
            return True
        email = record.fields.get("email" if record.system == "hubspot" else "Email")
        return isinstance(email, str) and bool(email.strip()) and subject_hash(salt, "email", email) in hashes

    return erased


def purge_erased(engine: Engine, salt: str, run_id: int) -> int:
    """Drop snapshots staged by run `run_id` that belong to erased people, or are about them (a Task or
    CampaignMember of an erased Lead, a HubSpot call with an erased contact): they must not live in the
    store. Salesforce reports a deleted person's records, and those deleted with them, on the next pull."""
    with Session(engine) as session:
        hashes = set(session.execute(select(col(ErasedSubject.subject_hash))).scalars())
        if not hashes:
            return 0
        rows = session.execute(select(col(SourceRecord.system), col(SourceRecord.object_type),
                                      col(SourceRecord.record_id), col(SourceRecord.email_norm)).where(
            col(SourceRecord.run_id) == run_id)).all()
        kinds = [*RELATED_FIELDS, *RELATED_ASSOCIATED]
        related = session.execute(select(col(SourceRecord.system), col(SourceRecord.object_type),
                                         col(SourceRecord.record_id), col(SourceRecord.data)).where(
            col(SourceRecord.run_id) == run_id, _of_kinds(kinds))).all()
    doomed = {(s, o, r) for s, o, r, e in rows if subject_hash(salt, "record", f"{s}:{r}") in hashes
              or (e and subject_hash(salt, "email", e) in hashes)}
    for s, o, r, data in related:
        if any(subject_hash(salt, "record", f"{s}:{i}") in hashes for i in _full_ids(s, o, data)):
            doomed.add((s, o, r))
    if doomed:
        with Session(engine) as session, session.begin():
            for s, o, r in sorted(doomed):
                session.execute(delete(SourceRecord).where(col(SourceRecord.system) == s,
                                                           col(SourceRecord.object_type) == o,
                                                           col(SourceRecord.record_id) == r))
        compact(engine)
    return len(doomed)


def _full_ids(system: str, object_type: str, data: dict[str, Any] | None) -> set[str]:
    """The person record ids a related record names, as the erasure hashed them (Salesforce's on 15
    characters too: a reference may use either form)."""
    data = data or {}
    if (system, object_type) in RELATED_FIELDS:
        named = {str(data[f]) for f in RELATED_FIELDS[(system, object_type)] if data.get(f)}
        return named | {i[:15] for i in named}
    return {str(c) for c in (data.get("_associations") or {}).get("contacts") or []}
