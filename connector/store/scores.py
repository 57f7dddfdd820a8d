"""Scores in the store: who needs scoring again, what scoring reads, and what it leaves (SQL only).

The scoring stage asks `candidates` for the people whose inputs may have changed since its last pass
(new or changed fields, records, touches or opportunities; decay due; never scored; a new model), reads
their unified fields, person records and opportunities in chunked queries, and saves each score with
the status transitions it caused in one transaction per chunk.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..score.signals import LinkedRecord
from ..score.timeline import Touch
from .db import IN_CHUNK, in_chunks, upsert_insert
from .models import (
    Link,
    ParkedRecord,
    Person,
    PersonField,
    PersonScore,
    ScoringModelVersion,
    SourceRecord,
    StatusTransition,
)
from .state import read_state, write_state
from .timeline import people_touched_since, touches_for

__all__ = ["LinkedRecord", "all_person_ids", "linked_records", "ScoringInputs", "candidates", "last_pass",
           "opportunities_by_person", "model_versions", "record_model", "record_pass", "save_scores", "score_of",
           "scoring_inputs", "stored_scores", "transitions_of"]

CHUNK = IN_CHUNK
_PASS = "scoring:last-pass"
PERSON_OBJECTS = (("hubspot", "contacts"), ("salesforce", "Lead"), ("salesforce", "Contact"))
_OPPORTUNITY_OBJECTS = (("salesforce", "Opportunity"), ("salesforce", "OpportunityContactRole"),
                        ("hubspot", "deals"))


@dataclass(frozen=True)
class ScoringInputs:
    """What scoring reads for a chunk of people."""

    fields: dict[str, dict[str, Any]]
    records: dict[str, list[LinkedRecord]]
    touches: dict[str, list[Touch]]


def last_pass(engine: Engine) -> dict[str, Any] | None:
    """When the last scoring pass started and under which model ({"at", "model"}), if one ever ran."""
    return read_state(engine, _PASS)


def record_pass(engine: Engine, at: int, model_hash: str, now_ms: int) -> None:
    write_state(engine, _PASS, {"at": at, "model": model_hash}, now_ms)


def candidates(engine: Engine, since: int | None, now_ms: int, *, companies: bool = False) -> list[str]:
    """The people to score again: everyone when `since` is None (first pass, or a new model); otherwise
    those never scored, whose decay or inactivity is due, or whose fields, records, touches or
    opportunities the store received after `since`; with `companies` (fit rules read the person's company),
    also those whose company or Account the store received after `since`."""
    with Session(engine) as session:
        if since is None:
            return all_person_ids(engine)
        found: set[str] = set(session.execute(select(col(Person.id)).outerjoin(
            PersonScore, col(PersonScore.person_id) == col(Person.id)).where(
                col(PersonScore.person_id).is_(None))).scalars())
        found.update(session.execute(select(col(Person.id)).where(col(Person.updated_at) > since)).scalars())
        found.update(session.execute(select(col(PersonScore.person_id)).where(
            col(PersonScore.next_check_at) <= now_ms)).scalars())
        for system, object_type in PERSON_OBJECTS:
            found.update(session.execute(select(col(Link.person_id)).join(SourceRecord, (
                col(SourceRecord.system) == col(Link.system)) & (col(SourceRecord.object_type) == col(Link.object_type))
                & (col(SourceRecord.record_id) == col(Link.record_id))).where(
                    col(Link.system) == system, col(Link.object_type) == object_type,
                    col(SourceRecord.fetched_at) > since)).scalars())
        # a write the push parked is planned again once due: the pass looks at its person again
        found.update(session.execute(select(col(Link.person_id)).join(ParkedRecord, (
            col(ParkedRecord.system) == col(Link.system)) & (col(ParkedRecord.object_type) == col(Link.object_type))
            & (col(ParkedRecord.record_id) == col(Link.record_id))).where(
                col(ParkedRecord.stage) == "push", col(ParkedRecord.resolved_at).is_(None))).scalars())
        deals_changed = any(session.execute(select(col(SourceRecord.record_id)).where(
            col(SourceRecord.system) == s, col(SourceRecord.object_type) == o,
            col(SourceRecord.fetched_at) > since).limit(1)).first() for s, o in _OPPORTUNITY_OBJECTS)
    found |= people_touched_since(engine, since)
    if deals_changed:
        changed = _changed_opportunity_people(engine, since)
        found |= changed
    if companies:
        found |= _changed_company_people(engine, since)
    return sorted(found)


def _changed_company_people(engine: Engine, since: int) -> set[str]:
    """The people whose company the store received after `since`: the Contacts of a changed Account, and the
    contacts associated with a changed HubSpot company."""
    with Session(engine) as session:
        changed = {(o, rid): data or {} for o, rid, data in session.execute(select(
            col(SourceRecord.object_type), col(SourceRecord.record_id), col(SourceRecord.data)).where(
            col(SourceRecord.object_type).in_(["companies", "Account"]), col(SourceRecord.fetched_at) > since)).all()}
        if not changed:
            return set()
        accounts = {rid[:15] for o, rid in changed if o == "Account"}
        contacts: set[str] = set()
        if accounts:
            for rid, data in session.execute(select(col(SourceRecord.record_id), col(SourceRecord.data)).where(
                    col(SourceRecord.system) == "salesforce", col(SourceRecord.object_type) == "Contact")).all():
                if str((data or {}).get("AccountId") or "")[:15] in accounts:
                    contacts.add(rid)
        hubspot = {str(c) for (o, _), d in changed.items() if o == "companies"
                   for c in (d.get("_associations") or {}).get("contacts") or []}
        return _people_of(session, contacts, hubspot)


def _changed_opportunity_people(engine: Engine, since: int) -> set[str]:
    """The people whose opportunities the store received after `since`: through a changed contact role, a
    changed Opportunity's contact roles, or a changed deal's associated contacts."""
    def fetched(object_type: str) -> list[tuple[str, dict[str, Any]]]:
        return [(rid, data or {}) for rid, data in session.execute(select(
            col(SourceRecord.record_id), col(SourceRecord.data)).where(
            col(SourceRecord.object_type) == object_type, col(SourceRecord.fetched_at) > since)).all()]

    with Session(engine) as session:
        opportunities = {rid for rid, _ in fetched("Opportunity")}
        contacts = {str(d.get("ContactId")) for _, d in fetched("OpportunityContactRole") if d.get("ContactId")}
        if opportunities:
            for (data,) in session.execute(select(col(SourceRecord.data)).where(
                    col(SourceRecord.object_type) == "OpportunityContactRole")).all():
                if str((data or {}).get("OpportunityId")) in opportunities and data.get("ContactId"):
                    contacts.add(str(data["ContactId"]))
        hubspot = {str(c) for _, d in fetched("deals") for c in (d.get("_associations") or {}).get("contacts") or []}
        return _people_of(session, contacts, hubspot)


def _people_of(session: Session, contacts: set[str], hubspot: set[str]) -> set[str]:
    """The people linked to these Salesforce Contacts and HubSpot contacts."""
    out: set[str] = set()
    for system, object_type, ids in (("salesforce", "Contact", contacts), ("hubspot", "contacts", hubspot)):
        for part in in_chunks(sorted(ids)):
            out.update(session.execute(select(col(Link.person_id)).where(
                col(Link.system) == system, col(Link.object_type) == object_type,
                col(Link.record_id).in_(part))).scalars())
    return out


def all_person_ids(engine: Engine) -> list[str]:
    with Session(engine) as session:
        return list(session.execute(select(col(Person.id)).order_by(col(Person.id))).scalars())


def scoring_inputs(engine: Engine, person_ids: Sequence[str], touches: bool = True) -> ScoringInputs:
    """The unified fields, linked person records and (with `touches`) timeline of `person_ids`."""
    fields: dict[str, dict[str, Any]] = {p: {} for p in person_ids}
    records: dict[str, list[LinkedRecord]] = {p: [] for p in person_ids}
    with Session(engine) as session:
        for part in in_chunks(person_ids):
            for pid, name, value in session.execute(select(
                    col(PersonField.person_id), col(PersonField.field), col(PersonField.value)).where(
                    col(PersonField.person_id).in_(part))).all():
                fields[pid][name] = value
            rows = session.execute(select(
                col(Link.person_id), col(Link.role), col(SourceRecord.system), col(SourceRecord.object_type),
                col(SourceRecord.record_id), col(SourceRecord.changed_at), col(SourceRecord.modified_at),
                col(SourceRecord.deleted), col(SourceRecord.data)).join(SourceRecord, (
                    col(SourceRecord.system) == col(Link.system))
                    & (col(SourceRecord.object_type) == col(Link.object_type))
                    & (col(SourceRecord.record_id) == col(Link.record_id))).where(
                col(Link.person_id).in_(part))).all()
            for pid, role, system, object_type, rid, changed, modified, deleted, data in rows:
                records[pid].append(LinkedRecord(system, object_type, rid, role, changed or modified or 0,
                                                 bool(deleted), data or {}))
    return ScoringInputs(fields, records, touches_for(engine, person_ids) if touches else {})


def opportunities_by_person(engine: Engine, person_ids: Sequence[str] | None = None,
                            extra_links: Mapping[tuple[str, str, str], str] | None = None
                            ) -> dict[str, list[LinkedRecord]]:
    """The Opportunities (through contact roles, and the Opportunity a Lead was converted into) and HubSpot
    deals (through their associated contacts) of `person_ids` (None: everyone). Only those people's links
    and Leads are read; contact roles and deals are read whole (their person is inside their document).
    `extra_links` adds links the store does not hold yet (people a dry run reconciled)."""
    links: dict[tuple[str, str, str], str] = {}
    with Session(engine) as session:
        query = select(col(Link.system), col(Link.object_type), col(Link.record_id), col(Link.person_id))
        if person_ids is None:
            links.update(((s, o, r), p) for s, o, r, p in session.execute(query).all())
        else:
            for part in in_chunks(sorted(set(person_ids))):
                links.update(((s, o, r), p) for s, o, r, p in session.execute(
                    query.where(col(Link.person_id).in_(part))).all())
        links.update(extra_links or {})
        contacts = {r for (s, o, r) in links if s == "salesforce" and o == "Contact"}
        hubspot = {r for (s, o, r) in links if s == "hubspot" and o == "contacts"}
        leads = sorted(r for (s, o, r) in links if s == "salesforce" and o == "Lead")
        wanted: dict[str, set[str]] = {}  # Opportunity id -> people
        for (data,) in session.execute(select(col(SourceRecord.data)).where(
                col(SourceRecord.system) == "salesforce", col(SourceRecord.object_type) == "OpportunityContactRole",
                ~col(SourceRecord.deleted))).all():
            contact = str((data or {}).get("ContactId") or "")
            if contact in contacts:
                wanted.setdefault(str(data.get("OpportunityId")), set()).add(links[("salesforce", "Contact", contact)])
        for part in in_chunks(leads):
            for rid, data in session.execute(select(col(SourceRecord.record_id), col(SourceRecord.data)).where(
                    col(SourceRecord.system) == "salesforce", col(SourceRecord.object_type) == "Lead",
                    col(SourceRecord.record_id).in_(part))).all():
                opp = (data or {}).get("ConvertedOpportunityId")
                if opp:
                    wanted.setdefault(str(opp), set()).add(links[("salesforce", "Lead", rid)])
        out: dict[str, dict[str, LinkedRecord]] = {}

        def add(people: set[str], record: LinkedRecord) -> None:
            for person in people:
                out.setdefault(person, {})[f"{record.system}:{record.record_id}"] = record

        columns = (col(SourceRecord.record_id), col(SourceRecord.changed_at), col(SourceRecord.modified_at),
                   col(SourceRecord.fetched_at), col(SourceRecord.data))
        for part in in_chunks(sorted(wanted)):
            for rid, changed, modified, fetched, data in session.execute(select(*columns).where(
                    col(SourceRecord.system) == "salesforce", col(SourceRecord.object_type) == "Opportunity",
                    col(SourceRecord.record_id).in_(part), ~col(SourceRecord.deleted))).all():
                add(wanted[rid], LinkedRecord("salesforce", "Opportunity", rid, "opportunity",
                                              changed or modified or 0, False, data or {}, fetched or 0))
        if hubspot:
            for rid, changed, modified, fetched, data in session.execute(select(*columns).where(
                    col(SourceRecord.system) == "hubspot", col(SourceRecord.object_type) == "deals",
                    ~col(SourceRecord.deleted))).all():
                people = {links[("hubspot", "contacts", str(c))]
                          for c in ((data or {}).get("_associations") or {}).get("contacts") or []
                          if str(c) in hubspot}
                if people:
                    add(people, LinkedRecord("hubspot", "deals", rid, "opportunity", changed or modified or 0, False,
                                             data or {}, fetched or 0))
    return {p: list(v.values()) for p, v in out.items()}


def linked_records(engine: Engine, roles: Mapping[str, Sequence[tuple[str, str, str, str]]]
                   ) -> dict[str, list[LinkedRecord]]:
    """The records of people given as (system, object type, id, role) each, read from the stored snapshots
    (for people a dry run reconciled: their links are not saved)."""
    wanted = {(s, o, r) for keys in roles.values() for s, o, r, _ in keys}
    found: dict[tuple[str, str, str], Any] = {}
    by_kind: dict[tuple[str, str], list[str]] = {}
    for s, o, r in wanted:
        by_kind.setdefault((s, o), []).append(r)
    with Session(engine) as session:
        for (system, object_type), ids in by_kind.items():
            for part in in_chunks(ids):
                for rid, changed, modified, deleted, data, fetched in session.execute(select(
                        col(SourceRecord.record_id), col(SourceRecord.changed_at), col(SourceRecord.modified_at),
                        col(SourceRecord.deleted), col(SourceRecord.data), col(SourceRecord.fetched_at)).where(
                        col(SourceRecord.system) == system, col(SourceRecord.object_type) == object_type,
                        col(SourceRecord.record_id).in_(part))).all():
                    found[(system, object_type, rid)] = (changed or modified or 0, bool(deleted), data or {}, fetched)
    out: dict[str, list[LinkedRecord]] = {}
    for pid, keys in roles.items():
        out[pid] = [LinkedRecord(s, o, r, role, *found[(s, o, r)]) for s, o, r, role in keys if (s, o, r) in found]
    return out


def stored_scores(engine: Engine, person_ids: Sequence[str]) -> dict[str, PersonScore]:
    out: dict[str, PersonScore] = {}
    with Session(engine) as session:
        for part in in_chunks(person_ids):
            for row in session.execute(select(PersonScore).where(col(PersonScore.person_id).in_(part))).scalars():
                session.expunge(row)
                out[row.person_id] = row
    return out


def save_scores(engine: Engine, scores: Sequence[Mapping[str, Any]], transitions: Sequence[Mapping[str, Any]]
                ) -> None:
    """Upsert the scores and append the transitions, in one transaction."""
    with Session(engine) as session, session.begin():
        if scores:
            table = PersonScore.__table__  # type: ignore[attr-defined]
            statement = upsert_insert(session)(table)
            columns = [c.name for c in table.columns if c.name != "person_id"]
            upsert = statement.on_conflict_do_update(
                index_elements=["person_id"], set_={c: statement.excluded[c] for c in columns})
            for part in range(0, len(scores), CHUNK):
                session.execute(upsert, list(scores[part:part + CHUNK]))
        if transitions:
            session.execute(StatusTransition.__table__.insert(), list(transitions))  # type: ignore[attr-defined]


def transitions_of(engine: Engine, person_id: str) -> list[StatusTransition]:
    with Session(engine) as session:
        rows = list(session.execute(select(StatusTransition).where(
            col(StatusTransition.person_id) == person_id).order_by(col(StatusTransition.at),
                                                                   col(StatusTransition.id))).scalars())
        for row in rows:
            session.expunge(row)
        return rows


def record_model(engine: Engine, model_hash: str, version: int, owners: Mapping[str, str], text: str,
                 now_ms: int) -> bool:
    """Keep this version of the model (its text, owners, when first and last used); True when it is new."""
    with Session(engine) as session, session.begin():
        row = session.get(ScoringModelVersion, model_hash)
        if row is None:
            session.add(ScoringModelVersion(model_hash=model_hash, version=version, owners=dict(owners), text=text,
                                            first_used=now_ms, last_used=now_ms))
            return True
        row.last_used = now_ms
        session.add(row)
        return False


def model_versions(engine: Engine) -> list[ScoringModelVersion]:
    with Session(engine) as session:
        rows = list(session.execute(select(ScoringModelVersion).order_by(
            col(ScoringModelVersion.first_used))).scalars())
        for row in rows:
            session.expunge(row)
        return rows



def score_of(engine: Engine, person_id: str) -> dict[str, Any] | None:
    """The person's score, its breakdown, the model it was given under, and every status transition:
    `connector explain`'s "score" part (None: never scored)."""
    with Session(engine) as session:
        row = session.get(PersonScore, person_id)
        if row is None:
            return None
        version = session.get(ScoringModelVersion, row.model_hash)
        moves = session.execute(select(StatusTransition).where(
            col(StatusTransition.person_id) == person_id).order_by(col(StatusTransition.at),
                                                                   col(StatusTransition.id))).scalars().all()
        return {
            "score": row.score, "fit": row.fit, "engagement": row.engagement, "grade": row.grade,
            "status": row.status, "status_since": row.status_since, "status_reason": row.status_reason,
            "status_by": row.status_by, "mql_at": row.mql_at, "mql_count": row.mql_count, "reason": row.reason,
            "breakdown": [{"rule": b[0], "points": b[1], "touches": b[2], "part": b[3]} for b in row.breakdown],
            "model": {"hash": row.model_hash, "version": version.version if version else None},
            "scored_at": row.scored_at, "next_check_at": row.next_check_at,
            "transitions": [{"from": m.from_status, "to": m.to_status, "at": m.at, "reason": m.reason,
                             "system": m.system, "source_id": m.source_id, "score": m.score} for m in moves],
        }
