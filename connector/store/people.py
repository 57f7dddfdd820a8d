"""People in the store: staged records in for the reconciliation core, unified people out of it.

Person records (HubSpot contacts, Salesforce Leads and Contacts), deleted and merged-away ones included
so identity can follow them, are read slim for identity and whole, a chunk at a time, for resolution.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
import hashlib
import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import bindparam, func, select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.identity import HeldMerge, describe_held
from ..reconcile.mapping import IdentitySpec
from ..reconcile.records import OwnerDirectory, RecordKey, SourceRecord, UnifiedPerson
from ..reconcile.summary import is_conflict
from .db import upsert_insert
from .models import TRACKED_FIELDS, FieldAudit, FieldHistory, Link, ParkedRecord, Person, PersonField
from .models import SourceRecord as StoredRecord

__all__ = ["stored_links", "save_reconciliation", "SaveCounts", "owner_directory", "explain_person", "PERSON_OBJECTS",
           "duplicate_links", "park_held_merges", "held_people", "find_person", "HELD_STAGE", "LinkRoles", "Stamp",
           "slim_person_records", "full_records", "stored_inputs", "REASON_LENGTH", "short_reason"]

PERSON_OBJECTS = (("hubspot", "contacts"), ("salesforce", "Lead"), ("salesforce", "Contact"))


#: the columns a domain record is made of, selected as plain rows: building ORM objects for every stored
#: record cost more than reconciling it
_COLUMNS = (col(StoredRecord.system), col(StoredRecord.object_type), col(StoredRecord.record_id),
            col(StoredRecord.modified_at), col(StoredRecord.changed_at), col(StoredRecord.data),
            col(StoredRecord.field_times), col(StoredRecord.deleted), col(StoredRecord.merged_into))


#: what changes whenever the store's copy of a record does: a new snapshot (run, fetch time, content time),
#: a deletion or a merge
Stamp = tuple[int | None, int, int, int | None, bool, str | None]


def _wanted_values(engine: Engine, wanted: Sequence[str]) -> Any:
    """An SQL expression for the `wanted` fields of a record's data as one JSON array (null where absent),
    so the database extracts them and Python decodes a few values, not every field of every record; None
    when a name cannot be put in a JSON path (then the whole document is read)."""
    if len(wanted) < 2 or any(not k or '"' in k or "\\" in k for k in wanted):
        return None  # (SQLite's json_extract returns an array only for two paths or more)
    if engine.dialect.name == "postgresql":
        return func.jsonb_build_array(*(col(StoredRecord.data)[k] for k in wanted))
    return func.json_extract(col(StoredRecord.data), *(f'$."{k}"' for k in wanted))


def slim_person_records(engine: Engine, wanted: Sequence[str]) -> Iterator[tuple[SourceRecord, Stamp]]:
    """Every staged person record with only the `wanted` fields (what identity reads), and its stamp.
    Streamed, one batch of rows at a time: never the whole table in memory."""
    values = _wanted_values(engine, wanted)
    data = col(StoredRecord.data) if values is None else values.label("data")
    columns = (col(StoredRecord.system), col(StoredRecord.object_type), col(StoredRecord.record_id),
               col(StoredRecord.modified_at), col(StoredRecord.changed_at), data, col(StoredRecord.deleted),
               col(StoredRecord.merged_into), col(StoredRecord.fetched_at), col(StoredRecord.run_id))
    with Session(engine) as session:
        for system, object_type in PERSON_OBJECTS:
            for row in session.execute(select(*columns).where(
                    col(StoredRecord.system) == system, col(StoredRecord.object_type) == object_type).execution_options(
                    yield_per=2_000)):
                # JSON null and absent read alike (as None) for identity: both are left out, either way
                if values is None:
                    doc = row.data
                    fields = {k: doc[k] for k in wanted if doc.get(k) is not None}
                else:
                    found = json.loads(row.data) if isinstance(row.data, str) else row.data
                    fields = {k: v for k, v in zip(wanted, found, strict=True) if v is not None}
                record = SourceRecord(system=row.system, object_type=row.object_type, id=row.record_id,
                                      modified_at=row.modified_at if row.changed_at is None else row.changed_at,
                                      fields=fields, deleted=row.deleted, merged_into=row.merged_into)
                yield record, (row.run_id, row.fetched_at, row.modified_at, row.changed_at, row.deleted,
                               row.merged_into)


def _domain(row: Any) -> SourceRecord:
    """A stored row (ORM object or plain row) as a domain record. Underscore keys are the connector's own
    annotations (associations), not system fields; the time is the content time (echoes do not count)."""
    data = row.data
    fields = {k: v for k, v in data.items() if not k.startswith("_")}
    links = data.get("_associations") or {}
    return SourceRecord(
        system=row.system,
        object_type=row.object_type, id=row.record_id,
        modified_at=row.modified_at if row.changed_at is None else row.changed_at, fields=fields,
        field_modified_at={k: v for k, v in (row.field_times or {}).items() if v is not None},  # None: no history
        deleted=row.deleted, merged_into=row.merged_into,
        associations={k: tuple(v) for k, v in links.items()},
    )


# ---------------------------------------------------------------------- reconciliation results


@dataclass
class SaveCounts:
    """What saving one reconciliation changed in the store."""

    people: int = 0
    links: int = 0
    fields_changed: int = 0
    conflicts_recorded: int = 0


def stored_links(engine: Engine) -> dict[RecordKey, str]:
    """Which person each linked record belongs to: identity's first and strongest evidence."""
    new = tuple.__new__  # a RecordKey without its Python-level __new__: one per stored link
    with Session(engine) as session:
        rows = session.execute(select(col(Link.system), col(Link.object_type), col(Link.record_id),
                                      col(Link.person_id))).all()
    return {new(RecordKey, (system, object_type, record_id)): person_id
            for system, object_type, record_id, person_id in rows}


LinkRoles = Mapping[RecordKey, tuple[str, str]]


#: how many characters of a reason a link keeps (``Link.reason``)
REASON_LENGTH = 32


def short_reason(reason: str) -> str:
    """A duplicate's reason as a link keeps it: whole when it fits, else its first clause without what
    `connector duplicates` adds back (who was kept, and why), never cut mid-word: "2 active salesforce
    records", not "2 active salesforce records for "."""
    if len(reason) <= REASON_LENGTH:
        return reason
    head = reason.split(";")[0].replace(" for one person", "").strip()
    if head.startswith("stored people "):
        head = "stored people are one person now"
    if len(head) <= REASON_LENGTH:
        return head
    return head[:REASON_LENGTH - 1].rsplit(" ", 1)[0] + "…"


def save_reconciliation(engine: Engine, people: Sequence[UnifiedPerson], *, now_ms: int,
                        run_id: int | None = None, chunk: int = 1_000, roles: LinkRoles | None = None,
                        inputs: Mapping[str, str] | None = None) -> SaveCounts:
    """Persist unified people, their links (with their role) and per-field provenance; a settled conflict
    whose outcome is new goes to the audit log (winner, loser, rule). Values that did not change are not
    written again. `inputs` gives the inputs digest of each settled person (the others lose theirs)."""
    counts = SaveCounts()
    for start in range(0, len(people), chunk):
        part = people[start:start + chunk]
        with Session(engine) as session, session.begin():
            _save_chunk(session, part, now_ms, run_id, counts, roles or {}, inputs or {})
    return counts


def person_digest(person: UnifiedPerson, roles: LinkRoles) -> str:
    """A digest of everything saving a person writes (values, their origin and rule, links and roles): an
    unchanged person is recognised from one column instead of re-reading every field."""
    parts = [(name, prov.value, prov.system, prov.rule) for name, prov in sorted(person.fields.items())]
    parts.append(tuple((k, roles.get(k)) for k in person.links))  # type: ignore[arg-type]
    return hashlib.blake2b(repr(parts).encode(), digest_size=16).hexdigest()


def _save_chunk(session: Session, people: Sequence[UnifiedPerson], now_ms: int, run_id: int | None,
                counts: SaveCounts, roles: LinkRoles, inputs: Mapping[str, str]) -> None:
    digests = {p.person_id: person_digest(p, roles) for p in people}
    known = {pid: (fields, settled) for pid, fields, settled in session.execute(
        select(col(Person.id), col(Person.fields_digest), col(Person.inputs_digest)).where(
            col(Person.id).in_(list(digests)))).all()}
    # same fields, but settled now or no longer: only the person row's inputs digest changes
    restamped = [{"pid": p.person_id, "inputs": inputs.get(p.person_id)} for p in people
                 if p.person_id in known and known[p.person_id][0] == digests[p.person_id]
                 and known[p.person_id][1] != inputs.get(p.person_id)]
    if restamped:
        table = Person.__table__  # type: ignore[attr-defined]  # a Core executemany, not the ORM's bulk update
        session.execute(table.update().where(table.c.id == bindparam("pid")).values(inputs_digest=bindparam("inputs")),
                        restamped)
    people = [p for p in people if p.person_id not in known or known[p.person_id][0] != digests[p.person_id]]
    if not people:
        return
    ids = [p.person_id for p in people]
    stored = {(pid, name): (value, system, rule) for pid, name, value, system, rule in session.execute(
        select(col(PersonField.person_id), col(PersonField.field), col(PersonField.value),
               col(PersonField.source_system), col(PersonField.rule)).where(col(PersonField.person_id).in_(ids)))}
    insert = upsert_insert(session)
    person_rows: list[dict[str, Any]] = []
    link_rows: list[dict[str, Any]] = []
    field_rows: list[dict[str, Any]] = []
    audit_rows: list[dict[str, Any]] = []
    history_rows: list[dict[str, Any]] = []
    for person in people:
        email = person.value("email")
        person_rows.append({"id": person.person_id, "created_at": now_ms, "updated_at": now_ms,
                            "email_norm": str(email).strip().casefold() if email else None,
                            "fields_digest": digests[person.person_id], "inputs_digest": inputs.get(person.person_id)})
        for k in person.links:
            role, reason = roles.get(k, ("primary", "reconciled"))
            link_rows.append({"person_id": person.person_id, "system": k.system, "object_type": k.object_type,
                              "record_id": k.id, "role": role, "reason": reason, "linked_at": now_ms})
        for name, prov in person.fields.items():
            value = _jsonable(prov.value)
            before = stored.get((person.person_id, name))
            if before == (value, prov.system or "", prov.rule):
                continue
            if name in TRACKED_FIELDS and (before is None or before[0] != value):
                history_rows.append({"person_id": person.person_id, "field": name, "value": value,
                                     "since": prov.source_time or now_ms, "run_id": run_id})
            field_rows.append({"person_id": person.person_id, "field": name, "value": value,
                               "source_system": prov.system or "", "source_id": prov.source_id or "",
                               "source_time": prov.source_time, "rule": prov.rule, "time_basis": prov.time_basis,
                               "updated_at": now_ms})
            if is_conflict(prov):  # the conflict audit: a fill of a blank side is none
                audit_rows.extend({"person_id": person.person_id, "field": name, "rule": prov.rule,
                                   "winner_system": prov.system or "", "winner_value": value,
                                   "loser_system": system, "loser_value": _jsonable(lost), "decided_at": now_ms,
                                   "run_id": run_id} for system, lost, _time in prov.losing if lost is not None)
    person_table = Person.__table__  # type: ignore[attr-defined]
    stmt = insert(person_table)
    session.execute(stmt.on_conflict_do_update(index_elements=["id"], set_={
        "email_norm": stmt.excluded.email_norm, "updated_at": stmt.excluded.updated_at,
        "fields_digest": stmt.excluded.fields_digest, "inputs_digest": stmt.excluded.inputs_digest}), person_rows)
    if link_rows:
        link_table = Link.__table__  # type: ignore[attr-defined]
        stmt = insert(link_table)
        session.execute(stmt.on_conflict_do_update(index_elements=["system", "object_type", "record_id"], set_={
            "person_id": stmt.excluded.person_id, "linked_at": stmt.excluded.linked_at, "role": stmt.excluded.role,
            "reason": stmt.excluded.reason},
            where=(link_table.c.person_id != stmt.excluded.person_id) | (link_table.c.role != stmt.excluded.role)),
            link_rows)
    if field_rows:
        field_table = PersonField.__table__  # type: ignore[attr-defined]
        stmt = insert(field_table)
        session.execute(stmt.on_conflict_do_update(index_elements=["person_id", "field"], set_={
            c: stmt.excluded[c] for c in ("value", "source_system", "source_id", "source_time", "rule", "time_basis",
                                          "updated_at")}), field_rows)
    if audit_rows:
        session.execute(insert(FieldAudit.__table__), audit_rows)  # type: ignore[attr-defined]
    if history_rows:
        session.execute(insert(FieldHistory.__table__), history_rows)  # type: ignore[attr-defined]
    counts.people += len(person_rows)
    counts.links += len(link_rows)
    counts.fields_changed += len(field_rows)
    counts.conflicts_recorded += len(audit_rows)


def _jsonable(value: Any) -> Any:
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return str(value)


def owner_directory(engine: Engine) -> OwnerDirectory:
    """Owners of both systems as pulled (HubSpot owners, Salesforce Users), by id -> e-mail."""
    with Session(engine) as session:
        rows = session.execute(select(col(StoredRecord.system), col(StoredRecord.record_id),
                                      col(StoredRecord.data)).where(
            col(StoredRecord.object_type).in_(["owners", "User"]))).all()
    hubspot = {rid: d.get("email") for system, rid, d in rows if system == "hubspot" and d.get("email")}
    salesforce = {rid: d.get("Email") for system, rid, d in rows if system == "salesforce" and d.get("Email")}
    return OwnerDirectory(hubspot=hubspot, salesforce=salesforce)


def find_person(session: Session, key: str) -> Person | None:
    """The person `key` names: a person id; an e-mail address (the unified one, then any record's, then a
    HubSpot contact's additional addresses, which a merge leaves there); or the id of any linked record,
    merged-away, deleted and converted ones included (a Salesforce id in its 15- or 18-character form)."""
    key = key.strip()
    person = session.get(Person, key)
    if person is not None:
        return _current(session, person)
    if "@" in key:
        email = key.casefold()
        linked = select(col(Link.person_id)).where(col(Link.role) == "primary").scalar_subquery()
        person = session.execute(select(Person).where(col(Person.email_norm) == email, col(Person.id).in_(linked))
                                 .order_by(col(Person.id))).scalars().first()
        if person is None:
            person = _person_of_records(session, [(r.system, r.object_type, r.record_id) for r in session.execute(
                select(col(StoredRecord.system), col(StoredRecord.object_type), col(StoredRecord.record_id)).where(
                    col(StoredRecord.email_norm) == email).limit(50))])
        if person is None:
            person = _person_of_records(session, _with_additional_email(session, email))
        return person
    ids = [key]
    if len(key) == 15 and key.isalnum():  # a Salesforce id as the UI shows it: match its 18-character form
        ids += session.execute(select(col(Link.record_id)).where(
            col(Link.system) == "salesforce", col(Link.record_id).startswith(key))).scalars().all()
    links = session.execute(select(Link).where(col(Link.record_id).in_(ids))).scalars().all()
    return _person_of_links(session, links)


def _person_of_links(session: Session, links: Sequence[Link]) -> Person | None:
    """The person of the first of these links: a live (primary) link before history and duplicates."""
    link = min(links, key=lambda each: (each.role != "primary", each.system, each.record_id), default=None)
    return session.get(Person, link.person_id) if link else None


def _current(session: Session, person: Person) -> Person:
    """A person whose records all went to another person (a merge followed) stands for that person now:
    found through the records its values came from."""
    if session.execute(select(col(Link.id)).where(col(Link.person_id) == person.id).limit(1)).first() is not None:
        return person
    sources = session.execute(select(col(PersonField.source_id)).where(
        col(PersonField.person_id) == person.id).distinct()).scalars().all()
    links = session.execute(select(Link).where(col(Link.record_id).in_([rid for rid in sources if rid]))
                            ).scalars().all()
    return _person_of_links(session, links) or person


def _person_of_records(session: Session, keys: Sequence[tuple[str, str, str]]) -> Person | None:
    """The person linked to these (system, object type, id) records; a live (primary) link first."""
    found: list[Link] = []
    for system, object_type, record_id in keys[:50]:
        found += session.execute(select(Link).where(col(Link.system) == system, col(Link.object_type) == object_type,
                                                    col(Link.record_id) == record_id)).scalars().all()
    return _person_of_links(session, found)


def _with_additional_email(session: Session, email: str) -> list[tuple[str, str, str]]:
    """HubSpot contacts holding `email` among their additional addresses (``hs_additional_emails``, ";"-separated).
    Read by a text match on the stored documents, then checked exactly (explain looks up one person)."""
    text = col(StoredRecord.data)["hs_additional_emails"].as_string()
    rows = session.execute(select(col(StoredRecord.record_id), text).where(
        col(StoredRecord.system) == "hubspot", col(StoredRecord.object_type) == "contacts",
        func.lower(text).contains(email, autoescape=True))).all()
    return [("hubspot", "contacts", rid) for rid, value in rows
            if email in {e.strip().casefold() for e in str(value or "").split(";")}]


def explain_person(engine: Engine, key: str) -> dict[str, Any] | None:
    """One person's unified record, where every value came from, their links and settled conflicts, and
    any merge held for review that involves them.

    `key` is an e-mail address, a person id, or the id of any linked record in either system (see
    `find_person`).
    """
    with Session(engine) as session:
        person = find_person(session, key)
        if person is None:
            return None
        links = session.execute(select(Link).where(col(Link.person_id) == person.id)).scalars().all()
        fields = session.execute(select(PersonField).where(col(PersonField.person_id) == person.id)
                                 .order_by(col(PersonField.field))).scalars().all()
        audit = session.execute(select(FieldAudit).where(col(FieldAudit.person_id) == person.id)
                                .order_by(col(FieldAudit.decided_at).desc(), col(FieldAudit.id).desc()).limit(50)
                                ).scalars().all()
        held = [r for r in _held_rows(session) if person.id in ((r.payload or {}).get("people") or ())]
        return {
            "person_id": person.id,
            "email": person.email_norm,
            "score": person.score,
            "status": person.status,
            "links": [{"system": link.system, "object_type": link.object_type, "record_id": link.record_id,
                       "role": link.role} for link in links],
            "fields": {f.field: {"value": f.value, "system": f.source_system or None, "record_id": f.source_id or None,
                                 "source_time": f.source_time, "rule": f.rule, "time_basis": f.time_basis}
                       for f in fields},
            "conflicts": [{"field": a.field, "rule": a.rule,
                           "winner": {"system": a.winner_system, "value": a.winner_value},
                           "loser": {"system": a.loser_system, "value": a.loser_value}, "decided_at": a.decided_at}
                          for a in audit],
            "held": [{"system": r.system, "object_type": r.object_type, "record_id": r.record_id, "code": r.code,
                      "message": r.message, "hint": r.hint} for r in held],
        }


def stored_inputs(engine: Engine, person_ids: Sequence[str]) -> dict[str, str]:
    """The stored inputs digests of these people (only settled people have one)."""
    found: dict[str, str] = {}
    with Session(engine) as session:
        for i in range(0, len(person_ids), 500):
            found.update((pid, digest) for pid, digest in session.execute(
                select(col(Person.id), col(Person.inputs_digest)).where(
                    col(Person.id).in_(person_ids[i:i + 500]), col(Person.inputs_digest).is_not(None))))
    return found


def full_records(engine: Engine, wanted: Mapping[tuple[str, str], Sequence[str]]) -> dict[RecordKey, SourceRecord]:
    """The whole stored records of these ids per (system, object type) (identity worked on slim copies)."""
    full: dict[RecordKey, SourceRecord] = {}
    with Session(engine) as session:
        for (system, object_type), ids in wanted.items():
            for i in range(0, len(ids), 500):
                for row in session.execute(select(*_COLUMNS).where(
                        col(StoredRecord.system) == system, col(StoredRecord.object_type) == object_type,
                        col(StoredRecord.record_id).in_(ids[i:i + 500]))):
                    rec = _domain(row)
                    full[rec.key] = rec
    return full


#: the parking lot's stage for merges held for review (see identity.HeldMerge)
HELD_STAGE = "identity"
HELD_CODE = "MERGED_ON_ONE_SIDE"


def park_held_merges(engine: Engine, held: Sequence[HeldMerge], identity: IdentitySpec, *, now_ms: int,
                     run_id: int | None) -> None:
    """Park every merge identity holds (one row per survivor, with a plain hint), and resolve the rows of
    merges no longer held (someone decided). `connector retry` cannot release them: each reconciliation
    finds them again from the records until the systems themselves say what happened."""
    wanted = {(h.system, h.survivor.object_type, h.survivor.id): h for h in held}
    with Session(engine) as session, session.begin():
        rows = {(r.system, r.object_type, r.record_id): r for r in session.execute(select(ParkedRecord).where(
            col(ParkedRecord.stage) == HELD_STAGE)).scalars()}
        for key, row in rows.items():
            if key not in wanted and row.resolved_at is None:
                row.resolved_at = now_ms
                session.add(row)
        for key, h in wanted.items():
            message, hint = describe_held(h, identity)
            row = rows.get(key)
            if row is None:
                row = ParkedRecord(system=key[0], object_type=key[1], record_id=key[2], stage=HELD_STAGE, attempts=0,
                                   first_seen=now_ms, code=HELD_CODE, message=message)
            elif row.resolved_at is not None:  # held again: a fresh episode
                row.attempts, row.first_seen, row.resolved_at = 0, now_ms, None
            row.attempts += 1
            row.code, row.message, row.hint, row.last_seen, row.next_retry_at = HELD_CODE, message, hint, now_ms, None
            row.payload = {"person_id": h.people[1], "people": list(h.people), "merged": h.merged.id,
                           "kept": {o.id: f"{k.object_type} {k.id}" for o in h.others for k in h.kept[:1]}}
            row.run_id = run_id
            session.add(row)


def _held_rows(session: Session) -> Sequence[ParkedRecord]:
    """The merges held for review now (unresolved parked rows of the identity stage)."""
    return session.execute(select(ParkedRecord).where(col(ParkedRecord.stage) == HELD_STAGE,
                                                      col(ParkedRecord.resolved_at).is_(None))).scalars().all()


def held_people(session: Session) -> set[str]:
    """The people a merge held for review involves (nothing is written for them, deal links included)."""
    return {pid for row in _held_rows(session) for pid in (row.payload or {}).get("people") or ()}


def duplicate_links(engine: Engine) -> list[dict[str, Any]]:
    """Records reconciliation listed as probable duplicates of a person (never merged silently), with the
    record each duplicates, for `connector duplicates`."""
    with Session(engine) as session:
        dups = session.execute(select(Link).where(col(Link.role) == "duplicate")
                               .order_by(col(Link.person_id), col(Link.record_id))).scalars().all()
        people = {link.person_id for link in dups}
        kept = session.execute(select(Link).where(col(Link.person_id).in_(people), col(Link.role) == "primary")
                               ).scalars().all() if people else []
        emails = dict(session.execute(select(col(Person.id), col(Person.email_norm)).where(
            col(Person.id).in_(people))).all()) if people else {}
        held = [row.payload or {} for row in _held_rows(session)]
    primary: dict[tuple[str, str], str] = {(link.person_id, link.system): f"{link.object_type} {link.record_id}"
                                           for link in kept}
    # a held merge's records are kept apart from the other person's record they clash with
    clashing: dict[str, str] = {rid: label for payload in held for rid, label in (payload.get("kept") or {}).items()}
    return [{"person_id": d.person_id, "email": emails.get(d.person_id), "system": d.system,
             "object_type": d.object_type, "record_id": d.record_id, "reason": d.reason,
             "kept": primary.get((d.person_id, d.system)) or clashing.get(d.record_id)} for d in dups]
