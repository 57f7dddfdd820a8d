"""Deals and Opportunities in the store: what deal reconciliation takes, and what association writes
leave behind (so their echo is no change)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlmodel import Session, col

from ..reconcile.records import RecordKey
from ..reconcile.records import SourceRecord as DomainRecord
from .models import Link, SourceRecord
from .people import _domain, held_people
from .staging import CREATED_MARK

__all__ = ["DealInputs", "deal_inputs", "add_associations", "add_deal_contacts", "add_contact_roles", "primary_links"]


@dataclass(frozen=True)
class DealInputs:
    """Everything reconcile_deals reads, from the store."""

    deals: tuple[DomainRecord, ...]
    opportunities: tuple[DomainRecord, ...]
    contact_roles: tuple[DomainRecord, ...]
    salesforce_contacts: tuple[DomainRecord, ...]
    people: dict[RecordKey, str]


def _records(session: Session, system: str, object_type: str) -> tuple[DomainRecord, ...]:
    rows = session.execute(select(SourceRecord).where(col(SourceRecord.system) == system,
                                                      col(SourceRecord.object_type) == object_type)).scalars()
    return tuple(_domain(r) for r in rows)


def deal_inputs(engine: Engine, *, closed_within_ms: int | None = None, now_ms: int = 0) -> DealInputs:
    """Deals, Opportunities (closed ones older than `closed_within_ms` left out unless a deal refers to
    them: the first sync does not copy years of closed business), contact roles, Contacts and people."""
    with Session(engine) as session:
        deals = _records(session, "hubspot", "deals")
        opportunities = _records(session, "salesforce", "Opportunity")
        roles = _records(session, "salesforce", "OpportunityContactRole")
        contacts = _records(session, "salesforce", "Contact")
        people = primary_links(session)
    if closed_within_ms is not None:
        cutoff = now_ms - closed_within_ms
        wanted = {str(d.fields.get("salesforce_opportunity_id") or "")[:15] for d in deals}
        opportunities = tuple(o for o in opportunities if o.id[:15] in wanted or o.fields.get("HubSpot_Deal_Id__c")
                              or not o.fields.get("IsClosed") or o.modified_at >= cutoff)
    return DealInputs(deals, opportunities, roles, contacts, people)


def primary_links(session: Session) -> dict[RecordKey, str]:
    """The person of each primary person record that still exists (a link to a record archived, merged away
    or erased since is never associated with), leaving out people whose merge is held for review: their
    deal and company links wait for the decision too."""
    links = session.execute(select(col(Link.system), col(Link.object_type), col(Link.record_id),
                                   col(Link.person_id)).join(
        SourceRecord, (col(SourceRecord.system) == col(Link.system))
        & (col(SourceRecord.object_type) == col(Link.object_type))
        & (col(SourceRecord.record_id) == col(Link.record_id))).where(
            col(Link.role) == "primary", ~col(SourceRecord.deleted))).all()
    held = held_people(session)
    return {RecordKey(s, o, r): p for s, o, r, p in links if p not in held}


def add_deal_contacts(engine: Engine, pairs: Iterable[tuple[str, str]]) -> None:
    """Record associations the connector made (deal id, contact id) in the deals' snapshots."""
    add_associations(engine, "deals", ((deal, "contacts", contact) for deal, contact in pairs))


def add_associations(engine: Engine, object_type: str, links: Iterable[tuple[str, str, str]]) -> None:
    """Record associations the connector made ((record id, associated type, associated id)) in the snapshots of
    HubSpot `object_type`'s records, so their echo at the next pull is no change (ids as a listing stages them)."""
    by_record: dict[str, dict[str, set[str]]] = {}
    for record, kind, other in links:
        by_record.setdefault(record, {}).setdefault(kind, set()).add(other)
    with Session(engine) as session, session.begin():
        for record, linked in by_record.items():
            row = session.get(SourceRecord, ("hubspot", object_type, record))
            if row is None:
                continue
            assoc = dict(row.data.get("_associations") or {})
            for kind, ids in linked.items():
                assoc[kind] = sorted(set(assoc.get(kind) or []) | ids)
            row.data = {**row.data, "_associations": assoc}
            session.add(row)


def add_contact_roles(engine: Engine, created: Iterable[tuple[str, dict[str, object]]], now_ms: int) -> None:
    """Snapshots of the OpportunityContactRoles the connector created, until the next pull brings them."""
    with Session(engine) as session, session.begin():
        for record_id, fields in created:
            if session.get(SourceRecord, ("salesforce", "OpportunityContactRole", record_id)) is None:
                session.add(SourceRecord(system="salesforce", object_type="OpportunityContactRole",
                                         record_id=record_id, modified_at=0, changed_at=0, fetched_at=now_ms,
                                         data={**fields, "Id": record_id, CREATED_MARK: True}))
